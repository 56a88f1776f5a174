//! What every request and job can reach: the store, the cloud, the master key, the settings.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use cks_cloud::{Cloud, ObjectIds};
use cks_core::settings;
use cks_core::tenancy::Caller;
use cks_sim::Simulator;
use cks_store::{KubernetesVersion, Store, StoreError};
use tokio::sync::Notify;

use crate::secrets::MasterKey;
use crate::server::ConnectionLimits;
use crate::throttle::LoginThrottle;

pub struct AppState {
    pub store: Store,
    /// The cloud the orchestrator drives; every cluster path goes through it.
    pub cloud: Arc<dyn Cloud>,
    /// The same cloud as the simulator, when it is one: for the commands only it answers
    /// (`Availability::SimulatorOnly`), reached through `simulator()`. Whether it is set is the
    /// one record of which kind of cloud `cloud` is.
    simulator: Option<Arc<Simulator>>,
    pub master_key: MasterKey,
    /// This instance's `managementserverid`.
    pub server_id: String,
    settings: RwLock<HashMap<String, Option<String>>>,
    /// Defaults of this instance for settings not stored (its own API address as
    /// `endpoint.url`): kept apart so re-reading the stored settings does not drop them.
    instance_defaults: RwLock<HashMap<String, String>>,
    pub api_keys: ApiKeyCache,
    /// Wakes the job runner when a job is queued.
    pub jobs_queued: Notify,
    versions: RwLock<Option<(Instant, Arc<Vec<CatalogEntry>>)>>,
    /// Poll clusters every few milliseconds instead of every half second (instant simulator).
    pub fast_polling: bool,
    /// How long a claimed job stays ours without renewal (`--job-lease-seconds`).
    pub job_lease_seconds: i64,
    /// Header timeout and connection bound of the HTTP server.
    pub connection_limits: ConnectionLimits,
    /// Failed logins per client address.
    pub login_throttle: LoginThrottle,
}

/// A version with its rendered API object (which includes its ISO's state).
pub struct CatalogEntry {
    pub version: KubernetesVersion,
    pub rendered: serde_json::Value,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(
        store: Store,
        simulator: Arc<Simulator>,
        master_key: MasterKey,
        server_id: String,
        stored_settings: HashMap<String, Option<String>>,
    ) -> AppState {
        AppState {
            store,
            cloud: simulator.clone(),
            simulator: Some(simulator),
            master_key,
            server_id,
            settings: RwLock::new(stored_settings),
            instance_defaults: RwLock::new(HashMap::new()),
            api_keys: ApiKeyCache::default(),
            jobs_queued: Notify::new(),
            versions: RwLock::new(None),
            fast_polling: false,
            job_lease_seconds: i64::from(crate::config::DEFAULT_JOB_LEASE_SECONDS),
            connection_limits: ConnectionLimits::default(),
            login_throttle: LoginThrottle::default(),
        }
    }

    /// The simulated cloud when it is the cloud, for the commands only it answers (see
    /// `Cx::simulator`) and the benchmarks' look inside.
    pub fn simulator(&self) -> Option<&Simulator> {
        self.simulator.as_deref()
    }

    /// Is the cloud the embedded simulator, which answers the simulator-only commands?
    pub fn is_simulated(&self) -> bool {
        self.simulator.is_some()
    }

    /// The live version catalog with each version rendered, from memory. It is read on every
    /// catalog page and written rarely; writes here clear the copy, and its age (two seconds)
    /// bounds what another instance sharing the database, or an ISO finishing its download, may
    /// not show yet.
    pub async fn version_catalog(&self) -> Result<Arc<Vec<CatalogEntry>>, StoreError> {
        if let Ok(cached) = self.versions.read()
            && let Some((at, catalog)) = cached.as_ref()
            && at.elapsed() < VERSION_CATALOG_TTL
        {
            return Ok(catalog.clone());
        }
        let versions = self.store.versions().await?;
        let ids = ObjectIds {
            isos: versions.iter().filter_map(|v| v.iso_id.clone()).collect(),
            zones: versions.iter().filter_map(|v| v.zone_id.clone()).collect(),
            ..ObjectIds::default()
        };
        // A cloud that cannot answer now shows versions without their ISOs' state, as an ISO
        // that is gone does; the copy is not kept, so the next read asks again.
        let (objects, answered) = match self.cloud.lookup(&ids).await {
            Ok(objects) => (objects, true),
            Err(e) => {
                tracing::warn!(error = %e, "the cloud did not answer for the version catalog's ISOs");
                (Default::default(), false)
            }
        };
        let catalog: Arc<Vec<CatalogEntry>> = Arc::new(
            versions
                .into_iter()
                .map(|version| {
                    let rendered = crate::render::render_version(&version, &objects);
                    CatalogEntry { version, rendered }
                })
                .collect(),
        );
        if !answered {
            return Ok(catalog);
        }
        if let Ok(mut cached) = self.versions.write() {
            *cached = Some((Instant::now(), catalog.clone()));
        }
        Ok(catalog)
    }

    /// Call after any change to the version catalog.
    pub fn forget_version_catalog(&self) {
        if let Ok(mut cached) = self.versions.write() {
            *cached = None;
        }
    }

    /// The current value of a setting: stored, else its default. `None` if reset to null.
    pub fn setting(&self, name: &str) -> Option<String> {
        let stored = self
            .settings
            .read()
            .map(|s| s.get(name).cloned())
            .unwrap_or(None);
        match stored {
            Some(value) => value,
            None => self
                .instance_defaults
                .read()
                .ok()
                .and_then(|d| d.get(name).cloned())
                .or_else(|| settings::find(name).map(|d| d.default.to_string())),
        }
    }

    /// The public key every node authorizes for the `cloud` user.
    pub fn management_ssh_public_key(&self) -> String {
        self.setting(crate::bootstrap::SSH_PUBLIC_KEY)
            .unwrap_or_default()
    }

    pub fn setting_bool(&self, name: &str) -> bool {
        self.setting(name).is_some_and(|v| v == "true")
    }

    pub fn setting_i64(&self, name: &str) -> i64 {
        let def = settings::find(name);
        let default = def.and_then(|d| d.default.parse().ok()).unwrap_or(0);
        let value = self
            .setting(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default);
        // A value stored before its setting had a range still reads within it.
        match def {
            Some(d) if d.kind == settings::SettingType::Integer => {
                value.clamp(d.range.0, d.range.1)
            }
            _ => value,
        }
    }

    /// Sets this instance's default for a setting that is not stored.
    pub fn set_instance_default(&self, name: &str, value: String) {
        if let Ok(mut d) = self.instance_defaults.write() {
            d.insert(name.to_string(), value);
        }
    }

    /// Re-reads every setting from the store: another instance sharing it may have changed one.
    pub async fn reload_settings(&self) -> Result<(), StoreError> {
        let stored = self.store.settings().await?;
        if let Ok(mut s) = self.settings.write() {
            *s = stored;
        }
        Ok(())
    }

    /// Records a new value after the store accepted it.
    pub fn cache_setting(&self, name: &str, value: Option<String>) {
        if let Ok(mut s) = self.settings.write() {
            match value {
                Some(v) => s.insert(name.to_string(), Some(v)),
                None => s.remove(name),
            };
        }
    }

    pub fn kubernetes_enabled(&self) -> bool {
        self.setting_bool(settings::SERVICE_ENABLED)
    }
}

/// Callers behind API keys, with their opened secret keys, for a few seconds. Signed requests
/// then cost an HMAC, not a database round trip and an AES-GCM open. Key changes clear it; the
/// TTL bounds what another instance sharing the database may miss.
#[derive(Default)]
pub struct ApiKeyCache {
    entries: RwLock<HashMap<String, (Caller, String, Instant)>>,
}

const API_KEY_TTL: Duration = Duration::from_secs(5);
const VERSION_CATALOG_TTL: Duration = Duration::from_secs(2);

impl ApiKeyCache {
    pub fn get(&self, api_key: &str) -> Option<(Caller, String)> {
        let entries = self.entries.read().ok()?;
        let (caller, secret, at) = entries.get(api_key)?;
        (at.elapsed() < API_KEY_TTL).then(|| (caller.clone(), secret.clone()))
    }

    pub fn put(&self, api_key: &str, caller: Caller, secret: String) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 100_000 {
                entries.clear();
            }
            entries.insert(api_key.to_string(), (caller, secret, Instant::now()));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}
