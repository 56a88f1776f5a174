//! The `project` object: a project with its domain, owner and hidden account's names.

use cks_api::ApiError;
use cks_api::date::format_date;
use cks_api::wire::Obj;
use cks_store::Project;
use serde_json::{Value, json};

use crate::errors::internal;

/// A project with the names of its domain, owner and hidden account.
pub async fn render_project(store: &cks_store::Store, p: &Project) -> Result<Value, ApiError> {
    let domain = store.domain(&p.domain_id).await.map_err(internal)?;
    let owner = store.account(&p.owner_account_id).await.map_err(internal)?;
    let project_account = store
        .account(&p.project_account_id)
        .await
        .map_err(internal)?;
    Ok(Obj::new()
        .set("id", p.id.clone())
        .set("name", p.name.clone())
        .set("displaytext", p.display_text.clone())
        .set("domainid", p.domain_id.clone())
        .opt("domain", domain.map(|d| d.name))
        .set(
            "owner",
            json!([{ "account": owner.map(|o| o.name).unwrap_or_default() }]),
        )
        .opt("projectaccountname", project_account.map(|a| a.name))
        .set("state", p.state.clone())
        .set("created", format_date(p.created))
        .set("tags", json!([]))
        .build())
}
