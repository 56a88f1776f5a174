//! cloud-init user data (`#cloud-config`) for every node type.
//!
//! Each document is a typed `CloudConfig` struct serialized with serde-saphyr, never a text template.
//! The shell scripts a node runs are constants (in `scripts/`, checked by shellcheck in the
//! tests); everything cluster-specific reaches them through `/etc/cks/node.env`, whose values
//! are validated and quoted here. What each node gets:
//!
//! | node | secrets in its user data |
//! |---|---|
//! | first control | the CA keys (kubeadm init needs them), a bootstrap token with a TTL, the CCM's API keys |
//! | additional control | the bootstrap token and the two-hour certificate key: no CA key |
//! | worker / external | the bootstrap token only, plus the CA hash to verify the cluster |
//! | etcd | its own server and peer certificates |
//!
//! With a private registry every Kubernetes node also carries its credentials (containerd pulls
//! with them), in a 0600 file.
//!
//! Every Kubernetes node drops pod traffic to the metadata service (`cks-metadata-guard`)
//! before kubelet may start, because CloudStack serves the user data above to anyone on the VM.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;
use serde_saphyr::LitString;

use crate::cluster::{API_SERVER_PORT, ClusterBootstrap, RegistryCredentials};
use crate::cni::{CniError, CniFragment};
use crate::error::{Error, Result};
use crate::etcd::{self, EtcdLayout};
use crate::kubeadm::{self, ControlPlaneJoin, JoinSpec};
use crate::pki::ClusterPki;
use crate::token::{BootstrapToken, CertificateKey};

/// Installs binaries and images from the ISO (every node).
pub const INSTALL_SCRIPT: &str = include_str!("scripts/cks-install.sh");
/// Runs kubeadm init/join and the first control node's follow-up.
pub const KUBEADM_SCRIPT: &str = include_str!("scripts/cks-kubeadm.sh");
/// Blocks pod access to the metadata service.
pub const METADATA_GUARD_SCRIPT: &str = include_str!("scripts/cks-metadata-guard.sh");
/// `cks-upgrade <version>`: kubeadm upgrade from the attached ISO, then kubelet and kubectl
/// (every Kubernetes node; the service runs it over SSH).
pub const UPGRADE_SCRIPT: &str = include_str!("scripts/cks-upgrade.sh");

const BIN_DIR: &str = "/opt/cks/bin";
const NODE_ENV: &str = "/etc/cks/node.env";
const CCM_SECRET_PATH: &str = "/etc/cks/secrets/cloudstack-secret.yaml";
/// containerd's built-in default; cks-install replaces it with the pause image from the ISO.
const DEFAULT_SANDBOX_IMAGE: &str = "registry.k8s.io/pause:3.10";

const METADATA_GUARD_UNIT: &str = "\
[Unit]
Description=cks: drop pod traffic to the VM metadata service
Wants=network-online.target
After=network-online.target
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/opt/cks/bin/cks-metadata-guard

[Install]
WantedBy=multi-user.target
";

// kubelet may only run once the guard is in place (Requires + After).
const KUBELET_UNIT: &str = "\
[Unit]
Description=kubelet: the Kubernetes node agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target containerd.service cks-metadata-guard.service
Requires=cks-metadata-guard.service

[Service]
ExecStart=/opt/bin/kubelet
Restart=always
RestartSec=10
StartLimitInterval=0

[Install]
WantedBy=multi-user.target
";

// kubeadm writes the kubelet's configuration and flags; this drop-in passes them on.
const KUBELET_KUBEADM_DROPIN: &str = "\
[Service]
Environment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"
Environment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/opt/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
";

const MODULES: &str = "overlay\nbr_netfilter\n";
const SYSCTL: &str = "\
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.ipv4.ip_forward = 1
";

/// A `#cloud-config` document; only the keys cks uses, plus what a CNI configuration adds.
#[derive(Debug, Default, Serialize)]
pub(crate) struct CloudConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    users: Vec<User>,
    ssh_pwauth: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    bootcmd: Vec<Entry<Command>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    write_files: Vec<Entry<WriteFile>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    runcmd: Vec<Entry<Command>>,
    /// Other top-level keys, from a CNI configuration.
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct User {
    name: &'static str,
    sudo: &'static str,
    shell: &'static str,
    lock_passwd: bool,
    ssh_authorized_keys: Vec<String>,
}

/// An item we built, or one taken verbatim from a CNI configuration.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Entry<T> {
    Ours(T),
    Foreign(serde_json::Value),
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Command {
    Argv(Vec<String>),
    Shell(String),
}

#[derive(Debug, Serialize)]
struct WriteFile {
    path: String,
    permissions: &'static str,
    content: LitString,
}

impl CloudConfig {
    fn file(
        &mut self,
        path: impl Into<String>,
        permissions: &'static str,
        content: impl Into<String>,
    ) {
        let content = LitString(content.into());
        self.write_files.push(Entry::Ours(WriteFile {
            path: path.into(),
            permissions,
            content,
        }));
    }

    fn run(&mut self, argv: &[&str]) {
        self.runcmd.push(Entry::Ours(Command::Argv(
            argv.iter().map(|s| s.to_string()).collect(),
        )));
    }

    fn render(&self) -> Result<String> {
        let mut options = serde_saphyr::SerializerOptions::default();
        // Long one-line values (SSH keys) stay plain; file contents are literal blocks anyway.
        options.prefer_block_scalars = false;
        Ok(format!(
            "#cloud-config\n{}",
            serde_saphyr::to_string_with_options(self, options)?
        ))
    }

    /// Merges a rendered CNI configuration: its commands run after `kubeadm init` and the
    /// network manifest, its files and other keys join ours, and a key we set is a conflict.
    fn merge_cni(&mut self, fragment: CniFragment) -> std::result::Result<(), CniError> {
        match fragment {
            CniFragment::RunCommands(items) => {
                self.runcmd.extend(items.into_iter().map(Entry::Foreign))
            }
            CniFragment::Script(text) => {
                self.file("/opt/cks/cni/setup", "0700", text);
                self.run(&["/opt/cks/cni/setup"]);
            }
            CniFragment::CloudConfig(map) => {
                for (key, value) in map {
                    let list = |value: serde_json::Value| match value {
                        serde_json::Value::Array(items) => Ok(items),
                        _ => Err(CniError::NotAList { key: key.clone() }),
                    };
                    match key.as_str() {
                        "runcmd" => self
                            .runcmd
                            .extend(list(value)?.into_iter().map(Entry::Foreign)),
                        "bootcmd" => self
                            .bootcmd
                            .extend(list(value)?.into_iter().map(Entry::Foreign)),
                        "write_files" => self
                            .write_files
                            .extend(list(value)?.into_iter().map(Entry::Foreign)),
                        "users" | "ssh_pwauth" => return Err(CniError::Conflict(key)),
                        _ if self.extra.contains_key(&key) => return Err(CniError::Conflict(key)),
                        _ => {
                            self.extra.insert(key, value);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Quotes `KEY='value'` for both bash and systemd's EnvironmentFile, which share single quotes
/// but not escapes, so values that would need one are refused.
fn env_line(key: &str, value: &str) -> Result<String> {
    if value.contains(|c: char| c == '\'' || c == '\\' || c.is_control()) {
        return Err(Error::InvalidSpec(format!(
            "value of {key} cannot be written to {NODE_ENV}: {value:?}"
        )));
    }
    Ok(format!("{key}='{value}'\n"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    ControlInit,
    ControlJoin,
    Worker,
    Etcd,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::ControlInit => "control-init",
            Role::ControlJoin => "control-join",
            Role::Worker => "worker",
            Role::Etcd => "etcd",
        }
    }
}

/// Builds the user data of each node of one cluster.
#[derive(Debug, Clone, Copy)]
pub struct NodeUserData<'a> {
    cluster: &'a ClusterBootstrap,
    pki: &'a ClusterPki,
}

impl<'a> NodeUserData<'a> {
    /// Checks the description and that `pki` covers every etcd node.
    pub fn new(cluster: &'a ClusterBootstrap, pki: &'a ClusterPki) -> Result<Self> {
        cluster.validate()?;
        if !cluster.pod_cidr.network().is_ipv4() {
            return Err(Error::InvalidSpec(
                "the pod CIDR must be IPv4 (the metadata guard is IPv4)".into(),
            ));
        }
        for node in &cluster.etcd_nodes {
            match pki.etcd_member(&node.name) {
                Some(m) if m.ip == node.ip => {}
                _ => {
                    return Err(Error::InvalidSpec(format!(
                        "the PKI has no certificates for etcd node {}",
                        node.name
                    )));
                }
            }
        }
        Ok(NodeUserData { cluster, pki })
    }

    /// The first control node: the cluster's PKI, `kubeadm init`, network (the ISO's
    /// `network.yaml` or the merged CNI configuration), dashboard, and the CCM secret.
    /// `certificate_key` is required when the cluster has more than one control node.
    pub fn first_control_node(
        &self,
        token: &BootstrapToken,
        certificate_key: Option<&CertificateKey>,
    ) -> Result<String> {
        let cluster = self.cluster;
        if cluster.control_nodes.len() > 1 && certificate_key.is_none() {
            return Err(Error::InvalidSpec(
                "a cluster with several control nodes needs a certificate key".into(),
            ));
        }
        let mut doc = self.kubernetes_node(Role::ControlInit, None)?;
        for file in self.pki.kubeadm_files(cluster.external_etcd()) {
            let mode = if file.secret { "0600" } else { "0644" };
            doc.file(format!("/etc/kubernetes/pki/{}", file.path), mode, file.pem);
        }
        doc.file(
            kubeadm::CONFIG_PATH,
            "0600",
            kubeadm::init_config(cluster, self.pki, token, certificate_key)?,
        );
        if let Some(cp) = &cluster.cloud_provider {
            doc.file(CCM_SECRET_PATH, "0600", ccm_secret(cp)?);
        }
        doc.run(&[&format!("{BIN_DIR}/cks-install")]);
        doc.run(&[&format!("{BIN_DIR}/cks-kubeadm"), "init"]);
        if let Some(cni) = &cluster.cni {
            // runcmd is one shell script, so this reaches the CNI's own commands.
            doc.runcmd.push(Entry::Ours(Command::Shell(
                "export KUBECONFIG=/etc/kubernetes/admin.conf PATH=/opt/bin:/usr/local/bin:$PATH"
                    .into(),
            )));
            doc.merge_cni(cni.fragment()?)?;
        }
        doc.render()
    }

    /// Control node `index` (1 or more) of [`ClusterBootstrap::control_nodes`], joining through
    /// the first control node with the certificate key `kubeadm init --upload-certs` used.
    pub fn additional_control_node(
        &self,
        index: usize,
        token: &BootstrapToken,
        certificate_key: &CertificateKey,
    ) -> Result<String> {
        let cluster = self.cluster;
        let node = match cluster.control_nodes.get(index) {
            Some(node) if index > 0 => node,
            _ => {
                return Err(Error::InvalidSpec(format!(
                    "no additional control node at index {index}"
                )));
            }
        };
        let api_server = cluster.first_control_node()?.ip;
        let join = JoinSpec {
            node_name: &node.name,
            api_server,
            token,
            control_plane: Some(ControlPlaneJoin {
                advertise_ip: node.ip,
                certificate_key,
            }),
        };
        self.joining_node(Role::ControlJoin, &join)
    }

    /// A worker (or an imported external node) named `node_name`, joining through `api_server`:
    /// the first control node's address at create time, the cluster endpoint when scaling.
    pub fn worker(
        &self,
        node_name: &str,
        api_server: IpAddr,
        token: &BootstrapToken,
    ) -> Result<String> {
        if !crate::cluster::is_dns_name(node_name) {
            return Err(Error::InvalidSpec(format!(
                "node name {node_name:?} is not a lowercase DNS name"
            )));
        }
        let join = JoinSpec {
            node_name,
            api_server,
            token,
            control_plane: None,
        };
        self.joining_node(Role::Worker, &join)
    }

    /// Etcd member `index` of [`ClusterBootstrap::etcd_nodes`]: its certificates, the etcd
    /// binaries from the ISO, and an `etcd.service` with TLS for peers and clients.
    pub fn etcd_node(&self, index: usize) -> Result<String> {
        let cluster = self.cluster;
        let node = cluster
            .etcd_nodes
            .get(index)
            .ok_or_else(|| Error::InvalidSpec(format!("no etcd node at index {index}")))?;
        let member = self.pki.etcd_member(&node.name).ok_or_else(|| {
            Error::InvalidSpec(format!(
                "the PKI has no certificates for etcd node {}",
                node.name
            ))
        })?;
        let layout = EtcdLayout::default();
        let flags = etcd::member_flags(
            &cluster.etcd_nodes,
            index,
            &cluster.etcd_cluster_token(),
            &layout,
        )?;
        let mut doc = CloudConfig {
            users: vec![self.cloud_user()],
            ..CloudConfig::default()
        };
        doc.file(NODE_ENV, "0644", self.node_env(Role::Etcd, None)?);
        doc.file(format!("{BIN_DIR}/cks-install"), "0755", INSTALL_SCRIPT);
        let pki_file = |name: &str| layout.pki_file(name).display().to_string();
        doc.file(
            pki_file("ca.crt"),
            "0644",
            self.pki.etcd_ca.cert_pem.as_str(),
        );
        doc.file(
            pki_file("server.crt"),
            "0644",
            member.server.cert_pem.as_str(),
        );
        doc.file(
            pki_file("server.key"),
            "0600",
            member.server.key_pem.as_str(),
        );
        doc.file(pki_file("peer.crt"), "0644", member.peer.cert_pem.as_str());
        doc.file(pki_file("peer.key"), "0600", member.peer.key_pem.as_str());
        doc.file(
            "/etc/systemd/system/etcd.service",
            "0644",
            etcd::systemd_unit(&flags, &layout)?,
        );
        doc.run(&[&format!("{BIN_DIR}/cks-install")]);
        doc.render()
    }

    fn joining_node(&self, role: Role, join: &JoinSpec<'_>) -> Result<String> {
        let api_server = SocketAddr::new(join.api_server, API_SERVER_PORT);
        let mut doc = self.kubernetes_node(role, Some(api_server))?;
        // Workers need no file from the PKI: discovery fetches the CA and checks it against the hash.
        let hash = self.pki.discovery_hash()?;
        doc.file(
            kubeadm::CONFIG_PATH,
            "0600",
            kubeadm::join_config(self.cluster, join, &hash)?,
        );
        doc.run(&[&format!("{BIN_DIR}/cks-install")]);
        doc.run(&[&format!("{BIN_DIR}/cks-kubeadm"), "join"]);
        doc.render()
    }

    fn cloud_user(&self) -> User {
        User {
            name: "cloud",
            sudo: "ALL=(ALL) NOPASSWD:ALL",
            shell: "/bin/bash",
            lock_passwd: true,
            ssh_authorized_keys: self
                .cluster
                .ssh_public_keys
                .iter()
                .map(|k| k.trim().to_owned())
                .collect(),
        }
    }

    fn node_env(&self, role: Role, api_server: Option<SocketAddr>) -> Result<String> {
        let cluster = self.cluster;
        let metadata: Vec<String> = cluster
            .metadata_addresses
            .iter()
            .map(IpAddr::to_string)
            .collect();
        let install = &cluster.install;
        let mut res =
            String::from("# Written by cks at provisioning time; read by /opt/cks/bin/cks-*.\n");
        for (key, value) in [
            ("CKS_ROLE", role.name().to_owned()),
            (
                "CKS_KUBERNETES_VERSION",
                cluster.kubernetes_version.to_string(),
            ),
            ("CKS_POD_CIDR", cluster.pod_cidr.to_string()),
            ("CKS_METADATA_ADDRESSES", metadata.join(" ")),
            (
                "CKS_API_SERVER",
                api_server.map(|a| a.to_string()).unwrap_or_default(),
            ),
            ("CKS_EXTERNAL_CNI", cluster.cni.is_some().to_string()),
            ("CKS_INSTALL_ATTEMPTS", install.attempts.to_string()),
            ("CKS_INSTALL_WAIT", install.wait_seconds.to_string()),
            ("CKS_EJECT_ISO", install.eject_iso.to_string()),
            ("CKS_ISO_URL", install.iso_url.clone().unwrap_or_default()),
        ] {
            res.push_str(&env_line(key, &value)?);
        }
        Ok(res)
    }

    /// What every Kubernetes node shares: the cloud user, scripts, units, kernel settings and
    /// containerd's configuration.
    fn kubernetes_node(&self, role: Role, api_server: Option<SocketAddr>) -> Result<CloudConfig> {
        let mut doc = CloudConfig {
            users: vec![self.cloud_user()],
            ..CloudConfig::default()
        };
        doc.file(NODE_ENV, "0644", self.node_env(role, api_server)?);
        doc.file(format!("{BIN_DIR}/cks-install"), "0755", INSTALL_SCRIPT);
        doc.file(format!("{BIN_DIR}/cks-kubeadm"), "0755", KUBEADM_SCRIPT);
        doc.file(format!("{BIN_DIR}/cks-upgrade"), "0755", UPGRADE_SCRIPT);
        doc.file(
            format!("{BIN_DIR}/cks-metadata-guard"),
            "0755",
            METADATA_GUARD_SCRIPT,
        );
        doc.file(
            "/etc/systemd/system/cks-metadata-guard.service",
            "0644",
            METADATA_GUARD_UNIT,
        );
        doc.file("/etc/systemd/system/kubelet.service", "0644", KUBELET_UNIT);
        doc.file(
            "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "0644",
            KUBELET_KUBEADM_DROPIN,
        );
        doc.file("/etc/modules-load.d/cks.conf", "0644", MODULES);
        doc.file("/etc/sysctl.d/90-cks.conf", "0644", SYSCTL);
        let registry = self.cluster.registry.as_ref();
        // Registry passwords make the file secret.
        let mode = if registry.is_some() { "0600" } else { "0644" };
        doc.file(
            "/etc/containerd/config.toml",
            mode,
            containerd_config(registry)?,
        );
        Ok(doc)
    }
}

/// containerd's configuration (version 2, which containerd 2 still reads): systemd cgroups as
/// kubelet expects, and the private registry's endpoint and credentials when there is one.
pub fn containerd_config(registry: Option<&RegistryCredentials>) -> Result<String> {
    use toml::{Table, Value};
    fn table(pairs: Vec<(&str, Value)>) -> Value {
        Value::Table(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
    let runc = table(vec![
        ("runtime_type", Value::from("io.containerd.runc.v2")),
        ("options", table(vec![("SystemdCgroup", Value::from(true))])),
    ]);
    let mut cri = vec![
        ("sandbox_image", Value::from(DEFAULT_SANDBOX_IMAGE)),
        (
            "containerd",
            table(vec![("runtimes", table(vec![("runc", runc)]))]),
        ),
    ];
    if let Some(registry) = registry {
        let host = registry.host()?;
        let mirrors = table(vec![(
            host,
            table(vec![(
                "endpoint",
                Value::Array(vec![Value::from(registry.url.as_str())]),
            )]),
        )]);
        let auth = table(vec![
            ("username", Value::from(registry.username.as_str())),
            ("password", Value::from(registry.password.as_str())),
        ]);
        let configs = table(vec![(host, table(vec![("auth", auth)]))]);
        cri.push((
            "registry",
            table(vec![("mirrors", mirrors), ("configs", configs)]),
        ));
    }
    let mut root = Table::new();
    root.insert("version".into(), Value::from(2));
    root.insert(
        "plugins".into(),
        table(vec![("io.containerd.grpc.v1.cri", table(cri))]),
    );
    Ok(toml::to_string(&root)?)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Secret {
    api_version: &'static str,
    kind: &'static str,
    metadata: SecretMeta,
    #[serde(rename = "type")]
    kind_of_secret: &'static str,
    string_data: BTreeMap<&'static str, LitString>,
}

#[derive(Serialize)]
struct SecretMeta {
    name: &'static str,
    namespace: &'static str,
}

/// `kube-system/cloudstack-secret`, the INI file the CloudStack CCM reads as `cloud-config`.
fn ccm_secret(cp: &crate::cluster::CloudProviderCredentials) -> Result<String> {
    let mut ini = format!(
        "[Global]\napi-url = {}\napi-key = {}\nsecret-key = {}\n",
        cp.api_url, cp.api_key, cp.secret_key
    );
    if let Some(project) = &cp.project_id {
        ini.push_str(&format!("project-id = {project}\n"));
    }
    let secret = Secret {
        api_version: "v1",
        kind: "Secret",
        metadata: SecretMeta {
            name: "cloudstack-secret",
            namespace: "kube-system",
        },
        kind_of_secret: "Opaque",
        string_data: [("cloud-config", LitString(ini))].into_iter().collect(),
    };
    Ok(serde_saphyr::to_string(&secret)?)
}

#[cfg(test)]
mod tests;
