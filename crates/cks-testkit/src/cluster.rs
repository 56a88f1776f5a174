//! Kubernetes clusters through the API, as cluster tests drive them: submitting a create with
//! the catalog's ids, running a job to its end, reading a cluster, waiting for a state or a step,
//! the leak check and the VM count, and [`RunningCluster`], a cluster booted and Running with
//! its kubeconfig.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::catalog::{Catalog, wait_for_step};
use crate::client::{Client, inner};

/// Submits a `createKubernetesCluster` (which must be accepted) and returns (cluster id, job id).
pub async fn submit_create(c: &Client, params: &[(&str, &str)]) -> (String, String) {
    let (status, body) = c.call("createKubernetesCluster", params).await;
    assert_eq!(status, 200, "createKubernetesCluster: {body}");
    let r = inner(&body, "createKubernetesCluster");
    (
        r["id"].as_str().unwrap().to_string(),
        r["jobid"].as_str().unwrap().to_string(),
    )
}

/// Creates a cluster named `name` on `version` with the catalog's zone and `CKS Node` offering,
/// one worker and a 10 GB root disk (`extra` is appended), and waits until its job ends;
/// returns the job.
pub async fn create(
    c: &Client,
    cat: &Catalog,
    name: &str,
    version: &str,
    extra: &[(&str, &str)],
) -> Value {
    let mut params = default_params(cat, name, version);
    params.extend_from_slice(extra);
    let (_, job) = submit_create(c, &params).await;
    c.wait_job(&job).await
}

/// A create's parameters by default: the catalog's zone and `CKS Node` offering, one worker, a
/// 10 GB root disk.
fn default_params<'a>(
    cat: &'a Catalog,
    name: &'a str,
    version: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("zoneid", cat.zone.as_str()),
        ("kubernetesversionid", version),
        ("serviceofferingid", cat.node_offering.as_str()),
        ("size", "1"),
        ("noderootdisksize", "10"),
    ]
}

/// The cluster a successful job returned (panics, showing the job, when it failed).
pub fn cluster_of(job: &Value) -> Value {
    assert_eq!(job["jobstatus"], 1, "job failed: {job}");
    job["jobresult"]["kubernetescluster"].clone()
}

/// The cluster `id` as `listKubernetesClusters` shows it (`null` when it is not listed).
pub async fn get(c: &Client, id: &str) -> Value {
    let (status, body) = c.call("listKubernetesClusters", &[("id", id)]).await;
    assert_eq!(status, 200, "{body}");
    body["listkubernetesclustersresponse"]["kubernetescluster"][0].clone()
}

/// Calls an async `command` (which must be accepted) and waits until its job ends; returns the
/// job.
pub async fn run_job(c: &Client, command: &str, params: &[(&str, &str)]) -> Value {
    let (status, body) = c.call(command, params).await;
    assert_eq!(status, 200, "{command}: {body}");
    let job = inner(&body, command)["jobid"].as_str().unwrap().to_string();
    c.wait_job(&job).await
}

/// Waits until the cluster reaches `state` (the scanner works on its own clock); returns it as
/// listed then.
pub async fn wait_state(c: &Client, id: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let cluster = get(c, id).await;
        if cluster["state"] == state {
            return cluster;
        }
        assert!(
            Instant::now() < deadline,
            "cluster never reached {state}: {cluster}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until a create is deploying VMs (realistic timings leave seconds to act in).
pub async fn wait_for_deploy_step(c: &Client, id: &str) {
    wait_for_step(c, id, "a deploy step", |s| s.starts_with("deploy-")).await;
}

/// The kubeconfig of cluster `id` (`getKubernetesClusterConfig`, which must answer).
pub async fn kubeconfig_of(c: &Client, id: &str) -> String {
    let (status, body) = c.call("getKubernetesClusterConfig", &[("id", id)]).await;
    assert_eq!(status, 200, "{body}");
    inner(&body, "getKubernetesClusterConfig")["clusterconfig"]["configdata"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Writes cluster `id`'s kubeconfig to `<dir>/<id>.kubeconfig` and returns the path.
pub async fn kubeconfig(c: &Client, id: &str, dir: &Path) -> PathBuf {
    write_kubeconfig(id, &kubeconfig_of(c, id).await, dir)
}

fn write_kubeconfig(id: &str, config: &str, dir: &Path) -> PathBuf {
    let path = dir.join(format!("{id}.kubeconfig"));
    std::fs::write(&path, config).unwrap();
    path
}

/// Runs the real `kubectl --kubeconfig <config> --request-timeout 10s <args>`, which must
/// succeed; returns what it printed.
pub fn kubectl(config: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(config)
        .args(["--request-timeout", "10s"])
        .args(args)
        .output()
        .expect("kubectl is installed (scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Nothing tagged with a cluster outlives it, and the inventory agrees
/// (`listKubernetesClusterOrphans` counts none).
pub async fn assert_no_leaks(admin: &Client) {
    let (status, body) = admin.call("listKubernetesClusterOrphans", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        inner(&body, "listKubernetesClusterOrphans")["count"]
            .as_i64()
            .unwrap_or(0),
        0,
        "leaked: {body}"
    );
}

/// How many VMs the caller sees with `listall` (the admin: every VM).
pub async fn vm_count(admin: &Client) -> usize {
    let (_, body) = admin
        .call("listVirtualMachines", &[("listall", "true")])
        .await;
    body["listvirtualmachinesresponse"]["virtualmachine"]
        .as_array()
        .map_or(0, Vec::len)
}

/// What [`RunningCluster::boot`] creates: today's defaults of [`create`] (the catalog's older
/// version, `CKS Node`, one worker, one control node, no etcd node, a 10 GB root disk), changed
/// by the builder methods.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    name: String,
    version: Option<String>,
    params: Vec<(String, String)>,
}

impl ClusterOptions {
    /// A cluster named `name` with the defaults.
    pub fn named(name: &str) -> ClusterOptions {
        ClusterOptions {
            name: name.to_string(),
            version: None,
            params: Vec::new(),
        }
    }

    /// On the version with this id (the catalog's `old_version` otherwise).
    pub fn version(mut self, id: &str) -> ClusterOptions {
        self.version = Some(id.to_string());
        self
    }

    /// With `workers` worker nodes (`size`; one otherwise).
    pub fn size(self, workers: u32) -> ClusterOptions {
        self.param("size", &workers.to_string())
    }

    /// With `nodes` control nodes (`controlnodes`: HA behind a load balancer from 2 up).
    pub fn control_nodes(self, nodes: u32) -> ClusterOptions {
        self.param("controlnodes", &nodes.to_string())
    }

    /// With `nodes` dedicated etcd nodes (`etcdnodes`).
    pub fn etcd_nodes(self, nodes: u32) -> ClusterOptions {
        self.param("etcdnodes", &nodes.to_string())
    }

    /// With any other create parameter; a default of the same name is replaced.
    pub fn param(mut self, name: &str, value: &str) -> ClusterOptions {
        self.params.retain(|(k, _)| k != name);
        self.params.push((name.to_string(), value.to_string()));
        self
    }
}

/// A cluster created through the API and Running: what a test that needs one to work on starts
/// from.
#[derive(Debug, Clone)]
pub struct RunningCluster {
    /// The cluster's id.
    pub id: String,
    /// The cluster's name.
    pub name: String,
    /// Its kubeconfig, as `getKubernetesClusterConfig` returned it.
    pub kubeconfig: String,
    /// The cluster as the create job returned it.
    pub json: Value,
}

impl RunningCluster {
    /// Creates the cluster `options` describe as `c`, waits until its create job ends (which
    /// must succeed with the cluster Running) and fetches its kubeconfig.
    pub async fn boot(c: &Client, cat: &Catalog, options: ClusterOptions) -> RunningCluster {
        let version = options
            .version
            .clone()
            .unwrap_or_else(|| cat.old_version.clone());
        let mut params = default_params(cat, &options.name, &version);
        for (name, value) in &options.params {
            params.retain(|(k, _)| k != name);
            params.push((name.as_str(), value.as_str()));
        }
        let (_, job) = submit_create(c, &params).await;
        let json = cluster_of(&c.wait_job(&job).await);
        assert_eq!(json["state"], "Running", "{json}");
        let id = json["id"].as_str().unwrap().to_string();
        RunningCluster {
            kubeconfig: kubeconfig_of(c, &id).await,
            name: options.name,
            id,
            json,
        }
    }

    /// Writes the kubeconfig to `<dir>/<id>.kubeconfig` (for `kubectl --kubeconfig`) and
    /// returns the path.
    pub fn kubeconfig_file(&self, dir: &Path) -> PathBuf {
        write_kubeconfig(&self.id, &self.kubeconfig, dir)
    }
}
