//! Test harness: locating real tools, running them with a clear failure, and cluster fixtures.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use base64::Engine;
use cks_bootstrap::{
    CloudProviderCredentials, ClusterBootstrap, ClusterPki, CniConfiguration, InstallSettings,
    NodeIdentity, PkiSpec, RegistryCredentials,
};

/// The absolute path of `name`, or a panic naming the Debian package that provides it.
pub fn tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed: run scripts/install-test-deps.sh (Debian package `{package}`)")
        })
}

/// Runs a command to completion, failing the test (with its output) if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command that must succeed; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, content).unwrap();
    path
}

/// A pseudo-random number for picking loopback addresses, different between runs and threads.
pub fn random_u32() -> u32 {
    let mut buf = [0u8; 4];
    aws_lc_rs::rand::fill(&mut buf).unwrap();
    u32::from_le_bytes(buf)
}

/// `count` consecutive loopback addresses (never 127.0.0.1) whose `ports` are all free.
pub fn free_loopback_addresses(count: u8, ports: &[u16]) -> Vec<Ipv4Addr> {
    for _ in 0..50 {
        let base = 10 + (random_u32() % 200) as u8;
        let ips: Vec<Ipv4Addr> = (0..count)
            .map(|i| Ipv4Addr::new(127, 0, 0, base + i))
            .collect();
        let free = ips.iter().all(|ip| {
            ports
                .iter()
                .all(|port| TcpListener::bind((*ip, *port)).is_ok())
        });
        if free {
            return ips;
        }
    }
    panic!("no free loopback addresses for ports {ports:?}");
}

pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// A three-control, three-etcd cluster with a registry, the CCM and a Calico-style CNI.
pub fn full_cluster() -> ClusterBootstrap {
    let cni = CniConfiguration {
        user_data_base64: base64::engine::general_purpose::STANDARD.encode(CALICO_BGP),
        params: CniConfiguration::parse_params("bgp_peer_ip,bgp_peer_as"),
        details: [
            ("bgp_peer_ip".to_owned(), "10.1.1.1".to_owned()),
            ("bgp_peer_as".to_owned(), "64512".to_owned()),
        ]
        .into(),
        as_number: Some(65001),
    };
    ClusterBootstrap {
        cluster_name: "prod-eu".into(),
        cluster_id: "6f1c2a0e-4b7d-4e59-9d0a-2f8f3f1b9c11".into(),
        kubernetes_version: "1.33.1".parse().unwrap(),
        endpoint_ip: "203.0.113.10".parse().unwrap(),
        control_nodes: (1..=3)
            .map(|i| NodeIdentity::new(format!("prod-eu-control-{i}"), IpAddr::from([10, 1, 1, 10 + i])))
            .collect(),
        etcd_nodes: (1..=3)
            .map(|i| NodeIdentity::new(format!("prod-eu-etcd-{i}"), IpAddr::from([10, 1, 1, 20 + i])))
            .collect(),
        ssh_public_keys: vec![
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ7s1mEH1mB1m0m7V4l4H5kqv7n3kXo0lYpQw6Z3i0Yp cloudstack@mgmt".into(),
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@laptop".into(),
        ],
        registry: Some(RegistryCredentials {
            url: "https://registry.example.com:5000".into(),
            username: "puller".into(),
            password: "p\"ss'word#1".into(),
        }),
        pod_cidr: "10.244.0.0/16".parse().unwrap(),
        service_cidr: "10.96.0.0/12".parse().unwrap(),
        cni: Some(cni),
        cloud_provider: Some(CloudProviderCredentials {
            api_url: "https://cloud.example.com/client/api".into(),
            api_key: "api-key".into(),
            secret_key: "secret-key".into(),
            project_id: Some("3b1d9a7e-0000-4000-8000-000000000001".into()),
        }),
        metadata_addresses: vec!["10.1.1.1".parse().unwrap()],
        install: InstallSettings::default(),
    }
}

/// One control node, stacked etcd, an older Kubernetes (kubeadm v1beta3), nothing optional.
pub fn minimal_cluster() -> ClusterBootstrap {
    ClusterBootstrap {
        cluster_name: "dev".into(),
        cluster_id: "0c7d9f6e-1111-4222-8333-944455556666".into(),
        kubernetes_version: "1.28.15".parse().unwrap(),
        endpoint_ip: "10.1.2.10".parse().unwrap(),
        control_nodes: vec![NodeIdentity::new(
            "dev-control-18f2a",
            "10.1.2.10".parse().unwrap(),
        )],
        etcd_nodes: vec![],
        ssh_public_keys: vec!["ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 cloud@mgmt".into()],
        registry: None,
        pod_cidr: "10.244.0.0/16".parse().unwrap(),
        service_cidr: "10.96.0.0/12".parse().unwrap(),
        cni: None,
        cloud_provider: None,
        metadata_addresses: vec![],
        install: InstallSettings {
            iso_url: Some("http://10.1.2.1/cks-iso".into()),
            ..InstallSettings::default()
        },
    }
}

pub fn full_pki() -> &'static ClusterPki {
    static PKI: OnceLock<ClusterPki> = OnceLock::new();
    PKI.get_or_init(|| ClusterPki::generate(&PkiSpec::for_cluster(&full_cluster(), now())).unwrap())
}

pub const CALICO_BGP: &str = r#"#cloud-config
write_files:
  - path: /opt/cni/calico-bgp.yaml
    permissions: "0644"
    content: |
      apiVersion: projectcalico.org/v3
      kind: BGPConfiguration
      metadata:
        name: default
      spec:
        asNumber: {{ AS_NUMBER }}
      ---
      apiVersion: projectcalico.org/v3
      kind: BGPPeer
      metadata:
        name: router
      spec:
        peerIP: {{ ds.meta_data.bgp_peer_ip }}
        asNumber: {{ ds.meta_data.bgp_peer_as }}
runcmd:
  - kubectl apply -f /opt/cks/manifests/network.yaml
  - [sh, -c, "until kubectl get crd bgpconfigurations.crd.projectcalico.org; do sleep 5; done"]
  - kubectl apply -f /opt/cni/calico-bgp.yaml
"#;
