//! Scale: new offerings per node type, workers added or removed (by count or by id), autoscaling
//! bounds. The handler has validated the request and put the decisions in the job parameters,
//! read back as a `ScaleRequest` (its plan is `cks_core::cluster::plan_scale`).

use cks_core::cluster::operation::{AutoscalingRequest, SCALED_TYPES as TYPES};
use cks_core::cluster::{ClusterSpec, NodeType, node_resources};
use cks_store::ClusterNode;
use futures::future::join_all;

use super::create::{free_guest_ips, new_nodes};
use super::nodes::{Wave, deploy, kube_client};
use super::{ErrorClass, StepCx, StepResult};
use crate::state::AppState;

/// Recomputes the cluster's total vCPUs and memory from its nodes and their offerings.
pub(super) async fn recount(cx: &mut StepCx<'_>) -> StepResult {
    let nodes = cx.nodes().await?;
    cx.cluster.spec = recounted(cx.state, &cx.cluster.spec, &nodes).await;
    cx.save().await
}

/// `spec` with its node counts, cores and memory taken from the nodes the cluster has.
pub(crate) async fn recounted(
    state: &AppState,
    spec: &ClusterSpec,
    nodes: &[ClusterNode],
) -> ClusterSpec {
    let count = |t: NodeType| nodes.iter().filter(|n| n.node_type == t).count() as u32;
    let mut sized = Vec::new();
    for t in TYPES {
        if count(t) == 0 {
            continue;
        }
        if let Some(id) = spec.offering_for(t)
            && let Ok(o) = state.cloud.get_service_offering(id).await
        {
            sized.push((count(t), o));
        }
    }
    let (cores, memory) = node_resources(sized.iter().map(|(n, o)| (*n, o)));
    ClusterSpec {
        control_nodes: count(NodeType::Control),
        workers: count(NodeType::Worker),
        cores,
        memory_mib: memory,
        ..spec.clone()
    }
}

/// Moves every VM of each named node type to its new offering.
pub async fn offerings(cx: &mut StepCx<'_>) -> StepResult {
    let nodes = cx.nodes().await?;
    let cloud = &cx.state.cloud;
    let request = cx.scale_request();
    for (t, offering) in request.offerings {
        let vms: Vec<String> = nodes
            .iter()
            .filter(|n| n.node_type == t)
            .filter_map(|n| n.vm_id.clone())
            .collect();
        let results = join_all(vms.iter().map(|vm| cloud.scale_vm(vm, &offering, None))).await;
        let errors: Vec<_> = results.into_iter().filter_map(|r| r.err()).collect();
        if let Some(e) = errors.first() {
            return Err(cx.fail_as(
                ErrorClass::of_all(&errors),
                format!(
                    "Scaling Kubernetes cluster : {} failed, unable to scale {t} node VMs: {e}",
                    cx.cluster.name
                ),
            ));
        }
        cx.cluster.spec.node_offerings.set(t, Some(offering));
    }
    if let Some(default) = request.service_offering_id {
        cx.cluster.spec.service_offering_id = Some(default);
    }
    recount(cx).await
}

/// Drains, deletes and destroys the workers the request removes (newest first).
pub async fn remove_nodes(cx: &mut StepCx<'_>) -> StepResult {
    let nodes = cx.nodes().await?;
    let request = cx.scale_request();
    let mut victims: Vec<_> = match &request.node_ids {
        Some(ids) => nodes
            .iter()
            .filter(|n| !n.external && n.vm_id.as_ref().is_some_and(|v| ids.contains(v)))
            .cloned()
            .collect(),
        None => {
            // FIX: CKS's victim index counts control nodes in a worker-only list, so HA clusters
            // kept extra workers; here the newest workers beyond the new size go.
            let size = request.size.map_or(usize::MAX, |s| s as usize);
            let workers: Vec<_> = nodes
                .iter()
                .filter(|n| n.node_type == NodeType::Worker && !n.external)
                .cloned()
                .collect();
            workers.into_iter().skip(size).collect()
        }
    };
    victims.sort_by_key(|n| std::cmp::Reverse(n.seq));
    let client = kube_client(cx).ok();
    for node in victims {
        if let Some(client) = &client {
            // Best effort: a node that is gone or unreachable is destroyed all the same.
            if let Err(e) = client.drain(&node.name).await {
                tracing::info!(node = %node.name, error = %e, "drain before removal failed");
            }
            let _ = client.delete_node(&node.name).await;
        }
        if let Some(vm) = &node.vm_id {
            cx.state.cloud.destroy_vm(vm).await.map_err(|e| {
                cx.cloud(
                    &e,
                    format!(
                        "Scaling Kubernetes cluster : {} failed, unable to remove VM : {}: {e}",
                        cx.cluster.name, node.name
                    ),
                )
            })?;
        }
        cx.state
            .store
            .delete_node(&node.id)
            .await
            .map_err(|e| cx.store(e))?;
    }
    recount(cx).await
}

/// Plans and deploys the new workers; they join through the public endpoint.
pub async fn add_workers(cx: &mut StepCx<'_>) -> StepResult {
    let size = cx.scale_request().size.map_or(0, |s| s as usize);
    let nodes = cx.nodes().await?;
    let workers = nodes
        .iter()
        .filter(|n| n.node_type == NodeType::Worker)
        .count();
    if size > workers {
        let types = vec![NodeType::Worker; size - workers];
        let ips = free_guest_ips(cx, types.len()).await?;
        let version = cx.cluster.kubernetes_version_id.clone().unwrap_or_default();
        let new = new_nodes(cx, &types, ips, &version).await?;
        cx.state
            .store
            .insert_nodes(&new)
            .await
            .map_err(|e| cx.store(e))?;
    }
    deploy(cx, Wave::NewWorkers).await?;
    recount(cx).await
}

/// Records the autoscaling switch and bounds.
pub async fn autoscaling(cx: &mut StepCx<'_>) -> StepResult {
    // Planned only when the request has the switch; without it, it is off.
    let asked = cx
        .scale_request()
        .autoscaling
        .unwrap_or(AutoscalingRequest {
            enabled: false,
            min_size: None,
            max_size: None,
        });
    let spec = &mut cx.cluster.spec;
    spec.autoscaling = asked.enabled;
    spec.min_size = asked.min_size;
    spec.max_size = asked.max_size;
    cx.save().await
}
