//! Named leases: which instance does a piece of singleton work (the state scanner) now.

use crate::{Result, Store};

impl Store {
    /// Takes or renews the lease `name` for `holder` until `until`. True when `holder` has it:
    /// it was free, expired (`until < now`), or already `holder`'s.
    pub async fn hold_lease(&self, name: &str, holder: &str, now: i64, until: i64) -> Result<bool> {
        let taken = sqlx::query(
            "UPDATE service_leases SET holder = $1, until = $2 WHERE name = $3 AND (holder = $1 OR until < $4)",
        )
        .bind(holder)
        .bind(until)
        .bind(name)
        .bind(now)
        .execute(self.pool())
        .await?;
        if taken.rows_affected() == 1 {
            return Ok(true);
        }
        // The first holder ever creates the row; of two racing, the primary key keeps one.
        let created = sqlx::query(
            "INSERT INTO service_leases (name, holder, until) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .execute(self.pool())
        .await?;
        Ok(created.rows_affected() == 1)
    }

    /// Gives the lease up (a clean shutdown), so another instance need not wait for it to expire.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM service_leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// Held while an instance starts (seeds the simulated cloud, creates the root admin): of
/// several instances started at once on one PostgreSQL, one does that and the others then
/// find it done. Released by [`StartupLock::release`], or when the process dies.
pub struct StartupLock(Option<sqlx::pool::PoolConnection<sqlx::Any>>);

/// The advisory lock key ("cks-up").
const STARTUP_LOCK: i64 = 0x636b_732d_7570;

impl Store {
    /// Waits for the startup lock (PostgreSQL; SQLite has one writer at a time already).
    pub async fn lock_startup(&self) -> Result<StartupLock> {
        if self.backend() != crate::Backend::Postgres {
            return Ok(StartupLock(None));
        }
        let mut conn = self.pool().acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(STARTUP_LOCK)
            .execute(&mut *conn)
            .await?;
        Ok(StartupLock(Some(conn)))
    }
}

impl StartupLock {
    /// Releases the lock so the next starting instance goes on.
    pub async fn release(self) -> Result<()> {
        if let Some(mut conn) = self.0 {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(STARTUP_LOCK)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_store;

    #[tokio::test]
    async fn one_holder_at_a_time_and_taken_over_when_expired() {
        let (store, _dir) = test_store().await;
        assert!(store.hold_lease("scanner", "ms1", 100, 110).await.unwrap());
        assert!(!store.hold_lease("scanner", "ms2", 105, 115).await.unwrap());
        assert!(
            store.hold_lease("scanner", "ms1", 108, 118).await.unwrap(),
            "renewed"
        );
        assert!(!store.hold_lease("scanner", "ms2", 117, 127).await.unwrap());
        assert!(
            store.hold_lease("scanner", "ms2", 119, 129).await.unwrap(),
            "expired: taken over"
        );
        assert!(!store.hold_lease("scanner", "ms1", 120, 130).await.unwrap());
        store.release_lease("scanner", "ms2").await.unwrap();
        assert!(
            store.hold_lease("scanner", "ms1", 121, 131).await.unwrap(),
            "released"
        );
    }
}
