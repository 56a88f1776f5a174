//! `listApis` and `listCapabilities`: what a client may call, generated from the command table.

use cks_api::ApiError;
use cks_api::commands::{COMMANDS, Command, Plugin};
use cks_core::settings::{DEFAULT_PAGE_SIZE, EXPERIMENTAL_FEATURES};
use serde_json::{Value, json};

use super::{Cx, Reply};

pub fn list_apis(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let k8s = cx.state.kubernetes_enabled();
    let visible = |c: &&Command| {
        c.access.allows(cx.caller.account_type) && (k8s || c.plugin != Plugin::Kubernetes)
    };
    let apis: Vec<Value> = match cx.p.str("name") {
        Some(name) => {
            let found: Vec<&Command> = COMMANDS
                .iter()
                .filter(|c| c.name == name)
                .filter(visible)
                .collect();
            if found.is_empty() {
                return Err(ApiError::invalid(format!("Invalid API name: {name}")));
            }
            found.into_iter().map(describe).collect()
        }
        None => COMMANDS.iter().filter(visible).map(describe).collect(),
    };
    let count = apis.len();
    Ok(Reply {
        body: cks_api::envelope::list("listApis", "api", &apis, count),
        cookies: Vec::new(),
    })
}

fn describe(c: &Command) -> Value {
    let params: Vec<Value> = c
        .params()
        .map(|p| {
            json!({
                "name": p.name,
                "description": p.description,
                "type": p.kind.api_name(),
                "length": p.max_length().unwrap_or(cks_api::commands::DEFAULT_MAX_LENGTH),
                "required": p.required,
                "since": c.since,
                "related": "",
            })
        })
        .collect();
    let response: Vec<Value> = cks_api::responses::fields(c.response_object)
        .iter()
        .map(|f| json!({ "name": f.name, "description": "", "type": f.kind }))
        .collect();
    json!({
        "name": c.name,
        "description": c.description,
        "since": c.since,
        "isasync": c.is_async(),
        "related": "",
        "params": params,
        "response": response,
    })
}

pub fn list_capabilities(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let s = cx.state;
    Ok(cx.object(json!({
        "cloudstackversion": "4.22.0.0",
        "securitygroupsenabled": false,
        "userpublictemplateenabled": true,
        "supportELB": "false",
        "projectinviterequired": false,
        "allowusercreateprojects": true,
        "customdiskofferingminsize": 1,
        "customdiskofferingmaxsize": 1024,
        "regionsecondaryenabled": false,
        "kvmsnapshotenabled": false,
        "apilimitinterval": 1,
        "apilimitmax": 0,
        "allowuserviewdestroyedvm": false,
        "allowuserexpungerecovervm": false,
        "allowuserexpungerecovervolume": false,
        "allowuserviewalldomainaccounts": false,
        "allowuserforcestopvm": false,
        "kubernetesserviceenabled": s.kubernetes_enabled(),
        "kubernetesclusterexperimentalfeaturesenabled": s.setting_bool(EXPERIMENTAL_FEATURES),
        "defaultuipagesize": s.setting_i64(DEFAULT_PAGE_SIZE),
        "dynamicrolesenabled": false,
        "dynamicscalingenabled": true,
        "instanceleaseenabled": false,
    })))
}
