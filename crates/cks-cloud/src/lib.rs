//! cks-cloud: the `Cloud` trait the Kubernetes-cluster orchestrator drives, the specs it takes
//! and returns, and `CloudError`.
//!
//! Why a trait: cks orchestrates clusters out of an IaaS's nouns (networks, public IPs, firewall,
//! port-forwarding and load-balancer rules, VMs with user data, ISOs, key pairs), and it must run
//! against a real CloudStack (a provider over HTTP) as well as, by default, against the embedded
//! simulator (`cks-sim`). Every call is idempotent by name or tag, because a job step may run
//! twice after a crash: creates adopt what an earlier attempt made, deletes of what is gone
//! succeed.
//!
//! **Invariant:** no I/O and no provider here: no database, HTTP or TLS crate, no runtime. A
//! provider's own failures reach callers as `CloudError::Backend` with its source, transient or
//! not; callers decide on retries with `CloudError::is_transient`.
//!
//! Not here: any implementation (cks-sim, later a CloudStack client), CloudStack's wire format
//! (cks-api renders the nouns), accounts (cks-store), cluster plans (cks-core), the Kubernetes
//! client (cks-kube).

mod cloud;
mod error;

pub use cloud::{
    Cloud, DeployVmSpec, FirewallRuleSpec, IsoSpec, LoadBalancerSpec, NetworkSpec, NewSshKeyPair,
    ObjectIds, Objects, PortForwardingSpec, PublicIpSpec, TaggedResource, VmSize, VpcSpec,
};
pub use error::{BackendSource, CloudError};
