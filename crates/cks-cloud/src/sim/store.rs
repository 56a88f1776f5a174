//! The simulator's own table: one row per object, its JSON body keyed by (kind, id).
//!
//! A single generic table keeps the simulator's schema out of the service's migrations: the
//! simulator is a stand-in for someone else's cloud, and its inventory is not the service's
//! data. The SQL is portable (`$n` placeholders, `ON CONFLICT ... DO UPDATE`, TEXT only), so it
//! runs unchanged on SQLite and PostgreSQL through `sqlx::AnyPool`.

use std::collections::HashSet;

use cks_core::iaas::{ResourceKind, Vm};
use sqlx::{AnyPool, Row};

use crate::error::CloudError;
use crate::sim::inventory::{Kind, Object};

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS sim_objects (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
)";

const UPSERT: &str = "INSERT INTO sim_objects (kind, id, body) VALUES ($1, $2, $3)
    ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body";

const SELECT: &str = "SELECT body FROM sim_objects WHERE kind = $1 AND id = $2";

const DELETE: &str = "DELETE FROM sim_objects WHERE kind = $1 AND id = $2";

#[derive(Debug, Clone)]
pub(crate) struct Store {
    pool: AnyPool,
}

impl Store {
    pub(crate) async fn open(pool: AnyPool) -> Result<Store, CloudError> {
        sqlx::query(CREATE_TABLE).execute(&pool).await?;
        Ok(Store { pool })
    }

    /// Every stored object. Rows of kinds this version does not know are skipped with a warning.
    pub(crate) async fn load(&self) -> Result<Vec<Object>, CloudError> {
        let rows = sqlx::query("SELECT kind, id, body FROM sim_objects")
            .fetch_all(&self.pool)
            .await?;
        let mut res = Vec::with_capacity(rows.len());
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let id: String = row.try_get("id")?;
            let body: String = row.try_get("body")?;
            match Object::decode(&kind, &body)? {
                Some(obj) => res.push(obj),
                None => tracing::warn!(kind, id, "skipping simulator object of unknown kind"),
            }
        }
        Ok(res)
    }

    /// Writes the current value of each changed object (`None`: delete) in one transaction.
    /// The VMs in `keep_user_data` have their user data only in storage (the inventory's
    /// `offloaded`): their stored user data is kept.
    pub(crate) async fn write(
        &self,
        changes: &[(Kind, String, Option<Object>)],
        keep_user_data: &HashSet<String>,
    ) -> Result<(), CloudError> {
        if changes.is_empty() {
            return Ok(());
        }
        // Read before the write transaction (a read in it would make SQLite upgrade a
        // snapshot, which fails under concurrent writers); only the simulator writes these
        // rows, and its mutations are serialized.
        let mut kept = Vec::new();
        for id in keep_user_data {
            kept.push((id.as_str(), self.vm_user_data(id).await?));
        }
        let mut tx = self.pool.begin().await?;
        for (kind, id, current) in changes {
            match current {
                Some(Object::Vm(vm)) if keep_user_data.contains(id) => {
                    let mut vm = vm.clone();
                    vm.user_data = kept
                        .iter()
                        .find(|(k, _)| *k == id)
                        .and_then(|(_, u)| u.clone());
                    sqlx::query(UPSERT)
                        .bind(kind.as_str())
                        .bind(id.as_str())
                        .bind(Object::Vm(vm).encode()?)
                        .execute(&mut *tx)
                        .await?;
                }
                Some(obj) => {
                    let body = obj.encode()?;
                    sqlx::query(UPSERT)
                        .bind(kind.as_str())
                        .bind(id.as_str())
                        .bind(body)
                        .execute(&mut *tx)
                        .await?;
                }
                None => {
                    sqlx::query(DELETE)
                        .bind(kind.as_str())
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// The user data stored with a VM (`None` when the VM or its user data is absent).
    pub(crate) async fn vm_user_data(&self, id: &str) -> Result<Option<String>, CloudError> {
        let row = sqlx::query(SELECT)
            .bind(Kind::Noun(ResourceKind::Vm).as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => stored_user_data(&row.try_get::<String, _>("body")?),
            None => Ok(None),
        }
    }
}

/// The user data in a stored VM body.
fn stored_user_data(body: &str) -> Result<Option<String>, CloudError> {
    let vm: Vm = serde_json::from_str(body)
        .map_err(|e| CloudError::Internal(format!("corrupt vm in simulator storage: {e}")))?;
    Ok(vm.user_data)
}
