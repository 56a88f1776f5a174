//! Machine-wide claims on the simulator's public ranges.
//!
//! Every simulated API endpoint listens on `<public ip>:6443`, so simulators of different
//! databases must not hand out the same addresses on one machine, while the instances of one
//! database share its range and its addresses by design. A claim is a file per range in the
//! claims directory (`cks-simulator-ranges` under the temporary directory) holding the identity
//! of the database (`Store::database_id`), locked shared by every instance of that database for
//! as long as its simulator lives; the lock goes with the process however it ends. Claims are
//! checked and made under an exclusive lock of the directory's `.lock`, so the owner written in a
//! held claim file is always the owner of its holders.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use cks_core::iaas::PublicIpRange;

/// The claims directory every `cksd` on this machine uses.
pub fn default_claims_dir() -> PathBuf {
    std::env::temp_dir().join("cks-simulator-ranges")
}

/// A network of public addresses: `base/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    base: Ipv4Addr,
    prefix: u32,
}

impl Range {
    pub(crate) fn new(addr: Ipv4Addr, prefix: u32) -> Range {
        let prefix = prefix.min(32);
        Range {
            base: Ipv4Addr::from(u32::from(addr) & mask(prefix)),
            prefix,
        }
    }

    /// The network a public range's gateway and netmask describe.
    pub(crate) fn of(r: &PublicIpRange) -> Range {
        Range::new(r.gateway, u32::from(r.netmask).leading_ones())
    }

    fn last(self) -> u32 {
        u32::from(self.base) | !mask(self.prefix)
    }

    fn overlaps(self, other: Range) -> bool {
        u32::from(self.base) <= other.last() && u32::from(other.base) <= self.last()
    }

    /// The range of the same size right after this one, while inside loopback.
    pub(crate) fn next(self) -> Option<Range> {
        let next = Ipv4Addr::from(self.last().checked_add(1)?);
        next.is_loopback().then_some(Range {
            base: next,
            prefix: self.prefix,
        })
    }

    /// First and last address handed out, as `SimConfig::public_ip_range` takes them: the
    /// address before the first is the gateway.
    pub(crate) fn addresses(self) -> (Ipv4Addr, Ipv4Addr) {
        (
            Ipv4Addr::from(u32::from(self.base) + 2),
            Ipv4Addr::from(self.last() - 1),
        )
    }

    fn file_name(self) -> String {
        format!("{}_{}", self.base, self.prefix)
    }

    fn from_file_name(name: &str) -> Option<Range> {
        let (base, prefix) = name.split_once('_')?;
        Some(Range::new(base.parse().ok()?, prefix.parse().ok()?))
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

fn mask(prefix: u32) -> u32 {
    u32::MAX.checked_shl(32 - prefix).unwrap_or(0)
}

/// The claims this simulator holds; dropping them releases the ranges.
#[derive(Debug)]
pub(crate) struct Claims {
    _files: Vec<File>,
}

/// Why a claim was refused.
#[derive(Debug)]
pub(crate) enum Refused {
    /// `wanted` overlaps `held`, which a simulator of another database holds.
    Taken {
        wanted: Range,
        held: Range,
    },
    Io(std::io::Error),
}

impl From<std::io::Error> for Refused {
    fn from(e: std::io::Error) -> Refused {
        Refused::Io(e)
    }
}

/// Claims `ranges` for the database `owner`, unless a simulator of another database holds a
/// range overlapping one of them. Claims nobody holds any more are removed on the way.
pub(crate) fn claim(dir: &Path, owner: &str, ranges: &[Range]) -> Result<Claims, Refused> {
    std::fs::create_dir_all(dir)?;
    let guard = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".lock"))?;
    guard.lock()?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(held) = entry.file_name().to_str().and_then(Range::from_file_name) else {
            continue;
        };
        let Some(&wanted) = ranges.iter().find(|r| r.overlaps(held)) else {
            continue;
        };
        let mut file = File::open(entry.path())?;
        let mut holder = String::new();
        file.read_to_string(&mut holder)?;
        if holder.trim() == owner {
            continue;
        }
        match file.try_lock() {
            // Nobody holds it: left by a simulator that ended.
            Ok(()) => {
                if !ranges.contains(&held) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            Err(TryLockError::WouldBlock) => return Err(Refused::Taken { wanted, held }),
            Err(TryLockError::Error(e)) => return Err(e.into()),
        }
    }
    let mut files = Vec::with_capacity(ranges.len());
    for range in ranges {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(dir.join(range.file_name()))?;
        // Under the directory lock no one else checks or claims, so this cannot block.
        file.lock_shared()?;
        file.set_len(0)?;
        file.write_all(owner.as_bytes())?;
        files.push(file);
    }
    drop(guard);
    Ok(Claims { _files: files })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> Range {
        let (a, p) = text.split_once('/').unwrap();
        Range::new(a.parse().unwrap(), p.parse().unwrap())
    }

    #[test]
    fn ranges_overlap_when_they_share_an_address() {
        assert!(r("127.10.0.0/16").overlaps(r("127.10.5.0/24")));
        assert!(r("127.10.5.0/24").overlaps(r("127.10.0.0/16")));
        assert!(!r("127.10.0.0/16").overlaps(r("127.11.0.0/16")));
        assert_eq!(r("127.10.0.0/16").next(), Some(r("127.11.0.0/16")));
        assert_eq!(r("127.255.0.0/16").next(), None);
        assert_eq!(
            r("127.20.3.0/24").addresses(),
            (
                "127.20.3.2".parse().unwrap(),
                "127.20.3.254".parse().unwrap()
            )
        );
    }

    #[test]
    fn another_database_cannot_claim_an_overlapping_range_while_it_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let first = claim(dir.path(), "db-a", &[r("127.10.0.0/16")]).unwrap();
        // Another instance of the same database shares it.
        let sibling = claim(dir.path(), "db-a", &[r("127.10.0.0/16")]).unwrap();
        match claim(dir.path(), "db-b", &[r("127.10.7.0/24")]) {
            Err(Refused::Taken { wanted, held }) => {
                assert_eq!((wanted, held), (r("127.10.7.0/24"), r("127.10.0.0/16")))
            }
            other => panic!("claimed a held range: {other:?}"),
        }
        claim(dir.path(), "db-b", &[r("127.11.0.0/16")]).unwrap();
        drop((first, sibling));
        // Released when its holders end.
        claim(dir.path(), "db-b", &[r("127.10.0.0/16")]).unwrap();
    }
}
