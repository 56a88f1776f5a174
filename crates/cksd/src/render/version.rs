//! The `kubernetessupportedversion` object: a catalog entry with its ISO's and zone's names and
//! the ISO's state. The version commands and the in-memory catalog (`AppState::version_catalog`)
//! render with it.

use cks_api::ApiError;
use cks_api::date::format_date;
use cks_api::wire::Obj;
use cks_cloud::{ObjectIds, Objects};
use cks_core::version::SemanticVersion;
use cks_store::KubernetesVersion;
use serde_json::Value;

use crate::errors::cloud_error;
use crate::state::AppState;

/// The version object, with its ISO's and zone's names and the ISO's state, from `objects` (a
/// `Cloud::lookup` of them).
pub fn render_version(v: &KubernetesVersion, objects: &Objects) -> Value {
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
pub async fn render_version_looked_up(
    state: &AppState,
    v: &KubernetesVersion,
) -> Result<Value, ApiError> {
    let ids = ObjectIds {
        isos: v.iso_id.iter().cloned().collect(),
        zones: v.zone_id.iter().cloned().collect(),
        ..ObjectIds::default()
    };
    let objects = state.cloud.lookup(&ids).await.map_err(cloud_error)?;
    Ok(render_version(v, &objects))
}
