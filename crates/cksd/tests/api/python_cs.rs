//! Python `cs` (PyPI), a client nobody here wrote, signs and polls like CloudStack's own tools.

use std::process::Command;

use serde_json::Value;

use crate::harness::TestServer;

/// Runs a Python snippet with `cs` against the server; the snippet prints one JSON document.
fn run_cs(srv: &TestServer, key: &str, secret: &str, body: &str) -> Value {
    let script = format!(
        "import json, sys\nfrom cs import CloudStack, CloudStackApiException\n\
         api = CloudStack(endpoint=sys.argv[1], key=sys.argv[2], secret=sys.argv[3], poll_interval=0.1, fetch_result=True)\n\
         post = CloudStack(endpoint=sys.argv[1], key=sys.argv[2], secret=sys.argv[3], method='post', poll_interval=0.1, fetch_result=True)\n\
         out = {{}}\n{body}\nprint(json.dumps(out))\n"
    );
    let output = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .args([&srv.url, key, secret])
        .output()
        .expect("python3 runs (install it with scripts/install-test-deps.sh)");
    assert!(
        output.status.success(),
        "python cs failed (is `cs` installed? scripts/install-test-deps.sh installs it):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json from the script")
}

#[tokio::test]
async fn python_cs_signs_gets_and_posts_that_we_verify() {
    let srv = TestServer::start();
    let out = run_cs(
        &srv,
        &srv.admin.api_key,
        &srv.admin.secret_key,
        "out['zones'] = api.listZones()\n\
         out['versions'] = api.listKubernetesSupportedVersions(keyword='1.33')\n\
         out['spaces'] = api.listKubernetesSupportedVersions(keyword='v1 33 & more=yes')\n\
         out['post'] = post.listKubernetesSupportedVersions(minimumsemanticversion='1.32.0')\n\
         out['tilde'] = api.listKubernetesSupportedVersions(keyword='a~b')\n",
    );
    assert!(out["zones"]["count"].as_u64().unwrap() >= 1, "{out}");
    assert_eq!(
        out["versions"]["kubernetessupportedversion"][0]["semanticversion"],
        "1.33.1"
    );
    assert_eq!(
        out["spaces"],
        serde_json::json!({}),
        "an empty list is {{}}"
    );
    assert_eq!(out["post"]["count"], 2);
    // `cs` leaves `~` unescaped where Java escapes it; we accept both spellings.
    assert_eq!(out["tilde"], serde_json::json!({}));
}

#[tokio::test]
async fn python_cs_follows_an_async_job_to_its_result() {
    let srv = TestServer::start();
    let out = run_cs(
        &srv,
        &srv.admin.api_key,
        &srv.admin.secret_key,
        "v = api.addKubernetesSupportedVersion(semanticversion='1.34.0', mincpunumber=2, minmemory=2048, url='http://127.0.0.1/cks/v1.34.0.iso')\n\
         out['added'] = v\n\
         out['deleted'] = api.deleteKubernetesSupportedVersion(id=v['kubernetessupportedversion']['id'])\n",
    );
    assert_eq!(
        out["added"]["kubernetessupportedversion"]["semanticversion"],
        "1.34.0"
    );
    assert_eq!(out["deleted"]["success"], true, "{out}");
}

#[tokio::test]
async fn python_cs_with_a_wrong_secret_gets_401() {
    let srv = TestServer::start();
    let out = run_cs(
        &srv,
        &srv.admin.api_key,
        "wrong-secret",
        "try:\n    api.listZones()\n    out['error'] = None\nexcept CloudStackApiException as e:\n    out['error'] = e.error\n",
    );
    assert_eq!(out["error"]["errorcode"], 401, "{out}");
    assert_eq!(
        out["error"]["errortext"],
        "unable to verify user credentials and/or request signature"
    );
}
