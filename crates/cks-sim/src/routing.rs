//! Where the simulated network's rules lead: pure questions about the IaaS inventory that the
//! simulated Kubernetes side asks, answered once here instead of by each of its parts. Which VMs
//! a public IP and port forward to (port-forwarding and load-balancer rules), whether an
//! ingress firewall rule admits a loopback client, which VM holds a guest address, which public
//! IPs lead to a VM, which public IP a rule or an IP object sits on.
//!
//! Nothing here knows Kubernetes: the private port asked about (6443 for API servers) is the
//! caller's.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use cks_core::iaas::{
    FirewallRule, LbProtocol, LoadBalancerRule, Network, PortForwardingRule, Protocol, PublicIp,
    RuleState, Vm, parse_cidr, prefix_mask,
};

use crate::inventory::{Inventory, Object};

/// Where clients of simulated endpoints connect from.
pub(crate) const CLIENT: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// (public IP id, public port, VMs behind it) for every TCP rule that leads to `private_port`:
/// only the rules of the IPs in `ips` (through the index; every rule when `None`) for which
/// `wanted` holds.
pub(crate) fn routes_to<'a>(
    inv: &'a Inventory,
    ips: Option<&BTreeSet<String>>,
    wanted: &dyn Fn(&str) -> bool,
    private_port: u16,
) -> Vec<(&'a str, u16, Vec<&'a str>)> {
    let mut res = Vec::new();
    let (pf, lb): (Vec<&PortForwardingRule>, Vec<&LoadBalancerRule>) = match ips {
        Some(ips) => (
            ips.iter()
                .flat_map(|ip| inv.rules_on_ip::<PortForwardingRule>(ip))
                .collect(),
            ips.iter()
                .flat_map(|ip| inv.rules_on_ip::<LoadBalancerRule>(ip))
                .collect(),
        ),
        None => (
            inv.all::<PortForwardingRule>().collect(),
            inv.all::<LoadBalancerRule>().collect(),
        ),
    };
    for r in pf {
        if r.protocol != Protocol::Tcp || !wanted(&r.ip_id) {
            continue;
        }
        if (r.private_start_port..=r.private_end_port).contains(&private_port) {
            let port = r.public_start_port + (private_port - r.private_start_port);
            res.push((r.ip_id.as_str(), port, vec![r.vm_id.as_str()]));
        }
    }
    for r in lb {
        if r.protocol == LbProtocol::Udp || r.private_port != private_port || !wanted(&r.ip_id) {
            continue;
        }
        res.push((
            r.ip_id.as_str(),
            r.public_port,
            r.vm_ids.iter().map(String::as_str).collect(),
        ));
    }
    res
}

/// The VMs a loopback client reaches at `ip:port` on their `private_port`: the first rule
/// forwarding that public port there, if the firewall admits it (faults aside).
pub(crate) fn vms_behind<'a>(
    inv: &'a Inventory,
    ip: &PublicIp,
    port: u16,
    private_port: u16,
) -> Vec<&'a str> {
    let only = BTreeSet::from([ip.id.clone()]);
    let routes = routes_to(inv, Some(&only), &|id| id == ip.id, private_port);
    match routes.into_iter().find(|(_, p, _)| *p == port) {
        Some((_, _, vms)) if firewall_allows(inv, ip, port) => vms,
        _ => Vec::new(),
    }
}

/// Does an ingress rule on the IP admit TCP `port` from loopback? VPC tiers use ACLs, which are
/// not simulated: always.
pub(crate) fn firewall_allows(inv: &Inventory, ip: &PublicIp, port: u16) -> bool {
    let in_vpc = ip.vpc_id.is_some()
        || ip
            .network_id
            .as_deref()
            .and_then(|n| inv.get::<Network>(n))
            .is_some_and(|n| n.vpc_id.is_some());
    if in_vpc {
        return true;
    }
    inv.rules_on_ip::<FirewallRule>(&ip.id).any(|r| {
        r.state == RuleState::Active
            && matches!(r.protocol, Protocol::Tcp | Protocol::All)
            && match (r.start_port, r.end_port) {
                (Some(start), Some(end)) => (start..=end).contains(&port),
                _ => true,
            }
            && r.cidrs.iter().any(|c| cidr_contains(c, CLIENT))
    })
}

fn cidr_contains(cidr: &str, addr: Ipv4Addr) -> bool {
    match parse_cidr(cidr) {
        Some((net, len)) => u32::from(addr) & prefix_mask(len) == u32::from(net) & prefix_mask(len),
        None => false,
    }
}

/// Another VM holding guest address `addr` in one of `vm`'s networks: whom `vm` reaches there.
pub(crate) fn peer_at<'a>(inv: &'a Inventory, vm: &Vm, addr: Ipv4Addr) -> Option<&'a Vm> {
    vm.nics.iter().find_map(|nic| {
        inv.find::<Vm>(|other| {
            other.id != vm.id
                && other
                    .nic_in(&nic.network_id)
                    .is_some_and(|n| n.ip_address == addr)
        })
    })
}

/// Public IPs with a port-forwarding or load-balancer rule to one of these VMs.
pub(crate) fn ips_leading_to(inv: &Inventory, vm_ids: &[&str]) -> BTreeSet<String> {
    vm_ids
        .iter()
        .flat_map(|vm| inv.rule_ips_of_vm(vm))
        .map(str::to_string)
        .collect()
}

/// The public IP (by id) a rule sits on.
pub(crate) fn rule_ip(obj: &Object) -> Option<&str> {
    match obj {
        Object::FirewallRule(r) => Some(&r.ip_id),
        Object::PortForwardingRule(r) => Some(&r.ip_id),
        Object::LoadBalancerRule(r) => Some(&r.ip_id),
        _ => None,
    }
}

/// The public address of an IP or of the IP a rule sits on.
pub(crate) fn public_address(obj: &Object) -> Option<Ipv4Addr> {
    match obj {
        Object::PublicIp(ip) => Some(ip.address),
        Object::FirewallRule(r) => Some(r.ip_address),
        Object::PortForwardingRule(r) => Some(r.ip_address),
        Object::LoadBalancerRule(r) => Some(r.ip_address),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_are_matched_against_loopback_clients() {
        assert!(cidr_contains("0.0.0.0/0", CLIENT));
        assert!(cidr_contains("127.0.0.0/8", CLIENT));
        assert!(!cidr_contains("10.0.0.0/8", CLIENT));
        assert!(!cidr_contains("garbage", CLIENT));
    }
}
