//! Domains, accounts, users, sessions and projects.

use cks_core::tenancy::AccountType;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Account, Domain, Project, Result, Session, Store, StoreError, User, next_seq, unique};

const DOMAIN_COLS: &str = "id, name, parent_id, path, level, network_domain, created";
const ACCOUNT_COLS: &str =
    "id, name, account_type, domain_id, state, network_domain, project_id, created";
const USER_COLS: &str = "id, account_id, domain_id, username, password_hash, email, firstname, lastname, timezone, state, api_key, secret_key_enc, created, locked_until";
const PROJECT_COLS: &str =
    "id, name, display_text, domain_id, project_account_id, owner_account_id, state, created";

fn domain(row: &AnyRow) -> Result<Domain> {
    Ok(Domain {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        parent_id: row.try_get("parent_id")?,
        path: row.try_get("path")?,
        level: row.try_get::<i64, _>("level")?,
        network_domain: row.try_get("network_domain")?,
        created: row.try_get("created")?,
    })
}

fn account(row: &AnyRow) -> Result<Account> {
    let code: i64 = row.try_get("account_type")?;
    Ok(Account {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        account_type: AccountType::from_code(code).ok_or_else(|| StoreError::Corrupt {
            table: "accounts",
            detail: format!("account_type {code}"),
        })?,
        domain_id: row.try_get("domain_id")?,
        state: row.try_get("state")?,
        network_domain: row.try_get("network_domain")?,
        project_id: row.try_get("project_id")?,
        created: row.try_get("created")?,
    })
}

fn user(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        domain_id: row.try_get("domain_id")?,
        username: row.try_get("username")?,
        password_hash: row.try_get("password_hash")?,
        email: row.try_get("email")?,
        firstname: row.try_get("firstname")?,
        lastname: row.try_get("lastname")?,
        timezone: row.try_get("timezone")?,
        state: row.try_get("state")?,
        api_key: row.try_get("api_key")?,
        secret_key_enc: row.try_get("secret_key_enc")?,
        created: row.try_get("created")?,
        locked_until: row.try_get("locked_until")?,
    })
}

fn project(row: &AnyRow) -> Result<Project> {
    Ok(Project {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        display_text: row.try_get("display_text")?,
        domain_id: row.try_get("domain_id")?,
        project_account_id: row.try_get("project_account_id")?,
        owner_account_id: row.try_get("owner_account_id")?,
        state: row.try_get("state")?,
        created: row.try_get("created")?,
    })
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn insert_account_query(a: &Account) -> AnyQuery<'_> {
    sqlx::query("INSERT INTO accounts (id, seq, name, account_type, domain_id, state, network_domain, project_id, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&a.id).bind(next_seq()).bind(&a.name).bind(a.account_type.code()).bind(&a.domain_id)
        .bind(&a.state).bind(&a.network_domain).bind(&a.project_id).bind(a.created)
}

fn insert_user_query(u: &User) -> AnyQuery<'_> {
    sqlx::query("INSERT INTO users (id, seq, account_id, domain_id, username, password_hash, email, firstname, lastname, timezone, state, api_key, secret_key_enc, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)")
        .bind(&u.id).bind(next_seq()).bind(&u.account_id).bind(&u.domain_id).bind(&u.username)
        .bind(&u.password_hash).bind(&u.email).bind(&u.firstname).bind(&u.lastname).bind(&u.timezone)
        .bind(&u.state).bind(&u.api_key).bind(&u.secret_key_enc).bind(u.created)
}

impl Store {
    // === Domains ===

    /// Inserts a domain; `Duplicate("domain")` when its parent has one of that name.
    pub async fn insert_domain(&self, d: &Domain) -> Result<()> {
        sqlx::query("INSERT INTO domains (id, seq, name, parent_id, path, level, network_domain, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&d.id).bind(next_seq()).bind(&d.name).bind(&d.parent_id).bind(&d.path)
            .bind(d.level).bind(&d.network_domain).bind(d.created)
            .execute(self.pool()).await.map_err(unique("domain"))?;
        Ok(())
    }

    /// The domain with this id, if any.
    pub async fn domain(&self, id: &str) -> Result<Option<Domain>> {
        let sql = format!("SELECT {DOMAIN_COLS} FROM domains WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(domain)
            .transpose()
    }

    /// The domain at `ROOT/...` path `path`, if any.
    pub async fn domain_by_path(&self, path: &str) -> Result<Option<Domain>> {
        let sql = format!("SELECT {DOMAIN_COLS} FROM domains WHERE path = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(path)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(domain)
            .transpose()
    }

    /// The `ROOT` domain; `None` only before the first start seeded it.
    pub async fn root_domain(&self) -> Result<Option<Domain>> {
        self.domain_by_path("ROOT").await
    }

    /// Every domain, in creation order. Domain trees are small; callers filter by path.
    pub async fn domains(&self) -> Result<Vec<Domain>> {
        let sql = format!("SELECT {DOMAIN_COLS} FROM domains ORDER BY seq");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(domain)
            .collect()
    }

    // === Accounts ===

    /// Inserts an account; `Duplicate("account")` when its domain has one of that name.
    pub async fn insert_account(&self, a: &Account) -> Result<()> {
        insert_account_query(a)
            .execute(self.pool())
            .await
            .map_err(unique("account"))?;
        Ok(())
    }

    /// The account with this id (project accounts included), if any.
    pub async fn account(&self, id: &str) -> Result<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(account)
            .transpose()
    }

    /// The account named `name` in domain `domain_id`, if any.
    pub async fn account_by_name(&self, domain_id: &str, name: &str) -> Result<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE domain_id = $1 AND name = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(domain_id)
            .bind(name)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(account)
            .transpose()
    }

    /// Every account that is not a project's hidden account, in creation order.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        let sql =
            format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE project_id IS NULL ORDER BY seq");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(account)
            .collect()
    }

    // === Users ===

    /// Inserts a user; `Duplicate("user")` when its domain has one of that name.
    pub async fn insert_user(&self, u: &User) -> Result<()> {
        insert_user_query(u)
            .execute(self.pool())
            .await
            .map_err(unique("user"))?;
        Ok(())
    }

    /// Creates an account and its first user in one transaction: either both exist or neither.
    pub async fn insert_account_with_user(&self, a: &Account, u: &User) -> Result<()> {
        let mut tx = self.begin_write().await?;
        insert_account_query(a)
            .execute(&mut *tx)
            .await
            .map_err(unique("account"))?;
        insert_user_query(u)
            .execute(&mut *tx)
            .await
            .map_err(unique("user"))?;
        tx.commit().await?;
        Ok(())
    }

    /// The user with this id, if any.
    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(user)
            .transpose()
    }

    /// The user whose API key is `api_key`, if any (keys are unique).
    pub async fn user_by_api_key(&self, api_key: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE api_key = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(api_key)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(user)
            .transpose()
    }

    /// The user logging in as `username` in domain `domain_id`, if any.
    pub async fn user_by_name(&self, domain_id: &str, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE domain_id = $1 AND username = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(domain_id)
            .bind(username)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(user)
            .transpose()
    }

    /// Every user, in creation order.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users ORDER BY seq");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(user)
            .collect()
    }

    /// The users of one account, in creation order.
    pub async fn users_of_account(&self, account_id: &str) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE account_id = $1 ORDER BY seq");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(user)
            .collect()
    }

    /// Replaces a user's API key and sealed secret key.
    pub async fn set_user_keys(
        &self,
        user_id: &str,
        api_key: &str,
        secret_key_enc: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET api_key = $1, secret_key_enc = $2 WHERE id = $3")
            .bind(api_key)
            .bind(secret_key_enc)
            .bind(user_id)
            .execute(self.pool())
            .await
            .map_err(unique("api key"))?;
        Ok(())
    }

    // === Failed logins ===

    /// Counts a failed password login. The `allowed`-th consecutive failure locks the user until
    /// `lock_until` and starts the count again; returns whether this one did. One statement, so
    /// instances sharing the database count together.
    pub async fn record_failed_login(
        &self,
        user_id: &str,
        allowed: i64,
        lock_until: i64,
    ) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "UPDATE users SET \
               login_failures = CASE WHEN login_failures + 1 >= $2 THEN 0 ELSE login_failures + 1 END, \
               locked_until = CASE WHEN login_failures + 1 >= $2 THEN $3 ELSE locked_until END \
             WHERE id = $1 RETURNING locked_until",
        )
        .bind(user_id)
        .bind(allowed)
        .bind(lock_until)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some_and(|(until,)| until == lock_until))
    }

    /// A successful login: the next failure is the first again.
    pub async fn clear_failed_logins(&self, user_id: &str) -> Result<()> {
        sqlx::query("UPDATE users SET login_failures = 0 WHERE id = $1 AND login_failures <> 0")
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    // === Sessions (keyed by a hash of the session key, so a database dump cannot log anyone in) ===

    /// Stores a new session under the hash of its key.
    pub async fn insert_session(&self, key_hash: &str, s: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (key_hash, user_id, created, expires) VALUES ($1, $2, $3, $4)",
        )
        .bind(key_hash)
        .bind(&s.user_id)
        .bind(s.created)
        .bind(s.expires)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The session stored under this key hash, expired or not (the caller checks `expires`).
    pub async fn session(&self, key_hash: &str) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT user_id, created, expires FROM sessions WHERE key_hash = $1")
            .bind(key_hash)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| -> Result<Session> {
            Ok(Session {
                user_id: r.try_get("user_id")?,
                created: r.try_get("created")?,
                expires: r.try_get("expires")?,
            })
        })
        .transpose()
    }

    /// Ends a session (logout); no error when it is gone.
    pub async fn delete_session(&self, key_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE key_hash = $1")
            .bind(key_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Moves a session's expiry to `expires` (Unix seconds), on each use.
    pub async fn extend_session(&self, key_hash: &str, expires: i64) -> Result<()> {
        sqlx::query("UPDATE sessions SET expires = $1 WHERE key_hash = $2")
            .bind(expires)
            .bind(key_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    // === Projects ===

    /// Creates the project, its hidden owning account and the owner's membership together.
    pub async fn insert_project(&self, p: &Project, project_account: &Account) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO projects (id, seq, name, display_text, domain_id, project_account_id, owner_account_id, state, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&p.id).bind(next_seq()).bind(&p.name).bind(&p.display_text).bind(&p.domain_id)
            .bind(&p.project_account_id).bind(&p.owner_account_id).bind(&p.state).bind(p.created)
            .execute(&mut *tx).await.map_err(unique("project"))?;
        let a = project_account;
        insert_account_query(a)
            .execute(&mut *tx)
            .await
            .map_err(unique("account"))?;
        sqlx::query(
            "INSERT INTO project_members (project_id, account_id, role) VALUES ($1, $2, $3)",
        )
        .bind(&p.id)
        .bind(&p.owner_account_id)
        .bind("Admin")
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The project with this id, if any.
    pub async fn project(&self, id: &str) -> Result<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(project)
            .transpose()
    }

    /// Every project, in creation order.
    pub async fn projects(&self) -> Result<Vec<Project>> {
        let sql = format!("SELECT {PROJECT_COLS} FROM projects ORDER BY seq");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(project)
            .collect()
    }

    /// Ids of the projects an account belongs to.
    pub async fn project_ids_of(&self, account_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT project_id FROM project_members WHERE account_id = $1")
            .bind(account_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok(r.try_get("project_id")?)).collect()
    }

    /// `(project id, account id, role)` of every membership.
    pub async fn project_members(&self, project_id: &str) -> Result<Vec<(String, String)>> {
        let rows =
            sqlx::query("SELECT account_id, role FROM project_members WHERE project_id = $1")
                .bind(project_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("account_id")?, r.try_get("role")?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_store;

    fn domain_row(id: &str, name: &str, parent: Option<&str>, path: &str) -> Domain {
        Domain {
            id: id.into(),
            name: name.into(),
            parent_id: parent.map(Into::into),
            path: path.into(),
            level: 0,
            network_domain: None,
            created: 1,
        }
    }

    fn user_row(id: &str, account: &str, domain: &str, name: &str) -> User {
        User {
            id: id.into(),
            account_id: account.into(),
            domain_id: domain.into(),
            username: name.into(),
            password_hash: "h".into(),
            email: None,
            firstname: None,
            lastname: None,
            timezone: None,
            state: "enabled".into(),
            api_key: Some(format!("key-{id}")),
            secret_key_enc: None,
            created: 1,
            locked_until: 0,
        }
    }

    /// A store with domain `d1`, account `a1` (alice) and its user `u1`.
    async fn store_with_alice() -> (Store, crate::TestDb, Account) {
        let (store, _dir) = test_store().await;
        store
            .insert_domain(&domain_row("d1", "ROOT", None, "ROOT"))
            .await
            .unwrap();
        let acct = Account {
            id: "a1".into(),
            name: "alice".into(),
            account_type: AccountType::User,
            domain_id: "d1".into(),
            state: "enabled".into(),
            network_domain: None,
            project_id: None,
            created: 1,
        };
        store
            .insert_account_with_user(&acct, &user_row("u1", "a1", "d1", "alice"))
            .await
            .unwrap();
        (store, _dir, acct)
    }

    #[tokio::test]
    async fn account_and_first_user_are_created_together_or_not_at_all() {
        let (store, _dir, acct) = store_with_alice().await;
        // Same username in the same domain: the user insert fails, so the second account must not exist.
        let acct2 = Account {
            id: "a2".into(),
            name: "other".into(),
            ..acct.clone()
        };
        let err = store
            .insert_account_with_user(&acct2, &user_row("u2", "a2", "d1", "alice"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Duplicate("user")), "{err:?}");
        assert!(store.account("a2").await.unwrap().is_none());
        assert_eq!(
            store
                .user_by_api_key("key-u1")
                .await
                .unwrap()
                .unwrap()
                .username,
            "alice"
        );
    }

    #[tokio::test]
    async fn the_allowed_th_consecutive_failure_locks_and_a_success_resets_the_count() {
        let (store, _dir, _) = store_with_alice().await;
        assert_eq!(store.user("u1").await.unwrap().unwrap().locked_until, 0);
        assert!(!store.record_failed_login("u1", 3, 100).await.unwrap());
        assert!(!store.record_failed_login("u1", 3, 100).await.unwrap());
        store.clear_failed_logins("u1").await.unwrap();
        assert!(!store.record_failed_login("u1", 3, 100).await.unwrap());
        assert!(!store.record_failed_login("u1", 3, 100).await.unwrap());
        assert!(store.record_failed_login("u1", 3, 100).await.unwrap());
        assert_eq!(store.user("u1").await.unwrap().unwrap().locked_until, 100);
        // The count starts again for when the lock has run out.
        assert!(!store.record_failed_login("u1", 3, 200).await.unwrap());
        assert_eq!(store.user("u1").await.unwrap().unwrap().locked_until, 100);
        assert!(!store.record_failed_login("nobody", 3, 100).await.unwrap());
    }

    #[tokio::test]
    async fn sibling_domains_need_distinct_names() {
        let (store, _dir) = test_store().await;
        store
            .insert_domain(&domain_row("d1", "ROOT", None, "ROOT"))
            .await
            .unwrap();
        store
            .insert_domain(&domain_row("d2", "eng", Some("d1"), "ROOT/eng"))
            .await
            .unwrap();
        let err = store
            .insert_domain(&domain_row("d3", "eng", Some("d1"), "ROOT/eng"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Duplicate("domain")));
        assert_eq!(store.domains().await.unwrap().len(), 2);
    }
}
