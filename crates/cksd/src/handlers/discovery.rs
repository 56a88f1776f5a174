//! `listApis` and `listCapabilities`: what a client may call, generated from the command table.

use cks_api::ApiError;
use cks_api::commands::{COMMANDS, Command, Plugin};
use cks_core::settings::{DEFAULT_PAGE_SIZE, EXPERIMENTAL_FEATURES};
use cks_core::tenancy::AccountType;
use serde_json::{Value, json};

use super::{Cx, Reply};

pub fn list_apis(cx: &Cx<'_>) -> Result<Reply, ApiError> {
    let listed = Listed {
        account_type: cx.caller.account_type,
        kubernetes: cx.state.kubernetes_enabled(),
        simulated: cx.state.is_simulated(),
    };
    let visible = |c: &&Command| listed.shows(c);
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

/// Which commands `listApis` shows a caller: those its role may call, of enabled plugins, that
/// the configured cloud answers.
struct Listed {
    account_type: AccountType,
    kubernetes: bool,
    /// The cloud is the simulator, which answers the simulator-only commands.
    simulated: bool,
}

impl Listed {
    fn shows(&self, c: &Command) -> bool {
        c.access.allows(self.account_type)
            && (self.kubernetes || c.plugin != Plugin::Kubernetes)
            && c.availability.on(self.simulated)
    }
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

#[cfg(test)]
mod tests {
    use cks_api::commands::Availability;

    use super::*;

    fn listed(simulated: bool) -> Vec<&'static str> {
        let listed = Listed {
            account_type: AccountType::RootAdmin,
            kubernetes: true,
            simulated,
        };
        COMMANDS
            .iter()
            .filter(|c| listed.shows(c))
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn another_cloud_hides_the_simulator_only_commands_and_keeps_the_rest() {
        let on_simulator = listed(true);
        let elsewhere = listed(false);
        assert_eq!(
            on_simulator.len(),
            COMMANDS.len(),
            "a root admin sees everything"
        );
        for c in COMMANDS {
            let simulator_only = c.availability == Availability::SimulatorOnly;
            assert_eq!(elsewhere.contains(&c.name), !simulator_only, "{}", c.name);
        }
        for name in [
            "injectSimulatorFault",
            "listHosts",
            "listZones",
            "listResourceLimits",
        ] {
            assert!(!elsewhere.contains(&name), "{name}");
        }
        for name in [
            "listKubernetesClusters",
            "createKubernetesCluster",
            "listApis",
            "login",
        ] {
            assert!(elsewhere.contains(&name), "{name}");
        }
    }
}
