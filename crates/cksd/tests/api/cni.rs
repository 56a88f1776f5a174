//! CNI configurations (spec §2.5): register, list and delete with CloudStack's texts and
//! tenancy, and a cluster built with one (spec §7.5).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::harness::{Client, TestServer, error_text, inner};
use crate::harness::{assert_no_leaks, catalog, cluster_of, create, run_job, vm_count};

const CONTENT: &str = r#"#cloud-config
write_files:
  - path: /opt/cni/peer.conf
    permissions: "0644"
    content: |
      peer={{ ds.meta_data.bgp_peer_ip }}
      as={{ ds.meta_data.bgp_peer_as }}
runcmd:
  - echo cni-configured
"#;

async fn register(c: &Client, params: &[(&str, &str)]) -> (u16, Value) {
    let (status, body) = c.call("registerCniConfiguration", params).await;
    (
        status,
        match status {
            200 => inner(&body, "registerCniConfiguration")["cniconfig"].clone(),
            _ => body,
        },
    )
}

/// Registers `CONTENT` as `name` and returns its id.
async fn register_calico(c: &Client, name: &str, extra: &[(&str, &str)]) -> String {
    let content = STANDARD.encode(CONTENT);
    let mut params = vec![
        ("name", name),
        ("cniconfig", content.as_str()),
        ("params", "bgp_peer_ip, bgp_peer_as"),
    ];
    params.extend_from_slice(extra);
    let (status, config) = register(c, &params).await;
    assert_eq!(status, 200, "{config}");
    config["id"].as_str().unwrap().to_string()
}

async fn list(c: &Client, params: &[(&str, &str)]) -> Vec<Value> {
    let (status, body) = c.call("listCniConfiguration", params).await;
    assert_eq!(status, 200, "{body}");
    inner(&body, "listCniConfiguration")["cniconfig"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn names(items: &[Value]) -> Vec<&str> {
    items.iter().map(|c| c["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn register_list_and_delete_with_cloudstacks_texts_and_tenancy() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (alice_keys, alice_account) = srv.account("alice", 0, None).await;
    let (bob_keys, _) = srv.account("bob", 0, None).await;
    let alice = srv.client(alice_keys);
    let bob = srv.client(bob_keys);
    let root = alice_account["domainid"].as_str().unwrap().to_string();

    // The object as registered: content re-encoded with padding, params as declared.
    let content = STANDARD.encode(CONTENT);
    let (status, config) = register(
        &alice,
        &[
            ("name", "calico"),
            ("cniconfig", content.trim_end_matches('=')),
            ("params", "bgp_peer_ip, bgp_peer_as"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["name"], "calico");
    assert_eq!(config["account"], "alice");
    assert_eq!(config["accountid"], alice_account["id"]);
    assert_eq!(config["domainid"], root.as_str());
    assert_eq!(config["domain"], "ROOT");
    assert_eq!(config["domainpath"], "ROOT");
    assert_eq!(config["userdata"], content.as_str());
    assert_eq!(config["params"], "bgp_peer_ip,bgp_peer_as");
    let alice_calico = config["id"].as_str().unwrap().to_string();

    // Bad content, a duplicate name, a missing name, and the configurable length.
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("name", "x"), ("cniconfig", "#cloud-config runcmd")],
            "User data is not base64 encoded.",
        ),
        (
            vec![("name", "calico"), ("cniconfig", content.as_str())],
            "A userdata with name calico already exists for this account.",
        ),
        (
            vec![("cniconfig", content.as_str())],
            "Unable to execute API command registercniconfiguration due to missing parameter name",
        ),
        (
            vec![
                ("name", "x"),
                ("cniconfig", content.as_str()),
                ("params", "bgp,public-ipv4"),
            ],
            "Params passed here have a few virtual router metadata file names: public-ipv4",
        ),
    ];
    for (params, text) in cases {
        let (status, body) = register(&alice, &params).await;
        assert_eq!(
            (status, error_text(&body).as_str()),
            (431, text),
            "{params:?}"
        );
    }
    let (status, body) = admin
        .call(
            "updateConfiguration",
            &[("name", "vm.userdata.max.length"), ("value", "64")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = register(&alice, &[("name", "big"), ("cniconfig", &content)]).await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        "User data has exceeded configurable max length: 64"
    );
    admin
        .call(
            "updateConfiguration",
            &[("name", "vm.userdata.max.length"), ("value", "32768")],
        )
        .await;

    // Names are unique per account: bob may have his own "calico"; an admin registers for alice.
    let bob_calico = register_calico(&bob, "calico", &[]).await;
    let (status, config) = register(
        &admin,
        &[
            ("name", "cilium"),
            ("cniconfig", &content),
            ("account", "alice"),
            ("domainid", &root),
        ],
    )
    .await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["account"], "alice");
    assert!(config.get("params").is_none(), "{config}");
    let alice_cilium = config["id"].as_str().unwrap().to_string();

    // Users see their own, newest first; admins theirs, or everything with listall.
    assert_eq!(names(&list(&alice, &[]).await), ["cilium", "calico"]);
    assert_eq!(names(&list(&bob, &[]).await), ["calico"]);
    assert_eq!(names(&list(&bob, &[("listall", "true")]).await), ["calico"]);
    assert!(list(&admin, &[]).await.is_empty());
    let all = list(&admin, &[("listall", "true")]).await;
    assert_eq!(names(&all), ["cilium", "calico", "calico"]);
    assert_eq!(all[1]["id"], bob_calico.as_str());
    let of_alice = list(&admin, &[("account", "alice"), ("domainid", &root)]).await;
    assert_eq!(names(&of_alice), ["cilium", "calico"]);
    assert_eq!(
        names(&list(&alice, &[("name", "calico")]).await),
        ["calico"]
    );
    assert!(list(&alice, &[("name", "cal")]).await.is_empty());
    assert_eq!(
        names(&list(&alice, &[("keyword", "CIL")]).await),
        ["cilium"]
    );
    assert!(list(&alice, &[("id", &bob_calico)]).await.is_empty());
    let (status, body) = alice
        .call("listCniConfiguration", &[("page", "2"), ("pagesize", "1")])
        .await;
    assert_eq!(status, 200);
    let page = &inner(&body, "listCniConfiguration");
    assert_eq!(page["count"], 2);
    assert_eq!(page["cniconfig"][0]["name"], "calico");

    // Bob cannot delete (or find) alice's; alice deletes hers, once.
    let (status, body) = bob
        .call("deleteCniConfiguration", &[("id", &alice_calico)])
        .await;
    assert_eq!(status, 431);
    assert!(
        error_text(&body).contains("entity does not exist"),
        "{body}"
    );
    let (status, body) = alice
        .call("deleteCniConfiguration", &[("id", &alice_calico)])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(inner(&body, "deleteCniConfiguration")["success"], true);
    let (status, _) = alice
        .call("deleteCniConfiguration", &[("id", &alice_calico)])
        .await;
    assert_eq!(status, 431);
    let (status, body) = admin
        .call(
            "deleteCniConfiguration",
            &[
                ("id", &alice_cilium),
                ("account", "bob"),
                ("domainid", &root),
            ],
        )
        .await;
    assert_eq!(status, 431);
    assert_eq!(
        error_text(&body),
        format!(
            "A UserData with id '{alice_cilium}' does not exist for account bob in specified domain id"
        )
    );
    let (status, _) = admin
        .call("deleteCniConfiguration", &[("id", &alice_cilium)])
        .await;
    assert_eq!(status, 200);
    assert!(list(&alice, &[]).await.is_empty());
}

#[tokio::test]
async fn a_cluster_built_with_a_cni_configuration_gets_its_values_and_keeps_it_alive() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (alice_keys, _) = srv.account("alice", 0, None).await;
    let (bob_keys, _) = srv.account("bob", 0, None).await;
    let alice = srv.client(alice_keys);
    let bob = srv.client(bob_keys);
    let cat = catalog(&alice).await;
    let cni = register_calico(&alice, "calico", &[]).await;
    let details = [
        ("cniconfigdetails[0].bgp_peer_ip", "10.1.1.1"),
        ("cniconfigdetails[0].bgp_peer_as", "64512"),
    ];

    // Refused at once: someone else's configuration, and values that do not fit its params.
    let base = |name: &'static str| {
        vec![
            ("name", name),
            ("zoneid", cat.zone.as_str()),
            ("kubernetesversionid", cat.old_version.as_str()),
            ("serviceofferingid", cat.node_offering.as_str()),
            ("size", "1"),
            ("cniconfigurationid", cni.as_str()),
        ]
    };
    let (status, body) = bob
        .call(
            "createKubernetesCluster",
            &[base("b"), details.to_vec()].concat(),
        )
        .await;
    assert_eq!(status, 431, "{body}");
    assert_eq!(
        error_text(&body),
        "Unable to find CNI configuration with the given ID"
    );
    let (status, body) = alice
        .call(
            "createKubernetesCluster",
            &[base("a"), details[..1].to_vec()].concat(),
        )
        .await;
    assert_eq!(status, 431, "{body}");
    assert_eq!(
        error_text(&body),
        "Unable to use CNI configuration calico: CNI parameter \"bgp_peer_as\" is declared but no value was given"
    );
    let (status, body) = alice
        .call(
            "createKubernetesCluster",
            &[
                base("a"),
                details.to_vec(),
                vec![("cniconfigdetails[1].extra", "1")],
            ]
            .concat(),
        )
        .await;
    assert_eq!(status, 431, "{body}");
    assert_eq!(
        error_text(&body),
        "Unable to use CNI configuration calico: a value was given for \"extra\", which the CNI configuration does not declare"
    );

    // Built: the first control node's user data holds the configuration with its values.
    let job = create(
        &alice,
        &cat,
        "bgp",
        &cat.old_version,
        &[("cniconfigurationid", cni.as_str()), details[0], details[1]],
    )
    .await;
    let cluster = cluster_of(&job);
    assert_eq!(cluster["state"], "Running");
    assert_eq!(cluster["cniconfigurationid"], cni.as_str());
    assert_eq!(cluster["cniconfigname"], "calico");
    let vms = cluster["virtualmachines"].as_array().unwrap();
    let user_data = |vm: &Value| {
        let admin = &admin;
        let id = vm["id"].as_str().unwrap().to_string();
        async move {
            let (status, body) = admin
                .call("getVirtualMachineUserData", &[("virtualmachineid", &id)])
                .await;
            assert_eq!(status, 200, "{body}");
            let data =
                inner(&body, "getVirtualMachineUserData")["virtualmachineuserdata"]["userdata"]
                    .as_str()
                    .unwrap()
                    .to_string();
            // Base64 of gzip, which cloud-init unpacks.
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::GzDecoder::new(STANDARD.decode(data).unwrap().as_slice()),
                &mut text,
            )
            .unwrap();
            text
        }
    };
    let control = vms
        .iter()
        .find(|vm| vm["name"].as_str().unwrap().contains("-control-"))
        .unwrap();
    let text = user_data(control).await;
    assert!(text.starts_with("#cloud-config\n"), "{text}");
    assert!(text.contains("/opt/cni/peer.conf"), "{text}");
    assert!(text.contains("peer=10.1.1.1"), "{text}");
    assert!(text.contains("as=64512"), "{text}");
    assert!(text.contains("echo cni-configured"), "{text}");
    assert!(!text.contains("ds.meta_data"), "{text}");
    let worker = vms
        .iter()
        .find(|vm| !vm["name"].as_str().unwrap().contains("-control-"))
        .unwrap();
    assert!(!user_data(worker).await.contains("peer=10.1.1.1"));

    // In use while the cluster lives; free once it is gone.
    let (status, body) = alice.call("deleteCniConfiguration", &[("id", &cni)]).await;
    assert_eq!(status, 530, "{body}");
    assert_eq!(
        error_text(&body),
        "Userdata calico cannot be removed as it is being used by some VMs"
    );
    let id = cluster["id"].as_str().unwrap();
    let deleted = run_job(&alice, "deleteKubernetesCluster", &[("id", id)]).await;
    assert_eq!(deleted["jobstatus"], 1, "{deleted}");
    assert_eq!(vm_count(&admin).await, 0);
    assert_no_leaks(&admin).await;
    let (status, body) = alice.call("deleteCniConfiguration", &[("id", &cni)]).await;
    assert_eq!(status, 200, "{body}");
}
