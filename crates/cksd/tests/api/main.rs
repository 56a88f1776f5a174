//! The API as clients see it: a real `cksd` on loopback, driven over HTTP with signed requests
//! (ours and Python `cs`'s), checked against CloudStack's codes and texts.

/// Starting a server, signed clients, job polling.
mod harness;
/// Signing, sessions, errors, paging, listApis.
mod protocol;
/// Domains, accounts, users, keys, projects and who sees what.
mod tenancy;
/// Global settings and the plugin switch.
mod settings;
/// The Kubernetes version catalog and async jobs across restarts.
mod versions;
/// The simulator's inventory in CloudStack's shapes.
mod inventory;
/// Python `cs`, a client nobody here wrote.
mod python_cs;
