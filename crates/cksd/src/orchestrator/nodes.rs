//! Node VMs: deploy them (in parallel waves), attach the binaries ISO, wait for Kubernetes.

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use base64::Engine;
use cks_bootstrap::{ClusterBootstrap, InstallSettings, NodeIdentity, NodeUserData};
use cks_cloud::DeployVmSpec;
use cks_core::cluster::NodeType;
use cks_core::iaas::VmState;
use cks_core::settings as s;
use cks_kube::KubeClient;
use cks_store::ClusterNode;
use futures::future::join_all;

use super::create::cluster_tags;
use super::{ClusterSecrets, ErrorClass, StepCx, StepError, StepResult};

/// Which nodes a deploy step brings up. etcd first (control nodes need it), then the node that
/// runs `kubeadm init`, then every other node at once (they join it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wave {
    Etcd,
    FirstControl,
    Rest,
    /// Workers without a VM (scale up), joining through the public endpoint.
    NewWorkers,
}

const POD_CIDR: &str = "10.244.0.0/16";
const SERVICE_CIDR: &str = "10.96.0.0/12";

/// What the bootstrap library needs to know about the cluster. `version` overrides the
/// cluster's version (an upgrade's target).
pub async fn cluster_bootstrap(
    cx: &StepCx<'_>,
    version: Option<&str>,
) -> Result<ClusterBootstrap, StepError> {
    let store = &cx.state.store;
    let semver = match version {
        Some(v) => v.to_string(),
        None => {
            let id = cx.cluster.kubernetes_version_id.clone().unwrap_or_default();
            store
                .version(&id)
                .await
                .map_err(|e| cx.store(e))?
                .map(|v| v.semantic_version)
                .ok_or_else(|| cx.fail("Invalid Kubernetes version associated with the cluster"))?
        }
    };
    let kubernetes_version = semver
        .parse()
        .map_err(|e| cx.fail(format!("Unsupported Kubernetes version {semver}: {e}")))?;
    let nodes = cx.nodes().await?;
    let identities = |t: NodeType| -> Vec<NodeIdentity> {
        nodes
            .iter()
            .filter(|n| n.node_type == t && !n.external)
            .filter_map(|n| {
                Some(NodeIdentity::new(
                    n.name.clone(),
                    n.guest_ip.as_deref()?.parse::<IpAddr>().ok()?,
                ))
            })
            .collect()
    };
    let endpoint_ip: IpAddr = cx
        .cluster
        .spec
        .endpoint_ip
        .as_deref()
        .and_then(|ip| ip.parse().ok())
        .ok_or_else(|| cx.fail("The cluster has no public IP"))?;
    let mut keys = vec![cx.state.management_ssh_public_key()];
    if let Some(name) = &cx.cluster.spec.keypair
        && let Ok(Some(pair)) = cx
            .state
            .cloud
            .find_ssh_key_pair(name, &cx.cluster.owner)
            .await
    {
        keys.push(pair.public_key.clone());
    }
    let secrets = ClusterSecrets::open(&cx.state.master_key, cx.cluster.secrets.as_deref());
    let registry = match (
        &cx.cluster.spec.registry_url,
        &cx.cluster.spec.registry_username,
        secrets.registry_password,
    ) {
        (Some(url), Some(username), Some(password)) => Some(cks_bootstrap::RegistryCredentials {
            url: url.clone(),
            username: username.clone(),
            password,
        }),
        _ => None,
    };
    let gateway = match &cx.cluster.network_id {
        Some(id) => cx
            .state
            .cloud
            .get_network(id)
            .await
            .ok()
            .map(|n| IpAddr::V4(n.gateway)),
        None => None,
    };
    // The registered CNI configuration, filled with the cluster's `cniconfigdetails`; the
    // bootstrap library substitutes and checks them when it renders the first control node.
    let cni = match &cx.cluster.spec.cni_config_id {
        Some(id) => {
            let config = store
                .cni_config(id)
                .await
                .map_err(|e| cx.store(e))?
                .ok_or_else(|| {
                    cx.fail(format!(
                        "The cluster's CNI configuration {id} no longer exists"
                    ))
                })?;
            Some(cks_bootstrap::CniConfiguration {
                user_data_base64: config.user_data,
                params: cks_bootstrap::CniConfiguration::parse_params(
                    config.params.as_deref().unwrap_or_default(),
                ),
                details: cx.cluster.spec.cni_details.clone(),
                as_number: None,
            })
        }
        None => None,
    };
    Ok(ClusterBootstrap {
        cluster_name: cx.cluster.name.clone(),
        cluster_id: cx.cluster.id.clone(),
        kubernetes_version,
        endpoint_ip,
        control_nodes: identities(NodeType::Control),
        etcd_nodes: identities(NodeType::Etcd),
        ssh_public_keys: keys,
        registry,
        pod_cidr: POD_CIDR.parse().map_err(|_| cx.fail("bad pod CIDR"))?,
        service_cidr: SERVICE_CIDR
            .parse()
            .map_err(|_| cx.fail("bad service CIDR"))?,
        cni,
        cloud_provider: None,
        metadata_addresses: gateway.into_iter().collect(),
        install: InstallSettings {
            attempts: cx
                .state
                .setting_i64(s::CONTROL_INSTALL_ATTEMPTS)
                .clamp(1, 10_000) as u32,
            wait_seconds: cx.state.setting_i64(s::CONTROL_INSTALL_WAIT).clamp(1, 3600) as u32,
            ..InstallSettings::default()
        },
    })
}

/// A client for the cluster's API with the service's admin credentials.
pub fn kube_client(cx: &StepCx<'_>) -> Result<KubeClient, StepError> {
    client_for(cx.state, &cx.cluster).map_err(|e| cx.fail(e))
}

/// A Kubernetes client for a cluster (also used by the scanner).
pub fn client_for(
    state: &crate::state::AppState,
    cluster: &cks_store::ClusterRecord,
) -> Result<KubeClient, String> {
    let secrets = ClusterSecrets::open(&state.master_key, cluster.secrets.as_deref());
    let pki = secrets.pki.ok_or("The cluster has no certificates")?;
    let ip = cluster
        .spec
        .endpoint_ip
        .as_deref()
        .ok_or("The cluster has no endpoint")?;
    KubeClient::new(
        &format!("https://{ip}:{}", cks_core::cluster::API_PORT),
        &pki.kubernetes_ca.cert_pem,
        &pki.admin.cert_pem,
        &pki.admin.key_pem,
        Duration::from_secs(10),
    )
    .map_err(|e| e.to_string())
}

/// Deploys the VMs of one wave at once, adopting VMs an earlier attempt made.
pub async fn deploy(cx: &mut StepCx<'_>, wave: Wave) -> StepResult {
    let nodes = cx.nodes().await?;
    let first_control = nodes
        .iter()
        .find(|n| n.node_type == NodeType::Control)
        .cloned();
    let chosen: Vec<(usize, ClusterNode)> = nodes
        .iter()
        .filter(|n| !n.external)
        .enumerate()
        .filter(|(_, n)| match wave {
            Wave::Etcd => n.node_type == NodeType::Etcd,
            Wave::FirstControl => Some(&n.id) == first_control.as_ref().map(|f| &f.id),
            Wave::Rest => {
                n.node_type != NodeType::Etcd
                    && Some(&n.id) != first_control.as_ref().map(|f| &f.id)
            }
            Wave::NewWorkers => n.node_type == NodeType::Worker && n.vm_id.is_none(),
        })
        .map(|(i, n)| (i, n.clone()))
        .collect();
    if chosen.is_empty() {
        return Ok(());
    }
    let bootstrap = cluster_bootstrap(cx, None).await?;
    let secrets = ClusterSecrets::open(&cx.state.master_key, cx.cluster.secrets.as_deref());
    let (Some(pki), Some(token)) = (&secrets.pki, &secrets.token) else {
        return Err(cx.fail("The cluster has no certificates"));
    };
    let builder = NodeUserData::new(&bootstrap, pki)
        .map_err(|e| cx.fail(format!("Invalid node configuration: {e}")))?;
    let control_ids: Vec<&str> = nodes
        .iter()
        .filter(|n| n.node_type == NodeType::Control)
        .map(|n| n.id.as_str())
        .collect();
    let etcd_ids: Vec<&str> = nodes
        .iter()
        .filter(|n| n.node_type == NodeType::Etcd)
        .map(|n| n.id.as_str())
        .collect();
    let first_ip: Option<IpAddr> = first_control
        .as_ref()
        .and_then(|n| n.guest_ip.as_deref()?.parse().ok());
    let mut specs = Vec::new();
    for (_, node) in &chosen {
        let user_data = match node.node_type {
            NodeType::Etcd => {
                let i = etcd_ids.iter().position(|id| *id == node.id).unwrap_or(0);
                builder.etcd_node(i)
            }
            NodeType::Control => {
                let i = control_ids
                    .iter()
                    .position(|id| *id == node.id)
                    .unwrap_or(0);
                let key = secrets.certificate_key.as_ref();
                if i == 0 {
                    builder.first_control_node(token, key.filter(|_| control_ids.len() > 1))
                } else {
                    match key {
                        Some(key) => builder.additional_control_node(i, token, key),
                        None => return Err(cx.fail("The cluster has no certificate key")),
                    }
                }
            }
            NodeType::Worker => {
                // At create, workers join the first control node; later ones the public endpoint.
                let api = if wave == Wave::NewWorkers {
                    Some(bootstrap.endpoint_ip)
                } else {
                    first_ip
                };
                let api = api.ok_or_else(|| cx.fail("The cluster has no control node address"))?;
                builder.worker(&node.name, api, token)
            }
        }
        .map_err(|e| {
            cx.fail(format!(
                "Failed to build the user data of node {}: {e}",
                node.name
            ))
        })?;
        specs.push((node.clone(), deploy_spec(cx, node, &user_data)?));
    }
    let cloud = &cx.state.cloud;
    let results = join_all(specs.iter().map(|(node, spec)| async move {
        if let Some(vm_id) = &node.vm_id
            && let Ok(vm) = cloud.get_vm(vm_id).await
        {
            if vm.state == VmState::Running {
                return Ok(vm);
            }
            if vm.state == VmState::Stopped {
                return cloud.start_vm(&vm.id).await;
            }
        }
        cloud.deploy_vm(spec).await
    }))
    .await;
    let mut errors = Vec::new();
    let mut causes = Vec::new();
    for ((node, _), result) in specs.iter().zip(results) {
        match result {
            Ok(vm) => {
                if node.vm_id.as_deref() != Some(vm.id.as_str()) {
                    let mut n = node.clone();
                    n.vm_id = Some(vm.id.clone());
                    cx.state
                        .store
                        .update_node(&n)
                        .await
                        .map_err(|e| cx.store(e))?;
                }
            }
            Err(e) => {
                errors.push(format!("{}: {e}", node.name));
                causes.push(e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(cx.fail_as(ErrorClass::of_all(&causes), format!(
            "Provisioning the cluster failed due to error while deploying node VMs of the Kubernetes cluster : {}: {}",
            cx.cluster.name,
            errors.join("; ")
        )));
    }
    Ok(())
}

fn deploy_spec(
    cx: &StepCx<'_>,
    node: &ClusterNode,
    user_data: &str,
) -> Result<DeployVmSpec, StepError> {
    let spec = &cx.cluster.spec;
    let offering = spec
        .offering_for(node.node_type)
        .ok_or_else(|| cx.fail(format!("No service offering for {} nodes", node.node_type)))?;
    let template = spec
        .template_for(node.node_type)
        .ok_or_else(|| cx.fail("No template for the cluster's nodes"))?;
    Ok(DeployVmSpec {
        name: node.name.clone(),
        display_name: None,
        zone_id: cx.cluster.zone_id.clone(),
        network_id: cx.cluster.network_id.clone().unwrap_or_default(),
        service_offering_id: offering.to_string(),
        size: None,
        template_id: template.to_string(),
        root_disk_size_gib: Some(spec.root_disk_gb.max(8) as u64),
        user_data: Some(base64::engine::general_purpose::STANDARD.encode(gzip(user_data))),
        keypairs: spec.keypair.iter().cloned().collect(),
        ip_address: node.guest_ip.as_deref().and_then(|ip| ip.parse().ok()),
        start: true,
        owner: cx.cluster.owner.clone(),
        user_id: None,
        user_name: None,
        tags: cluster_tags(&cx.cluster.id),
    })
}

/// User data is gzip-compressed before base64, as cloud-init accepts it: a control node's
/// cloud-config (certificates, scripts, units) is larger than CloudStack's default
/// `vm.userdata.max.length` of 32,768 characters in plain base64, and several times smaller
/// compressed.
fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(text.as_bytes());
    encoder.finish().unwrap_or_default()
}

/// The node VMs the cluster has (deployed nodes only), with their nodes.
pub async fn node_vms(cx: &StepCx<'_>) -> Result<Vec<(ClusterNode, String)>, StepError> {
    let nodes = cx.nodes().await?;
    Ok(nodes
        .into_iter()
        .filter_map(|n| n.vm_id.clone().map(|vm| (n, vm)))
        .collect())
}

/// Attaches the binaries ISO (of the cluster's version, or `iso_id`) to every node VM.
pub async fn attach_iso(cx: &mut StepCx<'_>, iso_id: Option<String>) -> StepResult {
    let iso = match iso_id {
        Some(id) => id,
        None => {
            let id = cx.cluster.kubernetes_version_id.clone().unwrap_or_default();
            let version = cx.state.store.version(&id).await.map_err(|e| cx.store(e))?;
            version.and_then(|v| v.iso_id).ok_or_else(|| {
                cx.fail("Invalid ISO associated with the cluster's Kubernetes version")
            })?
        }
    };
    let vms = node_vms(cx).await?;
    let cloud = &cx.state.cloud;
    let results = join_all(vms.iter().map(|(_, vm)| cloud.attach_iso(vm, &iso))).await;
    let failed: Vec<_> = results.into_iter().filter_map(|r| r.err()).collect();
    if let Some(first) = failed.first() {
        return Err(cx.fail_as(
            ErrorClass::of_all(&failed),
            format!(
                "Failed to attach binaries ISO to node VMs of the Kubernetes cluster : {}: {first}",
                cx.cluster.name
            ),
        ));
    }
    Ok(())
}

/// Detaches the ISO from every node VM.
pub async fn detach_iso(cx: &mut StepCx<'_>) -> StepResult {
    let vms = node_vms(cx).await?;
    let cloud = &cx.state.cloud;
    let results = join_all(vms.iter().map(|(_, vm)| cloud.detach_iso(vm))).await;
    let failed: Vec<_> = results.into_iter().filter_map(|r| r.err()).collect();
    if let Some(e) = failed.first() {
        return Err(cx.fail_as(
            ErrorClass::of_all(&failed),
            format!(
                "Failed to detach binaries ISO from node VMs of the Kubernetes cluster : {}: {e}",
                cx.cluster.name
            ),
        ));
    }
    Ok(())
}

/// Why the cluster's API endpoint cannot come up, when the cloud knows: another process holds
/// its address. Waiting steps and the scanner fail on it at once.
pub fn endpoint_conflict(
    state: &crate::state::AppState,
    cluster: &cks_store::ClusterRecord,
) -> Option<String> {
    let ip: Ipv4Addr = cluster.spec.endpoint_ip.as_deref()?.parse().ok()?;
    state
        .cloud
        .endpoint_conflict(SocketAddrV4::new(ip, cks_core::cluster::API_PORT))
}

/// `request` to the cluster's API, unless the cloud reports its endpoint's address held by
/// another process first (`Err` with the reason): a request to such a holder may hang until
/// the client's timeout.
async fn unless_conflict<T>(
    cx: &StepCx<'_>,
    every: Duration,
    request: impl Future<Output = Result<T, String>>,
) -> Result<Result<T, String>, String> {
    let conflict = async {
        loop {
            if let Some(conflict) = endpoint_conflict(cx.state, &cx.cluster) {
                return conflict;
            }
            tokio::time::sleep(every).await;
        }
    };
    tokio::select! {
        answer = request => Ok(answer),
        conflict = conflict => Err(conflict),
    }
}

/// The API server answers `/version` on the public endpoint.
pub async fn wait_api(cx: &mut StepCx<'_>) -> StepResult {
    let client = kube_client(cx)?;
    let every = super::poll_interval(cx.state);
    let name = cx.cluster.name.clone();
    let unusable = |reason: &str| {
        cx.fail(format!("Failed to setup Kubernetes cluster : {name} in usable state as unable to provision API endpoint for the cluster: {reason}"))
    };
    let outcome = cx
        .wait_for("Waiting for the Kubernetes API", every, || async {
            let version = async { client.version().await.map_err(|e| e.to_string()) };
            match unless_conflict(cx, every, version).await {
                Ok(answer) => answer.map(|_| Some(Ok(()))),
                Err(conflict) => Ok(Some(Err(conflict))),
            }
        })
        .await;
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(conflict)) => Err(unusable(&conflict)),
        Err(e) => Err(unusable(&e.message)),
    }
}

/// Every Kubernetes node of the cluster is Ready (etcd nodes: their VM runs). A node without a
/// VM can never be, so it fails the step at once.
pub async fn wait_ready(cx: &mut StepCx<'_>) -> StepResult {
    let client = kube_client(cx)?;
    let every = super::poll_interval(cx.state);
    let nodes = cx.nodes().await?;
    let name = cx.cluster.name.clone();
    let not_ready = |reason: &str| {
        cx.fail(format!("Failed to setup Kubernetes cluster : {name} as it does not have desired number of nodes in ready state: {reason}"))
    };
    if let Some(node) = nodes.iter().find(|n| n.vm_id.is_none() && !n.external) {
        return Err(not_ready(&format!("node {} has no VM", node.name)));
    }
    let names: Vec<String> = nodes
        .iter()
        .filter(|n| n.node_type != NodeType::Etcd)
        .map(|n| n.name.clone())
        .collect();
    let wanted = names.len();
    let outcome = cx
        .wait_for("Waiting for nodes to be ready", every, || async {
            let nodes = async { client.nodes().await.map_err(|e| e.to_string()) };
            let seen = match unless_conflict(cx, every, nodes).await {
                Ok(answer) => answer?,
                Err(conflict) => return Ok(Some(Err(conflict))),
            };
            let ready = seen
                .iter()
                .filter(|n| n.ready && names.contains(&n.name))
                .count();
            if ready == wanted {
                Ok(Some(Ok(())))
            } else {
                Err(format!("{ready} of {wanted} nodes ready"))
            }
        })
        .await;
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(conflict)) => Err(not_ready(&conflict)),
        Err(e) => Err(not_ready(&e.message)),
    }
}

/// Drops the workers whose VM was never made (a scale-up that failed deploying them) and counts
/// the cluster from the nodes it has: a start brings up what exists, and never waits for a node
/// that nothing will make. A control or etcd node without a VM cannot be dropped: that fails.
pub async fn drop_unmade_nodes(cx: &mut StepCx<'_>) -> StepResult {
    let nodes = cx.nodes().await?;
    let unmade: Vec<&ClusterNode> = nodes
        .iter()
        .filter(|n| n.vm_id.is_none() && !n.external)
        .collect();
    if unmade.is_empty() {
        return Ok(());
    }
    if let Some(node) = unmade.iter().find(|n| n.node_type != NodeType::Worker) {
        return Err(cx.fail(format!(
            "Failed to start Kubernetes cluster : {}: {} node {} has no VM",
            cx.cluster.name, node.node_type, node.name
        )));
    }
    for node in unmade {
        tracing::warn!(cluster = %cx.cluster.id, node = %node.name, "dropping a worker whose VM was never made");
        cx.state
            .store
            .delete_node(&node.id)
            .await
            .map_err(|e| cx.store(e))?;
    }
    super::scale::recount(cx).await
}
