//! Domains, accounts, users, API keys and projects: the subset of CloudStack's identity commands
//! a tenant setup needs.

use cks_api::ApiError;
use cks_api::date::format_date;
use cks_api::wire::Obj;
use cks_core::tenancy::{AccountAccess, AccountType, path_is_within};
use cks_store::{Account, Domain, Project, StoreError, User, new_id, now};
use serde_json::{Value, json};

use super::{Cx, Reply, keyword_matches, name_matches};
use crate::errors::internal;
use crate::render::render_project;
use crate::secrets::{hash_password_async, random_token};

// === Rendering ===

fn render_domain(d: &Domain, parent: Option<&Domain>, has_child: bool) -> Value {
    Obj::new()
        .set("id", d.id.clone())
        .set("name", d.name.clone())
        .set("level", d.level)
        .opt("parentdomainid", d.parent_id.clone())
        .opt("parentdomainname", parent.map(|p| p.name.clone()))
        .set("haschild", has_child)
        .set("path", d.path.clone())
        .opt("networkdomain", d.network_domain.clone())
        .set("state", "Active")
        .set("created", format_date(d.created))
        .build()
}

/// The account type, its built-in role, and the domain: shown alike on accounts and users.
fn role_and_domain(obj: Obj, a: &Account, d: &Domain) -> Obj {
    obj.set("accounttype", a.account_type.code())
        .set("roleid", a.account_type.role_id())
        .set("rolename", a.account_type.role_name())
        .set("roletype", a.account_type.role_type())
        .set("domainid", d.id.clone())
        .set("domain", d.name.clone())
}

fn render_user(u: &User, a: &Account, d: &Domain) -> Value {
    let obj = Obj::new()
        .set("id", u.id.clone())
        .set("username", u.username.clone())
        .opt("firstname", u.firstname.clone())
        .opt("lastname", u.lastname.clone())
        .opt("email", u.email.clone())
        .set("account", a.name.clone())
        .set("accountid", a.id.clone());
    role_and_domain(obj, a, d)
        .set("state", u.state.clone())
        .set("created", format_date(u.created))
        .opt("timezone", u.timezone.clone())
        .opt("apikey", u.api_key.clone())
        .set("usersource", "native")
        .set("isdefault", u.username == "admin" && a.name == "admin")
        .set("iscallerchilddomain", false)
        .set("is2faenabled", false)
        .set("is2famandated", false)
        .build()
}

fn render_account(a: &Account, d: &Domain, users: &[User]) -> Value {
    let obj = Obj::new()
        .set("id", a.id.clone())
        .set("name", a.name.clone());
    role_and_domain(obj, a, d)
        .set("domainpath", d.path.clone())
        .set("state", a.state.clone())
        .opt("networkdomain", a.network_domain.clone())
        .set("created", format_date(a.created))
        .set("isdefault", a.name == "admin" || a.name == "system")
        .set("iscleanuprequired", false)
        .set(
            "user",
            users
                .iter()
                .map(|u| render_user(u, a, d))
                .collect::<Vec<_>>(),
        )
        .build()
}

// === Lookups with access checks ===

/// A domain by id, if the caller administers it; 431 otherwise.
async fn administered_domain(cx: &Cx<'_>, param: &str) -> Result<Domain, ApiError> {
    let id = cx.p.req(param);
    let domain = cx
        .state
        .store
        .domain(id)
        .await
        .map_err(internal)?
        .filter(|d| cx.caller.administers_domain(&d.path))
        // A domain outside the caller's reach answers as an unknown one: no probing for ids.
        .ok_or_else(|| cx.p.not_found(param))?;
    Ok(domain)
}

/// The domain named by `domainid`, or the caller's own.
async fn target_domain(cx: &Cx<'_>) -> Result<Domain, ApiError> {
    match cx.p.str("domainid") {
        Some(_) => administered_domain(cx, "domainid").await,
        None => cx
            .state
            .store
            .domain(&cx.caller.domain_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::internal("caller's domain is missing")),
    }
}

/// The rule of `Caller::account_access` for `account` in `domain`: `hidden` (a 431 for
/// the parameter that named it) when the caller may not see it, 531 when it may see it but the
/// account's role outranks its own.
fn check_account_access(
    cx: &Cx<'_>,
    account: &Account,
    domain: &Domain,
    hidden: impl FnOnce() -> ApiError,
) -> Result<(), ApiError> {
    match cx
        .caller
        .account_access(&account.id, account.account_type, &domain.path)
    {
        AccountAccess::Allowed => Ok(()),
        AccountAccess::Hidden => Err(hidden()),
        AccountAccess::Denied => Err(ApiError::denied(format!(
            "Account {} cannot perform this operation on account {}: insufficient permissions",
            cx.caller.account_name, account.name
        ))),
    }
}

fn no_such_account(name: &str, domain: &Domain) -> ApiError {
    ApiError::invalid(format!(
        "Unable to find account {name} in domain id={}",
        domain.id
    ))
}

// === Domains ===

pub async fn create_domain(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let store = &cx.state.store;
    let parent = match cx.p.str("parentdomainid") {
        Some(_) => administered_domain(cx, "parentdomainid").await?,
        None => {
            let root = store
                .root_domain()
                .await
                .map_err(internal)?
                .ok_or_else(|| ApiError::internal("ROOT domain is missing"))?;
            if !cx.caller.administers_domain(&root.path) {
                return Err(ApiError::denied(
                    "Domain admins must give parentdomainid within their own domain",
                ));
            }
            root
        }
    };
    let name = cx.p.req("name").trim();
    if name.contains('/') {
        return Err(ApiError::invalid("Domain name must not contain '/'"));
    }
    let domain = Domain {
        id: cx
            .p
            .str("domainid")
            .map(str::to_string)
            .unwrap_or_else(new_id),
        name: name.to_string(),
        parent_id: Some(parent.id.clone()),
        path: format!("{}/{name}", parent.path),
        level: parent.level + 1,
        network_domain: cx.p.str("networkdomain").map(str::to_string),
        created: now(),
    };
    match store.insert_domain(&domain).await {
        Ok(()) => {}
        Err(StoreError::Duplicate(_)) => {
            return Err(ApiError::invalid(format!(
                "Domain with name [{name}] already exists for the parent with ID [{}].",
                parent.id
            )));
        }
        Err(e) => return Err(internal(e)),
    }
    Ok(cx.object(render_domain(&domain, Some(&parent), false)))
}

pub async fn list_domains(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let all = cx.state.store.domains().await.map_err(internal)?;
    let mine = &cx.caller.domain_path;
    let items: Vec<Value> = all
        .iter()
        .filter(|d| {
            if cx.p.flag("listall") || cx.p.str("id").is_some() {
                path_is_within(&d.path, mine)
            } else {
                d.path == *mine
            }
        })
        .filter(|d| cx.p.str("id").is_none_or(|id| d.id == id))
        .filter(|d| name_matches(cx.p.str("name"), &d.name))
        .filter(|d| cx.p.int("level").is_none_or(|l| d.level == l))
        .filter(|d| keyword_matches(cx.p.str("keyword"), &[&d.name]))
        .map(|d| {
            let parent = d
                .parent_id
                .as_ref()
                .and_then(|p| all.iter().find(|x| &x.id == p));
            let has_child = all.iter().any(|x| x.parent_id.as_ref() == Some(&d.id));
            render_domain(d, parent, has_child)
        })
        .collect();
    cx.list(items)
}

// === Accounts and users ===

fn requested_account_type(cx: &Cx<'_>) -> Result<AccountType, ApiError> {
    match (cx.p.int("accounttype"), cx.p.str("roleid")) {
        (Some(code), _) => AccountType::from_code(code)
            .ok_or_else(|| ApiError::invalid(format!("Invalid account type {code} given; valid values are 0 (user), 1 (root admin) and 2 (domain admin)"))),
        (None, Some(_)) => cx.p.str("roleid").and_then(AccountType::from_role_id).ok_or_else(|| cx.p.not_found("roleid")),
        (None, None) => Err(ApiError::invalid("Neither account type and role ID are not provided")),
    }
}

async fn new_user(cx: &Cx<'_>, account_id: &str, domain_id: &str) -> User {
    User {
        id: cx
            .p
            .str("userid")
            .map(str::to_string)
            .unwrap_or_else(new_id),
        account_id: account_id.to_string(),
        domain_id: domain_id.to_string(),
        username: cx.p.req("username").to_string(),
        password_hash: hash_password_async(cx.p.req("password").to_string()).await,
        email: cx.p.str("email").map(str::to_string),
        firstname: cx.p.str("firstname").map(str::to_string),
        lastname: cx.p.str("lastname").map(str::to_string),
        timezone: cx.p.str("timezone").map(str::to_string),
        state: "enabled".into(),
        api_key: None,
        secret_key_enc: None,
        created: now(),
        locked_until: 0,
    }
}

pub async fn create_account(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let account_type = requested_account_type(cx)?;
    let domain = target_domain(cx).await?;
    if !cx.caller.may_grant(account_type) {
        return Err(ApiError::denied(format!(
            "Account {} cannot create an account of type {} ({}): insufficient permissions",
            cx.caller.account_name,
            account_type.code(),
            account_type.role_name()
        )));
    }
    if account_type == AccountType::RootAdmin && domain.parent_id.is_some() {
        return Err(ApiError::invalid(
            "Root admin accounts can only be created in the ROOT domain",
        ));
    }
    let name =
        cx.p.str("account")
            .unwrap_or(cx.p.req("username"))
            .to_string();
    let account = Account {
        id: cx
            .p
            .str("accountid")
            .map(str::to_string)
            .unwrap_or_else(new_id),
        name: name.clone(),
        account_type,
        domain_id: domain.id.clone(),
        state: "enabled".into(),
        network_domain: cx.p.str("networkdomain").map(str::to_string),
        project_id: None,
        created: now(),
    };
    let user = new_user(cx, &account.id, &domain.id).await;
    match cx
        .state
        .store
        .insert_account_with_user(&account, &user)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Duplicate("account")) => {
            return Err(ApiError::invalid(format!(
                "The specified account: {name} already exists"
            )));
        }
        Err(StoreError::Duplicate(_)) => {
            return Err(ApiError::invalid(format!(
                "The user {} already exists in domain {}",
                user.username, domain.id
            )));
        }
        Err(e) => return Err(internal(e)),
    }
    Ok(cx.object(render_account(&account, &domain, &[user])))
}

pub async fn create_user(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let domain = target_domain(cx).await?;
    let name = cx.p.req("account");
    let account = cx
        .state
        .store
        .account_by_name(&domain.id, name)
        .await
        .map_err(internal)?
        .filter(|a| a.project_id.is_none())
        .ok_or_else(|| no_such_account(name, &domain))?;
    // A user added to an account holds that account's role: the same rule as its keys.
    check_account_access(cx, &account, &domain, || no_such_account(name, &domain))?;
    let user = new_user(cx, &account.id, &domain.id).await;
    match cx.state.store.insert_user(&user).await {
        Ok(()) => {}
        Err(StoreError::Duplicate(_)) => {
            return Err(ApiError::invalid(format!(
                "The user {} already exists in domain {}",
                user.username, domain.id
            )));
        }
        Err(e) => return Err(internal(e)),
    }
    Ok(cx.object(render_user(&user, &account, &domain)))
}

/// Accounts a list shows: users their own; admins their domain, its subtree with `listall` or
/// `isrecursive`, or a `domainid` they administer.
fn account_visible(cx: &Cx<'_>, account: &Account, domain: &Domain, base: &Domain) -> bool {
    if cx.caller.account_type == AccountType::User {
        return account.id == cx.caller.account_id;
    }
    if !cx.caller.administers_domain(&domain.path) {
        return false;
    }
    if cx.p.flag("listall") || cx.p.flag("isrecursive") || cx.p.str("id").is_some() {
        path_is_within(&domain.path, &base.path)
    } else {
        domain.id == base.id
    }
}

pub async fn list_accounts(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let store = &cx.state.store;
    let base = target_domain(cx).await?;
    let domains = store.domains().await.map_err(internal)?;
    let users = store.users().await.map_err(internal)?;
    let mut items = Vec::new();
    for account in store.accounts().await.map_err(internal)? {
        let Some(domain) = domains.iter().find(|d| d.id == account.domain_id) else {
            continue;
        };
        let wanted = account_visible(cx, &account, domain, &base)
            && cx.p.str("id").is_none_or(|id| account.id == id)
            && name_matches(cx.p.str("name"), &account.name)
            && cx
                .p
                .int("accounttype")
                .is_none_or(|t| account.account_type.code() == t)
            && cx
                .p
                .str("state")
                .is_none_or(|s| account.state.eq_ignore_ascii_case(s))
            && keyword_matches(cx.p.str("keyword"), &[&account.name]);
        if wanted {
            let own: Vec<User> = users
                .iter()
                .filter(|u| u.account_id == account.id)
                .cloned()
                .collect();
            items.push(render_account(&account, domain, &own));
        }
    }
    cx.list(items)
}

pub async fn list_users(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let store = &cx.state.store;
    let base = target_domain(cx).await?;
    let domains = store.domains().await.map_err(internal)?;
    let accounts = store.accounts().await.map_err(internal)?;
    let mut items = Vec::new();
    for user in store.users().await.map_err(internal)? {
        let Some(account) = accounts.iter().find(|a| a.id == user.account_id) else {
            continue;
        };
        let Some(domain) = domains.iter().find(|d| d.id == account.domain_id) else {
            continue;
        };
        let wanted = account_visible(cx, account, domain, &base)
            && cx.p.str("id").is_none_or(|id| user.id == id)
            && name_matches(cx.p.str("username"), &user.username)
            && name_matches(cx.p.str("account"), &account.name)
            && cx
                .p
                .int("accounttype")
                .is_none_or(|t| account.account_type.code() == t)
            && cx
                .p
                .str("state")
                .is_none_or(|s| user.state.eq_ignore_ascii_case(s))
            && keyword_matches(
                cx.p.str("keyword"),
                &[
                    &user.username,
                    user.firstname.as_deref().unwrap_or(""),
                    user.lastname.as_deref().unwrap_or(""),
                    user.email.as_deref().unwrap_or(""),
                ],
            );
        if wanted {
            items.push(render_user(&user, account, domain));
        }
    }
    cx.list(items)
}

/// The user named by `id`, if the caller may act on its account (`Caller::account_access`).
async fn managed_user(cx: &Cx<'_>) -> Result<User, ApiError> {
    let store = &cx.state.store;
    let hidden = || cx.p.not_found("id");
    let user = store
        .user(cx.p.req("id"))
        .await
        .map_err(internal)?
        .ok_or_else(hidden)?;
    let account = store
        .account(&user.account_id)
        .await
        .map_err(internal)?
        .ok_or_else(hidden)?;
    let domain = store
        .domain(&account.domain_id)
        .await
        .map_err(internal)?
        .ok_or_else(hidden)?;
    check_account_access(cx, &account, &domain, hidden)?;
    Ok(user)
}

pub async fn register_user_keys(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let user = managed_user(cx).await?;
    let api_key = random_token(64);
    let secret_key = random_token(64);
    let sealed = cx.state.master_key.seal(&secret_key);
    cx.state
        .store
        .set_user_keys(&user.id, &api_key, &sealed)
        .await
        .map_err(internal)?;
    cx.state.api_keys.clear();
    Ok(cx.object(json!({ "apikey": api_key, "secretkey": secret_key })))
}

pub async fn get_user_keys(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let user = managed_user(cx).await?;
    let secret = user
        .secret_key_enc
        .as_deref()
        .and_then(|s| cx.state.master_key.open(s));
    Ok(cx.object(
        Obj::new()
            .opt("apikey", user.api_key)
            .opt("secretkey", secret)
            .build(),
    ))
}

// === Projects ===

pub async fn create_project(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let store = &cx.state.store;
    // The owner: the caller, or (admins) the account named by accountid / account+domainid.
    let owner = match (cx.p.str("accountid"), cx.p.str("account")) {
        (Some(id), _) => store
            .account(id)
            .await
            .map_err(internal)?
            .ok_or_else(|| cx.p.not_found("accountid"))?,
        (None, Some(name)) => {
            let domain = target_domain(cx).await?;
            store
                .account_by_name(&domain.id, name)
                .await
                .map_err(internal)?
                .ok_or_else(|| no_such_account(name, &domain))?
        }
        (None, None) => store
            .account(&cx.caller.account_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::internal("caller's account is missing"))?,
    };
    let domain = store
        .domain(&owner.domain_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::internal("domain missing"))?;
    check_account_access(cx, &owner, &domain, || match cx.p.str("accountid") {
        Some(_) => cx.p.not_found("accountid"),
        None => no_such_account(&owner.name, &domain),
    })?;
    let name = cx.p.req("name").to_string();
    let project = Project {
        id: new_id(),
        name: name.clone(),
        display_text: cx.p.str("displaytext").unwrap_or(&name).to_string(),
        domain_id: owner.domain_id.clone(),
        project_account_id: new_id(),
        owner_account_id: owner.id.clone(),
        state: "Active".into(),
        created: now(),
    };
    let project_account = Account {
        id: project.project_account_id.clone(),
        name: format!("PrjAcct-{name}-{}", &project.id[..8]),
        account_type: AccountType::User,
        domain_id: owner.domain_id.clone(),
        state: "enabled".into(),
        network_domain: None,
        project_id: Some(project.id.clone()),
        created: project.created,
    };
    match store.insert_project(&project, &project_account).await {
        Ok(()) => {}
        Err(StoreError::Duplicate(_)) => {
            return Err(ApiError::invalid(format!(
                "Project with name {name} already exists in domain id={}",
                owner.domain_id
            )));
        }
        Err(e) => return Err(internal(e)),
    }
    super::jobs::submit(cx, "None", Some(&project.id)).await
}

pub async fn list_projects(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let visible = super::visible_projects(cx).await?;
    let mut items = Vec::new();
    for p in cx.state.store.projects().await.map_err(internal)? {
        let wanted = visible.contains(&p.id)
            && cx.p.str("id").is_none_or(|id| p.id == id)
            && name_matches(cx.p.str("name"), &p.name)
            && cx.p.str("displaytext").is_none_or(|t| p.display_text == t)
            && cx
                .p
                .str("state")
                .is_none_or(|s| p.state.eq_ignore_ascii_case(s))
            && keyword_matches(cx.p.str("keyword"), &[&p.name, &p.display_text]);
        if wanted {
            items.push(render_project(&cx.state.store, &p).await?);
        }
    }
    cx.list(items)
}
