//! The admin kubeconfig with the real kubectl: offline parsing, then a mutual-TLS handshake
//! against a small HTTPS server that presents the generated API server certificate and demands a
//! client certificate from the cluster's CA.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cks_bootstrap::{ClusterPki, NodeIdentity, PkiSpec, admin_kubeconfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::harness::*;

const VERSION_JSON: &str = r#"{"major":"1","minor":"33","gitVersion":"v1.33.1","gitCommit":"0000000000000000000000000000000000000000","gitTreeState":"clean","buildDate":"2026-01-01T00:00:00Z","goVersion":"go1.24.0","compiler":"gc","platform":"linux/amd64"}"#;

fn kubectl(home: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(tool("kubectl", "kubectl (preinstalled, v1.32)"));
    // A clean environment: no proxy may see the request and no user kubeconfig may leak in.
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .kill_on_drop(true);
    cmd
}

#[test]
fn kubectl_config_view_reads_the_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let text = admin_kubeconfig(full_pki(), "prod-eu", "203.0.113.10".parse().unwrap()).unwrap();
    let path = write(dir.path(), "kubeconfig", &text);
    let out = run_ok(
        std::process::Command::new(tool("kubectl", "kubectl"))
            .env_clear()
            .env("HOME", dir.path())
            .args(["config", "view", "--raw", "-o", "json", "--kubeconfig"])
            .arg(&path),
    );
    let view: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(view["current-context"], "prod-eu");
    assert_eq!(view["contexts"][0]["name"], "prod-eu");
    assert_eq!(
        view["clusters"][0]["cluster"]["server"],
        "https://203.0.113.10:6443"
    );
    assert_eq!(view["users"][0]["name"], "prod-eu-admin");
    assert!(
        view["users"][0]["user"]["client-key-data"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
}

struct Server {
    addr: SocketAddr,
    /// Subjects of the client certificates that completed a handshake.
    clients: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `<loopback>:6443` (so the kubeconfig's `https://<endpoint>:6443` is used unchanged) and
/// serves `/version` to clients whose certificate the cluster's CA signed.
async fn api_server(pki: &ClusterPki, ip: Ipv4Addr) -> Server {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.kubernetes_ca.cert_pem.as_bytes()).unwrap())
        .unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(pki.apiserver.cert_pem.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(pki.apiserver.key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind((ip, 6443)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let clients = Arc::new(Mutex::new(Vec::new()));
    let seen = clients.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Some(cert) = tls.get_ref().1.peer_certificates().and_then(|c| c.first()) {
                    let (_, parsed) = x509_parser::parse_x509_certificate(cert).unwrap();
                    seen.lock().unwrap().push(parsed.subject().to_string());
                }
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let (status, body) = if req.starts_with(b"GET /version") {
                    ("200 OK", VERSION_JSON)
                } else {
                    ("404 Not Found", "{}")
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    Server {
        addr,
        clients,
        task,
    }
}

fn pki_for_endpoint(ip: Ipv4Addr) -> ClusterPki {
    let mut spec = PkiSpec::for_cluster(&minimal_cluster(), now());
    spec.kubernetes_version = "1.33.1".parse().unwrap();
    spec.endpoint_ip = IpAddr::V4(ip);
    spec.control_nodes = vec![NodeIdentity::new("test-control-1", IpAddr::V4(ip))];
    ClusterPki::generate(&spec).unwrap()
}

async fn kubectl_version(home: &Path, kubeconfig: &str) -> std::process::Output {
    let path = write(home, "kubeconfig", kubeconfig);
    let cmd = kubectl(home)
        .args([
            "version",
            "-o",
            "json",
            "--request-timeout=10s",
            "--kubeconfig",
        ])
        .arg(&path)
        .output();
    tokio::time::timeout(Duration::from_secs(30), cmd)
        .await
        .expect("kubectl hung")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_version_succeeds_over_mutual_tls() {
    let ip = free_loopback_addresses(1, &[6443])[0];
    let pki = pki_for_endpoint(ip);
    let server = api_server(&pki, ip).await;
    assert_eq!(server.addr.port(), 6443);
    let home = tempfile::tempdir().unwrap();
    let out = kubectl_version(
        home.path(),
        &admin_kubeconfig(&pki, "loopback", IpAddr::V4(ip)).unwrap(),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kubectl version failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(version["serverVersion"]["gitVersion"], "v1.33.1");
    // kubeadm 1.29+ groups: the admin is cluster-admin through a revocable binding.
    let clients = server.clients.lock().unwrap().clone();
    assert!(
        clients
            .iter()
            .any(|s| s == "O=kubeadm:cluster-admins, CN=kubernetes-admin"),
        "{clients:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_from_another_ca_is_refused() {
    let ip = free_loopback_addresses(1, &[6443])[0];
    let pki = pki_for_endpoint(ip);
    let server = api_server(&pki, ip).await;
    // Trusts the right server CA but presents an admin certificate from another cluster.
    let mut stranger = pki_for_endpoint(ip);
    stranger.kubernetes_ca = pki.kubernetes_ca.clone();
    let home = tempfile::tempdir().unwrap();
    let out = kubectl_version(
        home.path(),
        &admin_kubeconfig(&stranger, "loopback", IpAddr::V4(ip)).unwrap(),
    )
    .await;
    let stdout: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert!(
        stdout.get("serverVersion").is_none(),
        "the server answered a foreign client: {stdout}"
    );
    assert!(
        server.clients.lock().unwrap().is_empty(),
        "no foreign handshake may complete"
    );
}
