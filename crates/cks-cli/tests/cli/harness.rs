//! A real `cksd` on a free loopback port (like `crates/cksd/tests/api/harness.rs`), and a way to
//! run the real `cks` against it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct TestServer {
    pub url: String,
    _dir: tempfile::TempDir,
    pub api_key: String,
    pub secret_key: String,
    child: Child,
    _range_lock: std::fs::File,
}

/// `cksd` next to the test executable (`target/<profile>/cksd`): a binary of another package
/// has no `CARGO_BIN_EXE_`. `cargo nextest run --workspace` builds it (cksd has tests of its
/// own); with `-p cks-cli` alone, `cargo build -p cksd` first.
fn cksd_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/debug/deps/cli-<hash> → target/debug/cksd
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

impl TestServer {
    /// A server whose simulator does everything at once.
    pub fn start() -> TestServer {
        TestServer::start_with(&["--instant-simulator"])
    }

    /// A server whose simulated VMs take seconds, as a small real cloud does.
    pub fn start_realistic() -> TestServer {
        TestServer::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let (public_range, lock) = reserve_public_range();
        let mut child = Command::new(cksd_binary())
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(extra)
            .args(["--simulator-public-range", &public_range])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn cksd");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("cksd listening on ") {
                    let url = rest.split_whitespace().next().unwrap_or_default();
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("cksd did not start within 60 s");
        let text =
            std::fs::read_to_string(dir.path().join("root-admin.json")).expect("root-admin.json");
        let admin: Value = serde_json::from_str(&text).expect("json");
        TestServer {
            url,
            api_key: admin["apikey"].as_str().unwrap().into(),
            secret_key: admin["secretkey"].as_str().unwrap().into(),
            _dir: dir,
            child,
            _range_lock: lock,
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

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// A loopback /24 no other test server on this machine uses (the same lock files as cksd's
/// own tests, so the two suites never share a range either).
fn reserve_public_range() -> (String, std::fs::File) {
    let dir = std::env::temp_dir().join("cks-test-public-ranges");
    std::fs::create_dir_all(&dir).expect("range lock dir");
    for a in 20u32..=250 {
        for b in 0u32..=255 {
            let path = dir.join(format!("127.{a}.{b}"));
            let Ok(file) = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
            else {
                continue;
            };
            if file.try_lock().is_ok() {
                return (format!("127.{a}.{b}.0/24"), file);
            }
        }
    }
    panic!("no free loopback range for the simulator");
}
