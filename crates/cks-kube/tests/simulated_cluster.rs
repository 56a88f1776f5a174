//! The client against a cluster the embedded simulator serves on its public IP, built the way
//! the orchestrator builds one: the same code path as against a real cluster.

#![allow(
    clippy::unwrap_used,
    reason = "test code: an unwrap that fails is a failed assertion"
)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use cks_bootstrap::{
    BootstrapToken, ClusterBootstrap, ClusterPki, InstallSettings, NodeIdentity, NodeUserData,
    PkiSpec, admin_kubeconfig,
};
use cks_cloud::{Cloud, DeployVmSpec, FirewallRuleSpec, IsoSpec, NetworkSpec, PortForwardingSpec};
use cks_core::iaas::{IsoState, Protocol, Tags};
use cks_core::tenancy::Owner;
use cks_kube::{KubeClient, KubeError};
use cks_sim::{Fault, SeedSource, SimConfig, Simulator, Timings};
use sqlx::any::AnyPoolOptions;
use tempfile::TempDir;

// === Harness ===

struct Cluster {
    sim: Simulator,
    pki: ClusterPki,
    endpoint: Ipv4Addr,
    control: String,
    workers: Vec<String>,
    _dir: TempDir,
}

impl Cluster {
    fn client(&self) -> KubeClient {
        KubeClient::new(
            &format!("https://{}:6443", self.endpoint),
            &self.pki.kubernetes_ca.cert_pem,
            &self.pki.admin.cert_pem,
            &self.pki.admin.key_pem,
            Duration::from_secs(5),
        )
        .expect("client")
    }
}

/// A loopback range of its own whose first addresses have port 6443 free.
fn free_range() -> (Ipv4Addr, Ipv4Addr) {
    for _ in 0..100 {
        let mut bytes = [0u8; 2];
        pseudo_random(&mut bytes);
        let (a, b) = (20 + bytes[0] % 230, bytes[1]);
        let free = (2..10u8)
            .all(|d| std::net::TcpListener::bind((Ipv4Addr::new(127, a, b, d), 6443)).is_ok());
        if free {
            return (Ipv4Addr::new(127, a, b, 2), Ipv4Addr::new(127, a, b, 30));
        }
    }
    panic!("no free loopback range for port 6443");
}

fn pseudo_random(buf: &mut [u8]) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let id = std::thread::current().id();
    let seed = format!("{nanos}{id:?}{}", std::process::id());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte = (h >> (i * 8)) as u8;
    }
}

fn owner() -> Owner {
    Owner {
        account_id: "kube-id".into(),
        account_name: "kube".into(),
        domain_id: "root-domain-id".into(),
        domain_name: "ROOT".into(),
        domain_path: "ROOT".into(),
        project_id: None,
        project_name: None,
    }
}

/// One control node and `workers` workers, installed and reachable on the endpoint.
async fn cluster(name: &str, workers: usize) -> Cluster {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("sim.db").display());
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let config = SimConfig {
        seed: SeedSource::Default,
        timings: Timings::instant(),
        public_ip_range: Some(free_range()),
        claims: None,
    };
    let sim = Simulator::open(pool, config).await.expect("simulator");
    let who = owner();
    let zone = sim.list_zones(|_| true)[0].id.clone();
    let offering = |n: &str| sim.list_service_offerings(|o| o.name == n)[0].id.clone();
    let template = sim.list_templates(|t| t.for_cks)[0].id.clone();
    let net_offering = sim
        .find_network_offering("DefaultNetworkOfferingforKubernetesService")
        .await
        .unwrap()
        .unwrap()
        .id;
    let network = sim
        .create_network(&NetworkSpec {
            name: name.into(),
            display_text: None,
            zone_id: zone.clone(),
            offering_id: net_offering,
            gateway: None,
            netmask: None,
            network_domain: None,
            vpc_id: None,
            owner: who.clone(),
            tags: Tags::new(),
        })
        .await
        .unwrap();
    sim.implement_network(&network.id).await.unwrap();
    let ip = sim.find_source_nat_ip(&network.id).await.unwrap().unwrap();
    sim.create_firewall_rule(&FirewallRuleSpec {
        ip_id: ip.id.clone(),
        protocol: Protocol::Tcp,
        start_port: Some(6443),
        end_port: None,
        cidrs: vec![],
        tags: Tags::new(),
    })
    .await
    .unwrap();
    let control_ip = Ipv4Addr::new(10, 1, 1, 10);
    let bootstrap = ClusterBootstrap {
        cluster_name: name.into(),
        cluster_id: "5d0f8b0e-2222-4333-8444-955566667777".into(),
        kubernetes_version: "1.33.1".parse().unwrap(),
        endpoint_ip: IpAddr::V4(ip.address),
        control_nodes: vec![NodeIdentity::new(
            format!("{name}-control-1"),
            IpAddr::V4(control_ip),
        )],
        etcd_nodes: vec![],
        ssh_public_keys: vec!["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ7s1mEH1mB1m0m7V4l4H5kqv7n3kXo0lYpQw6Z3i0Yp cloud@cks".into()],
        registry: None,
        pod_cidr: "10.244.0.0/16".parse().unwrap(),
        service_cidr: "10.96.0.0/12".parse().unwrap(),
        cni: None,
        cloud_provider: None,
        metadata_addresses: vec![],
        install: InstallSettings::default(),
    };
    let pki = ClusterPki::generate(&PkiSpec::for_cluster(
        &bootstrap,
        time::OffsetDateTime::now_utc(),
    ))
    .unwrap();
    let token = BootstrapToken::generate(time::Duration::hours(2)).unwrap();
    let nodes = NodeUserData::new(&bootstrap, &pki).unwrap();
    let iso = sim
        .register_iso(&IsoSpec {
            name: format!("{name}-binaries"),
            display_text: None,
            url: "https://127.0.0.1/never-fetched/k8s.iso".into(),
            checksum: None,
            zone_id: None,
            bootable: false,
            is_public: true,
            is_featured: false,
            is_extractable: false,
            arch: None,
            os_type_name: None,
            owner: who.clone(),
            tags: Tags::new(),
        })
        .await
        .unwrap();
    for _ in 0..200 {
        if sim.get_iso(&iso.id).await.unwrap().state == IsoState::Ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let deploy = |vm_name: String, user_data: String, guest_ip: Option<Ipv4Addr>| DeployVmSpec {
        name: vm_name,
        display_name: None,
        zone_id: zone.clone(),
        network_id: network.id.clone(),
        service_offering_id: offering("CKS Node"),
        size: None,
        template_id: template.clone(),
        root_disk_size_gib: None,
        user_data: Some(B64.encode(user_data)),
        keypairs: vec![],
        ip_address: guest_ip,
        start: true,
        owner: who.clone(),
        user_id: None,
        user_name: None,
        tags: Tags::new(),
    };
    let control = sim
        .deploy_vm(&deploy(
            format!("{name}-control-1"),
            nodes.first_control_node(&token, None).unwrap(),
            Some(control_ip),
        ))
        .await
        .unwrap();
    let mut worker_ids = Vec::new();
    for i in 1..=workers {
        let worker = format!("{name}-node-{i}");
        let doc = nodes
            .worker(&worker, IpAddr::V4(control_ip), &token)
            .unwrap();
        worker_ids.push(sim.deploy_vm(&deploy(worker, doc, None)).await.unwrap().id);
    }
    sim.create_port_forwarding_rule(&PortForwardingSpec {
        ip_id: ip.id.clone(),
        protocol: Protocol::Tcp,
        public_start_port: 6443,
        public_end_port: None,
        private_start_port: 6443,
        private_end_port: None,
        vm_id: control.id.clone(),
        cidrs: vec![],
        tags: Tags::new(),
    })
    .await
    .unwrap();
    for vm in std::iter::once(&control.id).chain(&worker_ids) {
        sim.attach_iso(vm, &iso.id).await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(10), sim.settle())
        .await
        .unwrap();
    Cluster {
        sim,
        pki,
        endpoint: ip.address,
        control: control.id,
        workers: worker_ids,
        _dir: dir,
    }
}

// === Tests ===

#[tokio::test]
async fn reads_the_version_and_the_nodes() {
    let c = cluster("kv", 2).await;
    let client = c.client();
    let version = client.version().await.expect("version");
    assert_eq!(version.git_version, "v1.33.1");
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "33")
    );
    let nodes = client.nodes().await.expect("nodes");
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["kv-control-1", "kv-node-1", "kv-node-2"]);
    assert!(
        nodes
            .iter()
            .all(|n| n.ready && n.kubelet_version == "v1.33.1")
    );
    assert_eq!(nodes[0].roles, ["control-plane"]);
    assert!(nodes[1].roles.is_empty());
    assert_eq!(nodes[0].internal_ip.as_deref(), Some("10.1.1.10"));
    let node = client.node("kv-node-2").await.expect("node");
    assert_eq!(node, nodes[2]);
    let err = client.node("nope").await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    // The service sees a stopped node as not ready.
    c.sim.stop_vm(&c.workers[0], false).await.unwrap();
    assert!(!client.node("kv-node-1").await.unwrap().ready);
}

#[tokio::test]
async fn cordons_drains_and_deletes_nodes() {
    let c = cluster("kd", 2).await;
    let client = c.client();
    assert!(client.cordon("kd-node-1").await.unwrap().unschedulable);
    assert!(client.node("kd-node-1").await.unwrap().unschedulable);
    assert!(!client.uncordon("kd-node-1").await.unwrap().unschedulable);

    let on_node =
        |pods: &[cks_kube::Pod]| pods.iter().map(|p| p.name.clone()).collect::<Vec<String>>();
    let before = client
        .pods(None, Some("spec.nodeName=kd-node-1"), None)
        .await
        .unwrap();
    let drained = client.drain("kd-node-1").await.expect("drain");
    assert!(client.node("kd-node-1").await.unwrap().unschedulable);
    // DaemonSet pods stay, the others went.
    let kept: Vec<String> = before
        .iter()
        .filter(|p| !p.evictable())
        .map(|p| p.name.clone())
        .collect();
    assert!(
        kept.iter().all(|k| k.starts_with("kube-proxy-")),
        "{kept:?}"
    );
    assert_eq!(
        drained,
        on_node(
            &before
                .iter()
                .filter(|p| p.evictable())
                .cloned()
                .collect::<Vec<_>>()
        )
    );
    let after = client
        .pods(None, Some("spec.nodeName=kd-node-1"), None)
        .await
        .unwrap();
    assert!(after.iter().all(|p| !p.evictable()), "{after:?}");

    let dns = client
        .pods(Some("kube-system"), None, Some("k8s-app=kube-dns"))
        .await
        .unwrap();
    assert_eq!(dns.len(), 2);
    assert!(
        dns.iter()
            .all(|p| p.phase == "Running" && p.owner_kind.as_deref() == Some("ReplicaSet"))
    );
    let dashboard = client
        .pods(Some("kubernetes-dashboard"), None, None)
        .await
        .unwrap();
    assert_eq!(dashboard[0].phase, "Running");
    assert_ne!(dashboard[0].node_name.as_deref(), Some("kd-node-1"));
    let statics = client
        .pods(Some("kube-system"), None, Some("tier=control-plane"))
        .await
        .unwrap();
    assert!(statics.len() == 4 && statics.iter().all(|p| p.mirror && !p.evictable()));

    assert!(client.delete_node("kd-node-2").await.unwrap());
    assert!(!client.delete_node("kd-node-2").await.unwrap());
    assert_eq!(client.nodes().await.unwrap().len(), 2);
    let err = client
        .pods(None, Some("spec.bogus=1"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, KubeError::Api { status: 400, .. }), "{err}");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_told_apart_from_a_refusal() {
    let c = cluster("ku", 0).await;
    let client = c.client();
    let ip = c
        .sim
        .list_public_ips(|ip| ip.address == c.endpoint)
        .remove(0);
    c.sim
        .inject(Fault::EndpointUnreachable {
            public_ip_id: ip.id.clone(),
            unreachable: true,
        })
        .await
        .unwrap();
    let err = client.version().await.unwrap_err();
    assert!(matches!(err, KubeError::Unreachable(_)), "{err:?}");
    assert!(err.is_transient());
    c.sim.clear_faults();
    assert!(client.version().await.is_ok());
    // A kept-alive connection does not outlive the endpoint either.
    c.sim
        .inject(Fault::EndpointUnreachable {
            public_ip_id: ip.id.clone(),
            unreachable: true,
        })
        .await
        .unwrap();
    assert!(matches!(
        client.version().await,
        Err(KubeError::Unreachable(_))
    ));
    c.sim.clear_faults();
    assert!(client.version().await.is_ok());

    // The control VM crashes: the endpoint is gone.
    c.sim
        .inject(Fault::StopVm {
            vm_id: c.control.clone(),
        })
        .await
        .unwrap();
    assert!(matches!(
        client.nodes().await,
        Err(KubeError::Unreachable(_))
    ));
    c.sim.start_vm(&c.control).await.unwrap();
    assert_eq!(client.nodes().await.unwrap().len(), 1);

    // Another cluster's CA does not trust this endpoint's certificate.
    let other = cluster("ko", 0).await;
    let stranger = KubeClient::new(
        &format!("https://{}:6443", c.endpoint),
        &other.pki.kubernetes_ca.cert_pem,
        &c.pki.admin.cert_pem,
        &c.pki.admin.key_pem,
        Duration::from_secs(5),
    )
    .unwrap();
    let err = stranger.version().await.unwrap_err();
    assert!(matches!(err, KubeError::Tls(_)), "{err:?}");
    // A client certificate from another cluster is refused during the handshake.
    let impostor = KubeClient::new(
        &format!("https://{}:6443", c.endpoint),
        &c.pki.kubernetes_ca.cert_pem,
        &other.pki.admin.cert_pem,
        &other.pki.admin.key_pem,
        Duration::from_secs(5),
    )
    .unwrap();
    let err = impostor.nodes().await.unwrap_err();
    assert!(
        matches!(err, KubeError::Tls(_) | KubeError::Unreachable(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_kubeconfig_is_enough() {
    let c = cluster("kk", 1).await;
    let kubeconfig = admin_kubeconfig(&c.pki, "kk", IpAddr::V4(c.endpoint)).unwrap();
    let client = KubeClient::from_kubeconfig(&kubeconfig).expect("client from kubeconfig");
    assert_eq!(client.endpoint(), format!("https://{}:6443", c.endpoint));
    assert_eq!(client.nodes().await.unwrap().len(), 2);
    assert!(matches!(
        KubeClient::from_kubeconfig("apiVersion: v1\nkind: Config\n"),
        Err(KubeError::Config(_))
    ));
}
