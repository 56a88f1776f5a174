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
    /// An availability zone (`zone`).
    Zone,
    /// A pod (rack) of a zone (`pod`).
    Pod,
    /// A cluster of hypervisor hosts; stored as `cluster`, not a Kubernetes cluster.
    HostCluster,
    /// A hypervisor host (`host`).
    Host,
    /// A compute offering (`serviceoffering`).
    ServiceOffering,
    /// A data-disk offering (`diskoffering`).
    DiskOffering,
    /// A network offering (`networkoffering`).
    NetworkOffering,
    /// A VM template (`template`).
    Template,
    /// An ISO image (`iso`).
    Iso,
    /// A guest network (`network`).
    Network,
    /// A VPC (`vpc`).
    Vpc,
    /// A public IP range; CloudStack calls it a VLAN (`vlan`, `Vlan`).
    PublicIpRange,
    /// An allocated public IP (`publicipaddress`).
    PublicIp,
    /// An ingress firewall rule (`firewallrule`).
    FirewallRule,
    /// A port-forwarding rule (`portforwardingrule`).
    PortForwardingRule,
    /// A load-balancer rule (`loadbalancerrule`; tag `resourcetype` `LoadBalancer`).
    LoadBalancerRule,
    /// A user VM (`virtualmachine`; tag `resourcetype` `UserVm`).
    Vm,
    /// An SSH key pair (`sshkeypair`).
    SshKeyPair,
}

impl ResourceKind {
    /// Every kind, in declaration order (the order `as_str` names are checked in `from_str_opt`).
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

    /// The kind whose `as_str` is exactly `s` (case-sensitive); `None` for unknown names.
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
        pub enum $name { $(#[doc = concat!("CloudStack's `", $text, "`.")] $variant),+ }

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
    /// Zone UUID.
    pub id: String,
    /// CloudStack's `name` of the zone, unique in the cloud.
    pub name: String,
    /// Free text shown as `description`; `None` omits the field.
    pub description: Option<String>,
    /// `networktype`: how guest networks are built.
    pub network_type: NetworkType,
    /// `allocationstate`; in a `Disabled` zone only root admins may create Kubernetes clusters.
    pub allocation_state: AllocationState,
    /// First public DNS server handed to guests (`dns1`).
    pub dns1: Ipv4Addr,
    /// Second public DNS server (`dns2`), if any.
    pub dns2: Option<Ipv4Addr>,
    /// First DNS server for system VMs (`internaldns1`).
    pub internal_dns1: Ipv4Addr,
    /// Second internal DNS server (`internaldns2`), if any.
    pub internal_dns2: Option<Ipv4Addr>,
    /// Default guest CIDR of isolated networks, e.g. `10.1.1.0/24`.
    pub guest_cidr: String,
    /// Default network domain of guest networks.
    pub network_domain: Option<String>,
    /// `securitygroupsenabled`.
    pub security_groups_enabled: bool,
    /// `localstorageenabled`.
    pub local_storage_enabled: bool,
    /// Id of the zone's physical network (shown on networks and public IPs).
    pub physical_network_id: String,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A pod (rack) inside a zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pod {
    /// Pod UUID.
    pub id: String,
    /// CloudStack's `name` of the pod.
    pub name: String,
    /// The zone it belongs to (`zoneid`).
    pub zone_id: String,
    /// Gateway of the pod's management range.
    pub gateway: Ipv4Addr,
    /// Netmask of the pod's management range.
    pub netmask: Ipv4Addr,
    /// First address of the pod's management range (`startip`).
    pub start_ip: Ipv4Addr,
    /// Last address of the pod's management range (`endip`).
    pub end_ip: Ipv4Addr,
    /// `allocationstate`, shown as is (the simulator places VMs regardless).
    pub allocation_state: AllocationState,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A cluster of hypervisor hosts (CloudStack's "cluster", named so to avoid confusion with
/// Kubernetes clusters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostCluster {
    /// Cluster UUID.
    pub id: String,
    /// CloudStack's `name` of the host cluster.
    pub name: String,
    /// The zone it belongs to (`zoneid`).
    pub zone_id: String,
    /// The pod it belongs to (`podid`).
    pub pod_id: String,
    /// Hypervisor of its hosts (`hypervisortype`), e.g. `KVM`.
    pub hypervisor: String,
    /// CPU architecture of its hosts: `x86_64` or `aarch64`.
    pub arch: String,
    /// `allocationstate`, shown as is (the simulator places VMs regardless).
    pub allocation_state: AllocationState,
    /// `cpu.overprovisioning.factor` for this cluster.
    pub cpu_overprovisioning: f64,
    /// `mem.overprovisioning.factor` for this cluster.
    pub memory_overprovisioning: f64,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A hypervisor host. The allocation fields are derived from the VMs placed on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Host UUID.
    pub id: String,
    /// CloudStack's `name` of the host.
    pub name: String,
    /// The zone it is in (`zoneid`).
    pub zone_id: String,
    /// The pod it is in (`podid`).
    pub pod_id: String,
    /// The host cluster it is in (`clusterid`).
    pub cluster_id: String,
    /// Hypervisor type, e.g. `KVM`; must match the template of a VM placed on it.
    pub hypervisor: String,
    /// `hypervisorversion` (also shown as `version`).
    pub hypervisor_version: String,
    /// CPU architecture: `x86_64` or `aarch64`.
    pub arch: String,
    /// Management address (`ipaddress`).
    pub ip_address: Ipv4Addr,
    /// `cpusockets`.
    pub cpu_sockets: u32,
    /// Physical cores.
    pub cpu_cores: u32,
    /// MHz per core.
    pub cpu_speed_mhz: u32,
    /// Physical memory in bytes, before the cluster's overprovisioning factor.
    pub memory_bytes: u64,
    /// MHz allocated to VMs (sum of vCPUs × speed of the VMs on this host).
    #[serde(default)]
    pub cpu_allocated_mhz: u64,
    /// Bytes of memory allocated to VMs.
    #[serde(default)]
    pub memory_allocated_bytes: u64,
    /// `state`; only `Up` hosts receive VMs.
    pub state: HostState,
    /// `resourcestate`; only `Enabled` hosts receive VMs.
    pub resource_state: HostResourceState,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A compute offering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceOffering {
    /// Offering UUID.
    pub id: String,
    /// CloudStack's `name` of the offering.
    pub name: String,
    /// `displaytext`.
    pub display_text: String,
    /// vCPUs; `None` for customized offerings (the size comes with the deploy).
    pub cpu_number: Option<u32>,
    /// MHz per vCPU; `None` for customized offerings.
    pub cpu_speed_mhz: Option<u32>,
    /// MiB; `None` for customized offerings.
    pub memory_mib: Option<u64>,
    /// `iscustomized`: CPU and memory come with each deploy instead of the offering.
    pub is_customized: bool,
    /// Root disk size in GiB, when the offering fixes it.
    pub root_disk_size_gib: Option<u64>,
    /// `storagetype`: `shared` or `local`.
    pub storage_type: String,
    /// `offerha`: VMs restart elsewhere when their host fails.
    pub offer_ha: bool,
    /// `limitcpuuse`: VMs are capped at their CPU speed.
    pub limit_cpu_use: bool,
    /// `issystem`: for system VMs only, never offered to users.
    pub is_system: bool,
    /// `dynamicscalingenabled`: VMs may be rescaled while running.
    pub dynamic_scaling_enabled: bool,
    /// `hosttags`: only hosts with these tags receive its VMs; `None` for any host.
    pub host_tags: Option<String>,
    /// `state`, shown as is.
    pub state: OfferingState,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A disk offering (for data disks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskOffering {
    /// Offering UUID.
    pub id: String,
    /// CloudStack's `name` of the offering.
    pub name: String,
    /// `displaytext`.
    pub display_text: String,
    /// GiB; 0 when customized.
    pub disk_size_gib: u64,
    /// `iscustomized`: the size comes with each volume.
    pub is_customized: bool,
    /// `storagetype`: `shared` or `local`.
    pub storage_type: String,
    /// `provisioningtype`: `thin`, `sparse` or `fat`.
    pub provisioning_type: String,
    /// `state`, shown as is.
    pub state: OfferingState,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A network offering: what a guest network of this kind provides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkOffering {
    /// Offering UUID.
    pub id: String,
    /// CloudStack's `name` of the offering.
    pub name: String,
    /// `displaytext`.
    pub display_text: String,
    /// `guestiptype` of the networks made from it.
    pub guest_ip_type: GuestIpType,
    /// Service names as CloudStack spells them: `Dhcp`, `Dns`, `UserData`, `SourceNat`,
    /// `StaticNat`, `PortForwarding`, `Lb`, `Firewall`, `Vpn`, `NetworkACL`.
    pub services: Vec<String>,
    /// Provider of every service (`VirtualRouter`, `VpcVirtualRouter`).
    pub service_provider: String,
    /// `forvpc`: for VPC tiers only.
    pub for_vpc: bool,
    /// `isdefault`: one of the cloud's built-in offerings.
    pub is_default: bool,
    /// `ispersistent`: networks are implemented at creation, not at the first VM.
    pub is_persistent: bool,
    /// `conservemode`: one public IP may carry several services.
    pub conserve_mode: bool,
    /// `egressdefaultpolicy`: `true` allows egress unless a rule denies it.
    pub egress_default_policy: bool,
    /// `specifyvlan`: networks from it need an explicit VLAN.
    pub specify_vlan: bool,
    /// `Required` or `Optional`.
    pub availability: String,
    /// Mbit/s.
    pub network_rate: Option<u32>,
    /// `state`, shown as is.
    pub state: NetworkOfferingState,
    /// Unix seconds (UTC).
    pub created: i64,
}

impl NetworkOffering {
    /// Does it provide service `name` (CloudStack's spelling, ASCII case ignored)?
    pub fn has_service(&self, name: &str) -> bool {
        self.services.iter().any(|s| s.eq_ignore_ascii_case(name))
    }
}

/// A VM template (disk image).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// Template UUID.
    pub id: String,
    /// CloudStack's `name` of the template.
    pub name: String,
    /// `displaytext`.
    pub display_text: String,
    /// `None`: available in every zone (`crossZones`).
    pub zone_id: Option<String>,
    /// `isready`: a VM can be deployed from it.
    pub is_ready: bool,
    /// CloudStack's `status` text, e.g. `Download Complete`.
    pub status: String,
    /// `QCOW2`, `RAW`, `VHD`, `OVA`.
    pub format: String,
    /// Hypervisor it runs on, e.g. `KVM`; a VM's host must match.
    pub hypervisor: String,
    /// `USER`, `BUILTIN`, `SYSTEM`, `ROUTING`.
    pub template_type: String,
    /// `x86_64` or `aarch64`.
    pub arch: String,
    /// Usable for Kubernetes cluster nodes (CloudStack 4.21 `forcks`).
    pub for_cks: bool,
    /// `bootable`.
    pub bootable: bool,
    /// `ispublic`: every account may use it.
    pub is_public: bool,
    /// `isfeatured`: listed under featured templates.
    pub is_featured: bool,
    /// `isextractable`: may be downloaded.
    pub is_extractable: bool,
    /// `passwordenabled`: the guest takes a generated password.
    pub password_enabled: bool,
    /// `sshkeyenabled`: the guest installs the VM's key pair.
    pub ssh_key_enabled: bool,
    /// `isdynamicallyscalable`.
    pub is_dynamically_scalable: bool,
    /// Virtual size in bytes (`size` and `physicalsize`).
    pub size_bytes: u64,
    /// Guest OS type UUID (`ostypeid`).
    pub os_type_id: String,
    /// Guest OS type name (`ostypename`).
    pub os_type_name: String,
    /// Where it was registered from; `None` for built-in templates.
    pub url: Option<String>,
    /// The checksum given at registration, if any.
    pub checksum: Option<String>,
    /// `None` for the built-in templates of the cloud (owned by the system).
    pub owner: Option<Owner>,
    /// Resource tags.
    pub tags: Tags,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// An ISO image registered by URL. Its download is simulated: the URL is never fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iso {
    /// ISO UUID.
    pub id: String,
    /// CloudStack's `name` of the ISO, unique per owner.
    pub name: String,
    /// `displaytext`.
    pub display_text: String,
    /// Where it was registered from (never fetched).
    pub url: String,
    /// The checksum given at registration, if any.
    pub checksum: Option<String>,
    /// `None`: registered for every zone (`zoneid=-1`).
    pub zone_id: Option<String>,
    /// `bootable`.
    pub bootable: bool,
    /// `ispublic`: every account may use it.
    pub is_public: bool,
    /// `isfeatured`.
    pub is_featured: bool,
    /// `isextractable`: may be downloaded.
    pub is_extractable: bool,
    /// CPU architecture: `x86_64` or `aarch64`.
    pub arch: String,
    /// Download progress; only `Ready` ISOs can be attached.
    pub state: IsoState,
    /// CloudStack's `status` text: `<n>% Downloaded`, then `Successfully Installed`.
    pub status: String,
    /// Bytes, known once downloaded.
    pub size_bytes: Option<u64>,
    /// Guest OS type UUID (`ostypeid`).
    pub os_type_id: String,
    /// Guest OS type name (`ostypename`).
    pub os_type_name: String,
    /// The account (or project) that registered it.
    pub owner: Owner,
    /// Resource tags.
    pub tags: Tags,
    /// Unix seconds (UTC).
    pub created: i64,
}

impl Iso {
    /// Has the (simulated) download finished? CloudStack's `isready`.
    pub fn is_ready(&self) -> bool {
        self.state == IsoState::Ready
    }
}

/// A guest network (isolated, shared or a VPC tier).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Network UUID.
    pub id: String,
    /// CloudStack's `name` of the network.
    pub name: String,
    /// `displaytext`.
    pub display_text: String,
    /// The zone it is in (`zoneid`).
    pub zone_id: String,
    /// Its network offering (`networkofferingid`).
    pub offering_id: String,
    /// CloudStack's `type`: `Isolated`, `Shared` or `L2`.
    pub guest_type: GuestIpType,
    /// `state`; see `NetworkState`.
    pub state: NetworkState,
    /// e.g. `10.1.1.0/24`.
    pub cidr: String,
    /// Guest gateway, inside `cidr`.
    pub gateway: Ipv4Addr,
    /// Netmask of `cidr`.
    pub netmask: Ipv4Addr,
    /// VLAN, assigned when the network is implemented.
    pub vlan: Option<u32>,
    /// DNS domain of its guests (`networkdomain`).
    pub network_domain: String,
    /// The VPC it is a tier of (`vpcid`); `None` for a standalone network.
    pub vpc_id: Option<String>,
    /// The account (or project) owning it.
    pub owner: Owner,
    /// Resource tags.
    pub tags: Tags,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A VPC (minimal: its tiers are networks with `vpc_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vpc {
    /// VPC UUID.
    pub id: String,
    /// CloudStack's `name` of the VPC.
    pub name: String,
    /// `displaytext`.
    pub display_text: String,
    /// The zone it is in (`zoneid`).
    pub zone_id: String,
    /// Super-CIDR its tiers are carved from, e.g. `10.0.0.0/16`.
    pub cidr: String,
    /// `state`.
    pub state: VpcState,
    /// `vpcofferingid`.
    pub vpc_offering_id: String,
    /// `vpcofferingname`.
    pub vpc_offering_name: String,
    /// DNS domain of its tiers' guests (`networkdomain`).
    pub network_domain: String,
    /// The account (or project) owning it.
    pub owner: Owner,
    /// Resource tags.
    pub tags: Tags,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A range of public addresses of a zone (CloudStack's public VLAN IP range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicIpRange {
    /// Range UUID (a public IP's `vlanid`).
    pub id: String,
    /// The zone it serves (`zoneid`).
    pub zone_id: String,
    /// Id of the zone's public network the addresses come from.
    pub public_network_id: String,
    /// Gateway of the public addresses.
    pub gateway: Ipv4Addr,
    /// Netmask of the public addresses.
    pub netmask: Ipv4Addr,
    /// First address of the range, inclusive.
    pub start_ip: Ipv4Addr,
    /// Last address of the range, inclusive.
    pub end_ip: Ipv4Addr,
    /// `vlan://untagged`.
    pub vlan: String,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// An allocated public IP address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicIp {
    /// Public IP UUID (`id`, used as `ipaddressid`/`publicipid` in rules).
    pub id: String,
    /// The address itself (`ipaddress`).
    pub address: Ipv4Addr,
    /// The zone it belongs to (`zoneid`).
    pub zone_id: String,
    /// The range (`vlanid`) it comes from.
    pub range_id: String,
    /// The range's VLAN URI (`vlanname`), e.g. `vlan://untagged`.
    pub vlan_name: String,
    /// The zone's public network (`networkid`).
    pub public_network_id: String,
    /// The zone's physical network (`physicalnetworkid`).
    pub physical_network_id: String,
    /// The guest network it is associated with (`associatednetworkid`).
    pub network_id: Option<String>,
    /// The VPC it is associated with (`vpcid`), for VPC IPs.
    pub vpc_id: Option<String>,
    /// `issourcenat`: the network's outbound address, given when it is implemented.
    pub is_source_nat: bool,
    /// `isstaticnat`: one-to-one NAT to a VM.
    pub is_static_nat: bool,
    /// `state`; see `IpState`.
    pub state: IpState,
    /// When it was acquired, Unix seconds (UTC).
    pub allocated: i64,
    /// The account (or project) that acquired it.
    pub owner: Owner,
    /// Resource tags.
    pub tags: Tags,
}

/// An ingress firewall rule on a public IP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirewallRule {
    /// Rule UUID.
    pub id: String,
    /// The public IP it opens (`ipaddressid`).
    pub ip_id: String,
    /// Copy of that IP's address (`ipaddress`).
    pub ip_address: Ipv4Addr,
    /// The guest network of that IP (`networkid`).
    pub network_id: String,
    /// `protocol`.
    pub protocol: Protocol,
    /// First port (`startport`); `None` for ICMP and `all`.
    pub start_port: Option<u16>,
    /// Last port, inclusive (`endport`); `None` for ICMP and `all`.
    pub end_port: Option<u16>,
    /// Allowed source CIDRs (`cidrlist`).
    pub cidrs: Vec<String>,
    /// ICMP type (`icmptype`), ICMP only; `-1` for any.
    pub icmp_type: Option<i32>,
    /// ICMP code (`icmpcode`), ICMP only; `-1` for any.
    pub icmp_code: Option<i32>,
    /// `state`; see `RuleState`.
    pub state: RuleState,
    /// Owner of the IP.
    pub owner: Owner,
    /// Resource tags.
    pub tags: Tags,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A port-forwarding rule from a public IP's port range to a VM's guest IP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortForwardingRule {
    /// Rule UUID.
    pub id: String,
    /// The public IP it forwards from (`ipaddressid`).
    pub ip_id: String,
    /// Copy of that IP's address (`ipaddress`).
    pub ip_address: Ipv4Addr,
    /// The guest network of the IP and the VM (`networkid`).
    pub network_id: String,
    /// `protocol`: `tcp` or `udp`.
    pub protocol: Protocol,
    /// First public port (`publicport`).
    pub public_start_port: u16,
    /// Last public port, inclusive (`publicendport`).
    pub public_end_port: u16,
    /// First VM port (`privateport`).
    pub private_start_port: u16,
    /// Last VM port, inclusive (`privateendport`).
    pub private_end_port: u16,
    /// Target VM (`virtualmachineid`).
    pub vm_id: String,
    /// Target VM's guest address in `network_id` (`vmguestip`).
    pub vm_guest_ip: Ipv4Addr,
    /// Allowed source CIDRs (`cidrlist`).
    pub cidrs: Vec<String>,
    /// `state`; see `RuleState`.
    pub state: RuleState,
    /// Owner of the IP.
    pub owner: Owner,
    /// Resource tags.
    pub tags: Tags,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A load-balancer rule on a public IP, with the VMs assigned to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadBalancerRule {
    /// Rule UUID.
    pub id: String,
    /// CloudStack's `name` of the rule.
    pub name: String,
    /// Free text (`description`).
    pub description: Option<String>,
    /// The public IP it listens on (`publicipid`).
    pub ip_id: String,
    /// Copy of that IP's address (`publicip`).
    pub ip_address: Ipv4Addr,
    /// The guest network of its VMs (`networkid`).
    pub network_id: String,
    /// The zone of the IP (`zoneid`).
    pub zone_id: String,
    /// Port it listens on (`publicport`).
    pub public_port: u16,
    /// Port on the VMs (`privateport`).
    pub private_port: u16,
    /// `algorithm`.
    pub algorithm: LbAlgorithm,
    /// `protocol`.
    pub protocol: LbProtocol,
    /// Allowed source CIDRs (`cidrlist`).
    pub cidrs: Vec<String>,
    /// `Add` until VMs are assigned, then `Active`.
    pub state: RuleState,
    /// Assigned VM ids, in assignment order, no duplicates.
    pub vm_ids: Vec<String>,
    /// Owner of the IP.
    pub owner: Owner,
    /// Resource tags.
    pub tags: Tags,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A VM's network interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nic {
    /// NIC UUID.
    pub id: String,
    /// The network it is plugged into (`networkid`).
    pub network_id: String,
    /// Guest address in that network (`ipaddress`).
    pub ip_address: Ipv4Addr,
    /// The network's netmask.
    pub netmask: Ipv4Addr,
    /// The network's gateway.
    pub gateway: Ipv4Addr,
    /// `macaddress`, e.g. `02:00:12:34:56:78`.
    pub mac_address: String,
    /// `isdefault`: carries the VM's default route; one per VM.
    pub is_default: bool,
    /// Slot number (`deviceid`); 0 is the first NIC.
    pub device_id: u32,
}

/// A user VM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vm {
    /// VM UUID.
    pub id: String,
    /// Host name; unique within each of its networks.
    pub name: String,
    /// `displayname`; the `name` unless given.
    pub display_name: String,
    /// Hypervisor-side name (`instancename`), e.g. `i-1a2b3c4d-VM`.
    pub instance_name: String,
    /// `state`; see `VmState`.
    pub state: VmState,
    /// The zone it is in (`zoneid`).
    pub zone_id: String,
    /// Set while the VM holds a host (`VmState::holds_host`).
    pub host_id: Option<String>,
    /// The host it last ran on, kept while stopped (CloudStack's `lasthostid`).
    pub last_host_id: Option<String>,
    /// Hypervisor type, taken from the template.
    pub hypervisor: String,
    /// Its compute offering (`serviceofferingid`).
    pub service_offering_id: String,
    /// vCPUs (`cpunumber`), from the offering or the deploy for customized offerings.
    pub cpu_number: u32,
    /// MHz per vCPU (`cpuspeed`).
    pub cpu_speed_mhz: u32,
    /// Memory in MiB (`memory`).
    pub memory_mib: u64,
    /// The template it was deployed from (`templateid`).
    pub template_id: String,
    /// Root disk GiB, from the deploy or the offering; `None`: the template's size.
    pub root_disk_size_gib: Option<u64>,
    /// Its network interfaces; the first is in the deploy's network.
    pub nics: Vec<Nic>,
    /// Base64 user data, as given.
    pub user_data: Option<String>,
    /// Key pair names.
    pub keypairs: Vec<String>,
    /// The attached ISO (one at most).
    pub iso_id: Option<String>,
    /// The account (or project) owning it.
    pub owner: Owner,
    /// The user who deployed it (`userid`/`username`), when known.
    pub user_id: Option<String>,
    /// Name of that user (`username`), when known.
    pub user_name: Option<String>,
    /// Free `key → value` details (`details`), rendered as given.
    pub details: BTreeMap<String, String>,
    /// Resource tags.
    pub tags: Tags,
    /// Unix seconds (UTC).
    pub created: i64,
    /// Last change of state or settings, Unix seconds (`lastupdated`).
    pub last_updated: i64,
}

impl Vm {
    /// The NIC marked default, else the first; `None` for a VM without NICs.
    pub fn default_nic(&self) -> Option<&Nic> {
        self.nics
            .iter()
            .find(|n| n.is_default)
            .or(self.nics.first())
    }

    /// Its NIC in network `network_id`, if it has one.
    pub fn nic_in(&self, network_id: &str) -> Option<&Nic> {
        self.nics.iter().find(|n| n.network_id == network_id)
    }

    /// MHz this VM takes from its host.
    pub fn cpu_mhz(&self) -> u64 {
        u64::from(self.cpu_number) * u64::from(self.cpu_speed_mhz)
    }

    /// Memory in bytes (`memory_mib` × 1 MiB), for host capacity.
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mib * 1024 * 1024
    }
}

/// An SSH key pair. The private key is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshKeyPair {
    /// Key pair UUID.
    pub id: String,
    /// Unique per owner.
    pub name: String,
    /// MD5 of the decoded public-key blob, lowercase hex pairs joined by `:`.
    pub fingerprint: String,
    /// OpenSSH form without comment: `ssh-rsa AAAA...`.
    pub public_key: String,
    /// The account (or project) owning it.
    pub owner: Owner,
    /// Unix seconds (UTC).
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
