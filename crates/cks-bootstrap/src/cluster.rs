//! The cluster description the orchestrator hands to every builder in this crate.

use std::collections::HashSet;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::cni::CniConfiguration;
use crate::error::{Error, Result};
use crate::net::Cidr;
use crate::version::KubernetesVersion;

/// The API server port on every control node and on the cluster endpoint.
pub const API_SERVER_PORT: u16 = 6443;

/// The Kubernetes cluster DNS domain (kubeadm's default).
pub const DNS_DOMAIN: &str = "cluster.local";

/// A node whose name and address are fixed before it boots: control and etcd nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeIdentity {
    /// Host name = VM name = Kubernetes node name (or etcd member name).
    pub name: String,
    /// The node's guest network address.
    pub ip: IpAddr,
}

impl NodeIdentity {
    /// A node identity from its name and address.
    pub fn new(name: impl Into<String>, ip: IpAddr) -> Self {
        NodeIdentity {
            name: name.into(),
            ip,
        }
    }
}

/// Credentials for a private container registry; containerd on every node gets them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryCredentials {
    /// `https://registry.example.com:5000` (the scheme is required).
    pub url: String,
    /// Registry user name.
    pub username: String,
    /// Registry password (written to containerd's configuration, mode 0600).
    pub password: String,
}

impl RegistryCredentials {
    /// `registry.example.com:5000`: the URL without scheme and path, as containerd names hosts.
    pub fn host(&self) -> Result<&str> {
        let rest = self
            .url
            .strip_prefix("https://")
            .or_else(|| self.url.strip_prefix("http://"))
            .ok_or_else(|| {
                Error::InvalidSpec("registry URL must start with https:// or http://".into())
            })?;
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        {
            return Err(Error::InvalidSpec(format!(
                "registry URL {:?} has no valid host",
                self.url
            )));
        }
        Ok(host)
    }
}

impl fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryCredentials")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What the CloudStack cloud controller manager authenticates with; written into the
/// `kube-system/cloudstack-secret` Secret by the first control node.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudProviderCredentials {
    /// The CloudStack API endpoint, `https://<host>/client/api`.
    pub api_url: String,
    /// API key of the cluster's service account.
    pub api_key: String,
    /// Secret key of the cluster's service account.
    pub secret_key: String,
    /// Set for project-owned clusters.
    pub project_id: Option<String>,
}

impl fmt::Debug for CloudProviderCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudProviderCredentials")
            .field("api_url", &self.api_url)
            .field("api_key", &self.api_key)
            .field("secret_key", &"<redacted>")
            .field("project_id", &self.project_id)
            .finish()
    }
}

/// How long a node waits for the binaries ISO and what it does with it afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSettings {
    /// How many times to look for the ISO (CKS: `cloud.kubernetes.cluster.max.retries`-like, 100).
    pub attempts: u32,
    /// Seconds between attempts (15).
    pub wait_seconds: u32,
    /// Eject the ISO after installing (true on VMware, where an attached ISO blocks migration).
    pub eject_iso: bool,
    /// Where to fetch the ISO's files when no CD-ROM is attached: the virtual router serving it
    /// (`http://<VR IP>/cks-iso`) for imported external nodes.
    pub iso_url: Option<String>,
}

impl Default for InstallSettings {
    fn default() -> Self {
        InstallSettings {
            attempts: 100,
            wait_seconds: 15,
            eject_iso: false,
            iso_url: None,
        }
    }
}

/// Everything about a cluster that its nodes' bootstrap depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterBootstrap {
    /// The user-facing cluster name; names the kubeconfig context.
    pub cluster_name: String,
    /// The cluster uuid; makes the etcd cluster token unique.
    pub cluster_id: String,
    /// Decides the kubeadm API version and the admin certificate's group.
    pub kubernetes_version: KubernetesVersion,
    /// The control-plane endpoint (public IP, load balancer, or the first control node on
    /// direct-access networks). Clients and joining nodes reach the API on `<endpoint>:6443`.
    pub endpoint_ip: IpAddr,
    /// Control nodes in creation order; the first one runs `kubeadm init`.
    pub control_nodes: Vec<NodeIdentity>,
    /// External etcd members; empty means kubeadm's stacked etcd on the control nodes.
    pub etcd_nodes: Vec<NodeIdentity>,
    /// Keys authorized for the `cloud` user (the management key, and the user's key pair if any).
    pub ssh_public_keys: Vec<String>,
    /// A private registry every node's containerd may pull from.
    pub registry: Option<RegistryCredentials>,
    /// The pod network (IPv4); also the source the metadata guard blocks.
    pub pod_cidr: Cidr,
    /// The service network; its first address is the API service.
    pub service_cidr: Cidr,
    /// A registered CNI configuration replacing the ISO's default `network.yaml`.
    pub cni: Option<CniConfiguration>,
    /// Set when the cluster runs the CloudStack CCM: kubelets then use `cloud-provider=external`
    /// and nodes start tainted until the CCM initializes them.
    pub cloud_provider: Option<CloudProviderCredentials>,
    /// Addresses serving VM metadata and user data (the virtual router) that pods must not reach.
    /// `169.254.169.254`, the default gateway and the DHCP server are always blocked as well.
    pub metadata_addresses: Vec<IpAddr>,
    /// How nodes find and use the binaries ISO.
    pub install: InstallSettings,
}

impl ClusterBootstrap {
    /// Checks what the builders rely on; every builder calls it first.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidSpec(msg));
        if self.cluster_name.trim().is_empty() || self.cluster_name.chars().any(char::is_control) {
            return bad("cluster name must be non-empty and printable".into());
        }
        if self.cluster_id.is_empty()
            || !self
                .cluster_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return bad(format!(
                "cluster id {:?} must be a uuid-like token",
                self.cluster_id
            ));
        }
        self.kubernetes_version.kubeadm_api()?;
        if self.control_nodes.is_empty() {
            return bad("a cluster needs at least one control node".into());
        }
        check_nodes("control", &self.control_nodes)?;
        check_nodes("etcd", &self.etcd_nodes)?;
        if self.ssh_public_keys.is_empty() {
            return bad("at least one SSH public key is required for the cloud user".into());
        }
        for key in &self.ssh_public_keys {
            if key.trim().is_empty() || key.contains(['\n', '\r']) {
                return bad("an SSH public key must be one non-empty line".into());
            }
        }
        if self.pod_cidr.overlaps(&self.service_cidr) {
            return bad(format!(
                "pod CIDR {} overlaps service CIDR {}",
                self.pod_cidr, self.service_cidr
            ));
        }
        for (what, cidr) in [("pod", &self.pod_cidr), ("service", &self.service_cidr)] {
            if cidr.contains(self.endpoint_ip) {
                return bad(format!(
                    "endpoint {} lies inside the {what} CIDR {cidr}",
                    self.endpoint_ip
                ));
            }
        }
        if let Some(registry) = &self.registry {
            registry.host()?;
            if [&registry.username, &registry.password]
                .iter()
                .any(|s| s.chars().any(char::is_control))
            {
                return bad("registry credentials must not contain control characters".into());
            }
        }
        if let Some(cp) = &self.cloud_provider {
            let fields = [
                Some(&cp.api_url),
                Some(&cp.api_key),
                Some(&cp.secret_key),
                cp.project_id.as_ref(),
            ];
            // The values land in an INI file: a newline would let one inject keys.
            if fields
                .into_iter()
                .flatten()
                .any(|s| s.is_empty() || s.chars().any(char::is_control))
            {
                return bad("cloud provider credentials must be non-empty single lines".into());
            }
        }
        if let Some(url) = &self.install.iso_url
            && (!(url.starts_with("http://") || url.starts_with("https://"))
                || url.contains(char::is_whitespace))
        {
            return bad(format!("ISO URL {url:?} must be an http(s) URL"));
        }
        if self.install.attempts == 0 {
            return bad("install attempts must be at least 1".into());
        }
        Ok(())
    }

    /// The node that runs `kubeadm init`.
    pub fn first_control_node(&self) -> Result<&NodeIdentity> {
        self.control_nodes
            .first()
            .ok_or_else(|| Error::InvalidSpec("a cluster needs at least one control node".into()))
    }

    /// True when etcd runs on its own nodes.
    pub fn external_etcd(&self) -> bool {
        !self.etcd_nodes.is_empty()
    }

    /// The etcd cluster token: unique per cluster, so members of two clusters never merge.
    pub fn etcd_cluster_token(&self) -> String {
        format!("cks-{}", self.cluster_id)
    }
}

/// True for an RFC 1123 subdomain (what Kubernetes accepts as a node name).
pub(crate) fn is_dns_name(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn check_nodes(role: &str, nodes: &[NodeIdentity]) -> Result<()> {
    let mut names = HashSet::new();
    let mut ips = HashSet::new();
    for node in nodes {
        if !is_dns_name(&node.name) {
            return Err(Error::InvalidSpec(format!(
                "{role} node name {:?} is not a lowercase DNS name",
                node.name
            )));
        }
        if !names.insert(&node.name) || !ips.insert(node.ip) {
            return Err(Error::InvalidSpec(format!(
                "{role} node {} appears twice",
                node.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A three-control, three-etcd cluster with every option set, shared by this crate's tests.
    pub(crate) fn full_cluster() -> ClusterBootstrap {
        ClusterBootstrap {
            cluster_name: "prod-eu".into(),
            cluster_id: "6f1c2a0e-4b7d-4e59-9d0a-2f8f3f1b9c11".into(),
            kubernetes_version: "1.33.1".parse().unwrap(),
            endpoint_ip: "203.0.113.10".parse().unwrap(),
            control_nodes: (1..=3)
                .map(|i| NodeIdentity::new(format!("prod-eu-control-{i}"), format!("10.1.1.{}", 10 + i).parse().unwrap()))
                .collect(),
            etcd_nodes: (1..=3)
                .map(|i| NodeIdentity::new(format!("prod-eu-etcd-{i}"), format!("10.1.1.{}", 20 + i).parse().unwrap()))
                .collect(),
            ssh_public_keys: vec![
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ7s1mEH1mB1m0m7V4l4H5kqv7n3kXo0lYpQw6Z3i0Yp cloudstack@mgmt".into(),
            ],
            registry: Some(RegistryCredentials {
                url: "https://registry.example.com:5000".into(),
                username: "puller".into(),
                password: "p\"ss'word".into(),
            }),
            pod_cidr: "10.244.0.0/16".parse().unwrap(),
            service_cidr: "10.96.0.0/12".parse().unwrap(),
            cni: None,
            cloud_provider: Some(CloudProviderCredentials {
                api_url: "https://cloud.example.com/client/api".into(),
                api_key: "api-key".into(),
                secret_key: "secret-key".into(),
                project_id: None,
            }),
            metadata_addresses: vec!["10.1.1.1".parse().unwrap()],
            install: InstallSettings::default(),
        }
    }

    /// One control node, stacked etcd, nothing optional.
    pub(crate) fn minimal_cluster() -> ClusterBootstrap {
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
            install: InstallSettings::default(),
        }
    }

    #[test]
    fn fixtures_are_valid() {
        full_cluster().validate().unwrap();
        minimal_cluster().validate().unwrap();
    }

    #[test]
    fn rejects_inconsistent_descriptions() {
        type Mutation = Box<dyn Fn(&mut ClusterBootstrap)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("no control", Box::new(|c| c.control_nodes.clear())),
            (
                "bad name",
                Box::new(|c| c.control_nodes[0].name = "Node_1".into()),
            ),
            (
                "dup",
                Box::new(|c| c.etcd_nodes[1] = c.etcd_nodes[0].clone()),
            ),
            (
                "key lines",
                Box::new(|c| c.ssh_public_keys[0].push_str("\nssh-rsa evil")),
            ),
            ("no keys", Box::new(|c| c.ssh_public_keys.clear())),
            (
                "overlap",
                Box::new(|c| c.pod_cidr = "10.96.0.0/16".parse().unwrap()),
            ),
            (
                "old k8s",
                Box::new(|c| c.kubernetes_version = "1.21.0".parse().unwrap()),
            ),
            (
                "ini inject",
                Box::new(|c| c.cloud_provider.as_mut().unwrap().api_key = "k\n[Global]".into()),
            ),
            (
                "registry",
                Box::new(|c| c.registry.as_mut().unwrap().url = "registry.example.com".into()),
            ),
            ("cluster id", Box::new(|c| c.cluster_id = "a b".into())),
        ];
        for (what, mutate) in cases {
            let mut c = full_cluster();
            mutate(&mut c);
            assert!(
                matches!(
                    c.validate(),
                    Err(Error::InvalidSpec(_) | Error::Version { .. })
                ),
                "{what}"
            );
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let shown = format!("{:?}", full_cluster());
        assert!(
            !shown.contains("secret-key") && !shown.contains("ss'word"),
            "{shown}"
        );
    }

    #[test]
    fn registry_host() {
        let r = full_cluster().registry.unwrap();
        assert_eq!(r.host().unwrap(), "registry.example.com:5000");
    }
}
