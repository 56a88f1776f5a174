//! The command line's shape (clap derive). Only parsing lives here; see `commands` for behaviour.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Client for the cks Kubernetes service.
#[derive(Debug, Parser)]
#[command(name = "cks", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Kubernetes binaries ISOs.
    Iso(IsoArgs),
}

#[derive(Debug, Args)]
pub struct IsoArgs {
    #[command(subcommand)]
    pub command: IsoCommand,
}

#[derive(Debug, Subcommand)]
pub enum IsoCommand {
    /// Build the binaries ISO nodes install from offline; prints its sha256 on the last line.
    Build(IsoBuildArgs),
}

#[derive(Debug, Args)]
pub struct IsoBuildArgs {
    /// Input directory, laid out like the ISO: k8s/{kubeadm,kubelet,kubectl}, cni/*.tgz,
    /// cri-tools/*.tar.gz, docker/*.tar, network.yaml, dashboard.yaml, optional provider.yaml,
    /// autoscaler.yaml, snapshot-crds.yaml, manifest.yaml and etcd/*.tar.gz.
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// Where to write the image (replaced atomically).
    #[arg(long, value_name = "FILE.iso")]
    pub output: PathBuf,
    /// Kubernetes version the binaries belong to (recorded in the manifest), e.g. 1.33.1.
    #[arg(long, value_name = "V")]
    pub kubernetes_version: Option<String>,
    /// etcd version of etcd/*.tar.gz (required to be present when given), e.g. 3.5.21.
    #[arg(long, value_name = "V")]
    pub etcd_version: Option<String>,
    /// Download missing inputs into --from first: a TOML file of [[file]] entries with `url`,
    /// `sha256` and `path` (relative to --from). Every download is checked against its sha256.
    #[arg(long, value_name = "SOURCES.toml")]
    pub fetch: Option<PathBuf>,
    /// The xorriso program that writes the image.
    #[arg(long, value_name = "PATH", default_value = "xorriso")]
    pub xorriso: PathBuf,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn iso_build_flags() {
        let cli = Cli::parse_from([
            "cks",
            "iso",
            "build",
            "--from",
            "in",
            "--output",
            "out.iso",
            "--kubernetes-version",
            "1.33.1",
            "--etcd-version",
            "3.5.21",
        ]);
        let Command::Iso(IsoArgs {
            command: IsoCommand::Build(args),
        }) = cli.command;
        assert_eq!(args.from, PathBuf::from("in"));
        assert_eq!(args.kubernetes_version.as_deref(), Some("1.33.1"));
        assert_eq!(args.xorriso, PathBuf::from("xorriso"));
    }
}
