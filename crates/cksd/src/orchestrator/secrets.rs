//! A cluster's secrets, sealed with the master key in one column: they never reach a log or an
//! API list (only `getKubernetesClusterConfig` hands out the kubeconfig).

use cks_bootstrap::{BootstrapToken, CertificateKey, ClusterPki};
use serde::{Deserialize, Serialize};

use crate::secrets::MasterKey;

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSecrets {
    pub pki: Option<ClusterPki>,
    pub token: Option<BootstrapToken>,
    pub certificate_key: Option<CertificateKey>,
    pub registry_password: Option<String>,
    /// The admin kubeconfig, once the cluster answered.
    pub kubeconfig: Option<String>,
}

impl ClusterSecrets {
    /// Opens the sealed column; `None` or an unreadable value gives empty secrets.
    pub fn open(key: &MasterKey, sealed: Option<&str>) -> ClusterSecrets {
        sealed
            .and_then(|s| key.open(s))
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }

    pub fn seal(&self, key: &MasterKey) -> String {
        key.seal(&serde_json::to_string(self).unwrap_or_default())
    }
}
