//! Printing API objects: aligned columns for lists and `key: value` lines for one object in
//! `--output table`; the API's own objects, pretty-printed, in `--output json` (a list is a JSON
//! array, so `jq '.[0].id'` works whatever the command).

use std::io::Write;

use serde_json::Value;

use crate::cli::OutputFormat;

/// A table column: its heading and the object field it shows.
pub type Column = (&'static str, &'static str);

/// `cks cluster list`: columns over listKubernetesClusters' fields.
pub const CLUSTER_COLUMNS: &[Column] = &[
    ("ID", "id"),
    ("NAME", "name"),
    ("STATE", "state"),
    ("VERSION", "kubernetesversionname"),
    ("CONTROL", "controlnodes"),
    ("SIZE", "size"),
    ("ZONE", "zonename"),
    ("STEP", "step"),
];

/// `cks version list`: columns over listKubernetesSupportedVersions' fields.
pub const VERSION_COLUMNS: &[Column] = &[
    ("ID", "id"),
    ("NAME", "name"),
    ("SEMVER", "semanticversion"),
    ("STATE", "state"),
    ("ISO", "isostate"),
    ("ZONE", "zonename"),
    ("MINCPU", "mincpunumber"),
    ("MINMEMORY", "minmemory"),
];

/// `cks job steps`: columns over listAsyncJobSteps' fields.
pub const STEP_COLUMNS: &[Column] = &[
    ("NAME", "name"),
    ("STATE", "state"),
    ("ATTEMPTS", "attempts"),
    ("STARTED", "started"),
    ("COMPLETED", "completed"),
    ("ERROR", "errortext"),
];

/// `cks cni list`: columns over listCniConfiguration's fields.
pub const CNI_COLUMNS: &[Column] = &[
    ("ID", "id"),
    ("NAME", "name"),
    ("ACCOUNT", "account"),
    ("PARAMS", "params"),
];

/// Writes to stdout; a closed pipe surfaces as an error `main` treats as success.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Prints a list in the chosen format; `columns` = None shows every scalar field.
pub fn list(
    format: OutputFormat,
    items: &[Value],
    columns: Option<&[Column]>,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => emit(&json(&Value::Array(items.to_vec()))),
        OutputFormat::Table => emit(&table(items, columns)),
    }
}

/// Prints one object in the chosen format.
pub fn object(format: OutputFormat, item: &Value) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => emit(&json(item)),
        OutputFormat::Table => emit(&key_values(item)),
    }
}

/// Pretty-printed JSON of `value` with a final newline.
pub fn json(value: &Value) -> String {
    let mut res = serde_json::to_string_pretty(value).unwrap_or_default();
    res.push('\n');
    res
}

/// A column's value: a field name, or a JSON pointer into the object (`/nic/0/ipaddress`).
fn field<'a>(item: &'a Value, name: &str) -> Option<&'a Value> {
    if name.starts_with('/') {
        item.pointer(name)
    } else {
        item.get(name)
    }
}

/// A scalar as a cell; missing and null are `-`.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) if s.is_empty() => "-".into(),
        Some(Value::String(s)) => s.replace(['\n', '\t'], " "),
        Some(Value::Array(a)) => format!("[{}]", a.len()),
        Some(Value::Object(_)) => "{..}".into(),
        Some(v) => v.to_string(),
    }
}

/// Aligned columns with a heading line; `(none)` for an empty list.
pub fn table(items: &[Value], columns: Option<&[Column]>) -> String {
    let columns: Vec<(String, String)> = match columns {
        Some(c) => c
            .iter()
            .map(|(h, f)| (h.to_string(), f.to_string()))
            .collect(),
        None => {
            // Every scalar field of any item, in first-seen order.
            let mut keys: Vec<String> = Vec::new();
            for item in items {
                for (k, v) in item.as_object().into_iter().flatten() {
                    if !v.is_array() && !v.is_object() && !keys.contains(k) {
                        keys.push(k.clone());
                    }
                }
            }
            keys.into_iter().map(|k| (k.to_uppercase(), k)).collect()
        }
    };
    if items.is_empty() {
        return "(none)\n".into();
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| columns.iter().map(|(_, f)| cell(field(item, f))).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (h, _))| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([h.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut res = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(c);
            } else {
                text.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        res.push_str(text.trim_end());
        res.push('\n');
    };
    line(columns.iter().map(|(h, _)| h.as_str()).collect());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    res
}

/// `key: value` lines for an object's scalars, then each list of objects as an indented table
/// (a cluster's `virtualmachines`).
pub fn key_values(item: &Value) -> String {
    let Some(obj) = item.as_object() else {
        return format!("{}\n", cell(Some(item)));
    };
    let width = obj
        .iter()
        .filter(|(_, v)| !v.is_array() && !v.is_object())
        .map(|(k, _)| k.len())
        .max()
        .unwrap_or(0);
    let mut res = String::new();
    for (k, v) in obj {
        if !v.is_array() && !v.is_object() {
            res.push_str(&format!(
                "{:<width$}  {}\n",
                format!("{k}:"),
                cell(Some(v)),
                width = width + 1
            ));
        }
    }
    for (k, v) in obj {
        let Some(list) = v.as_array().filter(|l| !l.is_empty()) else {
            continue;
        };
        if list.iter().all(Value::is_object) {
            let columns: &[Column] = if k == "virtualmachines" {
                &[
                    ("ID", "id"),
                    ("NAME", "name"),
                    ("STATE", "state"),
                    ("IP", "/nic/0/ipaddress"),
                    ("VERSION", "kubernetesnodeversion"),
                ]
            } else {
                &[]
            };
            let text = if columns.is_empty() {
                table(list, None)
            } else {
                table(list, Some(columns))
            };
            res.push_str(&format!("{k}:\n"));
            for line in text.lines() {
                res.push_str(&format!("  {line}\n"));
            }
        } else {
            let cells: Vec<String> = list.iter().map(|v| cell(Some(v))).collect();
            res.push_str(&format!("{k}: {}\n", cells.join(", ")));
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tables_align_and_mark_gaps() {
        let items = vec![
            json!({"id": "1", "name": "a", "state": "Running", "size": 2}),
            json!({"id": "22", "name": "bbbb", "state": "Stopped"}),
        ];
        let text = table(
            &items,
            Some(&[("ID", "id"), ("NAME", "name"), ("SIZE", "size")]),
        );
        assert_eq!(text, "ID  NAME  SIZE\n1   a     2\n22  bbbb  -\n");
        assert_eq!(table(&[], Some(CLUSTER_COLUMNS)), "(none)\n");
        let derived = table(&items, None);
        assert!(
            derived.starts_with("ID  NAME  STATE    SIZE\n"),
            "{derived}"
        );
    }

    #[test]
    fn one_object_as_key_values() {
        let text = key_values(&json!({
            "id": "x", "name": "demo",
            "virtualmachines": [{"id": "v", "name": "demo-control-1", "state": "Running"}]
        }));
        assert!(
            text.starts_with("id:    x\nname:  demo\nvirtualmachines:\n"),
            "{text}"
        );
        assert!(text.contains("  v   demo-control-1  Running"), "{text}");
    }
}
