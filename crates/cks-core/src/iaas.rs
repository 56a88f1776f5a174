//! The IaaS nouns (zones, offerings, templates, ISOs, networks, IPs, rules, VMs, key pairs) as plain data.
//!
//! These are what every cloud provider speaks in: the simulator persists them, a CloudStack client
//! will parse them, and `cks-api` renders them into CloudStack's JSON. They hold no behaviour
//! beyond naming their states the way CloudStack prints them (`as_str`) and a few pure helpers.
//! Ids are UUID strings, dates are Unix seconds (UTC), sizes carry their unit in the field name.
//! Every resource the orchestrator creates carries `tags`, so a leak check can find it by tag.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::tenancy::Owner;

/// Resource tags (`key → value`), e.g. `cks.cluster=<uuid>`. Sorted, so renderings are stable.
pub type Tags = BTreeMap<String, String>;

/// Every kind of IaaS object. `as_str` is the stable storage name; `resource_type` the
/// `resourcetype` CloudStack shows in tag objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ResourceKind {
    Zone,
    Pod,
    HostCluster,
    Host,
    ServiceOffering,
    DiskOffering,
    NetworkOffering,
    Template,
    Iso,
    Network,
    Vpc,
    PublicIpRange,
    PublicIp,
    FirewallRule,
    PortForwardingRule,
    LoadBalancerRule,
    Vm,
    SshKeyPair,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 18] = [
        ResourceKind::Zone,
        ResourceKind::Pod,
        ResourceKind::HostCluster,
        ResourceKind::Host,
        ResourceKind::ServiceOffering,
        ResourceKind::DiskOffering,
        ResourceKind::NetworkOffering,
        ResourceKind::Template,
        ResourceKind::Iso,
        ResourceKind::Network,
        ResourceKind::Vpc,
        ResourceKind::PublicIpRange,
        ResourceKind::PublicIp,
        ResourceKind::FirewallRule,
        ResourceKind::PortForwardingRule,
        ResourceKind::LoadBalancerRule,
        ResourceKind::Vm,
        ResourceKind::SshKeyPair,
    ];

    /// Stable lowercase name, used as a storage key and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Zone => "zone",
            ResourceKind::Pod => "pod",
            ResourceKind::HostCluster => "cluster",
            ResourceKind::Host => "host",
            ResourceKind::ServiceOffering => "serviceoffering",
            ResourceKind::DiskOffering => "diskoffering",
            ResourceKind::NetworkOffering => "networkoffering",
            ResourceKind::Template => "template",
            ResourceKind::Iso => "iso",
            ResourceKind::Network => "network",
            ResourceKind::Vpc => "vpc",
            ResourceKind::PublicIpRange => "vlan",
            ResourceKind::PublicIp => "publicipaddress",
            ResourceKind::FirewallRule => "firewallrule",
            ResourceKind::PortForwardingRule => "portforwardingrule",
            ResourceKind::LoadBalancerRule => "loadbalancerrule",
            ResourceKind::Vm => "virtualmachine",
            ResourceKind::SshKeyPair => "sshkeypair",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<ResourceKind> {
        ResourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// CloudStack's `resourcetype` (`ResourceObjectType`) for tag objects.
    pub fn resource_type(self) -> &'static str {
        match self {
            ResourceKind::Zone => "Zone",
            ResourceKind::Pod => "Pod",
            ResourceKind::HostCluster => "Cluster",
            ResourceKind::Host => "Host",
            ResourceKind::ServiceOffering => "ServiceOffering",
            ResourceKind::DiskOffering => "DiskOffering",
            ResourceKind::NetworkOffering => "NetworkOffering",
            ResourceKind::Template => "Template",
            ResourceKind::Iso => "ISO",
            ResourceKind::Network => "Network",
            ResourceKind::Vpc => "Vpc",
            ResourceKind::PublicIpRange => "Vlan",
            ResourceKind::PublicIp => "PublicIpAddress",
            ResourceKind::FirewallRule => "FirewallRule",
            ResourceKind::PortForwardingRule => "PortForwardingRule",
            ResourceKind::LoadBalancerRule => "LoadBalancer",
            ResourceKind::Vm => "UserVm",
            ResourceKind::SshKeyPair => "SSHKeyPair",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares a state enum whose variant names are exactly CloudStack's state strings.
macro_rules! cs_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// The text CloudStack prints for this value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses CloudStack's text, ignoring ASCII case.
            pub fn parse(s: &str) -> Option<$name> {
                [$($name::$variant),+].into_iter().find(|v| v.as_str().eq_ignore_ascii_case(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

cs_enum!(
    /// Zone networking model (`networktype`).
    NetworkType { Advanced => "Advanced", Basic => "Basic" }
);
cs_enum!(
    /// `allocationstate` of zones, pods and clusters.
    AllocationState { Enabled => "Enabled", Disabled => "Disabled" }
);
cs_enum!(
    /// Host status (§4.7). Only `Up` hosts receive VMs.
    HostState {
        Creating => "Creating", Connecting => "Connecting", Up => "Up", Down => "Down",
        Disconnected => "Disconnected", Alert => "Alert", Removed => "Removed", Error => "Error",
        Rebalancing => "Rebalancing", Unknown => "Unknown",
    }
);
cs_enum!(
    /// Host `resourcestate`. Only `Enabled` hosts receive VMs.
    HostResourceState {
        Creating => "Creating", Enabled => "Enabled", Disabled => "Disabled",
        PrepareForMaintenance => "PrepareForMaintenance", Maintenance => "Maintenance",
        Error => "Error",
    }
);
cs_enum!(
    /// Service/disk offering state.
    OfferingState { Active => "Active", Inactive => "Inactive" }
);
cs_enum!(
    /// Network offering state.
    NetworkOfferingState { Enabled => "Enabled", Disabled => "Disabled" }
);
cs_enum!(
    /// `guestiptype` of network offerings and `type` of networks.
    GuestIpType { Isolated => "Isolated", Shared => "Shared", L2 => "L2" }
);
cs_enum!(
    /// Network state (§4.2): `Allocated` until the first VM starts (or an explicit implement),
    /// then `Implemented` with a VLAN and a source NAT IP.
    NetworkState {
        Allocated => "Allocated", Implementing => "Implementing", Implemented => "Implemented",
        Shutdown => "Shutdown", Setup => "Setup", Destroy => "Destroy",
    }
);
cs_enum!(
    /// VPC state.
    VpcState { Enabled => "Enabled", Inactive => "Inactive" }
);
cs_enum!(
    /// Public IP state (§4.3). Released IPs go back to the pool and disappear.
    IpState {
        Allocating => "Allocating", Allocated => "Allocated", Releasing => "Releasing",
        Free => "Free", Reserved => "Reserved",
    }
);
cs_enum!(
    /// Firewall, port-forwarding and load-balancer rule state (§4.4).
    RuleState {
        Staged => "Staged", Add => "Add", Active => "Active", Revoke => "Revoke",
        Deleting => "Deleting",
    }
);
cs_enum!(
    /// Firewall and port-forwarding protocols.
    Protocol { Tcp => "tcp", Udp => "udp", Icmp => "icmp", All => "all" }
);
cs_enum!(
    /// Load-balancer protocols.
    LbProtocol { Tcp => "tcp", Udp => "udp", TcpProxy => "tcp-proxy" }
);
cs_enum!(
    /// Load-balancer algorithms.
    LbAlgorithm { RoundRobin => "roundrobin", LeastConn => "leastconn", Source => "source" }
);
cs_enum!(
    /// Virtual machine state (§4.1). Transitional: Starting, Stopping, Expunging, Migrating.
    VmState {
        Starting => "Starting", Running => "Running", Stopping => "Stopping", Stopped => "Stopped",
        Destroyed => "Destroyed", Expunging => "Expunging", Migrating => "Migrating",
        Error => "Error", Unknown => "Unknown", Shutdown => "Shutdown",
    }
);
cs_enum!(
    /// Where an ISO is in its (simulated) download.
    IsoState { Downloading => "Downloading", Ready => "Ready", Error => "Error" }
);

impl VmState {
    /// A VM in these states holds a host and its capacity.
    pub fn holds_host(self) -> bool {
        matches!(
            self,
            VmState::Starting | VmState::Running | VmState::Stopping | VmState::Migrating
        )
    }
}

/// An availability zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub network_type: NetworkType,
    pub allocation_state: AllocationState,
    pub dns1: Ipv4Addr,
    pub dns2: Option<Ipv4Addr>,
    pub internal_dns1: Ipv4Addr,
    pub internal_dns2: Option<Ipv4Addr>,
    /// Default guest CIDR of isolated networks, e.g. `10.1.1.0/24`.
    pub guest_cidr: String,
    /// Default network domain of guest networks.
    pub network_domain: Option<String>,
    pub security_groups_enabled: bool,
    pub local_storage_enabled: bool,
    /// Id of the zone's physical network (shown on networks and public IPs).
    pub physical_network_id: String,
    pub created: i64,
}

/// A pod (rack) inside a zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pod {
    pub id: String,
    pub name: String,
    pub zone_id: String,
    pub gateway: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub start_ip: Ipv4Addr,
    pub end_ip: Ipv4Addr,
    pub allocation_state: AllocationState,
    pub created: i64,
}

/// A cluster of hypervisor hosts (CloudStack's "cluster", named so to avoid confusion with
/// Kubernetes clusters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostCluster {
    pub id: String,
    pub name: String,
    pub zone_id: String,
    pub pod_id: String,
    pub hypervisor: String,
    pub arch: String,
    pub allocation_state: AllocationState,
    /// `cpu.overprovisioning.factor` for this cluster.
    pub cpu_overprovisioning: f64,
    /// `mem.overprovisioning.factor` for this cluster.
    pub memory_overprovisioning: f64,
    pub created: i64,
}

/// A hypervisor host. The allocation fields are derived from the VMs placed on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub id: String,
    pub name: String,
    pub zone_id: String,
    pub pod_id: String,
    pub cluster_id: String,
    pub hypervisor: String,
    pub hypervisor_version: String,
    pub arch: String,
    pub ip_address: Ipv4Addr,
    pub cpu_sockets: u32,
    /// Physical cores.
    pub cpu_cores: u32,
    /// MHz per core.
    pub cpu_speed_mhz: u32,
    pub memory_bytes: u64,
    /// MHz allocated to VMs (sum of vCPUs × speed of the VMs on this host).
    #[serde(default)]
    pub cpu_allocated_mhz: u64,
    /// Bytes of memory allocated to VMs.
    #[serde(default)]
    pub memory_allocated_bytes: u64,
    pub state: HostState,
    pub resource_state: HostResourceState,
    pub created: i64,
}

/// A compute offering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceOffering {
    pub id: String,
    pub name: String,
    pub display_text: String,
    /// vCPUs; `None` for customized offerings (the size comes with the deploy).
    pub cpu_number: Option<u32>,
    /// MHz per vCPU; `None` for customized offerings.
    pub cpu_speed_mhz: Option<u32>,
    /// MiB; `None` for customized offerings.
    pub memory_mib: Option<u64>,
    pub is_customized: bool,
    /// Root disk size in GiB, when the offering fixes it.
    pub root_disk_size_gib: Option<u64>,
    pub storage_type: String,
    pub offer_ha: bool,
    pub limit_cpu_use: bool,
    pub is_system: bool,
    pub dynamic_scaling_enabled: bool,
    pub host_tags: Option<String>,
    pub state: OfferingState,
    pub created: i64,
}

/// A disk offering (for data disks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskOffering {
    pub id: String,
    pub name: String,
    pub display_text: String,
    /// GiB; 0 when customized.
    pub disk_size_gib: u64,
    pub is_customized: bool,
    pub storage_type: String,
    pub provisioning_type: String,
    pub state: OfferingState,
    pub created: i64,
}

/// A network offering: what a guest network of this kind provides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkOffering {
    pub id: String,
    pub name: String,
    pub display_text: String,
    pub guest_ip_type: GuestIpType,
    /// Service names as CloudStack spells them: `Dhcp`, `Dns`, `UserData`, `SourceNat`,
    /// `StaticNat`, `PortForwarding`, `Lb`, `Firewall`, `Vpn`, `NetworkACL`.
    pub services: Vec<String>,
    /// Provider of every service (`VirtualRouter`, `VpcVirtualRouter`).
    pub service_provider: String,
    pub for_vpc: bool,
    pub is_default: bool,
    pub is_persistent: bool,
    pub conserve_mode: bool,
    pub egress_default_policy: bool,
    pub specify_vlan: bool,
    /// `Required` or `Optional`.
    pub availability: String,
    /// Mbit/s.
    pub network_rate: Option<u32>,
    pub state: NetworkOfferingState,
    pub created: i64,
}

impl NetworkOffering {
    pub fn has_service(&self, name: &str) -> bool {
        self.services.iter().any(|s| s.eq_ignore_ascii_case(name))
    }
}

/// A VM template (disk image).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub display_text: String,
    /// `None`: available in every zone (`crossZones`).
    pub zone_id: Option<String>,
    pub is_ready: bool,
    /// CloudStack's `status` text, e.g. `Download Complete`.
    pub status: String,
    /// `QCOW2`, `RAW`, `VHD`, `OVA`.
    pub format: String,
    pub hypervisor: String,
    /// `USER`, `BUILTIN`, `SYSTEM`, `ROUTING`.
    pub template_type: String,
    /// `x86_64` or `aarch64`.
    pub arch: String,
    /// Usable for Kubernetes cluster nodes (CloudStack 4.21 `forcks`).
    pub for_cks: bool,
    pub bootable: bool,
    pub is_public: bool,
    pub is_featured: bool,
    pub is_extractable: bool,
    pub password_enabled: bool,
    pub ssh_key_enabled: bool,
    pub is_dynamically_scalable: bool,
    pub size_bytes: u64,
    pub os_type_id: String,
    pub os_type_name: String,
    pub url: Option<String>,
    pub checksum: Option<String>,
    /// `None` for the built-in templates of the cloud (owned by the system).
    pub owner: Option<Owner>,
    pub tags: Tags,
    pub created: i64,
}

/// An ISO image registered by URL. Its download is simulated: the URL is never fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iso {
    pub id: String,
    pub name: String,
    pub display_text: String,
    pub url: String,
    pub checksum: Option<String>,
    /// `None`: registered for every zone (`zoneid=-1`).
    pub zone_id: Option<String>,
    pub bootable: bool,
    pub is_public: bool,
    pub is_featured: bool,
    pub is_extractable: bool,
    pub arch: String,
    pub state: IsoState,
    /// CloudStack's `status` text: `<n>% Downloaded`, then `Successfully Installed`.
    pub status: String,
    /// Bytes, known once downloaded.
    pub size_bytes: Option<u64>,
    pub os_type_id: String,
    pub os_type_name: String,
    pub owner: Owner,
    pub tags: Tags,
    pub created: i64,
}

impl Iso {
    pub fn is_ready(&self) -> bool {
        self.state == IsoState::Ready
    }
}

/// A guest network (isolated, shared or a VPC tier).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    pub id: String,
    pub name: String,
    pub display_text: String,
    pub zone_id: String,
    pub offering_id: String,
    pub guest_type: GuestIpType,
    pub state: NetworkState,
    /// e.g. `10.1.1.0/24`.
    pub cidr: String,
    pub gateway: Ipv4Addr,
    pub netmask: Ipv4Addr,
    /// VLAN, assigned when the network is implemented.
    pub vlan: Option<u32>,
    pub network_domain: String,
    pub vpc_id: Option<String>,
    pub owner: Owner,
    pub tags: Tags,
    pub created: i64,
}

/// A VPC (minimal: its tiers are networks with `vpc_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub name: String,
    pub display_text: String,
    pub zone_id: String,
    pub cidr: String,
    pub state: VpcState,
    pub vpc_offering_id: String,
    pub vpc_offering_name: String,
    pub network_domain: String,
    pub owner: Owner,
    pub tags: Tags,
    pub created: i64,
}

/// A range of public addresses of a zone (CloudStack's public VLAN IP range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicIpRange {
    pub id: String,
    pub zone_id: String,
    /// Id of the zone's public network the addresses come from.
    pub public_network_id: String,
    pub gateway: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub start_ip: Ipv4Addr,
    pub end_ip: Ipv4Addr,
    /// `vlan://untagged`.
    pub vlan: String,
    pub created: i64,
}

/// An allocated public IP address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicIp {
    pub id: String,
    pub address: Ipv4Addr,
    pub zone_id: String,
    /// The range (`vlanid`) it comes from.
    pub range_id: String,
    pub vlan_name: String,
    /// The zone's public network (`networkid`).
    pub public_network_id: String,
    pub physical_network_id: String,
    /// The guest network it is associated with (`associatednetworkid`).
    pub network_id: Option<String>,
    pub vpc_id: Option<String>,
    pub is_source_nat: bool,
    pub is_static_nat: bool,
    pub state: IpState,
    pub allocated: i64,
    pub owner: Owner,
    pub tags: Tags,
}

/// An ingress firewall rule on a public IP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirewallRule {
    pub id: String,
    pub ip_id: String,
    pub ip_address: Ipv4Addr,
    pub network_id: String,
    pub protocol: Protocol,
    pub start_port: Option<u16>,
    pub end_port: Option<u16>,
    pub cidrs: Vec<String>,
    pub icmp_type: Option<i32>,
    pub icmp_code: Option<i32>,
    pub state: RuleState,
    pub owner: Owner,
    pub tags: Tags,
    pub created: i64,
}

/// A port-forwarding rule from a public IP's port range to a VM's guest IP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortForwardingRule {
    pub id: String,
    pub ip_id: String,
    pub ip_address: Ipv4Addr,
    pub network_id: String,
    pub protocol: Protocol,
    pub public_start_port: u16,
    pub public_end_port: u16,
    pub private_start_port: u16,
    pub private_end_port: u16,
    pub vm_id: String,
    pub vm_guest_ip: Ipv4Addr,
    pub cidrs: Vec<String>,
    pub state: RuleState,
    pub owner: Owner,
    pub tags: Tags,
    pub created: i64,
}

/// A load-balancer rule on a public IP, with the VMs assigned to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancerRule {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub ip_id: String,
    pub ip_address: Ipv4Addr,
    pub network_id: String,
    pub zone_id: String,
    pub public_port: u16,
    pub private_port: u16,
    pub algorithm: LbAlgorithm,
    pub protocol: LbProtocol,
    pub cidrs: Vec<String>,
    /// `Add` until VMs are assigned, then `Active`.
    pub state: RuleState,
    /// Assigned VM ids, in assignment order, no duplicates.
    pub vm_ids: Vec<String>,
    pub owner: Owner,
    pub tags: Tags,
    pub created: i64,
}

/// A VM's network interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nic {
    pub id: String,
    pub network_id: String,
    pub ip_address: Ipv4Addr,
    pub netmask: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub mac_address: String,
    pub is_default: bool,
    pub device_id: u32,
}

/// A user VM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vm {
    pub id: String,
    /// Host name; unique within each of its networks.
    pub name: String,
    pub display_name: String,
    /// Hypervisor-side name (`instancename`), e.g. `i-1a2b3c4d-VM`.
    pub instance_name: String,
    pub state: VmState,
    pub zone_id: String,
    /// Set while the VM holds a host (`VmState::holds_host`).
    pub host_id: Option<String>,
    pub last_host_id: Option<String>,
    pub hypervisor: String,
    pub service_offering_id: String,
    pub cpu_number: u32,
    pub cpu_speed_mhz: u32,
    pub memory_mib: u64,
    pub template_id: String,
    pub root_disk_size_gib: Option<u64>,
    pub nics: Vec<Nic>,
    /// Base64 user data, as given.
    pub user_data: Option<String>,
    /// Key pair names.
    pub keypairs: Vec<String>,
    /// The attached ISO (one at most).
    pub iso_id: Option<String>,
    pub owner: Owner,
    /// The user who deployed it (`userid`/`username`), when known.
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub details: BTreeMap<String, String>,
    pub tags: Tags,
    pub created: i64,
    pub last_updated: i64,
}

impl Vm {
    pub fn default_nic(&self) -> Option<&Nic> {
        self.nics
            .iter()
            .find(|n| n.is_default)
            .or(self.nics.first())
    }

    pub fn nic_in(&self, network_id: &str) -> Option<&Nic> {
        self.nics.iter().find(|n| n.network_id == network_id)
    }

    /// MHz this VM takes from its host.
    pub fn cpu_mhz(&self) -> u64 {
        u64::from(self.cpu_number) * u64::from(self.cpu_speed_mhz)
    }

    pub fn memory_bytes(&self) -> u64 {
        self.memory_mib * 1024 * 1024
    }
}

/// An SSH key pair. The private key is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshKeyPair {
    pub id: String,
    /// Unique per owner.
    pub name: String,
    /// MD5 of the decoded public-key blob, lowercase hex pairs joined by `:`.
    pub fingerprint: String,
    /// OpenSSH form without comment: `ssh-rsa AAAA...`.
    pub public_key: String,
    pub owner: Owner,
    pub created: i64,
}

/// Do two owners denote the same account (or project)? Names are not compared: they are copies.
pub fn same_owner(a: &Owner, b: &Owner) -> bool {
    a.account_id == b.account_id && a.project_id == b.project_id
}

/// Parses `a.b.c.d/len` into (network address, prefix length).
pub fn parse_cidr(cidr: &str) -> Option<(Ipv4Addr, u8)> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: Ipv4Addr = addr.trim().parse().ok()?;
    let len: u8 = len.trim().parse().ok()?;
    if len > 32 {
        return None;
    }
    Some((Ipv4Addr::from(u32::from(addr) & prefix_mask(len)), len))
}

/// The netmask of a prefix length, as a number: 24 → 0xffff_ff00.
pub fn prefix_mask(len: u8) -> u32 {
    match len {
        0 => 0,
        n if n >= 32 => u32::MAX,
        n => u32::MAX << (32 - u32::from(n)),
    }
}

/// Prefix length of a contiguous netmask, `None` when it is not one.
pub fn mask_len(netmask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(netmask);
    let len = m.leading_ones();
    (m.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_helpers_round_trip() {
        assert_eq!(
            parse_cidr("10.1.1.7/24"),
            Some((Ipv4Addr::new(10, 1, 1, 0), 24))
        );
        assert_eq!(parse_cidr("10.1.1.0/33"), None);
        assert_eq!(parse_cidr("nope"), None);
        assert_eq!(mask_len(Ipv4Addr::new(255, 255, 255, 0)), Some(24));
        assert_eq!(mask_len(Ipv4Addr::new(255, 0, 255, 0)), None);
        assert_eq!(
            Ipv4Addr::from(prefix_mask(16)),
            Ipv4Addr::new(255, 255, 0, 0)
        );
    }

    #[test]
    fn states_print_and_parse_as_cloudstack_does() {
        assert_eq!(VmState::Running.as_str(), "Running");
        assert_eq!(LbProtocol::parse("TCP-PROXY"), Some(LbProtocol::TcpProxy));
        assert_eq!(Protocol::parse("tcp"), Some(Protocol::Tcp));
        for kind in ResourceKind::ALL {
            assert_eq!(ResourceKind::from_str_opt(kind.as_str()), Some(kind));
        }
    }
}
