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
//! as the failures it meets. The simulator has hosts with CPU and memory capacity, account
//! resource limits, CloudStack's VM and network states with configurable latencies, rule
//! conflicts with CloudStack's texts, a persisted inventory (so a restarted `cksd` finds its VMs
//! again), and fault injection (failed deploys, exhausted capacity, unreachable endpoints, VMs
//! stopping behind the service's back).
//!
//! Its VMs behave like the nodes they would be: a guest agent reads the user data cks-bootstrap
//! renders and, once the VM runs with the binaries ISO attached, installs it as a Kubernetes
//! node of a simulated cluster. Public IPs come from a loopback range (127.10.0.0/16 by
//! default), and each cluster's API is served over TLS with its own certificates on the public
//! IP its rules forward to a running control node, so `kubectl` with the cluster's kubeconfig
//! (and the service's own client, cks-kube) lists its nodes, cordons and deletes them, and sees
//! versions change when `Cloud::run_on_node` runs `cks-upgrade`. Nothing listens where a real
//! endpoint would be dead. The simulator never sends traffic beyond 127.0.0.0/8 and never
//! fetches a URL.
//!
//! Not here: CloudStack's wire format (cks-api renders the nouns), accounts (cks-store),
//! cluster plans (cks-core), the Kubernetes client (cks-kube).

mod cloud;
mod error;
pub mod keys;
pub mod sim;

pub use cloud::{
    Cloud, DeployVmSpec, FirewallRuleSpec, IsoSpec, LoadBalancerSpec, NetworkSpec, NewSshKeyPair,
    PortForwardingSpec, PublicIpSpec, TaggedResource, VmSize, VpcSpec,
};
pub use error::CloudError;
pub use sim::config::{RangeClaims, SeedSource, SimConfig, Timings};
pub use sim::faults::Fault;
pub use sim::limits::{LimitKind, ResourceLimit};
pub use sim::seed::SeedError;
pub use sim::{OpenError, Simulator, set_after_commit_hook};
