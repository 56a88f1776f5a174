//! SSH key pairs: RSA generation with aws-lc-rs, OpenSSH public-key parsing, and CloudStack's
//! fingerprint (MD5 of the decoded key blob as `aa:bb:...`).
//!
//! aws-lc-rs hands out PKCS#8; CloudStack returns a PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), so the
//! RSAPrivateKey inside is cut out with a few lines of DER reading, which also yields `n` and `e`
//! for the `ssh-rsa` blob. DER INTEGER contents are already SSH `mpint`s (minimal two's
//! complement), so they are copied as they are.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest, Md5};

/// CloudStack's limit on `registerSSHKeyPair publickey`.
pub const MAX_PUBLIC_KEY_CHARS: usize = 5120;

const KEY_TYPES: [&str; 6] = [
    "ssh-rsa",
    "ssh-dss",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
];

/// Why a key could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The text is not an OpenSSH public key of a supported type. CloudStack's text.
    #[error("Public key is invalid")]
    InvalidPublicKey,
    /// aws-lc-rs failed to generate or encode the key.
    #[error("failed to generate an RSA key pair")]
    Generate,
}

/// A public key in OpenSSH form without its comment, and its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// `ssh-rsa AAAA...`.
    pub openssh: String,
    pub fingerprint: String,
}

/// A freshly generated RSA 2048 key pair.
#[derive(Debug, Clone)]
pub struct GeneratedKey {
    pub public: PublicKey,
    /// PKCS#1 PEM.
    pub private_key_pem: String,
}

/// Generates an RSA 2048 key pair (CloudStack's default `ssh.key.length`).
pub fn generate_rsa() -> Result<GeneratedKey, KeyError> {
    let key = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
    let pkcs8 = key.as_der().map_err(|_| KeyError::Generate)?;
    let pkcs1 = pkcs1_from_pkcs8(pkcs8.as_ref()).ok_or(KeyError::Generate)?;
    let (n, e) = rsa_n_e(pkcs1).ok_or(KeyError::Generate)?;
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-rsa");
    put_string(&mut blob, e);
    put_string(&mut blob, n);
    Ok(GeneratedKey {
        public: PublicKey {
            openssh: format!("ssh-rsa {}", B64.encode(&blob)),
            fingerprint: fingerprint(&blob),
        },
        private_key_pem: pem("RSA PRIVATE KEY", pkcs1),
    })
}

/// Reads an OpenSSH public key (`type base64 [comment]`), also when the whole text is itself
/// base64-wrapped, as CloudStack accepts. The blob must decode and name the declared type.
pub fn parse_public_key(text: &str) -> Result<PublicKey, KeyError> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_PUBLIC_KEY_CHARS {
        return Err(KeyError::InvalidPublicKey);
    }
    if let Some(key) = parse_openssh_line(text) {
        return Ok(key);
    }
    let unwrapped = B64
        .decode(text)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match unwrapped {
        Some(inner) => parse_openssh_line(inner.trim()).ok_or(KeyError::InvalidPublicKey),
        None => Err(KeyError::InvalidPublicKey),
    }
}

/// MD5 of a decoded public-key blob as lowercase hex pairs joined by `:`.
pub fn fingerprint(blob: &[u8]) -> String {
    let digest = Md5::digest(blob);
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn parse_openssh_line(line: &str) -> Option<PublicKey> {
    let mut parts = line.split_whitespace();
    let key_type = parts.next()?;
    if !KEY_TYPES.contains(&key_type) {
        return None;
    }
    let encoded = parts.next()?;
    let blob = B64.decode(encoded).ok()?;
    let mut rest = blob.as_slice();
    let declared = take_string(&mut rest)?;
    if declared != key_type.as_bytes() || rest.is_empty() {
        return None;
    }
    // Every supported type carries at least one more non-empty field (key material, curve name).
    let first_field = take_string(&mut rest)?;
    if first_field.is_empty() {
        return None;
    }
    Some(PublicKey {
        openssh: format!("{key_type} {encoded}"),
        fingerprint: fingerprint(&blob),
    })
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    // Key material is far below 4 GiB, so the length always fits.
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn take_string<'a>(input: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len_bytes: [u8; 4] = input.get(..4)?.try_into().ok()?;
    let len = u32::from_be_bytes(len_bytes) as usize;
    let value = input.get(4..4 + len)?;
    *input = &input[4 + len..];
    Some(value)
}

fn pem(label: &str, der: &[u8]) -> String {
    let encoded = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Reads one DER TLV: returns (tag, content, rest).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first_len = *input.get(1)?;
    let (len, header) = if first_len < 0x80 {
        (usize::from(first_len), 2)
    } else {
        let n_bytes = usize::from(first_len & 0x7f);
        if n_bytes == 0 || n_bytes > 4 {
            return None;
        }
        let len = input
            .get(2..2 + n_bytes)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n_bytes)
    };
    let content = input.get(header..header + len)?;
    Some((tag, content, &input[header + len..]))
}

/// PrivateKeyInfo ::= SEQUENCE { version INTEGER, algorithm SEQUENCE, privateKey OCTET STRING, ... }
fn pkcs1_from_pkcs8(pkcs8: &[u8]) -> Option<&[u8]> {
    let (0x30, body, _) = der_tlv(pkcs8)? else {
        return None;
    };
    let (0x02, _, rest) = der_tlv(body)? else {
        return None;
    };
    let (0x30, _, rest) = der_tlv(rest)? else {
        return None;
    };
    let (0x04, private_key, _) = der_tlv(rest)? else {
        return None;
    };
    Some(private_key)
}

/// RSAPrivateKey ::= SEQUENCE { version INTEGER, n INTEGER, e INTEGER, ... }
fn rsa_n_e(pkcs1: &[u8]) -> Option<(&[u8], &[u8])> {
    let (0x30, body, _) = der_tlv(pkcs1)? else {
        return None;
    };
    let (0x02, _, rest) = der_tlv(body)? else {
        return None;
    };
    let (0x02, n, rest) = der_tlv(rest)? else {
        return None;
    };
    let (0x02, e, _) = der_tlv(rest)? else {
        return None;
    };
    Some((n, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A fixed ed25519 key and the fingerprint `ssh-keygen -l -E md5` prints for it.
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBTtPQG9bcqBQa98XTlNXOqPPdELplPsgW5P0yRxzLW4 me@host";

    #[test]
    fn generated_key_is_pkcs1_pem_and_a_valid_ssh_rsa_key() {
        let key = generate_rsa().expect("generate");
        assert!(
            key.private_key_pem
                .starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
        );
        assert!(
            key.private_key_pem
                .ends_with("-----END RSA PRIVATE KEY-----\n")
        );
        let reparsed = parse_public_key(&key.public.openssh).expect("own public key parses");
        assert_eq!(reparsed, key.public);
        assert_eq!(key.public.fingerprint.len(), 16 * 3 - 1);
    }

    #[test]
    fn public_keys_parse_with_or_without_comment_and_base64_wrapping() {
        let plain = parse_public_key(ED25519).expect("parses");
        assert_eq!(
            plain.fingerprint,
            "ec:44:09:ce:f6:e4:3b:fa:38:a6:85:cf:e3:4a:e6:f4"
        );
        assert_eq!(
            plain.openssh,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBTtPQG9bcqBQa98XTlNXOqPPdELplPsgW5P0yRxzLW4"
        );
        let wrapped = parse_public_key(&B64.encode(ED25519)).expect("wrapped parses");
        assert_eq!(wrapped, plain);
    }

    #[test]
    fn bad_public_keys_are_refused() {
        for bad in [
            "",
            "ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIBTtPQG9bcqBQa98XTlNXOqPPdELplPsgW5P0yRxzLW4",
            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIBTtPQG9bcqBQa98XTlNXOqPPdELplPsgW5P0yRxzLW4",
            "ssh-ed25519 !!!notbase64",
            "ssh-ed25519",
        ] {
            assert!(parse_public_key(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn md5_fingerprint_known_vector() {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e.
        assert_eq!(
            fingerprint(b""),
            "d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e"
        );
    }
}
