//! The Kubernetes cluster commands. Handlers validate in CKS's order with CKS's messages (the
//! rules themselves live in `cks_core::cluster`), then begin the operation: the cluster moves to
//! its transient state and the job is queued in one transaction. The work is in `orchestrator`.

use std::collections::BTreeMap;

use cks_api::ApiError;
use cks_cloud::ObjectIds;
use cks_core::cluster::create::{
    self, CreateError, CreateFacts, CreateRequest, CreateSettings, NetworkFacts, NodeMapEntry,
    SourceNatRules, VersionFacts, check_create_request, parse_node_map, validate_create,
};
use cks_core::cluster::{
    ClusterState, ClusterType, NodeType, OfferingUse, OperationParams, PerNodeType,
    VersionMinimums, check_max_size, check_node_offering, is_upscale, parse_cluster_type,
};
use cks_core::iaas::ServiceOffering;
use cks_core::settings as s;
use cks_core::tenancy::Owner;
use cks_core::version::SemanticVersion;
use cks_store::{ClusterFilter, ClusterRecord, KubernetesVersion, NewJob, StoreError, new_id, now};
use serde_json::{Value, json};

use super::{Cx, Reply, keyword_matches, member_projects, name_matches, scope};
use crate::errors::{cloud_error, internal};
use crate::orchestrator::ClusterSecrets;
use crate::render::render_cluster;
use crate::state::AppState;

const INSTANCE_TYPE: &str = "KubernetesCluster";

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
        let owner = crate::services::tenancy::owner_of(&account, &domain, Some(&project));
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
    create::check_endpoint_url(&url).map_err(ApiError::invalid)
}

// === createKubernetesCluster ===

/// `createKubernetesCluster`: the request from the bound parameters, the owner, the facts it is
/// validated with (`cks_core::cluster::create::validate_create`, CKS's order and messages), then
/// the cluster row and its job in one transaction.
pub async fn create(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let state = cx.state;
    let request = create_request(cx);
    let settings = CreateSettings {
        endpoint_url: state.setting(s::ENDPOINT_URL).unwrap_or_default(),
        max_cluster_size: state.setting_i64(s::CLUSTER_MAX_SIZE),
        experimental_features: state.setting_bool(s::EXPERIMENTAL_FEATURES),
    };
    let cluster_type =
        check_create_request(&request, &settings).map_err(|e| create_error(cx, e))?;
    let owner = owner_for_create(cx).await?;
    let facts = create_facts(cx, &request, cluster_type, &owner, settings).await?;
    let valid = validate_create(&request, &facts).map_err(|e| create_error(cx, e))?;
    let cluster_type = valid.cluster_type;
    let id = new_id();
    let secrets = ClusterSecrets {
        registry_password: valid.registry_password,
        ..ClusterSecrets::default()
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
    let cloud_managed = cluster_type == ClusterType::CloudManaged;
    let record = ClusterRecord {
        id: id.clone(),
        seq: 0,
        name: valid.name.clone(),
        description: valid.description,
        owner,
        zone_id: valid.zone_id,
        kubernetes_version_id: valid.kubernetes_version_id,
        cluster_type,
        state: match cluster_type {
            ClusterType::CloudManaged => ClusterState::Starting,
            ClusterType::ExternalManaged => ClusterState::Running,
        },
        network_id: valid.network_id,
        spec: valid.spec,
        secrets: Some(secrets.seal(&state.master_key)),
        gc: false,
        operation: cloud_managed.then(|| "create".to_string()),
        job_id: cloud_managed.then(|| job.id.clone()),
        step: None,
        last_error: None,
        created: now(),
        removed: None,
    };
    let job_for_insert = cloud_managed.then_some(&job);
    match state.store.insert_cluster(&record, job_for_insert).await {
        Ok(()) => {}
        Err(StoreError::Duplicate(_)) => {
            return Err(ApiError::invalid(format!(
                "A Kubernetes cluster with name {} already exists for the account {}",
                valid.name, record.owner.account_name
            )));
        }
        Err(e) => return Err(internal(e)),
    }
    if !cloud_managed {
        // Nothing to build: the job only reports the cluster.
        return super::jobs::queue(cx, &job).await;
    }
    state.jobs_queued.notify_one();
    Ok(super::jobs::submitted(cx, &job))
}

/// The create's parameters, typed.
fn create_request(cx: &Cx<'_>) -> CreateRequest {
    let p = cx.p;
    let text = |name: &str| p.str(name).map(str::to_string);
    CreateRequest {
        name: p.req("name").to_string(),
        description: text("description"),
        cluster_type: text("clustertype"),
        zone_id: p.req("zoneid").to_string(),
        kubernetes_version_id: text("kubernetesversionid"),
        service_offering_id: text("serviceofferingid"),
        node_offerings: node_map_entries(cx, "nodeofferings", "offering"),
        node_templates: node_map_entries(cx, "nodetemplates", "template"),
        control_nodes: p.int("controlnodes"),
        size: p.int("size"),
        etcd_nodes: p.int("etcdnodes"),
        root_disk_gb: p.int("noderootdisksize"),
        hypervisor: text("hypervisor"),
        keypair: text("keypair"),
        network_id: text("networkid"),
        external_lb_ip: text("externalloadbalanceripaddress"),
        csi_enabled: p.flag("enablecsi"),
        cni_config_id: text("cniconfigurationid"),
        registry_username: text("dockerregistryusername"),
        registry_password: text("dockerregistrypassword"),
        registry_url: text("dockerregistryurl"),
    }
}

/// `nodeofferings`/`nodetemplates` entries: `{node: type, <field>: uuid}`, as given.
fn node_map_entries(cx: &Cx<'_>, param: &str, field: &str) -> Vec<NodeMapEntry> {
    let Some(map) = cx.p.map(param) else {
        return Vec::new();
    };
    map.values()
        .map(|entry| NodeMapEntry {
            node: entry.get("node").cloned().unwrap_or_default(),
            value: entry.get(field).cloned().unwrap_or_default(),
        })
        .collect()
}

/// The one mapping of a refused create to the API's answer.
fn create_error(cx: &Cx<'_>, e: CreateError) -> ApiError {
    match e {
        CreateError::Invalid(message) => ApiError::invalid(message),
        CreateError::Denied(message) => ApiError::denied(message),
        CreateError::Internal(message) => ApiError::internal(message),
        CreateError::UnknownZone => cx.p.not_found("zoneid"),
    }
}

/// Everything `validate_create` consults, looked up for this request; a lookup is made only
/// where a rule of this cluster type reads it.
async fn create_facts(
    cx: &Cx<'_>,
    request: &CreateRequest,
    cluster_type: ClusterType,
    owner: &Owner,
    settings: CreateSettings,
) -> Result<CreateFacts, ApiError> {
    let state = cx.state;
    let cloud = &state.cloud;
    let cloud_managed = cluster_type == ClusterType::CloudManaged;
    // Any failure answers as an unknown zone, as before the rules were pure.
    let zone = cloud.get_zone(&request.zone_id).await.ok();
    let cni_details = super::cni::cluster_details(cx, owner).await?;
    let version = match &request.kubernetes_version_id {
        Some(id) => match state.store.version(id).await.map_err(internal)? {
            Some(v) => Some(version_facts(state, &v).await?),
            None => None,
        },
        None => None,
    };
    let network_offering_ready = if cloud_managed && request.network_id.is_none() {
        let name = state
            .setting(s::CLUSTER_NETWORK_OFFERING)
            .unwrap_or_default();
        cloud
            .find_network_offering(&name)
            .await
            .map_err(cloud_error)?
            .is_some_and(|o| o.state.as_str() == "Enabled")
    } else {
        false
    };
    let mut ids = ObjectIds::default();
    if cloud_managed {
        ids.service_offerings = request.offering_ids();
        ids.templates = request.template_ids();
    }
    let objects = cloud.lookup(&ids).await.map_err(cloud_error)?;
    let keypair_found = match &request.keypair {
        Some(pair) => cloud
            .find_ssh_key_pair(pair, owner)
            .await
            .map_err(cloud_error)?
            .is_some(),
        None => false,
    };
    // The same rule the nodes' containerd configuration is built with.
    let registry_url_valid = request.registry_url.as_ref().is_some_and(|url| {
        cks_bootstrap::RegistryCredentials {
            url: url.clone(),
            username: request.registry_username.clone().unwrap_or_default(),
            password: request.registry_password.clone().unwrap_or_default(),
        }
        .host()
        .is_ok()
    });
    let network = match &request.network_id {
        Some(id) => network_facts(cx, id, cloud_managed).await?,
        None => None,
    };
    let zone_templates = match &zone {
        Some(zone) if cloud_managed && !request.has_default_template() => cloud
            .kubernetes_templates(&zone.id)
            .await
            .map_err(cloud_error)?,
        _ => Vec::new(),
    };
    Ok(CreateFacts {
        settings,
        caller_is_root_admin: cx.caller.is_root_admin(),
        owner_account_name: owner.account_name.clone(),
        zone,
        cni_details,
        version,
        network_offering_ready,
        offerings: objects.service_offerings,
        keypair_found,
        registry_url_valid,
        network,
        zone_templates,
        templates_found: objects.templates.into_keys().collect(),
    })
}

/// `networkid`'s network when the caller may see it, with what the CloudManaged rules read:
/// the clusters on it and its source NAT IP's rules.
async fn network_facts(
    cx: &Cx<'_>,
    id: &str,
    cloud_managed: bool,
) -> Result<Option<NetworkFacts>, ApiError> {
    let state = cx.state;
    let Ok(network) = state.cloud.get_network(id).await else {
        return Ok(None);
    };
    if !cx
        .caller
        .can_access(&network.owner, &member_projects(cx).await?)
    {
        return Ok(None);
    }
    let mut facts = NetworkFacts {
        network,
        clusters_on_it: 0,
        source_nat: None,
    };
    if !cloud_managed {
        return Ok(Some(facts));
    }
    facts.clusters_on_it = state
        .store
        .clusters_on_network(id)
        .await
        .map_err(internal)?
        .len();
    if let Some(ip) = state
        .cloud
        .find_source_nat_ip(id)
        .await
        .map_err(cloud_error)?
    {
        facts.source_nat = Some(SourceNatRules {
            firewall_rules: state
                .cloud
                .firewall_rules_on_ip(&ip.id)
                .await
                .map_err(cloud_error)?,
            port_forwards: state
                .cloud
                .port_forwarding_rules_on_ip(&ip.id)
                .await
                .map_err(cloud_error)?,
        });
    }
    Ok(Some(facts))
}

/// A catalog version with its ISO's state, as the create and upgrade rules read it.
async fn version_facts(state: &AppState, v: &KubernetesVersion) -> Result<VersionFacts, ApiError> {
    let iso_state = match &v.iso_id {
        Some(id) => {
            let ids = ObjectIds {
                isos: vec![id.clone()],
                ..ObjectIds::default()
            };
            let mut found = state.cloud.lookup(&ids).await.map_err(cloud_error)?;
            found.isos.remove(id).map(|iso| iso.state)
        }
        None => None,
    };
    Ok(VersionFacts {
        id: v.id.clone(),
        name: v.name.clone(),
        semantic_version: v.semantic_version.clone(),
        enabled: v.state == "Enabled",
        zone_id: v.zone_id.clone(),
        min_cpu: v.min_cpu,
        min_memory_mib: v.min_memory,
        iso_state,
    })
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
    let (node_offerings, _) = parse_node_map(
        &node_map_entries(cx, "nodeofferings", "offering"),
        "Service Offering",
    )
    .map_err(|e| create_error(cx, e))?;
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
    create::check_version_usable(
        &version_facts(state, &target).await?,
        &c.zone_id,
        &zone_name,
        true,
    )
    .map_err(ApiError::invalid)?;
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
