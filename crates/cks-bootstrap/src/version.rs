//! Kubernetes versions and the version-dependent choices kubeadm makes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A Kubernetes release, `MAJOR.MINOR.PATCH`. Parsing accepts an optional leading `v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KubernetesVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

/// The kubeadm configuration API a version understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeadmApi {
    /// `kubeadm.k8s.io/v1beta3`: Kubernetes 1.22 to 1.30.
    V1Beta3,
    /// `kubeadm.k8s.io/v1beta4`: Kubernetes 1.31 and later (extra args become name/value lists).
    V1Beta4,
}

impl KubeadmApi {
    /// The `apiVersion` field.
    pub fn api_version(self) -> &'static str {
        match self {
            KubeadmApi::V1Beta3 => "kubeadm.k8s.io/v1beta3",
            KubeadmApi::V1Beta4 => "kubeadm.k8s.io/v1beta4",
        }
    }
}

impl KubernetesVersion {
    /// The oldest release we render kubeadm configuration for (v1beta3 appeared in 1.22).
    pub const MIN_SUPPORTED: KubernetesVersion = KubernetesVersion::new(1, 22, 0);

    /// A version from its parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        KubernetesVersion {
            major,
            minor,
            patch,
        }
    }

    /// `v1.33.1`, the spelling kubeadm's `kubernetesVersion` and image tags use.
    pub fn tag(&self) -> String {
        format!("v{self}")
    }

    /// True from `major.minor` on (any patch).
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// The kubeadm configuration API for this release; older than 1.22 is refused.
    pub fn kubeadm_api(&self) -> Result<KubeadmApi> {
        if *self < Self::MIN_SUPPORTED {
            return Err(Error::Version {
                version: self.to_string(),
                reason: "kubeadm configuration is rendered for 1.22.0 and later only",
            });
        }
        Ok(if self.at_least(1, 31) {
            KubeadmApi::V1Beta4
        } else {
            KubeadmApi::V1Beta3
        })
    }

    /// The group kubeadm puts in the admin client certificate. From 1.29 `admin.conf` belongs to
    /// `kubeadm:cluster-admins` (bound to cluster-admin by `kubeadm init`), so it can be revoked;
    /// before that it was the unrevocable `system:masters`.
    pub fn admin_group(&self) -> &'static str {
        if self.at_least(1, 29) {
            "kubeadm:cluster-admins"
        } else {
            "system:masters"
        }
    }
}

impl FromStr for KubernetesVersion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason| Error::Version {
            version: s.to_owned(),
            reason,
        };
        let digits = s.strip_prefix('v').unwrap_or(s);
        let parts: Vec<&str> = digits.split('.').collect();
        if parts.len() != 3 {
            return Err(bad("expected MAJOR.MINOR.PATCH"));
        }
        let mut nums = [0u32; 3];
        for (num, part) in nums.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("each part must be a decimal number"));
            }
            *num = part.parse().map_err(|_| bad("number too large"))?;
        }
        Ok(KubernetesVersion::new(nums[0], nums[1], nums[2]))
    }
}

impl TryFrom<String> for KubernetesVersion {
    type Error = Error;

    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<KubernetesVersion> for String {
    fn from(v: KubernetesVersion) -> String {
        v.to_string()
    }
}

impl fmt::Display for KubernetesVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_and_without_v() {
        let v: KubernetesVersion = "v1.33.1".parse().unwrap();
        assert_eq!(v, KubernetesVersion::new(1, 33, 1));
        assert_eq!("1.33.1".parse::<KubernetesVersion>().unwrap(), v);
        assert_eq!(v.tag(), "v1.33.1");
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["1.33", "1.33.1.2", "1.x.0", "", "1..0", "1.33.+1"] {
            assert!(
                bad.parse::<KubernetesVersion>().is_err(),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn kubeadm_api_by_version() {
        let api = |s: &str| s.parse::<KubernetesVersion>().unwrap().kubeadm_api();
        assert!(api("1.21.14").is_err());
        assert_eq!(api("1.22.0").unwrap(), KubeadmApi::V1Beta3);
        assert_eq!(api("1.30.9").unwrap(), KubeadmApi::V1Beta3);
        assert_eq!(api("1.31.0").unwrap(), KubeadmApi::V1Beta4);
        assert_eq!(api("1.33.1").unwrap(), KubeadmApi::V1Beta4);
    }

    #[test]
    fn admin_groups_follow_kubeadm() {
        let group = |s: &str| s.parse::<KubernetesVersion>().unwrap().admin_group();
        assert_eq!(group("1.28.15"), "system:masters");
        assert_eq!(group("1.29.0"), "kubeadm:cluster-admins");
    }
}
