//! Crash-resume: cluster operations survive `kill -9` at any step.
//!
//! Each run prepares a cluster for one operation (create, scale up, scale down, upgrade, stop,
//! start, delete) on an unarmed server, restarts the server with `CKS_CRASH_AT=N` (it SIGKILLs
//! itself at its Nth crash point: around each orchestrator step's journal entries and after
//! every simulator commit), submits the operation, waits for the process to die, restarts it
//! unarmed on the same data (the simulator's inventory is persisted beside the service's) and
//! checks what a user would see once it settled:
//!
//! * every async job finished (jobstatus 1 or 2);
//! * the cluster is where the operation was heading (state, size, version; gone after a delete)
//!   or in Alert/Error with a reason, never in a transient state;
//! * the simulator holds what live clusters own and nothing else: no orphans, a cluster's tagged
//!   VMs are exactly its nodes' VMs, and after the cleanup delete the inventory is empty;
//! * no two VMs share a name, no port is forwarded twice.
//!
//! `CKS_CRASH_RUNS` (default 50) and `CKS_CRASH_SEED` (default random, printed first) replay a
//! failure. Runs on PostgreSQL when `CKS_TEST_DATABASE_URL` is set, like the API tests.

#[path = "api/harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

use harness::{Client, TestServer, inner};
use serde_json::Value;

/// The tag every resource a cluster's operations create carries.
const CLUSTER_TAG: &str = "cks.cluster.id";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Create,
    ScaleUp,
    ScaleDown,
    Upgrade,
    Stop,
    Start,
    Delete,
}

const OPS: [Op; 7] = [
    Op::Create,
    Op::ScaleUp,
    Op::ScaleDown,
    Op::Upgrade,
    Op::Stop,
    Op::Start,
    Op::Delete,
];

impl Op {
    fn command(self) -> &'static str {
        match self {
            Op::Create => "createKubernetesCluster",
            Op::ScaleUp | Op::ScaleDown => "scaleKubernetesCluster",
            Op::Upgrade => "upgradeKubernetesCluster",
            Op::Stop => "stopKubernetesCluster",
            Op::Start => "startKubernetesCluster",
            Op::Delete => "deleteKubernetesCluster",
        }
    }

    /// Where a run may crash: 1 to this. About an eighth more than the points the operation
    /// passes on a 1-control cluster with the instant simulator (create 59, scale up 32, scale
    /// down 17, upgrade 25, stop 8, start 14, delete 16), so a few runs finish unharmed.
    fn points(self) -> u64 {
        match self {
            Op::Create => 66,
            Op::ScaleUp => 36,
            Op::ScaleDown => 19,
            Op::Upgrade => 28,
            Op::Stop => 9,
            Op::Start => 16,
            Op::Delete => 18,
        }
    }

    /// Workers the cluster has before the operation.
    fn workers_before(self) -> u32 {
        if self == Op::ScaleDown { 2 } else { 1 }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Op::Create => "create",
            Op::ScaleUp => "scale-up",
            Op::ScaleDown => "scale-down",
            Op::Upgrade => "upgrade",
            Op::Stop => "stop",
            Op::Start => "start",
            Op::Delete => "delete",
        };
        f.write_str(name)
    }
}

/// SplitMix64: small, seedable, the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Catalog {
    zone: String,
    old_version: String,
    new_version: String,
    offering: String,
}

/// What one run ended with.
#[derive(Default)]
struct Verdict {
    crashed: bool,
    /// Ended in Alert/Error with a reason instead of the target state (allowed, but shown).
    alert: Option<String>,
    stuck: Vec<String>,
    leaked: Vec<String>,
    duplicated: Vec<String>,
}

impl Verdict {
    fn failed(&self) -> bool {
        !(self.stuck.is_empty() && self.leaked.is_empty() && self.duplicated.is_empty())
    }
}

#[tokio::test]
async fn cluster_operations_resume_after_a_kill_at_any_point() {
    let runs: u64 = env_number("CKS_CRASH_RUNS").unwrap_or(50);
    let seed = env_number("CKS_CRASH_SEED").unwrap_or_else(random_seed);
    let backend = if std::env::var("CKS_TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        "postgresql"
    } else {
        "sqlite"
    };
    eprintln!("crash-resume: seed {seed} ({runs} runs on {backend}; CKS_CRASH_SEED={seed} replays)");
    let started = Instant::now();
    let mut rng = Rng(seed);
    let mut srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    // The scanner settles what an operation left behind (its garbage collector finishes
    // deletes); every second, so a run need not wait its default five minutes.
    let (status, body) = admin
        .call(
            "updateConfiguration",
            &[
                ("name", "cloud.kubernetes.cluster.scanner.interval"),
                ("value", "1"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let mut per_op: BTreeMap<Op, (u32, u32)> = BTreeMap::new();
    let (mut stuck, mut leaked, mut duplicated, mut crashed, mut alerts) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for run in 0..runs {
        let op = OPS[rng.below(OPS.len() as u64) as usize];
        let at = 1 + rng.below(op.points());
        let v = one_run(&mut srv, &cat, run, op, at).await;
        let entry = per_op.entry(op).or_default();
        entry.0 += 1;
        entry.1 += u32::from(v.crashed);
        crashed += u32::from(v.crashed);
        stuck += u32::from(!v.stuck.is_empty());
        leaked += u32::from(!v.leaked.is_empty());
        duplicated += u32::from(!v.duplicated.is_empty());
        if let Some(reason) = &v.alert {
            alerts += 1;
            eprintln!("crash-resume: run {run} ({op}, crash at {at}) ended in {reason}");
        }
        if v.failed() {
            let line = format!(
                "run {run} ({op}, crash at {at}): stuck {:?} leaked {:?} duplicated {:?}",
                v.stuck, v.leaked, v.duplicated
            );
            eprintln!("crash-resume: FAILED {line}");
            failures.push(line);
        }
    }
    let ops: Vec<String> = per_op
        .iter()
        .map(|(op, (n, c))| format!("{op} {n} ({c} crashed)"))
        .collect();
    eprintln!(
        "crash-resume: {runs} runs, {stuck} stuck, {leaked} leaked, {duplicated} duplicated; \
         {crashed} crashed, {alerts} ended in Alert/Error; {}; {:.0?}; seed {seed}",
        ops.join(", "),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "seed {seed}:\n{}",
        failures.join("\n")
    );
}

/// One operation, killed at crash point `at`, resumed, checked, then cleaned up.
async fn one_run(srv: &mut TestServer, cat: &Catalog, run: u64, op: Op, at: u64) -> Verdict {
    let mut v = Verdict::default();
    let name = format!("crash-{run}");
    let admin = srv.admin();
    // The precondition, unarmed.
    let id = match op {
        Op::Create => None,
        _ => {
            let workers = op.workers_before().to_string();
            let job = run_job(&admin, "createKubernetesCluster", &create_params(cat, &name, &workers)).await;
            assert_eq!(job["jobstatus"], 1, "precondition create: {job}");
            let id = job["jobresult"]["kubernetescluster"]["id"]
                .as_str()
                .expect("cluster id")
                .to_string();
            if op == Op::Start {
                let job = run_job(&admin, "stopKubernetesCluster", &[("id", &id)]).await;
                assert_eq!(job["jobstatus"], 1, "precondition stop: {job}");
            }
            Some(id)
        }
    };

    // The operation, on a server that kills itself at point `at`.
    srv.restart_with_env(&[("CKS_CRASH_AT", &at.to_string())]);
    let admin = srv.admin();
    let submitted = submit(&admin, cat, op, &name, id.as_deref()).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if srv.has_exited() {
            v.crashed = true;
            break;
        }
        if let Some(job) = &submitted
            && let Some(j) = try_call(&admin, "queryAsyncJobResult", &[("jobid", job)]).await
            && inner(&j, "queryAsyncJobResult")["jobstatus"] != 0
        {
            break;
        }
        if Instant::now() > deadline {
            v.stuck.push("the armed server neither died nor finished the job in 60 s".into());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Resume, unarmed, and let it settle.
    srv.restart();
    let admin = srv.admin();
    let id = match id {
        Some(id) => Some(id),
        None => cluster_by_name(&admin, &name).await.map(|c| str_of(&c, "id")),
    };
    let cluster = settle(&admin, id.as_deref(), &mut v).await;
    let accepted = match &id {
        Some(id) => operation_accepted(&admin, op, id).await,
        None => false,
    };
    if accepted {
        check_outcome(cat, op, cluster.as_ref(), &mut v);
    }
    check_inventory(&admin, &mut v).await;

    // Clean up: a resumed cluster must also delete without leaving anything.
    if let Some(c) = cluster {
        let job = run_job(&admin, "deleteKubernetesCluster", &[("id", &str_of(&c, "id"))]).await;
        if job["jobstatus"] != 1 {
            v.leaked.push(format!("cleanup delete failed: {job}"));
        }
    }
    let vms = list(&admin, "listVirtualMachines", "virtualmachine").await;
    if !vms.is_empty() {
        v.leaked.push(format!(
            "after the cleanup delete, VMs remain: {:?}",
            vms.iter().map(|vm| str_of(vm, "name")).collect::<Vec<_>>()
        ));
    }
    let networks: Vec<String> = list(&admin, "listNetworks", "network")
        .await
        .iter()
        .filter(|n| tag_of(n).is_some())
        .map(|n| str_of(n, "name"))
        .collect();
    if !networks.is_empty() {
        v.leaked.push(format!("after the cleanup delete, networks remain: {networks:?}"));
    }
    v
}

fn create_params<'a>(cat: &'a Catalog, name: &'a str, workers: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("zoneid", &cat.zone),
        ("kubernetesversionid", &cat.old_version),
        ("serviceofferingid", &cat.offering),
        ("size", workers),
        ("noderootdisksize", "10"),
    ]
}

/// Submits the operation; its job id, or None when the server died before answering.
async fn submit(admin: &Client, cat: &Catalog, op: Op, name: &str, id: Option<&str>) -> Option<String> {
    let id = id.unwrap_or_default();
    let params: Vec<(&str, &str)> = match op {
        Op::Create => create_params(cat, name, "1"),
        Op::ScaleUp => vec![("id", id), ("size", "2")],
        Op::ScaleDown => vec![("id", id), ("size", "1")],
        Op::Upgrade => vec![("id", id), ("kubernetesversionid", &cat.new_version)],
        Op::Stop | Op::Start | Op::Delete => vec![("id", id)],
    };
    let body = try_call(admin, op.command(), &params).await?;
    let job = inner(&body, op.command())["jobid"].as_str().map(str::to_string);
    assert!(job.is_some(), "{}: {body}", op.command());
    job
}

/// Did the server take the operation (it may have died before answering)? The cluster's newest
/// job is of its command (the class names it: `...ScaleKubernetesClusterCmd`).
async fn operation_accepted(admin: &Client, op: Op, cluster_id: &str) -> bool {
    let jobs = list_with(admin, "listAsyncJobs", "asyncjobs", &[("resourceid", cluster_id)]).await;
    let command = op.command().to_lowercase();
    jobs.first()
        .and_then(|j| j["cmd"].as_str())
        .is_some_and(|c| c.to_lowercase().contains(&command))
}

/// Waits until no job is pending and the cluster is in no transient state (or gone).
/// Returns the live cluster.
async fn settle(admin: &Client, id: Option<&str>, v: &mut Verdict) -> Option<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pending: Vec<String> = list(admin, "listAsyncJobs", "asyncjobs")
            .await
            .iter()
            .filter(|j| j["jobstatus"] == 0)
            .map(|j| format!("{} {}", str_of(j, "cmd"), str_of(j, "jobid")))
            .collect();
        let cluster = match id {
            Some(id) => cluster_by_id(admin, id).await,
            None => None,
        };
        let state = cluster.as_ref().map(|c| str_of(c, "state"));
        let transient = state.as_deref().is_some_and(|s| {
            matches!(
                s,
                "Starting" | "Stopping" | "Scaling" | "ScalingStoppedCluster" | "Upgrading"
                    | "Importing" | "RemovingNodes" | "Recovering" | "Destroying"
            )
        });
        if pending.is_empty() && !transient {
            return cluster;
        }
        if Instant::now() > deadline {
            if !pending.is_empty() {
                v.stuck.push(format!("jobs still pending after 60 s: {pending:?}"));
            }
            if let Some(c) = cluster.as_ref().filter(|_| transient) {
                v.stuck.push(format!(
                    "cluster still {} after 60 s (step {}, lasterror {})",
                    str_of(c, "state"),
                    c["step"],
                    c["lasterror"]
                ));
            }
            return cluster;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The cluster is where the operation was heading, or in Alert/Error with a reason.
fn check_outcome(cat: &Catalog, op: Op, cluster: Option<&Value>, v: &mut Verdict) {
    let Some(c) = cluster else {
        if op != Op::Delete {
            v.stuck.push(format!("the cluster vanished during {op}"));
        }
        return;
    };
    let state = str_of(c, "state");
    let reason = c["lasterror"].as_str().unwrap_or_default();
    if matches!(state.as_str(), "Alert" | "Error") {
        if reason.is_empty() {
            v.stuck.push(format!("{state} without a reason"));
        } else {
            v.alert = Some(format!("{state}: {reason}"));
        }
        return;
    }
    let vm_states: Vec<String> = c["virtualmachines"]
        .as_array()
        .map(|vms| vms.iter().map(|vm| str_of(vm, "state")).collect())
        .unwrap_or_default();
    let nodes = c["controlnodes"].as_u64().unwrap_or(0) + c["size"].as_u64().unwrap_or(0);
    let wrong = match op {
        Op::Delete => Some(format!("still there after a delete: {state}")),
        Op::Stop if state != "Stopped" => Some(format!("{state} after a stop")),
        Op::Stop => vm_states
            .iter()
            .any(|s| s != "Stopped")
            .then(|| format!("stopped, but VMs are {vm_states:?}")),
        _ if state != "Running" => Some(format!("{state} after {op}")),
        Op::ScaleUp if c["size"] != 2 => Some(format!("size {} after a scale to 2", c["size"])),
        Op::ScaleDown if c["size"] != 1 => Some(format!("size {} after a scale to 1", c["size"])),
        Op::Upgrade if c["kubernetesversionid"] != cat.new_version.as_str() => {
            Some("an upgraded cluster still has its old version".to_string())
        }
        _ => (vm_states.len() as u64 != nodes || vm_states.iter().any(|s| s != "Running")).then(
            || format!("Running with {nodes} nodes, but VMs are {vm_states:?}"),
        ),
    };
    if let Some(w) = wrong {
        v.stuck.push(w);
    }
}

/// The simulator holds what live clusters own: nothing tagged for a gone cluster, a live
/// cluster's tagged VMs are its nodes' VMs, every VM is some cluster's node, names are unique,
/// no port is forwarded twice.
async fn check_inventory(admin: &Client, v: &mut Verdict) {
    let (status, body) = admin.call("listKubernetesClusterOrphans", &[]).await;
    assert_eq!(status, 200, "{body}");
    if inner(&body, "listKubernetesClusterOrphans")["count"].as_i64().unwrap_or(0) > 0 {
        v.leaked.push(format!("orphans: {body}"));
    }
    let clusters = list(admin, "listKubernetesClusters", "kubernetescluster").await;
    let vms = list(admin, "listVirtualMachines", "virtualmachine").await;
    let mut owned: BTreeSet<String> = BTreeSet::new();
    for c in &clusters {
        let id = str_of(c, "id");
        let nodes: BTreeSet<String> = c["virtualmachines"]
            .as_array()
            .map(|vms| vms.iter().map(|vm| str_of(vm, "id")).collect())
            .unwrap_or_default();
        let tagged: BTreeSet<String> = vms
            .iter()
            .filter(|vm| tag_of(vm).as_deref() == Some(id.as_str()))
            .map(|vm| str_of(vm, "id"))
            .collect();
        if nodes != tagged {
            v.leaked.push(format!(
                "cluster {}: node VMs {nodes:?}, VMs tagged with it {tagged:?}",
                str_of(c, "name")
            ));
        }
        owned.extend(nodes);
        if let Some(ip) = c["ipaddressid"].as_str() {
            let rules = list_with(
                admin,
                "listPortForwardingRules",
                "portforwardingrule",
                &[("ipaddressid", ip)],
            )
            .await;
            let mut ports = BTreeSet::new();
            for r in &rules {
                if !ports.insert(str_of(r, "publicport")) {
                    v.duplicated.push(format!(
                        "cluster {}: public port {} forwarded twice",
                        str_of(c, "name"),
                        str_of(r, "publicport")
                    ));
                }
            }
        }
    }
    for vm in &vms {
        if !owned.contains(&str_of(vm, "id")) {
            v.leaked.push(format!(
                "VM {} ({}) belongs to no live cluster's nodes",
                str_of(vm, "name"),
                str_of(vm, "state")
            ));
        }
    }
    let mut names = BTreeSet::new();
    for vm in &vms {
        let name = str_of(vm, "name");
        if !names.insert(name.clone()) {
            v.duplicated.push(format!("two VMs named {name}"));
        }
    }
}

async fn catalog(c: &Client) -> Catalog {
    let deadline = Instant::now() + Duration::from_secs(30);
    let versions = loop {
        let versions =
            list(c, "listKubernetesSupportedVersions", "kubernetessupportedversion").await;
        if !versions.is_empty() && versions.iter().all(|v| v["isostate"] == "Ready") {
            break versions;
        }
        assert!(Instant::now() < deadline, "ISOs never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let version = |semver: &str| {
        versions
            .iter()
            .find(|v| v["semanticversion"] == semver)
            .map(|v| str_of(v, "id"))
            .unwrap_or_else(|| panic!("version {semver} in the seed"))
    };
    let zone = list(c, "listZones", "zone")
        .await
        .first()
        .map(|z| str_of(z, "id"))
        .expect("a zone");
    let offering = list(c, "listServiceOfferings", "serviceoffering")
        .await
        .iter()
        .find(|o| o["name"] == "CKS Node")
        .map(|o| str_of(o, "id"))
        .expect("the CKS Node offering");
    Catalog {
        zone,
        old_version: version("1.32.4"),
        new_version: version("1.33.1"),
        offering,
    }
}

/// Calls and waits for the job; the job as `queryAsyncJobResult` shows it.
async fn run_job(c: &Client, command: &str, params: &[(&str, &str)]) -> Value {
    let (status, body) = c.call(command, params).await;
    assert_eq!(status, 200, "{command}: {body}");
    let job = inner(&body, command)["jobid"]
        .as_str()
        .unwrap_or_else(|| panic!("{command}: no jobid in {body}"))
        .to_string();
    c.wait_job(&job).await
}

/// A call to a server that may die meanwhile: None on a connection error.
async fn try_call(c: &Client, command: &str, params: &[(&str, &str)]) -> Option<Value> {
    let query = c.signed_query(command, params);
    let res = reqwest::Client::new()
        .get(format!("{}?{query}", c.url))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    res.json().await.ok()
}

async fn list(c: &Client, command: &str, key: &str) -> Vec<Value> {
    list_with(c, command, key, &[]).await
}

async fn list_with(c: &Client, command: &str, key: &str, extra: &[(&str, &str)]) -> Vec<Value> {
    let mut params = vec![("listall", "true")];
    params.extend_from_slice(extra);
    let (status, body) = c.call(command, &params).await;
    assert_eq!(status, 200, "{command}: {body}");
    inner(&body, command)[key].as_array().cloned().unwrap_or_default()
}

async fn cluster_by_id(c: &Client, id: &str) -> Option<Value> {
    list_with(c, "listKubernetesClusters", "kubernetescluster", &[("id", id)])
        .await
        .into_iter()
        .next()
}

async fn cluster_by_name(c: &Client, name: &str) -> Option<Value> {
    list(c, "listKubernetesClusters", "kubernetescluster")
        .await
        .into_iter()
        .find(|k| k["name"] == name)
}

/// The cluster a resource is tagged with.
fn tag_of(resource: &Value) -> Option<String> {
    resource["tags"]
        .as_array()?
        .iter()
        .find(|t| t["key"] == CLUSTER_TAG)
        .map(|t| str_of(t, "value"))
}

fn str_of(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.trim().parse().ok()
}

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}
