//! Domains, accounts, users and who may see what.

use serde::{Deserialize, Serialize};

/// CloudStack's account types. The number is what the API shows as `accounttype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccountType {
    User,
    RootAdmin,
    DomainAdmin,
}

impl AccountType {
    pub fn code(self) -> i64 {
        match self {
            AccountType::User => 0,
            AccountType::RootAdmin => 1,
            AccountType::DomainAdmin => 2,
        }
    }

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

    /// Name of the default role (CloudStack seeds these four; we use three).
    pub fn role_name(self) -> &'static str {
        match self {
            AccountType::User => "User",
            AccountType::RootAdmin => "Root Admin",
            AccountType::DomainAdmin => "Domain Admin",
        }
    }
}

/// Who owns a resource, as every CloudStack response shows it (`account`, `domainid`, `domain`,
/// `domainpath`, `projectid`, `project`). Names are kept beside ids because accounts, domains and
/// projects cannot be renamed here, and listing must not join for every row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Owner {
    pub account_id: String,
    pub account_name: String,
    pub domain_id: String,
    pub domain_name: String,
    /// `ROOT/child/grandchild`: domain scoping is a prefix test on this path.
    pub domain_path: String,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
}

/// The authenticated caller of an API command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    pub username: String,
    pub account_id: String,
    pub account_name: String,
    pub account_type: AccountType,
    pub domain_id: String,
    pub domain_name: String,
    pub domain_path: String,
}

impl Caller {
    pub fn is_root_admin(&self) -> bool {
        self.account_type == AccountType::RootAdmin
    }

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
    fn project_resources_are_visible_to_members_only() {
        let user = caller(AccountType::User, "acc1", "ROOT");
        let mut owner = owned_by("prj-acct", "ROOT");
        owner.project_id = Some("p1".into());
        assert!(user.can_access(&owner, &["p1".to_string()]));
        assert!(!user.can_access(&owner, &[]));
    }
}
