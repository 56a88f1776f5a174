//! What a job row may keep: the parameters of a request without its credentials, for new jobs
//! (the handlers) and, once per database, for rows written before that rule (first start).

use std::collections::BTreeMap;

/// The parameters a job row may keep: no credentials, no secret values.
pub fn persistable(params: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    params
        .iter()
        .filter(|(name, _)| cks_api::commands::is_persistable(name))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Rewrites job rows written before `persistable` existed, once, at start.
pub async fn scrub_stored_params(state: &crate::state::AppState) -> anyhow::Result<usize> {
    let mut scrubbed = 0;
    for (id, text) in state.store.jobs_holding_credentials().await? {
        let Ok(params) = serde_json::from_str::<BTreeMap<String, String>>(&text) else {
            continue;
        };
        let kept = persistable(&params);
        if kept.len() != params.len() {
            state
                .store
                .set_job_params(&id, &serde_json::to_string(&kept)?)
                .await?;
            scrubbed += 1;
        }
    }
    Ok(scrubbed)
}
