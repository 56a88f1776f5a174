//! The one place store and cloud errors become API errors.

use cks_api::ApiError;
use cks_cloud::CloudError;

/// A store failure seen from the API: not the caller's fault, and its detail is for the log.
pub fn internal(e: cks_store::StoreError) -> ApiError {
    tracing::error!(error = %e, "store error");
    ApiError::internal("Internal error executing command, please contact your system administrator")
}

pub fn cloud_error(e: CloudError) -> ApiError {
    match e {
        CloudError::NotFound { .. } | CloudError::InvalidParameter(_) => {
            ApiError::InvalidParameter(e.to_string())
        }
        CloudError::InsufficientCapacity(m) => ApiError::InsufficientCapacity(m),
        CloudError::LimitExceeded(m) => ApiError::ResourceLimit(m),
        CloudError::RuleConflict(m) => ApiError::RuleConflict(m),
        CloudError::Unavailable(m) => ApiError::ResourceUnavailable(m),
        CloudError::Internal(m) => ApiError::Internal(m),
        CloudError::NodeCommand { exit_code, stderr } => ApiError::Internal(format!(
            "node command failed with exit code {exit_code}: {stderr}"
        )),
        CloudError::Storage(e) => {
            tracing::error!(error = %e, "simulator storage failed");
            ApiError::internal(
                "Internal error executing command, please contact your system administrator",
            )
        }
    }
}
