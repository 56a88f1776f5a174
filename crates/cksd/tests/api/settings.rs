//! Global settings and the plugin switch.

use serde_json::Value;

use crate::harness::{TestServer, error_text, inner};

fn setting(body: &Value, name: &str) -> Value {
    inner(body, "listConfigurations")["configuration"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name).cloned())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn kubernetes_settings_are_listed_with_defaults_and_types() {
    let srv = TestServer::start();
    let (status, body) = srv
        .admin()
        .call("listConfigurations", &[("keyword", "cloud.kubernetes")])
        .await;
    assert_eq!(status, 200);
    let max = setting(&body, "cloud.kubernetes.cluster.max.size");
    assert_eq!(max["value"], "10");
    assert_eq!(max["defaultvalue"], "10");
    assert_eq!(max["type"], "Number");
    assert_eq!(
        setting(&body, "cloud.kubernetes.service.enabled")["value"],
        "true"
    );
    assert_eq!(
        setting(&body, "cloud.kubernetes.cluster.network.offering")["value"],
        "DefaultNetworkOfferingforKubernetesService"
    );
    assert_eq!(
        setting(&body, "cloud.kubernetes.etcd.node.start.port")["value"],
        "50000"
    );
    assert!(
        inner(&body, "listConfigurations")["count"]
            .as_u64()
            .unwrap()
            >= 15
    );
}

#[tokio::test]
async fn updates_are_validated_persisted_and_admin_only() {
    let mut srv = TestServer::start();
    let admin = srv.admin();
    let (status, body) = admin
        .call(
            "updateConfiguration",
            &[
                ("name", "cloud.kubernetes.cluster.max.size"),
                ("value", "ten"),
            ],
        )
        .await;
    assert_eq!(status, 431);
    assert_eq!(error_text(&body), "Value [ten] is not a valid [Number].");
    let (status, body) = admin
        .call(
            "updateConfiguration",
            &[("name", "no.such.key"), ("value", "1")],
        )
        .await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        "Config parameter with name no.such.key doesn't exist"
    );
    let (status, body) = admin
        .call(
            "updateConfiguration",
            &[
                ("name", "cloud.kubernetes.cluster.max.size"),
                ("value", "25"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        inner(&body, "updateConfiguration")["configuration"]["value"],
        "25"
    );
    let (user, _) = srv.account("alice", 0, None).await;
    assert_eq!(
        srv.client(user).call("listConfigurations", &[]).await.0,
        401
    );
    srv.restart();
    let (_, body) = srv
        .admin()
        .call(
            "listConfigurations",
            &[("name", "cloud.kubernetes.cluster.max.size")],
        )
        .await;
    assert_eq!(
        setting(&body, "cloud.kubernetes.cluster.max.size")["value"],
        "25",
        "survives a restart"
    );
}

#[tokio::test]
async fn disabling_the_service_fails_every_kubernetes_command() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (status, _) = admin
        .call(
            "updateConfiguration",
            &[
                ("name", "cloud.kubernetes.service.enabled"),
                ("value", "false"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = admin.call("listKubernetesSupportedVersions", &[]).await;
    assert_eq!(status, 530);
    assert_eq!(error_text(&body), "Kubernetes Service plugin is disabled");
    let (status, _) = admin
        .call(
            "addKubernetesSupportedVersion",
            &[
                ("semanticversion", "1.34.0"),
                ("mincpunumber", "2"),
                ("minmemory", "2048"),
                ("url", "http://127.0.0.1/x.iso"),
            ],
        )
        .await;
    assert_eq!(status, 530);
    let (_, body) = admin.call("listApis", &[]).await;
    assert!(
        !body.to_string().contains("KubernetesSupportedVersion"),
        "disabled commands are not advertised"
    );
    let (_, body) = admin.call("listCapabilities", &[]).await;
    assert_eq!(
        inner(&body, "listCapabilities")["capability"]["kubernetesserviceenabled"],
        false
    );
    admin
        .call(
            "updateConfiguration",
            &[
                ("name", "cloud.kubernetes.service.enabled"),
                ("value", "true"),
            ],
        )
        .await;
    assert_eq!(
        admin.call("listKubernetesSupportedVersions", &[]).await.0,
        200
    );
}
