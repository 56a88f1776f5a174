//! xtask: checks of the repository itself, run as ordinary tests by `cargo nextest run --workspace`.
//!
//! Why tests and not a review checklist: the rules below keep the architecture what ARCHITECTURE.md says it
//! is (the `Cloud` trait without a database or HTTP stack, one crate that signs requests, the simulator named
//! only where `cksd` wires it), and a rule that is only written down drifts. Each check reads the sources as
//! text; none builds or runs anything. Modelled on rust-analyzer's `xtask/src/tidy.rs`.
//!
//! **Invariant:** no code of the product depends on this crate.

#[cfg(test)]
mod tidy;
