//! What a call can fail with: the server said no, the server could not be reached, or it
//! answered something that is not what was expected.

use std::time::Duration;

/// A failed call. No variant holds a signed URL.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered an error envelope (or an HTTP error without one: then `errorcode`
    /// is the HTTP status and `cserrorcode` 0).
    #[error("{command}: {errortext} (errorcode {errorcode}, cserrorcode {cserrorcode})")]
    Api {
        /// The command called.
        command: String,
        /// CloudStack's `errorcode` (an HTTP status: 431, 401, 530...).
        errorcode: i64,
        /// CloudStack's `cserrorcode` (4350, 9999...).
        cserrorcode: i64,
        /// The server's message.
        errortext: String,
    },
    /// The request did not get an answer (connection refused, timeout, reset).
    #[error("cannot reach {url}: {detail}")]
    Transport {
        /// The endpoint, without a query.
        url: String,
        /// What went wrong, with its causes (never the request URL).
        detail: String,
    },
    /// The answer was not a CloudStack JSON envelope.
    #[error("{url} did not answer {command} like a CloudStack API (HTTP {status}): {preview}")]
    NotCloudStack {
        /// The endpoint.
        url: String,
        /// The command called.
        command: String,
        /// The HTTP status.
        status: u16,
        /// The first 200 characters of the body.
        preview: String,
    },
    /// The envelope did not hold what the caller's type expects.
    #[error("the answer to {command} is not what was expected: {source}")]
    Decode {
        /// The command called.
        command: String,
        /// serde's account of the mismatch.
        source: serde_json::Error,
    },
    /// The async job ended with `jobstatus` 2.
    #[error("job {job_id} failed: {errortext} (errorcode {errorcode})")]
    JobFailed {
        /// The job.
        job_id: String,
        /// The job result's `errorcode` (530 when it has none).
        errorcode: i64,
        /// The job result's `errortext`.
        errortext: String,
    },
    /// The job was still running when the deadline passed; it goes on on the server.
    #[error("job {job_id} still running after {} s", waited.as_secs())]
    JobTimeout {
        /// The job.
        job_id: String,
        /// How long it was followed.
        waited: Duration,
    },
    /// The HTTP client could not be built (TLS roots, proxy settings).
    #[error("building the HTTP client: {0}")]
    Setup(String),
}

/// An error and its causes, `a: b: c`.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut res = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        res.push_str(": ");
        res.push_str(&s.to_string());
        source = s.source();
    }
    res
}
