//! How a simulator is opened: where its seed comes from and how long its simulated operations take.

use std::path::PathBuf;
use std::time::Duration;

/// The project's default seed inventory (`config/simulator.toml`).
pub const DEFAULT_SEED: &str = include_str!("../../../../config/simulator.toml");

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
/// `Stopping`, and ISOs report progress until `iso_download` has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    pub vm_deploy: Duration,
    pub vm_start: Duration,
    pub vm_stop: Duration,
    pub iso_download: Duration,
}

impl Timings {
    /// Everything immediate: for tests.
    pub fn instant() -> Timings {
        Timings {
            vm_deploy: Duration::ZERO,
            vm_start: Duration::ZERO,
            vm_stop: Duration::ZERO,
            iso_download: Duration::ZERO,
        }
    }

    /// Roughly what a small real cloud takes, shortened so a demo stays pleasant.
    pub fn realistic() -> Timings {
        Timings {
            vm_deploy: Duration::from_secs(3),
            vm_start: Duration::from_secs(2),
            vm_stop: Duration::from_secs(1),
            iso_download: Duration::from_secs(5),
        }
    }
}

/// Options of `Simulator::open`.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: SeedSource,
    pub timings: Timings,
}

impl SimConfig {
    /// The default seed with no delays.
    pub fn for_tests() -> SimConfig {
        SimConfig {
            seed: SeedSource::Default,
            timings: Timings::instant(),
        }
    }
}
