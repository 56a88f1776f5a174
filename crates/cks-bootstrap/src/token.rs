//! Short-lived join credentials: kubeadm bootstrap tokens, the HA certificate key, and the
//! discovery hash that lets joining nodes verify the CA instead of trusting whatever answers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::error::{Error, Result};

const TOKEN_ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`, valid for `ttl` after `kubeadm init`
/// registers it. CKS used a token derived from the cluster uuid that never expired; this one is
/// random and dies after its TTL, so user data that leaks later holds nothing useful.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapToken {
    id: String,
    secret: String,
    #[serde(with = "ttl_seconds")]
    ttl: Duration,
}

impl BootstrapToken {
    /// The smallest TTL accepted: kubeadm needs time to come up before anyone joins.
    pub const MIN_TTL: Duration = Duration::minutes(10);

    /// A fresh random token.
    pub fn generate(ttl: Duration) -> Result<BootstrapToken> {
        check_ttl(ttl)?;
        Ok(BootstrapToken {
            id: random_chars(6)?,
            secret: random_chars(16)?,
            ttl,
        })
    }

    /// A token from its `id.secret` form.
    pub fn parse(token: &str, ttl: Duration) -> Result<BootstrapToken> {
        check_ttl(ttl)?;
        let bad = || Error::Token("a bootstrap token is [a-z0-9]{6}.[a-z0-9]{16}".into());
        let (id, secret) = token.split_once('.').ok_or_else(bad)?;
        let ok = |s: &str, n| s.len() == n && s.bytes().all(|b| TOKEN_ALPHABET.contains(&b));
        if !ok(id, 6) || !ok(secret, 16) {
            return Err(bad());
        }
        Ok(BootstrapToken {
            id: id.into(),
            secret: secret.into(),
            ttl,
        })
    }

    /// The public half; names the `bootstrap-token-<id>` Secret.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `id.secret`, what `kubeadm join` takes.
    pub fn token(&self) -> String {
        format!("{}.{}", self.id, self.secret)
    }

    /// How long the token stays valid after `kubeadm init` registers it.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The TTL as kubeadm's configuration spells a duration (`7200s`).
    pub fn ttl_go(&self) -> String {
        format!("{}s", self.ttl.whole_seconds())
    }

    /// The `kube-system/bootstrap-token-<id>` Secret that registers this token with a running
    /// cluster, as `kubeadm token create` would: for nodes added after the init token expired.
    /// It expires `ttl` after `now`; the cluster's bootstrap signer then signs `cluster-info` for it.
    pub fn secret_manifest(&self, now: OffsetDateTime) -> Result<serde_json::Value> {
        let expiration = (now + self.ttl)
            .to_offset(time::UtcOffset::UTC)
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| Error::Token(format!("cannot format the expiry: {e}")))?;
        Ok(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": format!("bootstrap-token-{}", self.id), "namespace": "kube-system"},
            "type": "bootstrap.kubernetes.io/token",
            "stringData": {
                "description": "cks: joins new nodes, then expires",
                "token-id": self.id,
                "token-secret": self.secret,
                "expiration": expiration,
                "usage-bootstrap-authentication": "true",
                "usage-bootstrap-signing": "true",
                "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
            },
        }))
    }
}

impl fmt::Debug for BootstrapToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootstrapToken")
            .field("id", &self.id)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn check_ttl(ttl: Duration) -> Result<()> {
    if ttl < BootstrapToken::MIN_TTL {
        return Err(Error::Token(format!(
            "TTL {ttl} is shorter than {}",
            BootstrapToken::MIN_TTL
        )));
    }
    Ok(())
}

mod ttl_seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.whole_seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        i64::deserialize(d).map(Duration::seconds)
    }
}

fn random_chars(n: usize) -> Result<String> {
    let mut res = String::with_capacity(n);
    let mut buf = [0u8; 32];
    while res.len() < n {
        aws_lc_rs::rand::fill(&mut buf).map_err(|_| Error::Random)?;
        // 252 = 7 * 36: rejecting the rest keeps every character equally likely.
        for b in buf.iter().filter(|b| **b < 252) {
            if res.len() == n {
                break;
            }
            res.push(char::from(TOKEN_ALPHABET[usize::from(*b % 36)]));
        }
    }
    Ok(res)
}

/// The key `kubeadm init --upload-certs` encrypts the control-plane certificates with: 32 random
/// bytes, hex. The encrypted copy in the cluster is deleted after two hours, so the key only
/// matters while control nodes join.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CertificateKey([u8; 32]);

impl CertificateKey {
    /// A fresh random key.
    pub fn generate() -> Result<CertificateKey> {
        let mut key = [0u8; 32];
        aws_lc_rs::rand::fill(&mut key).map_err(|_| Error::Random)?;
        Ok(CertificateKey(key))
    }

    /// 64 lowercase hex digits.
    pub fn hex(&self) -> String {
        hex(&self.0)
    }
}

impl FromStr for CertificateKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::Token("a certificate key is 64 hex digits".into());
        if s.len() != 64 || !s.is_ascii() {
            return Err(bad());
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(CertificateKey(key))
    }
}

impl TryFrom<String> for CertificateKey {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<CertificateKey> for String {
    fn from(k: CertificateKey) -> String {
        k.hex()
    }
}

impl fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CertificateKey(<redacted>)")
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha256:<hex>` of the certificate's DER SubjectPublicKeyInfo: the value of kubeadm's
/// `--discovery-token-ca-cert-hash` / `caCertHashes`.
pub fn discovery_ca_hash(ca_cert_pem: &str) -> Result<String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(ca_cert_pem.as_bytes())
        .map_err(|e| Error::BadPki(format!("CA certificate is not PEM: {e}")))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| Error::BadPki(format!("CA certificate is not X.509: {e}")))?;
    let spki = cert.tbs_certificate.subject_pki.raw;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, spki);
    Ok(format!("sha256:{}", hex(digest.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_have_kubeadm_format() {
        let t = BootstrapToken::generate(Duration::hours(2)).unwrap();
        let again = BootstrapToken::parse(&t.token(), t.ttl()).unwrap();
        assert_eq!(t, again);
        assert_eq!(t.id().len(), 6);
        assert_eq!(t.ttl_go(), "7200s");
        assert_ne!(
            t.token(),
            BootstrapToken::generate(Duration::hours(2))
                .unwrap()
                .token()
        );
    }

    #[test]
    fn rejects_bad_tokens_and_ttls() {
        for bad in [
            "abcdef0123456789abcdef",
            "ABCDEF.0123456789abcdef",
            "abcde.0123456789abcdef",
            "abcdef.0123456789abcde!",
        ] {
            assert!(
                BootstrapToken::parse(bad, Duration::hours(1)).is_err(),
                "{bad}"
            );
        }
        assert!(
            BootstrapToken::generate(Duration::ZERO).is_err(),
            "a token must expire"
        );
        assert!(BootstrapToken::generate(Duration::minutes(1)).is_err());
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let t = BootstrapToken::generate(Duration::hours(1)).unwrap();
        let secret = t.token().split_once('.').unwrap().1.to_owned();
        assert!(!format!("{t:?}").contains(&secret));
        let k = CertificateKey::generate().unwrap();
        assert!(!format!("{k:?}").contains(&k.hex()));
    }

    #[test]
    fn certificate_key_round_trip() {
        let k = CertificateKey::generate().unwrap();
        assert_eq!(k.hex().len(), 64);
        assert_eq!(k.hex().parse::<CertificateKey>().unwrap(), k);
        assert!("zz".repeat(32).parse::<CertificateKey>().is_err());
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(serde_json::from_str::<CertificateKey>(&json).unwrap(), k);
    }

    #[test]
    fn secret_registers_the_token_like_kubeadm() {
        let t = BootstrapToken::parse("abcdef.0123456789abcdef", Duration::hours(2)).unwrap();
        let secret = t
            .secret_manifest(::time::macros::datetime!(2026-11-21 12:00 UTC))
            .unwrap();
        assert_eq!(secret["metadata"]["name"], "bootstrap-token-abcdef");
        assert_eq!(secret["type"], "bootstrap.kubernetes.io/token");
        assert_eq!(secret["stringData"]["token-secret"], "0123456789abcdef");
        assert_eq!(secret["stringData"]["expiration"], "2026-11-21T14:00:00Z");
    }

    #[test]
    fn token_serde_round_trip() {
        let t = BootstrapToken::generate(Duration::hours(3)).unwrap();
        let back: BootstrapToken =
            serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}
