//! Persistence for cks: one `Store` over sqlx's `Any` driver, so SQLite (the embedded default)
//! and PostgreSQL (several `cksd` sharing one database) run the same SQL.
//!
//! Portability rules, kept everywhere in this crate: `$n` placeholders, TEXT/BIGINT/INTEGER
//! columns only (booleans are 0/1, times are Unix seconds, JSON is TEXT), application-generated
//! UUID keys, and an application-assigned `seq` where CloudStack orders by internal id.
//! Secrets arrive here already encrypted; this crate never sees a clear-text key or password.

mod clusters;
mod cni;
mod jobs;
mod leases;
mod migrate;
mod rows;
mod settings;
mod tenancy;
#[doc(hidden)]
pub mod testing;
mod versions;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

pub use clusters::{ClusterFilter, ClusterNode, ClusterRecord, JobStep, StepState};
pub use cni::CniConfigRecord;
pub use jobs::{Job, JobStatus, NewJob};
pub use leases::StartupLock;
pub use rows::*;
pub use versions::KubernetesVersion;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A unique constraint rejected a duplicate (name already taken).
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// A stored value could not be decoded (a bug or a hand-edited database).
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// The table the row is in.
        table: &'static str,
        /// What failed to decode.
        detail: String,
    },
}

impl StoreError {
    /// Would the same statement likely succeed later without any change: the database could not
    /// be reached or was busy (a lost connection, a pool timeout, a serialization failure or
    /// deadlock on PostgreSQL, a busy or locked database on SQLite)? Duplicates, corrupt rows
    /// and refused statements are not.
    pub fn is_transient(&self) -> bool {
        let StoreError::Database(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                let code = code.as_ref();
                // PostgreSQL: connection exceptions, serialization failure, deadlock, shutdown.
                code.starts_with("08")
                    || matches!(code, "40001" | "40P01" | "57P01" | "57P03")
                    // SQLite: SQLITE_BUSY, SQLITE_LOCKED and their extended codes.
                    || code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
            }),
            _ => false,
        }
    }
}

/// The store's result: errors are [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The SQL database behind a [`Store`], chosen by the URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite: one writer at a time, one process.
    Sqlite,
    /// PostgreSQL: several instances may share it.
    Postgres,
}

/// The database. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects and runs pending migrations. `url` is `sqlite://PATH` or `postgres://...`.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" })
            }
            _ => url.to_string(),
        };
        let options = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; the busy timeout makes a
                        // second writer wait instead of failing with SQLITE_BUSY.
                        sqlx::query("PRAGMA journal_mode=WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout=10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous=NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        // 1 MiB of page cache per connection (SQLite's default is 2 MiB): the
                        // operating system caches the file too, and eight full caches were a
                        // large share of the service's memory at thousands of clusters.
                        sqlx::query("PRAGMA cache_size=-1024")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            });
        let pool = options.connect(&url).await?;
        let store = Store { pool, backend };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// A transaction that writes. On SQLite it takes the write lock at `BEGIN` (`IMMEDIATE`), so
    /// a transaction that reads before it writes waits for other writers (busy timeout) instead
    /// of failing when it upgrades its lock.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// The connection pool, for repositories' queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is, for the few statements that differ.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A strictly increasing number per process, close to wall-clock microseconds, so rows sort in
/// creation order (CloudStack's "ordered by internal id") without a dialect-specific sequence.
pub fn next_seq() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    let mut prev = LAST.load(Ordering::Relaxed);
    loop {
        let next = wall.max(prev + 1);
        match LAST.compare_exchange(prev, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(actual) => prev = actual,
        }
    }
}

/// A new random (v4) UUID, the form of every id the store keeps.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Maps a unique-constraint violation to [`StoreError::Duplicate`].
fn unique(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(what),
        _ => StoreError::Database(e),
    }
}

/// A fresh, empty database of the backend the test run selected (see [`testing`]), kept until
/// this value is dropped.
#[cfg(test)]
pub(crate) struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<testing::PgTestDatabase>,
}

#[cfg(test)]
pub(crate) fn test_database() -> TestDb {
    match testing::admin_url() {
        Some(admin) => {
            let db = testing::PgTestDatabase::create(&admin).expect("create test database");
            TestDb {
                url: db.url().to_string(),
                _dir: None,
                _pg: Some(db),
            }
        }
        None => {
            let dir = tempfile::tempdir().expect("tempdir");
            TestDb {
                url: format!("sqlite://{}", dir.path().join("t.db").display()),
                _dir: Some(dir),
                _pg: None,
            }
        }
    }
}

/// A store on a fresh database.
#[cfg(test)]
pub(crate) async fn test_store() -> (Store, TestDb) {
    let db = test_database();
    (Store::open(&db.url).await.expect("open store"), db)
}

#[cfg(test)]
mod error_tests {
    use super::*;

    #[tokio::test]
    async fn only_an_unreachable_or_busy_database_is_transient() {
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_transient());
        assert!(!StoreError::Duplicate("cluster").is_transient());
        let corrupt = StoreError::Corrupt {
            table: "clusters",
            detail: "bad spec".into(),
        };
        assert!(!corrupt.is_transient());
        // A statement the database refuses stays refused.
        let (store, _db) = test_store().await;
        let refused = sqlx::query("SELECT * FROM no_such_table")
            .execute(&store.pool)
            .await
            .map_err(StoreError::from)
            .expect_err("no such table");
        assert!(!refused.is_transient(), "{refused}");
    }
}
