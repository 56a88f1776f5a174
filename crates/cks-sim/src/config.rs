//! How a simulator is opened: where its seed comes from and how long its simulated operations take.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// The project's default seed inventory (`config/simulator.toml`).
pub const DEFAULT_SEED: &str = include_str!("../../../config/simulator.toml");

/// What to seed an empty inventory from.
#[derive(Debug, Clone)]
pub enum SeedSource {
    /// `config/simulator.toml`, compiled in.
    Default,
    /// A TOML file in the same format.
    Path(PathBuf),
    /// TOML text (tests).
    Text(String),
}

/// How long simulated operations take. Deploys and starts hold the VM in `Starting`, stops in
/// `Stopping`, and ISOs report progress until `iso_download` has passed. A node installs
/// (boots, runs `cks-install` and kubeadm) `node_install` after it has user data, an ISO and is
/// running; `cks-upgrade` takes `node_upgrade`.
///
/// A seed's `[timings]` table (milliseconds) overrides any of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    pub vm_deploy: Duration,
    pub vm_start: Duration,
    pub vm_stop: Duration,
    pub iso_download: Duration,
    pub node_install: Duration,
    pub node_upgrade: Duration,
}

impl Timings {
    /// Everything immediate: for tests.
    pub fn instant() -> Timings {
        Timings {
            vm_deploy: Duration::ZERO,
            vm_start: Duration::ZERO,
            vm_stop: Duration::ZERO,
            iso_download: Duration::ZERO,
            node_install: Duration::ZERO,
            node_upgrade: Duration::ZERO,
        }
    }

    /// Roughly what a small real cloud takes, shortened so a demo stays pleasant: a one-node
    /// cluster is up about five seconds after its first VM is deployed.
    pub fn realistic() -> Timings {
        Timings {
            vm_deploy: Duration::from_secs(2),
            vm_start: Duration::from_secs(1),
            vm_stop: Duration::from_secs(1),
            iso_download: Duration::from_secs(5),
            node_install: Duration::from_secs(2),
            node_upgrade: Duration::from_secs(1),
        }
    }
}

/// Options of `Simulator::open`.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: SeedSource,
    /// Overridden field by field by the seed's `[timings]`.
    pub timings: Timings,
    /// Replaces the public IP ranges of every zone of the seed (first and last address, both
    /// loopback; the gateway is the address before the first) when the inventory is seeded.
    /// Lets simulators running side by side on one machine serve their endpoints on disjoint
    /// addresses, since every endpoint listens on port 6443.
    pub public_ip_range: Option<(Ipv4Addr, Ipv4Addr)>,
    /// Claim the public ranges machine-wide, so that simulators of different databases never
    /// share addresses (see `claims`). `None`: no claims (in-process tests).
    pub claims: Option<RangeClaims>,
}

/// Where and how a simulator claims its public ranges.
#[derive(Debug, Clone)]
pub struct RangeClaims {
    /// The directory of claim files, the same for every simulator on the machine.
    pub dir: PathBuf,
    /// When the inventory is seeded without `public_ip_range`: the ranges to seed with, the
    /// first one no other database holds, each as `public_ip_range` takes it. Empty: the seed's
    /// own ranges, else the following ranges of the size of its first (`127.11.0.0/16`...).
    pub default_ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
}

impl RangeClaims {
    /// The machine-wide claims directory, the seed's ranges by default.
    pub fn machine_wide() -> RangeClaims {
        RangeClaims {
            dir: crate::claims::default_claims_dir(),
            default_ranges: Vec::new(),
        }
    }
}

impl SimConfig {
    /// The default seed with no delays.
    pub fn for_tests() -> SimConfig {
        SimConfig {
            seed: SeedSource::Default,
            timings: Timings::instant(),
            public_ip_range: None,
            claims: None,
        }
    }
}
