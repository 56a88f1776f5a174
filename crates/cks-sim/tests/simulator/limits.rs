//! Account resource limits: the N+1th VM, IP, network, CPU or memory is refused with
//! CloudStack's text (535); limits persist; the seed's `[limits]` are the defaults.

use cks_sim::{LimitKind, ResourceLimit};

use super::*;

fn limit_text(kind: &str, account: &str) -> String {
    format!(
        "Maximum number of resources of type '{kind}' for account name={account} in domain id=root-domain-id has been exceeded."
    )
}

#[tokio::test]
async fn the_vm_over_the_limit_is_refused_with_cloudstacks_text() {
    let env = env().await;
    let sim = &env.sim;
    let c = catalog(sim);
    let who = owner("limited");
    let net = sim
        .create_network(&network_spec(&c, "limited-net", &who))
        .await
        .unwrap();
    sim.set_resource_limit(&who.account_id, LimitKind::UserVm, Some(2))
        .await
        .unwrap();
    for name in ["vm-1", "vm-2"] {
        sim.deploy_vm(&vm_spec(&c, &net.id, name, &c.small, &who))
            .await
            .unwrap();
    }
    let err = sim
        .deploy_vm(&vm_spec(&c, &net.id, "vm-3", &c.small, &who))
        .await
        .unwrap_err();
    assert!(matches!(err, CloudError::LimitExceeded(_)), "{err:?}");
    assert_eq!(err.to_string(), limit_text("user_vm", "limited"));
    // Adopting an existing VM by name is not a new VM.
    sim.deploy_vm(&vm_spec(&c, &net.id, "vm-2", &c.small, &who))
        .await
        .expect("adopting is not refused");
    // Another account is not limited.
    let other = owner("free");
    let other_net = sim
        .create_network(&network_spec(&c, "free-net", &other))
        .await
        .unwrap();
    sim.deploy_vm(&vm_spec(&c, &other_net.id, "vm-3", &c.small, &other))
        .await
        .unwrap();

    // CPU and memory count every VM of the account; scaling up counts the difference.
    sim.set_resource_limit(&who.account_id, LimitKind::UserVm, None)
        .await
        .unwrap();
    sim.set_resource_limit(&who.account_id, LimitKind::Cpu, Some(3))
        .await
        .unwrap();
    let err = sim
        .deploy_vm(&vm_spec(&c, &net.id, "big", &c.node, &who))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), limit_text("cpu", "limited"));
    let vm = sim.find_vm(&net.id, "vm-1").await.unwrap().unwrap();
    sim.stop_vm(&vm.id, false).await.unwrap();
    let err = sim.scale_vm(&vm.id, &c.large, None).await.unwrap_err();
    assert_eq!(err.to_string(), limit_text("cpu", "limited"));
    sim.set_resource_limit(&who.account_id, LimitKind::Memory, Some(1024))
        .await
        .unwrap();
    let report = sim.resource_limits(&who.account_id);
    assert!(
        report.contains(&ResourceLimit {
            kind: LimitKind::Cpu,
            max: Some(3),
            used: 2
        }),
        "{report:?}"
    );
    assert!(
        report.contains(&ResourceLimit {
            kind: LimitKind::Memory,
            max: Some(1024),
            used: 1024
        }),
        "{report:?}"
    );
    assert!(
        report.contains(&ResourceLimit {
            kind: LimitKind::UserVm,
            max: None,
            used: 2
        }),
        "{report:?}"
    );
    assert_eq!(LimitKind::Memory.resource_type(), 9);
    assert_eq!(LimitKind::from_resource_type(1), Some(LimitKind::PublicIp));

    // Limits are stored with the inventory.
    let reopened = Simulator::open(sqlite_pool(&env.url).await, SimConfig::for_tests())
        .await
        .unwrap();
    assert_eq!(reopened.resource_limits(&who.account_id), report);
}

#[tokio::test]
async fn ips_and_networks_have_limits_and_the_seed_sets_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("sim.db").display());
    let seed = format!(
        "{}\n[limits]\nnetwork = 1\npublic_ip = 2\n",
        cks_sim::config::DEFAULT_SEED
    );
    let config = SimConfig {
        seed: SeedSource::Text(seed),
        timings: Timings::instant(),
        public_ip_range: None,
        claims: None,
    };
    let sim = Simulator::open(sqlite_pool(&url).await, config)
        .await
        .unwrap();
    let c = catalog(&sim);
    let who = owner("seeded");
    let net = sim
        .create_network(&network_spec(&c, "one", &who))
        .await
        .unwrap();
    assert_eq!(
        sim.create_network(&network_spec(&c, "one", &who))
            .await
            .unwrap()
            .id,
        net.id,
        "adopting by name is not a new network"
    );
    let err = sim
        .create_network(&network_spec(&c, "two", &who))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), limit_text("network", "seeded"));
    // The source NAT IP counts: one more IP, then the limit.
    sim.implement_network(&net.id).await.unwrap();
    let spec = PublicIpSpec {
        network_id: net.id.clone(),
        tags: Tags::new(),
    };
    sim.acquire_public_ip(&spec).await.unwrap();
    let err = sim.acquire_public_ip(&spec).await.unwrap_err();
    assert_eq!(err.to_string(), limit_text("public_ip", "seeded"));
    // An account's own limit beats the default.
    sim.set_resource_limit(&who.account_id, LimitKind::PublicIp, Some(3))
        .await
        .unwrap();
    sim.acquire_public_ip(&spec).await.unwrap();
}
