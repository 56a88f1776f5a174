//! The create rules a user meets, a few per group: names, sizes, HA and control counts, version
//! minimums, networks.

use std::net::Ipv4Addr;

use super::*;
use crate::iaas::{AllocationState, NetworkState, NetworkType, Protocol, RuleState};
use crate::tenancy::Owner;

fn zone() -> Zone {
    Zone {
        id: "z1".into(),
        name: "zone-one".into(),
        description: None,
        network_type: NetworkType::Advanced,
        allocation_state: AllocationState::Enabled,
        dns1: Ipv4Addr::new(127, 0, 0, 53),
        dns2: None,
        internal_dns1: Ipv4Addr::new(127, 0, 0, 53),
        internal_dns2: None,
        guest_cidr: "10.1.1.0/24".into(),
        network_domain: None,
        security_groups_enabled: false,
        local_storage_enabled: false,
        physical_network_id: "pn1".into(),
        created: 0,
    }
}

fn offering(id: &str, cpus: u32, memory_mib: u64) -> ServiceOffering {
    crate::cluster::tests::offering(id, Some(cpus), Some(1000), Some(memory_mib))
}

fn template() -> Template {
    Template {
        id: "t1".into(),
        name: "cks-template".into(),
        display_text: "cks-template".into(),
        zone_id: Some("z1".into()),
        is_ready: true,
        status: "Download Complete".into(),
        format: "QCOW2".into(),
        hypervisor: "KVM".into(),
        template_type: "USER".into(),
        arch: "x86_64".into(),
        for_cks: true,
        bootable: true,
        is_public: true,
        is_featured: false,
        is_extractable: false,
        password_enabled: false,
        ssh_key_enabled: true,
        is_dynamically_scalable: false,
        size_bytes: 0,
        os_type_id: "os1".into(),
        os_type_name: "Ubuntu".into(),
        url: None,
        checksum: None,
        owner: None,
        tags: Default::default(),
        created: 0,
    }
}

fn network(guest_type: GuestIpType) -> Network {
    Network {
        id: "n1".into(),
        name: "net-one".into(),
        display_text: "net-one".into(),
        zone_id: "z1".into(),
        offering_id: "no1".into(),
        guest_type,
        state: NetworkState::Implemented,
        cidr: "10.1.1.0/24".into(),
        gateway: Ipv4Addr::new(10, 1, 1, 1),
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        vlan: Some(100),
        network_domain: "cks.internal".into(),
        vpc_id: None,
        owner: Owner::default(),
        tags: Default::default(),
        created: 0,
    }
}

fn version(semantic_version: &str) -> VersionFacts {
    VersionFacts {
        id: "v1".into(),
        name: format!("v{semantic_version}"),
        semantic_version: semantic_version.into(),
        enabled: true,
        zone_id: None,
        min_cpu: 2,
        min_memory_mib: 2048,
        iso_state: Some(IsoState::Ready),
    }
}

fn request() -> CreateRequest {
    CreateRequest {
        name: "c1".into(),
        zone_id: "z1".into(),
        kubernetes_version_id: Some("v1".into()),
        service_offering_id: Some("medium".into()),
        size: Some(1),
        ..CreateRequest::default()
    }
}

fn facts() -> CreateFacts {
    CreateFacts {
        settings: CreateSettings {
            endpoint_url: "http://127.0.0.1:8080/client/api".into(),
            max_cluster_size: 10,
            experimental_features: false,
        },
        caller_is_root_admin: false,
        owner_account_name: "alice".into(),
        zone: Some(zone()),
        cni_details: Ok(BTreeMap::new()),
        version: Some(version("1.33.1")),
        network_offering_ready: true,
        offerings: HashMap::from([
            ("medium".to_string(), offering("medium", 2, 4096)),
            ("tiny".to_string(), offering("tiny", 1, 1024)),
        ]),
        keypair_found: true,
        registry_url_valid: true,
        network: None,
        zone_templates: vec![template()],
        templates_found: HashSet::new(),
    }
}

fn refused(request: &CreateRequest, facts: &CreateFacts) -> CreateError {
    match validate_create(request, facts) {
        Ok(valid) => panic!("accepted: {valid:?}"),
        Err(e) => e,
    }
}

fn invalid(message: &str) -> CreateError {
    CreateError::Invalid(message.to_string())
}

#[test]
fn a_plain_request_yields_the_spec_with_resources_and_template() {
    let valid = validate_create(&request(), &facts()).expect("valid");
    assert_eq!(valid.name, "c1");
    assert_eq!(valid.description, "c1");
    assert_eq!(valid.cluster_type, ClusterType::CloudManaged);
    assert_eq!(valid.spec.control_nodes, 1);
    assert_eq!(valid.spec.workers, 1);
    assert_eq!((valid.spec.cores, valid.spec.memory_mib), (4, 8192));
    assert_eq!(valid.spec.template_id.as_deref(), Some("t1"));
    assert_eq!(valid.kubernetes_version_id.as_deref(), Some("v1"));
}

#[test]
fn names_must_have_text_and_no_control_characters() {
    for name in ["   ", "bad\u{7}name"] {
        let request = CreateRequest {
            name: name.into(),
            ..request()
        };
        assert_eq!(
            refused(&request, &facts()),
            invalid(&format!(
                "Invalid name for the Kubernetes cluster name: {}",
                name.trim()
            ))
        );
    }
    let padded = CreateRequest {
        name: "  c2 ".into(),
        ..request()
    };
    assert_eq!(
        validate_create(&padded, &facts()).expect("valid").name,
        "c2"
    );
}

#[test]
fn the_endpoint_url_is_needed_before_anything_else() {
    let mut facts = facts();
    facts.settings.endpoint_url = "http://localhost:8080/client/api".into();
    let request = CreateRequest {
        name: String::new(),
        ..request()
    };
    assert_eq!(
        refused(&request, &facts),
        invalid(
            "Global setting endpoint.url has to be set to the Management Server's API end point"
        )
    );
}

#[test]
fn sizes_are_counted_and_bounded() {
    let no_workers = CreateRequest {
        size: None,
        ..request()
    };
    assert_eq!(
        refused(&no_workers, &facts()),
        invalid("Invalid cluster size: 0")
    );
    let too_big = CreateRequest {
        size: Some(9),
        control_nodes: Some(3),
        ..request()
    };
    assert_eq!(
        refused(&too_big, &facts()),
        invalid("Maximum cluster size can not exceed 10. Please contact your administrator")
    );
    let small_disk = CreateRequest {
        root_disk_gb: Some(4),
        ..request()
    };
    assert_eq!(
        refused(&small_disk, &facts()),
        invalid("Provided node root disk size is lesser than default size of 8GB")
    );
}

#[test]
fn external_clusters_record_counts_without_deploy_rules() {
    let request = CreateRequest {
        cluster_type: Some("ExternalManaged".into()),
        kubernetes_version_id: None,
        size: None,
        root_disk_gb: Some(1),
        ..request()
    };
    let mut facts = facts();
    facts.settings.endpoint_url = String::new();
    let valid = validate_create(&request, &facts).expect("valid");
    assert_eq!(valid.spec.workers, 0);
    assert_eq!(valid.spec.template_id, None);
}

#[test]
fn ha_needs_a_version_that_supports_it() {
    let request = CreateRequest {
        control_nodes: Some(3),
        ..request()
    };
    let mut old = facts();
    old.version = Some(version("1.15.4"));
    assert_eq!(
        refused(&request, &old),
        invalid(
            "HA support is available only for Kubernetes version 1.16.0 and above. Given version ID: v1 is 1.15.4"
        )
    );
    assert_eq!(
        validate_create(&request, &facts())
            .expect("valid")
            .spec
            .control_nodes,
        3
    );
}

#[test]
fn the_version_must_exist_be_enabled_and_have_a_ready_iso() {
    let mut unknown = facts();
    unknown.version = None;
    assert_eq!(
        refused(&request(), &unknown),
        invalid("Invalid Kubernetes version ID")
    );
    let mut disabled = facts();
    disabled.version = Some(VersionFacts {
        enabled: false,
        ..version("1.33.1")
    });
    assert_eq!(
        refused(&request(), &disabled),
        invalid("Kubernetes version ID: v1 is in Disabled state")
    );
    let mut downloading = facts();
    downloading.version = Some(VersionFacts {
        iso_state: Some(IsoState::Downloading),
        ..version("1.33.1")
    });
    assert_eq!(
        refused(&request(), &downloading),
        invalid("ISO associated with version ID: v1 is not in Ready state for datacenter ID: z1")
    );
}

#[test]
fn offerings_must_meet_the_version_minimums() {
    let mut needs_more = facts();
    needs_more.version = Some(VersionFacts {
        min_cpu: 4,
        ..version("1.33.1")
    });
    assert_eq!(
        refused(&request(), &needs_more),
        invalid(
            "Given service offering ID: medium for WORKER nodes is not suitable for the Kubernetes cluster version 1.33.1 - Kubernetes cluster cannot be created with service offering ID: medium, Kubernetes version 1.33.1 needs minimum 4 vCPUs"
        )
    );
    let tiny_control = CreateRequest {
        node_offerings: vec![NodeMapEntry {
            node: "control".into(),
            value: "tiny".into(),
        }],
        ..request()
    };
    assert!(matches!(
        refused(&tiny_control, &facts()),
        CreateError::Invalid(m) if m.starts_with("Given service offering ID: tiny for CONTROL nodes")
    ));
    let unknown = CreateRequest {
        service_offering_id: Some("nope".into()),
        ..request()
    };
    assert_eq!(
        refused(&unknown, &facts()),
        invalid("Cannot find a service offering with ID nope")
    );
    let incomplete = CreateRequest {
        node_offerings: vec![NodeMapEntry {
            node: "worker".into(),
            value: String::new(),
        }],
        ..request()
    };
    assert_eq!(
        refused(&incomplete, &facts()),
        invalid("Incomplete Node Type to Service Offering ID mapping: 'worker' -> ''")
    );
}

#[test]
fn a_disabled_zone_is_for_the_root_admin_only() {
    let mut disabled = facts();
    if let Some(zone) = &mut disabled.zone {
        zone.allocation_state = AllocationState::Disabled;
    }
    assert_eq!(
        refused(&request(), &disabled),
        CreateError::Denied(
            "Cannot perform this operation, zone ID: z1 is currently disabled".into()
        )
    );
    disabled.caller_is_root_admin = true;
    assert!(validate_create(&request(), &disabled).is_ok());
    let mut unknown = facts();
    unknown.zone = None;
    assert_eq!(refused(&request(), &unknown), CreateError::UnknownZone);
}

fn on_network(facts: &mut CreateFacts, network: NetworkFacts) -> CreateRequest {
    facts.network = Some(network);
    CreateRequest {
        network_id: Some("n1".into()),
        ..request()
    }
}

#[test]
fn an_existing_network_must_be_isolated_free_and_without_conflicting_rules() {
    let mut facts = facts();
    let request = on_network(
        &mut facts,
        NetworkFacts {
            network: network(GuestIpType::Isolated),
            clusters_on_it: 1,
            source_nat: Some(SourceNatRules::default()),
        },
    );
    assert_eq!(
        refused(&request, &facts),
        invalid("Network ID: n1 is already under use by another Kubernetes cluster")
    );
    let request = on_network(
        &mut facts,
        NetworkFacts {
            network: network(GuestIpType::Shared),
            clusters_on_it: 0,
            source_nat: Some(SourceNatRules::default()),
        },
    );
    assert_eq!(
        refused(&request, &facts),
        invalid(
            "Network ID: n1 is not an isolated network; only isolated networks are supported for Kubernetes clusters here"
        )
    );
    let rule = PortForwardingRule {
        id: "pf1".into(),
        ip_id: "ip1".into(),
        ip_address: Ipv4Addr::new(127, 0, 0, 10),
        network_id: "n1".into(),
        protocol: Protocol::Tcp,
        public_start_port: 2222,
        public_end_port: 2222,
        private_start_port: 22,
        private_end_port: 22,
        vm_id: "vm1".into(),
        vm_guest_ip: Ipv4Addr::new(10, 1, 1, 5),
        cidrs: Vec::new(),
        state: RuleState::Active,
        owner: Owner::default(),
        tags: Default::default(),
        created: 0,
    };
    let request = on_network(
        &mut facts,
        NetworkFacts {
            network: network(GuestIpType::Isolated),
            clusters_on_it: 0,
            source_nat: Some(SourceNatRules {
                firewall_rules: Vec::new(),
                port_forwards: vec![rule],
            }),
        },
    );
    assert_eq!(
        refused(&request, &facts),
        invalid(
            "Network: net-one has conflicting port forwarding rules to provision Kubernetes cluster for node VM SSH access"
        )
    );
    let request = on_network(
        &mut facts,
        NetworkFacts {
            network: network(GuestIpType::Isolated),
            clusters_on_it: 0,
            source_nat: None,
        },
    );
    assert_eq!(
        refused(&request, &facts),
        invalid(
            "Network ID: n1 does not have a source NAT IP associated with it. To provision a Kubernetes Cluster, source NAT IP is required"
        )
    );
}

#[test]
fn networks_unknown_or_missing_for_an_external_load_balancer_are_refused() {
    let mut missing = facts();
    missing.network = None;
    let request = CreateRequest {
        network_id: Some("n1".into()),
        ..request()
    };
    assert_eq!(
        refused(&request, &missing),
        invalid("Unable to find network with given ID")
    );
    let lb_without_network = CreateRequest {
        external_lb_ip: Some("127.0.0.20".into()),
        ..self::request()
    };
    assert_eq!(
        refused(&lb_without_network, &facts()),
        invalid(
            "externalloadbalanceripaddress parameter must be specified along with networkid parameter"
        )
    );
    let mut unconfigured = facts();
    unconfigured.network_offering_ready = false;
    assert_eq!(
        refused(&self::request(), &unconfigured),
        CreateError::Internal(
            "Kubernetes service has not been configured properly to provision Kubernetes clusters"
                .into()
        )
    );
}
