//! The simulator's inventory in CloudStack's shapes, and SSH key pairs per account.

use serde_json::Value;

use crate::harness::{TestServer, error_text, inner};

fn items(body: &Value, command: &str, key: &str) -> Vec<Value> {
    inner(body, command)[key]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_user_can_find_a_zone_an_offering_and_a_cks_template() {
    let srv = TestServer::start();
    let (user, _) = srv.account("alice", 0, None).await;
    let client = srv.client(user);
    let (status, body) = client.call("listZones", &[]).await;
    assert_eq!(status, 200);
    let zones = items(&body, "listZones", "zone");
    assert_eq!(zones.len(), 1);
    assert_eq!(zones[0]["networktype"], "Advanced");
    assert_eq!(zones[0]["allocationstate"], "Enabled");

    let (_, body) = client
        .call("listServiceOfferings", &[("name", "CKS Node")])
        .await;
    let offering = &items(&body, "listServiceOfferings", "serviceoffering")[0];
    assert_eq!(offering["cpunumber"], 2);
    assert_eq!(offering["memory"], 2048);

    let (_, body) = client
        .call(
            "listTemplates",
            &[("templatefilter", "executable"), ("forcks", "true")],
        )
        .await;
    let templates = items(&body, "listTemplates", "template");
    assert!(!templates.is_empty());
    assert!(
        templates
            .iter()
            .all(|t| t["forcks"] == true && t["isready"] == true),
        "{templates:?}"
    );

    let (status, body) = client.call("listTemplates", &[]).await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        "Unable to execute API command listtemplates due to missing parameter templatefilter"
    );
    assert_eq!(
        client.call("listHosts", &[]).await.0,
        401,
        "hosts are for root admins"
    );

    let (_, body) = srv.admin().call("listHosts", &[]).await;
    let hosts = items(&body, "listHosts", "host");
    assert_eq!(hosts.len(), 4);
    assert_eq!(hosts[0]["state"], "Up");
    let (_, body) = client
        .call(
            "listNetworkOfferings",
            &[("name", "DefaultNetworkOfferingforKubernetesService")],
        )
        .await;
    assert_eq!(
        items(&body, "listNetworkOfferings", "networkoffering").len(),
        1
    );
}

#[tokio::test]
async fn ssh_key_pairs_belong_to_one_account() {
    let srv = TestServer::start();
    let (alice, _) = srv.account("alice", 0, None).await;
    let (bob, _) = srv.account("bob", 0, None).await;
    let alice = srv.client(alice);
    let bob = srv.client(bob);
    let (status, body) = alice.call("createSSHKeyPair", &[("name", "k1")]).await;
    assert_eq!(status, 200, "{body}");
    let created = &inner(&body, "createSSHKeyPair")["keypair"];
    assert!(
        created["privatekey"]
            .as_str()
            .unwrap()
            .contains("PRIVATE KEY")
    );
    assert_eq!(created["account"], "alice");
    let fingerprint = created["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(fingerprint.split(':').count(), 16);

    let (status, body) = alice.call("createSSHKeyPair", &[("name", "k1")]).await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        "A key pair with name 'k1' already exists."
    );

    let public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxFq1/6O9mL0E8mUu4KpQ3iAJNrAPlQ9qgP2G9iOBeC test@example";
    let (status, body) = bob
        .post(
            "registerSSHKeyPair",
            &[("name", "k1"), ("publickey", public)],
        )
        .await;
    assert_eq!(status, 200, "same name in another account is fine: {body}");
    let (status, _) = bob
        .post(
            "registerSSHKeyPair",
            &[("name", "bad"), ("publickey", "ssh-rsa not-base64!")],
        )
        .await;
    assert_eq!(status, 431);

    let (_, body) = alice.call("listSSHKeyPairs", &[]).await;
    let listed = items(&body, "listSSHKeyPairs", "sshkeypair");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["fingerprint"], fingerprint.as_str());
    assert!(
        listed[0].get("privatekey").is_none(),
        "the private key is shown once"
    );

    let (status, body) = alice.call("deleteSSHKeyPair", &[("name", "nope")]).await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        "A key pair with name 'nope' does not exist for account alice in specified domain id"
    );
    let (status, body) = alice.call("deleteSSHKeyPair", &[("name", "k1")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(inner(&body, "deleteSSHKeyPair")["success"], true);
    let (_, body) = bob.call("listSSHKeyPairs", &[]).await;
    assert_eq!(
        items(&body, "listSSHKeyPairs", "sshkeypair").len(),
        1,
        "bob's key is untouched"
    );
    let (_, body) = srv
        .admin()
        .call("listSSHKeyPairs", &[("listall", "true")])
        .await;
    assert_eq!(
        items(&body, "listSSHKeyPairs", "sshkeypair").len(),
        1,
        "root admins see every account's keys"
    );
}

#[tokio::test]
async fn lists_of_owned_resources_are_empty_objects_for_a_new_account() {
    let srv = TestServer::start();
    let (user, _) = srv.account("alice", 0, None).await;
    let client = srv.client(user);
    for command in [
        "listNetworks",
        "listPublicIpAddresses",
        "listVirtualMachines",
    ] {
        let (status, body) = client.call(command, &[]).await;
        assert_eq!(status, 200, "{command}: {body}");
        assert_eq!(*inner(&body, command), serde_json::json!({}), "{command}");
    }
    let (status, _) = client
        .call(
            "getVirtualMachineUserData",
            &[("virtualmachineid", "11111111-2222-4333-8444-555555555555")],
        )
        .await;
    assert_eq!(status, 401, "admin command");
    let (status, _) = srv
        .admin()
        .call(
            "getVirtualMachineUserData",
            &[("virtualmachineid", "11111111-2222-4333-8444-555555555555")],
        )
        .await;
    assert_eq!(status, 431, "unknown VM");
}

#[tokio::test]
async fn name_filters_ignore_case_as_cloudstacks_do() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (_, body) = admin.call("listZones", &[("name", "sim-zone-1")]).await;
    assert_eq!(items(&body, "listZones", "zone").len(), 1, "{body}");
    let (_, body) = admin
        .call("listServiceOfferings", &[("name", "cks NODE")])
        .await;
    assert_eq!(
        items(&body, "listServiceOfferings", "serviceoffering")[0]["name"],
        "CKS Node"
    );
    srv.account("Carol", 0, None).await;
    let (_, body) = admin
        .call("listAccounts", &[("name", "CAROL"), ("listall", "true")])
        .await;
    assert_eq!(items(&body, "listAccounts", "account").len(), 1, "{body}");
    let (_, body) = admin
        .call("listUsers", &[("username", "carol"), ("listall", "true")])
        .await;
    assert_eq!(items(&body, "listUsers", "user").len(), 1, "{body}");
    // Still a filter: another name finds nothing.
    let (_, body) = admin.call("listZones", &[("name", "sim-zone-2")]).await;
    assert!(items(&body, "listZones", "zone").is_empty());
}
