//! `cks cni ...`: CNI configurations (user data registered for CKS clusters).

use anyhow::Context;

use super::Ctx;
use crate::cli::CniCommand;
use crate::client::{Params, params};
use crate::output::{self, CNI_COLUMNS};
use crate::resolve;

/// Runs one `cks cni ...` subcommand and prints its result.
pub async fn run(ctx: &Ctx, command: CniCommand) -> anyhow::Result<()> {
    match command {
        CniCommand::List(args) => {
            let mut query = params([("listall", "true")]);
            if let Some(name) = &args.name {
                query.push(("name".into(), name.clone()));
            }
            let items = ctx
                .client
                .list("listCniConfiguration", &query, "cniconfig")
                .await?;
            output::list(ctx.format, &items, Some(CNI_COLUMNS))
        }
        CniCommand::Register(args) => {
            let content = std::fs::read_to_string(&args.file)
                .with_context(|| format!("reading {}", args.file.display()))?;
            let mut query: Params = params([("name", args.name.as_str()), ("cniconfig", &content)]);
            if let Some(p) = &args.params {
                query.push(("params".into(), p.clone()));
            }
            let answer = ctx.client.call("registerCniConfiguration", &query).await?;
            output::object(ctx.format, &answer["cniconfig"])
        }
        CniCommand::Delete(args) => {
            let id = resolve::cni(&ctx.client, &args.cni).await?;
            let answer = ctx
                .client
                .call("deleteCniConfiguration", &params([("id", &id)]))
                .await?;
            output::object(ctx.format, &answer)
        }
    }
}
