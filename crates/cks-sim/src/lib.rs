//! cks-sim: the embedded simulated cloud, an in-process CloudStack-like IaaS that implements
//! cks-cloud's `Cloud` trait, with the simulated Kubernetes clusters its VMs boot into.
//!
//! Why a simulator with this much realism: the orchestrator's failure handling is only as good
//! as the failures it meets. The simulator has hosts with CPU and memory capacity, account
//! resource limits, CloudStack's VM and network states with configurable latencies, rule
//! conflicts with CloudStack's texts, a persisted inventory (so a restarted `cksd` finds its VMs
//! again), and fault injection (failed deploys, exhausted capacity, unreachable endpoints, VMs
//! stopping behind the service's back).
//!
//! Two sides, one dependency direction: the IaaS inventory (`inventory`, `store`, `seed`,
//! `network`, `vm`, `image`, `keypair`, `limits`, `faults`, `claims`) knows nothing of
//! Kubernetes; the simulated Kubernetes side (`kube`: the guest agent, the API servers, their
//! endpoints) keeps its records in the inventory as opaque records (`inventory::Record`) and asks
//! `routing` the pure questions about rules ("which VMs does this public IP and port reach").
//! This file and `cloud_impl` wire the two (no IaaS module imports `kube`): each mutation runs as
//! a closure over the inventory, then the guest agent reacts to what it touched.
//!
//! State lives in memory behind a `RwLock` (so the API layer can list synchronously) and every
//! change is written through to the `sim_objects` table before the call returns. Mutations are
//! serialized by an async gate; each runs as a closure over the inventory whose journal becomes
//! one database transaction, or is rolled back if that write fails.
//!
//! After the closure, still inside the mutation, the guest agent (`kube::guest`) reacts to what
//! it touched: VMs that became installable install (now, or after `Timings::node_install`),
//! waiting nodes join clusters whose API server came up. Once the transaction is committed, the
//! API endpoints of the public IPs the journal touched are brought up to date
//! (`kube::endpoints`), and each listening endpoint is served by `kube::api`. So when a mutating
//! call returns, what it changed is already visible through kubectl; `Simulator::settle` waits
//! for delayed installs.
//!
//! **Invariant:** it never sends traffic beyond 127.0.0.0/8 and listens only on loopback (public
//! IPs come from a loopback range), and never fetches a URL (ISO downloads are simulated).

mod claims;
mod cloud_impl;
pub mod config;
pub mod faults;
mod image;
mod inventory;
mod keypair;
pub mod keys;
mod kube;
pub mod limits;
mod network;
mod routing;
mod rules;
pub mod seed;
mod store;
mod vm;

/// The kinds of records other parts keep in the inventory (`inventory::Record`): what a stored
/// inventory is decoded with.
pub(crate) static RECORD_KINDS: &[inventory::RecordKind] = kube::RECORD_KINDS;

pub use config::{RangeClaims, SeedSource, SimConfig, Timings};
pub use faults::Fault;
pub use limits::{LimitKind, ResourceLimit};
pub use seed::SeedError;

use std::collections::{BTreeSet, HashSet};
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use cks_core::iaas::{
    DiskOffering, FirewallRule, Host, HostCluster, Iso, IsoState, LoadBalancerRule, Network,
    NetworkOffering, NetworkState, Pod, PortForwardingRule, PublicIp, PublicIpRange,
    ServiceOffering, SshKeyPair, Template, Vm, VmState, Vpc, Zone,
};
use sqlx::AnyPool;

use cks_cloud::CloudError;
use cks_cloud::{ObjectIds, Objects, TaggedResource, VpcSpec};
use faults::FaultState;
use inventory::{Inventory, Noun, Object};
use kube::endpoints::{self, Endpoints};
use kube::guest::{self, GuestState};
use store::Store;

/// Why `Simulator::open` failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// A simulator of another database holds the public range on this machine.
    #[error("{0}")]
    RangeTaken(String),
}

/// The simulated cloud. Cheap to clone: clones share one inventory. Implements [`cks_cloud::Cloud`].
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    inventory: RwLock<Inventory>,
    /// Serializes mutations, including their database write.
    gate: tokio::sync::Mutex<()>,
    store: Store,
    faults: Mutex<FaultState>,
    timings: Timings,
    /// The guest agent's memory (lock order: inventory, then guest).
    guest: Mutex<GuestState>,
    /// The API endpoints' listeners (lock order: endpoints, then inventory, then faults).
    endpoints: Mutex<Endpoints>,
    /// Work in flight that `settle` waits for.
    pending: tokio::sync::watch::Sender<Pending>,
    /// This `Shared`, for the tasks it spawns.
    me: Weak<Shared>,
    /// The inventory version (`sim_clock`) this instance's memory reflects. Several `cksd`
    /// sharing one database share one simulated cloud: each mutation first applies what other
    /// instances changed since, and a follower task catches up between mutations.
    seen: AtomicI64,
    /// When `refresh_recent` last looked at the database (milliseconds after `started`).
    refreshed_ms: std::sync::atomic::AtomicU64,
    /// When this instance last caught up with the database (milliseconds after `started`).
    caught_up_ms: std::sync::atomic::AtomicU64,
    started: std::time::Instant,
    /// This simulator's machine-wide claims on its public ranges, held while it lives.
    _claims: Option<claims::Claims>,
}

/// How often an instance looks for other instances' changes to the shared inventory.
const FOLLOW_INTERVAL: std::time::Duration = std::time::Duration::from_millis(200);
/// Every this many follows (a second), an instance also finishes simulated work left overdue.
const OVERDUE_EVERY: u32 = 5;
/// Every this many follows (a minute), an instance prunes the deletion log.
const PRUNE_EVERY: u32 = 300;

/// How long past its simulated delay a transition may stay unfinished before any instance
/// finishes it: the instance timing it has died (its timers lived in its memory). Finishing
/// one whose timer is merely late only shortens a simulated delay: every finishing function
/// acts only on what is still unfinished.
const OVERDUE_GRACE_SECONDS: i64 = 2;

/// Called after each mutation is written to storage (see [`set_after_commit_hook`]).
static AFTER_COMMIT: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Installs a function every simulator calls right after a mutation is committed, before the
/// caller sees the result. Crash tests use it to kill the process between the cloud doing
/// something and the service recording it. Only the first call has an effect.
pub fn set_after_commit_hook(hook: fn()) {
    let _ = AFTER_COMMIT.set(hook);
}

/// Background work not finished yet.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pending {
    /// Install timers running.
    installs: usize,
    /// Endpoints that should listen but whose address could not be bound yet.
    unbound_endpoints: usize,
}

impl Simulator {
    /// Opens the simulator on `pool`: creates its table if needed, loads the inventory, and seeds
    /// it when empty. Operations interrupted by a restart are finished (a VM left `Starting` is
    /// `Running`, `Stopping` is `Stopped`), ISO downloads and node installs resume, and the API
    /// endpoints of running clusters listen again.
    ///
    /// The seed's `[timings]` and `[limits]` are read on every open; a seed file that cannot be
    /// read then only matters (as an error) when the inventory is empty.
    pub async fn open(pool: AnyPool, config: SimConfig) -> Result<Simulator, OpenError> {
        let store = Store::open(pool).await?;
        let (stored, version) = store.load().await?;
        let text = match read_seed(&config.seed) {
            Ok(text) => Some(text),
            Err(e) if stored.is_empty() => return Err(e.into()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the simulator seed; its [timings] and [limits] are not applied");
                None
            }
        };
        let settings = match text.as_deref().map(seed::settings) {
            Some(Ok(settings)) => Some(settings),
            Some(Err(e)) if stored.is_empty() => return Err(e.into()),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "the simulator seed is invalid; its [timings] and [limits] are not applied");
                None
            }
            None => None,
        };
        let (timings, limit_defaults, vnets) = match settings {
            Some(s) => (s.timings.apply(config.timings), s.limits, s.vnets),
            None => (config.timings, Default::default(), seed::DEFAULT_VNETS),
        };
        let seed_text = text.as_deref().filter(|_| stored.is_empty());
        let (seeded, claims) = claim_ranges(&store, &config, &stored, seed_text).await?;
        let shared = Arc::new_cyclic(|me| Shared {
            inventory: RwLock::new(Inventory::default()),
            gate: tokio::sync::Mutex::new(()),
            store,
            faults: Mutex::new(FaultState::default()),
            timings,
            guest: Mutex::new(GuestState::default()),
            endpoints: Mutex::new(Endpoints::default()),
            pending: tokio::sync::watch::Sender::new(Pending::default()),
            me: me.clone(),
            seen: AtomicI64::new(version),
            refreshed_ms: std::sync::atomic::AtomicU64::new(0),
            caught_up_ms: std::sync::atomic::AtomicU64::new(0),
            started: std::time::Instant::now(),
            _claims: claims,
        });
        shared.write().limit_defaults = limit_defaults;
        shared.write().vnets = Some(vnets);
        if let Some(objects) = seeded {
            tracing::info!(objects = objects.len(), "seeding the simulated cloud");
            shared
                .mutate(|inv| {
                    objects.into_iter().for_each(|o| inv.put_object(o));
                    Ok(())
                })
                .await?;
        } else {
            let mut inv = shared.write();
            inv.load_all(stored, guest::consumed_user_data);
            *shared.guest() = GuestState::rebuild(&inv);
        }
        shared.mutate_with(recover_interrupted, true).await?;
        let downloading: Vec<String> = shared
            .read()
            .all::<Iso>()
            .filter(|iso| iso.state == IsoState::Downloading)
            .map(|iso| iso.id.clone())
            .collect();
        for id in downloading {
            image::spawn_download(&shared, id);
        }
        shared.sync_endpoints(None).closed().await;
        if tokio::runtime::Handle::try_current().is_ok() {
            let weak = Arc::downgrade(&shared);
            tokio::spawn(async move {
                for round in 1u32.. {
                    tokio::time::sleep(FOLLOW_INTERVAL).await;
                    let Some(shared) = weak.upgrade() else { return };
                    if let Err(e) = shared.refresh().await {
                        tracing::warn!(error = %e, "catching up with the shared simulator inventory failed");
                    }
                    if round % OVERDUE_EVERY == 0
                        && let Err(e) = shared.finish_overdue().await
                    {
                        tracing::warn!(error = %e, "finishing overdue simulated work failed");
                    }
                    if round % PRUNE_EVERY == 0
                        && let Err(e) = shared.store.prune_deletions(now()).await
                    {
                        tracing::warn!(error = %e, "pruning the simulator's deletion log failed");
                    }
                }
            });
        }
        Ok(Simulator { shared })
    }

    /// Waits until no node install is pending and every API endpoint that should listen does.
    /// Returns at once with zero timings unless an endpoint's address is taken (it is retried
    /// every 250 ms, so put a timeout around this if another process may hold the address).
    pub async fn settle(&self) {
        let mut pending = self.shared.pending.subscribe();
        let _ = pending.wait_for(|p| *p == Pending::default()).await;
    }

    /// Replaces the in-memory inventory with what the database holds, as an instance does
    /// when it fell too far behind to catch up from the deletion log. For tests.
    #[doc(hidden)]
    pub async fn reload_from_storage(&self) -> Result<(), CloudError> {
        let _gate = self.shared.gate.lock().await;
        self.shared.reload().await
    }

    /// The simulated Kubernetes API endpoints listening now, in address order.
    pub fn listening_endpoints(&self) -> Vec<SocketAddrV4> {
        self.shared.listening_endpoints()
    }

    /// Every resource carrying the tag `key`, with the tag's value, sorted by kind then id: for
    /// leak reports across clusters (`Cloud::find_by_tag` looks for one value).
    pub fn tagged_with(&self, key: &str) -> Vec<(TaggedResource, String)> {
        network::tagged(&self.shared.read(), key, None)
    }

    // === Account resource limits ===

    /// Sets an account's limit of one kind; `None` makes it unlimited (CloudStack's `-1`).
    /// Accounts without a limit of their own have the seed's `[limits]` default, if any.
    pub async fn set_resource_limit(
        &self,
        account_id: &str,
        kind: LimitKind,
        max: Option<u64>,
    ) -> Result<(), CloudError> {
        self.shared
            .mutate(|inv| limits::set(inv, account_id, kind, max, now()))
            .await
    }

    /// Every limit of an account, with what it uses now.
    pub fn resource_limits(&self, account_id: &str) -> Vec<ResourceLimit> {
        limits::report(&self.shared.read(), account_id)
    }

    // === Fault injection ===

    /// Injects a fault (see [`Fault`]). `StopVm` changes the inventory at once.
    pub async fn inject(&self, fault: Fault) -> Result<(), CloudError> {
        match fault {
            Fault::FailVmDeploys { count } => self.shared.faults().fail_vm_deploys = count,
            Fault::ExhaustCapacity { on } => self.shared.faults().exhaust_capacity = on,
            Fault::Unavailable { count } => self.shared.faults().unavailable_calls = count,
            Fault::EndpointUnreachable {
                public_ip_id,
                unreachable,
            } => {
                {
                    let mut faults = self.shared.faults();
                    if unreachable {
                        faults.unreachable_endpoints.insert(public_ip_id.clone());
                    } else {
                        faults.unreachable_endpoints.remove(&public_ip_id);
                    }
                }
                self.shared
                    .sync_endpoints(Some(&BTreeSet::from([public_ip_id])))
                    .closed()
                    .await;
            }
            Fault::StopVm { vm_id } => {
                self.shared
                    .mutate(|inv| vm::stop_behind_back(inv, &vm_id, now()))
                    .await?
            }
        }
        Ok(())
    }

    /// Clears every fault in force (not what `StopVm` already did). Unreachable endpoints
    /// listen again at once (this needs a Tokio runtime).
    pub fn clear_faults(&self) {
        let unreachable = std::mem::take(&mut *self.shared.faults()).unreachable_endpoints;
        // Only starts listeners: nothing to wait for.
        let _started = self.shared.sync_endpoints(Some(&unreachable));
    }

    /// Should the Kubernetes API endpoint served on this public IP (by id) look unreachable?
    pub fn endpoint_unreachable(&self, public_ip_id: &str) -> bool {
        self.shared
            .faults()
            .unreachable_endpoints
            .contains(public_ip_id)
    }

    // === VPCs (not needed by the orchestrator's trait yet) ===

    /// Creates an `Enabled` VPC with its source NAT IP, or returns the owner's VPC of that name.
    pub async fn create_vpc(&self, spec: &VpcSpec) -> Result<Vpc, CloudError> {
        self.shared
            .mutate(|inv| network::create_vpc(inv, spec, now()))
            .await
    }

    /// Deletes a VPC without tiers, releasing its IPs. `false` when already gone.
    pub async fn delete_vpc(&self, id: &str) -> Result<bool, CloudError> {
        self.shared.mutate(|inv| network::delete_vpc(inv, id)).await
    }

    // === Synchronous listing for the API layer: clones, oldest first ===

    pub fn list_zones(&self, filter: impl Fn(&Zone) -> bool) -> Vec<Zone> {
        self.shared.read().list(filter)
    }
    pub fn list_pods(&self, filter: impl Fn(&Pod) -> bool) -> Vec<Pod> {
        self.shared.read().list(filter)
    }
    pub fn list_host_clusters(&self, filter: impl Fn(&HostCluster) -> bool) -> Vec<HostCluster> {
        self.shared.read().list(filter)
    }
    /// Hosts with their current allocation.
    pub fn list_hosts(&self, filter: impl Fn(&Host) -> bool) -> Vec<Host> {
        self.shared.read().list(filter)
    }
    pub fn list_service_offerings(
        &self,
        filter: impl Fn(&ServiceOffering) -> bool,
    ) -> Vec<ServiceOffering> {
        self.shared.read().list(filter)
    }
    pub fn list_disk_offerings(&self, filter: impl Fn(&DiskOffering) -> bool) -> Vec<DiskOffering> {
        self.shared.read().list(filter)
    }
    pub fn list_network_offerings(
        &self,
        filter: impl Fn(&NetworkOffering) -> bool,
    ) -> Vec<NetworkOffering> {
        self.shared.read().list(filter)
    }
    pub fn list_templates(&self, filter: impl Fn(&Template) -> bool) -> Vec<Template> {
        self.shared.read().list(filter)
    }
    pub fn list_isos(&self, filter: impl Fn(&Iso) -> bool) -> Vec<Iso> {
        self.shared.read().list(filter)
    }
    pub fn list_networks(&self, filter: impl Fn(&Network) -> bool) -> Vec<Network> {
        self.shared.read().list(filter)
    }
    pub fn list_vpcs(&self, filter: impl Fn(&Vpc) -> bool) -> Vec<Vpc> {
        self.shared.read().list(filter)
    }
    pub fn list_public_ip_ranges(
        &self,
        filter: impl Fn(&PublicIpRange) -> bool,
    ) -> Vec<PublicIpRange> {
        self.shared.read().list(filter)
    }
    pub fn list_public_ips(&self, filter: impl Fn(&PublicIp) -> bool) -> Vec<PublicIp> {
        self.shared.read().list(filter)
    }
    pub fn list_firewall_rules(&self, filter: impl Fn(&FirewallRule) -> bool) -> Vec<FirewallRule> {
        self.shared.read().list(filter)
    }
    pub fn list_port_forwarding_rules(
        &self,
        filter: impl Fn(&PortForwardingRule) -> bool,
    ) -> Vec<PortForwardingRule> {
        self.shared.read().list(filter)
    }
    pub fn list_load_balancer_rules(
        &self,
        filter: impl Fn(&LoadBalancerRule) -> bool,
    ) -> Vec<LoadBalancerRule> {
        self.shared.read().list(filter)
    }
    pub fn list_vms(&self, filter: impl Fn(&Vm) -> bool) -> Vec<Vm> {
        self.shared.read().list(filter)
    }
    pub fn list_ssh_key_pairs(&self, filter: impl Fn(&SshKeyPair) -> bool) -> Vec<SshKeyPair> {
        self.shared.read().list(filter)
    }

    // === Synchronous lookups by id (constant time; lists scan) ===

    pub fn zone(&self, id: &str) -> Option<Zone> {
        self.shared.read().get::<Zone>(id).cloned()
    }
    pub fn host(&self, id: &str) -> Option<Host> {
        self.shared.read().get::<Host>(id).cloned()
    }
    pub fn service_offering(&self, id: &str) -> Option<ServiceOffering> {
        self.shared.read().get::<ServiceOffering>(id).cloned()
    }
    pub fn template(&self, id: &str) -> Option<Template> {
        self.shared.read().get::<Template>(id).cloned()
    }
    pub fn iso(&self, id: &str) -> Option<Iso> {
        self.shared.read().get::<Iso>(id).cloned()
    }
    pub fn network(&self, id: &str) -> Option<Network> {
        self.shared.read().get::<Network>(id).cloned()
    }
    pub fn vm(&self, id: &str) -> Option<Vm> {
        self.shared.read().get::<Vm>(id).cloned()
    }

    /// The objects with these ids, from memory (what `Cloud::lookup` answers).
    pub fn objects(&self, ids: &ObjectIds) -> Objects {
        fn by_id<T: inventory::Stored>(
            inv: &Inventory,
            ids: &[String],
        ) -> std::collections::HashMap<String, T> {
            ids.iter()
                .filter_map(|id| Some((id.clone(), inv.get::<T>(id)?.clone())))
                .collect()
        }
        let inv = self.shared.read();
        let vms: std::collections::HashMap<String, Vm> = by_id(&inv, &ids.vms);
        let with_refs;
        let ids = match ids.with_vm_refs {
            true => {
                let mut all = ids.clone();
                vms.values().for_each(|vm| all.add_refs_of(vm));
                with_refs = all;
                &with_refs
            }
            false => ids,
        };
        Objects {
            vms,
            zones: by_id(&inv, &ids.zones),
            service_offerings: by_id(&inv, &ids.service_offerings),
            templates: by_id(&inv, &ids.templates),
            isos: by_id(&inv, &ids.isos),
            networks: by_id(&inv, &ids.networks),
            hosts: by_id(&inv, &ids.hosts),
            port_forwards: {
                let mut rules: Vec<PortForwardingRule> = ids
                    .port_forwards_on_ips
                    .iter()
                    .flat_map(|ip| inv.rules_on_ip::<PortForwardingRule>(ip))
                    .cloned()
                    .collect();
                rules.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
                rules
            },
        }
    }

    /// Fills in the user data of VMs listed without it because it is kept only in storage
    /// (VMs whose guest installed it; the lists and lookups above leave it out).
    pub async fn fill_user_data(&self, vms: &mut [Vm]) -> Result<(), CloudError> {
        for vm in vms {
            if vm.user_data.is_none() && self.shared.read().is_offloaded(&vm.id) {
                vm.user_data = self.shared.store.vm_user_data(&vm.id).await?;
            }
        }
        Ok(())
    }
}

impl Shared {
    fn read(&self) -> RwLockReadGuard<'_, Inventory> {
        // A panic inside a mutation leaves the journal unapplied, not the maps half-written:
        // the inventory is still consistent, so poisoning is ignored.
        self.inventory.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inventory> {
        self.inventory.write().unwrap_or_else(|e| e.into_inner())
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fails the call when an `Unavailable` fault is pending.
    fn check_available(&self) -> Result<(), CloudError> {
        match self.faults().take_unavailable() {
            true => Err(CloudError::Unavailable(
                "The simulated cloud is unavailable (injected fault)".into(),
            )),
            false => Ok(()),
        }
    }

    fn guest(&self) -> std::sync::MutexGuard<'_, GuestState> {
        self.guest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the inventory, lets the guest agent react, and writes what changed through
    /// to the database. When `f` fails, or the write does, the inventory is restored to what it
    /// was before. Once written, the endpoints of the public IPs it touched are updated.
    async fn mutate<T>(
        &self,
        f: impl FnOnce(&mut Inventory) -> Result<T, CloudError>,
    ) -> Result<T, CloudError> {
        self.mutate_with(f, false).await
    }

    /// `mutate`; with `everything`, the guest reacts as if every VM had changed (on open).
    async fn mutate_with<T>(
        &self,
        f: impl FnOnce(&mut Inventory) -> Result<T, CloudError>,
        everything: bool,
    ) -> Result<T, CloudError> {
        let _gate = self.gate.lock().await;
        if self.too_far_behind() {
            self.reload().await?;
        }
        let (mut tx, version) = self.store.begin_mutation().await?;
        let seen = self.seen.load(Ordering::Acquire);
        let mut remote_touched = BTreeSet::new();
        if version != seen + 1 {
            let remote = self.store.changes_since(&mut tx, seen, version - 1).await?;
            remote_touched = self.apply_remote(remote);
        }
        self.seen.store(version - 1, Ordering::Release);
        self.mark_caught_up();
        let outcome = {
            let mut inv = self.write();
            let res = f(&mut inv);
            match res {
                Ok(out) => {
                    let install_now = self.timings.node_install.is_zero();
                    let reaction =
                        guest::react(&mut inv, &self.guest(), install_now, everything, now());
                    let journal = inv.take_journal();
                    let touched = endpoints::touched_ips(&inv, &journal);
                    let changes = inv.changes(&journal);
                    let keep_user_data: HashSet<String> = changes
                        .iter()
                        .filter(|(_, id, obj)| {
                            matches!(obj, Some(Object::Vm(vm)) if vm.user_data.is_none())
                                && inv.is_offloaded(id)
                        })
                        .map(|(_, id, _)| id.clone())
                        .collect();
                    inv.apply_host_allocation(&journal);
                    Ok((out, (changes, keep_user_data), journal, reaction, touched))
                }
                Err(e) => {
                    let journal = inv.take_journal();
                    inv.rollback(journal);
                    inv.recompute_host_allocation();
                    Err(e)
                }
            }
        };
        let (out, changes, journal, reaction, touched) = match outcome {
            Ok(done) => done,
            Err(e) => {
                drop(tx);
                self.sync_endpoints_of(&remote_touched).await;
                return Err(e);
            }
        };
        let (changes, keep_user_data) = changes;
        let written = match self
            .store
            .write(&mut tx, &changes, &keep_user_data, version)
            .await
        {
            Ok(()) => tx.commit().await.map_err(store::storage_error),
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            {
                let mut inv = self.write();
                inv.rollback(journal);
                inv.recompute_host_allocation();
            }
            self.sync_endpoints_of(&remote_touched).await;
            return Err(e);
        }
        self.seen.store(version, Ordering::Release);
        drop(journal);
        if let Some(hook) = AFTER_COMMIT.get() {
            hook();
        }
        // Installed VMs' user data now lives in storage only.
        let vm_ids = changes
            .iter()
            .filter_map(|(kind, id, _)| guest::touches_vm(*kind).then_some(id.as_str()));
        self.write()
            .offload_user_data(vm_ids, guest::consumed_user_data);
        // The endpoints others' changes touched too, once the clock is released.
        let mut touched = touched;
        touched.extend(remote_touched);
        self.after_commit(reaction, &touched).await;
        Ok(out)
    }

    /// Starts the installs a mutation scheduled and updates the endpoints it touched; returns
    /// once the endpoints it stopped refuse connections.
    async fn after_commit(&self, reaction: guest::Reaction, touched: &BTreeSet<String>) {
        let Some(me) = self.me.upgrade() else { return };
        let scheduled: Vec<String> = {
            let mut guest = self.guest();
            guest.commit(&reaction);
            reaction
                .install_later
                .iter()
                .filter(|vm| guest.installing.insert((*vm).clone()))
                .cloned()
                .collect()
        };
        self.schedule_installs(scheduled);
        me.sync_endpoints(Some(touched)).closed().await;
    }

    /// Installs these VMs after `Timings::node_install` (a plain function: the tasks it spawns
    /// run mutations, and an async caller would make that future type recursive).
    fn schedule_installs(&self, scheduled: Vec<String>) {
        if !scheduled.is_empty() && tokio::runtime::Handle::try_current().is_ok() {
            self.pending.send_modify(|p| p.installs += scheduled.len());
            for vm_id in scheduled {
                let weak = self.me.clone();
                let delay = self.timings.node_install;
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let Some(shared) = weak.upgrade() else { return };
                    shared.guest().installing.remove(&vm_id);
                    let res = shared
                        .mutate(|inv| guest::install_due(inv, &vm_id, now()))
                        .await;
                    if let Err(e) = res {
                        tracing::warn!(vm = vm_id, error = %e, "simulated node install failed");
                    }
                    shared
                        .pending
                        .send_modify(|p| p.installs = p.installs.saturating_sub(1));
                });
            }
        }
    }

    /// Finishes the simulated transitions (VM starts and stops, node installs, ISO downloads)
    /// that are overdue by `OVERDUE_GRACE_SECONDS`: the instance whose timer would have finished
    /// them died. The finishing functions only act on what is still unfinished.
    async fn finish_overdue(&self) -> Result<(), CloudError> {
        if overdue(&self.read(), &self.timings, &self.guest().installing, now()).is_empty() {
            return Ok(());
        }
        let finished = self
            .mutate(|inv| {
                let work = overdue(inv, &self.timings, &self.guest().installing, now());
                for item in &work {
                    match item {
                        Overdue::Start(id) => drop(vm::finish_start(inv, id, now())?),
                        Overdue::Stop(id) => drop(vm::finish_stop(inv, id, now())?),
                        Overdue::Install(id) => guest::install_due(inv, id, now())?,
                        Overdue::Download(id) => drop(image::finish_download(inv, id)?),
                    }
                }
                Ok(work.len())
            })
            .await?;
        tracing::info!(
            finished,
            "finished simulated work a stopped instance left behind"
        );
        Ok(())
    }

    /// `refresh`, unless one ran in the last `RECENT`: the simulated Kubernetes API is polled
    /// hard while clusters come up, and needs no database round trip per request.
    async fn refresh_recent(&self) -> Result<(), CloudError> {
        const RECENT: u64 = 20;
        let now_ms = self.millis();
        let last = self.refreshed_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) < RECENT && last != 0 {
            return Ok(());
        }
        self.refreshed_ms.store(now_ms.max(1), Ordering::Relaxed);
        self.refresh().await
    }

    /// Applies what other instances changed since this one last looked (no-op when nothing).
    async fn refresh(&self) -> Result<(), CloudError> {
        let latest = self.store.version().await?;
        if latest <= self.seen.load(Ordering::Acquire) {
            self.mark_caught_up();
            return Ok(());
        }
        let _gate = self.gate.lock().await;
        if self.too_far_behind() {
            return self.reload().await;
        }
        let seen = self.seen.load(Ordering::Acquire);
        if latest <= seen {
            self.mark_caught_up();
            return Ok(());
        }
        let remote = {
            let mut conn = self.store.connection().await?;
            self.store.changes_since(&mut conn, seen, latest).await?
        };
        let touched = self.apply_remote(remote);
        self.seen.store(latest, Ordering::Release);
        self.mark_caught_up();
        self.sync_endpoints_of(&touched).await;
        Ok(())
    }

    fn millis(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn mark_caught_up(&self) {
        self.caught_up_ms.store(self.millis(), Ordering::Relaxed);
    }

    /// Has this instance not caught up for so long (the database was unreachable, the process
    /// was suspended) that deletions it never saw may have been pruned? Half the log's age.
    fn too_far_behind(&self) -> bool {
        let since = self
            .millis()
            .saturating_sub(self.caught_up_ms.load(Ordering::Relaxed));
        since > (store::KEEP_DELETIONS_SECONDS as u64) * 500
    }

    /// Replaces the inventory with what the database holds (the caller holds the gate): a delta
    /// could miss deletions already pruned from the log.
    async fn reload(&self) -> Result<(), CloudError> {
        tracing::warn!("this instance fell behind the shared simulator inventory; reloading it");
        let (objects, version) = self.store.load().await?;
        {
            let mut inv = self.write();
            let mut fresh = Inventory::default();
            fresh.limit_defaults = inv.limit_defaults.clone();
            fresh.vnets = inv.vnets;
            fresh.load_all(objects, guest::consumed_user_data);
            self.guest().rewait(&fresh);
            *inv = fresh;
        }
        self.seen.store(version, Ordering::Release);
        self.mark_caught_up();
        if let Some(me) = self.me.upgrade() {
            me.sync_endpoints(None).closed().await;
        }
        Ok(())
    }

    /// Brings the endpoints of these public IPs in line with the inventory.
    async fn sync_endpoints_of(&self, ips: &BTreeSet<String>) {
        if let Some(me) = self.me.upgrade() {
            me.sync_endpoints(Some(ips)).closed().await;
        }
    }

    /// Puts other instances' changes into memory, with what follows from them here: host
    /// allocation, user data kept in storage only, the guest's waiting nodes. Returns the public
    /// IPs whose endpoints the caller brings up to date. Installs the other instance scheduled
    /// stay its own.
    fn apply_remote(&self, remote: Vec<store::RemoteChange>) -> BTreeSet<String> {
        if remote.is_empty() {
            return BTreeSet::new();
        }
        {
            let mut inv = self.write();
            let mut journal = Vec::with_capacity(remote.len());
            for (kind, id, obj) in remote {
                let old = match obj {
                    Some(obj) => inv.load(obj),
                    None => inv.unload(kind, &id),
                };
                journal.push((kind, id, old));
            }
            // `touched_ips` and host allocation read a journal: the first entry of an object
            // must hold its value before all of these changes.
            let mut first = HashSet::new();
            journal.retain(|(kind, id, _)| first.insert((*kind, id.clone())));
            let vm_ids: Vec<String> = journal
                .iter()
                .filter(|(kind, _, _)| guest::touches_vm(*kind))
                .map(|(_, id, _)| id.clone())
                .collect();
            inv.offload_user_data(vm_ids.iter().map(String::as_str), guest::consumed_user_data);
            inv.apply_host_allocation(&journal);
            self.guest().rewait(&inv);
            endpoints::touched_ips(&inv, &journal)
        }
    }

    fn get<T: Noun>(&self, id: &str) -> Result<T, CloudError> {
        self.read().need::<T>(id).cloned()
    }
}

/// The objects to seed an empty inventory with (`None` when the inventory is not seeded now),
/// and the claims on the public ranges: the stored inventory's, the explicit `public_ip_range`,
/// or the first default range no simulator of another database on this machine holds.
async fn claim_ranges(
    store: &Store,
    config: &SimConfig,
    stored: &[Object],
    seed_text: Option<&str>,
) -> Result<(Option<Vec<Object>>, Option<claims::Claims>), OpenError> {
    let Some(rc) = &config.claims else {
        let objects = seed_text
            .map(|text| seed::parse(text, now(), config.public_ip_range))
            .transpose()?;
        return Ok((objects, None));
    };
    let owner = store.database_id().await?;
    let claim = |objects: &[Object]| claims::claim(&rc.dir, &owner, &public_ranges(objects));
    let unclaimed = |e: std::io::Error| {
        tracing::warn!(dir = %rc.dir.display(), error = %e, "cannot claim the simulator's public range: another cksd on this machine may hand out the same addresses");
    };
    let Some(text) = seed_text else {
        return match claim(stored) {
            Ok(held) => Ok((None, Some(held))),
            Err(claims::Refused::Taken { wanted, held }) => Err(OpenError::RangeTaken(format!(
                "this database's simulated public range {wanted} overlaps {held}, which a cksd with another database uses on this machine; stop that cksd, or start this one on a new database with its own --simulator-public-range"
            ))),
            Err(claims::Refused::Io(e)) => {
                unclaimed(e);
                Ok((None, None))
            }
        };
    };
    if let Some(range) = config.public_ip_range {
        let objects = seed::parse(text, now(), Some(range))?;
        return match claim(&objects) {
            Ok(held) => Ok((Some(objects), Some(held))),
            Err(claims::Refused::Taken { wanted, held }) => Err(OpenError::RangeTaken(format!(
                "the public range {wanted} (--simulator-public-range) overlaps {held}, which a cksd with another database uses on this machine; give this cksd a free --simulator-public-range"
            ))),
            Err(claims::Refused::Io(e)) => {
                unclaimed(e);
                Ok((Some(objects), None))
            }
        };
    }
    let candidates: Vec<Option<(std::net::Ipv4Addr, std::net::Ipv4Addr)>> =
        if rc.default_ranges.is_empty() {
            let own = seed::parse(text, now(), None)?;
            let first = public_ranges(&own).first().copied();
            let following =
                std::iter::successors(first.and_then(claims::Range::next), |r| r.next());
            std::iter::once(None)
                .chain(following.map(|r| Some(r.addresses())))
                .collect()
        } else {
            rc.default_ranges.iter().copied().map(Some).collect()
        };
    let mut taken = None;
    for candidate in candidates {
        let objects = seed::parse(text, now(), candidate)?;
        match claim(&objects) {
            Ok(held) => {
                if let (Some(taken), Some(range)) = (taken, public_ranges(&objects).first()) {
                    tracing::warn!(%taken, %range, "the simulator's default public range is used by a cksd with another database on this machine; this database is seeded with a free range instead and keeps it");
                }
                return Ok((Some(objects), Some(held)));
            }
            Err(claims::Refused::Taken { held, .. }) => {
                taken.get_or_insert(held);
            }
            Err(claims::Refused::Io(e)) => {
                unclaimed(e);
                return Ok((Some(objects), None));
            }
        }
    }
    Err(OpenError::RangeTaken(
        "every default public range is used by a cksd with another database on this machine; choose a free one with --simulator-public-range".into(),
    ))
}

/// The networks of the public IP ranges among these objects.
fn public_ranges(objects: &[Object]) -> Vec<claims::Range> {
    objects
        .iter()
        .filter_map(|o| match o {
            Object::PublicIpRange(r) => Some(claims::Range::of(r)),
            _ => None,
        })
        .collect()
}

fn read_seed(source: &SeedSource) -> Result<String, SeedError> {
    match source {
        SeedSource::Default => Ok(config::DEFAULT_SEED.to_string()),
        SeedSource::Text(text) => Ok(text.clone()),
        SeedSource::Path(path) => std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Simulated work whose timer should have fired long ago.
#[derive(Debug)]
enum Overdue {
    Start(String),
    Stop(String),
    Install(String),
    Download(String),
}

fn overdue(
    inv: &Inventory,
    timings: &Timings,
    installing: &BTreeSet<String>,
    now: i64,
) -> Vec<Overdue> {
    let late = |since: i64, delay: std::time::Duration| {
        since + delay.as_secs() as i64 + OVERDUE_GRACE_SECONDS < now
    };
    let mut work = Vec::new();
    for vm in inv.all::<Vm>() {
        match vm.state {
            VmState::Starting if late(vm.last_updated, timings.vm_deploy.max(timings.vm_start)) => {
                work.push(Overdue::Start(vm.id.clone()))
            }
            VmState::Stopping if late(vm.last_updated, timings.vm_stop) => {
                work.push(Overdue::Stop(vm.id.clone()))
            }
            VmState::Running
                if !installing.contains(&vm.id)
                    && late(vm.last_updated, timings.node_install)
                    && guest::installable(inv, vm) =>
            {
                work.push(Overdue::Install(vm.id.clone()))
            }
            _ => {}
        }
    }
    for iso in inv.all::<Iso>() {
        if iso.state == IsoState::Downloading && late(iso.created, timings.iso_download) {
            work.push(Overdue::Download(iso.id.clone()));
        }
    }
    work
}

/// Finishes what a restart interrupted: transitional VM and network states.
fn recover_interrupted(inv: &mut Inventory) -> Result<(), CloudError> {
    let vms: Vec<Vm> = inv
        .all::<Vm>()
        .filter(|vm| {
            matches!(
                vm.state,
                VmState::Starting | VmState::Stopping | VmState::Expunging
            )
        })
        .cloned()
        .collect();
    for mut vm in vms {
        match vm.state {
            VmState::Starting => vm.state = VmState::Running,
            VmState::Stopping => {
                vm.state = VmState::Stopped;
                vm.last_host_id = vm.host_id.take().or(vm.last_host_id);
            }
            _ => {
                guest::forget_vm(inv, &vm.id);
                inv.remove::<Vm>(&vm.id);
                continue;
            }
        }
        inv.put(vm);
    }
    let networks: Vec<Network> = inv
        .all::<Network>()
        .filter(|n| n.state == NetworkState::Implementing)
        .cloned()
        .collect();
    for mut net in networks {
        net.state = NetworkState::Implemented;
        inv.put(net);
    }
    Ok(())
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
