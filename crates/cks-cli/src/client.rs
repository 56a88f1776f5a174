//! A signed CloudStack API client: the same signing code the server verifies with
//! (`cks_api::signing`), parameters checked against the server's command table before they are
//! sent, and answers unwrapped from their `<command>response` envelope.

use std::time::Duration;

use cks_api::commands::{self, ParamType, Rejection};
use cks_api::signing;
use serde_json::Value;

use crate::config::Endpoint;
use crate::error::CliError;

/// How long a signed request stays valid (as CloudStack's `cs` client: ten minutes).
const REQUEST_VALIDITY_SECONDS: i64 = 600;

/// Longer queries go in a POST form body (a CNI configuration can be large).
const MAX_GET_QUERY: usize = 4000;

pub struct ApiClient {
    endpoint: Endpoint,
    http: reqwest::Client,
}

/// Parameters in the order given; the signature sorts them.
pub type Params = Vec<(String, String)>;

impl ApiClient {
    pub fn new(endpoint: Endpoint) -> Result<ApiClient, CliError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| CliError::Connection(format!("building the HTTP client: {e}")))?;
        Ok(ApiClient { endpoint, http })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Calls `command` and returns the inside of its `<command>response` object.
    pub async fn call(&self, command: &str, params: &Params) -> Result<Value, CliError> {
        check_params(command, params)?;
        // Every request expires, so a captured URL cannot be replayed for long.
        let expires = signing::format_expires(cks_api::date::now_unix() + REQUEST_VALIDITY_SECONDS);
        let mut pairs: Vec<(String, String)> = vec![
            ("command".into(), command.into()),
            ("response".into(), "json".into()),
            ("apiKey".into(), self.endpoint.api_key.clone()),
            ("signatureVersion".into(), "3".into()),
            ("expires".into(), expires),
        ];
        pairs.extend(params.iter().cloned());
        let signature = signing::sign(&self.endpoint.secret_key, &pairs);
        pairs.push(("signature".into(), signature));
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    signing::java_url_encode(v, signing::Encoding::JAVA)
                )
            })
            .collect();
        let query = query.join("&");
        let request = if query.len() > MAX_GET_QUERY {
            self.http
                .post(&self.endpoint.url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(query)
        } else {
            self.http.get(format!("{}?{query}", self.endpoint.url))
        };
        // reqwest's error names the request URL, which holds the API key and the signature:
        // drop it, the endpoint alone says where.
        let response = request.send().await.map_err(|e| {
            CliError::Connection(format!(
                "cannot reach {}: {}",
                self.endpoint.url,
                error_chain(&e.without_url())
            ))
        })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| {
            CliError::Connection(format!(
                "reading the answer to {command}: {}",
                error_chain(&e.without_url())
            ))
        })?;
        let value: Value = serde_json::from_slice(&body).map_err(|_| {
            let preview: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            CliError::Connection(format!(
                "{} did not answer {command} like a CloudStack API (HTTP {status}): {preview}",
                self.endpoint.url
            ))
        })?;
        let inner = value
            .as_object()
            .and_then(|o| o.values().next())
            .cloned()
            .unwrap_or(Value::Null);
        if let Some(text) = inner.get("errortext").and_then(Value::as_str) {
            return Err(CliError::Api {
                command: command.to_string(),
                code: inner["errorcode"]
                    .as_i64()
                    .unwrap_or(status.as_u16() as i64),
                cs_code: inner["cserrorcode"].as_i64().unwrap_or(0),
                text: text.to_string(),
            });
        }
        if !status.is_success() {
            return Err(CliError::Api {
                command: command.to_string(),
                code: status.as_u16() as i64,
                cs_code: 0,
                text: format!("HTTP {status}"),
            });
        }
        Ok(inner)
    }

    /// Calls a list command and returns its items (`key` is the response object, e.g.
    /// `kubernetescluster`); an empty list is `{}` on the wire.
    pub async fn list(
        &self,
        command: &str,
        params: &Params,
        key: &str,
    ) -> Result<Vec<Value>, CliError> {
        let inner = self.call(command, params).await?;
        Ok(inner
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut res = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        res.push_str(": ");
        res.push_str(&s.to_string());
        source = s.source();
    }
    res
}

/// Checks parameter names, required parameters and the values of numeric and boolean
/// parameters against the command table, so a typo fails here with the valid names instead of
/// being ignored by the server. Map parameters are `name[i].field`.
pub fn check_params(command: &str, params: &Params) -> Result<(), CliError> {
    let Some(cmd) = commands::find(command) else {
        let close: Vec<&str> = commands::COMMANDS
            .iter()
            .map(|c| c.name)
            .filter(|n| n.eq_ignore_ascii_case(command))
            .collect();
        return Err(CliError::Usage(match close.first() {
            Some(name) => format!("unknown command {command:?}; did you mean {name}?"),
            None => format!("unknown command {command:?} (see `cks api --list`)"),
        }));
    };
    for (key, value) in params {
        let lower = key.to_ascii_lowercase();
        let base = lower.split('[').next().unwrap_or_default();
        let Some(param) = cmd.params().find(|p| p.name == base) else {
            let names: Vec<&str> = cmd.params().map(|p| p.name).collect();
            return Err(CliError::Usage(format!(
                "{command} has no parameter {key:?}; it takes: {}",
                names.join(", ")
            )));
        };
        let is_map_entry = lower.contains('[');
        if (param.kind == ParamType::Map) != is_map_entry {
            return Err(CliError::Usage(if is_map_entry {
                format!("{command}: {base} is not a map; give it as {base}=VALUE")
            } else {
                format!("{command}: {base} is a map; give it as {base}[0].key=value")
            }));
        }
        // Ids stay unchecked: the server answers for them (and says which it could not find).
        let checked = !matches!(param.kind, ParamType::Uuid | ParamType::UuidList);
        match param.check(value) {
            Err(Rejection::TooLong(max)) => {
                return Err(CliError::Usage(format!(
                    "{command}: {base} takes at most {max} characters"
                )));
            }
            Err(Rejection::Invalid) if checked => {
                let article = if param.kind == ParamType::Integer {
                    "an"
                } else {
                    "a"
                };
                let range = param
                    .range()
                    .map(|(lo, hi)| format!(" from {lo} to {hi}"))
                    .unwrap_or_default();
                return Err(CliError::Usage(format!(
                    "{command}: {base} must be {article} {}{range}, not {value:?}",
                    param.kind.api_name()
                )));
            }
            _ => {}
        }
    }
    for param in cmd.params().filter(|p| p.required) {
        if !params
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(param.name))
        {
            return Err(CliError::Usage(format!(
                "{command} needs {} ({})",
                param.name, param.description
            )));
        }
    }
    Ok(())
}

/// `[("id", x)]` and friends without the `to_string` noise.
pub fn params<const N: usize>(pairs: [(&str, &str); N]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_against_the_table() {
        let ok = params([("id", "x"), ("size", "3")]);
        assert!(check_params("scaleKubernetesCluster", &ok).is_ok());
        let err = check_params(
            "scaleKubernetesCluster",
            &params([("id", "x"), ("sise", "3")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("no parameter \"sise\""), "{err}");
        let err = check_params(
            "scaleKubernetesCluster",
            &params([("id", "x"), ("size", "a")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("size must be a long"), "{err}");
        let err = check_params("listZones", &params([("pagesize", "2147483648")])).unwrap_err();
        assert!(
            err.to_string()
                .contains("pagesize must be an integer from -2147483648 to 2147483647"),
            "{err}"
        );
        let err = check_params("upgradeKubernetesCluster", &params([("id", "x")])).unwrap_err();
        assert!(
            err.to_string().contains("needs kubernetesversionid"),
            "{err}"
        );
        let map = params([
            ("id", "x"),
            ("nodeofferings[0].node", "worker"),
            ("nodeofferings[0].offering", "o"),
        ]);
        assert!(check_params("scaleKubernetesCluster", &map).is_ok());
        let err = check_params("listkubernetesclusters", &Params::new()).unwrap_err();
        assert!(
            err.to_string()
                .contains("did you mean listKubernetesClusters"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
    }
}
