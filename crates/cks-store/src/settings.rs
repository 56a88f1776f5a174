//! Global setting values that differ from the catalog's defaults.

use std::collections::HashMap;

use sqlx::Row;

use crate::{Result, Store};

impl Store {
    /// Every stored value by name; absent names use their defaults.
    pub async fn settings(&self) -> Result<HashMap<String, Option<String>>> {
        let rows = sqlx::query("SELECT name, value FROM settings")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("value")?)))
            .collect()
    }

    /// Stores a value (`None` resets the setting to its default).
    pub async fn set_setting(&self, name: &str, value: Option<&str>) -> Result<()> {
        // One statement either way: a delete-then-insert let two writers on PostgreSQL both
        // delete nothing and the second insert fail on the key.
        match value {
            Some(value) => sqlx::query("INSERT INTO settings (name, value, updated) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated")
                .bind(name)
                .bind(value)
                .bind(crate::now())
                .execute(self.pool())
                .await?,
            None => sqlx::query("DELETE FROM settings WHERE name = $1")
                .bind(name)
                .execute(self.pool())
                .await?,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_store;

    #[tokio::test]
    async fn values_replace_and_reset() {
        let (store, _dir) = test_store().await;
        store.set_setting("a.b", Some("1")).await.unwrap();
        store.set_setting("a.b", Some("2")).await.unwrap();
        assert_eq!(store.settings().await.unwrap()["a.b"].as_deref(), Some("2"));
        store.set_setting("a.b", None).await.unwrap();
        assert!(!store.settings().await.unwrap().contains_key("a.b"));
    }
}
