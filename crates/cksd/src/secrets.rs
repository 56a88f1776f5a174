//! Secrets at rest and in transit: the master key, sealing of secret keys, password hashes,
//! and random API keys and session keys. All crypto comes from aws-lc-rs.
//!
//! CloudStack needs each user's secret key in clear to check an HMAC, so it cannot be hashed:
//! it is sealed with AES-256-GCM under a master key that lives in the data directory (mode 0600),
//! apart from the database. A copy of the database alone reveals no key and no password.

use std::num::NonZeroU32;
use std::path::Path;

use anyhow::Context;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{digest, pbkdf2, rand};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// PBKDF2-HMAC-SHA256 rounds for new password hashes; the count is stored with each hash.
const PASSWORD_ITERATIONS: u32 = 100_000;

/// Random bytes as URL-safe base64 (CloudStack's keys look like this, 86 characters for 64 bytes).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The system RNG failing is not something a request can recover from.
    rand::fill(&mut buf).expect("system random number generator");
    URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of `text`, hex. Sessions are stored under this, never under the key itself.
pub fn sha256_hex(text: &str) -> String {
    digest::digest(&digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A salted, slow hash: `pbkdf2-sha256$<iterations>$<salt>$<hash>`.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt).expect("system random number generator");
    let mut out = [0u8; 32];
    let rounds = NonZeroU32::new(PASSWORD_ITERATIONS).expect("non-zero");
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        &salt,
        password.as_bytes(),
        &mut out,
    );
    format!(
        "pbkdf2-sha256${PASSWORD_ITERATIONS}${}${}",
        STANDARD.encode(salt),
        STANDARD.encode(out)
    )
}

/// Password hashes computed at once: half the cores. PBKDF2 holds a core for tens of
/// milliseconds, so 64 concurrent bad logins must not take every core from the API; the rest
/// wait here without holding a thread.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::sync::Semaphore::new((cores / 2).max(1))
});

/// `hash_password` on the blocking pool, never on an async worker.
pub async fn hash_password_async(password: String) -> String {
    let _permit = HASHING.acquire().await;
    match tokio::task::spawn_blocking(move || hash_password(&password)).await {
        Ok(hash) => hash,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// `verify_password` on the blocking pool, never on an async worker.
pub async fn verify_password_async(password: String, stored: String) -> bool {
    let _permit = HASHING.acquire().await;
    tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .unwrap_or(false)
}

/// Constant-time check of `password` against a stored hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [scheme, rounds, salt, hash] = parts.as_slice() else {
        return false;
    };
    if *scheme != "pbkdf2-sha256" {
        return false;
    }
    let (Some(rounds), Ok(salt), Ok(hash)) = (
        rounds.parse::<u32>().ok().and_then(NonZeroU32::new),
        STANDARD.decode(salt),
        STANDARD.decode(hash),
    ) else {
        return false;
    };
    pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        &salt,
        password.as_bytes(),
        &hash,
    )
    .is_ok()
}

/// The key that seals secrets in the database.
pub struct MasterKey {
    key: LessSafeKey,
}

impl MasterKey {
    /// Reads `path`, or creates it with 32 random bytes and mode 0600 on first start.
    pub fn load_or_create(path: &Path) -> anyhow::Result<MasterKey> {
        let bytes = if path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            STANDARD
                .decode(text.trim())
                .context("master key is not base64")?
        } else {
            let mut bytes = vec![0u8; 32];
            rand::fill(&mut bytes)
                .map_err(|_| anyhow::anyhow!("system random number generator failed"))?;
            write_private(path, &STANDARD.encode(&bytes))?;
            bytes
        };
        MasterKey::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<MasterKey> {
        let key = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| anyhow::anyhow!("master key must be 32 bytes"))?;
        Ok(MasterKey {
            key: LessSafeKey::new(key),
        })
    }

    /// `v1:<base64 of nonce || ciphertext || tag>`.
    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce).expect("system random number generator");
        let mut data = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .expect("AES-GCM sealing cannot fail for in-memory buffers");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        format!("v1:{}", STANDARD.encode(out))
    }

    /// The plaintext, or `None` when the value was not sealed with this key.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let raw = STANDARD.decode(sealed.strip_prefix("v1:")?).ok()?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::empty(), &mut body)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// Makes `dir` (created if missing) readable by its owner only: it holds the database, the
/// master key and the root admin's credentials. A directory another user owns, that cannot be
/// tightened, is refused rather than used.
pub fn private_data_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let existed = dir.exists();
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).with_context(
            || {
                format!(
                    "the data directory {} is readable by other users (mode {:o}) and cannot be made private; run `chmod 700 {}` or use another --data-dir",
                    dir.display(),
                    mode & 0o777,
                    dir.display()
                )
            },
        )?;
        if existed {
            tracing::warn!(dir = %dir.display(), "the data directory was readable by other users; made it private (0700)");
        }
    }
    Ok(())
}

/// Makes an SQLite database file private before it is opened: created empty with mode 0600
/// (SQLite gives its `-wal` and `-shm` files the database file's mode), or an existing one and
/// its companions tightened to 0600.
pub fn private_database_file(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("making {} private (chmod 600)", file.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let h = hash_password("s3cret");
        assert!(h.starts_with("pbkdf2-sha256$100000$"));
        assert!(!h.contains("s3cret"));
        assert!(verify_password("s3cret", &h));
        assert!(!verify_password("s3cret!", &h));
        assert!(!verify_password("s3cret", "garbage"));
        assert_ne!(hash_password("s3cret"), h, "salted");
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let key = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = key.seal("my-secret-key");
        assert!(!sealed.contains("my-secret-key"));
        assert_eq!(key.open(&sealed).as_deref(), Some("my-secret-key"));
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert_eq!(other.open(&sealed), None);
        assert_eq!(key.open("v1:AAAA"), None);
    }

    #[test]
    fn data_directory_and_database_are_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        private_data_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_data_dir(&dir).unwrap();
        assert_eq!(
            mode(&dir),
            0o700,
            "an existing loose directory is tightened"
        );
        let db = dir.join("cks.db");
        private_database_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(dir.join("cks.db-wal"), b"").unwrap();
        std::fs::set_permissions(
            dir.join("cks.db-wal"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        private_database_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&dir.join("cks.db-wal")), 0o600);
    }

    #[test]
    fn master_key_file_is_private_and_stable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let a = MasterKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(b.open(&a.seal("x")).as_deref(), Some("x"));
    }
}
