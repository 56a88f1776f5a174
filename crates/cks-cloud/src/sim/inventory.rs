//! The simulator's in-memory inventory: every object by kind and id, with a journal of what a
//! mutation touched so it can be written through (or rolled back when the write fails).
//!
//! Objects are only changed through `put`/`remove`, which record the previous value: callers
//! cannot forget to persist a change, and a failed write restores the exact state before it.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use cks_core::iaas::{
    DiskOffering, FirewallRule, Host, HostCluster, Iso, LoadBalancerRule, Network, NetworkOffering,
    Pod, PortForwardingRule, PublicIp, PublicIpRange, ResourceKind, ServiceOffering, SshKeyPair,
    Template, Vm, Vpc, Zone,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::CloudError;

/// One object of any kind.
#[derive(Debug, Clone)]
pub(crate) enum Object {
    Zone(Zone),
    Pod(Pod),
    HostCluster(HostCluster),
    Host(Host),
    ServiceOffering(ServiceOffering),
    DiskOffering(DiskOffering),
    NetworkOffering(NetworkOffering),
    Template(Template),
    Iso(Iso),
    Network(Network),
    Vpc(Vpc),
    PublicIpRange(PublicIpRange),
    PublicIp(PublicIp),
    FirewallRule(FirewallRule),
    PortForwardingRule(PortForwardingRule),
    LoadBalancerRule(LoadBalancerRule),
    Vm(Vm),
    SshKeyPair(SshKeyPair),
}

/// A noun the inventory stores.
pub(crate) trait Stored: Clone + Serialize + DeserializeOwned + Sized + 'static {
    const KIND: ResourceKind;
    fn id(&self) -> &str;
    /// Creation time; lists come out in this order.
    fn created(&self) -> i64;
    fn wrap(self) -> Object;
    fn unwrap_ref(obj: &Object) -> Option<&Self>;
}

macro_rules! stored {
    ($($ty:ident: $created:ident),+ $(,)?) => {
        $(
            impl Stored for $ty {
                const KIND: ResourceKind = ResourceKind::$ty;
                fn id(&self) -> &str { &self.id }
                fn created(&self) -> i64 { self.$created }
                fn wrap(self) -> Object { Object::$ty(self) }
                fn unwrap_ref(obj: &Object) -> Option<&Self> {
                    match obj { Object::$ty(inner) => Some(inner), _ => None }
                }
            }
        )+

        impl Object {
            pub(crate) fn kind(&self) -> ResourceKind {
                match self { $(Object::$ty(_) => ResourceKind::$ty),+ }
            }

            pub(crate) fn id(&self) -> &str {
                match self { $(Object::$ty(inner) => &inner.id),+ }
            }

            /// The JSON body stored for this object.
            pub(crate) fn encode(&self) -> Result<String, CloudError> {
                let res = match self { $(Object::$ty(inner) => serde_json::to_string(inner)),+ };
                res.map_err(|e| CloudError::Internal(format!("cannot encode {}: {e}", self.kind())))
            }

            /// Reads a stored body back; `Ok(None)` for a kind this version does not know.
            pub(crate) fn decode(kind: &str, body: &str) -> Result<Option<Object>, CloudError> {
                let Some(kind) = ResourceKind::from_str_opt(kind) else { return Ok(None) };
                let bad = |e: serde_json::Error| CloudError::Internal(format!("corrupt {kind} in simulator storage: {e}"));
                let obj = match kind {
                    $(ResourceKind::$ty => Object::$ty(serde_json::from_str(body).map_err(bad)?),)+
                };
                Ok(Some(obj))
            }
        }
    };
}

stored!(
    Zone: created,
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
    SshKeyPair: created,
);

/// What a mutation changed: (kind, id, previous value).
pub(crate) type Journal = Vec<(ResourceKind, String, Option<Object>)>;

/// Every object, by kind then id.
#[derive(Debug, Default)]
pub(crate) struct Inventory {
    objects: BTreeMap<ResourceKind, BTreeMap<String, Object>>,
    journal: Journal,
}

impl Inventory {
    pub(crate) fn get<T: Stored>(&self, id: &str) -> Option<&T> {
        self.objects.get(&T::KIND)?.get(id).and_then(T::unwrap_ref)
    }

    /// The object, or `NotFound`.
    pub(crate) fn need<T: Stored>(&self, id: &str) -> Result<&T, CloudError> {
        self.get::<T>(id)
            .ok_or_else(|| CloudError::not_found(T::KIND, id))
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
        let old = self
            .objects
            .entry(kind)
            .or_default()
            .insert(id.clone(), obj);
        self.journal.push((kind, id, old));
    }

    /// Removes, recording the previous value. Returns whether it existed.
    pub(crate) fn remove<T: Stored>(&mut self, id: &str) -> bool {
        let old = self.objects.get_mut(&T::KIND).and_then(|m| m.remove(id));
        let existed = old.is_some();
        if existed {
            self.journal.push((T::KIND, id.to_string(), old));
        }
        existed
    }

    pub(crate) fn take_journal(&mut self) -> Journal {
        std::mem::take(&mut self.journal)
    }

    /// Undoes a journal, newest entry first.
    pub(crate) fn rollback(&mut self, journal: Journal) {
        for (kind, id, old) in journal.into_iter().rev() {
            let map = self.objects.entry(kind).or_default();
            match old {
                Some(obj) => map.insert(id, obj),
                None => map.remove(&id),
            };
        }
    }

    /// The current value of each object a journal touched (`None`: deleted), once per object.
    pub(crate) fn changes(&self, journal: &Journal) -> Vec<(ResourceKind, String, Option<Object>)> {
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
        if let Some(hosts) = self.objects.get_mut(&ResourceKind::Host) {
            for obj in hosts.values_mut() {
                if let Object::Host(host) = obj {
                    let (cpu, mem) = used.get(&host.id).copied().unwrap_or_default();
                    host.cpu_allocated_mhz = cpu;
                    host.memory_allocated_bytes = mem;
                }
            }
        }
    }

    /// Loads an object read from storage, without journaling.
    pub(crate) fn load(&mut self, obj: Object) {
        self.objects
            .entry(obj.kind())
            .or_default()
            .insert(obj.id().to_string(), obj);
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
