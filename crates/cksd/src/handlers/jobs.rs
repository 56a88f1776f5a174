//! `queryAsyncJobResult`, `listAsyncJobs`, and how a handler queues a job.

use std::collections::{BTreeMap, HashMap};

use cks_api::date::format_date;
use cks_api::wire::Obj;
use cks_api::{ApiError, envelope};
use cks_store::{Job, JobStatus, NewJob, new_id};
use serde_json::Value;

use super::{Cx, Reply};
use crate::errors::internal;

/// Queues the current command as a job and answers with its id (and `id` for create commands).
pub async fn submit(
    cx: &Cx<'_>,
    instance_type: &str,
    instance_id: Option<&str>,
) -> Result<Reply, ApiError> {
    queue(
        cx,
        &job_for(cx, instance_type, instance_id, BTreeMap::new()),
    )
    .await
}

/// The current command as a job: its parameters, plus `extra` ones its body needs.
pub fn job_for(
    cx: &Cx<'_>,
    instance_type: &str,
    instance_id: Option<&str>,
    extra: BTreeMap<String, String>,
) -> NewJob {
    let command = cx.p.command;
    let mut params = crate::services::jobs::persistable(cx.p.raw().plain());
    params.extend(extra);
    NewJob {
        id: new_id(),
        command: command.name.to_string(),
        cmd_class: command.java_class.to_string(),
        user_id: cx.caller.user_id.clone(),
        account_id: cx.caller.account_id.clone(),
        domain_id: cx.caller.domain_id.clone(),
        params: serde_json::to_string(&params).unwrap_or_default(),
        instance_type: Some(instance_type.to_string()),
        instance_id: instance_id.map(str::to_string),
    }
}

/// Inserts a job, wakes the runner, and answers with the job id (and `id` for create commands).
pub async fn queue(cx: &Cx<'_>, job: &NewJob) -> Result<Reply, ApiError> {
    cx.state.store.insert_job(job).await.map_err(internal)?;
    cx.state.jobs_queued.notify_one();
    Ok(submitted(cx, job))
}

/// The answer to an async command whose job is queued.
pub fn submitted(cx: &Cx<'_>, job: &NewJob) -> Reply {
    let command = cx.p.command;
    let entity = (command.mode == cks_api::commands::Mode::AsyncCreate)
        .then_some(job.instance_id.as_deref())
        .flatten();
    Reply::json(envelope::async_submit(command.name, &job.id, entity))
}

/// The job object CloudStack shows, flat, with its account's name and domain's path.
fn render(job: &Job, account_name: Option<String>, domain_path: Option<String>) -> Value {
    let result: Option<Value> = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    Obj::new()
        .set("accountid", job.account_id.clone())
        .opt("account", account_name)
        .set("domainid", job.domain_id.clone())
        .opt("domainpath", domain_path)
        .set("userid", job.user_id.clone())
        .set("cmd", job.cmd_class.clone())
        .set("jobstatus", job.status.code())
        .set("jobprocstatus", 0)
        .set("jobresultcode", job.result_code)
        .opt(
            "jobresulttype",
            (job.status != JobStatus::Pending).then_some("object"),
        )
        .opt("jobresult", result)
        .opt("jobinstancetype", job.instance_type.clone())
        .opt("jobinstanceid", job.instance_id.clone())
        .opt("managementserverid", job.management_server_id.clone())
        .set("created", format_date(job.created))
        .opt("completed", job.completed.map(format_date))
        .set("jobid", job.id.clone())
        .build()
}

/// May the caller see this job? Its own account's jobs, or any in a domain it administers.
pub(crate) async fn visible(cx: &Cx<'_>, job: &Job) -> Result<bool, ApiError> {
    if job.account_id == cx.caller.account_id || cx.caller.is_root_admin() {
        return Ok(true);
    }
    if cx.caller.is_domain_admin() {
        let domain = cx
            .state
            .store
            .domain(&job.domain_id)
            .await
            .map_err(internal)?;
        return Ok(domain.is_some_and(|d| cx.caller.administers_domain(&d.path)));
    }
    Ok(false)
}

pub async fn query_async_job_result(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let job = cx
        .state
        .store
        .job(cx.p.req("jobid"))
        .await
        .map_err(internal)?;
    let job = match job {
        Some(j) if visible(cx, &j).await? => j,
        _ => return Err(cx.p.not_found("jobid")),
    };
    let store = &cx.state.store;
    let account = store
        .account(&job.account_id)
        .await
        .map_err(internal)?
        .map(|a| a.name);
    let domain = store
        .domain(&job.domain_id)
        .await
        .map_err(internal)?
        .map(|d| d.path);
    Ok(Reply::json(envelope::flat(
        cx.command(),
        render(&job, account, domain),
    )))
}

pub async fn list_async_jobs(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let scope = super::scope(cx).await?;
    let store = &cx.state.store;
    // Names and paths once per request, not once per job.
    let domains: HashMap<String, String> = store
        .domains()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|d| (d.id, d.path))
        .collect();
    let accounts: HashMap<String, String> = store
        .accounts()
        .await
        .map_err(internal)?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let keyword = cx.p.str("keyword");
    let mut items = Vec::new();
    for job in store.recent_jobs(10_000).await.map_err(internal)? {
        let domain_path = domains.get(&job.domain_id).cloned();
        let owner = cks_core::tenancy::Owner {
            account_id: job.account_id.clone(),
            domain_path: domain_path.clone().unwrap_or_default(),
            ..Default::default()
        };
        if !scope.matches(&owner)
            || !super::keyword_matches(keyword, &[&job.command, &job.cmd_class])
        {
            continue;
        }
        if cx
            .p
            .str("resourceid")
            .is_some_and(|r| job.instance_id.as_deref() != Some(r))
        {
            continue;
        }
        items.push(render(
            &job,
            accounts.get(&job.account_id).cloned(),
            domain_path,
        ));
    }
    cx.list(items)
}
