//! Which simulated Kubernetes API endpoints listen, and the listeners themselves.
//!
//! An endpoint `<public ip>:<public port>` listens when a port-forwarding or load-balancer rule
//! on that IP leads TCP port 6443 (private side) to a running, installed control node of a
//! simulated cluster; an ingress firewall rule on the IP admits the public port from loopback
//! (isolated networks need one, as in CloudStack; VPC tiers use ACLs, which are not simulated);
//! and no `EndpointUnreachable` fault is set on the IP. Otherwise nothing listens there, so a
//! client gets "connection refused", as from a dead endpoint.
//!
//! Re-evaluation is incremental: after each committed mutation, `touched_ips` derives from its
//! journal the public IPs whose answer may have changed (the IPs of changed rules; the IPs
//! leading to VMs whose running state or control-plane membership changed), and only those are
//! recomputed and diffed against the running listeners. One scan of the rules per mutation,
//! one listener task per endpoint, one TLS configuration per cluster shared by its endpoints.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddrV4;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use cks_core::iaas::{PublicIp, ResourceKind, Vm, VmState};

use crate::inventory::{Inventory, Journal, Kind, Object, Stored};
use crate::kube::api;
use crate::kube::guest::{self, API_SERVER_PORT, GuestNode, KubeCluster};
use crate::{Shared, routing};

/// How long to wait before binding an address that was taken again.
const RETRY_BIND: Duration = Duration::from_millis(250);

/// The cluster whose API server answers on `ip:port` by the rules alone (faults aside): what a
/// node joining through the endpoint reaches.
pub(crate) fn cluster_behind(inv: &Inventory, ip: &PublicIp, port: u16) -> Option<String> {
    routing::vms_behind(inv, ip, port, API_SERVER_PORT)
        .iter()
        .find_map(|vm| guest::control_cluster(inv, vm))
        .map(str::to_string)
}

/// Endpoints that should listen, by public IP id: address → cluster id. Only the IPs in `ips`
/// (all when `None`); IPs with an `EndpointUnreachable` fault have none.
pub(crate) fn desired(
    inv: &Inventory,
    unreachable: &BTreeSet<String>,
    ips: Option<&BTreeSet<String>>,
) -> BTreeMap<String, BTreeMap<SocketAddrV4, String>> {
    let wanted = |id: &str| ips.is_none_or(|s| s.contains(id)) && !unreachable.contains(id);
    let mut res: BTreeMap<String, BTreeMap<SocketAddrV4, String>> = BTreeMap::new();
    for (ip_id, port, vms) in routing::routes_to(inv, ips, &wanted, API_SERVER_PORT) {
        let Some(ip) = inv.get::<PublicIp>(ip_id) else {
            continue;
        };
        let addr = SocketAddrV4::new(ip.address, port);
        if res.get(ip_id).is_some_and(|m| m.contains_key(&addr))
            || !routing::firewall_allows(inv, ip, port)
        {
            continue;
        }
        if let Some(cluster) = vms.iter().find_map(|vm| guest::control_cluster(inv, vm)) {
            res.entry(ip_id.to_string())
                .or_default()
                .insert(addr, cluster.to_string());
        }
    }
    res
}

/// Public IPs whose endpoints a committed journal may have changed.
pub(crate) fn touched_ips(inv: &Inventory, journal: &Journal) -> BTreeSet<String> {
    let mut ips: BTreeSet<String> = BTreeSet::new();
    let mut vms: Vec<&str> = Vec::new();
    let mut seen: HashSet<(Kind, &str)> = HashSet::new();
    for (kind, id, old) in journal {
        // The first entry of an object holds its value before the mutation.
        if !seen.insert((*kind, id.as_str())) {
            continue;
        }
        let current = inv.object(*kind, id);
        match kind {
            Kind::Noun(ResourceKind::PublicIp) => {
                ips.insert(id.clone());
            }
            Kind::Noun(
                ResourceKind::FirewallRule
                | ResourceKind::PortForwardingRule
                | ResourceKind::LoadBalancerRule,
            ) => {
                for obj in [old.as_ref(), current].into_iter().flatten() {
                    if let Some(ip_id) = routing::rule_ip(obj) {
                        ips.insert(ip_id.to_string());
                    }
                }
            }
            Kind::Noun(ResourceKind::Vm) => {
                let running = |o: Option<&Object>| matches!(o, Some(Object::Vm(vm)) if vm.state == VmState::Running);
                if running(old.as_ref()) != running(current) {
                    vms.push(id);
                }
            }
            kind if *kind == GuestNode::KIND => {
                let serving = |o: Option<&Object>| {
                    o.and_then(GuestNode::unwrap_ref)
                        .filter(|n| n.role.is_control())
                        .and_then(|n| n.cluster_id.clone())
                };
                if serving(old.as_ref()) != serving(current) {
                    vms.push(id);
                }
            }
            kind if *kind == KubeCluster::KIND && old.is_some() != current.is_some() => {
                vms.push(id)
            }
            _ => {}
        }
    }
    ips.extend(routing::ips_leading_to(inv, &vms));
    ips
}

// === The listeners ===

/// The running listeners, by address.
#[derive(Default)]
pub(crate) struct Endpoints {
    listeners: HashMap<SocketAddrV4, Listener>,
    by_ip: HashMap<String, BTreeSet<SocketAddrV4>>,
    /// Each cluster's TLS configuration with the number of listeners using it.
    tls: HashMap<String, (Arc<rustls::ServerConfig>, usize)>,
    retry_scheduled: bool,
    /// Addresses whose failed bind was logged: retries stay quiet until one succeeds.
    warned: HashSet<SocketAddrV4>,
    /// Clusters that lost a listener during the current sync: their TLS configuration goes
    /// at its end if no listener uses it any more.
    released: Vec<String>,
    /// Addresses that should listen but another process holds: who holds them.
    contested: HashMap<SocketAddrV4, Contest>,
}

/// What is known of the process holding an address this instance cannot bind. An instance of
/// this database serving the endpoint presents the cluster's certificate; anything else is a
/// stranger, and once two probes in a row say so the address is in conflict.
#[derive(Default)]
struct Contest {
    probing: bool,
    last_probe: Option<std::time::Instant>,
    strangers: u32,
    conflict: Option<String>,
}

/// Who answers on an address this instance could not bind.
pub(crate) enum Holder {
    /// Nobody any more: the next bind retry takes it.
    Gone,
    /// An instance of this database, serving the cluster.
    Sibling,
    /// Another process: why it is not the cluster's endpoint.
    Stranger(String),
}

/// How often the holder of a contested address is probed.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// Probes in a row that must find a stranger: a sibling's listener may briefly serve an IP's
/// previous cluster until it catches up with the inventory.
const STRANGER_PROBES: u32 = 2;

struct Listener {
    ip_id: String,
    cluster_id: String,
    /// `None` while the address could not be bound: retried after `RETRY_BIND`.
    task: Option<Serving>,
}

/// A listener task and its connections.
type Serving = (tokio::task::JoinHandle<()>, api::Connections);

/// Listeners being stopped. Their sockets close when the aborted tasks are dropped, which the
/// runtime does shortly, and their connections when the sets are dropped; `closed` waits for
/// both, so a caller then sees "connection refused" and no kept-alive connection answers.
#[must_use]
pub(crate) struct Stopped(Vec<Serving>);

impl Stopped {
    pub(crate) async fn closed(self) {
        for (task, connections) in self.0 {
            let _ = task.await;
            let mut set = std::mem::take(&mut *lock(&connections));
            set.shutdown().await;
        }
    }
}

impl Drop for Endpoints {
    fn drop(&mut self) {
        for listener in self.listeners.values() {
            if let Some((task, _)) = &listener.task {
                task.abort();
            }
        }
    }
}

impl Endpoints {
    fn unbound(&self) -> impl Iterator<Item = &Listener> {
        self.listeners.values().filter(|l| l.task.is_none())
    }

    fn stop(&mut self, addr: SocketAddrV4, stopped: &mut Vec<Serving>) {
        let Some(mut listener) = self.listeners.remove(&addr) else {
            return;
        };
        if let Some((task, connections)) = listener.task.take() {
            task.abort();
            stopped.push((task, connections));
            tracing::debug!(%addr, cluster = listener.cluster_id, "simulated API endpoint stopped");
        }
        if let Some(set) = self.by_ip.get_mut(&listener.ip_id) {
            set.remove(&addr);
            if set.is_empty() {
                self.by_ip.remove(&listener.ip_id);
            }
        }
        // Pruned at the end of the sync: a listener may be restarted with the same config.
        if let Some(entry) = self.tls.get_mut(&listener.cluster_id) {
            entry.1 = entry.1.saturating_sub(1);
            self.released.push(listener.cluster_id);
        }
    }

    fn start(
        &mut self,
        shared: &Arc<Shared>,
        ip_id: &str,
        addr: SocketAddrV4,
        cluster_id: &str,
        stopped: &mut Vec<Serving>,
    ) {
        if self.listeners.contains_key(&addr) {
            self.stop(addr, stopped);
        }
        let Some((tls, _)) = self.tls.get(cluster_id) else {
            return;
        };
        let tls = tls.clone();
        let task = match bind(addr) {
            Ok(listener) => {
                self.warned.remove(&addr);
                if self
                    .contested
                    .remove(&addr)
                    .is_some_and(|c| c.conflict.is_some())
                {
                    tracing::info!(%addr, cluster = cluster_id, "the simulated API endpoint's address is free again");
                }
                let ctx = api::ApiContext::new(shared, cluster_id, addr);
                let connections = api::Connections::default();
                let task = tokio::spawn(api::serve(listener, tls, ctx, connections.clone()));
                tracing::debug!(%addr, cluster = cluster_id, "simulated API endpoint listening");
                Some((task, connections))
            }
            Err(e) => {
                // In use: usually another instance sharing the inventory serves it (this one
                // takes over if that one stops); the holder is probed to tell.
                if e.kind() == std::io::ErrorKind::AddrInUse {
                    tracing::debug!(%addr, "a simulated API endpoint is served elsewhere; retrying");
                    self.probe_holder(shared, addr, cluster_id);
                } else if self.warned.insert(addr) {
                    tracing::warn!(%addr, error = %e, "cannot serve a simulated API endpoint yet; retrying");
                }
                None
            }
        };
        self.listeners.insert(
            addr,
            Listener {
                ip_id: ip_id.to_string(),
                cluster_id: cluster_id.to_string(),
                task,
            },
        );
        self.by_ip
            .entry(ip_id.to_string())
            .or_default()
            .insert(addr);
        if let Some(entry) = self.tls.get_mut(cluster_id) {
            entry.1 += 1;
        }
    }
}

impl Endpoints {
    /// Probes who holds `addr` (at most every `PROBE_EVERY`, one probe at a time).
    fn probe_holder(&mut self, shared: &Arc<Shared>, addr: SocketAddrV4, cluster_id: &str) {
        let contest = self.contested.entry(addr).or_default();
        if contest.probing
            || contest
                .last_probe
                .is_some_and(|t| t.elapsed() < PROBE_EVERY)
        {
            return;
        }
        contest.probing = true;
        contest.last_probe = Some(std::time::Instant::now());
        let weak = Arc::downgrade(shared);
        let cluster_id = cluster_id.to_string();
        tokio::spawn(async move {
            let Some(ca_pem) = weak.upgrade().and_then(|shared| {
                let inv = shared.read();
                inv.get::<KubeCluster>(&cluster_id)
                    .map(|c| c.ca_pem.clone())
            }) else {
                return;
            };
            let holder = api::holder(addr, &ca_pem).await;
            if let Some(shared) = weak.upgrade() {
                shared.endpoints().record_probe(addr, &cluster_id, holder);
            }
        });
    }

    fn record_probe(&mut self, addr: SocketAddrV4, cluster_id: &str, holder: Holder) {
        let Some(contest) = self.contested.get_mut(&addr) else {
            return;
        };
        contest.probing = false;
        match holder {
            Holder::Gone | Holder::Sibling => {
                contest.strangers = 0;
                if contest.conflict.take().is_some() {
                    tracing::info!(%addr, cluster = cluster_id, "the simulated API endpoint's address is no longer held by another process");
                }
            }
            Holder::Stranger(why) => {
                contest.strangers += 1;
                if contest.strangers >= STRANGER_PROBES && contest.conflict.is_none() {
                    let conflict = format!(
                        "the endpoint address {addr} is held by another process on this machine, not by a cksd sharing this database ({why}); give each independent cksd its own --simulator-public-range"
                    );
                    tracing::warn!(%addr, cluster = cluster_id, "{conflict}");
                    contest.conflict = Some(conflict);
                }
            }
        }
    }
}

/// A listening socket with `SO_REUSEADDR`, so an endpoint that went away can come back while
/// its old connections linger in TIME_WAIT.
fn bind(addr: SocketAddrV4) -> std::io::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr.into())?;
    socket.listen(1024)
}

impl Shared {
    fn endpoints(&self) -> MutexGuard<'_, Endpoints> {
        lock(&self.endpoints)
    }

    /// Brings the listeners of these public IPs (every IP when `None`) in line with the
    /// inventory and the faults. Needs a Tokio runtime; without one it does nothing. Returns
    /// the listeners it stopped, whose sockets close once their tasks are dropped.
    pub(crate) fn sync_endpoints(self: &Arc<Self>, ips: Option<&BTreeSet<String>>) -> Stopped {
        let mut stopped = Vec::new();
        if ips.is_some_and(BTreeSet::is_empty) {
            return Stopped(stopped);
        }
        if tokio::runtime::Handle::try_current().is_err() {
            tracing::warn!("simulated API endpoints need a Tokio runtime: not updated");
            return Stopped(stopped);
        }
        let mut eps = self.endpoints();
        let (want, new_tls) = {
            let inv = self.read();
            let unreachable = self.faults().unreachable_endpoints.clone();
            let want = desired(&inv, &unreachable, ips);
            let clusters: BTreeSet<&String> = want.values().flat_map(|m| m.values()).collect();
            let new_tls: Vec<(String, Option<KubeCluster>)> = clusters
                .into_iter()
                .filter(|c| !eps.tls.contains_key(*c))
                .map(|c| ((*c).clone(), inv.get::<KubeCluster>(c).cloned()))
                .collect();
            (want, new_tls)
        };
        for (cluster_id, cluster) in new_tls {
            let Some(cluster) = cluster else { continue };
            match api::server_config(&cluster) {
                Ok(config) => {
                    eps.tls.insert(cluster_id, (config, 0));
                }
                Err(e) => tracing::warn!(
                    cluster = cluster_id,
                    error = e,
                    "the simulated cluster's certificates are unusable: its endpoint stays down"
                ),
            }
        }
        let ip_ids: BTreeSet<String> = match ips {
            Some(ips) => ips.clone(),
            None => eps.by_ip.keys().chain(want.keys()).cloned().collect(),
        };
        let empty = BTreeMap::new();
        for ip_id in &ip_ids {
            let wanted = want.get(ip_id).unwrap_or(&empty);
            let have: Vec<SocketAddrV4> = eps
                .by_ip
                .get(ip_id)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            for addr in have {
                let keep = eps
                    .listeners
                    .get(&addr)
                    .is_some_and(|l| l.task.is_some() && wanted.get(&addr) == Some(&l.cluster_id));
                if !keep {
                    eps.stop(addr, &mut stopped);
                }
            }
            for (addr, cluster_id) in wanted {
                if !eps.listeners.contains_key(addr) {
                    eps.start(self, ip_id, *addr, cluster_id, &mut stopped);
                }
            }
        }
        for cluster_id in std::mem::take(&mut eps.released) {
            if eps
                .tls
                .get(&cluster_id)
                .is_some_and(|(_, users)| *users == 0)
            {
                eps.tls.remove(&cluster_id);
            }
        }
        // Contests end with the need to listen there, or with a successful bind.
        let Endpoints {
            contested,
            listeners,
            ..
        } = &mut *eps;
        contested.retain(|addr, _| listeners.get(addr).is_some_and(|l| l.task.is_none()));
        let unbound = eps.unbound().count();
        self.pending.send_modify(|p| p.unbound_endpoints = unbound);
        if unbound > 0 && !eps.retry_scheduled {
            eps.retry_scheduled = true;
            let weak = Arc::downgrade(self);
            tokio::spawn(async move {
                tokio::time::sleep(RETRY_BIND).await;
                let Some(shared) = weak.upgrade() else { return };
                let ips: BTreeSet<String> = {
                    let mut eps = shared.endpoints();
                    eps.retry_scheduled = false;
                    eps.unbound().map(|l| l.ip_id.clone()).collect()
                };
                shared.sync_endpoints(Some(&ips)).closed().await;
            });
        }
        Stopped(stopped)
    }

    /// Why the endpoint `addr` cannot be served here, when another process holds its address.
    pub(crate) fn endpoint_conflict(&self, addr: SocketAddrV4) -> Option<String> {
        self.endpoints()
            .contested
            .get(&addr)
            .and_then(|c| c.conflict.clone())
    }

    /// Endpoints that listen now, in address order.
    pub(crate) fn listening_endpoints(&self) -> Vec<SocketAddrV4> {
        let mut res: Vec<SocketAddrV4> = self
            .endpoints()
            .listeners
            .iter()
            .filter(|(_, l)| l.task.is_some())
            .map(|(addr, _)| *addr)
            .collect();
        res.sort();
        res
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a VM is a member of `cluster_id` (for the API server's node list).
pub(crate) fn members<'a>(
    inv: &'a Inventory,
    cluster_id: &'a str,
) -> impl Iterator<Item = (&'a GuestNode, &'a Vm)> + 'a {
    inv.all::<GuestNode>()
        .filter(move |n| n.member_of(cluster_id))
        .filter_map(move |n| Some((n, inv.get::<Vm>(&n.id)?)))
}
