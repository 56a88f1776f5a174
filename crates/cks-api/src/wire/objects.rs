//! CloudStack's IaaS response objects as serde types, for the clients of a CloudStack API (ours
//! or a real cloud's): they decode what a server sends and serialize back to the same shape.
//!
//! Field names are CloudStack's (lowercase, as sent), with the JSON types it sends (ports of
//! port forwards and load balancers are strings, firewall ports numbers). Every field but the
//! identifying ones is optional and unknown fields are ignored, so an object from another
//! CloudStack release still decodes and the fields modelled here come out right. The server
//! renders zones, service and network offerings, firewall and port-forwarding rules and key
//! pairs as these types ([`crate::wire::iaas`] builds them from the domain nouns, so their field
//! order is the key order sent); the tests there decode every other rendering with them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A resource tag (`tags` items).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tag {
    /// `key`.
    pub key: String,
    /// `value`.
    pub value: String,
    /// `resourcetype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resourcetype: Option<String>,
    /// `resourceid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resourceid: Option<String>,
    /// The owner block of the tagged resource.
    #[serde(flatten)]
    pub owner: Ownership,
}

/// Who owns an object: the owner block CloudStack puts in most objects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ownership {
    /// `account`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// `domainid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domainid: Option<String>,
    /// `domain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `domainpath`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domainpath: Option<String>,
    /// `projectid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projectid: Option<String>,
    /// `project`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// A capability of a network service (`service[].capability` items).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Capability {
    /// `name`.
    pub name: String,
    /// `value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `canchooseservicecapability`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canchooseservicecapability: Option<bool>,
}

/// A network service provider (`service[].provider` items).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Provider {
    /// `name`.
    pub name: String,
}

/// A network service of an offering, network or VPC (`service` items).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Service {
    /// `name`.
    pub name: String,
    /// `provider`.
    pub provider: Vec<Provider>,
    /// `capability`.
    pub capability: Vec<Capability>,
}

/// `zone` (`listZones`); fields in the order the server renders them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Zone {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `allocationstate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocationstate: Option<String>,
    /// `networktype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networktype: Option<String>,
    /// `type`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub zone_type: Option<String>,
    /// `securitygroupsenabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub securitygroupsenabled: Option<bool>,
    /// `localstorageenabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub localstorageenabled: Option<bool>,
    /// `ismultiarch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ismultiarch: Option<bool>,
    /// `routedmodeenabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routedmodeenabled: Option<bool>,
    /// `dns1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns1: Option<String>,
    /// `dns2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns2: Option<String>,
    /// `internaldns1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internaldns1: Option<String>,
    /// `internaldns2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internaldns2: Option<String>,
    /// `guestcidraddress`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guestcidraddress: Option<String>,
    /// `domain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `dhcpprovider`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcpprovider: Option<String>,
    /// `tags`.
    pub tags: Vec<Tag>,
    /// `hasannotations`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hasannotations: Option<bool>,
}

/// `host` (`listHosts`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Host {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `type`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub host_type: Option<String>,
    /// `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `resourcestate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resourcestate: Option<String>,
    /// `zoneid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneid: Option<String>,
    /// `zonename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonename: Option<String>,
    /// `podid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub podid: Option<String>,
    /// `podname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub podname: Option<String>,
    /// `clusterid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusterid: Option<String>,
    /// `clustername`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clustername: Option<String>,
    /// `hypervisor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hypervisor: Option<String>,
    /// `hypervisorversion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hypervisorversion: Option<String>,
    /// `ipaddress`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipaddress: Option<String>,
    /// `cpunumber`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpunumber: Option<u64>,
    /// `cpuspeed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuspeed: Option<u64>,
    /// `cpuallocated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuallocated: Option<String>,
    /// `cpuallocatedvalue`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuallocatedvalue: Option<u64>,
    /// `memorytotal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memorytotal: Option<u64>,
    /// `memoryallocated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memoryallocated: Option<u64>,
    /// `created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `lastpinged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lastpinged: Option<String>,
    /// `version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `serviceoffering` (`listServiceOfferings`); fields in the order the server renders them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceOffering {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `displaytext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displaytext: Option<String>,
    /// `cpunumber`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpunumber: Option<u64>,
    /// `cpuspeed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuspeed: Option<u64>,
    /// `memory`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// `iscustomized`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iscustomized: Option<bool>,
    /// `storagetype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storagetype: Option<String>,
    /// `provisioningtype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioningtype: Option<String>,
    /// `offerha`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offerha: Option<bool>,
    /// `limitcpuuse`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limitcpuuse: Option<bool>,
    /// `issystem`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issystem: Option<bool>,
    /// `defaultuse`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defaultuse: Option<bool>,
    /// `isvolatile`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isvolatile: Option<bool>,
    /// `iscustomizediops`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iscustomizediops: Option<bool>,
    /// `dynamicscalingenabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamicscalingenabled: Option<bool>,
    /// `encryptroot`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryptroot: Option<bool>,
    /// `hosttags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosttags: Option<String>,
    /// `rootdisksize`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootdisksize: Option<u64>,
    /// `cacheMode`.
    #[serde(rename = "cacheMode", skip_serializing_if = "Option::is_none")]
    pub cache_mode: Option<String>,
    /// `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `hasannotations`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hasannotations: Option<bool>,
}

/// `diskoffering` (`listDiskOfferings`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiskOffering {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `displaytext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displaytext: Option<String>,
    /// `disksize`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disksize: Option<u64>,
    /// `iscustomized`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iscustomized: Option<bool>,
    /// `storagetype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storagetype: Option<String>,
    /// `provisioningtype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioningtype: Option<String>,
    /// `displayoffering`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displayoffering: Option<bool>,
    /// `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

/// `networkoffering` (`listNetworkOfferings`); fields in the order the server renders them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkOffering {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `displaytext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displaytext: Option<String>,
    /// `traffictype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffictype: Option<String>,
    /// `isdefault`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isdefault: Option<bool>,
    /// `specifyvlan`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specifyvlan: Option<bool>,
    /// `conservemode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conservemode: Option<bool>,
    /// `specifyipranges`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specifyipranges: Option<bool>,
    /// `availability`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability: Option<String>,
    /// `networkrate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkrate: Option<i64>,
    /// `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `guestiptype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guestiptype: Option<String>,
    /// `service`.
    pub service: Vec<Service>,
    /// `forvpc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forvpc: Option<bool>,
    /// `ispersistent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ispersistent: Option<bool>,
    /// `egressdefaultpolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egressdefaultpolicy: Option<bool>,
    /// `supportsstrechedl2subnet`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supportsstrechedl2subnet: Option<bool>,
    /// `supportspublicaccess`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supportspublicaccess: Option<bool>,
    /// `supportsinternallb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supportsinternallb: Option<bool>,
    /// `specifyasnumber`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specifyasnumber: Option<bool>,
    /// `networkmode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkmode: Option<String>,
    /// `created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `hasannotations`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hasannotations: Option<bool>,
}

/// `template` (`listTemplates`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Template {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `displaytext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displaytext: Option<String>,
    /// `ispublic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ispublic: Option<bool>,
    /// `isready`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isready: Option<bool>,
    /// `passwordenabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passwordenabled: Option<bool>,
    /// `sshkeyenabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sshkeyenabled: Option<bool>,
    /// `format`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// `isfeatured`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isfeatured: Option<bool>,
    /// `crossZones`.
    #[serde(rename = "crossZones", skip_serializing_if = "Option::is_none")]
    pub cross_zones: Option<bool>,
    /// `ostypeid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ostypeid: Option<String>,
    /// `ostypename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ostypename: Option<String>,
    /// `bootable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootable: Option<bool>,
    /// `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// `templatetype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templatetype: Option<String>,
    /// `hypervisor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hypervisor: Option<String>,
    /// `isextractable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isextractable: Option<bool>,
    /// `isdynamicallyscalable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isdynamicallyscalable: Option<bool>,
    /// `zoneid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneid: Option<String>,
    /// `zonename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonename: Option<String>,
    /// `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `checksum`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// `accountid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accountid: Option<String>,
    /// The owner block.
    #[serde(flatten)]
    pub owner: Ownership,
    /// `created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `tags`.
    pub tags: Vec<Tag>,
}

/// `iso` (`listIsos`, `registerIso`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Iso {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `displaytext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displaytext: Option<String>,
    /// `ispublic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ispublic: Option<bool>,
    /// `isready`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isready: Option<bool>,
    /// `bootable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootable: Option<bool>,
    /// `isfeatured`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isfeatured: Option<bool>,
    /// `crossZones`.
    #[serde(rename = "crossZones", skip_serializing_if = "Option::is_none")]
    pub cross_zones: Option<bool>,
    /// `ostypeid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ostypeid: Option<String>,
    /// `ostypename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ostypename: Option<String>,
    /// `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// `isextractable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isextractable: Option<bool>,
    /// `zoneid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneid: Option<String>,
    /// `zonename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonename: Option<String>,
    /// `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `checksum`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// `accountid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accountid: Option<String>,
    /// The owner block.
    #[serde(flatten)]
    pub owner: Ownership,
    /// `created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `tags`.
    pub tags: Vec<Tag>,
}

/// `network` (`listNetworks`, `createNetwork`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Network {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `displaytext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displaytext: Option<String>,
    /// `broadcastdomaintype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcastdomaintype: Option<String>,
    /// `traffictype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffictype: Option<String>,
    /// `gateway`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// `netmask`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub netmask: Option<String>,
    /// `cidr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    /// `broadcasturi`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcasturi: Option<String>,
    /// `zoneid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneid: Option<String>,
    /// `zonename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonename: Option<String>,
    /// `networkofferingid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkofferingid: Option<String>,
    /// `networkofferingname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkofferingname: Option<String>,
    /// `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `type`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub network_type: Option<String>,
    /// `acltype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acltype: Option<String>,
    /// `dns1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns1: Option<String>,
    /// `dns2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns2: Option<String>,
    /// `networkdomain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkdomain: Option<String>,
    /// `physicalnetworkid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physicalnetworkid: Option<String>,
    /// `vpcid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpcid: Option<String>,
    /// `vpcname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpcname: Option<String>,
    /// `restartrequired`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restartrequired: Option<bool>,
    /// `ispersistent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ispersistent: Option<bool>,
    /// The owner block.
    #[serde(flatten)]
    pub owner: Ownership,
    /// `service`.
    pub service: Vec<Service>,
    /// `tags`.
    pub tags: Vec<Tag>,
    /// `created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

/// `vpc` (`listVPCs`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Vpc {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `displaytext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displaytext: Option<String>,
    /// `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `zoneid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneid: Option<String>,
    /// `zonename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonename: Option<String>,
    /// `cidr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    /// `vpcofferingid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpcofferingid: Option<String>,
    /// `vpcofferingname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpcofferingname: Option<String>,
    /// `networkdomain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkdomain: Option<String>,
    /// `restartrequired`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restartrequired: Option<bool>,
    /// The owner block.
    #[serde(flatten)]
    pub owner: Ownership,
    /// `network`.
    pub network: Vec<Network>,
    /// `service`.
    pub service: Vec<Service>,
    /// `tags`.
    pub tags: Vec<Tag>,
    /// `created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

/// `ipaddress` / `publicipaddress` (`associateIpAddress`, `listPublicIpAddresses`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PublicIpAddress {
    /// `id`.
    pub id: String,
    /// `ipaddress`.
    pub ipaddress: String,
    /// `allocated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated: Option<String>,
    /// `zoneid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneid: Option<String>,
    /// `zonename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonename: Option<String>,
    /// `issourcenat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issourcenat: Option<bool>,
    /// `isstaticnat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isstaticnat: Option<bool>,
    /// `issystem`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issystem: Option<bool>,
    /// `forvirtualnetwork`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forvirtualnetwork: Option<bool>,
    /// `vlanid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlanid: Option<String>,
    /// `vlanname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlanname: Option<String>,
    /// `associatednetworkid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub associatednetworkid: Option<String>,
    /// `associatednetworkname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub associatednetworkname: Option<String>,
    /// `networkid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkid: Option<String>,
    /// `vpcid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpcid: Option<String>,
    /// `vpcname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpcname: Option<String>,
    /// `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `physicalnetworkid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub physicalnetworkid: Option<String>,
    /// The owner block.
    #[serde(flatten)]
    pub owner: Ownership,
    /// `tags`.
    pub tags: Vec<Tag>,
}

/// `firewallrule` (`createFirewallRule`, `listFirewallRules`); ports are numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FirewallRule {
    /// `id`.
    pub id: String,
    /// `protocol`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// `startport`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startport: Option<u64>,
    /// `endport`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endport: Option<u64>,
    /// `ipaddressid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipaddressid: Option<String>,
    /// `networkid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkid: Option<String>,
    /// `ipaddress`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipaddress: Option<String>,
    /// `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `cidrlist`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidrlist: Option<String>,
    /// `icmptype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmptype: Option<i64>,
    /// `icmpcode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmpcode: Option<i64>,
    /// `traffictype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffictype: Option<String>,
    /// `tags`.
    pub tags: Vec<Tag>,
    /// `fordisplay`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fordisplay: Option<bool>,
}

/// `portforwardingrule`; ports are strings, as CloudStack sends them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortForwardingRule {
    /// `id`.
    pub id: String,
    /// `privateport`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privateport: Option<String>,
    /// `privateendport`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privateendport: Option<String>,
    /// `publicport`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publicport: Option<String>,
    /// `publicendport`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publicendport: Option<String>,
    /// `protocol`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// `virtualmachineid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtualmachineid: Option<String>,
    /// `virtualmachinename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtualmachinename: Option<String>,
    /// `virtualmachinedisplayname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtualmachinedisplayname: Option<String>,
    /// `vmguestip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmguestip: Option<String>,
    /// `ipaddressid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipaddressid: Option<String>,
    /// `ipaddress`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipaddress: Option<String>,
    /// `networkid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkid: Option<String>,
    /// `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `cidrlist`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidrlist: Option<String>,
    /// `tags`.
    pub tags: Vec<Tag>,
    /// `fordisplay`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fordisplay: Option<bool>,
}

/// `loadbalancer` / `loadbalancerrule`; ports are strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadBalancerRule {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `publicipid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publicipid: Option<String>,
    /// `publicip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publicip: Option<String>,
    /// `publicport`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publicport: Option<String>,
    /// `privateport`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privateport: Option<String>,
    /// `algorithm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// `protocol`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// `cidrlist`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidrlist: Option<String>,
    /// `networkid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkid: Option<String>,
    /// `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `zoneid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneid: Option<String>,
    /// `zonename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonename: Option<String>,
    /// The owner block.
    #[serde(flatten)]
    pub owner: Ownership,
    /// `tags`.
    pub tags: Vec<Tag>,
}

/// A VM's network interface (`nic` items).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Nic {
    /// `id`.
    pub id: String,
    /// `networkid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkid: Option<String>,
    /// `networkname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networkname: Option<String>,
    /// `netmask`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub netmask: Option<String>,
    /// `gateway`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// `ipaddress`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipaddress: Option<String>,
    /// `isolationuri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolationuri: Option<String>,
    /// `broadcasturi`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcasturi: Option<String>,
    /// `traffictype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffictype: Option<String>,
    /// `type`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub nic_type: Option<String>,
    /// `isdefault`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isdefault: Option<bool>,
    /// `macaddress`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macaddress: Option<String>,
    /// `deviceid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deviceid: Option<String>,
    /// `vpcid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpcid: Option<String>,
}

/// `virtualmachine` (`listVirtualMachines`, `deployVirtualMachine`...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VirtualMachine {
    /// `id`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `displayname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displayname: Option<String>,
    /// The owner block.
    #[serde(flatten)]
    pub owner: Ownership,
    /// `userid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userid: Option<String>,
    /// `username`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `lastupdated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lastupdated: Option<String>,
    /// `state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `haenable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub haenable: Option<bool>,
    /// `zoneid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneid: Option<String>,
    /// `zonename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zonename: Option<String>,
    /// `hostid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostid: Option<String>,
    /// `hostname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `instancename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instancename: Option<String>,
    /// `templateid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templateid: Option<String>,
    /// `templatename`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templatename: Option<String>,
    /// `templatedisplaytext`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templatedisplaytext: Option<String>,
    /// `passwordenabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passwordenabled: Option<bool>,
    /// `isoid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isoid: Option<String>,
    /// `isoname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isoname: Option<String>,
    /// `serviceofferingid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serviceofferingid: Option<String>,
    /// `serviceofferingname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serviceofferingname: Option<String>,
    /// `cpunumber`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpunumber: Option<u64>,
    /// `cpuspeed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuspeed: Option<u64>,
    /// `memory`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    /// `guestosid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guestosid: Option<String>,
    /// `ostypeid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ostypeid: Option<String>,
    /// `osdisplayname`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub osdisplayname: Option<String>,
    /// `hypervisor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hypervisor: Option<String>,
    /// `keypairs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keypairs: Option<String>,
    /// `userdata`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userdata: Option<String>,
    /// `isdynamicallyscalable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isdynamicallyscalable: Option<bool>,
    /// `nic`.
    pub nic: Vec<Nic>,
    /// `details`.
    pub details: BTreeMap<String, String>,
    /// `tags`.
    pub tags: Vec<Tag>,
}

/// `sshkeypair` / `keypair` (`listSSHKeyPairs`, `createSSHKeyPair`); `privatekey` only when created.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SshKeyPair {
    /// `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `name`.
    pub name: String,
    /// `fingerprint`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The owner block.
    #[serde(flatten)]
    pub owner: Ownership,
    /// `privatekey`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privatekey: Option<String>,
}

/// An async job (`queryAsyncJobResult`, `listAsyncJobs` items): `jobstatus` 0 pending, 1 done, 2 failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AsyncJob {
    /// `jobid`.
    pub jobid: String,
    /// `accountid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accountid: Option<String>,
    /// `userid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userid: Option<String>,
    /// `cmd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmd: Option<String>,
    /// `jobstatus`.
    pub jobstatus: i32,
    /// `jobprocstatus`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobprocstatus: Option<i64>,
    /// `jobresultcode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobresultcode: Option<i64>,
    /// `jobresulttype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobresulttype: Option<String>,
    /// `jobresult`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobresult: Option<Value>,
    /// `jobinstancetype`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobinstancetype: Option<String>,
    /// `jobinstanceid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobinstanceid: Option<String>,
    /// `created`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `completed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<String>,
}

#[cfg(test)]
pub(crate) mod tests {
    //! Every recorded CloudStack response decodes with these types, and what they serialize
    //! decodes to the same value again.

    use std::collections::BTreeSet;
    use std::fmt::Debug;
    use std::path::PathBuf;

    use serde::de::DeserializeOwned;

    use super::*;

    fn samples_dir() -> PathBuf {
        [
            env!("CARGO_MANIFEST_DIR"),
            "../../../shared/reference/cloudstack-responses",
        ]
        .iter()
        .collect()
    }

    /// Decodes `value` as `T` and checks the round trip through our serialization.
    pub(crate) fn decode<T>(what: &str, value: &Value) -> T
    where
        T: DeserializeOwned + Serialize + PartialEq + Debug,
    {
        let typed: T = serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("{what} does not decode: {e}\n{value:#}"));
        let rendered = serde_json::to_value(&typed).expect("serializes");
        let again: T = serde_json::from_value(rendered.clone())
            .unwrap_or_else(|e| panic!("{what} rendered back does not decode: {e}\n{rendered:#}"));
        assert_eq!(again, typed, "{what}: round trip");
        typed
    }

    fn items<T>(what: &str, list: &Value, key: &str) -> Vec<T>
    where
        T: DeserializeOwned + Serialize + PartialEq + Debug,
    {
        let items = list[key]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no {key} list"));
        assert_eq!(list["count"], items.len(), "{what}: count");
        items.iter().map(|v| decode(what, v)).collect()
    }

    /// The finished job an async sample holds, and its result's object `key`.
    fn job_object<T>(what: &str, inner: &Value, key: &str) -> T
    where
        T: DeserializeOwned + Serialize + PartialEq + Debug,
    {
        let job: AsyncJob = decode(what, inner);
        assert_eq!(job.jobstatus, 1, "{what}: a finished job");
        let result = job.jobresult.unwrap_or_default();
        decode(what, &result[key])
    }

    /// Samples of tenancy and settings commands: no IaaS noun to decode.
    const NOT_IAAS: [&str; 13] = [
        "createAccount",
        "createDomain",
        "createUser",
        "getUserKeys",
        "listAccounts",
        "listCapabilities",
        "listConfigurations",
        "listDomains",
        "listUsers",
        "login",
        "logout",
        "registerUserKeys",
        "updateConfiguration",
    ];

    fn check(command: &str, inner: &Value) {
        let what = command;
        match command {
            "listVirtualMachines" => {
                let vms: Vec<VirtualMachine> = items(what, inner, "virtualmachine");
                let vm = &vms[0];
                assert_eq!(vm.id, "915653c4-298b-4d74-bdee-4ced282114f1");
                assert_eq!(vm.name, "testDummyVM");
                assert_eq!(vm.state.as_deref(), Some("Running"));
                assert_eq!((vm.cpunumber, vm.memory), (Some(1), Some(256)));
                assert_eq!(vm.nic[0].ipaddress.as_deref(), Some("10.1.1.62"));
                assert_eq!(vm.nic[0].nic_type.as_deref(), Some("Isolated"));
                assert_eq!(vm.owner.account.as_deref(), Some("admin"));
                assert_eq!(vm.zonename.as_deref(), Some("shouldwork"));
            }
            "deployVirtualMachine" | "startVirtualMachine" | "stopVirtualMachine" => {
                let vm: VirtualMachine = job_object(what, inner, "virtualmachine");
                assert_eq!(vm.id, "915653c4-298b-4d74-bdee-4ced282114f1");
                assert!(vm.state.is_some());
            }
            "scaleVirtualMachine" => {
                let vm: VirtualMachine = job_object(what, inner, "virtualmachine");
                assert_eq!(
                    vm.isoid.as_deref(),
                    Some("169fe81d-47e0-4119-b38c-f6ce42dcf451")
                );
            }
            "listNetworks" => {
                let nets: Vec<Network> = items(what, inner, "network");
                let n = &nets[0];
                assert_eq!(n.id, "eb9c270d-dd66-443b-9524-ada1eff4442a");
                assert_eq!(n.name, "testIsolatedNet");
                assert_eq!(n.cidr.as_deref(), Some("10.1.1.0/24"));
                assert_eq!(n.network_type.as_deref(), Some("Isolated"));
                assert_eq!(n.service[0].name, "Lb");
                assert!(!n.service[0].capability.is_empty());
            }
            "createNetwork" => {
                let n: Network = decode(what, &inner["network"]);
                assert_eq!(n.gateway.as_deref(), Some("10.1.1.1"));
            }
            "listVPCs" => {
                let vpcs: Vec<Vpc> = items(what, inner, "vpc");
                assert_eq!(vpcs[0].cidr.as_deref(), Some("10.0.0.0/8"));
                assert_eq!(vpcs[0].tags[0].key, "my-tag");
                assert_eq!(vpcs[0].tags[0].value, "true");
                assert_eq!(vpcs[0].service[0].provider[0].name, "VpcVirtualRouter");
            }
            "listNetworkOfferings" => {
                let offerings: Vec<NetworkOffering> = items(what, inner, "networkoffering");
                assert_eq!(offerings[0].name, "testNetOffering");
                assert_eq!(offerings[0].guestiptype.as_deref(), Some("L2"));
                assert_eq!(offerings[0].networkrate, Some(200));
            }
            "listDiskOfferings" => {
                let offerings: Vec<DiskOffering> = items(what, inner, "diskoffering");
                assert_eq!(offerings[0].id, "7662b6ae-f00b-4268-973f-f3f87eaf82c5");
                assert_eq!(offerings[0].disksize, Some(0));
            }
            "listHosts" => {
                let hosts: Vec<Host> = items(what, inner, "host");
                assert_eq!(hosts[0].host_type.as_deref(), Some("Routing"));
                assert_eq!(hosts[0].cpunumber, Some(4));
                assert_eq!(hosts[0].memorytotal, Some(8_589_934_592));
            }
            "associateIpAddress" => {
                let ip: PublicIpAddress = job_object(what, inner, "ipaddress");
                assert_eq!(ip.ipaddress, "10.70.3.100");
                assert_eq!(ip.issourcenat, Some(true));
                assert_eq!(ip.owner.domain.as_deref(), Some("ROOT"));
            }
            "createFirewallRule" => {
                let rule: FirewallRule = job_object(what, inner, "firewallrule");
                assert_eq!(rule.protocol.as_deref(), Some("tcp"));
                assert_eq!(rule.startport, None);
                assert_eq!(rule.cidrlist.as_deref(), Some("0.0.0.0/0"));
            }
            "createLoadBalancerRule" => {
                let rule: LoadBalancerRule = job_object(what, inner, "loadbalancer");
                assert_eq!(rule.id, "d9186a3e-b39a-473f-8d5e-70cf1a7aed44");
                assert_eq!(rule.publicport.as_deref(), Some("9090"));
                assert_eq!(rule.algorithm.as_deref(), Some("roundrobin"));
            }
            "createSSHKeyPair" => {
                let pair: SshKeyPair = decode(what, &inner["keypair"]);
                assert_eq!(pair.name, "testSSHKey");
                assert!(pair.privatekey.is_some());
            }
            "listSSHKeyPairs" => {
                let pairs: Vec<SshKeyPair> = items(what, inner, "sshkeypair");
                assert_eq!(pairs[0].id, None, "listed without an id in this release");
                assert_eq!(
                    pairs[0].fingerprint.as_deref(),
                    Some("3b:f7:0b:34:40:0d:a5:3c:2a:75:f8:82:1d:88:99:36")
                );
            }
            "registerIso" => {
                let isos: Vec<Iso> = items(what, inner, "iso");
                assert_eq!(isos[0].name, "testIso");
                assert_eq!(isos[0].isready, Some(true));
                assert_eq!(isos[0].size, Some(5_242_880));
                assert_eq!(isos[0].cross_zones, Some(false));
            }
            "listAsyncJobs" => {
                let jobs: Vec<AsyncJob> = items(what, inner, "asyncjobs");
                assert_eq!(jobs[0].jobid, "6679e6b9-4bf2-4d83-b9f0-235fc1609227");
                assert_eq!(jobs[0].jobstatus, 0);
            }
            "assignToLoadBalancerRule"
            | "deleteFirewallRule"
            | "deleteNetwork"
            | "disassociateIpAddress"
            | "createProject" => {
                let job: AsyncJob = decode(what, inner);
                assert_eq!(job.jobstatus, 1, "{what}");
                assert!(job.jobresult.is_some(), "{what}");
            }
            "deleteSSHKeyPair" => assert_eq!(inner["success"], true),
            other if NOT_IAAS.contains(&other) => {
                assert!(inner.is_object(), "{other}: an envelope");
            }
            other => panic!("sample {other}.json is new: say which noun it holds"),
        }
    }

    #[test]
    fn every_recorded_sample_decodes_and_round_trips() {
        let mut seen = BTreeSet::new();
        let entries = std::fs::read_dir(samples_dir()).expect("samples directory");
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let command = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("file name")
                .to_string();
            let text = std::fs::read_to_string(&path).expect("sample");
            let body: Value = serde_json::from_str(&text).expect("JSON");
            let inner = body
                .as_object()
                .and_then(|o| o.values().next())
                .expect("an envelope");
            check(&command, inner);
            seen.insert(command);
        }
        assert!(seen.len() >= 37, "only {} samples found", seen.len());
    }
}
