//! The Kubernetes cluster commands. Handlers validate in CKS's order with CKS's messages (the
//! rules themselves live in `cks_core::cluster`), then begin the operation: the cluster moves to
//! its transient state and the job is queued in one transaction. The work is in `orchestrator`.

use std::collections::BTreeMap;

use cks_api::ApiError;
use cks_api::wire::Obj;
use cks_cloud::ObjectIds;
use cks_core::cluster::{
    ClusterSpec, ClusterState, ClusterType, MIN_ROOT_DISK_GB, NodeType, OfferingUse,
    OperationParams, PerNodeType, VersionMinimums, check_max_size, check_node_counts,
    check_node_offering, is_upscale, node_resources, parse_cluster_type, parse_node_type_key,
    recorded_node_counts,
};
use cks_core::iaas::{GuestIpType, IsoState, ServiceOffering};
use cks_core::settings as s;
use cks_core::tenancy::Owner;
use cks_core::version::SemanticVersion;
use cks_store::{ClusterFilter, ClusterRecord, KubernetesVersion, NewJob, StoreError, new_id, now};
use serde_json::{Value, json};

use super::inventory::render_vm;
use super::{Cx, Reply, keyword_matches, member_projects, name_matches, scope};
use crate::errors::{cloud_error, internal};
use crate::orchestrator::ClusterSecrets;
use crate::state::AppState;

const INSTANCE_TYPE: &str = "KubernetesCluster";

// === Rendering ===

/// The `kubernetescluster` object (spec §2.4), plus `operation`, `step` and `lasterror`.
pub async fn render_cluster(state: &AppState, c: &ClusterRecord, admin: bool) -> Value {
    let spec = &c.spec;
    let version = match &c.kubernetes_version_id {
        Some(id) => state.store.version(id).await.ok().flatten(),
        None => None,
    };
    let cni_name = match &spec.cni_config_id {
        Some(id) => state
            .store
            .cni_config(id)
            .await
            .ok()
            .flatten()
            .map(|c| c.name),
        None => None,
    };
    let nodes = state.store.nodes(&c.id).await.unwrap_or_default();
    // Everything shown by name, and the nodes' VMs with what they refer to: one cloud call.
    let ids = ObjectIds {
        zones: vec![c.zone_id.clone()],
        service_offerings: [
            spec.service_offering_id.as_deref(),
            spec.node_offerings.worker.as_deref(),
            spec.node_offerings.control.as_deref(),
            spec.node_offerings.etcd.as_deref(),
        ]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .collect(),
        templates: spec.template_id.iter().cloned().collect(),
        networks: c.network_id.iter().cloned().collect(),
        vms: nodes.iter().filter_map(|n| n.vm_id.clone()).collect(),
        with_vm_refs: true,
        // CKS's `etcdips` need the rules of the cluster's IP; only clusters with etcd nodes ask.
        port_forwards_on_ips: spec
            .public_ip_id
            .iter()
            .filter(|_| spec.etcd_nodes > 0)
            .cloned()
            .collect(),
        ..ObjectIds::default()
    };
    let objects = state.cloud.lookup(&ids).await.unwrap_or_default();
    let offering_name = |id: Option<&str>| {
        id.and_then(|id| objects.service_offerings.get(id))
            .map(|o| o.name.clone())
    };
    let zone = objects.zones.get(&c.zone_id);
    let network = c
        .network_id
        .as_ref()
        .and_then(|id| objects.networks.get(id));
    let template = spec
        .template_id
        .as_ref()
        .and_then(|id| objects.templates.get(id));
    let vms: Vec<Value> = nodes
        .iter()
        .filter_map(|n| {
            let vm = objects.vms.get(n.vm_id.as_ref()?)?;
            let mut v = render_vm(&objects, vm, admin, false, false)?;
            if let Value::Object(m) = &mut v {
                m.insert("isexternalnode".into(), json!(n.external));
                m.insert("isetcdnode".into(), json!(n.node_type == NodeType::Etcd));
                if let Some(version) = &n.kubernetes_version {
                    m.insert("kubernetesnodeversion".into(), json!(version));
                }
            }
            Some(v)
        })
        .collect();
    let per_type = |t: NodeType| spec.node_offerings.get(t).map(str::to_string);
    // CKS's `etcdips`: the public IPs (id → address) that forward the etcd start port, i.e.
    // reach the first etcd node (the rules came with the lookup above).
    let mut etcd_ips: BTreeMap<String, String> = BTreeMap::new();
    if spec.etcd_nodes > 0
        && let Some(ip_id) = &spec.public_ip_id
    {
        let start = state.setting_i64(s::ETCD_START_PORT);
        for rule in objects
            .port_forwards
            .iter()
            .filter(|r| r.ip_id == *ip_id && i64::from(r.public_start_port) == start)
        {
            etcd_ips.insert(rule.ip_id.clone(), rule.ip_address.to_string());
        }
    }
    let obj = Obj::new()
        .set("id", c.id.clone())
        .set("name", c.name.clone())
        .set("description", c.description.clone())
        .set("zoneid", c.zone_id.clone())
        .opt("zonename", zone.map(|z| z.name.clone()))
        .opt("serviceofferingid", spec.service_offering_id.clone())
        .opt(
            "serviceofferingname",
            offering_name(spec.service_offering_id.as_deref()),
        )
        .opt("workerofferingid", per_type(NodeType::Worker))
        .opt(
            "workerofferingname",
            offering_name(spec.node_offerings.worker.as_deref()),
        )
        .opt("controlofferingid", per_type(NodeType::Control))
        .opt(
            "controlofferingname",
            offering_name(spec.node_offerings.control.as_deref()),
        )
        .opt("etcdofferingid", per_type(NodeType::Etcd))
        .opt(
            "etcdofferingname",
            offering_name(spec.node_offerings.etcd.as_deref()),
        )
        .set("etcdnodes", spec.etcd_nodes)
        .opt("templateid", spec.template_id.clone())
        .opt("templatename", template.map(|t| t.name.clone()))
        .opt("networkid", c.network_id.clone())
        .opt("associatednetworkname", network.map(|n| n.name.clone()))
        .opt("kubernetesversionid", c.kubernetes_version_id.clone())
        .opt("kubernetesversionname", version.map(|v| v.name))
        .owner(&c.owner)
        .opt("keypair", spec.keypair.clone())
        .opt("cniconfigurationid", spec.cni_config_id.clone())
        .opt("cniconfigname", cni_name)
        .set("masternodes", spec.control_nodes)
        .set("controlnodes", spec.control_nodes)
        .set("size", spec.workers)
        .set("state", c.state.as_str())
        .set("cpunumber", spec.cores.to_string())
        .set("memory", spec.memory_mib.to_string())
        .opt(
            "endpoint",
            spec.endpoint_ip
                .as_ref()
                .filter(|_| spec.dashboard_running || c.state != ClusterState::Starting)
                .map(|ip| format!("https://{ip}:6443/")),
        )
        .set("virtualmachines", vms)
        .opt("ipaddress", spec.endpoint_ip.clone())
        .opt("ipaddressid", spec.public_ip_id.clone())
        .set("etcdips", json!(etcd_ips))
        .set("autoscalingenabled", spec.autoscaling)
        .opt("minsize", spec.min_size)
        .opt("maxsize", spec.max_size)
        .set("clustertype", c.cluster_type.as_str())
        .set("csienabled", spec.csi_enabled)
        .set("created", cks_api::date::format_date(c.created))
        .set("hasannotations", false)
        .opt(
            "operation",
            c.operation
                .clone()
                .filter(|_| c.state.is_transient() || c.last_error.is_some()),
        )
        // The job of that operation, for `queryAsyncJobResult` and `listAsyncJobSteps`.
        .opt(
            "jobid",
            c.job_id
                .clone()
                .filter(|_| c.state.is_transient() || c.last_error.is_some()),
        )
        .opt("step", c.step.clone())
        .opt("lasterror", c.last_error.clone());
    obj.build()
}

// === Lookups ===

/// A live cluster the caller may operate on; CKS's 431 otherwise.
pub(crate) async fn cluster_for(cx: &Cx<'_>) -> Result<ClusterRecord, ApiError> {
    let id = cx.p.req("id");
    let c = cx.state.store.cluster(id).await.map_err(internal)?;
    match c {
        Some(c) if cx.caller.can_access(&c.owner, &member_projects(cx).await?) => Ok(c),
        // CloudStack's answer for an id that names nothing the caller may see ("entity does
        // not exist"); CKS's own "Invalid Kubernetes cluster ID" is only reached past that.
        _ => Err(cx.p.not_found("id")),
    }
}

fn version_minimums(v: &KubernetesVersion) -> VersionMinimums<'_> {
    VersionMinimums {
        semantic_version: &v.semantic_version,
        min_cpu: v.min_cpu,
        min_memory_mib: v.min_memory,
    }
}

/// A service offering by id, asked of the cloud; `None` when there is none.
async fn offering(state: &AppState, id: &str) -> Result<Option<ServiceOffering>, ApiError> {
    let ids = ObjectIds {
        service_offerings: vec![id.to_string()],
        ..ObjectIds::default()
    };
    let mut found = state.cloud.lookup(&ids).await.map_err(cloud_error)?;
    Ok(found.service_offerings.remove(id))
}

/// `nodeofferings`/`nodetemplates` entries: `{node: type, <field>: uuid}`.
fn node_map(
    cx: &Cx<'_>,
    param: &str,
    field: &str,
) -> Result<(PerNodeType, Option<String>), ApiError> {
    let mut out = PerNodeType::default();
    let mut default = None;
    let Some(map) = cx.p.map(param) else {
        return Ok((out, default));
    };
    for entry in map.values() {
        let node = entry.get("node").map(String::as_str).unwrap_or_default();
        let value = entry.get(field).map(String::as_str).unwrap_or_default();
        if node.is_empty() || value.is_empty() {
            return Err(ApiError::invalid(format!(
                "Incomplete Node Type to {} ID mapping: '{node}' -> '{value}'",
                if field == "offering" {
                    "Service Offering"
                } else {
                    "Template"
                }
            )));
        }
        match parse_node_type_key(node).map_err(ApiError::invalid)? {
            Some(t) => out.set(t, Some(value.to_string())),
            None => default = Some(value.to_string()),
        }
    }
    Ok((out, default))
}

/// The owner of a new cluster: the caller, `account`+`domainid`, or `projectid`.
pub(super) async fn owner_for_create(cx: &Cx<'_>) -> Result<Owner, ApiError> {
    let store = &cx.state.store;
    if let Some(project_id) = cx.p.str("projectid") {
        let project = store
            .project(project_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| cx.p.not_found("projectid"))?;
        let account = store
            .account(&project.project_account_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| cx.p.not_found("projectid"))?;
        let domain = store
            .domain(&project.domain_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| cx.p.not_found("projectid"))?;
        let owner = super::owner_of(&account, &domain, Some(&project));
        // A project the caller is not in answers as an unknown one (no probing for ids).
        if !cx.caller.can_access(&owner, &member_projects(cx).await?) {
            return Err(cx.p.not_found("projectid"));
        }
        return Ok(owner);
    }
    if cx.p.str("account").is_none() {
        return Ok(cx.caller.as_owner());
    }
    match scope(cx).await? {
        super::Scope::Account(id) => super::account_owner(cx, &id).await,
        _ => Err(ApiError::invalid(
            "Account must be specified with domainId parameter",
        )),
    }
}

fn check_endpoint_url(state: &AppState) -> Result<(), ApiError> {
    let url = state.setting(s::ENDPOINT_URL).unwrap_or_default();
    if url.is_empty() || url.contains("localhost") {
        return Err(ApiError::invalid(
            "Global setting endpoint.url has to be set to the Management Server's API end point",
        ));
    }
    Ok(())
}

/// A version a cluster may use in this zone (spec §4.1). `upgrade` picks the upgrade wording.
async fn check_version_usable(
    state: &AppState,
    v: &KubernetesVersion,
    zone_id: &str,
    zone_name: &str,
    upgrade: bool,
) -> Result<(), ApiError> {
    if v.state != "Enabled" {
        let what = if upgrade { " for upgrade" } else { "" };
        return Err(ApiError::invalid(format!(
            "Kubernetes version ID: {}{what} is in Disabled state",
            v.id
        )));
    }
    if v.zone_id.as_deref().is_some_and(|z| z != zone_id) {
        return Err(ApiError::invalid(format!(
            "Kubernetes version ID: {} is not available for zone ID: {zone_id}",
            v.id
        )));
    }
    let iso = match &v.iso_id {
        Some(id) => {
            let ids = ObjectIds {
                isos: vec![id.clone()],
                ..ObjectIds::default()
            };
            let mut found = state.cloud.lookup(&ids).await.map_err(cloud_error)?;
            found.isos.remove(id)
        }
        None => None,
    };
    let Some(iso) = iso else {
        return Err(ApiError::invalid(format!(
            "Invalid ISO associated with version ID: {}",
            v.id
        )));
    };
    if iso.state != IsoState::Ready {
        return Err(if upgrade {
            ApiError::invalid(format!(
                "ISO associated with version : {} is not in Ready state for datacenter : {zone_name}",
                v.name
            ))
        } else {
            ApiError::invalid(format!(
                "ISO associated with version ID: {} is not in Ready state for datacenter ID: {zone_id}",
                v.id
            ))
        });
    }
    Ok(())
}

// === createKubernetesCluster ===

pub async fn create(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let state = cx.state;
    let cluster_type = parse_cluster_type(p.str("clustertype")).map_err(ApiError::invalid)?;
    if cluster_type == ClusterType::CloudManaged {
        check_endpoint_url(state)?;
    }
    let name = p.req("name").trim().to_string();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!(
            "Invalid name for the Kubernetes cluster name: {name}"
        )));
    }
    let control = p.int("controlnodes").unwrap_or(1);
    let workers = p.int("size").unwrap_or(0);
    let etcd = p.int("etcdnodes").unwrap_or(0);
    let owner = owner_for_create(cx).await?;
    let counts = match cluster_type {
        ClusterType::CloudManaged => {
            let max = state.setting_i64(s::CLUSTER_MAX_SIZE);
            check_node_counts(control, workers, etcd, max)
        }
        ClusterType::ExternalManaged => recorded_node_counts(control, workers, etcd),
    }
    .map_err(ApiError::invalid)?;
    let zone_id = p.req("zoneid");
    let zone = state
        .cloud
        .get_zone(zone_id)
        .await
        .map_err(|_| p.not_found("zoneid"))?;
    if zone.allocation_state.as_str() == "Disabled" && !cx.caller.is_root_admin() {
        return Err(ApiError::denied(format!(
            "Cannot perform this operation, zone ID: {} is currently disabled",
            zone.id
        )));
    }
    let root_disk = p.int("noderootdisksize").unwrap_or(MIN_ROOT_DISK_GB);
    if cluster_type == ClusterType::CloudManaged && root_disk < MIN_ROOT_DISK_GB {
        return Err(ApiError::invalid(format!(
            "Provided node root disk size is lesser than default size of {MIN_ROOT_DISK_GB}GB"
        )));
    }
    let (node_offerings, default_from_map) = node_map(cx, "nodeofferings", "offering")?;
    let (node_templates, default_template_from_map) = node_map(cx, "nodetemplates", "template")?;
    let service_offering_id = p
        .str("serviceofferingid")
        .map(str::to_string)
        .or(default_from_map);

    let mut spec = ClusterSpec {
        control_nodes: counts.control,
        workers: counts.workers,
        etcd_nodes: counts.etcd,
        service_offering_id: service_offering_id.clone(),
        node_offerings,
        node_templates,
        hypervisor: p.str("hypervisor").map(str::to_string),
        root_disk_gb: root_disk,
        keypair: p.str("keypair").map(str::to_string),
        external_lb_ip: p.str("externalloadbalanceripaddress").map(str::to_string),
        csi_enabled: p.flag("enablecsi"),
        cni_config_id: p.str("cniconfigurationid").map(str::to_string),
        cni_details: super::cni::cluster_details(cx, &owner).await?,
        ..ClusterSpec::default()
    };
    let version = match p.str("kubernetesversionid") {
        Some(id) => Some(
            state
                .store
                .version(id)
                .await
                .map_err(internal)?
                .ok_or_else(|| ApiError::invalid("Invalid Kubernetes version ID"))?,
        ),
        None if cluster_type == ClusterType::CloudManaged => {
            return Err(ApiError::invalid("Invalid Kubernetes version ID"));
        }
        None => None,
    };

    if cluster_type == ClusterType::CloudManaged {
        // Step 7: the network offering for new networks.
        if p.str("networkid").is_none() {
            let offering_name = state
                .setting(s::CLUSTER_NETWORK_OFFERING)
                .unwrap_or_default();
            let offering = state
                .cloud
                .find_network_offering(&offering_name)
                .await
                .map_err(cloud_error)?;
            if offering.is_none_or(|o| o.state.as_str() != "Enabled") {
                return Err(ApiError::internal(
                    "Kubernetes service has not been configured properly to provision Kubernetes clusters",
                ));
            }
        }
        let version = version
            .as_ref()
            .ok_or_else(|| ApiError::invalid("Invalid Kubernetes version ID"))?;
        check_version_usable(state, version, &zone.id, &zone.name, false).await?;
        let semver = SemanticVersion::parse(&version.semantic_version)
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        if control > 1 && !semver.supports_ha() {
            return Err(ApiError::invalid(format!(
                "HA support is available only for Kubernetes version 1.16.0 and above. Given version ID: {} is {}",
                version.id, version.semantic_version
            )));
        }
        // Step 9: an offering for each node type, fit for the version.
        let mut types = vec![NodeType::Worker, NodeType::Control];
        if etcd > 0 {
            types.push(NodeType::Etcd);
        }
        let mut sized = Vec::new();
        for t in types {
            let Some(id) = spec.offering_for(t).map(str::to_string) else {
                return Err(ApiError::invalid(
                    "When serviceofferingid is not specified, service offerings for each node type must be specified in the nodeofferings parameter.",
                ));
            };
            let o = offering(state, &id).await?.ok_or_else(|| {
                ApiError::invalid(format!("Cannot find a service offering with ID {id}"))
            })?;
            check_node_offering(&o, version_minimums(version), OfferingUse::Create).map_err(|inner| {
                ApiError::invalid(format!(
                    "Given service offering ID: {id} for {} nodes is not suitable for the Kubernetes cluster version {} - {inner}",
                    t.as_str().to_uppercase(),
                    version.semantic_version
                ))
            })?;
            sized.push((spec.count(t), o));
        }
        (spec.cores, spec.memory_mib) = node_resources(sized.iter().map(|(n, o)| (*n, o)));
    }
    // Step 10: the key pair.
    if let Some(pair) = &spec.keypair {
        let found = state
            .cloud
            .find_ssh_key_pair(pair, &owner)
            .await
            .map_err(cloud_error)?;
        if found.is_none() {
            return Err(ApiError::invalid(format!(
                "Given SSH key pair with name: {pair} was not found for the account {}",
                owner.account_name
            )));
        }
    }
    // Step 11: a private registry, all or nothing, behind the experimental switch.
    let registry = [
        p.str("dockerregistryusername"),
        p.str("dockerregistrypassword"),
        p.str("dockerregistryurl"),
    ];
    let mut registry_password = None;
    if registry.iter().any(Option::is_some) {
        let [Some(user), Some(password), Some(url)] = registry else {
            return Err(ApiError::invalid(
                "All the docker private registry parameters (username, password, url) required are specified",
            ));
        };
        // The same rule the nodes' containerd configuration is built with.
        let credentials = cks_bootstrap::RegistryCredentials {
            url: url.to_string(),
            username: user.to_string(),
            password: password.to_string(),
        };
        if credentials.host().is_err() {
            return Err(ApiError::invalid("Invalid docker registry url specified"));
        }
        if cluster_type == ClusterType::CloudManaged
            && !state.setting_bool(s::EXPERIMENTAL_FEATURES)
        {
            return Err(ApiError::internal(
                "Private registry for the Kubernetes cluster is an experimental feature. Use cloud.kubernetes.cluster.experimental.features.enabled configuration for enabling experimental features",
            ));
        }
        spec.registry_username = Some(user.to_string());
        spec.registry_url = Some(url.to_string());
        registry_password = Some(password.to_string());
    }
    // Step 12/16: an existing network.
    let network_id = p.str("networkid").map(str::to_string);
    if let Some(id) = &network_id {
        let network = state
            .cloud
            .get_network(id)
            .await
            .map_err(|_| ApiError::invalid("Unable to find network with given ID"))?;
        if !cx
            .caller
            .can_access(&network.owner, &member_projects(cx).await?)
        {
            return Err(ApiError::invalid("Unable to find network with given ID"));
        }
        if spec.external_lb_ip.is_some() && network.guest_type != GuestIpType::Shared {
            return Err(ApiError::invalid(
                "externalloadbalanceripaddress parameter must not be specified when network type is not Shared or is ROUTED network",
            ));
        }
        if cluster_type == ClusterType::CloudManaged {
            if !state
                .store
                .clusters_on_network(id)
                .await
                .map_err(internal)?
                .is_empty()
            {
                return Err(ApiError::invalid(format!(
                    "Network ID: {id} is already under use by another Kubernetes cluster"
                )));
            }
            if network.guest_type != GuestIpType::Isolated {
                return Err(ApiError::invalid(format!(
                    "Network ID: {id} is not an isolated network; only isolated networks are supported for Kubernetes clusters here"
                )));
            }
            check_network_rules(state, &network, control + workers).await?;
        }
    } else if spec.external_lb_ip.is_some() {
        return Err(ApiError::invalid(
            "externalloadbalanceripaddress parameter must be specified along with networkid parameter",
        ));
    }
    // Step 18: the template, per type or the zone's CKS template.
    if cluster_type == ClusterType::CloudManaged {
        let template = match default_template_from_map {
            Some(t) => Some(t),
            None => state
                .cloud
                .kubernetes_templates(&zone.id)
                .await
                .map_err(cloud_error)?
                .into_iter()
                .find(|t| {
                    t.is_ready
                        && spec
                            .hypervisor
                            .as_deref()
                            .is_none_or(|h| t.hypervisor.eq_ignore_ascii_case(h))
                })
                .map(|t| t.id),
        };
        let Some(template) = template else {
            return Err(ApiError::internal(format!(
                "Not able to find the System or Routing template in ready state for the zone {}",
                zone.id
            )));
        };
        let ids = ObjectIds {
            templates: [NodeType::Control, NodeType::Worker, NodeType::Etcd]
                .into_iter()
                .filter_map(|t| spec.node_templates.get(t).map(str::to_string))
                .collect(),
            ..ObjectIds::default()
        };
        let found = state.cloud.lookup(&ids).await.map_err(cloud_error)?;
        for t in [NodeType::Control, NodeType::Worker, NodeType::Etcd] {
            if let Some(id) = spec.node_templates.get(t)
                && !found.templates.contains_key(id)
            {
                return Err(ApiError::invalid(format!(
                    "Cannot find a template with ID {id}"
                )));
            }
        }
        spec.template_id = Some(template);
    }

    let id = new_id();
    let secrets = ClusterSecrets {
        registry_password,
        ..ClusterSecrets::default()
    };
    let record = ClusterRecord {
        id: id.clone(),
        seq: 0,
        name: name.clone(),
        description: p.str("description").unwrap_or(&name).to_string(),
        owner,
        zone_id: zone.id.clone(),
        kubernetes_version_id: version.map(|v| v.id),
        cluster_type,
        state: match cluster_type {
            ClusterType::CloudManaged => ClusterState::Starting,
            ClusterType::ExternalManaged => ClusterState::Running,
        },
        network_id,
        spec,
        secrets: Some(secrets.seal(&state.master_key)),
        gc: false,
        operation: None,
        job_id: None,
        step: None,
        last_error: None,
        created: now(),
        removed: None,
    };
    let job = new_job(
        cx,
        &id,
        if cluster_type == ClusterType::ExternalManaged {
            OperationParams::no_op()
        } else {
            OperationParams::default()
        },
    );
    let mut record = record;
    if cluster_type == ClusterType::CloudManaged {
        record.operation = Some("create".into());
        record.job_id = Some(job.id.clone());
    }
    let job_for_insert = (cluster_type == ClusterType::CloudManaged).then_some(&job);
    match state.store.insert_cluster(&record, job_for_insert).await {
        Ok(()) => {}
        Err(StoreError::Duplicate(_)) => {
            return Err(ApiError::invalid(format!(
                "A Kubernetes cluster with name {name} already exists for the account {}",
                record.owner.account_name
            )));
        }
        Err(e) => return Err(internal(e)),
    }
    if cluster_type == ClusterType::ExternalManaged {
        // Nothing to build: the job only reports the cluster.
        return super::jobs::queue(cx, &job).await;
    }
    state.jobs_queued.notify_one();
    Ok(super::jobs::submitted(cx, &job))
}

/// The API and SSH ports must be free on an existing network's source NAT IP (spec §4.3.16).
async fn check_network_rules(
    state: &AppState,
    network: &cks_core::iaas::Network,
    nodes: i64,
) -> Result<(), ApiError> {
    let Some(ip) = state
        .cloud
        .find_source_nat_ip(&network.id)
        .await
        .map_err(cloud_error)?
    else {
        if network.state.as_str() == "Allocated" {
            return Ok(());
        }
        return Err(ApiError::invalid(format!(
            "Network ID: {} does not have a source NAT IP associated with it. To provision a Kubernetes Cluster, source NAT IP is required",
            network.id
        )));
    };
    let ssh = (
        cks_core::cluster::SSH_START_PORT as i64,
        cks_core::cluster::SSH_START_PORT as i64 + nodes - 1,
    );
    let api = cks_core::cluster::API_PORT as i64;
    let overlaps = |start: i64, end: i64, range: (i64, i64)| start <= range.1 && end >= range.0;
    for rule in state
        .cloud
        .firewall_rules_on_ip(&ip.id)
        .await
        .map_err(cloud_error)?
    {
        let (Some(a), b) = (rule.start_port, rule.end_port) else {
            continue;
        };
        let (a, b) = (i64::from(a), i64::from(b.unwrap_or(a)));
        if overlaps(a, b, (api, api)) {
            return Err(ApiError::invalid(format!(
                "Network: {} has conflicting firewall rules to provision Kubernetes cluster for API access",
                network.name
            )));
        }
        if overlaps(a, b, ssh) {
            return Err(ApiError::invalid(format!(
                "Network: {} has conflicting firewall rules to provision Kubernetes cluster for node VM SSH access",
                network.name
            )));
        }
    }
    for rule in state
        .cloud
        .port_forwarding_rules_on_ip(&ip.id)
        .await
        .map_err(cloud_error)?
    {
        let (a, b) = (
            i64::from(rule.public_start_port),
            i64::from(rule.public_end_port),
        );
        if overlaps(a, b, (api, api)) {
            return Err(ApiError::invalid(format!(
                "Network: {} has conflicting port forwarding rules to provision Kubernetes cluster for API access",
                network.name
            )));
        }
        if overlaps(a, b, ssh) {
            return Err(ApiError::invalid(format!(
                "Network: {} has conflicting port forwarding rules to provision Kubernetes cluster for node VM SSH access",
                network.name
            )));
        }
    }
    Ok(())
}

fn new_job(cx: &Cx<'_>, cluster_id: &str, params: OperationParams) -> NewJob {
    super::jobs::job_for(cx, INSTANCE_TYPE, Some(cluster_id), params.to_stored())
}

/// Begins an operation and answers with its job id; CKS's 531 text when the state forbids it.
async fn begin(
    cx: &Cx<'_>,
    c: &ClusterRecord,
    from: &[ClusterState],
    to: ClusterState,
    op: &str,
    params: BTreeMap<String, String>,
) -> Result<Reply, ApiError> {
    let params = OperationParams {
        // A retry re-enters this state (a scale of a stopped cluster runs in its own).
        runs_in: Some(to),
        ..OperationParams::for_request(params)
    };
    let job = new_job(cx, &c.id, params);
    let begun = cx
        .state
        .store
        .begin_operation(&c.id, from, to, op, &job)
        .await
        .map_err(internal)?;
    if !begun {
        let now = cx
            .state
            .store
            .cluster(&c.id)
            .await
            .map_err(internal)?
            .map(|c| c.state)
            .unwrap_or(c.state);
        let verb = match op {
            "stop" => "stopped",
            "start" => "started",
            "delete" => "deleted",
            "upgrade" => "upgraded",
            _ => "scaled",
        };
        return Err(ApiError::denied(format!(
            "Kubernetes cluster {} is in {now} state and can not be {verb}",
            c.name
        )));
    }
    cx.state.jobs_queued.notify_one();
    Ok(super::jobs::submitted(cx, &job))
}

/// A job that succeeds at once (start of a running cluster, stop of a stopped one).
async fn no_op(cx: &Cx<'_>, c: &ClusterRecord) -> Result<Reply, ApiError> {
    super::jobs::queue(cx, &new_job(cx, &c.id, OperationParams::no_op())).await
}

fn cloud_managed_only(c: &ClusterRecord, what: &str) -> Result<(), ApiError> {
    if c.cluster_type == ClusterType::ExternalManaged {
        return Err(ApiError::invalid(format!(
            "{what} kubernetes cluster is not supported for an externally managed cluster ({})",
            c.name
        )));
    }
    Ok(())
}

// === list / config ===

pub async fn list(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let state_filter = match p.str("state") {
        Some(s) => Some(
            ClusterState::parse(s)
                .ok_or_else(|| ApiError::invalid(format!("Invalid state {s}")))?,
        ),
        None => None,
    };
    let type_filter = match p.str("clustertype") {
        Some(t) => Some(parse_cluster_type(Some(t)).map_err(ApiError::invalid)?),
        None => None,
    };
    let scope = scope(cx).await?;
    let account_id = match &scope {
        super::Scope::Account(id) => Some(id.as_str()),
        _ => None,
    };
    let filter = ClusterFilter {
        id: p.str("id"),
        account_id,
        state: state_filter,
    };
    let clusters = cx.state.store.clusters(&filter).await.map_err(internal)?;
    let matching: Vec<&ClusterRecord> = clusters
        .iter()
        .filter(|c| {
            scope.matches(&c.owner)
                && name_matches(p.str("name"), &c.name)
                && type_filter.is_none_or(|t| c.cluster_type == t)
                && keyword_matches(p.str("keyword"), &[&c.name])
        })
        .collect();
    let count = matching.len();
    let page = super::paging(cx)?.apply(matching);
    let admin = cx.caller.is_root_admin();
    let mut items = Vec::with_capacity(page.len());
    for c in page {
        items.push(render_cluster(cx.state, c, admin).await);
    }
    let refs: Vec<&Value> = items.iter().collect();
    Ok(Reply {
        body: cks_api::envelope::list(cx.command(), cx.p.command.response_object, refs, count),
        cookies: Vec::new(),
    })
}

pub async fn get_config(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    if cx.p.str("id").is_none() {
        return Err(cx.p.not_found("id"));
    }
    let c = cluster_for(cx).await?;
    let secrets = ClusterSecrets::open(&cx.state.master_key, c.secrets.as_deref());
    match secrets.kubeconfig {
        Some(config) => Ok(cx.object(json!({ "id": c.id, "name": c.name, "configdata": config }))),
        None if c.state == ClusterState::Starting => Err(ApiError::internal(format!(
            "Setup is in progress for Kubernetes cluster : {}, config not available at this moment",
            c.name
        ))),
        None => Err(ApiError::internal(format!(
            "Config not found for Kubernetes cluster : {}",
            c.name
        ))),
    }
}

// === start / stop / delete ===

pub async fn start(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let c = cluster_for(cx).await?;
    cloud_managed_only(&c, "Start")?;
    if matches!(c.state, ClusterState::Running | ClusterState::Starting) {
        return no_op(cx, &c).await;
    }
    begin(
        cx,
        &c,
        &[ClusterState::Stopped, ClusterState::Alert],
        ClusterState::Starting,
        "start",
        BTreeMap::new(),
    )
    .await
}

pub async fn stop(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let c = cluster_for(cx).await?;
    cloud_managed_only(&c, "Stop")?;
    if matches!(c.state, ClusterState::Stopped | ClusterState::Stopping) {
        return no_op(cx, &c).await;
    }
    // FIX: CKS stops VMs even when the transition is invalid (e.g. while Scaling); here a stop
    // waits for its turn instead of racing the running operation.
    begin(
        cx,
        &c,
        &[ClusterState::Running, ClusterState::Alert],
        ClusterState::Stopping,
        "stop",
        BTreeMap::new(),
    )
    .await
}

pub async fn delete(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    // Like CKS's `expunge`: a forced delete skips safeguards, so only admins may ask for it.
    if cx.p.flag("forced") && cx.caller.account_type == cks_core::tenancy::AccountType::User {
        return Err(ApiError::denied(
            "Parameter forced can be passed by Admin only",
        ));
    }
    let c = cluster_for(cx).await?;
    if c.cluster_type == ClusterType::ExternalManaged {
        cx.state
            .store
            .remove_cluster(&c.id)
            .await
            .map_err(internal)?;
        return no_op(cx, &c).await;
    }
    // FIX: any state may be deleted (CKS refuses Created/Starting/Scaling/Upgrading, stranding
    // clusters); an operation in flight is told to stop and the delete waits for it.
    let from: Vec<ClusterState> = ClusterState::ALL
        .into_iter()
        .filter(|s| *s != ClusterState::Destroyed)
        .collect();
    let previous = match &c.job_id {
        Some(id) => cx.state.store.job(id).await.map_err(internal)?,
        None => None,
    };
    let previous_delete = previous.as_ref().filter(|j| {
        crate::orchestrator::Operation::of_command(&j.command)
            == Some(crate::orchestrator::Operation::Delete)
    });
    // Asked again while a delete runs: the same job answers (a second one would only race
    // it). A forced delete still takes over from an ordinary one that may be stuck.
    if let Some(running) = previous_delete.filter(|j| {
        j.status == cks_store::JobStatus::Pending
            && c.state == ClusterState::Destroying
            && !cx.p.flag("forced")
    }) {
        return Ok(Reply::json(cks_api::envelope::async_submit(
            cx.command(),
            &running.id,
            None,
        )));
    }
    let mut params = BTreeMap::new();
    // Not only in transient states: an aborted operation runs on to its next step boundary.
    // The delete waits only while that job is still pending. Another delete creates nothing,
    // so it is not waited for (it follows this one to its end instead).
    if let Some(previous) = previous.as_ref().filter(|_| previous_delete.is_none()) {
        params.insert("previousjobid".into(), previous.id.clone());
    }
    begin(cx, &c, &from, ClusterState::Destroying, "delete", params).await
}

// === scale ===

pub async fn scale(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let state = cx.state;
    let c = cluster_for(cx).await?;
    if c.cluster_type == ClusterType::ExternalManaged {
        return Err(ApiError::invalid(format!(
            "Scale kubernetes cluster is not supported for an externally managed cluster ({})",
            c.name
        )));
    }
    let (node_offerings, _) = node_map(cx, "nodeofferings", "offering")?;
    let default_offering = p.str("serviceofferingid");
    let size = p.int("size");
    let node_ids = p.list("nodeids");
    let autoscaling = p.bool("autoscalingenabled");
    let has_offering = default_offering.is_some() || node_offerings != PerNodeType::default();
    if !has_offering && size.is_none() && node_ids.is_none() && autoscaling.is_none() {
        return Err(ApiError::invalid(format!(
            "Kubernetes cluster {} cannot be scaled, either service offering or cluster size or nodeids to be removed or autoscaling must be passed",
            c.name
        )));
    }
    if !matches!(c.state, ClusterState::Running | ClusterState::Stopped) {
        return Err(ApiError::denied(format!(
            "Kubernetes cluster {} is in {} state and can not be scaled",
            c.name, c.state
        )));
    }
    let version = match &c.kubernetes_version_id {
        Some(id) => state.store.version(id).await.map_err(internal)?,
        None => None,
    };
    let version = version.ok_or_else(|| {
        ApiError::invalid("Invalid Kubernetes version associated with the cluster")
    })?;
    let max = state.setting_i64(s::CLUSTER_MAX_SIZE);
    let (control, etcd) = (
        i64::from(c.spec.control_nodes),
        i64::from(c.spec.etcd_nodes),
    );
    let mut params = BTreeMap::new();
    if autoscaling == Some(true) {
        if size.is_some() || node_ids.is_some() {
            return Err(ApiError::invalid(
                "Autoscaling can not be passed along with nodeids or clustersize",
            ));
        }
        let semver = SemanticVersion::parse(&version.semantic_version)
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        if !semver.supports_autoscaling() {
            return Err(ApiError::invalid(
                "Autoscaling requires Kubernetes Version 1.15.0 or above",
            ));
        }
        check_endpoint_url(state)?;
        let (Some(min), Some(maxsize)) = (p.int("minsize"), p.int("maxsize")) else {
            return Err(ApiError::invalid(
                "Autoscaling requires minsize and maxsize to be passed",
            ));
        };
        if min < 1 {
            return Err(ApiError::invalid("Minsize must be at least than 1"));
        }
        if maxsize <= min {
            return Err(ApiError::invalid("Maxsize must be greater than minsize"));
        }
        check_max_size(&[maxsize, control, etcd], max).map_err(ApiError::invalid)?;
        params.insert("minsize".into(), min.to_string());
        params.insert("maxsize".into(), maxsize.to_string());
    }
    if let Some(a) = autoscaling {
        params.insert("autoscalingenabled".into(), a.to_string());
    }
    if let Some(ids) = &node_ids {
        if size.is_some() || default_offering.is_some() || node_offerings.worker.is_some() {
            return Err(ApiError::invalid(
                "nodeids can not be passed along with clustersize or service offering",
            ));
        }
        let nodes = state.store.nodes(&c.id).await.map_err(internal)?;
        if !ids
            .iter()
            .all(|id| nodes.iter().any(|n| n.vm_id.as_deref() == Some(*id)))
        {
            return Err(ApiError::invalid("Invalid node ids"));
        }
        let removed = |t: NodeType| {
            nodes
                .iter()
                .filter(|n| {
                    n.node_type == t && n.vm_id.as_deref().is_some_and(|v| ids.contains(&v))
                })
                .count()
        };
        let count = |t: NodeType| nodes.iter().filter(|n| n.node_type == t).count();
        if removed(NodeType::Control) > 0 && removed(NodeType::Control) >= count(NodeType::Control)
        {
            return Err(ApiError::invalid(
                "Can not remove all control nodes from a cluster",
            ));
        }
        if removed(NodeType::Worker) >= count(NodeType::Worker) {
            return Err(ApiError::invalid("Can not remove all nodes from a cluster"));
        }
        if removed(NodeType::Control) > 0 || removed(NodeType::Etcd) > 0 {
            return Err(ApiError::invalid(
                "Only worker nodes can be removed with nodeids",
            ));
        }
        params.insert("nodeids".into(), ids.join(","));
    }
    // Offerings: each new one exists, fits the version, and on a running cluster only grows.
    let mut any_offering_change = false;
    for t in [NodeType::Control, NodeType::Etcd, NodeType::Worker] {
        let Some(id) = node_offerings.get(t).or(default_offering) else {
            continue;
        };
        if t == NodeType::Etcd && c.spec.etcd_nodes == 0 {
            continue;
        }
        let new = offering(state, id).await?.ok_or_else(|| {
            ApiError::invalid(format!("Failed to find service offering ID: {id}"))
        })?;
        check_node_offering(&new, version_minimums(&version), OfferingUse::Scale)
            .map_err(ApiError::invalid)?;
        let current = match c.spec.offering_for(t) {
            Some(o) => offering(state, o).await?,
            None => None,
        };
        if current.as_ref().is_some_and(|cur| cur.id == new.id) {
            continue;
        }
        if c.state == ClusterState::Running
            && let Some(cur) = &current
            && !is_upscale(cur, &new)
        {
            return Err(ApiError::internal(format!(
                "Kubernetes cluster cannot be scaled down for service offering. Service offering : {} offers lesser resources as compared to service offering : {} of Kubernetes cluster : {}",
                new.name, cur.name, c.name
            )));
        }
        params.insert(format!("offering.{t}"), new.id.clone());
        any_offering_change = true;
    }
    if let Some(d) = default_offering.filter(|_| any_offering_change) {
        params.insert("serviceofferingid".into(), d.to_string());
    }
    if let Some(size) = size.filter(|s| *s != i64::from(c.spec.workers)) {
        if c.state == ClusterState::Stopped {
            return Err(ApiError::denied(format!(
                "Kubernetes cluster : {} is in Stopped state",
                c.name
            )));
        }
        if size < 1 {
            return Err(ApiError::invalid(format!(
                "Kubernetes cluster : {} cannot be scaled for size, {size}",
                c.name
            )));
        }
        check_max_size(&[size, control, etcd], max).map_err(ApiError::invalid)?;
        params.insert("size".into(), size.to_string());
    }
    let to = match c.state {
        ClusterState::Stopped => ClusterState::ScalingStoppedCluster,
        _ => ClusterState::Scaling,
    };
    begin(cx, &c, &[c.state], to, "scale", params).await
}

// === upgrade ===

pub async fn upgrade(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let state = cx.state;
    check_endpoint_url(state)?;
    let c = cluster_for(cx).await?;
    let target = state
        .store
        .version(cx.p.req("kubernetesversionid"))
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::invalid("Invalid Kubernetes version ID"))?;
    if c.cluster_type == ClusterType::ExternalManaged {
        return Err(ApiError::invalid(format!(
            "Upgrade kubernetes cluster is not supported for an externally managed cluster ({})",
            c.name
        )));
    }
    if c.state != ClusterState::Running {
        return Err(ApiError::invalid(format!(
            "Kubernetes cluster : {} is not in running state",
            c.name
        )));
    }
    let ids = ObjectIds {
        zones: vec![c.zone_id.clone()],
        ..ObjectIds::default()
    };
    let zone_name = state
        .cloud
        .lookup(&ids)
        .await
        .map_err(cloud_error)?
        .zones
        .remove(&c.zone_id)
        .map(|z| z.name)
        .unwrap_or_default();
    if target.state != "Enabled" {
        return Err(ApiError::invalid(format!(
            "Kubernetes version ID: {} for upgrade is in Disabled state",
            target.id
        )));
    }
    let control_offering = match c.spec.service_offering_id.as_deref().or(c
        .spec
        .node_offerings
        .control
        .as_deref())
    {
        Some(o) => offering(state, o).await?,
        None => None,
    };
    if let Some(o) = control_offering {
        let cpus = i64::from(o.cpu_number.unwrap_or(0));
        let mem = o.memory_mib.unwrap_or(0) as i64;
        if cpus < target.min_cpu {
            return Err(ApiError::invalid(format!(
                "Kubernetes cluster : {} cannot be upgraded with Kubernetes version : {} which needs minimum {} vCPUs while associated service offering : {} offers only {cpus} vCPUs",
                c.name, target.name, target.min_cpu, o.name
            )));
        }
        if mem < target.min_memory {
            return Err(ApiError::invalid(format!(
                "Kubernetes cluster : {} cannot be upgraded with Kubernetes version : {} which needs minimum {} MB RAM while associated service offering : {} offers only {mem} MB RAM",
                c.name, target.name, target.min_memory, o.name
            )));
        }
    }
    let current = match &c.kubernetes_version_id {
        Some(id) => state.store.version(id).await.map_err(internal)?,
        None => None,
    };
    let current = current.ok_or_else(|| {
        ApiError::invalid("Invalid Kubernetes version associated with the cluster")
    })?;
    let from = SemanticVersion::parse(&current.semantic_version)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let to = SemanticVersion::parse(&target.semantic_version)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    from.check_upgrade_to(&to)
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    check_version_usable(state, &target, &c.zone_id, &zone_name, true).await?;
    let params = BTreeMap::from([("kubernetesversionid".to_string(), target.id.clone())]);
    begin(
        cx,
        &c,
        &[ClusterState::Running],
        ClusterState::Upgrading,
        "upgrade",
        params,
    )
    .await
}

// === Leak report ===

/// Cloud resources tagged with a cluster that no live cluster owns.
pub async fn list_orphans(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let live: std::collections::HashSet<String> = cx
        .state
        .store
        .clusters(&Default::default())
        .await
        .map_err(internal)?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let items: Vec<Value> = cx
        .state
        .cloud
        .tagged_with(cks_core::cluster::CLUSTER_TAG)
        .await
        .map_err(cloud_error)?
        .into_iter()
        .filter(|(_, cluster)| !live.contains(cluster))
        .map(|(r, cluster)| json!({ "resourcetype": r.kind.as_str(), "id": r.id, "name": r.name, "clusterid": cluster }))
        .collect();
    cx.list(items)
}
