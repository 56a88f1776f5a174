//! Domain of cks: tenancy, settings, Kubernetes versions, the IaaS nouns the clouds speak in,
//! and (later) the cluster state machine and operation plans.
//!
//! Nothing here does I/O or awaits: the same inputs give the same outputs, so every rule is tested
//! with plain values. Types derive `serde` only so the store and the simulator can persist them.

pub mod iaas;
pub mod settings;
pub mod tenancy;
pub mod version;
