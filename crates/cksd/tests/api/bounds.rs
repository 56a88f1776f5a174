//! Bounds on input (issue 11, item 4): sizes and counts that used to wrap, truncate or pass the
//! max-size check, names of any length, and settings that took nonsense.

use serde_json::Value;

use crate::harness::{Client, TestServer, error_text, inner};
use crate::harness::{catalog, cluster_of, create};

const TOO_BIG: &str = "Maximum cluster size can not exceed 10. Please contact your administrator";
const I64_MAX: &str = "9223372036854775807";

/// A command, its parameters and the error text it must give.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, String);

fn too_long(param: &str) -> String {
    format!("Value greater than max allowed length 255 for param: {param}")
}

async fn cluster_count(admin: &Client) -> usize {
    let (_, list) = admin
        .call("listKubernetesClusters", &[("listall", "true")])
        .await;
    list["listkubernetesclustersresponse"]["kubernetescluster"]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn create_counts_etcd_nodes_toward_max_size_and_never_wraps_or_truncates() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let base = [
        ("name", "big"),
        ("zoneid", cat.zone.as_str()),
        ("kubernetesversionid", cat.old_version.as_str()),
        ("serviceofferingid", cat.node_offering.as_str()),
        ("noderootdisksize", "10"),
    ];
    let cases: [&[(&str, &str)]; 5] = [
        // 1 control + 1 worker + 23 etcd nodes: the 25-VM cluster past max.size.
        &[("size", "1"), ("etcdnodes", "23")],
        // 2^32 + 2 etcd nodes were cut to 2.
        &[("size", "1"), ("etcdnodes", "4294967298")],
        &[("size", I64_MAX)],
        &[("size", "1"), ("controlnodes", I64_MAX)],
        &[("size", "1"), ("etcdnodes", I64_MAX)],
    ];
    for extra in cases {
        let mut params = base.to_vec();
        params.extend_from_slice(extra);
        let (status, body) = admin.call("createKubernetesCluster", &params).await;
        assert_eq!(
            (status, error_text(&body).as_str()),
            (431, TOO_BIG),
            "{extra:?}"
        );
    }
    // One past a Java long is not a number at all.
    let mut params = base.to_vec();
    params.push(("size", "9223372036854775808"));
    let (status, body) = admin.call("createKubernetesCluster", &params).await;
    assert_eq!(status, 431);
    assert!(
        error_text(&body).starts_with("Unable to execute API command createkubernetescluster due to invalid value. Invalid parameter size value=9223372036854775808"),
        "{body}"
    );
    assert_eq!(cluster_count(&admin).await, 0, "nothing was created");
}

#[tokio::test]
async fn scale_refuses_sizes_past_max_size_however_large() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let cluster = cluster_of(&create(&admin, &cat, "grow", &cat.old_version, &[]).await);
    let id = cluster["id"].as_str().unwrap();
    let cases: [&[(&str, &str)]; 3] = [
        // size + control nodes wrapped; then the job parsed it as u32, failed, and did nothing.
        &[("size", I64_MAX)],
        // maxsize + control nodes wrapped negative and passed.
        &[
            ("autoscalingenabled", "true"),
            ("minsize", "1"),
            ("maxsize", I64_MAX),
        ],
        &[
            ("autoscalingenabled", "true"),
            ("minsize", "1"),
            ("maxsize", "10"),
        ],
    ];
    for extra in cases {
        let mut params = vec![("id", id)];
        params.extend_from_slice(extra);
        let (status, body) = admin.call("scaleKubernetesCluster", &params).await;
        assert_eq!(
            (status, error_text(&body).as_str()),
            (431, TOO_BIG),
            "{extra:?}"
        );
    }
    let after = crate::harness::get(&admin, id).await;
    assert_eq!(
        (
            &after["state"],
            &after["size"],
            &after["autoscalingenabled"]
        ),
        (
            &Value::from("Running"),
            &Value::from(1),
            &Value::from(false)
        ),
        "{after}"
    );
}

#[tokio::test]
async fn names_longer_than_255_characters_are_refused_for_every_kind() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let domain_name = "d".repeat(600 * 1024);
    let (status, body) = admin.post("createDomain", &[("name", &domain_name)]).await;
    assert_eq!((status, error_text(&body)), (431, too_long("name")));
    // 255 characters is still a name.
    let at_limit = "d".repeat(255);
    let (status, body) = admin.post("createDomain", &[("name", &at_limit)]).await;
    assert_eq!(status, 200, "{body}");
    let (_, domains) = admin.call("listDomains", &[("listall", "true")]).await;
    let names: Vec<&str> = inner(&domains, "listDomains")["domain"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(
        names.iter().filter(|n| n.len() > 255).count(),
        0,
        "{names:?}"
    );

    let long = "n".repeat(256);
    let account = [
        ("password", "pw"),
        ("email", "a@example.test"),
        ("firstname", "A"),
        ("lastname", "B"),
        ("accounttype", "0"),
    ];
    let mut by_username = account.to_vec();
    by_username.push(("username", &long));
    let mut by_account = account.to_vec();
    by_account.extend([("username", "fine"), ("account", long.as_str())]);
    let (_, root) = admin.call("listDomains", &[("name", "ROOT")]).await;
    let root_id = inner(&root, "listDomains")["domain"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut user = account.to_vec();
    user.extend([
        ("account", "admin"),
        ("domainid", root_id.as_str()),
        ("username", long.as_str()),
    ]);
    let cluster_name = "c".repeat(100_000);
    let cases: Vec<Case> = vec![
        ("createAccount", by_username, too_long("username")),
        ("createAccount", by_account, too_long("account")),
        ("createUser", user, too_long("username")),
        (
            "createProject",
            vec![("name", &long), ("displaytext", "p")],
            too_long("name"),
        ),
        (
            "createKubernetesCluster",
            vec![("name", &cluster_name), ("zoneid", &root_id)],
            too_long("name"),
        ),
        ("createSSHKeyPair", vec![("name", &long)], too_long("name")),
    ];
    for (command, params, message) in cases {
        let (status, body) = admin.post(command, &params).await;
        assert_eq!((status, error_text(&body)), (431, message), "{command}");
    }
    let (_, accounts) = admin.call("listAccounts", &[("listall", "true")]).await;
    assert!(
        !accounts.to_string().contains(&long),
        "no long name was stored: {accounts}"
    );
}

#[tokio::test]
async fn integer_settings_refuse_values_outside_their_range() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cases = [
        (
            "cloud.kubernetes.cluster.scanner.interval",
            "-5",
            "1 and 86400",
        ),
        (
            "cloud.kubernetes.cluster.scanner.interval",
            "0",
            "1 and 86400",
        ),
        (
            "cloud.kubernetes.cluster.start.timeout",
            "0",
            "1 and 2147483647",
        ),
        ("cloud.kubernetes.cluster.max.size", I64_MAX, "1 and 1000"),
        (
            "cloud.kubernetes.etcd.node.start.port",
            "70000",
            "1 and 65535",
        ),
        ("default.page.size", "0", "1 and 2147483647"),
        (
            "cloud.kubernetes.cluster.upgrade.retries",
            "-1",
            "0 and 2147483647",
        ),
    ];
    for (name, value, range) in cases {
        let (status, body) = admin
            .call("updateConfiguration", &[("name", name), ("value", value)])
            .await;
        assert_eq!(
            (status, error_text(&body)),
            (
                431,
                format!("Value [{value}] for {name} is out of range: it must be between {range}.")
            ),
        );
    }
    let (_, body) = admin
        .call(
            "listConfigurations",
            &[("name", "cloud.kubernetes.cluster.scanner.interval")],
        )
        .await;
    assert_eq!(
        inner(&body, "listConfigurations")["configuration"][0]["value"],
        "300",
        "the value is unchanged"
    );
    let (status, body) = admin
        .call(
            "updateConfiguration",
            &[
                ("name", "cloud.kubernetes.cluster.scanner.interval"),
                ("value", "1"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}
