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

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::LazyLock;

use axum::http::HeaderMap;
use cks_api::commands::Bound;
use cks_api::{ApiError, envelope};
use cks_core::settings::DEFAULT_PAGE_SIZE;
use cks_core::tenancy::{AccountAccess, Caller, Owner, path_is_within};
use serde::Serialize;
use serde_json::Value;

use crate::errors::internal;
use crate::services::tenancy::owner_of;
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
    pub fn object(&self, value: impl Serialize) -> Reply {
        // The wire objects have only string keys, so turning them into a `Value` cannot fail.
        let value = serde_json::to_value(value).unwrap_or_default();
        Reply::json(envelope::object(
            self.command(),
            self.p.command.response_object,
            value,
        ))
    }

    /// A list answer for this command, paged as the request asks: `Value`s or `wire::objects`.
    pub fn list<T: Serialize>(&self, items: Vec<T>) -> Result<Reply, ApiError> {
        let refs: Vec<&T> = items.iter().collect();
        self.list_refs(refs)
    }

    /// A list answer from rendered objects kept elsewhere (the version catalog).
    pub fn list_refs<T: Serialize>(&self, items: Vec<&T>) -> Result<Reply, ApiError> {
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

/// The future a handler returns.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<Reply, ApiError>> + Send + 'a>>;

/// A command's handler, as the dispatch table holds it.
pub type Handler = for<'a, 'b> fn(&'a Cx<'b>) -> HandlerFuture<'a>;

/// Commands declared in `cks_api::commands` that `api` answers itself, before authentication.
pub const ANSWERED_BEFORE_AUTH: &[&str] = &["login"];

/// `HANDLERS`: each command name with its handler (`async` ones are awaited, `sync` ones
/// answer at once), every one a command of `cks_api::commands` (a test checks both ways).
macro_rules! handler_table {
    ($($name:literal => $kind:ident $module:ident::$function:ident,)*) => {
        /// Every command's handler, by the name `cks_api::commands` declares it under.
        pub static HANDLERS: &[(&str, Handler)] = &[
            $(($name, {
                fn handle<'a, 'b>(cx: &'a Cx<'b>) -> HandlerFuture<'a> {
                    handler_table!(@call $kind $module::$function(cx))
                }
                handle
            }),)*
        ];
    };
    (@call async $module:ident::$function:ident($cx:ident)) => {
        Box::pin($module::$function($cx))
    };
    (@call sync $module:ident::$function:ident($cx:ident)) => {
        Box::pin(std::future::ready($module::$function($cx)))
    };
}

handler_table! {
    "logout" => async session::logout,
    "listApis" => sync discovery::list_apis,
    "listCapabilities" => sync discovery::list_capabilities,
    "queryAsyncJobResult" => async jobs::query_async_job_result,
    "listAsyncJobs" => async jobs::list_async_jobs,
    "createDomain" => async tenancy::create_domain,
    "listDomains" => async tenancy::list_domains,
    "createAccount" => async tenancy::create_account,
    "listAccounts" => async tenancy::list_accounts,
    "createUser" => async tenancy::create_user,
    "listUsers" => async tenancy::list_users,
    "registerUserKeys" => async tenancy::register_user_keys,
    "getUserKeys" => async tenancy::get_user_keys,
    "createProject" => async tenancy::create_project,
    "listProjects" => async tenancy::list_projects,
    "listConfigurations" => sync settings::list_configurations,
    "updateConfiguration" => async settings::update_configuration,
    "listZones" => sync inventory::list_zones,
    "listHosts" => sync inventory::list_hosts,
    "listServiceOfferings" => sync inventory::list_service_offerings,
    "listNetworkOfferings" => sync inventory::list_network_offerings,
    "listTemplates" => async inventory::list_templates,
    "listIsos" => async inventory::list_isos,
    "listNetworks" => async inventory::list_networks,
    "listPublicIpAddresses" => async inventory::list_public_ip_addresses,
    "listVirtualMachines" => async inventory::list_virtual_machines,
    "getVirtualMachineUserData" => async inventory::get_vm_user_data,
    "listSSHKeyPairs" => async inventory::list_ssh_key_pairs,
    "createSSHKeyPair" => async inventory::create_ssh_key_pair,
    "registerSSHKeyPair" => async inventory::register_ssh_key_pair,
    "deleteSSHKeyPair" => async inventory::delete_ssh_key_pair,
    "addKubernetesSupportedVersion" => async versions::add,
    "listKubernetesSupportedVersions" => async versions::list,
    "updateKubernetesSupportedVersion" => async versions::update,
    "deleteKubernetesSupportedVersion" => async versions::delete,
    "createKubernetesCluster" => async clusters::create,
    "listKubernetesClusters" => async clusters::list,
    "startKubernetesCluster" => async clusters::start,
    "stopKubernetesCluster" => async clusters::stop,
    "deleteKubernetesCluster" => async clusters::delete,
    "scaleKubernetesCluster" => async clusters::scale,
    "upgradeKubernetesCluster" => async clusters::upgrade,
    "getKubernetesClusterConfig" => async clusters::get_config,
    "listKubernetesClusterOrphans" => async clusters::list_orphans,
    "listAsyncJobSteps" => async operations::list_steps,
    "retryKubernetesClusterOperation" => async operations::retry,
    "abortKubernetesClusterOperation" => async operations::abort,
    "registerCniConfiguration" => async cni::register,
    "listCniConfiguration" => async cni::list,
    "deleteCniConfiguration" => async cni::delete,
    "updateResourceLimit" => async limits::update,
    "listResourceLimits" => async limits::list,
    "listFirewallRules" => async inventory::list_firewall_rules,
    "listPortForwardingRules" => async inventory::list_port_forwarding_rules,
    "listLoadBalancerRules" => async inventory::list_load_balancer_rules,
    "injectSimulatorFault" => async inventory::inject_fault,
}

/// `HANDLERS` by name, built once.
static HANDLERS_BY_NAME: LazyLock<HashMap<&'static str, Handler>> =
    LazyLock::new(|| HANDLERS.iter().copied().collect());

/// Runs the command's handler; the bound parameters name the command.
pub async fn dispatch(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    match HANDLERS_BY_NAME.get(cx.command()) {
        Some(handler) => handler(cx).await,
        None => Err(ApiError::UnknownCommand(cx.command().to_string())),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{ANSWERED_BEFORE_AUTH, HANDLERS};

    #[test]
    fn every_declared_command_has_a_handler_and_every_handler_a_declaration() {
        let declared: BTreeSet<&str> = cks_api::commands::COMMANDS
            .iter()
            .map(|c| c.name)
            .filter(|name| !ANSWERED_BEFORE_AUTH.contains(name))
            .collect();
        let handled: BTreeSet<&str> = HANDLERS.iter().map(|(name, _)| *name).collect();
        assert_eq!(handled.len(), HANDLERS.len(), "a command has two handlers");
        let unhandled: Vec<_> = declared.difference(&handled).collect();
        let undeclared: Vec<_> = handled.difference(&declared).collect();
        assert!(
            unhandled.is_empty(),
            "declared without a handler: {unhandled:?}"
        );
        assert!(
            undeclared.is_empty(),
            "handled without a declaration: {undeclared:?}"
        );
        for name in ANSWERED_BEFORE_AUTH {
            assert!(
                cks_api::commands::find(name).is_some(),
                "{name} is answered before auth but not declared"
            );
        }
    }
}
