//! [`Client`]: one endpoint and its credentials; signed calls, envelopes unwrapped, errors typed.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ClientError, chain};
use crate::request::{self, Credentials, Request};

/// How long a signed request stays valid by default (as CloudStack's `cs` client: ten minutes),
/// so a captured URL cannot be replayed for long.
pub const DEFAULT_REQUEST_VALIDITY: Duration = Duration::from_secs(600);

/// A signed CloudStack API client for one endpoint (`http://host:8080/client/api`).
#[derive(Clone)]
pub struct Client {
    url: String,
    credentials: Credentials,
    http: reqwest::Client,
    validity: Option<Duration>,
}

/// An HTTP answer as it came: status and body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url)
            .field("credentials", &self.credentials)
            .field("validity", &self.validity)
            .finish()
    }
}

impl Client {
    /// A client with its own connection pool: 10 s to connect, 120 s per request, requests
    /// valid for [`DEFAULT_REQUEST_VALIDITY`].
    pub fn new(url: impl Into<String>, credentials: Credentials) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| ClientError::Setup(chain(&e)))?;
        Ok(Client::with_http(url, credentials, http))
    }

    /// A client on a given `reqwest::Client` (its timeouts, TLS roots and pool).
    pub fn with_http(
        url: impl Into<String>,
        credentials: Credentials,
        http: reqwest::Client,
    ) -> Client {
        Client {
            url: url.into(),
            credentials,
            http,
            validity: Some(DEFAULT_REQUEST_VALIDITY),
        }
    }

    /// Signs without `signatureVersion`/`expires` (valid until the keys change), as CloudStack's
    /// older clients do; servers that require an expiry refuse such requests.
    pub fn without_expiry(mut self) -> Client {
        self.validity = None;
        self
    }

    /// Requests stay valid this long after they are signed.
    pub fn with_validity(mut self, validity: Duration) -> Client {
        self.validity = Some(validity);
        self
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The keys it signs with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The signed query for a call, signed now.
    pub fn signed_query<K: AsRef<str>, V: AsRef<str>>(
        &self,
        command: &str,
        params: &[(K, V)],
    ) -> String {
        let expires = self
            .validity
            .map(|v| cks_api::date::now_unix() + v.as_secs() as i64);
        request::signed_query(&self.credentials, command, params, expires)
    }

    /// The signed request for a call: a GET, or a POST when the query is long.
    pub fn request<K: AsRef<str>, V: AsRef<str>>(
        &self,
        command: &str,
        params: &[(K, V)],
    ) -> Request {
        Request::for_query(&self.url, self.signed_query(command, params))
    }

    /// Sends a request (signed by [`Client::request`] or built by hand) and returns the answer
    /// whatever its status. Fails only when no answer came.
    pub async fn send(&self, request: &Request) -> Result<Response, ClientError> {
        let builder = match request {
            Request::Get { url } => self.http.get(url),
            Request::Post { url, body } => self
                .http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone()),
        };
        // reqwest's error names the request URL, which holds the API key and the signature:
        // drop it, the endpoint alone says where.
        let transport = |e: reqwest::Error| ClientError::Transport {
            url: self.url.clone(),
            detail: chain(&e.without_url()),
        };
        let response = builder.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport)?;
        Ok(Response {
            status,
            body: body.to_vec(),
        })
    }

    /// Calls `command` and returns the inside of its `<command>response` envelope; an error
    /// envelope or an HTTP error status is [`ClientError::Api`].
    pub async fn call_value<K: AsRef<str>, V: AsRef<str>>(
        &self,
        command: &str,
        params: &[(K, V)],
    ) -> Result<Value, ClientError> {
        let response = self.send(&self.request(command, params)).await?;
        self.unwrap_envelope(command, &response)
    }

    /// Calls `command` and decodes the inside of its envelope as `T`.
    pub async fn call<T: DeserializeOwned, K: AsRef<str>, V: AsRef<str>>(
        &self,
        command: &str,
        params: &[(K, V)],
    ) -> Result<T, ClientError> {
        let inner = self.call_value(command, params).await?;
        decode(command, inner)
    }

    /// Calls a list command and decodes its items (`key` is the object name, e.g.
    /// `virtualmachine`); an empty list is `{}` on the wire.
    pub async fn list<T: DeserializeOwned, K: AsRef<str>, V: AsRef<str>>(
        &self,
        command: &str,
        params: &[(K, V)],
        key: &str,
    ) -> Result<Vec<T>, ClientError> {
        let inner = self.call_value(command, params).await?;
        list_items(command, inner, key)
    }

    /// The inside of a response's envelope, or its error.
    pub fn unwrap_envelope(
        &self,
        command: &str,
        response: &Response,
    ) -> Result<Value, ClientError> {
        let value: Value = serde_json::from_slice(&response.body).map_err(|_| {
            let preview: String = String::from_utf8_lossy(&response.body)
                .chars()
                .take(200)
                .collect();
            ClientError::NotCloudStack {
                url: self.url.clone(),
                command: command.to_string(),
                status: response.status,
                preview,
            }
        })?;
        envelope_inner(command, response.status, value)
    }
}

/// The inside of `{"<command>response": {...}}` (or of `errorresponse`: the single key is
/// taken, whatever it is), or the error it carries.
pub fn envelope_inner(command: &str, status: u16, body: Value) -> Result<Value, ClientError> {
    let inner = match body {
        Value::Object(map) => map.into_iter().next().map(|(_, v)| v),
        _ => None,
    }
    .unwrap_or(Value::Null);
    if let Some(text) = inner.get("errortext").and_then(Value::as_str) {
        return Err(ClientError::Api {
            command: command.to_string(),
            errorcode: inner
                .get("errorcode")
                .and_then(Value::as_i64)
                .unwrap_or(i64::from(status)),
            cserrorcode: inner
                .get("cserrorcode")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            errortext: text.to_string(),
        });
    }
    if !(200..300).contains(&status) {
        return Err(ClientError::Api {
            command: command.to_string(),
            errorcode: i64::from(status),
            cserrorcode: 0,
            errortext: format!("HTTP {status}"),
        });
    }
    Ok(inner)
}

/// The items of a list response's inside (`{"count": n, "<key>": [...]}`, or `{}`).
pub fn list_items<T: DeserializeOwned>(
    command: &str,
    mut inner: Value,
    key: &str,
) -> Result<Vec<T>, ClientError> {
    match inner.get_mut(key).map(Value::take) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(items) => decode(command, items),
    }
}

fn decode<T: DeserializeOwned>(command: &str, value: Value) -> Result<T, ClientError> {
    serde_json::from_value(value).map_err(|source| ClientError::Decode {
        command: command.to_string(),
        source,
    })
}
