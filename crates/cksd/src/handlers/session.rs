//! `login` and `logout`.

use std::net::IpAddr;
use std::time::Duration;

use cks_api::commands::Bound;
use cks_api::{ApiError, envelope};
use cks_core::settings;
use cks_store::{Session, now};
use serde_json::json;

use super::{Cx, Reply};
use crate::auth::{SESSION_TIMEOUT, caller_of, cookie};
use crate::errors::internal;
use crate::secrets::{random_token, sha256_hex, verify_password_async};
use crate::state::AppState;

const THROTTLED_ANSWER_DELAY: Duration = Duration::from_secs(1);

/// `login`, refused without any work while `peer` has spent its failed logins (`throttle`); every
/// refusal of credentials counts against it.
pub async fn login(
    state: &AppState,
    peer: Option<IpAddr>,
    p: &Bound<'_>,
) -> Result<Reply, ApiError> {
    if let Some(addr) = peer
        && let Err(wait) = state.login_throttle.check(addr)
    {
        // Answered late: a sleeping task costs nothing, and a loop of guesses on one connection
        // gets one answer a second instead of thousands.
        tokio::time::sleep(THROTTLED_ANSWER_DELAY.min(Duration::from_secs(wait))).await;
        return Err(ApiError::TooManyRequests(format!(
            "Too many failed login attempts from {addr}; try again in {wait} seconds"
        )));
    }
    let result = check_credentials(state, p).await;
    if let (Some(addr), Err(ApiError::PermissionDenied(_))) = (peer, &result) {
        state.login_throttle.failed(addr);
    }
    result
}

async fn check_credentials(state: &AppState, p: &Bound<'_>) -> Result<Reply, ApiError> {
    let username = p.req("username");
    let store = &state.store;
    let domain = match (p.str("domainid"), p.str("domain")) {
        (Some(id), _) => store.domain(id).await.map_err(internal)?,
        (None, Some(path)) => {
            let path = domain_path_from_login(path);
            let found = store.domain_by_path(&path).await.map_err(internal)?;
            if found.is_none() {
                return Err(ApiError::denied(format!(
                    "Unable to find the domain from the path {}",
                    p.req("domain")
                )));
            }
            found
        }
        (None, None) => store.root_domain().await.map_err(internal)?,
    };
    let domain_ref = domain
        .as_ref()
        .map(|d| d.id.as_str())
        .or(p.str("domainid"))
        .unwrap_or("ROOT");
    let failed = || {
        ApiError::denied(format!(
            "Failed to authenticate user {username} in domain {domain_ref}; please provide valid credentials"
        ))
    };
    let Some(domain) = &domain else {
        return Err(failed());
    };
    let user = store
        .user_by_name(&domain.id, username)
        .await
        .map_err(internal)?;
    let allowed = state.setting_i64(settings::LOGIN_ATTEMPTS_ALLOWED);
    let lock_seconds = state.setting_i64(settings::LOGIN_LOCKOUT_DURATION);
    let locked = |remaining: i64| {
        ApiError::denied(format!(
            "User {username} in domain {domain_ref} is locked after {allowed} failed login attempts; try again in {remaining} seconds"
        ))
    };
    // While locked the password is not even checked: no guess can be confirmed.
    if let Some(until) = user.as_ref().map(|u| u.locked_until).filter(|t| *t > now()) {
        return Err(locked(until - now()));
    }
    // Hash even for an unknown user, so timing does not tell which usernames exist.
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let password_ok = verify_password_async(p.req("password").to_string(), stored).await;
    let Some(user) = user else {
        return Err(failed());
    };
    if !password_ok {
        if allowed > 0 && lock_seconds > 0 {
            let until = now() + lock_seconds;
            let locked_now = store
                .record_failed_login(&user.id, allowed, until)
                .await
                .map_err(internal)?;
            if locked_now {
                tracing::warn!(
                    user = %user.username,
                    domain = %domain_ref,
                    "user locked after {allowed} failed login attempts"
                );
                return Err(locked(lock_seconds));
            }
        }
        return Err(failed());
    }
    store
        .clear_failed_logins(&user.id)
        .await
        .map_err(internal)?;
    let caller = caller_of(state, &user).await?.ok_or_else(failed)?;

    let key = random_token(32);
    let now = now();
    store
        .insert_session(
            &sha256_hex(&key),
            &Session {
                user_id: user.id.clone(),
                created: now,
                expires: now + SESSION_TIMEOUT,
            },
        )
        .await
        .map_err(internal)?;
    let body = json!({
        "username": user.username,
        "userid": user.id,
        "domainid": caller.domain_id,
        "timeout": SESSION_TIMEOUT,
        "account": caller.account_name,
        "firstname": user.firstname.clone().unwrap_or_default(),
        "lastname": user.lastname.clone().unwrap_or_default(),
        "type": caller.account_type.code().to_string(),
        "timezone": user.timezone.clone().unwrap_or_else(|| "UTC".into()),
        "timezoneoffset": "0.0",
        "registered": "false",
        "sessionkey": key,
        "is2faenabled": "false",
        "is2faverified": "false",
        "managementserverid": state.server_id,
    });
    Ok(
        Reply::json(envelope::flat("login", body)).with_cookies(vec![
            format!("sessionkey={key}; Path=/; HttpOnly; SameSite=Lax"),
            format!("JSESSIONID={}; Path=/client; HttpOnly", random_token(16)),
        ]),
    )
}

/// `/`, `ROOT`, `/ROOT/sub`, `/sub` and `sub/` all name domains the way CloudStack reads them.
fn domain_path_from_login(path: &str) -> String {
    let trimmed = path.trim().trim_matches('/');
    if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("ROOT") {
        return "ROOT".into();
    }
    match trimmed.strip_prefix("ROOT/") {
        Some(rest) => format!("ROOT/{rest}"),
        None => format!("ROOT/{trimmed}"),
    }
}

/// A valid hash of a random password nobody knows.
const DUMMY_HASH: &str =
    "pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

pub async fn logout(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    if let Some(key) =
        cx.p.str("sessionkey")
            .map(str::to_string)
            .or_else(|| cookie(cx.headers, "sessionkey"))
    {
        cx.state
            .store
            .delete_session(&sha256_hex(&key))
            .await
            .map_err(internal)?;
    }
    Ok(Reply::json(envelope::flat(
        "logout",
        json!({ "description": "success" }),
    ))
    .with_cookies(vec!["sessionkey=; Path=/; HttpOnly; Max-Age=0".into()]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn login_domain_paths_are_normalised() {
        assert_eq!(super::domain_path_from_login("/"), "ROOT");
        assert_eq!(super::domain_path_from_login("/ROOT/eng"), "ROOT/eng");
        assert_eq!(super::domain_path_from_login("/eng/"), "ROOT/eng");
    }
}
