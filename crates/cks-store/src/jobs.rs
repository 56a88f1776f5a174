//! Async jobs: rows that outlive the process that created them.
//!
//! A runner claims a pending job by taking a lease (`management_server_id` + `lease_until`) and
//! renews it while working. A job whose lease ran out, because its runner died, is claimable
//! again, so no job stays pending forever.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Backend, Result, Store, next_seq};

/// Where an async job is, as `queryAsyncJobResult` reports it in `jobstatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Not finished (`jobstatus` 0): waiting for a runner or running.
    Pending,
    /// Finished with a result (`jobstatus` 1).
    Succeeded,
    /// Finished with an error (`jobstatus` 2).
    Failed,
}

impl JobStatus {
    /// CloudStack's `jobstatus` number.
    pub fn code(self) -> i64 {
        match self {
            JobStatus::Pending => 0,
            JobStatus::Succeeded => 1,
            JobStatus::Failed => 2,
        }
    }

    fn from_code(code: i64) -> JobStatus {
        match code {
            1 => JobStatus::Succeeded,
            2 => JobStatus::Failed,
            _ => JobStatus::Pending,
        }
    }
}

/// A job to insert: pending, unclaimed, with no result yet.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Job UUID, the `jobid` the API returns.
    pub id: String,
    /// The API command it runs, e.g. `createKubernetesCluster`.
    pub command: String,
    /// CloudStack's Java class of that command (`cmd`), from the command table.
    pub cmd_class: String,
    /// The user who issued it (`system` for the scanner's own jobs).
    pub user_id: String,
    /// That user's account (`accountid`).
    pub account_id: String,
    /// That account's domain (`domainid`).
    pub domain_id: String,
    /// The bound parameters, as JSON; the runner re-reads them after a restart.
    pub params: String,
    /// `jobinstancetype`, e.g. `KubernetesCluster`.
    pub instance_type: Option<String>,
    /// `jobinstanceid`: the object it acts on.
    pub instance_id: Option<String>,
}

/// An async job row.
#[derive(Debug, Clone)]
pub struct Job {
    /// Job UUID (`jobid`).
    pub id: String,
    /// The API command it runs.
    pub command: String,
    /// CloudStack's Java class of that command (`cmd`).
    pub cmd_class: String,
    /// The user who issued it (`userid`).
    pub user_id: String,
    /// That user's account (`accountid`).
    pub account_id: String,
    /// That account's domain (`domainid`).
    pub domain_id: String,
    /// The bound parameters as JSON, without credentials or passwords.
    pub params: String,
    /// Pending, succeeded or failed.
    pub status: JobStatus,
    /// `jobresultcode`: 0 while pending or on success, the error code on failure.
    pub result_code: i64,
    /// JSON of `jobresult`, once finished.
    pub result: Option<String>,
    /// `jobinstancetype`, e.g. `KubernetesCluster`.
    pub instance_type: Option<String>,
    /// `jobinstanceid`: the object it acts on.
    pub instance_id: Option<String>,
    /// The instance holding (or that last held) its lease.
    pub management_server_id: Option<String>,
    /// How often a runner has claimed it; above 1 after a takeover.
    pub attempts: i64,
    /// Unix seconds (UTC).
    pub created: i64,
    /// When it finished, Unix seconds; `None` while pending.
    pub completed: Option<i64>,
}

const COLS: &str = "id, command, cmd_class, user_id, account_id, domain_id, params, status, result_code, result, instance_type, instance_id, management_server_id, attempts, created, completed";

fn job(row: &AnyRow) -> Result<Job> {
    Ok(Job {
        id: row.try_get("id")?,
        command: row.try_get("command")?,
        cmd_class: row.try_get("cmd_class")?,
        user_id: row.try_get("user_id")?,
        account_id: row.try_get("account_id")?,
        domain_id: row.try_get("domain_id")?,
        params: row.try_get("params")?,
        status: JobStatus::from_code(row.try_get::<i64, _>("status")?),
        result_code: row.try_get::<i64, _>("result_code")?,
        result: row.try_get("result")?,
        instance_type: row.try_get("instance_type")?,
        instance_id: row.try_get("instance_id")?,
        management_server_id: row.try_get("management_server_id")?,
        attempts: row.try_get::<i64, _>("attempts")?,
        created: row.try_get("created")?,
        completed: row.try_get("completed")?,
    })
}

/// Inserts a job on a connection (or inside a transaction with other writes).
pub(crate) async fn insert_job_in(conn: &mut sqlx::AnyConnection, j: &NewJob) -> Result<()> {
    sqlx::query("INSERT INTO async_jobs (id, seq, command, cmd_class, user_id, account_id, domain_id, params, status, result_code, instance_type, instance_id, attempts, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9, $10, 0, $11)")
        .bind(&j.id).bind(next_seq()).bind(&j.command).bind(&j.cmd_class).bind(&j.user_id)
        .bind(&j.account_id).bind(&j.domain_id).bind(&j.params).bind(&j.instance_type)
        .bind(&j.instance_id).bind(crate::now())
        .execute(conn).await?;
    Ok(())
}

impl Store {
    /// Inserts a pending job on its own (see `begin_operation` to start one with a cluster change).
    pub async fn insert_job(&self, j: &NewJob) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        insert_job_in(&mut conn, j).await
    }

    /// The job with this id, if any.
    pub async fn job(&self, id: &str) -> Result<Option<Job>> {
        let sql = format!("SELECT {COLS} FROM async_jobs WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(job)
            .transpose()
    }

    /// The most recent jobs, newest first.
    pub async fn recent_jobs(&self, limit: i64) -> Result<Vec<Job>> {
        let sql = format!("SELECT {COLS} FROM async_jobs ORDER BY seq DESC LIMIT $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(job)
            .collect()
    }

    /// Takes the oldest pending job whose lease is free or expired, for `owner` until
    /// `lease_until`. The conditions sit in the outer `WHERE` so that of two instances racing
    /// for a row, the second re-checks them against the first's update and gets nothing. On
    /// PostgreSQL the candidate is locked with `SKIP LOCKED`, so a racing claimer takes the
    /// next job instead of waiting for the first to commit and then getting nothing.
    pub async fn claim_job(&self, owner: &str, now: i64, lease_until: i64) -> Result<Option<Job>> {
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE async_jobs SET management_server_id = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE status = 0 AND (lease_until IS NULL OR lease_until < $3) AND id = ( \
               SELECT id FROM async_jobs WHERE status = 0 AND (lease_until IS NULL OR lease_until < $3) ORDER BY seq LIMIT 1{lock}) \
             RETURNING {COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(job).transpose()
    }

    /// Extends a lease this runner holds. False when another instance took the job over.
    pub async fn renew_job_lease(&self, id: &str, owner: &str, lease_until: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE async_jobs SET lease_until = $1 WHERE id = $2 AND management_server_id = $3 AND status = 0")
            .bind(lease_until).bind(id).bind(owner)
            .execute(self.pool()).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Is this job pending with a lease that ran out, i.e. claimed by a runner that is gone?
    pub async fn job_lease_expired(&self, id: &str, now: i64) -> Result<bool> {
        let row = sqlx::query("SELECT id FROM async_jobs WHERE id = $1 AND status = 0 AND lease_until IS NOT NULL AND lease_until < $2")
            .bind(id).bind(now)
            .fetch_optional(self.pool()).await?;
        Ok(row.is_some())
    }

    /// Makes the pending jobs leased by `owner` claimable at once (on restart of that instance).
    pub async fn release_job_leases(&self, owner: &str) -> Result<u64> {
        let done = sqlx::query("UPDATE async_jobs SET lease_until = NULL WHERE management_server_id = $1 AND status = 0")
            .bind(owner).execute(self.pool()).await?;
        Ok(done.rows_affected())
    }

    /// Id and parameters of the jobs whose stored parameters name a credential or a password
    /// (rows written before those were dropped; rewritten once at start).
    pub async fn jobs_holding_credentials(&self) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, params FROM async_jobs WHERE params LIKE '%\"apikey\"%' OR params LIKE '%\"sessionkey\"%' \
             OR params LIKE '%\"signature\"%' OR params LIKE '%password\"%' OR params LIKE '%\"secretkey\"%'",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows)
    }

    /// Replaces a job's stored parameters (JSON).
    pub async fn set_job_params(&self, id: &str, params: &str) -> Result<()> {
        sqlx::query("UPDATE async_jobs SET params = $1 WHERE id = $2")
            .bind(params)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records a job's end. Only a still-pending job is completed, so a job finishes once.
    pub async fn complete_job(
        &self,
        id: &str,
        status: JobStatus,
        result_code: i64,
        result: &str,
    ) -> Result<bool> {
        let done = sqlx::query("UPDATE async_jobs SET status = $1, result_code = $2, result = $3, completed = $4, lease_until = NULL WHERE id = $5 AND status = 0")
            .bind(status.code()).bind(result_code).bind(result).bind(crate::now()).bind(id)
            .execute(self.pool()).await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_store;

    fn new_job(id: &str) -> NewJob {
        NewJob {
            id: id.into(),
            command: "deleteKubernetesSupportedVersion".into(),
            cmd_class: "C".into(),
            user_id: "u".into(),
            account_id: "a".into(),
            domain_id: "d".into(),
            params: "{}".into(),
            instance_type: None,
            instance_id: None,
        }
    }

    #[tokio::test]
    async fn a_job_is_claimed_once_until_its_lease_expires() {
        let (store, _dir) = test_store().await;
        store.insert_job(&new_job("j1")).await.unwrap();
        let claimed = store.claim_job("ms1", 100, 130).await.unwrap().unwrap();
        assert_eq!(claimed.id, "j1");
        assert!(
            store.claim_job("ms2", 110, 140).await.unwrap().is_none(),
            "lease still held"
        );
        let taken_over = store.claim_job("ms2", 131, 160).await.unwrap().unwrap();
        assert_eq!(taken_over.attempts, 2);
        assert!(
            !store.renew_job_lease("j1", "ms1", 200).await.unwrap(),
            "ms1 lost the job"
        );
        assert!(
            store
                .complete_job("j1", JobStatus::Succeeded, 0, "{}")
                .await
                .unwrap()
        );
        assert!(
            !store
                .complete_job("j1", JobStatus::Failed, 530, "{}")
                .await
                .unwrap(),
            "finishes once"
        );
        assert_eq!(
            store.job("j1").await.unwrap().unwrap().status,
            JobStatus::Succeeded
        );
        assert!(store.claim_job("ms3", 1000, 1030).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn concurrent_claimers_take_each_job_exactly_once() {
        const JOBS: usize = 200;
        const CLAIMERS: usize = 8;
        let (store, _db) = test_store().await;
        for i in 0..JOBS {
            store.insert_job(&new_job(&format!("j{i}"))).await.unwrap();
        }
        let mut claimers = tokio::task::JoinSet::new();
        for c in 0..CLAIMERS {
            let store = store.clone();
            claimers.spawn(async move {
                let owner = format!("ms{c}");
                let mut claimed = Vec::new();
                while let Some(job) = store.claim_job(&owner, 100, 1000).await.unwrap() {
                    assert_eq!(job.management_server_id.as_deref(), Some(owner.as_str()));
                    assert_eq!(job.attempts, 1, "{} claimed twice", job.id);
                    claimed.push(job.id);
                }
                claimed
            });
        }
        let mut all: Vec<String> = claimers.join_all().await.into_iter().flatten().collect();
        assert_eq!(all.len(), JOBS, "every job claimed once");
        all.sort();
        all.dedup();
        assert_eq!(all.len(), JOBS, "no job claimed twice");
    }
}
