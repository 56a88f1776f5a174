//! The service layer between the handlers and the store and cloud: operations more than one
//! caller runs (a handler, a job body, first start), so none of those depends on another.

pub mod jobs;
pub mod tenancy;
pub mod versions;
