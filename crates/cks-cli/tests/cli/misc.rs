//! Profiles, completions and the generic `cks api`.

use crate::harness::{TestServer, run};

#[test]
fn a_profile_file_replaces_the_environment() {
    let srv = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cks/config.toml");
    let config = config.to_str().unwrap();
    run(
        &[
            "config",
            "set-profile",
            "local",
            "--url",
            &srv.url,
            "--apikey",
            &srv.api_key,
            "--secretkey",
            &srv.secret_key,
            "--config",
            config,
        ],
        &[],
    )
    .assert_ok();
    let text = std::fs::read_to_string(config).unwrap();
    assert!(
        text.contains("[profiles.local]") && text.contains("default_profile = \"local\""),
        "{text}"
    );

    // No CKS_URL/keys at all: the file's default profile, through CKS_CONFIG or --config.
    let listed = run(
        &["cluster", "list", "-o", "json"],
        &[("CKS_CONFIG", config)],
    );
    listed.assert_ok();
    assert_eq!(listed.stdout.trim(), "[]");
    run(
        &["version", "list", "--config", config, "--profile", "local"],
        &[],
    )
    .assert_ok();
    run(
        &["version", "list", "--config", config, "--profile", "other"],
        &[],
    )
    .assert_fails(5, "no profile \"other\"");
    // The environment overrides the profile field by field.
    run(
        &["version", "list", "--config", config],
        &[("CKS_SECRETKEY", "wrong")],
    )
    .assert_fails(1, "errorcode 401");

    let shown = run(&["config", "show", "--config", config], &[]);
    shown.assert_ok();
    assert!(shown.stdout.contains(&srv.api_key), "{}", shown.stdout);
    assert!(
        !shown.stdout.contains(&srv.secret_key),
        "the secret key is never printed"
    );

    // The generic escape hatch, checked against the command table before anything is sent.
    let zones = run(
        &[
            "api",
            "listZones",
            "name=Sim-Zone-1",
            "-o",
            "json",
            "--config",
            config,
        ],
        &[],
    );
    zones.assert_ok();
    let zones: serde_json::Value = serde_json::from_str(&zones.stdout).unwrap();
    assert_eq!(zones[0]["name"], "Sim-Zone-1");
    run(&["api", "listZones", "nmae=x", "--config", config], &[])
        .assert_fails(2, "listZones has no parameter \"nmae\"");
}

#[test]
fn completions_and_the_command_table_need_no_server() {
    let out = run(&["completions", "bash"], &[]);
    out.assert_ok();
    assert!(
        out.stdout.contains("_cks()") && out.stdout.contains("kubeconfig"),
        "{}",
        out.stdout
    );
    let out = run(&["api", "--describe", "scaleKubernetesCluster"], &[]);
    out.assert_ok();
    assert!(
        out.stdout.contains("nodeofferings") && out.stdout.contains("map"),
        "{}",
        out.stdout
    );
}

#[test]
fn requests_expire_so_a_server_that_requires_it_still_answers() {
    let srv = TestServer::start();
    srv.cks(&[
        "api",
        "updateConfiguration",
        "name=api.signature.expires.required",
        "value=true",
    ])
    .assert_ok();
    // Settings are re-read every second; a request without expiry is refused from then on.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    srv.cks(&["api", "listZones"]).assert_ok();
}
