//! `cks cluster ...`: the Kubernetes cluster commands, names resolved to ids first.

use anyhow::Context;
use serde_json::json;

use super::{Ctx, submit};
use crate::cli::{
    ClusterCommand, ClusterCreateArgs, ClusterDeleteArgs, ClusterListArgs, ClusterOpArgs,
    ClusterRef, ClusterScaleArgs, ClusterUpgradeArgs, OutputFormat,
};
use crate::client::{Params, params};
use crate::error::CliError;
use crate::output::{self, CLUSTER_COLUMNS};
use crate::resolve;
use crate::wait::Watch;

/// Runs one `cks cluster ...` subcommand and prints its result.
pub async fn run(ctx: &Ctx, command: ClusterCommand) -> anyhow::Result<()> {
    match command {
        ClusterCommand::List(args) => list(ctx, &args).await,
        ClusterCommand::Show(args) => show(ctx, &args).await,
        ClusterCommand::Create(args) => create(ctx, &args).await,
        ClusterCommand::Start(args) => {
            simple(
                ctx,
                "startKubernetesCluster",
                "starting",
                "kubernetescluster",
                &args,
            )
            .await
        }
        ClusterCommand::Stop(args) => {
            simple(ctx, "stopKubernetesCluster", "stopping", "success", &args).await
        }
        ClusterCommand::Delete(args) => delete(ctx, &args).await,
        ClusterCommand::Scale(args) => scale(ctx, &args).await,
        ClusterCommand::Upgrade(args) => upgrade(ctx, &args).await,
        ClusterCommand::Kubeconfig(args) => kubeconfig(ctx, &args).await,
        ClusterCommand::Retry(args) => {
            simple(
                ctx,
                "retryKubernetesClusterOperation",
                "retrying",
                "kubernetescluster",
                &args,
            )
            .await
        }
        ClusterCommand::Abort(args) => abort(ctx, &args).await,
    }
}

async fn list(ctx: &Ctx, args: &ClusterListArgs) -> anyhow::Result<()> {
    let mut query = Params::new();
    push(&mut query, "name", args.name.as_deref());
    push(&mut query, "state", args.state.as_deref());
    if args.all {
        query.push(("listall".into(), "true".into()));
    }
    let items = ctx
        .client
        .list("listKubernetesClusters", &query, "kubernetescluster")
        .await?;
    output::list(ctx.format, &items, Some(CLUSTER_COLUMNS))
}

async fn show(ctx: &Ctx, args: &ClusterRef) -> anyhow::Result<()> {
    let cluster = resolve::cluster_object(&ctx.client, &args.cluster).await?;
    output::object(ctx.format, &cluster)
}

async fn create(ctx: &Ctx, args: &ClusterCreateArgs) -> anyhow::Result<()> {
    let client = &ctx.client;
    let mut query = params([("name", &args.name)]);
    query.push(("zoneid".into(), resolve::zone(client, &args.zone).await?));
    query.push((
        "kubernetesversionid".into(),
        resolve::version(client, &args.version).await?,
    ));
    if let Some(offering) = &args.offering {
        query.push((
            "serviceofferingid".into(),
            resolve::offering(client, offering).await?,
        ));
    }
    for (i, entry) in args.node_offerings.iter().enumerate() {
        let (node, offering) = split_pair(entry, "--node-offering", "TYPE=OFFERING")?;
        query.push((format!("nodeofferings[{i}].node"), node.into()));
        query.push((
            format!("nodeofferings[{i}].offering"),
            resolve::offering(client, offering).await?,
        ));
    }
    for (i, entry) in args.node_templates.iter().enumerate() {
        let (node, template) = split_pair(entry, "--node-template", "TYPE=TEMPLATE")?;
        query.push((format!("nodetemplates[{i}].node"), node.into()));
        query.push((format!("nodetemplates[{i}].template"), template.into()));
    }
    let numbers = [
        ("size", args.size),
        ("controlnodes", args.control_nodes),
        ("etcdnodes", args.etcd_nodes),
        ("noderootdisksize", args.root_disk_size),
    ];
    for (name, value) in numbers {
        if let Some(n) = value {
            query.push((name.into(), n.to_string()));
        }
    }
    if let Some(network) = &args.network {
        query.push(("networkid".into(), resolve::network(client, network).await?));
    }
    if let Some(cni) = &args.cni_config {
        query.push((
            "cniconfigurationid".into(),
            resolve::cni(client, cni).await?,
        ));
    }
    for entry in &args.cni_details {
        let (key, value) = split_pair(entry, "--cni-detail", "KEY=VALUE")?;
        query.push((format!("cniconfigdetails[0].{key}"), value.into()));
    }
    if args.enable_csi {
        query.push(("enablecsi".into(), "true".into()));
    }
    push(&mut query, "description", args.description.as_deref());
    push(&mut query, "keypair", args.keypair.as_deref());
    push(&mut query, "hypervisor", args.hypervisor.as_deref());
    push(
        &mut query,
        "externalloadbalanceripaddress",
        args.external_lb_ip.as_deref(),
    );
    push(
        &mut query,
        "dockerregistryurl",
        args.docker_registry_url.as_deref(),
    );
    push(
        &mut query,
        "dockerregistryusername",
        args.docker_registry_username.as_deref(),
    );
    push(
        &mut query,
        "dockerregistrypassword",
        args.docker_registry_password.as_deref(),
    );
    push(&mut query, "account", args.account.as_deref());
    push(&mut query, "domainid", args.domain_id.as_deref());
    push(&mut query, "projectid", args.project_id.as_deref());
    let watch = Watch {
        label: format!("creating {}", args.name),
        cluster_id: None,
    };
    submit(
        ctx,
        "createKubernetesCluster",
        &query,
        &args.wait,
        watch,
        "kubernetescluster",
    )
    .await
}

async fn simple(
    ctx: &Ctx,
    command: &str,
    verb: &str,
    result_key: &str,
    args: &ClusterOpArgs,
) -> anyhow::Result<()> {
    let id = resolve::cluster(&ctx.client, &args.cluster.cluster).await?;
    let watch = Watch {
        label: format!("{verb} {}", args.cluster.cluster),
        cluster_id: Some(id.clone()),
    };
    submit(
        ctx,
        command,
        &params([("id", &id)]),
        &args.wait,
        watch,
        result_key,
    )
    .await
}

async fn delete(ctx: &Ctx, args: &ClusterDeleteArgs) -> anyhow::Result<()> {
    let id = resolve::cluster(&ctx.client, &args.cluster.cluster).await?;
    let mut query = params([("id", &id)]);
    if args.cleanup {
        query.push(("cleanup".into(), "true".into()));
    }
    if args.expunge {
        query.push(("expunge".into(), "true".into()));
    }
    if args.force {
        query.push(("forced".into(), "true".into()));
    }
    let watch = Watch {
        label: format!("deleting {}", args.cluster.cluster),
        cluster_id: Some(id),
    };
    submit(
        ctx,
        "deleteKubernetesCluster",
        &query,
        &args.wait,
        watch,
        "success",
    )
    .await
}

async fn abort(ctx: &Ctx, args: &ClusterRef) -> anyhow::Result<()> {
    let id = resolve::cluster(&ctx.client, &args.cluster).await?;
    let answer = ctx
        .client
        .call("abortKubernetesClusterOperation", &params([("id", &id)]))
        .await?;
    output::object(ctx.format, &answer["kubernetescluster"])
}

async fn scale(ctx: &Ctx, args: &ClusterScaleArgs) -> anyhow::Result<()> {
    let client = &ctx.client;
    let id = resolve::cluster(client, &args.cluster.cluster).await?;
    let mut query = params([("id", &id)]);
    if let Some(offering) = &args.offering {
        query.push((
            "serviceofferingid".into(),
            resolve::offering(client, offering).await?,
        ));
    }
    for (i, entry) in args.node_offerings.iter().enumerate() {
        let (node, offering) = split_pair(entry, "--node-offering", "TYPE=OFFERING")?;
        query.push((format!("nodeofferings[{i}].node"), node.into()));
        query.push((
            format!("nodeofferings[{i}].offering"),
            resolve::offering(client, offering).await?,
        ));
    }
    if !args.remove_nodes.is_empty() {
        query.push(("nodeids".into(), args.remove_nodes.join(",")));
    }
    let numbers = [
        ("size", args.size),
        ("minsize", args.min_size),
        ("maxsize", args.max_size),
    ];
    for (name, value) in numbers {
        if let Some(n) = value {
            query.push((name.into(), n.to_string()));
        }
    }
    if let Some(on) = args.autoscaling {
        query.push(("autoscalingenabled".into(), on.to_string()));
    }
    let watch = Watch {
        label: format!("scaling {}", args.cluster.cluster),
        cluster_id: Some(id),
    };
    submit(
        ctx,
        "scaleKubernetesCluster",
        &query,
        &args.wait,
        watch,
        "kubernetescluster",
    )
    .await
}

async fn upgrade(ctx: &Ctx, args: &ClusterUpgradeArgs) -> anyhow::Result<()> {
    let id = resolve::cluster(&ctx.client, &args.cluster.cluster).await?;
    let version = resolve::version(&ctx.client, &args.version).await?;
    let query = params([("id", &id), ("kubernetesversionid", &version)]);
    let watch = Watch {
        label: format!("upgrading {} to {}", args.cluster.cluster, args.version),
        cluster_id: Some(id),
    };
    submit(
        ctx,
        "upgradeKubernetesCluster",
        &query,
        &args.wait,
        watch,
        "kubernetescluster",
    )
    .await
}

/// The kubeconfig YAML as it is (for `> file`), or the `clusterconfig` object with `-o json`.
async fn kubeconfig(ctx: &Ctx, args: &ClusterRef) -> anyhow::Result<()> {
    let id = resolve::cluster(&ctx.client, &args.cluster).await?;
    let answer = ctx
        .client
        .call("getKubernetesClusterConfig", &params([("id", &id)]))
        .await?;
    let config = &answer["clusterconfig"];
    if ctx.format == OutputFormat::Json {
        return output::object(ctx.format, config);
    }
    let data = config["configdata"].as_str().with_context(|| {
        format!(
            "the answer for cluster {} has no configdata: {}",
            args.cluster,
            json!(answer)
        )
    })?;
    let mut text = data.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    output::emit(&text)
}

fn push(query: &mut Params, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        query.push((name.into(), v.into()));
    }
}

/// `worker=CKS Node` → ("worker", "CKS Node").
fn split_pair<'a>(entry: &'a str, flag: &str, shape: &str) -> Result<(&'a str, &'a str), CliError> {
    match entry.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => Ok((k.trim(), v.trim())),
        _ => Err(CliError::Usage(format!(
            "{flag} takes {shape}, not {entry:?}"
        ))),
    }
}
