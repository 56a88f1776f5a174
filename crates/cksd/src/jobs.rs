//! The job runner: claims queued jobs with a lease, runs them, records the result.
//!
//! A job is a row before it is work, so a restart loses nothing: on start this instance releases
//! the leases it held, and a job leased by an instance that died becomes claimable when its
//! lease runs out. Every job body is idempotent, so running one again after a crash is safe.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cks_api::ApiError;
use cks_store::{Job, JobStatus, now};
use serde_json::{Value, json};

use crate::state::{AppState, SharedState};

/// Runs until the process ends. `workers` jobs run at once.
pub async fn run(state: SharedState, workers: usize) {
    match state.store.release_job_leases(&state.server_id).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(jobs = n, "resuming jobs this instance held when it stopped"),
        Err(e) => tracing::error!(error = %e, "could not release old job leases"),
    }
    let slots = Arc::new(tokio::sync::Semaphore::new(workers.max(1)));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let claimed = state
            .store
            .claim_job(&state.server_id, now(), now() + state.job_lease_seconds)
            .await;
        match claimed {
            Ok(Some(job)) => {
                let state = state.clone();
                tokio::spawn(async move {
                    execute(&state, job).await;
                    drop(permit);
                });
            }
            Ok(None) => {
                drop(permit);
                // Wake on a new job, or poll for jobs whose lease expired elsewhere.
                let _ = tokio::time::timeout(Duration::from_secs(2), state.jobs_queued.notified())
                    .await;
            }
            Err(e) => {
                drop(permit);
                tracing::error!(error = %e, "claiming a job failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn execute(state: &SharedState, job: Job) {
    // Renews the lease every third of it; returns when the lease is lost, i.e. this instance
    // could not renew in time and another may have taken the job over.
    let lease_lost = {
        let store = state.store.clone();
        let (id, owner) = (job.id.clone(), state.server_id.clone());
        let lease = state.job_lease_seconds;
        async move {
            let mut valid_until = now() + lease;
            loop {
                tokio::time::sleep(Duration::from_secs((lease / 3).max(1) as u64)).await;
                match store.renew_job_lease(&id, &owner, now() + lease).await {
                    Ok(true) => valid_until = now() + lease,
                    Ok(false) => return,
                    // A database hiccup: the lease still holds until it runs out.
                    Err(_) if now() < valid_until - 1 => {}
                    Err(_) => return,
                }
            }
        }
    };
    let params: BTreeMap<String, String> = serde_json::from_str(&job.params).unwrap_or_default();
    // A panic in a job body fails that job, not the runner.
    let mut work = tokio::spawn({
        let (state, job) = (state.clone(), job.clone());
        async move { body(&state, &job, &params).await }
    });
    let outcome = tokio::select! {
        done = &mut work => {
            done.unwrap_or_else(|_| Err(ApiError::internal("Internal error executing the job")))
        }
        () = lease_lost => {
            // Another instance may run it now: two runners of one job must never overlap, so
            // this one stops at once (its steps are idempotent; the next runner resumes).
            work.abort();
            tracing::warn!(job = %job.id, "lost the lease of a running job; leaving it to another instance");
            return;
        }
    };
    let (status, code, result) = match outcome {
        Ok(result) => (JobStatus::Succeeded, 0, result),
        Err(err) => {
            let code = err.job_code();
            (
                JobStatus::Failed,
                code as i64,
                json!({ "errorcode": code, "errortext": err.to_string() }),
            )
        }
    };
    if let Err(e) = state
        .store
        .complete_job(&job.id, status, code, &result.to_string())
        .await
    {
        tracing::error!(job = %job.id, error = %e, "recording a job result failed; it will run again");
    }
}

/// The work of each async command. Returns the `jobresult`.
async fn body(
    state: &AppState,
    job: &Job,
    params: &BTreeMap<String, String>,
) -> Result<Value, ApiError> {
    match job.command.as_str() {
        "deleteKubernetesSupportedVersion" => {
            crate::services::versions::delete_version(state, params).await
        }
        "createProject" => crate::services::tenancy::run_create_project(state, job).await,
        c if crate::orchestrator::Operation::of_command(c).is_some() => {
            let params = cks_core::cluster::OperationParams::from_stored(params.clone());
            crate::orchestrator::run(state, job, &params).await
        }
        other => Err(ApiError::internal(format!("No job handler for {other}"))),
    }
}
