//! The simulator through the `Cloud` trait, on a temporary SQLite file (and on PostgreSQL when
//! `CKS_TEST_DATABASE_URL` is set, as `scripts/with-postgres.sh` does). Every simulated delay is zero unless a test says otherwise.

#![allow(
    clippy::unwrap_used,
    reason = "test code: an unwrap that fails is a failed assertion"
)]

mod kubernetes; // Clusters the guest agent installs, served on their endpoints, seen by kubectl.
mod limits; // Account resource limits with CloudStack's texts.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use cks_cloud::{
    Cloud, CloudError, DeployVmSpec, FirewallRuleSpec, IsoSpec, LoadBalancerSpec, NetworkSpec,
    PortForwardingSpec, PublicIpSpec,
};
use cks_core::iaas::{
    IpState, IsoState, LbAlgorithm, LbProtocol, NetworkState, Protocol, ResourceKind, RuleState,
    Tags, VmState,
};
use cks_core::tenancy::Owner;
use cks_sim::{Fault, SeedSource, SimConfig, Simulator, Timings};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use tempfile::TempDir;

// === Harness ===

struct Env {
    sim: Simulator,
    pool: AnyPool,
    url: String,
    _dir: TempDir,
}

async fn sqlite_pool(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("open sqlite")
}

async fn env_with(timings: Timings) -> Env {
    env_in(None, timings).await
}

/// A simulator whose public IPs come from `range` (the seed's when `None`).
async fn env_in(range: Option<(Ipv4Addr, Ipv4Addr)>, timings: Timings) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("sim.db").display());
    let pool = sqlite_pool(&url).await;
    let sim = Simulator::open(
        pool.clone(),
        SimConfig {
            seed: SeedSource::Default,
            timings,
            public_ip_range: range,
            claims: None,
        },
    )
    .await
    .expect("open simulator");
    Env {
        sim,
        pool,
        url,
        _dir: dir,
    }
}

async fn env() -> Env {
    env_with(Timings::instant()).await
}

fn owner(account: &str) -> Owner {
    Owner {
        account_id: format!("{account}-id"),
        account_name: account.into(),
        domain_id: "root-domain-id".into(),
        domain_name: "ROOT".into(),
        domain_path: "ROOT".into(),
        project_id: None,
        project_name: None,
    }
}

fn tags(cluster: &str) -> Tags {
    Tags::from([("cks.cluster".to_string(), cluster.to_string())])
}

struct Catalog {
    zone: String,
    k8s_offering: String,
    node: String,
    large: String,
    small: String,
    template: String,
}

fn catalog(sim: &Simulator) -> Catalog {
    let offering = |name: &str| {
        sim.list_service_offerings(|o| o.name == name)
            .first()
            .map(|o| o.id.clone())
            .expect("seeded offering")
    };
    Catalog {
        zone: sim.list_zones(|_| true)[0].id.clone(),
        k8s_offering: sim
            .list_network_offerings(|o| o.name == "DefaultNetworkOfferingforKubernetesService")
            .first()
            .map(|o| o.id.clone())
            .expect("kubernetes network offering"),
        node: offering("CKS Node"),
        large: offering("CKS Large"),
        small: offering("Small Instance"),
        template: sim
            .list_templates(|t| t.for_cks)
            .first()
            .map(|t| t.id.clone())
            .expect("CKS template"),
    }
}

fn network_spec(c: &Catalog, name: &str, who: &Owner) -> NetworkSpec {
    NetworkSpec {
        name: name.into(),
        display_text: None,
        zone_id: c.zone.clone(),
        offering_id: c.k8s_offering.clone(),
        gateway: None,
        netmask: None,
        network_domain: None,
        vpc_id: None,
        owner: who.clone(),
        tags: tags("c1"),
    }
}

fn vm_spec(c: &Catalog, network_id: &str, name: &str, offering: &str, who: &Owner) -> DeployVmSpec {
    DeployVmSpec {
        name: name.into(),
        display_name: None,
        zone_id: c.zone.clone(),
        network_id: network_id.into(),
        service_offering_id: offering.into(),
        size: None,
        template_id: c.template.clone(),
        root_disk_size_gib: Some(8),
        user_data: Some("I2Nsb3VkLWNvbmZpZwo=".into()),
        keypairs: vec![],
        ip_address: None,
        start: true,
        owner: who.clone(),
        user_id: None,
        user_name: None,
        tags: tags("c1"),
    }
}

fn iso_spec(name: &str, who: &Owner) -> IsoSpec {
    IsoSpec {
        name: name.into(),
        display_text: None,
        url: "https://127.0.0.1/never-fetched/k8s-1.33.1.iso".into(),
        checksum: Some("{MD5}d41d8cd98f00b204e9800998ecf8427e".into()),
        zone_id: None,
        bootable: false,
        is_public: true,
        is_featured: false,
        is_extractable: false,
        arch: None,
        os_type_name: None,
        owner: who.clone(),
        tags: tags("c1"),
    }
}

async fn wait_iso_ready(sim: &Simulator, id: &str) -> cks_core::iaas::Iso {
    for _ in 0..200 {
        let iso = sim.get_iso(id).await.expect("iso");
        if iso.state == IsoState::Ready {
            return iso;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("ISO {id} never became Ready");
}

/// Everything the simulator holds, as JSON, for before/after comparisons.
fn snapshot(sim: &Simulator) -> serde_json::Value {
    serde_json::json!({
        "zones": sim.list_zones(|_| true),
        "pods": sim.list_pods(|_| true),
        "clusters": sim.list_host_clusters(|_| true),
        "hosts": sim.list_hosts(|_| true),
        "service_offerings": sim.list_service_offerings(|_| true),
        "disk_offerings": sim.list_disk_offerings(|_| true),
        "network_offerings": sim.list_network_offerings(|_| true),
        "templates": sim.list_templates(|_| true),
        "isos": sim.list_isos(|_| true),
        "networks": sim.list_networks(|_| true),
        "vpcs": sim.list_vpcs(|_| true),
        "ranges": sim.list_public_ip_ranges(|_| true),
        "ips": sim.list_public_ips(|_| true),
        "firewall": sim.list_firewall_rules(|_| true),
        "pf": sim.list_port_forwarding_rules(|_| true),
        "lb": sim.list_load_balancer_rules(|_| true),
        "vms": sim.list_vms(|_| true),
        "keys": sim.list_ssh_key_pairs(|_| true),
    })
}

/// Only needs to type-check: the job runner holds the simulator as `Arc<dyn Cloud>`.
#[allow(dead_code)]
fn simulator_is_a_shareable_cloud(sim: Simulator) -> Arc<dyn Cloud> {
    Arc::new(sim)
}

// === Seed ===

#[tokio::test]
async fn default_seed_has_the_documented_inventory() {
    let env = env().await;
    let sim = &env.sim;
    assert_eq!(sim.list_zones(|_| true).len(), 1);
    assert_eq!(sim.list_pods(|_| true).len(), 1);
    assert_eq!(sim.list_host_clusters(|_| true).len(), 1);
    let hosts = sim.list_hosts(|_| true);
    assert_eq!(hosts.len(), 4);
    for h in &hosts {
        assert_eq!(
            (h.cpu_cores, h.cpu_speed_mhz, h.memory_bytes),
            (32, 2400, 128 << 30)
        );
        assert_eq!(h.hypervisor, "KVM");
    }
    let offerings: Vec<String> = sim
        .list_service_offerings(|_| true)
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(
        offerings,
        ["Small Instance", "Medium Instance", "CKS Node", "CKS Large"]
    );
    let node = &sim.list_service_offerings(|o| o.name == "CKS Node")[0];
    assert_eq!((node.cpu_number, node.memory_mib), (Some(2), Some(2048)));
    let cks = sim.list_templates(|t| t.for_cks);
    assert_eq!(cks.len(), 1);
    assert_eq!(
        (cks[0].name.as_str(), cks[0].arch.as_str(), cks[0].is_ready),
        ("CKS Ubuntu 24.04", "x86_64", true)
    );
    assert_eq!(sim.list_templates(|t| !t.for_cks).len(), 1);
    for name in [
        "DefaultNetworkOfferingforKubernetesService",
        "DefaultIsolatedNetworkOfferingWithSourceNatService",
    ] {
        assert_eq!(
            sim.list_network_offerings(|o| o.name == name).len(),
            1,
            "{name}"
        );
    }
    let range = &sim.list_public_ip_ranges(|_| true)[0];
    assert!(range.start_ip.is_loopback() && range.end_ip.is_loopback());
    assert_eq!(range.start_ip.to_string(), "127.10.0.2");
}

// === Idempotency ===

#[tokio::test]
async fn deploying_the_same_vm_name_twice_adopts_the_first_vm() {
    let env = env().await;
    let (sim, c, who) = (&env.sim, catalog(&env.sim), owner("alice"));
    let net = sim
        .create_network(&network_spec(&c, "c1-network", &who))
        .await
        .expect("network");
    assert_eq!(net.state, NetworkState::Allocated);
    assert_eq!(
        (net.cidr.as_str(), net.gateway.to_string().as_str()),
        ("10.1.1.0/24", "10.1.1.1")
    );
    let again = sim
        .create_network(&network_spec(&c, "c1-network", &who))
        .await
        .expect("network again");
    assert_eq!(again.id, net.id);

    let first = sim
        .deploy_vm(&vm_spec(&c, &net.id, "c1-control-0", &c.node, &who))
        .await
        .expect("deploy");
    assert_eq!(first.state, VmState::Running);
    assert!(first.host_id.is_some());
    assert_eq!(first.nics[0].ip_address.to_string(), "10.1.1.2");
    let second = sim
        .deploy_vm(&vm_spec(&c, &net.id, "c1-control-0", &c.node, &who))
        .await
        .expect("deploy again");
    assert_eq!(second.id, first.id);
    assert_eq!(sim.list_vms(|_| true).len(), 1);

    // The first start implemented the network and gave it a loopback source NAT IP.
    let net = sim.get_network(&net.id).await.expect("network");
    assert_eq!(net.state, NetworkState::Implemented);
    let nat = sim
        .find_source_nat_ip(&net.id)
        .await
        .expect("lookup")
        .expect("source NAT IP");
    assert!(nat.address.is_loopback());
    assert_eq!(nat.state, IpState::Allocated);

    // A stopped VM is started again by a repeated deploy.
    sim.stop_vm(&first.id, false).await.expect("stop");
    let restarted = sim
        .deploy_vm(&vm_spec(&c, &net.id, "c1-control-0", &c.node, &who))
        .await
        .expect("deploy stopped");
    assert_eq!(
        (restarted.id.as_str(), restarted.state),
        (first.id.as_str(), VmState::Running)
    );
}

#[tokio::test]
async fn deletes_of_what_is_gone_succeed() {
    let env = env().await;
    let (sim, c, who) = (&env.sim, catalog(&env.sim), owner("alice"));
    let net = sim
        .create_network(&network_spec(&c, "n", &who))
        .await
        .expect("network");
    let vm = sim
        .deploy_vm(&vm_spec(&c, &net.id, "n1", &c.small, &who))
        .await
        .expect("deploy");
    let ip = sim
        .acquire_public_ip(&PublicIpSpec {
            network_id: net.id.clone(),
            tags: Tags::new(),
        })
        .await
        .expect("ip");

    let err = sim
        .delete_network(&net.id)
        .await
        .expect_err("network with a VM");
    assert!(
        matches!(&err, CloudError::Internal(m) if m == "Failed to delete network"),
        "{err:?}"
    );

    assert!(sim.destroy_vm(&vm.id).await.expect("destroy"));
    assert!(!sim.destroy_vm(&vm.id).await.expect("destroy again"));
    assert!(sim.release_public_ip(&ip.id).await.expect("release"));
    assert!(!sim.release_public_ip(&ip.id).await.expect("release again"));
    assert!(sim.delete_network(&net.id).await.expect("delete"));
    assert!(!sim.delete_network(&net.id).await.expect("delete again"));
    assert!(
        sim.list_public_ips(|_| true).is_empty(),
        "the source NAT IP went with the network"
    );
    assert!(
        !sim.delete_firewall_rule("no-such-rule")
            .await
            .expect("delete unknown rule")
    );
    let err = sim.get_vm(&vm.id).await.expect_err("gone");
    assert!(matches!(err, CloudError::NotFound { .. }), "{err:?}");
}

// === Capacity ===

#[tokio::test]
async fn capacity_runs_out_and_comes_back_on_destroy() {
    let env = env().await;
    let (sim, c, who) = (&env.sim, catalog(&env.sim), owner("alice"));
    let net = sim
        .create_network(&network_spec(&c, "big", &who))
        .await
        .expect("network");
    // CKS Large: 4 × 2000 MHz, 8 GiB. A host: 32 × 2400 = 76800 MHz → 9 per host, 36 in all.
    let mut ids = Vec::new();
    for i in 0..36 {
        let vm = sim
            .deploy_vm(&vm_spec(&c, &net.id, &format!("w-{i}"), &c.large, &who))
            .await
            .expect("fits");
        ids.push(vm.id);
    }
    for h in sim.list_hosts(|_| true) {
        assert_eq!(
            (h.cpu_allocated_mhz, h.memory_allocated_bytes),
            (9 * 8000, 9 * (8 << 30)),
            "{}",
            h.name
        );
    }
    let err = sim
        .deploy_vm(&vm_spec(&c, &net.id, "w-36", &c.large, &who))
        .await
        .expect_err("no room");
    assert!(
        matches!(err, CloudError::InsufficientServerCapacity(_)),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Unable to create a deployment for VM[User|w-36]"
    );
    let failed = sim.list_vms(|vm| vm.name == "w-36");
    assert_eq!(
        (failed.len(), failed[0].state, failed[0].host_id.is_none()),
        (1, VmState::Error, true)
    );

    assert!(sim.destroy_vm(&ids[0]).await.expect("destroy"));
    let freed: u64 = sim
        .list_hosts(|_| true)
        .iter()
        .map(|h| h.cpu_allocated_mhz)
        .sum();
    assert_eq!(freed, 35 * 8000);
    // The retry replaces the VM left in Error rather than adopting it.
    let vm = sim
        .deploy_vm(&vm_spec(&c, &net.id, "w-36", &c.large, &who))
        .await
        .expect("room again");
    assert_eq!(vm.state, VmState::Running);
    assert_ne!(vm.id, failed[0].id);
    assert_eq!(sim.list_vms(|vm| vm.name == "w-36").len(), 1);
}

#[tokio::test]
async fn scaling_follows_cloudstack_rules() {
    let env = env().await;
    let (sim, c, who) = (&env.sim, catalog(&env.sim), owner("alice"));
    let net = sim
        .create_network(&network_spec(&c, "n", &who))
        .await
        .expect("network");
    let vm = sim
        .deploy_vm(&vm_spec(&c, &net.id, "n1", &c.node, &who))
        .await
        .expect("deploy");
    let err = sim
        .scale_vm(&vm.id, &c.small, None)
        .await
        .expect_err("running scale-down");
    assert!(
        err.to_string()
            .starts_with("While the VM is running, only scalling up it is supported."),
        "{err}"
    );
    let up = sim
        .scale_vm(&vm.id, &c.large, None)
        .await
        .expect("running scale-up");
    assert_eq!(
        (up.cpu_number, up.memory_mib, up.state),
        (4, 8192, VmState::Running)
    );
    sim.stop_vm(&vm.id, false).await.expect("stop");
    let down = sim
        .scale_vm(&vm.id, &c.small, None)
        .await
        .expect("stopped scale-down");
    assert_eq!((down.cpu_number, down.memory_mib), (1, 512));
}

// === Persistence ===

#[tokio::test]
async fn inventory_survives_a_restart_with_the_same_ids() {
    let env = env().await;
    let (sim, c, who) = (&env.sim, catalog(&env.sim), owner("alice"));
    let net = sim
        .create_network(&network_spec(&c, "keep", &who))
        .await
        .expect("network");
    let vm = sim
        .deploy_vm(&vm_spec(&c, &net.id, "keep-0", &c.node, &who))
        .await
        .expect("deploy");
    let nat = sim
        .find_source_nat_ip(&net.id)
        .await
        .expect("lookup")
        .expect("nat");
    sim.create_port_forwarding_rule(&PortForwardingSpec {
        ip_id: nat.id.clone(),
        protocol: Protocol::Tcp,
        public_start_port: 2222,
        public_end_port: None,
        private_start_port: 22,
        private_end_port: None,
        vm_id: vm.id.clone(),
        cidrs: vec![],
        tags: tags("c1"),
    })
    .await
    .expect("pf");
    sim.create_ssh_key_pair("k", &who).await.expect("key");
    let iso = sim
        .register_iso(&iso_spec("binaries", &who))
        .await
        .expect("iso");
    wait_iso_ready(sim, &iso.id).await;
    let before = snapshot(sim);
    let Env {
        sim,
        pool,
        url,
        _dir,
    } = env;
    drop(sim);
    pool.close().await;

    // A different seed on reopen is ignored: the inventory is not empty.
    let pool = sqlite_pool(&url).await;
    let config = SimConfig {
        seed: SeedSource::Text("zones = []".into()),
        timings: Timings::instant(),
        public_ip_range: None,
        claims: None,
    };
    let reopened = Simulator::open(pool, config).await.expect("reopen");
    assert_eq!(snapshot(&reopened), before);
    assert_eq!(
        reopened.get_vm(&vm.id).await.expect("vm").state,
        VmState::Running
    );
}

#[tokio::test]
async fn seed_ids_are_the_same_in_every_fresh_simulator() {
    let a = env().await;
    let b = env().await;
    let ids = |sim: &Simulator| {
        (
            sim.list_zones(|_| true)
                .into_iter()
                .map(|z| z.id)
                .collect::<Vec<_>>(),
            sim.list_hosts(|_| true)
                .into_iter()
                .map(|h| h.id)
                .collect::<Vec<_>>(),
            sim.list_service_offerings(|_| true)
                .into_iter()
                .map(|o| o.id)
                .collect::<Vec<_>>(),
            sim.list_templates(|_| true)
                .into_iter()
                .map(|t| t.id)
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(ids(&a.sim), ids(&b.sim));
}

#[tokio::test]
async fn interrupted_starts_finish_on_reopen() {
    let env = env_with(Timings {
        vm_deploy: Duration::from_secs(30),
        ..Timings::instant()
    })
    .await;
    let (c, who) = (catalog(&env.sim), owner("alice"));
    let net = env
        .sim
        .create_network(&network_spec(&c, "n", &who))
        .await
        .expect("network");
    let sim = env.sim.clone();
    let spec = vm_spec(&c, &net.id, "slow", &c.node, &who);
    let deploy = tokio::spawn(async move { sim.deploy_vm(&spec).await });
    let mut starting = Vec::new();
    for _ in 0..100 {
        starting = env.sim.list_vms(|vm| vm.state == VmState::Starting);
        if !starting.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        starting.len(),
        1,
        "the VM is visible as Starting during the deploy delay"
    );
    deploy.abort(); // The "crash".
    let Env {
        sim,
        pool,
        url,
        _dir,
    } = env;
    drop(sim);
    pool.close().await;
    let reopened = Simulator::open(sqlite_pool(&url).await, SimConfig::for_tests())
        .await
        .expect("reopen");
    let vm = reopened.get_vm(&starting[0].id).await.expect("vm");
    assert_eq!(vm.state, VmState::Running);
    let again = reopened
        .deploy_vm(&vm_spec(&c, &net.id, "slow", &c.node, &who))
        .await
        .expect("retry adopts");
    assert_eq!(again.id, vm.id);
}

#[tokio::test]
async fn persistence_round_trip_on_postgres() {
    // The admin URL `scripts/with-postgres.sh` exports (`cks_store::testing::TEST_DATABASE_URL`).
    let Some(url) = std::env::var("CKS_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("skipped: CKS_TEST_DATABASE_URL unset");
        return;
    };
    sqlx::any::install_default_drivers();
    // A schema of its own, so the test neither sees nor harms other data. The name is made here
    // from digits and underscores, so building SQL from it is safe.
    let schema = format!("sim_test_{}", uuid_like());
    let admin = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("schema");
    let connect = || {
        let set_path = format!("SET search_path TO {schema}");
        AnyPoolOptions::new()
            .max_connections(2)
            .after_connect(move |conn, _| {
                let set_path = set_path.clone();
                Box::pin(async move {
                    sqlx::query(sqlx::AssertSqlSafe(set_path))
                        .execute(conn)
                        .await?;
                    Ok(())
                })
            })
            .connect(&url)
    };
    let pool = connect().await.expect("pool");
    let sim = Simulator::open(pool.clone(), SimConfig::for_tests())
        .await
        .expect("open on postgres");
    let (c, who) = (catalog(&sim), owner("alice"));
    let net = sim
        .create_network(&network_spec(&c, "pg", &who))
        .await
        .expect("network");
    sim.deploy_vm(&vm_spec(&c, &net.id, "pg-0", &c.node, &who))
        .await
        .expect("deploy");
    sim.deploy_vm(&vm_spec(&c, &net.id, "pg-0", &c.node, &who))
        .await
        .expect("deploy again (upsert path)");
    let before = snapshot(&sim);
    drop(sim);
    pool.close().await;
    let pool = connect().await.expect("pool");
    let reopened = Simulator::open(pool.clone(), SimConfig::for_tests())
        .await
        .expect("reopen");
    assert_eq!(snapshot(&reopened), before);
    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .expect("drop schema");
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{nanos}", std::process::id())
}

// === Faults ===

#[tokio::test]
async fn injected_faults_fail_what_they_say_and_clear() {
    let env = env().await;
    let (sim, c, who) = (&env.sim, catalog(&env.sim), owner("alice"));
    let net = sim
        .create_network(&network_spec(&c, "f", &who))
        .await
        .expect("network");

    sim.inject(Fault::FailVmDeploys { count: 1 })
        .await
        .expect("inject");
    let err = sim
        .deploy_vm(&vm_spec(&c, &net.id, "f-0", &c.node, &who))
        .await
        .expect_err("injected failure");
    assert!(
        matches!(err, CloudError::InsufficientServerCapacity(_)),
        "{err:?}"
    );
    assert_eq!(sim.list_vms(|vm| vm.name == "f-0")[0].state, VmState::Error);
    let vm = sim
        .deploy_vm(&vm_spec(&c, &net.id, "f-0", &c.node, &who))
        .await
        .expect("only one failure");
    assert_eq!(vm.state, VmState::Running);

    sim.inject(Fault::ExhaustCapacity { on: true })
        .await
        .expect("inject");
    assert!(matches!(
        sim.deploy_vm(&vm_spec(&c, &net.id, "f-1", &c.small, &who))
            .await
            .expect_err("full"),
        CloudError::InsufficientServerCapacity(_)
    ));
    sim.inject(Fault::ExhaustCapacity { on: false })
        .await
        .expect("inject");
    sim.deploy_vm(&vm_spec(&c, &net.id, "f-1", &c.small, &who))
        .await
        .expect("room again");

    sim.inject(Fault::Unavailable { count: 2 })
        .await
        .expect("inject");
    for _ in 0..2 {
        let err = sim.get_network(&net.id).await.expect_err("unavailable");
        assert!(matches!(err, CloudError::Unavailable(_)), "{err:?}");
        assert!(err.is_transient());
    }
    sim.get_network(&net.id).await.expect("available again");

    sim.inject(Fault::StopVm {
        vm_id: vm.id.clone(),
    })
    .await
    .expect("inject");
    let stopped = sim.get_vm(&vm.id).await.expect("vm");
    assert_eq!(
        (stopped.state, stopped.host_id.is_none()),
        (VmState::Stopped, true)
    );
    assert_eq!(
        sim.start_vm(&vm.id).await.expect("start").state,
        VmState::Running
    );

    let nat = sim
        .find_source_nat_ip(&net.id)
        .await
        .expect("lookup")
        .expect("nat");
    assert!(!sim.endpoint_unreachable(&nat.id));
    sim.inject(Fault::EndpointUnreachable {
        public_ip_id: nat.id.clone(),
        unreachable: true,
    })
    .await
    .expect("inject");
    assert!(sim.endpoint_unreachable(&nat.id));
    sim.inject(Fault::FailVmDeploys { count: 5 })
        .await
        .expect("inject");
    sim.clear_faults();
    assert!(!sim.endpoint_unreachable(&nat.id));
    sim.deploy_vm(&vm_spec(&c, &net.id, "f-2", &c.small, &who))
        .await
        .expect("faults cleared");
}

#[test]
fn faults_read_from_json_for_the_admin_command() {
    let fault: Fault =
        serde_json::from_str(r#"{"fault":"fail_vm_deploys","count":3}"#).expect("parse");
    assert_eq!(fault, Fault::FailVmDeploys { count: 3 });
}

// === ISOs ===

#[tokio::test]
async fn isos_download_to_ready_without_fetching() {
    let env = env_with(Timings {
        iso_download: Duration::from_millis(200),
        ..Timings::instant()
    })
    .await;
    let (sim, c, who) = (&env.sim, catalog(&env.sim), owner("admin"));
    let iso = sim
        .register_iso(&iso_spec("k8s-binaries", &who))
        .await
        .expect("register");
    assert_eq!(
        (iso.state, iso.status.as_str()),
        (IsoState::Downloading, "0% Downloaded")
    );
    assert!(!iso.is_ready());
    let again = sim
        .register_iso(&iso_spec("k8s-binaries", &who))
        .await
        .expect("register again");
    assert_eq!(again.id, iso.id);

    let net = sim
        .create_network(&network_spec(&c, "n", &who))
        .await
        .expect("network");
    let vm = sim
        .deploy_vm(&vm_spec(&c, &net.id, "n1", &c.node, &who))
        .await
        .expect("deploy");
    let err = sim
        .attach_iso(&vm.id, &iso.id)
        .await
        .expect_err("not ready");
    assert!(matches!(err, CloudError::InvalidParameter(_)), "{err:?}");

    let ready = wait_iso_ready(sim, &iso.id).await;
    assert_eq!(ready.status, "Successfully Installed");
    assert!(ready.size_bytes.is_some());
    let attached = sim.attach_iso(&vm.id, &iso.id).await.expect("attach");
    assert_eq!(attached.iso_id.as_deref(), Some(iso.id.as_str()));
    sim.attach_iso(&vm.id, &iso.id).await.expect("attach again");
    assert!(matches!(
        sim.delete_iso(&iso.id).await.expect_err("attached"),
        CloudError::InvalidParameter(_)
    ));
    assert_eq!(sim.detach_iso(&vm.id).await.expect("detach").iso_id, None);
    sim.detach_iso(&vm.id).await.expect("detach again");
    assert!(sim.delete_iso(&iso.id).await.expect("delete"));
    assert!(!sim.delete_iso(&iso.id).await.expect("delete again"));
}

#[tokio::test]
async fn isos_with_bad_urls_are_refused() {
    let env = env().await;
    let who = owner("admin");
    for url in ["ftp://127.0.0.1/x.iso", "file:///etc/passwd", "not a url"] {
        let mut spec = iso_spec("bad", &who);
        spec.url = url.into();
        let err = env.sim.register_iso(&spec).await.expect_err(url);
        assert!(matches!(err, CloudError::InvalidParameter(_)), "{url}");
    }
    let mut spec = iso_spec("long", &who);
    spec.url = format!("https://127.0.0.1/{}", "a".repeat(2100));
    assert!(matches!(
        env.sim.register_iso(&spec).await.expect_err("too long"),
        CloudError::InvalidParameter(_)
    ));
    let iso = env
        .sim
        .register_iso(&iso_spec("instant", &who))
        .await
        .expect("register");
    wait_iso_ready(&env.sim, &iso.id).await;
}

// === Rules ===

#[tokio::test]
async fn port_forwarding_conflicts_and_adoption() {
    let env = env().await;
    let (sim, c, who) = (&env.sim, catalog(&env.sim), owner("alice"));
    let net = sim
        .create_network(&network_spec(&c, "r", &who))
        .await
        .expect("network");
    let vm0 = sim
        .deploy_vm(&vm_spec(&c, &net.id, "r-0", &c.node, &who))
        .await
        .expect("vm0");
    let vm1 = sim
        .deploy_vm(&vm_spec(&c, &net.id, "r-1", &c.node, &who))
        .await
        .expect("vm1");
    let ip = sim
        .find_source_nat_ip(&net.id)
        .await
        .expect("lookup")
        .expect("nat");
    let pf = |vm: &str, start: u16, end: Option<u16>| PortForwardingSpec {
        ip_id: ip.id.clone(),
        protocol: Protocol::Tcp,
        public_start_port: start,
        public_end_port: end,
        private_start_port: 22,
        private_end_port: end.map(|e| 22 + (e - start)),
        vm_id: vm.to_string(),
        cidrs: vec![],
        tags: tags("c1"),
    };
    let first = sim
        .create_port_forwarding_rule(&pf(&vm0.id, 2222, None))
        .await
        .expect("pf");
    assert_eq!(
        (first.state, first.vm_guest_ip),
        (RuleState::Active, vm0.nics[0].ip_address)
    );
    let again = sim
        .create_port_forwarding_rule(&pf(&vm0.id, 2222, None))
        .await
        .expect("same rule again");
    assert_eq!(again.id, first.id);
    let err = sim
        .create_port_forwarding_rule(&pf(&vm1.id, 2220, Some(2223)))
        .await
        .expect_err("overlap");
    assert!(matches!(err, CloudError::RuleConflict(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "The range specified, 2220-2223, conflicts with rule {} which has 2222-2222",
            first.id
        )
    );
    sim.create_port_forwarding_rule(&pf(&vm1.id, 2223, None))
        .await
        .expect("next port is free");

    let fw = FirewallRuleSpec {
        ip_id: ip.id.clone(),
        protocol: Protocol::Tcp,
        start_port: Some(2222),
        end_port: Some(2223),
        cidrs: vec![],
        tags: tags("c1"),
    };
    let rule = sim
        .create_firewall_rule(&fw)
        .await
        .expect("firewall next to port forwards");
    assert_eq!(
        sim.create_firewall_rule(&fw).await.expect("again").id,
        rule.id
    );

    let lb = LoadBalancerSpec {
        name: "api-lb".into(),
        description: Some("LB rule for API access".into()),
        ip_id: ip.id.clone(),
        public_port: 6443,
        private_port: 6443,
        algorithm: LbAlgorithm::RoundRobin,
        protocol: LbProtocol::Tcp,
        cidrs: vec![],
        tags: tags("c1"),
    };
    let lb_rule = sim.create_load_balancer_rule(&lb).await.expect("lb");
    assert_eq!(lb_rule.state, RuleState::Add);
    assert_eq!(
        sim.create_load_balancer_rule(&lb)
            .await
            .expect("lb again")
            .id,
        lb_rule.id
    );
    assert!(matches!(
        sim.create_port_forwarding_rule(&pf(&vm0.id, 6443, None))
            .await
            .expect_err("LB port"),
        CloudError::RuleConflict(_)
    ));
    let ids = [vm0.id.clone(), vm1.id.clone()];
    let assigned = sim
        .assign_to_load_balancer_rule(&lb_rule.id, &ids)
        .await
        .expect("assign");
    assert_eq!(
        (assigned.vm_ids.len(), assigned.state),
        (2, RuleState::Active)
    );
    let assigned = sim
        .assign_to_load_balancer_rule(&lb_rule.id, &ids[..1])
        .await
        .expect("assign again");
    assert_eq!(assigned.vm_ids.len(), 2);
    let removed = sim
        .remove_from_load_balancer_rule(&lb_rule.id, &ids[1..])
        .await
        .expect("remove");
    assert_eq!(removed.vm_ids, std::slice::from_ref(&vm0.id));

    // Expunging a VM takes its port forwards and LB membership with it.
    assert!(sim.destroy_vm(&vm0.id).await.expect("destroy"));
    assert!(
        sim.list_port_forwarding_rules(|r| r.vm_id == vm0.id)
            .is_empty()
    );
    assert!(
        sim.get_load_balancer_rule(&lb_rule.id)
            .await
            .expect("lb")
            .vm_ids
            .is_empty()
    );
}

// === Tags ===

#[tokio::test]
async fn find_by_tag_lists_everything_a_cluster_made() {
    let env = env().await;
    let (sim, c, who) = (&env.sim, catalog(&env.sim), owner("alice"));
    let net = sim
        .create_network(&network_spec(&c, "t", &who))
        .await
        .expect("network");
    let vm = sim
        .deploy_vm(&vm_spec(&c, &net.id, "t-0", &c.node, &who))
        .await
        .expect("vm");
    let ip = sim
        .acquire_public_ip(&PublicIpSpec {
            network_id: net.id.clone(),
            tags: tags("c1"),
        })
        .await
        .expect("ip");
    let same_ip = sim
        .acquire_public_ip(&PublicIpSpec {
            network_id: net.id.clone(),
            tags: tags("c1"),
        })
        .await
        .expect("ip again");
    assert_eq!(same_ip.id, ip.id, "a tagged acquire is adopted");
    sim.create_firewall_rule(&FirewallRuleSpec {
        ip_id: ip.id.clone(),
        protocol: Protocol::Tcp,
        start_port: Some(6443),
        end_port: None,
        cidrs: vec![],
        tags: tags("c1"),
    })
    .await
    .expect("fw");
    let mut other = network_spec(&c, "other", &who);
    other.tags = tags("c2");
    sim.create_network(&other)
        .await
        .expect("other cluster's network");

    let found = sim.find_by_tag("cks.cluster", "c1").await.expect("find");
    let kinds: Vec<ResourceKind> = found.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            ResourceKind::Network,
            ResourceKind::PublicIp,
            ResourceKind::FirewallRule,
            ResourceKind::Vm
        ]
    );
    assert!(found.iter().any(|r| r.id == vm.id));
    // Across clusters, with each resource's cluster: what a leak report needs.
    let everywhere = sim.tagged_with("cks.cluster");
    assert_eq!(everywhere.len(), 5);
    assert_eq!(
        everywhere.iter().filter(|(_, c)| c == "c2").count(),
        1,
        "{everywhere:?}"
    );
    let states = sim
        .vm_states(&[vm.id.clone(), "gone".into()])
        .await
        .expect("states");
    assert_eq!(states, [(vm.id.clone(), VmState::Running)]);

    assert!(sim.destroy_vm(&vm.id).await.expect("destroy"));
    assert!(sim.delete_network(&net.id).await.expect("delete"));
    assert!(
        sim.find_by_tag("cks.cluster", "c1")
            .await
            .expect("find")
            .is_empty(),
        "nothing leaked"
    );
    assert_eq!(
        sim.find_by_tag("cks.cluster", "c2")
            .await
            .expect("find")
            .len(),
        1
    );
}

// === SSH key pairs ===

#[tokio::test]
async fn ssh_key_pairs_match_ssh_keygen() {
    let env = env().await;
    let (sim, who) = (&env.sim, owner("alice"));
    let created = sim
        .create_ssh_key_pair("deploy", &who)
        .await
        .expect("create");
    assert!(
        created
            .private_key_pem
            .starts_with("-----BEGIN RSA PRIVATE KEY-----")
    );
    assert!(created.key_pair.public_key.starts_with("ssh-rsa "));
    let err = sim
        .create_ssh_key_pair("deploy", &who)
        .await
        .expect_err("duplicate");
    assert_eq!(
        err.to_string(),
        "A key pair with name 'deploy' already exists."
    );

    let ed25519 =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBTtPQG9bcqBQa98XTlNXOqPPdELplPsgW5P0yRxzLW4 me@host";
    let registered = sim
        .register_ssh_key_pair("laptop", ed25519, &who)
        .await
        .expect("register");
    assert_eq!(
        registered.fingerprint,
        "ec:44:09:ce:f6:e4:3b:fa:38:a6:85:cf:e3:4a:e6:f4"
    );
    assert_eq!(
        sim.register_ssh_key_pair("laptop", ed25519, &who)
            .await
            .expect("again")
            .id,
        registered.id
    );
    let err = sim
        .register_ssh_key_pair("laptop2", ed25519, &who)
        .await
        .expect_err("same key");
    assert!(
        err.to_string()
            .starts_with("A key pair with key 'ssh-ed25519 AAAA"),
        "{err}"
    );
    let err = sim
        .register_ssh_key_pair("bad", "ssh-rsa nonsense", &who)
        .await
        .expect_err("invalid");
    assert_eq!(err.to_string(), "Public key is invalid");
    // Another account may use the same name.
    sim.register_ssh_key_pair("laptop", ed25519, &owner("bob"))
        .await
        .expect("other owner");
    assert_eq!(sim.ssh_key_pairs(&who).await.expect("list").len(), 2);

    if let Some(fingerprints) =
        ssh_keygen_view(&created.key_pair.public_key, &created.private_key_pem)
    {
        let (public_fp, derived_public) = fingerprints;
        assert_eq!(
            public_fp, created.key_pair.fingerprint,
            "ssh-keygen -l -E md5 agrees"
        );
        assert_eq!(
            derived_public, created.key_pair.public_key,
            "the PEM holds the same key"
        );
    } else {
        eprintln!("ssh-keygen not available: checked against the fixed ed25519 vector only");
    }

    assert!(
        sim.delete_ssh_key_pair("deploy", &who)
            .await
            .expect("delete")
    );
    assert!(
        !sim.delete_ssh_key_pair("deploy", &who)
            .await
            .expect("delete again")
    );
}

/// (MD5 fingerprint of the public key, public key derived from the private PEM), per ssh-keygen.
fn ssh_keygen_view(public_key: &str, private_pem: &str) -> Option<(String, String)> {
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;
    let dir = tempfile::tempdir().ok()?;
    let public_path = dir.path().join("key.pub");
    let private_path = dir.path().join("key");
    std::fs::write(&public_path, format!("{public_key} test\n")).ok()?;
    std::fs::write(&private_path, private_pem).ok()?;
    std::fs::set_permissions(&private_path, std::fs::Permissions::from_mode(0o600)).ok()?;
    let listed = Command::new("ssh-keygen")
        .args(["-l", "-E", "md5", "-f"])
        .arg(&public_path)
        .output()
        .ok()?;
    if !listed.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&listed.stdout).to_string();
    let fingerprint = text
        .split_whitespace()
        .nth(1)?
        .strip_prefix("MD5:")?
        .to_string();
    let derived = Command::new("ssh-keygen")
        .args(["-y", "-f"])
        .arg(&private_path)
        .output()
        .ok()?;
    assert!(
        derived.status.success(),
        "ssh-keygen -y refused our PEM: {}",
        String::from_utf8_lossy(&derived.stderr)
    );
    let derived = String::from_utf8_lossy(&derived.stdout)
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    Some((fingerprint, derived))
}

// === Write-through ===

#[tokio::test]
async fn a_failed_write_leaves_memory_as_it_was() {
    let env = env().await;
    let (sim, c, who) = (&env.sim, catalog(&env.sim), owner("alice"));
    env.pool.close().await;
    let err = sim
        .create_network(&network_spec(&c, "lost", &who))
        .await
        .expect_err("the database is gone");
    assert!(matches!(err, CloudError::Backend { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("simulator storage failed"),
        "{err}"
    );
    assert!(
        sim.list_networks(|_| true).is_empty(),
        "memory never runs ahead of the database"
    );
}

#[tokio::test]
async fn running_out_of_public_ips_fails_the_deploy_cleanly() {
    // A /30 range has a single usable address.
    let seed = cks_sim::config::DEFAULT_SEED.replace("127.10.0.0/16", "127.10.0.0/30");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("sim.db").display());
    let config = SimConfig {
        seed: SeedSource::Text(seed),
        timings: Timings::instant(),
        public_ip_range: None,
        claims: None,
    };
    let sim = Simulator::open(sqlite_pool(&url).await, config)
        .await
        .expect("open");
    let (c, who) = (catalog(&sim), owner("alice"));
    let first = sim
        .create_network(&network_spec(&c, "a", &who))
        .await
        .expect("network a");
    sim.deploy_vm(&vm_spec(&c, &first.id, "a-0", &c.small, &who))
        .await
        .expect("takes the only address");
    let second = sim
        .create_network(&network_spec(&c, "b", &who))
        .await
        .expect("network b");
    let err = sim
        .deploy_vm(&vm_spec(&c, &second.id, "b-0", &c.small, &who))
        .await
        .expect_err("no address left for b's source NAT");
    assert!(
        matches!(&err, CloudError::InsufficientAddressCapacity(m) if m == "Insufficient address capacity"),
        "{err:?}"
    );
    let second = sim.get_network(&second.id).await.expect("network b");
    assert_eq!((second.state, second.vlan), (NetworkState::Allocated, None));
    assert_eq!(sim.list_vms(|vm| vm.name == "b-0")[0].state, VmState::Error);
}

/// Several `cksd` sharing one database share one simulated cloud: mutations from either side
/// interleave without losing or duplicating anything, and each side sees the other's changes.
#[tokio::test]
async fn two_simulators_on_one_database_are_one_cloud() {
    let env = env().await;
    let other = Simulator::open(sqlite_pool(&env.url).await, SimConfig::for_tests())
        .await
        .expect("second simulator");
    let c = catalog(&env.sim);
    let who = owner("alice");
    let mut tasks = Vec::new();
    for i in 0..10 {
        let sim = if i % 2 == 0 {
            env.sim.clone()
        } else {
            other.clone()
        };
        let spec = network_spec(&c, &format!("net-{i}"), &who);
        let mut vm = vm_spec(&c, "", &format!("vm-{i}"), &c.node, &who);
        tasks.push(tokio::spawn(async move {
            let net = sim.create_network(&spec).await.expect("network");
            vm.network_id = net.id;
            sim.deploy_vm(&vm).await.expect("vm")
        }));
    }
    let mut vms = Vec::new();
    for t in tasks {
        vms.push(t.await.expect("task"));
    }
    let same = || snapshot(&env.sim) == snapshot(&other);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !same() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(same(), "both simulators show the same inventory");
    let networks = other.list_networks(|n| n.name.starts_with("net-"));
    assert_eq!(networks.len(), 10);
    let vnets: std::collections::BTreeSet<u32> = networks
        .iter()
        .map(|n| n.vlan.expect("implemented"))
        .collect();
    assert_eq!(vnets.len(), 10, "each network has its own VNET");
    assert_eq!(other.list_vms(|_| true).len(), 10);
    let used: u64 = other
        .list_hosts(|_| true)
        .iter()
        .map(|h| h.cpu_allocated_mhz)
        .sum();
    assert!(used > 0, "host capacity taken by the other side's VMs");

    // A delete through one side is gone on the other, capacity released.
    assert!(other.destroy_vm(&vms[0].id).await.expect("destroy"));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while env.sim.vm(&vms[0].id).is_some() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(env.sim.vm(&vms[0].id).is_none());
    assert!(same());

    // An instance too far behind reloads everything instead of replaying deletions; the
    // result is the same inventory, host capacity included.
    let before = snapshot(&env.sim);
    env.sim.reload_from_storage().await.expect("reload");
    assert_eq!(snapshot(&env.sim), before);
    assert!(other.destroy_vm(&vms[1].id).await.expect("destroy"));
    env.sim.reload_from_storage().await.expect("reload");
    assert!(env.sim.vm(&vms[1].id).is_none());
    assert_eq!(snapshot(&env.sim), snapshot(&other));
}

/// A simulated delay lives in the memory of the instance that started it: when that instance
/// dies mid-deploy, another sharing the database finishes the VM's start once it is overdue.
#[tokio::test]
async fn another_instance_finishes_a_start_whose_instance_died() {
    let timings = Timings {
        vm_deploy: Duration::from_secs(1),
        ..Timings::instant()
    };
    let env = env_with(timings).await;
    let config = SimConfig {
        timings,
        ..SimConfig::for_tests()
    };
    let other = Simulator::open(sqlite_pool(&env.url).await, config)
        .await
        .expect("second simulator");
    let c = catalog(&env.sim);
    let who = owner("alice");
    let net = env
        .sim
        .create_network(&network_spec(&c, "net", &who))
        .await
        .expect("network");
    let deploying = {
        let sim = env.sim.clone();
        let spec = vm_spec(&c, &net.id, "orphaned", &c.node, &who);
        tokio::spawn(async move { sim.deploy_vm(&spec).await })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let id = loop {
        if let Some(vm) = other.list_vms(|vm| vm.name == "orphaned").pop() {
            assert_eq!(vm.state, VmState::Starting);
            break vm.id;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the deploy never began"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The first instance dies: its timer with it.
    deploying.abort();
    let Env { sim, pool, .. } = env;
    drop(sim);
    pool.close().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while other.vm(&id).map(|vm| vm.state) != Some(VmState::Running) {
        assert!(
            std::time::Instant::now() < deadline,
            "the start was never finished: {:?}",
            other.vm(&id)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// === Public range claims ===

/// Opens a simulator on its own SQLite file, claiming ranges in `claims` (a private directory:
/// never the machine's, so these tests do not meet a real `cksd`).
async fn claiming(
    dir: &TempDir,
    db: &str,
    claims: &std::path::Path,
    range: Option<(Ipv4Addr, Ipv4Addr)>,
) -> Result<Simulator, cks_sim::OpenError> {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join(db).display());
    let config = SimConfig {
        public_ip_range: range,
        claims: Some(cks_sim::RangeClaims {
            dir: claims.to_path_buf(),
            default_ranges: Vec::new(),
        }),
        ..SimConfig::for_tests()
    };
    Simulator::open(sqlite_pool(&url).await, config).await
}

fn gateways(sim: &Simulator) -> Vec<String> {
    sim.list_public_ip_ranges(|_| true)
        .iter()
        .map(|r| r.gateway.to_string())
        .collect()
}

#[tokio::test]
async fn a_simulator_of_another_database_seeds_the_next_free_range_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let claims = dir.path().join("claims");
    let first = claiming(&dir, "a.db", &claims, None).await.expect("first");
    assert_eq!(gateways(&first), ["127.10.0.1"]);
    // An instance of the same database shares the range.
    let same = claiming(&dir, "a.db", &claims, None)
        .await
        .expect("same database");
    assert_eq!(gateways(&same), ["127.10.0.1"]);
    let second = claiming(&dir, "b.db", &claims, None).await.expect("second");
    assert_eq!(gateways(&second), ["127.11.0.1"]);
    drop((first, same, second));
    // Reopened while nobody holds 127.10.0.0/16, the second keeps the range it was seeded with.
    let second = claiming(&dir, "b.db", &claims, None).await.expect("reopen");
    assert_eq!(gateways(&second), ["127.11.0.1"]);
}

#[tokio::test]
async fn an_explicit_or_seeded_range_another_database_holds_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let claims = dir.path().join("claims");
    let range = Some((Ipv4Addr::new(127, 10, 3, 2), Ipv4Addr::new(127, 10, 3, 254)));
    let first = claiming(&dir, "a.db", &claims, None).await.expect("first");
    let refused = claiming(&dir, "b.db", &claims, range)
        .await
        .err()
        .expect("overlap refused");
    let text = refused.to_string();
    assert!(
        text.contains("--simulator-public-range") && text.contains("127.10.0.0/16"),
        "{text}"
    );
    drop(first);
    let second = claiming(&dir, "b.db", &claims, range)
        .await
        .expect("free now");
    let first = claiming(&dir, "a.db", &claims, None)
        .await
        .err()
        .expect("seeded range taken");
    assert!(
        first
            .to_string()
            .contains("this database's simulated public range"),
        "{first}"
    );
    drop(second);
}
