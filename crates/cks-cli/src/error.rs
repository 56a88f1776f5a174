//! The failures a script can tell apart by exit code. Anything else (bad input files, an ISO
//! that would not build) is a plain `anyhow` error and exits 2, like clap's usage errors.

/// A failure with its own exit code; see [`exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The API answered an error envelope. Exit 1.
    #[error("{command}: {text} (errorcode {code}, cserrorcode {cs_code})")]
    Api {
        /// The API command that was called.
        command: String,
        /// `errorcode`, e.g. 431.
        code: i64,
        /// `cserrorcode`, e.g. 4350.
        cs_code: i64,
        /// `errortext`.
        text: String,
    },
    /// A name given for an id matched nothing, or more than one object. Exit 1.
    #[error("{0}")]
    Lookup(String),
    /// A flag or parameter value the command cannot take (found before anything is sent). Exit 2.
    #[error("{0}")]
    Usage(String),
    /// The async job ended with `jobstatus` 2. Exit 3.
    #[error("job {job_id} failed: {text} (errorcode {code})")]
    JobFailed {
        /// The job's id.
        job_id: String,
        /// `jobresult.errorcode`.
        code: i64,
        /// `jobresult.errortext`.
        text: String,
    },
    /// `--wait` gave up; the job goes on. Exit 4.
    #[error(
        "timed out after {seconds} s waiting for job {job_id}; it goes on (follow it with `cks job wait {job_id}`)"
    )]
    Timeout {
        /// The job still running.
        job_id: String,
        /// How long `--wait` waited.
        seconds: u64,
    },
    /// No endpoint or keys, an unreadable config file. Exit 5.
    #[error("{0}")]
    Config(String),
    /// The server could not be reached, or did not answer like a CloudStack API. Exit 5.
    #[error("{0}")]
    Connection(String),
}

impl CliError {
    /// The process exit code: 1 API error or lookup, 2 usage, 3 job failed, 4 timeout, 5 config or
    /// connection.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Api { .. } | CliError::Lookup(_) => 1,
            CliError::Usage(_) => 2,
            CliError::JobFailed { .. } => 3,
            CliError::Timeout { .. } => 4,
            CliError::Config(_) | CliError::Connection(_) => 5,
        }
    }
}

/// The exit code for an error `run` returned: the first [`CliError`] in its chain decides, a
/// closed stdout (`cks ... | head`) is success, anything else is 2.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<CliError>() {
            return e.exit_code();
        }
        if let Some(e) = cause.downcast_ref::<std::io::Error>()
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            return 0;
        }
    }
    2
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::*;

    #[test]
    fn codes_survive_context() {
        let err = Err::<(), _>(CliError::JobFailed {
            job_id: "j".into(),
            code: 530,
            text: "boom".into(),
        })
        .context("creating demo")
        .unwrap_err();
        assert_eq!(exit_code(&err), 3);
        assert_eq!(exit_code(&anyhow::anyhow!("local")), 2);
        let pipe = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(exit_code(&pipe), 0);
    }
}
