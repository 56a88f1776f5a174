//! `KubeError`: how a call to a cluster's API failed, so the caller knows whether to retry.

/// A failed Kubernetes API call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeError {
    /// Nothing answered: connection refused or reset, or the timeout passed. Worth a retry (the
    /// endpoint may not be up yet).
    #[error("the Kubernetes API is unreachable: {0}")]
    Unreachable(String),
    /// The TLS handshake failed: the server's certificate is not signed by the cluster's CA (or
    /// not for this address), or the server refused the client certificate.
    #[error("TLS with the Kubernetes API failed: {0}")]
    Tls(String),
    /// The API answered with an error status (the `message` of its `Status` object).
    #[error("the Kubernetes API answered {status}: {message}")]
    Api {
        /// The HTTP status, e.g. 404.
        status: u16,
        /// The `Status` object's message, else the HTTP reason.
        message: String,
    },
    /// The API answered 2xx with something that is not the expected object.
    #[error("unexpected answer from the Kubernetes API: {0}")]
    Decode(String),
    /// The client could not be built: bad URL, certificate, key or kubeconfig.
    #[error("invalid Kubernetes client configuration: {0}")]
    Config(String),
}

impl KubeError {
    /// Would the same call likely succeed later?
    pub fn is_transient(&self) -> bool {
        match self {
            KubeError::Unreachable(_) => true,
            KubeError::Api { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// An API answer of 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, KubeError::Api { status: 404, .. })
    }

    /// Classifies a reqwest failure: TLS when rustls is anywhere in the error's chain.
    pub(crate) fn from_reqwest(e: reqwest::Error) -> KubeError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            if let Some(tls) = err.downcast_ref::<rustls::Error>() {
                return KubeError::Tls(tls.to_string());
            }
            // An I/O error's `source` skips the error it wraps (tokio-rustls wraps rustls's).
            source = match err
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
            {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => err.source(),
            };
        }
        if e.is_decode() {
            return KubeError::Decode(chain(&e));
        }
        if e.is_builder() {
            return KubeError::Config(chain(&e));
        }
        KubeError::Unreachable(chain(&e))
    }
}

/// The error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut res = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        res.push_str(": ");
        res.push_str(&err.to_string());
        source = err.source();
    }
    res
}
