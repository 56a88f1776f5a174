//! Schema migrations: an ordered list of portable SQL scripts, each applied once.

use crate::{Result, Store};

/// `(version, statements)`. Append only; never edit a released entry.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_foundation.sql")),
    (2, include_str!("../migrations/0002_clusters.sql")),
    (3, include_str!("../migrations/0003_cni.sql")),
];

pub(crate) async fn run(store: &Store) -> Result<()> {
    let pool = store.pool();
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied BIGINT NOT NULL)")
        .execute(pool)
        .await?;
    for (version, script) in MIGRATIONS {
        let mut tx = pool.begin().await?;
        let done: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_some() {
            continue;
        }
        for statement in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await?;
        }
        // A concurrent instance may have applied it first: the primary key makes that fail, and
        // the rollback leaves its work in place.
        sqlx::query("INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)")
            .bind(*version)
            .bind(crate::now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
