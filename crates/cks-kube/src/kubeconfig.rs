//! Reading a kubeconfig: the current context's server, CA and client certificate, all inline
//! (`*-data` fields), as the kubeconfig cks hands out has them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

use crate::error::KubeError;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Kubeconfig {
    #[serde(default)]
    clusters: Vec<Named<ClusterEntry>>,
    #[serde(default)]
    users: Vec<Named<UserEntry>>,
    #[serde(default)]
    contexts: Vec<Named<ContextEntry>>,
    #[serde(default)]
    current_context: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Named<T> {
    name: String,
    #[serde(flatten)]
    value: T,
}

#[derive(Debug, Deserialize)]
struct ClusterEntry {
    cluster: ClusterFields,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ClusterFields {
    server: String,
    #[serde(default)]
    certificate_authority_data: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UserEntry {
    user: UserFields,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UserFields {
    #[serde(default)]
    client_certificate_data: Option<String>,
    #[serde(default)]
    client_key_data: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ContextEntry {
    context: ContextFields,
}

#[derive(Debug, Deserialize)]
struct ContextFields {
    cluster: String,
    user: String,
}

/// What a client needs from a kubeconfig.
#[derive(Debug)]
pub(crate) struct Credentials {
    pub(crate) server: String,
    pub(crate) ca_pem: String,
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
}

/// The current context's credentials (the only context when none is current).
pub(crate) fn read(yaml: &str) -> Result<Credentials, KubeError> {
    let bad = |m: String| KubeError::Config(m);
    let config: Kubeconfig = serde_saphyr::from_str(yaml)
        .map_err(|e| bad(format!("the kubeconfig is not valid: {e}")))?;
    let context = match &config.current_context {
        Some(name) => config.contexts.iter().find(|c| &c.name == name),
        None if config.contexts.len() == 1 => config.contexts.first(),
        None => None,
    }
    .ok_or_else(|| bad("the kubeconfig has no current context".into()))?;
    let cluster = config
        .clusters
        .iter()
        .find(|c| c.name == context.value.context.cluster)
        .ok_or_else(|| bad(format!("no cluster {:?}", context.value.context.cluster)))?;
    let user = config
        .users
        .iter()
        .find(|u| u.name == context.value.context.user)
        .ok_or_else(|| bad(format!("no user {:?}", context.value.context.user)))?;
    let decode = |field: &str, value: &Option<String>| -> Result<String, KubeError> {
        let value = value.as_deref().ok_or_else(|| {
            bad(format!(
                "{field} is required (file references are not read)"
            ))
        })?;
        let bytes = B64
            .decode(value.trim())
            .map_err(|_| bad(format!("{field} is not base64")))?;
        String::from_utf8(bytes).map_err(|_| bad(format!("{field} is not PEM text")))
    };
    Ok(Credentials {
        server: cluster.value.cluster.server.clone(),
        ca_pem: decode(
            "certificate-authority-data",
            &cluster.value.cluster.certificate_authority_data,
        )?,
        cert_pem: decode(
            "client-certificate-data",
            &user.value.user.client_certificate_data,
        )?,
        key_pem: decode("client-key-data", &user.value.user.client_key_data)?,
    })
}
