//! Kubernetes versions: the semantic version rules of the supported-version catalog.

use std::cmp::Ordering;
use std::fmt;

/// Oldest Kubernetes release the service accepts into its catalog.
pub const MIN_KUBERNETES_VERSION: &str = "1.11.0";
/// Minimum vCPUs a version may demand of node offerings (`mincpunumber`).
pub const MIN_CPU_NUMBER: i64 = 2;
/// Minimum memory, in MiB, a version may demand of node offerings (`minmemory`).
pub const MIN_MEMORY_MIB: i64 = 2048;

/// A `MAJOR.MINOR.PATCH[.more]` version, compared numerically per component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemanticVersion {
    parts: Vec<u64>,
    text: String,
}

/// Why a version text or an upgrade between versions was refused; the texts are CKS's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error(
        "Invalid version format, {0}. Semantic version should be specified in MAJOR.MINOR.PATCH format"
    )]
    /// Not digits separated by dots, or fewer than three components; holds the text given.
    Format(String),
    #[error(
        "New supported Kubernetes version cannot be added as {MIN_KUBERNETES_VERSION} is minimum version supported by Kubernetes Service"
    )]
    /// Older than [`MIN_KUBERNETES_VERSION`].
    TooOld,
    /// `mincpunumber` below [`MIN_CPU_NUMBER`].
    #[error("Invalid value for mincpunumber parameter. Minimum {MIN_CPU_NUMBER} vCPUs required.")]
    TooFewCpus,
    /// `minmemory` below [`MIN_MEMORY_MIB`].
    #[error("Invalid value for minmemory parameter. Minimum {MIN_MEMORY_MIB}MB memory required")]
    TooLittleMemory,
    #[error(
        "Kubernetes clusters can not be upgraded, current version: {current}, upgrade version: {target}"
    )]
    /// The upgrade names the cluster's current version.
    SameVersion {
        /// The cluster's version.
        current: String,
        /// The version asked for.
        target: String,
    },
    #[error(
        "Kubernetes clusters can not be downgraded, current version: {current}, upgrade version: {target}"
    )]
    /// The upgrade names an older version.
    Downgrade {
        /// The cluster's version.
        current: String,
        /// The version asked for.
        target: String,
    },
    #[error(
        "Kubernetes clusters can be upgraded between next minor or patch version releases, current version: {current}, upgrade version: {target}"
    )]
    /// The upgrade skips a minor release (or changes the major).
    SkipsMinor {
        /// The cluster's version.
        current: String,
        /// The version asked for.
        target: String,
    },
}

impl SemanticVersion {
    /// Digits separated by dots, at least three components.
    pub fn parse(text: &str) -> Result<SemanticVersion, VersionError> {
        let bad = || VersionError::Format(text.to_string());
        let parts = text
            .split('.')
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                p.parse::<u64>().map_err(|_| bad())
            })
            .collect::<Result<Vec<u64>, VersionError>>()?;
        if parts.len() < 3 {
            return Err(bad());
        }
        Ok(SemanticVersion {
            parts,
            text: text.to_string(),
        })
    }

    /// The text as given to `parse`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first component.
    pub fn major(&self) -> u64 {
        self.parts[0]
    }

    /// The second component.
    pub fn minor(&self) -> u64 {
        self.parts[1]
    }

    /// HA control planes need 1.16.0 or later.
    pub fn supports_ha(&self) -> bool {
        *self >= min_version("1.16.0")
    }

    /// Autoscaling needs 1.15.0 or later. CKS compares the strings lexicographically, so "1.9.0"
    /// passes there; we compare numerically on purpose.
    pub fn supports_autoscaling(&self) -> bool {
        *self >= min_version("1.15.0")
    }

    /// May a cluster at `self` be upgraded to `target`? Forward, within the next minor; the
    /// version it runs is refused as CloudStack refuses it (an "upgrade" that changes nothing
    /// would still drain and restart every node).
    pub fn check_upgrade_to(&self, target: &SemanticVersion) -> Result<(), VersionError> {
        if target.cmp(self) == Ordering::Equal {
            return Err(VersionError::SameVersion {
                current: self.text.clone(),
                target: target.text.clone(),
            });
        }
        if target < self {
            return Err(VersionError::Downgrade {
                current: self.text.clone(),
                target: target.text.clone(),
            });
        }
        if target.major() != self.major() || target.minor() > self.minor() + 1 {
            return Err(VersionError::SkipsMinor {
                current: self.text.clone(),
                target: target.text.clone(),
            });
        }
        Ok(())
    }
}

fn min_version(text: &str) -> SemanticVersion {
    SemanticVersion {
        parts: text.split('.').filter_map(|p| p.parse().ok()).collect(),
        text: text.into(),
    }
}

impl Ord for SemanticVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        (0..n)
            .map(|i| {
                let a = self.parts.get(i).copied().unwrap_or(0);
                let b = other.parts.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for SemanticVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for SemanticVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Validates the parameters of `addKubernetesSupportedVersion` in the order CKS checks them.
pub fn validate_new_version(
    semver: &str,
    min_cpu: i64,
    min_memory: i64,
) -> Result<SemanticVersion, VersionError> {
    let version = SemanticVersion::parse(semver)?;
    if version < min_version(MIN_KUBERNETES_VERSION) {
        return Err(VersionError::TooOld);
    }
    if min_cpu < MIN_CPU_NUMBER {
        return Err(VersionError::TooFewCpus);
    }
    if min_memory < MIN_MEMORY_MIB {
        return Err(VersionError::TooLittleMemory);
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> SemanticVersion {
        SemanticVersion::parse(s).unwrap()
    }

    #[test]
    fn versions_need_three_numeric_components() {
        assert!(SemanticVersion::parse("1.33").is_err());
        assert!(SemanticVersion::parse("1.33.x").is_err());
        assert!(SemanticVersion::parse("v1.33.1").is_err());
        assert!(SemanticVersion::parse("1..1").is_err());
        assert_eq!(v("1.33.1.4").as_str(), "1.33.1.4");
        let err = SemanticVersion::parse("1.2").unwrap_err().to_string();
        assert_eq!(
            err,
            "Invalid version format, 1.2. Semantic version should be specified in MAJOR.MINOR.PATCH format"
        );
    }

    #[test]
    fn comparison_is_numeric_per_component_with_missing_parts_zero() {
        assert!(v("1.10.0") > v("1.9.9"));
        assert_eq!(v("1.2.0").cmp(&v("1.2.0.0")), Ordering::Equal);
        assert!(v("2.0.0") > v("1.99.99"));
    }

    #[test]
    fn autoscaling_gate_is_numeric_not_lexicographic_unlike_cks() {
        assert!(!v("1.9.0").supports_autoscaling());
        assert!(v("1.15.0").supports_autoscaling());
        assert!(!v("1.15.9").supports_ha());
        assert!(v("1.16.0").supports_ha());
    }

    #[test]
    fn upgrades_go_forward_at_most_one_minor() {
        assert!(v("1.32.4").check_upgrade_to(&v("1.33.1")).is_ok());
        assert!(v("1.32.4").check_upgrade_to(&v("1.32.5")).is_ok());
        assert_eq!(
            v("1.32.4")
                .check_upgrade_to(&v("1.32.4"))
                .unwrap_err()
                .to_string(),
            "Kubernetes clusters can not be upgraded, current version: 1.32.4, upgrade version: 1.32.4"
        );
        assert!(matches!(
            v("1.32.4").check_upgrade_to(&v("1.34.0")),
            Err(VersionError::SkipsMinor { .. })
        ));
        assert!(matches!(
            v("1.32.4").check_upgrade_to(&v("2.0.0")),
            Err(VersionError::SkipsMinor { .. })
        ));
        assert!(matches!(
            v("1.33.0").check_upgrade_to(&v("1.32.9")),
            Err(VersionError::Downgrade { .. })
        ));
    }

    #[test]
    fn new_versions_respect_the_minimums_in_cks_order() {
        assert_eq!(
            validate_new_version("1.10.9", 2, 2048),
            Err(VersionError::TooOld)
        );
        assert_eq!(
            validate_new_version("1.33.0", 1, 2048),
            Err(VersionError::TooFewCpus)
        );
        assert_eq!(
            validate_new_version("1.33.0", 2, 2047),
            Err(VersionError::TooLittleMemory)
        );
        assert!(validate_new_version("1.11.0", 2, 2048).is_ok());
    }
}
