//! External etcd members: one per etcd node, TLS for clients and peers, static bootstrap.
//!
//! CKS ran these members over plain HTTP; here clients and peers must present a certificate
//! signed by the cluster's etcd CA, so nothing else on the network can read or join the store.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::cluster::NodeIdentity;
use crate::error::{Error, Result};

/// Clients (the API servers) connect here.
pub const CLIENT_PORT: u16 = 2379;
/// Members talk to each other here.
pub const PEER_PORT: u16 = 2380;

/// Where a member keeps its data and certificates. The defaults are what etcd nodes use; tests
/// point them at a temporary directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdLayout {
    /// The etcd executable.
    pub binary: PathBuf,
    /// The member's data directory.
    pub data_dir: PathBuf,
    /// Holds `ca.crt`, `server.{crt,key}` and `peer.{crt,key}`.
    pub pki_dir: PathBuf,
}

impl Default for EtcdLayout {
    fn default() -> Self {
        EtcdLayout {
            binary: PathBuf::from("/opt/bin/etcd"),
            data_dir: PathBuf::from("/var/lib/etcd"),
            pki_dir: PathBuf::from("/etc/etcd/pki"),
        }
    }
}

impl EtcdLayout {
    /// Path of a file in the PKI directory.
    pub fn pki_file(&self, name: &str) -> PathBuf {
        self.pki_dir.join(name)
    }
}

fn url(ip: IpAddr, port: u16) -> String {
    format!("https://{}", SocketAddr::new(ip, port))
}

/// `https://<ip>:2379` for every member: the API server's `etcd.external.endpoints`.
pub fn client_urls(members: &[NodeIdentity]) -> Vec<String> {
    members.iter().map(|m| url(m.ip, CLIENT_PORT)).collect()
}

/// `name=https://<ip>:2380,...`: every member's peer URL, the same on all members.
pub fn initial_cluster(members: &[NodeIdentity]) -> String {
    members
        .iter()
        .map(|m| format!("{}={}", m.name, url(m.ip, PEER_PORT)))
        .collect::<Vec<_>>()
        .join(",")
}

fn path_arg(path: &Path) -> Result<String> {
    let s = path
        .to_str()
        .ok_or_else(|| Error::InvalidSpec(format!("etcd path {} is not UTF-8", path.display())))?;
    // The flags go into a systemd ExecStart line: whitespace, quotes and `%` would change it.
    if s.is_empty()
        || s.contains(|c: char| c.is_whitespace() || c.is_control() || "\"'\\%$".contains(c))
    {
        return Err(Error::InvalidSpec(format!(
            "etcd path {s:?} has characters a unit file cannot carry"
        )));
    }
    Ok(s.to_owned())
}

/// The command-line flags of member `index` of `members`. `token` keeps two clusters that happen
/// to share addresses from merging (use [`crate::ClusterBootstrap::etcd_cluster_token`]).
pub fn member_flags(
    members: &[NodeIdentity],
    index: usize,
    token: &str,
    layout: &EtcdLayout,
) -> Result<Vec<String>> {
    let me = members.get(index).ok_or_else(|| {
        Error::InvalidSpec(format!("no etcd member {index} among {}", members.len()))
    })?;
    let names_ok = members.iter().all(|m| crate::cluster::is_dns_name(&m.name));
    if !names_ok
        || token.is_empty()
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(Error::InvalidSpec(
            "etcd member names and token must be DNS-safe".into(),
        ));
    }
    let pki = |name| path_arg(&layout.pki_file(name));
    let (ca, server_cert, server_key) = (pki("ca.crt")?, pki("server.crt")?, pki("server.key")?);
    let (peer_cert, peer_key) = (pki("peer.crt")?, pki("peer.key")?);
    Ok(vec![
        format!("--name={}", me.name),
        format!("--data-dir={}", path_arg(&layout.data_dir)?),
        format!("--listen-client-urls={}", url(me.ip, CLIENT_PORT)),
        format!("--advertise-client-urls={}", url(me.ip, CLIENT_PORT)),
        format!("--listen-peer-urls={}", url(me.ip, PEER_PORT)),
        format!("--initial-advertise-peer-urls={}", url(me.ip, PEER_PORT)),
        format!("--initial-cluster={}", initial_cluster(members)),
        format!("--initial-cluster-token={token}"),
        "--initial-cluster-state=new".to_owned(),
        "--client-cert-auth=true".to_owned(),
        format!("--trusted-ca-file={ca}"),
        format!("--cert-file={server_cert}"),
        format!("--key-file={server_key}"),
        "--peer-client-cert-auth=true".to_owned(),
        format!("--peer-trusted-ca-file={ca}"),
        format!("--peer-cert-file={peer_cert}"),
        format!("--peer-key-file={peer_key}"),
    ])
}

/// The `etcd.service` unit running a member with `flags` (from [`member_flags`]).
pub fn systemd_unit(flags: &[String], layout: &EtcdLayout) -> Result<String> {
    let binary = path_arg(&layout.binary)?;
    let mut res = String::from(
        "[Unit]\n\
         Description=etcd member of a cks Kubernetes cluster\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Type=notify\n",
    );
    res.push_str(&format!("ExecStart={binary}"));
    for flag in flags {
        res.push_str(" \\\n  ");
        res.push_str(flag);
    }
    res.push_str(
        "\nRestart=on-failure\n\
         RestartSec=5\n\
         LimitNOFILE=65536\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::tests::full_cluster;

    #[test]
    fn flags_snapshot() {
        let cluster = full_cluster();
        let flags = member_flags(
            &cluster.etcd_nodes,
            1,
            &cluster.etcd_cluster_token(),
            &EtcdLayout::default(),
        )
        .unwrap();
        insta::assert_snapshot!(systemd_unit(&flags, &EtcdLayout::default()).unwrap());
        assert!(flags.contains(&"--listen-peer-urls=https://10.1.1.22:2380".to_owned()));
        assert!(flags.contains(&"--client-cert-auth=true".to_owned()));
        assert!(
            flags
                .iter()
                .any(|f| f.starts_with("--initial-cluster=prod-eu-etcd-1=https://10.1.1.21:2380,"))
        );
    }

    #[test]
    fn rejects_unsafe_inputs() {
        let cluster = full_cluster();
        let token = cluster.etcd_cluster_token();
        assert!(member_flags(&cluster.etcd_nodes, 3, &token, &EtcdLayout::default()).is_err());
        let layout = EtcdLayout {
            data_dir: "/var/lib/my etcd".into(),
            ..EtcdLayout::default()
        };
        assert!(member_flags(&cluster.etcd_nodes, 0, &token, &layout).is_err());
        assert!(member_flags(&cluster.etcd_nodes, 0, "a,b", &EtcdLayout::default()).is_err());
    }
}
