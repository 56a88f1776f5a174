//! Network rules on the cluster's public IP (isolated networks), as CKS lays them out:
//! firewall TCP 2222..2222+N-1 and 6443; port forwards 2222+i → node i port 22 (control nodes,
//! then workers); the `api-lb` load-balancer rule 6443 → every control node; for etcd node i a
//! firewall rule and a port forward on `etcd start port + i` → port 22.
//!
//! `apply` converges: rules of the cluster that no longer fit (after a scale) are removed first,
//! then missing ones are created (the cloud adopts identical rules), so it is safe to rerun.

use cks_cloud::{FirewallRuleSpec, LoadBalancerSpec, PortForwardingSpec};
use cks_core::cluster::{API_PORT, NodeType, SSH_START_PORT};
use cks_core::iaas::{LbAlgorithm, LbProtocol, Protocol};
use cks_core::settings as s;

use super::create::cluster_tags;
use super::{StepCx, StepResult};

pub async fn apply(cx: &mut StepCx<'_>) -> StepResult {
    let Some(ip_id) = cx.cluster.spec.public_ip_id.clone() else {
        return Err(cx.fail("The cluster has no public IP"));
    };
    let cloud = &cx.state.cloud;
    let nodes = cx.nodes().await?;
    let kube_vms: Vec<String> = nodes
        .iter()
        .filter(|n| n.node_type != NodeType::Etcd)
        .filter_map(|n| n.vm_id.clone())
        .collect();
    let etcd: Vec<String> = nodes
        .iter()
        .filter(|n| n.node_type == NodeType::Etcd)
        .filter_map(|n| n.vm_id.clone())
        .collect();
    // The setting's range keeps it a port; the default is only for a value that is not one.
    let etcd_start = u16::try_from(cx.state.setting_i64(s::ETCD_START_PORT)).unwrap_or(50000);
    // One public port per node from a start; a step fails rather than wrap past 65535.
    let ports_from = |start: u16, vms: &[String]| -> Result<Vec<(u16, String)>, _> {
        vms.iter()
            .enumerate()
            .map(|(i, vm)| {
                let port = u16::try_from(i).ok().and_then(|i| start.checked_add(i));
                port.map(|p| (p, vm.clone())).ok_or_else(|| {
                    cx.fail(format!(
                        "Kubernetes cluster : {} needs {} public ports from {start}, past 65535",
                        cx.cluster.name,
                        vms.len()
                    ))
                })
            })
            .collect()
    };
    let ssh_ports = ports_from(SSH_START_PORT, &kube_vms)?;
    let etcd_ports = ports_from(etcd_start, &etcd)?;
    let ssh_end = ssh_ports.last().map_or(SSH_START_PORT, |(p, _)| *p);
    let fail = |what: &str, e: cks_cloud::CloudError| {
        cx.cloud(
            &e,
            format!(
                "Failed to provision {what} for Kubernetes cluster : {}: {e}",
                cx.cluster.name
            ),
        )
    };

    // Desired port forwards: public port → VM.
    let desired: Vec<(u16, String)> = ssh_ports.iter().chain(&etcd_ports).cloned().collect();

    // Remove what no longer fits: our SSH firewall range of another size, forwards to other VMs.
    let tags = cluster_tags(&cx.cluster.id);
    let ours = |t: &cks_core::iaas::Tags| tags.iter().all(|(k, v)| t.get(k) == Some(v));
    for rule in cloud
        .firewall_rules_on_ip(&ip_id)
        .await
        .map_err(|e| fail("firewall rules", e))?
    {
        let ssh_range = rule.start_port == Some(SSH_START_PORT);
        if ours(&rule.tags) && ssh_range && rule.end_port != Some(ssh_end) {
            cloud
                .delete_firewall_rule(&rule.id)
                .await
                .map_err(|e| fail("firewall rules", e))?;
        }
    }
    for rule in cloud
        .port_forwarding_rules_on_ip(&ip_id)
        .await
        .map_err(|e| fail("port forwarding rules", e))?
    {
        let port = rule.public_start_port;
        let in_our_ranges = (SSH_START_PORT..SSH_START_PORT + 1000).contains(&port)
            || (etcd_start..etcd_start.saturating_add(100)).contains(&port);
        if ours(&rule.tags)
            && in_our_ranges
            && !desired
                .iter()
                .any(|(p, vm)| *p == port && *vm == rule.vm_id)
        {
            cloud
                .delete_port_forwarding_rule(&rule.id)
                .await
                .map_err(|e| fail("port forwarding rules", e))?;
        }
    }

    let firewall = |start: u16, end: u16| FirewallRuleSpec {
        ip_id: ip_id.clone(),
        protocol: Protocol::Tcp,
        start_port: Some(start),
        end_port: Some(end),
        cidrs: vec!["0.0.0.0/0".into()],
        tags: tags.clone(),
    };
    if !ssh_ports.is_empty() {
        cloud
            .create_firewall_rule(&firewall(SSH_START_PORT, ssh_end))
            .await
            .map_err(|e| fail("firewall rules", e))?;
    }
    cloud
        .create_firewall_rule(&firewall(API_PORT, API_PORT))
        .await
        .map_err(|e| fail("firewall rules", e))?;
    for &(port, _) in &etcd_ports {
        cloud
            .create_firewall_rule(&firewall(port, port))
            .await
            .map_err(|e| fail("firewall rules", e))?;
    }
    for (port, vm) in &desired {
        let spec = PortForwardingSpec {
            ip_id: ip_id.clone(),
            protocol: Protocol::Tcp,
            public_start_port: *port,
            public_end_port: None,
            private_start_port: 22,
            private_end_port: None,
            vm_id: vm.clone(),
            cidrs: vec![],
            tags: tags.clone(),
        };
        cloud
            .create_port_forwarding_rule(&spec)
            .await
            .map_err(|e| fail("port forwarding rules", e))?;
    }
    let lb = cloud
        .create_load_balancer_rule(&LoadBalancerSpec {
            name: "api-lb".into(),
            description: Some("LB rule for API access".into()),
            ip_id: ip_id.clone(),
            public_port: API_PORT,
            private_port: API_PORT,
            algorithm: LbAlgorithm::RoundRobin,
            protocol: LbProtocol::Tcp,
            cidrs: vec![],
            tags: tags.clone(),
        })
        .await
        .map_err(|e| fail("load balancer rule", e))?;
    let controls: Vec<String> = nodes
        .iter()
        .filter(|n| n.node_type == NodeType::Control)
        .filter_map(|n| n.vm_id.clone())
        .collect();
    cloud
        .assign_to_load_balancer_rule(&lb.id, &controls)
        .await
        .map_err(|e| fail("load balancer rule", e))?;
    Ok(())
}
