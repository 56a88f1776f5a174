//! Test support shared by this crate's unit tests and `cksd`'s API tests: which backend the test
//! run selected, and a fresh PostgreSQL database per test.
//!
//! `scripts/with-postgres.sh` starts a throw-away server and sets [`TEST_DATABASE_URL`] to its
//! admin URL; without it tests run on SQLite. Databases are made and dropped with the real
//! `psql`, so this works from synchronous code (the API tests' harness) as well as async.

use std::process::Command;

use crate::Backend;

/// The environment variable holding an admin URL of the PostgreSQL server tests may use.
pub const TEST_DATABASE_URL: &str = "CKS_TEST_DATABASE_URL";

/// The admin URL when the run selected PostgreSQL.
pub fn admin_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL)
        .ok()
        .filter(|u| !u.is_empty())
}

/// The backend tests of this run use.
pub fn backend() -> Backend {
    match admin_url() {
        Some(_) => Backend::Postgres,
        None => Backend::Sqlite,
    }
}

/// A database of its own for one test, dropped (best effort) with this value.
#[derive(Debug)]
pub struct PgTestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgTestDatabase {
    /// Creates `cks_t_<random hex>` on the server of `admin_url`.
    pub fn create(admin_url: &str) -> std::io::Result<PgTestDatabase> {
        let name = format!("cks_t_{}", uuid::Uuid::new_v4().simple());
        psql(admin_url, &format!("CREATE DATABASE {name}"))?;
        Ok(PgTestDatabase {
            admin_url: admin_url.to_string(),
            url: with_database(admin_url, &name),
            name,
        })
    }

    /// The URL of this database, for `Store::open` or `cksd --database-url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs SQL statements against this database (tests that rewind state behind the server).
    pub fn execute(&self, sql: &str) -> std::io::Result<()> {
        psql(&self.url, sql).map(drop)
    }

    /// The rows of a query, one line each, columns separated by `|` (psql's unaligned form).
    pub fn query(&self, sql: &str) -> std::io::Result<String> {
        psql(&self.url, sql)
    }
}

impl Drop for PgTestDatabase {
    fn drop(&mut self) {
        // FORCE ends connections a pool still holds (PostgreSQL 13+).
        let _ = psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// `url` naming database `name` instead of the one it names.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

fn psql(url: &str, sql: &str) -> std::io::Result<String> {
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(std::io::Error::other(format!(
            "psql: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5/postgres", "x"),
            "postgres://u@127.0.0.1:5/x"
        );
        assert_eq!(
            with_database("postgres://u@h:5/postgres?sslmode=disable", "x"),
            "postgres://u@h:5/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:5", "x"), "postgres://u@h:5/x");
    }
}
