//! Unit tests of the user data builders: structure, secrets per node type, CNI merging.
//! `tests/validators.rs` runs every document through `cloud-init schema`.

use time::Duration;

use super::*;
use crate::cluster::tests::{full_cluster, minimal_cluster};
use crate::cni::tests::calico;
use crate::pki::tests::full_pki;

fn token() -> BootstrapToken {
    BootstrapToken::parse("abcdef.0123456789abcdef", Duration::hours(2)).unwrap()
}

fn key() -> CertificateKey {
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
        .parse()
        .unwrap()
}

fn parse(doc: &str) -> serde_json::Value {
    assert!(doc.starts_with("#cloud-config\n"));
    serde_saphyr::from_str(doc).unwrap()
}

fn file<'a>(doc: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    doc["write_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
}

/// Replaces what changes from run to run (keys, certificates, the CA hash) so snapshots are
/// stable, and the node scripts, which shellcheck covers and which would drown the rest.
fn redact(doc: &str) -> String {
    let mut res = String::new();
    let mut in_pem = false;
    let mut script = false;
    let mut skipping_script = false;
    for line in doc.lines() {
        if skipping_script {
            if line.starts_with("    ") || line.is_empty() {
                continue;
            }
            skipping_script = false;
        }
        if line.starts_with("- path: ") {
            script = line.starts_with("- path: /opt/cks/bin/");
        }
        if script && line == "  content: |" {
            res.push_str("  content: <script from src/cloudinit/scripts>\n");
            skipping_script = true;
            continue;
        }
        if line.contains("-----BEGIN ") {
            in_pem = true;
            res.push_str(&line.replace(line.trim(), "<PEM redacted>"));
            res.push('\n');
        }
        if in_pem {
            in_pem = !line.contains("-----END ");
            continue;
        }
        match line.find("sha256:") {
            Some(at) => res.push_str(&format!("{}sha256:<hash>\n", &line[..at])),
            None => {
                res.push_str(line);
                res.push('\n');
            }
        }
    }
    res
}

#[test]
fn first_control_node_full() {
    let mut cluster = full_cluster();
    cluster.cni = Some(calico());
    let text = NodeUserData::new(&cluster, full_pki())
        .unwrap()
        .first_control_node(&token(), Some(&key()))
        .unwrap();
    insta::assert_snapshot!(redact(&text));
    let doc = parse(&text);
    assert_eq!(doc["users"][0]["name"], "cloud");
    assert_eq!(
        doc["users"][0]["ssh_authorized_keys"][0],
        cluster.ssh_public_keys[0]
    );
    for (path, mode) in [
        ("/etc/kubernetes/pki/ca.key", "0600"),
        ("/etc/kubernetes/pki/ca.crt", "0644"),
        ("/etc/kubernetes/pki/apiserver-etcd-client.key", "0600"),
        ("/etc/kubernetes/kubeadm-config.yaml", "0600"),
        ("/etc/cks/secrets/cloudstack-secret.yaml", "0600"),
        ("/etc/containerd/config.toml", "0600"),
        ("/opt/cni/calico-bgp.yaml", "0644"),
    ] {
        assert_eq!(
            file(&doc, path).unwrap_or_else(|| panic!("{path} missing"))["permissions"],
            mode,
            "{path}"
        );
    }
    assert!(
        file(&doc, "/etc/kubernetes/pki/etcd/ca.key").is_none(),
        "external etcd: kubeadm needs no etcd CA key"
    );
    let ca = file(&doc, "/etc/kubernetes/pki/ca.crt").unwrap()["content"]
        .as_str()
        .unwrap();
    assert_eq!(ca, full_pki().kubernetes_ca.cert_pem);
    let env = file(&doc, "/etc/cks/node.env").unwrap()["content"]
        .as_str()
        .unwrap();
    assert!(
        env.contains("CKS_ROLE='control-init'\n") && env.contains("CKS_EXTERNAL_CNI='true'\n"),
        "{env}"
    );
    let runcmd: Vec<String> = doc["runcmd"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(runcmd[0], r#"["/opt/cks/bin/cks-install"]"#);
    assert_eq!(runcmd[1], r#"["/opt/cks/bin/cks-kubeadm","init"]"#);
    assert!(runcmd[2].contains("export KUBECONFIG="));
    assert_eq!(runcmd.len(), 6, "three CNI commands after ours: {runcmd:?}");
    assert!(runcmd[5].contains("calico-bgp.yaml"));
    let secret = file(&doc, "/etc/cks/secrets/cloudstack-secret.yaml").unwrap()["content"]
        .as_str()
        .unwrap();
    let secret: serde_json::Value = serde_saphyr::from_str(secret).unwrap();
    assert_eq!(
        secret["stringData"]["cloud-config"],
        "[Global]\napi-url = https://cloud.example.com/client/api\napi-key = api-key\nsecret-key = secret-key\n"
    );
}

#[test]
fn first_control_node_minimal_uses_stacked_etcd_and_default_network() {
    let cluster = minimal_cluster();
    let text = NodeUserData::new(&cluster, full_pki())
        .unwrap()
        .first_control_node(&token(), None)
        .unwrap();
    let doc = parse(&text);
    assert!(file(&doc, "/etc/kubernetes/pki/etcd/ca.key").is_some());
    assert!(file(&doc, "/etc/cks/secrets/cloudstack-secret.yaml").is_none());
    assert_eq!(
        file(&doc, "/etc/containerd/config.toml").unwrap()["permissions"],
        "0644"
    );
    let env = file(&doc, "/etc/cks/node.env").unwrap()["content"]
        .as_str()
        .unwrap();
    assert!(env.contains("CKS_EXTERNAL_CNI='false'\n"));
    assert_eq!(doc["runcmd"].as_array().unwrap().len(), 2);
}

#[test]
fn ha_needs_a_certificate_key() {
    let cluster = full_cluster();
    let err = NodeUserData::new(&cluster, full_pki())
        .unwrap()
        .first_control_node(&token(), None)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidSpec(_)));
}

#[test]
fn joining_nodes_never_receive_private_keys() {
    let cluster = full_cluster();
    let nodes = NodeUserData::new(&cluster, full_pki()).unwrap();
    let worker = nodes
        .worker("prod-eu-node-1", cluster.control_nodes[0].ip, &token())
        .unwrap();
    let control = nodes.additional_control_node(2, &token(), &key()).unwrap();
    for text in [&worker, &control] {
        assert!(
            !text.contains("PRIVATE KEY"),
            "a private key reached a joining node"
        );
        assert!(
            text.contains(&full_pki().discovery_hash().unwrap()),
            "joining nodes pin the CA"
        );
    }
    insta::assert_snapshot!("worker", redact(&worker));
    let doc = parse(&control);
    let env = file(&doc, "/etc/cks/node.env").unwrap()["content"]
        .as_str()
        .unwrap();
    assert!(env.contains("CKS_API_SERVER='10.1.1.11:6443'\n"));
    let kubeadm: serde_json::Value = serde_saphyr::from_str(
        file(&doc, "/etc/kubernetes/kubeadm-config.yaml").unwrap()["content"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(kubeadm["controlPlane"]["certificateKey"], key().hex());
    assert_eq!(kubeadm["nodeRegistration"]["name"], "prod-eu-control-3");
    assert!(
        nodes.additional_control_node(0, &token(), &key()).is_err(),
        "index 0 is the init node"
    );
    assert!(nodes.additional_control_node(3, &token(), &key()).is_err());
    assert!(
        nodes
            .worker("Bad_Name", cluster.endpoint_ip, &token())
            .is_err()
    );
}

#[test]
fn etcd_node_gets_only_its_own_certificates() {
    let cluster = full_cluster();
    let text = NodeUserData::new(&cluster, full_pki())
        .unwrap()
        .etcd_node(1)
        .unwrap();
    let doc = parse(&text);
    let member = full_pki().etcd_member("prod-eu-etcd-2").unwrap();
    assert_eq!(
        file(&doc, "/etc/etcd/pki/server.key").unwrap()["content"],
        member.server.key_pem.as_str()
    );
    assert_eq!(
        file(&doc, "/etc/etcd/pki/peer.key").unwrap()["permissions"],
        "0600"
    );
    assert!(
        !text.contains(&full_pki().etcd_ca.key_pem),
        "the etcd CA key stays with the service"
    );
    assert!(
        !text.contains(
            &full_pki()
                .etcd_member("prod-eu-etcd-1")
                .unwrap()
                .server
                .key_pem
        )
    );
    let unit = file(&doc, "/etc/systemd/system/etcd.service").unwrap()["content"]
        .as_str()
        .unwrap();
    assert!(unit.contains("--name=prod-eu-etcd-2"));
    assert!(
        NodeUserData::new(&cluster, full_pki())
            .unwrap()
            .etcd_node(3)
            .is_err()
    );
}

#[test]
fn pki_must_cover_the_etcd_nodes() {
    let mut cluster = full_cluster();
    cluster.etcd_nodes[0].ip = "10.9.9.9".parse().unwrap();
    assert!(NodeUserData::new(&cluster, full_pki()).is_err());
}

#[test]
fn cni_conflicts_and_shapes() {
    use base64::Engine;
    let mut cluster = full_cluster();
    let mut cni = calico();
    let encode = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    cni.user_data_base64 = encode("#cloud-config\nusers: []\n");
    cluster.cni = Some(cni.clone());
    let nodes = NodeUserData::new(&cluster, full_pki()).unwrap();
    let err = nodes
        .first_control_node(&token(), Some(&key()))
        .unwrap_err();
    assert!(matches!(err, Error::Cni(CniError::Conflict(k)) if k == "users"));

    cni.user_data_base64 = encode("#cloud-config\nruncmd: echo not a list\n");
    cluster.cni = Some(cni.clone());
    let err = NodeUserData::new(&cluster, full_pki())
        .unwrap()
        .first_control_node(&token(), Some(&key()))
        .unwrap_err();
    assert!(matches!(err, Error::Cni(CniError::NotAList { .. })));

    cni.user_data_base64 =
        encode("#!/bin/bash\nkubectl apply -f /opt/cks/manifests/network.yaml\n");
    cluster.cni = Some(cni.clone());
    let text = NodeUserData::new(&cluster, full_pki())
        .unwrap()
        .first_control_node(&token(), Some(&key()))
        .unwrap();
    let doc = parse(&text);
    assert_eq!(
        file(&doc, "/opt/cks/cni/setup").unwrap()["permissions"],
        "0700"
    );
    assert_eq!(
        doc["runcmd"].as_array().unwrap().last().unwrap()[0],
        "/opt/cks/cni/setup"
    );

    cni.user_data_base64 = encode("#cloud-config\npackages: [jq]\n");
    cluster.cni = Some(cni);
    let text = NodeUserData::new(&cluster, full_pki())
        .unwrap()
        .first_control_node(&token(), Some(&key()))
        .unwrap();
    assert_eq!(parse(&text)["packages"][0], "jq");
}

#[test]
fn env_values_cannot_break_out() {
    assert_eq!(
        env_line("A", "1.2.3.4 5.6.7.8").unwrap(),
        "A='1.2.3.4 5.6.7.8'\n"
    );
    assert!(env_line("A", "x'; reboot; '").is_err());
    assert!(env_line("A", "x\ny").is_err());
}

#[test]
fn containerd_config_round_trips_credentials() {
    let cluster = full_cluster();
    let text = containerd_config(cluster.registry.as_ref()).unwrap();
    let parsed: toml::Table = toml::from_str(&text).unwrap();
    let cri = &parsed["plugins"]["io.containerd.grpc.v1.cri"];
    assert_eq!(
        cri["registry"]["configs"]["registry.example.com:5000"]["auth"]["password"].as_str(),
        Some("p\"ss'word")
    );
    assert_eq!(
        cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"].as_bool(),
        Some(true)
    );
    // cks-install rewrites this line with sed, so it must sit on a line of its own.
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("sandbox_image = ")),
        "{text}"
    );
    insta::assert_snapshot!(containerd_config(None).unwrap());
}
