//! `cks config set-profile|show`: write a profile, and show what the other commands would use.

use serde_json::json;

use crate::cli::{ConfigCommand, GlobalArgs};
use crate::config::{self, Profile};
use crate::error::CliError;
use crate::output;

/// Runs one `cks config ...` subcommand and prints its result.
pub fn run(global: &GlobalArgs, command: &ConfigCommand) -> anyhow::Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    match command {
        ConfigCommand::SetProfile(args) => {
            let path = config::config_path(global, &env).ok_or_else(|| {
                CliError::Config("no config file: pass --config or set HOME".into())
            })?;
            let url = config::normalize_url(&args.url)?;
            let profile = Profile {
                url: Some(url),
                apikey: Some(args.apikey.clone()),
                secretkey: Some(args.secretkey.clone()),
            };
            config::set_profile(&path, &args.name, profile, args.default)?;
            eprintln!("cks: wrote profile {} to {}", args.name, path.display());
            Ok(())
        }
        ConfigCommand::Show => {
            let endpoint = config::resolve(global, &env)?;
            let shown = json!({
                "profile": endpoint.profile,
                "config": config::config_path(global, &env).map(|p| p.display().to_string()),
                "url": endpoint.url,
                "apikey": endpoint.api_key,
                "secretkey": "(set, not shown)",
            });
            output::object(global.output, &shown)
        }
    }
}
