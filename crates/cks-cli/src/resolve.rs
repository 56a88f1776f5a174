//! Names where the API wants ids: an argument that is a UUID is taken as an id, anything else
//! is looked up through the matching list call and must match exactly one object.

use cks_api::commands::is_uuid;
use serde_json::Value;

use crate::client::{ApiClient, Params, params};
use crate::error::CliError;

/// What to look up, and how a name matches.
struct Kind {
    /// For messages: "zone", "Kubernetes cluster".
    noun: &'static str,
    command: &'static str,
    key: &'static str,
    /// Fields compared with the name.
    fields: &'static [&'static str],
    /// Parameters that narrow the list on the server (the name goes in `name`).
    by_name: bool,
    extra: &'static [(&'static str, &'static str)],
}

const ZONE: Kind = Kind {
    noun: "zone",
    command: "listZones",
    key: "zone",
    fields: &["name"],
    by_name: true,
    extra: &[],
};
const OFFERING: Kind = Kind {
    noun: "service offering",
    command: "listServiceOfferings",
    key: "serviceoffering",
    fields: &["name"],
    by_name: true,
    extra: &[],
};
const NETWORK: Kind = Kind {
    noun: "network",
    command: "listNetworks",
    key: "network",
    fields: &["name"],
    by_name: true,
    extra: &[],
};
const VERSION: Kind = Kind {
    noun: "Kubernetes version",
    command: "listKubernetesSupportedVersions",
    key: "kubernetessupportedversion",
    fields: &["semanticversion", "name"],
    by_name: false,
    extra: &[],
};
const CLUSTER: Kind = Kind {
    noun: "Kubernetes cluster",
    command: "listKubernetesClusters",
    key: "kubernetescluster",
    fields: &["name"],
    by_name: true,
    extra: &[("listall", "true")],
};
const CNI: Kind = Kind {
    noun: "CNI configuration",
    command: "listCniConfiguration",
    key: "cniconfig",
    fields: &["name"],
    by_name: true,
    extra: &[("listall", "true")],
};

async fn resolve(client: &ApiClient, kind: &Kind, text: &str) -> Result<String, CliError> {
    if is_uuid(text) {
        return Ok(text.to_string());
    }
    Ok(find(client, kind, text).await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

async fn find(client: &ApiClient, kind: &Kind, text: &str) -> Result<Value, CliError> {
    let mut query: Params = kind
        .extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if kind.by_name {
        query.push(("name".into(), text.into()));
    }
    let items = client.list(kind.command, &query, kind.key).await?;
    let matches: Vec<&Value> = items
        .iter()
        .filter(|item| kind.fields.iter().any(|f| item[*f].as_str() == Some(text)))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(CliError::Lookup(format!("no {} named {text:?}", kind.noun))),
        many => {
            let ids: Vec<String> = many
                .iter()
                .map(|m| {
                    let owner = m["account"].as_str().or(m["zonename"].as_str());
                    match owner {
                        Some(o) => format!("{} ({o})", m["id"].as_str().unwrap_or("?")),
                        None => m["id"].as_str().unwrap_or("?").to_string(),
                    }
                })
                .collect();
            Err(CliError::Lookup(format!(
                "{} {} match {text:?}; give an id: {}",
                many.len(),
                kind.noun,
                ids.join(", ")
            )))
        }
    }
}

/// A zone id from a zone name or id.
pub async fn zone(client: &ApiClient, text: &str) -> Result<String, CliError> {
    resolve(client, &ZONE, text).await
}

/// A service offering id from an offering name or id.
pub async fn offering(client: &ApiClient, text: &str) -> Result<String, CliError> {
    resolve(client, &OFFERING, text).await
}

/// A network id from a network id, or a name among the networks listNetworks shows by default.
pub async fn network(client: &ApiClient, text: &str) -> Result<String, CliError> {
    resolve(client, &NETWORK, text).await
}

/// A version by semantic version (`1.33.1`), name or id.
pub async fn version(client: &ApiClient, text: &str) -> Result<String, CliError> {
    resolve(client, &VERSION, text).await
}

/// A Kubernetes cluster id from a cluster name or id (any the caller may see).
pub async fn cluster(client: &ApiClient, text: &str) -> Result<String, CliError> {
    resolve(client, &CLUSTER, text).await
}

/// A CNI configuration id from a configuration name or id (any the caller may see).
pub async fn cni(client: &ApiClient, text: &str) -> Result<String, CliError> {
    resolve(client, &CNI, text).await
}

/// The cluster object itself, by name or id.
pub async fn cluster_object(client: &ApiClient, text: &str) -> Result<Value, CliError> {
    if !is_uuid(text) {
        return find(client, &CLUSTER, text).await;
    }
    let items = client
        .list(
            "listKubernetesClusters",
            &params([("id", text), ("listall", "true")]),
            "kubernetescluster",
        )
        .await?;
    items
        .into_iter()
        .next()
        .ok_or_else(|| CliError::Lookup(format!("no Kubernetes cluster with id {text}")))
}
