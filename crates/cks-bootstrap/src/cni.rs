//! Registered CNI configurations: user data the operator registers (base64) with declared
//! parameters, rendered for one cluster and merged into the first control node's user data.
//!
//! CKS leaves `{{ ds.meta_data.<param> }}` for cloud-init's Jinja to fill from VM metadata and
//! concatenates the text onto its template. Here both placeholders are substituted by the service
//! (the values are known: they are the cluster's `cniconfigdetails`), every value is checked
//! against a conservative character set because it lands in YAML and often in shell commands,
//! and the result is merged as data, so the node still receives one valid cloud-config.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// Why a CNI configuration cannot be used for a cluster. Each is the user's to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CniError {
    #[error("CNI configuration is not valid base64")]
    /// The registered content is not base64.
    NotBase64,
    #[error("CNI configuration is not UTF-8 text")]
    /// The decoded content is binary.
    NotUtf8,
    #[error("CNI configuration format {0:?} is not supported; use #cloud-config or a #! script")]
    /// gzip, MIME, `#include` and other cloud-init formats cannot be merged.
    UnsupportedFormat(String),
    #[error("CNI parameter name {0:?} is invalid; use letters, digits, '_' and '-'")]
    /// A declared parameter name has characters cloud-init metadata keys cannot have.
    InvalidParamName(String),
    #[error(
        "CNI configuration uses {{{{ ds.meta_data.{0} }}}}, but {0:?} is not a declared parameter"
    )]
    /// The content references a parameter that was not declared.
    UnknownParam(String),
    #[error("a value was given for {0:?}, which the CNI configuration does not declare")]
    /// The cluster gave a value for a parameter that was not declared.
    UndeclaredDetail(String),
    #[error("CNI parameter {0:?} is declared but no value was given")]
    /// A declared parameter has no value.
    MissingParam(String),
    #[error(
        "CNI configuration uses {{{{ AS_NUMBER }}}} but the cluster's network has no AS number"
    )]
    /// The content needs an AS number and the network has none.
    MissingAsNumber,
    #[error(
        "value of CNI parameter {param:?} contains {found:?}; allowed are letters, digits and . _ : / , = @ + -"
    )]
    /// A value holds a character that could break out of YAML or a shell command.
    UnsafeValue {
        /// The parameter.
        param: String,
        /// The first offending character.
        found: char,
    },
    #[error(
        "unsupported template expression {0:?}; only {{{{ AS_NUMBER }}}} and {{{{ ds.meta_data.<param> }}}} are substituted"
    )]
    /// Jinja beyond the two supported placeholders.
    UnsupportedExpression(String),
    #[error("CNI configuration is not valid YAML after substitution: {0}")]
    /// The substituted content does not parse.
    InvalidYaml(String),
    #[error("CNI configuration must be a mapping of cloud-config keys or a list of commands")]
    /// The content is a scalar.
    NotAMapping,
    #[error("CNI configuration sets {0:?}, which the node's own user data controls")]
    /// The content sets a key the node's user data owns.
    Conflict(String),
    #[error("CNI configuration key {key:?} must be a list")]
    /// `runcmd`, `bootcmd` or `write_files` is not a list.
    NotAList {
        /// The key.
        key: String,
    },
}

/// A CNI configuration as registered (`registerCniConfiguration`) plus what a cluster supplies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CniConfiguration {
    /// The registered `cniconfig`: base64 of cloud-init content.
    pub user_data_base64: String,
    /// The registered `params`: names the content may use as `{{ ds.meta_data.<name> }}`.
    pub params: Vec<String>,
    /// The cluster's `cniconfigdetails`: one value per declared parameter.
    pub details: BTreeMap<String, String>,
    /// The network's AS number (dynamically routed networks), for `{{ AS_NUMBER }}`.
    pub as_number: Option<u64>,
}

/// The rendered configuration in the shape it is merged in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CniFragment {
    /// Top-level cloud-config keys (`runcmd`, `write_files`, ...).
    CloudConfig(serde_json::Map<String, serde_json::Value>),
    /// A bare list: the "indented runcmd items" form CKS's documentation uses.
    RunCommands(Vec<serde_json::Value>),
    /// A `#!` script, run after `kubeadm init`.
    Script(String),
}

impl CniConfiguration {
    /// Splits a registered `params` string (`"a,b , c"`) into names.
    pub fn parse_params(params: &str) -> Vec<String> {
        params
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    /// Decodes the content and substitutes `{{ AS_NUMBER }}` and `{{ ds.meta_data.<param> }}`.
    pub fn render(&self) -> Result<String, CniError> {
        for name in &self.params {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(CniError::InvalidParamName(name.clone()));
            }
        }
        for (name, value) in &self.details {
            if !self.params.contains(name) {
                return Err(CniError::UndeclaredDetail(name.clone()));
            }
            if let Some(found) = value.chars().find(|c| !is_safe_value_char(*c)) {
                return Err(CniError::UnsafeValue {
                    param: name.clone(),
                    found,
                });
            }
        }
        if let Some(name) = self.params.iter().find(|p| !self.details.contains_key(*p)) {
            return Err(CniError::MissingParam(name.clone()));
        }
        let compact: String = self.user_data_base64.split_whitespace().collect();
        let raw = STANDARD.decode(compact).map_err(|_| CniError::NotBase64)?;
        if raw.starts_with(&[0x1f, 0x8b]) {
            return Err(CniError::UnsupportedFormat("gzip".into()));
        }
        let text = String::from_utf8(raw).map_err(|_| CniError::NotUtf8)?;
        self.substitute(&text)
    }

    fn substitute(&self, text: &str) -> Result<String, CniError> {
        if let Some(at) = text.find("{%") {
            let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
            return Err(CniError::UnsupportedExpression(text[at..end].to_owned()));
        }
        let mut res = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            res.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| CniError::UnsupportedExpression(truncate(&rest[start..])))?;
            let expr = after[..end].trim();
            if expr == "AS_NUMBER" {
                res.push_str(&self.as_number.ok_or(CniError::MissingAsNumber)?.to_string());
            } else if let Some(name) = expr.strip_prefix("ds.meta_data.") {
                if !self.params.iter().any(|p| p == name) {
                    return Err(CniError::UnknownParam(name.to_owned()));
                }
                // Checked in render(): every declared parameter has a value.
                res.push_str(self.details.get(name).map_or("", String::as_str));
            } else {
                return Err(CniError::UnsupportedExpression(format!("{{{{ {expr} }}}}")));
            }
            rest = &after[end + 2..];
        }
        res.push_str(rest);
        Ok(res)
    }

    /// Renders and parses the configuration into the piece that gets merged.
    pub(crate) fn fragment(&self) -> Result<CniFragment, CniError> {
        let text = self.render()?;
        let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
        let mut first = lines.next().unwrap_or_default().trim_end();
        // A Jinja header is meaningless once the service has substituted everything.
        if first.trim() == "## template: jinja" {
            first = lines.next().unwrap_or_default().trim_end();
        }
        if first.starts_with("#!") {
            return Ok(CniFragment::Script(text));
        }
        let is_cloud_config = first.trim() == "#cloud-config";
        if !is_cloud_config && first.starts_with('#') && !first.starts_with("# ") {
            return Err(CniError::UnsupportedFormat(first.to_owned()));
        }
        if first.to_ascii_lowercase().starts_with("content-type:") {
            return Err(CniError::UnsupportedFormat("MIME multipart".into()));
        }
        let value: serde_json::Value =
            serde_saphyr::from_str(&text).map_err(|e| CniError::InvalidYaml(e.to_string()))?;
        match value {
            serde_json::Value::Object(map) => Ok(CniFragment::CloudConfig(map)),
            serde_json::Value::Array(items) => Ok(CniFragment::RunCommands(items)),
            serde_json::Value::Null => Ok(CniFragment::CloudConfig(serde_json::Map::new())),
            _ => Err(CniError::NotAMapping),
        }
    }
}

fn is_safe_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._:/,=@+-".contains(c)
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A Calico-style BGP configuration: a manifest written to disk, applied after init, using
    /// both kinds of placeholder.
    pub(crate) const CALICO_BGP: &str = r#"#cloud-config
write_files:
  - path: /opt/cni/calico-bgp.yaml
    permissions: "0644"
    content: |
      apiVersion: projectcalico.org/v3
      kind: BGPConfiguration
      metadata:
        name: default
      spec:
        asNumber: {{ AS_NUMBER }}
        nodeToNodeMeshEnabled: false
      ---
      apiVersion: projectcalico.org/v3
      kind: BGPPeer
      metadata:
        name: router
      spec:
        peerIP: {{ ds.meta_data.bgp_peer_ip }}
        asNumber: {{ds.meta_data.bgp_peer_as}}
runcmd:
  - kubectl apply -f /opt/cks/manifests/network.yaml
  - [sh, -c, "until kubectl get crd bgpconfigurations.crd.projectcalico.org; do sleep 5; done"]
  - kubectl apply -f /opt/cni/calico-bgp.yaml
"#;

    pub(crate) fn calico() -> CniConfiguration {
        CniConfiguration {
            user_data_base64: STANDARD.encode(CALICO_BGP),
            params: CniConfiguration::parse_params("bgp_peer_ip, bgp_peer_as"),
            details: [("bgp_peer_ip", "10.1.1.1"), ("bgp_peer_as", "64512")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            as_number: Some(65001),
        }
    }

    #[test]
    fn substitutes_both_placeholders() {
        let text = calico().render().unwrap();
        assert!(text.contains("asNumber: 65001\n"));
        assert!(text.contains("peerIP: 10.1.1.1\n"));
        assert!(text.contains("asNumber: 64512\n"));
        assert!(!text.contains("{{"));
    }

    #[test]
    fn clear_errors() {
        let with = |f: &dyn Fn(&mut CniConfiguration)| {
            let mut c = calico();
            f(&mut c);
            c.render().unwrap_err()
        };
        assert_eq!(with(&|c| c.as_number = None), CniError::MissingAsNumber);
        assert_eq!(
            with(&|c| {
                c.details.remove("bgp_peer_as");
            }),
            CniError::MissingParam("bgp_peer_as".into())
        );
        assert_eq!(
            with(&|c| {
                c.details.insert("extra".into(), "1".into());
            }),
            CniError::UndeclaredDetail("extra".into())
        );
        assert_eq!(
            with(&|c| {
                c.params.retain(|p| p != "bgp_peer_ip");
                c.details.remove("bgp_peer_ip");
            }),
            CniError::UnknownParam("bgp_peer_ip".into())
        );
        assert_eq!(
            with(&|c| {
                c.details
                    .insert("bgp_peer_ip".into(), "1.2.3.4\nruncmd: [reboot]".into());
            }),
            CniError::UnsafeValue {
                param: "bgp_peer_ip".into(),
                found: '\n'
            }
        );
        assert_eq!(
            with(&|c| {
                c.details.insert("bgp_peer_ip".into(), "$(reboot)".into());
            }),
            CniError::UnsafeValue {
                param: "bgp_peer_ip".into(),
                found: '$'
            }
        );
        assert_eq!(
            with(&|c| c.user_data_base64 = "%%%".into()),
            CniError::NotBase64
        );
        assert!(matches!(
            with(&|c| c.user_data_base64 =
                STANDARD.encode("runcmd:\n  - echo {{ ds.meta_data.x | upper }}\n")),
            CniError::UnknownParam(_) | CniError::UnsupportedExpression(_)
        ));
        assert!(matches!(
            with(&|c| c.user_data_base64 =
                STANDARD.encode("runcmd:\n  - echo {{ v1.local_hostname }}\n")),
            CniError::UnsupportedExpression(_)
        ));
        assert!(matches!(
            with(&|c| c.user_data_base64 = STANDARD.encode("{% if x %}\n")),
            CniError::UnsupportedExpression(_)
        ));
        assert_eq!(
            with(&|c| c.params.push("bad name".into())),
            CniError::InvalidParamName("bad name".into())
        );
    }

    #[test]
    fn fragment_shapes() {
        let frag = |text: &str| {
            CniConfiguration {
                user_data_base64: STANDARD.encode(text),
                params: vec![],
                details: BTreeMap::new(),
                as_number: None,
            }
            .fragment()
        };
        assert!(matches!(
            frag(CALICO_BGP.replace("{{ AS_NUMBER }}", "1").as_str()),
            Err(CniError::UnknownParam(_))
        ));
        assert!(matches!(
            frag("#cloud-config\nruncmd:\n  - echo hi\n"),
            Ok(CniFragment::CloudConfig(_))
        ));
        assert!(
            matches!(frag("  - kubectl apply -f x.yaml\n  - echo done\n"), Ok(CniFragment::RunCommands(v)) if v.len() == 2)
        );
        assert!(matches!(
            frag("#!/bin/sh\necho hi\n"),
            Ok(CniFragment::Script(_))
        ));
        assert!(matches!(
            frag("#include\nhttp://example.com/x\n"),
            Err(CniError::UnsupportedFormat(_))
        ));
        assert!(matches!(
            frag("Content-Type: multipart/mixed\n"),
            Err(CniError::UnsupportedFormat(_))
        ));
        assert!(matches!(
            frag("#cloud-config\nruncmd: [unclosed\n"),
            Err(CniError::InvalidYaml(_))
        ));
        assert!(matches!(frag("just text"), Err(CniError::NotAMapping)));
    }
}
