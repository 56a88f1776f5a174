//! Cluster operations as persisted, idempotent steps.
//!
//! A cluster command moves the cluster into its transient state and inserts its job in one
//! transaction (`Store::begin_operation`). The job body ([`run`]) makes the operation's plan (the
//! pure `cks_core::cluster::plan_*` of facts read here, recorded once in `job_steps` by the
//! steps' names) and runs the first step not done, recording each step's start and end. After a
//! crash the job is claimed again and resumes at the step it was in; every step is safe to run
//! twice because it finds what an earlier attempt made (VMs by name in the network, rules by
//! their ports, the PKI in the sealed secrets) before making more.
//!
//! A failed step's [`StepError`] says what happens next ([`ErrorClass`]): a transient failure (an
//! unavailable cloud, a busy database, an unreachable Kubernetes API) runs the step again after a
//! doubling backoff while its budget lasts; a permanent one, or the budget spent, fails the
//! operation with the step's reason.
//!
//! Between steps the job checks that it still owns the cluster ([`owns`]): a delete or a retry
//! takes the cluster over (the cluster names its job), an administrator's abort settles the
//! cluster's state (`Alert`, or `Error` for a create), and the running operation then stops.
//! A retry is a new job with the failed one's command and parameters that copies its done steps.

mod create;
mod destroy;
mod lifecycle;
mod nodes;
mod rules;
mod scale;
pub mod scanner;
mod secrets;
mod upgrade;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use cks_api::ApiError;
use cks_cloud::CloudError;
use cks_core::cluster::{
    ClusterEvent, ClusterState, NodeFacts, OperationParams, ScaleRequest, Step, plan_create,
    plan_delete, plan_scale, plan_start, plan_stop, plan_upgrade,
};
use cks_kube::KubeError;
use cks_store::StoreError;
use cks_store::{ClusterRecord, Job, JobStatus, JobStep, StepState};
use serde_json::Value;

use crate::crash;
use crate::errors::internal;
use crate::handlers::clusters::render_cluster;
use crate::state::AppState;

pub use cks_core::cluster::Operation;
pub use secrets::ClusterSecrets;

/// Whether running a failed step again may succeed without anyone changing anything: it decides
/// what the orchestrator does next (as kube-runtime's `error_policy` does for a reconciler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The cloud, the database or the cluster's API was unreachable or busy: the step runs
    /// again, with backoff, until its budget (the operation's timeout) is spent.
    Transient,
    /// Anything else: the operation fails with the step's reason.
    Permanent,
}

impl ErrorClass {
    /// As `CloudError::is_transient` says.
    pub fn of_cloud(e: &CloudError) -> ErrorClass {
        ErrorClass::transient_if(e.is_transient())
    }

    /// As `StoreError::is_transient` says.
    pub fn of_store(e: &StoreError) -> ErrorClass {
        ErrorClass::transient_if(e.is_transient())
    }

    /// As `KubeError::is_transient` says.
    pub fn of_kube(e: &KubeError) -> ErrorClass {
        ErrorClass::transient_if(e.is_transient())
    }

    /// Several calls failed (a wave of VMs): running them again helps only if every failure is
    /// transient.
    pub fn of_all<'e>(errors: impl IntoIterator<Item = &'e CloudError>) -> ErrorClass {
        let mut any = false;
        for e in errors {
            if !e.is_transient() {
                return ErrorClass::Permanent;
            }
            any = true;
        }
        ErrorClass::transient_if(any)
    }

    fn transient_if(transient: bool) -> ErrorClass {
        if transient {
            ErrorClass::Transient
        } else {
            ErrorClass::Permanent
        }
    }
}

/// Why a step failed, what the orchestrator does next, and what a failure does to the cluster.
#[derive(Debug)]
pub struct StepError {
    /// The reason: the job's `errortext`, the step's error and the cluster's `lasterror`.
    pub message: String,
    /// Run the step again, or fail the operation.
    pub class: ErrorClass,
    /// `CreateFailed` (→ Error) or `OperationFailed` (→ Alert, or Destroying for a delete).
    pub event: ClusterEvent,
    /// The API error the job reports.
    pub api: ApiError,
}

impl StepError {
    /// A failure with CKS's 530 and the given event.
    pub fn new(event: ClusterEvent, class: ErrorClass, message: impl Into<String>) -> StepError {
        let message = message.into();
        StepError {
            api: ApiError::internal(message.clone()),
            message,
            class,
            event,
        }
    }
}

pub type StepResult = Result<(), StepError>;

/// What a step gets: the state, the job, its parameters, and a fresh read of the cluster.
pub struct StepCx<'a> {
    pub state: &'a AppState,
    pub job: &'a Job,
    pub params: &'a OperationParams,
    pub op: Operation,
    pub cluster: ClusterRecord,
    /// When waiting steps give up.
    pub deadline: tokio::time::Instant,
    /// What a failure of this step does to the cluster.
    pub failure: ClusterEvent,
}

impl StepCx<'_> {
    /// A permanent failure of this step.
    pub fn fail(&self, message: impl Into<String>) -> StepError {
        StepError::new(self.failure, ErrorClass::Permanent, message)
    }

    /// A failure of this step, retried or not as `class` says.
    pub fn fail_as(&self, class: ErrorClass, message: impl Into<String>) -> StepError {
        StepError::new(self.failure, class, message)
    }

    /// A failed cloud call, with the reason `message` gives; retried when the cloud says the
    /// call may succeed later.
    pub fn cloud(&self, e: &CloudError, message: impl Into<String>) -> StepError {
        self.fail_as(ErrorClass::of_cloud(e), message)
    }

    /// A failed Kubernetes call, with the reason `message` gives; retried when the API was
    /// unreachable or overloaded.
    pub fn kube(&self, e: &KubeError, message: impl Into<String>) -> StepError {
        self.fail_as(ErrorClass::of_kube(e), message)
    }

    /// A store failure inside a step (its detail goes to the log); retried when the database
    /// was unreachable or busy.
    pub fn store(&self, e: StoreError) -> StepError {
        let class = ErrorClass::of_store(&e);
        let api = internal(e);
        StepError {
            message: api.to_string(),
            class,
            event: self.failure,
            api,
        }
    }

    /// A scale job's request.
    pub fn scale_request(&self) -> ScaleRequest {
        ScaleRequest::from_params(&self.params.request)
    }

    /// Polls `check` every `every` until it returns `Ok(Some(_))`, the deadline passes, or the
    /// cluster is taken over. The last `Err` is the failure reason.
    pub async fn wait_for<T, F, Fut>(
        &self,
        what: &str,
        every: Duration,
        mut check: F,
    ) -> Result<T, StepError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, String>>,
    {
        let mut last = String::new();
        loop {
            match check().await {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => last = e,
            }
            if tokio::time::Instant::now() >= self.deadline {
                let reason = if last.is_empty() {
                    String::new()
                } else {
                    format!(": {last}")
                };
                return Err(self.fail(format!("{what} timed out{reason}")));
            }
            if let Some(reason) = self.lost().await {
                return Err(self.fail(reason));
            }
            tokio::time::sleep(every).await;
        }
    }

    /// Does this job still drive the cluster?
    pub async fn still_ours(&self) -> bool {
        self.lost().await.is_none()
    }

    /// Why this job no longer drives the cluster (taken over or aborted), if it does not.
    pub async fn lost(&self) -> Option<String> {
        match self.state.store.cluster_any(&self.cluster.id).await {
            Ok(Some(c)) if !owns(&c, &self.job.id) => Some(lost_reason(&c, &self.job.id)),
            _ => None,
        }
    }

    /// The cluster's node rows, as stored now.
    pub async fn nodes(&self) -> Result<Vec<cks_store::ClusterNode>, StepError> {
        self.state
            .store
            .nodes(&self.cluster.id)
            .await
            .map_err(|e| self.store(e))
    }

    /// Re-reads the cluster (after a step changed it).
    pub async fn reload(&mut self) -> StepResult {
        match self.state.store.cluster_any(&self.cluster.id).await {
            Ok(Some(c)) => {
                self.cluster = c;
                Ok(())
            }
            Ok(None) => Err(self.fail("The Kubernetes cluster no longer exists")),
            Err(e) => Err(self.store(e)),
        }
    }

    /// Writes the cluster's spec/secrets/network back.
    pub async fn save(&self) -> StepResult {
        self.state
            .store
            .update_cluster(&self.cluster)
            .await
            .map_err(|e| self.store(e))
    }
}

/// How often waiting steps poll the cluster.
pub fn poll_interval(state: &AppState) -> Duration {
    if state.fast_polling {
        Duration::from_millis(20)
    } else {
        Duration::from_millis(500)
    }
}

type StepFuture<'a> = Pin<Box<dyn Future<Output = StepResult> + Send + 'a>>;

/// Runs one step of the journal, by its stored name.
fn step<'a>(cx: &'a mut StepCx<'_>, name: &'a str) -> StepFuture<'a> {
    Box::pin(async move {
        let step = name.parse::<Step>().map_err(|e| cx.fail(e.to_string()))?;
        match step {
            Step::Network => create::network(cx).await,
            Step::PublicIp => create::public_ip(cx).await,
            Step::PlanNodes => create::plan_nodes(cx).await,
            Step::Pki => create::pki(cx).await,
            Step::DeployEtcdNodes => nodes::deploy(cx, nodes::Wave::Etcd).await,
            Step::DeployFirstControlNode => nodes::deploy(cx, nodes::Wave::FirstControl).await,
            Step::DeployOtherNodes => nodes::deploy(cx, nodes::Wave::Rest).await,
            Step::NetworkRules => rules::apply(cx).await,
            Step::AttachIso => nodes::attach_iso(cx, None).await,
            Step::WaitApi => nodes::wait_api(cx).await,
            Step::WaitNodesReady => nodes::wait_ready(cx).await,
            Step::DetachIso => nodes::detach_iso(cx).await,
            Step::Kubeconfig => create::kubeconfig(cx).await,
            Step::Dashboard => create::dashboard(cx).await,
            Step::StartVms => lifecycle::start_vms(cx).await,
            Step::StopVms => lifecycle::stop_vms(cx).await,
            Step::ScaleOfferings => scale::offerings(cx).await,
            Step::RemoveNodes => scale::remove_nodes(cx).await,
            Step::AddWorkers => scale::add_workers(cx).await,
            Step::Autoscaling => scale::autoscaling(cx).await,
            Step::AttachUpgradeIso => upgrade::attach_iso(cx).await,
            Step::UpgradeNode { node_id } => upgrade::node(cx, &node_id).await,
            Step::FinishUpgrade => upgrade::finish(cx).await,
            Step::AwaitOperation => destroy::await_operation(cx).await,
            Step::DestroyVms => destroy::destroy_vms(cx).await,
            Step::ReleaseNetwork => destroy::release_network(cx).await,
            Step::Sweep => destroy::sweep(cx).await,
        }
    })
}

/// The failure an administrator's abort leaves in the job and the cluster's `lasterror`.
pub const ABORTED: &str = "Operation aborted by an administrator";

/// Does `job_id` drive the cluster? Only while the cluster is in a transient state: a delete or
/// retry takes it over by becoming its job, an abort by settling its state.
pub fn owns(cluster: &ClusterRecord, job_id: &str) -> bool {
    cluster.job_id.as_deref() == Some(job_id) && cluster.state.is_transient()
}

/// The cluster while `job` drives it; else the error saying why the job stops.
async fn driven(state: &AppState, cluster_id: &str, job: &Job) -> Result<ClusterRecord, ApiError> {
    let cluster = load(state, cluster_id).await?;
    if owns(&cluster, &job.id) {
        Ok(cluster)
    } else {
        Err(ApiError::internal(lost_reason(&cluster, &job.id)))
    }
}

/// Why a job no longer drives its cluster.
fn lost_reason(cluster: &ClusterRecord, job_id: &str) -> String {
    if cluster.job_id.as_deref() == Some(job_id) {
        ABORTED.to_string()
    } else if cluster.state == ClusterState::Destroying || cluster.removed.is_some() {
        format!(
            "Operation aborted: Kubernetes cluster {} is being deleted",
            cluster.name
        )
    } else {
        format!(
            "Operation aborted: Kubernetes cluster {} was taken over by another operation",
            cluster.name
        )
    }
}

/// The states an operation runs in, for conditional writes of its progress.
fn transient_states() -> Vec<ClusterState> {
    ClusterState::ALL
        .into_iter()
        .filter(|s| s.is_transient())
        .collect()
}

/// Does a failure at step `at` of this plan come before a create's nodes were ready (so the
/// cluster ends in `Error`, not `Alert`)? A create with no plan yet has made nothing usable.
pub fn before_nodes_ready(op: Operation, steps: &[JobStep], at: usize) -> bool {
    op == Operation::Create
        && (steps.is_empty()
            || steps
                .iter()
                .skip(at)
                .any(|s| s.name.parse::<Step>() == Ok(LAST_CREATE_STEP_FATAL)))
}

/// Steps up to this one failing leave a new cluster in `Error`; later ones in `Alert`.
const LAST_CREATE_STEP_FATAL: Step = Step::WaitNodesReady;

/// The steps of an operation for this cluster, decided when the job first runs: the facts a
/// plan needs are read here, the plan itself is pure (`cks_core::cluster::plan_*`).
async fn plan(
    state: &AppState,
    op: Operation,
    cluster: &ClusterRecord,
    params: &OperationParams,
) -> Result<Vec<Step>, ApiError> {
    Ok(match op {
        Operation::Create => plan_create(),
        Operation::Start => plan_start(),
        Operation::Stop => plan_stop(),
        Operation::Scale => plan_scale(&cluster.spec, &ScaleRequest::from_params(&params.request)),
        Operation::Upgrade => {
            let nodes = state.store.nodes(&cluster.id).await.map_err(internal)?;
            let facts: Vec<NodeFacts> = nodes
                .into_iter()
                .map(|n| NodeFacts {
                    id: n.id,
                    node_type: n.node_type,
                    manual_upgrade: n.manual_upgrade,
                    seq: n.seq,
                })
                .collect();
            plan_upgrade(&facts)
        }
        Operation::Delete => plan_delete(),
    })
}

/// The cluster a job drives, removed or not; it cannot vanish while its job runs.
async fn load(state: &AppState, cluster_id: &str) -> Result<ClusterRecord, ApiError> {
    state
        .store
        .cluster_any(cluster_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::internal("cluster vanished"))
}

/// The job body of every cluster operation. Returns the job result.
pub async fn run(state: &AppState, job: &Job, params: &OperationParams) -> Result<Value, ApiError> {
    let result = run_operation(state, job, params).await;
    if Operation::of_command(&job.command) != Some(Operation::Delete) {
        return result;
    }
    // A delete superseded by a second delete (a caller or the garbage collector asked again)
    // ends as that one does: neither fails the other, and neither reports success early.
    match superseding_delete(state, job).await? {
        Some(other) => follow_delete(state, job, &other).await,
        None => result,
    }
}

/// The other delete job that now drives this job's cluster, if one does.
async fn superseding_delete(state: &AppState, job: &Job) -> Result<Option<String>, ApiError> {
    let cluster_id = job.instance_id.as_deref().unwrap_or_default();
    let Some(cluster) = state
        .store
        .cluster_any(cluster_id)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    let Some(other) = cluster.job_id.filter(|j| *j != job.id) else {
        return Ok(None);
    };
    let is_delete = state
        .store
        .job(&other)
        .await
        .map_err(internal)?
        .is_some_and(|j| Operation::of_command(&j.command) == Some(Operation::Delete));
    Ok(is_delete.then_some(other))
}

/// Waits for the delete job `other` and reports its outcome as this job's.
async fn follow_delete(state: &AppState, job: &Job, other: &str) -> Result<Value, ApiError> {
    let timeout = state
        .setting_i64(Operation::Delete.timeout_setting())
        .max(1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout as u64);
    loop {
        let cluster = load(state, job.instance_id.as_deref().unwrap_or_default()).await?;
        if cluster.removed.is_some() {
            return Ok(success_result(Operation::Delete, state, &cluster).await);
        }
        let done = state
            .store
            .job(other)
            .await
            .map_err(internal)?
            .is_none_or(|j| j.status != JobStatus::Pending);
        if done || cluster.job_id.as_deref() != Some(other) {
            return Err(ApiError::internal(cluster.last_error.unwrap_or_else(
                || format!("Kubernetes cluster {} was not deleted", cluster.name),
            )));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ApiError::internal(format!(
                "Timed out waiting for the delete of Kubernetes cluster {} (job {other})",
                cluster.name
            )));
        }
        tokio::time::sleep(poll_interval(state)).await;
    }
}

async fn run_operation(
    state: &AppState,
    job: &Job,
    params: &OperationParams,
) -> Result<Value, ApiError> {
    let op = Operation::of_command(&job.command)
        .ok_or_else(|| ApiError::internal("not a cluster operation"))?;
    let cluster_id = job.instance_id.clone().unwrap_or_default();
    let store = &state.store;
    let Some(cluster) = store.cluster_any(&cluster_id).await.map_err(internal)? else {
        return Err(ApiError::invalid("Invalid Kubernetes cluster ID"));
    };
    // Nothing to do: a start of a running cluster, a stop of a stopped one, an externally
    // managed cluster's create or delete.
    if params.no_op {
        return Ok(success_result(op, state, &cluster).await);
    }
    // A job that no longer drives its cluster (a delete or retry took over while it was queued,
    // an administrator aborted it, or it already finished before a crash lost its result) does
    // nothing.
    if !owns(&cluster, &job.id) {
        return settled(state, op, job, &cluster).await;
    }
    let timeout = Duration::from_secs(state.setting_i64(op.timeout_setting()).max(1) as u64);
    let mut steps = store.steps(&job.id).await.map_err(internal)?;
    if steps.is_empty()
        && let Some(previous) = &params.retry_of
    {
        // Steps the failed attempt finished are not done again; its job must have stopped
        // first, or both would run the same step.
        await_stopped(state, job, &cluster_id, previous, timeout).await?;
        steps = store
            .copy_steps(previous, &job.id)
            .await
            .map_err(internal)?;
    }
    if steps.is_empty() {
        let names: Vec<String> = plan(state, op, &cluster, params)
            .await?
            .iter()
            .map(Step::to_string)
            .collect();
        steps = store
            .insert_steps(&job.id, &names)
            .await
            .map_err(internal)?;
    }
    for (i, s) in steps.iter().enumerate() {
        let failure = if before_nodes_ready(op, &steps, i) {
            ClusterEvent::CreateFailed
        } else {
            ClusterEvent::OperationFailed
        };
        if s.state == StepState::Done {
            continue;
        }
        let cluster = driven(state, &cluster_id, job).await?;
        store.start_step(&job.id, s.idx).await.map_err(internal)?;
        let shown = store
            .set_operation_progress(
                &cluster_id,
                &job.id,
                &transient_states(),
                Some(&s.name),
                None,
            )
            .await
            .map_err(internal)?;
        if !shown {
            // Aborted or taken over since the check above.
            driven(state, &cluster_id, job).await?;
        }
        crash::point(crash::Point::StepStarted);
        // The deadline counts from the step's first attempt, so a resumed step keeps its budget.
        let started = s.started.unwrap_or_else(cks_store::now);
        let elapsed = Duration::from_secs((cks_store::now() - started).max(0) as u64);
        let deadline = tokio::time::Instant::now() + timeout.saturating_sub(elapsed);
        let mut cx = StepCx {
            state,
            job,
            params,
            op,
            cluster,
            deadline,
            failure,
        };
        tracing::debug!(job = %job.id, cluster = %cluster_id, step = %s.name, "step");
        let outcome = run_step(&mut cx, &s.name).await;
        crash::point(crash::Point::StepBodyDone);
        match outcome {
            Ok(()) => {
                store
                    .finish_step(&job.id, s.idx, StepState::Done, None)
                    .await
                    .map_err(internal)?;
                crash::point(crash::Point::StepFinished);
            }
            Err(err) => {
                // A step cut short because the job lost the cluster says so, however the step
                // worded its own failure.
                let cluster = load(state, &cluster_id).await?;
                if !owns(&cluster, &job.id) {
                    let reason = lost_reason(&cluster, &job.id);
                    store
                        .finish_step(&job.id, s.idx, StepState::Failed, Some(&reason))
                        .await
                        .map_err(internal)?;
                    return Err(ApiError::internal(reason));
                }
                tracing::warn!(job = %job.id, cluster = %cluster_id, step = %s.name, error = %err.message, "step failed");
                store
                    .finish_step(&job.id, s.idx, StepState::Failed, Some(&err.message))
                    .await
                    .map_err(internal)?;
                fail(state, op, &cluster_id, &job.id, &err).await?;
                return Err(err.api);
            }
        }
    }
    let cluster = driven(state, &cluster_id, job).await?;
    if op == Operation::Delete {
        store.remove_cluster(&cluster_id).await.map_err(internal)?;
    } else if let Some(next) = cluster.state.on(ClusterEvent::OperationSucceeded) {
        let moved = store
            .transition_cluster(&cluster_id, &[cluster.state], next)
            .await
            .map_err(internal)?;
        if !moved {
            // An abort or a delete settled the cluster after the check above; it keeps that.
            let cluster = load(state, &cluster_id).await?;
            return Err(ApiError::internal(lost_reason(&cluster, &job.id)));
        }
    }
    store
        .set_cluster_progress(&cluster_id, None, None)
        .await
        .map_err(internal)?;
    crash::point(crash::Point::OperationDone);
    let cluster = load(state, &cluster_id).await?;
    Ok(success_result(op, state, &cluster).await)
}

/// Runs a step until it succeeds or fails for good: a transient failure runs it again after a
/// backoff (doubling from the poll interval) while its budget lasts and the job still drives
/// the cluster; the last failure is the step's.
async fn run_step(cx: &mut StepCx<'_>, name: &str) -> StepResult {
    let first = poll_interval(cx.state);
    let mut backoff = first;
    loop {
        let err = match step(cx, name).await {
            Ok(()) => return Ok(()),
            Err(err) => err,
        };
        let now = tokio::time::Instant::now();
        if err.class == ErrorClass::Permanent || now >= cx.deadline || !cx.still_ours().await {
            return Err(err);
        }
        tracing::info!(job = %cx.job.id, cluster = %cx.cluster.id, step = %name, error = %err.message, retry_in = ?backoff, "transient step failure");
        tokio::time::sleep(backoff.min(cx.deadline - now)).await;
        backoff = (backoff * 2).min(first * MAX_BACKOFF_FACTOR);
        // What the failed attempt changed in memory may not have reached the store.
        cx.reload().await?;
    }
}

/// A transient failure's backoff grows to at most this many poll intervals.
const MAX_BACKOFF_FACTOR: u32 = 30;

/// The end of a job that does not drive its cluster (see [`owns`]).
async fn settled(
    state: &AppState,
    op: Operation,
    job: &Job,
    cluster: &ClusterRecord,
) -> Result<Value, ApiError> {
    if cluster.job_id.as_deref() == Some(job.id.as_str()) {
        // Its own operation settled the cluster: it finished (a crash lost the result) or it
        // failed or was aborted, with the reason in `lasterror`.
        let steps = state.store.steps(&job.id).await.map_err(internal)?;
        if !steps.is_empty() && steps.iter().all(|s| s.state == StepState::Done) {
            return Ok(success_result(op, state, cluster).await);
        }
        return Err(ApiError::internal(
            cluster.last_error.clone().unwrap_or_else(|| ABORTED.into()),
        ));
    }
    if op == Operation::Delete || cluster.removed.is_some() {
        return Ok(success_result(op, state, cluster).await);
    }
    Err(ApiError::internal(lost_reason(cluster, &job.id)))
}

/// A retry waits for the attempt it repeats to stop (an aborted job runs to its next step
/// boundary; a dead runner's job is claimed again and ends at once), while it drives the cluster.
async fn await_stopped(
    state: &AppState,
    job: &Job,
    cluster_id: &str,
    previous: &str,
    timeout: Duration,
) -> Result<(), ApiError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let prior = state.store.job(previous).await.map_err(internal)?;
        if prior.is_none_or(|j| j.status != JobStatus::Pending) {
            return Ok(());
        }
        driven(state, cluster_id, job).await?;
        if tokio::time::Instant::now() >= deadline {
            return Err(ApiError::internal(format!(
                "The attempt being retried (job {previous}) has not stopped"
            )));
        }
        tokio::time::sleep(poll_interval(state)).await;
    }
}

async fn success_result(op: Operation, state: &AppState, cluster: &ClusterRecord) -> Value {
    match op {
        Operation::Stop | Operation::Delete => serde_json::json!({ "success": true }),
        _ => serde_json::json!({ "kubernetescluster": render_cluster(state, cluster, true).await }),
    }
}

/// A failed step: the cluster moves as the event says, keeping the reason.
async fn fail(
    state: &AppState,
    op: Operation,
    cluster_id: &str,
    job_id: &str,
    err: &StepError,
) -> Result<(), ApiError> {
    let store = &state.store;
    let Some(cluster) = store.cluster_any(cluster_id).await.map_err(internal)? else {
        return Ok(());
    };
    // Taken over or aborted: what replaced this operation owns the state and its reason.
    let shown = store
        .set_operation_progress(
            cluster_id,
            job_id,
            &transient_states(),
            cluster.step.as_deref(),
            Some(&err.message),
        )
        .await
        .map_err(internal)?;
    if !shown {
        return Ok(());
    }
    if op == Operation::Delete {
        let mut c = cluster.clone();
        c.gc = true;
        store.update_cluster(&c).await.map_err(internal)?;
        return Ok(());
    }
    if let Some(next) = cluster.state.on(err.event) {
        store
            .transition_cluster(cluster_id, &[cluster.state], next)
            .await
            .map_err(internal)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wave_is_retried_only_when_every_failure_is_transient() {
        let down = CloudError::Unavailable("down".into());
        let full = CloudError::InsufficientCapacity("no host".into());
        assert_eq!(ErrorClass::of_cloud(&down), ErrorClass::Transient);
        assert_eq!(ErrorClass::of_cloud(&full), ErrorClass::Permanent);
        assert_eq!(ErrorClass::of_all([&down, &down]), ErrorClass::Transient);
        assert_eq!(ErrorClass::of_all([&down, &full]), ErrorClass::Permanent);
        assert_eq!(ErrorClass::of_all([]), ErrorClass::Permanent);
        let unreachable = KubeError::Unreachable("refused".into());
        assert_eq!(ErrorClass::of_kube(&unreachable), ErrorClass::Transient);
        let tls = KubeError::Tls("bad certificate".into());
        assert_eq!(ErrorClass::of_kube(&tls), ErrorClass::Permanent);
    }
}
