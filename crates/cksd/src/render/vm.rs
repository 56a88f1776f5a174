//! A VM in `listVirtualMachines`' format, as the VM list and a cluster's `virtualmachines` show it.

use cks_api::wire::iaas;
use cks_cloud::Objects;

/// A VM in `listVirtualMachines`' format, with the names of what it refers to, from `objects`
/// (a `Cloud::lookup` that holds them, e.g. with `ObjectIds::add_refs_of`). `None` when its
/// zone, offering or template is not among them.
pub fn render_vm(
    objects: &Objects,
    vm: &cks_core::iaas::Vm,
    admin: bool,
    stats: bool,
    user_data: bool,
) -> Option<serde_json::Value> {
    let zone = objects.zones.get(&vm.zone_id)?;
    let offering = objects.service_offerings.get(&vm.service_offering_id)?;
    let template = objects.templates.get(&vm.template_id)?;
    let iso = vm.iso_id.as_ref().and_then(|i| objects.isos.get(i));
    let host = vm.host_id.as_ref().and_then(|h| objects.hosts.get(h));
    let networks: Vec<_> = vm
        .nics
        .iter()
        .filter_map(|n| objects.networks.get(&n.network_id).cloned())
        .collect();
    let refs = iaas::VmRefs {
        zone,
        offering,
        template,
        iso,
        host,
        networks: &networks,
        admin,
        stats,
        user_data,
    };
    Some(iaas::virtual_machine(vm, &refs))
}
