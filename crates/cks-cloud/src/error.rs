//! `CloudError`: what a cloud call can fail with, shaped after CloudStack's exception classes so
//! the API layer maps each variant to one `errorcode`/`cserrorcode` pair.

use cks_core::iaas::ResourceKind;

/// A failed cloud call. Each variant says when it happens and which CloudStack code it carries.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// No object with that id (or name). 431. Deletes never return it: they report `false`.
    #[error("Unable to find {kind} with id {id}")]
    NotFound {
        /// What kind of object was looked for.
        kind: ResourceKind,
        /// The id (or name) given.
        id: String,
    },
    /// The request is wrong for the current inventory (bad value, wrong state). 431.
    #[error("{0}")]
    InvalidParameter(String),
    /// No host with room, no free address. 533, e.g. `Unable to create a deployment for VM[User|n1]`.
    #[error("{0}")]
    InsufficientCapacity(String),
    /// An account or domain resource limit. 535 (CloudStack's `ResourceAllocationException`).
    #[error("{0}")]
    LimitExceeded(String),
    /// Overlapping network rules. 537 with CloudStack's texts, e.g. `The range specified, 22-22,
    /// conflicts with rule <id> which has 20-30`.
    #[error("{0}")]
    RuleConflict(String),
    /// The cloud (or one of its agents) cannot be reached right now. 534. Worth a retry.
    #[error("{0}")]
    Unavailable(String),
    /// The cloud failed in a way the caller cannot fix, with CloudStack's text where it has one
    /// (`Failed to delete network`). 530.
    #[error("{0}")]
    Internal(String),
    /// The simulator could not read or write its inventory tables. 530.
    #[error("simulator storage failed: {0}")]
    Storage(#[from] sqlx::Error),
    /// A command run on a node (`Cloud::run_on_node`) exited with a failure: unknown command
    /// (127), bad usage (2), or the node's script failed (1, e.g. no binaries ISO attached). 530.
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

    /// CloudStack's `errorcode` (also the HTTP status of a synchronous error).
    pub fn code(&self) -> u16 {
        match self {
            CloudError::NotFound { .. } | CloudError::InvalidParameter(_) => 431,
            CloudError::InsufficientCapacity(_) => 533,
            CloudError::Unavailable(_) => 534,
            CloudError::LimitExceeded(_) => 535,
            CloudError::RuleConflict(_) => 537,
            CloudError::Internal(_) | CloudError::Storage(_) | CloudError::NodeCommand { .. } => {
                530
            }
        }
    }

    /// CloudStack's `cserrorcode` (the exception class), per cloudstack-iaas-api.md §1.2.
    pub fn cs_error_code(&self) -> u32 {
        match self {
            CloudError::NotFound { .. } | CloudError::InvalidParameter(_) => 4350,
            CloudError::InsufficientCapacity(_) => 4335,
            CloudError::Unavailable(_) => 4380,
            CloudError::LimitExceeded(_) => 4370,
            CloudError::RuleConflict(_) => 4360,
            CloudError::Internal(_) | CloudError::Storage(_) | CloudError::NodeCommand { .. } => {
                4250
            }
        }
    }

    /// Would the same call likely succeed later without any change by the caller?
    pub fn is_transient(&self) -> bool {
        matches!(self, CloudError::Unavailable(_) | CloudError::Storage(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_map_to_cloudstack_codes() {
        let cases = [
            (CloudError::not_found(ResourceKind::Vm, "x"), 431, 4350),
            (CloudError::invalid("bad"), 431, 4350),
            (
                CloudError::InsufficientCapacity("no host".into()),
                533,
                4335,
            ),
            (CloudError::Unavailable("down".into()), 534, 4380),
            (CloudError::LimitExceeded("limit".into()), 535, 4370),
            (CloudError::RuleConflict("overlap".into()), 537, 4360),
            (CloudError::Internal("boom".into()), 530, 4250),
            (
                CloudError::NodeCommand {
                    exit_code: 1,
                    stderr: "no CD-ROM".into(),
                },
                530,
                4250,
            ),
        ];
        for (err, code, cs) in cases {
            assert_eq!((err.code(), err.cs_error_code()), (code, cs), "{err}");
        }
        assert!(CloudError::Unavailable("x".into()).is_transient());
        assert!(!CloudError::invalid("x").is_transient());
    }
}
