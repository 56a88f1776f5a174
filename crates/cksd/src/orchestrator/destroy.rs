//! Delete: wait for the operation it interrupted to stop, destroy the node VMs, release the
//! network (or the rules made on a network the user gave), then sweep everything still tagged
//! with the cluster. Nothing the cluster made outlives it; a failure leaves the cluster in
//! `Destroying` with `gc` set and the garbage collector runs the delete again.
//!
//! A forced delete (`forced=true`, admins only) waits for the interrupted operation no longer
//! than a job lease and then fails its job itself, and does not stop at a VM or network it could
//! not remove: the sweep tries everything left by tag again and fails the delete if anything
//! remains.

use cks_core::cluster::CLUSTER_TAG;
use cks_core::iaas::ResourceKind;
use cks_store::JobStatus;
use futures::future::join_all;

use super::{ABORTED, ErrorClass, StepCx, StepResult};

fn forced(cx: &StepCx<'_>) -> bool {
    cx.params
        .get("forced")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The operation a delete interrupted stops at its next step boundary; wait for it, so that
/// nothing it is creating appears after the sweep.
pub async fn await_operation(cx: &mut StepCx<'_>) -> StepResult {
    let Some(previous) = cx.params.get("previousjobid").map(String::from) else {
        return Ok(());
    };
    let store = &cx.state.store;
    let every = super::poll_interval(cx.state);
    if forced(cx) {
        // A live runner stops at its next step boundary, a dead one's job is claimed again after
        // its lease and stops at once; anything longer is a hung step, not worth waiting for.
        let grace = std::time::Duration::from_secs(cx.state.job_lease_seconds.max(1) as u64 + 5);
        cx.deadline = cx.deadline.min(tokio::time::Instant::now() + grace);
    }
    let waited = cx
        .wait_for(
            "Waiting for the interrupted operation to stop",
            every,
            || async {
                match store.job(&previous).await {
                    Ok(Some(job)) if job.status == JobStatus::Pending => {
                        Err("the previous operation is still running".into())
                    }
                    Ok(_) => Ok(Some(())),
                    Err(e) => Err(e.to_string()),
                }
            },
        )
        .await;
    match waited {
        Err(e) if forced(cx) && cx.still_ours().await => {
            tracing::warn!(cluster = %cx.cluster.id, job = %previous, error = %e.message, "forced delete: failing the interrupted operation's job");
            let text = format!("{ABORTED}: the Kubernetes cluster is being force-deleted");
            let result = serde_json::json!({ "errorcode": 530, "errortext": text });
            store
                .complete_job(&previous, JobStatus::Failed, 530, &result.to_string())
                .await
                .map_err(|e| cx.store(e))?;
            Ok(())
        }
        other => other,
    }
}

pub async fn destroy_vms(cx: &mut StepCx<'_>) -> StepResult {
    let nodes = cx.nodes().await?;
    let cloud = &cx.state.cloud;
    // VMs whose deploy failed before their node recorded them (left in Error) carry the tag.
    let tagged = cloud
        .find_by_tag(CLUSTER_TAG, &cx.cluster.id)
        .await
        .map_err(|e| cx.cloud(&e, e.to_string()))?;
    let strays: Vec<String> = tagged
        .into_iter()
        .filter(|r| {
            r.kind == ResourceKind::Vm
                && !nodes
                    .iter()
                    .any(|n| n.vm_id.as_deref() == Some(r.id.as_str()))
        })
        .map(|r| r.id)
        .collect();
    let mut failed = Vec::new();
    let mut errors = Vec::new();
    for vm in &strays {
        if let Err(e) = cloud.destroy_vm(vm).await {
            let message = format!(
                "Failed to destroy VM {vm} of Kubernetes cluster : {}: {e}",
                cx.cluster.name
            );
            if !forced(cx) {
                return Err(cx.cloud(&e, message));
            }
            failed.push(message);
            errors.push(e);
        }
    }
    let results = join_all(nodes.iter().map(|n| async move {
        match &n.vm_id {
            Some(vm) => cloud.destroy_vm(vm).await.map(|_| ()),
            None => Ok(()),
        }
    }))
    .await;
    for (node, result) in nodes.iter().zip(results) {
        match result {
            Ok(()) => cx
                .state
                .store
                .delete_node(&node.id)
                .await
                .map_err(|e| cx.store(e))?,
            Err(e) => {
                failed.push(format!("{}: {e}", node.name));
                errors.push(e);
            }
        }
    }
    if !failed.is_empty() {
        let message = format!(
            "Failed to destroy one or more VMs as part of Kubernetes cluster : {} cleanup: {}",
            cx.cluster.name,
            failed.join("; ")
        );
        return leave_to_sweep(cx, ErrorClass::of_all(&errors), message);
    }
    Ok(())
}

/// A failed removal fails the delete, unless it is forced: then the sweep tries again.
fn leave_to_sweep(cx: &StepCx<'_>, class: ErrorClass, message: String) -> StepResult {
    if forced(cx) {
        tracing::warn!(cluster = %cx.cluster.id, error = %message, "forced delete: leaving it to the sweep");
        return Ok(());
    }
    Err(cx.fail_as(class, message))
}

/// The network the service made goes with its IPs and rules; on a network the user gave, the
/// cluster's rules are removed (the sweep finds them by tag).
pub async fn release_network(cx: &mut StepCx<'_>) -> StepResult {
    let Some(network) = cx.cluster.network_id.clone() else {
        return Ok(());
    };
    if !cx.cluster.spec.network_created {
        return Ok(());
    }
    let others = cx
        .state
        .store
        .clusters_on_network(&network)
        .await
        .map_err(|e| cx.store(e))?;
    if others.iter().any(|id| *id != cx.cluster.id) {
        return Ok(());
    }
    if let Err(e) = cx.state.cloud.delete_network(&network).await {
        let message = format!(
            "Failed to cleanup network : {network} of Kubernetes cluster : {}: {e}",
            cx.cluster.name
        );
        return leave_to_sweep(cx, ErrorClass::of_cloud(&e), message);
    }
    Ok(())
}

/// Removes whatever still carries the cluster's tag.
pub async fn sweep(cx: &mut StepCx<'_>) -> StepResult {
    let cloud = &cx.state.cloud;
    let left = cloud
        .find_by_tag(CLUSTER_TAG, &cx.cluster.id)
        .await
        .map_err(|e| cx.cloud(&e, e.to_string()))?;
    // Rules before VMs and IPs, networks last.
    let order = |k: ResourceKind| match k {
        ResourceKind::PortForwardingRule
        | ResourceKind::FirewallRule
        | ResourceKind::LoadBalancerRule => 0,
        ResourceKind::Vm => 1,
        ResourceKind::PublicIp => 2,
        _ => 3,
    };
    let mut left = left;
    left.sort_by_key(|r| order(r.kind));
    let mut failed = Vec::new();
    let mut errors = Vec::new();
    for r in &left {
        let done = match r.kind {
            ResourceKind::PortForwardingRule => cloud.delete_port_forwarding_rule(&r.id).await,
            ResourceKind::FirewallRule => cloud.delete_firewall_rule(&r.id).await,
            ResourceKind::LoadBalancerRule => cloud.delete_load_balancer_rule(&r.id).await,
            ResourceKind::Vm => cloud.destroy_vm(&r.id).await,
            ResourceKind::PublicIp => cloud.release_public_ip(&r.id).await,
            ResourceKind::Network => cloud.delete_network(&r.id).await,
            _ => Ok(false),
        };
        if let Err(e) = done {
            failed.push(format!("{} {}: {e}", r.kind, r.id));
            errors.push(e);
        }
    }
    if !failed.is_empty() {
        return Err(cx.fail_as(
            ErrorClass::of_all(&errors),
            format!(
                "Failed to clean up resources of Kubernetes cluster : {}: {}",
                cx.cluster.name,
                failed.join("; ")
            ),
        ));
    }
    Ok(())
}
