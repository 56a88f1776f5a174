//! API errors and their CloudStack codes. Every failure a client can see is one of these; the
//! mapping to `errorcode` (= HTTP status) and `cserrorcode` happens here and nowhere else.

/// Text CloudStack answers on any signature or API key failure.
pub const BAD_CREDENTIALS: &str = "unable to verify user credentials and/or request signature";
/// Text CloudStack answers on a session failure.
pub const BAD_SESSION: &str = "unable to verify user credentials";

/// A failure a client sees; `codes` gives its `errorcode` and `cserrorcode`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Bad API key, signature, expired request or session (401).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Wrong HTTP method, e.g. `login` over GET (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Map/array parameter syntax error (430).
    #[error("{0}")]
    MalformedParameter(String),
    /// A required parameter is absent or empty (431).
    #[error("Unable to execute API command {command} due to missing parameter {param}")]
    MissingParameter {
        /// The API command called, lowercased as CloudStack prints it.
        command: String,
        /// The parameter's name, as the command table spells it.
        param: String,
    },
    /// A typed parameter that does not parse, or an id that names nothing the caller may see
    /// (431). CloudStack uses one text for both, so a caller cannot probe for other tenants' ids.
    #[error(
        "Unable to execute API command {command} due to invalid value. Invalid parameter {param} value={value} due to incorrect long value format, or entity does not exist or due to incorrect parameter annotation for the field in api cmd class."
    )]
    InvalidValue {
        /// The API command called, lowercased as CloudStack prints it.
        command: String,
        /// The parameter's name, as the command table spells it.
        param: String,
        /// The value as sent.
        value: String,
    },
    /// Any other user mistake (`InvalidParameterValueException`, 431).
    #[error("{0}")]
    InvalidParameter(String),
    /// More parameters than `params::MAX_PARAMETERS` (431, before the signature is checked).
    #[error(
        "Too many request parameters: at most {0} are accepted (query string and form body together)"
    )]
    TooManyParameters(usize),
    /// Too many failed logins from one address (429, CloudStack's `API_LIMIT_EXCEED`).
    #[error("{0}")]
    TooManyRequests(String),
    /// `Unknown API command: X` (432).
    #[error("Unknown API command: {0}")]
    UnknownCommand(String),
    /// A command only the simulated cloud answers, called while another cloud is configured (432).
    #[error(
        "The API command {0} is not available on this cloud: only the simulated cloud answers it"
    )]
    NotOnThisCloud(String),
    /// Shutting down or otherwise not accepting work (503).
    #[error("{0}")]
    Unavailable(String),
    /// Something failed that is not the caller's fault (530).
    #[error("{0}")]
    Internal(String),
    /// Access denied to an entity or a command (531).
    #[error("{0}")]
    PermissionDenied(String),
    /// No host with room for a VM (533, `InsufficientServerCapacityException`).
    #[error("{0}")]
    InsufficientServerCapacity(String),
    /// No free address (533, `InsufficientAddressCapacityException`).
    #[error("{0}")]
    InsufficientAddressCapacity(String),
    /// Any other capacity exhausted (533, `InsufficientCapacityException`).
    #[error("{0}")]
    InsufficientCapacity(String),
    /// Agent or endpoint unreachable (534).
    #[error("{0}")]
    ResourceUnavailable(String),
    /// Account/domain resource limit exceeded (535, as CloudStack reports it).
    #[error("{0}")]
    ResourceLimit(String),
    /// Still in use by something else (536).
    #[error("{0}")]
    ResourceInUse(String),
    /// Port or rule conflict (537).
    #[error("{0}")]
    RuleConflict(String),
}

impl ApiError {
    /// `(errorcode, cserrorcode)`; the HTTP status equals `errorcode`.
    pub fn codes(&self) -> (u16, u32) {
        match self {
            ApiError::Unauthorized(_) => (401, 9999),
            ApiError::MethodNotAllowed(_) => (405, 9999),
            ApiError::MalformedParameter(_) => (430, 9999),
            ApiError::MissingParameter { .. } | ApiError::InvalidValue { .. } => (431, 9999),
            ApiError::InvalidParameter(_) | ApiError::TooManyParameters(_) => (431, 4350),
            ApiError::TooManyRequests(_) => (429, 9999),
            ApiError::UnknownCommand(_) | ApiError::NotOnThisCloud(_) => (432, 9999),
            ApiError::Unavailable(_) => (503, 9999),
            ApiError::Internal(_) => (530, 4250),
            ApiError::PermissionDenied(_) => (531, 4365),
            ApiError::InsufficientServerCapacity(_) => (533, 4335),
            ApiError::InsufficientAddressCapacity(_) => (533, 4320),
            ApiError::InsufficientCapacity(_) => (533, 4325),
            ApiError::ResourceUnavailable(_) => (534, 4380),
            ApiError::ResourceLimit(_) => (535, 4370),
            ApiError::ResourceInUse(_) => (536, 9999),
            ApiError::RuleConflict(_) => (537, 4360),
        }
    }

    /// `InvalidParameter` (431) with CloudStack's `message`.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::InvalidParameter(message.into())
    }

    /// `Internal` (530) with `message`.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::Internal(message.into())
    }

    /// `PermissionDenied` (531) with `message`.
    pub fn denied(message: impl Into<String>) -> ApiError {
        ApiError::PermissionDenied(message.into())
    }

    /// The code a failure gets inside an async job: parameter errors keep 431, explicit API
    /// codes (capacity, limits, conflicts) keep theirs, everything else becomes 530.
    pub fn job_code(&self) -> u16 {
        match self {
            ApiError::PermissionDenied(_) | ApiError::Unauthorized(_) => 530,
            other => other.codes().0,
        }
    }
}
