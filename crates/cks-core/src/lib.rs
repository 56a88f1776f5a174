//! Domain of cks: tenancy, settings, Kubernetes versions, the IaaS nouns the clouds speak in, and
//! Kubernetes clusters (state machine, node plans, the rules of create/scale/upgrade).
//!
//! Nothing here does I/O or awaits: the same inputs give the same outputs, so every rule is tested
//! with plain values. Types derive `serde` only so the store and the simulator can persist them.

// First: its `cs_enum!` macro is used by the modules after it.
#[macro_use]
pub mod iaas;
pub mod cluster;
pub mod settings;
pub mod tenancy;
pub mod version;
