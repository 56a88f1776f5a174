//! Fault injection: what tests and the admin command can make the simulated cloud do wrong.
//!
//! Faults live in memory only: a restart of the service heals the cloud, except for what a fault
//! already did to the inventory (a VM stopped behind the service's back stays stopped).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// A fault to inject with `Simulator::inject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// The next `count` VM deploys fail to find a host: the VM is left in `Error` and the call
    /// answers `InsufficientCapacity` (533), as a real first start that fails does.
    FailVmDeploys { count: u32 },
    /// While on, no host has room: deploys and starts fail with `InsufficientCapacity`.
    ExhaustCapacity { on: bool },
    /// The Kubernetes API endpoints served on this public IP (by id) stop or resume answering:
    /// while set, nothing listens there (connection refused). Nodes joining through the IP are
    /// not affected.
    EndpointUnreachable {
        public_ip_id: String,
        unreachable: bool,
    },
    /// The VM stops on its own (a crash or a guest shutdown), without any call.
    StopVm { vm_id: String },
    /// The next `count` cloud calls fail with `Unavailable` (534) before doing anything.
    Unavailable { count: u32 },
}

/// The faults in force.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub(crate) fail_vm_deploys: u32,
    pub(crate) exhaust_capacity: bool,
    pub(crate) unreachable_endpoints: BTreeSet<String>,
    pub(crate) unavailable_calls: u32,
}

impl FaultState {
    /// Consumes one failing deploy, if any is pending.
    pub(crate) fn take_deploy_failure(&mut self) -> bool {
        let fail = self.fail_vm_deploys > 0;
        self.fail_vm_deploys = self.fail_vm_deploys.saturating_sub(1);
        fail
    }

    /// Consumes one unavailable call, if any is pending.
    pub(crate) fn take_unavailable(&mut self) -> bool {
        let fail = self.unavailable_calls > 0;
        self.unavailable_calls = self.unavailable_calls.saturating_sub(1);
        fail
    }
}
