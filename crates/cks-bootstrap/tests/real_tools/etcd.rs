//! A real 3-member etcd cluster (Debian's etcd 3.4) started with exactly the rendered flags and
//! the generated certificates on loopback addresses, then checked over TLS with etcdctl.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cks_bootstrap::etcd::{EtcdLayout, client_urls, member_flags};
use cks_bootstrap::{ClusterPki, NodeIdentity, PkiSpec};

use crate::harness::*;

/// Kills the members when the test ends, even on a failed assertion.
struct Members(Vec<Child>);

impl Drop for Members {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn etcdctl(client_dir: &Path, endpoints: &str, with_client_cert: bool) -> Command {
    let mut cmd = Command::new(tool("etcdctl", "etcd-client"));
    cmd.env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={endpoints}"))
        .arg(format!("--cacert={}", client_dir.join("ca.crt").display()))
        .arg("--dial-timeout=2s")
        .arg("--command-timeout=3s");
    if with_client_cert {
        cmd.arg(format!(
            "--cert={}",
            client_dir.join("client.crt").display()
        ));
        cmd.arg(format!("--key={}", client_dir.join("client.key").display()));
    }
    cmd
}

fn logs(dir: &Path, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "--- member {i}:\n{}",
                std::fs::read_to_string(dir.join(format!("m{i}.log"))).unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn three_members_over_tls_form_a_healthy_cluster() {
    let etcd = tool("etcd", "etcd-server");
    let ips = free_loopback_addresses(3, &[2379, 2380]);
    let members: Vec<NodeIdentity> = ips
        .iter()
        .enumerate()
        .map(|(i, ip)| NodeIdentity::new(format!("etcd-{}", i + 1), IpAddr::V4(*ip)))
        .collect();
    let mut spec = PkiSpec::for_cluster(&minimal_cluster(), now());
    spec.etcd_nodes = members.clone();
    let pki = ClusterPki::generate(&spec).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let token = format!("cks-test-{}", random_u32());
    let mut running = Members(Vec::new());
    for (i, member) in members.iter().enumerate() {
        let root = dir.path().join(format!("m{i}"));
        let layout = EtcdLayout {
            binary: etcd.clone(),
            data_dir: root.join("data"),
            pki_dir: root.join("pki"),
        };
        let certs = pki.etcd_member(&member.name).unwrap();
        write(&layout.pki_dir, "ca.crt", &pki.etcd_ca.cert_pem);
        write(&layout.pki_dir, "server.crt", &certs.server.cert_pem);
        write(&layout.pki_dir, "server.key", &certs.server.key_pem);
        write(&layout.pki_dir, "peer.crt", &certs.peer.cert_pem);
        write(&layout.pki_dir, "peer.key", &certs.peer.key_pem);
        let flags = member_flags(&members, i, &token, &layout).unwrap();
        let log = std::fs::File::create(dir.path().join(format!("m{i}.log"))).unwrap();
        let child = Command::new(&layout.binary)
            .args(&flags)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        running.0.push(child);
    }

    let client: PathBuf = dir.path().join("client");
    write(&client, "ca.crt", &pki.etcd_ca.cert_pem);
    write(&client, "client.crt", &pki.apiserver_etcd_client.cert_pem);
    write(&client, "client.key", &pki.apiserver_etcd_client.key_pem);
    let endpoints = client_urls(&members).join(",");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = run(etcdctl(&client, &endpoints, true).args(["endpoint", "health"]));
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            assert_eq!(text.matches("is healthy").count(), 3, "{text}");
            break;
        }
        for (i, child) in running.0.iter_mut().enumerate() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "etcd member {i} exited with {status}\n{}",
                    logs(dir.path(), 3)
                );
            }
        }
        assert!(
            Instant::now() < deadline,
            "etcd did not become healthy\n{}",
            logs(dir.path(), 3)
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    let out = run_ok(etcdctl(&client, &endpoints, true).args(["member", "list", "-w", "json"]));
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut names: Vec<&str> = list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["etcd-1", "etcd-2", "etcd-3"]);
    let out = run_ok(etcdctl(&client, &endpoints, true).args(["put", "cks", "ok"]));
    assert!(out.contains("OK"));

    // Without a client certificate the members refuse the connection.
    let refused = run(etcdctl(&client, &endpoints, false).args(["endpoint", "health"]));
    assert!(
        !refused.status.success(),
        "etcd accepted a client without a certificate"
    );
}
