//! The binaries ISO: everything a node installs offline, in the layout CKS nodes expect, plus a
//! manifest (`cks-manifest.json`) and `SHA256SUMS` so what is on the medium can be verified.
//!
//! Input is a directory laid out like the ISO itself (see [`plan`]); it is checked strictly
//! (missing pieces, stray files and mixed CPU architectures are errors) because a node finds out
//! about a bad ISO only at boot, offline. Writing goes through [`IsoWriter`]; [`Xorriso`] drives
//! Debian's `xorriso` to produce ISO 9660 with Rock Ridge (modes, long names) and Joliet.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::token::hex;
use crate::version::KubernetesVersion;

/// The volume label. CKS node templates look for a CD-ROM labelled `CDROM` (mkisofs' default),
/// so ISOs built here also work with CloudStack's own nodes.
pub const VOLUME_ID: &str = "CDROM";
/// The manifest's name at the root of the ISO.
pub const MANIFEST_NAME: &str = "cks-manifest.json";
/// `sha256sum -c` input at the root of the ISO.
pub const SUMS_NAME: &str = "SHA256SUMS";

const KUBERNETES_BINARIES: [&str; 3] = ["kubeadm", "kubelet", "kubectl"];
const REQUIRED_MANIFESTS: [&str; 2] = ["network.yaml", "dashboard.yaml"];
const OPTIONAL_FILES: [&str; 6] = [
    "provider.yaml",
    "autoscaler.yaml",
    "snapshot-crds.yaml",
    "manifest.yaml",
    "kubelet.service",
    "10-kubeadm.conf",
];

/// What to build.
#[derive(Debug, Clone)]
pub struct IsoSpec {
    /// The input directory (layout in [`plan`]).
    pub from: PathBuf,
    /// Where the image is written; replaced atomically.
    pub output: PathBuf,
    /// Recorded in the manifest.
    pub kubernetes_version: Option<KubernetesVersion>,
    /// Requires `etcd/*.tar.gz`; must match the version in its name when it has one.
    pub etcd_version: Option<String>,
}

/// One file of the ISO and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoFile {
    /// The file on disk.
    pub source: PathBuf,
    /// Path inside the ISO, `/`-separated, without a leading slash.
    pub path: String,
    /// Mode 0755 on the ISO instead of 0644.
    pub executable: bool,
}

/// The manifest written to the root of the ISO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsoManifest {
    /// Layout version of this manifest (1).
    pub format: u32,
    /// `amd64` or `arm64`, from the archive names.
    pub arch: Option<String>,
    /// Component versions: `kubernetes`, `etcd`, `cni-plugins`, `crictl` when known.
    pub versions: BTreeMap<String, String>,
    /// Every file on the ISO except the manifest and SHA256SUMS, sorted by path.
    pub files: Vec<ManifestEntry>,
}

/// One file's size and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Path inside the ISO.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// Files to write and the manifest describing them.
#[derive(Debug, Clone)]
pub struct IsoPlan {
    /// In ISO path order.
    pub files: Vec<IsoFile>,
    /// What `cks-manifest.json` will say.
    pub manifest: IsoManifest,
}

/// The outcome of [`build`].
#[derive(Debug, Clone)]
pub struct IsoReport {
    /// The image written.
    pub output: PathBuf,
    /// Bytes.
    pub size: u64,
    /// Of the whole image: the `checksum` to register the ISO with.
    pub sha256: String,
    /// The manifest written to the ISO.
    pub manifest: IsoManifest,
}

/// Writes an ISO 9660 image from a list of files.
pub trait IsoWriter {
    /// Writes `files` (plus nothing else) to `output`, which does not exist yet.
    fn write(&self, volume_id: &str, files: &[IsoFile], output: &Path) -> Result<()>;
}

/// [`IsoWriter`] running `xorriso` (Debian package `xorriso`).
#[derive(Debug, Clone)]
pub struct Xorriso {
    /// The xorriso executable (looked up in `PATH` when relative).
    pub program: PathBuf,
}

impl Default for Xorriso {
    fn default() -> Self {
        Xorriso {
            program: PathBuf::from("xorriso"),
        }
    }
}

impl IsoWriter for Xorriso {
    fn write(&self, volume_id: &str, files: &[IsoFile], output: &Path) -> Result<()> {
        let mut cmd = Command::new(&self.program);
        // No startup files, no wildcard expansion, and any problem (SORRY or worse) fails the run.
        cmd.args([
            "-no_rc",
            "-abort_on",
            "FAILURE",
            "-return_with",
            "SORRY",
            "32",
        ]);
        cmd.args(["-disk_pattern", "off", "-iso_rr_pattern", "off"]);
        cmd.arg("-outdev").arg(output);
        cmd.args([
            "-volid",
            volume_id,
            "-joliet",
            "on",
            "-rockridge",
            "on",
            "-compliance",
            "joliet_long_names",
        ]);
        for file in files {
            cmd.arg("-map")
                .arg(&file.source)
                .arg(format!("/{}", file.path));
        }
        // Owned by root, readable by all; only the binaries are executable.
        cmd.args(["-chown_r", "0", "/", "--", "-chgrp_r", "0", "/", "--"]);
        cmd.args(["-find", "/", "-type", "d", "-exec", "chmod", "0755", "--"]);
        cmd.args(["-find", "/", "-type", "f", "-exec", "chmod", "0644", "--"]);
        let executables: Vec<String> = files
            .iter()
            .filter(|f| f.executable)
            .map(|f| format!("/{}", f.path))
            .collect();
        if !executables.is_empty() {
            cmd.args(["-chmod", "0755"]).args(&executables).arg("--");
        }
        cmd.arg("-commit");
        let out = cmd.output().map_err(|e| Error::Tool {
            tool: "xorriso",
            detail: format!(
                "cannot run {} ({e}); install Debian's xorriso",
                self.program.display()
            ),
        })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let problems: Vec<&str> = stderr
                .lines()
                .filter(|l| l.contains("SORRY") || l.contains("FAILURE") || l.contains("FATAL"))
                .collect();
            return Err(Error::Tool {
                tool: "xorriso",
                detail: format!("{}: {}", out.status, problems.join("; ")),
            });
        }
        Ok(())
    }
}

/// Streaming SHA-256 for large files.
pub struct Sha256(aws_lc_rs::digest::Context);

impl Default for Sha256 {
    fn default() -> Self {
        Sha256(aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256))
    }
}

impl Sha256 {
    /// Adds data.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// Lowercase hex digest.
    pub fn finish(self) -> String {
        hex(self.0.finish().as_ref())
    }
}

/// SHA-256 of a file, hex, and its size.
pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::default();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hasher.finish(), size))
}

fn layout_error(msg: impl Into<String>) -> Error {
    Error::IsoLayout(msg.into())
}

/// Regular files directly inside `dir`, sorted by name; subdirectories are refused.
fn files_in(dir: &Path, rel: &str) -> Result<Vec<(String, PathBuf)>> {
    let mut res = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = entry.file_name().into_string().map_err(|n| {
            layout_error(format!("{rel}/{} is not a UTF-8 name", n.to_string_lossy()))
        })?;
        // Follows symbolic links, so a directory of links into a download cache works.
        let meta = fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if !meta.is_file() {
            return Err(layout_error(format!("{rel}/{name} is not a regular file")));
        }
        res.push((name, path));
    }
    res.sort();
    Ok(res)
}

/// `cni-plugins-linux-amd64-v1.5.1.tgz` → (`amd64`, `v1.5.1`); `crictl-v1.33.0-linux-arm64.tar.gz`
/// → (`arm64`, `v1.33.0`). Unknown shapes give `None` rather than an error.
fn arch_and_version(name: &str) -> (Option<String>, Option<String>) {
    let stem = name.trim_end_matches(".tar.gz").trim_end_matches(".tgz");
    let mut arch = None;
    let mut version = None;
    for part in stem.split('-') {
        if ["amd64", "arm64"].contains(&part) {
            arch = Some(part.to_owned());
        }
        let digits = part.strip_prefix('v').unwrap_or(part);
        if part.starts_with('v')
            && digits.split('.').count() == 3
            && digits.split('.').all(|p| p.parse::<u32>().is_ok())
        {
            version = Some(part.to_owned());
        }
    }
    (arch, version)
}

/// Checks the input directory and lists the ISO's files with their digests.
///
/// Layout (the ISO mirrors it):
///
/// ```text
/// k8s/kubeadm k8s/kubelet k8s/kubectl       required, executable on the ISO
/// cni/*.tgz                                  CNI plugins, at least one
/// cri-tools/*.tar.gz                         crictl, at least one
/// docker/*.tar (or *.tar.gz)                 container image archives, at least one
/// network.yaml dashboard.yaml                required manifests
/// provider.yaml autoscaler.yaml snapshot-crds.yaml manifest.yaml   optional (CCM, autoscaler, CSI)
/// kubelet.service 10-kubeadm.conf            optional, for CloudStack's own node templates
/// etcd/*.tar.gz                              optional, exactly one: etcd for external etcd nodes
/// ```
pub fn plan(spec: &IsoSpec) -> Result<IsoPlan> {
    let root = &spec.from;
    if !root.is_dir() {
        return Err(layout_error(format!(
            "{} is not a directory",
            root.display()
        )));
    }
    let mut files = Vec::new();
    let mut versions = BTreeMap::new();
    let mut arches: Vec<(String, String)> = Vec::new();
    let mut seen_dirs = Vec::new();
    let mut etcd_archive = None;

    for (name, path) in top_level(root)? {
        match (name.as_str(), path.is_dir()) {
            ("k8s", true) => {
                let found = files_in(&path, "k8s")?;
                for (file, _) in &found {
                    if !KUBERNETES_BINARIES.contains(&file.as_str()) {
                        return Err(layout_error(format!(
                            "unexpected k8s/{file}; k8s/ holds kubeadm, kubelet, kubectl"
                        )));
                    }
                }
                for want in KUBERNETES_BINARIES {
                    if !found.iter().any(|(f, _)| f == want) {
                        return Err(layout_error(format!("k8s/{want} is missing")));
                    }
                }
                files.extend(found.into_iter().map(|(f, source)| IsoFile {
                    source,
                    path: format!("k8s/{f}"),
                    executable: true,
                }));
            }
            (dir @ ("cni" | "cri-tools" | "docker" | "etcd"), true) => {
                let found = files_in(&path, dir)?;
                let accepts = |f: &str| match dir {
                    "cni" => f.ends_with(".tgz") || f.ends_with(".tar.gz"),
                    "docker" => f.ends_with(".tar") || f.ends_with(".tar.gz"),
                    _ => f.ends_with(".tar.gz"),
                };
                if let Some((bad, _)) = found.iter().find(|(f, _)| !accepts(f)) {
                    return Err(layout_error(format!("unexpected {dir}/{bad}")));
                }
                if found.is_empty() {
                    return Err(layout_error(format!("{dir}/ is empty")));
                }
                if dir == "etcd" && found.len() > 1 {
                    return Err(layout_error(
                        "etcd/ must hold exactly one etcd release archive",
                    ));
                }
                if dir != "docker" {
                    for (f, _) in &found {
                        let (arch, version) = arch_and_version(f);
                        if let Some(arch) = arch {
                            arches.push((format!("{dir}/{f}"), arch));
                        }
                        let component = match dir {
                            "cni" => "cni-plugins",
                            "cri-tools" => "crictl",
                            _ => "etcd",
                        };
                        if let Some(v) = version {
                            versions.insert(component.to_owned(), v);
                        }
                    }
                }
                if dir == "etcd" {
                    etcd_archive = found.first().map(|(f, _)| f.clone());
                }
                seen_dirs.push(dir.to_owned());
                files.extend(found.into_iter().map(|(f, source)| IsoFile {
                    source,
                    path: format!("{dir}/{f}"),
                    executable: false,
                }));
            }
            (file, false)
                if REQUIRED_MANIFESTS.contains(&file) || OPTIONAL_FILES.contains(&file) =>
            {
                if !fs::metadata(&path)
                    .map_err(|e| Error::io(&path, e))?
                    .is_file()
                {
                    return Err(layout_error(format!("{file} is not a regular file")));
                }
                files.push(IsoFile {
                    source: path,
                    path: name.clone(),
                    executable: false,
                });
            }
            (other, _) => {
                return Err(layout_error(format!(
                    "unexpected {other}{}; expected k8s/, cni/, cri-tools/, docker/, etcd/ and the manifests \
                     network.yaml, dashboard.yaml, provider.yaml, autoscaler.yaml, snapshot-crds.yaml, manifest.yaml",
                    if path.is_dir() { "/" } else { "" }
                )));
            }
        }
    }

    if !files.iter().any(|f| f.path.starts_with("k8s/")) {
        return Err(layout_error(
            "k8s/ with kubeadm, kubelet and kubectl is missing",
        ));
    }
    for dir in ["cni", "cri-tools", "docker"] {
        if !seen_dirs.iter().any(|d| d == dir) {
            return Err(layout_error(format!("{dir}/ is missing")));
        }
    }
    for manifest in REQUIRED_MANIFESTS {
        if !files.iter().any(|f| f.path == manifest) {
            return Err(layout_error(format!("{manifest} is missing")));
        }
    }
    if let Some((first_file, arch)) = arches.first()
        && let Some((file, other)) = arches.iter().find(|(_, a)| a != arch)
    {
        return Err(layout_error(format!(
            "{first_file} is for {arch} but {file} is for {other}"
        )));
    }
    match (&spec.etcd_version, &etcd_archive) {
        (Some(_), None) => {
            return Err(layout_error(
                "--etcd-version was given but etcd/ has no archive",
            ));
        }
        (Some(want), Some(archive)) => {
            let want = want.strip_prefix('v').unwrap_or(want);
            if let Some(found) = versions.get("etcd")
                && found.trim_start_matches('v') != want
            {
                return Err(layout_error(format!(
                    "etcd version {want} was requested but the archive is {archive}"
                )));
            }
            versions.insert("etcd".into(), format!("v{want}"));
        }
        _ => {}
    }
    if let Some(k8s) = &spec.kubernetes_version {
        versions.insert("kubernetes".into(), k8s.tag());
    }

    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut entries = Vec::with_capacity(files.len());
    for file in &files {
        let (sha256, size) = sha256_file(&file.source)?;
        entries.push(ManifestEntry {
            path: file.path.clone(),
            size,
            sha256,
        });
    }
    let manifest = IsoManifest {
        format: 1,
        arch: arches.first().map(|(_, a)| a.clone()),
        versions,
        files: entries,
    };
    Ok(IsoPlan { files, manifest })
}

fn top_level(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut res = Vec::new();
    for entry in fs::read_dir(root).map_err(|e| Error::io(root, e))? {
        let entry = entry.map_err(|e| Error::io(root, e))?;
        let name = entry
            .file_name()
            .into_string()
            .map_err(|n| layout_error(format!("{} is not a UTF-8 name", n.to_string_lossy())))?;
        if name == MANIFEST_NAME || name == SUMS_NAME {
            return Err(layout_error(format!(
                "{name} is generated; remove it from the input"
            )));
        }
        res.push((name, entry.path()));
    }
    res.sort();
    Ok(res)
}

/// `sha256sum` format, two spaces, one line per file.
pub fn sha256sums(manifest: &IsoManifest) -> String {
    manifest
        .files
        .iter()
        .map(|f| format!("{}  {}\n", f.sha256, f.path))
        .collect()
}

/// Plans, writes the manifest and the ISO (atomically: a partial file is renamed into place
/// only on success), and hashes the result.
pub fn build(spec: &IsoSpec, writer: &dyn IsoWriter) -> Result<IsoReport> {
    let out_dir = match spec.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // An image inside its own input would be refused as a stray file on the next build.
    if let (Ok(out), Ok(from)) = (out_dir.canonicalize(), spec.from.canonicalize())
        && out.starts_with(&from)
    {
        return Err(layout_error(format!(
            "the output {} must not be inside the input directory",
            spec.output.display()
        )));
    }
    let mut plan = plan(spec)?;
    let file_name = spec.output.file_name().ok_or_else(|| {
        layout_error(format!("output {} has no file name", spec.output.display()))
    })?;
    let staging = tempfile::Builder::new()
        .prefix(".cks-iso-")
        .tempdir_in(&out_dir)
        .map_err(|e| Error::io(&out_dir, e))?;
    let manifest_path = staging.path().join(MANIFEST_NAME);
    let sums_path = staging.path().join(SUMS_NAME);
    let json = serde_json::to_string_pretty(&plan.manifest)
        .map_err(|e| Error::IsoLayout(e.to_string()))?;
    fs::write(&manifest_path, json + "\n").map_err(|e| Error::io(&manifest_path, e))?;
    fs::write(&sums_path, sha256sums(&plan.manifest)).map_err(|e| Error::io(&sums_path, e))?;
    plan.files.push(IsoFile {
        source: manifest_path,
        path: MANIFEST_NAME.into(),
        executable: false,
    });
    plan.files.push(IsoFile {
        source: sums_path,
        path: SUMS_NAME.into(),
        executable: false,
    });

    // Inside the staging directory, so it disappears with it on failure.
    let partial = staging.path().join(file_name);
    writer.write(VOLUME_ID, &plan.files, &partial)?;
    fs::rename(&partial, &spec.output).map_err(|e| Error::io(&spec.output, e))?;
    let (sha256, size) = sha256_file(&spec.output)?;
    Ok(IsoReport {
        output: spec.output.clone(),
        size,
        sha256,
        manifest: plan.manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample_input(dir: &Path) {
        let put = |rel: &str, content: &[u8]| {
            let path = dir.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        };
        for bin in KUBERNETES_BINARIES {
            put(
                &format!("k8s/{bin}"),
                format!("#!/bin/sh\necho {bin}\n").as_bytes(),
            );
        }
        put("cni/cni-plugins-linux-amd64-v1.5.1.tgz", b"cni");
        put("cri-tools/crictl-v1.33.0-linux-amd64.tar.gz", b"crictl");
        put(
            "docker/registry.k8s.io_kube-apiserver_v1.33.1.tar",
            b"image",
        );
        put("network.yaml", b"kind: List\n");
        put("dashboard.yaml", b"kind: List\n");
    }

    fn spec(dir: &Path) -> IsoSpec {
        IsoSpec {
            from: dir.to_path_buf(),
            output: dir.join("out.iso"),
            kubernetes_version: None,
            etcd_version: None,
        }
    }

    #[test]
    fn plan_reads_versions_and_hashes() {
        let dir = tempfile::tempdir().unwrap();
        sample_input(dir.path());
        fs::create_dir(dir.path().join("etcd")).unwrap();
        fs::write(
            dir.path().join("etcd/etcd-v3.5.21-linux-amd64.tar.gz"),
            b"etcd",
        )
        .unwrap();
        let mut s = spec(dir.path());
        s.kubernetes_version = Some("1.33.1".parse().unwrap());
        s.etcd_version = Some("3.5.21".into());
        let plan = plan(&s).unwrap();
        assert_eq!(plan.manifest.arch.as_deref(), Some("amd64"));
        let versions: Vec<(&str, &str)> = plan
            .manifest
            .versions
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            versions,
            [
                ("cni-plugins", "v1.5.1"),
                ("crictl", "v1.33.0"),
                ("etcd", "v3.5.21"),
                ("kubernetes", "v1.33.1")
            ]
        );
        let network = plan
            .manifest
            .files
            .iter()
            .find(|f| f.path == "network.yaml")
            .unwrap();
        // sha256("kind: List\n")
        assert_eq!(
            network.sha256,
            hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"kind: List\n").as_ref())
        );
        assert!(
            plan.files
                .iter()
                .filter(|f| f.executable)
                .all(|f| f.path.starts_with("k8s/"))
        );
        assert_eq!(plan.files.iter().filter(|f| f.executable).count(), 3);
    }

    #[test]
    fn layout_errors_are_specific() {
        type Mutation = Box<dyn Fn(&Path)>;
        let cases: Vec<(&str, Mutation, &str)> = vec![
            (
                "missing kubelet",
                Box::new(|d| fs::remove_file(d.join("k8s/kubelet")).unwrap()),
                "k8s/kubelet is missing",
            ),
            (
                "stray file",
                Box::new(|d| fs::write(d.join("README"), b"x").unwrap()),
                "unexpected README",
            ),
            (
                "stray in k8s",
                Box::new(|d| fs::write(d.join("k8s/kube-proxy"), b"x").unwrap()),
                "unexpected k8s/kube-proxy",
            ),
            (
                "no images",
                Box::new(|d| fs::remove_dir_all(d.join("docker")).unwrap()),
                "docker/ is missing",
            ),
            (
                "no dashboard",
                Box::new(|d| fs::remove_file(d.join("dashboard.yaml")).unwrap()),
                "dashboard.yaml is missing",
            ),
            (
                "mixed arch",
                Box::new(|d| {
                    fs::remove_file(d.join("cri-tools/crictl-v1.33.0-linux-amd64.tar.gz")).unwrap();
                    fs::write(d.join("cri-tools/crictl-v1.33.0-linux-arm64.tar.gz"), b"x").unwrap();
                }),
                "is for amd64 but",
            ),
            (
                "generated name",
                Box::new(|d| fs::write(d.join(SUMS_NAME), b"x").unwrap()),
                "is generated",
            ),
            (
                "nested dir",
                Box::new(|d| fs::create_dir(d.join("cni/sub")).unwrap()),
                "not a regular file",
            ),
        ];
        for (what, mutate, want) in cases {
            let dir = tempfile::tempdir().unwrap();
            sample_input(dir.path());
            mutate(dir.path());
            let err = plan(&spec(dir.path())).unwrap_err().to_string();
            assert!(err.contains(want), "{what}: {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        sample_input(dir.path());
        let mut s = spec(dir.path());
        s.etcd_version = Some("3.5.21".into());
        assert!(
            plan(&s)
                .unwrap_err()
                .to_string()
                .contains("etcd/ has no archive")
        );
        fs::create_dir(dir.path().join("etcd")).unwrap();
        fs::write(
            dir.path().join("etcd/etcd-v3.5.20-linux-amd64.tar.gz"),
            b"etcd",
        )
        .unwrap();
        assert!(
            plan(&s)
                .unwrap_err()
                .to_string()
                .contains("3.5.21 was requested")
        );
    }

    #[test]
    fn failed_writer_leaves_no_output() {
        struct Failing;
        impl IsoWriter for Failing {
            fn write(&self, _: &str, _: &[IsoFile], output: &Path) -> Result<()> {
                fs::write(output, b"half an image").unwrap();
                Err(Error::Tool {
                    tool: "xorriso",
                    detail: "boom".into(),
                })
            }
        }
        let dir = tempfile::tempdir().unwrap();
        sample_input(dir.path());
        let out = tempfile::tempdir().unwrap();
        let mut s = spec(dir.path());
        s.output = out.path().join("x.iso");
        assert!(build(&s, &Failing).is_err());
        assert_eq!(
            fs::read_dir(out.path()).unwrap().count(),
            0,
            "no partial file or staging dir left"
        );
    }

    #[test]
    fn output_inside_the_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        sample_input(dir.path());
        let err = build(&spec(dir.path()), &Xorriso::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("must not be inside the input directory"),
            "{err}"
        );
    }

    #[test]
    fn names_parse() {
        assert_eq!(
            arch_and_version("etcd-v3.5.21-linux-arm64.tar.gz"),
            (Some("arm64".into()), Some("v3.5.21".into()))
        );
        assert_eq!(arch_and_version("plugins.tgz"), (None, None));
    }
}
