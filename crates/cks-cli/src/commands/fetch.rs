//! Download mode of `cks iso build --fetch`: fills the input directory from URLs, each checked
//! against the sha256 the sources file pins. Nothing unverified is ever left in the directory.

use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use cks_bootstrap::iso::{Sha256, sha256_file};
use serde::Deserialize;

/// The `--fetch` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sources {
    /// The `[[file]]` entries, in download order.
    #[serde(rename = "file", default)]
    pub files: Vec<Source>,
}

/// One input to download.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Where to download it from (`http` or `https`).
    pub url: String,
    /// Lowercase or uppercase hex.
    pub sha256: String,
    /// Relative to the input directory, e.g. `k8s/kubeadm`.
    pub path: String,
}

/// What [`fetch_all`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fetched {
    /// Files downloaded (they were missing or had another sha256).
    pub downloaded: usize,
    /// Files already there with the right sha256.
    pub present: usize,
}

fn checked_path(root: &Path, rel: &str) -> anyhow::Result<PathBuf> {
    let rel_path = Path::new(rel);
    let plain = rel_path
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if rel.is_empty() || !plain {
        bail!("path {rel:?} must be relative and stay inside the input directory");
    }
    Ok(root.join(rel_path))
}

/// Downloads every source whose file is missing or has another digest.
pub fn fetch_all(sources_file: &Path, root: &Path) -> anyhow::Result<Fetched> {
    let text = fs::read_to_string(sources_file)
        .with_context(|| format!("reading {}", sources_file.display()))?;
    let sources: Sources =
        toml::from_str(&text).with_context(|| format!("parsing {}", sources_file.display()))?;
    let mut plan = Vec::new();
    for source in &sources.files {
        let want = source.sha256.to_ascii_lowercase();
        if want.len() != 64 || !want.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("{}: sha256 must be 64 hex digits", source.path);
        }
        if !(source.url.starts_with("https://") || source.url.starts_with("http://")) {
            bail!("{}: only http(s) URLs are supported", source.path);
        }
        plan.push((source, checked_path(root, &source.path)?, want));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(120))
        .build()?;
    let mut res = Fetched::default();
    for (source, dest, want) in plan {
        if dest.is_file() && sha256_file(&dest)?.0 == want {
            res.present += 1;
            continue;
        }
        runtime
            .block_on(download(&client, &source.url, &dest, &want))
            .with_context(|| format!("downloading {} to {}", source.url, source.path))?;
        res.downloaded += 1;
    }
    Ok(res)
}

async fn download(
    client: &reqwest::Client,
    url: &str,
    dest: &Path,
    want: &str,
) -> anyhow::Result<()> {
    let dir = dest
        .parent()
        .context("destination has no parent directory")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // A temporary file next to the destination: renamed only once the digest matches, removed
    // on any error when it drops.
    let mut partial = tempfile::NamedTempFile::new_in(dir)?;
    let mut response = client.get(url).send().await?.error_for_status()?;
    let mut hasher = Sha256::default();
    while let Some(chunk) = response.chunk().await? {
        hasher.update(&chunk);
        partial.write_all(&chunk)?;
    }
    let got = hasher.finish();
    if got != want {
        bail!("sha256 mismatch: expected {want}, got {got}");
    }
    partial.as_file().sync_all()?;
    // NamedTempFile is 0600; inputs are not secret and end up world-readable on the ISO anyway.
    fs::set_permissions(
        partial.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )?;
    partial
        .persist(dest)
        .with_context(|| format!("moving the download to {}", dest.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_input_directory() {
        let root = Path::new("/in");
        assert_eq!(
            checked_path(root, "k8s/kubeadm").unwrap(),
            Path::new("/in/k8s/kubeadm")
        );
        for bad in ["", "../x", "/etc/passwd", "k8s/../../x", "./x"] {
            assert!(checked_path(root, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sources_file_shape() {
        let s: Sources = toml::from_str(
            "[[file]]\nurl = \"https://a/b\"\nsha256 = \"00\"\npath = \"k8s/kubeadm\"\n",
        )
        .unwrap();
        assert_eq!(s.files.len(), 1);
        assert!(
            toml::from_str::<Sources>(
                "[[file]]\nurl = \"x\"\nsha256 = \"00\"\npath = \"p\"\nextra = 1\n"
            )
            .is_err()
        );
    }
}
