//! `impl Cloud for Simulator`: each orchestration call checks the `Unavailable` fault, then runs
//! its operation as one mutation (plus the simulated delay for VM state changes). The reads the
//! API layer renders and validates with (`lookup`, `kubernetes_templates`, `tagged_with`) answer
//! from memory and leave faults alone, as the synchronous lists did before them.

use async_trait::async_trait;
use cks_core::iaas::{
    FirewallRule, Iso, LoadBalancerRule, Network, NetworkOffering, PortForwardingRule, PublicIp,
    ServiceOffering, SshKeyPair, Template, Vm, VmState, Zone,
};
use cks_core::tenancy::Owner;

use crate::keys;
use crate::kube::guest::{self, NodeCommand, UpgradePlan};
use crate::vm::DeployStep;
use crate::{Shared, Simulator, image, keypair, network, now, vm};
use cks_cloud::CloudError;
use cks_cloud::{
    Cloud, DeployVmSpec, FirewallRuleSpec, IsoSpec, LoadBalancerSpec, NetworkSpec, NewSshKeyPair,
    ObjectIds, Objects, PortForwardingSpec, PublicIpSpec, TaggedResource, VmSize,
};

impl Shared {
    /// Waits out a start and marks the VM `Running`.
    async fn finish_step(
        &self,
        step: DeployStep,
        delay: std::time::Duration,
    ) -> Result<Vm, CloudError> {
        match step {
            DeployStep::Done(vm) => Ok(vm),
            DeployStep::Failed(e) => Err(e),
            DeployStep::Starting(started) => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                self.mutate(|inv| vm::finish_start(inv, &started.id, now()))
                    .await
            }
        }
    }
}

#[async_trait]
impl Cloud for Simulator {
    // === Catalog ===

    async fn get_zone(&self, id: &str) -> Result<Zone, CloudError> {
        self.shared.check_available()?;
        self.shared.get(id)
    }

    async fn get_service_offering(&self, id: &str) -> Result<ServiceOffering, CloudError> {
        self.shared.check_available()?;
        self.shared.get(id)
    }

    async fn get_network_offering(&self, id: &str) -> Result<NetworkOffering, CloudError> {
        self.shared.check_available()?;
        self.shared.get(id)
    }

    async fn find_network_offering(
        &self,
        name: &str,
    ) -> Result<Option<NetworkOffering>, CloudError> {
        self.shared.check_available()?;
        Ok(self
            .shared
            .read()
            .find::<NetworkOffering>(|o| o.name == name)
            .cloned())
    }

    async fn get_template(&self, id: &str) -> Result<Template, CloudError> {
        self.shared.check_available()?;
        self.shared.get(id)
    }

    // === Networks ===

    async fn create_network(&self, spec: &NetworkSpec) -> Result<Network, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::create_network(inv, spec, now()))
            .await
    }

    async fn find_network(&self, name: &str, owner: &Owner) -> Result<Option<Network>, CloudError> {
        self.shared.check_available()?;
        Ok(network::find_network(&self.shared.read(), name, owner).cloned())
    }

    async fn get_network(&self, id: &str) -> Result<Network, CloudError> {
        self.shared.check_available()?;
        self.shared.get(id)
    }

    async fn implement_network(&self, id: &str) -> Result<Network, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::implement_network(inv, id, now()))
            .await
    }

    async fn delete_network(&self, id: &str) -> Result<bool, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::delete_network(inv, id))
            .await
    }

    // === Public IPs ===

    async fn acquire_public_ip(&self, spec: &PublicIpSpec) -> Result<PublicIp, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::acquire_public_ip(inv, spec, now()))
            .await
    }

    async fn find_source_nat_ip(&self, network_id: &str) -> Result<Option<PublicIp>, CloudError> {
        self.shared.check_available()?;
        network::find_source_nat_ip(&self.shared.read(), network_id)
    }

    async fn get_public_ip(&self, id: &str) -> Result<PublicIp, CloudError> {
        self.shared.check_available()?;
        self.shared.get(id)
    }

    async fn release_public_ip(&self, id: &str) -> Result<bool, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::release_public_ip(inv, id))
            .await
    }

    // === Rules ===

    async fn create_firewall_rule(
        &self,
        spec: &FirewallRuleSpec,
    ) -> Result<FirewallRule, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::create_firewall_rule(inv, spec, now()))
            .await
    }

    async fn firewall_rules_on_ip(&self, ip_id: &str) -> Result<Vec<FirewallRule>, CloudError> {
        self.shared.check_available()?;
        Ok(self.shared.read().list(|r: &FirewallRule| r.ip_id == ip_id))
    }

    async fn delete_firewall_rule(&self, id: &str) -> Result<bool, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::delete_rule::<FirewallRule>(inv, id))
            .await
    }

    async fn create_port_forwarding_rule(
        &self,
        spec: &PortForwardingSpec,
    ) -> Result<PortForwardingRule, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::create_port_forwarding_rule(inv, spec, now()))
            .await
    }

    async fn port_forwarding_rules_on_ip(
        &self,
        ip_id: &str,
    ) -> Result<Vec<PortForwardingRule>, CloudError> {
        self.shared.check_available()?;
        Ok(self
            .shared
            .read()
            .list(|r: &PortForwardingRule| r.ip_id == ip_id))
    }

    async fn delete_port_forwarding_rule(&self, id: &str) -> Result<bool, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::delete_rule::<PortForwardingRule>(inv, id))
            .await
    }

    async fn create_load_balancer_rule(
        &self,
        spec: &LoadBalancerSpec,
    ) -> Result<LoadBalancerRule, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::create_load_balancer_rule(inv, spec, now()))
            .await
    }

    async fn get_load_balancer_rule(&self, id: &str) -> Result<LoadBalancerRule, CloudError> {
        self.shared.check_available()?;
        self.shared.get(id)
    }

    async fn load_balancer_rules_on_ip(
        &self,
        ip_id: &str,
    ) -> Result<Vec<LoadBalancerRule>, CloudError> {
        self.shared.check_available()?;
        Ok(self
            .shared
            .read()
            .list(|r: &LoadBalancerRule| r.ip_id == ip_id))
    }

    async fn assign_to_load_balancer_rule(
        &self,
        rule_id: &str,
        vm_ids: &[String],
    ) -> Result<LoadBalancerRule, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::assign_to_load_balancer_rule(inv, rule_id, vm_ids))
            .await
    }

    async fn remove_from_load_balancer_rule(
        &self,
        rule_id: &str,
        vm_ids: &[String],
    ) -> Result<LoadBalancerRule, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::remove_from_load_balancer_rule(inv, rule_id, vm_ids))
            .await
    }

    async fn delete_load_balancer_rule(&self, id: &str) -> Result<bool, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| network::delete_rule::<LoadBalancerRule>(inv, id))
            .await
    }

    // === VMs ===

    async fn deploy_vm(&self, spec: &DeployVmSpec) -> Result<Vm, CloudError> {
        let shared = &self.shared;
        shared.check_available()?;
        let step = shared
            .mutate(|inv| vm::deploy_begin(inv, &mut shared.faults(), spec, now()))
            .await?;
        shared.finish_step(step, shared.timings.vm_deploy).await
    }

    async fn find_vm(&self, network_id: &str, name: &str) -> Result<Option<Vm>, CloudError> {
        self.shared.check_available()?;
        Ok(self
            .shared
            .read()
            .find::<Vm>(|vm| vm.name == name && vm.nic_in(network_id).is_some())
            .cloned())
    }

    async fn get_vm(&self, id: &str) -> Result<Vm, CloudError> {
        self.shared.check_available()?;
        self.shared.get(id)
    }

    async fn vm_states(&self, ids: &[String]) -> Result<Vec<(String, VmState)>, CloudError> {
        self.shared.check_available()?;
        let inv = self.shared.read();
        Ok(ids
            .iter()
            .filter_map(|id| Some((id.clone(), inv.get::<Vm>(id)?.state)))
            .collect())
    }

    async fn vms_in_network(&self, network_id: &str) -> Result<Vec<Vm>, CloudError> {
        self.shared.check_available()?;
        Ok(self
            .shared
            .read()
            .list(|vm: &Vm| vm.nic_in(network_id).is_some()))
    }

    async fn start_vm(&self, id: &str) -> Result<Vm, CloudError> {
        let shared = &self.shared;
        shared.check_available()?;
        let step = shared
            .mutate(|inv| vm::start_begin(inv, &mut shared.faults(), id, now()))
            .await?;
        shared.finish_step(step, shared.timings.vm_start).await
    }

    async fn stop_vm(&self, id: &str, _forced: bool) -> Result<Vm, CloudError> {
        let shared = &self.shared;
        shared.check_available()?;
        let (stopping, wait) = shared.mutate(|inv| vm::stop_begin(inv, id, now())).await?;
        if !wait {
            return Ok(stopping);
        }
        if !shared.timings.vm_stop.is_zero() {
            tokio::time::sleep(shared.timings.vm_stop).await;
        }
        shared.mutate(|inv| vm::finish_stop(inv, id, now())).await
    }

    async fn destroy_vm(&self, id: &str) -> Result<bool, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| {
                let destroyed = vm::destroy(inv, id)?;
                if destroyed {
                    // The node its guest installed goes with it, and its cluster with the last.
                    guest::forget_vm(inv, id);
                }
                Ok(destroyed)
            })
            .await
    }

    async fn scale_vm(
        &self,
        id: &str,
        service_offering_id: &str,
        size: Option<VmSize>,
    ) -> Result<Vm, CloudError> {
        let shared = &self.shared;
        shared.check_available()?;
        shared
            .mutate(|inv| vm::scale(inv, &shared.faults(), id, service_offering_id, size, now()))
            .await
    }

    async fn vm_user_data(&self, id: &str) -> Result<Option<String>, CloudError> {
        self.shared.check_available()?;
        let vm = self.shared.get::<Vm>(id)?;
        let mut vms = [vm];
        self.fill_user_data(&mut vms).await?;
        let [vm] = vms;
        Ok(vm.user_data)
    }

    async fn update_vm_user_data(
        &self,
        id: &str,
        user_data: Option<&str>,
    ) -> Result<Vm, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| vm::update_user_data(inv, id, user_data, now()))
            .await
    }

    async fn attach_iso(&self, vm_id: &str, iso_id: &str) -> Result<Vm, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| vm::attach_iso(inv, vm_id, iso_id, now()))
            .await
    }

    async fn detach_iso(&self, vm_id: &str) -> Result<Vm, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| vm::detach_iso(inv, vm_id, now()))
            .await
    }

    // === Node management channel ===

    async fn run_on_node(&self, vm_id: &str, argv: &[String]) -> Result<String, CloudError> {
        let shared = &self.shared;
        shared.check_available()?;
        let NodeCommand::Upgrade(target) = guest::parse_command(argv)?;
        let plan = guest::check_upgrade(&shared.read(), vm_id, &target)?;
        if let UpgradePlan::Done(out) = plan {
            return Ok(out);
        }
        if !shared.timings.node_upgrade.is_zero() {
            tokio::time::sleep(shared.timings.node_upgrade).await;
        }
        shared
            .mutate(|inv| guest::finish_upgrade(inv, vm_id, &target))
            .await
    }

    // === ISOs ===

    async fn register_iso(&self, spec: &IsoSpec) -> Result<Iso, CloudError> {
        self.shared.check_available()?;
        let (iso, new) = self
            .shared
            .mutate(|inv| image::register(inv, spec, now()))
            .await?;
        if new {
            image::spawn_download(&self.shared, iso.id.clone());
        }
        Ok(iso)
    }

    async fn get_iso(&self, id: &str) -> Result<Iso, CloudError> {
        self.shared.check_available()?;
        self.shared.get(id)
    }

    async fn delete_iso(&self, id: &str) -> Result<bool, CloudError> {
        self.shared.check_available()?;
        self.shared.mutate(|inv| image::delete(inv, id)).await
    }

    // === Lookups for showing and checking (no fault applies: they only read) ===

    async fn lookup(&self, ids: &ObjectIds) -> Result<Objects, CloudError> {
        Ok(self.objects(ids))
    }

    async fn kubernetes_templates(&self, zone_id: &str) -> Result<Vec<Template>, CloudError> {
        Ok(self.list_templates(|t| t.for_cks && t.zone_id.as_deref().is_none_or(|z| z == zone_id)))
    }

    async fn tagged_with(&self, key: &str) -> Result<Vec<(TaggedResource, String)>, CloudError> {
        Ok(Simulator::tagged_with(self, key))
    }

    // === Tags ===

    async fn find_by_tag(&self, key: &str, value: &str) -> Result<Vec<TaggedResource>, CloudError> {
        self.shared.check_available()?;
        Ok(network::find_by_tag(&self.shared.read(), key, value))
    }

    // === SSH key pairs ===

    async fn create_ssh_key_pair(
        &self,
        name: &str,
        owner: &Owner,
    ) -> Result<NewSshKeyPair, CloudError> {
        self.shared.check_available()?;
        keypair::validate_name(name)?;
        if keypair::find(&self.shared.read(), name, owner).is_some() {
            return Err(CloudError::invalid(format!(
                "A key pair with name '{name}' already exists."
            )));
        }
        // RSA generation takes tens of milliseconds: keep it off the async workers.
        let generated = tokio::task::spawn_blocking(keys::generate_rsa)
            .await
            .map_err(|e| CloudError::Internal(format!("key generation task failed: {e}")))?
            .map_err(|e| CloudError::Internal(e.to_string()))?;
        let public = generated.public;
        let key_pair = self
            .shared
            .mutate(|inv| keypair::insert_generated(inv, name, owner, public, now()))
            .await?;
        Ok(NewSshKeyPair {
            key_pair,
            private_key_pem: generated.private_key_pem,
        })
    }

    async fn register_ssh_key_pair(
        &self,
        name: &str,
        public_key: &str,
        owner: &Owner,
    ) -> Result<SshKeyPair, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| keypair::register(inv, name, public_key, owner, now()))
            .await
    }

    async fn find_ssh_key_pair(
        &self,
        name: &str,
        owner: &Owner,
    ) -> Result<Option<SshKeyPair>, CloudError> {
        self.shared.check_available()?;
        Ok(keypair::find(&self.shared.read(), name, owner).cloned())
    }

    async fn ssh_key_pairs(&self, owner: &Owner) -> Result<Vec<SshKeyPair>, CloudError> {
        self.shared.check_available()?;
        Ok(self
            .shared
            .read()
            .list(|k: &SshKeyPair| cks_core::iaas::same_owner(&k.owner, owner)))
    }

    async fn delete_ssh_key_pair(&self, name: &str, owner: &Owner) -> Result<bool, CloudError> {
        self.shared.check_available()?;
        self.shared
            .mutate(|inv| keypair::delete(inv, name, owner))
            .await
    }

    fn endpoint_conflict(&self, addr: std::net::SocketAddrV4) -> Option<String> {
        self.shared.endpoint_conflict(addr)
    }
}
