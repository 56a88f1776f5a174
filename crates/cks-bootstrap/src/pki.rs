//! The cluster's PKI: three CAs, the service-account key pair and the leaf certificates kubeadm
//! would otherwise make on the first control node.
//!
//! Generating them here means the service knows the admin credentials and the CA's discovery
//! hash before any VM exists. The file names in [`ClusterPki::kubeadm_files`] are kubeadm's, so
//! `kubeadm init` finds them on disk and only creates what is missing (front-proxy client,
//! stacked etcd certificates, kubelet and component kubeconfigs).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::cluster::{ClusterBootstrap, DNS_DOMAIN, NodeIdentity};
use crate::error::{Error, Result};
use crate::net::Cidr;
use crate::version::KubernetesVersion;

/// Bumped when the serialized layout changes incompatibly.
const FORMAT: u32 = 1;

/// Certificates start this long before "now": the service's clock and a node's may differ.
const BACKDATE: Duration = Duration::minutes(5);

/// The key type of every key in the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256: small, fast, accepted by every Kubernetes component.
    #[default]
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// kubeadm's historical default.
    Rsa2048,
    /// RSA, 3072 bits.
    Rsa3072,
    /// RSA, 4096 bits.
    Rsa4096,
}

impl KeyAlgorithm {
    fn generate(self) -> Result<KeyPair> {
        let res = match self {
            KeyAlgorithm::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeyAlgorithm::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
            KeyAlgorithm::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            }
            KeyAlgorithm::Rsa3072 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_3072)
            }
            KeyAlgorithm::Rsa4096 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_4096)
            }
        };
        res.map_err(Error::cert(format!("{self:?} key")))
    }

    fn is_rsa(self) -> bool {
        matches!(
            self,
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096
        )
    }

    /// The value of kubeadm v1beta4's `encryptionAlgorithm`, so the certificates kubeadm makes
    /// itself use the same key type. `None` where kubeadm has no spelling for it.
    pub fn kubeadm_name(self) -> Option<&'static str> {
        match self {
            KeyAlgorithm::EcdsaP256 => Some("ECDSA-P256"),
            KeyAlgorithm::EcdsaP384 => None,
            KeyAlgorithm::Rsa2048 => Some("RSA-2048"),
            KeyAlgorithm::Rsa3072 => Some("RSA-3072"),
            KeyAlgorithm::Rsa4096 => Some("RSA-4096"),
        }
    }
}

/// How long certificates are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Certificate authorities.
    pub ca: Duration,
    /// Leaf certificates, capped at the CA's end.
    pub leaf: Duration,
}

impl Default for Validity {
    /// kubeadm's periods: 10 years for CAs, 1 year for leaves.
    fn default() -> Self {
        Validity {
            ca: Duration::days(3650),
            leaf: Duration::days(365),
        }
    }
}

/// What a cluster's PKI is generated from.
#[derive(Debug, Clone)]
pub struct PkiSpec {
    /// Decides the admin certificate's groups.
    pub kubernetes_version: KubernetesVersion,
    /// The control-plane endpoint, a SAN of the API server certificate.
    pub endpoint_ip: IpAddr,
    /// The first one is the node that will serve the generated API server certificate; its name
    /// must be a SAN because kubeadm checks that before reusing a certificate found on disk.
    pub control_nodes: Vec<NodeIdentity>,
    /// One server and one peer certificate each.
    pub etcd_nodes: Vec<NodeIdentity>,
    /// Its first address (the `kubernetes` service) is a SAN of the API server certificate.
    pub service_cidr: Cidr,
    /// The key type of every key.
    pub key_algorithm: KeyAlgorithm,
    /// Validity periods.
    pub validity: Validity,
    /// The issuing time (certificates are backdated by five minutes from it).
    pub now: OffsetDateTime,
}

impl PkiSpec {
    /// The spec for a cluster with the default key type and validity.
    pub fn for_cluster(cluster: &ClusterBootstrap, now: OffsetDateTime) -> PkiSpec {
        PkiSpec {
            kubernetes_version: cluster.kubernetes_version,
            endpoint_ip: cluster.endpoint_ip,
            control_nodes: cluster.control_nodes.clone(),
            etcd_nodes: cluster.etcd_nodes.clone(),
            service_cidr: cluster.service_cidr,
            key_algorithm: KeyAlgorithm::default(),
            validity: Validity::default(),
            now,
        }
    }
}

/// A PEM certificate and its PEM (PKCS#8) private key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertAndKey {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM PKCS#8.
    pub key_pem: String,
}

impl fmt::Debug for CertAndKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertAndKey")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// The key pair that signs and verifies service-account tokens (`sa.key` / `sa.pub`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountKey {
    /// `sa.key`, PEM PKCS#8.
    pub private_key_pem: String,
    /// `sa.pub`, PEM SubjectPublicKeyInfo.
    pub public_key_pem: String,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("public_key_pem", &self.public_key_pem)
            .finish_non_exhaustive()
    }
}

/// One external etcd member's certificates (signed by the etcd CA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtcdMemberPki {
    /// The member name (the etcd node's host name).
    pub name: String,
    /// The member's address.
    pub ip: IpAddr,
    /// Serves clients on 2379.
    pub server: CertAndKey,
    /// Talks to and serves the other members on 2380.
    pub peer: CertAndKey,
}

/// Everything secret about a cluster's identity. Serialize it with [`ClusterPki::to_json`] and
/// keep it encrypted at rest: it holds the CA keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPki {
    format: u32,
    /// The key type of every key.
    pub key_algorithm: KeyAlgorithm,
    /// Signs everything that talks to the API server (`ca.crt` / `ca.key`).
    pub kubernetes_ca: CertAndKey,
    /// Signs etcd server, peer and client certificates (`etcd/ca.crt`).
    pub etcd_ca: CertAndKey,
    /// Signs the aggregation-layer client certificate (`front-proxy-ca.crt`).
    pub front_proxy_ca: CertAndKey,
    /// Signs service-account tokens.
    pub service_account: ServiceAccountKey,
    /// Served by the API server on the first control node (`apiserver.crt`).
    pub apiserver: CertAndKey,
    /// The API server's client certificate for external etcd (`apiserver-etcd-client.crt`).
    pub apiserver_etcd_client: CertAndKey,
    /// The service's own admin credentials (`CN=kubernetes-admin`).
    pub admin: CertAndKey,
    /// One entry per external etcd node.
    pub etcd_members: Vec<EtcdMemberPki>,
}

/// A client certificate to issue from the Kubernetes CA.
#[derive(Debug, Clone)]
pub struct ClientCertSpec<'a> {
    /// The Kubernetes user name.
    pub common_name: &'a str,
    /// The Kubernetes group (the subject's O). One at most: rcgen keeps a single value per
    /// attribute type in a distinguished name.
    pub group: Option<&'a str>,
    /// How long the certificate is valid.
    pub validity: Duration,
    /// The issuing time.
    pub now: OffsetDateTime,
}

impl ClusterPki {
    /// Generates fresh CAs and every certificate described by `spec`.
    pub fn generate(spec: &PkiSpec) -> Result<ClusterPki> {
        if spec.control_nodes.is_empty() {
            return Err(Error::InvalidSpec(
                "the PKI needs at least one control node".into(),
            ));
        }
        let alg = spec.key_algorithm;
        let not_before = spec.now - BACKDATE;
        let ca_not_after = spec.now + spec.validity.ca;
        let leaf_not_after = (spec.now + spec.validity.leaf).min(ca_not_after);
        let window = (not_before, leaf_not_after);

        let (kubernetes_ca, k8s_issuer) = new_ca(alg, "kubernetes", not_before, ca_not_after)?;
        let (etcd_ca, etcd_issuer) = new_ca(alg, "etcd-ca", not_before, ca_not_after)?;
        let (front_proxy_ca, _) = new_ca(alg, "front-proxy-ca", not_before, ca_not_after)?;

        let sa_key = alg.generate()?;
        let service_account = ServiceAccountKey {
            private_key_pem: sa_key.serialize_pem(),
            public_key_pem: sa_key.public_key_pem(),
        };

        let apiserver = issue(
            &k8s_issuer,
            alg,
            Leaf {
                common_name: "kube-apiserver",
                organization: None,
                sans: apiserver_sans(spec),
                usage: Usage::Server,
            },
            window,
        )?;
        let apiserver_etcd_client = issue(
            &etcd_issuer,
            alg,
            Leaf {
                common_name: "kube-apiserver-etcd-client",
                organization: None,
                sans: vec![],
                usage: Usage::Client,
            },
            window,
        )?;
        let admin = issue(
            &k8s_issuer,
            alg,
            Leaf {
                common_name: "kubernetes-admin",
                organization: Some(spec.kubernetes_version.admin_group()),
                sans: vec![],
                usage: Usage::Client,
            },
            window,
        )?;
        let etcd_members = spec
            .etcd_nodes
            .iter()
            .map(|node| {
                // Like kubeadm: the member's name and address plus loopback, for local health checks.
                let sans = vec![
                    dns(&node.name)?,
                    dns("localhost")?,
                    SanType::IpAddress(node.ip),
                    SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                    SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
                ];
                let cert = |usage| {
                    let leaf = Leaf {
                        common_name: &node.name,
                        organization: None,
                        sans: sans.clone(),
                        usage,
                    };
                    issue(&etcd_issuer, alg, leaf, window)
                };
                Ok(EtcdMemberPki {
                    name: node.name.clone(),
                    ip: node.ip,
                    server: cert(Usage::ServerAndClient)?,
                    peer: cert(Usage::ServerAndClient)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;

        Ok(ClusterPki {
            format: FORMAT,
            key_algorithm: alg,
            kubernetes_ca,
            etcd_ca,
            front_proxy_ca,
            service_account,
            apiserver,
            apiserver_etcd_client,
            admin,
            etcd_members,
        })
    }

    /// The bundle as JSON, for the store to encrypt.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::BadPki(format!("cannot serialize: {e}")))
    }

    /// Reads a bundle written by [`ClusterPki::to_json`] and checks that its CA key still signs.
    pub fn from_json(json: &str) -> Result<ClusterPki> {
        let pki: ClusterPki =
            serde_json::from_str(json).map_err(|e| Error::BadPki(format!("cannot parse: {e}")))?;
        if pki.format != FORMAT {
            return Err(Error::BadPki(format!("unknown PKI format {}", pki.format)));
        }
        pki.kubernetes_issuer()?;
        Ok(pki)
    }

    /// `sha256:<hex>` of the Kubernetes CA's public key, what `kubeadm join` pins.
    pub fn discovery_hash(&self) -> Result<String> {
        crate::token::discovery_ca_hash(&self.kubernetes_ca.cert_pem)
    }

    /// The certificates of the etcd member called `name`.
    pub fn etcd_member(&self, name: &str) -> Option<&EtcdMemberPki> {
        self.etcd_members.iter().find(|m| m.name == name)
    }

    /// Issues a client certificate from the Kubernetes CA, e.g. to renew the admin credentials
    /// before they expire or to give a user their own identity.
    pub fn issue_client_certificate(&self, spec: &ClientCertSpec<'_>) -> Result<CertAndKey> {
        let issuer = self.kubernetes_issuer()?;
        let leaf = Leaf {
            common_name: spec.common_name,
            organization: spec.group,
            sans: vec![],
            usage: Usage::Client,
        };
        issue(
            &issuer,
            self.key_algorithm,
            leaf,
            (spec.now - BACKDATE, spec.now + spec.validity),
        )
    }

    /// The files the first control node needs under `/etc/kubernetes/pki`, relative to it, with
    /// whether each is a private key. `external_etcd` picks the etcd client certificate instead
    /// of the etcd CA key (kubeadm then makes no etcd certificates of its own).
    pub fn kubeadm_files(&self, external_etcd: bool) -> Vec<PkiFile<'_>> {
        let mut files = vec![
            PkiFile::public("ca.crt", &self.kubernetes_ca.cert_pem),
            PkiFile::secret("ca.key", &self.kubernetes_ca.key_pem),
            PkiFile::public("front-proxy-ca.crt", &self.front_proxy_ca.cert_pem),
            PkiFile::secret("front-proxy-ca.key", &self.front_proxy_ca.key_pem),
            PkiFile::public("sa.pub", &self.service_account.public_key_pem),
            PkiFile::secret("sa.key", &self.service_account.private_key_pem),
            PkiFile::public("apiserver.crt", &self.apiserver.cert_pem),
            PkiFile::secret("apiserver.key", &self.apiserver.key_pem),
            PkiFile::public("etcd/ca.crt", &self.etcd_ca.cert_pem),
        ];
        if external_etcd {
            files.push(PkiFile::public(
                "apiserver-etcd-client.crt",
                &self.apiserver_etcd_client.cert_pem,
            ));
            files.push(PkiFile::secret(
                "apiserver-etcd-client.key",
                &self.apiserver_etcd_client.key_pem,
            ));
        } else {
            files.push(PkiFile::secret("etcd/ca.key", &self.etcd_ca.key_pem));
        }
        files
    }

    fn kubernetes_issuer(&self) -> Result<Issuer<'static, KeyPair>> {
        let key = KeyPair::from_pem(&self.kubernetes_ca.key_pem)
            .map_err(|e| Error::BadPki(format!("Kubernetes CA key: {e}")))?;
        Issuer::from_ca_cert_pem(&self.kubernetes_ca.cert_pem, key)
            .map_err(|e| Error::BadPki(format!("Kubernetes CA certificate: {e}")))
    }
}

/// One file of the PKI as kubeadm lays it out.
#[derive(Debug, Clone, Copy)]
pub struct PkiFile<'a> {
    /// Relative to `/etc/kubernetes/pki`.
    pub path: &'static str,
    /// The content.
    pub pem: &'a str,
    /// Private keys are written mode 0600.
    pub secret: bool,
}

impl<'a> PkiFile<'a> {
    fn public(path: &'static str, pem: &'a str) -> Self {
        PkiFile {
            path,
            pem,
            secret: false,
        }
    }

    fn secret(path: &'static str, pem: &'a str) -> Self {
        PkiFile {
            path,
            pem,
            secret: true,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Usage {
    Server,
    Client,
    ServerAndClient,
}

struct Leaf<'a> {
    common_name: &'a str,
    organization: Option<&'a str>,
    sans: Vec<SanType>,
    usage: Usage,
}

fn dns(name: &str) -> Result<SanType> {
    let ia5 = name
        .try_into()
        .map_err(Error::cert(format!("SAN {name:?}")))?;
    Ok(SanType::DnsName(ia5))
}

/// The API server's SANs: what the issue lists plus the first control node's name, which
/// kubeadm requires before it reuses a certificate it finds on disk.
fn apiserver_sans(spec: &PkiSpec) -> Vec<SanType> {
    let mut names: Vec<String> = spec
        .control_nodes
        .first()
        .map(|n| n.name.clone())
        .into_iter()
        .collect();
    names.extend(["kubernetes", "kubernetes.default", "kubernetes.default.svc"].map(String::from));
    names.push(format!("kubernetes.default.svc.{DNS_DOMAIN}"));
    let mut ips = vec![spec.endpoint_ip, spec.service_cidr.first_host()];
    ips.extend(spec.control_nodes.iter().map(|n| n.ip));
    let mut sans = Vec::new();
    for name in names {
        if let Ok(san) = dns(&name)
            && !sans.contains(&san)
        {
            sans.push(san);
        }
    }
    for ip in ips {
        let san = SanType::IpAddress(ip);
        if !sans.contains(&san) {
            sans.push(san);
        }
    }
    sans
}

fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| Error::Random)?;
    bytes[0] &= 0x7f; // A positive INTEGER, as RFC 5280 requires.
    Ok(SerialNumber::from_slice(&bytes))
}

fn new_ca(
    alg: KeyAlgorithm,
    common_name: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<(CertAndKey, Issuer<'static, KeyPair>)> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    if alg.is_rsa() {
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(random_serial()?);
    let key = alg.generate()?;
    let cert = params
        .self_signed(&key)
        .map_err(Error::cert(format!("CA {common_name}")))?;
    let res = CertAndKey {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    };
    Ok((res, Issuer::new(params, key)))
}

fn issue(
    issuer: &Issuer<'_, KeyPair>,
    alg: KeyAlgorithm,
    leaf: Leaf<'_>,
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
) -> Result<CertAndKey> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    if let Some(org) = leaf.organization {
        params
            .distinguished_name
            .push(DnType::OrganizationName, org);
    }
    params
        .distinguished_name
        .push(DnType::CommonName, leaf.common_name);
    params.subject_alt_names = leaf.sans;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if alg.is_rsa() {
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.extended_key_usages = match leaf.usage {
        Usage::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
        Usage::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
        Usage::ServerAndClient => vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ],
    };
    params.use_authority_key_identifier_extension = true;
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(random_serial()?);
    let key = alg.generate()?;
    let cert = params
        .signed_by(&key, issuer)
        .map_err(Error::cert(format!("certificate {}", leaf.common_name)))?;
    Ok(CertAndKey {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::OnceLock;

    use x509_parser::certificate::X509Certificate;
    use x509_parser::extensions::GeneralName;

    use super::*;
    use crate::cluster::tests::full_cluster;

    pub(crate) fn now() -> OffsetDateTime {
        ::time::macros::datetime!(2026-11-21 12:00 UTC)
    }

    /// One generated PKI for the full cluster fixture, shared because RSA-free generation is cheap
    /// but not free.
    pub(crate) fn full_pki() -> &'static ClusterPki {
        static PKI: OnceLock<ClusterPki> = OnceLock::new();
        PKI.get_or_init(|| {
            ClusterPki::generate(&PkiSpec::for_cluster(&full_cluster(), now())).unwrap()
        })
    }

    fn with_cert<T>(pem: &str, f: impl FnOnce(&X509Certificate<'_>) -> T) -> T {
        let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        let cert = pem.parse_x509().unwrap();
        f(&cert)
    }

    fn sans(pem: &str) -> Vec<String> {
        with_cert(pem, |c| {
            c.subject_alternative_name()
                .unwrap()
                .map(|ext| {
                    ext.value
                        .general_names
                        .iter()
                        .map(|n| match n {
                            GeneralName::DNSName(d) => d.to_string(),
                            GeneralName::IPAddress(b) => match b.len() {
                                4 => IpAddr::from(<[u8; 4]>::try_from(*b).unwrap()).to_string(),
                                _ => IpAddr::from(<[u8; 16]>::try_from(*b).unwrap()).to_string(),
                            },
                            other => format!("{other:?}"),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    #[test]
    fn apiserver_certificate_has_every_required_san() {
        let got = sans(&full_pki().apiserver.cert_pem);
        for want in [
            "prod-eu-control-1",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            "203.0.113.10",
            "10.96.0.1",
            "10.1.1.11",
            "10.1.1.12",
            "10.1.1.13",
        ] {
            assert!(
                got.iter().any(|s| s == want),
                "missing SAN {want} in {got:?}"
            );
        }
    }

    #[test]
    fn admin_certificate_identity_and_usage() {
        with_cert(&full_pki().admin.cert_pem, |c| {
            assert_eq!(
                c.subject().to_string(),
                "O=kubeadm:cluster-admins, CN=kubernetes-admin"
            );
            let eku = c.extended_key_usage().unwrap().unwrap().value;
            assert!(eku.client_auth && !eku.server_auth);
            assert!(!c.is_ca());
        });
    }

    #[test]
    fn validity_defaults_and_caps() {
        let pki = full_pki();
        with_cert(&pki.kubernetes_ca.cert_pem, |c| {
            assert!(c.is_ca());
            let days = (c.validity().not_after.to_datetime() - now()).whole_days();
            assert_eq!(days, 3650);
        });
        with_cert(&pki.apiserver.cert_pem, |c| {
            let days = (c.validity().not_after.to_datetime() - now()).whole_days();
            assert_eq!(days, 365);
            assert_eq!(now() - c.validity().not_before.to_datetime(), BACKDATE);
        });
        let mut spec = PkiSpec::for_cluster(&full_cluster(), now());
        spec.validity = Validity {
            ca: Duration::days(30),
            leaf: Duration::days(365),
        };
        spec.etcd_nodes.clear();
        let short = ClusterPki::generate(&spec).unwrap();
        with_cert(&short.admin.cert_pem, |c| {
            assert_eq!(
                (c.validity().not_after.to_datetime() - now()).whole_days(),
                30,
                "leaf capped at CA"
            );
        });
    }

    #[test]
    fn leaves_are_signed_by_their_ca() {
        let pki = full_pki();
        let check = |ca: &str, leaf: &str| {
            with_cert(ca, |ca| {
                with_cert(leaf, |leaf| {
                    leaf.verify_signature(Some(ca.public_key())).unwrap()
                })
            });
        };
        check(&pki.kubernetes_ca.cert_pem, &pki.apiserver.cert_pem);
        check(&pki.kubernetes_ca.cert_pem, &pki.admin.cert_pem);
        check(&pki.etcd_ca.cert_pem, &pki.apiserver_etcd_client.cert_pem);
        for m in &pki.etcd_members {
            check(&pki.etcd_ca.cert_pem, &m.server.cert_pem);
            check(&pki.etcd_ca.cert_pem, &m.peer.cert_pem);
        }
        assert_eq!(pki.etcd_members.len(), 3);
        let sans = sans(&pki.etcd_members[1].peer.cert_pem);
        assert_eq!(
            sans,
            [
                "prod-eu-etcd-2",
                "localhost",
                "10.1.1.22",
                "127.0.0.1",
                "::1"
            ]
        );
    }

    #[test]
    fn json_round_trip_and_format_check() {
        let pki = full_pki();
        let json = pki.to_json().unwrap();
        assert_eq!(&ClusterPki::from_json(&json).unwrap(), pki);
        let future = json.replacen("\"format\":1", "\"format\":99", 1);
        assert!(matches!(
            ClusterPki::from_json(&future),
            Err(Error::BadPki(_))
        ));
        assert!(matches!(ClusterPki::from_json("{}"), Err(Error::BadPki(_))));
    }

    #[test]
    fn debug_never_prints_private_keys() {
        let shown = format!("{:?}", full_pki());
        assert!(
            !shown.contains("PRIVATE KEY"),
            "a private key leaked into Debug output"
        );
    }

    #[test]
    fn reissues_client_certificates_from_stored_ca() {
        let pki = ClusterPki::from_json(&full_pki().to_json().unwrap()).unwrap();
        let cert = pki
            .issue_client_certificate(&ClientCertSpec {
                common_name: "alice",
                group: Some("dev"),
                validity: Duration::days(7),
                now: now(),
            })
            .unwrap();
        with_cert(&pki.kubernetes_ca.cert_pem, |ca| {
            with_cert(&cert.cert_pem, |c| {
                c.verify_signature(Some(ca.public_key())).unwrap();
                assert_eq!(c.subject().to_string(), "O=dev, CN=alice");
            })
        });
    }

    #[test]
    fn rsa_keys_are_supported() {
        let mut spec = PkiSpec::for_cluster(&full_cluster(), now());
        spec.key_algorithm = KeyAlgorithm::Rsa2048;
        spec.etcd_nodes.clear();
        let pki = ClusterPki::generate(&spec).unwrap();
        with_cert(&pki.kubernetes_ca.cert_pem, |c| {
            assert_eq!(
                c.public_key().algorithm.algorithm.to_id_string(),
                "1.2.840.113549.1.1.1"
            );
        });
        assert!(
            pki.service_account
                .public_key_pem
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
    }

    #[test]
    fn kubeadm_files_depend_on_etcd_topology() {
        let pki = full_pki();
        let names = |ext| {
            pki.kubeadm_files(ext)
                .iter()
                .map(|f| f.path)
                .collect::<Vec<_>>()
        };
        assert!(
            names(true).contains(&"apiserver-etcd-client.key")
                && !names(true).contains(&"etcd/ca.key")
        );
        assert!(
            names(false).contains(&"etcd/ca.key")
                && !names(false).contains(&"apiserver-etcd-client.key")
        );
        assert!(
            pki.kubeadm_files(true)
                .iter()
                .all(|f| f.secret == f.pem.contains("PRIVATE KEY"))
        );
    }
}
