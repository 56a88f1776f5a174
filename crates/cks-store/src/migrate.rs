//! Schema migrations: an ordered list of portable SQL scripts, each applied once.

use crate::{Backend, Result, Store};

/// `(version, statements)`. Append only; never edit a released entry.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_foundation.sql")),
    (2, include_str!("../migrations/0002_clusters.sql")),
    (3, include_str!("../migrations/0003_cni.sql")),
    (4, include_str!("../migrations/0004_leases.sql")),
    (5, include_str!("../migrations/0005_login_failures.sql")),
];

/// The PostgreSQL advisory lock ("cks") that instances starting together on one database take
/// around each migration, so the second waits and then finds the work done.
const MIGRATION_LOCK: i64 = 0x636b73;

pub(crate) async fn run(store: &Store) -> Result<()> {
    let mut tx = begin(store).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied BIGINT NOT NULL)")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    for (version, script) in MIGRATIONS {
        let mut tx = begin(store).await?;
        let done: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_some() {
            continue;
        }
        for statement in statements(script) {
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await?;
        }
        // A concurrent SQLite instance may have applied it first: the primary key makes that
        // fail, and the rollback leaves its work in place.
        sqlx::query("INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)")
            .bind(*version)
            .bind(crate::now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// A transaction that holds the migration lock on PostgreSQL (released at its end). Without
/// it, two instances would both create a table and the second fail on the catalog's keys.
async fn begin(store: &Store) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    let mut tx = store.pool().begin().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

/// The statements of a script: split on `;` outside string literals, with `--` comments
/// removed (a `;` in a comment must not end a statement), empty pieces skipped.
fn statements(script: &str) -> Vec<String> {
    let mut res = Vec::new();
    let mut current = String::new();
    let mut in_string = false;
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_string = !in_string;
                current.push(c);
            }
            '-' if !in_string && chars.peek() == Some(&'-') => {
                // Skip to the end of the line, keeping the newline.
                for c in chars.by_ref() {
                    if c == '\n' {
                        current.push(c);
                        break;
                    }
                }
            }
            ';' if !in_string => res.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    res.push(current);
    res.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_on_semicolons_outside_comments_and_literals() {
        let split = statements(
            "-- a; b\nCREATE TABLE t (x TEXT DEFAULT 'a;--b'); -- c;\n-- only a comment\nDROP TABLE u",
        );
        assert_eq!(
            split,
            ["CREATE TABLE t (x TEXT DEFAULT 'a;--b')", "DROP TABLE u"]
        );
        for (version, script) in MIGRATIONS {
            assert!(!statements(script).is_empty(), "migration {version}");
        }
    }

    #[tokio::test]
    async fn instances_starting_together_migrate_once() {
        // Only PostgreSQL is shared by several instances; an embedded SQLite has one.
        if crate::testing::backend() != Backend::Postgres {
            return;
        }
        let db = crate::test_database();
        let mut opens = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let url = db.url.clone();
            opens.spawn(async move { Store::open(&url).await.map(|_| ()) });
        }
        for result in opens.join_all().await {
            result.expect("open");
        }
        let store = Store::open(&db.url).await.expect("reopen");
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM schema_migrations")
            .fetch_one(store.pool())
            .await
            .expect("count");
        assert_eq!(n, MIGRATIONS.len() as i64);
    }
}
