//! Response objects in CloudStack's JSON shapes. Null fields are omitted: build objects with
//! [`Obj`] so an absent `Option` never becomes `null`.

pub mod iaas;
pub mod objects;

use serde_json::{Map, Value};

/// A JSON object builder that skips `None`.
#[derive(Default)]
pub struct Obj(Map<String, Value>);

impl Obj {
    pub fn new() -> Obj {
        Obj(Map::new())
    }

    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Obj {
        self.0.insert(key.to_string(), value.into());
        self
    }

    pub fn opt<V: Into<Value>>(mut self, key: &str, value: Option<V>) -> Obj {
        if let Some(v) = value {
            self.0.insert(key.to_string(), v.into());
        }
        self
    }

    /// Adds the owner block (`account`, `domainid`, `domain`, `domainpath`, `projectid`, `project`).
    pub fn owner(self, owner: &cks_core::tenancy::Owner) -> Obj {
        self.set("account", owner.account_name.clone())
            .set("domainid", owner.domain_id.clone())
            .set("domain", owner.domain_name.clone())
            .set("domainpath", owner.domain_path.clone())
            .opt("projectid", owner.project_id.clone())
            .opt("project", owner.project_name.clone())
    }

    pub fn build(self) -> Value {
        Value::Object(self.0)
    }
}
