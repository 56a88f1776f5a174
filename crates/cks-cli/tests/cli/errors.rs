//! Exit codes scripts can trust, with a message a person can act on.

use crate::harness::{TestServer, run};

#[test]
fn a_bad_flag_is_a_usage_error() {
    let out = run(
        &[
            "cluster",
            "create",
            "x",
            "--zone",
            "z",
            "--version",
            "v",
            "--sise",
            "3",
        ],
        &[],
    );
    out.assert_fails(2, "unexpected argument '--sise'");
    let out = run(&["cluster", "scale"], &[]);
    out.assert_fails(2, "<NAME|ID>");
}

#[test]
fn missing_or_unreachable_endpoints_are_configuration_errors() {
    run(&["cluster", "list"], &[])
        .assert_fails(5, "no url (CKS_URL), apikey (CKS_APIKEY), secretkey");
    let env = [
        ("CKS_URL", "http://127.0.0.1:1"),
        ("CKS_APIKEY", "k"),
        ("CKS_SECRETKEY", "s"),
    ];
    let out = run(&["cluster", "list"], &env);
    out.assert_fails(5, "cannot reach http://127.0.0.1:1/client/api");
    // The signed URL carries the API key and signature; a connection error shows neither.
    let env = [
        ("CKS_URL", "http://127.0.0.1:1"),
        ("CKS_APIKEY", "key-that-must-not-show"),
        ("CKS_SECRETKEY", "s"),
    ];
    let out = run(&["cluster", "list"], &env);
    out.assert_fails(5, "cannot reach http://127.0.0.1:1/client/api");
    out.assert_not_contains("key-that-must-not-show");
    out.assert_not_contains("signature=");
}

#[test]
fn server_errors_and_failed_jobs_exit_non_zero_with_the_server_text() {
    let srv = TestServer::start();
    srv.wait_for_isos();
    // The server refuses: its error text and code, exit 1.
    srv.cks(&[
        "cluster",
        "create",
        "zero",
        "--zone",
        "Sim-Zone-1",
        "--version",
        "1.32.4",
        "--offering",
        "CKS Node",
        "--size",
        "0",
    ])
    .assert_fails(1, "createKubernetesCluster: ")
    .assert_fails(1, "errorcode 431");
    srv.cks(&["cluster", "delete", "00000000-0000-4000-8000-000000000000"])
        .assert_fails(1, "deleteKubernetesCluster: ");
    // A name that matches nothing is found out before anything is sent.
    srv.cks(&["cluster", "kubeconfig", "nope"])
        .assert_fails(1, "no Kubernetes cluster named \"nope\"");
    srv.cks(&[
        "cluster",
        "create",
        "x",
        "--zone",
        "Nowhere",
        "--version",
        "1.32.4",
    ])
    .assert_fails(1, "no zone named \"Nowhere\"");
    // Wrong secret: the server's 401.
    let out = crate::harness::run(
        &["cluster", "list"],
        &[
            ("CKS_URL", srv.url.as_str()),
            ("CKS_APIKEY", srv.api_key.as_str()),
            ("CKS_SECRETKEY", "wrong"),
        ],
    );
    out.assert_fails(1, "errorcode 401");

    // The job fails: exit 3 with the job's error text.
    srv.cks(&[
        "api",
        "injectSimulatorFault",
        "fault=failvmdeploys",
        "count=1",
    ])
    .assert_ok();
    let out = srv.cks(&[
        "cluster",
        "create",
        "doomed",
        "--zone",
        "Sim-Zone-1",
        "--version",
        "1.32.4",
        "--offering",
        "CKS Node",
        "--size",
        "1",
        "--wait",
    ]);
    out.assert_fails(3, "failed: ");
    let cluster = srv.json(&["cluster", "show", "doomed"]);
    assert_eq!(cluster["state"], "Error", "{cluster}");
    // Waiting gives up after --timeout (exit 4) only while a job runs; a finished one is fine.
    srv.cks(&["cluster", "delete", "doomed", "--wait", "--timeout", "60"])
        .assert_ok();
}

#[test]
fn waiting_gives_up_after_the_timeout_and_the_job_goes_on() {
    let srv = TestServer::start_realistic();
    srv.wait_for_isos();
    let out = srv.cks(&[
        "cluster",
        "create",
        "slow",
        "--zone",
        "Sim-Zone-1",
        "--version",
        "1.32.4",
        "--offering",
        "CKS Node",
        "--size",
        "1",
        "--wait",
        "--timeout",
        "1",
    ]);
    out.assert_fails(4, "timed out after 1 s waiting for job");
    let job_id = out
        .stderr
        .split("cks job wait ")
        .nth(1)
        .unwrap()
        .split('`')
        .next()
        .unwrap();
    // Still running (a realistic create takes about ten seconds): `cks job show` says so.
    let job = srv.json(&["job", "show", job_id]);
    assert_eq!(job["jobstatus"], 0, "{job}");
}
