//! The simulator: an in-process CloudStack-like IaaS with a persisted inventory, host capacity,
//! simulated latencies and fault injection.
//!
//! State lives in memory behind a `RwLock` (so the API layer can list synchronously) and every
//! change is written through to the `sim_objects` table before the call returns. Mutations are
//! serialized by an async gate; each runs as a closure over the inventory whose journal becomes
//! one database transaction, or is rolled back if that write fails.

mod cloud_impl;
pub mod config;
pub mod faults;
mod image;
mod inventory;
mod keypair;
mod network;
mod rules;
pub mod seed;
mod store;
mod vm;

use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use cks_core::iaas::{
    DiskOffering, FirewallRule, Host, HostCluster, Iso, IsoState, LoadBalancerRule, Network,
    NetworkOffering, NetworkState, Pod, PortForwardingRule, PublicIp, PublicIpRange,
    ServiceOffering, SshKeyPair, Template, Vm, VmState, Vpc, Zone,
};
use sqlx::AnyPool;

use crate::cloud::VpcSpec;
use crate::error::CloudError;
use config::{SeedSource, SimConfig, Timings};
use faults::{Fault, FaultState};
use inventory::{Inventory, Stored};
use seed::SeedError;
use store::Store;

/// Why `Simulator::open` failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error(transparent)]
    Cloud(#[from] CloudError),
}

/// The simulated cloud. Cheap to clone: clones share one inventory. Implements [`crate::Cloud`].
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
}

impl Simulator {
    /// Opens the simulator on `pool`: creates its table if needed, loads the inventory, and seeds
    /// it when empty. Operations interrupted by a restart are finished (a VM left `Starting` is
    /// `Running`, `Stopping` is `Stopped`) and ISO downloads resume.
    pub async fn open(pool: AnyPool, config: SimConfig) -> Result<Simulator, OpenError> {
        let store = Store::open(pool).await?;
        let stored = store.load().await?;
        let shared = Arc::new(Shared {
            inventory: RwLock::new(Inventory::default()),
            gate: tokio::sync::Mutex::new(()),
            store,
            faults: Mutex::new(FaultState::default()),
            timings: config.timings,
        });
        if stored.is_empty() {
            let text = match &config.seed {
                SeedSource::Default => config::DEFAULT_SEED.to_string(),
                SeedSource::Text(text) => text.clone(),
                SeedSource::Path(path) => {
                    std::fs::read_to_string(path).map_err(|source| SeedError::Read {
                        path: path.display().to_string(),
                        source,
                    })?
                }
            };
            let objects = seed::parse(&text, now())?;
            tracing::info!(objects = objects.len(), "seeding the simulated cloud");
            shared
                .mutate(|inv| {
                    objects.into_iter().for_each(|o| inv.put_object(o));
                    Ok(())
                })
                .await?;
        } else {
            let mut inv = shared.write();
            stored.into_iter().for_each(|o| inv.load(o));
            inv.recompute_host_allocation();
        }
        shared.mutate(recover_interrupted).await?;
        let downloading: Vec<String> = shared
            .read()
            .all::<Iso>()
            .filter(|iso| iso.state == IsoState::Downloading)
            .map(|iso| iso.id.clone())
            .collect();
        for id in downloading {
            image::spawn_download(&shared, id);
        }
        Ok(Simulator { shared })
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
                let mut faults = self.shared.faults();
                if unreachable {
                    faults.unreachable_endpoints.insert(public_ip_id);
                } else {
                    faults.unreachable_endpoints.remove(&public_ip_id);
                }
            }
            Fault::StopVm { vm_id } => {
                self.shared
                    .mutate(|inv| vm::stop_behind_back(inv, &vm_id, now()))
                    .await?
            }
        }
        Ok(())
    }

    /// Clears every fault in force (not what `StopVm` already did).
    pub fn clear_faults(&self) {
        *self.shared.faults() = FaultState::default();
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

    /// Runs `f` on the inventory and writes what it changed through to the database. When `f`
    /// fails, or the write does, the inventory is restored to what it was before.
    async fn mutate<T>(
        &self,
        f: impl FnOnce(&mut Inventory) -> Result<T, CloudError>,
    ) -> Result<T, CloudError> {
        let _gate = self.gate.lock().await;
        let (out, changes, journal) = {
            let mut inv = self.write();
            let res = f(&mut inv);
            let journal = inv.take_journal();
            match res {
                Ok(out) => {
                    let changes = inv.changes(&journal);
                    inv.recompute_host_allocation();
                    (out, changes, journal)
                }
                Err(e) => {
                    inv.rollback(journal);
                    inv.recompute_host_allocation();
                    return Err(e);
                }
            }
        };
        if let Err(e) = self.store.write(&changes).await {
            let mut inv = self.write();
            inv.rollback(journal);
            inv.recompute_host_allocation();
            return Err(e);
        }
        Ok(out)
    }

    fn get<T: Stored>(&self, id: &str) -> Result<T, CloudError> {
        self.read().need::<T>(id).cloned()
    }
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
