//! The Kubernetes version catalog: add, list, update, delete. The changes are in
//! `services::versions`, the rendering in `render::version`.

use cks_api::ApiError;
use cks_core::version::{SemanticVersion, validate_new_version};

use super::{Cx, Reply, keyword_matches};
use crate::errors::internal;
use crate::render::render_version_looked_up;
use crate::services::versions;

const ARCHES: &[&str] = &["x86_64", "aarch64"];

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
    let version = versions::add_version(
        cx.state,
        versions::NewVersion {
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
    Ok(cx.object(render_version_looked_up(cx.state, &version).await?))
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
    Ok(cx.object(render_version_looked_up(cx.state, &version).await?))
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
