//! `cks iso build` as a user runs it: the real binary, real xorriso, and readers from Debian
//! (`isoinfo`, `xorriso -osirrox`, `sha256sum`) checking what it wrote. The download mode talks
//! to an HTTP server on 127.0.0.1 only.

#![allow(
    clippy::unwrap_used,
    reason = "test code: an unwrap that fails is a failed assertion"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("`{name}` is not installed: run scripts/install-test-deps.sh (Debian package `{package}`)"))
}

fn cks(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cks"));
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn put(dir: &Path, rel: &str, content: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("k8s/kubeadm", b"#!/bin/sh\necho kubeadm\n".to_vec()),
        ("k8s/kubelet", b"#!/bin/sh\necho kubelet\n".to_vec()),
        ("k8s/kubectl", b"#!/bin/sh\necho kubectl\n".to_vec()),
        (
            "cni/cni-plugins-linux-amd64-v1.5.1.tgz",
            (0..=255u8).cycle().take(50_000).collect(),
        ),
        (
            "cri-tools/crictl-v1.33.0-linux-amd64.tar.gz",
            vec![9u8; 1234],
        ),
        ("docker/registry.k8s.io_pause_3.10.tar", vec![1u8; 2048]),
        ("etcd/etcd-v3.5.21-linux-amd64.tar.gz", vec![5u8; 777]),
        ("network.yaml", b"kind: List\n".to_vec()),
        ("dashboard.yaml", b"kind: List\n".to_vec()),
    ]
}

fn sha256sum(path: &Path) -> String {
    let out = Command::new(tool("sha256sum", "coreutils"))
        .arg(path)
        .output()
        .unwrap();
    text(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn builds_an_iso_and_prints_its_sha256_last() {
    let input = tempfile::tempdir().unwrap();
    for (rel, content) in inputs() {
        put(input.path(), rel, &content);
    }
    let out_dir = tempfile::tempdir().unwrap();
    let iso = out_dir.path().join("v1.33.1-x86_64.iso");
    let out = cks(&[
        "iso",
        "build",
        "--from",
        input.path().to_str().unwrap(),
        "--output",
        iso.to_str().unwrap(),
        "--kubernetes-version",
        "1.33.1",
        "--etcd-version",
        "3.5.21",
    ]);
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().last().unwrap(),
        sha256sum(&iso),
        "last line must be the image's sha256:\n{stdout}"
    );
    assert!(
        stdout.contains("kubernetes v1.33.1") && stdout.contains("etcd v3.5.21"),
        "{stdout}"
    );

    let info = Command::new(tool("isoinfo", "genisoimage"))
        .arg("-d")
        .arg("-i")
        .arg(&iso)
        .output()
        .unwrap();
    let info = text(&info.stdout);
    assert!(
        info.contains("Volume id: CDROM") && info.contains("Rock Ridge") && info.contains("Joliet"),
        "{info}"
    );

    // A second reader: xorriso's own extraction restores names, bytes and the exec bit.
    let tree = tempfile::tempdir().unwrap();
    let extracted = tree.path().join("iso");
    let x = Command::new(tool("xorriso", "xorriso"))
        .args(["-osirrox", "on", "-indev"])
        .arg(&iso)
        .args(["-extract", "/"])
        .arg(&extracted)
        .output()
        .unwrap();
    assert!(x.status.success(), "{}", text(&x.stderr));
    for (rel, content) in inputs() {
        assert_eq!(
            std::fs::read(extracted.join(rel)).unwrap(),
            content,
            "{rel}"
        );
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(extracted.join("k8s/kubeadm"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o755);
    let sums = Command::new("sha256sum")
        .args(["--strict", "-c", "SHA256SUMS"])
        .current_dir(&extracted)
        .output()
        .unwrap();
    assert!(sums.status.success(), "{}", text(&sums.stdout));
}

#[test]
fn bad_input_fails_with_a_clear_message() {
    let input = tempfile::tempdir().unwrap();
    for (rel, content) in inputs()
        .into_iter()
        .filter(|(rel, _)| *rel != "k8s/kubelet")
    {
        put(input.path(), rel, &content);
    }
    let out_dir = tempfile::tempdir().unwrap();
    let iso = out_dir.path().join("x.iso");
    let out = cks(&[
        "iso",
        "build",
        "--from",
        input.path().to_str().unwrap(),
        "--output",
        iso.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("k8s/kubelet is missing"),
        "{}",
        text(&out.stderr)
    );
    assert!(!iso.exists());
    let out = cks(&[
        "iso",
        "build",
        "--from",
        "/x",
        "--output",
        "/y",
        "--kubernetes-version",
        "1.33",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--kubernetes-version"),
        "{}",
        text(&out.stderr)
    );
}

/// Serves `files` over HTTP/1.1 on 127.0.0.1 and counts requests.
fn http_server(files: BTreeMap<String, Vec<u8>>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_owned();
            let (status, body) = match files.get(&path) {
                Some(body) => ("200 OK", body.clone()),
                None => ("404 Not Found", b"not found".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (base, hits)
}

#[test]
fn fetch_mode_downloads_and_verifies_from_a_local_server() {
    let all = inputs();
    let served: BTreeMap<String, Vec<u8>> = all
        .iter()
        .map(|(rel, c)| (format!("dl/{rel}"), c.clone()))
        .collect();
    let (base, hits) = http_server(served);
    let input = tempfile::tempdir().unwrap();
    // Two inputs are downloaded, the rest are already there.
    let fetched = ["k8s/kubeadm", "cni/cni-plugins-linux-amd64-v1.5.1.tgz"];
    let scratch = tempfile::tempdir().unwrap();
    let mut sources = String::new();
    for (rel, content) in &all {
        if fetched.contains(rel) {
            put(scratch.path(), rel, content);
            let sha = sha256sum(&scratch.path().join(rel));
            sources.push_str(&format!(
                "[[file]]\nurl = \"{base}/dl/{rel}\"\nsha256 = \"{sha}\"\npath = \"{rel}\"\n\n"
            ));
        } else {
            put(input.path(), rel, content);
        }
    }
    let sources_path = scratch.path().join("sources.toml");
    std::fs::write(&sources_path, &sources).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let iso = out_dir.path().join("x.iso");
    let args = [
        "iso",
        "build",
        "--from",
        input.path().to_str().unwrap(),
        "--output",
        iso.to_str().unwrap(),
        "--fetch",
        sources_path.to_str().unwrap(),
    ];
    let out = cks(&args);
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("fetched 2 file(s), 0 already present"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        std::fs::read(input.path().join("k8s/kubeadm")).unwrap(),
        all[0].1
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // Already present with the right digest: nothing is downloaded again.
    let out = cks(&args);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("fetched 0 file(s), 2 already present"));
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // A wrong digest fails and leaves nothing behind.
    std::fs::remove_file(input.path().join("k8s/kubeadm")).unwrap();
    let start = sources.find("sha256 = \"").unwrap() + "sha256 = \"".len();
    let bad = format!(
        "{}{}{}",
        &sources[..start],
        "0".repeat(64),
        &sources[start + 64..]
    );
    std::fs::write(&sources_path, bad).unwrap();
    let out = cks(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("sha256 mismatch"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !input.path().join("k8s/kubeadm").exists(),
        "an unverified download was kept"
    );
    let leftovers: Vec<_> = std::fs::read_dir(input.path().join("k8s"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary file left: {leftovers:?}");

    // Paths may not escape the input directory.
    std::fs::write(
        &sources_path,
        format!(
            "[[file]]\nurl = \"{base}/x\"\nsha256 = \"{}\"\npath = \"../evil\"\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    let out = cks(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("stay inside the input directory"),
        "{}",
        text(&out.stderr)
    );
}
