//! The Kubernetes version catalog.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, next_seq};

/// A supported Kubernetes version: its binaries ISO and what it asks of node offerings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesVersion {
    /// Version UUID.
    pub id: String,
    /// Display name (`name`), e.g. `v1.33.1`.
    pub name: String,
    /// `MAJOR.MINOR.PATCH` (`semanticversion`), checked by `SemanticVersion::parse`.
    pub semantic_version: String,
    /// The binaries ISO registered with the cloud.
    pub iso_id: Option<String>,
    /// `None`: available in every zone.
    pub zone_id: Option<String>,
    /// CPU architecture of the binaries: `x86_64` or `aarch64`.
    pub arch: String,
    /// `Enabled` or `Disabled`.
    pub state: String,
    /// vCPUs a node offering needs at least (`mincpunumber`).
    pub min_cpu: i64,
    /// MiB a node offering needs at least (`minmemory`).
    pub min_memory: i64,
    /// `directdownload`: the ISO is fetched by the hypervisor, not cached.
    pub direct_download: bool,
    /// Unix seconds (UTC).
    pub created: i64,
}

const COLS: &str = "id, name, semantic_version, iso_id, zone_id, arch, state, min_cpu, min_memory, direct_download, created";

fn version(row: &AnyRow) -> Result<KubernetesVersion> {
    Ok(KubernetesVersion {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        semantic_version: row.try_get("semantic_version")?,
        iso_id: row.try_get("iso_id")?,
        zone_id: row.try_get("zone_id")?,
        arch: row.try_get("arch")?,
        state: row.try_get("state")?,
        min_cpu: row.try_get::<i64, _>("min_cpu")?,
        min_memory: row.try_get::<i64, _>("min_memory")?,
        direct_download: row.try_get::<i64, _>("direct_download")? != 0,
        created: row.try_get("created")?,
    })
}

impl Store {
    /// Adds a version to the catalog.
    pub async fn insert_version(&self, v: &KubernetesVersion) -> Result<()> {
        sqlx::query("INSERT INTO kubernetes_versions (id, seq, name, semantic_version, iso_id, zone_id, arch, state, min_cpu, min_memory, direct_download, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
            .bind(&v.id).bind(next_seq()).bind(&v.name).bind(&v.semantic_version).bind(&v.iso_id)
            .bind(&v.zone_id).bind(&v.arch).bind(&v.state).bind(v.min_cpu).bind(v.min_memory)
            .bind(i64::from(v.direct_download)).bind(v.created)
            .execute(self.pool()).await?;
        Ok(())
    }

    /// A version that has not been deleted.
    pub async fn version(&self, id: &str) -> Result<Option<KubernetesVersion>> {
        let sql =
            format!("SELECT {COLS} FROM kubernetes_versions WHERE id = $1 AND removed IS NULL");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(version)
            .transpose()
    }

    /// Every live version, in creation order. The catalog is small; the API filters it in memory.
    pub async fn versions(&self) -> Result<Vec<KubernetesVersion>> {
        let sql =
            format!("SELECT {COLS} FROM kubernetes_versions WHERE removed IS NULL ORDER BY seq");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(version)
            .collect()
    }

    /// Sets `state` (`Enabled` or `Disabled`).
    pub async fn set_version_state(&self, id: &str, state: &str) -> Result<()> {
        sqlx::query("UPDATE kubernetes_versions SET state = $1 WHERE id = $2")
            .bind(state)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Soft delete: the row stays for history, invisible to every query above.
    pub async fn remove_version(&self, id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE kubernetes_versions SET removed = $1 WHERE id = $2 AND removed IS NULL",
        )
        .bind(crate::now())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// How many live clusters run this version.
    pub async fn clusters_using_version(&self, version_id: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM kubernetes_clusters WHERE kubernetes_version_id = $1 AND removed IS NULL")
            .bind(version_id).fetch_one(self.pool()).await?;
        Ok(row.try_get::<i64, _>("n")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_store;

    fn v(id: &str, name: &str, zone: Option<&str>) -> KubernetesVersion {
        KubernetesVersion {
            id: id.into(),
            name: name.into(),
            semantic_version: "1.33.1".into(),
            iso_id: None,
            zone_id: zone.map(Into::into),
            arch: "x86_64".into(),
            state: "Enabled".into(),
            min_cpu: 2,
            min_memory: 2048,
            direct_download: false,
            created: 1,
        }
    }

    #[tokio::test]
    async fn lists_in_creation_order_and_hides_removed() {
        let (store, _dir) = test_store().await;
        store
            .insert_version(&v("1", "v1.33.1", None))
            .await
            .unwrap();
        store
            .insert_version(&v("2", "v1.33.1-z1", Some("z1")))
            .await
            .unwrap();
        store
            .insert_version(&v("3", "v1_x%", Some("z2")))
            .await
            .unwrap();
        let ids: Vec<String> = store
            .versions()
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.id)
            .collect();
        assert_eq!(ids, ["1", "2", "3"]);
        store.remove_version("1").await.unwrap();
        assert!(store.version("1").await.unwrap().is_none());
        assert_eq!(store.versions().await.unwrap().len(), 2);
    }
}
