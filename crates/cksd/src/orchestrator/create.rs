//! Steps only a new cluster takes: its network, public IP, node plan, PKI, kubeconfig.

use std::net::Ipv4Addr;

use cks_bootstrap::{BootstrapToken, CertificateKey, ClusterPki, PkiSpec};
use cks_cloud::NetworkSpec;
use cks_core::cluster::{CLUSTER_TAG, NodeType, node_name, node_name_prefix};
use cks_core::iaas::{NetworkState, Tags};
use cks_store::{ClusterNode, new_id, now};

use super::nodes::{cluster_bootstrap, kube_client};
use super::{ClusterSecrets, ErrorClass, StepCx, StepResult};
use crate::errors::cloud_error;

/// The tags of everything a cluster's operations create.
pub fn cluster_tags(cluster_id: &str) -> Tags {
    let mut tags = Tags::default();
    tags.insert(CLUSTER_TAG.to_string(), cluster_id.to_string());
    tags
}

/// The cluster's network: the given one, or `<name>-network` made from the configured offering.
pub async fn network(cx: &mut StepCx<'_>) -> StepResult {
    let cloud = &cx.state.cloud;
    let network = match cx.cluster.network_id.clone() {
        Some(id) => cloud
            .get_network(&id)
            .await
            .map_err(|e| cx.fail_as(ErrorClass::of_cloud(&e), cloud_error(e).to_string()))?,
        None => {
            let offering_name = cx
                .state
                .setting(cks_core::settings::CLUSTER_NETWORK_OFFERING)
                .unwrap_or_default();
            let offering = cloud
                .find_network_offering(&offering_name)
                .await
                .map_err(|e| cx.cloud(&e, e.to_string()))?
                .ok_or_else(|| cx.fail("Kubernetes service has not been configured properly to provision Kubernetes clusters"))?;
            let spec = NetworkSpec {
                name: format!("{}-network", cx.cluster.name),
                display_text: Some(format!("{}-network", cx.cluster.owner.account_name)),
                zone_id: cx.cluster.zone_id.clone(),
                offering_id: offering.id,
                gateway: None,
                netmask: None,
                network_domain: None,
                vpc_id: None,
                owner: cx.cluster.owner.clone(),
                tags: cluster_tags(&cx.cluster.id),
            };
            let network = cloud.create_network(&spec).await.map_err(|e| {
                cx.cloud(
                    &e,
                    format!("Unable to create network for the Kubernetes cluster: {e}"),
                )
            })?;
            cx.cluster.network_id = Some(network.id.clone());
            cx.cluster.spec.network_created = true;
            cx.save().await?;
            network
        }
    };
    if network.state == NetworkState::Allocated {
        cloud.implement_network(&network.id).await.map_err(|e| {
            cx.cloud(
                &e,
                format!("Failed to setup network for the Kubernetes cluster: {e}"),
            )
        })?;
    }
    Ok(())
}

/// The address the API is reached on: the network's source NAT IP.
pub async fn public_ip(cx: &mut StepCx<'_>) -> StepResult {
    if cx.cluster.spec.endpoint_ip.is_some() {
        return Ok(());
    }
    let network_id = cx.cluster.network_id.clone().unwrap_or_default();
    let ip = cx
        .state
        .cloud
        .find_source_nat_ip(&network_id)
        .await
        .map_err(|e| cx.cloud(&e, e.to_string()))?
        .ok_or_else(|| {
            cx.fail(format!(
                "Failed to setup Kubernetes cluster : {} as no public IP found for the cluster",
                cx.cluster.name
            ))
        })?;
    cx.cluster.spec.endpoint_ip = Some(ip.address.to_string());
    cx.cluster.spec.public_ip_id = Some(ip.id);
    cx.save().await
}

/// Names and guest addresses of every node, fixed before any VM exists (the PKI names them).
pub async fn plan_nodes(cx: &mut StepCx<'_>) -> StepResult {
    if !cx.nodes().await?.is_empty() {
        return Ok(());
    }
    let store = &cx.state.store;
    let spec = &cx.cluster.spec;
    let wanted: Vec<NodeType> = std::iter::repeat_n(NodeType::Control, spec.control_nodes as usize)
        .chain(std::iter::repeat_n(NodeType::Worker, spec.workers as usize))
        .chain(std::iter::repeat_n(
            NodeType::Etcd,
            spec.etcd_nodes as usize,
        ))
        .collect();
    let ips = free_guest_ips(cx, wanted.len()).await?;
    let nodes = new_nodes(
        cx,
        &wanted,
        ips,
        cx.cluster
            .kubernetes_version_id
            .as_deref()
            .unwrap_or_default(),
    )
    .await?;
    store.insert_nodes(&nodes).await.map_err(|e| cx.store(e))
}

/// Node rows for `types`, named as CKS names them, with these addresses.
pub async fn new_nodes(
    cx: &StepCx<'_>,
    types: &[NodeType],
    ips: Vec<Ipv4Addr>,
    version_id: &str,
) -> Result<Vec<ClusterNode>, super::StepError> {
    let version = cx
        .state
        .store
        .version(version_id)
        .await
        .map_err(|e| cx.store(e))?
        .map(|v| v.semantic_version);
    let prefix = node_name_prefix(&cx.cluster.name, &cx.cluster.id);
    let existing = cx.nodes().await?;
    let mut etcd_index = existing
        .iter()
        .filter(|n| n.node_type == NodeType::Etcd)
        .count();
    // CKS suffixes names with the epoch milliseconds in hex; one apart keeps them unique.
    let millis = (now() as u64) * 1000 + (existing.len() as u64) * 7;
    Ok(types
        .iter()
        .zip(ips)
        .enumerate()
        .map(|(i, (t, ip))| {
            let name = node_name(&prefix, *t, etcd_index, millis + i as u64);
            if *t == NodeType::Etcd {
                etcd_index += 1;
            }
            ClusterNode {
                id: new_id(),
                cluster_id: cx.cluster.id.clone(),
                seq: 0,
                name,
                node_type: *t,
                vm_id: None,
                guest_ip: Some(ip.to_string()),
                kubernetes_version: (*t != NodeType::Etcd).then(|| version.clone()).flatten(),
                manual_upgrade: *t == NodeType::Etcd,
                external: false,
                created: now(),
            }
        })
        .collect())
}

/// `n` addresses of the cluster's network that no VM and no planned node holds.
pub async fn free_guest_ips(cx: &StepCx<'_>, n: usize) -> Result<Vec<Ipv4Addr>, super::StepError> {
    let network_id = cx.cluster.network_id.clone().unwrap_or_default();
    let cloud = &cx.state.cloud;
    let network = cloud
        .get_network(&network_id)
        .await
        .map_err(|e| cx.cloud(&e, e.to_string()))?;
    let mut used: Vec<Ipv4Addr> = cloud
        .vms_in_network(&network_id)
        .await
        .map_err(|e| cx.cloud(&e, e.to_string()))?
        .iter()
        .filter_map(|vm| vm.nic_in(&network_id).map(|nic| nic.ip_address))
        .collect();
    used.push(network.gateway);
    for node in cx.nodes().await? {
        if let Some(ip) = node.guest_ip.and_then(|ip| ip.parse().ok()) {
            used.push(ip);
        }
    }
    let base = u32::from(network.gateway) & u32::from(network.netmask);
    let size = !u32::from(network.netmask);
    let free: Vec<Ipv4Addr> = (1..size)
        .map(|host| Ipv4Addr::from(base + host))
        .filter(|ip| !used.contains(ip))
        .take(n)
        .collect();
    if free.len() < n {
        return Err(cx.fail(format!(
            "Network {} has no free address for {n} more nodes",
            network.name
        )));
    }
    Ok(free)
}

/// The cluster's certificate authorities and certificates, its bootstrap token and certificate key.
pub async fn pki(cx: &mut StepCx<'_>) -> StepResult {
    let mut secrets = ClusterSecrets::open(&cx.state.master_key, cx.cluster.secrets.as_deref());
    if secrets.pki.is_some() && secrets.token.is_some() {
        return Ok(());
    }
    let bootstrap = cluster_bootstrap(cx, None).await?;
    let now = time::OffsetDateTime::now_utc();
    let pki = ClusterPki::generate(&PkiSpec::for_cluster(&bootstrap, now)).map_err(|e| {
        cx.fail(format!(
            "Failed to generate the cluster's certificates: {e}"
        ))
    })?;
    let token =
        BootstrapToken::generate(time::Duration::days(1)).map_err(|e| cx.fail(e.to_string()))?;
    let key = CertificateKey::generate().map_err(|e| cx.fail(e.to_string()))?;
    secrets.pki = Some(pki);
    secrets.token = Some(token);
    secrets.certificate_key = Some(key);
    cx.cluster.secrets = Some(secrets.seal(&cx.state.master_key));
    cx.save().await
}

/// The admin kubeconfig, pointing at the public endpoint.
pub async fn kubeconfig(cx: &mut StepCx<'_>) -> StepResult {
    let mut secrets = ClusterSecrets::open(&cx.state.master_key, cx.cluster.secrets.as_deref());
    let Some(pki) = &secrets.pki else {
        return Err(cx.fail("The cluster has no certificates"));
    };
    let ip = cx
        .cluster
        .spec
        .endpoint_ip
        .as_deref()
        .and_then(|ip| ip.parse().ok())
        .ok_or_else(|| cx.fail("The cluster has no endpoint"))?;
    let config = cks_bootstrap::admin_kubeconfig(pki, &cx.cluster.name, ip).map_err(|e| {
        cx.fail(format!(
            "Failed to retrieve kube-config file for Kubernetes cluster : {}: {e}",
            cx.cluster.name
        ))
    })?;
    secrets.kubeconfig = Some(config);
    cx.cluster.secrets = Some(secrets.seal(&cx.state.master_key));
    cx.save().await
}

/// The dashboard pod runs (CKS checks it before calling a cluster usable).
pub async fn dashboard(cx: &mut StepCx<'_>) -> StepResult {
    let client = kube_client(cx)?;
    let every = super::poll_interval(cx.state);
    cx.wait_for("Waiting for the Kubernetes dashboard", every, || async {
        let pods = client.pods(Some("kubernetes-dashboard"), None, None).await.map_err(|e| e.to_string())?;
        Ok(pods.iter().any(|p| p.name.contains("kubernetes-dashboard") && p.phase == "Running").then_some(()))
    })
    .await
    .map_err(|e| cx.fail(format!("Failed to setup Kubernetes cluster : {} is not in usable state as the dashboard is not running: {}", cx.cluster.name, e.message)))?;
    cx.cluster.spec.dashboard_running = true;
    cx.save().await
}
