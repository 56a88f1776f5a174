//! The Kubernetes objects a simulated cluster shows, in the API's JSON shapes: nodes, the pods
//! a kubeadm cluster with the dashboard runs, namespaces, and `meta.k8s.io/v1` tables of them
//! (what `kubectl get` asks for), plus `Status` errors, selectors and discovery documents.
//!
//! Everything here is a pure function of a `ClusterView` snapshot and the current time.
//! Pods are derived, not stored: static control-plane pods on control nodes, kube-proxy on
//! every node, two CoreDNS replicas and the dashboard on ready nodes that are not drained. A
//! controller's pod is named after the node it runs on, so a drained pod is gone (404) and its
//! replacement elsewhere has a new name, as kubectl and the service expect.

use std::net::Ipv4Addr;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A cluster as its API server reports it.
#[derive(Debug, Clone)]
pub(crate) struct ClusterView {
    pub(crate) id: String,
    /// The API server's version, `1.32.4`.
    pub(crate) version: String,
    pub(crate) created: i64,
    /// Registered nodes, by name.
    pub(crate) nodes: Vec<NodeView>,
}

#[derive(Debug, Clone)]
pub(crate) struct NodeView {
    pub(crate) name: String,
    /// The VM id.
    pub(crate) uid: String,
    pub(crate) control: bool,
    /// The VM is running.
    pub(crate) ready: bool,
    pub(crate) unschedulable: bool,
    /// Cordoned and drained: controllers place no pods here.
    pub(crate) drained: bool,
    pub(crate) version: String,
    pub(crate) ip: Option<Ipv4Addr>,
    pub(crate) created: i64,
}

pub(crate) const NAMESPACES: [&str; 5] = [
    "default",
    "kube-node-lease",
    "kube-public",
    "kube-system",
    "kubernetes-dashboard",
];

/// RFC 3339 in UTC, as `creationTimestamp` is written.
pub(crate) fn timestamp(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// apimachinery's `duration.HumanDuration`, which the API server's AGE column uses.
pub(crate) fn human_age(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let seconds = seconds.max(0);
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    let years = hours / 24 / 365;
    match (hours / 24) % 365 {
        0 => format!("{years}y"),
        d if years < 8 => format!("{years}y{d}d"),
        _ => format!("{years}y"),
    }
}

/// Short stable suffixes, like the ones controllers append to generated names.
fn suffix(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..len)
        .map(|i| {
            let v = (h >> ((i * 5) % 60)) as usize;
            ALPHABET[v % ALPHABET.len()] as char
        })
        .collect()
}

// === Discovery ===

pub(crate) fn version(version: &str) -> Value {
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or("1");
    let minor = parts.next().unwrap_or("0");
    json!({
        "major": major,
        "minor": minor,
        "gitVersion": format!("v{version}"),
        "gitCommit": "0123456789abcdef0123456789abcdef01234567",
        "gitTreeState": "clean",
        "buildDate": "2025-04-22T16:03:29Z",
        "goVersion": "go1.23.8",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub(crate) fn api_versions(endpoint: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": endpoint}]
    })
}

pub(crate) fn api_groups() -> Value {
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
}

pub(crate) fn api_resources() -> Value {
    let verbs = |list: &[&str]| json!(list);
    json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {"name": "namespaces", "singularName": "namespace", "namespaced": false, "kind": "Namespace",
             "verbs": verbs(&["get", "list"]), "shortNames": ["ns"]},
            {"name": "nodes", "singularName": "node", "namespaced": false, "kind": "Node",
             "verbs": verbs(&["delete", "get", "list", "patch"]), "shortNames": ["no"]},
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod",
             "verbs": verbs(&["delete", "get", "list"]), "shortNames": ["po"], "categories": ["all"]},
            {"name": "pods/eviction", "singularName": "", "namespaced": true, "group": "policy",
             "version": "v1", "kind": "Eviction", "verbs": verbs(&["create"])}
        ]
    })
}

// === Errors ===

pub(crate) fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code
    })
}

pub(crate) fn not_found(kind: &str, name: &str) -> Value {
    let mut res = status(404, "NotFound", &format!("{kind} \"{name}\" not found"));
    res["details"] = json!({"name": name, "kind": kind});
    res
}

// === Selectors ===

/// One `key=value`, `key!=value`, `key` or `!key` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Term {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
}

/// Parses a field or label selector of equality terms. Set-based terms (`in`, `notin`) are
/// refused.
pub(crate) fn parse_selector(text: &str) -> Result<Vec<Term>, String> {
    let mut res = Vec::new();
    for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if term.contains('(') || term.contains(' ') {
            return Err(format!("unsupported selector term {term:?}"));
        }
        let parsed = if let Some((k, v)) = term.split_once("!=") {
            Term::NotEquals(k.into(), v.into())
        } else if let Some((k, v)) = term.split_once("==") {
            Term::Equals(k.into(), v.into())
        } else if let Some((k, v)) = term.split_once('=') {
            Term::Equals(k.into(), v.into())
        } else if let Some(k) = term.strip_prefix('!') {
            Term::Absent(k.into())
        } else {
            Term::Exists(term.into())
        };
        res.push(parsed);
    }
    Ok(res)
}

/// Do the terms hold, looking values up with `get`?
pub(crate) fn matches<'a>(terms: &[Term], get: impl Fn(&str) -> Option<&'a str>) -> bool {
    terms.iter().all(|t| match t {
        Term::Equals(k, v) => get(k) == Some(v.as_str()),
        Term::NotEquals(k, v) => get(k) != Some(v.as_str()),
        Term::Exists(k) => get(k).is_some(),
        Term::Absent(k) => get(k).is_none(),
    })
}

// === Nodes ===

pub(crate) fn node_labels(node: &NodeView) -> Vec<(&'static str, String)> {
    let mut labels = vec![
        ("beta.kubernetes.io/arch", "amd64".to_string()),
        ("beta.kubernetes.io/os", "linux".to_string()),
        ("kubernetes.io/arch", "amd64".to_string()),
        ("kubernetes.io/hostname", node.name.clone()),
        ("kubernetes.io/os", "linux".to_string()),
    ];
    if node.control {
        labels.push(("node-role.kubernetes.io/control-plane", String::new()));
        labels.push((
            "node.kubernetes.io/exclude-from-external-load-balancers",
            String::new(),
        ));
    }
    labels
}

fn node_status(node: &NodeView) -> String {
    let mut status = match node.ready {
        true => "Ready".to_string(),
        false => "NotReady".to_string(),
    };
    if node.unschedulable {
        status.push_str(",SchedulingDisabled");
    }
    status
}

fn node_metadata(node: &NodeView) -> Value {
    let labels: serde_json::Map<String, Value> = node_labels(node)
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    json!({
        "name": node.name,
        "uid": node.uid,
        "resourceVersion": node.created.to_string(),
        "creationTimestamp": timestamp(node.created),
        "labels": labels,
        "annotations": {
            "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true"
        }
    })
}

pub(crate) fn node(node: &NodeView, index: usize, now: i64) -> Value {
    let mut taints = Vec::new();
    if node.control {
        taints
            .push(json!({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}));
    }
    if node.unschedulable {
        taints.push(
            json!({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                           "timeAdded": timestamp(now)}),
        );
    }
    if !node.ready {
        taints.push(json!({"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}));
    }
    let mut spec = json!({"podCIDR": format!("10.244.{index}.0/24"), "podCIDRs": [format!("10.244.{index}.0/24")]});
    if node.unschedulable {
        spec["unschedulable"] = json!(true);
    }
    if !taints.is_empty() {
        spec["taints"] = json!(taints);
    }
    let ready = match node.ready {
        true => json!({"type": "Ready", "status": "True", "reason": "KubeletReady",
                       "message": "kubelet is posting ready status"}),
        false => json!({"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                        "message": "Kubelet stopped posting node status."}),
    };
    let mut ready = ready;
    ready["lastHeartbeatTime"] = json!(timestamp(now));
    ready["lastTransitionTime"] = json!(timestamp(node.created));
    let mut addresses = Vec::new();
    if let Some(ip) = node.ip {
        addresses.push(json!({"type": "InternalIP", "address": ip.to_string()}));
    }
    addresses.push(json!({"type": "Hostname", "address": node.name}));
    json!({
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": node_metadata(node),
        "spec": spec,
        "status": {
            "capacity": {"cpu": "2", "memory": "2030940Ki", "pods": "110", "ephemeral-storage": "8046560Ki"},
            "allocatable": {"cpu": "2", "memory": "1928540Ki", "pods": "110", "ephemeral-storage": "7415729271"},
            "conditions": [ready],
            "addresses": addresses,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": node.uid.replace('-', ""),
                "systemUUID": node.uid,
                "bootID": node.uid,
                "kernelVersion": "6.8.0-60-generic",
                "osImage": "Ubuntu 24.04.2 LTS",
                "containerRuntimeVersion": "containerd://1.7.27",
                "kubeletVersion": format!("v{}", node.version),
                "kubeProxyVersion": format!("v{}", node.version),
                "operatingSystem": "linux",
                "architecture": "amd64"
            }
        }
    })
}

/// Field values of a node for `fieldSelector`.
pub(crate) fn node_field<'a>(node: &'a NodeView, field: &str) -> Option<&'a str> {
    match field {
        "metadata.name" => Some(&node.name),
        "spec.unschedulable" => Some(if node.unschedulable { "true" } else { "false" }),
        _ => None,
    }
}

pub(crate) const NODE_FIELDS: [&str; 2] = ["metadata.name", "spec.unschedulable"];

pub(crate) fn node_list(nodes: &[(usize, &NodeView)], now: i64) -> Value {
    json!({
        "kind": "NodeList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": now.to_string()},
        "items": nodes.iter().map(|(i, n)| node(n, *i, now)).collect::<Vec<Value>>()
    })
}

fn column(name: &str, kind: &str, priority: u8, description: &str) -> Value {
    let format = if name == "Name" { "name" } else { "" };
    json!({"name": name, "type": kind, "format": format, "description": description, "priority": priority})
}

fn table(columns: Vec<Value>, rows: Vec<(Vec<Value>, Value)>, now: i64) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": now.to_string()},
        "columnDefinitions": columns,
        "rows": rows.into_iter().map(|(cells, metadata)| json!({
            "cells": cells,
            "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}
        })).collect::<Vec<Value>>()
    })
}

pub(crate) fn node_table(nodes: &[(usize, &NodeView)], now: i64) -> Value {
    let columns = vec![
        column(
            "Name",
            "string",
            0,
            "Name must be unique within a namespace.",
        ),
        column("Status", "string", 0, "The status of the node"),
        column("Roles", "string", 0, "The roles of the node"),
        column(
            "Age",
            "string",
            0,
            "CreationTimestamp is a timestamp representing the server time when this object was created.",
        ),
        column(
            "Version",
            "string",
            0,
            "Kubelet Version reported by the node.",
        ),
        column(
            "Internal-IP",
            "string",
            1,
            "List of addresses reachable to the node. Queried from cloud provider, if available.",
        ),
        column(
            "External-IP",
            "string",
            1,
            "List of addresses reachable to the node. Queried from cloud provider, if available.",
        ),
        column(
            "OS-Image",
            "string",
            1,
            "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
        ),
        column(
            "Kernel-Version",
            "string",
            1,
            "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        ),
        column(
            "Container-Runtime",
            "string",
            1,
            "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
        ),
    ];
    let rows = nodes
        .iter()
        .map(|(_, n)| {
            let roles = if n.control { "control-plane" } else { "<none>" };
            let cells = vec![
                json!(n.name),
                json!(node_status(n)),
                json!(roles),
                json!(human_age(now - n.created)),
                json!(format!("v{}", n.version)),
                json!(
                    n.ip.map(|ip| ip.to_string())
                        .unwrap_or_else(|| "<none>".into())
                ),
                json!("<none>"),
                json!("Ubuntu 24.04.2 LTS"),
                json!("6.8.0-60-generic"),
                json!("containerd://1.7.27"),
            ];
            (cells, node_metadata(n))
        })
        .collect();
    table(columns, rows, now)
}

// === Namespaces ===

fn namespace_metadata(name: &str, created: i64) -> Value {
    json!({
        "name": name,
        "uid": format!("{}-{}", suffix(name, 8), suffix(&format!("{name}/ns"), 4)),
        "resourceVersion": created.to_string(),
        "creationTimestamp": timestamp(created),
        "labels": {"kubernetes.io/metadata.name": name}
    })
}

pub(crate) fn namespace(name: &str, created: i64) -> Value {
    json!({
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": namespace_metadata(name, created),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"}
    })
}

pub(crate) fn namespace_list(created: i64, now: i64) -> Value {
    json!({
        "kind": "NamespaceList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": now.to_string()},
        "items": NAMESPACES.iter().map(|n| namespace(n, created)).collect::<Vec<Value>>()
    })
}

pub(crate) fn namespace_table(created: i64, now: i64) -> Value {
    let columns = vec![
        column(
            "Name",
            "string",
            0,
            "Name must be unique within a namespace.",
        ),
        column("Status", "string", 0, "The status of the namespace"),
        column(
            "Age",
            "string",
            0,
            "CreationTimestamp is a timestamp representing the server time when this object was created.",
        ),
    ];
    let rows = NAMESPACES
        .iter()
        .map(|n| {
            let cells = vec![json!(n), json!("Active"), json!(human_age(now - created))];
            (cells, namespace_metadata(n, created))
        })
        .collect();
    table(columns, rows, now)
}

// === Pods ===

/// A pod the simulated cluster runs.
#[derive(Debug, Clone)]
pub(crate) struct PodView {
    pub(crate) namespace: &'static str,
    pub(crate) name: String,
    /// Empty while pending (no node to run on).
    pub(crate) node: String,
    /// The node's uid (its VM id), empty while pending.
    pub(crate) node_uid: String,
    pub(crate) labels: Vec<(&'static str, String)>,
    /// (apiVersion, kind, name) of the controller.
    pub(crate) owner: (&'static str, &'static str, String),
    pub(crate) image: String,
    pub(crate) host_network: bool,
    pub(crate) ip: Option<Ipv4Addr>,
    pub(crate) running: bool,
    pub(crate) created: i64,
}

impl PodView {
    /// Field values for `fieldSelector`.
    pub(crate) fn field(&self, field: &str) -> Option<&str> {
        match field {
            "metadata.name" => Some(&self.name),
            "metadata.namespace" => Some(self.namespace),
            "spec.nodeName" => Some(&self.node),
            "status.phase" => Some(self.phase()),
            _ => None,
        }
    }

    pub(crate) fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Run by a controller that re-creates it elsewhere (not a DaemonSet or static pod).
    pub(crate) fn evictable(&self) -> bool {
        self.owner.1 == "ReplicaSet"
    }

    fn phase(&self) -> &'static str {
        match (self.node.is_empty(), self.running) {
            (true, _) => "Pending",
            (false, true) => "Running",
            (false, false) => "Unknown",
        }
    }
}

pub(crate) const POD_FIELDS: [&str; 4] = [
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "status.phase",
];

/// The pods of a kubeadm cluster with the dashboard, placed on its nodes.
pub(crate) fn pods(cluster: &ClusterView) -> Vec<PodView> {
    let mut res = Vec::new();
    let k8s = &cluster.version;
    let tag = suffix(&cluster.id, 10);
    for node in &cluster.nodes {
        if node.control {
            for (component, image) in [
                ("etcd", "registry.k8s.io/etcd:3.5.16-0".to_string()),
                (
                    "kube-apiserver",
                    format!("registry.k8s.io/kube-apiserver:v{k8s}"),
                ),
                (
                    "kube-controller-manager",
                    format!("registry.k8s.io/kube-controller-manager:v{k8s}"),
                ),
                (
                    "kube-scheduler",
                    format!("registry.k8s.io/kube-scheduler:v{k8s}"),
                ),
            ] {
                res.push(PodView {
                    namespace: "kube-system",
                    name: format!("{component}-{}", node.name),
                    node: node.name.clone(),
                    node_uid: node.uid.clone(),
                    labels: vec![
                        ("component", component.to_string()),
                        ("tier", "control-plane".into()),
                    ],
                    owner: ("v1", "Node", node.name.clone()),
                    image,
                    host_network: true,
                    ip: node.ip,
                    running: node.ready,
                    created: node.created,
                });
            }
        }
        res.push(PodView {
            namespace: "kube-system",
            name: format!(
                "kube-proxy-{}",
                suffix(&format!("{}/kube-proxy", node.uid), 5)
            ),
            node: node.name.clone(),
            node_uid: node.uid.clone(),
            labels: vec![
                ("k8s-app", "kube-proxy".into()),
                ("pod-template-generation", "1".into()),
            ],
            owner: ("apps/v1", "DaemonSet", "kube-proxy".into()),
            image: format!("registry.k8s.io/kube-proxy:v{}", node.version),
            host_network: true,
            ip: node.ip,
            running: node.ready,
            created: node.created,
        });
    }
    let schedulable: Vec<(usize, &NodeView)> = cluster
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.ready && !n.drained)
        .collect();
    let mut deployment = |namespace: &'static str,
                          name: &str,
                          app: &str,
                          image: &str,
                          replica: usize,
                          hosts: &[(usize, &NodeView)]| {
        let rs = format!("{name}-{tag}");
        let host = match hosts.len() {
            0 => None,
            n => Some(hosts[replica % n]),
        };
        let host_uid = host.map(|(_, n)| n.uid.clone()).unwrap_or_default();
        res.push(PodView {
            namespace,
            name: format!(
                "{rs}-{}",
                suffix(&format!("{name}/{replica}/{host_uid}"), 5)
            ),
            node: host.map(|(_, n)| n.name.clone()).unwrap_or_default(),
            node_uid: host_uid,
            labels: vec![
                ("k8s-app", app.to_string()),
                ("pod-template-hash", tag.clone()),
            ],
            owner: ("apps/v1", "ReplicaSet", rs),
            image: image.to_string(),
            host_network: false,
            ip: host.map(|(i, _)| Ipv4Addr::new(10, 244, i as u8, 2 + replica as u8)),
            running: host.is_some(),
            created: cluster.created,
        });
    };
    // CoreDNS tolerates the control-plane taint; the dashboard prefers workers.
    let mut dns_hosts = schedulable.clone();
    dns_hosts.sort_by_key(|(_, n)| !n.control);
    for replica in 0..2 {
        deployment(
            "kube-system",
            "coredns",
            "kube-dns",
            "registry.k8s.io/coredns/coredns:v1.11.3",
            replica,
            &dns_hosts,
        );
    }
    let workers: Vec<(usize, &NodeView)> = schedulable
        .iter()
        .copied()
        .filter(|(_, n)| !n.control)
        .collect();
    let dashboard_hosts = if workers.is_empty() {
        &schedulable
    } else {
        &workers
    };
    deployment(
        "kubernetes-dashboard",
        "kubernetes-dashboard",
        "kubernetes-dashboard",
        "kubernetesui/dashboard:v2.7.0",
        0,
        dashboard_hosts,
    );
    res.sort_by(|a, b| (a.namespace, &a.name).cmp(&(b.namespace, &b.name)));
    res
}

fn pod_metadata(pod: &PodView) -> Value {
    let labels: serde_json::Map<String, Value> = pod
        .labels
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
        .collect();
    let (api_version, kind, name) = &pod.owner;
    let mut metadata = json!({
        "name": pod.name,
        "namespace": pod.namespace,
        "uid": format!("{}-{}", suffix(&pod.name, 8), suffix(&format!("{}/pod", pod.name), 12)),
        "resourceVersion": pod.created.to_string(),
        "creationTimestamp": timestamp(pod.created),
        "labels": labels,
        "ownerReferences": [{"apiVersion": api_version, "kind": kind, "name": name,
                             "uid": suffix(name, 12), "controller": true}]
    });
    if *kind == "Node" {
        metadata["annotations"] = json!({"kubernetes.io/config.mirror": suffix(&pod.name, 16),
                                         "kubernetes.io/config.source": "file"});
    }
    metadata
}

pub(crate) fn pod(pod: &PodView) -> Value {
    let container = pod
        .labels
        .first()
        .map(|(_, v)| v.as_str())
        .unwrap_or("main");
    let mut status = json!({
        "phase": pod.phase(),
        "conditions": [{"type": "Ready", "status": if pod.running { "True" } else { "False" }}],
        "containerStatuses": [{
            "name": container, "image": pod.image, "imageID": "", "ready": pod.running, "restartCount": 0,
            "started": pod.running,
            "state": if pod.running { json!({"running": {"startedAt": timestamp(pod.created)}}) } else { json!({"waiting": {}}) }
        }],
        "qosClass": "Burstable"
    });
    if let Some(ip) = pod.ip.filter(|_| !pod.node.is_empty()) {
        status["podIP"] = json!(ip.to_string());
        status["podIPs"] = json!([{"ip": ip.to_string()}]);
        status["startTime"] = json!(timestamp(pod.created));
    }
    let mut spec = json!({
        "containers": [{"name": container, "image": pod.image}],
        "hostNetwork": pod.host_network,
        "priorityClassName": if pod.namespace == "kube-system" { "system-node-critical" } else { "" }
    });
    if !pod.node.is_empty() {
        spec["nodeName"] = json!(pod.node);
    }
    json!({"kind": "Pod", "apiVersion": "v1", "metadata": pod_metadata(pod), "spec": spec, "status": status})
}

pub(crate) fn pod_list(pods: &[&PodView], now: i64) -> Value {
    json!({
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": now.to_string()},
        "items": pods.iter().map(|p| pod(p)).collect::<Vec<Value>>()
    })
}

pub(crate) fn pod_table(pods: &[&PodView], now: i64) -> Value {
    let columns = vec![
        column(
            "Name",
            "string",
            0,
            "Name must be unique within a namespace.",
        ),
        column(
            "Ready",
            "string",
            0,
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        column(
            "Status",
            "string",
            0,
            "The aggregate status of the containers in this pod.",
        ),
        column(
            "Restarts",
            "string",
            0,
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        column(
            "Age",
            "string",
            0,
            "CreationTimestamp is a timestamp representing the server time when this object was created.",
        ),
        column(
            "IP",
            "string",
            1,
            "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        ),
        column(
            "Node",
            "string",
            1,
            "NodeName is a request to schedule this pod onto a specific node.",
        ),
        column(
            "Nominated Node",
            "string",
            1,
            "nominatedNodeName is set only when this pod preempts other pods on the node.",
        ),
        column(
            "Readiness Gates",
            "string",
            1,
            "If specified, all readiness gates will be evaluated for pod readiness.",
        ),
    ];
    let rows = pods
        .iter()
        .map(|p| {
            let ip = p.ip.filter(|_| !p.node.is_empty());
            let cells = vec![
                json!(p.name),
                json!(if p.running { "1/1" } else { "0/1" }),
                json!(p.phase()),
                json!(0),
                json!(human_age(now - p.created)),
                json!(
                    ip.map(|ip| ip.to_string())
                        .unwrap_or_else(|| "<none>".into())
                ),
                json!(if p.node.is_empty() {
                    "<none>"
                } else {
                    p.node.as_str()
                }),
                json!("<none>"),
                json!("<none>"),
            ];
            (cells, pod_metadata(p))
        })
        .collect();
    table(columns, rows, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl_prints_them() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (30 * 3600, "30h"),
            (3 * 86400 + 3600, "3d1h"),
            (20 * 86400, "20d"),
        ];
        for (secs, text) in cases {
            assert_eq!(human_age(secs), text, "{secs}");
        }
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn selectors_of_equality_terms() {
        let terms = parse_selector("spec.nodeName=n1,k8s-app!=kube-proxy,tier,!gone").unwrap();
        let values = |k: &str| match k {
            "spec.nodeName" => Some("n1"),
            "k8s-app" => Some("kube-dns"),
            "tier" => Some(""),
            _ => None,
        };
        assert!(matches(&terms, values));
        assert!(!matches(
            &parse_selector("spec.nodeName==n2").unwrap(),
            values
        ));
        assert!(parse_selector("env in (a,b)").is_err());
    }

    fn view() -> ClusterView {
        let node = |name: &str, control: bool, ready: bool| NodeView {
            name: name.into(),
            uid: format!("uid-{name}"),
            control,
            ready,
            unschedulable: false,
            drained: false,
            version: "1.32.4".into(),
            ip: Some(Ipv4Addr::new(10, 1, 1, 10)),
            created: 100,
        };
        ClusterView {
            id: "c1".into(),
            version: "1.32.4".into(),
            created: 100,
            nodes: vec![
                node("c-control-1", true, true),
                node("c-node-1", false, true),
            ],
        }
    }

    #[test]
    fn a_cluster_runs_the_kubeadm_pods_and_the_dashboard_on_a_worker() {
        let pods = pods(&view());
        let on = |prefix: &str| {
            pods.iter()
                .filter(|p| p.name.starts_with(prefix))
                .map(|p| p.node.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(on("kube-apiserver-"), ["c-control-1"]);
        assert_eq!(on("kube-proxy-").len(), 2);
        assert_eq!(on("coredns-").len(), 2);
        assert_eq!(on("kubernetes-dashboard-"), ["c-node-1"]);
        assert!(pods.iter().all(|p| p.running));
    }

    #[test]
    fn a_drained_node_runs_only_its_daemons_and_static_pods() {
        let mut cluster = view();
        let before = pods(&cluster);
        cluster.nodes[1].unschedulable = true;
        assert_eq!(
            pods(&cluster).iter().map(|p| &p.name).collect::<Vec<_>>(),
            before.iter().map(|p| &p.name).collect::<Vec<_>>(),
            "a cordon moves nothing"
        );
        cluster.nodes[1].drained = true;
        let after = pods(&cluster);
        let dashboard = after
            .iter()
            .find(|p| p.name.starts_with("kubernetes-dashboard-"))
            .unwrap();
        assert_eq!(dashboard.node, "c-control-1");
        assert!(
            !before.iter().any(|p| p.name == dashboard.name),
            "a new pod, a new name"
        );
        assert!(
            after
                .iter()
                .filter(|p| p.node == "c-node-1")
                .all(|p| !p.evictable())
        );
    }
}
