//! cks-bootstrap: everything a Kubernetes node of a cks cluster boots from.
//!
//! The orchestrator calls this crate to turn a cluster description ([`ClusterBootstrap`]) into the
//! artifacts that make VMs become a cluster without anyone logging in:
//!
//! - [`pki`]: the cluster's certificate authorities and leaf certificates. Unlike CloudStack's CKS,
//!   the service generates the CAs itself, so it holds a working admin kubeconfig ([`kubeconfig`])
//!   before any VM boots and never fetches `admin.conf` over SSH.
//! - [`token`]: kubeadm bootstrap tokens with a TTL, the HA certificate key and the discovery CA hash,
//!   so joining nodes pin the CA instead of skipping verification.
//! - [`kubeadm`]: `InitConfiguration` / `ClusterConfiguration` / `JoinConfiguration` for the
//!   kubeadm API version that matches the Kubernetes version.
//! - [`cloudinit`]: the `#cloud-config` user data of every node type, built as typed structs.
//! - [`etcd`]: flags and systemd unit of each member of an external, TLS-only etcd cluster.
//! - [`cni`]: a registered CNI configuration, its parameters substituted and merged into the first
//!   control node's user data.
//! - [`ssh`]: SSH key pairs (RSA generation, OpenSSH public-key parsing, CloudStack's MD5
//!   fingerprint), for the service's own key and the key pairs a cloud hands out.
//! - [`iso`]: the offline binaries ISO (the counterpart of CloudStack's
//!   `create-kubernetes-binaries-iso.sh`) with a manifest of every file's sha256.
//!
//! Secure by default where CKS only warns: pods are blocked from the VM metadata service, joining
//! nodes only ever receive short-lived credentials (a bootstrap token with a TTL and the two-hour
//! certificate key), and CA keys are only written to the first control node.
//!
//! Not here: HTTP, persistence, talking to a cloud. The PKI serializes to JSON so the store can
//! encrypt it at rest; the ISO builder shells out to `xorriso`, and nothing else runs a process.

#![warn(missing_docs)]

pub mod cloudinit;
pub mod cluster;
pub mod cni;
mod error;
pub mod etcd;
pub mod iso;
pub mod kubeadm;
pub mod kubeconfig;
pub mod net;
pub mod pki;
pub mod ssh;
pub mod token;
pub mod version;

pub use cloudinit::NodeUserData;
pub use cluster::{
    CloudProviderCredentials, ClusterBootstrap, InstallSettings, NodeIdentity, RegistryCredentials,
};
pub use cni::{CniConfiguration, CniError};
pub use error::{Error, Result};
pub use kubeconfig::admin_kubeconfig;
pub use net::Cidr;
pub use pki::{ClusterPki, KeyAlgorithm, PkiSpec, Validity};
pub use token::{BootstrapToken, CertificateKey, discovery_ca_hash};
pub use version::KubernetesVersion;
