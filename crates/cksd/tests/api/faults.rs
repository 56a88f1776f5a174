//! Faults are loud and quick: a public range another database uses, an endpoint address another
//! process holds, a node whose VM was never made. Each fails at once with a reason that says
//! what to do, or is repaired; none waits for an hour.

use crate::harness::{TestServer, reserve_public_range, start_refused};
use crate::harness::{catalog, cluster_of, create, get, run_job, submit_create};

/// The /24 prefix of a test range: `127.20.3.0/24` → `127.20.3.`.
fn prefix(range: &str) -> String {
    range.trim_end_matches("0/24").to_string()
}

#[tokio::test]
async fn a_second_database_on_a_range_in_use_refuses_to_start_and_names_the_flag() {
    let first = TestServer::start();
    let refused = start_refused(
        &[
            "--instant-simulator",
            "--simulator-public-range",
            &first.public_range,
        ],
        &[],
    );
    assert!(
        refused.contains("--simulator-public-range")
            && refused.contains(&first.public_range)
            && refused.contains("another database"),
        "{refused}"
    );
    // Instances of the first's database share its range.
    let sibling = first.sibling(&["--instant-simulator"]);
    let (status, body) = sibling.admin().call("listZones", &[]).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_seeded_range_another_database_took_meanwhile_refuses_the_restart() {
    let mut srv = TestServer::start();
    srv.kill();
    let _other = TestServer::start_with(&[
        "--instant-simulator",
        "--simulator-public-range",
        &srv.public_range,
    ]);
    let refused = srv.restart_refused();
    assert!(
        refused.contains("this database's simulated public range")
            && refused.contains("--simulator-public-range"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_first_start_without_a_range_takes_a_free_one_and_keeps_it() {
    // Two reserved ranges stand in for the machine's default and the next one.
    let (taken, _taken_lock) = reserve_public_range();
    let (free, _free_lock) = reserve_public_range();
    let _holder =
        TestServer::start_with(&["--instant-simulator", "--simulator-public-range", &taken]);
    let defaults = format!("{taken},{free}");
    let mut srv = TestServer::start_without_range(
        &["--instant-simulator"],
        &[("CKS_SIMULATOR_DEFAULT_RANGES", &defaults)],
    );
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let first = cluster_of(&create(&admin, &cat, "picked", &cat.old_version, &[]).await);
    let ip = first["ipaddress"].as_str().unwrap_or_default().to_string();
    assert!(ip.starts_with(&prefix(&free)), "{ip} is not in {free}");
    // The range picked is the database's: a restart without the list keeps it.
    srv.restart();
    let admin = srv.admin();
    let second = cluster_of(&create(&admin, &cat, "kept", &cat.old_version, &[]).await);
    let ip = second["ipaddress"].as_str().unwrap_or_default().to_string();
    assert!(ip.starts_with(&prefix(&free)), "{ip} is not in {free}");
}

#[tokio::test]
async fn an_endpoint_address_held_by_another_process_fails_the_create_within_seconds() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    // A process that is no cksd of this database holds port 6443 on the range's first
    // addresses: the cluster's endpoint is one of them.
    let base = prefix(&srv.public_range);
    let _squatters: Vec<std::net::TcpListener> = (2..18)
        .map(|last| std::net::TcpListener::bind(format!("{base}{last}:6443")).expect("bind"))
        .collect();
    let (id, job) = submit_create(
        &admin,
        &[
            ("name", "squatted"),
            ("zoneid", cat.zone.as_str()),
            ("kubernetesversionid", cat.old_version.as_str()),
            ("serviceofferingid", cat.node_offering.as_str()),
            ("size", "1"),
        ],
    )
    .await;
    // Without the conflict reported, wait-api waits for the start timeout (an hour): the wait
    // for the job would give up after a minute.
    let job = admin.wait_job(&job).await;
    assert_eq!(job["jobstatus"], 2, "{job}");
    let cluster = get(&admin, &id).await;
    let reason = cluster["lasterror"].as_str().unwrap_or_default();
    assert!(
        reason.contains("held by another process")
            && reason.contains("--simulator-public-range")
            && reason.contains("unable to provision API endpoint"),
        "{cluster}"
    );
    assert_eq!(cluster["state"], "Error", "{cluster}");
}

#[tokio::test]
async fn a_start_after_a_failed_scale_up_drops_the_worker_that_was_never_made() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let id = cluster_of(&create(&admin, &cat, "half-scaled", &cat.old_version, &[]).await)["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin
        .call(
            "injectSimulatorFault",
            &[("fault", "failvmdeploys"), ("count", "1")],
        )
        .await;
    let scaled = run_job(
        &admin,
        "scaleKubernetesCluster",
        &[("id", &id), ("size", "2")],
    )
    .await;
    assert_eq!(scaled["jobstatus"], 2, "{scaled}");
    assert_eq!(get(&admin, &id).await["state"], "Alert");
    // The new worker's row has no VM: the start must not wait for it.
    let started = run_job(&admin, "startKubernetesCluster", &[("id", &id)]).await;
    assert_eq!(started["jobstatus"], 1, "{started}");
    let cluster = get(&admin, &id).await;
    assert_eq!(cluster["state"], "Running", "{cluster}");
    assert_eq!(cluster["size"], 1, "{cluster}");
    // And the cluster scales up again as asked before.
    let scaled = run_job(
        &admin,
        "scaleKubernetesCluster",
        &[("id", &id), ("size", "2")],
    )
    .await;
    assert_eq!(scaled["jobstatus"], 1, "{scaled}");
    assert_eq!(get(&admin, &id).await["size"], 2);
}

#[tokio::test]
async fn the_scanner_drops_a_worker_never_made_and_the_size_counts_what_the_cluster_has() {
    let srv = TestServer::start();
    let admin = srv.admin();
    let cat = catalog(&admin).await;
    let id = cluster_of(&create(&admin, &cat, "partly-scaled", &cat.old_version, &[]).await)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Of the two new workers one deploy fails: the cluster has two workers, one row has no VM.
    admin
        .call(
            "injectSimulatorFault",
            &[("fault", "failvmdeploys"), ("count", "1")],
        )
        .await;
    let scaled = run_job(
        &admin,
        "scaleKubernetesCluster",
        &[("id", &id), ("size", "3")],
    )
    .await;
    assert_eq!(scaled["jobstatus"], 2, "{scaled}");
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
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let cluster = get(&admin, &id).await;
        let workers = cluster["virtualmachines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|vm| vm["name"].as_str().is_some_and(|n| n.contains("-node-")))
            .count();
        if cluster["size"] == 2 {
            assert_eq!(workers, 2, "{cluster}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "size never counted the workers the cluster has: {cluster}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
