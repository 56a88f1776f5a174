//! Generated documents through the validators their consumers use: `cloud-init schema` for user
//! data, shellcheck for the node scripts, openssl for the PKI and the discovery hash.

use std::fs;
use std::process::Command;

use base64::Engine;
use cks_bootstrap::cloudinit::{
    INSTALL_SCRIPT, KUBEADM_SCRIPT, METADATA_GUARD_SCRIPT, UPGRADE_SCRIPT,
};
use cks_bootstrap::{
    BootstrapToken, CertificateKey, ClusterPki, KeyAlgorithm, NodeUserData, PkiSpec,
};
use time::Duration;

use crate::harness::*;

fn schema_check(dir: &std::path::Path, name: &str, doc: &str) -> std::process::Output {
    let path = write(dir, name, doc);
    run(Command::new(tool("cloud-init", "cloud-init"))
        .args(["schema", "--config-file"])
        .arg(&path))
}

#[test]
fn cloud_init_schema_accepts_every_node_type() {
    let dir = tempfile::tempdir().unwrap();
    let token = BootstrapToken::generate(Duration::hours(2)).unwrap();
    let key = CertificateKey::generate().unwrap();
    let full = full_cluster();
    let minimal = minimal_cluster();
    let minimal_pki = ClusterPki::generate(&PkiSpec::for_cluster(&minimal, now())).unwrap();
    let nodes = NodeUserData::new(&full, full_pki()).unwrap();
    let small = NodeUserData::new(&minimal, &minimal_pki).unwrap();
    let mut script_cni = full.clone();
    if let Some(cni) = script_cni.cni.as_mut() {
        cni.user_data_base64 = base64::engine::general_purpose::STANDARD
            .encode("#!/bin/sh\nkubectl apply -f /x.yaml\n");
    }
    let script_nodes = NodeUserData::new(&script_cni, full_pki()).unwrap();
    let docs = [
        (
            "first-control-full",
            nodes.first_control_node(&token, Some(&key)).unwrap(),
        ),
        (
            "first-control-cni-script",
            script_nodes.first_control_node(&token, Some(&key)).unwrap(),
        ),
        (
            "additional-control",
            nodes.additional_control_node(1, &token, &key).unwrap(),
        ),
        (
            "worker",
            nodes
                .worker("prod-eu-node-18f2b", full.endpoint_ip, &token)
                .unwrap(),
        ),
        ("etcd", nodes.etcd_node(0).unwrap()),
        (
            "first-control-minimal",
            small.first_control_node(&token, None).unwrap(),
        ),
        (
            "external-worker-vr-iso",
            small
                .worker("dev-node-1", minimal.control_nodes[0].ip, &token)
                .unwrap(),
        ),
    ];
    // cloud-init is a Python program: check the documents in parallel.
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = docs
            .iter()
            .map(|(name, doc)| {
                let dir = dir.path();
                s.spawn(move || (*name, schema_check(dir, &format!("{name}.yaml"), doc)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (name, out) in results {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("Valid cloud-config"),
            "{name} rejected by cloud-init schema:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn cloud_init_schema_rejects_a_broken_document() {
    // Proves the validator above bites: a wrong type and an unknown key.
    let dir = tempfile::tempdir().unwrap();
    let out = schema_check(
        dir.path(),
        "bad.yaml",
        "#cloud-config\nruncmd: not-a-list\nwrite_files:\n- path: /x\n  bogus: 1\n",
    );
    assert!(!out.status.success());
}

#[test]
fn node_scripts_pass_shellcheck() {
    let dir = tempfile::tempdir().unwrap();
    let shellcheck = tool("shellcheck", "shellcheck");
    for (name, script) in [
        ("cks-install", INSTALL_SCRIPT),
        ("cks-kubeadm", KUBEADM_SCRIPT),
        ("cks-metadata-guard", METADATA_GUARD_SCRIPT),
        ("cks-upgrade", UPGRADE_SCRIPT),
    ] {
        let path = write(dir.path(), name, script);
        run_ok(
            Command::new(&shellcheck)
                .args(["--shell=bash", "--severity=style"])
                .arg(&path),
        );
        run_ok(Command::new(tool("bash", "bash")).arg("-n").arg(&path));
    }
}

fn openssl() -> std::path::PathBuf {
    tool("openssl", "openssl")
}

/// The public key of a certificate and of a private key, as openssl prints them.
fn cert_pubkey(path: &std::path::Path) -> String {
    run_ok(
        Command::new(openssl())
            .args(["x509", "-noout", "-pubkey", "-in"])
            .arg(path),
    )
}

fn key_pubkey(path: &std::path::Path) -> String {
    run_ok(
        Command::new(openssl())
            .args(["pkey", "-pubout", "-in"])
            .arg(path),
    )
}

fn check_pki_with_openssl(pki: &ClusterPki) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k8s_ca = write(d, "ca.crt", &pki.kubernetes_ca.cert_pem);
    let etcd_ca = write(d, "etcd-ca.crt", &pki.etcd_ca.cert_pem);
    let mut leaves = vec![
        ("apiserver", &k8s_ca, &pki.apiserver, "sslserver"),
        ("admin", &k8s_ca, &pki.admin, "sslclient"),
        (
            "apiserver-etcd-client",
            &etcd_ca,
            &pki.apiserver_etcd_client,
            "sslclient",
        ),
    ];
    for m in &pki.etcd_members {
        leaves.push(("etcd-server", &etcd_ca, &m.server, "sslserver"));
        leaves.push(("etcd-peer", &etcd_ca, &m.peer, "sslclient"));
    }
    for (i, (name, ca, pair, purpose)) in leaves.into_iter().enumerate() {
        let cert = write(d, &format!("{i}-{name}.crt"), &pair.cert_pem);
        let key = write(d, &format!("{i}-{name}.key"), &pair.key_pem);
        let out = run_ok(
            Command::new(openssl())
                .args(["verify", "-purpose", purpose, "-CAfile"])
                .arg(ca)
                .arg(&cert),
        );
        assert!(out.contains(": OK"), "{name}: {out}");
        assert_eq!(
            cert_pubkey(&cert),
            key_pubkey(&key),
            "{name}: key does not match certificate"
        );
    }
    for (name, pair) in [
        ("ca", &pki.kubernetes_ca),
        ("etcd-ca", &pki.etcd_ca),
        ("front-proxy-ca", &pki.front_proxy_ca),
    ] {
        let cert = write(d, &format!("self-{name}.crt"), &pair.cert_pem);
        let key = write(d, &format!("self-{name}.key"), &pair.key_pem);
        let out = run_ok(
            Command::new(openssl())
                .args(["verify", "-CAfile"])
                .arg(&cert)
                .arg(&cert),
        );
        assert!(out.contains(": OK"), "{name}: {out}");
        assert_eq!(cert_pubkey(&cert), key_pubkey(&key));
    }
    let sa_key = write(d, "sa.key", &pki.service_account.private_key_pem);
    assert_eq!(
        key_pubkey(&sa_key),
        pki.service_account.public_key_pem,
        "sa.pub is sa.key's public half"
    );
    let text = run_ok(
        Command::new(openssl())
            .args(["x509", "-noout", "-text", "-in"])
            .arg(d.join("0-apiserver.crt")),
    );
    for san in [
        "DNS:kubernetes.default.svc.cluster.local",
        "IP Address:10.96.0.1",
        "IP Address:203.0.113.10",
    ] {
        assert!(text.contains(san), "apiserver lacks {san}:\n{text}");
    }
}

#[test]
fn pki_verifies_with_openssl_ecdsa() {
    check_pki_with_openssl(full_pki());
}

#[test]
fn pki_verifies_with_openssl_rsa() {
    let mut spec = PkiSpec::for_cluster(&full_cluster(), now());
    spec.key_algorithm = KeyAlgorithm::Rsa2048;
    spec.etcd_nodes.truncate(1);
    check_pki_with_openssl(&ClusterPki::generate(&spec).unwrap());
}

#[test]
fn discovery_hash_matches_openssl() {
    // kubeadm's documented recipe for --discovery-token-ca-cert-hash.
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.crt", &full_pki().kubernetes_ca.cert_pem);
    let pubkey = write(dir.path(), "ca.pub", cert_pubkey(&ca));
    let der = dir.path().join("ca.pub.der");
    run_ok(
        Command::new(openssl())
            .args(["pkey", "-pubin", "-outform", "der", "-in"])
            .arg(&pubkey)
            .arg("-out")
            .arg(&der),
    );
    let out = run_ok(
        Command::new(openssl())
            .args(["dgst", "-sha256", "-hex"])
            .arg(&der),
    );
    let hex = out.trim().rsplit(' ').next().unwrap();
    assert_eq!(
        full_pki().discovery_hash().unwrap(),
        format!("sha256:{hex}")
    );
}

/// The files a document writes, by path.
fn written_files(user_data: &str) -> std::collections::BTreeMap<String, String> {
    let doc: serde_json::Value = serde_saphyr::from_str(user_data).unwrap();
    doc["write_files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            Some((
                f["path"].as_str()?.to_owned(),
                f["content"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    let analyze = tool("systemd-analyze", "systemd");
    let token = BootstrapToken::generate(Duration::hours(1)).unwrap();
    let cluster = full_cluster();
    let nodes = NodeUserData::new(&cluster, full_pki()).unwrap();
    let mut files = written_files(
        &nodes
            .worker("prod-eu-node-1", cluster.endpoint_ip, &token)
            .unwrap(),
    );
    files.extend(written_files(&nodes.etcd_node(0).unwrap()));

    // A root holding the distribution's units (for targets like multi-user.target), ours, and
    // stand-ins for the executables the units start.
    let root = tempfile::tempdir().unwrap();
    let system = root.path().join("usr/lib/systemd/system");
    fs::create_dir_all(&system).unwrap();
    for entry in fs::read_dir("/usr/lib/systemd/system").unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), system.join(entry.file_name())).unwrap();
        }
    }
    let mut units = Vec::new();
    for (path, content) in &files {
        if path.starts_with("/etc/systemd/system/") {
            write(root.path(), path.trim_start_matches('/'), content);
            if path.ends_with(".service") {
                units.push(path.rsplit('/').next().unwrap().to_owned());
            }
        }
    }
    for exe in [
        "opt/bin/kubelet",
        "opt/bin/etcd",
        "opt/cks/bin/cks-metadata-guard",
    ] {
        let path = write(root.path(), exe, "#!/bin/sh\n");
        fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    units.sort();
    assert_eq!(
        units,
        [
            "cks-metadata-guard.service",
            "etcd.service",
            "kubelet.service"
        ]
    );
    let out = run(Command::new(analyze)
        .arg("verify")
        .arg(format!("--root={}", root.path().display()))
        .args(&units));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Unknown keys are only warnings, so any output at all fails the test.
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify:\n{stderr}"
    );
}
