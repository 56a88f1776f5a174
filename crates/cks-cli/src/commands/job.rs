//! `cks job show|wait|steps`: async jobs by id, for a command started without `--wait`.

use std::time::Duration;

use super::Ctx;
use crate::cli::JobCommand;
use crate::client::params;
use crate::output::{self, STEP_COLUMNS};
use crate::wait::{self, Watch};

/// Runs one `cks job ...` subcommand and prints its result.
pub async fn run(ctx: &Ctx, command: JobCommand) -> anyhow::Result<()> {
    match command {
        JobCommand::Show(args) => {
            let job = ctx
                .client
                .call("queryAsyncJobResult", &params([("jobid", &args.jobid)]))
                .await?;
            output::object(ctx.format, &job)
        }
        JobCommand::Wait(args) => {
            let watch = Watch {
                label: "waiting".into(),
                cluster_id: None,
            };
            let result = wait::job(
                &ctx.client,
                &args.jobid,
                &watch,
                Duration::from_secs(args.timeout),
            )
            .await?;
            output::object(ctx.format, &result)
        }
        JobCommand::Steps(args) => {
            let steps = ctx
                .client
                .list(
                    "listAsyncJobSteps",
                    &params([("jobid", &args.jobid)]),
                    "asyncjobstep",
                )
                .await?;
            output::list(ctx.format, &steps, Some(STEP_COLUMNS))
        }
    }
}
