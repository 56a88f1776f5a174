//! The `Cloud` trait: the IaaS operations the Kubernetes-cluster orchestrator needs, and the specs
//! they take.
//!
//! Every call is safe to repeat, because a job step may run twice after a crash:
//! * creates find what an earlier attempt made (by name within its scope, or by tags) and return
//!   it instead of making a second one;
//! * deletes, destroys and releases of something already gone succeed and return `false`.
//!
//! The exceptions are spelled out on the method (a new SSH key pair's private key exists once).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use async_trait::async_trait;
use cks_core::iaas::{
    FirewallRule, Host, Iso, LbAlgorithm, LbProtocol, LoadBalancerRule, Network, NetworkOffering,
    PortForwardingRule, Protocol, PublicIp, ResourceKind, ServiceOffering, SshKeyPair, Tags,
    Template, Vm, VmState, Zone,
};
use cks_core::tenancy::Owner;

use crate::error::CloudError;

/// A new guest network. Found again by `name` + owner.
#[derive(Debug, Clone)]
pub struct NetworkSpec {
    /// Network name, unique per owner; how a repeated create finds the first one.
    pub name: String,
    /// Defaults to `name`.
    pub display_text: Option<String>,
    /// The zone to create it in.
    pub zone_id: String,
    /// Its network offering (isolated for CKS clusters).
    pub offering_id: String,
    /// Both or neither; default: the zone's guest CIDR (`10.1.1.0/24`, gateway `10.1.1.1`).
    pub gateway: Option<Ipv4Addr>,
    /// Netmask that goes with `gateway`; both or neither.
    pub netmask: Option<Ipv4Addr>,
    /// DNS domain of its guests; default: the zone's.
    pub network_domain: Option<String>,
    /// Make the network a tier of this VPC.
    pub vpc_id: Option<String>,
    /// The account (or project) that will own it.
    pub owner: Owner,
    /// Tags to put on it (the orchestrator's `cks.cluster=<uuid>`).
    pub tags: Tags,
}

/// A new VPC (simulator only for now). Found again by `name` + owner.
#[derive(Debug, Clone)]
pub struct VpcSpec {
    /// VPC name, unique per owner; how a repeated create finds the first one.
    pub name: String,
    /// Defaults to `name`.
    pub display_text: Option<String>,
    /// The zone to create it in.
    pub zone_id: String,
    /// Super-CIDR of the tiers, e.g. `10.0.0.0/16`.
    pub cidr: String,
    /// DNS domain of its tiers; default: the zone's.
    pub network_domain: Option<String>,
    /// The account (or project) that will own it.
    pub owner: Owner,
    /// Tags to put on it.
    pub tags: Tags,
}

/// A public IP to acquire for a guest network. When `tags` is not empty, an IP of that network
/// already carrying all of them is returned instead of a new one.
#[derive(Debug, Clone)]
pub struct PublicIpSpec {
    /// The guest network to associate the IP with; it gets the network's owner.
    pub network_id: String,
    /// Tags to put on a new IP; a non-empty set also finds an earlier one.
    pub tags: Tags,
}

/// An ingress firewall rule. An identical rule (same IP, protocol, ports and CIDRs) is adopted.
#[derive(Debug, Clone)]
pub struct FirewallRuleSpec {
    /// The public IP whose ingress it opens.
    pub ip_id: String,
    /// `tcp`, `udp`, `icmp` or `all`.
    pub protocol: Protocol,
    /// `None` for `icmp`/`all`; `end_port` defaults to `start_port`.
    pub start_port: Option<u16>,
    /// Last port, inclusive.
    pub end_port: Option<u16>,
    /// Defaults to `0.0.0.0/0`.
    pub cidrs: Vec<String>,
    /// Tags to put on it.
    pub tags: Tags,
}

/// A port-forwarding rule. An identical rule (same IP, protocol, ports, VM) is adopted; any other
/// rule overlapping its public range on the same IP is a `RuleConflict`.
#[derive(Debug, Clone)]
pub struct PortForwardingSpec {
    /// The public IP to forward from.
    pub ip_id: String,
    /// `tcp` or `udp`.
    pub protocol: Protocol,
    /// First public port.
    pub public_start_port: u16,
    /// Defaults to `public_start_port`.
    pub public_end_port: Option<u16>,
    /// First port on the VM.
    pub private_start_port: u16,
    /// Defaults to `private_start_port`.
    pub private_end_port: Option<u16>,
    /// Target VM; its NIC must be in the IP's network.
    pub vm_id: String,
    /// Defaults to `0.0.0.0/0`.
    pub cidrs: Vec<String>,
    /// Tags to put on it.
    pub tags: Tags,
}

/// A load-balancer rule. Found again by `name` on the same IP.
#[derive(Debug, Clone)]
pub struct LoadBalancerSpec {
    /// Rule name, unique per IP; how a repeated create finds the first one.
    pub name: String,
    /// Free text, if any.
    pub description: Option<String>,
    /// The public IP it listens on.
    pub ip_id: String,
    /// Port it listens on.
    pub public_port: u16,
    /// Port on the assigned VMs.
    pub private_port: u16,
    /// How connections are spread over the VMs.
    pub algorithm: LbAlgorithm,
    /// `tcp`, `udp` or `tcp-proxy`.
    pub protocol: LbProtocol,
    /// Defaults to `0.0.0.0/0`.
    pub cidrs: Vec<String>,
    /// Tags to put on it.
    pub tags: Tags,
}

/// vCPUs, speed and memory for a customized offering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmSize {
    /// vCPUs.
    pub cpu_number: u32,
    /// MHz per vCPU.
    pub cpu_speed_mhz: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
}

/// A VM to deploy. Found again by `name` within `network_id`: a VM of that name is adopted
/// (started if `start` and it is stopped), except one in `Error`, which is expunged and replaced.
#[derive(Debug, Clone)]
pub struct DeployVmSpec {
    /// Host name (RFC 1123 label).
    pub name: String,
    /// Defaults to `name`.
    pub display_name: Option<String>,
    /// The zone to deploy in.
    pub zone_id: String,
    /// The network of its first (default) NIC; names are unique within it.
    pub network_id: String,
    /// Its compute offering.
    pub service_offering_id: String,
    /// Required when the offering is customized, ignored otherwise.
    pub size: Option<VmSize>,
    /// The template to boot; its hypervisor picks the host.
    pub template_id: String,
    /// Root disk GiB; default: the offering's, else the template's size.
    pub root_disk_size_gib: Option<u64>,
    /// Base64.
    pub user_data: Option<String>,
    /// Names of the owner's key pairs.
    pub keypairs: Vec<String>,
    /// A specific guest IP in the network; default: the lowest free one.
    pub ip_address: Option<Ipv4Addr>,
    /// Start after creating (CloudStack's `startvm`, default true).
    pub start: bool,
    /// The account (or project) that will own it.
    pub owner: Owner,
    /// The user deploying it (`userid`), when known.
    pub user_id: Option<String>,
    /// That user's name (`username`), when known.
    pub user_name: Option<String>,
    /// Tags to put on it.
    pub tags: Tags,
}

/// An ISO to register by URL. The URL is never fetched: the download is simulated.
/// Found again by `name` + owner + zone.
#[derive(Debug, Clone)]
pub struct IsoSpec {
    /// ISO name, unique per owner and zone; how a repeated register finds the first one.
    pub name: String,
    /// Defaults to `name`.
    pub display_text: Option<String>,
    /// `http` or `https`, at most 2048 characters.
    pub url: String,
    /// Hex digest, optionally prefixed `{MD5}`, `{SHA-256}`...
    pub checksum: Option<String>,
    /// `None`: every zone.
    pub zone_id: Option<String>,
    /// `bootable`.
    pub bootable: bool,
    /// `ispublic`: every account may use it.
    pub is_public: bool,
    /// `isfeatured`.
    pub is_featured: bool,
    /// `isextractable`.
    pub is_extractable: bool,
    /// Defaults to `x86_64`.
    pub arch: Option<String>,
    /// Defaults to `Other (64-bit)`.
    pub os_type_name: Option<String>,
    /// The account (or project) that will own it.
    pub owner: Owner,
    /// Tags to put on it.
    pub tags: Tags,
}

/// A new key pair with its private key, which is shown once and never stored.
#[derive(Debug, Clone)]
pub struct NewSshKeyPair {
    /// The stored pair (public key and fingerprint).
    pub key_pair: SshKeyPair,
    /// PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), as CloudStack returns it.
    pub private_key_pem: String,
}

/// Something carrying a tag, as `find_by_tag` reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TaggedResource {
    /// What kind of object it is.
    pub kind: ResourceKind,
    /// Its UUID.
    pub id: String,
    /// Name, or address for public IPs; `None` for unnamed rules.
    pub name: Option<String>,
}

/// Ids of objects to fetch in one `Cloud::lookup` call, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectIds {
    /// Zones to fetch; ids may repeat, unknown ones are left out of the answer.
    pub zones: Vec<String>,
    /// Compute offerings to fetch.
    pub service_offerings: Vec<String>,
    /// Templates to fetch.
    pub templates: Vec<String>,
    /// ISOs to fetch (a version's binaries ISO, a VM's attached one).
    pub isos: Vec<String>,
    /// Guest networks to fetch.
    pub networks: Vec<String>,
    /// VMs to fetch (a cluster's nodes), expunged ones left out.
    pub vms: Vec<String>,
    /// Hosts are shown to root admins only; a cloud that does not tell may leave them out.
    pub hosts: Vec<String>,
    /// Also what the VMs found refer to (`add_refs_of`), in the same call.
    pub with_vm_refs: bool,
    /// Public IPs (by id) whose port-forwarding rules to return.
    pub port_forwards_on_ips: Vec<String>,
}

impl ObjectIds {
    /// Adds what a VM refers to and is shown with: its zone, offering, template, ISO, host and
    /// the networks of its NICs.
    pub fn add_refs_of(&mut self, vm: &Vm) {
        self.zones.push(vm.zone_id.clone());
        self.service_offerings.push(vm.service_offering_id.clone());
        self.templates.push(vm.template_id.clone());
        self.isos.extend(vm.iso_id.iter().cloned());
        self.hosts.extend(vm.host_id.iter().cloned());
        self.networks
            .extend(vm.nics.iter().map(|n| n.network_id.clone()));
    }
}

/// What `Cloud::lookup` found, by id; what does not exist is absent.
#[derive(Debug, Clone, Default)]
pub struct Objects {
    /// Zones found, by id.
    pub zones: HashMap<String, Zone>,
    /// Compute offerings found, by id.
    pub service_offerings: HashMap<String, ServiceOffering>,
    /// Templates found, by id.
    pub templates: HashMap<String, Template>,
    /// ISOs found, by id.
    pub isos: HashMap<String, Iso>,
    /// Networks found, by id.
    pub networks: HashMap<String, Network>,
    /// VMs found, by id.
    pub vms: HashMap<String, Vm>,
    /// Hosts found, by id (empty where the cloud does not show hosts).
    pub hosts: HashMap<String, Host>,
    /// The port-forwarding rules on `ObjectIds::port_forwards_on_ips`, oldest first.
    pub port_forwards: Vec<PortForwardingRule>,
}

/// The IaaS a Kubernetes cluster is built from, in its own nouns. Object-safe: the job runner
/// holds an `Arc<dyn Cloud>`.
#[async_trait]
pub trait Cloud: Send + Sync {
    // === Catalog ===

    /// The zone with this id; `NotFound` when there is none.
    async fn get_zone(&self, id: &str) -> Result<Zone, CloudError>;
    /// The compute offering with this id; `NotFound` when there is none.
    async fn get_service_offering(&self, id: &str) -> Result<ServiceOffering, CloudError>;
    /// The network offering with this id; `NotFound` when there is none.
    async fn get_network_offering(&self, id: &str) -> Result<NetworkOffering, CloudError>;
    /// By exact name, e.g. `DefaultNetworkOfferingforKubernetesService`.
    async fn find_network_offering(
        &self,
        name: &str,
    ) -> Result<Option<NetworkOffering>, CloudError>;
    /// The template with this id; `NotFound` when there is none.
    async fn get_template(&self, id: &str) -> Result<Template, CloudError>;

    // === Networks ===

    /// Creates an `Allocated` network, or returns the owner's network of that name.
    async fn create_network(&self, spec: &NetworkSpec) -> Result<Network, CloudError>;
    /// The owner's network called `name`, if any.
    async fn find_network(&self, name: &str, owner: &Owner) -> Result<Option<Network>, CloudError>;
    /// The network with this id; `NotFound` when there is none.
    async fn get_network(&self, id: &str) -> Result<Network, CloudError>;
    /// Implements an `Allocated` network now (VLAN, source NAT IP); no-op when implemented.
    async fn implement_network(&self, id: &str) -> Result<Network, CloudError>;
    /// Deletes the network with its public IPs and rules. Fails with `Internal("Failed to delete
    /// network")` while a VM still has a NIC in it.
    async fn delete_network(&self, id: &str) -> Result<bool, CloudError>;

    // === Public IPs ===

    /// Acquires a public IP of the network's zone for the network (see `PublicIpSpec` for reuse);
    /// `Allocated` at once when the network is implemented.
    async fn acquire_public_ip(&self, spec: &PublicIpSpec) -> Result<PublicIp, CloudError>;
    /// The source NAT IP of an implemented isolated network (or of its VPC).
    async fn find_source_nat_ip(&self, network_id: &str) -> Result<Option<PublicIp>, CloudError>;
    /// The public IP with this id; `NotFound` when there is none.
    async fn get_public_ip(&self, id: &str) -> Result<PublicIp, CloudError>;
    /// Releases the IP and revokes its rules. The source NAT IP of an implemented network cannot
    /// be released (`Internal`, as CloudStack).
    async fn release_public_ip(&self, id: &str) -> Result<bool, CloudError>;

    // === Rules ===

    /// Opens ingress on a public IP (see `FirewallRuleSpec` for adoption).
    async fn create_firewall_rule(
        &self,
        spec: &FirewallRuleSpec,
    ) -> Result<FirewallRule, CloudError>;
    /// The firewall rules of a public IP.
    async fn firewall_rules_on_ip(&self, ip_id: &str) -> Result<Vec<FirewallRule>, CloudError>;
    /// Deletes a firewall rule; `false` when it is gone.
    async fn delete_firewall_rule(&self, id: &str) -> Result<bool, CloudError>;

    /// Forwards a public port range to a VM (see `PortForwardingSpec` for adoption and conflicts).
    async fn create_port_forwarding_rule(
        &self,
        spec: &PortForwardingSpec,
    ) -> Result<PortForwardingRule, CloudError>;
    /// The port-forwarding rules of a public IP.
    async fn port_forwarding_rules_on_ip(
        &self,
        ip_id: &str,
    ) -> Result<Vec<PortForwardingRule>, CloudError>;
    /// Deletes a port-forwarding rule; `false` when it is gone.
    async fn delete_port_forwarding_rule(&self, id: &str) -> Result<bool, CloudError>;

    /// Creates a load-balancer rule with no VMs (`Add`), or returns the IP's rule of that name.
    async fn create_load_balancer_rule(
        &self,
        spec: &LoadBalancerSpec,
    ) -> Result<LoadBalancerRule, CloudError>;
    /// The load-balancer rule with this id; `NotFound` when there is none.
    async fn get_load_balancer_rule(&self, id: &str) -> Result<LoadBalancerRule, CloudError>;
    /// The load-balancer rules of a public IP.
    async fn load_balancer_rules_on_ip(
        &self,
        ip_id: &str,
    ) -> Result<Vec<LoadBalancerRule>, CloudError>;
    /// Adds VMs (of the rule's network) to the rule; VMs already assigned are left as they are.
    async fn assign_to_load_balancer_rule(
        &self,
        rule_id: &str,
        vm_ids: &[String],
    ) -> Result<LoadBalancerRule, CloudError>;
    /// Removes VMs from the rule; VMs not assigned are ignored.
    async fn remove_from_load_balancer_rule(
        &self,
        rule_id: &str,
        vm_ids: &[String],
    ) -> Result<LoadBalancerRule, CloudError>;
    /// Deletes a load-balancer rule; `false` when it is gone.
    async fn delete_load_balancer_rule(&self, id: &str) -> Result<bool, CloudError>;

    // === VMs ===

    /// Deploys a VM (see `DeployVmSpec` for adoption); placement failures are
    /// `InsufficientCapacity`, account limits `LimitExceeded`.
    async fn deploy_vm(&self, spec: &DeployVmSpec) -> Result<Vm, CloudError>;
    /// The VM with this host name in the network (not expunged).
    async fn find_vm(&self, network_id: &str, name: &str) -> Result<Option<Vm>, CloudError>;
    /// The VM with this id; `NotFound` when there is none (or it was expunged).
    async fn get_vm(&self, id: &str) -> Result<Vm, CloudError>;
    /// The state of each of these VMs that exists, in one call (the state scanner's view of many
    /// clusters). VMs that are gone are left out.
    async fn vm_states(&self, ids: &[String]) -> Result<Vec<(String, VmState)>, CloudError>;
    /// Every VM with a NIC in the network.
    async fn vms_in_network(&self, network_id: &str) -> Result<Vec<Vm>, CloudError>;
    /// Starts a stopped VM; a running one is returned as it is.
    async fn start_vm(&self, id: &str) -> Result<Vm, CloudError>;
    /// Stops a running VM; a stopped one is returned as it is.
    async fn stop_vm(&self, id: &str, forced: bool) -> Result<Vm, CloudError>;
    /// Destroys and expunges the VM, freeing its host capacity, guest IP, port forwards and
    /// load-balancer memberships.
    async fn destroy_vm(&self, id: &str) -> Result<bool, CloudError>;
    /// Moves the VM to another offering. A running VM may only grow, and only if its host has room.
    async fn scale_vm(
        &self,
        id: &str,
        service_offering_id: &str,
        size: Option<VmSize>,
    ) -> Result<Vm, CloudError>;
    /// The VM's base64 user data.
    async fn vm_user_data(&self, id: &str) -> Result<Option<String>, CloudError>;
    /// Replaces the VM's base64 user data (`None` clears it); refused for VMs in `Error` or
    /// `Expunging`.
    async fn update_vm_user_data(
        &self,
        id: &str,
        user_data: Option<&str>,
    ) -> Result<Vm, CloudError>;
    /// Attaches an ISO; attaching the one already attached is a no-op.
    async fn attach_iso(&self, vm_id: &str, iso_id: &str) -> Result<Vm, CloudError>;
    /// Detaches the VM's ISO; a VM without one is returned as it is.
    async fn detach_iso(&self, vm_id: &str) -> Result<Vm, CloudError>;

    // === Node management channel ===

    /// Runs `argv` on the VM's guest and returns its standard output. On a real cloud this is
    /// SSH as user `cloud` (whose key the service put in the node's user data) through the
    /// node's port forward on the cluster's public IP; the simulator's guest agent interprets
    /// the commands cks sends, today `["sudo", "/opt/cks/bin/cks-upgrade", "<semver>"]`.
    ///
    /// Fails with `Unavailable` when the VM cannot be reached (not running) and with
    /// `NodeCommand { exit_code, stderr }` when the command fails on the node. Commands must be
    /// idempotent, as a job step may run twice: `cks-upgrade` to the node's own version succeeds
    /// without doing anything.
    async fn run_on_node(&self, vm_id: &str, argv: &[String]) -> Result<String, CloudError>;

    // === ISOs ===

    /// Registers an ISO; it is `Downloading` and becomes `Ready` later. See `IsoSpec`.
    async fn register_iso(&self, spec: &IsoSpec) -> Result<Iso, CloudError>;
    /// The ISO with this id; `NotFound` when there is none.
    async fn get_iso(&self, id: &str) -> Result<Iso, CloudError>;
    /// Fails while a VM has the ISO attached.
    async fn delete_iso(&self, id: &str) -> Result<bool, CloudError>;

    // === Lookups for showing and checking ===

    /// The objects with these ids, in one call (a page of clusters, a cluster's VMs and the
    /// names of what they refer to). What is gone is left out. Only reads: the API layer calls
    /// it to render and to validate, so a provider must not count it as orchestration (the
    /// simulator's `Unavailable` fault leaves it alone).
    async fn lookup(&self, ids: &ObjectIds) -> Result<Objects, CloudError>;

    /// The templates registered for Kubernetes clusters (CKS's `forcks`) usable in this zone
    /// (of the zone, or of every zone), oldest first, ready or not. Only reads, as `lookup`.
    async fn kubernetes_templates(&self, zone_id: &str) -> Result<Vec<Template>, CloudError>;

    // === Tags ===

    /// Every resource carrying `key=value`, sorted by kind then id. For leak checks.
    async fn find_by_tag(&self, key: &str, value: &str) -> Result<Vec<TaggedResource>, CloudError>;
    /// Every resource carrying the tag `key`, with the tag's value, sorted by kind then id: for
    /// leak reports across clusters. Only reads, as `lookup`.
    async fn tagged_with(&self, key: &str) -> Result<Vec<(TaggedResource, String)>, CloudError>;

    // === SSH key pairs ===

    /// Generates an RSA 2048 key pair. Not idempotent: a second call with the same name fails with
    /// CloudStack's `A key pair with name '<name>' already exists.`, as the private key of the
    /// first cannot be shown again.
    async fn create_ssh_key_pair(
        &self,
        name: &str,
        owner: &Owner,
    ) -> Result<NewSshKeyPair, CloudError>;
    /// Registers a public key (`ssh-rsa`, `ssh-ed25519`, `ecdsa-sha2-*`, `ssh-dss`). Registering
    /// the same name with the same key again returns the existing pair.
    async fn register_ssh_key_pair(
        &self,
        name: &str,
        public_key: &str,
        owner: &Owner,
    ) -> Result<SshKeyPair, CloudError>;
    /// The owner's key pair called `name`, if any.
    async fn find_ssh_key_pair(
        &self,
        name: &str,
        owner: &Owner,
    ) -> Result<Option<SshKeyPair>, CloudError>;
    /// Every key pair of the owner.
    async fn ssh_key_pairs(&self, owner: &Owner) -> Result<Vec<SshKeyPair>, CloudError>;
    /// Deletes the owner's key pair called `name`; `false` when it is gone.
    async fn delete_ssh_key_pair(&self, name: &str, owner: &Owner) -> Result<bool, CloudError>;

    // === Health the cloud knows of ===

    /// Why the Kubernetes API endpoint `addr` (a public IP and port) cannot be served, when the
    /// cloud knows: something else on the network holds its address, so waiting for it is
    /// futile. `None` when it knows of no such problem.
    fn endpoint_conflict(&self, _addr: std::net::SocketAddrV4) -> Option<String> {
        None
    }
}
