//! Domains, accounts, users and who may see what.

use serde::{Deserialize, Serialize};

/// CloudStack's account types. The number is what the API shows as `accounttype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccountType {
    /// A regular account (`accounttype` 0).
    User,
    /// The cloud's administrators (`accounttype` 1): sees and may do everything.
    RootAdmin,
    /// Administers its domain and the domains below it (`accounttype` 2).
    DomainAdmin,
}

impl AccountType {
    /// CloudStack's `accounttype` number: 0 user, 1 root admin, 2 domain admin.
    pub fn code(self) -> i64 {
        match self {
            AccountType::User => 0,
            AccountType::RootAdmin => 1,
            AccountType::DomainAdmin => 2,
        }
    }

    /// The type of an `accounttype` number; `None` for other numbers.
    pub fn from_code(code: i64) -> Option<AccountType> {
        match code {
            0 => Some(AccountType::User),
            1 => Some(AccountType::RootAdmin),
            2 => Some(AccountType::DomainAdmin),
            _ => None,
        }
    }

    /// CloudStack's `roletype` for the default role of this account type.
    pub fn role_type(self) -> &'static str {
        match self {
            AccountType::User => "User",
            AccountType::RootAdmin => "Admin",
            AccountType::DomainAdmin => "DomainAdmin",
        }
    }

    /// Id of the built-in role of this account type (fixed, so `roleid` values are stable).
    pub fn role_id(self) -> &'static str {
        match self {
            AccountType::RootAdmin => "a0d2b4c6-0000-4000-8000-000000000001",
            AccountType::DomainAdmin => "a0d2b4c6-0000-4000-8000-000000000003",
            AccountType::User => "a0d2b4c6-0000-4000-8000-000000000004",
        }
    }

    /// The account type whose built-in role has this id.
    pub fn from_role_id(id: &str) -> Option<AccountType> {
        [
            AccountType::RootAdmin,
            AccountType::DomainAdmin,
            AccountType::User,
        ]
        .into_iter()
        .find(|t| t.role_id() == id)
    }

    /// Does this role carry powers `other` lacks? Root admin > domain admin > user.
    pub fn outranks(self, other: AccountType) -> bool {
        let rank = |t: AccountType| match t {
            AccountType::User => 0,
            AccountType::DomainAdmin => 1,
            AccountType::RootAdmin => 2,
        };
        rank(self) > rank(other)
    }

    /// Name of the default role (CloudStack seeds these four; we use three).
    pub fn role_name(self) -> &'static str {
        match self {
            AccountType::User => "User",
            AccountType::RootAdmin => "Root Admin",
            AccountType::DomainAdmin => "Domain Admin",
        }
    }
}

/// What a caller may do with an account (its users, keys, projects it owns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAccess {
    /// The caller may act on the account.
    Allowed,
    /// Visible to the caller, but its role outranks the caller's (531).
    Denied,
    /// Outside what the caller may see: answered as if it did not exist (431), so a caller
    /// cannot probe which accounts exist elsewhere.
    Hidden,
}

/// Who owns a resource, as every CloudStack response shows it (`account`, `domainid`, `domain`,
/// `domainpath`, `projectid`, `project`). Names are kept beside ids because accounts, domains and
/// projects cannot be renamed here, and listing must not join for every row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Owner {
    /// The owning account; for a project's resource, the project's hidden account.
    pub account_id: String,
    /// That account's name (`account`).
    pub account_name: String,
    /// The account's domain (`domainid`).
    pub domain_id: String,
    /// That domain's name (`domain`).
    pub domain_name: String,
    /// `ROOT/child/grandchild`: domain scoping is a prefix test on this path.
    pub domain_path: String,
    /// The project owning it (`projectid`); `None` for an account's own resource.
    pub project_id: Option<String>,
    /// That project's name (`project`).
    pub project_name: Option<String>,
}

/// The authenticated caller of an API command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The authenticated user (`userid`).
    pub user_id: String,
    /// That user's login name.
    pub username: String,
    /// The user's account.
    pub account_id: String,
    /// That account's name.
    pub account_name: String,
    /// The account's type, which decides what the caller may see.
    pub account_type: AccountType,
    /// The account's domain.
    pub domain_id: String,
    /// That domain's name.
    pub domain_name: String,
    /// `ROOT/child/...` of that domain; a domain admin's reach is this prefix.
    pub domain_path: String,
}

impl Caller {
    /// Is the caller in a root-admin account?
    pub fn is_root_admin(&self) -> bool {
        self.account_type == AccountType::RootAdmin
    }

    /// Is the caller in a domain-admin account (not root admin)?
    pub fn is_domain_admin(&self) -> bool {
        self.account_type == AccountType::DomainAdmin
    }

    /// The owner block of something this caller creates for itself.
    pub fn as_owner(&self) -> Owner {
        Owner {
            account_id: self.account_id.clone(),
            account_name: self.account_name.clone(),
            domain_id: self.domain_id.clone(),
            domain_name: self.domain_name.clone(),
            domain_path: self.domain_path.clone(),
            project_id: None,
            project_name: None,
        }
    }

    /// May this caller act on (and see) something owned by `owner`? Root admins: everything.
    /// Domain admins: anything in their domain or below. Users: their own account's resources and
    /// those of projects they belong to (`member_projects`).
    pub fn can_access(&self, owner: &Owner, member_projects: &[String]) -> bool {
        match self.account_type {
            AccountType::RootAdmin => true,
            AccountType::DomainAdmin => path_is_within(&owner.domain_path, &self.domain_path),
            AccountType::User => match &owner.project_id {
                Some(project) => member_projects.iter().any(|p| p == project),
                None => owner.account_id == self.account_id,
            },
        }
    }

    /// The one rule for every command that creates or changes a user, an account or a key:
    /// a caller acts on its own account, or on an account in a domain it administers whose
    /// role does not outrank its own (a domain admin of ROOT administers the root admin's
    /// domain, but not the root admin).
    pub fn account_access(
        &self,
        account_id: &str,
        account_type: AccountType,
        domain_path: &str,
    ) -> AccountAccess {
        if account_id == self.account_id {
            AccountAccess::Allowed
        } else if !self.administers_domain(domain_path) {
            AccountAccess::Hidden
        } else if account_type.outranks(self.account_type) {
            AccountAccess::Denied
        } else {
            AccountAccess::Allowed
        }
    }

    /// May this caller create an account (or a user) of `account_type`? Never above its own.
    pub fn may_grant(&self, account_type: AccountType) -> bool {
        !account_type.outranks(self.account_type)
    }

    /// May this caller administer the domain at `domain_path` (create accounts in it, list it)?
    pub fn administers_domain(&self, domain_path: &str) -> bool {
        match self.account_type {
            AccountType::RootAdmin => true,
            AccountType::DomainAdmin => path_is_within(domain_path, &self.domain_path),
            AccountType::User => false,
        }
    }
}

/// `ROOT/a/b` is within `ROOT/a` and within itself, but `ROOT/ab` is not within `ROOT/a`.
pub fn path_is_within(path: &str, ancestor: &str) -> bool {
    path == ancestor
        || (path.starts_with(ancestor) && path.as_bytes().get(ancestor.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(t: AccountType, account: &str, path: &str) -> Caller {
        Caller {
            user_id: "u".into(),
            username: "u".into(),
            account_id: account.into(),
            account_name: account.into(),
            account_type: t,
            domain_id: "d".into(),
            domain_name: "d".into(),
            domain_path: path.into(),
        }
    }

    fn owned_by(account: &str, path: &str) -> Owner {
        Owner {
            account_id: account.into(),
            domain_path: path.into(),
            ..Owner::default()
        }
    }

    #[test]
    fn domain_paths_nest_on_whole_segments() {
        assert!(path_is_within("ROOT/a/b", "ROOT/a"));
        assert!(path_is_within("ROOT/a", "ROOT/a"));
        assert!(!path_is_within("ROOT/ab", "ROOT/a"));
        assert!(!path_is_within("ROOT", "ROOT/a"));
    }

    #[test]
    fn users_see_only_their_account_and_admins_their_subtree() {
        let user = caller(AccountType::User, "acc1", "ROOT/a");
        assert!(user.can_access(&owned_by("acc1", "ROOT/a"), &[]));
        assert!(!user.can_access(&owned_by("acc2", "ROOT/a"), &[]));
        let dadmin = caller(AccountType::DomainAdmin, "adm", "ROOT/a");
        assert!(dadmin.can_access(&owned_by("acc2", "ROOT/a/b"), &[]));
        assert!(!dadmin.can_access(&owned_by("acc3", "ROOT/b"), &[]));
        let root = caller(AccountType::RootAdmin, "admin", "ROOT");
        assert!(root.can_access(&owned_by("acc3", "ROOT/b"), &[]));
    }

    #[test]
    fn no_one_acts_on_an_account_whose_role_outranks_their_own() {
        use AccountType::*;
        let root_domain_admin = caller(DomainAdmin, "dadm", "ROOT");
        assert_eq!(
            root_domain_admin.account_access("admin", RootAdmin, "ROOT"),
            AccountAccess::Denied,
            "a domain admin of ROOT sees the root admin but may not act on it"
        );
        assert_eq!(
            root_domain_admin.account_access("peer", DomainAdmin, "ROOT/a"),
            AccountAccess::Allowed
        );
        assert_eq!(
            root_domain_admin.account_access("u", User, "ROOT"),
            AccountAccess::Allowed
        );
        let sub_admin = caller(DomainAdmin, "sub", "ROOT/a");
        assert_eq!(
            sub_admin.account_access("admin", RootAdmin, "ROOT"),
            AccountAccess::Hidden
        );
        assert_eq!(
            sub_admin.account_access("dadm", DomainAdmin, "ROOT"),
            AccountAccess::Hidden
        );
        let user = caller(User, "acc1", "ROOT");
        assert_eq!(
            user.account_access("acc1", User, "ROOT"),
            AccountAccess::Allowed
        );
        assert_eq!(
            user.account_access("acc2", User, "ROOT"),
            AccountAccess::Hidden
        );
        assert_eq!(
            user.account_access("dadm", DomainAdmin, "ROOT"),
            AccountAccess::Hidden
        );
        assert!(!root_domain_admin.may_grant(RootAdmin));
        assert!(root_domain_admin.may_grant(DomainAdmin));
        assert!(!user.may_grant(DomainAdmin));
        let root = caller(RootAdmin, "admin", "ROOT");
        assert!(root.may_grant(RootAdmin));
        assert_eq!(
            root.account_access("x", RootAdmin, "ROOT/z"),
            AccountAccess::Allowed
        );
    }

    #[test]
    fn project_resources_are_visible_to_members_only() {
        let user = caller(AccountType::User, "acc1", "ROOT");
        let mut owner = owned_by("prj-acct", "ROOT");
        owner.project_id = Some("p1".into());
        assert!(user.can_access(&owner, &["p1".to_string()]));
        assert!(!user.can_access(&owner, &[]));
    }
}
