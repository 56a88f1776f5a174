//! Profiles, as CloudStack's `cmk` keeps them: a TOML file of named endpoints with their keys,
//! and environment variables that override whatever the profile says.
//!
//! ```toml
//! default_profile = "local"
//! [profiles.local]
//! url = "http://127.0.0.1:8080/client/api"
//! apikey = "..."
//! secretkey = "..."
//! ```
//!
//! The file is `--config`, else `CKS_CONFIG`, else `$XDG_CONFIG_HOME/cks/config.toml`, else
//! `~/.config/cks/config.toml`; the profile is `--profile`, else `CKS_PROFILE`, else the file's
//! `default_profile`, else `default`. `CKS_URL`, `CKS_APIKEY` and `CKS_SECRETKEY` override the
//! profile's fields one by one, so the environment alone is enough.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cli::GlobalArgs;
use crate::error::CliError;

/// The config file.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The profile used when neither `--profile` nor `CKS_PROFILE` names one; `None`: `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    /// Profiles by name (`[profiles.NAME]` tables).
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One endpoint and the keys to sign with; each field may come from the environment instead.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// API endpoint; `CKS_URL` overrides it.
    pub url: Option<String>,
    /// API key; `CKS_APIKEY` overrides it.
    pub apikey: Option<String>,
    /// Secret key, in the clear (the file is mode 0600); `CKS_SECRETKEY` overrides it.
    pub secretkey: Option<String>,
}

/// Where requests go and what signs them.
#[derive(Clone)]
pub struct Endpoint {
    /// Full API URL, ending in `/client/api` unless the user gave another path.
    pub url: String,
    /// The API key requests are signed for (`apikey`).
    pub api_key: String,
    /// The secret key that signs them; never printed.
    pub secret_key: String,
    /// The profile used, if the file had it.
    pub profile: Option<String>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("api_key", &self.api_key)
            .field("secret_key", &"<hidden>")
            .field("profile", &self.profile)
            .finish()
    }
}

/// The config file to use: flag, `CKS_CONFIG`, then the XDG default.
pub fn config_path(global: &GlobalArgs, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(path) = &global.config {
        return Some(path.clone());
    }
    if let Some(path) = env("CKS_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    if let Some(dir) = env("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        return Some(Path::new(&dir).join("cks/config.toml"));
    }
    env("HOME").map(|home| Path::new(&home).join(".config/cks/config.toml"))
}

/// Reads the config file; a missing file is empty unless it was named explicitly.
pub fn load(path: &Path, explicit: bool) -> Result<ConfigFile, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Ok(ConfigFile::default());
        }
        Err(e) => {
            return Err(CliError::Config(format!(
                "reading config file {}: {e}",
                path.display()
            )));
        }
    };
    toml::from_str(&text)
        .map_err(|e| CliError::Config(format!("parsing config file {}: {e}", path.display())))
}

/// The endpoint the API commands use.
pub fn resolve(
    global: &GlobalArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Endpoint, CliError> {
    let explicit = global.config.is_some() || env("CKS_CONFIG").is_some_and(|p| !p.is_empty());
    let path = config_path(global, env);
    let file = match &path {
        Some(path) => load(path, explicit)?,
        None => ConfigFile::default(),
    };
    let named = global
        .profile
        .clone()
        .or_else(|| env("CKS_PROFILE").filter(|p| !p.is_empty()));
    let (profile_name, profile) = match &named {
        Some(name) => match file.profiles.get(name) {
            Some(p) => (Some(name.clone()), p.clone()),
            None => {
                let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
                return Err(CliError::Config(format!(
                    "no profile {name:?} in {} (profiles: {})",
                    path.as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "the config file".into()),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        },
        None => {
            let name = file
                .default_profile
                .clone()
                .unwrap_or_else(|| "default".into());
            match file.profiles.get(&name) {
                Some(p) => (Some(name), p.clone()),
                None => (None, Profile::default()),
            }
        }
    };
    let pick = |var: &str, from_profile: Option<String>| {
        env(var).filter(|v| !v.is_empty()).or(from_profile)
    };
    let url = pick("CKS_URL", profile.url);
    let api_key = pick("CKS_APIKEY", profile.apikey);
    let secret_key = pick("CKS_SECRETKEY", profile.secretkey);
    let missing: Vec<&str> = [
        ("url (CKS_URL)", url.is_none()),
        ("apikey (CKS_APIKEY)", api_key.is_none()),
        ("secretkey (CKS_SECRETKEY)", secret_key.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, gone)| gone.then_some(name))
    .collect();
    if !missing.is_empty() {
        return Err(CliError::Config(format!(
            "no {} configured: set the environment variables or write a profile with `cks config set-profile`",
            missing.join(", ")
        )));
    }
    Ok(Endpoint {
        url: normalize_url(&url.unwrap_or_default())?,
        api_key: api_key.unwrap_or_default(),
        secret_key: secret_key.unwrap_or_default(),
        profile: profile_name,
    })
}

/// `http://host:8080` and `http://host:8080/` become `http://host:8080/client/api`; a URL
/// with a path is taken as it is.
pub fn normalize_url(url: &str) -> Result<String, CliError> {
    let url = url.trim();
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return Err(CliError::Config(format!(
            "the API URL {url:?} must start with http:// or https://"
        )));
    };
    match rest.find('/') {
        None => Ok(format!("{url}/client/api")),
        Some(i) if rest[i..] == *"/" => Ok(format!("{}client/api", url)),
        Some(_) => Ok(url.to_string()),
    }
}

/// Adds or replaces a profile and writes the file with mode 0600 (it holds a secret key).
pub fn set_profile(
    path: &Path,
    name: &str,
    profile: Profile,
    make_default: bool,
) -> anyhow::Result<()> {
    let mut file = load(path, false)?;
    file.profiles.insert(name.to_string(), profile);
    if make_default || file.default_profile.is_none() {
        file.default_profile = Some(name.to_string());
    }
    let text = toml::to_string(&file)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let mut tmp = tempfile::NamedTempFile::new_in(dir.unwrap_or(Path::new(".")))?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::cli::OutputFormat;

    fn global(config: Option<PathBuf>, profile: Option<&str>) -> GlobalArgs {
        GlobalArgs {
            profile: profile.map(str::to_string),
            config,
            output: OutputFormat::Table,
        }
    }

    #[test]
    fn environment_overrides_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        let profile = |url: &str| Profile {
            url: Some(url.into()),
            apikey: Some("file-key".into()),
            secretkey: Some("file-secret".into()),
        };
        set_profile(&path, "a", profile("http://a:8080"), false).unwrap();
        set_profile(&path, "b", profile("http://b:8080/"), false).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o077, 0, "the file holds secrets");

        let vars: HashMap<&str, &str> = HashMap::from([("CKS_APIKEY", "env-key")]);
        let env = |k: &str| vars.get(k).map(|v| v.to_string());
        // "a" became the default when it was the first profile written.
        let e = resolve(&global(Some(path.clone()), None), &env).unwrap();
        assert_eq!(e.url, "http://a:8080/client/api");
        assert_eq!(e.api_key, "env-key");
        assert_eq!(e.secret_key, "file-secret");
        let e = resolve(&global(Some(path.clone()), Some("b")), &env).unwrap();
        assert_eq!(e.url, "http://b:8080/client/api");
        assert!(!format!("{e:?}").contains("file-secret"));

        let err = resolve(&global(Some(path.clone()), Some("c")), &env).unwrap_err();
        assert!(err.to_string().contains("no profile \"c\""), "{err}");
        assert_eq!(err.exit_code(), 5);
    }

    #[test]
    fn environment_alone_is_enough_and_gaps_are_named() {
        let vars: HashMap<&str, &str> = HashMap::from([
            ("CKS_URL", "https://cloud.example/client/api"),
            ("CKS_APIKEY", "k"),
            ("CKS_SECRETKEY", "s"),
            ("HOME", "/nonexistent"),
        ]);
        let env = |k: &str| vars.get(k).map(|v| v.to_string());
        let e = resolve(&global(None, None), &env).unwrap();
        assert_eq!(e.url, "https://cloud.example/client/api");
        let env = |k: &str| (k == "CKS_URL").then(|| "http://x".to_string());
        let err = resolve(&global(None, None), &env).unwrap_err();
        assert!(
            err.to_string().contains("apikey (CKS_APIKEY), secretkey"),
            "{err}"
        );
    }

    #[test]
    fn urls() {
        assert!(normalize_url("ftp://x").is_err());
        assert_eq!(
            normalize_url("http://h:1/custom/api").unwrap(),
            "http://h:1/custom/api"
        );
    }
}
