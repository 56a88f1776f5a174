//! A cluster's life through `cks`, names for every id: create with `--wait`, list, scale,
//! upgrade 1.32.4 → 1.33.1, the kubeconfig with the real `kubectl`, delete with `--wait`.

use cks_testkit::kubectl;

use crate::harness::{TestServer, run_in};

#[test]
fn a_cluster_is_created_scaled_upgraded_reached_and_deleted() {
    let srv = TestServer::start();
    srv.wait_for_isos();

    let out = srv.cks(&[
        "cluster",
        "create",
        "demo",
        "--zone",
        "Sim-Zone-1",
        "--version",
        "1.32.4",
        "--offering",
        "CKS Node",
        "--size",
        "1",
        "--wait",
        "-o",
        "json",
    ]);
    out.assert_ok();
    let created: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON cluster");
    assert_eq!(created["state"], "Running", "{created}");
    assert_eq!(created["name"], "demo");
    assert_eq!(created["size"], 1);
    let id = created["id"].as_str().unwrap().to_string();
    // stderr is not a terminal here: progress comes as plain lines.
    assert!(out.stderr.contains("cks: creating demo"), "{}", out.stderr);

    let table = srv.cks(&["cluster", "list"]);
    table.assert_ok();
    let mut lines = table.stdout.lines();
    assert!(lines.next().unwrap().starts_with("ID "), "{}", table.stdout);
    let row = lines.next().expect("one cluster");
    assert!(
        row.starts_with(&id) && row.contains("demo") && row.contains("Running"),
        "{row}"
    );
    let listed = srv.json(&["cluster", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());

    let scaled = srv.json(&["cluster", "scale", "demo", "--size", "2", "--wait"]);
    assert_eq!(scaled["size"], 2, "{scaled}");
    assert_eq!(scaled["state"], "Running");

    let versions = srv.json(&["version", "list"]);
    let v133 = versions
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["semanticversion"] == "1.33.1")
        .expect("1.33.1 is seeded")["id"]
        .clone();
    let upgraded = srv.json(&["cluster", "upgrade", &id, "--version", "1.33.1", "--wait"]);
    assert_eq!(upgraded["kubernetesversionid"], v133, "{upgraded}");
    assert_eq!(upgraded["state"], "Running");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo.kubeconfig");
    let env = [
        ("CKS_URL", srv.url.as_str()),
        ("CKS_APIKEY", srv.api_key.as_str()),
        ("CKS_SECRETKEY", srv.secret_key.as_str()),
    ];
    run_in(&["cluster", "kubeconfig", "demo"], &env, Some(&file)).assert_ok();
    let nodes = kubectl(&file, &["get", "nodes", "--no-headers"]);
    assert_eq!(
        nodes.lines().count(),
        3,
        "1 control node + 2 workers: {nodes}"
    );
    assert!(
        nodes
            .lines()
            .all(|l| l.contains("Ready") && l.contains("v1.33.1")),
        "{nodes}"
    );

    let deleted = srv.cks(&["cluster", "delete", "demo", "--wait"]);
    deleted.assert_ok();
    assert_eq!(deleted.stdout, "deleting demo: done\n");
    assert_eq!(srv.json(&["cluster", "list"]), serde_json::json!([]));
    assert_eq!(srv.cks(&["cluster", "list"]).stdout, "(none)\n");
}

#[test]
fn an_admin_reads_a_failed_create_s_steps_retries_it_and_force_deletes_it() {
    let srv = TestServer::start();
    srv.wait_for_isos();
    srv.cks(&[
        "api",
        "injectSimulatorFault",
        "fault=failvmdeploys",
        "count=1",
    ])
    .assert_ok();
    srv.cks(&[
        "cluster",
        "create",
        "again",
        "--zone",
        "Sim-Zone-1",
        "--version",
        "1.32.4",
        "--offering",
        "CKS Node",
        "--size",
        "1",
        "--wait",
    ])
    .assert_fails(3, "failed: ");
    let cluster = srv.json(&["cluster", "show", "again"]);
    assert_eq!(cluster["state"], "Error", "{cluster}");
    let job = cluster["jobid"]
        .as_str()
        .expect("the failed job")
        .to_string();

    let table = srv.cks(&["job", "steps", &job]);
    table.assert_ok();
    let mut lines = table.stdout.lines();
    assert!(
        lines.next().unwrap().starts_with("NAME "),
        "{}",
        table.stdout
    );
    assert!(
        lines.next().unwrap().starts_with("network "),
        "{}",
        table.stdout
    );
    let failed = table
        .stdout
        .lines()
        .find(|l| l.contains("Failed"))
        .expect("a failed step");
    assert!(
        failed.starts_with("deploy-first-control-node") && failed.contains("Provisioning"),
        "{failed}"
    );

    let retried = srv.json(&["cluster", "retry", "again", "--wait"]);
    assert_eq!(retried["state"], "Running", "{retried}");
    let steps = srv.json(&["job", "steps", &job]);
    assert_eq!(steps.as_array().unwrap().len(), 14, "{steps}");
    srv.cks(&["cluster", "abort", "again"])
        .assert_fails(1, "has no operation in progress to abort");

    srv.cks(&["cluster", "delete", "again", "--force", "--wait"])
        .assert_ok();
    assert!(
        srv.json(&["cluster", "list"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}
