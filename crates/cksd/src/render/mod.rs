//! CloudStack's response objects for what cksd keeps itself (clusters, versions, projects) and the VMs they
//! show: built from a record and one `Cloud::lookup` of what it names. Handlers, the
//! orchestrator (a job's result) and the version catalog in `AppState` render through here, so
//! none of them depends on another for a response's shape.

pub mod cluster;
pub mod project;
pub mod version;
pub mod vm;

pub use cluster::render_cluster;
pub use project::render_project;
pub use version::{render_version, render_version_looked_up};
pub use vm::render_vm;
