//! The test kit (`cks-testkit`: a real `cksd` on a free loopback port, clients that talk to it
//! like CloudStack's own, catalog, wait and cluster helpers), and what only this package's tests
//! need.

#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};

pub use cks_testkit::{
    Backend, Catalog, Client, ClusterOptions, Keys, RunningCluster, TestServer, assert_no_leaks,
    catalog, cluster_of, create, database_backend, encode, error_text, get, inner, kubeconfig,
    kubectl, reserve_public_range, run_job, start_refused, submit_create, vm_count,
    wait_for_deploy_step, wait_for_step, wait_state,
};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
