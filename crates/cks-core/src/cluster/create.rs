//! `createKubernetesCluster`'s rules, as one pure function: [`validate_create`] takes what the
//! request asks ([`CreateRequest`]) and what the service looked up for it first
//! ([`CreateFacts`]), and answers the spec of the new cluster or the first rule it breaks, in
//! CKS's order of checks and with CKS's messages. No I/O: the caller does every lookup.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{
    API_PORT, ClusterSpec, ClusterType, MIN_ROOT_DISK_GB, NodeType, OfferingUse, PerNodeType,
    SSH_START_PORT, VersionMinimums, check_node_counts, check_node_offering, node_resources,
    parse_cluster_type, parse_node_type_key, recorded_node_counts,
};
use crate::iaas::{
    FirewallRule, GuestIpType, IsoState, Network, PortForwardingRule, ServiceOffering, Template,
    Zone,
};
use crate::version::SemanticVersion;

/// Why a create is refused, by the answer CloudStack gives it; the message is CKS's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    /// A parameter or the combination of them is not acceptable (CloudStack's 431).
    #[error("{0}")]
    Invalid(String),
    /// The caller may not do this now (531).
    #[error("{0}")]
    Denied(String),
    /// The service is not set up for it (530, CKS's `CloudRuntimeException`).
    #[error("{0}")]
    Internal(String),
    /// `zoneid` names no zone: the API's answer for an unknown id.
    #[error("unknown zone")]
    UnknownZone,
}

/// One `nodeofferings`/`nodetemplates` entry: `{node: <type or default>, <field>: <id>}`, empty
/// strings where the request left a field out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeMapEntry {
    /// `control`, `worker`, `etcd` or `default`, as given.
    pub node: String,
    /// The offering or template id.
    pub value: String,
}

/// What `createKubernetesCluster` asks, from its bound parameters (absent ones `None`).
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    /// `name`, as given (it is trimmed before use).
    pub name: String,
    /// `description`; the name when absent.
    pub description: Option<String>,
    /// `clustertype`; CloudManaged when absent.
    pub cluster_type: Option<String>,
    /// `zoneid`.
    pub zone_id: String,
    /// `kubernetesversionid`.
    pub kubernetes_version_id: Option<String>,
    /// `serviceofferingid`: every node type's offering unless `nodeofferings` names one.
    pub service_offering_id: Option<String>,
    /// `nodeofferings`.
    pub node_offerings: Vec<NodeMapEntry>,
    /// `nodetemplates`.
    pub node_templates: Vec<NodeMapEntry>,
    /// `controlnodes` (1 when absent).
    pub control_nodes: Option<i64>,
    /// `size`, the worker count (0 when absent).
    pub size: Option<i64>,
    /// `etcdnodes` (0 when absent).
    pub etcd_nodes: Option<i64>,
    /// `noderootdisksize` in GB.
    pub root_disk_gb: Option<i64>,
    /// `hypervisor`.
    pub hypervisor: Option<String>,
    /// `keypair`.
    pub keypair: Option<String>,
    /// `networkid`: an existing network to build in.
    pub network_id: Option<String>,
    /// `externalloadbalanceripaddress`.
    pub external_lb_ip: Option<String>,
    /// `enablecsi`.
    pub csi_enabled: bool,
    /// `cniconfigurationid`.
    pub cni_config_id: Option<String>,
    /// `dockerregistryusername`.
    pub registry_username: Option<String>,
    /// `dockerregistrypassword`.
    pub registry_password: Option<String>,
    /// `dockerregistryurl`.
    pub registry_url: Option<String>,
}

impl CreateRequest {
    /// The worker, control and etcd counts asked for, defaults applied.
    fn counts(&self) -> (i64, i64, i64) {
        (
            self.control_nodes.unwrap_or(1),
            self.size.unwrap_or(0),
            self.etcd_nodes.unwrap_or(0),
        )
    }

    /// Every service offering id the request names, for the caller to look up.
    pub fn offering_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.service_offering_id.iter().cloned().collect();
        ids.extend(map_values(&self.node_offerings));
        ids.sort();
        ids.dedup();
        ids
    }

    /// Every template id `nodetemplates` names, for the caller to look up.
    pub fn template_ids(&self) -> Vec<String> {
        let mut ids = map_values(&self.node_templates);
        ids.sort();
        ids.dedup();
        ids
    }

    /// Whether `nodetemplates` names a default template (else the zone's CKS template is used).
    pub fn has_default_template(&self) -> bool {
        self.node_templates
            .iter()
            .any(|e| e.node.eq_ignore_ascii_case("default") && !e.value.is_empty())
    }
}

fn map_values(entries: &[NodeMapEntry]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| !e.value.is_empty())
        .map(|e| e.value.clone())
        .collect()
}

/// The settings a create consults.
#[derive(Debug, Clone, Default)]
pub struct CreateSettings {
    /// `endpoint.url`.
    pub endpoint_url: String,
    /// `cloud.kubernetes.cluster.max.size`.
    pub max_cluster_size: i64,
    /// `cloud.kubernetes.cluster.experimental.features.enabled`.
    pub experimental_features: bool,
}

/// A catalog version as the create and upgrade rules see it.
#[derive(Debug, Clone, Default)]
pub struct VersionFacts {
    /// The version's id.
    pub id: String,
    /// Its name (e.g. `v1.33.1`).
    pub name: String,
    /// Its semantic version text.
    pub semantic_version: String,
    /// `state` is `Enabled`.
    pub enabled: bool,
    /// The zone it is limited to, if any.
    pub zone_id: Option<String>,
    /// `mincpunumber`.
    pub min_cpu: i64,
    /// `minmemory` in MiB.
    pub min_memory_mib: i64,
    /// The state of its binaries ISO; `None` when it has none or the cloud does not know it.
    pub iso_state: Option<IsoState>,
}

impl VersionFacts {
    fn minimums(&self) -> VersionMinimums<'_> {
        VersionMinimums {
            semantic_version: &self.semantic_version,
            min_cpu: self.min_cpu,
            min_memory_mib: self.min_memory_mib,
        }
    }
}

/// The rules of an existing network's source NAT IP.
#[derive(Debug, Clone, Default)]
pub struct SourceNatRules {
    /// Its firewall rules.
    pub firewall_rules: Vec<FirewallRule>,
    /// Its port forwarding rules.
    pub port_forwards: Vec<PortForwardingRule>,
}

/// An existing network the caller may use (`networkid`).
#[derive(Debug, Clone)]
pub struct NetworkFacts {
    /// The network.
    pub network: Network,
    /// How many live clusters use it (only consulted for CloudManaged clusters).
    pub clusters_on_it: usize,
    /// The rules of its source NAT IP; `None` when it has none. Only consulted for
    /// CloudManaged clusters.
    pub source_nat: Option<SourceNatRules>,
}

/// What the service looked up for a create before validating it.
#[derive(Debug, Clone)]
pub struct CreateFacts {
    /// The settings' values.
    pub settings: CreateSettings,
    /// The caller is the root admin (who may use a disabled zone).
    pub caller_is_root_admin: bool,
    /// The new cluster's owner's account name (for messages).
    pub owner_account_name: String,
    /// The zone `zoneid` names, if any.
    pub zone: Option<Zone>,
    /// The CNI configuration check: the details to store, or why the configuration cannot be
    /// used (empty details when none is asked for).
    pub cni_details: Result<BTreeMap<String, String>, String>,
    /// The version `kubernetesversionid` names, if it names one.
    pub version: Option<VersionFacts>,
    /// The network offering for new networks (`cloud.kubernetes.cluster.network.offering`)
    /// exists and is enabled. Only consulted for CloudManaged clusters without `networkid`.
    pub network_offering_ready: bool,
    /// The service offerings the request names ([`CreateRequest::offering_ids`]) that exist.
    pub offerings: HashMap<String, ServiceOffering>,
    /// `keypair` names a key pair of the owner (consulted only when it is given).
    pub keypair_found: bool,
    /// `dockerregistryurl` is a URL the nodes' containerd configuration accepts.
    pub registry_url_valid: bool,
    /// The network `networkid` names, when it exists and the caller may see it.
    pub network: Option<NetworkFacts>,
    /// The zone's CKS templates (consulted when `nodetemplates` names no default).
    pub zone_templates: Vec<Template>,
    /// The templates of [`CreateRequest::template_ids`] that exist.
    pub templates_found: HashSet<String>,
}

/// A create that passed every rule: what the new cluster is.
#[derive(Debug, Clone)]
pub struct ValidatedCreate {
    /// CloudManaged or ExternalManaged.
    pub cluster_type: ClusterType,
    /// The trimmed name.
    pub name: String,
    /// The description (the name when none was given).
    pub description: String,
    /// The zone's id.
    pub zone_id: String,
    /// The version's id, when one was given.
    pub kubernetes_version_id: Option<String>,
    /// `networkid`, when given.
    pub network_id: Option<String>,
    /// The cluster's spec, with the node resources and the template chosen.
    pub spec: ClusterSpec,
    /// The private registry's password, to seal with the cluster's secrets.
    pub registry_password: Option<String>,
}

/// The checks that need no lookup, made before the owner is looked up (CKS's order): the
/// cluster type, `endpoint.url` for CloudManaged clusters, and the name. Answers the type.
pub fn check_create_request(
    request: &CreateRequest,
    settings: &CreateSettings,
) -> Result<ClusterType, CreateError> {
    let cluster_type =
        parse_cluster_type(request.cluster_type.as_deref()).map_err(CreateError::Invalid)?;
    if cluster_type == ClusterType::CloudManaged {
        check_endpoint_url(&settings.endpoint_url).map_err(CreateError::Invalid)?;
    }
    let name = request.name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(CreateError::Invalid(format!(
            "Invalid name for the Kubernetes cluster name: {name}"
        )));
    }
    Ok(cluster_type)
}

/// CloudManaged clusters (and autoscaling, upgrades) need `endpoint.url` to name the management
/// server's API, which nodes reach.
pub fn check_endpoint_url(url: &str) -> Result<(), String> {
    if url.is_empty() || url.contains("localhost") {
        return Err(
            "Global setting endpoint.url has to be set to the Management Server's API end point"
                .to_string(),
        );
    }
    Ok(())
}

/// A version a cluster may use in this zone (spec §4.1). `upgrade` picks the upgrade wording.
pub fn check_version_usable(
    version: &VersionFacts,
    zone_id: &str,
    zone_name: &str,
    upgrade: bool,
) -> Result<(), String> {
    if !version.enabled {
        let what = if upgrade { " for upgrade" } else { "" };
        return Err(format!(
            "Kubernetes version ID: {}{what} is in Disabled state",
            version.id
        ));
    }
    if version.zone_id.as_deref().is_some_and(|z| z != zone_id) {
        return Err(format!(
            "Kubernetes version ID: {} is not available for zone ID: {zone_id}",
            version.id
        ));
    }
    let Some(iso_state) = version.iso_state else {
        return Err(format!(
            "Invalid ISO associated with version ID: {}",
            version.id
        ));
    };
    if iso_state != IsoState::Ready {
        return Err(if upgrade {
            format!(
                "ISO associated with version : {} is not in Ready state for datacenter : {zone_name}",
                version.name
            )
        } else {
            format!(
                "ISO associated with version ID: {} is not in Ready state for datacenter ID: {zone_id}",
                version.id
            )
        });
    }
    Ok(())
}

/// `nodeofferings`/`nodetemplates` (`what`: `Service Offering` or `Template`, for the
/// message): the per-type ids and the `default` one.
pub fn parse_node_map(
    entries: &[NodeMapEntry],
    what: &str,
) -> Result<(PerNodeType, Option<String>), CreateError> {
    let mut out = PerNodeType::default();
    let mut default = None;
    for NodeMapEntry { node, value } in entries {
        if node.is_empty() || value.is_empty() {
            return Err(CreateError::Invalid(format!(
                "Incomplete Node Type to {what} ID mapping: '{node}' -> '{value}'"
            )));
        }
        match parse_node_type_key(node).map_err(CreateError::Invalid)? {
            Some(t) => out.set(t, Some(value.clone())),
            None => default = Some(value.clone()),
        }
    }
    Ok((out, default))
}

fn invalid_version() -> CreateError {
    CreateError::Invalid("Invalid Kubernetes version ID".to_string())
}

/// Every rule of `createKubernetesCluster`, in CKS's order: the first one broken is the answer.
pub fn validate_create(
    request: &CreateRequest,
    facts: &CreateFacts,
) -> Result<ValidatedCreate, CreateError> {
    let cluster_type = check_create_request(request, &facts.settings)?;
    let cloud_managed = cluster_type == ClusterType::CloudManaged;
    let name = request.name.trim().to_string();
    let (control, workers, etcd) = request.counts();
    let counts = if cloud_managed {
        check_node_counts(control, workers, etcd, facts.settings.max_cluster_size)
    } else {
        recorded_node_counts(control, workers, etcd)
    }
    .map_err(CreateError::Invalid)?;
    let zone = facts.zone.as_ref().ok_or(CreateError::UnknownZone)?;
    if zone.allocation_state.as_str() == "Disabled" && !facts.caller_is_root_admin {
        return Err(CreateError::Denied(format!(
            "Cannot perform this operation, zone ID: {} is currently disabled",
            zone.id
        )));
    }
    let root_disk = request.root_disk_gb.unwrap_or(MIN_ROOT_DISK_GB);
    if cloud_managed && root_disk < MIN_ROOT_DISK_GB {
        return Err(CreateError::Invalid(format!(
            "Provided node root disk size is lesser than default size of {MIN_ROOT_DISK_GB}GB"
        )));
    }
    let (node_offerings, default_offering) =
        parse_node_map(&request.node_offerings, "Service Offering")?;
    let (node_templates, default_template) = parse_node_map(&request.node_templates, "Template")?;
    let cni_details = facts.cni_details.clone().map_err(CreateError::Invalid)?;
    let mut spec = ClusterSpec {
        control_nodes: counts.control,
        workers: counts.workers,
        etcd_nodes: counts.etcd,
        service_offering_id: request.service_offering_id.clone().or(default_offering),
        node_offerings,
        node_templates,
        hypervisor: request.hypervisor.clone(),
        root_disk_gb: root_disk,
        keypair: request.keypair.clone(),
        external_lb_ip: request.external_lb_ip.clone(),
        csi_enabled: request.csi_enabled,
        cni_config_id: request.cni_config_id.clone(),
        cni_details,
        ..ClusterSpec::default()
    };
    let version = match &request.kubernetes_version_id {
        Some(_) => Some(facts.version.as_ref().ok_or_else(invalid_version)?),
        None if cloud_managed => return Err(invalid_version()),
        None => None,
    };
    if cloud_managed {
        // Step 7: the network offering for new networks.
        if request.network_id.is_none() && !facts.network_offering_ready {
            return Err(CreateError::Internal(
                "Kubernetes service has not been configured properly to provision Kubernetes clusters"
                    .to_string(),
            ));
        }
        let version = version.ok_or_else(invalid_version)?;
        check_version_usable(version, &zone.id, &zone.name, false).map_err(CreateError::Invalid)?;
        let semver = SemanticVersion::parse(&version.semantic_version)
            .map_err(|e| CreateError::Invalid(e.to_string()))?;
        if control > 1 && !semver.supports_ha() {
            return Err(CreateError::Invalid(format!(
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
            let Some(id) = spec.offering_for(t) else {
                return Err(CreateError::Invalid(
                    "When serviceofferingid is not specified, service offerings for each node type must be specified in the nodeofferings parameter.".to_string(),
                ));
            };
            let offering = facts.offerings.get(id).ok_or_else(|| {
                CreateError::Invalid(format!("Cannot find a service offering with ID {id}"))
            })?;
            check_node_offering(offering, version.minimums(), OfferingUse::Create).map_err(|inner| {
                CreateError::Invalid(format!(
                    "Given service offering ID: {id} for {} nodes is not suitable for the Kubernetes cluster version {} - {inner}",
                    t.as_str().to_uppercase(),
                    version.semantic_version
                ))
            })?;
            sized.push((spec.count(t), offering));
        }
        (spec.cores, spec.memory_mib) = node_resources(sized.iter().map(|(n, o)| (*n, *o)));
    }
    // Step 10: the key pair.
    if let Some(pair) = &spec.keypair
        && !facts.keypair_found
    {
        return Err(CreateError::Invalid(format!(
            "Given SSH key pair with name: {pair} was not found for the account {}",
            facts.owner_account_name
        )));
    }
    // Step 11: a private registry, all or nothing, behind the experimental switch.
    let registry = [
        request.registry_username.as_ref(),
        request.registry_password.as_ref(),
        request.registry_url.as_ref(),
    ];
    let mut registry_password = None;
    if registry.iter().any(Option::is_some) {
        let [Some(user), Some(password), Some(url)] = registry else {
            return Err(CreateError::Invalid(
                "All the docker private registry parameters (username, password, url) required are specified".to_string(),
            ));
        };
        if !facts.registry_url_valid {
            return Err(CreateError::Invalid(
                "Invalid docker registry url specified".to_string(),
            ));
        }
        if cloud_managed && !facts.settings.experimental_features {
            return Err(CreateError::Internal(
                "Private registry for the Kubernetes cluster is an experimental feature. Use cloud.kubernetes.cluster.experimental.features.enabled configuration for enabling experimental features".to_string(),
            ));
        }
        spec.registry_username = Some(user.clone());
        spec.registry_url = Some(url.clone());
        registry_password = Some(password.clone());
    }
    // Step 12/16: an existing network.
    if let Some(id) = &request.network_id {
        let Some(found) = &facts.network else {
            return Err(CreateError::Invalid(
                "Unable to find network with given ID".to_string(),
            ));
        };
        let network = &found.network;
        if spec.external_lb_ip.is_some() && network.guest_type != GuestIpType::Shared {
            return Err(CreateError::Invalid(
                "externalloadbalanceripaddress parameter must not be specified when network type is not Shared or is ROUTED network".to_string(),
            ));
        }
        if cloud_managed {
            if found.clusters_on_it > 0 {
                return Err(CreateError::Invalid(format!(
                    "Network ID: {id} is already under use by another Kubernetes cluster"
                )));
            }
            if network.guest_type != GuestIpType::Isolated {
                return Err(CreateError::Invalid(format!(
                    "Network ID: {id} is not an isolated network; only isolated networks are supported for Kubernetes clusters here"
                )));
            }
            check_network_rules(network, found.source_nat.as_ref(), control + workers)?;
        }
    } else if spec.external_lb_ip.is_some() {
        return Err(CreateError::Invalid(
            "externalloadbalanceripaddress parameter must be specified along with networkid parameter".to_string(),
        ));
    }
    // Step 18: the template, per type or the zone's CKS template.
    if cloud_managed {
        let template = default_template.or_else(|| {
            facts
                .zone_templates
                .iter()
                .find(|t| {
                    t.is_ready
                        && spec
                            .hypervisor
                            .as_deref()
                            .is_none_or(|h| t.hypervisor.eq_ignore_ascii_case(h))
                })
                .map(|t| t.id.clone())
        });
        let Some(template) = template else {
            return Err(CreateError::Internal(format!(
                "Not able to find the System or Routing template in ready state for the zone {}",
                zone.id
            )));
        };
        for t in [NodeType::Control, NodeType::Worker, NodeType::Etcd] {
            if let Some(id) = spec.node_templates.get(t)
                && !facts.templates_found.contains(id)
            {
                return Err(CreateError::Invalid(format!(
                    "Cannot find a template with ID {id}"
                )));
            }
        }
        spec.template_id = Some(template);
    }
    Ok(ValidatedCreate {
        cluster_type,
        description: request.description.clone().unwrap_or_else(|| name.clone()),
        name,
        zone_id: zone.id.clone(),
        kubernetes_version_id: version.map(|v| v.id.clone()),
        network_id: request.network_id.clone(),
        spec,
        registry_password,
    })
}

/// The API and SSH ports must be free on an existing network's source NAT IP (spec §4.3.16).
fn check_network_rules(
    network: &Network,
    source_nat: Option<&SourceNatRules>,
    nodes: i64,
) -> Result<(), CreateError> {
    let Some(rules) = source_nat else {
        if network.state.as_str() == "Allocated" {
            return Ok(());
        }
        return Err(CreateError::Invalid(format!(
            "Network ID: {} does not have a source NAT IP associated with it. To provision a Kubernetes Cluster, source NAT IP is required",
            network.id
        )));
    };
    let ssh = (
        i64::from(SSH_START_PORT),
        i64::from(SSH_START_PORT) + nodes - 1,
    );
    let api = i64::from(API_PORT);
    let overlaps = |start: i64, end: i64, range: (i64, i64)| start <= range.1 && end >= range.0;
    let conflict = |kind: &str, access: &str| {
        CreateError::Invalid(format!(
            "Network: {} has conflicting {kind} rules to provision Kubernetes cluster for {access}",
            network.name
        ))
    };
    for rule in &rules.firewall_rules {
        let (Some(a), b) = (rule.start_port, rule.end_port) else {
            continue;
        };
        let (a, b) = (i64::from(a), i64::from(b.unwrap_or(a)));
        if overlaps(a, b, (api, api)) {
            return Err(conflict("firewall", "API access"));
        }
        if overlaps(a, b, ssh) {
            return Err(conflict("firewall", "node VM SSH access"));
        }
    }
    for rule in &rules.port_forwards {
        let (a, b) = (
            i64::from(rule.public_start_port),
            i64::from(rule.public_end_port),
        );
        if overlaps(a, b, (api, api)) {
            return Err(conflict("port forwarding", "API access"));
        }
        if overlaps(a, b, ssh) {
            return Err(conflict("port forwarding", "node VM SSH access"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
