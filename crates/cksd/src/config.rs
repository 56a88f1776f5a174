//! Configuration: flags > environment (`CKS_*`) > config file > defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use serde::Deserialize;

use crate::server::ConnectionLimits;

/// The default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "cks-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Parser, Default)]
#[command(
    name = "cksd",
    version,
    about = "cks management server: a CloudStack-compatible Kubernetes service"
)]
pub struct Args {
    /// Address to serve the API on.
    #[arg(long, env = "CKS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory for the SQLite database, the master key and root-admin.json.
    #[arg(long, env = "CKS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://PATH` (default: DATA_DIR/cks.db) or `postgres://USER:PASS@HOST/DB`.
    #[arg(long, env = "CKS_DATABASE_URL")]
    pub database_url: Option<String>,
    /// TOML file that seeds the simulator on first start (default: the built-in seed).
    #[arg(long, env = "CKS_SIMULATOR_SEED")]
    pub simulator_seed: Option<PathBuf>,
    /// Simulated VM and ISO operations complete at once (tests, benchmarks) instead of taking
    /// a few seconds each.
    #[arg(long, env = "CKS_INSTANT_SIMULATOR")]
    pub instant_simulator: bool,
    /// The simulator's public IPs (a loopback CIDR such as `127.10.0.0/16`), overriding the seed's
    /// range when the simulator is first seeded. Each running cluster's API listens on one of them.
    #[arg(long, env = "CKS_SIMULATOR_PUBLIC_RANGE")]
    pub simulator_public_range: Option<String>,
    /// Loopback CIDRs, comma-separated, to seed the simulator with when
    /// --simulator-public-range is not given: the first that no cksd with another database on
    /// this machine uses. Default: the seed's range, else the next ones of its size. For tests.
    #[arg(
        long,
        env = "CKS_SIMULATOR_DEFAULT_RANGES",
        hide = true,
        value_delimiter = ','
    )]
    pub simulator_default_ranges: Vec<String>,
    /// The key that seals secrets in the database (default: DATA_DIR/master.key, made on first
    /// start). Instances sharing one database must use the same key.
    #[arg(long, env = "CKS_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// How long a claimed job is this instance's without renewal: after it dies, another
    /// instance takes its jobs over this long after its last renewal.
    #[arg(long, env = "CKS_JOB_LEASE_SECONDS")]
    pub job_lease_seconds: Option<u32>,
    /// Milliseconds a client has to send a request's headers; a keep-alive connection idle this
    /// long is closed too, and a body must arrive within three times it (default 10000).
    #[arg(long, env = "CKS_HEADER_TIMEOUT_MS")]
    pub header_timeout_ms: Option<u64>,
    /// Connections served at once (default 4096, lowered to fit the open-file limit); more wait
    /// in the accept queue until one closes.
    #[arg(long, env = "CKS_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Optional TOML config file with the same keys (listen, data_dir, database_url, simulator_seed).
    #[arg(long, env = "CKS_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    simulator_seed: Option<PathBuf>,
    instant_simulator: Option<bool>,
    simulator_public_range: Option<String>,
    master_key_file: Option<PathBuf>,
    job_lease_seconds: Option<u32>,
    header_timeout_ms: Option<u64>,
    max_connections: Option<usize>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub simulator_seed: Option<PathBuf>,
    pub instant_simulator: bool,
    /// First and last public IP of the simulator, from `--simulator-public-range`.
    pub simulator_public_range: Option<(std::net::Ipv4Addr, std::net::Ipv4Addr)>,
    /// From `--simulator-default-ranges`; empty: the seed's.
    pub simulator_default_ranges: Vec<(std::net::Ipv4Addr, std::net::Ipv4Addr)>,
    pub master_key_file: PathBuf,
    pub job_lease_seconds: i64,
    pub connection_limits: ConnectionLimits,
}

/// The default job lease.
pub const DEFAULT_JOB_LEASE_SECONDS: u32 = 30;

/// `url` with any password replaced by `***`, for messages and logs.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

/// The file of an SQLite URL (`sqlite://PATH` or `sqlite:PATH`, options after `?`), or
/// `None` for another database or an in-memory one.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// `127.10.0.0/16` → (127.10.0.2, 127.10.255.254); only loopback ranges are accepted.
fn parse_loopback_range(text: &str) -> anyhow::Result<(std::net::Ipv4Addr, std::net::Ipv4Addr)> {
    let (ip, prefix) = text
        .split_once('/')
        .context("expected a CIDR such as 127.10.0.0/16")?;
    let ip: std::net::Ipv4Addr = ip.parse().context("invalid IPv4 address")?;
    let prefix: u32 = prefix.parse().context("invalid prefix length")?;
    anyhow::ensure!(
        (8..=30).contains(&prefix),
        "prefix length must be between 8 and 30"
    );
    anyhow::ensure!(
        ip.is_loopback(),
        "the simulator's public IPs must be loopback addresses (127.0.0.0/8)"
    );
    let mask = u32::MAX << (32 - prefix);
    let base = u32::from(ip) & mask;
    // The address before the first is the range's gateway.
    Ok((
        std::net::Ipv4Addr::from(base + 2),
        std::net::Ipv4Addr::from((base | !mask) - 1),
    ))
}

impl Config {
    pub fn load() -> anyhow::Result<Config> {
        Config::resolve(Args::parse())
    }

    pub fn resolve(args: Args) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("parsing {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = args
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("cks.db").display()));
        let master_key_file = args
            .master_key_file
            .or(file.master_key_file)
            .unwrap_or_else(|| data_dir.join("master.key"));
        let job_lease_seconds = args
            .job_lease_seconds
            .or(file.job_lease_seconds)
            .unwrap_or(DEFAULT_JOB_LEASE_SECONDS);
        anyhow::ensure!(
            job_lease_seconds >= 3,
            "the job lease must be at least 3 seconds (it is renewed every third of it)"
        );
        let mut connection_limits = ConnectionLimits::default();
        if let Some(ms) = args.header_timeout_ms.or(file.header_timeout_ms) {
            anyhow::ensure!(ms >= 1, "the header timeout must be at least 1 ms");
            connection_limits.header_timeout = std::time::Duration::from_millis(ms);
        }
        if let Some(n) = args.max_connections.or(file.max_connections) {
            anyhow::ensure!(n >= 1, "at least one connection must be allowed");
            connection_limits.max_connections = n;
        }
        Ok(Config {
            connection_limits,
            master_key_file,
            job_lease_seconds: i64::from(job_lease_seconds),
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default")),
            data_dir,
            database_url,
            simulator_seed: args.simulator_seed.or(file.simulator_seed),
            instant_simulator: args.instant_simulator || file.instant_simulator.unwrap_or(false),
            simulator_public_range: args
                .simulator_public_range
                .or(file.simulator_public_range)
                .map(|r| {
                    parse_loopback_range(&r)
                        .with_context(|| format!("--simulator-public-range {r}"))
                })
                .transpose()?,
            simulator_default_ranges: args
                .simulator_default_ranges
                .iter()
                .map(|r| {
                    parse_loopback_range(r)
                        .with_context(|| format!("--simulator-default-ranges {r}"))
                })
                .collect::<anyhow::Result<_>>()?,
        })
    }

    /// A configuration for tests: everything inside `dir`.
    pub fn for_test(dir: &std::path::Path) -> Config {
        Config {
            listen: "127.0.0.1:0".parse().expect("valid"),
            data_dir: dir.to_path_buf(),
            database_url: format!("sqlite://{}", dir.join("cks.db").display()),
            simulator_seed: None,
            instant_simulator: true,
            simulator_public_range: None,
            simulator_default_ranges: Vec::new(),
            master_key_file: dir.join("master.key"),
            job_lease_seconds: i64::from(DEFAULT_JOB_LEASE_SECONDS),
            connection_limits: ConnectionLimits::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cksd.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9999\"\ndata_dir = \"/tmp/x\"\n",
        )
        .unwrap();
        let args = Args {
            listen: Some("127.0.0.1:7000".parse().unwrap()),
            config: Some(file),
            ..Args::default()
        };
        let cfg = Config::resolve(args).unwrap();
        assert_eq!(cfg.listen.port(), 7000);
        assert_eq!(cfg.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(cfg.database_url, "sqlite:///tmp/x/cks.db");
    }

    #[test]
    fn database_passwords_are_not_repeated_in_messages() {
        assert_eq!(
            redacted_url("postgres://cks:s3cret@127.0.0.1:5432/cks"),
            "postgres://cks:***@127.0.0.1:5432/cks"
        );
        assert_eq!(
            redacted_url("postgres://cks@127.0.0.1/cks"),
            "postgres://cks@127.0.0.1/cks"
        );
        assert_eq!(redacted_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }

    #[test]
    fn unknown_file_keys_are_an_error_not_silence() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cksd.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:9999\"\n").unwrap();
        assert!(
            Config::resolve(Args {
                config: Some(file),
                ..Args::default()
            })
            .is_err()
        );
    }
}
