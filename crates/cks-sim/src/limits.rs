//! Account resource limits, after CloudStack's `ResourceLimitService`: user VMs, CPUs, memory,
//! public IPs and networks per account, refused with CloudStack's text (535) when a deploy,
//! scale, IP acquisition or network creation would exceed them.
//!
//! Each account may have its own limits (set with `Simulator::set_resource_limit`, persisted);
//! otherwise the seed's `[limits]` table applies, and without one nothing is limited. Usage is
//! counted from the inventory at the time of the check, as CloudStack's resource counts: every
//! VM that exists (running or not) counts with its vCPUs and memory, and every public IP, source
//! NAT included.

use std::collections::BTreeMap;

use cks_core::iaas::{Network, PublicIp, Vm};
use cks_core::tenancy::Owner;
use serde::{Deserialize, Serialize};

use crate::inventory::Inventory;
use cks_cloud::CloudError;

/// A kind of account resource limit, with CloudStack's `resourcetype` number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// User VMs (type 0).
    UserVm,
    /// Public IP addresses (type 1).
    PublicIp,
    /// Guest networks (type 6).
    Network,
    /// vCPUs (type 8).
    Cpu,
    /// Memory in MiB (type 9).
    Memory,
}

impl LimitKind {
    pub const ALL: [LimitKind; 5] = [
        LimitKind::UserVm,
        LimitKind::PublicIp,
        LimitKind::Network,
        LimitKind::Cpu,
        LimitKind::Memory,
    ];

    /// CloudStack's `resourcetype` number.
    pub fn resource_type(self) -> u8 {
        match self {
            LimitKind::UserVm => 0,
            LimitKind::PublicIp => 1,
            LimitKind::Network => 6,
            LimitKind::Cpu => 8,
            LimitKind::Memory => 9,
        }
    }

    pub fn from_resource_type(number: u8) -> Option<LimitKind> {
        LimitKind::ALL
            .into_iter()
            .find(|k| k.resource_type() == number)
    }

    /// CloudStack's `resourcetypename`, as its limit messages print it.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::UserVm => "user_vm",
            LimitKind::PublicIp => "public_ip",
            LimitKind::Network => "network",
            LimitKind::Cpu => "cpu",
            LimitKind::Memory => "memory",
        }
    }
}

impl std::fmt::Display for LimitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One limit of an account as `Simulator::resource_limits` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceLimit {
    pub kind: LimitKind,
    /// `None`: unlimited (CloudStack's `-1`).
    pub max: Option<u64>,
    /// What the account uses now.
    pub used: u64,
}

/// The limits that apply to accounts without their own: the seed's `[limits]` table.
pub(crate) type LimitDefaults = BTreeMap<LimitKind, u64>;

/// An account's own limits, stored in the inventory under the account id. A kind that is absent
/// falls back to the default; `None` is explicitly unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccountLimits {
    /// The account id.
    pub(crate) id: String,
    pub(crate) limits: BTreeMap<LimitKind, Option<u64>>,
    pub(crate) created: i64,
}

/// The limit in force for an account.
pub(crate) fn max_of(inv: &Inventory, account_id: &str, kind: LimitKind) -> Option<u64> {
    match inv
        .get::<AccountLimits>(account_id)
        .and_then(|a| a.limits.get(&kind))
    {
        Some(own) => *own,
        None => inv.limit_defaults.get(&kind).copied(),
    }
}

/// What an account uses of a kind now.
pub(crate) fn usage(inv: &Inventory, account_id: &str, kind: LimitKind) -> u64 {
    let vms = || {
        inv.all::<Vm>()
            .filter(|vm| vm.owner.account_id == account_id)
    };
    match kind {
        LimitKind::UserVm => vms().count() as u64,
        LimitKind::Cpu => vms().map(|vm| u64::from(vm.cpu_number)).sum(),
        LimitKind::Memory => vms().map(|vm| vm.memory_mib).sum(),
        LimitKind::PublicIp => inv
            .all::<PublicIp>()
            .filter(|ip| ip.owner.account_id == account_id)
            .count() as u64,
        LimitKind::Network => inv
            .all::<Network>()
            .filter(|n| n.owner.account_id == account_id)
            .count() as u64,
    }
}

/// Refuses `more` of `kind` for the owner's account when that would exceed its limit.
pub(crate) fn check(
    inv: &Inventory,
    owner: &Owner,
    kind: LimitKind,
    more: u64,
) -> Result<(), CloudError> {
    if more == 0 {
        return Ok(());
    }
    let Some(max) = max_of(inv, &owner.account_id, kind) else {
        return Ok(());
    };
    if usage(inv, &owner.account_id, kind).saturating_add(more) <= max {
        return Ok(());
    }
    Err(CloudError::LimitExceeded(format!(
        "Maximum number of resources of type '{kind}' for account name={} in domain id={} has been exceeded.",
        owner.account_name, owner.domain_id
    )))
}

/// Sets (or with `None`, lifts) one limit of an account.
pub(crate) fn set(
    inv: &mut Inventory,
    account_id: &str,
    kind: LimitKind,
    max: Option<u64>,
    now: i64,
) -> Result<(), CloudError> {
    if account_id.trim().is_empty() {
        return Err(CloudError::invalid("Please specify an account id"));
    }
    let mut limits = inv
        .get::<AccountLimits>(account_id)
        .cloned()
        .unwrap_or_else(|| AccountLimits {
            id: account_id.to_string(),
            limits: BTreeMap::new(),
            created: now,
        });
    limits.limits.insert(kind, max);
    inv.put(limits);
    Ok(())
}

/// Every limit of an account with its usage.
pub(crate) fn report(inv: &Inventory, account_id: &str) -> Vec<ResourceLimit> {
    LimitKind::ALL
        .into_iter()
        .map(|kind| ResourceLimit {
            kind,
            max: max_of(inv, account_id, kind),
            used: usage(inv, account_id, kind),
        })
        .collect()
}
