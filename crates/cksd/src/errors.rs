//! The one place cloud errors become API errors.

use cks_api::ApiError;
use cks_cloud::CloudError;

pub fn cloud_error(e: CloudError) -> ApiError {
    match e {
        CloudError::NotFound { .. } | CloudError::InvalidParameter(_) => ApiError::InvalidParameter(e.to_string()),
        CloudError::InsufficientCapacity(m) => ApiError::InsufficientCapacity(m),
        CloudError::LimitExceeded(m) => ApiError::ResourceLimit(m),
        CloudError::RuleConflict(m) => ApiError::RuleConflict(m),
        CloudError::Unavailable(m) => ApiError::ResourceUnavailable(m),
        CloudError::Internal(m) => ApiError::Internal(m),
        CloudError::Storage(e) => {
            tracing::error!(error = %e, "simulator storage failed");
            ApiError::internal("Internal error executing command, please contact your system administrator")
        }
    }
}
