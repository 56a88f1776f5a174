//! The operator's view of cluster operations: the step journal of a job (`listAsyncJobSteps`),
//! and the admin commands that abort a running operation or retry a failed or stuck one. The
//! mechanics (ownership, resuming from the first step not done) are in `orchestrator`.

use std::collections::BTreeMap;

use cks_api::ApiError;
use cks_api::date::format_date;
use cks_api::wire::Obj;
use cks_core::cluster::{ClusterState, OperationParams};
use cks_store::{Job, JobStatus, JobStep, NewJob, StepState, new_id, now};
use serde_json::{Value, json};

use super::clusters::cluster_for;
use super::{Cx, Reply, member_projects};
use crate::errors::internal;
use crate::orchestrator::{ABORTED, Operation, before_nodes_ready};
use crate::render::render_cluster;

// === listAsyncJobSteps ===

fn step_state(s: StepState) -> &'static str {
    match s {
        StepState::Pending => "Pending",
        StepState::Running => "Running",
        StepState::Done => "Succeeded",
        StepState::Failed => "Failed",
    }
}

fn render_step(job: &Job, s: &JobStep) -> Value {
    Obj::new()
        .set("jobid", job.id.clone())
        .set("name", s.name.clone())
        .set("state", step_state(s.state))
        .set("attempts", s.attempts)
        // Steps are planned when their job first runs; the job's creation is the closest time
        // the journal records.
        .set("created", format_date(job.created))
        .opt("started", s.started.map(format_date))
        .opt("completed", s.finished.map(format_date))
        .opt("errortext", s.error.clone())
        .opt("managementserverid", job.management_server_id.clone())
        .build()
}

/// The steps of a job (`jobid`), or of a cluster's current or last operation (`clusterid`).
pub async fn list_steps(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let store = &cx.state.store;
    let job = match (cx.p.str("jobid"), cx.p.str("clusterid")) {
        (Some(id), _) => match store.job(id).await.map_err(internal)? {
            Some(j) if super::jobs::visible(cx, &j).await? => Some(j),
            _ => return Err(cx.p.not_found("jobid")),
        },
        (None, Some(id)) => {
            // Removed clusters too: the steps of the delete that removed one are worth seeing.
            let cluster = store.cluster_any(id).await.map_err(internal)?;
            let cluster = match cluster {
                Some(c) if cx.caller.can_access(&c.owner, &member_projects(cx).await?) => c,
                _ => return Err(cx.p.not_found("clusterid")),
            };
            match cluster.job_id {
                Some(j) => store.job(&j).await.map_err(internal)?,
                None => None,
            }
        }
        (None, None) => {
            return Err(ApiError::MissingParameter {
                command: cx.command().to_ascii_lowercase(),
                param: "jobid".into(),
            });
        }
    };
    let Some(job) = job else {
        return cx.list(Vec::<Value>::new());
    };
    let steps = store.steps(&job.id).await.map_err(internal)?;
    cx.list(steps.iter().map(|s| render_step(&job, s)).collect())
}

// === abortKubernetesClusterOperation ===

/// Settles the cluster at once (Alert, or Error for a create whose nodes were never ready) with
/// the reason in `lasterror`; the job stops at its next step boundary and fails with it.
pub async fn abort(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let c = cluster_for(cx).await?;
    let store = &cx.state.store;
    if c.state == ClusterState::Destroying {
        return Err(ApiError::invalid(format!(
            "Kubernetes cluster : {} is being deleted; a delete cannot be aborted, delete it with forced=true instead",
            c.name
        )));
    }
    let nothing = || {
        ApiError::invalid(format!(
            "Kubernetes cluster : {} has no operation in progress to abort",
            c.name
        ))
    };
    let Some(job_id) = c.job_id.clone().filter(|_| c.state.is_transient()) else {
        return Err(nothing());
    };
    let op = store
        .job(&job_id)
        .await
        .map_err(internal)?
        .and_then(|j| Operation::of_command(&j.command));
    let steps = store.steps(&job_id).await.map_err(internal)?;
    let at = steps
        .iter()
        .position(|s| s.state != StepState::Done)
        .unwrap_or(steps.len());
    let before_ready = op.is_some_and(|op| before_nodes_ready(op, &steps, at));
    let Some(to) = c.state.on_abort(before_ready) else {
        return Err(nothing());
    };
    // Conditional on the job still driving the cluster in this state: an operation that
    // finished or failed meanwhile keeps its own outcome.
    if !store
        .abort_operation(&c.id, &job_id, c.state, to, ABORTED)
        .await
        .map_err(internal)?
    {
        return Err(nothing());
    }
    tracing::info!(cluster = %c.id, job = %job_id, from = %c.state, to = %to, "operation aborted by an administrator");
    // A job whose runner is gone would fail only once another runner claims it; fail it now.
    if store
        .job_lease_expired(&job_id, now())
        .await
        .map_err(internal)?
    {
        let result = json!({ "errorcode": 530, "errortext": ABORTED });
        store
            .complete_job(&job_id, JobStatus::Failed, 530, &result.to_string())
            .await
            .map_err(internal)?;
    }
    let c = store
        .cluster(&c.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| cx.p.not_found("id"))?;
    Ok(cx.object(render_cluster(cx.state, &c, cx.caller.is_root_admin()).await))
}

// === retryKubernetesClusterOperation ===

/// The state an operation runs in, for jobs that did not record it.
fn runs_in(op: Operation) -> ClusterState {
    match op {
        Operation::Create | Operation::Start => ClusterState::Starting,
        Operation::Stop => ClusterState::Stopping,
        Operation::Scale => ClusterState::Scaling,
        Operation::Upgrade => ClusterState::Upgrading,
        Operation::Delete => ClusterState::Destroying,
    }
}

/// Runs the cluster's last operation again as a new job with the same command and parameters.
/// The new job waits for the old one to stop, copies its done steps, and resumes at the first
/// step not done, so nothing finished is done twice.
pub async fn retry(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let c = cluster_for(cx).await?;
    let store = &cx.state.store;
    let nothing = || {
        ApiError::invalid(format!(
            "Kubernetes cluster : {} has no failed or stuck operation to retry",
            c.name
        ))
    };
    let Some(job_id) = c.job_id.clone() else {
        return Err(nothing());
    };
    let Some(job) = store.job(&job_id).await.map_err(internal)? else {
        return Err(nothing());
    };
    let Some(op) = Operation::of_command(&job.command) else {
        return Err(nothing());
    };
    let stored: BTreeMap<String, String> = serde_json::from_str(&job.params)
        .map_err(|e| ApiError::internal(format!("Unreadable parameters of job {job_id}: {e}")))?;
    let mut params = OperationParams::from_stored(stored);
    if params.no_op {
        return Err(nothing());
    }
    let eligible = match job.status {
        JobStatus::Succeeded => false,
        JobStatus::Failed => true,
        // Aborted but not yet at its step boundary (the retry waits for it), or stuck: claimed
        // by a runner that is gone.
        JobStatus::Pending => {
            !c.state.is_transient()
                || store
                    .job_lease_expired(&job_id, now())
                    .await
                    .map_err(internal)?
        }
    };
    let runs_in = params.runs_in.unwrap_or(runs_in(op));
    let Some(to) = c.state.on_retry(runs_in).filter(|_| eligible) else {
        return Err(nothing());
    };
    params.retry_of = Some(job_id.clone());
    params.runs_in = Some(to);
    // The same command (so the runner resumes it as that operation), on behalf of the account
    // that asked for it; the admin who retried is the job's user.
    let again = NewJob {
        id: new_id(),
        command: job.command.clone(),
        cmd_class: job.cmd_class.clone(),
        user_id: cx.caller.user_id.clone(),
        account_id: job.account_id.clone(),
        domain_id: job.domain_id.clone(),
        params: serde_json::to_string(&params.to_stored()).unwrap_or_default(),
        instance_type: job.instance_type.clone(),
        instance_id: Some(c.id.clone()),
    };
    let begun = store
        .begin_operation(&c.id, &[c.state], to, op.name(), &again)
        .await
        .map_err(internal)?;
    if !begun {
        return Err(ApiError::invalid(format!(
            "Kubernetes cluster : {} changed state while its retry was requested; try again",
            c.name
        )));
    }
    tracing::info!(cluster = %c.id, failed = %job_id, retry = %again.id, "operation retried by an administrator");
    cx.state.jobs_queued.notify_one();
    Ok(super::jobs::submitted(cx, &again))
}
