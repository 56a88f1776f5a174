//! `cks version ...`: the Kubernetes version catalog.

use super::{Ctx, submit};
use crate::cli::{VersionAddArgs, VersionCommand, VersionListArgs};
use crate::client::{Params, params};
use crate::output::{self, VERSION_COLUMNS};
use crate::resolve;
use crate::wait::Watch;

/// Runs one `cks version ...` subcommand and prints its result.
pub async fn run(ctx: &Ctx, command: VersionCommand) -> anyhow::Result<()> {
    match command {
        VersionCommand::List(args) => list(ctx, &args).await,
        VersionCommand::Add(args) => add(ctx, &args).await,
        VersionCommand::Update(args) => {
            let id = resolve::version(&ctx.client, &args.version).await?;
            let answer = ctx
                .client
                .call(
                    "updateKubernetesSupportedVersion",
                    &params([("id", &id), ("state", &args.state)]),
                )
                .await?;
            output::object(ctx.format, &answer["kubernetessupportedversion"])
        }
        VersionCommand::Delete(args) => {
            let id = resolve::version(&ctx.client, &args.version).await?;
            let watch = Watch {
                label: format!("deleting version {}", args.version),
                cluster_id: None,
            };
            let query = params([("id", &id)]);
            submit(
                ctx,
                "deleteKubernetesSupportedVersion",
                &query,
                &args.wait,
                watch,
                "success",
            )
            .await
        }
    }
}

async fn list(ctx: &Ctx, args: &VersionListArgs) -> anyhow::Result<()> {
    let mut query = Params::new();
    if let Some(zone) = &args.zone {
        query.push(("zoneid".into(), resolve::zone(&ctx.client, zone).await?));
    }
    if let Some(min) = &args.min_version {
        query.push(("minimumsemanticversion".into(), min.clone()));
    }
    let items = ctx
        .client
        .list(
            "listKubernetesSupportedVersions",
            &query,
            "kubernetessupportedversion",
        )
        .await?;
    output::list(ctx.format, &items, Some(VERSION_COLUMNS))
}

async fn add(ctx: &Ctx, args: &VersionAddArgs) -> anyhow::Result<()> {
    let mut query = params([
        ("semanticversion", args.semantic_version.as_str()),
        ("mincpunumber", &args.min_cpu.to_string()),
        ("minmemory", &args.min_memory.to_string()),
    ]);
    if let Some(zone) = &args.zone {
        query.push(("zoneid".into(), resolve::zone(&ctx.client, zone).await?));
    }
    let optional = [
        ("name", args.name.as_deref()),
        ("url", args.url.as_deref()),
        ("checksum", args.checksum.as_deref()),
        ("arch", args.arch.as_deref()),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            query.push((name.into(), v.into()));
        }
    }
    if args.direct_download {
        query.push(("directdownload".into(), "true".into()));
    }
    let answer = ctx
        .client
        .call("addKubernetesSupportedVersion", &query)
        .await?;
    output::object(ctx.format, &answer["kubernetessupportedversion"])
}
