//! The admin kubeconfig: the service's own credentials for the cluster, known before any VM boots.

use std::net::{IpAddr, SocketAddr};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::cluster::API_SERVER_PORT;
use crate::error::Result;
use crate::pki::ClusterPki;

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Kubeconfig<'a> {
    // kubectl writes `apiVersion` (camel case), unlike the kebab-case keys below it.
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    clusters: Vec<Named<'a, ClusterEntry>>,
    users: Vec<Named<'a, UserEntry>>,
    contexts: Vec<Named<'a, ContextEntry<'a>>>,
    current_context: &'a str,
    preferences: Empty,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct Named<'a, T> {
    name: &'a str,
    #[serde(flatten)]
    value: T,
}

#[derive(Serialize)]
struct ClusterEntry {
    cluster: ClusterFields,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ClusterFields {
    certificate_authority_data: String,
    server: String,
}

#[derive(Serialize)]
struct UserEntry {
    user: UserFields,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct UserFields {
    client_certificate_data: String,
    client_key_data: String,
}

#[derive(Serialize)]
struct ContextEntry<'a> {
    context: ContextFields<'a>,
}

#[derive(Serialize)]
struct ContextFields<'a> {
    cluster: &'a str,
    user: &'a str,
}

/// `https://<endpoint>:6443`, with brackets around an IPv6 address.
pub fn api_server_url(endpoint: IpAddr) -> String {
    format!("https://{}", SocketAddr::new(endpoint, API_SERVER_PORT))
}

/// A kubeconfig for the admin user: the Kubernetes CA, the admin client certificate and key
/// embedded, server `https://<endpoint>:6443`, and one context named after the cluster.
pub fn admin_kubeconfig(pki: &ClusterPki, cluster_name: &str, endpoint: IpAddr) -> Result<String> {
    kubeconfig_for_server(pki, cluster_name, &api_server_url(endpoint))
}

/// Like [`admin_kubeconfig`] with any server URL (a load balancer name, another port).
pub fn kubeconfig_for_server(pki: &ClusterPki, cluster_name: &str, server: &str) -> Result<String> {
    let user = format!("{cluster_name}-admin");
    let doc = Kubeconfig {
        api_version: "v1",
        kind: "Config",
        clusters: vec![Named {
            name: cluster_name,
            value: ClusterEntry {
                cluster: ClusterFields {
                    certificate_authority_data: STANDARD.encode(&pki.kubernetes_ca.cert_pem),
                    server: server.to_owned(),
                },
            },
        }],
        users: vec![Named {
            name: &user,
            value: UserEntry {
                user: UserFields {
                    client_certificate_data: STANDARD.encode(&pki.admin.cert_pem),
                    client_key_data: STANDARD.encode(&pki.admin.key_pem),
                },
            },
        }],
        contexts: vec![Named {
            name: cluster_name,
            value: ContextEntry {
                context: ContextFields {
                    cluster: cluster_name,
                    user: &user,
                },
            },
        }],
        current_context: cluster_name,
        preferences: Empty {},
    };
    let mut options = serde_saphyr::SerializerOptions::default();
    // Base64 blobs stay on one plain line instead of folded blocks.
    options.prefer_block_scalars = false;
    Ok(serde_saphyr::to_string_with_options(&doc, options)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::tests::full_pki;

    #[test]
    fn structure() {
        let text =
            admin_kubeconfig(full_pki(), "prod-eu", "203.0.113.10".parse().unwrap()).unwrap();
        let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(
            doc["clusters"][0]["cluster"]["server"],
            "https://203.0.113.10:6443"
        );
        assert_eq!(doc["current-context"], "prod-eu");
        assert_eq!(doc["contexts"][0]["name"], "prod-eu");
        assert_eq!(doc["contexts"][0]["context"]["user"], "prod-eu-admin");
        let ca = doc["clusters"][0]["cluster"]["certificate-authority-data"]
            .as_str()
            .unwrap();
        assert_eq!(
            STANDARD.decode(ca).unwrap(),
            full_pki().kubernetes_ca.cert_pem.as_bytes()
        );
    }

    #[test]
    fn ipv6_endpoint_is_bracketed() {
        assert_eq!(
            api_server_url("fd00::10".parse().unwrap()),
            "https://[fd00::10]:6443"
        );
    }

    #[test]
    fn awkward_cluster_names_stay_strings() {
        let text = admin_kubeconfig(full_pki(), "yes: #1", "10.0.0.1".parse().unwrap()).unwrap();
        let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(doc["current-context"], "yes: #1");
    }
}
