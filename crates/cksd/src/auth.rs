//! Who is calling: API key + signature, or a login session.

use axum::http::HeaderMap;
use cks_api::ApiError;
use cks_api::error::{BAD_CREDENTIALS, BAD_SESSION};
use cks_api::params::RawParams;
use cks_api::signing;
use cks_core::settings::{SIGNATURE_EXPIRES_MAX, SIGNATURE_EXPIRES_REQUIRED};
use cks_core::tenancy::Caller;
use cks_store::{User, now};

use crate::errors::internal;
use crate::secrets::sha256_hex;
use crate::state::AppState;

/// Seconds a session lives without use; each request extends it.
pub const SESSION_TIMEOUT: i64 = 1800;

/// The caller of a request that is not `login`.
pub async fn authenticate(
    state: &AppState,
    raw: &RawParams,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    if let Some(api_key) = raw.get("apikey") {
        return by_signature(state, raw, api_key).await;
    }
    by_session(state, raw, headers).await
}

async fn by_signature(
    state: &AppState,
    raw: &RawParams,
    api_key: &str,
) -> Result<Caller, ApiError> {
    let denied = ApiError::Unauthorized(BAD_CREDENTIALS);
    let provided = raw.get("signature").ok_or_else(|| denied.clone())?;
    // Before any lookup: a replayed or badly dated request costs no database work.
    let policy = signing::ExpiryPolicy {
        max_ahead: state.setting_i64(SIGNATURE_EXPIRES_MAX),
        required: state.setting_bool(SIGNATURE_EXPIRES_REQUIRED),
    };
    signing::check_expiry(
        raw.get("signatureversion"),
        raw.get("expires"),
        now(),
        policy,
    )
    .map_err(|e| ApiError::Unauthorized(e.message()))?;
    let (caller, secret) = match state.api_keys.get(api_key) {
        Some(hit) => hit,
        None => {
            let user = state
                .store
                .user_by_api_key(api_key)
                .await
                .map_err(internal)?
                .ok_or_else(|| denied.clone())?;
            let secret = user
                .secret_key_enc
                .as_deref()
                .and_then(|sealed| state.master_key.open(sealed))
                .ok_or_else(|| denied.clone())?;
            let caller = caller_of(state, &user)
                .await?
                .ok_or_else(|| denied.clone())?;
            state.api_keys.put(api_key, caller.clone(), secret.clone());
            (caller, secret)
        }
    };
    if signing::verify(&secret, raw.pairs(), provided).is_none() {
        return Err(denied);
    }
    Ok(caller)
}

async fn by_session(
    state: &AppState,
    raw: &RawParams,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    let denied = ApiError::Unauthorized(BAD_SESSION);
    // CloudStack's default (`CookieAndParameter`): the key must come as a parameter, which a
    // cross-site form cannot know, and match the cookie the login set.
    let key = raw.get("sessionkey").ok_or_else(|| denied.clone())?;
    if cookie(headers, "sessionkey").as_deref() != Some(key) {
        return Err(denied);
    }
    let hash = sha256_hex(key);
    let session = state
        .store
        .session(&hash)
        .await
        .map_err(internal)?
        .ok_or_else(|| denied.clone())?;
    let now = now();
    if session.expires < now {
        state.store.delete_session(&hash).await.map_err(internal)?;
        return Err(denied);
    }
    if session.expires - now < SESSION_TIMEOUT - 60 {
        state
            .store
            .extend_session(&hash, now + SESSION_TIMEOUT)
            .await
            .map_err(internal)?;
    }
    let user = state
        .store
        .user(&session.user_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| denied.clone())?;
    caller_of(state, &user).await?.ok_or(denied)
}

/// The caller a user acts as, or `None` when the user or its account is not enabled.
pub async fn caller_of(state: &AppState, user: &User) -> Result<Option<Caller>, ApiError> {
    if user.state != "enabled" {
        return Ok(None);
    }
    let Some(account) = state
        .store
        .account(&user.account_id)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    if account.state != "enabled" {
        return Ok(None);
    }
    let Some(domain) = state
        .store
        .domain(&account.domain_id)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    Ok(Some(Caller {
        user_id: user.id.clone(),
        username: user.username.clone(),
        account_id: account.id,
        account_name: account.name,
        account_type: account.account_type,
        domain_id: domain.id,
        domain_name: domain.name,
        domain_path: domain.path,
    }))
}

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};
    use cks_api::fuzzing;

    use super::cookie;

    /// Session cookies come from anyone: whatever the header holds, parsing neither panics nor
    /// finds a session key under another cookie's name.
    #[test]
    fn fuzz_cookie_headers_never_panic_and_match_whole_names_only() {
        fuzzing::run(5000, |rng| {
            let mut headers = HeaderMap::new();
            for _ in 0..1 + rng.below(3) {
                let mut text = rng.text(12);
                if rng.chance(30) {
                    let key = rng.name();
                    text = format!("{text}; sessionkey={key}");
                }
                if let Ok(value) = HeaderValue::from_str(&text) {
                    headers.append(header::COOKIE, value);
                }
            }
            if let Some(found) = cookie(&headers, "sessionkey") {
                let all: Vec<&str> = headers
                    .get_all(header::COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                assert!(
                    all.iter().any(|v| v.split(';').any(|p| {
                        p.trim()
                            .split_once('=')
                            .is_some_and(|(k, v)| k == "sessionkey" && v.trim_matches('"') == found)
                    })),
                    "{found:?} from {all:?}"
                );
            }
        });
    }
}
