//! Start and stop: every node VM at once.

use cks_core::iaas::VmState;
use futures::future::join_all;

use super::nodes::{drop_unmade_nodes, node_vms};
use super::{ErrorClass, StepCx, StepResult};

pub async fn start_vms(cx: &mut StepCx<'_>) -> StepResult {
    drop_unmade_nodes(cx).await?;
    let vms = node_vms(cx).await?;
    let cloud = &cx.state.cloud;
    let results = join_all(vms.iter().map(|(_, vm)| cloud.start_vm(vm))).await;
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let failed: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let not_running = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|vm| vm.state != VmState::Running))
        .count();
    if !failed.is_empty() || not_running > 0 || vms.len() < cx.cluster.spec.total_nodes() {
        let reason = failed.first().cloned().unwrap_or_else(|| {
            format!(
                "{} of {} node VMs found",
                vms.len(),
                cx.cluster.spec.total_nodes()
            )
        });
        // VMs that came up in another state, or nodes without a VM, stay so when retried.
        let class = if not_running == 0 && vms.len() >= cx.cluster.spec.total_nodes() {
            ErrorClass::of_all(errors.iter().copied())
        } else {
            ErrorClass::Permanent
        };
        return Err(cx.fail_as(
            class,
            format!(
                "Failed to start all VMs in Kubernetes cluster : {}: {reason}",
                cx.cluster.name
            ),
        ));
    }
    Ok(())
}

pub async fn stop_vms(cx: &mut StepCx<'_>) -> StepResult {
    let vms = node_vms(cx).await?;
    let cloud = &cx.state.cloud;
    let results = join_all(vms.iter().map(|(_, vm)| cloud.stop_vm(vm, false))).await;
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let failed: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let not_stopped = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|vm| vm.state != VmState::Stopped))
        .count();
    if !failed.is_empty() || not_stopped > 0 {
        let reason = failed
            .first()
            .cloned()
            .unwrap_or_else(|| format!("{not_stopped} VMs did not stop"));
        let class = if not_stopped == 0 {
            ErrorClass::of_all(errors.iter().copied())
        } else {
            ErrorClass::Permanent
        };
        return Err(cx.fail_as(
            class,
            format!(
                "Failed to stop all VMs in Kubernetes cluster : {}: {reason}",
                cx.cluster.name
            ),
        ));
    }
    Ok(())
}
