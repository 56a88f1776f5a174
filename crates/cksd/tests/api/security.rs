//! Regression tests for an outside attack on `cksd` (issue 11): privilege escalation between
//! roles, replay of expired signed requests, secrets at rest.

use cks_api::signing;
use serde_json::Value;

use crate::harness::{Keys, TestServer, encode, error_text, inner};

/// An account the walk acts as or on.
struct Party {
    name: String,
    account_type: i64,
    account_id: String,
    user_id: String,
    domain_id: String,
    keys: Keys,
}

async fn party(srv: &TestServer, name: &str, account_type: i64, domain_id: &str) -> Party {
    let (keys, account) = srv.account(name, account_type, Some(domain_id)).await;
    Party {
        name: name.to_string(),
        account_type,
        account_id: account["id"].as_str().unwrap().to_string(),
        user_id: account["user"][0]["id"].as_str().unwrap().to_string(),
        domain_id: domain_id.to_string(),
        keys,
    }
}

fn rank(account_type: i64) -> i64 {
    match account_type {
        1 => 2,
        2 => 1,
        _ => 0,
    }
}

/// Every tenancy command that creates or changes a user, an account, a key or an owner, as
/// each role against each account whose role is higher: all refused, nothing changed, and the
/// would-be users cannot log in.
#[tokio::test]
async fn no_role_acts_on_an_account_of_a_higher_role_through_any_tenancy_command() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (_, body) = admin.call("listDomains", &[("name", "ROOT")]).await;
    let root = inner(&body, "listDomains")["domain"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, body) = admin.call("createDomain", &[("name", "sub")]).await;
    let sub = inner(&body, "createDomain")["domain"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, body) = admin
        .call("listUsers", &[("username", "admin"), ("listall", "true")])
        .await;
    let admin_user = &inner(&body, "listUsers")["user"][0];
    let root_admin = Party {
        name: "admin".into(),
        account_type: 1,
        account_id: admin_user["accountid"].as_str().unwrap().into(),
        user_id: admin_user["id"].as_str().unwrap().into(),
        domain_id: root.clone(),
        keys: srv.admin.clone(),
    };
    let parties = [
        root_admin,
        party(&srv, "root2", 1, &root).await,
        party(&srv, "rootdadm", 2, &root).await,
        party(&srv, "subdadm", 2, &sub).await,
        party(&srv, "rootuser", 0, &root).await,
        party(&srv, "subuser", 0, &sub).await,
    ];
    let (_, users_before) = admin.call("listUsers", &[("listall", "true")]).await;
    let (_, projects_before) = admin.call("listProjects", &[("listall", "true")]).await;

    let mut attempts = 0;
    for caller in parties.iter().filter(|p| p.account_type != 1) {
        let client = srv.client(caller.keys.clone());
        for target in parties
            .iter()
            .filter(|t| rank(t.account_type) > rank(caller.account_type))
        {
            attempts += 1;
            let who = format!("{} on {}", caller.name, target.name);
            let username = format!("esc{attempts}");
            let user = [
                ("username", username.as_str()),
                ("password", "Escalated-1"),
                ("email", "e@example.test"),
                ("firstname", "E"),
                ("lastname", "E"),
            ];
            let mut p = user.to_vec();
            p.extend([
                ("account", target.name.as_str()),
                ("domainid", target.domain_id.as_str()),
            ]);
            let (status, body) = client.call("createUser", &p).await;
            assert!(
                [401, 431, 531].contains(&status),
                "createUser {who}: {status} {body}"
            );

            let code = target.account_type.to_string();
            let mut p = user.to_vec();
            p.extend([
                ("account", "escalated"),
                ("accounttype", code.as_str()),
                ("domainid", caller.domain_id.as_str()),
            ]);
            let (status, body) = client.call("createAccount", &p).await;
            assert!(
                [401, 531].contains(&status),
                "createAccount type {code} by {}: {status} {body}",
                caller.name
            );
            let role = match target.account_type {
                1 => "a0d2b4c6-0000-4000-8000-000000000001",
                _ => "a0d2b4c6-0000-4000-8000-000000000003",
            };
            let mut p = user.to_vec();
            p.extend([("account", "escalated"), ("roleid", role)]);
            let (status, body) = client.call("createAccount", &p).await;
            assert!(
                [401, 531].contains(&status),
                "createAccount role {role} by {}: {status} {body}",
                caller.name
            );

            let (status, body) = client
                .call("registerUserKeys", &[("id", &target.user_id)])
                .await;
            assert!(
                [431, 531].contains(&status),
                "registerUserKeys {who}: {status} {body}"
            );
            let (status, body) = client.call("getUserKeys", &[("id", &target.user_id)]).await;
            assert!(
                [431, 531].contains(&status) && !body.to_string().contains("secretkey"),
                "getUserKeys {who}: {status} {body}"
            );

            let project = format!("prj{attempts}");
            let (status, body) = client
                .call(
                    "createProject",
                    &[("name", &project), ("accountid", &target.account_id)],
                )
                .await;
            assert!(
                [431, 531].contains(&status),
                "createProject by accountid {who}: {status} {body}"
            );
            let (status, body) = client
                .call(
                    "createProject",
                    &[
                        ("name", &project),
                        ("account", &target.name),
                        ("domainid", &target.domain_id),
                    ],
                )
                .await;
            assert!(
                [431, 531].contains(&status),
                "createProject by name {who}: {status} {body}"
            );

            // The target's keys were not replaced, and the escalated user cannot log in.
            let (status, _) = srv.client(target.keys.clone()).call("listZones", &[]).await;
            assert_eq!(status, 200, "{who}: the target's keys still work");
            let res = reqwest::Client::new()
                .post(&srv.url)
                .form(&[
                    ("command", "login"),
                    ("username", username.as_str()),
                    ("password", "Escalated-1"),
                    ("domainid", target.domain_id.as_str()),
                    ("response", "json"),
                ])
                .send()
                .await
                .unwrap();
            assert_ne!(res.status().as_u16(), 200, "{who}: escalated login");
        }
    }
    assert_eq!(attempts, 12, "every role against every higher role");
    let (_, users_after) = admin.call("listUsers", &[("listall", "true")]).await;
    let (_, projects_after) = admin.call("listProjects", &[("listall", "true")]).await;
    assert_eq!(users_before, users_after, "no user was added or changed");
    assert_eq!(projects_before, projects_after, "no project was created");

    // The rule is about rank, not a blanket refusal: the domain admin of ROOT still manages a
    // user of its domain and adds a user to a lower account.
    let rootdadm = srv.client(parties[2].keys.clone());
    let rootuser = &parties[4];
    let (status, body) = rootdadm
        .call("getUserKeys", &[("id", &rootuser.user_id)])
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = rootdadm
        .call(
            "createUser",
            &[
                ("username", "helper"),
                ("password", "pw"),
                ("email", "h@example.test"),
                ("firstname", "H"),
                ("lastname", "H"),
                ("account", "rootuser"),
                ("domainid", &root),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = rootdadm
        .call("getUserKeys", &[("id", &parties[0].user_id)])
        .await;
    assert_eq!(status, 531, "visible but higher: permission denied, {body}");
    assert!(
        error_text(&body).contains("insufficient permissions"),
        "{body}"
    );
}

/// A signed query for exactly these pairs (names as given), with the signature appended.
fn signed(keys: &Keys, pairs: &[(&str, &str)]) -> (Vec<(String, String)>, String) {
    let mut all: Vec<(String, String)> = vec![
        ("apiKey".into(), keys.api_key.clone()),
        ("command".into(), "listZones".into()),
    ];
    all.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let signature = cks_client::request::sign_pairs(keys, &all);
    (all, signature)
}

fn query(pairs: &[(String, String)], signature: &str) -> String {
    let mut all = pairs.to_vec();
    all.push(("signature".into(), signature.to_string()));
    cks_client::request::encode_query(&all)
}

#[tokio::test]
async fn an_expired_signed_request_cannot_be_replayed_by_hiding_its_version() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let past = signing::format_expires(cks_api::date::now_unix() - 60);
    let (pairs, signature) = signed(
        &srv.admin,
        &[
            ("response", "json"),
            ("signatureVersion", "3"),
            ("expires", &past),
        ],
    );
    assert_eq!(admin.get_raw(&query(&pairs, &signature)).await.0, 401);

    // `response=json&signatureVersion` as one percent-encoded name: the signed string is the
    // same, but the server would no longer see a signatureversion and skip the expiry.
    let apikey = encode(&srv.admin.api_key);
    let smuggled = format!(
        "apiKey={apikey}&command=listZones&expires={}&response%3Djson%26signatureVersion=3&signature={}",
        encode(&past),
        encode(&signature)
    );
    let (status, body) = admin.get_raw(&smuggled).await;
    assert_ne!(status, 200, "replayed: {body}");
    assert_eq!(status, 431, "{body}");
    assert!(
        error_text(&body).contains("Invalid parameter name"),
        "{body}"
    );

    // Versions spelled otherwise than `3` no longer switch the expiry check off.
    for version in ["03", " 3", "3.0", "2"] {
        let (pairs, signature) = signed(
            &srv.admin,
            &[
                ("response", "json"),
                ("signatureVersion", version),
                ("expires", &past),
            ],
        );
        let (status, body) = admin.get_raw(&query(&pairs, &signature)).await;
        assert_eq!(status, 401, "version {version:?}: {body}");
    }
}

#[tokio::test]
async fn a_signed_request_may_not_expire_years_ahead_and_the_window_is_a_setting() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let in_years = signing::format_expires(cks_api::date::now_unix() + 10 * 365 * 86_400);
    let soon = signing::format_expires(cks_api::date::now_unix() + 300);
    let call = |expires: String| {
        let (pairs, signature) = signed(
            &srv.admin,
            &[
                ("response", "json"),
                ("signatureVersion", "3"),
                ("expires", &expires),
            ],
        );
        query(&pairs, &signature)
    };
    let (status, body) = admin.get_raw(&call(in_years.clone())).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        error_text(&body).contains("api.signature.expires.max"),
        "the refusal names the setting: {body}"
    );
    assert_eq!(admin.get_raw(&call(soon.clone())).await.0, 200);

    let (status, body) = admin
        .call(
            "updateConfiguration",
            &[("name", "api.signature.expires.max"), ("value", "60")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Settings are re-read every second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (status, _) = admin.get_raw(&call(soon.clone())).await;
        if status == 401 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "window not applied");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_operator_can_require_every_signed_request_to_expire() {
    let srv = TestServer::start();
    let admin = srv.admin();
    // CloudStack's default: a request without expiry is valid (and replayable) for ever.
    assert_eq!(admin.call("listZones", &[]).await.0, 200);
    let (status, body) = admin
        .call(
            "updateConfiguration",
            &[
                ("name", "api.signature.expires.required"),
                ("value", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let soon = signing::format_expires(cks_api::date::now_unix() + 300);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (status, body) = admin.call("listZones", &[]).await;
        if status == 401 {
            assert!(
                error_text(&body).contains("api.signature.expires.required"),
                "{body}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "setting not applied");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, body) = admin
        .call(
            "listZones",
            &[("signatureversion", "3"), ("expires", &soon)],
        )
        .await;
    assert_eq!(status, 200, "a request that expires still passes: {body}");
}

/// The parameters a job row keeps, as stored.
fn job_params(srv: &TestServer, job_id: &str) -> String {
    assert!(cks_api::commands::is_uuid(job_id));
    srv.query_sql(&format!(
        "SELECT params FROM async_jobs WHERE id = '{job_id}'"
    ))
}

#[tokio::test]
async fn job_rows_keep_no_credentials_or_passwords() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (status, body) = admin.call("createProject", &[("name", "p1")]).await;
    assert_eq!(status, 200, "{body}");
    let job_id = inner(&body, "createProject")["jobid"]
        .as_str()
        .unwrap()
        .to_string();
    admin.wait_job(&job_id).await;
    let stored = job_params(&srv, &job_id);
    let params: Value = serde_json::from_str(stored.trim()).expect("params are JSON");
    for key in [
        "apikey",
        "signature",
        "signatureversion",
        "expires",
        "sessionkey",
    ] {
        assert!(params.get(key).is_none(), "{key} kept in {stored}");
    }
    assert!(!stored.contains(&srv.admin.api_key), "{stored}");
    assert_eq!(
        params["name"], "p1",
        "the command's own parameters are kept"
    );

    // A cluster with a private registry: its password is sealed with the cluster, never
    // written into the job row.
    let (status, body) = admin
        .call(
            "updateConfiguration",
            &[
                (
                    "name",
                    "cloud.kubernetes.cluster.experimental.features.enabled",
                ),
                ("value", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let cat = crate::harness::catalog(&admin).await;
    let password = "Registry-Pa55word";
    let (_, job_id) = crate::harness::submit_create(
        &admin,
        &[
            ("name", "reg"),
            ("zoneid", &cat.zone),
            ("kubernetesversionid", &cat.old_version),
            ("serviceofferingid", &cat.node_offering),
            ("size", "1"),
            ("dockerregistryurl", "https://registry.example.test"),
            ("dockerregistryusername", "puller"),
            ("dockerregistrypassword", password),
        ],
    )
    .await;
    let job = admin.wait_job(&job_id).await;
    assert_eq!(job["jobstatus"], 1, "{job}");
    let stored = job_params(&srv, &job_id);
    assert!(!stored.contains(password), "{stored}");
    assert!(!stored.contains("dockerregistrypassword"), "{stored}");
    assert!(
        stored.contains("puller"),
        "other parameters are kept: {stored}"
    );
}

#[test]
fn the_first_start_prints_no_secret_key_or_password() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let (range, _lock) = crate::harness::reserve_public_range();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cksd"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--instant-simulator",
            "--data-dir",
        ])
        .arg(dir.path())
        .args(["--simulator-public-range", &range])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
            .join("\n")
    });
    let mut printed = String::new();
    for line in BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("cksd listening on") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let logged = errors.join().unwrap();
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("root-admin.json")).unwrap())
            .unwrap();
    for secret in ["secretkey", "password"] {
        let value = doc[secret].as_str().unwrap();
        assert!(!printed.contains(value), "{secret} printed: {printed}");
        assert!(!logged.contains(value), "{secret} logged: {logged}");
    }
    assert!(
        printed.contains("root-admin.json"),
        "where the credentials are is said: {printed}"
    );
}

#[tokio::test]
async fn the_data_directory_and_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let mut srv = TestServer::start();
    // Let the server write so that the WAL exists.
    srv.admin().call("createDomain", &[("name", "d1")]).await;
    let dir = srv.data_dir().to_path_buf();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            mode(&path) & 0o077,
            0,
            "{} is readable by others: {:o}",
            path.display(),
            mode(&path)
        );
    }
    assert_eq!(mode(&dir) & 0o077, 0, "data directory {:o}", mode(&dir));

    // An existing directory and database made with a loose umask are tightened at start.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    if dir.join("cks.db").exists() {
        std::fs::set_permissions(dir.join("cks.db"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
    }
    srv.restart();
    assert_eq!(srv.admin().call("listZones", &[]).await.0, 200);
    assert_eq!(mode(&dir) & 0o077, 0, "data directory {:o}", mode(&dir));
    if dir.join("cks.db").exists() {
        assert_eq!(mode(&dir.join("cks.db")) & 0o077, 0);
    }
}
