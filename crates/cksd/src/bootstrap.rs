//! First start: the ROOT domain, the system account, the root admin with its keys, and a
//! version catalog a new user can create clusters from. Each piece is checked before it is made,
//! so a start that died half-way completes on the next one.

use std::path::Path;

use cks_api::ApiError;
use cks_core::tenancy::AccountType;
use cks_store::{Account, Domain, User, new_id, now};
use serde_json::json;

use crate::secrets::{hash_password, random_token, write_private};
use crate::services::versions::{NewVersion, add_version};
use crate::state::AppState;

/// Versions seeded on first start: two releases one minor apart, so create and upgrade work
/// without setup. Their ISOs are simulated; the URLs are never fetched.
const SEED_VERSIONS: &[&str] = &["1.32.4", "1.33.1"];
const VERSIONS_SEEDED_MARK: &str = "cks.internal.versions.seeded";
/// Job rows written before credentials were dropped from them have been rewritten.
const JOBS_SCRUBBED_MARK: &str = "cks.internal.jobs.scrubbed";

/// What the first start created, to announce once; its secrets are only in the file.
pub struct RootAdmin {
    pub path: std::path::PathBuf,
    pub api_key: String,
}

pub async fn first_start(
    state: &AppState,
    data_dir: &Path,
    api_url: &str,
) -> anyhow::Result<Option<RootAdmin>> {
    let store = &state.store;
    let root = match store.root_domain().await? {
        Some(root) => root,
        None => {
            let root = Domain {
                id: new_id(),
                name: "ROOT".into(),
                parent_id: None,
                path: "ROOT".into(),
                level: 0,
                network_domain: None,
                created: now(),
            };
            store.insert_domain(&root).await?;
            root
        }
    };
    if store.account_by_name(&root.id, "system").await?.is_none() {
        store
            .insert_account(&root_admin_account("system", &root))
            .await?;
    }
    let mut created = None;
    if store.account_by_name(&root.id, "admin").await?.is_none() {
        let password = random_token(18);
        let api_key = random_token(64);
        let secret_key = random_token(64);
        let account = root_admin_account("admin", &root);
        let user = User {
            id: new_id(),
            account_id: account.id.clone(),
            domain_id: root.id.clone(),
            username: "admin".into(),
            password_hash: hash_password(&password),
            email: None,
            firstname: Some("Admin".into()),
            lastname: Some("User".into()),
            timezone: None,
            state: "enabled".into(),
            api_key: Some(api_key.clone()),
            secret_key_enc: Some(state.master_key.seal(&secret_key)),
            created: now(),
            locked_until: 0,
        };
        // The file first: if the process dies between the two, the next start makes new ones.
        let path = data_dir.join("root-admin.json");
        let doc = json!({
            "username": "admin",
            "password": password,
            "domain": "ROOT",
            "apikey": api_key,
            "secretkey": secret_key,
            "endpoint": api_url,
        });
        write_private(&path, &serde_json::to_string_pretty(&doc)?)?;
        store.insert_account_with_user(&account, &user).await?;
        created = Some(RootAdmin { path, api_key });
    }
    // Once per database, not at every start: the search reads every job row.
    if !store.settings().await?.contains_key(JOBS_SCRUBBED_MARK) {
        let scrubbed = crate::services::jobs::scrub_stored_params(state).await?;
        if scrubbed > 0 {
            tracing::info!(
                jobs = scrubbed,
                "removed credentials kept in older job rows"
            );
        }
        store.set_setting(JOBS_SCRUBBED_MARK, Some("true")).await?;
    }
    if !store.settings().await?.contains_key(VERSIONS_SEEDED_MARK) {
        let mut seeded_isos = Vec::new();
        for semver in SEED_VERSIONS {
            let new = NewVersion {
                semantic_version: semver.to_string(),
                name: None,
                zone_id: None,
                url: format!("http://127.0.0.1/cks/binaries/setup-v{semver}.iso"),
                checksum: None,
                min_cpu: 2,
                min_memory: 2048,
                direct_download: false,
                arch: "x86_64".into(),
            };
            let version = add_version(state, new)
                .await
                .map_err(|e: ApiError| anyhow::anyhow!("seeding version {semver}: {e}"))?;
            seeded_isos.extend(version.iso_id);
        }
        // The walkthrough in the README creates a cluster at once: the service answers only
        // once the versions it offers can be used (the simulated downloads take seconds).
        await_isos_ready(state, &seeded_isos).await;
        store
            .set_setting(VERSIONS_SEEDED_MARK, Some("true"))
            .await?;
    }
    if state.setting(SSH_PUBLIC_KEY).is_none() {
        // The service's own key: every node authorizes it for the `cloud` user (CKS's
        // `ssh.publickey`). The private half is sealed like every other secret.
        let key = cks_bootstrap::ssh::generate_rsa()
            .map_err(|e| anyhow::anyhow!("generating the management SSH key: {e}"))?;
        store
            .set_setting(
                SSH_PRIVATE_KEY,
                Some(&state.master_key.seal(&key.private_key_pem)),
            )
            .await?;
        store
            .set_setting(SSH_PUBLIC_KEY, Some(&key.public.openssh))
            .await?;
        state.cache_setting(SSH_PUBLIC_KEY, Some(key.public.openssh));
    }
    Ok(created)
}

/// Waits (a minute at most) until these ISOs are Ready.
async fn await_isos_ready(state: &AppState, ids: &[String]) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    for id in ids {
        loop {
            match state.cloud.get_iso(id).await {
                Ok(iso) if iso.state == cks_core::iaas::IsoState::Ready => break,
                _ if tokio::time::Instant::now() >= deadline => {
                    tracing::warn!(iso = %id, "a seeded version's ISO is not ready yet; clusters of it wait for it");
                    return;
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
    }
}

/// The management server's SSH key pair (public text; private PEM sealed).
pub const SSH_PUBLIC_KEY: &str = "cks.internal.ssh.publickey";
const SSH_PRIVATE_KEY: &str = "cks.internal.ssh.privatekey";

/// Points `endpoint.url` at this server when no operator set it: nodes and the cloud provider
/// need a reachable API URL, and CKS refuses clusters while it names localhost.
pub async fn ensure_endpoint_url(
    state: &AppState,
    addr: std::net::SocketAddr,
) -> anyhow::Result<()> {
    let ip = if addr.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        addr.ip()
    };
    let url = format!(
        "http://{}/client/api",
        std::net::SocketAddr::new(ip, addr.port())
    );
    // A stored value wins; this is what an unset `endpoint.url` means on this instance.
    state.set_instance_default(cks_core::settings::ENDPOINT_URL, url);
    Ok(())
}

fn root_admin_account(name: &str, root: &Domain) -> Account {
    Account {
        id: new_id(),
        name: name.into(),
        account_type: AccountType::RootAdmin,
        domain_id: root.id.clone(),
        state: "enabled".into(),
        network_domain: None,
        project_id: None,
        created: now(),
    }
}
