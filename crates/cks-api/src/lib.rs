//! The CloudStack API protocol, and the only crate that knows its wire format: parameter parsing
//! (case-insensitive names, `name[0].field=` maps, lists), request signing, response envelopes,
//! error codes, dates, and the table of commands that drives dispatch and `listApis`.

pub mod date;
pub mod wire;
