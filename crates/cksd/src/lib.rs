//! The cks management server: the CloudStack-compatible HTTP API (`/client/api`), its
//! authentication, the command handlers, and the job runner that executes async commands.
//!
//! A request flows `api::client_api` → parse (`cks_api::params`) → `auth::authenticate` →
//! command lookup and role check → `cks_api::commands::bind` → `handlers::dispatch` → envelope.
//! Async commands write a job row and return its id; `jobs::run` claims and executes it.

#![allow(
    missing_docs,
    reason = "the library exists so tests and the bench can start the server in-process; it is no API for other crates"
)]

pub mod api;
pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod console;
pub mod crash;
pub mod errors;
pub mod handlers;
pub mod jobs;
pub mod orchestrator;
pub mod render;
pub mod secrets;
pub mod server;
pub mod services;
pub mod state;
pub mod throttle;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::routing::any;
use cks_sim::{RangeClaims, SeedSource, SimConfig, Simulator, Timings};
use cks_store::Store;
use tokio::net::TcpListener;

pub use config::Config;
use state::{AppState, SharedState};

/// Concurrent jobs per instance.
/// Jobs running at once per instance; cluster operations mostly wait on the cloud and the cluster.
const JOB_WORKERS: usize = 128;

/// The HTTP routes.
pub fn router(state: SharedState) -> Router {
    Router::new()
        .route("/client/api", any(api::client_api))
        .route("/client/api/", any(api::client_api))
        .merge(console::routes())
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .with_state(state)
}

/// Opens the data directory, the store and the simulator, and runs the first-start setup.
pub async fn open(config: &Config) -> anyhow::Result<(SharedState, Option<bootstrap::RootAdmin>)> {
    secrets::private_data_dir(&config.data_dir)?;
    if let Some(path) = config::sqlite_path(&config.database_url) {
        secrets::private_database_file(&path)?;
    }
    let master_key = secrets::MasterKey::load_or_create(&config.master_key_file)?;
    let store = Store::open(&config.database_url)
        .await
        .with_context(|| format!("opening {}", config::redacted_url(&config.database_url)))?;
    // Instances started together on one database seed the cloud and the root admin once.
    let startup = store.lock_startup().await?;
    let seed = match &config.simulator_seed {
        Some(path) => SeedSource::Path(path.clone()),
        None => SeedSource::Default,
    };
    let timings = if config.instant_simulator {
        Timings::instant()
    } else {
        Timings::realistic()
    };
    let simulator = Simulator::open(
        store.pool().clone(),
        SimConfig {
            seed,
            timings,
            public_ip_range: config.simulator_public_range,
            claims: Some(RangeClaims {
                default_ranges: config.simulator_default_ranges.clone(),
                ..RangeClaims::machine_wide()
            }),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("opening the simulator: {e}"))?;
    let server_id = server_id(&config.data_dir)?;
    let settings = store.settings().await?;
    let mut state = AppState::new(store, Arc::new(simulator), master_key, server_id, settings);
    state.fast_polling = config.instant_simulator;
    state.job_lease_seconds = config.job_lease_seconds;
    state.connection_limits = config.connection_limits;
    let state = Arc::new(state);
    let url = format!("http://{}/client/api", config.listen);
    let admin = bootstrap::first_start(&state, &config.data_dir, &url).await?;
    startup.release().await?;
    Ok((state, admin))
}

/// This instance's id: made once, kept in the data directory, so a restarted instance knows
/// which job leases were its own.
fn server_id(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("server.id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        return Ok(id.trim().to_string());
    }
    let id = cks_store::new_id();
    secrets::write_private(&path, &id)?;
    Ok(id)
}

/// Serves until `shutdown` resolves, with the job runner beside the HTTP server.
pub async fn serve(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    bootstrap::ensure_endpoint_url(&state, listener.local_addr()?).await?;
    let runner = tokio::spawn(jobs::run(state.clone(), JOB_WORKERS));
    let scanner = tokio::spawn(orchestrator::scanner::run(state.clone()));
    let state_for_shutdown = state.clone();
    let limits = state.connection_limits;
    let result = server::serve(listener, router(state), limits, shutdown).await;
    runner.abort();
    scanner.abort();
    // Hand the scanner to another instance now rather than when the lease runs out. Job leases
    // are kept: job tasks still run until the process exits, and two runners must not overlap.
    let _ = state_for_shutdown
        .store
        .release_lease(
            orchestrator::scanner::SCANNER_LEASE,
            &state_for_shutdown.server_id,
        )
        .await;
    Ok(result?)
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
