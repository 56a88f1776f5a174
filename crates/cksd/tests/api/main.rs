//! The API as clients see it: a real `cksd` on loopback, driven over HTTP with signed requests
//! (ours and Python `cs`'s), checked against CloudStack's codes and texts.

#![allow(
    clippy::unwrap_used,
    reason = "test code: an unwrap that fails is a failed assertion"
)]

/// Sizes, counts, name lengths and setting ranges: refused, never wrapped or cut.
mod bounds;
/// Kubernetes clusters end to end on the simulator.
mod clusters;
/// CNI configurations and clusters built with one.
mod cni;
/// Faults are loud: public ranges in use, endpoint addresses held, nodes without a VM.
mod faults;
/// Starting a server, signed clients, job polling.
mod harness;
/// Several instances on one database: one service, each job once, takeover after a kill.
mod instances;
/// The simulator's inventory in CloudStack's shapes.
mod inventory;
/// Account resource limits, and a cluster that runs into one.
mod limits;
/// Step journals, abort, retry and forced delete of cluster operations.
mod operations;
/// Signing, sessions, errors, paging, listApis.
mod protocol;
/// Python `cs`, a client nobody here wrote.
mod python_cs;
/// Regression tests of an outside attack: escalation, replay, secrets at rest.
mod security;
/// Header timeouts, the connection bound, the parameter bound, login lockout and throttling.
mod security_dos;
/// Global settings and the plugin switch.
mod settings;
/// Domains, accounts, users, keys, projects and who sees what.
mod tenancy;
/// The Kubernetes version catalog and async jobs across restarts.
mod versions;
