//! Crash-resume: cluster operations survive `kill -9` at any step.
//!
//! Each run draws an operation (create, scale up, scale down, upgrade, stop, start, delete), a
//! cluster shape (one control node, three, or one plus an etcd node) and a crash point N. It
//! prepares the cluster on an unarmed server, restarts the server with `CKS_CRASH_AT=N` (it
//! SIGKILLs itself at its Nth crash point: around each orchestrator step's journal entries and
//! after every simulator commit, see `cksd::crash`), submits the operation and waits for the
//! process to die; a third of the runs crash once more while resuming. Then it restarts the
//! server unarmed on the same data (the simulator's inventory is persisted beside the
//! service's), or, in a quarter of the runs, starts another instance on the same database that
//! takes the job over once its lease runs out, waits until it settled and checks what a user
//! would see:
//!
//! * every async job finished (jobstatus 1 or 2);
//! * the cluster is where the operation was heading (state, size, offering, version, its VMs'
//!   states; gone after a delete) or in Alert/Error with a reason, never in a transient state,
//!   and a Running cluster's Kubernetes API shows exactly its nodes, Ready, on its version;
//! * the simulator holds what live clusters own and nothing else: no orphans, a cluster's tagged
//!   VMs are exactly its nodes' VMs, and after the cleanup delete the inventory is empty;
//! * no two VMs share a name, no port is forwarded twice, no more node VMs than nodes.
//!
//! It prints `crash-resume: R runs, X stuck, Y leaked, Z duplicated, ...` and fails unless all
//! are zero. `CKS_CRASH_RUNS` (default 50) and `CKS_CRASH_SEED` (default random, printed first)
//! replay a failure; `CKS_CRASH_OPS` (e.g. `create,scale-down`) narrows the operations. Runs on
//! PostgreSQL when `CKS_TEST_DATABASE_URL` is set, like the API tests.

#![allow(
    clippy::unwrap_used,
    reason = "test code: an unwrap that fails is a failed assertion"
)]

#[path = "api/harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

use harness::{Catalog, Client, TestServer, catalog, inner};
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

/// The cluster an operation runs on: more nodes deploy in parallel, so crashes land between
/// concurrent cloud calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One control node.
    Single,
    /// Three control nodes behind the API load balancer.
    Ha,
    /// One control node and one external etcd node.
    Etcd,
}

impl Shape {
    fn params(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Shape::Single => &[],
            Shape::Ha => &[("controlnodes", "3")],
            Shape::Etcd => &[("etcdnodes", "1")],
        }
    }
}

/// Every instance's flags: a short job lease, so that another instance takes a dead one's job
/// over within seconds.
const INSTANCE_FLAGS: [&str; 3] = ["--instant-simulator", "--job-lease-seconds", "3"];

/// What one run does, all drawn from the seeded generator.
#[derive(Debug, Clone, Copy)]
struct Plan {
    op: Op,
    shape: Shape,
    /// A scale up also moves the cluster to a larger offering (the `scale-offerings` step).
    new_offering: bool,
    /// The crash point of the operation.
    at: u64,
    /// A second crash point, in the resumed run.
    again_at: Option<u64>,
    /// Another instance on the same database resumes the operation once the dead one's job
    /// lease runs out, instead of the dead one restarting.
    takeover: bool,
}

impl Plan {
    fn draw(rng: &mut Rng, ops: &[Op]) -> Plan {
        let op = ops[rng.below(ops.len() as u64) as usize];
        let shape = match rng.below(4) {
            0 => Shape::Ha,
            1 => Shape::Etcd,
            _ => Shape::Single,
        };
        let new_offering = op == Op::ScaleUp && rng.below(2) == 0;
        let points = points(op, shape, new_offering);
        let at = 1 + rng.below(points);
        let again_at = (rng.below(3) == 0).then(|| 1 + rng.below(points));
        let takeover = rng.below(4) == 0;
        Plan {
            op,
            shape,
            new_offering,
            at,
            again_at,
            takeover,
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of a {:?} cluster", self.op, self.shape)?;
        if self.new_offering {
            f.write_str(" with a larger offering")?;
        }
        write!(f, ", crash at {}", self.at)?;
        if let Some(again) = self.again_at {
            write!(f, ", then at {again} of the resumed run")?;
        }
        if self.takeover {
            f.write_str(", another instance takes over")?;
        }
        Ok(())
    }
}

/// Where a run may crash: 1 to this. About an eighth more than the points the operation passes
/// with the instant simulator (measured for single/HA/etcd clusters), so a few runs finish
/// unharmed.
fn points(op: Op, shape: Shape, new_offering: bool) -> u64 {
    let (single, ha, etcd) = match op {
        Op::Create => (59, 69, 65),
        Op::ScaleUp => (32, 40, 36),
        Op::ScaleDown => (17, 19, 19),
        Op::Upgrade => (25, 42, 27),
        Op::Stop => (8, 12, 10),
        Op::Start => (14, 18, 16),
        Op::Delete => (16, 18, 17),
    };
    let n = match shape {
        Shape::Single => single,
        Shape::Ha => ha,
        Shape::Etcd => etcd,
    } + if new_offering { 6 } else { 0 };
    n + n / 8 + 1
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

/// What one run ended with.
#[derive(Default)]
struct Verdict {
    /// How many times the armed server killed itself (0 to 2).
    crashes: u32,
    /// Ended in Alert/Error with a reason instead of the target state (allowed, but shown).
    alert: Option<String>,
    stuck: Vec<String>,
    leaked: Vec<String>,
    duplicated: Vec<String>,
    /// The run could not be set up or cleaned up.
    other: Vec<String>,
    /// From the unarmed start (restart or takeover) until no job was pending and the cluster
    /// in no transient state: how long the faults a crash left took to be detected and settled.
    settled_in: Duration,
}

impl Verdict {
    fn failed(&self) -> bool {
        !(self.stuck.is_empty()
            && self.leaked.is_empty()
            && self.duplicated.is_empty()
            && self.other.is_empty())
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
    eprintln!(
        "crash-resume: seed {seed} ({runs} runs on {backend}; CKS_CRASH_SEED={seed} replays)"
    );
    // `CKS_CRASH_OPS=create,scale-up` narrows the runs to some operations.
    let ops: Vec<Op> = match std::env::var("CKS_CRASH_OPS") {
        Ok(names) => OPS
            .into_iter()
            .filter(|op| names.split(',').any(|n| n.trim() == op.to_string()))
            .collect(),
        Err(_) => OPS.to_vec(),
    };
    assert!(!ops.is_empty(), "CKS_CRASH_OPS names none of {OPS:?}");
    let started = Instant::now();
    let mut rng = Rng(seed);
    let mut srv = TestServer::start_with(&INSTANCE_FLAGS);
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
    let (mut stuck, mut leaked, mut duplicated, mut other) = (0, 0, 0, 0);
    let (mut crashes, mut alerts, mut takeovers) = (0, 0, 0);
    let mut failures = Vec::new();
    // (how long, run), for restarts and for takeovers (which wait for the job lease to run out).
    let mut settle_times: [Vec<(Duration, u64)>; 2] = Default::default();
    for run in 0..runs {
        let plan = Plan::draw(&mut rng, &ops);
        let v = one_run(&mut srv, &cat, run, plan).await;
        settle_times[usize::from(plan.takeover)].push((v.settled_in, run));
        let entry = per_op.entry(plan.op).or_default();
        entry.0 += 1;
        entry.1 += u32::from(v.crashes > 0);
        crashes += v.crashes;
        takeovers += u32::from(plan.takeover);
        stuck += u32::from(!v.stuck.is_empty());
        leaked += u32::from(!v.leaked.is_empty());
        duplicated += u32::from(!v.duplicated.is_empty());
        other += u32::from(!v.other.is_empty());
        if let Some(reason) = &v.alert {
            alerts += 1;
            eprintln!("crash-resume: run {run} ({plan}) ended in {reason}");
        }
        if v.failed() {
            let line = format!(
                "run {run} ({plan}): stuck {:?} leaked {:?} duplicated {:?} other {:?}",
                v.stuck, v.leaked, v.duplicated, v.other
            );
            eprintln!("crash-resume: FAILED {line}");
            failures.push(line);
        }
    }
    let settled: Vec<String> = settle_times
        .iter_mut()
        .zip(["restart", "takeover"])
        .filter_map(|(times, how)| {
            times.sort();
            let (p50, _) = times.get(times.len() / 2)?;
            let (max, slowest) = times.last()?;
            Some(format!(
                "settled after a {how} in {p50:.1?} (p50), {max:.1?} (max, run {slowest})"
            ))
        })
        .collect();
    let settled = settled.join(", ");
    let ops: Vec<String> = per_op
        .iter()
        .map(|(op, (n, c))| format!("{op} {n} ({c} crashed)"))
        .collect();
    eprintln!(
        "crash-resume: {runs} runs, {stuck} stuck, {leaked} leaked, {duplicated} duplicated, \
         {other} other; {crashes} kills, {takeovers} taken over by another instance, {alerts} \
         ended in Alert/Error; {settled}; {}; {:.0?}; seed {seed}",
        ops.join(", "),
        started.elapsed()
    );
    assert!(failures.is_empty(), "seed {seed}:\n{}", failures.join("\n"));
}

/// One operation, killed at its crash point (and maybe again while resuming), resumed,
/// checked, then deleted.
async fn one_run(srv: &mut TestServer, cat: &Catalog, run: u64, plan: Plan) -> Verdict {
    let mut v = Verdict::default();
    let name = format!("crash-{run}");
    let op = plan.op;
    // The precondition, unarmed.
    let id = match op {
        Op::Create => None,
        _ => match prepare(&srv.admin(), cat, &name, plan).await {
            Ok(id) => Some(id),
            Err(e) => {
                v.other.push(format!("precondition: {e}"));
                return v;
            }
        },
    };

    // The operation, on a server that kills itself at point `at`.
    srv.restart_with_env(&[("CKS_CRASH_AT", &plan.at.to_string())]);
    let admin = srv.admin();
    let params = op_params(cat, &name, id.as_deref(), plan);
    // None when the server died before answering; the checks below find out whether it took it.
    if let Some(body) = try_call(&admin, op.command(), &params).await
        && inner(&body, op.command())["jobid"].is_null()
    {
        v.other.push(format!("{}: {body}", op.command()));
        srv.restart();
        return v;
    }
    if until_dead_or_idle(srv, &mut v).await
        && let Some(again) = plan.again_at
    {
        srv.restart_with_env(&[("CKS_CRASH_AT", &again.to_string())]);
        until_dead_or_idle(srv, &mut v).await;
    }

    // Resume, unarmed, and let it settle: the same instance restarted, or another one.
    let resumed = Instant::now();
    let sibling = if plan.takeover {
        srv.kill();
        Some(srv.sibling(&INSTANCE_FLAGS))
    } else {
        srv.restart();
        None
    };
    let admin = sibling.as_ref().unwrap_or(srv).admin();
    let id = match id {
        Some(id) => Some(id),
        None => cluster_by_name(&admin, &name)
            .await
            .map(|c| str_of(&c, "id")),
    };
    let cluster = settle(&admin, id.as_deref(), &mut v).await;
    v.settled_in = resumed.elapsed();
    let accepted = match &id {
        Some(id) => operation_accepted(&admin, op, id).await,
        None => false,
    };
    if accepted {
        check_outcome(cat, plan, cluster.as_ref(), &mut v);
    }
    if let Some(c) = cluster.as_ref().filter(|c| c["state"] == "Running") {
        check_kubernetes(&admin, cat, c, srv.data_dir(), &mut v).await;
    }
    check_inventory(&admin, &mut v).await;

    // Clean up: a resumed cluster must also delete without leaving anything.
    if let Some(c) = cluster {
        match run_job(
            &admin,
            "deleteKubernetesCluster",
            &[("id", &str_of(&c, "id"))],
        )
        .await
        {
            Ok(job) if job["jobstatus"] == 1 => {}
            Ok(job) => v.leaked.push(format!("cleanup delete failed: {job}")),
            Err(e) => v.other.push(format!("cleanup delete: {e}")),
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
        v.leaked.push(format!(
            "after the cleanup delete, networks remain: {networks:?}"
        ));
    }
    if let Some(sibling) = sibling {
        drop(sibling);
        srv.restart();
    }
    v
}

/// The cluster the operation starts from: Running (Stopped for a start). Returns its id.
async fn prepare(admin: &Client, cat: &Catalog, name: &str, plan: Plan) -> Result<String, String> {
    let workers = plan.op.workers_before().to_string();
    let mut params = create_params(cat, name, &workers);
    params.extend_from_slice(plan.shape.params());
    let job = run_job(admin, "createKubernetesCluster", &params).await?;
    if job["jobstatus"] != 1 {
        return Err(format!("create: {job}"));
    }
    let id = str_of(&job["jobresult"]["kubernetescluster"], "id");
    if plan.op == Op::Start {
        let job = run_job(admin, "stopKubernetesCluster", &[("id", &id)]).await?;
        if job["jobstatus"] != 1 {
            return Err(format!("stop: {job}"));
        }
    }
    Ok(id)
}

/// Waits until the armed server killed itself (true) or has no job left to run (false).
async fn until_dead_or_idle(srv: &mut TestServer, v: &mut Verdict) -> bool {
    let admin = srv.admin();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if srv.has_exited() {
            v.crashes += 1;
            return true;
        }
        if let Some(body) = try_call(&admin, "listAsyncJobs", &[("listall", "true")]).await
            && let Some(jobs) = inner(&body, "listAsyncJobs")["asyncjobs"].as_array()
            && jobs.iter().all(|j| j["jobstatus"] != 0)
        {
            return false;
        }
        if Instant::now() > deadline {
            v.stuck
                .push("the armed server neither died nor finished its jobs in 60 s".into());
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn create_params<'a>(cat: &'a Catalog, name: &'a str, workers: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("zoneid", &cat.zone),
        ("kubernetesversionid", &cat.old_version),
        ("serviceofferingid", &cat.node_offering),
        ("size", workers),
        ("noderootdisksize", "10"),
    ]
}

/// The operation's parameters.
fn op_params<'a>(
    cat: &'a Catalog,
    name: &'a str,
    id: Option<&'a str>,
    plan: Plan,
) -> Vec<(&'a str, &'a str)> {
    let id = id.unwrap_or_default();
    match plan.op {
        Op::Create => {
            let mut p = create_params(cat, name, "1");
            p.extend_from_slice(plan.shape.params());
            p
        }
        Op::ScaleUp if plan.new_offering => vec![
            ("id", id),
            ("size", "2"),
            ("serviceofferingid", &cat.large_offering),
        ],
        Op::ScaleUp => vec![("id", id), ("size", "2")],
        Op::ScaleDown => vec![("id", id), ("size", "1")],
        Op::Upgrade => vec![("id", id), ("kubernetesversionid", &cat.new_version)],
        Op::Stop | Op::Start | Op::Delete => vec![("id", id)],
    }
}

/// Did the server take the operation (it may have died before answering)? The cluster's newest
/// job is of its command (the class names it: `...ScaleKubernetesClusterCmd`).
async fn operation_accepted(admin: &Client, op: Op, cluster_id: &str) -> bool {
    let jobs = list_with(
        admin,
        "listAsyncJobs",
        "asyncjobs",
        &[("resourceid", cluster_id)],
    )
    .await;
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
                "Starting"
                    | "Stopping"
                    | "Scaling"
                    | "ScalingStoppedCluster"
                    | "Upgrading"
                    | "Importing"
                    | "RemovingNodes"
                    | "Recovering"
                    | "Destroying"
            )
        });
        if pending.is_empty() && !transient {
            return cluster;
        }
        if Instant::now() > deadline {
            if !pending.is_empty() {
                v.stuck
                    .push(format!("jobs still pending after 60 s: {pending:?}"));
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
fn check_outcome(cat: &Catalog, plan: Plan, cluster: Option<&Value>, v: &mut Verdict) {
    let op = plan.op;
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
    let count = |key: &str| c[key].as_u64().unwrap_or(0);
    let nodes = count("controlnodes") + count("size") + count("etcdnodes");
    let vm_state = if op == Op::Stop { "Stopped" } else { "Running" };
    let wrong = match op {
        Op::Delete => Some(format!("still there after a delete: {state}")),
        Op::Stop if state != "Stopped" => Some(format!("{state} after a stop")),
        Op::Stop => None,
        _ if state != "Running" => Some(format!("{state} after {op}")),
        Op::ScaleUp if c["size"] != 2 => Some(format!("size {} after a scale to 2", c["size"])),
        Op::ScaleUp
            if plan.new_offering && c["serviceofferingid"] != cat.large_offering.as_str() =>
        {
            Some("a scaled cluster kept its old offering".to_string())
        }
        Op::ScaleDown if c["size"] != 1 => Some(format!("size {} after a scale to 1", c["size"])),
        Op::Upgrade if c["kubernetesversionid"] != cat.new_version.as_str() => {
            Some("an upgraded cluster still has its old version".to_string())
        }
        _ => None,
    }
    .or_else(|| {
        (vm_states.len() as u64 != nodes || vm_states.iter().any(|s| s != vm_state))
            .then(|| format!("{state} with {nodes} nodes, but its VMs are {vm_states:?}"))
    });
    match wrong {
        // More node VMs than the cluster counts: a resumed step made them again.
        Some(w) if vm_states.len() as u64 > nodes => v.duplicated.push(w),
        Some(w) => v.stuck.push(w),
        None => {}
    }
}

/// A Running cluster's Kubernetes API shows its nodes and no others, every one Ready on the
/// cluster's version (what `kubectl get nodes` shows its user).
async fn check_kubernetes(
    admin: &Client,
    cat: &Catalog,
    c: &Value,
    dir: &std::path::Path,
    v: &mut Verdict,
) {
    let name = str_of(c, "name");
    let (status, body) = admin
        .call("getKubernetesClusterConfig", &[("id", &str_of(c, "id"))])
        .await;
    let config = inner(&body, "getKubernetesClusterConfig")["clusterconfig"]["configdata"].as_str();
    let Some(config) = config.filter(|_| status == 200) else {
        v.stuck
            .push(format!("Running cluster {name} has no kubeconfig: {body}"));
        return;
    };
    let path = dir.join(format!("{name}.kubeconfig"));
    if let Err(e) = std::fs::write(&path, config) {
        v.other.push(format!("writing {}: {e}", path.display()));
        return;
    }
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&path)
        .args(["--request-timeout", "10s", "get", "nodes", "-o", "json"])
        .output();
    let nodes: Value = match out {
        Ok(out) if out.status.success() => serde_json::from_slice(&out.stdout).unwrap_or_default(),
        Ok(out) => {
            v.stuck.push(format!(
                "kubectl get nodes on Running cluster {name}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            return;
        }
        Err(e) => {
            v.other
                .push(format!("kubectl (scripts/install-test-deps.sh): {e}"));
            return;
        }
    };
    let version = if c["kubernetesversionid"] == cat.new_version.as_str() {
        "v1.33.1"
    } else {
        "v1.32.4"
    };
    let wanted: BTreeSet<String> = c["virtualmachines"]
        .as_array()
        .map(|vms| {
            vms.iter()
                .filter(|vm| vm["isetcdnode"] != true)
                .map(|vm| str_of(vm, "name"))
                .collect()
        })
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    for n in nodes["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let node = str_of(&n["metadata"], "name");
        let ready = n["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        });
        let kubelet = str_of(&n["status"]["nodeInfo"], "kubeletVersion");
        if !ready || kubelet != version || n["spec"]["unschedulable"] == true {
            v.stuck.push(format!(
                "cluster {name}: Kubernetes node {node} ready {ready}, kubelet {kubelet} \
                 (wanted {version}), unschedulable {}",
                n["spec"]["unschedulable"]
            ));
        }
        seen.insert(node);
    }
    if seen != wanted {
        v.stuck.push(format!(
            "cluster {name}: Kubernetes nodes {seen:?}, node VMs {wanted:?}"
        ));
    }
}

/// The simulator holds what live clusters own: nothing tagged for a gone cluster, a live
/// cluster's tagged VMs are its nodes' VMs, every VM is some cluster's node, names are unique,
/// no port is forwarded twice.
async fn check_inventory(admin: &Client, v: &mut Verdict) {
    let (status, body) = admin.call("listKubernetesClusterOrphans", &[]).await;
    assert_eq!(status, 200, "{body}");
    if inner(&body, "listKubernetesClusterOrphans")["count"]
        .as_i64()
        .unwrap_or(0)
        > 0
    {
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

/// Calls and waits for the job; the job as `queryAsyncJobResult` shows it.
async fn run_job(c: &Client, command: &str, params: &[(&str, &str)]) -> Result<Value, String> {
    let (status, body) = c.call(command, params).await;
    let job = inner(&body, command)["jobid"].as_str();
    match job {
        Some(job) if status == 200 => Ok(c.wait_job(job).await),
        _ => Err(format!("{command}: {status} {body}")),
    }
}

/// A call to a server that may die meanwhile: None on a connection error.
async fn try_call(c: &Client, command: &str, params: &[(&str, &str)]) -> Option<Value> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .ok()?;
    let client = cks_client::Client::with_http(&c.url, c.keys.clone(), http).without_expiry();
    client
        .send(&client.request(command, params))
        .await
        .ok()?
        .json()
}

async fn list(c: &Client, command: &str, key: &str) -> Vec<Value> {
    list_with(c, command, key, &[]).await
}

async fn list_with(c: &Client, command: &str, key: &str, extra: &[(&str, &str)]) -> Vec<Value> {
    let mut params = vec![("listall", "true")];
    params.extend_from_slice(extra);
    let (status, body) = c.call(command, &params).await;
    assert_eq!(status, 200, "{command}: {body}");
    inner(&body, command)[key]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn cluster_by_id(c: &Client, id: &str) -> Option<Value> {
    list_with(
        c,
        "listKubernetesClusters",
        "kubernetescluster",
        &[("id", id)],
    )
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
