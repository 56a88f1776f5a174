//! The plans a user gets for each operation, and the stored forms of steps and job parameters.

use std::collections::BTreeMap;

use super::*;

/// Every step name stored in `job_steps` before steps were types: a stored journal must read
/// back as the same steps.
const STORED_NAMES: [&str; 27] = [
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
    "start-vms",
    "stop-vms",
    "scale-offerings",
    "remove-nodes",
    "add-workers",
    "autoscaling",
    "attach-upgrade-iso",
    "upgrade-node:3f2a9c1e-0000-4000-8000-000000000001",
    "finish-upgrade",
    "await-operation",
    "destroy-vms",
    "release-network",
    "sweep",
];

fn names(steps: &[Step]) -> Vec<String> {
    steps.iter().map(Step::to_string).collect()
}

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn spec(workers: u32) -> ClusterSpec {
    ClusterSpec {
        control_nodes: 1,
        workers,
        ..ClusterSpec::default()
    }
}

fn node(id: &str, node_type: NodeType, seq: i64) -> NodeFacts {
    NodeFacts {
        id: id.into(),
        node_type,
        manual_upgrade: node_type == NodeType::Etcd,
        seq,
    }
}

#[test]
fn every_stored_name_reads_back_as_a_step_and_prints_the_same() {
    for name in STORED_NAMES {
        let step: Step = name.parse().expect(name);
        assert_eq!(step.to_string(), name);
    }
    // Every variant is among them: the data-free ones by their table, the per-node one here.
    assert_eq!(NAMED.len() + 1, STORED_NAMES.len());
    for (step, name) in NAMED {
        assert_eq!(step.to_string(), name);
        assert_eq!(name.parse::<Step>(), Ok(step));
    }
}

#[test]
fn a_node_step_keeps_its_node_id() {
    let step: Step = "upgrade-node:abc".parse().expect("parse");
    assert_eq!(
        step,
        Step::UpgradeNode {
            node_id: "abc".into()
        }
    );
}

#[test]
fn unknown_names_are_refused_with_the_name() {
    for name in [
        "",
        "Network",
        "upgrade-node",
        "upgrade-node:",
        "network:1",
        "reboot",
    ] {
        let err = name.parse::<Step>().expect_err(name);
        assert_eq!(err.to_string(), format!("Unknown step {name}"));
    }
}

#[test]
fn a_create_builds_network_pki_waves_rules_and_waits_in_that_order() {
    // The first fourteen stored names, in order.
    assert_eq!(names(&plan_create()), STORED_NAMES[..14]);
    // The etcd wave comes before the control node that needs it; the rules (with the API's
    // load-balancer rule for HA clusters) before anything waits for the API.
    let plan = plan_create();
    let at = |s: Step| plan.iter().position(|p| *p == s).expect("in plan");
    assert!(at(Step::DeployEtcdNodes) < at(Step::DeployFirstControlNode));
    assert!(at(Step::NetworkRules) < at(Step::WaitApi));
}

#[test]
fn start_stop_and_delete_plans() {
    assert_eq!(
        names(&plan_start()),
        ["start-vms", "wait-api", "wait-nodes-ready"]
    );
    assert_eq!(names(&plan_stop()), ["stop-vms"]);
    assert_eq!(
        names(&plan_delete()),
        ["await-operation", "destroy-vms", "release-network", "sweep"]
    );
}

#[test]
fn a_scale_down_of_workers_only_removes() {
    let request = ScaleRequest::from_params(&params(&[("size", "1")]));
    assert_eq!(
        names(&plan_scale(&spec(3), &request)),
        ["remove-nodes", "network-rules"]
    );
}

#[test]
fn a_removal_by_id_removes_whatever_the_size() {
    let request = ScaleRequest::from_params(&params(&[("nodeids", "vm-1,vm-2")]));
    assert_eq!(
        request.node_ids,
        Some(vec!["vm-1".to_string(), "vm-2".to_string()])
    );
    assert_eq!(
        names(&plan_scale(&spec(3), &request)),
        ["remove-nodes", "network-rules"]
    );
}

#[test]
fn a_scale_up_adds_workers_lays_out_rules_and_waits_for_them() {
    let request = ScaleRequest::from_params(&params(&[("size", "4")]));
    assert_eq!(
        names(&plan_scale(&spec(2), &request)),
        [
            "add-workers",
            "network-rules",
            "attach-iso",
            "wait-nodes-ready",
            "detach-iso"
        ]
    );
}

#[test]
fn a_scale_to_the_same_size_with_new_offerings_only_moves_offerings() {
    let request = ScaleRequest::from_params(&params(&[
        ("size", "2"),
        ("offering.worker", "big"),
        ("offering.control", "medium"),
    ]));
    assert_eq!(
        request.offerings,
        [
            (NodeType::Control, "medium".to_string()),
            (NodeType::Worker, "big".to_string())
        ]
    );
    assert_eq!(names(&plan_scale(&spec(2), &request)), ["scale-offerings"]);
}

#[test]
fn autoscaling_is_recorded_last_and_its_bounds_only_when_enabled() {
    let on = ScaleRequest::from_params(&params(&[
        ("offering.worker", "big"),
        ("size", "5"),
        ("autoscalingenabled", "true"),
        ("minsize", "1"),
        ("maxsize", "5"),
    ]));
    let plan = names(&plan_scale(&spec(2), &on));
    assert_eq!(plan.first().map(String::as_str), Some("scale-offerings"));
    assert_eq!(plan.last().map(String::as_str), Some("autoscaling"));
    assert_eq!(
        on.autoscaling,
        Some(AutoscalingRequest {
            enabled: true,
            min_size: Some(1),
            max_size: Some(5)
        })
    );
    let off = ScaleRequest::from_params(&params(&[
        ("autoscalingenabled", "false"),
        ("minsize", "1"),
    ]));
    assert_eq!(names(&plan_scale(&spec(2), &off)), ["autoscaling"]);
    assert_eq!(
        off.autoscaling,
        Some(AutoscalingRequest {
            enabled: false,
            min_size: None,
            max_size: None
        })
    );
}

#[test]
fn an_upgrade_has_one_step_per_node_control_nodes_first_etcd_and_manual_ones_left_out() {
    let mut manual = node("w-manual", NodeType::Worker, 2);
    manual.manual_upgrade = true;
    let nodes = [
        node("w-late", NodeType::Worker, 7),
        node("c-second", NodeType::Control, 4),
        node("etcd", NodeType::Etcd, 0),
        node("w-early", NodeType::Worker, 3),
        manual,
        node("c-first", NodeType::Control, 1),
    ];
    assert_eq!(
        names(&plan_upgrade(&nodes)),
        [
            "attach-upgrade-iso",
            "upgrade-node:c-first",
            "upgrade-node:c-second",
            "upgrade-node:w-early",
            "upgrade-node:w-late",
            "finish-upgrade",
        ]
    );
}

#[test]
fn operation_params_keep_their_stored_form() {
    let stored = params(&[
        ("cks.noop", "true"),
        ("cks.runsin", "Scaling"),
        ("cks.retryof", "job-1"),
        ("size", "3"),
    ]);
    let parsed = OperationParams::from_stored(stored.clone());
    assert!(parsed.no_op);
    assert_eq!(parsed.runs_in, Some(ClusterState::Scaling));
    assert_eq!(parsed.retry_of.as_deref(), Some("job-1"));
    assert_eq!(parsed.request, params(&[("size", "3")]));
    assert_eq!(parsed.get("size"), Some("3"));
    assert_eq!(parsed.to_stored(), stored);
    // A plain request stores nothing beside it; an old row without the keys loads as one.
    let plain = OperationParams::from_stored(params(&[("forced", "true")]));
    assert_eq!(
        plain,
        OperationParams::for_request(params(&[("forced", "true")]))
    );
    assert_eq!(plain.to_stored(), params(&[("forced", "true")]));
    assert_eq!(
        OperationParams::no_op().to_stored(),
        params(&[("cks.noop", "true")])
    );
}

#[test]
fn operations_of_commands_and_their_timeouts() {
    assert_eq!(
        Operation::of_command("scaleKubernetesCluster"),
        Some(Operation::Scale)
    );
    assert_eq!(Operation::of_command("listKubernetesClusters"), None);
    assert_eq!(
        Operation::Upgrade.timeout_setting(),
        settings::CLUSTER_UPGRADE_TIMEOUT
    );
    assert_eq!(
        Operation::Delete.timeout_setting(),
        settings::CLUSTER_START_TIMEOUT
    );
}
