//! The lifecycle benchmark: many clusters (1 control + 3 workers each) created through the API
//! by concurrent clients on a simulator with zero latency; clusters/s to Running, p99
//! create-to-Running, the state scanner's cycle time, and the process's peak RSS.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use cks_client::{Client, Credentials, Polling};

/// The default seed with hosts large enough for tens of thousands of nodes, and VXLAN-sized
/// guest network tags (a VLAN range holds only ~4,000 isolated networks).
fn roomy_seed() -> String {
    let seed = format!(
        "{}\n[network]\nvnet_first = 100\nvnet_last = 100000\n",
        cks_sim::config::DEFAULT_SEED
    );
    seed.replace("cpu_cores = 32", "cpu_cores = 100000")
        .replace("memory_gib = 128", "memory_gib = 100000")
}

/// Peak and current resident set size of this process, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) keys: Credentials,
    state: cksd::state::SharedState,
    _dir: tempfile::TempDir,
}

pub(crate) async fn start(database_url: Option<String>) -> anyhow::Result<Server> {
    let dir = tempfile::tempdir()?;
    let seed = dir.path().join("seed.toml");
    std::fs::write(&seed, roomy_seed())?;
    let mut config = cksd::Config::for_test(dir.path());
    config.simulator_seed = Some(seed);
    config.simulator_public_range = Some(("127.30.0.2".parse()?, "127.31.255.254".parse()?));
    if let Some(url) = database_url {
        config.database_url = url;
    }
    println!(
        "database: {}",
        cksd::config::redacted_url(&config.database_url)
    );
    let (state, _) = cksd::open(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let base = format!("http://{}/client/api", listener.local_addr()?);
    tokio::spawn(cksd::serve(listener, state.clone(), std::future::pending()));
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        dir.path().join("root-admin.json"),
    )?)?;
    let keys = Credentials::new(
        doc["apikey"].as_str().context("apikey")?,
        doc["secretkey"].as_str().context("secretkey")?,
    );
    Ok(Server {
        base,
        keys,
        state,
        _dir: dir,
    })
}

impl Server {
    /// A client of its own (its own keep-alive connection), signing with the admin's keys.
    fn client(&self) -> anyhow::Result<Client> {
        // Without expiry, as the load loop's URLs: the server's work per call is the same.
        Ok(Client::new(&self.base, self.keys.clone())?.without_expiry())
    }
}

/// How the clients follow a create: a short fixed delay, as the instant simulator finishes
/// within milliseconds.
const CREATE_POLLING: Polling =
    Polling::every(Duration::from_millis(25), Duration::from_secs(3600));

/// Creates `count` clusters with `clients` concurrent clients; returns create-to-Running times.
async fn create_many(
    s: &Arc<Server>,
    count: usize,
    clients: usize,
    offset: usize,
) -> anyhow::Result<Vec<Duration>> {
    let client = s.client()?;
    let zones = client.call_value::<&str, &str>("listZones", &[]).await?;
    let zone = zones["zone"][0]["id"].as_str().context("zone")?.to_string();
    let versions = client
        .call_value::<&str, &str>("listKubernetesSupportedVersions", &[])
        .await?;
    let version = versions["kubernetessupportedversion"][0]["id"]
        .as_str()
        .context("version")?
        .to_string();
    let offerings = client
        .call_value("listServiceOfferings", &[("name", "CKS Node")])
        .await?;
    let offering = offerings["serviceoffering"][0]["id"]
        .as_str()
        .context("offering")?
        .to_string();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (s, next, zone, version, offering) = (
            s.clone(),
            next.clone(),
            zone.clone(),
            version.clone(),
            offering.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = s.client()?;
            let mut times = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(times);
                }
                let name = format!("bench-{}", offset + i);
                let started = Instant::now();
                let body = client
                    .call_value(
                        "createKubernetesCluster",
                        &[
                            ("name", name.as_str()),
                            ("zoneid", zone.as_str()),
                            ("kubernetesversionid", version.as_str()),
                            ("serviceofferingid", offering.as_str()),
                            ("size", "3"),
                        ],
                    )
                    .await?;
                let job = body["jobid"].as_str().context("jobid")?.to_string();
                client
                    .wait_job(&job, &CREATE_POLLING)
                    .await
                    .with_context(|| format!("create {name} failed"))?;
                times.push(started.elapsed());
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

pub async fn run(
    count: usize,
    scan_count: usize,
    clients: usize,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    // One listener per cluster endpoint.
    cksd::server::raise_open_file_limit();
    let s = Arc::new(start(database_url).await?);
    println!(
        "cks-bench clusters: {count} clusters of 1 control + 3 workers, {clients} clients, instant simulator, {:?}",
        s.state.store.backend()
    );
    // Memory per cluster is the growth after a warm-up tenth, so fixed costs (caches, pools,
    // allocator arenas) do not count as per-cluster. A window of a power-of-two growth (the
    // second half) would hold exactly one doubling of every hash table and overstate it.
    let half = count / 10;
    let started = Instant::now();
    let mut times = create_many(&s, half, clients, 0).await?;
    let (_, rss_half) = rss_kib();
    times.extend(create_many(&s, count - half, clients, half).await?);
    let (_, rss_full) = rss_kib();
    let elapsed = started.elapsed();
    times.sort();
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "create → Running      {:>8.1} clusters/s   p50 {:>7.1} ms   p99 {:>7.1} ms   ({} clusters in {:.1} s)",
        count as f64 / elapsed.as_secs_f64(),
        pct(0.5).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        count,
        elapsed.as_secs_f64()
    );
    let scan = |n: usize| {
        let state = s.state.clone();
        async move {
            let mut best = Duration::MAX;
            for _ in 0..3 {
                let report = cksd::orchestrator::scanner::cycle(&state)
                    .await
                    .map_err(anyhow::Error::msg)?;
                anyhow::ensure!(
                    report.transitions == 0,
                    "the scanner moved healthy clusters: {report:?}"
                );
                best = best.min(report.elapsed);
            }
            println!(
                "scanner cycle         {:>8.1} ms at {n} clusters (best of 3)",
                best.as_secs_f64() * 1000.0
            );
            Ok::<_, anyhow::Error>(())
        }
    };
    scan(count).await?;
    let user_data: usize = s
        .state
        .simulator()
        .context("the benchmark runs on the simulator")?
        .list_vms(|_| true)
        .iter()
        .map(|vm| vm.user_data.as_ref().map_or(0, String::len))
        .sum();
    println!(
        "user data held in memory by the simulator: {:.1} KiB per cluster",
        user_data as f64 / 1024.0 / count.max(1) as f64
    );
    let (peak, _) = rss_kib();
    println!(
        "memory                peak RSS {:.1} MiB; {:.1} KiB per cluster (RSS growth over the last {} clusters; client and server share the process)",
        peak as f64 / 1024.0,
        rss_full.saturating_sub(rss_half) as f64 / (count - half).max(1) as f64,
        count - half
    );
    if scan_count > count {
        let more = scan_count - count;
        let started = Instant::now();
        create_many(&s, more, clients, count).await?;
        let (_, rss_scan) = rss_kib();
        println!(
            "created {more} more clusters in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        scan(scan_count).await?;
        let (peak, _) = rss_kib();
        println!(
            "memory                peak RSS {:.1} MiB; {:.1} KiB per cluster over the last {more}",
            peak as f64 / 1024.0,
            rss_scan.saturating_sub(rss_full) as f64 / more as f64
        );
    }
    Ok(())
}
