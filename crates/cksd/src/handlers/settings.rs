//! `listConfigurations` and `updateConfiguration` over the settings catalog.

use cks_api::ApiError;
use cks_api::wire::Obj;
use cks_core::settings::{self, SETTINGS, SettingDef, SettingError};
use serde_json::Value;

use super::{Cx, Reply, keyword_matches};
use crate::errors::internal;

fn render(cx: &Cx<'_>, def: &SettingDef) -> Value {
    Obj::new()
        .set("name", def.name)
        .opt("value", cx.state.setting(def.name))
        .set("defaultvalue", def.default)
        .set("category", def.category)
        .set("description", def.description)
        .set("isdynamic", def.is_dynamic)
        .set("type", def.kind.name())
        .set("component", def.component)
        .set("displaytext", def.name)
        .build()
}

pub fn list_configurations(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let items = SETTINGS
        .iter()
        .filter(|d| cx.p.str("name").is_none_or(|n| d.name == n))
        .filter(|d| {
            cx.p.str("category")
                .is_none_or(|c| d.category.eq_ignore_ascii_case(c))
        })
        .filter(|d| keyword_matches(cx.p.str("keyword"), &[d.name]))
        .map(|d| render(cx, d))
        .collect();
    cx.list(items)
}

pub async fn update_configuration(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let name = cx.p.req("name");
    let def = settings::find(name)
        .ok_or_else(|| ApiError::invalid(SettingError::Unknown(name.into()).to_string()))?;
    let scoped = ["zoneid", "clusterid", "accountid", "domainid", "storageid"]
        .iter()
        .any(|k| cx.p.str(k).is_some());
    if scoped {
        return Err(ApiError::invalid(format!(
            "Invalid scope id provided for the parameter {name}"
        )));
    }
    let value = match cx.p.str("value") {
        Some(v) => Some(settings::validate(def, v).map_err(|e| ApiError::invalid(e.to_string()))?),
        None => None,
    };
    cx.state
        .store
        .set_setting(name, value.as_deref())
        .await
        .map_err(internal)?;
    cx.state.cache_setting(name, value);
    Ok(cx.object(render(cx, def)))
}
