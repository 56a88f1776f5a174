//! The test kit (`cks-testkit`: a real `cksd` on a free loopback port, clients that talk to it
//! like CloudStack's own, catalog and wait helpers), and what only this package's tests need.

#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};

pub use cks_testkit::{
    Backend, Catalog, Client, Keys, TestServer, catalog, database_backend, encode, error_text,
    inner, reserve_public_range, start_refused, wait_for_step,
};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
