//! `cks iso build`: the counterpart of CloudStack's `create-kubernetes-binaries-iso.sh`.

use anyhow::Context;
use cks_bootstrap::KubernetesVersion;
use cks_bootstrap::iso::{self, IsoSpec, Xorriso};

use crate::cli::IsoBuildArgs;

/// Builds the ISO and prints a summary, then the image's sha256 alone on the last line so a
/// script can take it with `tail -n 1` and register the ISO with it as `checksum`.
pub fn build(args: &IsoBuildArgs) -> anyhow::Result<()> {
    let kubernetes_version = args
        .kubernetes_version
        .as_deref()
        .map(str::parse::<KubernetesVersion>)
        .transpose()
        .context("--kubernetes-version")?;
    if let Some(sources) = &args.fetch {
        let fetched = super::fetch::fetch_all(sources, &args.from)
            .with_context(|| format!("fetching the inputs listed in {}", sources.display()))?;
        println!(
            "fetched {} file(s), {} already present",
            fetched.downloaded, fetched.present
        );
    }
    let spec = IsoSpec {
        from: args.from.clone(),
        output: args.output.clone(),
        kubernetes_version,
        etcd_version: args.etcd_version.clone(),
    };
    let writer = Xorriso {
        program: args.xorriso.clone(),
    };
    let report = iso::build(&spec, &writer)
        .with_context(|| format!("building {}", args.output.display()))?;
    let versions: Vec<String> = report
        .manifest
        .versions
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "built {} ({} bytes, {} files{}{})",
        report.output.display(),
        report.size,
        report.manifest.files.len(),
        report
            .manifest
            .arch
            .as_deref()
            .map(|a| format!(", {a}"))
            .unwrap_or_default(),
        if versions.is_empty() {
            String::new()
        } else {
            format!("; {}", versions.join(", "))
        },
    );
    println!("{}", report.sha256);
    Ok(())
}
