//! The background state scanner and garbage collector (spec §3.1, with its dead branches made
//! to work). Every `cloud.kubernetes.cluster.scanner.interval` seconds:
//!
//! * Running clusters: a missing or non-running node VM, an API endpoint that refuses
//!   connections or whose address another process holds, raises `FaultsDetected` (→ Alert)
//!   with the reason in `lasterror`.
//! * Workers whose VM was never made (a failed scale-up) are dropped from settled clusters.
//! * Stopped clusters with running node VMs → Alert.
//! * Alert clusters whose VMs all run and whose API reports every node Ready → Running; whose
//!   VMs are all stopped → Stopped.
//! * A cluster left in a transient state by an operation that ended (a job lost, a bug) →
//!   `OperationFailed`, never stuck.
//! * Garbage collection: a delete that failed part-way (Destroying with `gc`) runs again.
//!
//! The per-cluster checks read VM states from one cloud call and probe endpoints with a TCP
//! connect; only Alert clusters get the full Kubernetes check, so a cycle stays cheap at 10,000
//! clusters.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cks_core::cluster::{ClusterEvent, ClusterState, ClusterType, Observation, Verdict, scan};
use cks_core::iaas::VmState;
use cks_core::settings::SCANNER_INTERVAL;
use cks_store::{ClusterNode, ClusterRecord, JobStatus, NewJob, new_id};
use futures::StreamExt;

use super::nodes::{client_for, endpoint_conflict};
use crate::state::{AppState, SharedState};

/// The lease that makes one instance at a time the scanner when several share the database.
pub const SCANNER_LEASE: &str = "state-scanner";

/// States no operation is running in: a node without a VM there was left by a failed one.
const SETTLED: [ClusterState; 3] = [
    ClusterState::Running,
    ClusterState::Alert,
    ClusterState::Stopped,
];

/// Runs until the process ends.
pub async fn run(state: SharedState) {
    let mut last = Instant::now();
    loop {
        // Re-read the settings every second, so a setting changed here or on another instance
        // (such as this interval) takes effect at once.
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Err(e) = state.reload_settings().await {
            tracing::warn!(error = %e, "re-reading the settings failed");
        }
        let interval = Duration::from_secs(state.setting_i64(SCANNER_INTERVAL).max(1) as u64);
        if last.elapsed() < interval {
            continue;
        }
        // Held a little longer than a cycle's interval: renewed each cycle while this instance
        // lives, taken over by another within seconds of its death.
        let now = cks_store::now();
        let lease_until = now + interval.as_secs() as i64 + 5;
        match state
            .store
            .hold_lease(SCANNER_LEASE, &state.server_id, now, lease_until)
            .await
        {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "could not take the state scanner lease");
                continue;
            }
        }
        last = Instant::now();
        match cycle(&state).await {
            Ok(report) => tracing::debug!(?report, "state scanner cycle"),
            Err(e) => tracing::warn!(error = %e, "state scanner cycle failed"),
        }
    }
}

/// What one cycle saw and did.
#[derive(Debug, Default, Clone)]
pub struct CycleReport {
    pub clusters: usize,
    pub transitions: usize,
    pub collected: usize,
    pub elapsed: Duration,
}

/// One pass over every cluster.
pub async fn cycle(state: &AppState) -> Result<CycleReport, String> {
    let started = Instant::now();
    let store = &state.store;
    let clusters = store
        .clusters(&Default::default())
        .await
        .map_err(|e| e.to_string())?;
    let mut nodes: HashMap<String, Vec<ClusterNode>> = HashMap::new();
    for n in store.all_nodes().await.map_err(|e| e.to_string())? {
        nodes.entry(n.cluster_id.clone()).or_default().push(n);
    }
    let vm_ids: Vec<String> = nodes
        .values()
        .flatten()
        .filter_map(|n| n.vm_id.clone())
        .collect();
    let vm_states: HashMap<String, VmState> = state
        .cloud
        .vm_states(&vm_ids)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    let mut report = CycleReport {
        clusters: clusters.len(),
        ..Default::default()
    };
    let managed: Vec<&ClusterRecord> = clusters
        .iter()
        .filter(|c| c.cluster_type == ClusterType::CloudManaged)
        .collect();
    let empty = Vec::new();
    for c in &managed {
        let unmade = nodes.get(&c.id).unwrap_or(&empty).iter().any(|n| {
            n.vm_id.is_none() && !n.external && n.node_type == cks_core::cluster::NodeType::Worker
        });
        if unmade && SETTLED.contains(&c.state) {
            match store.delete_unmade_workers(&c.id, &SETTLED).await {
                Ok(0) => {}
                Ok(dropped) => {
                    tracing::warn!(cluster = %c.id, dropped, "state scanner dropped workers whose VM was never made");
                    // The size (and cores, memory) shown counts the nodes the cluster has.
                    let recount = async {
                        let left = store.nodes(&c.id).await?;
                        let spec = super::scale::recounted(state, &c.spec, &left).await;
                        store
                            .set_spec_if_settled(&c.id, &spec, &SETTLED, c.job_id.as_deref())
                            .await
                    };
                    if let Err(e) = recount.await {
                        tracing::warn!(cluster = %c.id, error = %e, "recounting a repaired cluster failed");
                    }
                }
                Err(e) => {
                    tracing::warn!(cluster = %c.id, error = %e, "dropping workers without a VM failed")
                }
            }
        }
    }
    let checks: Vec<_> = managed
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let nodes: &[ClusterNode] = nodes.get(&c.id).unwrap_or(&empty);
            let c: &ClusterRecord = c;
            let vm_states = &vm_states;
            async move { (i, check(state, c, nodes, vm_states).await) }
        })
        .collect();
    let verdicts: Vec<(usize, Verdict)> = futures::stream::iter(checks)
        .buffer_unordered(64)
        .collect()
        .await;
    for (i, verdict) in verdicts {
        let c = managed[i];
        let moved = match verdict {
            Verdict::Unchanged => false,
            Verdict::Faulty(reason) => {
                transition(state, c, ClusterEvent::FaultsDetected, Some(&reason)).await
            }
            Verdict::Recovered => {
                transition(state, c, ClusterEvent::OperationSucceeded, None).await
            }
            Verdict::AllStopped => state
                .store
                .transition_cluster(&c.id, &[ClusterState::Alert], ClusterState::Stopped)
                .await
                .unwrap_or(false),
        };
        report.transitions += usize::from(moved);
    }
    for c in &managed {
        if c.state.is_transient() && operation_ended(state, c).await {
            if c.state == ClusterState::Destroying {
                report.collected += usize::from(collect(state, c).await);
            } else if transition(
                state,
                c,
                ClusterEvent::OperationFailed,
                Some("The operation ended without finishing"),
            )
            .await
            {
                report.transitions += 1;
            }
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

async fn check(
    state: &AppState,
    c: &ClusterRecord,
    nodes: &[ClusterNode],
    vm_states: &HashMap<String, VmState>,
) -> Verdict {
    if !matches!(
        c.state,
        ClusterState::Running | ClusterState::Alert | ClusterState::Stopped
    ) {
        return Verdict::Unchanged;
    }
    let states: Vec<VmState> = nodes
        .iter()
        .filter_map(|n| n.vm_id.as_ref())
        .filter_map(|id| vm_states.get(id).copied())
        .collect();
    let all_running = !states.is_empty() && states.iter().all(|s| *s == VmState::Running);
    let etcd = nodes
        .iter()
        .filter(|n| n.node_type == cks_core::cluster::NodeType::Etcd)
        .count();
    let ready_nodes = match c.state {
        ClusterState::Stopped => None,
        _ if !all_running => None,
        ClusterState::Running => {
            // Another process holding the endpoint's address accepts connections all the same.
            if let Some(conflict) = endpoint_conflict(state, c) {
                return Verdict::Faulty(conflict);
            }
            probe(c).await.then_some(c.spec.total_nodes())
        }
        _ => ready_count(state, c, nodes).await.map(|n| n + etcd),
    };
    scan(
        c.state,
        &Observation {
            expected_nodes: c.spec.total_nodes(),
            vm_states: states,
            ready_nodes,
        },
    )
}

/// Does the API endpoint accept connections?
async fn probe(c: &ClusterRecord) -> bool {
    let Some(ip) = c.spec.endpoint_ip.as_deref() else {
        return false;
    };
    let addr = format!("{ip}:{}", cks_core::cluster::API_PORT);
    matches!(
        tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// Ready Kubernetes nodes of the cluster, as its API reports them.
async fn ready_count(state: &AppState, c: &ClusterRecord, nodes: &[ClusterNode]) -> Option<usize> {
    // The cycle's list has no secrets; the full row has the cluster's credentials.
    let full = state.store.cluster(&c.id).await.ok()??;
    let client = client_for(state, &full).ok()?;
    let seen = client.nodes().await.ok()?;
    Some(
        seen.iter()
            .filter(|n| n.ready && nodes.iter().any(|m| m.name == n.name))
            .count(),
    )
}

/// Applies the scanner's event, unless something else moved the cluster meanwhile.
async fn transition(
    state: &AppState,
    c: &ClusterRecord,
    event: ClusterEvent,
    reason: Option<&str>,
) -> bool {
    let Some(next) = c.state.on(event) else {
        return false;
    };
    let moved = state
        .store
        .transition_cluster(&c.id, &[c.state], next)
        .await
        .unwrap_or(false);
    if moved {
        tracing::info!(cluster = %c.id, from = %c.state, to = %next, reason = reason.unwrap_or(""), "state scanner");
        let _ = state.store.set_cluster_progress(&c.id, None, reason).await;
    }
    moved
}

/// Is the job that drove this transient cluster over (or gone)?
async fn operation_ended(state: &AppState, c: &ClusterRecord) -> bool {
    match &c.job_id {
        None => true,
        Some(id) => match state.store.job(id).await {
            Ok(Some(job)) => job.status != JobStatus::Pending,
            Ok(None) => true,
            Err(_) => false,
        },
    }
}

/// Runs an interrupted delete again as a new job.
async fn collect(state: &AppState, c: &ClusterRecord) -> bool {
    let job = NewJob {
        id: new_id(),
        command: "deleteKubernetesCluster".into(),
        // The class CloudStack reports, from the one declaration of the command.
        cmd_class: cks_api::commands::find("deleteKubernetesCluster")
            .map(|c| c.java_class.to_string())
            .unwrap_or_default(),
        user_id: "system".into(),
        account_id: c.owner.account_id.clone(),
        domain_id: c.owner.domain_id.clone(),
        params: serde_json::json!({ "id": c.id }).to_string(),
        instance_type: Some("KubernetesCluster".into()),
        instance_id: Some(c.id.clone()),
    };
    let begun = state
        .store
        .begin_operation(
            &c.id,
            &[ClusterState::Destroying],
            ClusterState::Destroying,
            "delete",
            &job,
        )
        .await
        .unwrap_or(false);
    if begun {
        tracing::info!(cluster = %c.id, job = %job.id, "garbage collector resumes an unfinished delete");
        state.jobs_queued.notify_one();
    }
    begun
}
