//! Integration tests that check generated artifacts with the real tools that consume them.
//!
//! One test binary (one link step). Every tool comes from Debian via `scripts/install-test-deps.sh`;
//! a missing tool fails the test with the package to install, never skips it.

#![allow(
    clippy::unwrap_used,
    reason = "test code: an unwrap that fails is a failed assertion"
)]

mod etcd; // A 3-member etcd cluster started with the rendered flags and certificates.
mod harness; // Finds tools, runs them, builds the shared cluster fixtures.
mod iso; // The binaries ISO read back with isoinfo.
mod kubectl; // The admin kubeconfig with kubectl, including a mutual-TLS handshake.
mod metadata_guard; // Pods lose the metadata service: iptables in a private network namespace.
mod validators; // cloud-init schema, shellcheck and openssl on the generated documents.
