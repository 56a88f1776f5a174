//! The crate's error type: every failure says which input was wrong or which step failed.

use std::path::PathBuf;

use crate::cni::CniError;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why generating a bootstrap artifact failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A Kubernetes version is malformed or older than the oldest kubeadm API we render (v1beta3).
    #[error("invalid Kubernetes version {version:?}: {reason}")]
    Version {
        /// The rejected input.
        version: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A CIDR is malformed or has host bits set.
    #[error("invalid CIDR {cidr:?}: {reason}")]
    Cidr {
        /// The rejected input.
        cidr: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The cluster description is inconsistent (no control node, a name that is not a DNS label,
    /// an SSH key on several lines, ...). A caller's mistake, not a transient failure.
    #[error("invalid cluster description: {0}")]
    InvalidSpec(String),
    /// rcgen refused to build a key or certificate.
    #[error("cannot generate {what}")]
    Certificate {
        /// The key or certificate being made.
        what: String,
        /// rcgen's reason.
        #[source]
        source: rcgen::Error,
    },
    /// A stored PKI bundle or PEM document cannot be read back.
    #[error("unusable PKI material: {0}")]
    BadPki(String),
    /// A bootstrap token or certificate key does not have kubeadm's format.
    #[error("invalid bootstrap credential: {0}")]
    Token(String),
    /// The system random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// Serializing a YAML document failed.
    #[error("cannot serialize YAML")]
    Yaml(#[from] serde_saphyr::SerializeError),
    /// Serializing a TOML document failed.
    #[error("cannot serialize TOML")]
    Toml(#[from] toml::ser::Error),
    /// The cluster's CNI configuration cannot be used.
    #[error(transparent)]
    Cni(#[from] CniError),
    /// The binaries ISO input directory does not have the expected layout.
    #[error("binaries ISO input: {0}")]
    IsoLayout(String),
    /// Reading or writing a file failed.
    #[error("I/O error on {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// An external tool (xorriso) failed or is missing.
    #[error("{tool} failed: {detail}")]
    Tool {
        /// The program.
        tool: &'static str,
        /// Its exit status and the problems it reported.
        detail: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn cert(what: impl Into<String>) -> impl FnOnce(rcgen::Error) -> Error {
        let what = what.into();
        move |source| Error::Certificate { what, source }
    }
}
