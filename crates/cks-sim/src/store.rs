//! The simulator's own table: one row per object, its JSON body keyed by (kind, id).
//!
//! A single generic table keeps the simulator's schema out of the service's migrations: the
//! simulator is a stand-in for someone else's cloud, and its inventory is not the service's
//! data. The SQL is portable (`$n` placeholders, `ON CONFLICT ... DO UPDATE`, TEXT only), so it
//! runs unchanged on SQLite and PostgreSQL through `sqlx::AnyPool`.

use std::collections::HashSet;

use cks_core::iaas::{ResourceKind, Vm};
use sqlx::{AnyPool, Row};

use cks_cloud::CloudError;

use crate::inventory::{Kind, Object};

/// The simulator's tables could not be read or written: what `CloudError::Backend` carries.
#[derive(Debug, thiserror::Error)]
#[error("simulator storage failed: {0}")]
pub(crate) struct StorageError(#[from] sqlx::Error);

impl StorageError {
    /// Worth a retry: the database was unreachable, busy or shutting down, or a concurrent
    /// transaction won. A corrupt row, a bad statement or a decoding error stays.
    fn is_transient(&self) -> bool {
        match &self.0 {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => true,
            // PostgreSQL's serialization failure and deadlock; SQLite's busy and locked.
            sqlx::Error::Database(e) => {
                matches!(
                    e.code().as_deref(),
                    Some("40001" | "40P01" | "5" | "6" | "517" | "262")
                )
            }
            _ => false,
        }
    }
}

impl From<StorageError> for CloudError {
    fn from(e: StorageError) -> CloudError {
        CloudError::Backend {
            transient: e.is_transient(),
            source: Box::new(e),
        }
    }
}

/// Maps a failed statement to the simulator's `CloudError`.
pub(crate) fn storage_error(e: sqlx::Error) -> CloudError {
    StorageError(e).into()
}

/// `?` for sqlx results inside functions that answer `CloudError`.
pub(crate) trait OrStorage<T> {
    fn or_storage(self) -> Result<T, CloudError>;
}

impl<T> OrStorage<T> for Result<T, sqlx::Error> {
    fn or_storage(self) -> Result<T, CloudError> {
        self.map_err(storage_error)
    }
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS sim_objects (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, id)
)";

/// One row: the inventory's version, bumped by every mutation of any instance. Taking it in a
/// mutation's transaction (an `UPDATE`) serializes mutations across processes sharing the
/// database, like the per-process gate does within one.
const CREATE_CLOCK: &str = "CREATE TABLE IF NOT EXISTS sim_clock (
    id BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
)";

/// Deleted objects with the version that deleted them and when, so other instances catch up.
/// Kept for `KEEP_DELETIONS_SECONDS`; an instance further behind than that reloads instead.
const CREATE_DELETIONS: &str = "CREATE TABLE IF NOT EXISTS sim_deletions (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    version BIGINT NOT NULL,
    at BIGINT NOT NULL DEFAULT 0
)";

/// Facts about the simulated cloud itself, by name: `database_id`, a random id made once, tells
/// instances of this database (which share its public range) from simulators of other databases.
const CREATE_META: &str = "CREATE TABLE IF NOT EXISTS sim_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
)";

/// How long deletions are kept for instances catching up.
pub(crate) const KEEP_DELETIONS_SECONDS: i64 = 600;

const SELECT: &str = "SELECT body FROM sim_objects WHERE kind = $1 AND id = $2";

/// A change another instance made: the object's new value, or `None` when it was deleted.
pub(crate) type RemoteChange = (Kind, String, Option<Object>);

#[derive(Debug, Clone)]
pub(crate) struct Store {
    pool: AnyPool,
}

impl Store {
    pub(crate) async fn open(pool: AnyPool) -> Result<Store, CloudError> {
        sqlx::query(CREATE_TABLE)
            .execute(&pool)
            .await
            .or_storage()?;
        // Tables made before instances shared the simulator have no version column.
        if sqlx::query("SELECT version FROM sim_objects WHERE 1 = 0")
            .execute(&pool)
            .await
            .is_err()
        {
            sqlx::query("ALTER TABLE sim_objects ADD COLUMN version BIGINT NOT NULL DEFAULT 0")
                .execute(&pool)
                .await
                .or_storage()?;
        }
        for statement in [
            "CREATE INDEX IF NOT EXISTS sim_objects_version ON sim_objects (version)",
            CREATE_CLOCK,
            CREATE_DELETIONS,
            CREATE_META,
            "CREATE INDEX IF NOT EXISTS sim_deletions_version ON sim_deletions (version)",
        ] {
            sqlx::query(statement).execute(&pool).await.or_storage()?;
        }
        sqlx::query(
            "INSERT INTO sim_clock (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
        )
        .execute(&pool)
        .await
        .or_storage()?;
        Ok(Store { pool })
    }

    /// This database's identity, made by the first instance to ask (instances starting
    /// together all read the one that was inserted first).
    pub(crate) async fn database_id(&self) -> Result<String, CloudError> {
        sqlx::query(
            "INSERT INTO sim_meta (name, value) VALUES ('database_id', $1) ON CONFLICT (name) DO NOTHING",
        )
        .bind(crate::new_id())
        .execute(&self.pool)
        .await.or_storage()?;
        let row = sqlx::query("SELECT value FROM sim_meta WHERE name = 'database_id'")
            .fetch_one(&self.pool)
            .await
            .or_storage()?;
        row.try_get::<String, _>("value").or_storage()
    }

    pub(crate) async fn connection(
        &self,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, CloudError> {
        self.pool.acquire().await.or_storage()
    }

    /// Forgets deletions older than `KEEP_DELETIONS_SECONDS`.
    pub(crate) async fn prune_deletions(&self, now: i64) -> Result<u64, CloudError> {
        let done = sqlx::query("DELETE FROM sim_deletions WHERE at < $1")
            .bind(now - KEEP_DELETIONS_SECONDS)
            .execute(&self.pool)
            .await
            .or_storage()?;
        Ok(done.rows_affected())
    }

    /// The inventory's version now.
    pub(crate) async fn version(&self) -> Result<i64, CloudError> {
        let row = sqlx::query("SELECT version FROM sim_clock WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .or_storage()?;
        row.try_get::<i64, _>("version").or_storage()
    }

    /// Every stored object, and the version they are at (read first: an object written while
    /// loading is newer and comes again in the next catch-up). Rows of kinds this version does
    /// not know are skipped with a warning.
    pub(crate) async fn load(&self) -> Result<(Vec<Object>, i64), CloudError> {
        let version = self.version().await?;
        let rows = sqlx::query("SELECT kind, id, body FROM sim_objects")
            .fetch_all(&self.pool)
            .await
            .or_storage()?;
        let mut res = Vec::with_capacity(rows.len());
        for row in rows {
            let kind: String = row.try_get("kind").or_storage()?;
            let id: String = row.try_get("id").or_storage()?;
            let body: String = row.try_get("body").or_storage()?;
            match Object::decode(&kind, &body)? {
                Some(obj) => res.push(obj),
                None => tracing::warn!(kind, id, "skipping simulator object of unknown kind"),
            }
        }
        Ok((res, version))
    }

    /// Begins a mutation: a transaction holding the inventory's clock, and the version this
    /// mutation writes. Another instance's mutation waits until this transaction ends.
    pub(crate) async fn begin_mutation(
        &self,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Any>, i64), CloudError> {
        let mut tx = self.pool.begin().await.or_storage()?;
        let row = sqlx::query(
            "UPDATE sim_clock SET version = version + 1 WHERE id = 1 RETURNING version",
        )
        .fetch_one(&mut *tx)
        .await
        .or_storage()?;
        let version = row.try_get::<i64, _>("version").or_storage()?;
        Ok((tx, version))
    }

    /// What other instances changed after version `seen` up to `upto`, oldest first. Mutations
    /// commit in version order (they hold the clock), so every version up to a clock value read
    /// before is committed and none is missed.
    pub(crate) async fn changes_since(
        &self,
        conn: &mut sqlx::AnyConnection,
        seen: i64,
        upto: i64,
    ) -> Result<Vec<RemoteChange>, CloudError> {
        let mut changes: Vec<(i64, RemoteChange)> = Vec::new();
        let rows = sqlx::query(
            "SELECT kind, id, body, version FROM sim_objects WHERE version > $1 AND version <= $2",
        )
        .bind(seen)
        .bind(upto)
        .fetch_all(&mut *conn)
        .await
        .or_storage()?;
        for row in rows {
            let kind: String = row.try_get("kind").or_storage()?;
            let body: String = row.try_get("body").or_storage()?;
            let (Some(parsed), Some(obj)) = (Kind::parse(&kind), Object::decode(&kind, &body)?)
            else {
                continue;
            };
            changes.push((
                row.try_get("version").or_storage()?,
                (parsed, row.try_get("id").or_storage()?, Some(obj)),
            ));
        }
        let rows = sqlx::query(
            "SELECT kind, id, version FROM sim_deletions WHERE version > $1 AND version <= $2",
        )
        .bind(seen)
        .bind(upto)
        .fetch_all(&mut *conn)
        .await
        .or_storage()?;
        for row in rows {
            let kind: String = row.try_get("kind").or_storage()?;
            if let Some(parsed) = Kind::parse(&kind) {
                changes.push((
                    row.try_get("version").or_storage()?,
                    (parsed, row.try_get("id").or_storage()?, None),
                ));
            }
        }
        changes.sort_by_key(|(version, _)| *version);
        Ok(changes.into_iter().map(|(_, c)| c).collect())
    }

    /// Writes the current value of each changed object (`None`: delete) at `version`, in the
    /// mutation's transaction. The VMs in `keep_user_data` have their user data only in storage
    /// (the inventory's `offloaded`): their stored user data is kept.
    pub(crate) async fn write(
        &self,
        tx: &mut sqlx::AnyConnection,
        changes: &[(Kind, String, Option<Object>)],
        keep_user_data: &HashSet<String>,
        version: i64,
    ) -> Result<(), CloudError> {
        let mut rows: Vec<(&str, &str, String)> = Vec::with_capacity(changes.len());
        let mut gone: Vec<(&str, &str)> = Vec::new();
        for (kind, id, current) in changes {
            match current {
                Some(Object::Vm(vm)) if keep_user_data.contains(id) => {
                    let mut vm = vm.clone();
                    vm.user_data = user_data_in(&mut *tx, id).await?;
                    rows.push((kind.as_str(), id, Object::Vm(vm).encode()?));
                }
                Some(obj) => rows.push((kind.as_str(), id, obj.encode()?)),
                None => gone.push((kind.as_str(), id)),
            }
        }
        // One statement per kind of change rather than per object: mutations hold the clock
        // while they write, so on PostgreSQL each round trip here is time every instance waits.
        for chunk in rows.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO sim_objects (kind, id, body, version) VALUES {} \
                 ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, version = excluded.version",
                placeholders(chunk.len(), 4)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (kind, id, body) in chunk {
                query = query
                    .bind(*kind)
                    .bind(*id)
                    .bind(body.as_str())
                    .bind(version);
            }
            query.execute(&mut *tx).await.or_storage()?;
        }
        for chunk in gone.chunks(BATCH) {
            let matches: Vec<String> = (0..chunk.len())
                .map(|i| format!("(kind = ${} AND id = ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!("DELETE FROM sim_objects WHERE {}", matches.join(" OR "));
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (kind, id) in chunk {
                query = query.bind(*kind).bind(*id);
            }
            query.execute(&mut *tx).await.or_storage()?;
            let sql = format!(
                "INSERT INTO sim_deletions (kind, id, version, at) VALUES {}",
                placeholders(chunk.len(), 4)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            let at = crate::now();
            for (kind, id) in chunk {
                query = query.bind(*kind).bind(*id).bind(version).bind(at);
            }
            query.execute(&mut *tx).await.or_storage()?;
        }
        Ok(())
    }
}

/// Rows per statement: well under both databases' limits on bound parameters.
const BATCH: usize = 200;

/// `($1, $2), ($3, $4)` for `rows` rows of `width` values.
fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The user data stored with a VM (`None` when the VM or its user data is absent).
    pub(crate) async fn vm_user_data(&self, id: &str) -> Result<Option<String>, CloudError> {
        let mut conn = self.pool.acquire().await.or_storage()?;
        user_data_in(&mut conn, id).await
    }
}

async fn user_data_in(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<String>, CloudError> {
    let row = sqlx::query(SELECT)
        .bind(Kind::Noun(ResourceKind::Vm).as_str())
        .bind(id)
        .fetch_optional(conn)
        .await
        .or_storage()?;
    match row {
        Some(row) => stored_user_data(&row.try_get::<String, _>("body").or_storage()?),
        None => Ok(None),
    }
}

/// The user data in a stored VM body.
fn stored_user_data(body: &str) -> Result<Option<String>, CloudError> {
    let vm: Vm = serde_json::from_str(body)
        .map_err(|e| CloudError::Internal(format!("corrupt vm in simulator storage: {e}")))?;
    Ok(vm.user_data)
}
