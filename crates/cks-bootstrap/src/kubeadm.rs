//! kubeadm configuration files: `kubeadm init --config` on the first control node and
//! `kubeadm join --config` everywhere else.
//!
//! Typed structs rather than templates, with the one shape difference between the API versions
//! (v1beta4 writes extra arguments as name/value lists) handled by one `Args` enum.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::cluster::{API_SERVER_PORT, ClusterBootstrap, DNS_DOMAIN, NodeIdentity, is_dns_name};
use crate::error::Result;
use crate::pki::ClusterPki;
use crate::token::{BootstrapToken, CertificateKey};
use crate::version::{KubeadmApi, KubernetesVersion};

/// Where containerd listens; the only runtime the nodes use.
pub const CRI_SOCKET: &str = "unix:///run/containerd/containerd.sock";
/// The taint kubelet's `cloud-provider=external` mode expects until the CCM initializes a node.
pub const UNINITIALIZED_TAINT: &str = "node.cloudprovider.kubernetes.io/uninitialized";
/// Where the kubeadm configuration is written on a node.
pub const CONFIG_PATH: &str = "/etc/kubernetes/kubeadm-config.yaml";
const PKI_DIR: &str = "/etc/kubernetes/pki";

/// Extra command-line arguments: a map in v1beta3, a list of `{name, value}` in v1beta4.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Args {
    Map(BTreeMap<&'static str, String>),
    List(Vec<Arg>),
}

#[derive(Debug, Serialize)]
struct Arg {
    name: &'static str,
    value: String,
}

impl Args {
    fn new(api: KubeadmApi, pairs: Vec<(&'static str, String)>) -> Option<Args> {
        if pairs.is_empty() {
            return None;
        }
        Some(match api {
            KubeadmApi::V1Beta3 => Args::Map(pairs.into_iter().collect()),
            KubeadmApi::V1Beta4 => Args::List(
                pairs
                    .into_iter()
                    .map(|(name, value)| Arg { name, value })
                    .collect(),
            ),
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct InitConfiguration {
    api_version: &'static str,
    kind: &'static str,
    bootstrap_tokens: Vec<BootstrapTokenSpec>,
    node_registration: NodeRegistration,
    #[serde(rename = "localAPIEndpoint")]
    local_api_endpoint: ApiEndpoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_key: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BootstrapTokenSpec {
    token: String,
    description: &'static str,
    ttl: String,
    usages: [&'static str; 2],
    groups: [&'static str; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NodeRegistration {
    name: String,
    cri_socket: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kubelet_extra_args: Option<Args>,
    /// `None` keeps kubeadm's default (none for workers); control nodes always list theirs,
    /// because any list replaces kubeadm's control-plane taint.
    #[serde(skip_serializing_if = "Option::is_none")]
    taints: Option<Vec<Taint>>,
}

#[derive(Debug, Serialize)]
struct Taint {
    key: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'static str>,
    effect: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiEndpoint {
    advertise_address: IpAddr,
    bind_port: u16,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterConfiguration {
    api_version: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_name: Option<String>,
    kubernetes_version: String,
    control_plane_endpoint: String,
    certificates_dir: &'static str,
    networking: Networking,
    api_server: ApiServer,
    etcd: Etcd,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_algorithm: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Networking {
    dns_domain: &'static str,
    pod_subnet: String,
    service_subnet: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiServer {
    #[serde(rename = "certSANs")]
    cert_sans: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
enum Etcd {
    Local(LocalEtcd),
    External(ExternalEtcd),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LocalEtcd {
    data_dir: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalEtcd {
    endpoints: Vec<String>,
    ca_file: String,
    cert_file: String,
    key_file: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct KubeletConfiguration {
    api_version: &'static str,
    kind: &'static str,
    cgroup_driver: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct JoinConfiguration {
    api_version: &'static str,
    kind: &'static str,
    discovery: Discovery,
    node_registration: NodeRegistration,
    #[serde(skip_serializing_if = "Option::is_none")]
    control_plane: Option<JoinControlPlane>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Discovery {
    bootstrap_token: DiscoveryToken,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DiscoveryToken {
    api_server_endpoint: String,
    token: String,
    ca_cert_hashes: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct JoinControlPlane {
    #[serde(rename = "localAPIEndpoint")]
    local_api_endpoint: ApiEndpoint,
    certificate_key: String,
}

/// How a node joins an existing cluster.
#[derive(Debug, Clone)]
pub struct JoinSpec<'a> {
    /// The Kubernetes node name (the VM's host name).
    pub node_name: &'a str,
    /// The API server the node discovers the cluster through: the first control node's guest
    /// address at create time, the cluster endpoint when scaling later.
    pub api_server: IpAddr,
    /// The bootstrap token registered by `kubeadm init`.
    pub token: &'a BootstrapToken,
    /// Set for additional control nodes.
    pub control_plane: Option<ControlPlaneJoin<'a>>,
}

/// The extra inputs of a control-plane join.
#[derive(Debug, Clone)]
pub struct ControlPlaneJoin<'a> {
    /// The joining node's own address; its API server advertises it.
    pub advertise_ip: IpAddr,
    /// Decrypts the certificates `kubeadm init --upload-certs` stored in the cluster.
    pub certificate_key: &'a CertificateKey,
}

/// `InitConfiguration`, `ClusterConfiguration` and `KubeletConfiguration` for the first control
/// node. `certificate_key` is needed when more control nodes will join.
pub fn init_config(
    cluster: &ClusterBootstrap,
    pki: &ClusterPki,
    token: &BootstrapToken,
    certificate_key: Option<&CertificateKey>,
) -> Result<String> {
    let api = cluster.kubernetes_version.kubeadm_api()?;
    let first = cluster.first_control_node()?;
    let init = InitConfiguration {
        api_version: api.api_version(),
        kind: "InitConfiguration",
        bootstrap_tokens: vec![BootstrapTokenSpec {
            token: token.token(),
            description: "cks: joins the cluster's nodes, then expires",
            ttl: token.ttl_go(),
            usages: ["signing", "authentication"],
            groups: ["system:bootstrappers:kubeadm:default-node-token"],
        }],
        node_registration: control_registration(cluster, api, first),
        local_api_endpoint: ApiEndpoint {
            advertise_address: first.ip,
            bind_port: API_SERVER_PORT,
        },
        certificate_key: certificate_key.map(CertificateKey::hex),
    };
    let etcd = if cluster.external_etcd() {
        Etcd::External(ExternalEtcd {
            endpoints: crate::etcd::client_urls(&cluster.etcd_nodes),
            ca_file: format!("{PKI_DIR}/etcd/ca.crt"),
            cert_file: format!("{PKI_DIR}/apiserver-etcd-client.crt"),
            key_file: format!("{PKI_DIR}/apiserver-etcd-client.key"),
        })
    } else {
        Etcd::Local(LocalEtcd {
            data_dir: "/var/lib/etcd",
        })
    };
    let mut cert_sans = vec![cluster.endpoint_ip.to_string()];
    for node in &cluster.control_nodes {
        let ip = node.ip.to_string();
        if !cert_sans.contains(&ip) {
            cert_sans.push(ip);
        }
    }
    let config = ClusterConfiguration {
        api_version: api.api_version(),
        kind: "ClusterConfiguration",
        cluster_name: is_dns_name(&cluster.cluster_name).then(|| cluster.cluster_name.clone()),
        kubernetes_version: cluster.kubernetes_version.tag(),
        control_plane_endpoint: SocketAddr::new(cluster.endpoint_ip, API_SERVER_PORT).to_string(),
        certificates_dir: PKI_DIR,
        networking: Networking {
            dns_domain: DNS_DOMAIN,
            pod_subnet: cluster.pod_cidr.to_string(),
            service_subnet: cluster.service_cidr.to_string(),
        },
        api_server: ApiServer { cert_sans },
        etcd,
        encryption_algorithm: match api {
            KubeadmApi::V1Beta3 => None,
            KubeadmApi::V1Beta4 => pki.key_algorithm.kubeadm_name(),
        },
    };
    let kubelet = KubeletConfiguration {
        api_version: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        cgroup_driver: "systemd",
    };
    Ok(documents(&[
        to_yaml(&init)?,
        to_yaml(&config)?,
        to_yaml(&kubelet)?,
    ]))
}

/// `JoinConfiguration` for an additional control node or a worker. The node verifies the
/// cluster's CA against `ca_cert_hash` (from [`ClusterPki::discovery_hash`]) rather than
/// skipping verification as CKS does.
pub fn join_config(
    cluster: &ClusterBootstrap,
    join: &JoinSpec<'_>,
    ca_cert_hash: &str,
) -> Result<String> {
    let api = cluster.kubernetes_version.kubeadm_api()?;
    let (node_registration, control_plane) = match &join.control_plane {
        Some(cp) => {
            let node = NodeIdentity::new(join.node_name, cp.advertise_ip);
            let control_plane = JoinControlPlane {
                local_api_endpoint: ApiEndpoint {
                    advertise_address: cp.advertise_ip,
                    bind_port: API_SERVER_PORT,
                },
                certificate_key: cp.certificate_key.hex(),
            };
            (
                control_registration(cluster, api, &node),
                Some(control_plane),
            )
        }
        None => (worker_registration(cluster, api, join.node_name), None),
    };
    let doc = JoinConfiguration {
        api_version: api.api_version(),
        kind: "JoinConfiguration",
        discovery: Discovery {
            bootstrap_token: DiscoveryToken {
                api_server_endpoint: SocketAddr::new(join.api_server, API_SERVER_PORT).to_string(),
                token: join.token.token(),
                ca_cert_hashes: vec![ca_cert_hash.to_owned()],
            },
        },
        node_registration,
        control_plane,
    };
    to_yaml(&doc)
}

fn kubelet_args(
    cluster: &ClusterBootstrap,
    api: KubeadmApi,
    node_ip: Option<IpAddr>,
) -> Option<Args> {
    let mut pairs = Vec::new();
    if cluster.cloud_provider.is_some() {
        pairs.push(("cloud-provider", "external".to_owned()));
    }
    if let Some(ip) = node_ip {
        pairs.push(("node-ip", ip.to_string()));
    }
    Args::new(api, pairs)
}

fn uninitialized_taint() -> Taint {
    Taint {
        key: UNINITIALIZED_TAINT,
        value: Some("true"),
        effect: "NoSchedule",
    }
}

/// The control-plane taint kubeadm would apply for this version (renamed from `master` in 1.24).
fn control_plane_taints(version: KubernetesVersion) -> Vec<Taint> {
    let taint = |key| Taint {
        key,
        value: None,
        effect: "NoSchedule",
    };
    if version.at_least(1, 25) {
        vec![taint("node-role.kubernetes.io/control-plane")]
    } else if version.at_least(1, 24) {
        vec![
            taint("node-role.kubernetes.io/master"),
            taint("node-role.kubernetes.io/control-plane"),
        ]
    } else {
        vec![taint("node-role.kubernetes.io/master")]
    }
}

fn control_registration(
    cluster: &ClusterBootstrap,
    api: KubeadmApi,
    node: &NodeIdentity,
) -> NodeRegistration {
    let mut taints = control_plane_taints(cluster.kubernetes_version);
    if cluster.cloud_provider.is_some() {
        taints.push(uninitialized_taint());
    }
    NodeRegistration {
        name: node.name.clone(),
        cri_socket: CRI_SOCKET,
        kubelet_extra_args: kubelet_args(cluster, api, Some(node.ip)),
        taints: Some(taints),
    }
}

fn worker_registration(
    cluster: &ClusterBootstrap,
    api: KubeadmApi,
    name: &str,
) -> NodeRegistration {
    NodeRegistration {
        name: name.to_owned(),
        cri_socket: CRI_SOCKET,
        kubelet_extra_args: kubelet_args(cluster, api, None),
        taints: cluster
            .cloud_provider
            .is_some()
            .then(|| vec![uninitialized_taint()]),
    }
}

fn to_yaml<T: Serialize>(doc: &T) -> Result<String> {
    Ok(serde_saphyr::to_string(doc)?)
}

fn documents(docs: &[String]) -> String {
    docs.join("---\n")
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::cluster::tests::{full_cluster, minimal_cluster};
    use crate::pki::tests::full_pki;

    fn token() -> BootstrapToken {
        BootstrapToken::parse("abcdef.0123456789abcdef", Duration::hours(2)).unwrap()
    }

    fn key() -> CertificateKey {
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
            .parse()
            .unwrap()
    }

    fn docs(text: &str) -> Vec<serde_json::Value> {
        serde_saphyr::from_multiple(text).unwrap()
    }

    #[test]
    fn init_v1beta4_external_etcd_snapshot() {
        let text = init_config(&full_cluster(), full_pki(), &token(), Some(&key())).unwrap();
        insta::assert_snapshot!(text);
        let d = docs(&text);
        assert_eq!(d[0]["apiVersion"], "kubeadm.k8s.io/v1beta4");
        assert_eq!(d[1]["controlPlaneEndpoint"], "203.0.113.10:6443");
        assert_eq!(
            d[1]["etcd"]["external"]["endpoints"][2],
            "https://10.1.1.23:2379"
        );
        assert_eq!(
            d[0]["nodeRegistration"]["kubeletExtraArgs"][0]["name"],
            "cloud-provider"
        );
        assert_eq!(
            d[0]["nodeRegistration"]["kubeletExtraArgs"][0]["value"],
            "external"
        );
        let taints: Vec<&str> = d[0]["nodeRegistration"]["taints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["key"].as_str().unwrap())
            .collect();
        assert_eq!(
            taints,
            ["node-role.kubernetes.io/control-plane", UNINITIALIZED_TAINT]
        );
        assert_eq!(d[2]["cgroupDriver"], "systemd");
    }

    #[test]
    fn init_v1beta3_stacked_etcd_snapshot() {
        let cluster = minimal_cluster();
        let text = init_config(&cluster, full_pki(), &token(), None).unwrap();
        insta::assert_snapshot!(text);
        let d = docs(&text);
        assert_eq!(d[0]["apiVersion"], "kubeadm.k8s.io/v1beta3");
        assert_eq!(
            d[0]["nodeRegistration"]["kubeletExtraArgs"]["node-ip"],
            "10.1.2.10"
        );
        assert!(d[0].get("certificateKey").is_none());
        assert_eq!(d[1]["etcd"]["local"]["dataDir"], "/var/lib/etcd");
        assert_eq!(
            d[1]["apiServer"]["certSANs"].as_array().unwrap().len(),
            1,
            "endpoint = control node: one SAN"
        );
        assert!(
            d[1].get("encryptionAlgorithm").is_none(),
            "v1beta3 has no encryptionAlgorithm"
        );
        assert_eq!(d[1]["networking"]["podSubnet"], "10.244.0.0/16");
        assert_eq!(d[0]["bootstrapTokens"][0]["ttl"], "7200s");
    }

    #[test]
    fn control_plane_join() {
        let cluster = full_cluster();
        let node = &cluster.control_nodes[1];
        let (t, k) = (token(), key());
        let join = JoinSpec {
            node_name: &node.name,
            api_server: cluster.control_nodes[0].ip,
            token: &t,
            control_plane: Some(ControlPlaneJoin {
                advertise_ip: node.ip,
                certificate_key: &k,
            }),
        };
        let text = join_config(&cluster, &join, "sha256:abc").unwrap();
        insta::assert_snapshot!(text);
        let d = docs(&text);
        assert_eq!(
            d[0]["discovery"]["bootstrapToken"]["apiServerEndpoint"],
            "10.1.1.11:6443"
        );
        assert_eq!(
            d[0]["discovery"]["bootstrapToken"]["caCertHashes"][0],
            "sha256:abc"
        );
        assert_eq!(d[0]["controlPlane"]["certificateKey"], k.hex());
        assert_eq!(
            d[0]["controlPlane"]["localAPIEndpoint"]["advertiseAddress"],
            "10.1.1.12"
        );
    }

    #[test]
    fn worker_join_without_cloud_provider_keeps_default_taints() {
        let cluster = minimal_cluster();
        let t = token();
        let join = JoinSpec {
            node_name: "dev-node-1",
            api_server: cluster.endpoint_ip,
            token: &t,
            control_plane: None,
        };
        let d = docs(&join_config(&cluster, &join, "sha256:abc").unwrap());
        assert!(d[0].get("controlPlane").is_none());
        assert!(d[0]["nodeRegistration"].get("taints").is_none());
        assert!(d[0]["nodeRegistration"].get("kubeletExtraArgs").is_none());
    }

    #[test]
    fn worker_join_with_cloud_provider_is_tainted() {
        let cluster = full_cluster();
        let t = token();
        let join = JoinSpec {
            node_name: "prod-eu-node-1",
            api_server: cluster.endpoint_ip,
            token: &t,
            control_plane: None,
        };
        let d = docs(&join_config(&cluster, &join, "sha256:abc").unwrap());
        assert_eq!(
            d[0]["nodeRegistration"]["taints"][0]["key"],
            UNINITIALIZED_TAINT
        );
        assert_eq!(
            d[0]["nodeRegistration"]["kubeletExtraArgs"][0]["value"],
            "external"
        );
    }

    #[test]
    fn control_plane_taint_follows_the_rename() {
        let keys = |v: &str| {
            control_plane_taints(v.parse().unwrap())
                .iter()
                .map(|t| t.key)
                .collect::<Vec<_>>()
        };
        assert_eq!(keys("1.23.0"), ["node-role.kubernetes.io/master"]);
        assert_eq!(keys("1.24.3").len(), 2);
        assert_eq!(keys("1.25.0"), ["node-role.kubernetes.io/control-plane"]);
    }
}
