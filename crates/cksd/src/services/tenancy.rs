//! Owners of what the service holds: the owner block of an account's (or a project's) resources,
//! and the system account that owns what the service registers itself.

use cks_api::ApiError;
use cks_core::tenancy::Owner;
use cks_store::{Account, Domain, Project};

use crate::errors::internal;
use crate::state::AppState;

/// The owner block of what an account (or a project, through its hidden account) holds.
pub fn owner_of(account: &Account, domain: &Domain, project: Option<&Project>) -> Owner {
    Owner {
        account_id: account.id.clone(),
        account_name: account.name.clone(),
        domain_id: domain.id.clone(),
        domain_name: domain.name.clone(),
        domain_path: domain.path.clone(),
        project_id: project.map(|p| p.id.clone()),
        project_name: project.map(|p| p.name.clone()),
    }
}

/// The account that owns what the service itself registers (binaries ISOs).
pub async fn system_owner(state: &AppState) -> Result<Owner, ApiError> {
    let root = state
        .store
        .root_domain()
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::internal("ROOT domain is missing"))?;
    let system = state
        .store
        .account_by_name(&root.id, "system")
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::internal("system account is missing"))?;
    Ok(owner_of(&system, &root, None))
}
