//! Kubernetes clusters end to end on the simulator: the marvin smoke tests' cases (spec §8),
//! faults, and the leak check after every delete.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{
    Client, ClusterOptions, RunningCluster, TestServer, assert_no_leaks, catalog, cluster_of,
    create, error_text, get, inner, kubectl, run_job, submit_create, vm_count,
    wait_for_deploy_step, wait_state,
};

/// Parameters, and the status and error text they must give.
type Case<P, M> = (Vec<(&'static str, P)>, u16, M);

#[tokio::test]
async fn a_cluster_is_created_reachable_with_kubectl_and_deleted_without_leaks() {
    let srv = TestServer::start();
    let (user_keys, _) = srv.account("alice", 0, None).await;
    let user = srv.client(user_keys);
    let admin = srv.admin();
    let cat = catalog(&user).await;
    let demo = RunningCluster::boot(
        &user,
        &cat,
        ClusterOptions::named("demo").param("description", "demo-description"),
    )
    .await;
    let cluster = &demo.json;
    assert_eq!(cluster["state"], "Running");
    assert_eq!(cluster["name"], "demo");
    assert_eq!(cluster["description"], "demo-description");
    assert_eq!(cluster["size"], 1);
    assert_eq!(cluster["controlnodes"], 1);
    assert_eq!(cluster["masternodes"], 1);
    assert_eq!(cluster["etcdnodes"], 0);
    assert_eq!(cluster["kubernetesversionid"], cat.old_version.as_str());
    assert_eq!(cluster["zoneid"], cat.zone.as_str());
    assert_eq!(cluster["cpunumber"], "4");
    assert_eq!(cluster["memory"], "4096");
    assert_eq!(cluster["account"], "alice");
    assert_eq!(cluster["clustertype"], "CloudManaged");
    let ip = cluster["ipaddress"].as_str().unwrap();
    assert!(ip.starts_with("127."), "{ip}");
    assert_eq!(cluster["endpoint"], format!("https://{ip}:6443/"));
    let vms = cluster["virtualmachines"].as_array().unwrap();
    assert_eq!(vms.len(), 2);
    assert!(
        vms.iter()
            .all(|vm| vm["state"] == "Running" && vm["kubernetesnodeversion"] == "1.32.4")
    );

    // The kubeconfig works with the real kubectl against the simulated endpoint.
    let config = demo.kubeconfig_file(srv.data_dir());
    let nodes = kubectl(&config, &["get", "nodes"]);
    let lines: Vec<&str> = nodes.lines().collect();
    assert_eq!(lines.len(), 3, "{nodes}");
    assert!(
        lines[0].contains("STATUS") && lines[0].contains("ROLES") && lines[0].contains("VERSION"),
        "{nodes}"
    );
    assert!(
        nodes.contains("control-plane") && nodes.contains("v1.32.4") && nodes.contains("Ready"),
        "{nodes}"
    );
    let version = kubectl(&config, &["version"]);
    assert!(version.contains("Server Version: v1.32.4"), "{version}");

    // Rules as CKS lays them out, visible to the owner.
    let (_, pf) = user.call("listPortForwardingRules", &[]).await;
    let pf = pf["listportforwardingrulesresponse"]["portforwardingrule"]
        .as_array()
        .cloned()
        .unwrap();
    let mut ports: Vec<&str> = pf
        .iter()
        .map(|r| r["publicport"].as_str().unwrap())
        .collect();
    ports.sort();
    assert_eq!(ports, ["2222", "2223"]);
    let (_, lb) = user.call("listLoadBalancerRules", &[]).await;
    assert_eq!(
        lb["listloadbalancerrulesresponse"]["loadbalancerrule"][0]["name"],
        "api-lb"
    );

    let id = cluster["id"].as_str().unwrap();
    let job = run_job(&user, "deleteKubernetesCluster", &[("id", id)]).await;
    assert_eq!(job["jobstatus"], 1, "{job}");
    assert_eq!(job["jobresult"]["success"], true);
    let (_, list) = user.call("listKubernetesClusters", &[]).await;
    assert!(
        list["listkubernetesclustersresponse"]["kubernetescluster"].is_null(),
        "{list}"
    );
    assert_eq!(vm_count(&admin).await, 0);
    let (_, nets) = admin.call("listNetworks", &[("listall", "true")]).await;
    assert!(
        nets["listnetworksresponse"]["network"].is_null(),
        "the cluster's network is gone: {nets}"
    );
    assert_no_leaks(&admin).await;
}

#[tokio::test]
async fn upgrade_goes_to_the_next_minor_and_never_down() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    // test_01: a cluster on the newer version cannot go back.
    let newer = cluster_of(&create(&admin, &cat, "newer", &cat.new_version, &[]).await);
    let (status, body) = admin
        .call(
            "upgradeKubernetesCluster",
            &[
                ("id", newer["id"].as_str().unwrap()),
                ("kubernetesversionid", &cat.old_version),
            ],
        )
        .await;
    assert_eq!(status, 431, "{body}");
    assert_eq!(
        error_text(&body),
        "Kubernetes clusters can not be downgraded, current version: 1.33.1, upgrade version: 1.32.4"
    );
    // CKS let an "upgrade" to the running version through (draining every node for
    // nothing); CloudStack refuses it, and so do we.
    let (status, body) = admin
        .call(
            "upgradeKubernetesCluster",
            &[
                ("id", newer["id"].as_str().unwrap()),
                ("kubernetesversionid", &cat.new_version),
            ],
        )
        .await;
    assert_eq!(status, 431, "{body}");
    assert_eq!(
        error_text(&body),
        "Kubernetes clusters can not be upgraded, current version: 1.33.1, upgrade version: 1.33.1"
    );
    let after = get(&admin, newer["id"].as_str().unwrap()).await;
    assert_eq!(after["state"], "Running");
    assert_eq!(after["kubernetesversionid"], cat.new_version.as_str());

    // test_02: old → new, and kubectl sees the new version.
    let older = RunningCluster::boot(&admin, &cat, ClusterOptions::named("older")).await;
    let id = older.id.as_str();
    let job = run_job(
        &admin,
        "upgradeKubernetesCluster",
        &[("id", id), ("kubernetesversionid", &cat.new_version)],
    )
    .await;
    let upgraded = cluster_of(&job);
    assert_eq!(upgraded["state"], "Running");
    assert_eq!(upgraded["kubernetesversionid"], cat.new_version.as_str());
    assert!(
        upgraded["virtualmachines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|vm| vm["kubernetesnodeversion"] == "1.33.1"),
        "{upgraded}"
    );
    let config = older.kubeconfig_file(srv.data_dir());
    assert!(kubectl(&config, &["version"]).contains("Server Version: v1.33.1"));
    let nodes = kubectl(&config, &["get", "nodes"]);
    assert_eq!(nodes.matches("v1.33.1").count(), 2, "{nodes}");
    assert!(
        !nodes.contains("SchedulingDisabled"),
        "nodes are uncordoned after the upgrade: {nodes}"
    );
}

#[tokio::test]
async fn an_ha_cluster_upgrades_every_control_node_behind_one_load_balancer() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let ha = RunningCluster::boot(&admin, &cat, ClusterOptions::named("ha").control_nodes(3)).await;
    let cluster = &ha.json;
    assert_eq!(cluster["controlnodes"], 3);
    let (_, lb) = admin
        .call("listLoadBalancerRules", &[("listall", "true")])
        .await;
    let rule = &lb["listloadbalancerrulesresponse"]["loadbalancerrule"][0];
    assert_eq!(rule["publicport"], "6443");
    let id = ha.id.as_str();
    let config = ha.kubeconfig_file(srv.data_dir());
    assert_eq!(
        kubectl(&config, &["get", "nodes"])
            .matches("control-plane")
            .count(),
        3
    );
    let upgraded = cluster_of(
        &run_job(
            &admin,
            "upgradeKubernetesCluster",
            &[("id", id), ("kubernetesversionid", &cat.new_version)],
        )
        .await,
    );
    assert_eq!(upgraded["kubernetesversionid"], cat.new_version.as_str());
    assert_eq!(
        kubectl(&config, &["get", "nodes"])
            .matches("v1.33.1")
            .count(),
        4
    );
}

#[tokio::test]
async fn scaling_adds_and_removes_workers_and_records_autoscaling_bounds() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let scaled = RunningCluster::boot(&admin, &cat, ClusterOptions::named("scaled")).await;
    let id = scaled.id.as_str();
    let config = scaled.kubeconfig_file(srv.data_dir());
    // test_03
    let up = cluster_of(
        &run_job(
            &admin,
            "scaleKubernetesCluster",
            &[("id", id), ("size", "2")],
        )
        .await,
    );
    assert_eq!(
        (
            up["state"].as_str(),
            up["size"].as_i64(),
            up["controlnodes"].as_i64()
        ),
        (Some("Running"), Some(2), Some(1))
    );
    assert_eq!(up["virtualmachines"].as_array().unwrap().len(), 3);
    assert_eq!(
        kubectl(&config, &["get", "nodes", "--no-headers"])
            .lines()
            .count(),
        3
    );
    let down = cluster_of(
        &run_job(
            &admin,
            "scaleKubernetesCluster",
            &[("id", id), ("size", "1")],
        )
        .await,
    );
    assert_eq!(down["size"], 1);
    assert_eq!(
        kubectl(&config, &["get", "nodes", "--no-headers"])
            .lines()
            .count(),
        2
    );
    assert_eq!(
        vm_count(&admin).await,
        2,
        "the removed worker's VM is destroyed"
    );
    // Removing a named worker.
    let up = cluster_of(
        &run_job(
            &admin,
            "scaleKubernetesCluster",
            &[("id", id), ("size", "2")],
        )
        .await,
    );
    let worker = up["virtualmachines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|vm| vm["name"].as_str().unwrap().contains("-node-"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let down = cluster_of(
        &run_job(
            &admin,
            "scaleKubernetesCluster",
            &[("id", id), ("nodeids", &worker)],
        )
        .await,
    );
    assert_eq!(down["size"], 1);
    assert!(
        down["virtualmachines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|vm| vm["id"] != worker.as_str())
    );
    // test_04
    let auto = cluster_of(
        &run_job(
            &admin,
            "scaleKubernetesCluster",
            &[
                ("id", id),
                ("autoscalingenabled", "true"),
                ("minsize", "1"),
                ("maxsize", "2"),
            ],
        )
        .await,
    );
    assert_eq!(
        (
            auto["autoscalingenabled"].as_bool(),
            auto["minsize"].as_i64(),
            auto["maxsize"].as_i64()
        ),
        (Some(true), Some(1), Some(2))
    );
    // An offering may only grow on a running cluster.
    let bigger = cluster_of(
        &run_job(
            &admin,
            "scaleKubernetesCluster",
            &[("id", id), ("serviceofferingid", &cat.large_offering)],
        )
        .await,
    );
    assert_eq!(bigger["serviceofferingid"], cat.large_offering.as_str());
    assert!(
        bigger["cpunumber"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
            > 4,
        "{bigger}"
    );
    let (status, body) = admin
        .call(
            "scaleKubernetesCluster",
            &[("id", id), ("serviceofferingid", &cat.node_offering)],
        )
        .await;
    assert_eq!(status, 530, "{body}");
    assert!(
        error_text(&body)
            .starts_with("Kubernetes cluster cannot be scaled down for service offering."),
        "{body}"
    );
    run_job(&admin, "deleteKubernetesCluster", &[("id", id)]).await;
    assert_no_leaks(&admin).await;
    assert_eq!(vm_count(&admin).await, 0);
}

#[tokio::test]
async fn scale_validation_uses_ckss_messages() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let cluster = cluster_of(&create(&admin, &cat, "v", &cat.old_version, &[]).await);
    let id = cluster["id"].as_str().unwrap();
    let cases: Vec<Case<&str, &str>> = vec![
        (
            vec![("id", id)],
            431,
            "Kubernetes cluster v cannot be scaled, either service offering or cluster size or nodeids to be removed or autoscaling must be passed",
        ),
        (
            vec![("id", id), ("size", "0")],
            431,
            "Kubernetes cluster : v cannot be scaled for size, 0",
        ),
        (
            vec![("id", id), ("size", "20")],
            431,
            "Maximum cluster size can not exceed 10. Please contact your administrator",
        ),
        (
            vec![("id", id), ("autoscalingenabled", "true")],
            431,
            "Autoscaling requires minsize and maxsize to be passed",
        ),
        (
            vec![
                ("id", id),
                ("autoscalingenabled", "true"),
                ("minsize", "0"),
                ("maxsize", "2"),
            ],
            431,
            "Minsize must be at least than 1",
        ),
        (
            vec![
                ("id", id),
                ("autoscalingenabled", "true"),
                ("minsize", "2"),
                ("maxsize", "2"),
            ],
            431,
            "Maxsize must be greater than minsize",
        ),
        (
            vec![("id", id), ("autoscalingenabled", "true"), ("size", "2")],
            431,
            "Autoscaling can not be passed along with nodeids or clustersize",
        ),
        (
            vec![
                ("id", id),
                ("nodeids", "11111111-2222-4333-8444-555555555555"),
            ],
            431,
            "Invalid node ids",
        ),
    ];
    for (params, code, message) in cases {
        let (status, body) = admin.call("scaleKubernetesCluster", &params).await;
        assert_eq!(
            (status, error_text(&body).as_str()),
            (code, message),
            "{params:?}"
        );
    }
    let worker = cluster["virtualmachines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|vm| vm["name"].as_str().unwrap().contains("-node-"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = admin
        .call(
            "scaleKubernetesCluster",
            &[("id", id), ("nodeids", &worker)],
        )
        .await;
    assert_eq!(
        (status, error_text(&body).as_str()),
        (431, "Can not remove all nodes from a cluster")
    );
}

#[tokio::test]
async fn stop_and_start_follow_the_state_machine() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let id = cluster_of(&create(&admin, &cat, "life", &cat.old_version, &[]).await)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // test_05
    let job = run_job(&admin, "stopKubernetesCluster", &[("id", &id)]).await;
    assert_eq!(job["jobresult"]["success"], true, "{job}");
    let stopped = get(&admin, &id).await;
    assert_eq!(stopped["state"], "Stopped");
    assert!(
        stopped["virtualmachines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|vm| vm["state"] == "Stopped")
    );
    // Stop of a stopped cluster: success without action.
    assert_eq!(
        run_job(&admin, "stopKubernetesCluster", &[("id", &id)]).await["jobstatus"],
        1
    );
    let (status, body) = admin
        .call(
            "upgradeKubernetesCluster",
            &[("id", &id), ("kubernetesversionid", &cat.new_version)],
        )
        .await;
    assert_eq!(
        (status, error_text(&body).as_str()),
        (431, "Kubernetes cluster : life is not in running state")
    );
    let started = cluster_of(&run_job(&admin, "startKubernetesCluster", &[("id", &id)]).await);
    assert_eq!(started["state"], "Running");
    assert_eq!(
        run_job(&admin, "startKubernetesCluster", &[("id", &id)]).await["jobstatus"],
        1,
        "start of a running cluster is a no-op"
    );
}

#[tokio::test]
async fn per_type_offerings_and_etcd_nodes_are_kept_and_shown() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    // test_12, with CKS's upper-case node types.
    let params = [
        ("nodeofferings[0].node", "WORKER"),
        ("nodeofferings[0].offering", cat.large_offering.as_str()),
        ("nodeofferings[1].node", "CONTROL"),
        ("nodeofferings[1].offering", cat.node_offering.as_str()),
        ("etcdnodes", "1"),
    ];
    let cluster = cluster_of(&create(&admin, &cat, "typed", &cat.old_version, &params).await);
    assert_eq!(cluster["workerofferingid"], cat.large_offering.as_str());
    assert_eq!(cluster["controlofferingid"], cat.node_offering.as_str());
    assert_eq!(cluster["etcdnodes"], 1);
    let vms = cluster["virtualmachines"].as_array().unwrap();
    assert_eq!(vms.len(), 3);
    assert_eq!(vms.iter().filter(|vm| vm["isetcdnode"] == true).count(), 1);
    let (_, pf) = admin
        .call("listPortForwardingRules", &[("listall", "true")])
        .await;
    let ports: Vec<String> = pf["listportforwardingrulesresponse"]["portforwardingrule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["publicport"].as_str().unwrap().to_string())
        .collect();
    assert!(
        ports.contains(&"50000".to_string()),
        "etcd node SSH on the etcd start port: {ports:?}"
    );
    // etcdips names the public IP that reaches the etcd node (CKS shows it; it was empty).
    let shown = get(&admin, cluster["id"].as_str().unwrap()).await;
    let ip_id = shown["ipaddressid"].as_str().unwrap();
    assert_eq!(
        shown["etcdips"],
        serde_json::json!({ ip_id: shown["ipaddress"].as_str().unwrap() }),
        "{shown}"
    );
    let plain = cluster_of(&create(&admin, &cat, "plain", &cat.old_version, &[]).await);
    assert_eq!(
        get(&admin, plain["id"].as_str().unwrap()).await["etcdips"],
        serde_json::json!({}),
        "no etcd nodes, no etcd IPs"
    );
    run_job(
        &admin,
        "deleteKubernetesCluster",
        &[("id", cluster["id"].as_str().unwrap())],
    )
    .await;
    assert_no_leaks(&admin).await;
}

#[tokio::test]
async fn create_validation_uses_ckss_messages_in_order() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let base = |extra: Vec<(&'static str, String)>| {
        let mut p: Vec<(&'static str, String)> = vec![
            ("name", "bad".into()),
            ("zoneid", cat.zone.clone()),
            ("kubernetesversionid", cat.old_version.clone()),
            ("serviceofferingid", cat.node_offering.clone()),
            ("size", "1".into()),
        ];
        for (k, v) in extra {
            p.retain(|(key, _)| *key != k);
            p.push((k, v));
        }
        p
    };
    let small = {
        let (_, o) = admin
            .call("listServiceOfferings", &[("name", "Small Instance")])
            .await;
        o["listserviceofferingsresponse"]["serviceoffering"][0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let cases: Vec<Case<String, String>> = vec![
        (base(vec![("size", "0".into())]), 431, "Invalid cluster size: 0".into()),
        (base(vec![("controlnodes", "0".into())]), 431, "Invalid cluster control nodes count: 0".into()),
        (base(vec![("size", "10".into())]), 431, "Maximum cluster size can not exceed 10. Please contact your administrator".into()),
        (base(vec![("zoneid", "11111111-2222-4333-8444-555555555555".into())]), 431, "Unable to execute API command createkubernetescluster due to invalid value. Invalid parameter zoneid value=11111111-2222-4333-8444-555555555555 due to incorrect long value format, or entity does not exist or due to incorrect parameter annotation for the field in api cmd class.".into()),
        (base(vec![("noderootdisksize", "4".into())]), 431, "Provided node root disk size is lesser than default size of 8GB".into()),
        (base(vec![("clustertype", "Hybrid".into())]), 431, "Unable to resolve cluster type Hybrid to a supported value (CloudManaged, ExternalManaged)".into()),
        (base(vec![("keypair", "nope".into())]), 431, "Given SSH key pair with name: nope was not found for the account admin".into()),
        (base(vec![("dockerregistryurl", "https://r.example".into())]), 431, "All the docker private registry parameters (username, password, url) required are specified".into()),
        (
            base(vec![("dockerregistryurl", "https://r.example".into()), ("dockerregistryusername", "u".into()), ("dockerregistrypassword", "p".into())]),
            530,
            "Private registry for the Kubernetes cluster is an experimental feature. Use cloud.kubernetes.cluster.experimental.features.enabled configuration for enabling experimental features".into(),
        ),
        (
            base(vec![("serviceofferingid", small.clone())]),
            431,
            format!("Given service offering ID: {small} for WORKER nodes is not suitable for the Kubernetes cluster version 1.32.4 - Kubernetes cluster cannot be created with service offering ID: {small}, Kubernetes cluster template needs minimum 2 vCPUs and 2048 MB RAM"),
        ),
        (base(vec![("nodeofferings[0].node", "master".into()), ("nodeofferings[0].offering", small.clone())]), 431, "The provided value 'master' for Node Type is invalid".into()),
    ];
    for (params, code, message) in cases {
        let refs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = admin.call("createKubernetesCluster", &refs).await;
        assert_eq!((status, error_text(&body)), (code, message), "{params:?}");
    }
    // A disabled version cannot be used.
    admin
        .call(
            "updateKubernetesSupportedVersion",
            &[("id", &cat.old_version), ("state", "Disabled")],
        )
        .await;
    let refs: Vec<(&str, String)> = base(vec![]);
    let refs: Vec<(&str, &str)> = refs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = admin.call("createKubernetesCluster", &refs).await;
    assert_eq!(
        (status, error_text(&body)),
        (
            431,
            format!(
                "Kubernetes version ID: {} is in Disabled state",
                cat.old_version
            )
        )
    );
    let (_, list) = admin.call("listKubernetesClusters", &[]).await;
    assert!(
        list["listkubernetesclustersresponse"]["kubernetescluster"].is_null(),
        "nothing was created: {list}"
    );
}

#[tokio::test]
async fn users_never_see_or_touch_another_accounts_cluster() {
    let srv = TestServer::start();
    let (alice, _) = srv.account("alice", 0, None).await;
    let (bob, _) = srv.account("bob", 0, None).await;
    let (alice, bob) = (srv.client(alice), srv.client(bob));
    let cat = catalog(&alice).await;
    let id = cluster_of(&create(&alice, &cat, "private", &cat.old_version, &[]).await)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, list) = bob.call("listKubernetesClusters", &[]).await;
    assert!(
        list["listkubernetesclustersresponse"]["kubernetescluster"].is_null(),
        "{list}"
    );
    for command in [
        "getKubernetesClusterConfig",
        "stopKubernetesCluster",
        "deleteKubernetesCluster",
    ] {
        let (status, body) = bob.call(command, &[("id", &id)]).await;
        assert_eq!(status, 431, "{command}: {body}");
        // As for an id that exists nowhere: CloudStack's "entity does not exist".
        assert!(
            error_text(&body).contains(&format!("Invalid parameter id value={id} due to incorrect long value format, or entity does not exist")),
            "{command}: {body}"
        );
    }
    let (_, vms) = bob.call("listVirtualMachines", &[]).await;
    assert!(vms["listvirtualmachinesresponse"]["virtualmachine"].is_null());
    assert_eq!(get(&alice, &id).await["state"], "Running");
    // The root admin sees it with listall.
    let (_, all) = srv
        .admin()
        .call("listKubernetesClusters", &[("listall", "true")])
        .await;
    assert_eq!(all["listkubernetesclustersresponse"]["count"], 1);
}

#[tokio::test]
async fn externally_managed_clusters_only_support_create_list_and_delete() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    // test_11: no version, no offering.
    let (id, job) = submit_create(
        &admin,
        &[
            ("name", "ext"),
            ("zoneid", &cat.zone),
            ("clustertype", "ExternalManaged"),
        ],
    )
    .await;
    let cluster = cluster_of(&admin.wait_job(&job).await);
    assert_eq!(
        (cluster["state"].as_str(), cluster["clustertype"].as_str()),
        (Some("Running"), Some("ExternalManaged"))
    );
    for (command, message) in [
        (
            "stopKubernetesCluster",
            "Stop kubernetes cluster is not supported for an externally managed cluster (ext)",
        ),
        (
            "startKubernetesCluster",
            "Start kubernetes cluster is not supported for an externally managed cluster (ext)",
        ),
    ] {
        let (status, body) = admin.call(command, &[("id", &id)]).await;
        assert_eq!((status, error_text(&body).as_str()), (431, message));
    }
    let (status, body) = admin
        .call(
            "upgradeKubernetesCluster",
            &[("id", &id), ("kubernetesversionid", &cat.new_version)],
        )
        .await;
    assert_eq!(
        (status, error_text(&body).as_str()),
        (
            431,
            "Upgrade kubernetes cluster is not supported for an externally managed cluster (ext)"
        )
    );
    assert_eq!(
        run_job(&admin, "deleteKubernetesCluster", &[("id", &id)]).await["jobstatus"],
        1
    );
    assert_eq!(vm_count(&admin).await, 0);
}

#[tokio::test]
async fn a_failed_create_lands_in_error_with_its_reason_and_can_be_deleted_cleanly() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let (status, body) = admin
        .call(
            "injectSimulatorFault",
            &[("fault", "failvmdeploys"), ("count", "1")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let job = create(&admin, &cat, "doomed", &cat.old_version, &[]).await;
    assert_eq!(job["jobstatus"], 2, "{job}");
    assert_eq!(job["jobresult"]["errorcode"], 530);
    let id = job["jobinstanceid"].as_str().unwrap().to_string();
    let cluster = get(&admin, &id).await;
    assert_eq!(cluster["state"], "Error");
    assert!(
        cluster["lasterror"]
            .as_str()
            .unwrap()
            .contains("Provisioning the cluster failed"),
        "{cluster}"
    );
    let deleted = run_job(&admin, "deleteKubernetesCluster", &[("id", &id)]).await;
    assert_eq!(deleted["jobstatus"], 1, "{deleted}");
    assert_eq!(vm_count(&admin).await, 0);
    assert_no_leaks(&admin).await;

    // No host with room: the same, and the reason says so.
    admin
        .call("injectSimulatorFault", &[("fault", "exhaustcapacity")])
        .await;
    let job = create(&admin, &cat, "crowded", &cat.old_version, &[]).await;
    assert_eq!(job["jobstatus"], 2, "{job}");
    let id = job["jobinstanceid"].as_str().unwrap().to_string();
    assert_eq!(get(&admin, &id).await["state"], "Error");
    admin
        .call("injectSimulatorFault", &[("fault", "clear")])
        .await;
    assert_eq!(
        run_job(&admin, "deleteKubernetesCluster", &[("id", &id)]).await["jobstatus"],
        1
    );
    assert_no_leaks(&admin).await;
}

#[tokio::test]
async fn the_scanner_raises_alert_on_faults_and_recovers_after_them() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
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
    let cluster = cluster_of(&create(&admin, &cat, "watched", &cat.old_version, &[]).await);
    let id = cluster["id"].as_str().unwrap();
    let ip_id = cluster["ipaddressid"].as_str().unwrap();
    // An unreachable API endpoint.
    admin
        .call(
            "injectSimulatorFault",
            &[("fault", "endpointunreachable"), ("ipaddressid", ip_id)],
        )
        .await;
    let alert = wait_state(&admin, id, "Alert").await;
    assert!(
        alert["lasterror"].as_str().unwrap().contains("unreachable"),
        "{alert}"
    );
    admin
        .call(
            "injectSimulatorFault",
            &[
                ("fault", "endpointunreachable"),
                ("ipaddressid", ip_id),
                ("enabled", "false"),
            ],
        )
        .await;
    wait_state(&admin, id, "Running").await;
    // A node VM stopped behind the service's back.
    let worker = cluster["virtualmachines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|vm| vm["name"].as_str().unwrap().contains("-node-"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin
        .call(
            "injectSimulatorFault",
            &[("fault", "stopvm"), ("virtualmachineid", &worker)],
        )
        .await;
    let alert = wait_state(&admin, id, "Alert").await;
    assert!(
        alert["lasterror"].as_str().unwrap().contains("running"),
        "{alert}"
    );
    // Starting an Alert cluster repairs it (CKS has no way out of Alert but waiting).
    let started = cluster_of(&run_job(&admin, "startKubernetesCluster", &[("id", id)]).await);
    assert_eq!(started["state"], "Running");
}

#[tokio::test]
async fn a_delete_during_a_create_stops_it_and_leaves_nothing_behind() {
    let srv = TestServer::start_realistic();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let (id, create_job) = submit_create(
        &admin,
        &[
            ("name", "short-lived"),
            ("zoneid", &cat.zone),
            ("kubernetesversionid", &cat.old_version),
            ("serviceofferingid", &cat.node_offering),
            ("size", "2"),
        ],
    )
    .await;
    // Wait until VMs are being deployed, then delete.
    wait_for_deploy_step(&admin, &id).await;
    let delete = run_job(&admin, "deleteKubernetesCluster", &[("id", &id)]).await;
    assert_eq!(delete["jobstatus"], 1, "{delete}");
    let create = admin.wait_job(&create_job).await;
    assert_eq!(create["jobstatus"], 2, "the create was stopped: {create}");
    assert!(
        create["jobresult"]["errortext"]
            .as_str()
            .unwrap()
            .contains("aborted"),
        "{create}"
    );
    assert_eq!(vm_count(&admin).await, 0);
    assert_no_leaks(&admin).await;
}

#[tokio::test]
async fn a_second_delete_while_one_runs_fails_neither_and_both_end_when_it_is_gone() {
    let srv = TestServer::start_realistic();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let (id, _create) = submit_create(
        &admin,
        &[
            ("name", "twice-deleted"),
            ("zoneid", &cat.zone),
            ("kubernetesversionid", &cat.old_version),
            ("serviceofferingid", &cat.node_offering),
            ("size", "1"),
        ],
    )
    .await;
    wait_for_deploy_step(&admin, &id).await;
    let mut jobs = Vec::new();
    for _ in 0..2 {
        let (status, body) = admin.call("deleteKubernetesCluster", &[("id", &id)]).await;
        assert_eq!(status, 200, "{body}");
        jobs.push(
            inner(&body, "deleteKubernetesCluster")["jobid"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for job in &jobs {
        let done = admin.wait_job(job).await;
        assert_eq!(done["jobstatus"], 1, "each delete succeeds: {done}");
    }
    let (_, list) = admin.call("listKubernetesClusters", &[("id", &id)]).await;
    assert!(
        inner(&list, "listKubernetesClusters")["kubernetescluster"].is_null(),
        "{list}"
    );
    assert_eq!(vm_count(&admin).await, 0);
    assert_no_leaks(&admin).await;
}

#[tokio::test]
async fn a_create_survives_a_kill_of_the_server_and_finishes_after_restart() {
    let mut srv = TestServer::start_realistic();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let (id, job) = submit_create(
        &admin,
        &[
            ("name", "resilient"),
            ("zoneid", &cat.zone),
            ("kubernetesversionid", &cat.old_version),
            ("serviceofferingid", &cat.node_offering),
            ("size", "1"),
        ],
    )
    .await;
    wait_for_deploy_step(&admin, &id).await;
    srv.restart();
    let admin = srv.admin();
    let job = admin.wait_job(&job).await;
    let cluster = cluster_of(&job);
    assert_eq!(cluster["state"], "Running");
    assert_eq!(
        cluster["virtualmachines"].as_array().unwrap().len(),
        2,
        "no duplicate VMs: {cluster}"
    );
    assert_eq!(vm_count(&admin).await, 2);
}

#[tokio::test]
async fn a_failed_scale_leaves_the_cluster_in_alert_and_its_delete_leaves_nothing() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let id = cluster_of(&create(&admin, &cat, "unlucky", &cat.old_version, &[]).await)["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin
        .call(
            "injectSimulatorFault",
            &[("fault", "failvmdeploys"), ("count", "1")],
        )
        .await;
    let job = run_job(
        &admin,
        "scaleKubernetesCluster",
        &[("id", &id), ("size", "3")],
    )
    .await;
    assert_eq!(job["jobstatus"], 2, "{job}");
    let cluster = get(&admin, &id).await;
    assert_eq!(cluster["state"], "Alert");
    assert_eq!(cluster["operation"], "scale");
    assert!(
        cluster["lasterror"]
            .as_str()
            .unwrap()
            .contains("deploying node VMs"),
        "{cluster}"
    );
    let deleted = run_job(&admin, "deleteKubernetesCluster", &[("id", &id)]).await;
    assert_eq!(deleted["jobstatus"], 1, "{deleted}");
    assert_eq!(vm_count(&admin).await, 0);
    assert_no_leaks(&admin).await;
}

/// Runs a delete while the cloud refuses every call for longer than the delete's budget (a
/// second: a transient failure is retried while the budget lasts), then heals the cloud and
/// restores the budget. Returns the delete's job.
pub(crate) async fn delete_while_the_cloud_is_unavailable(admin: &Client, id: &str) -> Value {
    let timeout = "cloud.kubernetes.cluster.start.timeout";
    let (status, body) = admin
        .call("updateConfiguration", &[("name", timeout), ("value", "1")])
        .await;
    assert_eq!(status, 200, "{body}");
    admin
        .call(
            "injectSimulatorFault",
            &[("fault", "unavailable"), ("count", "1000000")],
        )
        .await;
    let job = run_job(admin, "deleteKubernetesCluster", &[("id", id)]).await;
    admin
        .call("injectSimulatorFault", &[("fault", "clear")])
        .await;
    let (status, body) = admin
        .call(
            "updateConfiguration",
            &[("name", timeout), ("value", "3600")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    job
}

#[tokio::test]
async fn a_delete_retries_a_cloud_unavailable_for_a_moment_and_leaves_nothing() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let id = cluster_of(&create(&admin, &cat, "patient", &cat.old_version, &[]).await)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Unavailable is transient: the step that meets it runs again after a backoff.
    admin
        .call(
            "injectSimulatorFault",
            &[("fault", "unavailable"), ("count", "3")],
        )
        .await;
    let job = run_job(&admin, "deleteKubernetesCluster", &[("id", &id)]).await;
    assert_eq!(job["jobstatus"], 1, "{job}");
    assert_eq!(vm_count(&admin).await, 0);
    assert_no_leaks(&admin).await;
}

#[tokio::test]
async fn the_garbage_collector_finishes_a_delete_that_failed() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let id = cluster_of(&create(&admin, &cat, "sticky", &cat.old_version, &[]).await)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The cloud refuses calls for longer than the delete's budget: the delete fails part-way.
    let job = delete_while_the_cloud_is_unavailable(&admin, &id).await;
    assert_eq!(job["jobstatus"], 2, "{job}");
    let cluster = get(&admin, &id).await;
    assert_eq!(cluster["state"], "Destroying", "{cluster}");
    assert!(cluster["lasterror"].as_str().is_some(), "{cluster}");
    // The scanner's garbage collection runs the delete again.
    admin
        .call(
            "updateConfiguration",
            &[
                ("name", "cloud.kubernetes.cluster.scanner.interval"),
                ("value", "1"),
            ],
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, list) = admin
            .call("listKubernetesClusters", &[("listall", "true")])
            .await;
        if list["listkubernetesclustersresponse"]["kubernetescluster"].is_null() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the delete was never finished: {list}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(vm_count(&admin).await, 0);
    assert_no_leaks(&admin).await;
}
