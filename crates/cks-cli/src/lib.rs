//! The `cks` command-line client: every CKS command as a typed subcommand, over the public
//! CloudStack API only (so anything it does, `cmk` or Terraform can do too).
//!
//! - [`cli`]: the command line (clap derive); `cks cluster|version|cni|job|api|config|
//!   completions|iso`.
//! - [`config`]: profiles in `~/.config/cks/config.toml`, overridden by `CKS_URL`, `CKS_APIKEY`
//!   and `CKS_SECRETKEY`.
//! - [`client`]: signed requests with the server's own signing code (`cks_api::signing`), every
//!   parameter checked against the server's command table (`cks_api::commands`) first.
//! - [`resolve`]: names (zone, version by semver, offering, cluster, network, CNI
//!   configuration) turned into ids through list calls.
//! - [`wait`]: `--wait`, following a job with the cluster's current step on stderr.
//! - [`output`]: `--output table|json`.
//! - [`error`]: the exit codes scripts rely on — 0 success, 1 API error (or a name matching
//!   nothing), 2 usage or local error, 3 job failed, 4 timed out waiting, 5 configuration or
//!   connection error.
//!
//! Not here: any private way into the server, and any state beyond the config file. Errors
//! are `anyhow` with context because a human reads them; `main` prints the whole chain.

pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod error;
pub mod output;
pub mod resolve;
pub mod wait;

use std::ffi::OsString;

use clap::{CommandFactory, Parser};

pub use error::exit_code;

use crate::cli::{Command, GlobalArgs};
use crate::commands::Ctx;

/// Parses `args` (including the program name) and runs the command. Usage errors exit inside
/// (clap's message, exit 2).
pub fn run<I, T>(args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // One TLS provider for the whole process (reqwest and anything else that uses rustls).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = cli::Cli::parse_from(args);
    match cli.command {
        Command::Iso(iso) => match iso.command {
            cli::IsoCommand::Build(args) => commands::iso::build(&args),
        },
        Command::Completions(args) => {
            let mut app = cli::Cli::command();
            let mut out = Vec::new();
            clap_complete::generate(args.shell, &mut app, "cks", &mut out);
            output::emit(&String::from_utf8_lossy(&out))
        }
        Command::Config(args) => commands::config::run(&args.global, &args.command),
        Command::Api(args) if args.list || args.describe => {
            commands::api::describe(args.global.output, &args)
        }
        Command::Api(args) => with_client(&args.global, async |ctx| {
            commands::api::run(ctx, &args).await
        }),
        Command::Cluster(args) => with_client(&args.global, async |ctx| {
            commands::cluster::run(ctx, args.command).await
        }),
        Command::Version(args) => with_client(&args.global, async |ctx| {
            commands::version::run(ctx, args.command).await
        }),
        Command::Cni(args) => with_client(&args.global, async |ctx| {
            commands::cni::run(ctx, args.command).await
        }),
        Command::Job(args) => with_client(&args.global, async |ctx| {
            commands::job::run(ctx, args.command).await
        }),
    }
}

/// Resolves the endpoint and runs `body` on a single-threaded runtime.
fn with_client(
    global: &GlobalArgs,
    body: impl AsyncFnOnce(&Ctx) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let endpoint = config::resolve(global, &|k| std::env::var(k).ok())?;
    let ctx = Ctx {
        client: client::ApiClient::new(endpoint)?,
        format: global.output,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(body(&ctx))
}
