//! The tidy checks. Each test names the rule it keeps and, when it fails, says which file breaks it
//! and what to do instead.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The repository root (this crate lives in `<root>/xtask`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the repository root")
        .to_path_buf()
}

/// Every `.rs` file under `dir`, sorted, relative paths from the root.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The workspace's crates: `(name, directory)`.
fn crates() -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root().join("crates"))
        .expect("crates/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.push(root().join("xtask"));
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let manifest = read(&dir.join("Cargo.toml"));
            let doc: toml::Table = manifest.parse().expect("Cargo.toml parses");
            let name = doc["package"]["name"]
                .as_str()
                .expect("package.name")
                .to_string();
            (name, dir)
        })
        .collect()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The names of a crate's normal (not dev, not build) dependencies.
fn dependencies(dir: &Path) -> BTreeSet<String> {
    let doc: toml::Table = read(&dir.join("Cargo.toml")).parse().expect("Cargo.toml");
    doc.get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn every_crate_and_module_opens_with_a_doc_comment() {
    let mut missing = Vec::new();
    for (_, dir) in crates() {
        for file in rust_files(&dir.join("src")) {
            let text = read(&file);
            if !text.trim_start().starts_with("//!") {
                missing.push(rel(&file));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "these files do not open with a `//!` comment saying what the module is for:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_crate_has_a_description_and_a_place_in_the_architecture_map() {
    let architecture = read(&root().join("ARCHITECTURE.md"));
    let mut problems = Vec::new();
    for (name, dir) in crates() {
        let doc: toml::Table = read(&dir.join("Cargo.toml")).parse().expect("Cargo.toml");
        if doc["package"].get("description").is_none() {
            problems.push(format!("{name}: no package.description in its Cargo.toml"));
        }
        let path = rel(&dir);
        if !architecture.contains(&format!("`{path}`")) {
            problems.push(format!(
                "{name}: ARCHITECTURE.md has no section for `{path}`"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The domain is pure and the cloud trait is provider-neutral: neither may pull in a runtime, a
/// database or an HTTP stack (a provider that needs one lives in its own crate).
#[test]
fn the_domain_and_the_cloud_trait_have_no_io_dependencies() {
    const IO: &[&str] = &[
        "tokio",
        "sqlx",
        "hyper",
        "hyper-util",
        "http-body-util",
        "reqwest",
        "axum",
        "rustls",
        "tokio-rustls",
    ];
    let mut problems = Vec::new();
    for (name, dir) in crates() {
        if name != "cks-core" && name != "cks-cloud" {
            continue;
        }
        for dep in dependencies(&dir) {
            if IO.contains(&dep.as_str()) {
                problems.push(format!("{name} depends on {dep}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Lines of `text` that call `needle`, ignoring comments.
fn calls<'a>(text: &'a str, needle: &'a str) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    text.lines()
        .enumerate()
        .filter(move |(_, line)| !line.trim_start().starts_with("//") && line.contains(needle))
        .map(|(n, line)| (n + 1, line))
}

/// One crate signs requests: `cks-client` (over `cks_api::signing`, the protocol the server
/// verifies with). A second signer would drift from the first on the next encoding fix.
#[test]
fn only_cks_client_signs_requests() {
    // Tests that forge signatures on purpose (wrong key, odd encodings) call the protocol directly.
    const FORGERS: &[&str] = &["crates/cksd/tests/api/security.rs"];
    let mut problems = Vec::new();
    for (name, dir) in crates() {
        if name == "cks-api" || name == "cks-client" || name == "xtask" {
            continue;
        }
        for file in rust_files(&dir) {
            let path = rel(&file);
            if FORGERS.contains(&path.as_str()) {
                continue;
            }
            let text = read(&file);
            for needle in ["signing::sign(", "signing::sign_canonical("] {
                for (n, line) in calls(&text, needle) {
                    problems.push(format!("{path}:{n}: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "sign requests with cks-client instead:\n{}",
        problems.join("\n")
    );
}

/// Whether `line` names `word` as a whole identifier (`Simulator`, not `injectSimulatorFault`).
fn names_word(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

/// `cksd` reaches the cloud through `trait Cloud`; the simulator (`Simulator`, `cks_sim::`) is
/// named only where it is wired at start and in the commands only the simulator can answer.
#[test]
fn cksd_names_the_simulator_only_where_it_is_wired_and_in_simulator_commands() {
    const ALLOWED: &[(&str, &str)] = &[
        ("crates/cksd/src/lib.rs", "opens the simulator at start"),
        (
            "crates/cksd/src/state.rs",
            "holds it beside `cloud` for the commands below",
        ),
        (
            "crates/cksd/src/handlers/mod.rs",
            "`Cx::simulator`, their only way to it",
        ),
        (
            "crates/cksd/src/handlers/inventory.rs",
            "the IaaS lists and fault injection",
        ),
        (
            "crates/cksd/src/handlers/limits.rs",
            "the simulated accounts' resource limits",
        ),
        (
            "crates/cksd/src/crash.rs",
            "the crash harness's kill point after a simulator commit",
        ),
    ];
    let mut problems = Vec::new();
    for file in rust_files(&root().join("crates/cksd/src")) {
        let path = rel(&file);
        if ALLOWED.iter().any(|(allowed, _)| *allowed == path) {
            continue;
        }
        let text = read(&file);
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            if names_word(line, "Simulator") || line.contains("cks_sim::") {
                problems.push(format!("{path}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "go through `state.cloud` (add to `trait Cloud` what is missing):\n{}",
        problems.join("\n")
    );
}

/// Names of `CKS_*` variables a file reads with `std::env::var`/`var_os`.
fn env_reads(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for needle in ["env::var(\"", "env::var_os(\""] {
        for (i, _) in text.match_indices(needle) {
            let rest = &text[i + needle.len()..];
            if let Some(end) = rest.find('"') {
                let name = &rest[..end];
                if name.starts_with("CKS_") {
                    names.insert(name.to_string());
                }
            }
        }
    }
    names
}

/// A variable a test waits for must be one something sets: a script exports it, a test sets it
/// for the process it starts, or README.md documents it as a knob. (A test once waited for
/// `CKS_TEST_PG_URL`, which nothing set, and so never ran.)
#[test]
fn environment_variables_read_by_tests_are_set_by_the_scripts() {
    let mut set_by = String::new();
    for entry in fs::read_dir(root().join("scripts"))
        .expect("scripts/")
        .flatten()
    {
        set_by.push_str(&read(&entry.path()));
    }
    set_by.push_str(&read(&root().join(".ci/run")));
    let readme = read(&root().join("README.md"));
    let mut test_files = Vec::new();
    let mut all_files = Vec::new();
    for (_, dir) in crates() {
        for file in rust_files(&dir) {
            let path = rel(&file);
            let is_test_code = path.contains("/tests/")
                || path.ends_with("/testing.rs")
                || path.ends_with("/fuzzing.rs");
            if is_test_code {
                test_files.push(file.clone());
            }
            all_files.push(file);
        }
    }
    let sources: String = all_files.iter().map(|f| read(f)).collect();
    let mut problems = Vec::new();
    for file in &test_files {
        for name in env_reads(&read(file)) {
            let exported =
                set_by.contains(&format!("export {name}=")) || set_by.contains(&format!("{name}="));
            let set_for_a_child = sources.contains(&format!(".env(\"{name}\""));
            let documented = readme.contains(&format!("`{name}"));
            if !(exported || set_for_a_child || documented) {
                problems.push(format!(
                    "{} reads {name}, which no script exports, no test sets and README.md does not document",
                    rel(file)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The command table and the dispatch table agree. The proof is typed and lives beside them (a
/// unit test in `cksd::handlers` that walks both tables); tidy keeps it from disappearing.
#[test]
fn the_command_table_and_dispatch_are_proven_to_agree() {
    let handlers = read(&root().join("crates/cksd/src/handlers/mod.rs"));
    assert!(
        handlers
            .contains("fn every_declared_command_has_a_handler_and_every_handler_a_declaration()"),
        "crates/cksd/src/handlers/mod.rs lost the test that proves every declared command has a \
         handler and every handler a declaration"
    );
    assert!(
        handlers.contains("cks_api::commands"),
        "the dispatch table is no longer keyed by cks_api::commands"
    );
}
