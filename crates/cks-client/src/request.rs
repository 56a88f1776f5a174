//! Signed requests: the parameters CloudStack's clients send, the signature over them, the query
//! string, and whether it travels in the URL or in a form body.
//!
//! These are the lower-level pieces [`crate::Client`] is made of, public for callers who send
//! requests themselves (a load generator repeating one URL, a test that tampers with a query).

use cks_api::signing;

/// Longer queries go in a POST form body. CloudStack documents 4 KiB as what a GET may carry
/// (its user-data limit by query string; a POST body takes up to 1 MiB), and servers and
/// proxies in front of it cap the request line near there (Tomcat's 8 KiB header limit counts
/// the line), so a large user data or CNI configuration must not go in the URL.
pub const MAX_GET_QUERY: usize = 4096;

/// An API key and its secret key. `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Sent as `apiKey`.
    pub api_key: String,
    /// Signs; never sent.
    pub secret_key: String,
}

impl Credentials {
    /// Credentials from the two keys.
    pub fn new(api_key: impl Into<String>, secret_key: impl Into<String>) -> Credentials {
        Credentials {
            api_key: api_key.into(),
            secret_key: secret_key.into(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key)
            .field("secret_key", &"<hidden>")
            .finish()
    }
}

/// The pairs a signed request carries, signature last: `command`, `response=json`, `apiKey`,
/// then `signatureVersion=3` and `expires` when `expires` (Unix seconds) is given, then
/// `params` in the order given (the signature sorts them; names are sent as given).
pub fn signed_pairs<K: AsRef<str>, V: AsRef<str>>(
    credentials: &Credentials,
    command: &str,
    params: &[(K, V)],
    expires: Option<i64>,
) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(params.len() + 6);
    pairs.push(("command".into(), command.into()));
    pairs.push(("response".into(), "json".into()));
    pairs.push(("apiKey".into(), credentials.api_key.clone()));
    if let Some(at) = expires {
        pairs.push(("signatureVersion".into(), "3".into()));
        pairs.push(("expires".into(), signing::format_expires(at)));
    }
    pairs.extend(
        params
            .iter()
            .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string())),
    );
    let signature = sign_pairs(credentials, &pairs);
    pairs.push(("signature".into(), signature));
    pairs
}

/// The signature over exactly these pairs (any `signature` among them is left out), for
/// requests built by hand: a test that sends parameters no client would.
pub fn sign_pairs(credentials: &Credentials, pairs: &[(String, String)]) -> String {
    signing::sign(&credentials.secret_key, pairs)
}

/// One value encoded as the signature's canonical string encodes it (Java's `URLEncoder`, `+`
/// as `%20`), so what is sent is exactly what was signed.
pub fn encode(value: &str) -> String {
    signing::java_url_encode(value, signing::Encoding::JAVA)
}

/// `name=value&...` with the values encoded by [`encode`] and the names as given.
pub fn encode_query(pairs: &[(String, String)]) -> String {
    let mut out = String::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(&encode(v));
    }
    out
}

/// The signed query string for a call (see [`signed_pairs`]).
pub fn signed_query<K: AsRef<str>, V: AsRef<str>>(
    credentials: &Credentials,
    command: &str,
    params: &[(K, V)],
    expires: Option<i64>,
) -> String {
    encode_query(&signed_pairs(credentials, command, params, expires))
}

/// `base?query` for a signed call that never expires: for callers that send one URL many times
/// (the benchmark's load loop), so signing stays out of what they measure.
pub fn signed_url<K: AsRef<str>, V: AsRef<str>>(
    base: &str,
    credentials: &Credentials,
    command: &str,
    params: &[(K, V)],
) -> String {
    format!(
        "{base}?{}",
        signed_query(credentials, command, params, None)
    )
}

/// A request ready to send: where, and whether the query is in the URL or the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `GET base?query`.
    Get {
        /// The full URL, query included.
        url: String,
    },
    /// `POST base` with the query as an `application/x-www-form-urlencoded` body.
    Post {
        /// The endpoint, without a query.
        url: String,
        /// The query string.
        body: String,
    },
}

impl Request {
    /// A GET, or a POST when `query` is longer than [`MAX_GET_QUERY`].
    pub fn for_query(base: &str, query: String) -> Request {
        if query.len() > MAX_GET_QUERY {
            Request::post(base, query)
        } else {
            Request::get(base, &query)
        }
    }

    /// `GET base?query`, whatever its length.
    pub fn get(base: &str, query: &str) -> Request {
        Request::Get {
            url: format!("{base}?{query}"),
        }
    }

    /// `POST base` with `query` as the form body, whatever its length.
    pub fn post(base: &str, query: String) -> Request {
        Request::Post {
            url: base.to_string(),
            body: query,
        }
    }

    /// Whether it is a POST.
    pub fn is_post(&self) -> bool {
        matches!(self, Request::Post { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Credentials {
        Credentials::new("K", "s3cret")
    }

    #[test]
    fn the_signature_is_the_one_the_server_verifies() {
        let pairs = signed_pairs(&keys(), "listZones", &[("keyword", "a b~[c]")], None);
        let (name, signature) = pairs.last().cloned().unwrap();
        assert_eq!(name, "signature");
        let signed = &pairs[..pairs.len() - 1];
        assert_eq!(
            signing::verify("s3cret", signed, &signature),
            Some(signing::Encoding::JAVA)
        );
        assert_eq!(
            signed.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["command", "response", "apiKey", "keyword"]
        );
    }

    #[test]
    fn an_expiring_request_carries_version_3_and_its_expiry() {
        let pairs = signed_pairs::<&str, &str>(&keys(), "listZones", &[], Some(1_748_772_000));
        assert!(pairs.contains(&("signatureVersion".into(), "3".into())));
        assert!(pairs.contains(&("expires".into(), "2025-06-01T10:00:00+0000".into())));
        let query = encode_query(&pairs);
        assert!(
            query.contains("expires=2025-06-01T10%3A00%3A00%2B0000"),
            "{query}"
        );
    }

    #[test]
    fn long_queries_go_in_a_post_body() {
        let short = signed_query(&keys(), "listZones", &[("keyword", "x")], None);
        assert!(!Request::for_query("http://h/client/api", short.clone()).is_post());
        assert_eq!(
            Request::for_query("http://h/client/api", short.clone()),
            Request::Get {
                url: format!("http://h/client/api?{short}")
            }
        );
        let user_data = "A".repeat(MAX_GET_QUERY);
        let long = signed_query(
            &keys(),
            "deployVirtualMachine",
            &[("userdata", &user_data)],
            None,
        );
        assert!(Request::for_query("http://h/client/api", long).is_post());
    }

    #[test]
    fn the_secret_never_shows_in_debug() {
        let shown = format!("{:?}", keys());
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
