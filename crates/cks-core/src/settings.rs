//! Global settings: the catalog of keys the service knows, their defaults and types.
//!
//! Values are stored as strings (as CloudStack does); this module validates them on update and
//! parses them on read, so a bad value can never get into the store.

/// How a setting's value is typed, as `listConfigurations` shows it in `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingType {
    /// `true` or `false` (stored lowercase).
    Boolean,
    /// A whole number within the setting's `range`; shown as `Number`.
    Integer,
    /// Any text.
    String,
}

impl SettingType {
    /// The `type` text `listConfigurations` shows: `Boolean`, `Number` or `String`.
    pub fn name(self) -> &'static str {
        match self {
            SettingType::Boolean => "Boolean",
            SettingType::Integer => "Number",
            SettingType::String => "String",
        }
    }
}

/// One entry of the catalog.
#[derive(Debug)]
pub struct SettingDef {
    /// The dotted key, e.g. `cloud.kubernetes.cluster.max.size`.
    pub name: &'static str,
    /// Default value as stored text, used while no row overrides it.
    pub default: &'static str,
    /// How the value is typed and validated.
    pub kind: SettingType,
    /// `listConfigurations`' `category`; always `Advanced`.
    pub category: &'static str,
    /// `listConfigurations`' `component`, e.g. `KubernetesClusterService`.
    pub component: &'static str,
    /// CloudStack's description text, shown as is.
    pub description: &'static str,
    /// False: the new value only applies after a restart.
    pub is_dynamic: bool,
    /// The inclusive range of an Integer setting (ignored for other types).
    pub range: (i64, i64),
}

/// The range of an Integer setting that declares none: a count or a quantity, never negative,
/// within a Java `int` as CloudStack stores it.
pub const DEFAULT_INTEGER_RANGE: (i64, i64) = (0, i32::MAX as i64);
/// Seconds: at least one, at most a Java `int`.
const SECONDS: (i64, i64) = (1, i32::MAX as i64);

/// Boolean, default `true`; `false` refuses every Kubernetes command. Needs a restart.
pub const SERVICE_ENABLED: &str = "cloud.kubernetes.service.enabled";
/// Name of the network offering of the isolated network a cluster gets when none is given. Needs a
/// restart.
pub const CLUSTER_NETWORK_OFFERING: &str = "cloud.kubernetes.cluster.network.offering";
/// Seconds a create or start may take before the cluster turns `Error`; default 3600.
pub const CLUSTER_START_TIMEOUT: &str = "cloud.kubernetes.cluster.start.timeout";
/// Seconds a scale may take; default 3600.
pub const CLUSTER_SCALE_TIMEOUT: &str = "cloud.kubernetes.cluster.scale.timeout";
/// Seconds an upgrade may take; default 3600.
pub const CLUSTER_UPGRADE_TIMEOUT: &str = "cloud.kubernetes.cluster.upgrade.timeout";
/// Retries of a failed node upgrade; default 3.
pub const CLUSTER_UPGRADE_RETRIES: &str = "cloud.kubernetes.cluster.upgrade.retries";
/// Seconds adding external nodes may take; default 3600.
pub const CLUSTER_ADD_NODE_TIMEOUT: &str = "cloud.kubernetes.cluster.add.node.timeout";
/// Seconds removing external nodes may take; default 900.
pub const CLUSTER_REMOVE_NODE_TIMEOUT: &str = "cloud.kubernetes.cluster.remove.node.timeout";
/// Boolean, default `false`; `true` allows a private Docker registry on CloudManaged clusters.
pub const EXPERIMENTAL_FEATURES: &str = "cloud.kubernetes.cluster.experimental.features.enabled";
/// Most nodes (control + worker + etcd) per cluster; default 10, at most [`MAX_CLUSTER_SIZE`].
pub const CLUSTER_MAX_SIZE: &str = "cloud.kubernetes.cluster.max.size";
/// Seconds a control node waits between attempts to mount the binaries ISO; default 15.
pub const CONTROL_INSTALL_WAIT: &str =
    "cloud.kubernetes.control.node.install.attempt.wait.duration";
/// Attempts a control node makes to mount the binaries ISO; default 100.
pub const CONTROL_INSTALL_ATTEMPTS: &str = "cloud.kubernetes.control.node.install.reattempt.count";
/// Seconds a worker waits between attempts to mount the binaries ISO; default 30.
pub const WORKER_INSTALL_WAIT: &str = "cloud.kubernetes.worker.node.install.attempt.wait.duration";
/// Attempts a worker makes to mount the binaries ISO; default 40.
pub const WORKER_INSTALL_ATTEMPTS: &str = "cloud.kubernetes.worker.node.install.reattempt.count";
/// First public port of the SSH forwards to etcd nodes; default 50000.
pub const ETCD_START_PORT: &str = "cloud.kubernetes.etcd.node.start.port";
/// Rows a list command returns when `pagesize` is not given; default 500.
pub const DEFAULT_PAGE_SIZE: &str = "default.page.size";
/// The API URL written into nodes for the cloud controller manager.
pub const ENDPOINT_URL: &str = "endpoint.url";
/// Seconds between two runs of the cluster state scanner; default 300.
pub const SCANNER_INTERVAL: &str = "cloud.kubernetes.cluster.scanner.interval";
/// Most bytes of base64 user data a VM may get; default 32768, at most 1048576.
pub const USERDATA_MAX_LENGTH: &str = "vm.userdata.max.length";
/// Most seconds into the future a signed request's `expires` may lie; default 1200.
pub const SIGNATURE_EXPIRES_MAX: &str = "api.signature.expires.max";
/// Boolean, default `false`; `true` refuses key-signed requests without `signatureversion=3` and
/// `expires`.
pub const SIGNATURE_EXPIRES_REQUIRED: &str = "api.signature.expires.required";
/// Consecutive failed password logins before the user is locked; default 5.
pub const LOGIN_ATTEMPTS_ALLOWED: &str = "incorrect.login.attempts.allowed";
/// Seconds a locked user cannot log in with a password; default 900.
pub const LOGIN_LOCKOUT_DURATION: &str = "incorrect.login.lockout.duration";

const K8S: &str = "KubernetesClusterService";

/// `setting!(name, default, Type, dynamic, component, description [, (min, max)])`; an Integer
/// setting without a range gets [`DEFAULT_INTEGER_RANGE`].
macro_rules! setting {
    ($name:expr, $default:expr, $kind:ident, $dynamic:expr, $component:expr, $desc:expr) => {
        setting!(
            $name,
            $default,
            $kind,
            $dynamic,
            $component,
            $desc,
            DEFAULT_INTEGER_RANGE
        )
    };
    ($name:expr, $default:expr, $kind:ident, $dynamic:expr, $component:expr, $desc:expr, $range:expr) => {
        SettingDef {
            name: $name,
            default: $default,
            kind: SettingType::$kind,
            category: "Advanced",
            component: $component,
            description: $desc,
            is_dynamic: $dynamic,
            range: $range,
        }
    };
}

/// The most nodes a cluster may have, whatever `cloud.kubernetes.cluster.max.size` says: node
/// SSH forwards take consecutive public ports from 2222, and the cleanup of stale rules looks
/// 1000 ports ahead.
pub const MAX_CLUSTER_SIZE: i64 = 1000;

/// Every setting the service knows, in the order `listConfigurations` shows them.
pub static SETTINGS: &[SettingDef] = &[
    setting!(
        SERVICE_ENABLED,
        "true",
        Boolean,
        false,
        K8S,
        "Indicates whether Kubernetes Service plugin is enabled or not. Management server restart needed on change"
    ),
    setting!(
        CLUSTER_NETWORK_OFFERING,
        "DefaultNetworkOfferingforKubernetesService",
        String,
        false,
        K8S,
        "Name of the network offering that will be used to create isolated network in which Kubernetes cluster VMs will be launched"
    ),
    setting!(
        CLUSTER_START_TIMEOUT,
        "3600",
        Integer,
        true,
        K8S,
        "Timeout interval (in seconds) in which start operation for a Kubernetes cluster should be completed",
        SECONDS
    ),
    setting!(
        CLUSTER_SCALE_TIMEOUT,
        "3600",
        Integer,
        true,
        K8S,
        "Timeout interval (in seconds) in which scale operation for a Kubernetes cluster should be completed",
        SECONDS
    ),
    setting!(
        CLUSTER_UPGRADE_TIMEOUT,
        "3600",
        Integer,
        true,
        K8S,
        "Timeout interval (in seconds) in which upgrade operation for a Kubernetes cluster should be completed. Not strictly obeyed while upgrade is in progress on a node",
        SECONDS
    ),
    setting!(
        CLUSTER_UPGRADE_RETRIES,
        "3",
        Integer,
        true,
        K8S,
        "The number of retries if fail to upgrade kubernetes cluster due to some reasons (e.g. drain node, etcdserver leader changed)"
    ),
    setting!(
        CLUSTER_ADD_NODE_TIMEOUT,
        "3600",
        Integer,
        true,
        K8S,
        "Timeout interval (in seconds) in which an external node (VM / baremetal host) addition to a cluster should be completed",
        SECONDS
    ),
    setting!(
        CLUSTER_REMOVE_NODE_TIMEOUT,
        "900",
        Integer,
        true,
        K8S,
        "Timeout interval (in seconds) in which an external node (VM / baremetal host) removal from a cluster should be completed",
        SECONDS
    ),
    setting!(
        EXPERIMENTAL_FEATURES,
        "false",
        Boolean,
        true,
        K8S,
        "Indicates whether experimental feature for Kubernetes cluster such as Docker private registry are enabled or not"
    ),
    setting!(
        CLUSTER_MAX_SIZE,
        "10",
        Integer,
        true,
        K8S,
        "Maximum size of the kubernetes cluster (control, worker and etcd nodes)",
        (1, MAX_CLUSTER_SIZE)
    ),
    setting!(
        CONTROL_INSTALL_WAIT,
        "15",
        Integer,
        true,
        K8S,
        "Control Nodes: Time in seconds to wait before attempting to install the kubernetes binaries ISO",
        (1, 3600)
    ),
    setting!(
        CONTROL_INSTALL_ATTEMPTS,
        "100",
        Integer,
        true,
        K8S,
        "Control Nodes: Number of times the binaries ISO mount is attempted",
        (1, 10_000)
    ),
    setting!(
        WORKER_INSTALL_WAIT,
        "30",
        Integer,
        true,
        K8S,
        "Worker Nodes: Time in seconds to wait before attempting to install the kubernetes binaries ISO",
        (1, 3600)
    ),
    setting!(
        WORKER_INSTALL_ATTEMPTS,
        "40",
        Integer,
        true,
        K8S,
        "Worker Nodes: Number of times the binaries ISO mount is attempted",
        (1, 10_000)
    ),
    setting!(
        ETCD_START_PORT,
        "50000",
        Integer,
        true,
        K8S,
        "Start port for port forwarding rules for SSH access on etcd nodes",
        (1, 65535)
    ),
    setting!(
        SCANNER_INTERVAL,
        "300",
        Integer,
        true,
        K8S,
        "Interval (in seconds) between two runs of the Kubernetes cluster state scanner",
        (1, 86_400)
    ),
    setting!(
        DEFAULT_PAGE_SIZE,
        "500",
        Integer,
        true,
        "ManagementServer",
        "Default page size for API list* commands",
        (1, i32::MAX as i64)
    ),
    setting!(
        ENDPOINT_URL,
        "http://localhost:8080/client/api",
        String,
        true,
        "ManagementServer",
        "Endpoint Url of the management server, passed to Kubernetes nodes for the cloud controller manager"
    ),
    setting!(
        USERDATA_MAX_LENGTH,
        "32768",
        Integer,
        true,
        "UserDataManager",
        "Max length of vm userdata after base64 encoding. Default is 32768 and maximum is 1048576",
        (1, 1_048_576)
    ),
    setting!(
        SIGNATURE_EXPIRES_MAX,
        "1200",
        Integer,
        true,
        "ManagementServer",
        "Longest time (in seconds) into the future a signed request's expires may name; requests that expire later are refused, so a captured request cannot be replayed for long",
        (60, 86400)
    ),
    setting!(
        SIGNATURE_EXPIRES_REQUIRED,
        "false",
        Boolean,
        true,
        "ManagementServer",
        "Whether every request signed with an API key must carry signatureversion=3 and expires; without them a captured request stays valid for as long as the key"
    ),
    setting!(
        LOGIN_ATTEMPTS_ALLOWED,
        "5",
        Integer,
        true,
        "AccountManager",
        "Incorrect login attempts allowed before the user is disabled"
    ),
    // cks's own: CloudStack disables the user until an admin enables it; cks has no enableUser,
    // so the lock ends by itself.
    setting!(
        LOGIN_LOCKOUT_DURATION,
        "900",
        Integer,
        true,
        "AccountManager",
        "Seconds a user cannot log in with a password after incorrect.login.attempts.allowed consecutive failed attempts (API keys keep working)"
    ),
];

/// The catalog entry for `name`, if the service knows it.
pub fn find(name: &str) -> Option<&'static SettingDef> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// Why a setting name or value was refused; the texts are CloudStack's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    /// No setting has this name.
    #[error("Config parameter with name {0} doesn't exist")]
    Unknown(String),
    /// The value does not parse as the setting's type.
    #[error("Value [{value}] is not a valid [{kind}].")]
    BadValue {
        /// The refused text, as given.
        value: String,
        /// The type's name, as `SettingType::name` spells it.
        kind: &'static str,
    },
    /// An Integer value outside the setting's inclusive range.
    #[error("Value [{value}] for {name} is out of range: it must be between {min} and {max}.")]
    OutOfRange {
        /// The setting's key.
        name: &'static str,
        /// The refused text, as given.
        value: String,
        /// Lowest allowed value, inclusive.
        min: i64,
        /// Highest allowed value, inclusive.
        max: i64,
    },
}

/// Checks `value` against the setting's type and returns it normalised (`True` → `true`).
pub fn validate(def: &SettingDef, value: &str) -> Result<String, SettingError> {
    let bad = || SettingError::BadValue {
        value: value.to_string(),
        kind: def.kind.name(),
    };
    match def.kind {
        SettingType::Boolean => match value.to_ascii_lowercase().as_str() {
            v @ ("true" | "false") => Ok(v.to_string()),
            _ => Err(bad()),
        },
        SettingType::Integer => {
            let n = value.trim().parse::<i64>().map_err(|_| bad())?;
            let (min, max) = def.range;
            if !(min..=max).contains(&n) {
                return Err(SettingError::OutOfRange {
                    name: def.name,
                    value: value.to_string(),
                    min,
                    max,
                });
            }
            Ok(n.to_string())
        }
        SettingType::String => Ok(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_names_are_unique_and_defaults_valid() {
        for (i, s) in SETTINGS.iter().enumerate() {
            assert!(
                SETTINGS[i + 1..].iter().all(|o| o.name != s.name),
                "duplicate {}",
                s.name
            );
            assert_eq!(
                validate(s, s.default).as_deref(),
                Ok(s.default),
                "default of {}",
                s.name
            );
        }
    }

    #[test]
    fn values_are_checked_against_their_type() {
        let enabled = find(SERVICE_ENABLED).unwrap();
        assert_eq!(validate(enabled, "TRUE"), Ok("true".into()));
        assert_eq!(
            validate(enabled, "yes").unwrap_err().to_string(),
            "Value [yes] is not a valid [Boolean]."
        );
        assert!(validate(find(CLUSTER_MAX_SIZE).unwrap(), "ten").is_err());
    }

    #[test]
    fn integer_settings_are_kept_within_their_range() {
        let interval = find(SCANNER_INTERVAL).unwrap();
        assert_eq!(
            validate(interval, "-5").unwrap_err().to_string(),
            "Value [-5] for cloud.kubernetes.cluster.scanner.interval is out of range: it must be between 1 and 86400."
        );
        assert!(validate(interval, "0").is_err());
        assert_eq!(validate(interval, "1"), Ok("1".into()));
        let port = find(ETCD_START_PORT).unwrap();
        assert!(validate(port, "65536").is_err());
        assert_eq!(validate(port, "65535"), Ok("65535".into()));
        assert!(validate(find(CLUSTER_START_TIMEOUT).unwrap(), "0").is_err());
        assert!(validate(find(DEFAULT_PAGE_SIZE).unwrap(), "0").is_err());
        assert!(validate(find(CLUSTER_MAX_SIZE).unwrap(), "9223372036854775807").is_err());
        // Without a declared range: never negative, within a Java int.
        let retries = find(CLUSTER_UPGRADE_RETRIES).unwrap();
        assert_eq!(retries.range, DEFAULT_INTEGER_RANGE);
        assert!(validate(retries, "-1").is_err());
        assert!(validate(retries, "2147483648").is_err());
        assert_eq!(validate(retries, "0"), Ok("0".into()));
    }
}
