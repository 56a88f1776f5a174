//! The one place store and cloud errors become API errors (`ApiError` then chooses the codes).

use cks_api::ApiError;
use cks_cloud::CloudError;

/// A store failure seen from the API: not the caller's fault, and its detail is for the log.
pub fn internal(e: cks_store::StoreError) -> ApiError {
    tracing::error!(error = %e, "store error");
    ApiError::internal("Internal error executing command, please contact your system administrator")
}

/// A cloud failure seen from the API: the only mapping of `CloudError` to `ApiError`.
pub fn cloud_error(e: CloudError) -> ApiError {
    match e {
        CloudError::NotFound { .. } | CloudError::InvalidParameter(_) => {
            ApiError::InvalidParameter(e.to_string())
        }
        CloudError::InsufficientServerCapacity(m) => ApiError::InsufficientServerCapacity(m),
        CloudError::InsufficientAddressCapacity(m) => ApiError::InsufficientAddressCapacity(m),
        CloudError::InsufficientCapacity(m) => ApiError::InsufficientCapacity(m),
        CloudError::LimitExceeded(m) => ApiError::ResourceLimit(m),
        CloudError::RuleConflict(m) => ApiError::RuleConflict(m),
        CloudError::Unavailable(m) => ApiError::ResourceUnavailable(m),
        CloudError::Internal(m) => ApiError::Internal(m),
        CloudError::NodeCommand { exit_code, stderr } => ApiError::Internal(format!(
            "node command failed with exit code {exit_code}: {stderr}"
        )),
        CloudError::Backend { transient, source } => {
            // The source says whose machinery failed ("simulator storage failed: ...").
            tracing::error!(error = %source, transient, "the cloud's backend failed");
            ApiError::internal(
                "Internal error executing command, please contact your system administrator",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use cks_core::iaas::ResourceKind;

    use super::*;

    /// Every `CloudError` variant with the `errorcode` and `cserrorcode` it answers, per
    /// cloudstack-iaas-api.md §1.2. Capacity follows CloudStack's exception classes: no host is
    /// `InsufficientServerCapacityException` (4335), no address
    /// `InsufficientAddressCapacityException` (4320), the rest `InsufficientCapacityException`
    /// (4325); before, every capacity error answered 4325.
    #[test]
    fn every_cloud_error_maps_to_one_code_pair_and_server_and_address_capacity_get_their_own_cserrorcodes()
     {
        let backend = || std::io::Error::other("disk full");
        let cases: Vec<(CloudError, u16, u32)> = vec![
            (CloudError::not_found(ResourceKind::Vm, "x"), 431, 4350),
            (CloudError::invalid("bad"), 431, 4350),
            (
                CloudError::InsufficientServerCapacity("no host".into()),
                533,
                4335,
            ),
            (
                CloudError::InsufficientAddressCapacity("no address".into()),
                533,
                4320,
            ),
            (
                CloudError::InsufficientCapacity("no VLAN".into()),
                533,
                4325,
            ),
            (CloudError::LimitExceeded("limit".into()), 535, 4370),
            (CloudError::RuleConflict("overlap".into()), 537, 4360),
            (CloudError::Unavailable("down".into()), 534, 4380),
            (CloudError::Internal("boom".into()), 530, 4250),
            (CloudError::transient_backend(backend()), 530, 4250),
            (CloudError::permanent_backend(backend()), 530, 4250),
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
            // A new variant fails to compile here until it has a row above.
            match &err {
                CloudError::NotFound { .. }
                | CloudError::InvalidParameter(_)
                | CloudError::InsufficientServerCapacity(_)
                | CloudError::InsufficientAddressCapacity(_)
                | CloudError::InsufficientCapacity(_)
                | CloudError::LimitExceeded(_)
                | CloudError::RuleConflict(_)
                | CloudError::Unavailable(_)
                | CloudError::Internal(_)
                | CloudError::Backend { .. }
                | CloudError::NodeCommand { .. } => {}
            }
            let shown = err.to_string();
            assert_eq!(cloud_error(err).codes(), (code, cs), "{shown}");
        }
    }

    #[test]
    fn a_backend_failure_shows_no_detail_to_the_caller() {
        let err = CloudError::permanent_backend(std::io::Error::other("password=hunter2"));
        assert_eq!(
            cloud_error(err).to_string(),
            "Internal error executing command, please contact your system administrator"
        );
    }
}
