//! `cks-bench`: drives a real `cksd` (in this process, on a loopback port, SQLite in a temporary
//! directory) with signed requests from concurrent clients and prints requests/s and latency.
//!
//! Run it optimised: `cargo run --release -p cks-bench -- --seconds 10 --clients 32`; `--clusters`
//! and `--attack` select the other benchmarks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cks_client::Credentials;
use cks_client::request::signed_url;
use clap::Parser;

mod attack;
mod clusters;

/// As in `cksd`'s binary, so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    /// Seconds per scenario.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients, each with its own keep-alive connection.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Versions in the catalog, so a page of 50 is full.
    #[arg(long, default_value_t = 60)]
    versions: usize,
    /// Run the cluster lifecycle benchmark with this many clusters instead of the API one.
    #[arg(long)]
    clusters: Option<usize>,
    /// With `--clusters`: grow to this many clusters and time the state scanner again.
    #[arg(long, default_value_t = 0)]
    scan_clusters: usize,
    /// Run the denial-of-service benchmark instead: listZones latency under attacks by clients
    /// without credentials.
    #[arg(long)]
    attack: bool,
    /// The server's database (`postgres://...` for the PostgreSQL figures); default SQLite in a
    /// temporary directory. It should be empty: the benchmark seeds it.
    #[arg(long, env = "CKS_DATABASE_URL")]
    database_url: Option<String>,
}

/// What `clients` keep-alive clients got from one GET repeated for `seconds`.
struct Load {
    /// Latencies of the successful requests, sorted.
    latencies: Vec<Duration>,
    errors: u64,
    seconds: u64,
}

impl Load {
    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.seconds as f64
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        let n = self.latencies.len();
        self.latencies
            .get(((n as f64 * p) as usize).min(n.saturating_sub(1)))
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0
    }
}

async fn get_load(url: Arc<String>, clients: usize, seconds: u64) -> anyhow::Result<Load> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let start = Instant::now();
                match http.get(url.as_str()).send().await {
                    Ok(res) if res.status().is_success() => {
                        let _ = res.bytes().await;
                        latencies.push(start.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut load = Load {
        latencies: Vec::new(),
        errors: 0,
        seconds,
    };
    for t in tasks {
        let (l, e) = t.await?;
        load.latencies.extend(l);
        load.errors += e;
    }
    load.latencies.sort();
    Ok(load)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    if args.attack {
        return attack::run(args.seconds, args.clients, args.database_url).await;
    }
    if let Some(count) = args.clusters {
        return clusters::run(count, args.scan_clusters, args.clients, args.database_url).await;
    }
    let dir = tempfile::tempdir()?;
    let mut config = cksd::Config::for_test(dir.path());
    config.listen = "127.0.0.1:0".parse()?;
    if let Some(url) = &args.database_url {
        config.database_url = url.clone();
    }
    println!(
        "database: {}",
        cksd::config::redacted_url(&config.database_url)
    );
    let (state, _) = cksd::open(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let base = format!("http://{}/client/api", listener.local_addr()?);
    let backend = state.store.backend();
    tokio::spawn(cksd::serve(listener, state, std::future::pending()));

    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        dir.path().join("root-admin.json"),
    )?)?;
    let keys = Credentials::new(
        doc["apikey"].as_str().context("apikey")?,
        doc["secretkey"].as_str().context("secretkey")?,
    );
    let client = cks_client::Client::new(&base, keys.clone())?.without_expiry();
    for i in 0..args.versions {
        let semver = format!("1.{}.{}", 40 + i / 10, i % 10);
        client
            .call_value(
                "addKubernetesSupportedVersion",
                &[
                    ("semanticversion", semver.as_str()),
                    ("mincpunumber", "2"),
                    ("minmemory", "2048"),
                    ("url", "http://127.0.0.1/cks/bench.iso"),
                ],
            )
            .await
            .with_context(|| format!("adding version {semver}"))?;
    }
    let http = reqwest::Client::new();

    println!(
        "cks-bench: {} clients, {} s per scenario, signed GETs over loopback, {:?}",
        args.clients, args.seconds, backend
    );
    let scenarios: [(&str, Vec<(&str, &str)>); 2] = [
        (
            "listKubernetesSupportedVersions",
            vec![("page", "1"), ("pagesize", "50")],
        ),
        ("listZones", vec![]),
    ];
    for (command, params) in scenarios {
        // Signed once, outside the measured loop: the figures are the server's.
        let url = Arc::new(signed_url(&base, &keys, command, &params));
        let check = http.get(url.as_str()).send().await?;
        let status = check.status();
        let body: serde_json::Value = check.json().await?;
        if !status.is_success() {
            bail!("{command} failed: {body}");
        }
        let items = body[format!("{}response", command.to_lowercase())]
            .as_object()
            .and_then(|o| o.values().find_map(|v| v.as_array().map(Vec::len)))
            .unwrap_or(0);
        let load = get_load(url, args.clients, args.seconds).await?;
        println!(
            "{command:<34} {:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   items/page {items:>3}   errors {}",
            load.per_second(),
            load.percentile_ms(0.50),
            load.percentile_ms(0.99),
            load.errors,
        );
    }
    Ok(())
}
