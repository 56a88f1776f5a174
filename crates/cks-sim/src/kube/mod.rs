//! The simulated Kubernetes side: what the simulator's VMs become once they boot cks's user
//! data. The guest agent (`guest`) installs nodes and founds and joins clusters, `endpoints`
//! decides which public addresses serve a cluster's API and runs their listeners, `api` answers
//! kubectl over TLS, and `objects` renders the Kubernetes objects it shows.
//!
//! Its records (installed nodes, clusters) live in the IaaS inventory as opaque records
//! (`inventory::Record`), so they persist and roll back with the mutation that made them, but
//! the inventory never names them; what rules route where is asked of `crate::routing`.

pub(crate) mod api;
pub(crate) mod endpoints;
pub(crate) mod guest;
pub(crate) mod objects;

use crate::inventory::RecordKind;

/// The records this side keeps in the inventory, for reading a stored inventory back.
pub(crate) const RECORD_KINDS: &[RecordKind] = &[
    RecordKind::of::<guest::GuestNode>(),
    RecordKind::of::<guest::KubeCluster>(),
];
