//! The operator's view of cluster operations: the step journal of a job, aborting a running
//! operation, retrying a failed one, and the forced delete.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::clusters::delete_while_the_cloud_is_unavailable;
use crate::harness::{
    Client, TestServer, assert_no_leaks, catalog, cluster_of, create, error_text, get, inner,
    run_job, submit_create, vm_count, wait_for_deploy_step,
};

const ABORTED: &str = "Operation aborted by an administrator";

/// The plan of a create, in order.
const CREATE_STEPS: [&str; 14] = [
    "network",
    "public-ip",
    "plan-nodes",
    "pki",
    "deploy-etcd-nodes",
    "deploy-first-control-node",
    "deploy-other-nodes",
    "network-rules",
    "attach-iso",
    "wait-api",
    "wait-nodes-ready",
    "detach-iso",
    "kubeconfig",
    "dashboard",
];

async fn steps(c: &Client, params: &[(&str, &str)]) -> Vec<Value> {
    let (status, body) = c.call("listAsyncJobSteps", params).await;
    assert_eq!(status, 200, "listAsyncJobSteps: {body}");
    inner(&body, "listAsyncJobSteps")["asyncjobstep"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn names(steps: &[Value]) -> Vec<&str> {
    steps.iter().map(|s| s["name"].as_str().unwrap()).collect()
}

fn id_of(job: &Value) -> String {
    job["jobinstanceid"].as_str().unwrap().to_string()
}

/// Polls the cluster until `ready` holds for it.
async fn wait_cluster(c: &Client, id: &str, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let cluster = get(c, id).await;
        if ready(&cluster) {
            return cluster;
        }
        assert!(Instant::now() < deadline, "never {what}: {cluster}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn no_clusters_left(admin: &Client) {
    let (_, list) = admin
        .call("listKubernetesClusters", &[("listall", "true")])
        .await;
    assert!(
        list["listkubernetesclustersresponse"]["kubernetescluster"].is_null(),
        "{list}"
    );
}

#[tokio::test]
async fn the_steps_of_a_create_are_listed_in_order_to_admins_only() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let (status, body) = admin.call("createDomain", &[("name", "mine")]).await;
    assert_eq!(status, 200, "{body}");
    let mine = body["createdomainresponse"]["domain"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = admin.call("createDomain", &[("name", "other")]).await;
    assert_eq!(status, 200, "{body}");
    let other = body["createdomainresponse"]["domain"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (carol, _) = srv.account("carol", 0, Some(&mine)).await;
    let (dave, _) = srv.account("dave", 2, Some(&mine)).await;
    let (eve, _) = srv.account("eve", 2, Some(&other)).await;
    let (carol, dave, eve) = (srv.client(carol), srv.client(dave), srv.client(eve));
    let cat = catalog(&carol).await;
    let job = create(&carol, &cat, "journaled", &cat.old_version, &[]).await;
    let id = cluster_of(&job)["id"].as_str().unwrap().to_string();
    let job_id = job["jobid"].as_str().unwrap().to_string();

    let listed = steps(&admin, &[("jobid", &job_id)]).await;
    assert_eq!(names(&listed), CREATE_STEPS);
    for s in &listed {
        assert_eq!(s["state"], "Succeeded", "{s}");
        assert_eq!(s["attempts"], 1, "{s}");
        assert_eq!(s["jobid"], job_id.as_str());
        for time in ["created", "started", "completed"] {
            let t = s[time].as_str().unwrap_or_else(|| panic!("{time}: {s}"));
            assert!(t.ends_with("+0000") && t.contains('T'), "{time}: {t}");
        }
        assert!(s["managementserverid"].is_string(), "{s}");
        assert!(s["errortext"].is_null(), "{s}");
    }
    // By cluster: its last operation.
    assert_eq!(steps(&admin, &[("clusterid", &id)]).await, listed);
    // The domain admin of the owner's domain sees them, one of another domain does not.
    assert_eq!(
        names(&steps(&dave, &[("jobid", &job_id)]).await),
        CREATE_STEPS
    );
    let (status, body) = eve.call("listAsyncJobSteps", &[("jobid", &job_id)]).await;
    assert_eq!(status, 431, "{body}");
    let (status, body) = eve.call("listAsyncJobSteps", &[("clusterid", &id)]).await;
    assert_eq!(status, 431, "{body}");
    assert!(
        error_text(&body).contains("entity does not exist"),
        "{body}"
    );
    for command in [
        "retryKubernetesClusterOperation",
        "abortKubernetesClusterOperation",
    ] {
        let (status, body) = eve.call(command, &[("id", &id)]).await;
        assert_eq!(status, 431, "{command}: {body}");
        assert!(
            error_text(&body).contains("entity does not exist"),
            "{command}: {body}"
        );
    }
    // Users are not offered the admin commands at all, nor a forced delete.
    for (command, param) in [
        ("listAsyncJobSteps", "jobid"),
        ("retryKubernetesClusterOperation", "id"),
        ("abortKubernetesClusterOperation", "id"),
    ] {
        let value = if param == "jobid" { &job_id } else { &id };
        let (status, body) = carol.call(command, &[(param, value)]).await;
        assert_eq!(
            (status, error_text(&body).as_str()),
            (
                401,
                "The given command does not exist or it is not available for user"
            ),
            "{command}"
        );
    }
    let (status, body) = carol
        .call(
            "deleteKubernetesCluster",
            &[("id", &id), ("forced", "true")],
        )
        .await;
    assert_eq!(
        (status, error_text(&body).as_str()),
        (531, "Parameter forced can be passed by Admin only")
    );
    assert_eq!(get(&carol, &id).await["state"], "Running");
    // Neither parameter: CloudStack's missing-parameter error.
    let (status, body) = admin.call("listAsyncJobSteps", &[]).await;
    assert_eq!(
        (status, error_text(&body).as_str()),
        (
            431,
            "Unable to execute API command listasyncjobsteps due to missing parameter jobid"
        )
    );
    // A finished operation has nothing to retry or abort.
    for (command, text) in [
        (
            "retryKubernetesClusterOperation",
            "has no failed or stuck operation to retry",
        ),
        (
            "abortKubernetesClusterOperation",
            "has no operation in progress to abort",
        ),
    ] {
        let (status, body) = admin.call(command, &[("id", &id)]).await;
        assert_eq!(status, 431, "{command}: {body}");
        assert!(error_text(&body).contains(text), "{command}: {body}");
    }
}

#[tokio::test]
async fn a_failed_create_is_retried_to_running_without_redoing_its_done_steps() {
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
    let failed = create(&admin, &cat, "second-try", &cat.old_version, &[]).await;
    assert_eq!(failed["jobstatus"], 2, "{failed}");
    let failed_id = failed["jobid"].as_str().unwrap().to_string();
    let id = id_of(&failed);
    let cluster = get(&admin, &id).await;
    assert_eq!(cluster["state"], "Error");
    assert_eq!(cluster["operation"], "create");
    assert_eq!(cluster["jobid"], failed_id.as_str());

    // The journal shows where it failed and why.
    let before = steps(&admin, &[("jobid", &failed_id)]).await;
    assert_eq!(names(&before), CREATE_STEPS);
    let at = before
        .iter()
        .position(|s| s["state"] == "Failed")
        .expect("a failed step");
    assert_eq!(before[at]["name"], "deploy-first-control-node");
    assert!(
        before[at]["errortext"]
            .as_str()
            .unwrap()
            .contains("Provisioning the cluster failed"),
        "{}",
        before[at]
    );
    assert!(before[..at].iter().all(|s| s["state"] == "Succeeded"));
    assert!(before[at + 1..].iter().all(|s| s["state"] == "Pending"));

    let retried = run_job(&admin, "retryKubernetesClusterOperation", &[("id", &id)]).await;
    let cluster = cluster_of(&retried);
    assert_eq!(cluster["state"], "Running");
    assert_eq!(
        cluster["virtualmachines"].as_array().unwrap().len(),
        2,
        "{cluster}"
    );
    assert_eq!(vm_count(&admin).await, 2, "no duplicate VMs");
    assert!(cluster["lasterror"].is_null(), "{cluster}");

    // The retry kept the done steps as they were and ran the rest once more.
    let retry_id = retried["jobid"].as_str().unwrap();
    assert_ne!(retry_id, failed_id);
    let after = steps(&admin, &[("clusterid", &id)]).await;
    assert_eq!(names(&after), CREATE_STEPS);
    assert!(after.iter().all(|s| s["state"] == "Succeeded"), "{after:?}");
    for (old, new) in before[..at].iter().zip(&after) {
        assert_eq!(new["attempts"], 1, "{new}");
        assert_eq!(new["started"], old["started"], "{} redone", new["name"]);
    }
    assert_eq!(after[at]["attempts"], 2, "{}", after[at]);
    // Nothing left to retry.
    let (status, body) = admin
        .call("retryKubernetesClusterOperation", &[("id", &id)])
        .await;
    assert_eq!(status, 431, "{body}");
}

#[tokio::test]
async fn a_create_stuck_waiting_is_aborted_into_error_and_retried_once_reachable() {
    let srv = TestServer::start_realistic();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let (id, create_job) = submit_create(
        &admin,
        &[
            ("name", "unreachable"),
            ("zoneid", &cat.zone),
            ("kubernetesversionid", &cat.old_version),
            ("serviceofferingid", &cat.node_offering),
            ("size", "1"),
        ],
    )
    .await;
    // The API endpoint never answers, so the create waits for it (an hour by default).
    let cluster = wait_cluster(&admin, &id, "given a public IP", |c| {
        c["ipaddressid"].is_string()
    })
    .await;
    let ip_id = cluster["ipaddressid"].as_str().unwrap().to_string();
    let (status, body) = admin
        .call(
            "injectSimulatorFault",
            &[("fault", "endpointunreachable"), ("ipaddressid", &ip_id)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_cluster(&admin, &id, "waiting for the API", |c| {
        c["step"] == "wait-api"
    })
    .await;

    let (status, body) = admin
        .call("abortKubernetesClusterOperation", &[("id", &id)])
        .await;
    assert_eq!(status, 200, "{body}");
    let aborted = &inner(&body, "abortKubernetesClusterOperation")["kubernetescluster"];
    // Its nodes were never ready: a create that fails there ends in Error.
    assert_eq!(aborted["state"], "Error", "{aborted}");
    assert_eq!(aborted["lasterror"], ABORTED);
    assert_eq!(aborted["operation"], "create");
    assert_eq!(aborted["step"], "wait-api");

    let job = admin.wait_job(&create_job).await;
    assert_eq!(job["jobstatus"], 2, "{job}");
    assert_eq!(job["jobresult"]["errortext"], ABORTED, "{job}");
    let journal = steps(&admin, &[("jobid", &create_job)]).await;
    let wait_api = journal.iter().find(|s| s["name"] == "wait-api").unwrap();
    assert_eq!(wait_api["state"], "Failed", "{wait_api}");
    assert_eq!(wait_api["errortext"], ABORTED);
    assert_eq!(journal.last().unwrap()["state"], "Pending");
    let cluster = get(&admin, &id).await;
    assert_eq!(cluster["state"], "Error");
    assert_eq!(cluster["lasterror"], ABORTED);
    let (status, body) = admin
        .call("abortKubernetesClusterOperation", &[("id", &id)])
        .await;
    assert_eq!(status, 431, "nothing left to abort: {body}");

    // Reachable again: the retry resumes at the step that was aborted.
    admin
        .call(
            "injectSimulatorFault",
            &[
                ("fault", "endpointunreachable"),
                ("ipaddressid", &ip_id),
                ("enabled", "false"),
            ],
        )
        .await;
    let retried = run_job(&admin, "retryKubernetesClusterOperation", &[("id", &id)]).await;
    let cluster = cluster_of(&retried);
    assert_eq!(cluster["state"], "Running");
    assert_eq!(vm_count(&admin).await, 2, "no duplicate VMs");
    let journal = steps(&admin, &[("clusterid", &id)]).await;
    let deploy = journal
        .iter()
        .find(|s| s["name"] == "deploy-first-control-node")
        .unwrap();
    assert_eq!(deploy["attempts"], 1, "not redone: {deploy}");
}

#[tokio::test]
async fn a_forced_delete_stops_a_running_create_and_leaves_nothing() {
    let srv = TestServer::start_realistic();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let (id, create_job) = submit_create(
        &admin,
        &[
            ("name", "cut-short"),
            ("zoneid", &cat.zone),
            ("kubernetesversionid", &cat.old_version),
            ("serviceofferingid", &cat.node_offering),
            ("size", "2"),
        ],
    )
    .await;
    wait_for_deploy_step(&admin, &id).await;
    let deleted = run_job(
        &admin,
        "deleteKubernetesCluster",
        &[("id", &id), ("forced", "true")],
    )
    .await;
    assert_eq!(deleted["jobstatus"], 1, "{deleted}");
    let create = admin.wait_job(&create_job).await;
    assert_eq!(create["jobstatus"], 2, "{create}");
    assert!(
        create["jobresult"]["errortext"]
            .as_str()
            .unwrap()
            .contains("aborted"),
        "{create}"
    );
    no_clusters_left(&admin).await;
    assert_eq!(vm_count(&admin).await, 0);
    assert_no_leaks(&admin).await;
    // The delete's journal stays readable for the removed cluster.
    let journal = steps(&admin, &[("clusterid", &id)]).await;
    assert_eq!(
        names(&journal),
        ["await-operation", "destroy-vms", "release-network", "sweep"]
    );
    assert!(journal.iter().all(|s| s["state"] == "Succeeded"));
}

#[tokio::test]
async fn a_forced_delete_clears_a_cluster_in_error_and_one_whose_delete_failed() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    admin
        .call(
            "injectSimulatorFault",
            &[("fault", "failvmdeploys"), ("count", "1")],
        )
        .await;
    let job = create(&admin, &cat, "broken", &cat.old_version, &[]).await;
    assert_eq!(job["jobstatus"], 2, "{job}");
    let broken = id_of(&job);
    assert_eq!(get(&admin, &broken).await["state"], "Error");
    let deleted = run_job(
        &admin,
        "deleteKubernetesCluster",
        &[("id", &broken), ("forced", "true")],
    )
    .await;
    assert_eq!(deleted["jobstatus"], 1, "{deleted}");
    no_clusters_left(&admin).await;
    assert_eq!(vm_count(&admin).await, 0);
    assert_no_leaks(&admin).await;

    // A delete that failed part-way leaves Destroying; a forced one finishes it.
    let sticky = cluster_of(&create(&admin, &cat, "sticky", &cat.old_version, &[]).await)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let job = delete_while_the_cloud_is_unavailable(&admin, &sticky).await;
    assert_eq!(job["jobstatus"], 2, "{job}");
    let cluster = get(&admin, &sticky).await;
    assert_eq!(cluster["state"], "Destroying", "{cluster}");
    assert!(cluster["lasterror"].is_string(), "{cluster}");
    let deleted = run_job(
        &admin,
        "deleteKubernetesCluster",
        &[("id", &sticky), ("forced", "true")],
    )
    .await;
    assert_eq!(deleted["jobstatus"], 1, "{deleted}");
    no_clusters_left(&admin).await;
    assert_eq!(vm_count(&admin).await, 0);
    assert_no_leaks(&admin).await;
}
