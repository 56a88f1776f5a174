//! Command implementations, one module per subcommand group. The API groups share [`Ctx`] (the
//! signed client and the output format) and [`submit`], which starts an async command and, with
//! `--wait`, follows its job.

pub mod api;
pub mod cluster;
pub mod cni;
pub mod config;
pub mod fetch;
pub mod iso;
pub mod job;
pub mod version;

use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::{OutputFormat, WaitArgs};
use crate::client::{ApiClient, Params};
use crate::output;
use crate::wait::{self, Watch};

/// What every API command runs with.
pub struct Ctx {
    /// Signs and sends the requests.
    pub client: ApiClient,
    /// How results are printed (`-o`).
    pub format: OutputFormat,
}

/// Calls an async command. Without `--wait` prints the job id (and the new entity's id); with
/// it follows the job and prints the object the job returned under `result_key`, or `done`.
pub async fn submit(
    ctx: &Ctx,
    command: &str,
    params: &Params,
    wait: &WaitArgs,
    mut watch: Watch,
    result_key: &str,
) -> anyhow::Result<()> {
    let answer = ctx.client.call(command, params).await?;
    let job_id = answer["jobid"].as_str().unwrap_or_default().to_string();
    if watch.cluster_id.is_none() && result_key == "kubernetescluster" {
        watch.cluster_id = answer["id"].as_str().map(str::to_string);
    }
    if !wait.wait {
        return match ctx.format {
            OutputFormat::Json => output::object(ctx.format, &answer),
            OutputFormat::Table => {
                let entity = answer["id"]
                    .as_str()
                    .map(|id| format!(" for {id}"))
                    .unwrap_or_default();
                output::emit(&format!(
                    "{}: job {job_id}{entity} started; follow it with `cks job wait {job_id}`\n",
                    watch.label
                ))
            }
        };
    }
    let result = wait::job(
        &ctx.client,
        &job_id,
        &watch,
        Duration::from_secs(wait.timeout),
    )
    .await?;
    print_result(ctx.format, &result, result_key, &watch.label)
}

/// A job's result: its object, or `{"success": true}` / `label: done`.
fn print_result(
    format: OutputFormat,
    result: &Value,
    result_key: &str,
    label: &str,
) -> anyhow::Result<()> {
    match result.get(result_key) {
        Some(object) if object.is_object() => output::object(format, object),
        _ => match format {
            OutputFormat::Json if result.is_object() => output::object(format, result),
            OutputFormat::Json => output::object(format, &json!({"success": true})),
            OutputFormat::Table => output::emit(&format!("{label}: done\n")),
        },
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every `(API: name)` a flag's help gives is a parameter of the command its subcommand calls,
    /// so the typed flags cannot drift from the server's command table.
    #[test]
    fn flag_help_names_real_parameters() {
        let calls: &[(&str, &str, &str)] = &[
            ("cluster", "list", "listKubernetesClusters"),
            ("cluster", "create", "createKubernetesCluster"),
            ("cluster", "delete", "deleteKubernetesCluster"),
            ("cluster", "retry", "retryKubernetesClusterOperation"),
            ("cluster", "abort", "abortKubernetesClusterOperation"),
            ("job", "steps", "listAsyncJobSteps"),
            ("cluster", "scale", "scaleKubernetesCluster"),
            ("cluster", "upgrade", "upgradeKubernetesCluster"),
            ("version", "list", "listKubernetesSupportedVersions"),
            ("version", "add", "addKubernetesSupportedVersion"),
            ("version", "update", "updateKubernetesSupportedVersion"),
            ("cni", "list", "listCniConfiguration"),
            ("cni", "register", "registerCniConfiguration"),
        ];
        let app = crate::cli::Cli::command();
        let mut checked = 0;
        for (group, sub, api) in calls {
            let command = cks_api::commands::find(api).expect(api);
            let cmd = app
                .find_subcommand(group)
                .and_then(|g| g.find_subcommand(sub))
                .unwrap_or_else(|| panic!("cks {group} {sub}"));
            for arg in cmd.get_arguments().chain(cmd.get_positionals()) {
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                let Some(start) = help.rfind("(API: ") else {
                    continue;
                };
                let name = help[start + 6..].trim_end_matches(['.', ')']);
                assert!(
                    command.params().any(|p| p.name == name),
                    "cks {group} {sub} --{}: {api} has no parameter {name}",
                    arg.get_id()
                );
                checked += 1;
            }
        }
        assert!(checked > 30, "only {checked} flags named a parameter");
    }
}
