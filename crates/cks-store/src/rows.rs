//! What the store keeps for tenancy, as plain structs.

use cks_core::tenancy::AccountType;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    /// `ROOT`, `ROOT/child`, ...
    pub path: String,
    pub level: i64,
    pub network_domain: Option<String>,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub account_type: AccountType,
    pub domain_id: String,
    /// `enabled`, `disabled` or `locked`.
    pub state: String,
    pub network_domain: Option<String>,
    /// Set for the hidden account that owns a project's resources.
    pub project_id: Option<String>,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub account_id: String,
    pub domain_id: String,
    pub username: String,
    /// A PBKDF2 hash string produced by the server; never the password.
    pub password_hash: String,
    pub email: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    pub timezone: Option<String>,
    pub state: String,
    pub api_key: Option<String>,
    /// The secret key sealed with the master key; opened only to verify a signature.
    pub secret_key_enc: Option<String>,
    pub created: i64,
    /// Until when (seconds since the epoch) password logins are refused after too many failed
    /// ones; 0 when not locked. Written only by the store's failed-login counting.
    pub locked_until: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub display_text: String,
    pub domain_id: String,
    pub project_account_id: String,
    pub owner_account_id: String,
    pub state: String,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: String,
    pub created: i64,
    pub expires: i64,
}
