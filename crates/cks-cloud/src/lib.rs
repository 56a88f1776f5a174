//! cks-cloud: the `Cloud` trait the Kubernetes-cluster orchestrator drives, and the embedded
//! simulator that implements it.
//!
//! Why a trait: cks orchestrates clusters out of an IaaS's nouns (networks, public IPs, firewall,
//! port-forwarding and load-balancer rules, VMs with user data, ISOs, key pairs), and it must run
//! both against a real CloudStack (a later client, over HTTP) and, by default, against a
//! simulator that needs no cloud at all. Every call is idempotent by name or tag, because a job
//! step may run twice after a crash: creates adopt what an earlier attempt made, deletes of
//! what is gone succeed.
//!
//! Why a simulator with this much realism: the orchestrator's failure handling is only as good
//! as the failures it meets. The simulator has hosts with CPU and memory capacity, CloudStack's
//! VM and network states with configurable latencies, rule conflicts with CloudStack's texts, a
//! persisted inventory (so a restarted `cksd` finds its VMs again), and fault injection.
//! Public IPs come from a loopback range (127.10.0.0/16 by default): the simulator later serves
//! each cluster's Kubernetes API on its public IP. The simulator never sends traffic anywhere
//! and never fetches a URL.
//!
//! Not here: CloudStack's wire format (cks-api renders the nouns), accounts and limits
//! (cks-store), cluster plans (cks-core).

mod cloud;
mod error;
pub mod keys;
pub mod sim;

pub use cloud::{
    Cloud, DeployVmSpec, FirewallRuleSpec, IsoSpec, LoadBalancerSpec, NetworkSpec, NewSshKeyPair,
    PortForwardingSpec, PublicIpSpec, TaggedResource, VmSize, VpcSpec,
};
pub use error::CloudError;
pub use sim::config::{SeedSource, SimConfig, Timings};
pub use sim::faults::Fault;
pub use sim::seed::SeedError;
pub use sim::{OpenError, Simulator};
