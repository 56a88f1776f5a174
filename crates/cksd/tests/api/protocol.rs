//! The protocol: signing, sessions, errors, paging, listApis.

use crate::harness::{self, Client, Keys, TestServer, error_text, inner};
use serde_json::Value;

// === Protocol ===

#[tokio::test]
async fn unknown_command_is_432_in_errorresponse() {
    let srv = TestServer::start();
    let (status, body) = srv.admin().call("listNothing", &[]).await;
    assert_eq!(status, 432);
    assert_eq!(body["errorresponse"]["errorcode"], 432);
    assert_eq!(
        body["errorresponse"]["errortext"],
        "Unknown API command: listNothing"
    );
}

#[tokio::test]
async fn signature_failures_are_401_with_cloudstacks_text() {
    let srv = TestServer::start();
    let wrong = Client::new(
        &srv.url,
        Keys {
            api_key: srv.admin.api_key.clone(),
            secret_key: "not-the-secret".into(),
        },
    );
    let (status, body) = wrong.call("listZones", &[]).await;
    assert_eq!(status, 401);
    assert_eq!(
        error_text(&body),
        "unable to verify user credentials and/or request signature"
    );

    let unknown = Client::new(
        &srv.url,
        Keys {
            api_key: "no-such-key".into(),
            secret_key: "x".into(),
        },
    );
    assert_eq!(unknown.call("listZones", &[]).await.0, 401);

    // A valid signature over other parameters than those sent.
    let admin = srv.admin();
    let query = admin
        .signed_query("listZones", &[("keyword", "a")])
        .replace("keyword=a", "keyword=b");
    assert_eq!(admin.get_raw(&query).await.0, 401);

    // No credentials at all.
    assert_eq!(
        admin.get_raw("command=listZones&response=json").await.0,
        401
    );
}

#[tokio::test]
async fn signature_version_3_requires_an_unexpired_expires() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let future = cks_api::signing::format_expires(cks_api::date::now_unix() + 600);
    let past = cks_api::signing::format_expires(cks_api::date::now_unix() - 5);
    let (status, _) = admin
        .call(
            "listZones",
            &[("signatureversion", "3"), ("expires", &future)],
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = admin
        .call(
            "listZones",
            &[("signatureversion", "3"), ("expires", &past)],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = admin.call("listZones", &[("signatureversion", "3")]).await;
    assert_eq!(status, 401, "expires is mandatory with version 3");
}

#[tokio::test]
async fn parameter_names_are_case_insensitive_and_post_bodies_work() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (status, body) = admin
        .post("listKubernetesSupportedVersions", &[("KEYWORD", "1.33")])
        .await;
    assert_eq!(status, 200, "{body}");
    let versions = inner(&body, "listKubernetesSupportedVersions");
    assert_eq!(versions["count"], 1);
    assert_eq!(
        versions["kubernetessupportedversion"][0]["semanticversion"],
        "1.33.1"
    );
}

#[tokio::test]
async fn missing_and_malformed_parameters_are_431_and_map_syntax_errors_430() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (status, body) = admin
        .call("updateKubernetesSupportedVersion", &[("state", "Enabled")])
        .await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        "Unable to execute API command updatekubernetessupportedversion due to missing parameter id"
    );
    assert_eq!(
        body["updatekubernetessupportedversionresponse"]["cserrorcode"],
        9999
    );

    let (status, body) = admin
        .call(
            "updateKubernetesSupportedVersion",
            &[("id", "not-a-uuid"), ("state", "Enabled")],
        )
        .await;
    assert_eq!(status, 431);
    assert!(
        error_text(&body).contains("Invalid parameter id value=not-a-uuid"),
        "{body}"
    );

    let (status, _) = admin
        .call("listZones", &[("page", "first"), ("pagesize", "1")])
        .await;
    assert_eq!(status, 431);

    let (status, body) = admin
        .call("createAccount", &[("accountdetails[x].key", "v")])
        .await;
    assert_eq!(status, 430, "{body}");
}

#[tokio::test]
async fn xml_is_refused_clearly_and_control_characters_are_rejected() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let query = admin
        .signed_query("listZones", &[])
        .replace("response=json", "response=xml");
    let (status, body) = admin.get_raw(&query).await;
    assert_eq!(status, 431, "{body}");
    assert!(error_text(&body).contains("response=json"));
    let (status, body) = admin.call("listZones", &[("keyword", "a\u{7}")]).await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        "Received value containing illegal ASCII non-printable characters for parameter keyword"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_and_change_nothing() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let big = "x".repeat(3 * 1024 * 1024);
    let (status, body) = admin
        .post("createDomain", &[("name", "big"), ("networkdomain", &big)])
        .await;
    assert_eq!(status, 431, "{body}");
    let (_, domains) = admin.call("listDomains", &[("listall", "true")]).await;
    assert_eq!(
        inner(&domains, "listDomains")["count"],
        1,
        "no domain was created"
    );
}

#[tokio::test]
async fn paging_follows_cloudstacks_rules() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (status, body) = admin
        .call("listKubernetesSupportedVersions", &[("pagesize", "1")])
        .await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        "\"page\" parameter is required when \"pagesize\" is specified"
    );
    let (status, body) = admin
        .call(
            "listKubernetesSupportedVersions",
            &[("page", "1"), ("pagesize", "501")],
        )
        .await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        "Page size can't exceed max allowed page size value: 500"
    );
    let (status, body) = admin
        .call(
            "listKubernetesSupportedVersions",
            &[("page", "2"), ("pagesize", "1")],
        )
        .await;
    assert_eq!(status, 200);
    let page = inner(&body, "listKubernetesSupportedVersions");
    assert_eq!(page["count"], 2, "count is the total before paging");
    assert_eq!(
        page["kubernetessupportedversion"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        page["kubernetessupportedversion"][0]["semanticversion"],
        "1.33.1"
    );
    let (_, body) = admin
        .call(
            "listKubernetesSupportedVersions",
            &[("page", "3"), ("pagesize", "1")],
        )
        .await;
    assert!(
        inner(&body, "listKubernetesSupportedVersions")
            .get("kubernetessupportedversion")
            .is_none()
    );
    let (status, _) = admin
        .call(
            "listKubernetesSupportedVersions",
            &[("page", "2147483647"), ("pagesize", "500")],
        )
        .await;
    assert_eq!(
        status, 200,
        "the largest page number is an empty page, not a crash"
    );
    // `page` is a Java int, as in CloudStack: a larger number is an invalid value.
    let (status, body) = admin
        .call(
            "listKubernetesSupportedVersions",
            &[("page", "9223372036854775807"), ("pagesize", "500")],
        )
        .await;
    assert_eq!(status, 431, "{body}");
}

#[tokio::test]
async fn list_apis_describes_commands_by_role_and_capabilities_answer() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (status, body) = admin.call("listApis", &[]).await;
    assert_eq!(status, 200);
    let apis = inner(&body, "listApis")["api"].as_array().unwrap().clone();
    let add = apis
        .iter()
        .find(|a| a["name"] == "addKubernetesSupportedVersion")
        .expect("admin sees admin commands");
    let semver = add["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "semanticversion")
        .unwrap();
    assert_eq!(semver["required"], true);
    assert_eq!(semver["type"], "string");
    let delete = apis
        .iter()
        .find(|a| a["name"] == "deleteKubernetesSupportedVersion")
        .unwrap();
    assert_eq!(delete["isasync"], true);

    let (user, _) = srv.account("alice", 0, None).await;
    let (_, body) = srv.client(user).call("listApis", &[]).await;
    let names: Vec<String> = inner(&body, "listApis")["api"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"listKubernetesSupportedVersions".to_string()));
    assert!(!names.contains(&"addKubernetesSupportedVersion".to_string()));
    assert!(!names.contains(&"createAccount".to_string()));

    let (status, body) = admin.call("listCapabilities", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        inner(&body, "listCapabilities")["capability"]["kubernetesserviceenabled"],
        true
    );
}

// === Sessions ===

async fn login(srv: &TestServer, username: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(&srv.url)
        .form(&[
            ("command", "login"),
            ("username", username),
            ("password", password),
            ("response", "json"),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn login_sessions_work_until_logout_and_cannot_be_replayed() {
    let srv = TestServer::start();
    let (_, _) = srv.account("bob", 0, None).await;
    let res = login(&srv, "bob", "bob-password").await;
    assert_eq!(res.status(), 200);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("sessionkey="))
        .expect("sessionkey cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body: Value = res.json().await.unwrap();
    let key = body["loginresponse"]["sessionkey"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(body["loginresponse"]["username"], "bob");
    assert_eq!(body["loginresponse"]["type"], "0");
    let http = reqwest::Client::new();
    let call = |command: &str| {
        http.get(format!(
            "{}?command={command}&response=json&sessionkey={}",
            srv.url,
            harness::encode(&key)
        ))
        .header("cookie", cookie.clone())
        .send()
    };
    assert_eq!(
        call("listKubernetesSupportedVersions")
            .await
            .unwrap()
            .status(),
        200
    );
    // The parameter without the cookie is refused (CloudStack's CookieAndParameter default).
    let no_cookie = http
        .get(format!(
            "{}?command=listZones&response=json&sessionkey={}",
            srv.url,
            harness::encode(&key)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(no_cookie.status(), 401);
    assert_eq!(call("logout").await.unwrap().status(), 200);
    let replay = call("listKubernetesSupportedVersions").await.unwrap();
    assert_eq!(replay.status(), 401);
    let body: Value = replay.json().await.unwrap();
    assert_eq!(error_text(&body), "unable to verify user credentials");
}

#[tokio::test]
async fn login_needs_post_and_the_right_password() {
    let srv = TestServer::start();
    let res = reqwest::get(format!(
        "{}?command=login&username=admin&password=x&response=json",
        srv.url
    ))
    .await
    .unwrap();
    assert_eq!(res.status(), 405);
    let res = login(&srv, "admin", "wrong").await;
    assert_eq!(res.status(), 531);
    let body: Value = res.json().await.unwrap();
    assert!(
        error_text(&body).starts_with("Failed to authenticate user admin in domain"),
        "{body}"
    );
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(srv.data_dir().join("root-admin.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        login(&srv, "admin", doc["password"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

/// `listApis` tells clients (cmk's `filter=` completion) which fields each command answers
/// with; every field the lists actually render must be among them.
#[tokio::test]
async fn list_apis_declares_every_field_the_lists_answer_with() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = crate::harness::catalog(&admin).await;
    srv.account("fields", 0, None).await;
    admin.call("createProject", &[("name", "fieldsp")]).await;
    admin
        .call("createSSHKeyPair", &[("name", "fieldskey")])
        .await;
    let cluster = harness::RunningCluster::boot(
        &admin,
        &cat,
        harness::ClusterOptions::named("fields")
            .control_nodes(3)
            .etcd_nodes(1),
    )
    .await;
    let cluster_id = cluster.id.as_str();
    let lists: &[(&str, &[(&str, &str)])] = &[
        ("listZones", &[]),
        ("listHosts", &[]),
        ("listServiceOfferings", &[]),
        ("listNetworkOfferings", &[]),
        ("listTemplates", &[("templatefilter", "executable")]),
        ("listIsos", &[("isofilter", "executable")]),
        ("listNetworks", &[("listall", "true")]),
        ("listPublicIpAddresses", &[("listall", "true")]),
        ("listVirtualMachines", &[("listall", "true")]),
        ("listSSHKeyPairs", &[("listall", "true")]),
        ("listKubernetesSupportedVersions", &[]),
        ("listKubernetesClusters", &[("listall", "true")]),
        ("listFirewallRules", &[("listall", "true")]),
        ("listPortForwardingRules", &[("listall", "true")]),
        ("listLoadBalancerRules", &[("listall", "true")]),
        ("listDomains", &[("listall", "true")]),
        ("listAccounts", &[("listall", "true")]),
        ("listUsers", &[("listall", "true")]),
        ("listProjects", &[("listall", "true")]),
        ("listConfigurations", &[]),
        ("listAsyncJobs", &[("listall", "true")]),
        ("listAsyncJobSteps", &[("clusterid", cluster_id)]),
    ];
    for (command, params) in lists {
        let (_, apis) = admin.call("listApis", &[("name", command)]).await;
        let api = &inner(&apis, "listApis")["api"][0];
        let declared: Vec<&str> = api["response"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert!(
            !declared.is_empty(),
            "{command} declares no response fields"
        );
        let (status, body) = admin.call(command, params).await;
        assert_eq!(status, 200, "{command}: {body}");
        let answer = inner(&body, command);
        let items = answer
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| *k != "count")
            .and_then(|(_, v)| v.as_array())
            .unwrap_or_else(|| panic!("{command} listed nothing: {body}"));
        for item in items {
            for key in item.as_object().unwrap().keys() {
                assert!(
                    declared.contains(&key.as_str()),
                    "{command} answers with {key}, which listApis does not declare"
                );
            }
        }
    }
}
