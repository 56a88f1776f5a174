//! Kubernetes clusters, their nodes, and the step journal of the operations that change them.
//!
//! A cluster's state changes only through [`Store::transition_cluster`], a conditional update:
//! of two writers racing (an operation, the scanner, a delete), the second sees zero rows and
//! re-reads instead of overwriting. On PostgreSQL the second waits for the first's row lock and
//! re-checks its `WHERE` against the committed row, so one statement needs no `FOR UPDATE`. An
//! operation begins in the same transaction as its job row, so a cluster is never in a transient
//! state without a job that drives it.

use cks_core::cluster::{ClusterSpec, ClusterState, ClusterType, NodeType};
use cks_core::tenancy::Owner;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::jobs::{NewJob, insert_job_in};
use crate::{Backend, Result, Store, StoreError, next_seq, now};

/// A cluster row.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterRecord {
    /// Cluster UUID.
    pub id: String,
    /// Creation order (`next_seq`), the order lists return.
    pub seq: i64,
    /// Name, unique among the owner's live (not removed) clusters.
    pub name: String,
    /// `description`; the name when none was given.
    pub description: String,
    /// The account (or project) owning it, stored as JSON.
    pub owner: Owner,
    /// The zone it is deployed in.
    pub zone_id: String,
    /// Its supported Kubernetes version; `None` for ExternalManaged clusters created without one.
    pub kubernetes_version_id: Option<String>,
    /// CloudManaged (the service deploys it) or ExternalManaged (only recorded).
    pub cluster_type: ClusterType,
    /// Lifecycle state; changed only by `transition_cluster`.
    pub state: ClusterState,
    /// The guest network of its nodes, once known.
    pub network_id: Option<String>,
    /// Everything else about it, stored as one JSON column.
    pub spec: ClusterSpec,
    /// Sealed JSON of the cluster's PKI, bootstrap token, kubeconfig and registry password.
    pub secrets: Option<String>,
    /// A delete failed part-way: the garbage collector finishes it.
    pub gc: bool,
    /// The operation under way (or the last one), its job, its current step, the last error.
    pub operation: Option<String>,
    /// The job of that operation.
    pub job_id: Option<String>,
    /// The step that job is at (or failed in).
    pub step: Option<String>,
    /// The message of the last failed step, if any.
    pub last_error: Option<String>,
    /// Unix seconds (UTC).
    pub created: i64,
    /// When it was deleted, Unix seconds; a removed row stays for the record and frees its name.
    pub removed: Option<i64>,
}

/// A node of a cluster: planned (no VM yet) or deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    /// Node UUID.
    pub id: String,
    /// The cluster it belongs to.
    pub cluster_id: String,
    /// Creation order; nodes are listed in it.
    pub seq: i64,
    /// Host name = VM name = Kubernetes node name.
    pub name: String,
    /// Control, worker or etcd.
    pub node_type: NodeType,
    /// Its VM, once deployed; `None` while planned.
    pub vm_id: Option<String>,
    /// Its address in the cluster's network, once deployed.
    pub guest_ip: Option<String>,
    /// The Kubernetes version the node runs (none for etcd nodes).
    pub kubernetes_version: Option<String>,
    /// Upgrades leave it alone (etcd nodes, some external nodes).
    pub manual_upgrade: bool,
    /// An existing VM added by `addNodesToKubernetesCluster`, not deployed by the service.
    pub external: bool,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// Where a step of an operation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    /// Not begun, or to run again after a retry.
    Pending,
    /// Begun; a crash leaves it so and the next runner repeats it.
    Running,
    /// Finished; a retry skips it.
    Done,
    /// Finished with `error`.
    Failed,
}

impl StepState {
    /// The stored text: `pending`, `running`, `done` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Done => "done",
            StepState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> StepState {
        match s {
            "running" => StepState::Running,
            "done" => StepState::Done,
            "failed" => StepState::Failed,
            _ => StepState::Pending,
        }
    }
}

/// One step of a job's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStep {
    /// The job whose plan it belongs to.
    pub job_id: String,
    /// Position in the plan, from 0.
    pub idx: i64,
    /// The step's name, e.g. `deploy-first-control-node`.
    pub name: String,
    /// Where it is.
    pub state: StepState,
    /// How often it has begun, over retries of the job.
    pub attempts: i64,
    /// When its first attempt began, Unix seconds.
    pub started: Option<i64>,
    /// When its last attempt ended, Unix seconds.
    pub finished: Option<i64>,
    /// The message of its failure, when `Failed`.
    pub error: Option<String>,
}

const CLUSTER_COLS: &str = "id, seq, name, description, owner, zone_id, kubernetes_version_id, cluster_type, state, network_id, spec, secrets, gc, operation, job_id, step, last_error, created, removed";
/// The same without the sealed secrets (about 11 KB a cluster): lists and the scanner never need
/// them, and reading them made a scanner cycle at 10,000 clusters copy 100 MB.
const CLUSTER_COLS_NO_SECRETS: &str = "id, seq, name, description, owner, zone_id, kubernetes_version_id, cluster_type, state, network_id, spec, NULL AS secrets, gc, operation, job_id, step, last_error, created, removed";
const NODE_COLS: &str = "id, cluster_id, seq, name, node_type, vm_id, guest_ip, kubernetes_version, manual_upgrade, external, created";
const STEP_COLS: &str = "job_id, idx, name, state, attempts, started, finished, error";

fn corrupt(detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table: "kubernetes_clusters",
        detail: detail.to_string(),
    }
}

fn cluster(row: &AnyRow) -> Result<ClusterRecord> {
    let owner: String = row.try_get("owner")?;
    let spec: String = row.try_get("spec")?;
    let cluster_type: String = row.try_get("cluster_type")?;
    let state: String = row.try_get("state")?;
    Ok(ClusterRecord {
        id: row.try_get("id")?,
        seq: row.try_get("seq")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        owner: serde_json::from_str(&owner).map_err(corrupt)?,
        zone_id: row.try_get("zone_id")?,
        kubernetes_version_id: row.try_get("kubernetes_version_id")?,
        cluster_type: ClusterType::parse(&cluster_type).ok_or_else(|| corrupt(&cluster_type))?,
        state: ClusterState::parse(&state).ok_or_else(|| corrupt(&state))?,
        network_id: row.try_get("network_id")?,
        spec: serde_json::from_str(&spec).map_err(corrupt)?,
        secrets: row.try_get("secrets")?,
        gc: row.try_get::<i64, _>("gc")? != 0,
        operation: row.try_get("operation")?,
        job_id: row.try_get("job_id")?,
        step: row.try_get("step")?,
        last_error: row.try_get("last_error")?,
        created: row.try_get("created")?,
        removed: row.try_get("removed")?,
    })
}

fn node(row: &AnyRow) -> Result<ClusterNode> {
    let node_type: String = row.try_get("node_type")?;
    Ok(ClusterNode {
        id: row.try_get("id")?,
        cluster_id: row.try_get("cluster_id")?,
        seq: row.try_get("seq")?,
        name: row.try_get("name")?,
        node_type: NodeType::parse(&node_type).ok_or_else(|| corrupt(&node_type))?,
        vm_id: row.try_get("vm_id")?,
        guest_ip: row.try_get("guest_ip")?,
        kubernetes_version: row.try_get("kubernetes_version")?,
        manual_upgrade: row.try_get::<i64, _>("manual_upgrade")? != 0,
        external: row.try_get::<i64, _>("external")? != 0,
        created: row.try_get("created")?,
    })
}

fn step(row: &AnyRow) -> Result<JobStep> {
    let state: String = row.try_get("state")?;
    Ok(JobStep {
        job_id: row.try_get("job_id")?,
        idx: row.try_get::<i64, _>("idx")?,
        name: row.try_get("name")?,
        state: StepState::parse(&state),
        attempts: row.try_get::<i64, _>("attempts")?,
        started: row.try_get("started")?,
        finished: row.try_get("finished")?,
        error: row.try_get("error")?,
    })
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn unique_name(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Duplicate("cluster name")
        }
        _ => StoreError::Database(e),
    }
}

/// `$from, $from+1, ...` for an `IN (...)` list.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which clusters a list query returns.
#[derive(Debug, Clone, Default)]
pub struct ClusterFilter<'a> {
    /// Only this cluster.
    pub id: Option<&'a str>,
    /// Only clusters of this owning account.
    pub account_id: Option<&'a str>,
    /// Only clusters in this state.
    pub state: Option<ClusterState>,
}

impl Store {
    /// Inserts a new cluster, and its first job in the same transaction when given.
    /// `Duplicate("cluster name")` when the owner has a live cluster of that name.
    pub async fn insert_cluster(&self, c: &ClusterRecord, job: Option<&NewJob>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO kubernetes_clusters (id, seq, name, description, account_id, domain_id, project_id, owner, zone_id, kubernetes_version_id, cluster_type, state, network_id, spec, secrets, gc, operation, job_id, step, last_error, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)")
            .bind(&c.id).bind(next_seq()).bind(&c.name).bind(&c.description)
            .bind(&c.owner.account_id).bind(&c.owner.domain_id).bind(&c.owner.project_id).bind(json(&c.owner))
            .bind(&c.zone_id).bind(&c.kubernetes_version_id).bind(c.cluster_type.as_str()).bind(c.state.as_str())
            .bind(&c.network_id).bind(json(&c.spec)).bind(&c.secrets).bind(i64::from(c.gc))
            .bind(&c.operation).bind(&c.job_id).bind(&c.step).bind(&c.last_error).bind(c.created)
            .execute(&mut *tx).await.map_err(unique_name)?;
        if let Some(job) = job {
            insert_job_in(&mut tx, job).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A live (not removed) cluster.
    pub async fn cluster(&self, id: &str) -> Result<Option<ClusterRecord>> {
        let sql = format!(
            "SELECT {CLUSTER_COLS} FROM kubernetes_clusters WHERE id = $1 AND removed IS NULL"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(cluster)
            .transpose()
    }

    /// A cluster, removed or not (job bodies finishing a delete).
    pub async fn cluster_any(&self, id: &str) -> Result<Option<ClusterRecord>> {
        let sql = format!("SELECT {CLUSTER_COLS} FROM kubernetes_clusters WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(cluster)
            .transpose()
    }

    /// Live clusters matching `filter`, by `seq` (CloudStack's order: internal id ascending).
    /// Their `secrets` are not read (`None`): never write one of these back with `update_cluster`.
    pub async fn clusters(&self, filter: &ClusterFilter<'_>) -> Result<Vec<ClusterRecord>> {
        let mut sql = format!(
            "SELECT {CLUSTER_COLS_NO_SECRETS} FROM kubernetes_clusters WHERE removed IS NULL"
        );
        let mut binds: Vec<&str> = Vec::new();
        for (column, value) in [
            ("id", filter.id),
            ("account_id", filter.account_id),
            ("state", filter.state.map(ClusterState::as_str)),
        ] {
            if let Some(v) = value {
                binds.push(v);
                sql.push_str(&format!(" AND {column} = ${}", binds.len()));
            }
        }
        sql.push_str(" ORDER BY seq");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(cluster)
            .collect()
    }

    /// Live clusters in any of `states`, without their secrets (see [`Store::clusters`]).
    pub async fn clusters_in_states(&self, states: &[ClusterState]) -> Result<Vec<ClusterRecord>> {
        let sql = format!(
            "SELECT {CLUSTER_COLS_NO_SECRETS} FROM kubernetes_clusters WHERE removed IS NULL AND state IN ({}) ORDER BY seq",
            placeholders(1, states.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in states {
            q = q.bind(s.as_str());
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(cluster)
            .collect()
    }

    /// Writes everything but identity, owner, state and timestamps.
    pub async fn update_cluster(&self, c: &ClusterRecord) -> Result<()> {
        sqlx::query("UPDATE kubernetes_clusters SET description = $1, kubernetes_version_id = $2, network_id = $3, spec = $4, secrets = $5, gc = $6 WHERE id = $7")
            .bind(&c.description).bind(&c.kubernetes_version_id).bind(&c.network_id).bind(json(&c.spec))
            .bind(&c.secrets).bind(i64::from(c.gc)).bind(&c.id)
            .execute(self.pool()).await?;
        Ok(())
    }

    /// Moves a live cluster from one of `from` to `to`. False when it was in none of them.
    pub async fn transition_cluster(
        &self,
        id: &str,
        from: &[ClusterState],
        to: ClusterState,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE kubernetes_clusters SET state = $1 WHERE id = $2 AND removed IS NULL AND state IN ({})",
            placeholders(3, from.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to.as_str())
            .bind(id);
        for s in from {
            q = q.bind(s.as_str());
        }
        Ok(q.execute(self.pool()).await?.rows_affected() == 1)
    }

    /// Starts an operation: moves the cluster from one of `from` to `to`, names the operation
    /// and inserts its job, all or nothing. False (and no job) when the state did not match.
    pub async fn begin_operation(
        &self,
        id: &str,
        from: &[ClusterState],
        to: ClusterState,
        operation: &str,
        job: &NewJob,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE kubernetes_clusters SET state = $1, operation = $2, job_id = $3, step = NULL, last_error = NULL WHERE id = $4 AND removed IS NULL AND state IN ({})",
            placeholders(5, from.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(to.as_str())
            .bind(operation)
            .bind(&job.id)
            .bind(id);
        for s in from {
            q = q.bind(s.as_str());
        }
        if q.execute(&mut *tx).await?.rows_affected() != 1 {
            return Ok(false);
        }
        insert_job_in(&mut tx, job).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends an operation an administrator aborted: the cluster moves `from` → `to` with `reason`
    /// as its last error, only while `job_id` still drives it in `from`. The job itself notices
    /// at its next step boundary. False when the operation ended or was taken over meanwhile.
    pub async fn abort_operation(
        &self,
        id: &str,
        job_id: &str,
        from: ClusterState,
        to: ClusterState,
        reason: &str,
    ) -> Result<bool> {
        let done = sqlx::query("UPDATE kubernetes_clusters SET state = $1, last_error = $2 WHERE id = $3 AND job_id = $4 AND state = $5 AND removed IS NULL")
            .bind(to.as_str()).bind(reason).bind(id).bind(job_id).bind(from.as_str())
            .execute(self.pool()).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the step an operation is on, and its last error (`None` clears it).
    pub async fn set_cluster_progress(
        &self,
        id: &str,
        step: Option<&str>,
        last_error: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE kubernetes_clusters SET step = $1, last_error = $2 WHERE id = $3")
            .bind(step)
            .bind(last_error)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Like [`Store::set_cluster_progress`], but only while `job_id` drives the cluster in one
    /// of `states` (its transient states), so an operation that was aborted or taken over
    /// cannot overwrite what replaced it. False when it no longer does.
    pub async fn set_operation_progress(
        &self,
        id: &str,
        job_id: &str,
        states: &[ClusterState],
        step: Option<&str>,
        last_error: Option<&str>,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE kubernetes_clusters SET step = $1, last_error = $2 WHERE id = $3 AND job_id = $4 AND state IN ({})",
            placeholders(5, states.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(step)
            .bind(last_error)
            .bind(id)
            .bind(job_id);
        for s in states {
            q = q.bind(s.as_str());
        }
        Ok(q.execute(self.pool()).await?.rows_affected() == 1)
    }

    /// Soft delete at the end of a destroy: `Destroyed`, removed now, secrets dropped.
    pub async fn remove_cluster(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE kubernetes_clusters SET state = $1, removed = $2, secrets = NULL, gc = 0 WHERE id = $3 AND removed IS NULL")
            .bind(ClusterState::Destroyed.as_str()).bind(now()).bind(id).execute(self.pool()).await?;
        Ok(())
    }

    /// How many live clusters use this network.
    pub async fn clusters_on_network(&self, network_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM kubernetes_clusters WHERE network_id = $1 AND removed IS NULL",
        )
        .bind(network_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get("id").map_err(StoreError::from))
            .collect()
    }

    // === Nodes ===

    /// A cluster's nodes in creation order.
    pub async fn nodes(&self, cluster_id: &str) -> Result<Vec<ClusterNode>> {
        let sql = format!(
            "SELECT {NODE_COLS} FROM kubernetes_cluster_nodes WHERE cluster_id = $1 ORDER BY seq"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cluster_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(node)
            .collect()
    }

    /// Every node of every live cluster (the scanner reads them in one query).
    pub async fn all_nodes(&self) -> Result<Vec<ClusterNode>> {
        let sql = format!(
            "SELECT {} FROM kubernetes_cluster_nodes n JOIN kubernetes_clusters c ON c.id = n.cluster_id WHERE c.removed IS NULL ORDER BY n.seq",
            NODE_COLS
                .split(", ")
                .map(|c| format!("n.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(node)
            .collect()
    }

    /// Inserts nodes in order (their `seq` follows the slice).
    pub async fn insert_nodes(&self, nodes: &[ClusterNode]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for n in nodes {
            sqlx::query("INSERT INTO kubernetes_cluster_nodes (id, cluster_id, seq, name, node_type, vm_id, guest_ip, kubernetes_version, manual_upgrade, external, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                .bind(&n.id).bind(&n.cluster_id).bind(next_seq()).bind(&n.name).bind(n.node_type.as_str())
                .bind(&n.vm_id).bind(&n.guest_ip).bind(&n.kubernetes_version)
                .bind(i64::from(n.manual_upgrade)).bind(i64::from(n.external)).bind(n.created)
                .execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a node's VM, address and version.
    pub async fn update_node(&self, n: &ClusterNode) -> Result<()> {
        sqlx::query("UPDATE kubernetes_cluster_nodes SET vm_id = $1, guest_ip = $2, kubernetes_version = $3, manual_upgrade = $4 WHERE id = $5")
            .bind(&n.vm_id).bind(&n.guest_ip).bind(&n.kubernetes_version).bind(i64::from(n.manual_upgrade)).bind(&n.id)
            .execute(self.pool()).await?;
        Ok(())
    }

    /// Deletes a node row (its VM is the caller's business); no error when it is gone.
    pub async fn delete_node(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM kubernetes_cluster_nodes WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Deletes the workers of a cluster whose VM was never made (a failed scale-up inserts
    /// them), while the cluster is in one of `states` (no operation is deploying them). Returns
    /// how many went.
    pub async fn delete_unmade_workers(
        &self,
        cluster_id: &str,
        states: &[ClusterState],
    ) -> Result<u64> {
        let sql = format!(
            "DELETE FROM kubernetes_cluster_nodes WHERE cluster_id = $1 AND vm_id IS NULL AND external = 0 AND node_type = $2 \
             AND EXISTS (SELECT 1 FROM kubernetes_clusters c WHERE c.id = kubernetes_cluster_nodes.cluster_id AND c.removed IS NULL AND c.state IN ({}))",
            placeholders(3, states.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cluster_id)
            .bind(NodeType::Worker.as_str());
        for s in states {
            q = q.bind(s.as_str());
        }
        Ok(q.execute(self.pool()).await?.rows_affected())
    }

    /// Writes a cluster's spec only while it is in one of `states` and still names the job it
    /// named when it was read (`job_id`), so a background repair never overwrites what an
    /// operation begun meanwhile wrote. False when either changed.
    pub async fn set_spec_if_settled(
        &self,
        id: &str,
        spec: &ClusterSpec,
        states: &[ClusterState],
        job_id: Option<&str>,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE kubernetes_clusters SET spec = $1 WHERE id = $2 AND removed IS NULL AND COALESCE(job_id, '') = $3 AND state IN ({})",
            placeholders(4, states.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(json(spec))
            .bind(id)
            .bind(job_id.unwrap_or_default());
        for s in states {
            q = q.bind(s.as_str());
        }
        Ok(q.execute(self.pool()).await?.rows_affected() == 1)
    }

    // === Step journal ===

    /// The job's plan; empty before it was made.
    pub async fn steps(&self, job_id: &str) -> Result<Vec<JobStep>> {
        let sql = format!("SELECT {STEP_COLS} FROM job_steps WHERE job_id = $1 ORDER BY idx");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(job_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(step)
            .collect()
    }

    /// Records a job's plan once: a second call (after a crash) keeps the first plan.
    pub async fn insert_steps(&self, job_id: &str, names: &[String]) -> Result<Vec<JobStep>> {
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            // Two runners of one job (a lease taken over) would both count none and the second
            // fail on the key; the job's row lock orders them as SQLite's write lock does.
            sqlx::query("SELECT id FROM async_jobs WHERE id = $1 FOR UPDATE")
                .bind(job_id)
                .fetch_optional(&mut *tx)
                .await?;
        }
        let existing = sqlx::query("SELECT COUNT(*) AS n FROM job_steps WHERE job_id = $1")
            .bind(job_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get::<i64, _>("n")?;
        if existing == 0 {
            for (i, name) in names.iter().enumerate() {
                sqlx::query("INSERT INTO job_steps (job_id, idx, name, state, attempts) VALUES ($1, $2, $3, 'pending', 0)")
                    .bind(job_id).bind(i as i64).bind(name).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        self.steps(job_id).await
    }

    /// Gives a retry (`to_job`) the plan of the attempt it repeats: steps done there stay done
    /// (with their times), the rest start over, keeping their attempt counts. Once only, like
    /// [`Store::insert_steps`]; returns the new job's steps (empty when `from_job` had none).
    pub async fn copy_steps(&self, from_job: &str, to_job: &str) -> Result<Vec<JobStep>> {
        let existing = self.steps(to_job).await?;
        if !existing.is_empty() {
            return Ok(existing);
        }
        let from = self.steps(from_job).await?;
        let mut tx = self.begin_write().await?;
        for s in &from {
            let done = s.state == StepState::Done;
            sqlx::query("INSERT INTO job_steps (job_id, idx, name, state, attempts, started, finished, error) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)")
                .bind(to_job).bind(s.idx).bind(&s.name)
                .bind(if done { StepState::Done } else { StepState::Pending }.as_str())
                .bind(s.attempts)
                .bind(s.started.filter(|_| done)).bind(s.finished.filter(|_| done))
                .execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.steps(to_job).await
    }

    /// A step begins (again): one more attempt; `started` is kept from the first attempt.
    pub async fn start_step(&self, job_id: &str, idx: i64) -> Result<()> {
        sqlx::query("UPDATE job_steps SET state = 'running', attempts = attempts + 1, started = COALESCE(started, $1) WHERE job_id = $2 AND idx = $3")
            .bind(now()).bind(job_id).bind(idx).execute(self.pool()).await?;
        Ok(())
    }

    /// A step ends, done or failed with `error`.
    pub async fn finish_step(
        &self,
        job_id: &str,
        idx: i64,
        state: StepState,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE job_steps SET state = $1, finished = $2, error = $3 WHERE job_id = $4 AND idx = $5")
            .bind(state.as_str()).bind(now()).bind(error).bind(job_id).bind(idx).execute(self.pool()).await?;
        Ok(())
    }
}
