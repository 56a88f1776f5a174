//! Registered CNI configurations: cloud-init content (base64) with the names of the parameters
//! it uses, owned by an account or a project, unique by name per owner account.

use cks_core::tenancy::Owner;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, next_seq, unique};

/// A CNI configuration row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CniConfigRecord {
    /// Configuration UUID.
    pub id: String,
    /// Name, unique per owner account.
    pub name: String,
    /// The account (or project) that registered it.
    pub owner: Owner,
    /// The content, base64 as registered (re-encoded with padding).
    pub user_data: String,
    /// The declared parameter names, comma-separated as registered.
    pub params: Option<String>,
    /// Unix seconds (UTC).
    pub created: i64,
}

const COLS: &str = "id, name, owner, user_data, params, created";

fn record(row: &AnyRow) -> Result<CniConfigRecord> {
    let owner: String = row.try_get("owner")?;
    Ok(CniConfigRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        owner: serde_json::from_str(&owner).map_err(|e| StoreError::Corrupt {
            table: "cni_configurations",
            detail: e.to_string(),
        })?,
        user_data: row.try_get("user_data")?,
        params: row.try_get("params")?,
        created: row.try_get("created")?,
    })
}

impl Store {
    /// `Duplicate("cni configuration name")` when the owner account has one of that name.
    pub async fn insert_cni_config(&self, c: &CniConfigRecord) -> Result<()> {
        let owner = serde_json::to_string(&c.owner).unwrap_or_default();
        sqlx::query("INSERT INTO cni_configurations (id, seq, name, account_id, domain_id, project_id, owner, user_data, params, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(&c.id).bind(next_seq()).bind(&c.name).bind(&c.owner.account_id).bind(&c.owner.domain_id)
            .bind(&c.owner.project_id).bind(owner).bind(&c.user_data).bind(&c.params).bind(c.created)
            .execute(self.pool()).await.map_err(unique("cni configuration name"))?;
        Ok(())
    }

    /// The configuration with this id, if any.
    pub async fn cni_config(&self, id: &str) -> Result<Option<CniConfigRecord>> {
        let sql = format!("SELECT {COLS} FROM cni_configurations WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(record)
            .transpose()
    }

    /// The configurations of one account, or of every account, newest first (CloudStack's
    /// "ordered by id descending").
    pub async fn cni_configs(&self, account_id: Option<&str>) -> Result<Vec<CniConfigRecord>> {
        let filter = match account_id {
            Some(_) => " WHERE account_id = $1",
            None => "",
        };
        let sql = format!("SELECT {COLS} FROM cni_configurations{filter} ORDER BY seq DESC");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(account_id) = account_id {
            q = q.bind(account_id);
        }
        q.fetch_all(self.pool()).await?.iter().map(record).collect()
    }

    /// Removes a configuration. False when it was already gone.
    pub async fn delete_cni_config(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM cni_configurations WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Names of the live clusters whose spec names this configuration. The spec is JSON text:
    /// a `LIKE` narrows the rows and parsing the spec decides.
    pub async fn clusters_using_cni_config(&self, id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT name, spec FROM kubernetes_clusters WHERE removed IS NULL AND spec LIKE $1 ORDER BY seq",
        )
        .bind(format!("%{id}%"))
        .fetch_all(self.pool())
        .await?;
        let mut res = Vec::new();
        for row in &rows {
            let spec: String = row.try_get("spec")?;
            let spec: cks_core::cluster::ClusterSpec =
                serde_json::from_str(&spec).map_err(|e| StoreError::Corrupt {
                    table: "kubernetes_clusters",
                    detail: e.to_string(),
                })?;
            if spec.cni_config_id.as_deref() == Some(id) {
                res.push(row.try_get("name")?);
            }
        }
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_store;

    fn config(id: &str, name: &str, account: &str) -> CniConfigRecord {
        CniConfigRecord {
            id: id.into(),
            name: name.into(),
            owner: Owner {
                account_id: account.into(),
                account_name: account.into(),
                domain_id: "d".into(),
                domain_name: "ROOT".into(),
                domain_path: "ROOT".into(),
                project_id: None,
                project_name: None,
            },
            user_data: "I2Nsb3VkLWNvbmZpZwo=".into(),
            params: Some("a,b".into()),
            created: 1,
        }
    }

    #[tokio::test]
    async fn names_are_unique_per_account_and_lists_are_newest_first() {
        let (store, _dir) = test_store().await;
        store
            .insert_cni_config(&config("1", "calico", "acc1"))
            .await
            .unwrap();
        store
            .insert_cni_config(&config("2", "calico", "acc2"))
            .await
            .unwrap();
        store
            .insert_cni_config(&config("3", "cilium", "acc1"))
            .await
            .unwrap();
        assert!(matches!(
            store
                .insert_cni_config(&config("4", "calico", "acc1"))
                .await,
            Err(StoreError::Duplicate(_))
        ));
        let ids = |list: Vec<CniConfigRecord>| list.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(store.cni_configs(None).await.unwrap()), ["3", "2", "1"]);
        assert_eq!(
            ids(store.cni_configs(Some("acc1")).await.unwrap()),
            ["3", "1"]
        );
        assert_eq!(
            store.cni_config("1").await.unwrap().unwrap(),
            config("1", "calico", "acc1")
        );
        assert!(store.delete_cni_config("1").await.unwrap());
        assert!(!store.delete_cni_config("1").await.unwrap());
        assert!(store.cni_config("1").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn clusters_using_a_configuration_are_found_by_their_spec() {
        use cks_core::cluster::{ClusterSpec, ClusterState, ClusterType};
        let (store, _dir) = test_store().await;
        let cluster = |id: &str, cni: Option<&str>| crate::ClusterRecord {
            id: id.into(),
            seq: 0,
            name: format!("c{id}"),
            description: String::new(),
            owner: config("x", "x", "acc1").owner,
            zone_id: "z".into(),
            kubernetes_version_id: None,
            cluster_type: ClusterType::CloudManaged,
            state: ClusterState::Running,
            network_id: None,
            spec: ClusterSpec {
                cni_config_id: cni.map(Into::into),
                // A detail value that mentions the id must not count.
                cni_details: [("peer".to_string(), "cfg-1".to_string())].into(),
                ..ClusterSpec::default()
            },
            secrets: None,
            gc: false,
            operation: None,
            job_id: None,
            step: None,
            last_error: None,
            created: 1,
            removed: None,
        };
        for (id, cni) in [("1", Some("cfg-1")), ("2", None), ("3", Some("cfg-10"))] {
            store.insert_cluster(&cluster(id, cni), None).await.unwrap();
        }
        assert_eq!(
            store.clusters_using_cni_config("cfg-1").await.unwrap(),
            ["c1"]
        );
        store.remove_cluster("1").await.unwrap();
        assert!(
            store
                .clusters_using_cni_config("cfg-1")
                .await
                .unwrap()
                .is_empty()
        );
    }
}
