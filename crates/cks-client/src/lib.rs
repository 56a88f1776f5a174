//! `cks-client`: the CloudStack API client every caller uses (the `cks` CLI, `cks-bench`, the
//! test suites, and the CloudStack-facing components to come).
//!
//! Its job: sign requests as CloudStack's own clients do ([`request`], built on
//! `cks_api::signing`, the code the server verifies with), send them (GET, or a POST form body
//! when the query is too long for a request line), unwrap the `<command>response` envelope,
//! turn error envelopes into a typed [`ClientError`], decode answers into serde types, and follow
//! async jobs with `queryAsyncJobResult` ([`jobs`]).
//!
//! **Invariant:** this is the only crate that computes request signatures; nobody else joins a
//! canonical string to an HMAC. It holds no state beyond its HTTP connection pool, and no
//! error it returns or logs contains a signed URL (the API key and signature stay out of
//! messages).

mod client;
mod error;
pub mod jobs;
pub mod request;

pub use client::{Client, DEFAULT_REQUEST_VALIDITY, Response, envelope_inner, list_items};
pub use error::ClientError;
pub use jobs::{JobState, Polling};
pub use request::{Credentials, Request};
