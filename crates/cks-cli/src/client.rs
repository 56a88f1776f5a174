//! The CLI's use of `cks-client`: parameters checked against the server's command table before
//! they are sent (a typo fails here with the valid names), and `cks-client`'s errors turned into
//! the CLI's exit codes.

use cks_api::commands::{self, ParamType, Rejection};
use cks_client::{ClientError, Credentials};
use serde_json::Value;

use crate::config::Endpoint;
use crate::error::CliError;

/// The CLI's client: a [`cks_client::Client`] whose calls are checked against the command table
/// first and whose failures are [`CliError`]s.
pub struct ApiClient {
    endpoint: Endpoint,
    client: cks_client::Client,
}

/// Parameters in the order given; the signature sorts them.
pub type Params = Vec<(String, String)>;

impl ApiClient {
    /// A client signing with the endpoint's keys; fails only on a malformed URL.
    pub fn new(endpoint: Endpoint) -> Result<ApiClient, CliError> {
        let credentials = Credentials::new(&endpoint.api_key, &endpoint.secret_key);
        // Every request expires (cks-client's default), so a captured URL cannot be replayed
        // for long.
        let client = cks_client::Client::new(&endpoint.url, credentials).map_err(CliError::from)?;
        Ok(ApiClient { endpoint, client })
    }

    /// The endpoint (URL and keys) this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The underlying client, for job polling.
    pub fn inner(&self) -> &cks_client::Client {
        &self.client
    }

    /// Calls `command` and returns the inside of its `<command>response` object.
    pub async fn call(&self, command: &str, params: &Params) -> Result<Value, CliError> {
        check_params(command, params)?;
        Ok(self.client.call_value(command, params).await?)
    }

    /// Calls a list command and returns its items (`key` is the response object, e.g.
    /// `kubernetescluster`); an empty list is `{}` on the wire.
    pub async fn list(
        &self,
        command: &str,
        params: &Params,
        key: &str,
    ) -> Result<Vec<Value>, CliError> {
        check_params(command, params)?;
        Ok(self.client.list(command, params, key).await?)
    }
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> CliError {
        match e {
            ClientError::Api {
                command,
                errorcode,
                cserrorcode,
                errortext,
            } => CliError::Api {
                command,
                code: errorcode,
                cs_code: cserrorcode,
                text: errortext,
            },
            ClientError::JobFailed {
                job_id,
                errorcode,
                errortext,
            } => CliError::JobFailed {
                job_id,
                code: errorcode,
                text: errortext,
            },
            ClientError::JobTimeout { job_id, waited } => CliError::Timeout {
                job_id,
                seconds: waited.as_secs(),
            },
            other @ (ClientError::Transport { .. }
            | ClientError::NotCloudStack { .. }
            | ClientError::Decode { .. }
            | ClientError::Setup(_)) => CliError::Connection(other.to_string()),
        }
    }
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
