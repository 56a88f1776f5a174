//! Account resource limits (`updateResourceLimit`, `listResourceLimits`): the limits the
//! simulated cloud enforces on deploys, IP acquisitions and network creation. Only account
//! (and project account) limits exist here; CloudStack's domain limits do not.

use cks_api::ApiError;
use cks_api::wire::Obj;
use cks_core::tenancy::{AccountType, Owner};
use cks_sim::LimitKind;
use cks_store::{Account, Domain};
use serde_json::Value;

use super::clusters::owner_for_create;
use super::{Cx, Reply, Scope, scope};
use crate::errors::{cloud_error, internal};

/// The `resourcelimit` object. CloudStack shows `resourcetype` as a string and `-1` for no limit.
fn render(owner: &Owner, kind: LimitKind, max: Option<u64>) -> Value {
    Obj::new()
        .owner(owner)
        .set("resourcetype", kind.resource_type().to_string())
        .set("resourcetypename", kind.as_str())
        .set("max", max.map_or(-1, |m| m as i64))
        .build()
}

/// `resourcetype`, among the kinds the cloud limits.
fn kind(number: i64) -> Result<LimitKind, ApiError> {
    u8::try_from(number)
        .ok()
        .and_then(LimitKind::from_resource_type)
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "Resource type {number} is not limited by this cloud; supported are 0 (user_vm), 1 (public_ip), 6 (network), 8 (cpu) and 9 (memory)"
            ))
        })
}

pub async fn update(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let kind = kind(p.int("resourcetype").unwrap_or(-1))?;
    let max = p.int("max").unwrap_or(-1);
    if max < -1 {
        return Err(ApiError::invalid(
            "Please specify either '-1' for an infinite limit, or a limit that is at least '0'.",
        ));
    }
    if p.str("account").is_none() && p.str("projectid").is_none() {
        return Err(ApiError::invalid(
            "Only account resource limits are supported: give account with domainid, or projectid",
        ));
    }
    let owner = owner_for_create(cx).await?;
    if owner.account_id == cx.caller.account_id && cx.caller.account_type != AccountType::RootAdmin
    {
        return Err(ApiError::denied(format!(
            "Unable to update resource limit for their own account {}, permission denied",
            owner.account_name
        )));
    }
    let max = u64::try_from(max).ok();
    cx.simulator()?
        .set_resource_limit(&owner.account_id, kind, max)
        .await
        .map_err(cloud_error)?;
    Ok(cx.object(render(&owner, kind, max)))
}

pub async fn list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let wanted = match cx.p.int("resourcetype") {
        Some(n) => Some(kind(n)?),
        None => None,
    };
    let owners = owners_in(cx, &scope(cx).await?).await?;
    let mut items = Vec::new();
    for owner in &owners {
        for limit in cx.simulator()?.resource_limits(&owner.account_id) {
            if wanted.is_none_or(|k| k == limit.kind) {
                items.push(render(owner, limit.kind, limit.max));
            }
        }
    }
    cx.list(items)
}

/// The accounts (project accounts included) a list scope covers, as owners.
async fn owners_in(cx: &Cx<'_>, scope: &Scope) -> Result<Vec<Owner>, ApiError> {
    let store = &cx.state.store;
    let domains = store.domains().await.map_err(internal)?;
    let accounts: Vec<Account> = match scope {
        Scope::Account(id) => store
            .account(id)
            .await
            .map_err(internal)?
            .into_iter()
            .collect(),
        Scope::Projects(ids) => {
            let mut res = Vec::new();
            for id in ids {
                let Some(project) = store.project(id).await.map_err(internal)? else {
                    continue;
                };
                res.extend(
                    store
                        .account(&project.project_account_id)
                        .await
                        .map_err(internal)?,
                );
            }
            res
        }
        Scope::Domain { .. } => store.accounts().await.map_err(internal)?,
    };
    let projects = store.projects().await.map_err(internal)?;
    let owners = accounts
        .into_iter()
        .filter_map(|a| {
            let domain: &Domain = domains.iter().find(|d| d.id == a.domain_id)?;
            let project = a
                .project_id
                .as_ref()
                .and_then(|id| projects.iter().find(|p| p.id == *id));
            Some(super::owner_of(&a, domain, project))
        })
        .filter(|o| scope.matches(o))
        .collect();
    Ok(owners)
}
