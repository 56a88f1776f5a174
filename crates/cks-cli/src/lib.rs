//! The `cks` command-line client.
//!
//! Each top-level noun is a subcommand group in [`cli`] with its implementation under
//! [`commands`]: today `cks iso build`; `cks cluster ...` joins them as a sibling. Errors are
//! `anyhow` with context because a human reads them; `main` prints the whole chain and exits 2.

pub mod cli;
pub mod commands;

use std::ffi::OsString;

use clap::Parser;

/// Parses `args` (including the program name) and runs the command.
pub fn run<I, T>(args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // One TLS provider for the whole process (reqwest and anything else that uses rustls).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = cli::Cli::parse_from(args);
    match cli.command {
        cli::Command::Iso(iso) => match iso.command {
            cli::IsoCommand::Build(args) => commands::iso::build(&args),
        },
    }
}
