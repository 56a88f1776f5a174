//! Domains, accounts, users, keys, projects and who sees what.

use serde_json::Value;

use crate::harness::{TestServer, error_text, inner};

fn names(body: &Value, command: &str, key: &str, field: &str) -> Vec<String> {
    inner(body, command)[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x[field].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn create_account_returns_the_account_with_its_user_and_no_secrets() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (status, body) = admin
        .call(
            "createAccount",
            &[
                ("username", "carol"),
                ("password", "pw"),
                ("email", "c@example.test"),
                ("firstname", "Carol"),
                ("lastname", "C"),
                ("accounttype", "0"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let account = &inner(&body, "createAccount")["account"];
    assert_eq!(account["name"], "carol");
    assert_eq!(account["accounttype"], 0);
    assert_eq!(account["roletype"], "User");
    assert_eq!(account["user"][0]["username"], "carol");
    assert_eq!(account["user"][0]["domain"], "ROOT");
    let text = body.to_string();
    assert!(
        !text.contains("\"pw\"") && !text.contains("password") && !text.contains("secretkey"),
        "{text}"
    );

    let (status, body) = admin.call("listUsers", &[("listall", "true")]).await;
    assert_eq!(status, 200);
    assert!(
        !body.to_string().contains("secretkey"),
        "listUsers never shows secret keys"
    );
    assert!(names(&body, "listUsers", "user", "username").contains(&"carol".to_string()));
}

#[tokio::test]
async fn duplicates_and_missing_types_are_431_and_leave_the_store_unchanged() {
    let srv = TestServer::start();
    let admin = srv.admin();
    srv.account("dave", 0, None).await;
    let (_, before) = admin.call("listAccounts", &[("listall", "true")]).await;
    let base = [
        ("password", "pw"),
        ("email", "d@example.test"),
        ("firstname", "D"),
        ("lastname", "D"),
    ];
    let mut p = base.to_vec();
    p.extend([
        ("username", "dave2"),
        ("account", "dave"),
        ("accounttype", "0"),
    ]);
    let (status, body) = admin.call("createAccount", &p).await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        "The specified account: dave already exists"
    );
    let mut p = base.to_vec();
    p.extend([
        ("username", "dave"),
        ("account", "other"),
        ("accounttype", "0"),
    ]);
    let (status, body) = admin.call("createAccount", &p).await;
    assert_eq!(status, 431);
    assert!(
        error_text(&body).starts_with("The user dave already exists in domain"),
        "{body}"
    );
    let mut p = base.to_vec();
    p.push(("username", "erin"));
    let (status, body) = admin.call("createAccount", &p).await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        "Neither account type and role ID are not provided"
    );
    let (_, after) = admin.call("listAccounts", &[("listall", "true")]).await;
    assert_eq!(before, after, "failed creates changed nothing");
}

#[tokio::test]
async fn users_see_only_their_own_account_and_cannot_touch_others() {
    let srv = TestServer::start();
    let (alice, alice_acct) = srv.account("alice", 0, None).await;
    let (_bob, bob_acct) = srv.account("bob", 0, None).await;
    let alice_client = srv.client(alice);
    let (status, body) = alice_client
        .call("listAccounts", &[("listall", "true")])
        .await;
    assert_eq!(status, 200);
    assert_eq!(names(&body, "listAccounts", "account", "name"), ["alice"]);
    let (_, body) = alice_client.call("listUsers", &[]).await;
    assert_eq!(names(&body, "listUsers", "user", "username"), ["alice"]);

    let bob_user = bob_acct["user"][0]["id"].as_str().unwrap();
    // Bob is out of Alice's sight: his id answers as one that does not exist (431), not 531,
    // which would tell her that the account exists.
    let (status, body) = alice_client
        .call("registerUserKeys", &[("id", bob_user)])
        .await;
    assert_eq!(status, 431, "{body}");
    let (status, unknown) = alice_client
        .call(
            "getUserKeys",
            &[("id", "11111111-2222-4333-8444-555555555555")],
        )
        .await;
    assert_eq!(status, 431);
    let (status, body) = alice_client.call("getUserKeys", &[("id", bob_user)]).await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body).replace(bob_user, "ID"),
        error_text(&unknown).replace("11111111-2222-4333-8444-555555555555", "ID")
    );
    // Her own keys she may rotate; the old ones stop working at once.
    let own = alice_acct["user"][0]["id"].as_str().unwrap();
    let (status, _) = alice_client.call("getUserKeys", &[("id", own)]).await;
    assert_eq!(status, 200);
    let (status, body) = alice_client.call("registerUserKeys", &[("id", own)]).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = alice_client.call("listZones", &[]).await;
    assert_eq!(status, 401, "old keys are replaced");

    // Admin-only commands are refused for users.
    let (status, _) = srv
        .client(crate::harness::Keys {
            api_key: inner(&body, "registerUserKeys")["userkeys"]["apikey"]
                .as_str()
                .unwrap()
                .into(),
            secret_key: inner(&body, "registerUserKeys")["userkeys"]["secretkey"]
                .as_str()
                .unwrap()
                .into(),
        })
        .call("createDomain", &[("name", "mine")])
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn domain_admins_manage_their_subtree_only() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (status, body) = admin.call("createDomain", &[("name", "eng")]).await;
    assert_eq!(status, 200, "{body}");
    let eng = inner(&body, "createDomain")["domain"].clone();
    assert_eq!(eng["path"], "ROOT/eng");
    assert_eq!(eng["level"], 1);
    let eng_id = eng["id"].as_str().unwrap();
    let (_, body) = admin.call("createDomain", &[("name", "sales")]).await;
    let sales_id = inner(&body, "createDomain")["domain"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = admin.call("createDomain", &[("name", "eng")]).await;
    assert_eq!(status, 431);
    assert!(
        error_text(&body)
            .starts_with("Domain with name [eng] already exists for the parent with ID")
    );

    let (dadmin, _) = srv.account("engadmin", 2, Some(eng_id)).await;
    let dadmin = srv.client(dadmin);
    let (status, body) = dadmin
        .call(
            "createDomain",
            &[("name", "team1"), ("parentdomainid", eng_id)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // A sibling domain is out of reach: answered like an unknown id.
    let (status, _) = dadmin
        .call(
            "createDomain",
            &[("name", "x"), ("parentdomainid", &sales_id)],
        )
        .await;
    assert_eq!(status, 431);
    let p = [
        ("username", "u1"),
        ("password", "pw"),
        ("email", "e@example.test"),
        ("firstname", "U"),
        ("lastname", "One"),
        ("accounttype", "0"),
    ];
    let mut in_sales = p.to_vec();
    in_sales.push(("domainid", &sales_id));
    assert_eq!(dadmin.call("createAccount", &in_sales).await.0, 431);
    let mut root_admin = p.to_vec();
    root_admin[5] = ("accounttype", "1");
    root_admin.push(("domainid", eng_id));
    assert_eq!(
        dadmin.call("createAccount", &root_admin).await.0,
        531,
        "no escalation to root admin"
    );
    let mut in_eng = p.to_vec();
    in_eng.push(("domainid", eng_id));
    assert_eq!(dadmin.call("createAccount", &in_eng).await.0, 200);
    let (_, body) = dadmin.call("listAccounts", &[("listall", "true")]).await;
    let mut seen = names(&body, "listAccounts", "account", "name");
    seen.sort();
    assert_eq!(seen, ["engadmin", "u1"]);
    let (_, body) = dadmin.call("listDomains", &[("listall", "true")]).await;
    let mut seen = names(&body, "listDomains", "domain", "path");
    seen.sort();
    assert_eq!(seen, ["ROOT/eng", "ROOT/eng/team1"]);
}

#[tokio::test]
async fn projects_are_created_by_job_and_visible_to_members() {
    let srv = TestServer::start();
    let (alice, _) = srv.account("alice", 0, None).await;
    let (bob, _) = srv.account("bob", 0, None).await;
    let alice = srv.client(alice);
    let (status, body) = alice
        .call(
            "createProject",
            &[("name", "web"), ("displaytext", "Web team")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let submit = inner(&body, "createProject");
    let job = alice.wait_job(submit["jobid"].as_str().unwrap()).await;
    assert_eq!(job["jobstatus"], 1, "{job}");
    assert_eq!(job["jobresult"]["project"]["id"], submit["id"]);
    assert_eq!(job["jobresult"]["project"]["owner"][0]["account"], "alice");
    let (_, body) = alice.call("listProjects", &[]).await;
    assert_eq!(names(&body, "listProjects", "project", "name"), ["web"]);
    let (_, body) = srv.client(bob).call("listProjects", &[]).await;
    assert!(
        names(&body, "listProjects", "project", "name").is_empty(),
        "non-members do not see it"
    );
    let (status, body) = alice.call("createProject", &[("name", "web")]).await;
    assert_eq!(status, 431);
    assert!(error_text(&body).starts_with("Project with name web already exists"));
}
