//! Start and stop: every node VM at once.

use cks_cloud::CloudError;
use cks_core::iaas::{Vm, VmState};
use futures::future::join_all;

use super::nodes::{drop_unmade_nodes, node_vms};
use super::{ErrorClass, StepCx, StepResult};

pub async fn start_vms(cx: &mut StepCx<'_>) -> StepResult {
    drop_unmade_nodes(cx).await?;
    let vms = node_vms(cx).await?;
    let cloud = &cx.state.cloud;
    let results = join_all(vms.iter().map(|(_, vm)| cloud.start_vm(vm))).await;
    let outcome = Outcome::of(&results, VmState::Running);
    let complete = vms.len() >= cx.cluster.spec.total_nodes();
    if !outcome.errors.is_empty() || outcome.astray > 0 || !complete {
        let reason = outcome.first_error().unwrap_or_else(|| {
            format!(
                "{} of {} node VMs found",
                vms.len(),
                cx.cluster.spec.total_nodes()
            )
        });
        return Err(cx.fail_as(
            outcome.class(complete),
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
    let outcome = Outcome::of(&results, VmState::Stopped);
    if !outcome.errors.is_empty() || outcome.astray > 0 {
        let reason = outcome
            .first_error()
            .unwrap_or_else(|| format!("{} VMs did not stop", outcome.astray));
        return Err(cx.fail_as(
            outcome.class(true),
            format!(
                "Failed to stop all VMs in Kubernetes cluster : {}: {reason}",
                cx.cluster.name
            ),
        ));
    }
    Ok(())
}

/// What a start or stop of every node VM came to.
struct Outcome<'r> {
    /// The calls that failed.
    errors: Vec<&'r CloudError>,
    /// VMs that answered in another state than the one asked for.
    astray: usize,
}

impl<'r> Outcome<'r> {
    fn of(results: &'r [Result<Vm, CloudError>], wanted: VmState) -> Outcome<'r> {
        Outcome {
            errors: results.iter().filter_map(|r| r.as_ref().err()).collect(),
            astray: results
                .iter()
                .filter(|r| r.as_ref().is_ok_and(|vm| vm.state != wanted))
                .count(),
        }
    }

    fn first_error(&self) -> Option<String> {
        self.errors.first().map(|e| e.to_string())
    }

    /// Worth running again only if every call failed transiently: VMs in another state, or
    /// nodes without a VM (`complete` false), stay so.
    fn class(&self, complete: bool) -> ErrorClass {
        if self.astray == 0 && complete {
            ErrorClass::of_all(self.errors.iter().copied())
        } else {
            ErrorClass::Permanent
        }
    }
}
