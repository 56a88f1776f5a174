//! Response envelopes: `{"<command lowercase>response": {...}}`.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// The envelope key for a command: its name lowercased plus `response`.
pub fn response_key(command: &str) -> String {
    format!("{}response", command.to_ascii_lowercase())
}

/// A sync answer holding one object: `{"<cmd>response": {"<object>": {...}}}`.
pub fn object(command: &str, object_name: &str, value: Value) -> Value {
    json!({ response_key(command): { object_name: value } })
}

/// A sync answer whose body is already the inner object (login, queryAsyncJobResult).
pub fn flat(command: &str, body: Value) -> Value {
    json!({ response_key(command): body })
}

/// A list answer, serialized: `{"<cmd>response": {"count": N, "<object>": [...]}}`. `count` is the
/// number of matches before paging; an empty result is `{}`. Items are borrowed and written
/// straight out, because list pages are the hot path and cloning them was most of their cost.
pub fn list<'a, T: Serialize + 'a>(
    command: &str,
    object_name: &str,
    items: impl IntoIterator<Item = &'a T>,
    count: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{");
    write_string(&mut out, &response_key(command));
    out.extend_from_slice(b":{");
    let mut items = items.into_iter().peekable();
    if count > 0 {
        out.extend_from_slice(format!("\"count\":{count}").as_bytes());
    }
    if items.peek().is_some() {
        if count > 0 {
            out.push(b',');
        }
        write_string(&mut out, object_name);
        out.extend_from_slice(b":[");
        for (i, item) in items.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // Writing into a Vec cannot fail, and the wire objects have only string keys.
            let _ = serde_json::to_writer(&mut out, item);
        }
        out.push(b']');
    }
    out.extend_from_slice(b"}}");
    out
}

fn write_string(out: &mut Vec<u8>, text: &str) {
    let _ = serde_json::to_writer(&mut *out, text);
}

/// `{"success": true}` (plus `displaytext` when given).
pub fn success_body(displaytext: Option<&str>) -> Value {
    let mut body = json!({ "success": true });
    if let Some(text) = displaytext {
        body["displaytext"] = json!(text);
    }
    body
}

/// An async submit: `{"<cmd>response": {"jobid": ..}}`, plus `id` for create commands.
pub fn async_submit(command: &str, job_id: &str, entity_id: Option<&str>) -> Value {
    let mut inner = Map::new();
    if let Some(id) = entity_id {
        inner.insert("id".into(), json!(id));
    }
    inner.insert("jobid".into(), json!(job_id));
    json!({ response_key(command): inner })
}

/// An error answer. Unknown commands (and failures before a command is known) use
/// `errorresponse`.
pub fn error(command: Option<&str>, err: &ApiError) -> Value {
    let (code, cs_code) = err.codes();
    let key = match (command, err) {
        (Some(cmd), e) if !matches!(e, ApiError::UnknownCommand(_)) => response_key(cmd),
        _ => "errorresponse".to_string(),
    };
    json!({ key: {
        "uuidList": [],
        "errorcode": code,
        "cserrorcode": cs_code,
        "errortext": err.to_string(),
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_lists_are_an_empty_object() {
        let parse = |bytes: Vec<u8>| serde_json::from_slice::<Value>(&bytes).unwrap();
        assert_eq!(
            parse(list::<Value>("listZones", "zone", &[], 0)),
            json!({"listzonesresponse": {}})
        );
        assert_eq!(
            parse(list("listZones", "zone", &[json!({"id": "z"})], 3)),
            json!({"listzonesresponse": {"count": 3, "zone": [{"id": "z"}]}})
        );
        assert_eq!(
            parse(list::<Value>("listZones", "zone", &[], 3)),
            json!({"listzonesresponse": {"count": 3}}),
            "a page past the end"
        );
    }

    #[test]
    fn errors_carry_codes_and_use_errorresponse_for_unknown_commands() {
        let e = error(Some("nope"), &ApiError::UnknownCommand("nope".into()));
        assert_eq!(e["errorresponse"]["errorcode"], 432);
        assert_eq!(e["errorresponse"]["errortext"], "Unknown API command: nope");
        let e = error(Some("listZones"), &ApiError::invalid("bad"));
        assert_eq!(e["listzonesresponse"]["cserrorcode"], 4350);
    }
}
