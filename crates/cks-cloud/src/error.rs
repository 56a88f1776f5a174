//! `CloudError`: what a cloud call can fail with, shaped after CloudStack's exception classes so
//! the API layer (`cksd::errors::cloud_error`, the one mapping) gives each variant one
//! `errorcode`/`cserrorcode` pair. Callers deciding on a retry ask `is_transient`.

use cks_core::iaas::ResourceKind;

/// A provider's own failure (its database, its HTTP client...), as `CloudError::Backend` carries it.
pub type BackendSource = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failed cloud call. Each variant says when it happens.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// No object with that id (or name). Deletes never return it: they report `false`.
    #[error("Unable to find {kind} with id {id}")]
    NotFound {
        /// What kind of object was looked for.
        kind: ResourceKind,
        /// The id (or name) given.
        id: String,
    },
    /// The request is wrong for the current inventory (bad value, wrong state).
    #[error("{0}")]
    InvalidParameter(String),
    /// No host with room for a VM, e.g. `Unable to create a deployment for VM[User|n1]`
    /// (CloudStack's `InsufficientServerCapacityException`).
    #[error("{0}")]
    InsufficientServerCapacity(String),
    /// No free public or guest address (`InsufficientAddressCapacityException`).
    #[error("{0}")]
    InsufficientAddressCapacity(String),
    /// Any other exhausted capacity, e.g. no free VLAN (`InsufficientCapacityException`).
    #[error("{0}")]
    InsufficientCapacity(String),
    /// An account or domain resource limit (CloudStack's `ResourceAllocationException`).
    #[error("{0}")]
    LimitExceeded(String),
    /// Overlapping network rules, with CloudStack's texts, e.g. `The range specified, 22-22,
    /// conflicts with rule <id> which has 20-30`.
    #[error("{0}")]
    RuleConflict(String),
    /// The cloud (or one of its agents) cannot be reached right now. Worth a retry.
    #[error("{0}")]
    Unavailable(String),
    /// The cloud failed in a way the caller cannot fix, with CloudStack's text where it has one
    /// (`Failed to delete network`).
    #[error("{0}")]
    Internal(String),
    /// The provider's own machinery failed (the simulator's tables, a client's connection).
    /// `transient`: the same call may succeed later unchanged. Its text is for the log.
    #[error("{source}")]
    Backend {
        /// Worth retrying unchanged (a lost connection, a busy database).
        transient: bool,
        /// The provider's own error.
        #[source]
        source: BackendSource,
    },
    /// A command run on a node (`Cloud::run_on_node`) exited with a failure: unknown command
    /// (127), bad usage (2), or the node's script failed (1, e.g. no binaries ISO attached).
    #[error("command failed on the node (exit code {exit_code}): {stderr}")]
    NodeCommand {
        /// The command's exit status.
        exit_code: i32,
        /// What it wrote to standard error, for the job's message.
        stderr: String,
    },
}

impl CloudError {
    /// `NotFound` for `kind` `id`: `Unable to find <kind> with id <id>`.
    pub fn not_found(kind: ResourceKind, id: impl Into<String>) -> CloudError {
        CloudError::NotFound {
            kind,
            id: id.into(),
        }
    }

    /// `InvalidParameter` with CloudStack's `message`.
    pub fn invalid(message: impl Into<String>) -> CloudError {
        CloudError::InvalidParameter(message.into())
    }

    /// A backend failure worth retrying (a dropped connection, a busy database).
    pub fn transient_backend(source: impl Into<BackendSource>) -> CloudError {
        CloudError::Backend {
            transient: true,
            source: source.into(),
        }
    }

    /// A backend failure that repeating will not cure (corrupt data, a broken schema).
    pub fn permanent_backend(source: impl Into<BackendSource>) -> CloudError {
        CloudError::Backend {
            transient: false,
            source: source.into(),
        }
    }

    /// Would the same call likely succeed later without any change by the caller?
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            CloudError::Unavailable(_)
                | CloudError::Backend {
                    transient: true,
                    ..
                }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailability_and_transient_backend_failures_are_worth_a_retry() {
        let io = || std::io::Error::other("connection reset");
        assert!(CloudError::Unavailable("down".into()).is_transient());
        assert!(CloudError::transient_backend(io()).is_transient());
        assert!(!CloudError::permanent_backend(io()).is_transient());
        assert!(!CloudError::invalid("x").is_transient());
        assert!(!CloudError::InsufficientServerCapacity("no host".into()).is_transient());
        assert!(!CloudError::Internal("boom".into()).is_transient());
    }

    #[test]
    fn a_backend_failure_shows_its_source() {
        let err = CloudError::permanent_backend(std::io::Error::other("disk full"));
        assert_eq!(err.to_string(), "disk full");
        assert!(std::error::Error::source(&err).is_some());
    }
}
