//! `KubeClient`: HTTPS to one cluster's API server with mutual TLS.

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::KubeError;
use crate::kubeconfig;
use crate::types::{List, Node, NodeObject, Pod, PodObject, Version};

/// The timeout of every call unless `KubeClient::with_timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

const JSON: &str = "application/json";
const STRATEGIC_MERGE: &str = "application/strategic-merge-patch+json";

/// A client of one cluster's API. Cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct KubeClient {
    http: reqwest::Client,
    /// `https://<endpoint>:6443`, without a trailing slash.
    base: String,
    timeout: Duration,
}

impl KubeClient {
    /// A client for `endpoint_url` (`https://<ip>:6443`) that trusts only `ca_pem` (no system
    /// roots) and authenticates with the client certificate and key (PEM).
    pub fn new(
        endpoint_url: &str,
        ca_pem: &str,
        client_cert_pem: &str,
        client_key_pem: &str,
        timeout: Duration,
    ) -> Result<KubeClient, KubeError> {
        let bad = |what: &str, e: reqwest::Error| KubeError::Config(format!("{what}: {e}"));
        let base = endpoint_url.trim_end_matches('/').to_string();
        if !base.starts_with("https://") {
            return Err(KubeError::Config(format!(
                "the API endpoint {endpoint_url:?} is not an https:// URL"
            )));
        }
        let roots = reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes())
            .map_err(|e| bad("the cluster CA", e))?;
        if roots.is_empty() {
            return Err(KubeError::Config(
                "the cluster CA has no certificate".into(),
            ));
        }
        let identity =
            reqwest::Identity::from_pem(format!("{client_cert_pem}\n{client_key_pem}").as_bytes())
                .map_err(|e| bad("the client certificate", e))?;
        let http = reqwest::Client::builder()
            .tls_backend_rustls()
            .tls_certs_only(roots)
            .identity(identity)
            .no_proxy()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| bad("the HTTP client", e))?;
        Ok(KubeClient {
            http,
            base,
            timeout,
        })
    }

    /// A client from a kubeconfig's current context, with inline certificate data (as the
    /// kubeconfig cks hands out). Calls time out after `DEFAULT_TIMEOUT`.
    pub fn from_kubeconfig(yaml: &str) -> Result<KubeClient, KubeError> {
        let creds = kubeconfig::read(yaml)?;
        KubeClient::new(
            &creds.server,
            &creds.ca_pem,
            &creds.cert_pem,
            &creds.key_pem,
            DEFAULT_TIMEOUT,
        )
    }

    /// The same client with another timeout per call.
    pub fn with_timeout(mut self, timeout: Duration) -> KubeClient {
        self.timeout = timeout;
        self
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &str {
        &self.base
    }

    // === Calls ===

    /// The API server's version (`/version`).
    pub async fn version(&self) -> Result<Version, KubeError> {
        self.get("/version", &[]).await
    }

    /// Every node.
    pub async fn nodes(&self) -> Result<Vec<Node>, KubeError> {
        let list: List<NodeObject> = self.get("/api/v1/nodes", &[]).await?;
        Ok(list.items.into_iter().map(Node::from).collect())
    }

    /// One node; a missing node is `Api { status: 404, .. }` (see `KubeError::is_not_found`).
    pub async fn node(&self, name: &str) -> Result<Node, KubeError> {
        let node: NodeObject = self.get(&node_path(name), &[]).await?;
        Ok(node.into())
    }

    /// Marks the node unschedulable (`kubectl cordon`).
    pub async fn cordon(&self, name: &str) -> Result<Node, KubeError> {
        self.set_unschedulable(name, true).await
    }

    /// Makes the node schedulable again (`kubectl uncordon`).
    pub async fn uncordon(&self, name: &str) -> Result<Node, KubeError> {
        self.set_unschedulable(name, false).await
    }

    async fn set_unschedulable(&self, name: &str, on: bool) -> Result<Node, KubeError> {
        // kubectl's own patches: `null` removes the field, as uncordon does.
        let patch = match on {
            true => r#"{"spec":{"unschedulable":true}}"#,
            false => r#"{"spec":{"unschedulable":null}}"#,
        };
        let node: NodeObject = self
            .send(
                Method::PATCH,
                &node_path(name),
                &[],
                Some((STRATEGIC_MERGE, patch)),
            )
            .await?;
        Ok(node.into())
    }

    /// `kubectl drain`: cordons the node, then deletes its pods except DaemonSet and static
    /// pods. Returns the names of the pods that left the node (deleted now, or already gone).
    pub async fn drain(&self, name: &str) -> Result<Vec<String>, KubeError> {
        self.cordon(name).await?;
        let selector = format!("spec.nodeName={name}");
        let pods = self.pods(None, Some(&selector), None).await?;
        let mut res = Vec::new();
        for pod in pods.into_iter().filter(Pod::evictable) {
            let path = format!(
                "/api/v1/namespaces/{}/pods/{}",
                segment(&pod.namespace),
                segment(&pod.name)
            );
            match self
                .send::<serde_json::Value>(Method::DELETE, &path, &[], None)
                .await
            {
                Ok(_) => res.push(pod.name),
                Err(e) if e.is_not_found() => res.push(pod.name),
                Err(e) => return Err(e),
            }
        }
        Ok(res)
    }

    /// Removes the node from the cluster (`kubectl delete node`). `false` when it was gone.
    pub async fn delete_node(&self, name: &str) -> Result<bool, KubeError> {
        match self
            .send::<serde_json::Value>(Method::DELETE, &node_path(name), &[], None)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Pods of a namespace (every namespace when `None`), filtered by a field selector (e.g.
    /// `spec.nodeName=n1`) and a label selector (e.g. `k8s-app=kube-dns`).
    pub async fn pods(
        &self,
        namespace: Option<&str>,
        field_selector: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Pod>, KubeError> {
        let path = match namespace {
            Some(ns) => format!("/api/v1/namespaces/{}/pods", segment(ns)),
            None => "/api/v1/pods".to_string(),
        };
        let mut query = Vec::new();
        if let Some(s) = field_selector {
            query.push(("fieldSelector", s));
        }
        if let Some(s) = label_selector {
            query.push(("labelSelector", s));
        }
        let list: List<PodObject> = self.get(&path, &query).await?;
        Ok(list.items.into_iter().map(Pod::from).collect())
    }

    // === Transport ===

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, KubeError> {
        self.send(Method::GET, path, query, None).await
    }

    /// One request; an idempotent one (not `POST`) is sent again while the API is unreachable,
    /// for up to `RETRY_UNREACHABLE`: an API server's address can blip (a load balancer
    /// member changing, the simulator's endpoint moving to another instance).
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(&str, &str)>,
    ) -> Result<T, KubeError> {
        let deadline = std::time::Instant::now() + RETRY_UNREACHABLE;
        let mut pause = std::time::Duration::from_millis(100);
        loop {
            match self.send_once(method.clone(), path, query, body).await {
                Err(KubeError::Unreachable(_))
                    if method != Method::POST && std::time::Instant::now() + pause < deadline =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_millis(800));
                }
                other => return other,
            }
        }
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(&str, &str)>,
    ) -> Result<T, KubeError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(ACCEPT, JSON)
            .timeout(self.timeout);
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some((content_type, body)) = body {
            req = req
                .header(CONTENT_TYPE, content_type)
                .body(body.to_string());
        }
        let res = req.send().await.map_err(KubeError::from_reqwest)?;
        let status = res.status();
        let bytes = res.bytes().await.map_err(KubeError::from_reqwest)?;
        if !status.is_success() {
            return Err(api_error(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| KubeError::Decode(e.to_string()))
    }
}

/// How long an idempotent request is retried while the API is unreachable.
const RETRY_UNREACHABLE: std::time::Duration = std::time::Duration::from_secs(3);

/// The `message` of a `Status` answer, else the status line.
fn api_error(status: StatusCode, body: &[u8]) -> KubeError {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("unknown status")
                .to_string()
        });
    KubeError::Api {
        status: status.as_u16(),
        message,
    }
}

/// Everything but RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

fn node_path(name: &str) -> String {
    format!("/api/v1/nodes/{}", segment(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_messages_become_api_errors() {
        let body = br#"{"kind":"Status","message":"nodes \"x\" not found","code":404}"#;
        let err = api_error(StatusCode::NOT_FOUND, body);
        assert_eq!(
            err,
            KubeError::Api {
                status: 404,
                message: "nodes \"x\" not found".into()
            }
        );
        assert!(err.is_not_found());
        assert_eq!(
            api_error(StatusCode::BAD_GATEWAY, b"<html>"),
            KubeError::Api {
                status: 502,
                message: "Bad Gateway".into()
            }
        );
        assert!(api_error(StatusCode::SERVICE_UNAVAILABLE, b"").is_transient());
    }

    #[test]
    fn a_client_needs_https_and_pem() {
        let err = KubeClient::new("http://127.0.0.1:6443", "", "", "", DEFAULT_TIMEOUT);
        assert!(matches!(err, Err(KubeError::Config(_))));
        let err = KubeClient::new("https://127.0.0.1:6443", "nope", "", "", DEFAULT_TIMEOUT);
        assert!(matches!(err, Err(KubeError::Config(_))));
    }

    #[test]
    fn names_are_one_path_segment() {
        assert_eq!(node_path("a-b1"), "/api/v1/nodes/a-b1");
        assert_eq!(node_path("a/b c"), "/api/v1/nodes/a%2Fb%20c");
    }
}
