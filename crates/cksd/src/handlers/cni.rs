//! CNI configurations (spec §2.5): cloud-init content an account registers for its clusters'
//! first control node, with the names of the parameters a cluster fills in
//! (`cniconfigdetails`). CloudStack keeps them as user data flagged for CKS; here they have their
//! own table. A configuration cannot be deleted while a live cluster uses it.

use std::collections::BTreeMap;

use cks_api::ApiError;
use cks_api::userdata::{self, MAX_POST_LENGTH};
use cks_api::wire::Obj;
use cks_bootstrap::CniConfiguration;
use cks_core::settings as s;
use cks_core::tenancy::{AccountType, Owner};
use cks_store::{CniConfigRecord, StoreError, new_id, now};
use serde_json::Value;

use super::clusters::owner_for_create;
use super::{Cx, Reply, Scope, keyword_matches, member_projects, name_matches, scope};
use crate::errors::internal;

/// Metadata files the virtual router serves itself; a parameter may not shadow one.
const VR_METADATA_FILES: &[&str] = &[
    "availability-zone",
    "cloud-identifier",
    "instance-id",
    "local-hostname",
    "local-ipv4",
    "public-hostname",
    "public-ipv4",
    "public-keys",
    "service-offering",
    "vm-id",
    "hypervisor-host-name",
];

/// The `cniconfig` object.
pub fn render(c: &CniConfigRecord) -> Value {
    Obj::new()
        .set("id", c.id.clone())
        .set("name", c.name.clone())
        .set("accountid", c.owner.account_id.clone())
        .owner(&c.owner)
        .set("userdata", c.user_data.clone())
        .opt("params", c.params.clone())
        .build()
}

pub async fn register(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let store = &cx.state.store;
    let owner = owner_for_create(cx).await?;
    let name = p.req("name").trim().to_string();
    let taken = |name: &str| {
        ApiError::invalid(format!(
            "A userdata with name {name} already exists for this account."
        ))
    };
    let existing = store
        .cni_configs(Some(&owner.account_id))
        .await
        .map_err(internal)?;
    if existing.iter().any(|c| c.name == name) {
        return Err(taken(&name));
    }
    let Some(content) = p.str("cniconfig") else {
        return Err(ApiError::MissingParameter {
            command: cx.command().to_ascii_lowercase(),
            param: "cniconfig".into(),
        });
    };
    let max = cx
        .state
        .setting_i64(s::USERDATA_MAX_LENGTH)
        .clamp(1, MAX_POST_LENGTH as i64) as usize;
    let user_data = userdata::validate(content, max)?;
    let params = p.str("params").map(CniConfiguration::parse_params);
    if let Some(names) = &params {
        let clashes: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| VR_METADATA_FILES.contains(n))
            .collect();
        if !clashes.is_empty() {
            return Err(ApiError::invalid(format!(
                "Params passed here have a few virtual router metadata file names: {}",
                clashes.join(", ")
            )));
        }
    }
    let record = CniConfigRecord {
        id: new_id(),
        name: name.clone(),
        owner,
        user_data,
        params: params.filter(|n| !n.is_empty()).map(|n| n.join(",")),
        created: now(),
    };
    match store.insert_cni_config(&record).await {
        Ok(()) => Ok(cx.object(render(&record))),
        Err(StoreError::Duplicate(_)) => Err(taken(&name)),
        Err(e) => Err(internal(e)),
    }
}

pub async fn list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let scope = scope(cx).await?;
    let account_id = match &scope {
        Scope::Account(id) => Some(id.as_str()),
        _ => None,
    };
    let configs = cx
        .state
        .store
        .cni_configs(account_id)
        .await
        .map_err(internal)?;
    let items = configs
        .iter()
        .filter(|c| {
            scope.matches(&c.owner)
                && p.str("id").is_none_or(|id| c.id == id)
                && name_matches(p.str("name"), &c.name)
                && keyword_matches(p.str("keyword"), &[&c.name])
        })
        .map(render)
        .collect();
    cx.list(items)
}

pub async fn delete(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let store = &cx.state.store;
    let id = p.req("id");
    let owner_given = ["account", "domainid", "projectid"]
        .iter()
        .any(|n| p.str(n).is_some());
    let owner = match owner_given {
        true => Some(owner_for_create(cx).await?),
        false => None,
    };
    let projects = member_projects(cx).await?;
    let config = store
        .cni_config(id)
        .await
        .map_err(internal)?
        .filter(|c| cx.caller.can_access(&c.owner, &projects))
        .ok_or_else(|| p.not_found("id"))?;
    if let Some(owner) = owner
        && owner.account_id != config.owner.account_id
    {
        return Err(ApiError::invalid(format!(
            "A UserData with id '{id}' does not exist for account {} in specified domain id",
            owner.account_name
        )));
    }
    let users = store
        .clusters_using_cni_config(id)
        .await
        .map_err(internal)?;
    if !users.is_empty() {
        return Err(ApiError::internal(format!(
            "Userdata {} cannot be removed as it is being used by some VMs",
            config.name
        )));
    }
    store.delete_cni_config(id).await.map_err(internal)?;
    Ok(Reply::json(cks_api::envelope::flat(
        cx.command(),
        cks_api::envelope::success_body(None),
    )))
}

/// `createKubernetesCluster`'s `cniconfigurationid` and `cniconfigdetails`: the configuration
/// must be one the new cluster's owner may use, and the details (every entry of the map,
/// flattened into one) must fill exactly its declared parameters. Answers the details, or why the
/// configuration cannot be used (a rule `validate_create` applies in its turn); `Err` only when
/// the store fails.
pub(super) async fn cluster_details(
    cx: &Cx<'_>,
    owner: &Owner,
) -> Result<Result<BTreeMap<String, String>, String>, ApiError> {
    let Some(id) = cx.p.str("cniconfigurationid") else {
        return Ok(Ok(BTreeMap::new()));
    };
    let not_found = || {
        Ok(Err(
            "Unable to find CNI configuration with the given ID".to_string()
        ))
    };
    let Some(config) = cx.state.store.cni_config(id).await.map_err(internal)? else {
        return not_found();
    };
    // Users use their own account's (or the project's); admins any they can see.
    let usable = cx
        .caller
        .can_access(&config.owner, &member_projects(cx).await?)
        && (config.owner.account_id == owner.account_id
            || cx.caller.account_type != AccountType::User);
    if !usable {
        return not_found();
    }
    let details: BTreeMap<String, String> =
        cx.p.map("cniconfigdetails")
            .into_iter()
            .flat_map(|map| map.values())
            .flat_map(|entry| entry.iter())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    let cni = CniConfiguration {
        user_data_base64: config.user_data.clone(),
        params: CniConfiguration::parse_params(config.params.as_deref().unwrap_or_default()),
        details,
        as_number: None,
    };
    if let Err(e) = cni.render() {
        return Ok(Err(format!(
            "Unable to use CNI configuration {}: {e}",
            config.name
        )));
    }
    Ok(Ok(cni.details))
}
