//! `cks` as a user runs it: the real binary against a real `cksd` on a free loopback port
//! (instant simulator), with credentials from the environment or a profile file.

#![allow(
    clippy::unwrap_used,
    reason = "test code: an unwrap that fails is a failed assertion"
)]

mod harness;
// The cluster lifecycle: create --wait, list, scale, upgrade, kubeconfig + kubectl, delete.
mod clusters;
// Exit codes and messages: bad flags, server errors, job failures, configuration errors.
mod errors;
// Profiles, completions, the generic `cks api`.
mod misc;
