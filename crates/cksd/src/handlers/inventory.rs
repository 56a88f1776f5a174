//! The simulator's inventory, answered in CloudStack's formats: the read commands a client needs
//! to pick a zone, offering, template and network, and SSH key pairs. The lists are simulator-only
//! commands (`Availability::SimulatorOnly`: reached through `AppState::simulator`); the SSH key
//! pair changes and `render_vm` go through the `Cloud` trait.

use cks_api::ApiError;
use cks_api::wire::iaas;
use cks_cloud::{ObjectIds, Objects};
use cks_core::iaas::VmState;
use cks_core::tenancy::Owner;

use super::{Cx, Reply, keyword_matches, member_projects, name_matches, scope};
use crate::errors::cloud_error;

pub fn list_zones(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let ids = p.list("ids");
    let zones = cx.simulator()?.list_zones(|z| {
        p.str("id").is_none_or(|id| z.id == id)
            && ids.as_ref().is_none_or(|ids| ids.contains(&z.id.as_str()))
            && name_matches(p.str("name"), &z.name)
            && p.str("networktype")
                .is_none_or(|t| z.network_type.as_str().eq_ignore_ascii_case(t))
            && keyword_matches(p.str("keyword"), &[&z.name])
    });
    cx.list(zones.iter().map(iaas::zone).collect())
}

pub fn list_hosts(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let sim = cx.simulator()?;
    let hosts = sim.list_hosts(|h| {
        p.str("id").is_none_or(|id| h.id == id)
            && name_matches(p.str("name"), &h.name)
            && p.str("zoneid").is_none_or(|z| h.zone_id == z)
            && p.str("type")
                .is_none_or(|t| t.eq_ignore_ascii_case("Routing"))
            && p.str("state")
                .is_none_or(|s| h.state.as_str().eq_ignore_ascii_case(s))
            && keyword_matches(p.str("keyword"), &[&h.name])
    });
    let items = hosts
        .iter()
        .filter_map(|h| {
            let zone = sim.list_zones(|z| z.id == h.zone_id).pop()?;
            let pod = sim.list_pods(|x| x.id == h.pod_id).pop()?;
            let cluster = sim.list_host_clusters(|c| c.id == h.cluster_id).pop()?;
            Some(iaas::host(h, &zone, &pod, &cluster))
        })
        .collect();
    cx.list(items)
}

pub fn list_service_offerings(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let offerings = cx.simulator()?.list_service_offerings(|o| {
        p.str("id").is_none_or(|id| o.id == id)
            && name_matches(p.str("name"), &o.name)
            && (o.is_system == p.flag("issystem"))
            && p.int("cpunumber")
                .is_none_or(|c| o.is_customized || o.cpu_number.is_some_and(|n| i64::from(n) >= c))
            && p.int("memory")
                .is_none_or(|m| o.is_customized || o.memory_mib.is_some_and(|n| n as i64 >= m))
            && keyword_matches(p.str("keyword"), &[&o.name, &o.display_text])
    });
    cx.list(offerings.iter().map(iaas::service_offering).collect())
}

pub fn list_network_offerings(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let offerings = cx.simulator()?.list_network_offerings(|o| {
        p.str("id").is_none_or(|id| o.id == id)
            && name_matches(p.str("name"), &o.name)
            && p.str("guestiptype")
                .is_none_or(|t| o.guest_ip_type.as_str().eq_ignore_ascii_case(t))
            && p.str("state")
                .is_none_or(|s| o.state.as_str().eq_ignore_ascii_case(s))
            && p.bool("forvpc").is_none_or(|f| o.for_vpc == f)
            && keyword_matches(p.str("keyword"), &[&o.name, &o.display_text])
    });
    cx.list(offerings.iter().map(iaas::network_offering).collect())
}

/// `templatefilter`/`isofilter`: which images the caller may list.
fn image_visible(
    cx: &Cx<'_>,
    filter: &str,
    is_public: bool,
    is_featured: bool,
    owner: Option<&Owner>,
) -> Result<bool, ApiError> {
    let own = owner.is_some_and(|o| o.account_id == cx.caller.account_id);
    Ok(match filter {
        "featured" => is_public && is_featured,
        "community" => is_public && !is_featured,
        "self" | "selfexecutable" => own,
        "sharedexecutable" => false,
        "executable" => own || is_public,
        "all" => {
            if !cx.caller.is_root_admin() {
                return Err(ApiError::invalid(
                    "Only root admins may use the filter 'all'",
                ));
            }
            true
        }
        other => {
            return Err(ApiError::invalid(format!(
                "Invalid filter value {other}; use featured, self, selfexecutable, sharedexecutable, executable, community or all"
            )));
        }
    })
}

pub async fn list_templates(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let filter = p.req("templatefilter");
    image_visible(cx, filter, true, true, None)?;
    let sim = cx.simulator()?;
    let ids = p.list("ids");
    let mut items = Vec::new();
    for t in sim.list_templates(|_| true) {
        let wanted = image_visible(cx, filter, t.is_public, t.is_featured, t.owner.as_ref())?
            && p.str("id").is_none_or(|id| t.id == id)
            && ids.as_ref().is_none_or(|ids| ids.contains(&t.id.as_str()))
            && name_matches(p.str("name"), &t.name)
            && p.str("zoneid")
                .is_none_or(|z| t.zone_id.as_deref().is_none_or(|tz| tz == z))
            && p.str("hypervisor")
                .is_none_or(|h| t.hypervisor.eq_ignore_ascii_case(h))
            && p.bool("isready").is_none_or(|r| t.is_ready == r)
            && p.str("arch").is_none_or(|a| t.arch == a)
            && p.bool("forcks").is_none_or(|f| t.for_cks == f)
            && keyword_matches(p.str("keyword"), &[&t.name, &t.display_text]);
        if wanted {
            let zone = t
                .zone_id
                .as_ref()
                .and_then(|z| sim.list_zones(|x| x.id == *z).pop());
            items.push(iaas::template(&t, zone.as_ref()));
        }
    }
    cx.list(items)
}

pub async fn list_isos(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let filter = p.str("isofilter").unwrap_or("executable");
    image_visible(cx, filter, true, true, None)?;
    let sim = cx.simulator()?;
    let mut items = Vec::new();
    for iso in sim.list_isos(|_| true) {
        let wanted = image_visible(cx, filter, iso.is_public, iso.is_featured, Some(&iso.owner))?
            && p.str("id").is_none_or(|id| iso.id == id)
            && name_matches(p.str("name"), &iso.name)
            && p.str("zoneid")
                .is_none_or(|z| iso.zone_id.as_deref().is_none_or(|iz| iz == z))
            && p.bool("bootable").is_none_or(|b| iso.bootable == b)
            && p.bool("ispublic").is_none_or(|b| iso.is_public == b)
            && p.bool("isready").is_none_or(|r| iso.is_ready() == r)
            && p.str("arch").is_none_or(|a| iso.arch == a)
            && keyword_matches(p.str("keyword"), &[&iso.name, &iso.display_text]);
        if wanted {
            let zone = iso
                .zone_id
                .as_ref()
                .and_then(|z| sim.list_zones(|x| x.id == *z).pop());
            items.push(iaas::iso(&iso, zone.as_ref()));
        }
    }
    cx.list(items)
}

pub async fn list_networks(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let scope = scope(cx).await?;
    let sim = cx.simulator()?;
    let networks = sim.list_networks(|n| {
        scope.matches(&n.owner)
            && p.str("id").is_none_or(|id| n.id == id)
            && name_matches(p.str("name"), &n.name)
            && p.str("zoneid").is_none_or(|z| n.zone_id == z)
            && p.str("type").is_none_or(|t| {
                t.eq_ignore_ascii_case("all") || n.guest_type.as_str().eq_ignore_ascii_case(t)
            })
            && p.str("vpcid")
                .is_none_or(|v| n.vpc_id.as_deref() == Some(v))
            && p.str("networkofferingid")
                .is_none_or(|o| n.offering_id == o)
            && keyword_matches(p.str("keyword"), &[&n.name, &n.display_text])
    });
    let items = networks
        .iter()
        .filter_map(|n| {
            let zone = sim.list_zones(|z| z.id == n.zone_id).pop()?;
            let offering = sim
                .list_network_offerings(|o| o.id == n.offering_id)
                .pop()?;
            let vpc = n
                .vpc_id
                .as_ref()
                .and_then(|v| sim.list_vpcs(|x| x.id == *v).pop());
            Some(iaas::network(n, &zone, &offering, vpc.as_ref()))
        })
        .collect();
    cx.list(items)
}

pub async fn list_public_ip_addresses(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let scope = scope(cx).await?;
    let sim = cx.simulator()?;
    let ips = sim.list_public_ips(|ip| {
        scope.matches(&ip.owner)
            && p.str("id").is_none_or(|id| ip.id == id)
            && p.str("ipaddress")
                .is_none_or(|a| ip.address.to_string() == a)
            && p.str("associatednetworkid")
                .is_none_or(|n| ip.network_id.as_deref() == Some(n))
            && p.str("zoneid").is_none_or(|z| ip.zone_id == z)
            && p.bool("issourcenat").is_none_or(|s| ip.is_source_nat == s)
            && p.bool("isstaticnat").is_none_or(|s| ip.is_static_nat == s)
            && p.str("state")
                .is_none_or(|s| ip.state.as_str().eq_ignore_ascii_case(s))
    });
    let items = ips
        .iter()
        .filter_map(|ip| {
            let zone = sim.list_zones(|z| z.id == ip.zone_id).pop()?;
            let network = ip
                .network_id
                .as_ref()
                .and_then(|n| sim.list_networks(|x| x.id == *n).pop());
            let vpc = ip
                .vpc_id
                .as_ref()
                .and_then(|v| sim.list_vpcs(|x| x.id == *v).pop());
            Some(iaas::public_ip(ip, &zone, network.as_ref(), vpc.as_ref()))
        })
        .collect();
    cx.list(items)
}

pub async fn list_virtual_machines(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let scope = scope(cx).await?;
    let sim = cx.simulator()?;
    let ids = p.list("ids");
    let state = p.str("state");
    let mut vms = sim.list_vms(|vm| {
        scope.matches(&vm.owner)
            && p.str("id").is_none_or(|id| vm.id == id)
            && ids.as_ref().is_none_or(|ids| ids.contains(&vm.id.as_str()))
            && name_matches(p.str("name"), &vm.name)
            && state.is_none_or(|s| match s.to_ascii_lowercase().as_str() {
                "present" => vm.state != VmState::Destroyed,
                _ => vm.state.as_str().eq_ignore_ascii_case(s),
            })
            && p.str("zoneid").is_none_or(|z| vm.zone_id == z)
            && p.str("networkid").is_none_or(|n| vm.nic_in(n).is_some())
            && p.str("templateid").is_none_or(|t| vm.template_id == t)
            && p.str("serviceofferingid")
                .is_none_or(|o| vm.service_offering_id == o)
            && p.str("keypair")
                .is_none_or(|k| vm.keypairs.iter().any(|x| x == k))
            && keyword_matches(
                p.str("keyword"),
                &[&vm.name, &vm.display_name, vm.state.as_str()],
            )
    });
    let with_user_data = p.flag("userdata");
    if with_user_data {
        sim.fill_user_data(&mut vms).await.map_err(cloud_error)?;
    }
    let admin = cx.caller.is_root_admin();
    let mut ids = ObjectIds::default();
    vms.iter().for_each(|vm| ids.add_refs_of(vm));
    let objects = sim.objects(&ids);
    let items = vms
        .iter()
        .filter_map(|vm| render_vm(&objects, vm, admin, true, with_user_data))
        .collect();
    cx.list(items)
}

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

pub async fn get_vm_user_data(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let id = cx.p.req("virtualmachineid");
    let mut vm = cx
        .simulator()?
        .list_vms(|vm| vm.id == id)
        .pop()
        .ok_or_else(|| cx.p.not_found("virtualmachineid"))?;
    if !cx.caller.can_access(&vm.owner, &member_projects(cx).await?) {
        return Err(cx.p.not_found("virtualmachineid"));
    }
    cx.simulator()?
        .fill_user_data(std::slice::from_mut(&mut vm))
        .await
        .map_err(cloud_error)?;
    Ok(cx.object(iaas::vm_user_data(&vm)))
}

/// The owner of a new key pair: the caller, or (admins) `account`+`domainid`.
async fn key_owner(cx: &Cx<'_>) -> Result<Owner, ApiError> {
    if cx.p.str("account").is_none() && cx.p.str("projectid").is_none() {
        return Ok(cx.caller.as_owner());
    }
    match scope(cx).await? {
        super::Scope::Account(id) if id == cx.caller.account_id => Ok(cx.caller.as_owner()),
        super::Scope::Account(id) => super::account_owner(cx, &id).await,
        _ => Err(ApiError::invalid(
            "Key pairs are owned by one account: give account with domainid",
        )),
    }
}

pub async fn list_ssh_key_pairs(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let scope = scope(cx).await?;
    let pairs = cx.simulator()?.list_ssh_key_pairs(|k| {
        scope.matches(&k.owner)
            && p.str("id").is_none_or(|id| k.id == id)
            && name_matches(p.str("name"), &k.name)
            && p.str("fingerprint").is_none_or(|f| k.fingerprint == f)
            && keyword_matches(p.str("keyword"), &[&k.name])
    });
    cx.list(pairs.iter().map(iaas::ssh_key_pair).collect())
}

pub async fn create_ssh_key_pair(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let owner = key_owner(cx).await?;
    let created = cx
        .state
        .cloud
        .create_ssh_key_pair(cx.p.req("name"), &owner)
        .await
        .map_err(cloud_error)?;
    Ok(cx.object(iaas::new_ssh_key_pair(
        &created.key_pair,
        &created.private_key_pem,
    )))
}

pub async fn register_ssh_key_pair(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let owner = key_owner(cx).await?;
    let pair = cx
        .state
        .cloud
        .register_ssh_key_pair(cx.p.req("name"), cx.p.req("publickey"), &owner)
        .await
        .map_err(cloud_error)?;
    Ok(cx.object(iaas::ssh_key_pair(&pair)))
}

pub async fn delete_ssh_key_pair(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let owner = key_owner(cx).await?;
    let name = cx.p.req("name");
    let deleted = cx
        .state
        .cloud
        .delete_ssh_key_pair(name, &owner)
        .await
        .map_err(cloud_error)?;
    if !deleted {
        return Err(ApiError::invalid(format!(
            "A key pair with name '{name}' does not exist for account {} in specified domain id",
            owner.account_name
        )));
    }
    Ok(Reply::json(cks_api::envelope::flat(
        cx.command(),
        cks_api::envelope::success_body(None),
    )))
}

pub async fn list_firewall_rules(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let scope = scope(cx).await?;
    let rules = cx.simulator()?.list_firewall_rules(|r| {
        p.str("id").is_none_or(|id| r.id == id)
            && p.str("ipaddressid").is_none_or(|ip| r.ip_id == ip)
            && p.str("networkid").is_none_or(|n| r.network_id == n)
    });
    let items = rules
        .iter()
        .filter(|r| scope.matches(&r.owner))
        .map(iaas::firewall_rule)
        .collect();
    cx.list(items)
}

pub async fn list_port_forwarding_rules(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let scope = scope(cx).await?;
    let sim = cx.simulator()?;
    let rules = sim.list_port_forwarding_rules(|r| {
        p.str("id").is_none_or(|id| r.id == id)
            && p.str("ipaddressid").is_none_or(|ip| r.ip_id == ip)
            && p.str("networkid").is_none_or(|n| r.network_id == n)
    });
    let items = rules
        .iter()
        .filter(|r| scope.matches(&r.owner))
        .map(|r| {
            let vm = sim.list_vms(|vm| vm.id == r.vm_id).pop();
            iaas::port_forwarding_rule(r, vm.as_ref())
        })
        .collect();
    cx.list(items)
}

pub async fn list_load_balancer_rules(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let p = cx.p;
    let scope = scope(cx).await?;
    let sim = cx.simulator()?;
    let rules = sim.list_load_balancer_rules(|r| {
        p.str("id").is_none_or(|id| r.id == id)
            && name_matches(p.str("name"), &r.name)
            && p.str("publicipid").is_none_or(|ip| r.ip_id == ip)
            && p.str("virtualmachineid")
                .is_none_or(|vm| r.vm_ids.iter().any(|v| v == vm))
            && p.str("zoneid").is_none_or(|z| r.zone_id == z)
            && p.str("networkid").is_none_or(|n| r.network_id == n)
            && keyword_matches(p.str("keyword"), &[&r.name])
    });
    let items = rules
        .iter()
        .filter(|r| scope.matches(&r.owner))
        .filter_map(|r| {
            let zone = sim.list_zones(|z| z.id == r.zone_id).pop()?;
            Some(iaas::load_balancer_rule(r, &zone))
        })
        .collect();
    cx.list(items)
}

/// `injectSimulatorFault`: the admin's handle on the simulated cloud's failures.
pub async fn inject_fault(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    use cks_sim::Fault;
    let p = cx.p;
    let enabled = p.bool("enabled").unwrap_or(true);
    let count = p.int("count").unwrap_or(1).clamp(0, i64::from(u32::MAX)) as u32;
    let fault = match p.req("fault").to_ascii_lowercase().as_str() {
        "failvmdeploys" => Fault::FailVmDeploys { count },
        "exhaustcapacity" => Fault::ExhaustCapacity { on: enabled },
        "unavailable" => Fault::Unavailable { count },
        "endpointunreachable" => {
            let ip = p.str("ipaddressid").ok_or_else(|| {
                ApiError::invalid("ipaddressid is required for endpointunreachable")
            })?;
            Fault::EndpointUnreachable {
                public_ip_id: ip.to_string(),
                unreachable: enabled,
            }
        }
        "stopvm" => {
            let vm = p
                .str("virtualmachineid")
                .ok_or_else(|| ApiError::invalid("virtualmachineid is required for stopvm"))?;
            Fault::StopVm {
                vm_id: vm.to_string(),
            }
        }
        "clear" => {
            cx.simulator()?.clear_faults();
            return Ok(Reply::json(cks_api::envelope::flat(
                cx.command(),
                cks_api::envelope::success_body(None),
            )));
        }
        other => {
            return Err(ApiError::invalid(format!(
                "Unknown fault {other}: use failvmdeploys, exhaustcapacity, endpointunreachable, stopvm, unavailable or clear"
            )));
        }
    };
    cx.simulator()?.inject(fault).await.map_err(cloud_error)?;
    Ok(Reply::json(cks_api::envelope::flat(
        cx.command(),
        cks_api::envelope::success_body(None),
    )))
}
