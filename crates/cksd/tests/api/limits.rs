//! Account resource limits through the API, and a cluster that runs into one.

use serde_json::Value;

use crate::harness::{Catalog, assert_no_leaks, catalog, get, run_job, submit_create, vm_count};
use crate::harness::{Client, TestServer, error_text, inner};

async fn limits(c: &Client, params: &[(&str, &str)]) -> Vec<Value> {
    let (status, body) = c.call("listResourceLimits", params).await;
    assert_eq!(status, 200, "{body}");
    inner(&body, "listResourceLimits")["resourcelimit"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A cluster of one control node and two workers; returns its id and its finished job.
async fn create_three_nodes(c: &Client, cat: &Catalog) -> (String, Value) {
    let params = [
        ("name", "big"),
        ("zoneid", cat.zone.as_str()),
        ("kubernetesversionid", cat.old_version.as_str()),
        ("serviceofferingid", cat.node_offering.as_str()),
        ("size", "2"),
    ];
    let (id, job) = submit_create(c, &params).await;
    (id, c.wait_job(&job).await)
}

#[tokio::test]
async fn limits_are_set_by_admins_and_listed_for_their_account() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (carol_keys, account) = srv.account("carol", 0, None).await;
    let carol = srv.client(carol_keys);
    let root = account["domainid"].as_str().unwrap();

    let (status, body) = admin
        .call(
            "updateResourceLimit",
            &[
                ("resourcetype", "8"),
                ("max", "6"),
                ("account", "carol"),
                ("domainid", root),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let limit = &inner(&body, "updateResourceLimit")["resourcelimit"];
    assert_eq!(limit["account"], "carol");
    assert_eq!(limit["domainid"], root);
    assert_eq!(limit["domain"], "ROOT");
    assert_eq!(limit["resourcetype"], "8");
    assert_eq!(limit["resourcetypename"], "cpu");
    assert_eq!(limit["max"], 6);

    // The account sees its own limits, one per kind; -1 is no limit.
    let own = limits(&carol, &[]).await;
    let kinds: Vec<&str> = own
        .iter()
        .map(|l| l["resourcetypename"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["user_vm", "public_ip", "network", "cpu", "memory"]);
    assert!(own.iter().all(|l| l["account"] == "carol"));
    let cpu = limits(&carol, &[("resourcetype", "8")]).await;
    assert_eq!(cpu.len(), 1);
    assert_eq!(cpu[0]["max"], 6);
    assert_eq!(limits(&carol, &[("resourcetype", "0")]).await[0]["max"], -1);
    let of_carol = limits(
        &admin,
        &[
            ("account", "carol"),
            ("domainid", root),
            ("resourcetype", "8"),
        ],
    )
    .await;
    assert_eq!(of_carol[0]["max"], 6);
    assert!(
        limits(&admin, &[("listall", "true"), ("resourcetype", "8")])
            .await
            .iter()
            .any(|l| l["account"] == "carol" && l["max"] == 6)
    );

    // Refusals.
    let (status, _) = carol
        .call(
            "updateResourceLimit",
            &[("resourcetype", "0"), ("max", "100")],
        )
        .await;
    assert_eq!(status, 401);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("resourcetype", "0"), ("max", "2"), ("domainid", root)],
            "Only account resource limits are supported: give account with domainid, or projectid",
        ),
        (
            vec![
                ("resourcetype", "0"),
                ("max", "-2"),
                ("account", "carol"),
                ("domainid", root),
            ],
            "Please specify either '-1' for an infinite limit, or a limit that is at least '0'.",
        ),
        (
            vec![
                ("resourcetype", "2"),
                ("max", "2"),
                ("account", "carol"),
                ("domainid", root),
            ],
            "Resource type 2 is not limited by this cloud; supported are 0 (user_vm), 1 (public_ip), 6 (network), 8 (cpu) and 9 (memory)",
        ),
    ];
    for (params, text) in cases {
        let (status, body) = admin.call("updateResourceLimit", &params).await;
        assert_eq!(
            (status, error_text(&body).as_str()),
            (431, text),
            "{params:?}"
        );
    }
}

#[tokio::test]
async fn a_cluster_over_the_vm_limit_fails_cleanly_and_fits_once_it_is_raised() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (carol_keys, account) = srv.account("carol", 0, None).await;
    let carol = srv.client(carol_keys);
    let root = account["domainid"].as_str().unwrap();
    let set_vm_limit = |max: &'static str| {
        let admin = &admin;
        async move {
            let (status, body) = admin
                .call(
                    "updateResourceLimit",
                    &[
                        ("resourcetype", "0"),
                        ("max", max),
                        ("account", "carol"),
                        ("domainid", root),
                    ],
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    };
    set_vm_limit("2").await;
    let cat = catalog(&carol).await;

    // One control node and two workers: the third VM is refused.
    let (id, job) = create_three_nodes(&carol, &cat).await;
    let limit_text = format!(
        "Maximum number of resources of type 'user_vm' for account name=carol in domain id={root} has been exceeded."
    );
    assert_eq!(job["jobstatus"], 2, "{job}");
    assert!(
        job["jobresult"]["errortext"]
            .as_str()
            .unwrap()
            .contains(&limit_text),
        "{job}"
    );
    let cluster = get(&carol, &id).await;
    assert_eq!(cluster["state"], "Error", "{cluster}");
    assert!(
        cluster["lasterror"].as_str().unwrap().contains(&limit_text),
        "{cluster}"
    );

    // Its delete leaves nothing behind.
    let deleted = run_job(&carol, "deleteKubernetesCluster", &[("id", &id)]).await;
    assert_eq!(deleted["jobstatus"], 1, "{deleted}");
    assert_no_leaks(&admin).await;
    assert_eq!(vm_count(&admin).await, 0);

    // With the limit lifted the same cluster is built.
    set_vm_limit("-1").await;
    let (_, job) = create_three_nodes(&carol, &cat).await;
    assert_eq!(job["jobstatus"], 1, "{job}");
    assert_eq!(job["jobresult"]["kubernetescluster"]["state"], "Running");
    assert_eq!(vm_count(&admin).await, 3);
}
