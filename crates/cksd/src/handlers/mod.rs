//! Command handlers. Each is a plain async function from the bound parameters and the caller to
//! a JSON answer; the checks that are rules of the domain live in `cks-core`.

pub mod clusters;
pub mod cni;
pub mod discovery;
pub mod inventory;
pub mod jobs;
pub mod limits;
pub mod operations;
pub mod session;
pub mod settings;
pub mod tenancy;
pub mod versions;

use axum::http::HeaderMap;
use cks_api::commands::Bound;
use cks_api::{ApiError, envelope};
use cks_core::settings::DEFAULT_PAGE_SIZE;
use cks_core::tenancy::{AccountAccess, Caller, Owner, path_is_within};
use cks_store::{Account, Domain, Project};
use serde_json::Value;

use crate::errors::internal;
use crate::state::AppState;

/// Everything a handler gets.
pub struct Cx<'a> {
    pub state: &'a AppState,
    pub caller: &'a Caller,
    pub p: &'a Bound<'a>,
    pub headers: &'a HeaderMap,
}

impl Cx<'_> {
    pub fn command(&self) -> &'static str {
        self.p.command.name
    }

    /// The simulated cloud, for a simulator-only command (`Availability::SimulatorOnly`); on
    /// another cloud the 432 such commands get (`api` refuses them before dispatch already).
    pub fn simulator(&self) -> Result<&cks_sim::Simulator, ApiError> {
        self.state
            .simulator()
            .ok_or_else(|| ApiError::NotOnThisCloud(self.command().to_string()))
    }

    /// `{"<cmd>response": {"<object>": value}}` for this command.
    pub fn object(&self, value: Value) -> Reply {
        Reply::json(envelope::object(
            self.command(),
            self.p.command.response_object,
            value,
        ))
    }

    /// A list answer for this command, paged as the request asks.
    pub fn list(&self, items: Vec<Value>) -> Result<Reply, ApiError> {
        let refs: Vec<&Value> = items.iter().collect();
        self.list_refs(refs)
    }

    /// A list answer from rendered objects kept elsewhere (the version catalog).
    pub fn list_refs(&self, items: Vec<&Value>) -> Result<Reply, ApiError> {
        let count = items.len();
        let page = paging(self)?.apply(items);
        let body = envelope::list(self.command(), self.p.command.response_object, page, count);
        Ok(Reply {
            body,
            cookies: Vec::new(),
        })
    }
}

/// A successful answer, serialized, and the cookies to set with it.
pub struct Reply {
    pub body: Vec<u8>,
    pub cookies: Vec<String>,
}

impl Reply {
    pub fn json(body: Value) -> Reply {
        Reply {
            body: serde_json::to_vec(&body).unwrap_or_default(),
            cookies: Vec::new(),
        }
    }

    pub fn with_cookies(mut self, cookies: Vec<String>) -> Reply {
        self.cookies = cookies;
        self
    }
}

pub async fn dispatch(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    match cx.command() {
        "logout" => session::logout(cx).await,
        "listApis" => discovery::list_apis(cx),
        "listCapabilities" => discovery::list_capabilities(cx),
        "queryAsyncJobResult" => jobs::query_async_job_result(cx).await,
        "listAsyncJobs" => jobs::list_async_jobs(cx).await,
        "createDomain" => tenancy::create_domain(cx).await,
        "listDomains" => tenancy::list_domains(cx).await,
        "createAccount" => tenancy::create_account(cx).await,
        "listAccounts" => tenancy::list_accounts(cx).await,
        "createUser" => tenancy::create_user(cx).await,
        "listUsers" => tenancy::list_users(cx).await,
        "registerUserKeys" => tenancy::register_user_keys(cx).await,
        "getUserKeys" => tenancy::get_user_keys(cx).await,
        "createProject" => tenancy::create_project(cx).await,
        "listProjects" => tenancy::list_projects(cx).await,
        "listConfigurations" => settings::list_configurations(cx),
        "updateConfiguration" => settings::update_configuration(cx).await,
        "listZones" => inventory::list_zones(cx),
        "listHosts" => inventory::list_hosts(cx),
        "listServiceOfferings" => inventory::list_service_offerings(cx),
        "listNetworkOfferings" => inventory::list_network_offerings(cx),
        "listTemplates" => inventory::list_templates(cx).await,
        "listIsos" => inventory::list_isos(cx).await,
        "listNetworks" => inventory::list_networks(cx).await,
        "listPublicIpAddresses" => inventory::list_public_ip_addresses(cx).await,
        "listVirtualMachines" => inventory::list_virtual_machines(cx).await,
        "getVirtualMachineUserData" => inventory::get_vm_user_data(cx).await,
        "listSSHKeyPairs" => inventory::list_ssh_key_pairs(cx).await,
        "createSSHKeyPair" => inventory::create_ssh_key_pair(cx).await,
        "registerSSHKeyPair" => inventory::register_ssh_key_pair(cx).await,
        "deleteSSHKeyPair" => inventory::delete_ssh_key_pair(cx).await,
        "addKubernetesSupportedVersion" => versions::add(cx).await,
        "listKubernetesSupportedVersions" => versions::list(cx).await,
        "updateKubernetesSupportedVersion" => versions::update(cx).await,
        "deleteKubernetesSupportedVersion" => versions::delete(cx).await,
        "createKubernetesCluster" => clusters::create(cx).await,
        "listKubernetesClusters" => clusters::list(cx).await,
        "startKubernetesCluster" => clusters::start(cx).await,
        "stopKubernetesCluster" => clusters::stop(cx).await,
        "deleteKubernetesCluster" => clusters::delete(cx).await,
        "scaleKubernetesCluster" => clusters::scale(cx).await,
        "upgradeKubernetesCluster" => clusters::upgrade(cx).await,
        "getKubernetesClusterConfig" => clusters::get_config(cx).await,
        "listKubernetesClusterOrphans" => clusters::list_orphans(cx).await,
        "listAsyncJobSteps" => operations::list_steps(cx).await,
        "retryKubernetesClusterOperation" => operations::retry(cx).await,
        "abortKubernetesClusterOperation" => operations::abort(cx).await,
        "registerCniConfiguration" => cni::register(cx).await,
        "listCniConfiguration" => cni::list(cx).await,
        "deleteCniConfiguration" => cni::delete(cx).await,
        "updateResourceLimit" => limits::update(cx).await,
        "listResourceLimits" => limits::list(cx).await,
        "listFirewallRules" => inventory::list_firewall_rules(cx).await,
        "listPortForwardingRules" => inventory::list_port_forwarding_rules(cx).await,
        "listLoadBalancerRules" => inventory::list_load_balancer_rules(cx).await,
        "injectSimulatorFault" => inventory::inject_fault(cx).await,
        other => Err(ApiError::UnknownCommand(other.to_string())),
    }
}

/// A validated `page`/`pagesize` pair.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub offset: usize,
    pub limit: Option<usize>,
}

impl Paging {
    pub fn apply<T>(self, items: Vec<T>) -> Vec<T> {
        let rest = items.into_iter().skip(self.offset);
        match self.limit {
            Some(n) => rest.take(n).collect(),
            None => rest.collect(),
        }
    }
}

/// CloudStack's paging rules: both or neither, `pagesize=-1` for everything (then no `page`),
/// at most `default.page.size` per page.
pub fn paging(cx: &Cx<'_>) -> Result<Paging, ApiError> {
    let max = cx.state.setting_i64(DEFAULT_PAGE_SIZE).max(1);
    match (cx.p.int("page"), cx.p.int("pagesize")) {
        (None, None) => Ok(Paging {
            offset: 0,
            limit: Some(max as usize),
        }),
        (Some(_), None) => Err(ApiError::invalid(
            "\"pagesize\" parameter is required when \"page\" is specified",
        )),
        (None, Some(-1)) => Ok(Paging {
            offset: 0,
            limit: None,
        }),
        (None, Some(_)) => Err(ApiError::invalid(
            "\"page\" parameter is required when \"pagesize\" is specified",
        )),
        (Some(_), Some(-1)) => Err(ApiError::invalid(
            "\"page\" parameter can't be specified when \"pagesize\" is -1",
        )),
        (Some(page), Some(size)) => {
            if size > max {
                return Err(ApiError::invalid(format!(
                    "Page size can't exceed max allowed page size value: {max}"
                )));
            }
            if page < 1 || size < 1 {
                return Err(ApiError::invalid(
                    "\"page\" and \"pagesize\" must be positive numbers",
                ));
            }
            Ok(Paging {
                offset: (page - 1).saturating_mul(size) as usize,
                limit: Some(size as usize),
            })
        }
    }
}

/// Which owners an account-scoped list shows, from `account`, `domainid`, `isrecursive`,
/// `listall` and `projectid`.
#[derive(Debug, Clone)]
pub enum Scope {
    /// One account's own (non-project) resources.
    Account(String),
    /// Non-project resources of a domain, or of its subtree.
    Domain { path: String, recursive: bool },
    /// Resources of these projects.
    Projects(Vec<String>),
}

impl Scope {
    pub fn matches(&self, owner: &Owner) -> bool {
        match self {
            Scope::Account(id) => owner.project_id.is_none() && owner.account_id == *id,
            Scope::Domain { path, recursive } => {
                owner.project_id.is_none()
                    && if *recursive {
                        path_is_within(&owner.domain_path, path)
                    } else {
                        owner.domain_path == *path
                    }
            }
            Scope::Projects(ids) => owner.project_id.as_ref().is_some_and(|p| ids.contains(p)),
        }
    }
}

pub async fn scope(cx: &Cx<'_>) -> Result<Scope, ApiError> {
    let caller = cx.caller;
    let store = &cx.state.store;
    if let Some(project) = cx.p.str("projectid") {
        let visible = visible_projects(cx).await?;
        if project == "-1" {
            return Ok(Scope::Projects(visible));
        }
        if !visible.iter().any(|p| p == project) {
            return Err(cx.p.not_found("projectid"));
        }
        return Ok(Scope::Projects(vec![project.to_string()]));
    }
    let domain = match cx.p.str("domainid") {
        Some(id) => {
            let d = store
                .domain(id)
                .await
                .map_err(internal)?
                .filter(|d| caller.administers_domain(&d.path) || d.id == caller.domain_id)
                // Out of reach answers as unknown, so nobody probes for other tenants' ids.
                .ok_or_else(|| cx.p.not_found("domainid"))?;
            Some(d)
        }
        None => None,
    };
    if let Some(name) = cx.p.str("account") {
        let Some(domain) = &domain else {
            return Err(ApiError::invalid(
                "Account must be specified with domainId parameter",
            ));
        };
        let account = store
            .account_by_name(&domain.id, name)
            .await
            .map_err(internal)?
            .filter(|a| {
                caller.account_access(&a.id, a.account_type, &domain.path) != AccountAccess::Hidden
            })
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "Unable to find account {name} in domain {}",
                    domain.id
                ))
            })?;
        return Ok(Scope::Account(account.id));
    }
    if caller.account_type == cks_core::tenancy::AccountType::User {
        return Ok(Scope::Account(caller.account_id.clone()));
    }
    match domain {
        Some(d) => Ok(Scope::Domain {
            path: d.path,
            recursive: cx.p.flag("isrecursive") || cx.p.flag("listall"),
        }),
        None if cx.p.flag("listall") => Ok(Scope::Domain {
            path: caller.domain_path.clone(),
            recursive: true,
        }),
        None => Ok(Scope::Account(caller.account_id.clone())),
    }
}

/// The owner block of what an account (or a project, through its hidden account) holds.
pub fn owner_of(account: &Account, domain: &Domain, project: Option<&Project>) -> Owner {
    Owner {
        account_id: account.id.clone(),
        account_name: account.name.clone(),
        domain_id: domain.id.clone(),
        domain_name: domain.name.clone(),
        domain_path: domain.path.clone(),
        project_id: project.map(|p| p.id.clone()),
        project_name: project.map(|p| p.name.clone()),
    }
}

/// The owner block of an account's own resources, read from the store; `param`'s 431 when the
/// account or its domain is gone.
pub async fn account_owner(cx: &Cx<'_>, account_id: &str) -> Result<Owner, ApiError> {
    let store = &cx.state.store;
    let account = store
        .account(account_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| cx.p.not_found("account"))?;
    let domain = store
        .domain(&account.domain_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| cx.p.not_found("domainid"))?;
    Ok(owner_of(&account, &domain, None))
}

/// Projects the caller may see: members see theirs, admins every project in their domains.
pub async fn visible_projects(cx: &Cx<'_>) -> Result<Vec<String>, ApiError> {
    let caller = cx.caller;
    let store = &cx.state.store;
    if caller.account_type == cks_core::tenancy::AccountType::User {
        return store
            .project_ids_of(&caller.account_id)
            .await
            .map_err(internal);
    }
    let domains = store.domains().await.map_err(internal)?;
    let projects = store.projects().await.map_err(internal)?;
    Ok(projects
        .into_iter()
        .filter(|p| {
            domains
                .iter()
                .any(|d| d.id == p.domain_id && caller.administers_domain(&d.path))
        })
        .map(|p| p.id)
        .collect())
}

/// Projects the caller belongs to (for `Caller::can_access`).
pub async fn member_projects(cx: &Cx<'_>) -> Result<Vec<String>, ApiError> {
    cx.state
        .store
        .project_ids_of(&cx.caller.account_id)
        .await
        .map_err(internal)
}

/// A `name=` (or `username=`, `account=`) list filter: equal ignoring case, as CloudStack's
/// database collation compares names.
pub fn name_matches(filter: Option<&str>, name: &str) -> bool {
    filter.is_none_or(|f| f == name || f.to_lowercase() == name.to_lowercase())
}

/// Case-insensitive substring match for `keyword`.
pub fn keyword_matches(keyword: Option<&str>, haystacks: &[&str]) -> bool {
    match keyword {
        None => true,
        Some(k) => {
            let k = k.to_lowercase();
            haystacks.iter().any(|h| h.to_lowercase().contains(&k))
        }
    }
}
