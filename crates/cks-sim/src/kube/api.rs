//! The simulated Kubernetes API server behind each endpoint: HTTPS with the cluster's own
//! certificates, enough of the API for `kubectl get nodes/pods/namespaces`, `kubectl version`,
//! `cordon`/`uncordon`, `delete node`, and the service's own Kubernetes client.
//!
//! TLS presents the cluster's `apiserver.crt` and verifies client certificates against its
//! `ca.crt`; a client without a certificate may only read `/version`, `/healthz`, `/livez` and
//! `/readyz` (as with anonymous auth on a kubeadm cluster), anything else is a 401 `Status`.
//! HTTP/1.1 only (ALPN `http/1.1`): kubectl and reqwest both speak it.
//!
//! Each request reads the simulator's inventory, so what it answers is always current; cordon
//! and delete are simulator mutations like any other.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddrV4;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use cks_core::iaas::{Vm, VmState};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::kube::endpoints;
use crate::kube::guest::{self, GuestNode, KubeCluster};
use crate::kube::objects::{self as objects, ClusterView, NodeView, PodView};
use crate::{Shared, now};

/// Paths a client without a certificate may read.
const ANONYMOUS: [&str; 4] = ["/version", "/healthz", "/livez", "/readyz"];
/// Bodies larger than this are refused (a node patch is a few hundred bytes).
const MAX_BODY: usize = 1024 * 1024;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .clone()
}

/// The TLS configuration of a cluster's endpoints: its serving certificate, and client
/// certificates (optional) checked against its CA.
pub(crate) fn server_config(cluster: &KubeCluster) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = provider();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cluster.ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| format!("ca.crt: {e}"))?;
        roots.add(cert).map_err(|e| format!("ca.crt: {e}"))?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .allow_unauthenticated()
    .build()
    .map_err(|e| format!("client verifier: {e}"))?;
    let chain = CertificateDer::pem_slice_iter(cluster.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("apiserver.crt: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(cluster.key_pem.as_bytes())
        .map_err(|e| format!("apiserver.key: {e}"))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| format!("apiserver certificate: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // No resumption: the default 256-entry session cache (~30 KiB per cluster, allocated up
    // front) and TLS 1.3 tickets cost memory per cluster and a simulated API server gains nothing.
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// How long a probe of an address's holder waits for it to connect and to finish a handshake.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Who answers on `addr`, which this instance could not bind: an instance of this database
/// serving the cluster presents a certificate its CA (`ca_pem`) signed for that address.
pub(crate) async fn holder(addr: SocketAddrV4, ca_pem: &str) -> endpoints::Holder {
    use endpoints::Holder;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()).flatten() {
        let _ = roots.add(cert);
    }
    let config = match rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
    {
        Ok(builder) => builder.with_root_certificates(roots).with_no_client_auth(),
        Err(e) => return Holder::Stranger(format!("cannot probe it: {e}")),
    };
    let stream =
        match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Holder::Gone,
            Ok(Err(e)) => return Holder::Stranger(format!("connecting to it failed: {e}")),
            Err(_) => return Holder::Stranger("it does not accept connections".into()),
        };
    let name = rustls::pki_types::ServerName::IpAddress(std::net::IpAddr::V4(*addr.ip()).into());
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    match tokio::time::timeout(PROBE_TIMEOUT, connector.connect(name, stream)).await {
        Ok(Ok(_)) => Holder::Sibling,
        Ok(Err(e)) => Holder::Stranger(format!(
            "it does not present the cluster's certificate: {e}"
        )),
        Err(_) => Holder::Stranger("it does not answer a TLS handshake".into()),
    }
}

/// What a listener serves: one cluster on one endpoint.
pub(crate) struct ApiContext {
    shared: Weak<Shared>,
    cluster_id: String,
    endpoint: SocketAddrV4,
}

impl ApiContext {
    pub(crate) fn new(
        shared: &Arc<Shared>,
        cluster_id: &str,
        endpoint: SocketAddrV4,
    ) -> Arc<ApiContext> {
        Arc::new(ApiContext {
            shared: Arc::downgrade(shared),
            cluster_id: cluster_id.to_string(),
            endpoint,
        })
    }
}

/// The connection tasks of one listener, shared with whoever stops it so it can wait for them.
pub(crate) type Connections = Arc<Mutex<JoinSet<()>>>;

/// Accepts connections until the task is aborted. Its connections run in `connections`; they
/// end when that set is shut down or dropped.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    ctx: Arc<ApiContext>,
    connections: Connections,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                let mut set = connections.lock().unwrap_or_else(|e| e.into_inner());
                while set.try_join_next().is_some() {}
                set.spawn(connection(tcp, acceptor.clone(), ctx.clone()));
            }
            Err(e) => {
                tracing::debug!(endpoint = %ctx.endpoint, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection(
    tcp: tokio::net::TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    ctx: Arc<ApiContext>,
) {
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(endpoint = %ctx.endpoint, error = %e, "TLS handshake refused");
            return;
        }
        Err(_) => return,
    };
    let authenticated = tls
        .get_ref()
        .1
        .peer_certificates()
        .is_some_and(|c| !c.is_empty());
    let service = hyper::service::service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(handle(&ctx, authenticated, req).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut res = Response::new(Full::new(body.into()));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

fn json_reply(status: StatusCode, value: &Value) -> Reply {
    reply(status, "application/json", value.to_string())
}

fn ok(value: &Value) -> Reply {
    json_reply(StatusCode::OK, value)
}

fn failure(code: StatusCode, reason: &str, message: &str) -> Reply {
    json_reply(code, &objects::status(code.as_u16(), reason, message))
}

/// A request, read.
struct Call {
    method: Method,
    segments: Vec<String>,
    query: HashMap<String, String>,
    table: bool,
    content_type: String,
    body: Bytes,
}

async fn handle(ctx: &ApiContext, authenticated: bool, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_string();
    if !authenticated && !ANONYMOUS.contains(&path.trim_end_matches('/')) {
        return failure(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let table = header(ACCEPT).contains("as=Table");
    let content_type = header(CONTENT_TYPE);
    let method = req.method().clone();
    let query = parse_query(req.uri().query().unwrap_or_default());
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return failure(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "the request body is too large",
            );
        }
    };
    let Some(shared) = ctx.shared.upgrade() else {
        return failure(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "the API server is shutting down",
        );
    };
    let call = Call {
        method,
        segments: path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect(),
        query,
        table,
        content_type,
        body,
    };
    route(&shared, ctx, call).await
}

fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

async fn route(shared: &Arc<Shared>, ctx: &ApiContext, call: Call) -> Reply {
    // Another instance sharing the inventory may have just changed this cluster (an upgrade,
    // a cordon): answer from what the database said at most a few milliseconds ago, not from
    // up to a follower poll ago.
    if let Err(e) = shared.refresh_recent().await {
        tracing::debug!(error = %e, "could not catch up with the shared simulator inventory");
    }
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let get = call.method == Method::GET;
    match segments.as_slice() {
        ["version"] if get => {
            let Some(view) = cluster_view(shared, &ctx.cluster_id) else {
                return unavailable();
            };
            ok(&objects::version(&view.version))
        }
        ["healthz" | "livez" | "readyz", ..] if get => reply(StatusCode::OK, "text/plain", "ok"),
        ["api"] if get => ok(&objects::api_versions(&ctx.endpoint.to_string())),
        ["apis"] if get => ok(&objects::api_groups()),
        ["api", "v1"] if get => ok(&objects::api_resources()),
        ["api", "v1", "nodes"] if get => list_nodes(shared, ctx, &call),
        ["api", "v1", "nodes", name] => node(shared, ctx, &call, name).await,
        ["api", "v1", "namespaces"] if get => {
            let Some(view) = cluster_view(shared, &ctx.cluster_id) else {
                return unavailable();
            };
            match call.table {
                true => ok(&objects::namespace_table(view.created, now())),
                false => ok(&objects::namespace_list(view.created, now())),
            }
        }
        ["api", "v1", "namespaces", ns] if get => {
            let Some(view) = cluster_view(shared, &ctx.cluster_id) else {
                return unavailable();
            };
            match objects::NAMESPACES.contains(ns) {
                true => ok(&objects::namespace(ns, view.created)),
                false => json_reply(StatusCode::NOT_FOUND, &objects::not_found("namespaces", ns)),
            }
        }
        ["api", "v1", "pods"] if get => list_pods(shared, ctx, &call, None),
        ["api", "v1", "namespaces", ns, "pods"] if get => list_pods(shared, ctx, &call, Some(ns)),
        ["api", "v1", "namespaces", ns, "pods", name] => pod(shared, ctx, &call, ns, name).await,
        ["api", "v1", "namespaces", ns, "pods", name, "eviction"]
            if call.method == Method::POST =>
        {
            let Some(pod) = find_pod(shared, ctx, ns, name) else {
                return json_reply(StatusCode::NOT_FOUND, &objects::not_found("pods", name));
            };
            if let Err(e) = evict(shared, ctx, &pod).await {
                return e;
            }
            json_reply(
                StatusCode::CREATED,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
            )
        }
        _ => failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        ),
    }
}

fn unavailable() -> Reply {
    failure(
        StatusCode::SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        "the cluster is gone",
    )
}

/// A snapshot of the cluster: its version and registered nodes, by name.
fn cluster_view(shared: &Shared, cluster_id: &str) -> Option<ClusterView> {
    let inv = shared.read();
    let cluster = inv.get::<KubeCluster>(cluster_id)?;
    let mut nodes: Vec<NodeView> = endpoints::members(&inv, cluster_id)
        .map(|(node, vm)| node_view(node, vm))
        .collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    Some(ClusterView {
        id: cluster.id.clone(),
        version: cluster.version.clone(),
        created: cluster.created,
        nodes,
    })
}

fn node_view(node: &GuestNode, vm: &Vm) -> NodeView {
    NodeView {
        name: vm.name.clone(),
        uid: vm.id.clone(),
        control: node.role.is_control(),
        ready: vm.state == VmState::Running,
        unschedulable: node.unschedulable,
        drained: node.drained,
        version: node.version.clone(),
        ip: vm.default_nic().map(|n| n.ip_address),
        created: node.joined.unwrap_or(node.created),
    }
}

/// The request's field selector (on the `known` fields only) and label selector.
fn selectors(
    call: &Call,
    known: &[&str],
) -> Result<(Vec<objects::Term>, Vec<objects::Term>), String> {
    let parse = |key: &str| {
        objects::parse_selector(call.query.get(key).map(String::as_str).unwrap_or_default())
    };
    let fields = parse("fieldSelector")?;
    for term in &fields {
        let field = match term {
            objects::Term::Equals(k, _)
            | objects::Term::NotEquals(k, _)
            | objects::Term::Exists(k)
            | objects::Term::Absent(k) => k,
        };
        if !known.contains(&field.as_str()) {
            return Err(format!("field label not supported: {field}"));
        }
    }
    Ok((fields, parse("labelSelector")?))
}

fn list_nodes(shared: &Shared, ctx: &ApiContext, call: &Call) -> Reply {
    let Some(view) = cluster_view(shared, &ctx.cluster_id) else {
        return unavailable();
    };
    let (fields, labels) = match selectors(call, &objects::NODE_FIELDS) {
        Ok(terms) => terms,
        Err(e) => return failure(StatusCode::BAD_REQUEST, "BadRequest", &e),
    };
    let nodes: Vec<(usize, &NodeView)> = view
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| objects::matches(&fields, |f| objects::node_field(n, f)))
        .filter(|(_, n)| {
            let labels_of = objects::node_labels(n);
            objects::matches(&labels, |k| {
                labels_of
                    .iter()
                    .find(|(key, _)| *key == k)
                    .map(|(_, v)| v.as_str())
            })
        })
        .collect();
    match call.table {
        true => ok(&objects::node_table(&nodes, now())),
        false => ok(&objects::node_list(&nodes, now())),
    }
}

async fn node(shared: &Arc<Shared>, ctx: &ApiContext, call: &Call, name: &str) -> Reply {
    let found = |shared: &Shared| {
        let view = cluster_view(shared, &ctx.cluster_id)?;
        view.nodes
            .iter()
            .enumerate()
            .find(|(_, n)| n.name == name)
            .map(|(i, n)| (i, n.clone()))
    };
    let Some((index, node)) = found(shared) else {
        return json_reply(StatusCode::NOT_FOUND, &objects::not_found("nodes", name));
    };
    match call.method {
        Method::GET => ok(&objects::node(&node, index, now())),
        Method::PATCH => {
            let unschedulable = match patched_unschedulable(&call.content_type, &call.body) {
                Ok(value) => value,
                Err(message) => return failure(StatusCode::BAD_REQUEST, "BadRequest", &message),
            };
            if let Some(value) = unschedulable {
                let cluster = ctx.cluster_id.clone();
                let res = shared
                    .mutate(|inv| guest::set_unschedulable(inv, &cluster, &node.uid, value))
                    .await;
                if let Err(e) = res {
                    return failure(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalError",
                        &e.to_string(),
                    );
                }
            }
            match found(shared) {
                Some((index, node)) => ok(&objects::node(&node, index, now())),
                None => json_reply(StatusCode::NOT_FOUND, &objects::not_found("nodes", name)),
            }
        }
        Method::DELETE => {
            let cluster = ctx.cluster_id.clone();
            let res = shared
                .mutate(|inv| guest::delete_node(inv, &cluster, &node.uid))
                .await;
            match res {
                Ok(_) => ok(&objects::node(&node, index, now())),
                Err(e) => failure(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    &e.to_string(),
                ),
            }
        }
        _ => failure(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ),
    }
}

/// `spec.unschedulable` from a merge, strategic-merge or JSON patch: `Some(value)` when the
/// patch sets it (`null` unsets it), `None` when it leaves it alone.
fn patched_unschedulable(content_type: &str, body: &[u8]) -> Result<Option<bool>, String> {
    let patch: Value =
        serde_json::from_slice(body).map_err(|e| format!("the patch is not JSON: {e}"))?;
    let as_bool = |v: &Value| match v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        other => Err(format!("spec.unschedulable must be a boolean, not {other}")),
    };
    if content_type.starts_with("application/json-patch+json") {
        let ops = patch
            .as_array()
            .ok_or("a JSON patch is a list of operations")?;
        let mut res = None;
        for op in ops {
            if op["path"] == "/spec/unschedulable" {
                res = match op["op"].as_str() {
                    Some("remove") => Some(false),
                    Some("add" | "replace") => Some(as_bool(&op["value"])?),
                    _ => res,
                };
            }
        }
        return Ok(res);
    }
    match patch.get("spec").and_then(|s| s.get("unschedulable")) {
        Some(value) => as_bool(value).map(Some),
        None => Ok(None),
    }
}

fn cluster_pods(shared: &Shared, ctx: &ApiContext) -> Option<Vec<PodView>> {
    cluster_view(shared, &ctx.cluster_id).map(|view| objects::pods(&view))
}

fn find_pod(shared: &Shared, ctx: &ApiContext, ns: &str, name: &str) -> Option<PodView> {
    cluster_pods(shared, ctx)?
        .into_iter()
        .find(|p| p.namespace == ns && p.name == name)
}

fn list_pods(shared: &Shared, ctx: &ApiContext, call: &Call, ns: Option<&str>) -> Reply {
    let Some(pods) = cluster_pods(shared, ctx) else {
        return unavailable();
    };
    let (fields, labels) = match selectors(call, &objects::POD_FIELDS) {
        Ok(terms) => terms,
        Err(e) => return failure(StatusCode::BAD_REQUEST, "BadRequest", &e),
    };
    let selected: Vec<&PodView> = pods
        .iter()
        .filter(|p| ns.is_none_or(|ns| p.namespace == ns))
        .filter(|p| objects::matches(&fields, |f| p.field(f)))
        .filter(|p| objects::matches(&labels, |k| p.label(k)))
        .collect();
    match call.table {
        true => ok(&objects::pod_table(&selected, now())),
        false => ok(&objects::pod_list(&selected, now())),
    }
}

/// A pod by name. Deleting one succeeds: its controller (or the kubelet, for static pods)
/// brings it back, on another node when this one is cordoned, as in a real cluster.
async fn pod(shared: &Arc<Shared>, ctx: &ApiContext, call: &Call, ns: &str, name: &str) -> Reply {
    let Some(pod) = find_pod(shared, ctx, ns, name) else {
        return json_reply(StatusCode::NOT_FOUND, &objects::not_found("pods", name));
    };
    match call.method {
        Method::GET => ok(&objects::pod(&pod)),
        Method::DELETE => match evict(shared, ctx, &pod).await {
            Ok(()) => ok(&objects::pod(&pod)),
            Err(e) => e,
        },
        _ => failure(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ),
    }
}

/// A controller's pod leaves its node: a cordoned node is then drained.
async fn evict(shared: &Arc<Shared>, ctx: &ApiContext, pod: &PodView) -> Result<(), Reply> {
    if !pod.evictable() || pod.node_uid.is_empty() {
        return Ok(());
    }
    let cluster = ctx.cluster_id.clone();
    shared
        .mutate(|inv| guest::pod_evicted(inv, &cluster, &pod.node_uid))
        .await
        .map_err(|e| {
            failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                &e.to_string(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cordon_patches_of_every_kind() {
        let merge = br#"{"spec":{"unschedulable":true}}"#;
        assert_eq!(
            patched_unschedulable("application/strategic-merge-patch+json", merge),
            Ok(Some(true))
        );
        assert_eq!(
            patched_unschedulable(
                "application/merge-patch+json",
                br#"{"spec":{"unschedulable":null}}"#
            ),
            Ok(Some(false))
        );
        assert_eq!(
            patched_unschedulable("application/merge-patch+json", br#"{"metadata":{}}"#),
            Ok(None)
        );
        let json_patch = br#"[{"op":"replace","path":"/spec/unschedulable","value":true}]"#;
        assert_eq!(
            patched_unschedulable("application/json-patch+json", json_patch),
            Ok(Some(true))
        );
        assert!(patched_unschedulable("application/merge-patch+json", b"nope").is_err());
    }

    #[test]
    fn query_strings_are_decoded() {
        let q = parse_query("fieldSelector=spec.nodeName%3Dn1&limit=500&labelSelector=a+b");
        assert_eq!(q["fieldSelector"], "spec.nodeName=n1");
        assert_eq!(q["labelSelector"], "a b");
    }
}
