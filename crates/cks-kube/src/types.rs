//! What the client returns: the few fields of Kubernetes objects cks decides on, read from the
//! API's JSON (unknown fields ignored).

use serde::Deserialize;

/// `/version`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    /// `1`.
    pub major: String,
    /// `32`.
    pub minor: String,
    /// `v1.32.4`.
    pub git_version: String,
    /// `linux/amd64`.
    #[serde(default)]
    pub platform: String,
}

/// A node, as `kubectl get nodes` summarizes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The node name (the VM's host name).
    pub name: String,
    /// The `Ready` condition is `True`.
    pub ready: bool,
    /// From `node-role.kubernetes.io/<role>` labels, e.g. `control-plane`; empty for workers.
    pub roles: Vec<String>,
    /// `status.nodeInfo.kubeletVersion`, e.g. `v1.32.4`.
    pub kubelet_version: String,
    /// Cordoned.
    pub unschedulable: bool,
    /// The `InternalIP` address.
    pub internal_ip: Option<String>,
}

/// A pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// `None` while pending.
    pub node_name: Option<String>,
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    pub phase: String,
    /// The kind of its controller (`ReplicaSet`, `DaemonSet`, `Node` for static pods...).
    pub owner_kind: Option<String>,
    /// A static pod's mirror (`kubernetes.io/config.mirror`): the kubelet runs it from a file.
    pub mirror: bool,
}

impl Pod {
    /// What `kubectl drain` evicts: neither DaemonSet pods nor static pods.
    pub fn evictable(&self) -> bool {
        !self.mirror && !matches!(self.owner_kind.as_deref(), Some("DaemonSet" | "Node"))
    }
}

// === Wire shapes ===

#[derive(Debug, Deserialize)]
pub(crate) struct List<T> {
    #[serde(default = "Vec::new")]
    pub(crate) items: Vec<T>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Metadata {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    #[serde(default)]
    pub(crate) labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) annotations: std::collections::BTreeMap<String, String>,
    #[serde(default, rename = "ownerReferences")]
    pub(crate) owner_references: Vec<OwnerReference>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OwnerReference {
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) controller: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct NodeObject {
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    spec: NodeSpec,
    #[serde(default)]
    status: NodeStatus,
}

#[derive(Debug, Default, Deserialize)]
struct NodeSpec {
    #[serde(default)]
    unschedulable: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeStatus {
    #[serde(default)]
    conditions: Vec<Condition>,
    #[serde(default)]
    addresses: Vec<Address>,
    #[serde(default)]
    node_info: NodeInfo,
}

#[derive(Debug, Deserialize)]
struct Condition {
    #[serde(rename = "type")]
    kind: String,
    status: String,
}

#[derive(Debug, Deserialize)]
struct Address {
    #[serde(rename = "type")]
    kind: String,
    address: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeInfo {
    #[serde(default)]
    kubelet_version: String,
}

impl From<NodeObject> for Node {
    fn from(n: NodeObject) -> Node {
        let roles = n
            .metadata
            .labels
            .keys()
            .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect();
        Node {
            ready: n
                .status
                .conditions
                .iter()
                .any(|c| c.kind == "Ready" && c.status == "True"),
            roles,
            kubelet_version: n.status.node_info.kubelet_version,
            unschedulable: n.spec.unschedulable,
            internal_ip: n
                .status
                .addresses
                .into_iter()
                .find(|a| a.kind == "InternalIP")
                .map(|a| a.address),
            name: n.metadata.name,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct PodObject {
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    spec: PodSpec,
    #[serde(default)]
    status: PodStatus,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    #[serde(default)]
    node_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct PodStatus {
    #[serde(default)]
    phase: String,
}

impl From<PodObject> for Pod {
    fn from(p: PodObject) -> Pod {
        let owner = p
            .metadata
            .owner_references
            .iter()
            .find(|o| o.controller == Some(true))
            .or(p.metadata.owner_references.first())
            .map(|o| o.kind.clone());
        Pod {
            mirror: p
                .metadata
                .annotations
                .contains_key("kubernetes.io/config.mirror"),
            namespace: p.metadata.namespace.unwrap_or_default(),
            name: p.metadata.name,
            node_name: p.spec.node_name.filter(|n| !n.is_empty()),
            phase: p.status.phase,
            owner_kind: owner,
        }
    }
}
