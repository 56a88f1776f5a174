//! What the store keeps for tenancy, as plain structs.

use cks_core::tenancy::AccountType;

/// A domain: a node of the tree of accounts; the root is `ROOT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Domain UUID.
    pub id: String,
    /// Name, unique among its siblings.
    pub name: String,
    /// The parent domain; `None` only for `ROOT`.
    pub parent_id: Option<String>,
    /// `ROOT`, `ROOT/child`, ...
    pub path: String,
    /// Depth in the tree: 0 for `ROOT`.
    pub level: i64,
    /// Default DNS domain of its accounts' networks (`networkdomain`).
    pub network_domain: Option<String>,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// An account: the unit that owns resources, in one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Account UUID.
    pub id: String,
    /// Name, unique per domain.
    pub name: String,
    /// Decides the account's role and what its users may see.
    pub account_type: AccountType,
    /// The domain it belongs to.
    pub domain_id: String,
    /// `enabled`, `disabled` or `locked`.
    pub state: String,
    /// Default DNS domain of its networks (`networkdomain`).
    pub network_domain: Option<String>,
    /// Set for the hidden account that owns a project's resources.
    pub project_id: Option<String>,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A user of an account, who logs in or signs requests with keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// User UUID.
    pub id: String,
    /// The account it belongs to.
    pub account_id: String,
    /// That account's domain (copied so scoping needs no join).
    pub domain_id: String,
    /// Login name, unique per domain.
    pub username: String,
    /// A PBKDF2 hash string produced by the server; never the password.
    pub password_hash: String,
    /// `email`, if given.
    pub email: Option<String>,
    /// `firstname`, if given.
    pub firstname: Option<String>,
    /// `lastname`, if given.
    pub lastname: Option<String>,
    /// `timezone`, if given; the login answer shows `UTC` when `None`.
    pub timezone: Option<String>,
    /// `enabled` or `disabled`; only `enabled` users authenticate.
    pub state: String,
    /// The public API key (`apikey`); `None` until keys are registered.
    pub api_key: Option<String>,
    /// The secret key sealed with the master key; opened only to verify a signature.
    pub secret_key_enc: Option<String>,
    /// Unix seconds (UTC).
    pub created: i64,
    /// Until when (seconds since the epoch) password logins are refused after too many failed
    /// ones; 0 when not locked. Written only by the store's failed-login counting.
    pub locked_until: i64,
}

/// A project: resources owned by a hidden account, shared with its member accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Project UUID.
    pub id: String,
    /// Name, unique per domain.
    pub name: String,
    /// `displaytext`.
    pub display_text: String,
    /// The domain it belongs to.
    pub domain_id: String,
    /// The hidden account that owns the project's resources.
    pub project_account_id: String,
    /// The account that created it and administers it.
    pub owner_account_id: String,
    /// CloudStack's project state, e.g. `Active`.
    pub state: String,
    /// Unix seconds (UTC).
    pub created: i64,
}

/// A login session, stored under a hash of its session key (never the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The logged-in user.
    pub user_id: String,
    /// When it was opened, Unix seconds.
    pub created: i64,
    /// When it stops being accepted, Unix seconds.
    pub expires: i64,
}
