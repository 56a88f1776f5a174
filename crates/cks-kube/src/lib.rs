//! cks-kube: the service's Kubernetes client. One job: talk to a cluster's API server.
//!
//! Why it exists: the orchestrator must know when a cluster it built is usable (the API
//! answers, every node is Ready, the dashboard runs), must cordon and drain nodes before it
//! upgrades or removes them, and the state scanner checks running clusters the same way. It
//! talks to the cluster's public endpoint with the cluster's own CA (and no system roots) and
//! the service's admin client certificate, which the service generated before any VM booted.
//! Against the embedded simulator this is the same code path: the simulator serves each
//! cluster's API on its public IP with that cluster's certificates.
//!
//! Not here: watches, generic resources, or any object beyond nodes, pods and `/version`
//! (kube-rs covers all of Kubernetes; this crate covers what cks needs, with one TLS stack:
//! reqwest over rustls with aws-lc-rs). Errors say whether the endpoint was unreachable, the
//! TLS handshake failed, or the API refused (`KubeError`), because the callers retry the first
//! and fail on the others.

#![warn(missing_docs)]

mod client;
mod error;
mod kubeconfig;
mod types;

pub use client::{DEFAULT_TIMEOUT, KubeClient};
pub use error::KubeError;
pub use types::{Node, Pod, Version};
