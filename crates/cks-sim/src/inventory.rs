//! The simulator's in-memory inventory: every object by kind and id, with a journal of what a
//! mutation touched so it can be written through (or rolled back when the write fails).
//!
//! Objects are only changed through `put`/`remove`, which record the previous value: callers
//! cannot forget to persist a change, and a failed write restores the exact state before it.
//!
//! Besides the cloud's nouns (`ResourceKind`) and accounts' resource limits (`AccountLimits`), the
//! inventory holds records it does not know (`Object::Record`): a `RecordType` declares its
//! stored kind name and is kept as a typed value behind `dyn Record`, persisted as JSON, journaled
//! and rolled back like any object. The simulated Kubernetes side keeps its nodes and clusters so
//! (`crate::kube`); the inventory never names them. The kinds to decode on load are listed once,
//! in `crate::RECORD_KINDS`.

use std::any::Any;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::Arc;

use cks_core::iaas::{
    DiskOffering, FirewallRule, Host, HostCluster, Iso, LoadBalancerRule, Network, NetworkOffering,
    Pod, PortForwardingRule, PublicIp, PublicIpRange, ResourceKind, ServiceOffering, SshKeyPair,
    Template, Vm, Vpc, Zone,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use cks_cloud::CloudError;

use crate::limits::{AccountLimits, LimitDefaults};

/// What objects are keyed by: a cloud noun, accounts' limits, or a record of another part of the
/// simulator, by its stored kind name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Noun(ResourceKind),
    AccountLimits,
    /// A `RecordType`'s `KIND`, e.g. `sim.guestnode`.
    Record(&'static str),
}

impl Kind {
    /// The storage key of the kind.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Noun(kind) => kind.as_str(),
            Kind::AccountLimits => "sim.accountlimits",
            Kind::Record(name) => name,
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Kind> {
        match s {
            "sim.accountlimits" => Some(Kind::AccountLimits),
            _ => ResourceKind::from_str_opt(s).map(Kind::Noun).or_else(|| {
                crate::RECORD_KINDS
                    .iter()
                    .find(|r| r.name == s)
                    .map(|r| Kind::Record(r.name))
            }),
        }
    }
}

/// A record the inventory keeps for another part of the simulator without knowing its type.
pub(crate) trait RecordType:
    Clone + Serialize + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static
{
    /// The stored kind name; never change it, stored inventories are read by it.
    const NAME: &'static str;
    fn record_id(&self) -> &str;
    /// Creation time; lists come out in this order.
    fn record_created(&self) -> i64;
}

/// A `RecordType` value behind the inventory's `Object::Record`.
pub(crate) trait Record: Any + std::fmt::Debug + Send + Sync {
    fn kind(&self) -> Kind;
    fn id(&self) -> &str;
    fn encode(&self) -> Result<String, serde_json::Error>;
    fn as_any(&self) -> &dyn Any;
}

impl<T: RecordType> Record for T {
    fn kind(&self) -> Kind {
        Kind::Record(T::NAME)
    }
    fn id(&self) -> &str {
        self.record_id()
    }
    fn encode(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<T: RecordType> Stored for T {
    const KIND: Kind = Kind::Record(T::NAME);
    fn id(&self) -> &str {
        self.record_id()
    }
    fn created(&self) -> i64 {
        self.record_created()
    }
    fn wrap(self) -> Object {
        Object::Record(Arc::new(self))
    }
    fn unwrap_ref(obj: &Object) -> Option<&Self> {
        match obj {
            Object::Record(r) => r.as_any().downcast_ref(),
            _ => None,
        }
    }
}

/// How to read a stored record kind back: listed in `crate::RECORD_KINDS`.
pub(crate) struct RecordKind {
    pub(crate) name: &'static str,
    decode: fn(&str) -> Result<Arc<dyn Record>, serde_json::Error>,
}

impl RecordKind {
    pub(crate) const fn of<T: RecordType>() -> RecordKind {
        RecordKind {
            name: T::NAME,
            decode: decode_record::<T>,
        }
    }
}

fn decode_record<T: RecordType>(body: &str) -> Result<Arc<dyn Record>, serde_json::Error> {
    Ok(Arc::new(serde_json::from_str::<T>(body)?))
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One object of any kind.
#[derive(Debug, Clone)]
pub(crate) enum Object {
    Zone(Box<Zone>),
    Pod(Box<Pod>),
    HostCluster(Box<HostCluster>),
    Host(Box<Host>),
    ServiceOffering(Box<ServiceOffering>),
    DiskOffering(Box<DiskOffering>),
    NetworkOffering(Box<NetworkOffering>),
    Template(Box<Template>),
    Iso(Box<Iso>),
    Network(Box<Network>),
    Vpc(Box<Vpc>),
    PublicIpRange(Box<PublicIpRange>),
    PublicIp(Box<PublicIp>),
    FirewallRule(Box<FirewallRule>),
    PortForwardingRule(Box<PortForwardingRule>),
    LoadBalancerRule(Box<LoadBalancerRule>),
    Vm(Box<Vm>),
    SshKeyPair(Box<SshKeyPair>),
    AccountLimits(Box<AccountLimits>),
    Record(Arc<dyn Record>),
}

/// Something the inventory stores.
pub(crate) trait Stored: Clone + Serialize + DeserializeOwned + Sized + 'static {
    const KIND: Kind;
    fn id(&self) -> &str;
    /// Creation time; lists come out in this order.
    fn created(&self) -> i64;
    fn wrap(self) -> Object;
    fn unwrap_ref(obj: &Object) -> Option<&Self>;
}

/// A cloud noun: what `NotFound` errors name.
pub(crate) trait Noun: Stored {
    const RESOURCE: ResourceKind;
}

macro_rules! stored {
    (nouns: $($ty:ident: $created:ident),+; records: $($rec:ident),+ $(,)?) => {
        $(
            impl Stored for $ty {
                const KIND: Kind = Kind::Noun(ResourceKind::$ty);
                fn id(&self) -> &str { &self.id }
                fn created(&self) -> i64 { self.$created }
                fn wrap(self) -> Object { Object::$ty(Box::new(self)) }
                fn unwrap_ref(obj: &Object) -> Option<&Self> {
                    match obj { Object::$ty(inner) => Some(&**inner), _ => None }
                }
            }

            impl Noun for $ty {
                const RESOURCE: ResourceKind = ResourceKind::$ty;
            }
        )+
        $(
            impl Stored for $rec {
                const KIND: Kind = Kind::$rec;
                fn id(&self) -> &str { &self.id }
                fn created(&self) -> i64 { self.created }
                fn wrap(self) -> Object { Object::$rec(Box::new(self)) }
                fn unwrap_ref(obj: &Object) -> Option<&Self> {
                    match obj { Object::$rec(inner) => Some(&**inner), _ => None }
                }
            }
        )+

        impl Object {
            pub(crate) fn kind(&self) -> Kind {
                match self {
                    $(Object::$ty(_) => Kind::Noun(ResourceKind::$ty),)+
                    $(Object::$rec(_) => Kind::$rec,)+
                    Object::Record(r) => r.kind(),
                }
            }

            pub(crate) fn id(&self) -> &str {
                match self {
                    $(Object::$ty(inner) => &inner.id,)+
                    $(Object::$rec(inner) => &inner.id,)+
                    Object::Record(r) => r.id(),
                }
            }

            /// The JSON body stored for this object.
            pub(crate) fn encode(&self) -> Result<String, CloudError> {
                let res = match self {
                    $(Object::$ty(inner) => serde_json::to_string(inner),)+
                    $(Object::$rec(inner) => serde_json::to_string(inner),)+
                    Object::Record(r) => r.encode(),
                };
                res.map_err(|e| CloudError::Internal(format!("cannot encode {}: {e}", self.kind())))
            }

            /// Reads a stored body back; `Ok(None)` for a kind this version does not know.
            pub(crate) fn decode(kind: &str, body: &str) -> Result<Option<Object>, CloudError> {
                let Some(kind) = Kind::parse(kind) else { return Ok(None) };
                let bad = |e: serde_json::Error| CloudError::Internal(format!("corrupt {kind} in simulator storage: {e}"));
                let obj = match kind {
                    $(Kind::Noun(ResourceKind::$ty) => Object::$ty(serde_json::from_str(body).map_err(bad)?),)+
                    $(Kind::$rec => Object::$rec(serde_json::from_str(body).map_err(bad)?),)+
                    Kind::Record(name) => {
                        let Some(codec) = crate::RECORD_KINDS.iter().find(|r| r.name == name) else {
                            return Ok(None);
                        };
                        Object::Record((codec.decode)(body).map_err(bad)?)
                    }
                };
                Ok(Some(obj))
            }
        }
    };
}

stored!(
    nouns: Zone: created,
    Pod: created,
    HostCluster: created,
    Host: created,
    ServiceOffering: created,
    DiskOffering: created,
    NetworkOffering: created,
    Template: created,
    Iso: created,
    Network: created,
    Vpc: created,
    PublicIpRange: created,
    PublicIp: allocated,
    FirewallRule: created,
    PortForwardingRule: created,
    LoadBalancerRule: created,
    Vm: created,
    SshKeyPair: created;
    records: AccountLimits,
);

/// Has this VM's guest consumed its user data (so memory need not keep it)? Asked of the part
/// of the simulator that reads user data.
pub(crate) type UserDataConsumed = fn(&Inventory, &str) -> bool;

/// What a mutation changed: (kind, id, previous value).
pub(crate) type Journal = Vec<(Kind, String, Option<Object>)>;

/// Every object, by kind then id.
#[derive(Debug, Default)]
pub(crate) struct Inventory {
    objects: BTreeMap<Kind, BTreeMap<String, Object>>,
    journal: Journal,
    /// Resource limits of accounts without their own, from the seed's `[limits]`. Not stored:
    /// read from the seed on every open.
    pub(crate) limit_defaults: LimitDefaults,
    /// First and last guest VLAN/VNI (the seed's `[network]`; CloudStack's usual 100-4094 if unset).
    pub(crate) vnets: Option<(u32, u32)>,
    /// VMs whose user data is kept only in storage: their guest installed it, so memory need
    /// not hold it (a few KiB per VM). Such a VM's `user_data` is `None` here; writes of the VM
    /// keep the stored value (`Store::write`) and reads fetch it (`Simulator::fill_user_data`).
    offloaded: HashSet<String>,
    /// VMs the current mutation took out of `offloaded` (their user data was replaced or
    /// cleared), put back by `rollback`.
    unoffloaded: Vec<String>,
    /// Firewall, port-forwarding and load-balancer rules by the public IP they sit on, and
    /// port-forwarding/load-balancer rules by the VMs they lead to. Endpoint bookkeeping asks
    /// these on every change; scanning every rule made each change O(clusters).
    rules_by_ip: HashMap<String, HashSet<(Kind, String)>>,
    rules_by_vm: HashMap<String, HashSet<(Kind, String)>>,
}

/// What the rule indexes hold for one object: its key, its IP, the VMs it leads to.
struct RuleKeys {
    key: (Kind, String),
    ip: String,
    vms: Vec<String>,
}

fn rule_keys(obj: &Object) -> Option<RuleKeys> {
    let (ip, vms) = match obj {
        Object::FirewallRule(r) => (&r.ip_id, Vec::new()),
        Object::PortForwardingRule(r) => (&r.ip_id, vec![r.vm_id.clone()]),
        Object::LoadBalancerRule(r) => (&r.ip_id, r.vm_ids.clone()),
        _ => return None,
    };
    Some(RuleKeys {
        key: (obj.kind(), obj.id().to_string()),
        ip: ip.clone(),
        vms,
    })
}

impl Inventory {
    pub(crate) fn get<T: Stored>(&self, id: &str) -> Option<&T> {
        self.objects.get(&T::KIND)?.get(id).and_then(T::unwrap_ref)
    }

    /// Any object by kind and id.
    pub(crate) fn object(&self, kind: Kind, id: &str) -> Option<&Object> {
        self.objects.get(&kind)?.get(id)
    }

    /// The object, or `NotFound`.
    pub(crate) fn need<T: Noun>(&self, id: &str) -> Result<&T, CloudError> {
        self.get::<T>(id)
            .ok_or_else(|| CloudError::not_found(T::RESOURCE, id))
    }

    pub(crate) fn all<'a, T: Stored + 'a>(&'a self) -> impl Iterator<Item = &'a T> + 'a {
        self.objects
            .get(&T::KIND)
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(T::unwrap_ref)
    }

    pub(crate) fn find<T: Stored>(&self, pred: impl Fn(&T) -> bool) -> Option<&T> {
        self.all::<T>().find(|o| pred(o))
    }

    /// Inserts or replaces, recording the previous value.
    pub(crate) fn put<T: Stored>(&mut self, obj: T) {
        self.put_object(obj.wrap());
    }

    pub(crate) fn put_object(&mut self, obj: Object) {
        let (kind, id) = (obj.kind(), obj.id().to_string());
        self.unindex(self.object(kind, &id).and_then(rule_keys));
        self.index(rule_keys(&obj));
        let old = self
            .objects
            .entry(kind)
            .or_default()
            .insert(id.clone(), obj);
        self.journal.push((kind, id, old));
    }

    fn index(&mut self, keys: Option<RuleKeys>) {
        let Some(k) = keys else { return };
        for vm in k.vms {
            self.rules_by_vm
                .entry(vm)
                .or_default()
                .insert(k.key.clone());
        }
        self.rules_by_ip.entry(k.ip).or_default().insert(k.key);
    }

    fn unindex(&mut self, keys: Option<RuleKeys>) {
        let Some(k) = keys else { return };
        for vm in &k.vms {
            if let Some(set) = self.rules_by_vm.get_mut(vm) {
                set.remove(&k.key);
                if set.is_empty() {
                    self.rules_by_vm.remove(vm);
                }
            }
        }
        if let Some(set) = self.rules_by_ip.get_mut(&k.ip) {
            set.remove(&k.key);
            if set.is_empty() {
                self.rules_by_ip.remove(&k.ip);
            }
        }
    }

    /// The rules of type `T` on a public IP.
    pub(crate) fn rules_on_ip<'a, T: Stored + 'a>(
        &'a self,
        ip_id: &str,
    ) -> impl Iterator<Item = &'a T> + 'a {
        self.rules_by_ip
            .get(ip_id)
            .into_iter()
            .flatten()
            .filter(|(kind, _)| *kind == T::KIND)
            .filter_map(|(_, id)| self.get::<T>(id))
    }

    /// Public IPs with a port-forwarding or load-balancer rule leading to this VM.
    pub(crate) fn rule_ips_of_vm<'a>(&'a self, vm_id: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.rules_by_vm
            .get(vm_id)
            .into_iter()
            .flatten()
            .filter_map(|(kind, id)| self.object(*kind, id))
            .filter_map(|obj| match obj {
                Object::PortForwardingRule(r) => Some(r.ip_id.as_str()),
                Object::LoadBalancerRule(r) => Some(r.ip_id.as_str()),
                _ => None,
            })
    }

    /// Removes, recording the previous value. Returns whether it existed.
    pub(crate) fn remove<T: Stored>(&mut self, id: &str) -> bool {
        let old = self.objects.get_mut(&T::KIND).and_then(|m| m.remove(id));
        self.unindex(old.as_ref().and_then(rule_keys));
        let existed = old.is_some();
        if existed {
            self.journal.push((T::KIND, id.to_string(), old));
        }
        existed
    }

    /// What the current mutation touched so far: (kind, id, previous value).
    pub(crate) fn journal(&self) -> &Journal {
        &self.journal
    }

    pub(crate) fn take_journal(&mut self) -> Journal {
        std::mem::take(&mut self.journal)
    }

    /// Is this VM's user data only in storage?
    pub(crate) fn is_offloaded(&self, vm_id: &str) -> bool {
        self.offloaded.contains(vm_id)
    }

    /// The VM's user data is set anew (or cleared) by the current mutation: storage no longer
    /// holds what memory lacks.
    pub(crate) fn unoffload(&mut self, vm_id: &str) {
        if self.offloaded.remove(vm_id) {
            self.unoffloaded.push(vm_id.to_string());
        }
    }

    /// After a committed write (or a load), drops from memory the user data of the VMs among
    /// `ids` whose guest `consumed` it (installed it): storage holds the same value, since every
    /// change is written through. Forgets destroyed VMs.
    pub(crate) fn offload_user_data<'a>(
        &mut self,
        ids: impl IntoIterator<Item = &'a str>,
        consumed: UserDataConsumed,
    ) {
        self.unoffloaded.clear();
        for id in ids {
            let installed = consumed(self, id);
            match self
                .objects
                .get_mut(&Kind::Noun(ResourceKind::Vm))
                .and_then(|m| m.get_mut(id))
            {
                Some(Object::Vm(vm)) => {
                    if installed && vm.user_data.take().is_some() {
                        self.offloaded.insert(id.to_string());
                    }
                }
                _ => {
                    self.offloaded.remove(id);
                }
            }
        }
    }

    /// Undoes a journal, newest entry first.
    pub(crate) fn rollback(&mut self, journal: Journal) {
        for id in self.unoffloaded.drain(..) {
            self.offloaded.insert(id);
        }
        for (kind, id, old) in journal.into_iter().rev() {
            self.unindex(self.object(kind, &id).and_then(rule_keys));
            self.index(old.as_ref().and_then(rule_keys));
            let map = self.objects.entry(kind).or_default();
            match old {
                Some(obj) => map.insert(id, obj),
                None => map.remove(&id),
            };
        }
    }

    /// The current value of each object a journal touched (`None`: deleted), once per object.
    pub(crate) fn changes(&self, journal: &Journal) -> Vec<(Kind, String, Option<Object>)> {
        let mut seen = BTreeMap::new();
        for (kind, id, _) in journal {
            seen.entry((*kind, id.clone())).or_insert(());
        }
        seen.into_keys()
            .map(|(kind, id)| {
                let current = self.objects.get(&kind).and_then(|m| m.get(&id)).cloned();
                (kind, id, current)
            })
            .collect()
    }

    /// Recomputes every host's allocated CPU and memory from the VMs holding it. Allocation is
    /// derived, never trusted from storage, so it cannot drift.
    pub(crate) fn recompute_host_allocation(&mut self) {
        let mut used: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for vm in self.all::<Vm>() {
            if let (true, Some(host)) = (vm.state.holds_host(), &vm.host_id) {
                let entry = used.entry(host.clone()).or_default();
                entry.0 += vm.cpu_mhz();
                entry.1 += vm.memory_bytes();
            }
        }
        if let Some(hosts) = self.objects.get_mut(&Kind::Noun(ResourceKind::Host)) {
            for obj in hosts.values_mut() {
                if let Object::Host(host) = obj {
                    let (cpu, mem) = used.get(&host.id).copied().unwrap_or_default();
                    host.cpu_allocated_mhz = cpu;
                    host.memory_allocated_bytes = mem;
                }
            }
        }
    }

    /// Brings host allocation up to date after a mutation, from what its journal says changed:
    /// each touched VM's old share is taken off its old host and its new share put on its new
    /// one. Recomputing from every VM instead cost O(all VMs) per mutation (7% of a 1,000-cluster
    /// benchmark's time).
    pub(crate) fn apply_host_allocation(&mut self, journal: &Journal) {
        let share = |vm: &Vm| match (vm.state.holds_host(), &vm.host_id) {
            (true, Some(host)) => Some((host.clone(), vm.cpu_mhz(), vm.memory_bytes())),
            _ => None,
        };
        let mut seen: HashSet<&str> = HashSet::new();
        let mut deltas: Vec<(String, i128, i128)> = Vec::new();
        for (kind, id, old) in journal {
            if *kind != Kind::Noun(ResourceKind::Vm) || !seen.insert(id.as_str()) {
                continue;
            }
            let before = match old {
                Some(Object::Vm(vm)) => share(vm),
                _ => None,
            };
            let after = self.get::<Vm>(id).and_then(share);
            if before == after {
                continue;
            }
            if let Some((host, cpu, mem)) = before {
                deltas.push((host, -(cpu as i128), -(mem as i128)));
            }
            if let Some((host, cpu, mem)) = after {
                deltas.push((host, cpu as i128, mem as i128));
            }
        }
        let Some(hosts) = self.objects.get_mut(&Kind::Noun(ResourceKind::Host)) else {
            return;
        };
        for (host_id, cpu, mem) in deltas {
            if let Some(Object::Host(host)) = hosts.get_mut(&host_id) {
                host.cpu_allocated_mhz = (i128::from(host.cpu_allocated_mhz) + cpu).max(0) as u64;
                host.memory_allocated_bytes =
                    (i128::from(host.memory_allocated_bytes) + mem).max(0) as u64;
            }
        }
    }

    /// Loads an object read from storage, without journaling; returns what it replaced.
    pub(crate) fn load(&mut self, obj: Object) -> Option<Object> {
        let old = self.unload(obj.kind(), obj.id());
        self.index(rule_keys(&obj));
        self.objects
            .entry(obj.kind())
            .or_default()
            .insert(obj.id().to_string(), obj);
        old
    }

    /// Loads every stored object (on open, or to replace a stale inventory): user data of
    /// installed VMs is left in storage and host allocation is derived from the VMs.
    pub(crate) fn load_all(&mut self, objects: Vec<Object>, consumed: UserDataConsumed) {
        for obj in objects {
            self.load(obj);
        }
        let vm_ids: Vec<String> = self.all::<Vm>().map(|vm| vm.id.clone()).collect();
        self.offload_user_data(vm_ids.iter().map(String::as_str), consumed);
        self.recompute_host_allocation();
    }

    /// Drops an object another instance deleted (or is replacing), without journaling.
    pub(crate) fn unload(&mut self, kind: Kind, id: &str) -> Option<Object> {
        let old = self.objects.get_mut(&kind)?.remove(id)?;
        self.unindex(rule_keys(&old));
        if kind == Kind::Noun(ResourceKind::Vm) {
            self.offloaded.remove(id);
        }
        Some(old)
    }

    // === Lookups shared by several operations ===

    /// Guest IPs in use in a network.
    pub(crate) fn used_guest_ips(&self, network_id: &str) -> Vec<Ipv4Addr> {
        self.all::<Vm>()
            .filter_map(|vm| vm.nic_in(network_id))
            .map(|nic| nic.ip_address)
            .collect()
    }

    /// Clones of the objects of a kind that pass `filter`, oldest first (ties by id): CloudStack
    /// lists in creation order.
    pub(crate) fn list<T: Stored>(&self, filter: impl Fn(&T) -> bool) -> Vec<T> {
        let mut res: Vec<T> = self.all::<T>().filter(|o| filter(o)).cloned().collect();
        res.sort_by(|a, b| (a.created(), a.id()).cmp(&(b.created(), b.id())));
        res
    }
}
