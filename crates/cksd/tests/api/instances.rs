//! Several `cksd` on one database are one service (issue 5): any instance answers any call,
//! each job runs once, a killed instance's jobs are taken over by another once their lease
//! runs out and resume from their last finished step, and the simulated cloud is shared.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::RwLock;

use crate::harness::{Catalog, assert_no_leaks, catalog, get, submit_create, vm_count};
use crate::harness::{Client, TestServer, inner};

/// Every cluster's operations in order; 20 clusters × 10 = 200 operations.
const OPERATIONS: [&str; 10] = [
    "create",
    "stop",
    "start",
    "scale-up",
    "scale-down",
    "upgrade",
    "stop",
    "start",
    "scale-up",
    "delete",
];
const CLUSTERS: usize = 20;

/// Where operations go: both instances until the first is killed, then the survivor. The kill
/// waits for submissions to the first to finish, so none is half-sent when it dies.
struct Route {
    first: Client,
    second: Client,
    first_alive: RwLock<bool>,
    submitted: std::sync::atomic::AtomicUsize,
}

impl Route {
    /// Submits `command` on instance `n % 2` (the survivor once the first is dead); returns
    /// the job id and which instance took it.
    async fn submit(&self, n: usize, command: &str, params: &[(&str, &str)]) -> (String, usize) {
        let alive = self.first_alive.read().await;
        let which = if n.is_multiple_of(2) && *alive { 0 } else { 1 };
        let client = if which == 0 {
            &self.first
        } else {
            &self.second
        };
        let (status, body) = client.call(command, params).await;
        assert_eq!(status, 200, "{command}: {body}");
        self.submitted
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let job = inner(&body, command)["jobid"]
            .as_str()
            .expect("jobid")
            .to_string();
        (job, which)
    }
}

/// Waits for a job through the survivor, long enough for a takeover (lease, then the
/// simulator finishing what the dead instance's timers left).
async fn wait(c: &Client, job: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, body) = c.call("queryAsyncJobResult", &[("jobid", job)]).await;
        assert_eq!(status, 200, "{body}");
        let r = body["queryasyncjobresultresponse"].clone();
        if r["jobstatus"] != 0 {
            return r;
        }
        assert!(Instant::now() < deadline, "job {job} still pending: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs one cluster's ten operations in order, alternating instances; returns
/// (operation, instance submitted to, finished job) for each.
async fn lifecycle(route: Arc<Route>, cat: Arc<Catalog>, i: usize) -> Vec<(String, usize, Value)> {
    let name = format!("shared-{i}");
    let mut id = String::new();
    let mut done = Vec::new();
    for (k, op) in OPERATIONS.iter().enumerate() {
        let n = i + k;
        let (job, which) = match *op {
            "create" => {
                let alive = route.first_alive.read().await;
                let c = if n.is_multiple_of(2) && *alive {
                    &route.first
                } else {
                    &route.second
                };
                let (cluster, job) = submit_create(
                    c,
                    &[
                        ("name", &name),
                        ("zoneid", &cat.zone),
                        ("kubernetesversionid", &cat.old_version),
                        ("serviceofferingid", &cat.node_offering),
                        ("size", "1"),
                    ],
                )
                .await;
                route
                    .submitted
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                id = cluster;
                (job, usize::from(!(n.is_multiple_of(2) && *alive)))
            }
            "stop" => {
                route
                    .submit(n, "stopKubernetesCluster", &[("id", &id)])
                    .await
            }
            "start" => {
                route
                    .submit(n, "startKubernetesCluster", &[("id", &id)])
                    .await
            }
            "scale-up" => {
                route
                    .submit(n, "scaleKubernetesCluster", &[("id", &id), ("size", "2")])
                    .await
            }
            "scale-down" => {
                route
                    .submit(n, "scaleKubernetesCluster", &[("id", &id), ("size", "1")])
                    .await
            }
            "upgrade" => {
                let to = [
                    ("id", id.as_str()),
                    ("kubernetesversionid", cat.new_version.as_str()),
                ];
                route.submit(n, "upgradeKubernetesCluster", &to).await
            }
            _ => {
                route
                    .submit(n, "deleteKubernetesCluster", &[("id", &id)])
                    .await
            }
        };
        let finished = wait(&route.second, &job).await;
        assert_eq!(finished["jobstatus"], 1, "{name} {op} failed: {finished}");
        if *op == "scale-up" {
            // Exactly one new worker, however many instances touched the job.
            let cluster = get(&route.second, &id).await;
            let vms = cluster["virtualmachines"].as_array().map_or(0, Vec::len);
            assert_eq!(vms, 3, "{name} after scale-up: {cluster}");
        }
        done.push((op.to_string(), which, finished));
    }
    done
}

#[tokio::test]
async fn two_instances_run_200_operations_once_even_when_one_is_killed() {
    let lease = ["--job-lease-seconds", "3"];
    let mut first = TestServer::start_with(&lease);
    let second = first.sibling(&lease);
    let cat = Arc::new(catalog(&second.admin()).await);
    let route = Arc::new(Route {
        first: first.admin(),
        second: second.admin(),
        first_alive: RwLock::new(true),
        submitted: Default::default(),
    });
    let tasks: Vec<_> = (0..CLUSTERS)
        .map(|i| tokio::spawn(lifecycle(route.clone(), cat.clone(), i)))
        .collect();

    // Kill the first instance mid-way, with its jobs in flight.
    let deadline = Instant::now() + Duration::from_secs(120);
    while route.submitted.load(std::sync::atomic::Ordering::SeqCst)
        < OPERATIONS.len() * CLUSTERS / 2
    {
        assert!(
            Instant::now() < deadline,
            "operations stalled before the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    {
        let mut alive = route.first_alive.write().await;
        first.kill();
        *alive = false;
    }

    let mut results = Vec::new();
    for t in tasks {
        results.extend(t.await.expect("cluster lifecycle"));
    }
    assert_eq!(results.len(), 200);
    let by_instance: BTreeMap<usize, usize> =
        results
            .iter()
            .fold(BTreeMap::new(), |mut m, (_, which, _)| {
                *m.entry(*which).or_default() += 1;
                m
            });
    assert!(
        by_instance.get(&0).copied().unwrap_or(0) >= 40,
        "both instances took work: {by_instance:?}"
    );
    // Jobs submitted to the first that it had not finished when it died were finished by the
    // second, which says so in `managementserverid`.
    let ids: BTreeMap<usize, Vec<String>> =
        results
            .iter()
            .fold(BTreeMap::new(), |mut m, (_, which, job)| {
                m.entry(*which).or_default().push(
                    job["managementserverid"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
                m
            });
    let second_id = ids[&1][0].clone();
    let taken_over = ids[&0].iter().filter(|id| **id == second_id).count();
    assert!(
        taken_over > 0,
        "some of the first's jobs were taken over: {ids:?}"
    );

    // Nothing left behind, nothing twice.
    let admin = &route.second;
    assert_eq!(vm_count(admin).await, 0, "every VM deleted");
    assert_no_leaks(admin).await;
    let (_, jobs) = admin.call("listAsyncJobs", &[("listall", "true")]).await;
    let jobs = jobs["listasyncjobsresponse"]["asyncjobs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        jobs.iter().all(|j| j["jobstatus"] != 0),
        "every job finished"
    );
}
