//! Kubernetes clusters: the state machine, node types and names, and the rules a create, scale or
//! upgrade must pass, with CKS's messages.
//!
//! The state machine is CKS's table (spec §3) with its holes fixed on purpose, each marked `FIX`:
//! a cluster in any state can be deleted (a running operation stops at its next step), a start
//! recovers an `Alert` cluster, the scanner's findings on `Stopped` clusters lead somewhere, and
//! an administrator can abort a running operation or retry a failed one.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::iaas::{ServiceOffering, VmState};

pub mod operation;

pub use operation::{
    NodeFacts, Operation, OperationParams, ScaleRequest, Step, UnknownStep, plan_create,
    plan_delete, plan_scale, plan_start, plan_stop, plan_upgrade,
};

cs_enum!(
    /// Where a cluster is in its life (`state` in the API).
    ClusterState {
        Created => "Created", Starting => "Starting", Running => "Running", Stopping => "Stopping",
        Stopped => "Stopped", Scaling => "Scaling", ScalingStoppedCluster => "ScalingStoppedCluster",
        Upgrading => "Upgrading", Importing => "Importing", RemovingNodes => "RemovingNodes",
        Alert => "Alert", Recovering => "Recovering", Destroying => "Destroying",
        Destroyed => "Destroyed", Error => "Error",
    }
);

cs_enum!(
    /// What happens to a cluster.
    ClusterEvent {
        StartRequested => "StartRequested", StopRequested => "StopRequested",
        DestroyRequested => "DestroyRequested", RecoveryRequested => "RecoveryRequested",
        AutoscaleRequested => "AutoscaleRequested", ScaleUpRequested => "ScaleUpRequested",
        ScaleDownRequested => "ScaleDownRequested", AddNodeRequested => "AddNodeRequested",
        RemoveNodeRequested => "RemoveNodeRequested", UpgradeRequested => "UpgradeRequested",
        OperationSucceeded => "OperationSucceeded", OperationFailed => "OperationFailed",
        CreateFailed => "CreateFailed", FaultsDetected => "FaultsDetected",
    }
);

cs_enum!(
    /// Who runs the cluster's nodes (`clustertype`).
    ClusterType { CloudManaged => "CloudManaged", ExternalManaged => "ExternalManaged" }
);

cs_enum!(
    /// The role of a node; the keys of the `nodeofferings` and `nodetemplates` maps.
    NodeType { Control => "control", Worker => "worker", Etcd => "etcd" }
);

impl ClusterState {
    /// The state `event` leads to, or `None` when the table has no row for it (the caller
    /// refuses the operation instead of silently carrying on, as CKS does).
    pub fn on(self, event: ClusterEvent) -> Option<ClusterState> {
        use ClusterEvent as E;
        use ClusterState as S;
        let next = match (self, event) {
            (S::Created, E::StartRequested) => S::Starting,
            (S::Starting, E::OperationSucceeded) => S::Running,
            (S::Starting, E::OperationFailed) => S::Alert,
            (S::Starting, E::CreateFailed) => S::Error,
            (S::Starting, E::StopRequested) => S::Stopping,
            (S::Running | S::Alert, E::StopRequested) => S::Stopping,
            (S::Stopping, E::OperationSucceeded) => S::Stopped,
            (S::Stopping, E::OperationFailed) => S::Alert,
            (S::Stopped, E::StartRequested) => S::Starting,
            // FIX: CKS has no way to start an Alert cluster; a start is the obvious repair.
            (S::Alert, E::StartRequested) => S::Starting,
            (S::Stopped, E::OperationSucceeded) => S::Stopped,
            (S::Running, E::OperationSucceeded) => S::Running,
            (S::Running, E::FaultsDetected) => S::Alert,
            // FIX: in CKS the scanner's finding on a Stopped cluster with running VMs goes nowhere.
            (S::Stopped, E::FaultsDetected) => S::Alert,
            (S::Running, E::AutoscaleRequested | E::ScaleUpRequested | E::ScaleDownRequested) => {
                S::Scaling
            }
            (S::Stopped, E::ScaleUpRequested) => S::ScalingStoppedCluster,
            (S::Scaling, E::OperationSucceeded) => S::Running,
            (S::Scaling, E::OperationFailed) => S::Alert,
            (S::ScalingStoppedCluster, E::OperationSucceeded) => S::Stopped,
            (S::ScalingStoppedCluster, E::OperationFailed) => S::Alert,
            (S::Running, E::UpgradeRequested) => S::Upgrading,
            (S::Upgrading, E::OperationSucceeded) => S::Running,
            (S::Upgrading, E::OperationFailed) => S::Alert,
            (S::Running | S::Alert, E::AddNodeRequested) => S::Importing,
            (S::Importing, E::OperationSucceeded | E::OperationFailed) => S::Running,
            (S::Alert, E::OperationSucceeded) => S::Running,
            (S::Running | S::Alert, E::RemoveNodeRequested) => S::RemovingNodes,
            (S::RemovingNodes, E::OperationSucceeded | E::OperationFailed) => S::Running,
            (S::Alert, E::RecoveryRequested) => S::Recovering,
            (S::Recovering, E::OperationSucceeded) => S::Running,
            (S::Recovering, E::OperationFailed) => S::Alert,
            // FIX: CKS refuses deletes in Created, Starting, Scaling, Upgrading...; a cluster
            // stuck there could never go. Any state but Destroyed may be deleted; an operation in
            // flight stops at its next step boundary.
            (s, E::DestroyRequested) if s != S::Destroyed => S::Destroying,
            (S::Destroying, E::OperationSucceeded) => S::Destroyed,
            // A failed delete stays Destroying and the garbage collector retries it.
            (S::Destroying, E::OperationFailed) => S::Destroying,
            _ => return None,
        };
        Some(next)
    }

    /// An operation is under way in this state: the cluster has a job driving it.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ClusterState::Starting
                | ClusterState::Stopping
                | ClusterState::Scaling
                | ClusterState::ScalingStoppedCluster
                | ClusterState::Upgrading
                | ClusterState::Importing
                | ClusterState::RemovingNodes
                | ClusterState::Recovering
                | ClusterState::Destroying
        )
    }

    /// FIX: CKS cannot retry a failed operation. A retry re-enters `transient`, the state the
    /// operation ran in: from `Error` only a create (the one operation that fails into it), from
    /// `Alert` anything but a delete (a failed delete stays `Destroying`), and an operation stuck
    /// in its own state from there. `None` when there is nothing to retry.
    pub fn on_retry(self, transient: ClusterState) -> Option<ClusterState> {
        use ClusterState as S;
        let allowed = transient.is_transient()
            && match self {
                S::Error => transient == S::Starting,
                S::Alert => transient != S::Destroying,
                s => s == transient,
            };
        allowed.then_some(transient)
    }

    /// FIX: CKS cannot stop an operation. An aborted one ends as if its current step failed:
    /// `CreateFailed` (→ Error) for a create whose nodes were never ready, `OperationFailed`
    /// otherwise, so the cluster never stays transient. A delete cannot be aborted (it only ends
    /// in `Destroyed`; a forced delete is the way through), and neither can a settled cluster.
    pub fn on_abort(self, create_before_ready: bool) -> Option<ClusterState> {
        if !self.is_transient() || self == ClusterState::Destroying {
            return None;
        }
        let event = if create_before_ready && self == ClusterState::Starting {
            ClusterEvent::CreateFailed
        } else {
            ClusterEvent::OperationFailed
        };
        self.on(event)
    }

    /// Every state, in the order of the spec.
    pub const ALL: [ClusterState; 15] = [
        ClusterState::Created,
        ClusterState::Starting,
        ClusterState::Running,
        ClusterState::Stopping,
        ClusterState::Stopped,
        ClusterState::Scaling,
        ClusterState::ScalingStoppedCluster,
        ClusterState::Upgrading,
        ClusterState::Importing,
        ClusterState::RemovingNodes,
        ClusterState::Alert,
        ClusterState::Recovering,
        ClusterState::Destroying,
        ClusterState::Destroyed,
        ClusterState::Error,
    ];
}

impl ClusterEvent {
    /// Every event.
    pub const ALL: [ClusterEvent; 14] = [
        ClusterEvent::StartRequested,
        ClusterEvent::StopRequested,
        ClusterEvent::DestroyRequested,
        ClusterEvent::RecoveryRequested,
        ClusterEvent::AutoscaleRequested,
        ClusterEvent::ScaleUpRequested,
        ClusterEvent::ScaleDownRequested,
        ClusterEvent::AddNodeRequested,
        ClusterEvent::RemoveNodeRequested,
        ClusterEvent::UpgradeRequested,
        ClusterEvent::OperationSucceeded,
        ClusterEvent::OperationFailed,
        ClusterEvent::CreateFailed,
        ClusterEvent::FaultsDetected,
    ];
}

/// `clustertype`: CloudManaged when absent.
pub fn parse_cluster_type(text: Option<&str>) -> Result<ClusterType, String> {
    match text {
        None | Some("") => Ok(ClusterType::CloudManaged),
        Some(t) => ClusterType::parse(t).ok_or_else(|| {
            format!(
                "Unable to resolve cluster type {t} to a supported value (CloudManaged, ExternalManaged)"
            )
        }),
    }
}

/// A key of the `nodeofferings`/`nodetemplates` maps: a node type, or `default` (`None`).
pub fn parse_node_type_key(text: &str) -> Result<Option<NodeType>, String> {
    if text.eq_ignore_ascii_case("default") {
        return Ok(None);
    }
    NodeType::parse(text)
        .map(Some)
        .ok_or_else(|| format!("The provided value '{text}' for Node Type is invalid"))
}

// === Sizes ===

/// Worker nodes of a new cluster have a root disk of at least this many GB.
pub const MIN_ROOT_DISK_GB: i64 = 8;
/// Offerings of every node need this many vCPUs at least.
pub const MIN_NODE_CPUS: u32 = 2;
/// Offerings of every node need this much memory, in MiB, at least.
pub const MIN_NODE_MEMORY_MIB: u64 = 2048;

/// The node counts of a cluster, each known to fit its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeCounts {
    /// Control-plane nodes, at least 1 for a CloudManaged cluster.
    pub control: u32,
    /// Worker nodes (CloudStack's `size`), at least 1 for a CloudManaged cluster.
    pub workers: u32,
    /// Dedicated etcd nodes; 0 runs etcd on the control nodes.
    pub etcd: u32,
}

/// The text CKS answers when a cluster would outgrow `cloud.kubernetes.cluster.max.size`.
pub fn max_size_exceeded(max_size: i64) -> String {
    format!("Maximum cluster size can not exceed {max_size}. Please contact your administrator")
}

/// Checks that nodes of every type together stay within `max_size`. The sum is checked, so no
/// count (up to `i64::MAX`, negative or not) wraps past the limit.
///
/// FIX: CKS leaves etcd nodes out of this sum, so `etcdnodes` made clusters of any size;
/// here every node counts, etcd ones included.
pub fn check_max_size(counts: &[i64], max_size: i64) -> Result<(), String> {
    let total = counts
        .iter()
        .try_fold(0i64, |sum, n| sum.checked_add(*n))
        .filter(|total| *total <= max_size);
    total.map(|_| ()).ok_or_else(|| max_size_exceeded(max_size))
}

/// Node counts of a new cluster (CloudManaged), in CKS's order of checks, then the etcd count
/// (CKS has no message for a negative one; ours reads like its others).
pub fn check_node_counts(
    control: i64,
    workers: i64,
    etcd: i64,
    max_size: i64,
) -> Result<NodeCounts, String> {
    if control < 1 {
        return Err(format!("Invalid cluster control nodes count: {control}"));
    }
    if workers < 1 {
        return Err(format!("Invalid cluster size: {workers}"));
    }
    if etcd < 0 {
        return Err(format!("Invalid etcd nodes count: {etcd}"));
    }
    check_max_size(&[control, workers, etcd], max_size)?;
    let fit = |n: i64| u32::try_from(n).map_err(|_| max_size_exceeded(max_size));
    Ok(NodeCounts {
        control: fit(control)?,
        workers: fit(workers)?,
        etcd: fit(etcd)?,
    })
}

/// Node counts recorded for an ExternalManaged cluster, which the service never deploys: CKS
/// checks none, absent or negative ones record as 0, but a count must still be a count.
pub fn recorded_node_counts(control: i64, workers: i64, etcd: i64) -> Result<NodeCounts, String> {
    let fit = |n: i64, what: &str| {
        u32::try_from(n.max(0)).map_err(|_| format!("Invalid cluster {what}: {n}"))
    };
    Ok(NodeCounts {
        control: fit(control, "control nodes count")?,
        workers: fit(workers, "size")?,
        etcd: fit(etcd, "etcd nodes count")?,
    })
}

/// The minimums a Kubernetes version asks of node offerings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionMinimums<'a> {
    /// The version's `semanticversion`, for the messages.
    pub semantic_version: &'a str,
    /// vCPUs a node offering needs at least (the version's `mincpunumber`).
    pub min_cpu: i64,
    /// MiB a node offering needs at least (the version's `minmemory`).
    pub min_memory_mib: i64,
}

/// What the offering check is for: its messages differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferingUse {
    /// For `createKubernetesCluster`: "cannot be created with".
    Create,
    /// For `scaleKubernetesCluster`: "cannot be scaled with".
    Scale,
}

/// Is `offering` fit for nodes of a cluster of that version? The error is CKS's inner message.
pub fn check_node_offering(
    offering: &ServiceOffering,
    version: VersionMinimums<'_>,
    usage: OfferingUse,
) -> Result<(), String> {
    let verb = match usage {
        OfferingUse::Create => "created",
        OfferingUse::Scale => "scaled",
    };
    let (Some(cpus), Some(memory), false) = (
        offering.cpu_number,
        offering.memory_mib,
        offering.is_customized,
    ) else {
        return Err(format!(
            "Custom service offerings are not supported for creating clusters, service offering ID: {}",
            offering.id
        ));
    };
    let head = format!(
        "Kubernetes cluster cannot be {verb} with service offering ID: {}",
        offering.id
    );
    if cpus < MIN_NODE_CPUS || memory < MIN_NODE_MEMORY_MIB {
        return Err(format!(
            "{head}, Kubernetes cluster template needs minimum {MIN_NODE_CPUS} vCPUs and {MIN_NODE_MEMORY_MIB} MB RAM"
        ));
    }
    if i64::from(cpus) < version.min_cpu {
        return Err(format!(
            "{head}, Kubernetes version {} needs minimum {} vCPUs",
            version.semantic_version, version.min_cpu
        ));
    }
    if i64::try_from(memory).unwrap_or(i64::MAX) < version.min_memory_mib {
        return Err(format!(
            "{head}, Kubernetes version {} needs minimum {} MB RAM",
            version.semantic_version, version.min_memory_mib
        ));
    }
    Ok(())
}

/// vCPUs and MiB of memory a cluster shows (`cpunumber`, `memory`): the sum over node types of
/// their node count times their offering's size. Saturating: counts are bounded by the max
/// size, but offerings are whatever an admin registered.
pub fn node_resources<'a>(
    nodes: impl IntoIterator<Item = (u32, &'a ServiceOffering)>,
) -> (i64, i64) {
    nodes
        .into_iter()
        .fold((0i64, 0i64), |(cores, memory), (count, o)| {
            let count = i64::from(count);
            let mib = i64::try_from(o.memory_mib.unwrap_or(0)).unwrap_or(i64::MAX);
            (
                cores.saturating_add(count.saturating_mul(i64::from(o.cpu_number.unwrap_or(0)))),
                memory.saturating_add(count.saturating_mul(mib)),
            )
        })
}

/// On a running cluster an offering may only grow: RAM and CPU×speed not below the current one.
pub fn is_upscale(current: &ServiceOffering, new: &ServiceOffering) -> bool {
    let power = |o: &ServiceOffering| {
        u64::from(o.cpu_number.unwrap_or(0)) * u64::from(o.cpu_speed_mhz.unwrap_or(0))
    };
    new.memory_mib.unwrap_or(0) >= current.memory_mib.unwrap_or(0) && power(new) >= power(current)
}

// === Node names ===

/// Node names are at most this long before their suffix.
const PREFIX_MAX: usize = 43;
const ETCD_PREFIX_MAX: usize = 40;

/// The prefix of every node name of a cluster (spec §6.1): the name lowercased when it is a DNS
/// label, else its `[a-z0-9-]` characters (or the uuid) after `k8s-`; at most 43 characters.
pub fn node_name_prefix(cluster_name: &str, cluster_id: &str) -> String {
    let lower = cluster_name.to_ascii_lowercase();
    let prefix = if is_dns_label(&lower) {
        lower
    } else {
        let kept: String = lower
            .chars()
            .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        let kept = if kept.is_empty() {
            cluster_id.to_ascii_lowercase()
        } else {
            kept
        };
        format!("k8s-{kept}")
    };
    truncate_label(&prefix, PREFIX_MAX)
}

/// The name of a new node. `unique` is a per-node number (CKS: epoch milliseconds), in hex.
pub fn node_name(prefix: &str, node_type: NodeType, etcd_index: usize, unique: u64) -> String {
    match node_type {
        NodeType::Control => format!("{prefix}-control-{unique:x}"),
        NodeType::Worker => format!("{prefix}-node-{unique:x}"),
        NodeType::Etcd => {
            let base = truncate_label(&format!("{prefix}-etcd"), ETCD_PREFIX_MAX);
            format!("{base}-{}-{unique:x}", etcd_index + 1)
        }
    }
}

fn truncate_label(text: &str, max: usize) -> String {
    let cut: String = text.chars().take(max).collect();
    // A label must not end with '-'.
    cut.trim_end_matches('-').to_string()
}

/// RFC 1123 label: lowercase letters, digits and '-', not starting or ending with '-'.
pub fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

// === Ports ===

/// The API server port, public and private.
pub const API_PORT: u16 = 6443;
/// Public SSH port of control and worker node `i` is `SSH_START_PORT + i`.
pub const SSH_START_PORT: u16 = 2222;

// === The scanner ===

/// What the state scanner saw of a cluster's nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Nodes the cluster should have (control + workers + etcd).
    pub expected_nodes: usize,
    /// The state of each VM the cluster still has.
    pub vm_states: Vec<VmState>,
    /// Ready Kubernetes nodes plus etcd nodes, when the API answered; `None` when it did not.
    pub ready_nodes: Option<usize>,
}

/// What the scanner concludes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to do.
    Unchanged,
    /// Something is wrong: raise `FaultsDetected` with this reason.
    Faulty(String),
    /// An `Alert` cluster is whole again: recover it to `Running`.
    Recovered,
    /// Every VM of an `Alert` cluster is stopped: it is `Stopped`.
    AllStopped,
}

impl Observation {
    fn all_in(&self, state: VmState) -> bool {
        self.vm_states.iter().all(|s| *s == state)
    }

    fn healthy(&self) -> Result<(), String> {
        let vms = self.vm_states.len();
        if vms < self.expected_nodes {
            return Err(format!("{vms} of {} node VMs exist", self.expected_nodes));
        }
        let running = self
            .vm_states
            .iter()
            .filter(|s| **s == VmState::Running)
            .count();
        if running < vms {
            return Err(format!("{running} of {vms} node VMs are running"));
        }
        match self.ready_nodes {
            None => Err("the Kubernetes API endpoint is unreachable".into()),
            Some(ready) if ready < self.expected_nodes => Err(format!(
                "{ready} of {} nodes are ready",
                self.expected_nodes
            )),
            Some(_) => Ok(()),
        }
    }
}

/// The scanner's rule for one cluster (spec §3.1, with the Stopped branch made to work).
pub fn scan(state: ClusterState, seen: &Observation) -> Verdict {
    match state {
        ClusterState::Running => match seen.healthy() {
            Ok(()) => Verdict::Unchanged,
            Err(reason) => Verdict::Faulty(reason),
        },
        ClusterState::Alert => {
            if seen.healthy().is_ok() {
                Verdict::Recovered
            } else if !seen.vm_states.is_empty() && seen.all_in(VmState::Stopped) {
                Verdict::AllStopped
            } else {
                Verdict::Unchanged
            }
        }
        ClusterState::Stopped => {
            let running = seen
                .vm_states
                .iter()
                .filter(|s| **s == VmState::Running)
                .count();
            if running > 0 {
                Verdict::Faulty(format!(
                    "{running} node VMs are running while the cluster is stopped"
                ))
            } else {
                Verdict::Unchanged
            }
        }
        _ => Verdict::Unchanged,
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Unchanged => f.write_str("unchanged"),
            Verdict::Faulty(reason) => write!(f, "faulty: {reason}"),
            Verdict::Recovered => f.write_str("recovered"),
            Verdict::AllStopped => f.write_str("all stopped"),
        }
    }
}

/// Per node type values (offerings, templates).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerNodeType {
    /// Value for control nodes; `None`: fall back to the cluster's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// Value for worker nodes; `None`: fall back to the cluster's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Value for etcd nodes; `None`: fall back to the cluster's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etcd: Option<String>,
}

impl PerNodeType {
    /// The value given for node type `t`, if any (no fallback to the default).
    pub fn get(&self, t: NodeType) -> Option<&str> {
        match t {
            NodeType::Control => self.control.as_deref(),
            NodeType::Worker => self.worker.as_deref(),
            NodeType::Etcd => self.etcd.as_deref(),
        }
    }

    /// Sets (or with `None` clears) the value of node type `t`.
    pub fn set(&mut self, t: NodeType, value: Option<String>) {
        match t {
            NodeType::Control => self.control = value,
            NodeType::Worker => self.worker = value,
            NodeType::Etcd => self.etcd = value,
        }
    }
}

/// What a cluster is made of and how it is reached: everything about a cluster that is not an
/// index column. Persisted as one JSON document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSpec {
    /// Control-plane nodes (`controlnodes`, also shown as `masternodes`).
    pub control_nodes: u32,
    /// Workers (`size`).
    pub workers: u32,
    /// Dedicated etcd nodes (`etcdnodes`); 0 runs etcd on the control nodes.
    pub etcd_nodes: u32,
    /// The default offering (`serviceofferingid`).
    pub service_offering_id: Option<String>,
    /// Offerings given per node type (`nodeofferings`).
    pub node_offerings: PerNodeType,
    /// The default template.
    pub template_id: Option<String>,
    /// Templates given per node type (`nodetemplates`).
    pub node_templates: PerNodeType,
    /// `hypervisor` given at creation; `None`: any.
    pub hypervisor: Option<String>,
    /// Root disk of each node in GB (`noderootdisksize`); nodes get at least 8.
    pub root_disk_gb: i64,
    /// SSH key pair name installed on every node (`keypair`).
    pub keypair: Option<String>,
    /// Total vCPUs and MiB over all nodes.
    pub cores: i64,
    /// Total MiB over all nodes (shown as `memory`).
    pub memory_mib: i64,
    /// The public IP the API is reached on, and its id.
    pub endpoint_ip: Option<String>,
    /// Id of the public IP in `endpoint_ip`, when the service acquired one.
    pub public_ip_id: Option<String>,
    /// True when the service created the network and must delete it (`networkCleanup`).
    pub network_created: bool,
    /// `externalloadbalanceripaddress`; only on shared networks, where the service has no public IP
    /// to forward from.
    pub external_lb_ip: Option<String>,
    /// `autoscalingenabled`, set by `scaleKubernetesCluster autoscalingenabled=...`.
    pub autoscaling: bool,
    /// `minsize` of the autoscaler; `None` while autoscaling is off.
    pub min_size: Option<i64>,
    /// `maxsize` of the autoscaler; `None` while autoscaling is off.
    pub max_size: Option<i64>,
    /// The CNI configuration its nodes apply (`cniconfigurationid`); `None`: the default CNI.
    pub cni_config_id: Option<String>,
    /// Values for the CNI configuration's parameters (`cniconfigdetails`).
    pub cni_details: std::collections::BTreeMap<String, String>,
    /// `csienabled`, from `enablecsi`.
    pub csi_enabled: bool,
    /// Private Docker registry the nodes pull from (`dockerregistryurl`); its password is sealed in
    /// the cluster's secrets.
    pub registry_url: Option<String>,
    /// User name for `registry_url` (`dockerregistryusername`).
    pub registry_username: Option<String>,
    /// Set once creation deployed the dashboard; until then a `Starting` cluster shows no
    /// `endpoint`.
    pub dashboard_running: bool,
}

impl ClusterSpec {
    /// The offering of a node type: the per-type one, else the default.
    pub fn offering_for(&self, t: NodeType) -> Option<&str> {
        self.node_offerings
            .get(t)
            .or(self.service_offering_id.as_deref())
    }

    /// The template of a node type: the per-type one, else the default.
    pub fn template_for(&self, t: NodeType) -> Option<&str> {
        self.node_templates.get(t).or(self.template_id.as_deref())
    }

    /// Every node the cluster should have.
    pub fn total_nodes(&self) -> usize {
        // Widened before adding: three u32 counts cannot overflow a 64-bit usize.
        [self.control_nodes, self.workers, self.etcd_nodes]
            .into_iter()
            .map(|n| n as usize)
            .sum()
    }

    /// How many nodes of a type the cluster should have.
    pub fn count(&self, t: NodeType) -> u32 {
        match t {
            NodeType::Control => self.control_nodes,
            NodeType::Worker => self.workers,
            NodeType::Etcd => self.etcd_nodes,
        }
    }
}

/// Tag put on every cloud resource a cluster's operations create: key, value = cluster id.
pub const CLUSTER_TAG: &str = "cks.cluster.id";

#[cfg(test)]
mod tests;
