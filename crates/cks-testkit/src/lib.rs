//! `cks-testkit` (dev-only): what the test suites of `cksd`, the crash harness and the `cks` CLI
//! share: a real `cksd` process ([`TestServer`]: restarts, siblings on one database, SQL behind
//! its back), the loopback-range lock ([`reserve_public_range`]), the signed [`Client`] (from
//! `cks-client`), the catalog and wait helpers, and the cluster helpers cluster tests need
//! (create, run a job, read, the leak check, and [`RunningCluster`], a booted cluster).
//!
//! **Invariant:** servers it starts listen on loopback only, each simulator on a public range no
//! other test server on the machine holds; PostgreSQL is used exactly when the run selected it
//! (`CKS_TEST_DATABASE_URL`, from `scripts/with-postgres.sh`), each server in a fresh database.

#![allow(
    clippy::unwrap_used,
    reason = "test support: a panic here fails the test that called it"
)]

mod catalog;
mod client;
mod cluster;
mod range;
mod server;

pub use catalog::{Catalog, catalog, wait_for_step};
pub use client::{Client, Keys, encode, error_text, inner};
pub use cluster::{
    ClusterOptions, RunningCluster, assert_no_leaks, cluster_of, create, get, kubeconfig,
    kubeconfig_of, kubectl, run_job, submit_create, vm_count, wait_for_deploy_step, wait_state,
};
pub use range::reserve_public_range;
pub use server::{TestServer, cksd_binary, start_refused};

pub use cks_store::Backend;

/// The database this test run's servers use: PostgreSQL when `CKS_TEST_DATABASE_URL` names a
/// server (`scripts/with-postgres.sh`), each server in a fresh database; SQLite otherwise.
pub fn database_backend() -> Backend {
    cks_store::testing::backend()
}
