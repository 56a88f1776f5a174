//! `cks api COMMAND KEY=VALUE...`: any command of the server's table, with the same signing and
//! the same local parameter checks as the typed subcommands (`--describe` shows them).

use std::time::Duration;

use cks_api::commands::{self, Mode};
use serde_json::{Value, json};

use super::Ctx;
use crate::cli::{ApiArgs, OutputFormat};
use crate::client::{Params, check_params};
use crate::error::CliError;
use crate::output;
use crate::wait::{self, Watch};

/// Commands, or one command's parameters, from the table; needs no server.
pub fn describe(format: OutputFormat, args: &ApiArgs) -> anyhow::Result<()> {
    if args.list {
        let items: Vec<Value> = commands::COMMANDS
            .iter()
            .map(|c| json!({"name": c.name, "async": c.is_async(), "description": c.description}))
            .collect();
        return output::list(
            format,
            &items,
            Some(&[
                ("NAME", "name"),
                ("ASYNC", "async"),
                ("DESCRIPTION", "description"),
            ]),
        );
    }
    let name = args.command.as_deref().unwrap_or_default();
    let command = commands::find(name).ok_or_else(|| {
        CliError::Usage(format!("unknown command {name:?} (see `cks api --list`)"))
    })?;
    let items: Vec<Value> = command
        .params()
        .map(|p| json!({"name": p.name, "type": p.kind.api_name(), "required": p.required, "description": p.description}))
        .collect();
    output::list(
        format,
        &items,
        Some(&[
            ("NAME", "name"),
            ("TYPE", "type"),
            ("REQUIRED", "required"),
            ("DESCRIPTION", "description"),
        ]),
    )
}

/// Calls the command named in `cks api` with its KEY=VALUE parameters and prints the answer
/// (following the job with `--wait`).
pub async fn run(ctx: &Ctx, args: &ApiArgs) -> anyhow::Result<()> {
    let name = args.command.as_deref().unwrap_or_default();
    let mut query = Params::new();
    for entry in &args.params {
        let Some((key, value)) = entry.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(CliError::Usage(format!("parameters are KEY=VALUE, not {entry:?}")).into());
        };
        query.push((key.to_string(), value.to_string()));
    }
    check_params(name, &query)?;
    let command = commands::find(name).expect("checked");
    let answer = ctx.client.call(name, &query).await?;
    if command.mode != Mode::Sync && args.wait.wait {
        let job_id = answer["jobid"].as_str().unwrap_or_default();
        let watch = Watch {
            label: format!("{name} (job {job_id})"),
            cluster_id: None,
        };
        let result = wait::job(
            &ctx.client,
            job_id,
            &watch,
            Duration::from_secs(args.wait.timeout),
        )
        .await?;
        return output::object(ctx.format, &result);
    }
    // A list answer is `{count, <object>: [...]}`: show the items.
    let key = command.response_object;
    match answer.get(key).and_then(Value::as_array) {
        Some(items) if command.name.starts_with("list") => output::list(ctx.format, items, None),
        _ if command.name.starts_with("list")
            && answer.as_object().is_some_and(|o| o.is_empty()) =>
        {
            output::list(ctx.format, &[], None)
        }
        _ => output::object(
            ctx.format,
            answer.get(key).filter(|v| v.is_object()).unwrap_or(&answer),
        ),
    }
}
