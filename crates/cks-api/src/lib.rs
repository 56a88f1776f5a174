//! The CloudStack API protocol, and the only crate that knows its wire format: parameter parsing
//! (case-insensitive names, `name[0].field=` maps, lists), request signing, response envelopes,
//! error codes, dates, user data checks, and the table of commands that drives dispatch and
//! `listApis`.
//!
//! Requests pass two stages, as in ripgrep's flags: [`params::RawParams`] (what was sent) and
//! [`commands::Bound`] (checked against the command's declaration). Handlers only see the second.

pub mod commands;
pub mod date;
pub mod envelope;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod params;
pub mod responses;
pub mod signing;
pub mod userdata;
pub mod wire;

pub use error::ApiError;
