//! The seed inventory: a TOML document (format: `config/simulator.toml`) turned into objects.
//!
//! Ids are stable: an entry's explicit `id`, or a UUID derived from its kind and qualified name
//! (MD5-based, like UUID v3), so seeding the same document anywhere gives the same ids.
//!
//! Two tables are settings rather than inventory and are read on every open (`settings`):
//! `[timings]` (milliseconds, each overriding one field of `Timings`) and `[limits]` (the
//! resource limits of accounts that have none of their own).

use std::net::Ipv4Addr;
use std::time::Duration;

use cks_core::iaas::{
    AllocationState, DiskOffering, GuestIpType, Host, HostCluster, HostResourceState, HostState,
    NetworkOffering, NetworkOfferingState, NetworkType, OfferingState, Pod, PublicIpRange,
    ServiceOffering, Template, Zone, parse_cidr, prefix_mask,
};
use md5::{Digest, Md5};
use serde::Deserialize;

use crate::config::Timings;
use crate::inventory::{Object, Stored};
use crate::limits::{LimitDefaults, LimitKind};

/// Why a seed document was refused.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid seed document: {0}")]
    Parse(#[from] toml::de::Error),
    /// A value parses but makes no sense (unknown zone, non-loopback public range...).
    #[error("invalid seed: {0}")]
    Invalid(String),
}

/// A UUID derived from a kind and a qualified name.
pub(crate) fn stable_id(kind: &str, name: &str) -> String {
    let digest = Md5::digest(format!("cks-simulator/{kind}/{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest);
    uuid::Builder::from_md5_bytes(bytes).into_uuid().to_string()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedDoc {
    #[serde(default)]
    zones: Vec<ZoneSeed>,
    #[serde(default)]
    service_offerings: Vec<ServiceOfferingSeed>,
    #[serde(default)]
    disk_offerings: Vec<DiskOfferingSeed>,
    #[serde(default)]
    network_offerings: Vec<NetworkOfferingSeed>,
    #[serde(default)]
    templates: Vec<TemplateSeed>,
    #[serde(default)]
    timings: TimingsSeed,
    #[serde(default)]
    limits: LimitsSeed,
    #[serde(default)]
    network: NetworkSettingsSeed,
}

/// `[network]`: the guest VLAN (or VXLAN VNI) range isolated networks take their tag from.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkSettingsSeed {
    vnet_first: Option<u32>,
    vnet_last: Option<u32>,
}

/// `[timings]`: milliseconds; a missing key keeps the configured value.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimingsSeed {
    vm_deploy: Option<u64>,
    vm_start: Option<u64>,
    vm_stop: Option<u64>,
    iso_download: Option<u64>,
    node_install: Option<u64>,
    node_upgrade: Option<u64>,
}

impl TimingsSeed {
    pub(crate) fn apply(&self, base: Timings) -> Timings {
        let ms = |v: Option<u64>, d: Duration| v.map(Duration::from_millis).unwrap_or(d);
        Timings {
            vm_deploy: ms(self.vm_deploy, base.vm_deploy),
            vm_start: ms(self.vm_start, base.vm_start),
            vm_stop: ms(self.vm_stop, base.vm_stop),
            iso_download: ms(self.iso_download, base.iso_download),
            node_install: ms(self.node_install, base.node_install),
            node_upgrade: ms(self.node_upgrade, base.node_upgrade),
        }
    }
}

/// `[limits]`: the limit of each kind for accounts without their own; a missing key is unlimited.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSeed {
    user_vm: Option<u64>,
    public_ip: Option<u64>,
    network: Option<u64>,
    cpu: Option<u64>,
    memory: Option<u64>,
}

/// What a seed document sets besides the inventory.
#[derive(Debug, Clone)]
pub(crate) struct SeedSettings {
    pub(crate) timings: TimingsSeed,
    pub(crate) limits: LimitDefaults,
    /// First and last guest VLAN/VNI.
    pub(crate) vnets: (u32, u32),
}

/// CloudStack's usual VLAN range for guest networks.
pub(crate) const DEFAULT_VNETS: (u32, u32) = (100, 4094);

/// The `[timings]` and `[limits]` of a seed document.
pub(crate) fn settings(text: &str) -> Result<SeedSettings, SeedError> {
    let doc: SeedDoc = toml::from_str(text)?;
    let l = &doc.limits;
    let limits = [
        (LimitKind::UserVm, l.user_vm),
        (LimitKind::PublicIp, l.public_ip),
        (LimitKind::Network, l.network),
        (LimitKind::Cpu, l.cpu),
        (LimitKind::Memory, l.memory),
    ]
    .into_iter()
    .filter_map(|(kind, max)| Some((kind, max?)))
    .collect();
    let n = &doc.network;
    let vnets = (
        n.vnet_first.unwrap_or(DEFAULT_VNETS.0),
        n.vnet_last.unwrap_or(DEFAULT_VNETS.1),
    );
    if vnets.0 == 0 || vnets.0 > vnets.1 || vnets.1 > 16_777_215 {
        return Err(SeedError::Invalid(format!(
            "[network] vnet range {}-{} must be ascending within 1-16777215",
            vnets.0, vnets.1
        )));
    }
    Ok(SeedSettings {
        timings: doc.timings,
        limits,
        vnets,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZoneSeed {
    id: Option<String>,
    name: String,
    description: Option<String>,
    #[serde(default = "advanced")]
    network_type: String,
    dns1: Ipv4Addr,
    dns2: Option<Ipv4Addr>,
    internal_dns1: Ipv4Addr,
    internal_dns2: Option<Ipv4Addr>,
    #[serde(default = "default_guest_cidr")]
    guest_cidr: String,
    network_domain: Option<String>,
    #[serde(default)]
    public_ip_ranges: Vec<IpRangeSeed>,
    #[serde(default)]
    pods: Vec<PodSeed>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct IpRangeSeed {
    id: Option<String>,
    cidr: String,
    gateway: Option<Ipv4Addr>,
    start_ip: Option<Ipv4Addr>,
    end_ip: Option<Ipv4Addr>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PodSeed {
    id: Option<String>,
    name: String,
    gateway: Ipv4Addr,
    netmask: Ipv4Addr,
    start_ip: Ipv4Addr,
    end_ip: Ipv4Addr,
    #[serde(default)]
    clusters: Vec<ClusterSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterSeed {
    id: Option<String>,
    name: String,
    #[serde(default = "kvm")]
    hypervisor: String,
    #[serde(default = "x86_64")]
    arch: String,
    #[serde(default = "one")]
    cpu_overprovisioning: f64,
    #[serde(default = "one")]
    memory_overprovisioning: f64,
    #[serde(default)]
    hosts: Vec<HostSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostSeed {
    id: Option<String>,
    name: String,
    ip_address: Ipv4Addr,
    #[serde(default = "one_u32")]
    cpu_sockets: u32,
    cpu_cores: u32,
    cpu_speed_mhz: u32,
    memory_gib: u64,
    #[serde(default = "hypervisor_version")]
    hypervisor_version: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceOfferingSeed {
    id: Option<String>,
    name: String,
    display_text: Option<String>,
    cpu_number: Option<u32>,
    cpu_speed_mhz: Option<u32>,
    memory_mib: Option<u64>,
    #[serde(default)]
    customized: bool,
    root_disk_size_gib: Option<u64>,
    #[serde(default = "yes")]
    dynamic_scaling_enabled: bool,
    #[serde(default)]
    offer_ha: bool,
    host_tags: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiskOfferingSeed {
    id: Option<String>,
    name: String,
    display_text: Option<String>,
    #[serde(default)]
    disk_size_gib: u64,
    #[serde(default)]
    customized: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkOfferingSeed {
    id: Option<String>,
    name: String,
    display_text: Option<String>,
    guest_ip_type: String,
    services: Vec<String>,
    #[serde(default = "virtual_router")]
    service_provider: String,
    #[serde(default)]
    for_vpc: bool,
    #[serde(default)]
    is_default: bool,
    #[serde(default)]
    is_persistent: bool,
    #[serde(default = "yes")]
    conserve_mode: bool,
    #[serde(default = "yes")]
    egress_default_policy: bool,
    #[serde(default = "optional")]
    availability: String,
    network_rate: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateSeed {
    id: Option<String>,
    name: String,
    display_text: Option<String>,
    zone: Option<String>,
    #[serde(default)]
    for_cks: bool,
    #[serde(default = "x86_64")]
    arch: String,
    #[serde(default = "kvm")]
    hypervisor: String,
    #[serde(default = "qcow2")]
    format: String,
    os_type: String,
    size_gib: u64,
    #[serde(default = "yes")]
    is_public: bool,
    #[serde(default = "yes")]
    is_featured: bool,
    #[serde(default)]
    password_enabled: bool,
    url: Option<String>,
}

fn advanced() -> String {
    "Advanced".into()
}
fn default_guest_cidr() -> String {
    "10.1.1.0/24".into()
}
fn kvm() -> String {
    "KVM".into()
}
fn x86_64() -> String {
    "x86_64".into()
}
fn qcow2() -> String {
    "QCOW2".into()
}
fn one() -> f64 {
    1.0
}
fn one_u32() -> u32 {
    1
}
fn yes() -> bool {
    true
}
fn virtual_router() -> String {
    "VirtualRouter".into()
}
fn optional() -> String {
    "Optional".into()
}
fn hypervisor_version() -> String {
    "simulated".into()
}

/// Parses a seed document into objects, all `created` from `now` on (one second apart, in
/// document order, so lists keep that order). `public_ip_range` replaces every zone's public
/// ranges (see `SimConfig::public_ip_range`).
pub(crate) fn parse(
    text: &str,
    now: i64,
    public_ip_range: Option<(Ipv4Addr, Ipv4Addr)>,
) -> Result<Vec<Object>, SeedError> {
    let mut doc: SeedDoc = toml::from_str(text)?;
    if let Some((start, end)) = public_ip_range {
        let range = range_seed(start, end)?;
        for zone in &mut doc.zones {
            zone.public_ip_ranges = vec![range.clone()];
        }
    }
    let mut out: Vec<Object> = Vec::new();
    let mut clock = now;
    let mut tick = || {
        clock += 1;
        clock
    };
    let invalid = |m: String| SeedError::Invalid(m);

    let mut zone_ids: Vec<(String, String)> = Vec::new();
    for z in &doc.zones {
        let zone_id = z.id.clone().unwrap_or_else(|| stable_id("zone", &z.name));
        let network_type = NetworkType::parse(&z.network_type).ok_or_else(|| {
            invalid(format!(
                "zone {}: unknown network_type {}",
                z.name, z.network_type
            ))
        })?;
        if parse_cidr(&z.guest_cidr).is_none() {
            return Err(invalid(format!(
                "zone {}: bad guest_cidr {}",
                z.name, z.guest_cidr
            )));
        }
        let physical_network_id = stable_id("physicalnetwork", &z.name);
        out.push(
            Zone {
                id: zone_id.clone(),
                name: z.name.clone(),
                description: z.description.clone(),
                network_type,
                allocation_state: AllocationState::Enabled,
                dns1: z.dns1,
                dns2: z.dns2,
                internal_dns1: z.internal_dns1,
                internal_dns2: z.internal_dns2,
                guest_cidr: z.guest_cidr.clone(),
                network_domain: z.network_domain.clone(),
                security_groups_enabled: false,
                local_storage_enabled: false,
                physical_network_id: physical_network_id.clone(),
                created: tick(),
            }
            .wrap(),
        );
        zone_ids.push((z.name.clone(), zone_id.clone()));

        for (idx, r) in z.public_ip_ranges.iter().enumerate() {
            out.push(ip_range(r, &zone_id, &z.name, idx, tick())?.wrap());
        }

        for p in &z.pods {
            let pod_name = format!("{}/{}", z.name, p.name);
            let pod_id = p.id.clone().unwrap_or_else(|| stable_id("pod", &pod_name));
            out.push(
                Pod {
                    id: pod_id.clone(),
                    name: p.name.clone(),
                    zone_id: zone_id.clone(),
                    gateway: p.gateway,
                    netmask: p.netmask,
                    start_ip: p.start_ip,
                    end_ip: p.end_ip,
                    allocation_state: AllocationState::Enabled,
                    created: tick(),
                }
                .wrap(),
            );
            for c in &p.clusters {
                let cluster_name = format!("{pod_name}/{}", c.name);
                let cluster_id =
                    c.id.clone()
                        .unwrap_or_else(|| stable_id("cluster", &cluster_name));
                out.push(
                    HostCluster {
                        id: cluster_id.clone(),
                        name: c.name.clone(),
                        zone_id: zone_id.clone(),
                        pod_id: pod_id.clone(),
                        hypervisor: c.hypervisor.clone(),
                        arch: c.arch.clone(),
                        allocation_state: AllocationState::Enabled,
                        cpu_overprovisioning: c.cpu_overprovisioning,
                        memory_overprovisioning: c.memory_overprovisioning,
                        created: tick(),
                    }
                    .wrap(),
                );
                for h in &c.hosts {
                    let host_name = format!("{cluster_name}/{}", h.name);
                    out.push(
                        Host {
                            id: h
                                .id
                                .clone()
                                .unwrap_or_else(|| stable_id("host", &host_name)),
                            name: h.name.clone(),
                            zone_id: zone_id.clone(),
                            pod_id: pod_id.clone(),
                            cluster_id: cluster_id.clone(),
                            hypervisor: c.hypervisor.clone(),
                            hypervisor_version: h.hypervisor_version.clone(),
                            arch: c.arch.clone(),
                            ip_address: h.ip_address,
                            cpu_sockets: h.cpu_sockets,
                            cpu_cores: h.cpu_cores,
                            cpu_speed_mhz: h.cpu_speed_mhz,
                            memory_bytes: h.memory_gib * 1024 * 1024 * 1024,
                            cpu_allocated_mhz: 0,
                            memory_allocated_bytes: 0,
                            state: HostState::Up,
                            resource_state: HostResourceState::Enabled,
                            created: tick(),
                        }
                        .wrap(),
                    );
                }
            }
        }
    }

    for o in &doc.service_offerings {
        let fixed = o.cpu_number.is_some() && o.cpu_speed_mhz.is_some() && o.memory_mib.is_some();
        if !o.customized && !fixed {
            return Err(invalid(format!(
                "service offering {}: cpu_number, cpu_speed_mhz and memory_mib are required unless customized",
                o.name
            )));
        }
        out.push(
            ServiceOffering {
                id: o
                    .id
                    .clone()
                    .unwrap_or_else(|| stable_id("serviceoffering", &o.name)),
                name: o.name.clone(),
                display_text: o.display_text.clone().unwrap_or_else(|| o.name.clone()),
                cpu_number: o.cpu_number,
                cpu_speed_mhz: o.cpu_speed_mhz,
                memory_mib: o.memory_mib,
                is_customized: o.customized,
                root_disk_size_gib: o.root_disk_size_gib,
                storage_type: "shared".into(),
                offer_ha: o.offer_ha,
                limit_cpu_use: false,
                is_system: false,
                dynamic_scaling_enabled: o.dynamic_scaling_enabled,
                host_tags: o.host_tags.clone(),
                state: OfferingState::Active,
                created: tick(),
            }
            .wrap(),
        );
    }

    for o in &doc.disk_offerings {
        out.push(
            DiskOffering {
                id: o
                    .id
                    .clone()
                    .unwrap_or_else(|| stable_id("diskoffering", &o.name)),
                name: o.name.clone(),
                display_text: o.display_text.clone().unwrap_or_else(|| o.name.clone()),
                disk_size_gib: if o.customized { 0 } else { o.disk_size_gib },
                is_customized: o.customized,
                storage_type: "shared".into(),
                provisioning_type: "thin".into(),
                state: OfferingState::Active,
                created: tick(),
            }
            .wrap(),
        );
    }

    for o in &doc.network_offerings {
        let guest_ip_type = GuestIpType::parse(&o.guest_ip_type).ok_or_else(|| {
            invalid(format!(
                "network offering {}: unknown guest_ip_type {}",
                o.name, o.guest_ip_type
            ))
        })?;
        out.push(
            NetworkOffering {
                id: o
                    .id
                    .clone()
                    .unwrap_or_else(|| stable_id("networkoffering", &o.name)),
                name: o.name.clone(),
                display_text: o.display_text.clone().unwrap_or_else(|| o.name.clone()),
                guest_ip_type,
                services: o.services.clone(),
                service_provider: o.service_provider.clone(),
                for_vpc: o.for_vpc,
                is_default: o.is_default,
                is_persistent: o.is_persistent,
                conserve_mode: o.conserve_mode,
                egress_default_policy: o.egress_default_policy,
                specify_vlan: false,
                availability: o.availability.clone(),
                network_rate: o.network_rate,
                state: NetworkOfferingState::Enabled,
                created: tick(),
            }
            .wrap(),
        );
    }

    for t in &doc.templates {
        let zone_id = match &t.zone {
            None => None,
            Some(name) => Some(
                zone_ids
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, id)| id.clone())
                    .ok_or_else(|| invalid(format!("template {}: unknown zone {name}", t.name)))?,
            ),
        };
        out.push(
            Template {
                id: t
                    .id
                    .clone()
                    .unwrap_or_else(|| stable_id("template", &t.name)),
                name: t.name.clone(),
                display_text: t.display_text.clone().unwrap_or_else(|| t.name.clone()),
                zone_id,
                is_ready: true,
                status: "Download Complete".into(),
                format: t.format.clone(),
                hypervisor: t.hypervisor.clone(),
                template_type: "USER".into(),
                arch: t.arch.clone(),
                for_cks: t.for_cks,
                bootable: true,
                is_public: t.is_public,
                is_featured: t.is_featured,
                is_extractable: false,
                password_enabled: t.password_enabled,
                ssh_key_enabled: true,
                is_dynamically_scalable: true,
                size_bytes: t.size_gib * 1024 * 1024 * 1024,
                os_type_id: stable_id("ostype", &t.os_type),
                os_type_name: t.os_type.clone(),
                url: t.url.clone(),
                checksum: None,
                owner: None,
                tags: Default::default(),
                created: tick(),
            }
            .wrap(),
        );
    }
    Ok(out)
}

/// The range `start..=end` with the gateway just before it, in the smallest CIDR holding both.
fn range_seed(start: Ipv4Addr, end: Ipv4Addr) -> Result<IpRangeSeed, SeedError> {
    let (first, last) = (u32::from(start), u32::from(end));
    if first > last || first == 0 {
        return Err(SeedError::Invalid(format!(
            "public IP range {start}-{end} is empty"
        )));
    }
    let gateway = first - 1;
    let len = ((gateway ^ last).leading_zeros() as u8).min(30);
    let base = gateway & prefix_mask(len);
    Ok(IpRangeSeed {
        id: None,
        cidr: format!("{}/{len}", Ipv4Addr::from(base)),
        gateway: Some(Ipv4Addr::from(gateway)),
        start_ip: Some(start),
        end_ip: Some(end),
    })
}

/// A public range from its CIDR: gateway = first address, addresses from the second to the one
/// before broadcast, unless given. Every address must be loopback: the simulator serves cluster
/// endpoints on them, and must never make a real host's address look like a cluster's.
fn ip_range(
    r: &IpRangeSeed,
    zone_id: &str,
    zone_name: &str,
    idx: usize,
    created: i64,
) -> Result<PublicIpRange, SeedError> {
    let invalid = |m: String| SeedError::Invalid(m);
    let (net, len) = parse_cidr(&r.cidr)
        .ok_or_else(|| invalid(format!("zone {zone_name}: bad public range {}", r.cidr)))?;
    if len > 30 {
        return Err(invalid(format!(
            "zone {zone_name}: public range {} is too small",
            r.cidr
        )));
    }
    let base = u32::from(net);
    let broadcast = base | !prefix_mask(len);
    let gateway = r.gateway.unwrap_or(Ipv4Addr::from(base + 1));
    let start_ip = r.start_ip.unwrap_or(Ipv4Addr::from(base + 2));
    let end_ip = r.end_ip.unwrap_or(Ipv4Addr::from(broadcast - 1));
    let within = |a: Ipv4Addr| (base..=broadcast).contains(&u32::from(a));
    for addr in [gateway, start_ip, end_ip] {
        if !addr.is_loopback() {
            return Err(invalid(format!(
                "zone {zone_name}: public address {addr} is not loopback (127.0.0.0/8)"
            )));
        }
        if !within(addr) {
            return Err(invalid(format!(
                "zone {zone_name}: {addr} is outside {}",
                r.cidr
            )));
        }
    }
    if u32::from(start_ip) > u32::from(end_ip) {
        return Err(invalid(format!(
            "zone {zone_name}: public range starts after it ends"
        )));
    }
    Ok(PublicIpRange {
        id: r
            .id
            .clone()
            .unwrap_or_else(|| stable_id("vlan", &format!("{zone_name}/{idx}"))),
        zone_id: zone_id.to_string(),
        public_network_id: stable_id("publicnetwork", zone_name),
        gateway,
        netmask: Ipv4Addr::from(prefix_mask(len)),
        start_ip,
        end_ip,
        vlan: "vlan://untagged".into(),
        created,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_SEED;
    use crate::inventory::Kind;
    use cks_core::iaas::ResourceKind;

    #[test]
    fn default_seed_parses_with_stable_ids() {
        let first = parse(DEFAULT_SEED, 1000, None).expect("default seed parses");
        let second = parse(DEFAULT_SEED, 2000, None).expect("default seed parses");
        let ids = |objs: &[Object]| {
            objs.iter()
                .map(|o| (o.kind(), o.id().to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&first), ids(&second));
        let count = |kind| {
            first
                .iter()
                .filter(|o| o.kind() == Kind::Noun(kind))
                .count()
        };
        assert_eq!(count(ResourceKind::Zone), 1);
        assert_eq!(count(ResourceKind::Pod), 1);
        assert_eq!(count(ResourceKind::HostCluster), 1);
        assert_eq!(count(ResourceKind::Host), 4);
        assert_eq!(count(ResourceKind::PublicIpRange), 1);
        assert!(count(ResourceKind::ServiceOffering) >= 4);
        assert!(count(ResourceKind::NetworkOffering) >= 2);
        assert_eq!(
            stable_id("zone", "Sim-Zone-1"),
            stable_id("zone", "Sim-Zone-1")
        );
        assert_ne!(stable_id("zone", "a"), stable_id("pod", "a"));
    }

    #[test]
    fn non_loopback_public_ranges_are_refused() {
        let doc = r#"
            [[zones]]
            name = "z"
            dns1 = "127.0.0.53"
            internal_dns1 = "127.0.0.53"
            [[zones.public_ip_ranges]]
            cidr = "192.168.0.0/24"
        "#;
        let err = parse(doc, 0, None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("not loopback"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(matches!(
            parse("[[zones]]\nnmae = \"x\"\n", 0, None),
            Err(SeedError::Parse(_))
        ));
        assert!(matches!(
            settings("[timings]\nvm_deploi = 1\n"),
            Err(SeedError::Parse(_))
        ));
    }

    #[test]
    fn a_public_range_override_replaces_the_seeds() {
        let start = Ipv4Addr::new(127, 77, 3, 2);
        let end = Ipv4Addr::new(127, 77, 3, 254);
        let objects = parse(DEFAULT_SEED, 0, Some((start, end))).unwrap();
        let ranges: Vec<&PublicIpRange> = objects
            .iter()
            .filter_map(|o| match o {
                Object::PublicIpRange(r) => Some(&**r),
                _ => None,
            })
            .collect();
        assert_eq!(ranges.len(), 1);
        assert_eq!((ranges[0].start_ip, ranges[0].end_ip), (start, end));
        assert_eq!(ranges[0].gateway, Ipv4Addr::new(127, 77, 3, 1));
        let outside = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 9));
        assert!(matches!(
            parse(DEFAULT_SEED, 0, Some(outside)),
            Err(SeedError::Invalid(_))
        ));
        assert!(parse(DEFAULT_SEED, 0, Some((end, start))).is_err());
    }

    #[test]
    fn the_guest_vnet_range_is_a_setting_and_must_make_sense() {
        assert_eq!(settings("").unwrap().vnets, DEFAULT_VNETS);
        assert_eq!(
            settings("[network]\nvnet_last = 100000\n").unwrap().vnets,
            (100, 100_000)
        );
        assert!(settings("[network]\nvnet_first = 500\nvnet_last = 400\n").is_err());
    }

    #[test]
    fn timings_and_limits_are_settings() {
        let doc = "[timings]\nnode_install = 1500\n[limits]\nuser_vm = 3\nmemory = 4096\n";
        let settings = settings(doc).unwrap();
        let timings = settings.timings.apply(Timings::instant());
        assert_eq!(timings.node_install, Duration::from_millis(1500));
        assert_eq!(timings.vm_deploy, Duration::ZERO);
        assert_eq!(settings.limits.get(&LimitKind::UserVm), Some(&3));
        assert_eq!(settings.limits.get(&LimitKind::Memory), Some(&4096));
        assert_eq!(settings.limits.get(&LimitKind::Cpu), None);
        let defaults = super::settings(DEFAULT_SEED).unwrap();
        assert_eq!(
            defaults.timings.apply(Timings::instant()),
            Timings::instant()
        );
        assert!(defaults.limits.is_empty());
    }
}
