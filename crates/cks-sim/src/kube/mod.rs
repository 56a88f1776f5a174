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

#[cfg(test)]
mod tests {
    use super::guest::{GuestNode, KubeCluster};
    use crate::inventory::{Kind, Object, Stored};

    /// Inventories stored before the Kubernetes side's records became opaque keep loading: the
    /// kind names and JSON bodies are the same.
    #[test]
    fn records_stored_under_the_old_kind_names_decode_to_the_kube_types() {
        let node = r#"{"id":"vm-1","role":"control-init","version":"1.32.4","api_server":null,
            "cluster_id":"vm-1","unschedulable":false,"drained":false,"deleted":false,
            "joined":5,"created":5}"#;
        let obj = Object::decode("sim.guestnode", node)
            .expect("decodes")
            .expect("a known kind");
        assert_eq!(obj.kind(), Kind::Record("sim.guestnode"));
        assert_eq!(obj.kind(), GuestNode::KIND);
        let back = GuestNode::unwrap_ref(&obj).expect("a GuestNode");
        assert_eq!(back.cluster_id.as_deref(), Some("vm-1"));
        assert_eq!(Kind::parse("sim.kubecluster"), Some(KubeCluster::KIND));
        let again = Object::decode("sim.guestnode", &obj.encode().expect("encodes"))
            .expect("decodes")
            .expect("a known kind");
        assert_eq!(GuestNode::unwrap_ref(&again), Some(back));
        assert!(KubeCluster::unwrap_ref(&obj).is_none());
    }
}
