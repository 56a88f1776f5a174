//! The binaries ISO, built by the library with xorriso and read back with an independent reader
//! (`isoinfo` from genisoimage): names, modes, Joliet and Rock Ridge, and every byte.

use std::fs;
use std::path::Path;
use std::process::Command;

use cks_bootstrap::iso::{self, IsoManifest, IsoSpec, Xorriso};

use crate::harness::*;

/// A small input tree in the documented layout; contents are arbitrary bytes.
pub fn sample_input(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![
        ("k8s/kubeadm".to_owned(), b"#!/bin/sh\necho kubeadm\n".to_vec()),
        ("k8s/kubelet".to_owned(), b"#!/bin/sh\necho kubelet\n".to_vec()),
        ("k8s/kubectl".to_owned(), b"#!/bin/sh\necho kubectl\n".to_vec()),
        ("cni/cni-plugins-linux-amd64-v1.5.1.tgz".to_owned(), (0..=255u8).cycle().take(70_000).collect()),
        ("cri-tools/crictl-v1.33.0-linux-amd64.tar.gz".to_owned(), vec![7u8; 3000]),
        ("docker/registry.k8s.io_kube-apiserver_v1.33.1_with_a_name_longer_than_sixty_four_characters.tar".to_owned(), vec![1u8; 5000]),
        ("docker/registry.k8s.io_pause_3.10.tar".to_owned(), vec![2u8; 100]),
        ("etcd/etcd-v3.5.21-linux-amd64.tar.gz".to_owned(), vec![3u8; 4096]),
        ("network.yaml".to_owned(), b"apiVersion: v1\nkind: List\nitems: []\n".to_vec()),
        ("dashboard.yaml".to_owned(), b"apiVersion: v1\nkind: List\nitems: []\n".to_vec()),
        ("provider.yaml".to_owned(), b"# ccm\n".to_vec()),
        ("snapshot-crds.yaml".to_owned(), Vec::new()),
    ];
    let random: Vec<u8> = (0..10_000).map(|_| random_u32() as u8).collect();
    files.push(("manifest.yaml".to_owned(), random));
    for (path, content) in &files {
        write(dir, path, content);
    }
    files
}

fn isoinfo() -> std::path::PathBuf {
    tool("isoinfo", "genisoimage")
}

#[test]
fn binaries_iso_reads_back_with_isoinfo() {
    let input = tempfile::tempdir().unwrap();
    let files = sample_input(input.path());
    let out = tempfile::tempdir().unwrap();
    let spec = IsoSpec {
        from: input.path().to_path_buf(),
        output: out.path().join("v1.33.1-x86_64.iso"),
        kubernetes_version: Some("1.33.1".parse().unwrap()),
        etcd_version: Some("3.5.21".into()),
    };
    let report = iso::build(&spec, &Xorriso::default()).unwrap();
    let image = &report.output;
    let (sha, size) = iso::sha256_file(image).unwrap();
    assert_eq!((sha, size), (report.sha256.clone(), report.size));

    let info = run_ok(Command::new(isoinfo()).arg("-d").arg("-i").arg(image));
    assert!(info.contains("Volume id: CDROM"), "{info}");
    assert!(info.contains("Joliet"), "no Joliet: {info}");
    assert!(info.contains("Rock Ridge"), "no Rock Ridge: {info}");

    // Rock Ridge names and every byte.
    let listing = run_ok(Command::new(isoinfo()).args(["-R", "-f", "-i"]).arg(image));
    for (path, content) in &files {
        assert!(
            listing.lines().any(|l| l == format!("/{path}")),
            "{path} missing from:\n{listing}"
        );
        let got = Command::new(isoinfo())
            .args(["-R", "-i"])
            .arg(image)
            .arg("-x")
            .arg(format!("/{path}"))
            .output()
            .unwrap();
        assert!(got.status.success());
        assert_eq!(&got.stdout, content, "{path} differs");
    }
    // Joliet keeps the long names too.
    let joliet = run_ok(Command::new(isoinfo()).args(["-J", "-f", "-i"]).arg(image));
    assert!(joliet.contains("/docker/registry.k8s.io_kube-apiserver_v1.33.1_with_a_name_longer_than_sixty_four_characters.tar"));

    // Modes: binaries executable, the rest read-only.
    let long = run_ok(Command::new(isoinfo()).args(["-R", "-l", "-i"]).arg(image));
    let mode_of = |name: &str| {
        long.lines()
            .find(|l| l.trim_end().ends_with(&format!(" {name}")))
            .map(|l| l[..10].to_owned())
            .unwrap()
    };
    assert_eq!(mode_of("kubeadm"), "-rwxr-xr-x");
    assert_eq!(mode_of("network.yaml"), "-rw-r--r--");

    // The manifest on the ISO lists every input with its digest and the versions.
    let manifest = Command::new(isoinfo())
        .args(["-R", "-i"])
        .arg(image)
        .args(["-x", "/cks-manifest.json"])
        .output()
        .unwrap();
    let manifest: IsoManifest = serde_json::from_slice(&manifest.stdout).unwrap();
    assert_eq!(manifest, report.manifest);
    assert_eq!(manifest.files.len(), files.len());
    assert_eq!(manifest.versions["kubernetes"], "v1.33.1");
    assert_eq!(manifest.versions["etcd"], "v3.5.21");

    // SHA256SUMS works with sha256sum -c on an extracted tree.
    let tree = tempfile::tempdir().unwrap();
    for path in manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .chain(["SHA256SUMS"])
    {
        let got = Command::new(isoinfo())
            .args(["-R", "-i"])
            .arg(image)
            .arg("-x")
            .arg(format!("/{path}"))
            .output()
            .unwrap();
        write(tree.path(), path, got.stdout);
    }
    run_ok(
        Command::new(tool("sha256sum", "coreutils"))
            .args(["--strict", "-c", "SHA256SUMS"])
            .current_dir(tree.path()),
    );
    fs::write(tree.path().join("network.yaml"), b"tampered").unwrap();
    assert!(
        !run(Command::new("sha256sum")
            .args(["-c", "SHA256SUMS"])
            .current_dir(tree.path()))
        .status
        .success()
    );
}

#[test]
fn missing_xorriso_is_a_clear_error() {
    let input = tempfile::tempdir().unwrap();
    sample_input(input.path());
    let out = tempfile::tempdir().unwrap();
    let spec = IsoSpec {
        from: input.path().into(),
        output: out.path().join("x.iso"),
        kubernetes_version: None,
        etcd_version: None,
    };
    let err = iso::build(
        &spec,
        &Xorriso {
            program: "/nonexistent/xorriso".into(),
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("xorriso"), "{err}");
    assert!(!out.path().join("x.iso").exists());
}
