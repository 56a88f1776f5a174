//! The Kubernetes version catalog: add, list, update, delete.

use std::collections::BTreeMap;

use cks_api::ApiError;
use cks_api::date::format_date;
use cks_api::wire::Obj;
use cks_cloud::{CloudError, IsoSpec, ObjectIds, Objects};
use cks_core::tenancy::Owner;
use cks_core::version::{SemanticVersion, validate_new_version};
use cks_store::{KubernetesVersion, new_id, now};
use serde_json::{Value, json};

use super::{Cx, Reply, keyword_matches};
use crate::errors::cloud_error;
use crate::errors::internal;
use crate::state::AppState;

const ARCHES: &[&str] = &["x86_64", "aarch64"];

/// The version object, with its ISO's and zone's names and the ISO's state, from `objects` (a
/// `Cloud::lookup` of them).
pub fn render(v: &KubernetesVersion, objects: &Objects) -> Value {
    let semver = SemanticVersion::parse(&v.semantic_version).ok();
    let iso = v.iso_id.as_ref().and_then(|id| objects.isos.get(id));
    let zone_name = v
        .zone_id
        .as_ref()
        .and_then(|z| objects.zones.get(z))
        .map(|zone| zone.name.clone());
    Obj::new()
        .set("id", v.id.clone())
        .set("name", v.name.clone())
        .set("semanticversion", v.semantic_version.clone())
        .opt("isoid", v.iso_id.clone())
        .opt("isoname", iso.map(|i| i.name.clone()))
        .opt("isostate", iso.map(|i| i.state.as_str()))
        .set("arch", v.arch.clone())
        .opt("zoneid", v.zone_id.clone())
        .opt("zonename", zone_name)
        .set(
            "supportsha",
            semver.as_ref().is_some_and(SemanticVersion::supports_ha),
        )
        .set(
            "supportsautoscaling",
            semver
                .as_ref()
                .is_some_and(SemanticVersion::supports_autoscaling),
        )
        .set("state", v.state.clone())
        .set("mincpunumber", v.min_cpu)
        .set("minmemory", v.min_memory)
        .set("created", format_date(v.created))
        .set("directdownload", v.direct_download)
        .build()
}

/// One version rendered, with its ISO and zone looked up in one cloud call.
async fn render_one(state: &AppState, v: &KubernetesVersion) -> Result<Value, ApiError> {
    let ids = ObjectIds {
        isos: v.iso_id.iter().cloned().collect(),
        zones: v.zone_id.iter().cloned().collect(),
        ..ObjectIds::default()
    };
    let objects = state.cloud.lookup(&ids).await.map_err(cloud_error)?;
    Ok(render(v, &objects))
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
    Ok(super::owner_of(&system, &root, None))
}

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

pub async fn add(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let semver = validate_new_version(
        p.req("semanticversion"),
        p.int("mincpunumber").unwrap_or(0),
        p.int("minmemory").unwrap_or(0),
    )
    .map_err(|e| ApiError::invalid(e.to_string()))?;
    let url = p.str("url").unwrap_or_default().trim();
    if url.is_empty() {
        return Err(ApiError::invalid(format!(
            "Invalid URL for ISO specified, {url}"
        )));
    }
    let arch = p.str("arch").unwrap_or("x86_64");
    if !ARCHES.contains(&arch) {
        return Err(ApiError::invalid(format!(
            "Invalid arch specified: {arch}. Valid options are: x86_64, aarch64"
        )));
    }
    let version = add_version(
        cx.state,
        NewVersion {
            semantic_version: semver.as_str().to_string(),
            name: p.str("name").map(str::to_string),
            zone_id: p.str("zoneid").map(str::to_string),
            url: url.to_string(),
            checksum: p.str("checksum").map(str::to_string),
            min_cpu: p.int("mincpunumber").unwrap_or(0),
            min_memory: p.int("minmemory").unwrap_or(0),
            direct_download: p.flag("directdownload"),
            arch: arch.to_string(),
        },
    )
    .await?;
    Ok(cx.object(render_one(cx.state, &version).await?))
}

pub async fn list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let minimum = match (
        p.str("minimumsemanticversion"),
        p.str("minimumkubernetesversionid"),
    ) {
        (Some(_), Some(_)) => {
            return Err(ApiError::internal(
                "Both parameters minimumsemanticversion and minimumkubernetesversionid can not be passed together",
            ));
        }
        (Some(text), None) => {
            Some(SemanticVersion::parse(text).map_err(|e| ApiError::invalid(e.to_string()))?)
        }
        (None, Some(id)) => {
            let v = cx
                .state
                .store
                .version(id)
                .await
                .map_err(internal)?
                .ok_or_else(|| ApiError::invalid("Invalid minimumkubernetesversionid passed"))?;
            SemanticVersion::parse(&v.semantic_version).ok()
        }
        (None, None) => None,
    };
    let catalog = cx.state.version_catalog().await.map_err(internal)?;
    // CKS filters by minimum version after paging, so pages come out short; we filter first.
    let matches: Vec<&crate::state::CatalogEntry> = catalog
        .iter()
        .filter(|e| {
            let v = &e.version;
            p.str("id").is_none_or(|id| v.id == id)
                && p.str("zoneid")
                    .is_none_or(|z| v.zone_id.as_deref().is_none_or(|vz| vz == z))
                && keyword_matches(p.str("keyword"), &[&v.name])
                && p.str("arch").is_none_or(|a| v.arch == a)
        })
        .filter(|e| {
            match (
                &minimum,
                SemanticVersion::parse(&e.version.semantic_version),
            ) {
                (Some(min), Ok(own)) => own >= *min,
                (Some(_), Err(_)) => false,
                (None, _) => true,
            }
        })
        .collect();
    cx.list_refs(matches.into_iter().map(|e| &e.rendered).collect())
}

pub async fn update(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let id = cx.p.req("id");
    let state = cx.p.req("state");
    if state != "Enabled" && state != "Disabled" {
        return Err(ApiError::invalid("Invalid value for state parameter"));
    }
    let store = &cx.state.store;
    store
        .version(id)
        .await
        .map_err(internal)?
        .ok_or_else(|| cx.p.not_found("id"))?;
    store.set_version_state(id, state).await.map_err(internal)?;
    cx.state.forget_version_catalog();
    let version = store
        .version(id)
        .await
        .map_err(internal)?
        .ok_or_else(|| cx.p.not_found("id"))?;
    Ok(cx.object(render_one(cx.state, &version).await?))
}

pub async fn delete(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let id = cx.p.req("id");
    cx.state
        .store
        .version(id)
        .await
        .map_err(internal)?
        .ok_or_else(|| cx.p.not_found("id"))?;
    super::jobs::submit(cx, "KubernetesSupportedVersion", Some(id)).await
}

/// The job of `deleteKubernetesSupportedVersion`. Safe to run again: a version already removed,
/// or an ISO already gone, counts as done.
pub async fn run_delete(
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
