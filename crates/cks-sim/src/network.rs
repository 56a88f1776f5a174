//! Networks, VPCs, public IPs and the rules on them, as operations on the inventory.

use std::net::Ipv4Addr;

use cks_core::iaas::{
    FirewallRule, GuestIpType, IpState, LoadBalancerRule, Network, NetworkOffering,
    NetworkOfferingState, NetworkState, PortForwardingRule, Protocol, PublicIp, PublicIpRange,
    ResourceKind, RuleState, Tags, Vm, Vpc, VpcState, Zone, mask_len, parse_cidr, prefix_mask,
    same_owner,
};
use cks_core::tenancy::Owner;

use crate::inventory::Inventory;
use crate::limits::{self, LimitKind};
use crate::new_id;
use crate::rules::{RuleView, detect_conflict};
use crate::seed::stable_id;
use cks_cloud::CloudError;
use cks_cloud::{
    FirewallRuleSpec, LoadBalancerSpec, NetworkSpec, PortForwardingSpec, PublicIpSpec, VpcSpec,
};

const ANYWHERE: &str = "0.0.0.0/0";

// === Networks ===

pub(crate) fn create_network(
    inv: &mut Inventory,
    spec: &NetworkSpec,
    now: i64,
) -> Result<Network, CloudError> {
    if spec.name.trim().is_empty() {
        return Err(CloudError::invalid("Network name must not be empty"));
    }
    if let Some(existing) = find_network(inv, &spec.name, &spec.owner) {
        return Ok(existing.clone());
    }
    let zone = inv.need::<Zone>(&spec.zone_id)?.clone();
    limits::check(inv, &spec.owner, LimitKind::Network, 1)?;
    let offering = inv.need::<NetworkOffering>(&spec.offering_id)?.clone();
    if offering.state != NetworkOfferingState::Enabled {
        return Err(CloudError::invalid(format!(
            "Network offering with specified id is not in Enabled state: {}",
            offering.id
        )));
    }
    if offering.guest_ip_type != GuestIpType::Isolated {
        return Err(CloudError::invalid(format!(
            "The simulated cloud only creates Isolated networks; offering {} is {}",
            offering.name, offering.guest_ip_type
        )));
    }
    let (gateway, netmask) = match (spec.gateway, spec.netmask) {
        (Some(g), Some(m)) => (g, m),
        (None, None) if spec.vpc_id.is_some() => {
            return Err(CloudError::invalid(
                "Gateway and netmask are required for a VPC tier",
            ));
        }
        (None, None) => {
            let (net, len) = parse_cidr(&zone.guest_cidr).ok_or_else(|| {
                CloudError::Internal(format!("zone {} has a bad guest CIDR", zone.name))
            })?;
            (
                Ipv4Addr::from(u32::from(net) + 1),
                Ipv4Addr::from(prefix_mask(len)),
            )
        }
        _ => {
            return Err(CloudError::invalid(
                "gateway and netmask should be defined together",
            ));
        }
    };
    let len = mask_len(netmask)
        .filter(|l| *l <= 30)
        .ok_or_else(|| CloudError::invalid(format!("Invalid netmask {netmask}")))?;
    let base = u32::from(gateway) & prefix_mask(len);
    let cidr = format!("{}/{len}", Ipv4Addr::from(base));
    if u32::from(gateway) == base || u32::from(gateway) == base | !prefix_mask(len) {
        return Err(CloudError::invalid(format!(
            "The gateway {gateway} is not a host address of {cidr}"
        )));
    }
    match &spec.vpc_id {
        Some(vpc_id) => {
            let vpc = inv.need::<Vpc>(vpc_id)?;
            if !offering.for_vpc {
                return Err(CloudError::invalid(format!(
                    "Network offering {} can't be used for VPC networks",
                    offering.name
                )));
            }
            let (vpc_net, vpc_len) = parse_cidr(&vpc.cidr)
                .ok_or_else(|| CloudError::Internal(format!("VPC {} has a bad CIDR", vpc.name)))?;
            if len < vpc_len || (base & prefix_mask(vpc_len)) != u32::from(vpc_net) {
                return Err(CloudError::invalid(format!(
                    "Network cidr {cidr} is not within vpc {} cidr {}",
                    vpc.name, vpc.cidr
                )));
            }
            let overlapping = inv.all::<Network>().find(|n| {
                n.vpc_id.as_deref() == Some(vpc_id.as_str()) && cidrs_overlap(&n.cidr, &cidr)
            });
            if let Some(other) = overlapping {
                return Err(CloudError::invalid(format!(
                    "Network cidr {cidr} overlaps with tier {} ({})",
                    other.name, other.cidr
                )));
            }
        }
        None if offering.for_vpc => {
            return Err(CloudError::invalid(format!(
                "Network offering {} can only be used for VPC tiers",
                offering.name
            )));
        }
        None => {}
    }
    let network = Network {
        id: new_id(),
        name: spec.name.clone(),
        display_text: spec
            .display_text
            .clone()
            .unwrap_or_else(|| spec.name.clone()),
        zone_id: zone.id.clone(),
        offering_id: offering.id.clone(),
        guest_type: offering.guest_ip_type,
        state: NetworkState::Allocated,
        cidr,
        gateway,
        netmask,
        vlan: None,
        network_domain: spec
            .network_domain
            .clone()
            .or(zone.network_domain.clone())
            .unwrap_or_else(|| "cks.internal".into()),
        vpc_id: spec.vpc_id.clone(),
        owner: spec.owner.clone(),
        tags: spec.tags.clone(),
        created: now,
    };
    inv.put(network.clone());
    if offering.is_persistent {
        return implement_network(inv, &network.id, now);
    }
    Ok(network)
}

pub(crate) fn find_network<'a>(
    inv: &'a Inventory,
    name: &str,
    owner: &Owner,
) -> Option<&'a Network> {
    inv.find::<Network>(|n| n.name == name && same_owner(&n.owner, owner))
}

/// Gives an `Allocated` network its VLAN and, for isolated networks with source NAT outside a
/// VPC, its source NAT IP; IPs waiting in `Allocating` become `Allocated`.
pub(crate) fn implement_network(
    inv: &mut Inventory,
    network_id: &str,
    now: i64,
) -> Result<Network, CloudError> {
    let mut network = inv.need::<Network>(network_id)?.clone();
    if network.state == NetworkState::Implemented {
        return Ok(network);
    }
    let offering = inv.need::<NetworkOffering>(&network.offering_id)?.clone();
    let used: std::collections::HashSet<u32> =
        inv.all::<Network>().filter_map(|n| n.vlan).collect();
    let (first, last) = inv.vnets.unwrap_or(crate::seed::DEFAULT_VNETS);
    let vlan = (first..=last).find(|v| !used.contains(v)).ok_or_else(|| {
        CloudError::InsufficientCapacity("Unable to allocate a VLAN: all are in use".into())
    })?;
    // The source NAT IP first: if the zone has no free address, nothing has changed yet.
    let has_source_nat = inv
        .all::<PublicIp>()
        .any(|ip| ip.is_source_nat && ip.network_id.as_deref() == Some(network_id));
    if network.vpc_id.is_none() && offering.has_service("SourceNat") && !has_source_nat {
        allocate_ip(
            inv,
            &network.zone_id,
            &network.owner,
            Some(network_id),
            None,
            true,
            Tags::new(),
            now,
        )?;
    }
    network.vlan = Some(vlan);
    network.state = NetworkState::Implemented;
    inv.put(network.clone());
    let waiting: Vec<PublicIp> = inv
        .all::<PublicIp>()
        .filter(|ip| {
            ip.network_id.as_deref() == Some(network_id) && ip.state == IpState::Allocating
        })
        .cloned()
        .collect();
    for mut ip in waiting {
        ip.state = IpState::Allocated;
        inv.put(ip);
    }
    Ok(network)
}

/// Deletes a network with its IPs and rules. Refused while a VM has a NIC in it.
pub(crate) fn delete_network(inv: &mut Inventory, id: &str) -> Result<bool, CloudError> {
    if inv.get::<Network>(id).is_none() {
        return Ok(false);
    }
    if inv.all::<Vm>().any(|vm| vm.nic_in(id).is_some()) {
        return Err(CloudError::Internal("Failed to delete network".into()));
    }
    let ips: Vec<String> = inv
        .all::<PublicIp>()
        .filter(|ip| ip.network_id.as_deref() == Some(id))
        .map(|ip| ip.id.clone())
        .collect();
    for ip in ips {
        remove_ip_with_rules(inv, &ip);
    }
    remove_rules(inv, |net| net == id);
    inv.remove::<Network>(id);
    Ok(true)
}

// === VPCs ===

pub(crate) fn create_vpc(inv: &mut Inventory, spec: &VpcSpec, now: i64) -> Result<Vpc, CloudError> {
    if spec.name.trim().is_empty() {
        return Err(CloudError::invalid("VPC name must not be empty"));
    }
    if let Some(existing) =
        inv.find::<Vpc>(|v| v.name == spec.name && same_owner(&v.owner, &spec.owner))
    {
        return Ok(existing.clone());
    }
    let zone = inv.need::<Zone>(&spec.zone_id)?.clone();
    let (net, len) = parse_cidr(&spec.cidr)
        .ok_or_else(|| CloudError::invalid(format!("Invalid CIDR {}", spec.cidr)))?;
    let vpc = Vpc {
        id: new_id(),
        name: spec.name.clone(),
        display_text: spec
            .display_text
            .clone()
            .unwrap_or_else(|| spec.name.clone()),
        zone_id: zone.id.clone(),
        cidr: format!("{net}/{len}"),
        state: VpcState::Enabled,
        vpc_offering_id: stable_id("vpcoffering", "Default VPC offering"),
        vpc_offering_name: "Default VPC offering".into(),
        network_domain: spec
            .network_domain
            .clone()
            .or(zone.network_domain.clone())
            .unwrap_or_else(|| "cks.internal".into()),
        owner: spec.owner.clone(),
        tags: spec.tags.clone(),
        created: now,
    };
    inv.put(vpc.clone());
    allocate_ip(
        inv,
        &zone.id,
        &spec.owner,
        None,
        Some(&vpc.id),
        true,
        Tags::new(),
        now,
    )?;
    Ok(vpc)
}

pub(crate) fn delete_vpc(inv: &mut Inventory, id: &str) -> Result<bool, CloudError> {
    if inv.get::<Vpc>(id).is_none() {
        return Ok(false);
    }
    if let Some(tier) = inv.find::<Network>(|n| n.vpc_id.as_deref() == Some(id)) {
        return Err(CloudError::invalid(format!(
            "Unable to delete VPC {id}: tier {} still exists",
            tier.name
        )));
    }
    let ips: Vec<String> = inv
        .all::<PublicIp>()
        .filter(|ip| ip.vpc_id.as_deref() == Some(id))
        .map(|ip| ip.id.clone())
        .collect();
    for ip in ips {
        remove_ip_with_rules(inv, &ip);
    }
    inv.remove::<Vpc>(id);
    Ok(true)
}

// === Public IPs ===

/// Takes the lowest free address of the zone's public ranges.
#[allow(clippy::too_many_arguments)]
fn allocate_ip(
    inv: &mut Inventory,
    zone_id: &str,
    owner: &Owner,
    network_id: Option<&str>,
    vpc_id: Option<&str>,
    source_nat: bool,
    tags: Tags,
    now: i64,
) -> Result<PublicIp, CloudError> {
    let zone = inv.need::<Zone>(zone_id)?.clone();
    let used: std::collections::BTreeSet<Ipv4Addr> =
        inv.all::<PublicIp>().map(|ip| ip.address).collect();
    let mut ranges: Vec<PublicIpRange> = inv.list(|r: &PublicIpRange| r.zone_id == zone_id);
    ranges.sort_by_key(|r| u32::from(r.start_ip));
    let found = ranges.iter().find_map(|r| {
        (u32::from(r.start_ip)..=u32::from(r.end_ip))
            .map(Ipv4Addr::from)
            .find(|a| !used.contains(a))
            .map(|a| (r, a))
    });
    let Some((range, address)) = found else {
        return Err(CloudError::InsufficientAddressCapacity(
            "Insufficient address capacity".into(),
        ));
    };
    let implemented = match network_id {
        Some(net) => inv
            .get::<Network>(net)
            .is_some_and(|n| n.state == NetworkState::Implemented),
        None => true,
    };
    let ip = PublicIp {
        id: new_id(),
        address,
        zone_id: zone_id.to_string(),
        range_id: range.id.clone(),
        vlan_name: range.vlan.clone(),
        public_network_id: range.public_network_id.clone(),
        physical_network_id: zone.physical_network_id.clone(),
        network_id: network_id.map(str::to_string),
        vpc_id: vpc_id.map(str::to_string),
        is_source_nat: source_nat,
        is_static_nat: false,
        state: if implemented {
            IpState::Allocated
        } else {
            IpState::Allocating
        },
        allocated: now,
        owner: owner.clone(),
        tags,
    };
    inv.put(ip.clone());
    Ok(ip)
}

pub(crate) fn acquire_public_ip(
    inv: &mut Inventory,
    spec: &PublicIpSpec,
    now: i64,
) -> Result<PublicIp, CloudError> {
    let network = inv.need::<Network>(&spec.network_id)?.clone();
    if !spec.tags.is_empty() {
        let existing = inv.find::<PublicIp>(|ip| {
            ip.network_id.as_deref() == Some(network.id.as_str())
                && !ip.is_source_nat
                && spec.tags.iter().all(|(k, v)| ip.tags.get(k) == Some(v))
        });
        if let Some(ip) = existing {
            return Ok(ip.clone());
        }
    }
    limits::check(inv, &network.owner, LimitKind::PublicIp, 1)?;
    let vpc_id = network.vpc_id.clone();
    allocate_ip(
        inv,
        &network.zone_id,
        &network.owner,
        Some(&network.id),
        vpc_id.as_deref(),
        false,
        spec.tags.clone(),
        now,
    )
}

pub(crate) fn find_source_nat_ip(
    inv: &Inventory,
    network_id: &str,
) -> Result<Option<PublicIp>, CloudError> {
    let network = inv.need::<Network>(network_id)?;
    let found = match &network.vpc_id {
        Some(vpc) => inv
            .find::<PublicIp>(|ip| ip.is_source_nat && ip.vpc_id.as_deref() == Some(vpc.as_str())),
        None => inv.find::<PublicIp>(|ip| {
            ip.is_source_nat && ip.network_id.as_deref() == Some(network_id)
        }),
    };
    Ok(found.cloned())
}

pub(crate) fn release_public_ip(inv: &mut Inventory, id: &str) -> Result<bool, CloudError> {
    let Some(ip) = inv.get::<PublicIp>(id) else {
        return Ok(false);
    };
    let in_use_for_nat = ip.is_source_nat
        && (ip.vpc_id.is_some()
            || ip
                .network_id
                .as_deref()
                .and_then(|n| inv.get::<Network>(n))
                .is_some_and(|n| n.state == NetworkState::Implemented));
    if in_use_for_nat {
        return Err(CloudError::Internal(
            "ip address is used for source nat purposes and can not be disassociated.".into(),
        ));
    }
    remove_ip_with_rules(inv, id);
    Ok(true)
}

fn remove_ip_with_rules(inv: &mut Inventory, ip_id: &str) {
    let on_ip = |kind_ip: &str| kind_ip == ip_id;
    let fw: Vec<String> = inv
        .all::<FirewallRule>()
        .filter(|r| on_ip(&r.ip_id))
        .map(|r| r.id.clone())
        .collect();
    let pf: Vec<String> = inv
        .all::<PortForwardingRule>()
        .filter(|r| on_ip(&r.ip_id))
        .map(|r| r.id.clone())
        .collect();
    let lb: Vec<String> = inv
        .all::<LoadBalancerRule>()
        .filter(|r| on_ip(&r.ip_id))
        .map(|r| r.id.clone())
        .collect();
    fw.iter().for_each(|id| {
        inv.remove::<FirewallRule>(id);
    });
    pf.iter().for_each(|id| {
        inv.remove::<PortForwardingRule>(id);
    });
    lb.iter().for_each(|id| {
        inv.remove::<LoadBalancerRule>(id);
    });
    inv.remove::<PublicIp>(ip_id);
}

/// Removes every rule whose network matches.
fn remove_rules(inv: &mut Inventory, network_matches: impl Fn(&str) -> bool) {
    let fw: Vec<String> = inv
        .all::<FirewallRule>()
        .filter(|r| network_matches(&r.network_id))
        .map(|r| r.id.clone())
        .collect();
    let pf: Vec<String> = inv
        .all::<PortForwardingRule>()
        .filter(|r| network_matches(&r.network_id))
        .map(|r| r.id.clone())
        .collect();
    let lb: Vec<String> = inv
        .all::<LoadBalancerRule>()
        .filter(|r| network_matches(&r.network_id))
        .map(|r| r.id.clone())
        .collect();
    for id in fw {
        inv.remove::<FirewallRule>(&id);
    }
    for id in pf {
        inv.remove::<PortForwardingRule>(&id);
    }
    for id in lb {
        inv.remove::<LoadBalancerRule>(&id);
    }
}

// === Rules ===

/// The IP a rule goes on, its guest network, and that network's offering, which must provide
/// `service`.
fn rule_target(
    inv: &Inventory,
    ip_id: &str,
    service: &str,
) -> Result<(PublicIp, Network), CloudError> {
    let ip = inv.need::<PublicIp>(ip_id)?.clone();
    let network_id = ip.network_id.clone().ok_or_else(|| {
        CloudError::invalid(format!(
            "Public IP {} is not associated with a guest network",
            ip.address
        ))
    })?;
    let network = inv.need::<Network>(&network_id)?.clone();
    let offering = inv.need::<NetworkOffering>(&network.offering_id)?;
    if !offering.has_service(service) {
        return Err(CloudError::invalid(format!(
            "{service} service is not supported in network {}",
            network.name
        )));
    }
    Ok((ip, network))
}

fn validate_cidrs(cidrs: &[String]) -> Result<Vec<String>, CloudError> {
    if cidrs.is_empty() {
        return Ok(vec![ANYWHERE.to_string()]);
    }
    cidrs
        .iter()
        .map(|c| match parse_cidr(c) {
            Some(_) => Ok(c.trim().to_string()),
            None => Err(CloudError::invalid(format!(
                "Source cidrs formatting error {c}"
            ))),
        })
        .collect()
}

fn port_range(start: u16, end: Option<u16>) -> Result<(u16, u16), CloudError> {
    let end = end.unwrap_or(start);
    if start == 0 || end < start {
        return Err(CloudError::invalid(format!(
            "Invalid port range {start}-{end}"
        )));
    }
    Ok((start, end))
}

/// Every rule on an IP, for conflict detection.
fn rules_on_ip<'a>(inv: &'a Inventory, ip_id: &'a str) -> impl Iterator<Item = RuleView<'a>> + 'a {
    let fw = inv
        .all::<FirewallRule>()
        .filter(move |r| r.ip_id == ip_id)
        .map(RuleView::firewall);
    let pf = inv
        .all::<PortForwardingRule>()
        .filter(move |r| r.ip_id == ip_id)
        .map(RuleView::port_forwarding);
    let lb = inv
        .all::<LoadBalancerRule>()
        .filter(move |r| r.ip_id == ip_id)
        .map(RuleView::load_balancer);
    fw.chain(pf).chain(lb)
}

pub(crate) fn create_firewall_rule(
    inv: &mut Inventory,
    spec: &FirewallRuleSpec,
    now: i64,
) -> Result<FirewallRule, CloudError> {
    let (ip, network) = rule_target(inv, &spec.ip_id, "Firewall")?;
    let ports = match (spec.protocol, spec.start_port) {
        (Protocol::Icmp | Protocol::All, Some(_)) => {
            return Err(CloudError::invalid(format!(
                "Ports are not allowed for protocol {}",
                spec.protocol
            )));
        }
        (_, Some(start)) => Some(port_range(start, spec.end_port)?),
        (_, None) => None,
    };
    let cidrs = validate_cidrs(&spec.cidrs)?;
    let rule = FirewallRule {
        id: new_id(),
        ip_id: ip.id.clone(),
        ip_address: ip.address,
        network_id: network.id.clone(),
        protocol: spec.protocol,
        start_port: ports.map(|p| p.0),
        end_port: ports.map(|p| p.1),
        cidrs,
        icmp_type: (spec.protocol == Protocol::Icmp).then_some(-1),
        icmp_code: (spec.protocol == Protocol::Icmp).then_some(-1),
        state: RuleState::Active,
        owner: ip.owner.clone(),
        tags: spec.tags.clone(),
        created: now,
    };
    let same = inv.find::<FirewallRule>(|r| {
        r.ip_id == rule.ip_id
            && r.protocol == rule.protocol
            && r.start_port == rule.start_port
            && r.end_port == rule.end_port
            && same_cidrs(&r.cidrs, &rule.cidrs)
    });
    if let Some(existing) = same {
        return Ok(existing.clone());
    }
    if let Some(conflict) = detect_conflict(&RuleView::firewall(&rule), rules_on_ip(inv, &ip.id)) {
        return Err(CloudError::RuleConflict(conflict));
    }
    inv.put(rule.clone());
    Ok(rule)
}

pub(crate) fn create_port_forwarding_rule(
    inv: &mut Inventory,
    spec: &PortForwardingSpec,
    now: i64,
) -> Result<PortForwardingRule, CloudError> {
    let (ip, network) = rule_target(inv, &spec.ip_id, "PortForwarding")?;
    if !matches!(spec.protocol, Protocol::Tcp | Protocol::Udp) {
        return Err(CloudError::invalid(format!(
            "Invalid protocol {} for port forwarding: use tcp or udp",
            spec.protocol
        )));
    }
    let (pub_start, pub_end) = port_range(spec.public_start_port, spec.public_end_port)?;
    let (priv_start, priv_end) = port_range(spec.private_start_port, spec.private_end_port)?;
    if pub_end - pub_start != priv_end - priv_start {
        return Err(CloudError::invalid(
            "Private port range and public port range should be of equal length",
        ));
    }
    let vm = inv.need::<Vm>(&spec.vm_id)?;
    let nic = vm.nic_in(&network.id).ok_or_else(|| {
        CloudError::invalid(format!(
            "VM {} has no NIC in network {} of the IP",
            vm.name, network.name
        ))
    })?;
    let rule = PortForwardingRule {
        id: new_id(),
        ip_id: ip.id.clone(),
        ip_address: ip.address,
        network_id: network.id.clone(),
        protocol: spec.protocol,
        public_start_port: pub_start,
        public_end_port: pub_end,
        private_start_port: priv_start,
        private_end_port: priv_end,
        vm_id: vm.id.clone(),
        vm_guest_ip: nic.ip_address,
        cidrs: validate_cidrs(&spec.cidrs)?,
        state: RuleState::Active,
        owner: ip.owner.clone(),
        tags: spec.tags.clone(),
        created: now,
    };
    let same = inv.find::<PortForwardingRule>(|r| {
        r.ip_id == rule.ip_id
            && r.protocol == rule.protocol
            && (r.public_start_port, r.public_end_port) == (pub_start, pub_end)
            && (r.private_start_port, r.private_end_port) == (priv_start, priv_end)
            && r.vm_id == rule.vm_id
    });
    if let Some(existing) = same {
        return Ok(existing.clone());
    }
    if let Some(conflict) =
        detect_conflict(&RuleView::port_forwarding(&rule), rules_on_ip(inv, &ip.id))
    {
        return Err(CloudError::RuleConflict(conflict));
    }
    inv.put(rule.clone());
    Ok(rule)
}

pub(crate) fn create_load_balancer_rule(
    inv: &mut Inventory,
    spec: &LoadBalancerSpec,
    now: i64,
) -> Result<LoadBalancerRule, CloudError> {
    if spec.name.trim().is_empty() {
        return Err(CloudError::invalid(
            "Load balancer rule name must not be empty",
        ));
    }
    let (ip, network) = rule_target(inv, &spec.ip_id, "Lb")?;
    if let Some(existing) =
        inv.find::<LoadBalancerRule>(|r| r.ip_id == ip.id && r.name == spec.name)
    {
        return Ok(existing.clone());
    }
    port_range(spec.public_port, None)?;
    port_range(spec.private_port, None)?;
    let rule = LoadBalancerRule {
        id: new_id(),
        name: spec.name.clone(),
        description: spec.description.clone(),
        ip_id: ip.id.clone(),
        ip_address: ip.address,
        network_id: network.id.clone(),
        zone_id: network.zone_id.clone(),
        public_port: spec.public_port,
        private_port: spec.private_port,
        algorithm: spec.algorithm,
        protocol: spec.protocol,
        cidrs: validate_cidrs(&spec.cidrs)?,
        state: RuleState::Add,
        vm_ids: Vec::new(),
        owner: ip.owner.clone(),
        tags: spec.tags.clone(),
        created: now,
    };
    if let Some(conflict) =
        detect_conflict(&RuleView::load_balancer(&rule), rules_on_ip(inv, &ip.id))
    {
        return Err(CloudError::RuleConflict(conflict));
    }
    inv.put(rule.clone());
    Ok(rule)
}

pub(crate) fn assign_to_load_balancer_rule(
    inv: &mut Inventory,
    rule_id: &str,
    vm_ids: &[String],
) -> Result<LoadBalancerRule, CloudError> {
    let mut rule = inv.need::<LoadBalancerRule>(rule_id)?.clone();
    for vm_id in vm_ids {
        let vm = inv.need::<Vm>(vm_id)?;
        if vm.nic_in(&rule.network_id).is_none() {
            return Err(CloudError::invalid(format!(
                "VM {} is not in the network of load balancer rule {}",
                vm.name, rule.name
            )));
        }
        if !rule.vm_ids.contains(vm_id) {
            rule.vm_ids.push(vm_id.clone());
        }
    }
    if !rule.vm_ids.is_empty() {
        rule.state = RuleState::Active;
    }
    inv.put(rule.clone());
    Ok(rule)
}

pub(crate) fn remove_from_load_balancer_rule(
    inv: &mut Inventory,
    rule_id: &str,
    vm_ids: &[String],
) -> Result<LoadBalancerRule, CloudError> {
    let mut rule = inv.need::<LoadBalancerRule>(rule_id)?.clone();
    let before = rule.vm_ids.len();
    rule.vm_ids.retain(|id| !vm_ids.contains(id));
    if rule.vm_ids.len() != before {
        inv.put(rule.clone());
    }
    Ok(rule)
}

pub(crate) fn delete_rule<T: crate::inventory::Stored>(
    inv: &mut Inventory,
    id: &str,
) -> Result<bool, CloudError> {
    Ok(inv.remove::<T>(id))
}

fn same_cidrs(a: &[String], b: &[String]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    a == b
}

fn cidrs_overlap(a: &str, b: &str) -> bool {
    match (parse_cidr(a), parse_cidr(b)) {
        (Some((na, la)), Some((nb, lb))) => {
            let len = la.min(lb);
            (u32::from(na) & prefix_mask(len)) == (u32::from(nb) & prefix_mask(len))
        }
        _ => false,
    }
}

/// Everything carrying `key=value`.
pub(crate) fn find_by_tag(
    inv: &Inventory,
    key: &str,
    value: &str,
) -> Vec<cks_cloud::TaggedResource> {
    tagged(inv, key, Some(value))
        .into_iter()
        .map(|(r, _)| r)
        .collect()
}

/// Everything carrying the tag `key` (with `value` when given), with the tag's value, sorted
/// by kind then id.
pub(crate) fn tagged(
    inv: &Inventory,
    key: &str,
    value: Option<&str>,
) -> Vec<(cks_cloud::TaggedResource, String)> {
    use cks_cloud::TaggedResource;
    use cks_core::iaas::{Iso, Template};
    let has = |tags: &Tags| {
        tags.get(key)
            .filter(|v| value.is_none_or(|want| want == v.as_str()))
            .cloned()
    };
    let mut res = Vec::new();
    let mut add = |kind: ResourceKind, id: &str, name: Option<String>, value: String| {
        let resource = TaggedResource {
            kind,
            id: id.to_string(),
            name,
        };
        res.push((resource, value));
    };
    for o in inv.all::<Template>() {
        if let Some(v) = has(&o.tags) {
            add(ResourceKind::Template, &o.id, Some(o.name.clone()), v);
        }
    }
    for o in inv.all::<Iso>() {
        if let Some(v) = has(&o.tags) {
            add(ResourceKind::Iso, &o.id, Some(o.name.clone()), v);
        }
    }
    for o in inv.all::<Network>() {
        if let Some(v) = has(&o.tags) {
            add(ResourceKind::Network, &o.id, Some(o.name.clone()), v);
        }
    }
    for o in inv.all::<Vpc>() {
        if let Some(v) = has(&o.tags) {
            add(ResourceKind::Vpc, &o.id, Some(o.name.clone()), v);
        }
    }
    for o in inv.all::<PublicIp>() {
        if let Some(v) = has(&o.tags) {
            add(
                ResourceKind::PublicIp,
                &o.id,
                Some(o.address.to_string()),
                v,
            );
        }
    }
    for o in inv.all::<FirewallRule>() {
        if let Some(v) = has(&o.tags) {
            add(ResourceKind::FirewallRule, &o.id, None, v);
        }
    }
    for o in inv.all::<PortForwardingRule>() {
        if let Some(v) = has(&o.tags) {
            add(ResourceKind::PortForwardingRule, &o.id, None, v);
        }
    }
    for o in inv.all::<LoadBalancerRule>() {
        if let Some(v) = has(&o.tags) {
            add(
                ResourceKind::LoadBalancerRule,
                &o.id,
                Some(o.name.clone()),
                v,
            );
        }
    }
    for o in inv.all::<Vm>() {
        if let Some(v) = has(&o.tags) {
            add(ResourceKind::Vm, &o.id, Some(o.name.clone()), v);
        }
    }
    res.sort();
    res
}
