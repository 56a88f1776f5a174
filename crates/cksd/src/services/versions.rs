//! The Kubernetes version catalog's changes: adding a version (its binaries ISO registered with
//! the cloud, then the row; shared by `addKubernetesSupportedVersion` and first-start seeding)
//! and the job that deletes one. Each clears `AppState`'s in-memory catalog.

use std::collections::BTreeMap;

use cks_api::ApiError;
use cks_cloud::{CloudError, IsoSpec, ObjectIds};
use cks_store::{KubernetesVersion, new_id, now};
use serde_json::{Value, json};

use super::tenancy::system_owner;
use crate::errors::{cloud_error, internal};
use crate::state::AppState;

/// What `addKubernetesSupportedVersion` needs, already validated.
pub struct NewVersion {
    pub semantic_version: String,
    pub name: Option<String>,
    pub zone_id: Option<String>,
    pub url: String,
    pub checksum: Option<String>,
    pub min_cpu: i64,
    pub min_memory: i64,
    pub direct_download: bool,
    pub arch: String,
}

/// Registers the binaries ISO and stores the version (shared by the API and first-start seeding).
pub async fn add_version(state: &AppState, new: NewVersion) -> Result<KubernetesVersion, ApiError> {
    let zone = match &new.zone_id {
        Some(id) => {
            let ids = ObjectIds {
                zones: vec![id.clone()],
                ..ObjectIds::default()
            };
            let mut found = state.cloud.lookup(&ids).await.map_err(cloud_error)?;
            Some(
                found
                    .zones
                    .remove(id)
                    .ok_or_else(|| ApiError::invalid("Invalid zone specified"))?,
            )
        }
        None => None,
    };
    let name = new.name.clone().unwrap_or_else(|| match &zone {
        Some(z) => format!("v{}-{}", new.semantic_version, z.name),
        None => format!("v{}", new.semantic_version),
    });
    let iso_name = format!("{name}-Kubernetes-Binaries-ISO");
    let iso = state
        .cloud
        .register_iso(&IsoSpec {
            name: iso_name.clone(),
            display_text: Some(iso_name),
            url: new.url.clone(),
            checksum: new.checksum.clone(),
            zone_id: new.zone_id.clone(),
            bootable: false,
            is_public: true,
            is_featured: false,
            is_extractable: false,
            arch: Some(new.arch.clone()),
            os_type_name: None,
            owner: system_owner(state).await?,
            tags: Default::default(),
        })
        .await
        .map_err(cloud_error)?;
    let version = KubernetesVersion {
        id: new_id(),
        name,
        semantic_version: new.semantic_version,
        iso_id: Some(iso.id),
        zone_id: new.zone_id,
        arch: new.arch,
        state: "Enabled".into(),
        min_cpu: new.min_cpu,
        min_memory: new.min_memory,
        direct_download: new.direct_download,
        created: now(),
    };
    state
        .store
        .insert_version(&version)
        .await
        .map_err(internal)?;
    state.forget_version_catalog();
    Ok(version)
}

/// The job of `deleteKubernetesSupportedVersion`. Safe to run again: a version already removed,
/// or an ISO already gone, counts as done.
pub async fn delete_version(
    state: &AppState,
    params: &BTreeMap<String, String>,
) -> Result<Value, ApiError> {
    let id = params.get("id").map(String::as_str).unwrap_or_default();
    let Some(version) = state.store.version(id).await.map_err(internal)? else {
        return Ok(json!({ "success": true }));
    };
    if state
        .store
        .clusters_using_version(id)
        .await
        .map_err(internal)?
        > 0
    {
        return Err(ApiError::internal(format!(
            "Unable to delete Kubernetes version ID: {id}. Existing clusters currently using the version."
        )));
    }
    if let Some(iso) = &version.iso_id {
        match state.cloud.delete_iso(iso).await {
            Ok(_) | Err(CloudError::NotFound { .. }) => {}
            Err(e) => return Err(cloud_error(e)),
        }
    }
    state.store.remove_version(id).await.map_err(internal)?;
    state.forget_version_catalog();
    Ok(json!({ "success": true }))
}
