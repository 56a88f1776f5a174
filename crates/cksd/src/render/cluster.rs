//! The `kubernetescluster` object: a cluster record with the names of what it refers to, read
//! in one cloud lookup. Shown by the cluster commands and as a cluster job's result.

use std::collections::BTreeMap;

use cks_api::wire::Obj;
use cks_cloud::ObjectIds;
use cks_core::cluster::{ClusterState, NodeType};
use cks_core::settings as s;
use cks_store::ClusterRecord;
use serde_json::{Value, json};

use super::vm::render_vm;
use crate::state::AppState;

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
