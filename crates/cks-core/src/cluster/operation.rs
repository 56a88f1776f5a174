//! Cluster operations as data: which operation a job runs ([`Operation`]), the steps it takes
//! ([`Step`], stored by name in the job's step journal), the pure plan of each operation
//! (`plan_create`, `plan_scale`, ...), and the job parameters that steer it ([`OperationParams`]).
//!
//! A plan is decided once, when the job first runs, from facts the orchestrator gathered before
//! (the cluster's spec, its nodes, the request); nothing here does I/O, so a plan is what these
//! functions' tests say it is.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::{ClusterSpec, ClusterState, NodeType};
use crate::settings;

/// Which operation a job runs; the command name decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `createKubernetesCluster`.
    Create,
    /// `startKubernetesCluster`.
    Start,
    /// `stopKubernetesCluster`.
    Stop,
    /// `scaleKubernetesCluster`.
    Scale,
    /// `upgradeKubernetesCluster`.
    Upgrade,
    /// `deleteKubernetesCluster`.
    Delete,
}

impl Operation {
    /// The operation an API command runs, if it is a cluster operation.
    pub fn of_command(command: &str) -> Option<Operation> {
        Some(match command {
            "createKubernetesCluster" => Operation::Create,
            "startKubernetesCluster" => Operation::Start,
            "stopKubernetesCluster" => Operation::Stop,
            "scaleKubernetesCluster" => Operation::Scale,
            "upgradeKubernetesCluster" => Operation::Upgrade,
            "deleteKubernetesCluster" => Operation::Delete,
            _ => return None,
        })
    }

    /// The name shown in the cluster's `operation` field.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Start => "start",
            Operation::Stop => "stop",
            Operation::Scale => "scale",
            Operation::Upgrade => "upgrade",
            Operation::Delete => "delete",
        }
    }

    /// The setting that bounds how long each step of this operation may take (waiting, and
    /// retrying transient failures).
    pub fn timeout_setting(self) -> &'static str {
        match self {
            Operation::Create | Operation::Start | Operation::Stop | Operation::Delete => {
                settings::CLUSTER_START_TIMEOUT
            }
            Operation::Scale => settings::CLUSTER_SCALE_TIMEOUT,
            Operation::Upgrade => settings::CLUSTER_UPGRADE_TIMEOUT,
        }
    }
}

/// One step of an operation. Its [`Display`](fmt::Display) is the name stored in the job's step
/// journal and shown in the cluster's `step`; [`FromStr`] reads it back, so stored journals keep
/// working.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    /// The cluster's network: the given one, or one made for it; implemented.
    Network,
    /// The network's source NAT IP becomes the API endpoint.
    PublicIp,
    /// Node names and guest addresses, fixed before any VM exists.
    PlanNodes,
    /// Certificates, bootstrap token and certificate key.
    Pki,
    /// The etcd nodes' VMs (none for most clusters: then it does nothing).
    DeployEtcdNodes,
    /// The VM that runs `kubeadm init`.
    DeployFirstControlNode,
    /// Every other node's VM at once.
    DeployOtherNodes,
    /// Firewall, port forwarding and the API load-balancer rule on the public IP.
    NetworkRules,
    /// The version's binaries ISO on every node VM.
    AttachIso,
    /// The API server answers on the public endpoint.
    WaitApi,
    /// Every Kubernetes node is Ready.
    WaitNodesReady,
    /// The ISO off every node VM.
    DetachIso,
    /// The admin kubeconfig.
    Kubeconfig,
    /// The dashboard pod runs.
    Dashboard,
    /// Every node VM started.
    StartVms,
    /// Every node VM stopped.
    StopVms,
    /// Node VMs moved to new offerings.
    ScaleOfferings,
    /// The workers a scale removes: drained, deleted, destroyed.
    RemoveNodes,
    /// The workers a scale adds: planned and deployed.
    AddWorkers,
    /// The autoscaling switch and bounds recorded.
    Autoscaling,
    /// The target version's binaries ISO on every node VM.
    AttachUpgradeIso,
    /// One node upgraded (stored as `upgrade-node:<node id>`).
    UpgradeNode {
        /// The node's id.
        node_id: String,
    },
    /// The ISO detached and the cluster's version set.
    FinishUpgrade,
    /// A delete waits for the operation it interrupted to stop.
    AwaitOperation,
    /// Every node VM (and every VM tagged with the cluster) destroyed.
    DestroyVms,
    /// The network the service made deleted.
    ReleaseNetwork,
    /// Whatever still carries the cluster's tag removed.
    Sweep,
}

/// The steps that carry no data, with their stored names.
const NAMED: [(Step, &str); 26] = [
    (Step::Network, "network"),
    (Step::PublicIp, "public-ip"),
    (Step::PlanNodes, "plan-nodes"),
    (Step::Pki, "pki"),
    (Step::DeployEtcdNodes, "deploy-etcd-nodes"),
    (Step::DeployFirstControlNode, "deploy-first-control-node"),
    (Step::DeployOtherNodes, "deploy-other-nodes"),
    (Step::NetworkRules, "network-rules"),
    (Step::AttachIso, "attach-iso"),
    (Step::WaitApi, "wait-api"),
    (Step::WaitNodesReady, "wait-nodes-ready"),
    (Step::DetachIso, "detach-iso"),
    (Step::Kubeconfig, "kubeconfig"),
    (Step::Dashboard, "dashboard"),
    (Step::StartVms, "start-vms"),
    (Step::StopVms, "stop-vms"),
    (Step::ScaleOfferings, "scale-offerings"),
    (Step::RemoveNodes, "remove-nodes"),
    (Step::AddWorkers, "add-workers"),
    (Step::Autoscaling, "autoscaling"),
    (Step::AttachUpgradeIso, "attach-upgrade-iso"),
    (Step::FinishUpgrade, "finish-upgrade"),
    (Step::AwaitOperation, "await-operation"),
    (Step::DestroyVms, "destroy-vms"),
    (Step::ReleaseNetwork, "release-network"),
    (Step::Sweep, "sweep"),
];

/// The stored name of `upgrade-node:<node id>` before its argument.
const UPGRADE_NODE: &str = "upgrade-node";

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Step::UpgradeNode { node_id } = self {
            return write!(f, "{UPGRADE_NODE}:{node_id}");
        }
        let name = NAMED
            .iter()
            .find(|(step, _)| step == self)
            .map_or("", |(_, name)| name);
        f.write_str(name)
    }
}

/// A stored step name no [`Step`] has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown step {0}")]
pub struct UnknownStep(pub String);

impl FromStr for Step {
    type Err = UnknownStep;

    fn from_str(name: &str) -> Result<Step, UnknownStep> {
        if let Some((UPGRADE_NODE, node_id)) = name.split_once(':')
            && !node_id.is_empty()
        {
            return Ok(Step::UpgradeNode {
                node_id: node_id.to_string(),
            });
        }
        NAMED
            .iter()
            .find(|(_, stored)| *stored == name)
            .map(|(step, _)| step.clone())
            .ok_or_else(|| UnknownStep(name.to_string()))
    }
}

/// Every create takes the same steps, whatever the cluster: a wave with nothing to deploy (no
/// etcd nodes, a single control node) does nothing, so every create journal reads alike.
pub fn plan_create() -> Vec<Step> {
    vec![
        Step::Network,
        Step::PublicIp,
        Step::PlanNodes,
        Step::Pki,
        Step::DeployEtcdNodes,
        Step::DeployFirstControlNode,
        Step::DeployOtherNodes,
        Step::NetworkRules,
        Step::AttachIso,
        Step::WaitApi,
        Step::WaitNodesReady,
        Step::DetachIso,
        Step::Kubeconfig,
        Step::Dashboard,
    ]
}

/// A start brings up every node VM and waits for Kubernetes.
pub fn plan_start() -> Vec<Step> {
    vec![Step::StartVms, Step::WaitApi, Step::WaitNodesReady]
}

/// A stop stops every node VM.
pub fn plan_stop() -> Vec<Step> {
    vec![Step::StopVms]
}

/// A delete waits for what it interrupted, then removes everything the cluster made.
pub fn plan_delete() -> Vec<Step> {
    vec![
        Step::AwaitOperation,
        Step::DestroyVms,
        Step::ReleaseNetwork,
        Step::Sweep,
    ]
}

/// The node types whose offering a scale can change, in the order it moves them.
pub const SCALED_TYPES: [NodeType; 3] = [NodeType::Control, NodeType::Etcd, NodeType::Worker];

/// The autoscaling part of a scale request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoscalingRequest {
    /// `autoscalingenabled=true`.
    pub enabled: bool,
    /// `minsize`, kept only when enabled.
    pub min_size: Option<i64>,
    /// `maxsize`, kept only when enabled.
    pub max_size: Option<i64>,
}

/// What a validated scale request asks for, read from the job parameters the handler wrote
/// (`offering.<type>`, `serviceofferingid`, `size`, `nodeids`, `autoscalingenabled`, `minsize`,
/// `maxsize`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScaleRequest {
    /// New offerings per node type, in [`SCALED_TYPES`] order.
    pub offerings: Vec<(NodeType, String)>,
    /// The cluster's new default offering.
    pub service_offering_id: Option<String>,
    /// The new number of workers.
    pub size: Option<u32>,
    /// The VMs of the workers to remove.
    pub node_ids: Option<Vec<String>>,
    /// The autoscaling switch and bounds.
    pub autoscaling: Option<AutoscalingRequest>,
}

impl ScaleRequest {
    /// Reads the request from a scale job's parameters.
    pub fn from_params(params: &BTreeMap<String, String>) -> ScaleRequest {
        let offerings = SCALED_TYPES
            .into_iter()
            .filter_map(|t| params.get(&format!("offering.{t}")).map(|o| (t, o.clone())))
            .collect();
        let autoscaling = params.get("autoscalingenabled").map(|v| {
            let enabled = v == "true";
            let bound = |key: &str| {
                params
                    .get(key)
                    .and_then(|v| v.parse().ok())
                    .filter(|_| enabled)
            };
            AutoscalingRequest {
                enabled,
                min_size: bound("minsize"),
                max_size: bound("maxsize"),
            }
        });
        ScaleRequest {
            offerings,
            service_offering_id: params.get("serviceofferingid").cloned(),
            size: params.get("size").and_then(|s| s.parse().ok()),
            node_ids: params
                .get("nodeids")
                .map(|ids| ids.split(',').map(String::from).collect()),
            autoscaling,
        }
    }
}

/// A scale: offerings first, then removals (by id, or down to a smaller size), then new workers
/// (up to a larger size), then the autoscaling settings. The rules are laid out again after
/// nodes go or come; new workers get the binaries ISO and are waited for.
pub fn plan_scale(spec: &ClusterSpec, request: &ScaleRequest) -> Vec<Step> {
    let mut steps = Vec::new();
    if !request.offerings.is_empty() {
        steps.push(Step::ScaleOfferings);
    }
    if request.node_ids.is_some() || request.size.is_some_and(|s| s < spec.workers) {
        steps.extend([Step::RemoveNodes, Step::NetworkRules]);
    }
    if request.size.is_some_and(|s| s > spec.workers) {
        steps.extend([
            Step::AddWorkers,
            Step::NetworkRules,
            Step::AttachIso,
            Step::WaitNodesReady,
            Step::DetachIso,
        ]);
    }
    if request.autoscaling.is_some() {
        steps.push(Step::Autoscaling);
    }
    steps
}

/// What an upgrade's plan needs to know of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFacts {
    /// The node's id.
    pub id: String,
    /// Control, worker or etcd.
    pub node_type: NodeType,
    /// Excluded from upgrades (etcd nodes, nodes the user upgrades).
    pub manual_upgrade: bool,
    /// The order the node was added in.
    pub seq: i64,
}

/// An upgrade: the target's ISO on every node, then one step per node that follows upgrades
/// (control nodes first, each type in the order its nodes were added), then the finish.
pub fn plan_upgrade(nodes: &[NodeFacts]) -> Vec<Step> {
    let mut upgraded: Vec<&NodeFacts> = nodes
        .iter()
        .filter(|n| !n.manual_upgrade && n.node_type != NodeType::Etcd)
        .collect();
    upgraded.sort_by_key(|n| (n.node_type != NodeType::Control, n.seq));
    let mut steps = vec![Step::AttachUpgradeIso];
    steps.extend(upgraded.iter().map(|n| Step::UpgradeNode {
        node_id: n.id.clone(),
    }));
    steps.push(Step::FinishUpgrade);
    steps
}

/// The job parameter that marks a job with nothing to do.
const NO_OP: &str = "cks.noop";
/// The job parameter naming the transient state an operation runs in.
const RUNS_IN: &str = "cks.runsin";
/// The job parameter of a retry: the job whose attempt it repeats.
const RETRY_OF: &str = "cks.retryof";

/// An operation job's parameters: what steers the orchestrator, typed, and the request the
/// handler validated. Stored as one flat map (the steering keys are `cks.noop`, `cks.runsin`
/// and `cks.retryof` beside the request's names), so rows written before still load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationParams {
    /// Nothing to do: a start of a running cluster, a stop of a stopped one, an externally
    /// managed cluster's create or delete.
    pub no_op: bool,
    /// The transient state the operation runs in (a retry re-enters it).
    pub runs_in: Option<ClusterState>,
    /// The job whose attempt this one repeats (and whose done steps it keeps).
    pub retry_of: Option<String>,
    /// The request's parameters (`size`, `nodeids`, `kubernetesversionid`, `forced`, ...).
    pub request: BTreeMap<String, String>,
}

impl OperationParams {
    /// A job with nothing to do.
    pub fn no_op() -> OperationParams {
        OperationParams {
            no_op: true,
            ..OperationParams::default()
        }
    }

    /// A job for this request.
    pub fn for_request(request: BTreeMap<String, String>) -> OperationParams {
        OperationParams {
            request,
            ..OperationParams::default()
        }
    }

    /// Reads the stored form.
    pub fn from_stored(mut stored: BTreeMap<String, String>) -> OperationParams {
        let no_op = stored.remove(NO_OP).is_some_and(|v| v == "true");
        let runs_in = stored.remove(RUNS_IN).and_then(|s| ClusterState::parse(&s));
        let retry_of = stored.remove(RETRY_OF);
        OperationParams {
            no_op,
            runs_in,
            retry_of,
            request: stored,
        }
    }

    /// The stored form: the request with the steering keys beside it.
    pub fn to_stored(&self) -> BTreeMap<String, String> {
        let mut stored = self.request.clone();
        if self.no_op {
            stored.insert(NO_OP.into(), "true".into());
        }
        if let Some(state) = self.runs_in {
            stored.insert(RUNS_IN.into(), state.as_str().into());
        }
        if let Some(job) = &self.retry_of {
            stored.insert(RETRY_OF.into(), job.clone());
        }
        stored
    }

    /// A request parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.request.get(name).map(String::as_str)
    }
}

#[cfg(test)]
mod tests;
