//! Owners of what the service holds: the owner block of an account's (or a project's) resources,
//! and the system account that owns what the service registers itself.

use cks_api::ApiError;
use cks_core::tenancy::Owner;
use cks_store::{Account, Domain, Project};
use serde_json::{Value, json};

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

/// The job half of `createProject`: the project exists since the create phase.
pub async fn run_create_project(state: &AppState, job: &cks_store::Job) -> Result<Value, ApiError> {
    let id = job.instance_id.as_deref().unwrap_or_default();
    let project = state
        .store
        .project(id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::internal("project vanished"))?;
    Ok(json!({ "project": crate::render::render_project(&state.store, &project).await? }))
}
