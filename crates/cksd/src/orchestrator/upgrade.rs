//! Upgrade: node by node (control nodes first), each drained, upgraded from the target version's
//! binaries ISO through the node channel, uncordoned, and checked for the new kubelet version.

use super::nodes::kube_client;
use super::{StepCx, StepResult};

async fn target(cx: &StepCx<'_>) -> Result<cks_store::KubernetesVersion, super::StepError> {
    let id = cx.params.get("kubernetesversionid").unwrap_or_default();
    cx.state
        .store
        .version(id)
        .await
        .map_err(|e| cx.store(e))?
        .ok_or_else(|| cx.fail("Invalid Kubernetes version ID"))
}

pub async fn attach_iso(cx: &mut StepCx<'_>) -> StepResult {
    let version = target(cx).await?;
    super::nodes::attach_iso(cx, version.iso_id).await
}

pub async fn node(cx: &mut StepCx<'_>, node_id: &str) -> StepResult {
    let version = target(cx).await?;
    let Some(mut node) = cx.nodes().await?.into_iter().find(|n| n.id == node_id) else {
        return Ok(()); // removed meanwhile
    };
    let Some(vm) = node.vm_id.clone() else {
        return Ok(());
    };
    let client = kube_client(cx)?;
    let name = cx.cluster.name.clone();
    let semver = version.semantic_version.clone();
    let wanted = format!("v{semver}");
    if node.kubernetes_version.as_deref() == Some(semver.as_str())
        && client
            .node(&node.name)
            .await
            .is_ok_and(|n| n.kubelet_version == wanted && !n.unschedulable)
    {
        return Ok(());
    }
    client.drain(&node.name).await.map_err(|e| cx.kube(&e, format!("Failed to upgrade Kubernetes cluster : {name}, unable to drain Kubernetes node on VM : {}: {e}", node.name)))?;
    let argv = ["sudo", "/opt/cks/bin/cks-upgrade", semver.as_str()].map(String::from);
    cx.state.cloud.run_on_node(&vm, &argv).await.map_err(|e| cx.cloud(&e, format!("Failed to upgrade Kubernetes cluster : {name}, unable to upgrade Kubernetes node on VM : {}: {e}", node.name)))?;
    let every = super::poll_interval(cx.state);
    let node_name = node.name.clone();
    cx.wait_for("Waiting for the upgraded node", every, || async {
        let n = client.node(&node_name).await.map_err(|e| e.to_string())?;
        if n.kubelet_version != wanted {
            return Err(format!("node runs {}", n.kubelet_version));
        }
        client.uncordon(&node_name).await.map_err(|e| e.to_string())?;
        Ok(n.ready.then_some(()))
    })
    .await
    .map_err(|e| cx.fail(format!("Failed to upgrade Kubernetes cluster : {name}, unable to get Kubernetes node on VM : {} upgraded to version {semver}: {}", node.name, e.message)))?;
    node.kubernetes_version = Some(semver);
    cx.state
        .store
        .update_node(&node)
        .await
        .map_err(|e| cx.store(e))
}

pub async fn finish(cx: &mut StepCx<'_>) -> StepResult {
    let version = target(cx).await?;
    super::nodes::detach_iso(cx).await?;
    cx.cluster.kubernetes_version_id = Some(version.id);
    cx.save().await
}
