//! The seeded catalog (zone, versions, offerings) once the versions' ISOs are ready, and waiting
//! for a cluster's current step.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::{Client, inner};

const CKS_NODE: &str = "CKS Node";
const CKS_LARGE: &str = "CKS Large";

/// The seeded ids a cluster test needs.
pub struct Catalog {
    /// The zone.
    pub zone: String,
    /// Kubernetes 1.32.4.
    pub old_version: String,
    /// Kubernetes 1.33.1.
    pub new_version: String,
    /// The `CKS Node` service offering.
    pub node_offering: String,
    /// The `CKS Large` service offering.
    pub large_offering: String,
}

/// The catalog, once the seeded versions' ISOs are downloaded (a few seconds with realistic timings).
pub async fn catalog(c: &Client) -> Catalog {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, versions) = c.call("listKubernetesSupportedVersions", &[]).await;
        let all = versions["listkubernetessupportedversionsresponse"]["kubernetessupportedversion"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !all.is_empty() && all.iter().all(|v| v["isostate"] == "Ready") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "ISOs never became ready: {versions}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, zones) = c.call("listZones", &[]).await;
    let zone = zones["listzonesresponse"]["zone"][0]["id"]
        .as_str()
        .expect("a zone")
        .to_string();
    let (_, versions) = c.call("listKubernetesSupportedVersions", &[]).await;
    let versions =
        versions["listkubernetessupportedversionsresponse"]["kubernetessupportedversion"]
            .as_array()
            .cloned()
            .unwrap();
    let version = |semver: &str| {
        versions
            .iter()
            .find(|v| v["semanticversion"] == semver)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (_, offerings) = c.call("listServiceOfferings", &[]).await;
    let offerings = offerings["listserviceofferingsresponse"]["serviceoffering"]
        .as_array()
        .cloned()
        .unwrap();
    let offering = |name: &str| {
        offerings
            .iter()
            .find(|o| o["name"] == name)
            .unwrap_or_else(|| panic!("offering {name}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    Catalog {
        zone,
        old_version: version("1.32.4"),
        new_version: version("1.33.1"),
        node_offering: offering(CKS_NODE),
        large_offering: offering(CKS_LARGE),
    }
}

/// Waits until the cluster's current `step` satisfies `reached` (`what` names it in the failure);
/// returns the cluster as listed then.
pub async fn wait_for_step(
    c: &Client,
    cluster_id: &str,
    what: &str,
    reached: impl Fn(&str) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = c
            .call("listKubernetesClusters", &[("id", cluster_id)])
            .await;
        assert_eq!(status, 200, "{body}");
        let cluster = inner(&body, "listKubernetesClusters")["kubernetescluster"][0].clone();
        if cluster["step"].as_str().is_some_and(&reached) {
            return cluster;
        }
        assert!(
            Instant::now() < deadline,
            "the cluster never reached {what}: {cluster}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
