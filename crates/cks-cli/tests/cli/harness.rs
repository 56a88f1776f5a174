//! A real `cksd` from the test kit (`cks-testkit`), and a way to run the real `cks` against it.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A `cksd` of the test kit (on PostgreSQL when the run selected it), with its root admin's
/// keys for `cks`.
pub struct TestServer {
    pub url: String,
    pub api_key: String,
    pub secret_key: String,
    _server: cks_testkit::TestServer,
}

impl TestServer {
    /// A server whose simulator does everything at once.
    pub fn start() -> TestServer {
        TestServer::from_kit(cks_testkit::TestServer::start())
    }

    /// A server whose simulated VMs take seconds, as a small real cloud does.
    pub fn start_realistic() -> TestServer {
        TestServer::from_kit(cks_testkit::TestServer::start_realistic())
    }

    fn from_kit(server: cks_testkit::TestServer) -> TestServer {
        TestServer {
            url: server.url.clone(),
            api_key: server.admin.api_key.clone(),
            secret_key: server.admin.secret_key.clone(),
            _server: server,
        }
    }

    /// `cks` with this server's URL and keys in the environment.
    pub fn cks(&self, args: &[&str]) -> Run {
        run(
            args,
            &[
                ("CKS_URL", self.url.as_str()),
                ("CKS_APIKEY", self.api_key.as_str()),
                ("CKS_SECRETKEY", self.secret_key.as_str()),
            ],
        )
    }

    /// `cks ... -o json`, which must succeed; its stdout parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let out = self.cks(&all);
        out.assert_ok();
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", out.stdout))
    }

    /// Waits until the seeded versions' ISOs are Ready (create refuses them before).
    pub fn wait_for_isos(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let versions = self.json(&["version", "list"]);
            let all = versions.as_array().unwrap();
            if !all.is_empty() && all.iter().all(|v| v["isostate"] == "Ready") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "ISOs never became ready: {versions}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// What a `cks` run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn assert_ok(&self) -> &Run {
        assert_eq!(
            self.code,
            Some(0),
            "cks failed: {}{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn assert_fails(&self, code: i32, text: &str) -> &Run {
        assert_eq!(self.code, Some(code), "exit code; stderr: {}", self.stderr);
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}: {}",
            self.stderr
        );
        self
    }

    pub fn assert_not_contains(&self, text: &str) -> &Run {
        assert!(
            !self.stdout.contains(text) && !self.stderr.contains(text),
            "output shows {text:?}: {}{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// The real `cks` with only the given CKS_* variables (and no proxies, no real config file).
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    run_in(args, env, None)
}

pub fn run_in(args: &[&str], env: &[(&str, &str)], stdout_file: Option<&Path>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cks"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CKS_") || key.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(key);
        }
    }
    cmd.env("HOME", "/nonexistent")
        .env_remove("XDG_CONFIG_HOME");
    cmd.envs(env.iter().copied()).args(args);
    if let Some(path) = stdout_file {
        cmd.stdout(std::fs::File::create(path).expect("stdout file"));
    }
    let out: Output = cmd.output().expect("run cks");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
