//! The cks management server: CloudStack-compatible HTTP API, auth, command handlers, job runner.
