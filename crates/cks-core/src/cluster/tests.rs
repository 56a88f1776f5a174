//! The state machine against CKS's table (spec §3), row by row, and the transitions we deliberately fix.

use super::*;
use ClusterEvent as E;
use ClusterState as S;

/// The spec's table (§3), row by row.
const SPEC_ROWS: &[(S, E, S)] = &[
    (S::Created, E::StartRequested, S::Starting),
    (S::Starting, E::OperationSucceeded, S::Running),
    (S::Starting, E::OperationFailed, S::Alert),
    (S::Starting, E::CreateFailed, S::Error),
    (S::Starting, E::StopRequested, S::Stopping),
    (S::Running, E::StopRequested, S::Stopping),
    (S::Alert, E::StopRequested, S::Stopping),
    (S::Stopping, E::OperationSucceeded, S::Stopped),
    (S::Stopping, E::OperationFailed, S::Alert),
    (S::Stopped, E::StartRequested, S::Starting),
    (S::Stopped, E::OperationSucceeded, S::Stopped),
    (S::Running, E::OperationSucceeded, S::Running),
    (S::Running, E::FaultsDetected, S::Alert),
    (S::Running, E::AutoscaleRequested, S::Scaling),
    (S::Running, E::ScaleUpRequested, S::Scaling),
    (S::Running, E::ScaleDownRequested, S::Scaling),
    (S::Stopped, E::ScaleUpRequested, S::ScalingStoppedCluster),
    (S::Scaling, E::OperationSucceeded, S::Running),
    (S::Scaling, E::OperationFailed, S::Alert),
    (S::ScalingStoppedCluster, E::OperationSucceeded, S::Stopped),
    (S::ScalingStoppedCluster, E::OperationFailed, S::Alert),
    (S::Running, E::UpgradeRequested, S::Upgrading),
    (S::Upgrading, E::OperationSucceeded, S::Running),
    (S::Upgrading, E::OperationFailed, S::Alert),
    (S::Running, E::AddNodeRequested, S::Importing),
    (S::Alert, E::AddNodeRequested, S::Importing),
    (S::Importing, E::OperationSucceeded, S::Running),
    (S::Importing, E::OperationFailed, S::Running),
    (S::Alert, E::OperationSucceeded, S::Running),
    (S::Running, E::RemoveNodeRequested, S::RemovingNodes),
    (S::Alert, E::RemoveNodeRequested, S::RemovingNodes),
    (S::RemovingNodes, E::OperationSucceeded, S::Running),
    (S::RemovingNodes, E::OperationFailed, S::Running),
    (S::Alert, E::RecoveryRequested, S::Recovering),
    (S::Recovering, E::OperationSucceeded, S::Running),
    (S::Recovering, E::OperationFailed, S::Alert),
    (S::Running, E::DestroyRequested, S::Destroying),
    (S::Stopped, E::DestroyRequested, S::Destroying),
    (S::Alert, E::DestroyRequested, S::Destroying),
    (S::Error, E::DestroyRequested, S::Destroying),
    (S::Destroying, E::OperationSucceeded, S::Destroyed),
];

/// Rows we add on purpose (spec §9 holes).
fn fixed_rows() -> Vec<(S, E, S)> {
    let mut rows = vec![
        (S::Alert, E::StartRequested, S::Starting),
        (S::Stopped, E::FaultsDetected, S::Alert),
        (S::Destroying, E::OperationFailed, S::Destroying),
    ];
    for s in S::ALL {
        let in_spec = SPEC_ROWS
            .iter()
            .any(|(f, e, _)| *f == s && *e == E::DestroyRequested);
        if s != S::Destroyed && !in_spec {
            rows.push((s, E::DestroyRequested, S::Destroying));
        }
    }
    rows
}

#[test]
fn every_row_of_the_spec_table_holds() {
    for (from, event, to) in SPEC_ROWS {
        assert_eq!(from.on(*event), Some(*to), "{from} --{event}-->");
    }
}

#[test]
fn deliberate_fixes_hold() {
    for (from, event, to) in fixed_rows() {
        assert_eq!(from.on(event), Some(to), "{from} --{event}-->");
    }
}

#[test]
fn every_other_pair_is_rejected() {
    let fixed = fixed_rows();
    let mut rejected = 0;
    for from in S::ALL {
        for event in E::ALL {
            let known = SPEC_ROWS
                .iter()
                .chain(fixed.iter())
                .any(|(f, e, _)| *f == from && *e == event);
            if !known {
                assert_eq!(from.on(event), None, "{from} --{event}--> must be refused");
                rejected += 1;
            }
        }
    }
    // 15 states × 14 events, minus the rows above.
    assert_eq!(rejected + SPEC_ROWS.len() + fixed.len(), 15 * 14);
}

#[test]
fn stuck_clusters_can_be_deleted_but_a_destroyed_one_cannot() {
    for s in [
        S::Created,
        S::Starting,
        S::Scaling,
        S::Upgrading,
        S::Stopping,
        S::Recovering,
    ] {
        assert_eq!(s.on(E::DestroyRequested), Some(S::Destroying), "{s}");
    }
    assert_eq!(S::Destroyed.on(E::DestroyRequested), None);
}

#[test]
fn state_names_round_trip_case_insensitively() {
    for s in S::ALL {
        assert_eq!(S::parse(&s.as_str().to_lowercase()), Some(s));
    }
    assert_eq!(S::parse("Running"), Some(S::Running));
    assert_eq!(S::parse("Bogus"), None);
}

#[test]
fn transient_states_are_those_an_operation_drives() {
    let transient: Vec<S> = S::ALL.into_iter().filter(|s| s.is_transient()).collect();
    assert!(transient.contains(&S::Starting) && transient.contains(&S::Destroying));
    for s in [
        S::Created,
        S::Running,
        S::Stopped,
        S::Alert,
        S::Error,
        S::Destroyed,
    ] {
        assert!(!s.is_transient(), "{s}");
    }
}

#[test]
fn an_abort_settles_every_operation_but_a_delete() {
    for s in S::ALL {
        let aborted = s.on_abort(false);
        if s.is_transient() && s != S::Destroying {
            let to = aborted.unwrap_or_else(|| panic!("{s} cannot be aborted"));
            assert!(!to.is_transient(), "{s} aborted into {to}");
        } else {
            assert_eq!(aborted, None, "{s}");
        }
    }
    // A create whose nodes were never ready ends in Error, as its failure would.
    assert_eq!(S::Starting.on_abort(true), Some(S::Error));
    assert_eq!(S::Starting.on_abort(false), Some(S::Alert));
    assert_eq!(S::Scaling.on_abort(true), Some(S::Alert));
    assert_eq!(S::Upgrading.on_abort(false), Some(S::Alert));
    assert_eq!(S::Destroying.on_abort(false), None);
}

#[test]
fn a_retry_reenters_the_failed_operations_state() {
    // A failed create (Error) runs again in Starting; nothing else leaves Error that way.
    assert_eq!(S::Error.on_retry(S::Starting), Some(S::Starting));
    assert_eq!(S::Error.on_retry(S::Scaling), None);
    // A failed start, stop, scale or upgrade (Alert) runs again in its own state.
    for t in [
        S::Starting,
        S::Stopping,
        S::Scaling,
        S::ScalingStoppedCluster,
        S::Upgrading,
    ] {
        assert_eq!(S::Alert.on_retry(t), Some(t), "{t}");
    }
    assert_eq!(S::Alert.on_retry(S::Destroying), None);
    // A failed delete stays Destroying and is retried there; so is a stuck operation.
    assert_eq!(S::Destroying.on_retry(S::Destroying), Some(S::Destroying));
    assert_eq!(S::Upgrading.on_retry(S::Upgrading), Some(S::Upgrading));
    assert_eq!(S::Upgrading.on_retry(S::Scaling), None);
    // Settled clusters have nothing to retry, and a retry always targets a transient state.
    for s in [S::Created, S::Running, S::Stopped, S::Destroyed] {
        for t in S::ALL {
            assert_eq!(s.on_retry(t), None, "{s} -> {t}");
        }
    }
    assert_eq!(S::Alert.on_retry(S::Running), None);
}

#[test]
fn cluster_type_defaults_and_rejects_unknown_values_with_cks_text() {
    assert_eq!(parse_cluster_type(None), Ok(ClusterType::CloudManaged));
    assert_eq!(
        parse_cluster_type(Some("externalmanaged")),
        Ok(ClusterType::ExternalManaged)
    );
    assert_eq!(
        parse_cluster_type(Some("Hybrid")).unwrap_err(),
        "Unable to resolve cluster type Hybrid to a supported value (CloudManaged, ExternalManaged)"
    );
}

#[test]
fn node_type_keys_are_case_insensitive_and_default_is_accepted() {
    assert_eq!(parse_node_type_key("WORKER"), Ok(Some(NodeType::Worker)));
    assert_eq!(parse_node_type_key("Control"), Ok(Some(NodeType::Control)));
    assert_eq!(parse_node_type_key("etcd"), Ok(Some(NodeType::Etcd)));
    assert_eq!(parse_node_type_key("DEFAULT"), Ok(None));
    assert_eq!(
        parse_node_type_key("master").unwrap_err(),
        "The provided value 'master' for Node Type is invalid"
    );
}

#[test]
fn node_counts_follow_cks_order_and_count_etcd_nodes() {
    assert_eq!(
        check_node_counts(0, 1, 0, 10).unwrap_err(),
        "Invalid cluster control nodes count: 0"
    );
    assert_eq!(
        check_node_counts(1, 0, 0, 10).unwrap_err(),
        "Invalid cluster size: 0"
    );
    assert_eq!(
        check_node_counts(1, 1, -1, 10).unwrap_err(),
        "Invalid etcd nodes count: -1"
    );
    let too_big = "Maximum cluster size can not exceed 10. Please contact your administrator";
    assert_eq!(check_node_counts(3, 8, 0, 10).unwrap_err(), too_big);
    // FIX: etcd nodes count toward the maximum (CKS leaves them out).
    assert_eq!(check_node_counts(1, 1, 23, 10).unwrap_err(), too_big);
    assert_eq!(
        check_node_counts(3, 7, 0, 10),
        Ok(NodeCounts {
            control: 3,
            workers: 7,
            etcd: 0
        })
    );
    assert_eq!(
        check_node_counts(1, 6, 3, 10),
        Ok(NodeCounts {
            control: 1,
            workers: 6,
            etcd: 3
        })
    );
}

#[test]
fn huge_counts_never_wrap_past_the_maximum_or_truncate() {
    let too_big = "Maximum cluster size can not exceed 10. Please contact your administrator";
    // 2^32 + 2 is not 2, and i64::MAX plus a control node does not wrap negative.
    assert_eq!(
        check_node_counts(1, 1, 4_294_967_298, 10).unwrap_err(),
        too_big
    );
    assert_eq!(check_node_counts(1, i64::MAX, 0, 10).unwrap_err(), too_big);
    assert_eq!(
        check_node_counts(i64::MAX, i64::MAX, i64::MAX, i64::MAX).unwrap_err(),
        "Maximum cluster size can not exceed 9223372036854775807. Please contact your administrator"
    );
    assert_eq!(check_max_size(&[i64::MAX, 1], 10).unwrap_err(), too_big);
    assert_eq!(
        check_max_size(&[i64::MAX, 1, i64::MIN], 10).unwrap_err(),
        too_big
    );
    assert_eq!(check_max_size(&[3, 7, 0], 10), Ok(()));
    // Recorded (ExternalManaged) counts: negative is 0, beyond u32 is refused, not cut.
    assert_eq!(
        recorded_node_counts(-1, 2, 0),
        Ok(NodeCounts {
            control: 0,
            workers: 2,
            etcd: 0
        })
    );
    assert_eq!(
        recorded_node_counts(1, 1, 4_294_967_298).unwrap_err(),
        "Invalid cluster etcd nodes count: 4294967298"
    );
}

pub(super) fn offering(
    id: &str,
    cpus: Option<u32>,
    speed: Option<u32>,
    mem: Option<u64>,
) -> ServiceOffering {
    ServiceOffering {
        id: id.into(),
        name: id.into(),
        display_text: id.into(),
        cpu_number: cpus,
        cpu_speed_mhz: speed,
        memory_mib: mem,
        is_customized: cpus.is_none(),
        root_disk_size_gib: None,
        storage_type: "shared".into(),
        offer_ha: false,
        limit_cpu_use: false,
        is_system: false,
        dynamic_scaling_enabled: true,
        host_tags: None,
        state: crate::iaas::OfferingState::Active,
        created: 0,
    }
}

#[test]
fn offerings_are_checked_with_cks_messages() {
    let v = VersionMinimums {
        semantic_version: "1.33.1",
        min_cpu: 2,
        min_memory_mib: 4096,
    };
    assert!(
        check_node_offering(
            &offering("big", Some(4), Some(2000), Some(8192)),
            v,
            OfferingUse::Create
        )
        .is_ok()
    );
    assert_eq!(
        check_node_offering(
            &offering("custom", None, None, None),
            v,
            OfferingUse::Create
        )
        .unwrap_err(),
        "Custom service offerings are not supported for creating clusters, service offering ID: custom"
    );
    assert_eq!(
        check_node_offering(
            &offering("tiny", Some(1), Some(1000), Some(1024)),
            v,
            OfferingUse::Create
        )
        .unwrap_err(),
        "Kubernetes cluster cannot be created with service offering ID: tiny, Kubernetes cluster template needs minimum 2 vCPUs and 2048 MB RAM"
    );
    assert_eq!(
        check_node_offering(
            &offering("mid", Some(2), Some(1000), Some(2048)),
            v,
            OfferingUse::Scale
        )
        .unwrap_err(),
        "Kubernetes cluster cannot be scaled with service offering ID: mid, Kubernetes version 1.33.1 needs minimum 4096 MB RAM"
    );
    let v4 = VersionMinimums {
        semantic_version: "1.33.1",
        min_cpu: 4,
        min_memory_mib: 2048,
    };
    assert_eq!(
        check_node_offering(
            &offering("mid", Some(2), Some(1000), Some(2048)),
            v4,
            OfferingUse::Create
        )
        .unwrap_err(),
        "Kubernetes cluster cannot be created with service offering ID: mid, Kubernetes version 1.33.1 needs minimum 4 vCPUs"
    );
}

#[test]
fn only_bigger_offerings_count_as_upscale() {
    let small = offering("s", Some(2), Some(2000), Some(2048));
    let large = offering("l", Some(4), Some(2000), Some(4096));
    let fast_small_ram = offering("f", Some(4), Some(2000), Some(1024));
    assert!(is_upscale(&small, &large));
    assert!(is_upscale(&small, &small));
    assert!(!is_upscale(&large, &small));
    assert!(!is_upscale(&small, &fast_small_ram));
}

#[test]
fn node_names_follow_cks_patterns() {
    assert_eq!(node_name_prefix("Prod-1", "u"), "prod-1");
    assert_eq!(node_name_prefix("my cluster!", "u"), "k8s-mycluster");
    assert_eq!(node_name_prefix("@@@", "ABC-123"), "k8s-abc-123");
    let long = "a".repeat(80);
    assert_eq!(node_name_prefix(&long, "u").len(), 43);
    assert_eq!(node_name("p", NodeType::Control, 0, 255), "p-control-ff");
    assert_eq!(node_name("p", NodeType::Worker, 0, 16), "p-node-10");
    assert_eq!(node_name("p", NodeType::Etcd, 1, 10), "p-etcd-2-a");
    for name in [
        node_name(&long, NodeType::Etcd, 0, 1_795_000_000_000),
        node_name(
            &node_name_prefix(&long, "u"),
            NodeType::Worker,
            0,
            1_795_000_000_000,
        ),
    ] {
        assert!(is_dns_label(&name), "{name}");
    }
}

fn seen(expected: usize, vms: &[VmState], ready: Option<usize>) -> Observation {
    Observation {
        expected_nodes: expected,
        vm_states: vms.to_vec(),
        ready_nodes: ready,
    }
}

#[test]
fn scanner_flags_running_clusters_with_missing_stopped_or_unready_nodes() {
    use VmState::*;
    assert_eq!(
        scan(S::Running, &seen(2, &[Running, Running], Some(2))),
        Verdict::Unchanged
    );
    assert!(
        matches!(scan(S::Running, &seen(2, &[Running], Some(1))), Verdict::Faulty(r) if r == "1 of 2 node VMs exist")
    );
    assert!(
        matches!(scan(S::Running, &seen(2, &[Running, Stopped], Some(1))), Verdict::Faulty(r) if r == "1 of 2 node VMs are running")
    );
    assert!(
        matches!(scan(S::Running, &seen(2, &[Running, Running], None)), Verdict::Faulty(r) if r.contains("unreachable"))
    );
    assert!(
        matches!(scan(S::Running, &seen(2, &[Running, Running], Some(1))), Verdict::Faulty(r) if r == "1 of 2 nodes are ready")
    );
}

#[test]
fn scanner_recovers_alert_clusters_and_notices_stopped_ones() {
    use VmState::*;
    assert_eq!(
        scan(S::Alert, &seen(2, &[Running, Running], Some(2))),
        Verdict::Recovered
    );
    assert_eq!(
        scan(S::Alert, &seen(2, &[Stopped, Stopped], None)),
        Verdict::AllStopped
    );
    assert_eq!(
        scan(S::Alert, &seen(2, &[Running, Stopped], None)),
        Verdict::Unchanged
    );
    assert!(matches!(
        scan(S::Stopped, &seen(2, &[Running, Stopped], None)),
        Verdict::Faulty(_)
    ));
    assert_eq!(
        scan(S::Stopped, &seen(2, &[Stopped, Stopped], None)),
        Verdict::Unchanged
    );
    // Operations own their transient states.
    assert_eq!(scan(S::Starting, &seen(2, &[], None)), Verdict::Unchanged);
}

#[test]
fn node_resources_sum_counts_times_offerings_and_never_overflow() {
    let small = offering("s", Some(2), Some(2000), Some(2048));
    let large = offering("l", Some(4), Some(2000), Some(8192));
    assert_eq!(
        node_resources([(3, &small), (1, &large)]),
        (3 * 2 + 4, 3 * 2048 + 8192)
    );
    let absurd = offering("x", Some(u32::MAX), None, Some(u64::MAX));
    assert_eq!(
        node_resources([(1000, &absurd)]),
        (1000 * i64::from(u32::MAX), i64::MAX)
    );
    assert_eq!(node_resources([]), (0, 0));
}
