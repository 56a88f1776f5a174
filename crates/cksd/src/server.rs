//! The HTTP/1.1 accept loop, with the limits a server on an open network needs: a connection
//! that has not sent a whole request head within the header timeout (a half-open socket, or a
//! keep-alive connection gone idle) is closed, and at most `max_connections` are served at once
//! (more wait in the kernel's accept queue, not in this process, until one closes).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// Time a client has for a request head, and that a keep-alive connection may sit idle.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once, lowered to what the open-file limit leaves room for.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Descriptors kept for the database, the simulated clusters' endpoints and files.
const RESERVED_FILES: u64 = 512;

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ConnectionLimits {
    /// A request body must arrive within this (2 MiB at 1 Mbit/s takes 16 s).
    pub fn body_timeout(&self) -> Duration {
        self.header_timeout * 3
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open requests finish.
/// Each request carries `ConnectInfo<SocketAddr>` of its peer.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max_connections = fit_open_file_limit(limits.max_connections);
    let slots = Arc::new(Semaphore::new(max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was taken: neither
                    // ends the server.
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move { Ok::<_, Infallible>(router.oneshot(req).await.unwrap_or_else(|e| match e {})) }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = closing.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    // Every connection gives its slot back when it ends.
    let _ = slots.acquire_many(max_connections as u32).await;
    Ok(())
}

/// Raises the soft open-file limit to the hard one and returns the soft limit then in force
/// (`u64::MAX` when unlimited). The benchmark, which holds one listener per simulated cluster,
/// calls it too.
pub fn raise_open_file_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    // `None` is unlimited.
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            limit = raised;
        }
    }
    limit.current.unwrap_or(u64::MAX)
}

/// Raises the open-file limit and returns how many connections fit in it.
fn fit_open_file_limit(wanted: usize) -> usize {
    let current = raise_open_file_limit();
    let room = current.saturating_sub(RESERVED_FILES).max(16);
    let fits = usize::try_from(room).unwrap_or(usize::MAX);
    if fits < wanted {
        tracing::warn!(
            "serving at most {fits} connections at once, not {wanted}: the open-file limit is {current}"
        );
    }
    wanted.min(fits).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    #[tokio::test]
    async fn shutdown_lets_a_request_in_flight_finish_then_returns() {
        let router = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "done"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/slow", listener.local_addr().unwrap());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            router,
            ConnectionLimits::default(),
            async move {
                let _ = stop_rx.await;
            },
        ));
        let request = tokio::spawn(async move { reqwest::get(url).await?.text().await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop_tx.send(()).unwrap();
        assert_eq!(request.await.unwrap().unwrap(), "done");
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("serve returns once its connections are done")
            .unwrap()
            .unwrap();
    }
}
