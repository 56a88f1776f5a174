//! VMs: placement on hosts with room, guest IPs, the state machine of §4.1, scaling, user data
//! and ISO attachment, as operations on the inventory.
//!
//! Deploy and start are two mutations with the simulated delay between them: the VM is visible as
//! `Starting` (holding its host) meanwhile, and a crash in between leaves a VM that the next
//! attempt adopts by name.

use std::net::Ipv4Addr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use cks_core::iaas::{
    Host, HostCluster, HostResourceState, HostState, Iso, LoadBalancerRule, Network, NetworkState,
    Nic, OfferingState, PortForwardingRule, ServiceOffering, SshKeyPair, Template, Vm, VmState,
    Zone, parse_cidr, prefix_mask, same_owner,
};

use crate::faults::FaultState;
use crate::inventory::Inventory;
use crate::limits::{self, LimitKind};
use crate::network::implement_network;
use crate::new_id;
use cks_cloud::CloudError;
use cks_cloud::{DeployVmSpec, VmSize};

/// What the first half of a deploy decided.
pub(crate) enum DeployStep {
    /// The VM is ready as it is (adopted running, or deployed with `start = false`).
    Done(Vm),
    /// The VM is `Starting`; finish it after the deploy delay.
    Starting(Vm),
    /// The deploy failed after creating the VM, which is kept in `Error`.
    Failed(CloudError),
}

/// CloudStack's VM description in deployment errors.
fn describe(name: &str) -> String {
    format!("VM[User|{name}]")
}

/// RFC 1123 host name rules as CloudStack checks them.
fn validate_name(name: &str) -> Result<(), CloudError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.as_bytes()[0].is_ascii_digit();
    match ok {
        true => Ok(()),
        false => Err(CloudError::invalid(
            "Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits '0' through '9', and the hyphen ('-'), must be between 1 and 63 characters long, and can't start or end with \"-\" and can't start with digit",
        )),
    }
}

pub(crate) fn validate_user_data(user_data: Option<&str>) -> Result<(), CloudError> {
    match user_data {
        Some(data) if B64.decode(data.trim()).is_err() => {
            Err(CloudError::invalid("User data is not base64 encoded."))
        }
        _ => Ok(()),
    }
}

fn size_of(offering: &ServiceOffering, size: Option<VmSize>) -> Result<VmSize, CloudError> {
    match (offering.cpu_number, offering.cpu_speed_mhz, offering.memory_mib) {
        (Some(cpu_number), Some(cpu_speed_mhz), Some(memory_mib)) if !offering.is_customized => {
            Ok(VmSize { cpu_number, cpu_speed_mhz, memory_mib })
        }
        _ => size.filter(|s| s.cpu_number > 0 && s.cpu_speed_mhz > 0 && s.memory_mib > 0).ok_or_else(|| {
            CloudError::invalid("Need to specify custom parameter values cpu, cpu speed and memory when using custom offering")
        }),
    }
}

/// The Up, Enabled host of the zone with room for `size` and the most free memory (ties by
/// name), honouring the template's hypervisor and architecture.
fn pick_host(
    inv: &Inventory,
    faults: &FaultState,
    zone_id: &str,
    template: &Template,
    size: VmSize,
) -> Option<Host> {
    if faults.exhaust_capacity {
        return None;
    }
    let need_cpu = u64::from(size.cpu_number) * u64::from(size.cpu_speed_mhz);
    let need_mem = size.memory_mib * 1024 * 1024;
    let mut candidates: Vec<(u64, &Host)> = inv
        .all::<Host>()
        .filter(|h| {
            h.zone_id == zone_id
                && h.state == HostState::Up
                && h.resource_state == HostResourceState::Enabled
        })
        .filter(|h| {
            h.hypervisor.eq_ignore_ascii_case(&template.hypervisor) && h.arch == template.arch
        })
        .filter_map(|h| {
            let cluster = inv.get::<HostCluster>(&h.cluster_id)?;
            let cpu_total =
                (h.cpu_cores as f64 * h.cpu_speed_mhz as f64 * cluster.cpu_overprovisioning) as u64;
            let mem_total = (h.memory_bytes as f64 * cluster.memory_overprovisioning) as u64;
            let cpu_free = cpu_total.saturating_sub(h.cpu_allocated_mhz);
            let mem_free = mem_total.saturating_sub(h.memory_allocated_bytes);
            let fits = need_cpu <= cpu_free
                && need_mem <= mem_free
                && size.cpu_speed_mhz <= h.cpu_speed_mhz;
            fits.then_some((mem_free - need_mem, h))
        })
        .collect();
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    candidates.first().map(|(_, h)| (*h).clone())
}

/// The requested guest IP if it is free in the network, else the lowest free one.
fn pick_guest_ip(
    inv: &Inventory,
    network: &Network,
    wanted: Option<Ipv4Addr>,
) -> Result<Ipv4Addr, CloudError> {
    let (net, len) = parse_cidr(&network.cidr)
        .ok_or_else(|| CloudError::Internal(format!("network {} has a bad CIDR", network.name)))?;
    let first = u32::from(net) + 1;
    let last = (u32::from(net) | !prefix_mask(len)).saturating_sub(1);
    let used = inv.used_guest_ips(&network.id);
    let free = |a: Ipv4Addr| {
        a != network.gateway && !used.contains(&a) && (first..=last).contains(&u32::from(a))
    };
    match wanted {
        Some(ip) if free(ip) => Ok(ip),
        Some(ip) => Err(CloudError::InsufficientAddressCapacity(format!(
            "The requested IP address {ip} is not available in network {}",
            network.name
        ))),
        None => (first..=last)
            .map(Ipv4Addr::from)
            .find(|a| free(*a))
            .ok_or_else(|| {
                CloudError::InsufficientAddressCapacity("Insufficient address capacity".into())
            }),
    }
}

fn mac_address(vm_id: &str) -> String {
    let bytes = uuid::Uuid::parse_str(vm_id)
        .map(|u| *u.as_bytes())
        .unwrap_or_default();
    format!(
        "02:00:{:02x}:{:02x}:{:02x}:{:02x}",
        bytes[12], bytes[13], bytes[14], bytes[15]
    )
}

pub(crate) fn deploy_begin(
    inv: &mut Inventory,
    faults: &mut FaultState,
    spec: &DeployVmSpec,
    now: i64,
) -> Result<DeployStep, CloudError> {
    validate_name(&spec.name)?;
    let zone = inv.need::<Zone>(&spec.zone_id)?.clone();
    let network = inv.need::<Network>(&spec.network_id)?.clone();
    if network.zone_id != zone.id {
        return Err(CloudError::invalid(format!(
            "Network {} is not in zone {}",
            network.name, zone.name
        )));
    }
    let existing = inv
        .find::<Vm>(|vm| vm.name == spec.name && vm.nic_in(&network.id).is_some())
        .cloned();
    if let Some(existing) = existing {
        match existing.state {
            VmState::Error => {
                // A failed first start leaves an unusable VM behind; the retry replaces it.
                inv.remove::<Vm>(&existing.id);
            }
            VmState::Stopped if spec.start => return start_begin(inv, faults, &existing.id, now),
            // Another attempt is starting it: wait for that start like a fresh deploy would.
            VmState::Starting => return Ok(DeployStep::Starting(existing)),
            _ => return Ok(DeployStep::Done(existing)),
        }
    }
    let offering = inv
        .need::<ServiceOffering>(&spec.service_offering_id)?
        .clone();
    if offering.state != OfferingState::Active {
        return Err(CloudError::invalid(format!(
            "Service offering {} is not active",
            offering.name
        )));
    }
    let size = size_of(&offering, spec.size)?;
    let template = inv.need::<Template>(&spec.template_id)?.clone();
    if !template.is_ready || template.zone_id.as_ref().is_some_and(|z| *z != zone.id) {
        return Err(CloudError::invalid(format!(
            "Unable to use template {}",
            template.id
        )));
    }
    for name in &spec.keypairs {
        if inv
            .find::<SshKeyPair>(|k| k.name == *name && same_owner(&k.owner, &spec.owner))
            .is_none()
        {
            return Err(CloudError::invalid("Not all specified keypairs exist"));
        }
    }
    validate_user_data(spec.user_data.as_deref())?;
    limits::check(inv, &spec.owner, LimitKind::UserVm, 1)?;
    limits::check(inv, &spec.owner, LimitKind::Cpu, u64::from(size.cpu_number))?;
    limits::check(inv, &spec.owner, LimitKind::Memory, size.memory_mib)?;
    let ip = pick_guest_ip(inv, &network, spec.ip_address)?;
    let id = new_id();
    let mut vm = Vm {
        instance_name: format!("i-{}-VM", &id[..8]),
        id,
        name: spec.name.clone(),
        display_name: spec
            .display_name
            .clone()
            .unwrap_or_else(|| spec.name.clone()),
        state: VmState::Stopped,
        zone_id: zone.id.clone(),
        host_id: None,
        last_host_id: None,
        hypervisor: template.hypervisor.clone(),
        service_offering_id: offering.id.clone(),
        cpu_number: size.cpu_number,
        cpu_speed_mhz: size.cpu_speed_mhz,
        memory_mib: size.memory_mib,
        template_id: template.id.clone(),
        root_disk_size_gib: spec.root_disk_size_gib.or(offering.root_disk_size_gib),
        nics: Vec::new(),
        user_data: spec.user_data.clone(),
        keypairs: spec.keypairs.clone(),
        iso_id: None,
        owner: spec.owner.clone(),
        user_id: spec.user_id.clone(),
        user_name: spec.user_name.clone(),
        details: Default::default(),
        tags: spec.tags.clone(),
        created: now,
        last_updated: now,
    };
    vm.nics.push(Nic {
        id: new_id(),
        network_id: network.id.clone(),
        ip_address: ip,
        netmask: network.netmask,
        gateway: network.gateway,
        mac_address: mac_address(&vm.id),
        is_default: true,
        device_id: 0,
    });
    if !spec.start {
        inv.put(vm.clone());
        return Ok(DeployStep::Done(vm));
    }
    if faults.take_deploy_failure() {
        return Ok(fail_first_start(inv, vm));
    }
    if network.state != NetworkState::Implemented
        && let Err(e) = implement_network(inv, &network.id, now)
    {
        vm.state = VmState::Error;
        inv.put(vm);
        return Ok(DeployStep::Failed(e));
    }
    match pick_host(inv, faults, &zone.id, &template, size) {
        Some(host) => {
            vm.state = VmState::Starting;
            vm.host_id = Some(host.id.clone());
            vm.last_host_id = Some(host.id);
            inv.put(vm.clone());
            Ok(DeployStep::Starting(vm))
        }
        None => Ok(fail_first_start(inv, vm)),
    }
}

/// A new VM whose first start fails goes to `Error` (the only way there, §4.1).
fn fail_first_start(inv: &mut Inventory, mut vm: Vm) -> DeployStep {
    let err = CloudError::InsufficientServerCapacity(format!(
        "Unable to create a deployment for {}",
        describe(&vm.name)
    ));
    vm.state = VmState::Error;
    vm.host_id = None;
    inv.put(vm);
    DeployStep::Failed(err)
}

/// Starts a stopped VM (first half). Running or starting VMs are returned as they are.
pub(crate) fn start_begin(
    inv: &mut Inventory,
    faults: &mut FaultState,
    id: &str,
    now: i64,
) -> Result<DeployStep, CloudError> {
    let mut vm = inv.need::<Vm>(id)?.clone();
    match vm.state {
        VmState::Running => return Ok(DeployStep::Done(vm)),
        VmState::Starting => return Ok(DeployStep::Starting(vm)),
        VmState::Stopped => {}
        other => {
            return Err(CloudError::invalid(format!(
                "VM {} is in state {other} and cannot be started",
                vm.name
            )));
        }
    }
    let template = inv.need::<Template>(&vm.template_id)?.clone();
    let size = VmSize {
        cpu_number: vm.cpu_number,
        cpu_speed_mhz: vm.cpu_speed_mhz,
        memory_mib: vm.memory_mib,
    };
    for nic in &vm.nics {
        implement_network(inv, &nic.network_id, now)?;
    }
    // A failed start leaves the VM Stopped; the caller's error is enough.
    let host = pick_host(inv, faults, &vm.zone_id, &template, size).ok_or_else(|| {
        CloudError::InsufficientServerCapacity(format!(
            "Unable to create a deployment for {}",
            describe(&vm.name)
        ))
    })?;
    vm.state = VmState::Starting;
    vm.host_id = Some(host.id.clone());
    vm.last_host_id = Some(host.id);
    vm.last_updated = now;
    inv.put(vm.clone());
    Ok(DeployStep::Starting(vm))
}

/// Second half of deploy/start: `Starting` becomes `Running`.
pub(crate) fn finish_start(inv: &mut Inventory, id: &str, now: i64) -> Result<Vm, CloudError> {
    let mut vm = inv.need::<Vm>(id)?.clone();
    if vm.state == VmState::Starting {
        vm.state = VmState::Running;
        vm.last_updated = now;
        inv.put(vm.clone());
    }
    Ok(vm)
}

/// First half of a stop: `Running` becomes `Stopping`. `None` when there is nothing to wait for.
pub(crate) fn stop_begin(
    inv: &mut Inventory,
    id: &str,
    now: i64,
) -> Result<(Vm, bool), CloudError> {
    let mut vm = inv.need::<Vm>(id)?.clone();
    match vm.state {
        VmState::Stopped => Ok((vm, false)),
        VmState::Stopping => Ok((vm, true)),
        VmState::Running | VmState::Starting => {
            vm.state = VmState::Stopping;
            vm.last_updated = now;
            inv.put(vm.clone());
            Ok((vm, true))
        }
        other => Err(CloudError::invalid(format!(
            "VM {} is in state {other} and cannot be stopped",
            vm.name
        ))),
    }
}

/// Second half of a stop: the VM leaves its host.
pub(crate) fn finish_stop(inv: &mut Inventory, id: &str, now: i64) -> Result<Vm, CloudError> {
    let mut vm = inv.need::<Vm>(id)?.clone();
    if vm.state == VmState::Stopping {
        vm.state = VmState::Stopped;
        vm.last_host_id = vm.host_id.take().or(vm.last_host_id);
        vm.last_updated = now;
        inv.put(vm.clone());
    }
    Ok(vm)
}

/// The `StopVm` fault: a running VM stops by itself.
pub(crate) fn stop_behind_back(inv: &mut Inventory, id: &str, now: i64) -> Result<(), CloudError> {
    let mut vm = inv.need::<Vm>(id)?.clone();
    if vm.state.holds_host() {
        vm.state = VmState::Stopped;
        vm.last_host_id = vm.host_id.take().or(vm.last_host_id);
        vm.last_updated = now;
        inv.put(vm);
    }
    Ok(())
}

/// Destroys and expunges: the VM's port forwards go and it leaves every load-balancer rule.
/// What its guest installed is the caller's to forget (`kube::guest::forget_vm`).
pub(crate) fn destroy(inv: &mut Inventory, id: &str) -> Result<bool, CloudError> {
    if inv.get::<Vm>(id).is_none() {
        return Ok(false);
    }
    let forwards: Vec<String> = inv
        .all::<PortForwardingRule>()
        .filter(|r| r.vm_id == id)
        .map(|r| r.id.clone())
        .collect();
    for rule in forwards {
        inv.remove::<PortForwardingRule>(&rule);
    }
    let balanced: Vec<LoadBalancerRule> = inv
        .all::<LoadBalancerRule>()
        .filter(|r| r.vm_ids.iter().any(|v| v == id))
        .cloned()
        .collect();
    for mut rule in balanced {
        rule.vm_ids.retain(|v| v != id);
        inv.put(rule);
    }
    inv.remove::<Vm>(id);
    Ok(true)
}

pub(crate) fn scale(
    inv: &mut Inventory,
    faults: &FaultState,
    id: &str,
    offering_id: &str,
    size: Option<VmSize>,
    now: i64,
) -> Result<Vm, CloudError> {
    let mut vm = inv.need::<Vm>(id)?.clone();
    let offering = inv.need::<ServiceOffering>(offering_id)?.clone();
    if offering.state != OfferingState::Active {
        return Err(CloudError::invalid(format!(
            "Service offering {} is not active",
            offering.name
        )));
    }
    let new = size_of(&offering, size)?;
    let old = VmSize {
        cpu_number: vm.cpu_number,
        cpu_speed_mhz: vm.cpu_speed_mhz,
        memory_mib: vm.memory_mib,
    };
    if vm.service_offering_id == offering.id && new == old {
        return Ok(vm);
    }
    let more_cpus = u64::from(new.cpu_number.saturating_sub(old.cpu_number));
    limits::check(inv, &vm.owner, LimitKind::Cpu, more_cpus)?;
    limits::check(
        inv,
        &vm.owner,
        LimitKind::Memory,
        new.memory_mib.saturating_sub(old.memory_mib),
    )?;
    match vm.state {
        VmState::Stopped => {}
        VmState::Running => {
            let old_mhz = u64::from(old.cpu_number) * u64::from(old.cpu_speed_mhz);
            let new_mhz = u64::from(new.cpu_number) * u64::from(new.cpu_speed_mhz);
            if new_mhz < old_mhz || new.memory_mib < old.memory_mib {
                return Err(CloudError::invalid(format!(
                    "While the VM is running, only scalling up it is supported. New service \
                     offering (cpu={}, speed={}, memory={}) should have at least one value (ram, \
                     speed or cpu) greater than the current values (cpu={}, speed={}, memory={})",
                    new.cpu_number,
                    new.cpu_speed_mhz,
                    new.memory_mib,
                    old.cpu_number,
                    old.cpu_speed_mhz,
                    old.memory_mib
                )));
            }
            if faults.exhaust_capacity || !host_has_room(inv, &vm, new) {
                return Err(CloudError::Internal(format!(
                    "Unable to scale {} due to insufficient resources.",
                    describe(&vm.name)
                )));
            }
        }
        other => {
            return Err(CloudError::invalid(format!(
                "Unable to scale VM {} in state {other}",
                vm.name
            )));
        }
    }
    vm.service_offering_id = offering.id.clone();
    vm.cpu_number = new.cpu_number;
    vm.cpu_speed_mhz = new.cpu_speed_mhz;
    vm.memory_mib = new.memory_mib;
    vm.last_updated = now;
    inv.put(vm.clone());
    Ok(vm)
}

/// Can the VM's own host take it at `size` (its current allocation counted as free)?
fn host_has_room(inv: &Inventory, vm: &Vm, size: VmSize) -> bool {
    let Some(host) = vm.host_id.as_deref().and_then(|h| inv.get::<Host>(h)) else {
        return false;
    };
    let Some(cluster) = inv.get::<HostCluster>(&host.cluster_id) else {
        return false;
    };
    let cpu_total =
        (host.cpu_cores as f64 * host.cpu_speed_mhz as f64 * cluster.cpu_overprovisioning) as u64;
    let mem_total = (host.memory_bytes as f64 * cluster.memory_overprovisioning) as u64;
    let cpu_other = host.cpu_allocated_mhz.saturating_sub(vm.cpu_mhz());
    let mem_other = host
        .memory_allocated_bytes
        .saturating_sub(vm.memory_bytes());
    cpu_other + u64::from(size.cpu_number) * u64::from(size.cpu_speed_mhz) <= cpu_total
        && mem_other + size.memory_mib * 1024 * 1024 <= mem_total
        && size.cpu_speed_mhz <= host.cpu_speed_mhz
}

pub(crate) fn update_user_data(
    inv: &mut Inventory,
    id: &str,
    user_data: Option<&str>,
    now: i64,
) -> Result<Vm, CloudError> {
    let mut vm = inv.need::<Vm>(id)?.clone();
    if matches!(vm.state, VmState::Error | VmState::Expunging) {
        return Err(CloudError::invalid(format!(
            "Vm {} is not in the right state",
            vm.name
        )));
    }
    validate_user_data(user_data)?;
    vm.user_data = user_data.map(str::to_string);
    inv.unoffload(id);
    vm.last_updated = now;
    inv.put(vm.clone());
    Ok(vm)
}

fn require_running_or_stopped(vm: &Vm) -> Result<(), CloudError> {
    match vm.state {
        VmState::Running | VmState::Stopped => Ok(()),
        _ => Err(CloudError::invalid(
            "Please specify a VM that is either Stopped or Running.",
        )),
    }
}

pub(crate) fn attach_iso(
    inv: &mut Inventory,
    vm_id: &str,
    iso_id: &str,
    now: i64,
) -> Result<Vm, CloudError> {
    let mut vm = inv.need::<Vm>(vm_id)?.clone();
    let iso = inv.need::<Iso>(iso_id)?.clone();
    require_running_or_stopped(&vm)?;
    if vm.iso_id.as_deref() == Some(iso_id) {
        return Ok(vm);
    }
    if iso.zone_id.as_ref().is_some_and(|z| *z != vm.zone_id) {
        return Err(CloudError::invalid(
            "ISO is not available in the zone the VM is in.",
        ));
    }
    if !iso.is_ready() {
        return Err(CloudError::invalid(format!(
            "Unable to attach ISO {}: it is not ready ({})",
            iso.name, iso.status
        )));
    }
    if vm.iso_id.is_some() {
        return Err(CloudError::invalid(format!(
            "VM {} already has an ISO attached. Please detach it first.",
            vm.name
        )));
    }
    vm.iso_id = Some(iso.id);
    vm.last_updated = now;
    inv.put(vm.clone());
    Ok(vm)
}

pub(crate) fn detach_iso(inv: &mut Inventory, vm_id: &str, now: i64) -> Result<Vm, CloudError> {
    let mut vm = inv.need::<Vm>(vm_id)?.clone();
    require_running_or_stopped(&vm)?;
    if vm.iso_id.take().is_some() {
        vm.last_updated = now;
        inv.put(vm.clone());
    }
    Ok(vm)
}
