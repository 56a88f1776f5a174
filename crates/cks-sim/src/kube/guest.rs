//! The guest agent: what a simulated VM does with the user data cks-bootstrap renders, as if it
//! booted it with cloud-init and ran `cks-install` and `cks-kubeadm`.
//!
//! A VM becomes an *installed node* once it is `Running` with user data whose `write_files`
//! hold `/etc/cks/node.env` (a cks node) and a `Ready` ISO attached (the binaries), after
//! `Timings::node_install`. What it installed is a `GuestNode` record, stored with the inventory
//! so a reopened simulator finds it again; an installed node stays installed through stops and
//! starts and without its ISO.
//!
//! * `control-init` founds a simulated Kubernetes cluster (`KubeCluster`, keyed by the VM id)
//!   with the API server certificate, key and CA from its user data.
//! * `control-join` and `worker` join the cluster whose API server `CKS_API_SERVER` names: the
//!   guest IP of a running control node in one of their networks, or a public IP whose rule
//!   forwards that port to one (the cluster endpoint, used when scaling). Until that API server
//!   is up they wait, as kubeadm retries, and join as soon as it is.
//! * `etcd` nodes install but are not Kubernetes nodes.
//!
//! Only small facts are kept (role, version, API server, cluster, the certificates of the
//! founder): user data is parsed when a VM installs and then dropped.
//!
//! Everything here is a function of the inventory, run inside a simulator mutation: `react`
//! looks at what the mutation touched, installs what is due now, and says what to schedule.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::net::{Ipv4Addr, SocketAddrV4};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use cks_core::iaas::{Iso, PublicIp, ResourceKind, Vm, VmState};
use cks_core::version::SemanticVersion;
use serde::{Deserialize, Serialize};

use crate::inventory::{Inventory, Kind, RecordType, Stored};
use crate::kube::endpoints;
use crate::routing;
use cks_cloud::CloudError;

/// The port every API server listens on, on its node and on the cluster endpoint.
pub(crate) const API_SERVER_PORT: u16 = 6443;
const NODE_ENV: &str = "/etc/cks/node.env";
const PKI_DIR: &str = "/etc/kubernetes/pki";
/// The node script `run_on_node` understands.
pub(crate) const UPGRADE_SCRIPT: &str = "/opt/cks/bin/cks-upgrade";

/// `CKS_ROLE` in `/etc/cks/node.env`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum NodeRole {
    ControlInit,
    ControlJoin,
    Worker,
    Etcd,
}

impl NodeRole {
    fn parse(text: &str) -> Option<NodeRole> {
        match text {
            "control-init" => Some(NodeRole::ControlInit),
            "control-join" => Some(NodeRole::ControlJoin),
            "worker" => Some(NodeRole::Worker),
            "etcd" => Some(NodeRole::Etcd),
            _ => None,
        }
    }

    pub(crate) fn is_control(self) -> bool {
        matches!(self, NodeRole::ControlInit | NodeRole::ControlJoin)
    }

    fn joins(self) -> bool {
        matches!(self, NodeRole::ControlJoin | NodeRole::Worker)
    }
}

/// What a VM's guest installed. Keyed by the VM id; removed with the VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GuestNode {
    /// The VM id.
    pub(crate) id: String,
    pub(crate) role: NodeRole,
    /// The kubelet's version, `1.32.4` (no `v`).
    pub(crate) version: String,
    /// `CKS_API_SERVER` of joining nodes.
    #[serde(default)]
    pub(crate) api_server: Option<String>,
    /// The cluster the node belongs to; `None` while a joining node waits for its API server.
    #[serde(default)]
    pub(crate) cluster_id: Option<String>,
    /// Cordoned.
    #[serde(default)]
    pub(crate) unschedulable: bool,
    /// Cordoned and its pods evicted (drained): controllers run their pods elsewhere until the
    /// node is uncordoned. A cordon alone leaves running pods where they are.
    #[serde(default)]
    pub(crate) drained: bool,
    /// Removed with `kubectl delete node`: a deleted node's kubelet does not register again.
    #[serde(default)]
    pub(crate) deleted: bool,
    /// When the node registered with its cluster (its `creationTimestamp`).
    #[serde(default)]
    pub(crate) joined: Option<i64>,
    /// When the node finished installing.
    pub(crate) created: i64,
}

impl RecordType for GuestNode {
    const NAME: &'static str = "sim.guestnode";
    fn record_id(&self) -> &str {
        &self.id
    }
    fn record_created(&self) -> i64 {
        self.created
    }
}

impl RecordType for KubeCluster {
    const NAME: &'static str = "sim.kubecluster";
    fn record_id(&self) -> &str {
        &self.id
    }
    fn record_created(&self) -> i64 {
        self.created
    }
}

/// Has the VM's guest installed its user data (so the inventory need not keep it in memory)?
pub(crate) fn consumed_user_data(inv: &Inventory, vm_id: &str) -> bool {
    inv.get::<GuestNode>(vm_id).is_some()
}

/// Does a change of this kind concern a VM (by its id): the VM itself, or what its guest installed?
pub(crate) fn touches_vm(kind: Kind) -> bool {
    kind == Kind::Noun(ResourceKind::Vm) || kind == GuestNode::KIND
}

impl GuestNode {
    /// A registered member of `cluster_id`.
    pub(crate) fn member_of(&self, cluster_id: &str) -> bool {
        !self.deleted && self.cluster_id.as_deref() == Some(cluster_id)
    }

    fn waits(&self) -> bool {
        self.role.joins() && self.cluster_id.is_none() && !self.deleted
    }
}

/// A simulated Kubernetes cluster, founded by a `control-init` node (whose VM id is its id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KubeCluster {
    pub(crate) id: String,
    /// The API server's version: the founder's, which `kubeadm upgrade apply` moves.
    pub(crate) version: String,
    /// `ca.crt`: signs client certificates the API server accepts.
    pub(crate) ca_pem: String,
    /// `apiserver.crt` and `apiserver.key`: what the endpoint presents.
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    pub(crate) created: i64,
}

/// What a node's user data says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeFacts {
    pub(crate) role: NodeRole,
    pub(crate) version: String,
    pub(crate) api_server: Option<SocketAddrV4>,
    /// `ca.crt`, `apiserver.crt`, `apiserver.key` of a `control-init` node.
    pub(crate) pki: Option<(String, String, String)>,
}

#[derive(Debug, Deserialize)]
struct CloudConfigDoc {
    #[serde(default)]
    write_files: Vec<WriteFileDoc>,
}

#[derive(Debug, Deserialize)]
struct WriteFileDoc {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

/// Reads a node's base64 user data. `Err` says why it is not a cks node.
pub(crate) fn parse_user_data(user_data: &str) -> Result<NodeFacts, String> {
    let mut bytes = B64
        .decode(user_data.trim())
        .map_err(|_| "user data is not base64".to_string())?;
    // cloud-init unpacks gzip-compressed user data by its magic number; so does this guest.
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(bytes.as_slice()),
            &mut plain,
        )
        .map_err(|e| format!("user data is not valid gzip: {e}"))?;
        bytes = plain;
    }
    let text = String::from_utf8(bytes).map_err(|_| "user data is not UTF-8".to_string())?;
    let first = text.lines().next().unwrap_or_default().trim();
    if first != "#cloud-config" && first != "## template: jinja" {
        return Err("user data is not a #cloud-config document".into());
    }
    let doc: CloudConfigDoc =
        serde_saphyr::from_str(&text).map_err(|e| format!("user data is not YAML: {e}"))?;
    let mut files: HashMap<String, String> = HashMap::new();
    for file in doc.write_files {
        let (Some(path), Some(content)) = (file.path, file.content) else {
            continue;
        };
        let content = match file.encoding.as_deref() {
            None | Some("text/plain") => content,
            Some("b64" | "base64") => match B64
                .decode(content.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
            {
                Some(text) => text,
                None => continue,
            },
            // Compressed files (gz, gz+b64) are not read: cks writes none that matter here.
            Some(_) => continue,
        };
        files.insert(path, content);
    }
    let env = files
        .get(NODE_ENV)
        .map(|text| parse_env(text))
        .ok_or_else(|| format!("user data writes no {NODE_ENV}"))?;
    let var = |key: &str| env.get(key).map(String::as_str).unwrap_or_default();
    let role = NodeRole::parse(var("CKS_ROLE"))
        .ok_or_else(|| format!("unknown CKS_ROLE {:?}", var("CKS_ROLE")))?;
    let version = var("CKS_KUBERNETES_VERSION").trim_start_matches('v');
    SemanticVersion::parse(version)
        .map_err(|_| format!("bad CKS_KUBERNETES_VERSION {version:?}"))?;
    let api_server = match var("CKS_API_SERVER") {
        "" => None,
        text => Some(
            text.parse::<SocketAddrV4>()
                .map_err(|_| format!("bad CKS_API_SERVER {text:?}"))?,
        ),
    };
    if role.joins() && api_server.is_none() {
        return Err("a joining node needs CKS_API_SERVER".into());
    }
    let pki = match role {
        NodeRole::ControlInit => {
            let mut take = |name: &str| {
                files
                    .remove(&format!("{PKI_DIR}/{name}"))
                    .ok_or_else(|| format!("the first control node has no {PKI_DIR}/{name}"))
            };
            Some((
                take("ca.crt")?,
                take("apiserver.crt")?,
                take("apiserver.key")?,
            ))
        }
        _ => None,
    };
    Ok(NodeFacts {
        role,
        version: version.to_string(),
        api_server,
        pki,
    })
}

/// `KEY=value` lines; values may be single- or double-quoted. Comments and blanks are skipped.
fn parse_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let unquoted = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .or_else(|| v.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
                .unwrap_or(v);
            (k.trim().to_string(), unquoted.to_string())
        })
        .collect()
}

// === The guest's reaction to a mutation ===

/// The guest's memory between mutations. Everything here can be rebuilt from the inventory.
#[derive(Debug, Default)]
pub(crate) struct GuestState {
    /// VMs whose install timer runs.
    pub(crate) installing: BTreeSet<String>,
    /// Joining nodes that wait for their API server, by the address they wait for.
    waiting: BTreeMap<Ipv4Addr, BTreeSet<String>>,
    waiting_for: HashMap<String, Ipv4Addr>,
    /// VMs whose user data is not a node's, by a fingerprint of that user data.
    not_nodes: HashMap<String, u64>,
}

impl GuestState {
    /// The waiting index of a loaded inventory.
    pub(crate) fn rebuild(inv: &Inventory) -> GuestState {
        let mut state = GuestState::default();
        for node in inv.all::<GuestNode>().filter(|n| n.waits()) {
            if let Some(addr) = target(node) {
                state.wait(&node.id, *addr.ip());
            }
        }
        state
    }

    /// Rebuilds the waiting index after another instance changed the inventory; install timers
    /// of this instance and what it learned about non-nodes are kept.
    pub(crate) fn rewait(&mut self, inv: &Inventory) {
        let rebuilt = GuestState::rebuild(inv);
        self.waiting = rebuilt.waiting;
        self.waiting_for = rebuilt.waiting_for;
    }

    fn wait(&mut self, vm_id: &str, addr: Ipv4Addr) {
        self.stop_waiting(vm_id);
        self.waiting
            .entry(addr)
            .or_default()
            .insert(vm_id.to_string());
        self.waiting_for.insert(vm_id.to_string(), addr);
    }

    fn stop_waiting(&mut self, vm_id: &str) {
        if let Some(addr) = self.waiting_for.remove(vm_id)
            && let Some(set) = self.waiting.get_mut(&addr)
        {
            set.remove(vm_id);
            if set.is_empty() {
                self.waiting.remove(&addr);
            }
        }
    }

    /// Applies what a committed mutation decided about waiting nodes.
    pub(crate) fn commit(&mut self, reaction: &Reaction) {
        for (vm_id, addr) in &reaction.waiting {
            self.wait(vm_id, *addr);
        }
        for vm_id in &reaction.not_waiting {
            self.stop_waiting(vm_id);
        }
        for (vm_id, print) in &reaction.not_nodes {
            self.not_nodes.insert(vm_id.clone(), *print);
        }
        for vm_id in &reaction.gone {
            self.not_nodes.remove(vm_id);
        }
    }
}

/// What a mutation's reaction leaves to do once it is committed.
#[derive(Debug, Default)]
pub(crate) struct Reaction {
    /// VMs to install after `Timings::node_install`.
    pub(crate) install_later: Vec<String>,
    /// Nodes that now wait for their API server, and for which address.
    waiting: Vec<(String, Ipv4Addr)>,
    /// Nodes that no longer wait (joined, deleted or gone).
    not_waiting: Vec<String>,
    /// VMs found not to be cks nodes, with the fingerprint of their user data.
    not_nodes: Vec<(String, u64)>,
    /// VMs that no longer exist.
    gone: Vec<String>,
}

/// Reacts to what the mutation in progress touched: installs VMs that became ready (now, or
/// later when `install_now` is false), and joins waiting nodes whose API server came up.
/// `everything` reacts as if every VM and waiting node was touched (on open).
pub(crate) fn react(
    inv: &mut Inventory,
    state: &GuestState,
    install_now: bool,
    everything: bool,
    now: i64,
) -> Reaction {
    let mut res = Reaction::default();
    let mut scheduled: BTreeSet<String> = BTreeSet::new();
    if everything {
        let ids: Vec<String> = inv.all::<Vm>().map(|vm| vm.id.clone()).collect();
        for id in ids {
            consider_install(inv, state, &id, install_now, now, &mut res, &mut scheduled);
        }
        let waiting: Vec<String> = state.waiting_for.keys().cloned().collect();
        for id in waiting {
            try_join(inv, &id, now);
        }
    }
    let mut pos = 0;
    let mut seen: BTreeSet<(Kind, String)> = BTreeSet::new();
    while pos < inv.journal().len() {
        let end = inv.journal().len();
        let mut triggers: BTreeSet<(Option<String>, Ipv4Addr)> = BTreeSet::new();
        let mut direct: BTreeSet<String> = BTreeSet::new();
        // Ids and the old rules' addresses only: no object is copied.
        let entries: Vec<(Kind, String, Option<Ipv4Addr>)> = inv.journal()[pos..end]
            .iter()
            .map(|(kind, id, old)| {
                (
                    *kind,
                    id.clone(),
                    old.as_ref().and_then(routing::public_address),
                )
            })
            .collect();
        pos = end;
        for (kind, id, old_address) in entries {
            match kind {
                Kind::Noun(ResourceKind::Vm) => {
                    if !seen.insert((kind, id.clone())) {
                        continue;
                    }
                    if inv.get::<Vm>(&id).is_none() {
                        res.gone.push(id.clone());
                    }
                    consider_install(inv, state, &id, install_now, now, &mut res, &mut scheduled);
                    control_triggers(inv, &id, &mut triggers);
                    if state.waiting_for.contains_key(&id) {
                        direct.insert(id);
                    }
                }
                kind if kind == GuestNode::KIND => match inv.get::<GuestNode>(&id) {
                    Some(node) if node.waits() => {
                        if let Some(addr) = target(node) {
                            res.waiting.push((id.clone(), *addr.ip()));
                        }
                        direct.insert(id);
                    }
                    Some(node) => {
                        let control = node.role.is_control() && node.cluster_id.is_some();
                        res.not_waiting.push(id.clone());
                        if control {
                            control_triggers(inv, &id, &mut triggers);
                        }
                    }
                    None => res.not_waiting.push(id),
                },
                Kind::Noun(
                    ResourceKind::PublicIp
                    | ResourceKind::FirewallRule
                    | ResourceKind::PortForwardingRule
                    | ResourceKind::LoadBalancerRule,
                ) => {
                    let current = inv.object(kind, &id).and_then(routing::public_address);
                    for addr in [old_address, current].into_iter().flatten() {
                        triggers.insert((None, addr));
                    }
                }
                _ => {}
            }
        }
        let mut candidates: BTreeSet<String> = direct;
        for (network, addr) in &triggers {
            let waiting_here = state.waiting.get(addr).into_iter().flatten().chain(
                res.waiting
                    .iter()
                    .filter(|(_, a)| a == addr)
                    .map(|(id, _)| id),
            );
            for id in waiting_here {
                let in_network = match network {
                    None => true,
                    Some(net) => inv.get::<Vm>(id).is_some_and(|vm| vm.nic_in(net).is_some()),
                };
                if in_network {
                    candidates.insert(id.clone());
                }
            }
        }
        for id in candidates {
            try_join(inv, &id, now);
        }
    }
    res.waiting
        .retain(|(id, _)| inv.get::<GuestNode>(id).is_some_and(GuestNode::waits));
    res
}

/// Installs the VM now, or schedules it, if it just became ready to install.
fn consider_install(
    inv: &mut Inventory,
    state: &GuestState,
    vm_id: &str,
    install_now: bool,
    now: i64,
    res: &mut Reaction,
    scheduled: &mut BTreeSet<String>,
) {
    let Some(vm) = inv.get::<Vm>(vm_id) else {
        return;
    };
    if !ready_to_install(inv, vm) || state.installing.contains(vm_id) || scheduled.contains(vm_id) {
        return;
    }
    let user_data = vm.user_data.as_deref().unwrap_or_default();
    let print = fingerprint(user_data);
    if state.not_nodes.get(vm_id) == Some(&print) {
        return;
    }
    if !install_now {
        scheduled.insert(vm_id.to_string());
        res.install_later.push(vm_id.to_string());
        return;
    }
    match parse_user_data(user_data) {
        Ok(facts) => install(inv, vm_id, &facts, now),
        Err(why) => {
            tracing::debug!(vm = vm_id, why, "the VM's user data is not a cks node's");
            res.not_nodes.push((vm_id.to_string(), print));
        }
    }
}

fn fingerprint(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// Running, with user data, a ready ISO attached, and nothing installed yet.
fn ready_to_install(inv: &Inventory, vm: &Vm) -> bool {
    vm.state == VmState::Running
        && vm.user_data.is_some()
        && vm
            .iso_id
            .as_deref()
            .and_then(|id| inv.get::<Iso>(id))
            .is_some_and(Iso::is_ready)
        && inv.get::<GuestNode>(&vm.id).is_none()
}

/// Ready to install and its user data is a cks node's: an install is due.
pub(crate) fn installable(inv: &Inventory, vm: &Vm) -> bool {
    ready_to_install(inv, vm)
        && parse_user_data(vm.user_data.as_deref().unwrap_or_default()).is_ok()
}

/// The install a timer scheduled: done if the VM is still ready for it.
pub(crate) fn install_due(inv: &mut Inventory, vm_id: &str, now: i64) -> Result<(), CloudError> {
    let Some(vm) = inv.get::<Vm>(vm_id) else {
        return Ok(());
    };
    if !ready_to_install(inv, vm) {
        return Ok(());
    }
    match parse_user_data(vm.user_data.as_deref().unwrap_or_default()) {
        Ok(facts) => install(inv, vm_id, &facts, now),
        Err(why) => tracing::debug!(vm = vm_id, why, "the VM's user data is not a cks node's"),
    }
    Ok(())
}

fn install(inv: &mut Inventory, vm_id: &str, facts: &NodeFacts, now: i64) {
    let mut node = GuestNode {
        id: vm_id.to_string(),
        role: facts.role,
        version: facts.version.clone(),
        api_server: facts.api_server.map(|a| a.to_string()),
        cluster_id: None,
        unschedulable: false,
        drained: false,
        deleted: false,
        joined: None,
        created: now,
    };
    match (facts.role, &facts.pki) {
        (NodeRole::ControlInit, Some((ca, cert, key))) => {
            inv.put(KubeCluster {
                id: vm_id.to_string(),
                version: facts.version.clone(),
                ca_pem: ca.clone(),
                cert_pem: cert.clone(),
                key_pem: key.clone(),
                created: now,
            });
            node.cluster_id = Some(vm_id.to_string());
            node.joined = Some(now);
        }
        (NodeRole::ControlJoin | NodeRole::Worker, _) => {
            if let Some(cluster) = resolve_join(inv, vm_id, &node) {
                node.cluster_id = Some(cluster);
                node.joined = Some(now);
            }
        }
        _ => {}
    }
    tracing::debug!(vm = vm_id, role = ?node.role, cluster = ?node.cluster_id, "simulated node installed");
    inv.put(node);
}

/// Joins a waiting node if its API server is up now.
fn try_join(inv: &mut Inventory, vm_id: &str, now: i64) {
    let Some(node) = inv.get::<GuestNode>(vm_id) else {
        return;
    };
    if !node.waits()
        || !inv
            .get::<Vm>(vm_id)
            .is_some_and(|vm| vm.state == VmState::Running)
    {
        return;
    }
    let mut node = node.clone();
    if let Some(cluster) = resolve_join(inv, vm_id, &node) {
        tracing::debug!(vm = vm_id, cluster, "simulated node joined");
        node.cluster_id = Some(cluster);
        node.joined = Some(now);
        inv.put(node);
    }
}

fn target(node: &GuestNode) -> Option<SocketAddrV4> {
    node.api_server.as_deref().and_then(|a| a.parse().ok())
}

/// The cluster whose API server the node's `CKS_API_SERVER` reaches now, if any: a control
/// node at that guest address in one of its networks, or a public IP whose rules lead there.
fn resolve_join(inv: &Inventory, vm_id: &str, node: &GuestNode) -> Option<String> {
    let addr = target(node)?;
    let vm = inv.get::<Vm>(vm_id)?;
    if let Some(peer) = routing::peer_at(inv, vm, *addr.ip()) {
        return match addr.port() == API_SERVER_PORT {
            true => control_cluster(inv, &peer.id).map(str::to_string),
            false => None,
        };
    }
    let ip = inv.find::<PublicIp>(|ip| ip.address == *addr.ip())?;
    endpoints::cluster_behind(inv, ip, addr.port())
}

/// The cluster whose API server runs on this VM: a running, installed control node.
pub(crate) fn control_cluster<'a>(inv: &'a Inventory, vm_id: &str) -> Option<&'a str> {
    let vm = inv.get::<Vm>(vm_id)?;
    let node = inv.get::<GuestNode>(vm_id)?;
    if vm.state != VmState::Running || !node.role.is_control() {
        return None;
    }
    let cluster = node.cluster_id.as_deref()?;
    inv.get::<KubeCluster>(cluster).map(|c| c.id.as_str())
}

/// Addresses at which a control node's API server may have come up or gone.
fn control_triggers(
    inv: &Inventory,
    vm_id: &str,
    triggers: &mut BTreeSet<(Option<String>, Ipv4Addr)>,
) {
    let is_control = inv
        .get::<GuestNode>(vm_id)
        .is_some_and(|n| n.role.is_control() && n.cluster_id.is_some());
    if !is_control {
        return;
    }
    if let Some(vm) = inv.get::<Vm>(vm_id) {
        for nic in &vm.nics {
            triggers.insert((Some(nic.network_id.clone()), nic.ip_address));
        }
    }
    // Its endpoints: public IPs forwarding to it.
    for ip_id in routing::ips_leading_to(inv, &[vm_id]) {
        if let Some(ip) = inv.get::<PublicIp>(&ip_id) {
            triggers.insert((None, ip.address));
        }
    }
}

/// Forgets a destroyed VM's node, and its cluster once no member is left.
pub(crate) fn forget_vm(inv: &mut Inventory, vm_id: &str) {
    let Some(node) = inv.get::<GuestNode>(vm_id).cloned() else {
        return;
    };
    inv.remove::<GuestNode>(vm_id);
    if let Some(cluster) = node.cluster_id {
        let members = inv
            .all::<GuestNode>()
            .any(|n| n.cluster_id.as_deref() == Some(cluster.as_str()));
        if !members {
            inv.remove::<KubeCluster>(&cluster);
        }
    }
}

// === What kubectl changes ===

/// Cordons or uncordons a node of `cluster_id` by VM id.
pub(crate) fn set_unschedulable(
    inv: &mut Inventory,
    cluster_id: &str,
    vm_id: &str,
    unschedulable: bool,
) -> Result<bool, CloudError> {
    let Some(node) = inv
        .get::<GuestNode>(vm_id)
        .filter(|n| n.member_of(cluster_id))
    else {
        return Ok(false);
    };
    if node.unschedulable != unschedulable || (node.drained && !unschedulable) {
        let mut node = node.clone();
        node.unschedulable = unschedulable;
        node.drained &= unschedulable;
        inv.put(node);
    }
    Ok(true)
}

/// A controller's pod was deleted (or evicted) from the node: on a cordoned node, that drains it.
pub(crate) fn pod_evicted(
    inv: &mut Inventory,
    cluster_id: &str,
    vm_id: &str,
) -> Result<(), CloudError> {
    let Some(node) = inv
        .get::<GuestNode>(vm_id)
        .filter(|n| n.member_of(cluster_id))
    else {
        return Ok(());
    };
    if node.unschedulable && !node.drained {
        let mut node = node.clone();
        node.drained = true;
        inv.put(node);
    }
    Ok(())
}

/// `kubectl delete node`: the node leaves the cluster for good.
pub(crate) fn delete_node(
    inv: &mut Inventory,
    cluster_id: &str,
    vm_id: &str,
) -> Result<bool, CloudError> {
    let Some(node) = inv
        .get::<GuestNode>(vm_id)
        .filter(|n| n.member_of(cluster_id))
    else {
        return Ok(false);
    };
    let mut node = node.clone();
    node.deleted = true;
    inv.put(node);
    Ok(true)
}

// === Commands over the management channel ===

/// A command `run_on_node` understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeCommand {
    /// `sudo /opt/cks/bin/cks-upgrade <semver>`.
    Upgrade(SemanticVersion),
}

fn command_failed(exit_code: i32, stderr: impl Into<String>) -> CloudError {
    CloudError::NodeCommand {
        exit_code,
        stderr: stderr.into(),
    }
}

pub(crate) fn parse_command(argv: &[String]) -> Result<NodeCommand, CloudError> {
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    let args = match args.as_slice() {
        ["sudo", rest @ ..] => rest,
        rest => rest,
    };
    match args {
        [UPGRADE_SCRIPT, version] => {
            let version =
                SemanticVersion::parse(version.trim_start_matches('v')).map_err(|_| {
                    command_failed(
                        2,
                        format!("cks-upgrade: {version:?} is not a MAJOR.MINOR.PATCH version"),
                    )
                })?;
            Ok(NodeCommand::Upgrade(version))
        }
        [UPGRADE_SCRIPT, ..] => Err(command_failed(2, "usage: cks-upgrade <version>")),
        [] => Err(command_failed(2, "no command given")),
        [program, ..] => Err(command_failed(
            127,
            format!("bash: {program}: command not found"),
        )),
    }
}

/// What an upgrade has to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UpgradePlan {
    /// Already at the version: nothing to do.
    Done(String),
    /// Upgrade (founder: `kubeadm upgrade apply`, others: `kubeadm upgrade node`).
    Upgrade,
}

/// Checks that the VM can run `cks-upgrade <target>` now, as the node's script would.
pub(crate) fn check_upgrade(
    inv: &Inventory,
    vm_id: &str,
    target: &SemanticVersion,
) -> Result<UpgradePlan, CloudError> {
    let vm = inv.need::<Vm>(vm_id)?;
    if vm.state != VmState::Running {
        return Err(CloudError::Unavailable(format!(
            "Unable to reach VM {} over SSH: it is {}",
            vm.name, vm.state
        )));
    }
    let Some(node) = inv.get::<GuestNode>(vm_id) else {
        return Err(command_failed(
            1,
            format!("sudo: {UPGRADE_SCRIPT}: command not found"),
        ));
    };
    if node.role == NodeRole::Etcd {
        return Err(command_failed(
            1,
            "cks-upgrade: this is an etcd node; etcd is not upgraded by kubeadm",
        ));
    }
    let current = SemanticVersion::parse(&node.version)
        .map_err(|_| CloudError::Internal(format!("node {} has a bad version", vm.name)))?;
    if *target == current {
        return Ok(UpgradePlan::Done(format!(
            "cks-upgrade: already at v{current}\n"
        )));
    }
    let iso_ready = vm
        .iso_id
        .as_deref()
        .and_then(|id| inv.get::<Iso>(id))
        .is_some_and(Iso::is_ready);
    if !iso_ready {
        return Err(command_failed(
            1,
            "cks-upgrade: no CD-ROM with the Kubernetes binaries found",
        ));
    }
    if *target < current {
        return Err(command_failed(
            1,
            format!(
                "[upgrade/version] FATAL: Specified version to upgrade to \"v{target}\" is equal to or lower than the cluster version \"v{current}\". Downgrades are not supported yet"
            ),
        ));
    }
    let founder = node.cluster_id.as_deref() == Some(vm_id);
    if founder && (target.major() != current.major() || target.minor() > current.minor() + 1) {
        return Err(command_failed(
            1,
            format!(
                "[upgrade/version] FATAL: Specified version to upgrade to \"v{target}\" is too high; kubeadm can upgrade only 1 minor version at a time"
            ),
        ));
    }
    if !founder {
        let cluster = node
            .cluster_id
            .as_deref()
            .and_then(|c| inv.get::<KubeCluster>(c))
            .ok_or_else(|| {
                command_failed(
                    1,
                    "cks-upgrade: this node has not joined a cluster (kubeadm upgrade node needs the API server)",
                )
            })?;
        let control_plane = SemanticVersion::parse(&cluster.version)
            .map_err(|_| CloudError::Internal("the cluster has a bad version".into()))?;
        if *target > control_plane {
            return Err(command_failed(
                1,
                format!(
                    "cks-upgrade: the control plane is at v{control_plane}; upgrade the first control node to v{target} first"
                ),
            ));
        }
    }
    Ok(UpgradePlan::Upgrade)
}

/// Finishes an upgrade after its delay: the kubelet (and on the founder, the API server) moves
/// to `target`. Checks again, as the VM may have changed meanwhile.
pub(crate) fn finish_upgrade(
    inv: &mut Inventory,
    vm_id: &str,
    target: &SemanticVersion,
) -> Result<String, CloudError> {
    if let UpgradePlan::Done(out) = check_upgrade(inv, vm_id, target)? {
        return Ok(out);
    }
    let mut node = inv
        .get::<GuestNode>(vm_id)
        .cloned()
        .ok_or_else(|| CloudError::not_found(ResourceKind::Vm, vm_id))?;
    let founder = node.cluster_id.as_deref() == Some(vm_id);
    node.version = target.to_string();
    inv.put(node);
    if founder && let Some(mut cluster) = inv.get::<KubeCluster>(vm_id).cloned() {
        cluster.version = target.to_string();
        inv.put(cluster);
    }
    let how = match founder {
        true => {
            format!("[upgrade/successful] SUCCESS! Your cluster was upgraded to \"v{target}\".")
        }
        false => "[upgrade] The configuration for this node was successfully updated!".to_string(),
    };
    Ok(format!("{how}\ncks-upgrade: kubelet v{target} running\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_data(doc: &str) -> String {
        B64.encode(doc)
    }

    #[test]
    fn node_env_values_may_be_quoted() {
        let env = parse_env("# c\nA='x y'\nB=\"z\"\nC=plain\n\nD=''\n");
        assert_eq!(env["A"], "x y");
        assert_eq!(env["B"], "z");
        assert_eq!(env["C"], "plain");
        assert_eq!(env["D"], "");
    }

    #[test]
    fn a_worker_names_its_api_server() {
        let doc = "#cloud-config\nwrite_files:\n- path: /etc/cks/node.env\n  content: |\n    CKS_ROLE='worker'\n    CKS_KUBERNETES_VERSION='1.32.4'\n    CKS_API_SERVER='10.1.1.10:6443'\n- path: /x\n  encoding: b64\n  content: aGk=\n";
        let facts = parse_user_data(&user_data(doc)).unwrap();
        assert_eq!(facts.role, NodeRole::Worker);
        assert_eq!(facts.version, "1.32.4");
        assert_eq!(facts.api_server, Some("10.1.1.10:6443".parse().unwrap()));
        assert_eq!(facts.pki, None);
    }

    #[test]
    fn what_is_not_a_cks_node_says_why() {
        let cases = [
            ("#!/bin/sh\necho hi\n", "not a #cloud-config"),
            ("#cloud-config\nruncmd: [ls]\n", "no /etc/cks/node.env"),
            (
                "#cloud-config\nwrite_files:\n- path: /etc/cks/node.env\n  content: \"CKS_ROLE=control-init\\nCKS_KUBERNETES_VERSION=1.32.4\\n\"\n",
                "has no /etc/kubernetes/pki/ca.crt",
            ),
            (
                "#cloud-config\nwrite_files:\n- path: /etc/cks/node.env\n  content: \"CKS_ROLE=worker\\nCKS_KUBERNETES_VERSION=1.32\\n\"\n",
                "bad CKS_KUBERNETES_VERSION",
            ),
        ];
        for (doc, why) in cases {
            let err = parse_user_data(&user_data(doc)).unwrap_err();
            assert!(err.contains(why), "{doc:?}: {err}");
        }
        assert!(parse_user_data("not base64!").is_err());
    }

    #[test]
    fn commands_are_parsed_like_a_shell_would_run_them() {
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<String>>();
        assert_eq!(
            parse_command(&argv(&["sudo", UPGRADE_SCRIPT, "1.33.1"])).unwrap(),
            NodeCommand::Upgrade(SemanticVersion::parse("1.33.1").unwrap())
        );
        let code = |a: &[&str]| match parse_command(&argv(a)) {
            Err(CloudError::NodeCommand { exit_code, .. }) => exit_code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(&["sudo", UPGRADE_SCRIPT, "latest"]), 2);
        assert_eq!(code(&["sudo", "rm", "-rf", "/"]), 127);
        assert_eq!(code(&[]), 2);
    }
}
