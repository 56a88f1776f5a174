//! The signed client tests drive servers with: `cks-client` underneath, answering with the HTTP
//! status and the JSON body so refusals can be checked as well as answers.

use std::time::Duration;

use cks_client::Polling;
use serde_json::Value;

/// An API key and its secret: `cks-client`'s credentials.
pub use cks_client::Credentials as Keys;

/// Signs like CloudStack's clients (`apiKey`, `response=json`, sorted canonical string, no
/// expiry unless a test sends one): `cks-client`, answering with the status and JSON body so
/// tests can check refusals as well as answers.
pub struct Client {
    pub url: String,
    pub keys: Keys,
    client: cks_client::Client,
}

/// A value encoded as the signature's canonical string encodes it.
pub fn encode(value: &str) -> String {
    cks_client::request::encode(value)
}

/// How tests follow a job: every 50 ms, for up to a minute.
const JOB_POLLING: Polling = Polling::every(Duration::from_millis(50), Duration::from_secs(60));

impl Client {
    pub fn new(url: &str, keys: Keys) -> Client {
        Client {
            url: url.to_string(),
            client: cks_client::Client::with_http(url, keys.clone(), reqwest::Client::new())
                .without_expiry(),
            keys,
        }
    }

    /// The `cks-client` client underneath, for typed calls.
    pub fn inner(&self) -> &cks_client::Client {
        &self.client
    }

    pub fn signed_query(&self, command: &str, params: &[(&str, &str)]) -> String {
        self.client.signed_query(command, params)
    }

    /// A signed GET. Returns the HTTP status and the JSON body.
    pub async fn call(&self, command: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let query = self.signed_query(command, params);
        self.get_raw(&query).await
    }

    /// A signed POST with the parameters in a form body.
    pub async fn post(&self, command: &str, params: &[(&str, &str)]) -> (u16, Value) {
        let body = self.signed_query(command, params);
        self.send(cks_client::Request::post(&self.url, body)).await
    }

    pub async fn get_raw(&self, query: &str) -> (u16, Value) {
        self.send(cks_client::Request::get(&self.url, query)).await
    }

    async fn send(&self, request: cks_client::Request) -> (u16, Value) {
        let res = self.client.send(&request).await.expect("request");
        (res.status, res.json().unwrap_or(Value::Null))
    }

    /// Polls `queryAsyncJobResult` until the job finishes.
    pub async fn wait_job(&self, job_id: &str) -> Value {
        match self.client.finished_job(job_id, &JOB_POLLING).await {
            Ok(job) => job,
            Err(e) => panic!("job {job_id}: {e}"),
        }
    }
}

/// The error text of an error envelope, whatever its key.
pub fn error_text(body: &Value) -> String {
    body.as_object()
        .and_then(|o| o.values().next())
        .and_then(|v| v["errortext"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// The single `*response` object of a body.
pub fn inner<'a>(body: &'a Value, command: &str) -> &'a Value {
    &body[format!("{}response", command.to_lowercase())]
}
