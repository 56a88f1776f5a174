//! [`TestServer`]: a real `cksd` process on a free loopback port with a data directory (and, when
//! the run selected PostgreSQL, a database) of its own; restarts, siblings on the same database,
//! SQL behind its back, and starts that must be refused.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cks_store::testing::{self, PgTestDatabase};
use serde_json::Value;

use crate::client::{Client, Keys};
use crate::range::reserve_public_range;

/// `cksd` next to the test executable (`target/<profile>/cksd`, where `cargo test` of `cksd`
/// builds it; a test of another package builds it with `cargo build -p cksd` first, or
/// `cargo nextest run --workspace`).
pub fn cksd_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/debug/deps/api-<hash> → target/debug/cksd
    let candidates: Vec<PathBuf> = exe
        .ancestors()
        .skip(1)
        .take(3)
        .map(|dir| dir.join("cksd"))
        .collect();
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "the cksd binary is not built (looked at {candidates:?}): run `cargo build -p cksd` first"
            )
        })
}

/// A `cksd` process, killed when dropped.
pub struct TestServer {
    pub url: String,
    pub dir: tempfile::TempDir,
    pub admin: Keys,
    /// The loopback /24 the simulator hands public IPs out of (`127.A.B.0/24`).
    pub public_range: String,
    child: Child,
    /// Flags given at start, kept for restarts (the database URL among them).
    flags: Vec<String>,
    /// The reservation of `public_range` (`None` when the test chose the range itself).
    _range_lock: Option<std::fs::File>,
    /// Dropped after the process is killed (fields drop after `Drop::drop`).
    db: Option<PgTestDatabase>,
}

impl TestServer {
    /// A server whose simulator does everything at once.
    pub fn start() -> TestServer {
        TestServer::start_with(&["--instant-simulator"])
    }

    /// A server whose simulated VMs take the seconds a small real cloud takes.
    pub fn start_realistic() -> TestServer {
        TestServer::start_with(&[])
    }

    /// A server with these flags and a public range of its own, unless `extra` names one.
    pub fn start_with(extra: &[&str]) -> TestServer {
        TestServer::start_env(extra, &[])
    }

    /// `start_with`, with these environment variables set for the process (not for restarts).
    pub fn start_env(extra: &[&str], env: &[(&str, &str)]) -> TestServer {
        let given = extra
            .iter()
            .position(|f| *f == "--simulator-public-range")
            .and_then(|i| extra.get(i + 1));
        let (public_range, lock) = match given {
            Some(range) => (range.to_string(), None),
            None => {
                let (range, lock) = reserve_public_range();
                (range, Some(lock))
            }
        };
        let mut flags: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        if given.is_none() {
            flags.extend(["--simulator-public-range".to_string(), public_range.clone()]);
        }
        TestServer::start_flags(flags, env, public_range, lock)
    }

    /// A server started without `--simulator-public-range`: its simulator picks its range
    /// (give it `CKS_SIMULATOR_DEFAULT_RANGES` of reserved ranges, never the machine's default).
    /// `public_range` is empty.
    pub fn start_without_range(extra: &[&str], env: &[(&str, &str)]) -> TestServer {
        let flags = extra.iter().map(|s| s.to_string()).collect();
        TestServer::start_flags(flags, env, String::new(), None)
    }

    fn start_flags(
        mut flags: Vec<String>,
        env: &[(&str, &str)],
        public_range: String,
        lock: Option<std::fs::File>,
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = testing::admin_url()
            .map(|admin| PgTestDatabase::create(&admin).expect("create test database"));
        if let Some(db) = &db {
            flags.extend(["--database-url".to_string(), db.url().to_string()]);
        }
        let (child, url) = spawn_env(dir.path(), &flags, env);
        let admin = read_admin(dir.path());
        TestServer {
            url,
            dir,
            admin,
            public_range,
            child,
            flags,
            _range_lock: lock,
            db,
        }
    }

    /// Another instance of the same service: its own data directory and port, this server's
    /// database and master key (several `cksd` on one database form one service).
    pub fn sibling(&self, extra: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let database_url = match &self.db {
            Some(db) => db.url().to_string(),
            None => format!("sqlite://{}", self.dir.path().join("cks.db").display()),
        };
        let mut flags: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        flags.extend([
            "--database-url".to_string(),
            database_url,
            "--master-key-file".to_string(),
            self.dir.path().join("master.key").display().to_string(),
        ]);
        let (child, url) = spawn(dir.path(), &flags);
        TestServer {
            url,
            dir,
            admin: self.admin.clone(),
            public_range: self.public_range.clone(),
            child,
            flags,
            _range_lock: self
                ._range_lock
                .as_ref()
                .map(|l| l.try_clone().expect("range lock")),
            db: None,
        }
    }

    /// Runs SQL statements on the server's database, behind its back (stop it first).
    pub fn execute_sql(&self, sql: &str) {
        match &self.db {
            Some(db) => db.execute(sql).expect("psql"),
            None => {
                self.sqlite(
                    "c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()",
                    sql,
                );
            }
        }
    }

    /// The rows of a query on the server's database, one line each.
    pub fn query_sql(&self, sql: &str) -> String {
        match &self.db {
            Some(db) => db.query(sql).expect("psql"),
            None => self.sqlite(
                "c=sqlite3.connect(sys.argv[1]); [print('|'.join(map(str,r))) for r in c.execute(sys.argv[2])]",
                sql,
            ),
        }
    }

    /// Runs Python's sqlite3 on the server's SQLite file (`sys.argv[1]`) with `sql` as
    /// `sys.argv[2]`; returns what it printed.
    fn sqlite(&self, python: &str, sql: &str) -> String {
        let out = Command::new("python3")
            .arg("-c")
            .arg(format!("import sqlite3,sys; {python}"))
            .arg(self.dir.path().join("cks.db"))
            .arg(sql)
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Kills the process (SIGKILL: no graceful shutdown) and starts it again on the same data.
    pub fn restart(&mut self) {
        self.restart_with_env(&[]);
    }

    /// `restart`, with these environment variables set for the new process only.
    pub fn restart_with_env(&mut self, env: &[(&str, &str)]) {
        self.kill();
        let (child, url) = spawn_env(self.dir.path(), &self.flags, env);
        self.child = child;
        self.url = url;
    }

    /// Kills the process and starts it again on the same data, expecting it to refuse to
    /// start: returns what it printed on stderr.
    pub fn restart_refused(&mut self) -> String {
        self.kill();
        refused_start(self.dir.path(), &self.flags, &[])
    }

    /// Has the process ended (e.g. killed itself at a crash point)?
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn admin(&self) -> Client {
        Client::new(&self.url, self.admin.clone())
    }

    pub fn client(&self, keys: Keys) -> Client {
        Client::new(&self.url, keys)
    }

    /// Creates an account of `account_type` in `domain_id` (ROOT when None) and returns its keys.
    pub async fn account(
        &self,
        name: &str,
        account_type: i64,
        domain_id: Option<&str>,
    ) -> (Keys, Value) {
        let admin = self.admin();
        let mut params = vec![
            ("username", name.to_string()),
            ("password", format!("{name}-password")),
            ("email", format!("{name}@example.test")),
            ("firstname", name.to_string()),
            ("lastname", "Test".to_string()),
            ("accounttype", account_type.to_string()),
        ];
        if let Some(d) = domain_id {
            params.push(("domainid", d.to_string()));
        }
        let refs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = admin.call("createAccount", &refs).await;
        assert_eq!(status, 200, "createAccount: {body}");
        let account = body["createaccountresponse"]["account"].clone();
        let user_id = account["user"][0]["id"]
            .as_str()
            .expect("user id")
            .to_string();
        let (status, keys) = admin.call("registerUserKeys", &[("id", &user_id)]).await;
        assert_eq!(status, 200, "registerUserKeys: {keys}");
        let k = &keys["registeruserkeysresponse"]["userkeys"];
        let keys = Keys {
            api_key: k["apikey"].as_str().unwrap().into(),
            secret_key: k["secretkey"].as_str().unwrap().into(),
        };
        (keys, account)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `cksd` with a fresh data directory (and database) expecting it to refuse to start:
/// returns what it printed on stderr. Panics if it is still running after 30 s.
pub fn start_refused(extra: &[&str], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut flags: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    let db = testing::admin_url()
        .map(|admin| PgTestDatabase::create(&admin).expect("create test database"));
    if let Some(db) = &db {
        flags.extend(["--database-url".to_string(), db.url().to_string()]);
    }
    refused_start(dir.path(), &flags, env)
}

fn refused_start(dir: &Path, flags: &[String], env: &[(&str, &str)]) -> String {
    let mut child = Command::new(cksd_binary())
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(flags)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cksd");
    let deadline = Instant::now() + Duration::from_secs(30);
    while matches!(child.try_wait(), Ok(None)) {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cksd started where it should have refused to");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    assert!(
        !child.wait().expect("wait").success(),
        "cksd exited successfully: {stderr}"
    );
    stderr
}

fn spawn(dir: &Path, extra: &[String]) -> (Child, String) {
    spawn_env(dir, extra, &[])
}

fn spawn_env(dir: &Path, extra: &[String], env: &[(&str, &str)]) -> (Child, String) {
    let mut child = Command::new(cksd_binary())
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn cksd");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("cksd listening on ") {
                let url = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let _ = tx.send(url);
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("cksd did not start within 60 s");
    (child, url)
}

fn read_admin(dir: &Path) -> Keys {
    let text = std::fs::read_to_string(dir.join("root-admin.json")).expect("root-admin.json");
    let v: Value = serde_json::from_str(&text).expect("json");
    Keys {
        api_key: v["apikey"].as_str().unwrap().into(),
        secret_key: v["secretkey"].as_str().unwrap().into(),
    }
}
