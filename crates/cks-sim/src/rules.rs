//! Network-rule conflicts on one public IP, after CloudStack's `FirewallManagerImpl
//! .detectRulesConflict`, with its texts.
//!
//! * Firewall rules only conflict with firewall rules of the same protocol and the same CIDRs.
//! * Port-forwarding and load-balancer rules conflict when their public port ranges overlap,
//!   except two port forwards of different protocols.

use cks_core::iaas::{FirewallRule, LoadBalancerRule, PortForwardingRule};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Firewall,
    PortForwarding,
    LoadBalancing,
}

/// What conflict detection needs to know about a rule.
#[derive(Debug, Clone)]
pub(crate) struct RuleView<'a> {
    pub(crate) id: &'a str,
    pub(crate) purpose: Purpose,
    pub(crate) protocol: &'a str,
    pub(crate) ports: Option<(u16, u16)>,
    pub(crate) cidrs: &'a [String],
}

impl<'a> RuleView<'a> {
    pub(crate) fn firewall(r: &'a FirewallRule) -> RuleView<'a> {
        let ports = match (r.start_port, r.end_port) {
            (Some(s), Some(e)) => Some((s, e)),
            _ => None,
        };
        RuleView {
            id: &r.id,
            purpose: Purpose::Firewall,
            protocol: r.protocol.as_str(),
            ports,
            cidrs: &r.cidrs,
        }
    }

    pub(crate) fn port_forwarding(r: &'a PortForwardingRule) -> RuleView<'a> {
        RuleView {
            id: &r.id,
            purpose: Purpose::PortForwarding,
            protocol: r.protocol.as_str(),
            ports: Some((r.public_start_port, r.public_end_port)),
            cidrs: &r.cidrs,
        }
    }

    pub(crate) fn load_balancer(r: &'a LoadBalancerRule) -> RuleView<'a> {
        RuleView {
            id: &r.id,
            purpose: Purpose::LoadBalancing,
            protocol: r.protocol.as_str(),
            ports: Some((r.public_port, r.public_port)),
            cidrs: &r.cidrs,
        }
    }
}

/// The conflict text if `new` may not be added next to `existing` (all on the same IP).
pub(crate) fn detect_conflict<'a>(
    new: &RuleView<'_>,
    existing: impl IntoIterator<Item = RuleView<'a>>,
) -> Option<String> {
    for rule in existing {
        if rule.id == new.id {
            continue;
        }
        let same_protocol = rule.protocol.eq_ignore_ascii_case(new.protocol);
        let one_is_firewall = (rule.purpose == Purpose::Firewall
            || new.purpose == Purpose::Firewall)
            && (rule.purpose != new.purpose || !same_protocol);
        let both_firewall = rule.purpose == Purpose::Firewall && new.purpose == Purpose::Firewall;
        let same_cidrs = both_firewall && same_set(rule.cidrs, new.cidrs);

        if both_firewall
            && same_cidrs
            && same_protocol
            && rule.ports.is_none()
            && new.ports.is_none()
            && new.protocol != "icmp"
        {
            return Some(format!(
                "There is already a firewall rule specified with protocol = {} and no ports",
                new.protocol
            ));
        }
        let (Some((s1, e1)), Some((s2, e2))) = (rule.ports, new.ports) else {
            continue;
        };
        let overlap = s1 <= e2 && s2 <= e1;
        if !overlap || one_is_firewall || (both_firewall && !same_cidrs) {
            continue;
        }
        let allow_pf = rule.purpose == Purpose::PortForwarding
            && new.purpose == Purpose::PortForwarding
            && !same_protocol;
        if !allow_pf {
            return Some(format!(
                "The range specified, {s2}-{e2}, conflicts with rule {} which has {s1}-{e1}",
                rule.id
            ));
        }
    }
    None
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let mut a: Vec<&str> = a.iter().map(|s| s.trim()).collect();
    let mut b: Vec<&str> = b.iter().map(|s| s.trim()).collect();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(
        id: &'a str,
        purpose: Purpose,
        protocol: &'a str,
        ports: Option<(u16, u16)>,
        cidrs: &'a [String],
    ) -> RuleView<'a> {
        RuleView {
            id,
            purpose,
            protocol,
            ports,
            cidrs,
        }
    }

    #[test]
    fn overlapping_port_forwards_conflict_with_cloudstacks_text() {
        let any = vec!["0.0.0.0/0".to_string()];
        let old = view(
            "r1",
            Purpose::PortForwarding,
            "tcp",
            Some((2222, 2224)),
            &any,
        );
        let new = view(
            "r2",
            Purpose::PortForwarding,
            "tcp",
            Some((2224, 2230)),
            &any,
        );
        assert_eq!(
            detect_conflict(&new, [old.clone()]).as_deref(),
            Some("The range specified, 2224-2230, conflicts with rule r1 which has 2222-2224")
        );
        let udp = view(
            "r3",
            Purpose::PortForwarding,
            "udp",
            Some((2222, 2222)),
            &any,
        );
        assert_eq!(
            detect_conflict(&udp, [old.clone()]),
            None,
            "different protocols may share ports"
        );
        let lb = view(
            "r4",
            Purpose::LoadBalancing,
            "udp",
            Some((2223, 2223)),
            &any,
        );
        assert!(
            detect_conflict(&lb, [old]).is_some(),
            "LB and PF never share ports"
        );
    }

    #[test]
    fn firewall_rules_conflict_only_with_same_protocol_and_cidrs() {
        let any = vec!["0.0.0.0/0".to_string()];
        let office = vec!["127.0.0.0/8".to_string()];
        let old = view("f1", Purpose::Firewall, "tcp", Some((6443, 6443)), &any);
        let pf = view(
            "p1",
            Purpose::PortForwarding,
            "tcp",
            Some((6443, 6443)),
            &any,
        );
        assert_eq!(
            detect_conflict(&pf, [old.clone()]),
            None,
            "firewall and PF rules complement each other"
        );
        let other_cidr = view("f2", Purpose::Firewall, "tcp", Some((6443, 6443)), &office);
        assert_eq!(detect_conflict(&other_cidr, [old.clone()]), None);
        let same = view("f3", Purpose::Firewall, "tcp", Some((6440, 6450)), &any);
        assert!(detect_conflict(&same, [old]).is_some());
        let all1 = view("f4", Purpose::Firewall, "all", None, &any);
        let all2 = view("f5", Purpose::Firewall, "all", None, &any);
        assert_eq!(
            detect_conflict(&all2, [all1]).as_deref(),
            Some("There is already a firewall rule specified with protocol = all and no ports")
        );
    }
}
