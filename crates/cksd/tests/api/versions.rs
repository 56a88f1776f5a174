//! The Kubernetes version catalog, and async jobs across restarts.

use serde_json::Value;

use crate::harness::{TestServer, error_text, inner};

fn add_params<'a>(semver: &'a str, cpu: &'a str, mem: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("semanticversion", semver),
        ("mincpunumber", cpu),
        ("minmemory", mem),
        ("url", "http://127.0.0.1/cks/setup.iso"),
    ]
}

fn versions(body: &Value) -> Vec<Value> {
    inner(body, "listKubernetesSupportedVersions")["kubernetessupportedversion"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn first_start_offers_two_versions_one_minor_apart_with_ready_isos() {
    // With the simulator's real download times: the versions are usable as soon as the
    // service answers, so the README's walkthrough can create a cluster at once.
    let srv = TestServer::start_realistic();
    let (user, _) = srv.account("alice", 0, None).await;
    let (status, body) = srv
        .client(user)
        .call("listKubernetesSupportedVersions", &[])
        .await;
    assert_eq!(status, 200);
    let all = versions(&body);
    let semvers: Vec<&str> = all
        .iter()
        .map(|v| v["semanticversion"].as_str().unwrap())
        .collect();
    assert_eq!(semvers, ["1.32.4", "1.33.1"]);
    for v in &all {
        assert_eq!(v["isostate"], "Ready");
        assert_eq!(v["state"], "Enabled");
        assert_eq!(v["supportsha"], true);
        assert_eq!(
            v["name"],
            format!("v{}", v["semanticversion"].as_str().unwrap())
        );
        assert!(v["created"].as_str().unwrap().ends_with("+0000"));
    }
}

#[tokio::test]
async fn add_validates_in_ckss_order_with_its_messages() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cases = [
        (
            add_params("1.33", "2", "2048"),
            "Invalid version format, 1.33. Semantic version should be specified in MAJOR.MINOR.PATCH format",
        ),
        (
            add_params("1.10.0", "2", "2048"),
            "New supported Kubernetes version cannot be added as 1.11.0 is minimum version supported by Kubernetes Service",
        ),
        (
            add_params("1.34.0", "1", "2048"),
            "Invalid value for mincpunumber parameter. Minimum 2 vCPUs required.",
        ),
        (
            add_params("1.34.0", "2", "1024"),
            "Invalid value for minmemory parameter. Minimum 2048MB memory required",
        ),
    ];
    for (params, message) in cases {
        let (status, body) = admin.call("addKubernetesSupportedVersion", &params).await;
        assert_eq!(status, 431, "{body}");
        assert_eq!(error_text(&body), message);
    }
    let (status, body) = admin
        .call(
            "addKubernetesSupportedVersion",
            &[
                ("semanticversion", "1.34.0"),
                ("mincpunumber", "2"),
                ("minmemory", "2048"),
            ],
        )
        .await;
    assert_eq!(status, 431);
    assert_eq!(error_text(&body), "Invalid URL for ISO specified, ");
    let mut p = add_params("1.34.0", "2", "2048");
    p.push(("zoneid", "11111111-2222-4333-8444-555555555555"));
    let (status, body) = admin.call("addKubernetesSupportedVersion", &p).await;
    assert_eq!(status, 431);
    assert_eq!(error_text(&body), "Invalid zone specified");
    let (_, body) = admin.call("listKubernetesSupportedVersions", &[]).await;
    assert_eq!(versions(&body).len(), 2, "nothing was added");
}

#[tokio::test]
async fn add_list_update_delete_round_trip() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (_, zones) = admin.call("listZones", &[]).await;
    let zone = inner(&zones, "listZones")["zone"][0].clone();
    let zone_id = zone["id"].as_str().unwrap();
    let mut p = add_params("1.34.2", "2", "4096");
    p.push(("zoneid", zone_id));
    let checksum = format!("{{SHA-256}}{}", "ab".repeat(32));
    p.push(("checksum", &checksum));
    let (status, body) = admin.call("addKubernetesSupportedVersion", &p).await;
    assert_eq!(status, 200, "{body}");
    let v = inner(&body, "addKubernetesSupportedVersion")["kubernetessupportedversion"].clone();
    assert_eq!(
        v["name"],
        format!("v1.34.2-{}", zone["name"].as_str().unwrap())
    );
    assert_eq!(v["zonename"], zone["name"]);
    assert_eq!(v["minmemory"], 4096);
    assert_eq!(
        v["isoname"],
        format!("{}-Kubernetes-Binaries-ISO", v["name"].as_str().unwrap())
    );
    let id = v["id"].as_str().unwrap();

    let (_, isos) = admin
        .call(
            "listIsos",
            &[("id", v["isoid"].as_str().unwrap()), ("isofilter", "all")],
        )
        .await;
    assert_eq!(
        inner(&isos, "listIsos")["count"],
        1,
        "the binaries ISO is registered with the cloud: {isos}"
    );

    let (_, body) = admin
        .call(
            "listKubernetesSupportedVersions",
            &[("minimumsemanticversion", "1.33.0")],
        )
        .await;
    let semvers: Vec<String> = versions(&body)
        .iter()
        .map(|v| v["semanticversion"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(semvers, ["1.33.1", "1.34.2"]);
    let (status, body) = admin
        .call(
            "listKubernetesSupportedVersions",
            &[
                ("minimumsemanticversion", "1.33.0"),
                ("minimumkubernetesversionid", id),
            ],
        )
        .await;
    assert_eq!(status, 530);
    assert_eq!(
        error_text(&body),
        "Both parameters minimumsemanticversion and minimumkubernetesversionid can not be passed together"
    );

    let (status, body) = admin
        .call(
            "updateKubernetesSupportedVersion",
            &[("id", id), ("state", "disabled")],
        )
        .await;
    assert_eq!(status, 431);
    assert_eq!(error_text(&body), "Invalid value for state parameter");
    let (status, body) = admin
        .call(
            "updateKubernetesSupportedVersion",
            &[("id", id), ("state", "Disabled")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        inner(&body, "updateKubernetesSupportedVersion")["kubernetessupportedversion"]["state"],
        "Disabled"
    );

    let (user, _) = srv.account("alice", 0, None).await;
    assert_eq!(
        srv.client(user)
            .call("deleteKubernetesSupportedVersion", &[("id", id)])
            .await
            .0,
        401,
        "root admin only"
    );

    let (status, body) = admin
        .call("deleteKubernetesSupportedVersion", &[("id", id)])
        .await;
    assert_eq!(status, 200, "{body}");
    let submit = inner(&body, "deleteKubernetesSupportedVersion");
    assert!(
        submit.get("id").is_none(),
        "plain async commands return only a job id"
    );
    let job = admin.wait_job(submit["jobid"].as_str().unwrap()).await;
    assert_eq!(job["jobstatus"], 1, "{job}");
    assert_eq!(job["jobresult"]["success"], true);
    assert_eq!(job["jobinstancetype"], "KubernetesSupportedVersion");
    assert_eq!(job["jobinstanceid"], id);
    assert_eq!(
        job["cmd"],
        "org.apache.cloudstack.api.command.admin.kubernetes.version.DeleteKubernetesSupportedVersionCmd"
    );
    let (_, body) = admin
        .call("listKubernetesSupportedVersions", &[("id", id)])
        .await;
    assert!(versions(&body).is_empty());
    let (_, isos) = admin
        .call(
            "listIsos",
            &[("id", v["isoid"].as_str().unwrap()), ("isofilter", "all")],
        )
        .await;
    assert!(
        inner(&isos, "listIsos").get("count").is_none(),
        "its ISO is gone too: {isos}"
    );
    let (status, _) = admin
        .call("deleteKubernetesSupportedVersion", &[("id", id)])
        .await;
    assert_eq!(status, 431, "a deleted version is unknown");
}

#[tokio::test]
async fn a_version_in_use_is_not_deleted() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (_, body) = admin.call("listKubernetesSupportedVersions", &[]).await;
    let id = versions(&body)[0]["id"].as_str().unwrap().to_string();
    // A cluster on that version, made through the API.
    let (_, zones) = admin.call("listZones", &[]).await;
    let zone = zones["listzonesresponse"]["zone"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, offerings) = admin
        .call("listServiceOfferings", &[("name", "CKS Node")])
        .await;
    let offering = offerings["listserviceofferingsresponse"]["serviceoffering"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = admin
        .call(
            "createKubernetesCluster",
            &[
                ("name", "c"),
                ("zoneid", &zone),
                ("kubernetesversionid", &id),
                ("serviceofferingid", &offering),
                ("size", "1"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let created = admin
        .wait_job(
            inner(&body, "createKubernetesCluster")["jobid"]
                .as_str()
                .unwrap(),
        )
        .await;
    assert_eq!(created["jobstatus"], 1, "{created}");
    let (_, body) = admin
        .call("deleteKubernetesSupportedVersion", &[("id", &id)])
        .await;
    let job = admin
        .wait_job(
            inner(&body, "deleteKubernetesSupportedVersion")["jobid"]
                .as_str()
                .unwrap(),
        )
        .await;
    assert_eq!(job["jobstatus"], 2);
    assert_eq!(job["jobresultcode"], 530);
    assert_eq!(
        job["jobresult"]["errortext"],
        format!(
            "Unable to delete Kubernetes version ID: {id}. Existing clusters currently using the version."
        )
    );
}

#[tokio::test]
async fn a_job_interrupted_by_a_crash_finishes_after_restart() {
    let mut srv = TestServer::start();
    let admin = srv.admin();
    let (_, body) = admin.call("listKubernetesSupportedVersions", &[]).await;
    let id = versions(&body)[1]["id"].as_str().unwrap().to_string();
    let (_, body) = admin
        .call("deleteKubernetesSupportedVersion", &[("id", &id)])
        .await;
    let job_id = inner(&body, "deleteKubernetesSupportedVersion")["jobid"]
        .as_str()
        .unwrap()
        .to_string();
    admin.wait_job(&job_id).await;
    srv.kill();
    // Rewind the job to "claimed by this instance, lease far in the future, not finished", the
    // state a kill -9 in the middle of the job leaves, and put the version back.
    let server_id = std::fs::read_to_string(srv.data_dir().join("server.id")).unwrap();
    srv.execute_sql(&format!(
        "UPDATE async_jobs SET status = 0, result = NULL, result_code = 0, completed = NULL, management_server_id = '{server_id}', lease_until = 9999999999 WHERE id = '{job_id}';
         UPDATE kubernetes_versions SET removed = NULL WHERE id = '{id}';"
    ));
    srv.restart();
    let admin = srv.admin();
    let job = admin.wait_job(&job_id).await;
    assert_eq!(
        job["jobstatus"], 1,
        "the job ran again to completion: {job}"
    );
    let (_, body) = admin
        .call("listKubernetesSupportedVersions", &[("id", &id)])
        .await;
    assert!(versions(&body).is_empty());
}
