//! `cks-client` against real HTTP servers: a `cksd` in this process (signatures, errors, jobs)
//! and a small axum server that records what it was sent (GET or POST) or never ends a job.

#![allow(
    clippy::unwrap_used,
    reason = "test code: an unwrap that fails is a failed assertion"
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cks_api::wire::objects::Zone;
use cks_client::request::MAX_GET_QUERY;
use cks_client::{Client, ClientError, Credentials, Polling};
use serde_json::{Value, json};

/// A `cksd` serving on a loopback port, with its root admin's keys.
struct Cksd {
    url: String,
    keys: Credentials,
    _dir: tempfile::TempDir,
}

async fn cksd() -> Cksd {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = cksd::Config::for_test(dir.path());
    let (state, _) = cksd::open(&config).await.expect("cksd opens");
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .expect("bind");
    let url = format!("http://{}/client/api", listener.local_addr().expect("addr"));
    tokio::spawn(cksd::serve(listener, state, std::future::pending()));
    let text = std::fs::read_to_string(dir.path().join("root-admin.json")).expect("keys");
    let doc: Value = serde_json::from_str(&text).expect("json");
    let keys = Credentials::new(
        doc["apikey"].as_str().expect("apikey"),
        doc["secretkey"].as_str().expect("secretkey"),
    );
    Cksd {
        url,
        keys,
        _dir: dir,
    }
}

#[tokio::test]
async fn cksd_accepts_the_signature_with_and_without_expiry_and_answers_typed() {
    let srv = cksd().await;
    let client = Client::new(&srv.url, srv.keys.clone()).expect("client");
    let zones: Vec<Zone> = client
        .list::<_, &str, &str>("listZones", &[], "zone")
        .await
        .expect("listZones");
    assert!(!zones.is_empty());
    assert!(zones.iter().all(|z| !z.id.is_empty() && !z.name.is_empty()));
    let query = client.signed_query::<&str, &str>("listZones", &[]);
    assert!(query.contains("signatureVersion=3&expires="), "{query}");

    let old_style = client.clone().without_expiry();
    assert!(
        !old_style
            .signed_query::<&str, &str>("listZones", &[])
            .contains("expires=")
    );
    let again: Vec<Zone> = old_style
        .list::<_, &str, &str>("listZones", &[], "zone")
        .await
        .expect("listZones without expiry");
    assert_eq!(again, zones);
}

#[tokio::test]
async fn a_long_query_is_posted_and_cksd_verifies_it() {
    let srv = cksd().await;
    let client = Client::new(&srv.url, srv.keys.clone()).expect("client");
    let mut config = String::from("#cloud-config\nruncmd:\n");
    while config.len() < MAX_GET_QUERY {
        config.push_str("  - echo configured\n");
    }
    let content = STANDARD.encode(&config);
    let params = [("name", "big"), ("cniconfig", content.as_str())];
    assert!(
        client
            .request("registerCniConfiguration", &params)
            .is_post()
    );
    assert!(!client.request("listZones", &[("name", "x")]).is_post());
    let registered = client
        .call_value("registerCniConfiguration", &params)
        .await
        .expect("a signed POST is accepted");
    assert_eq!(registered["cniconfig"]["name"], "big");
}

#[tokio::test]
async fn cksd_errors_decode_with_their_codes() {
    let srv = cksd().await;
    let client = Client::new(&srv.url, srv.keys.clone()).expect("client");
    let err = client
        .call_value("updateKubernetesSupportedVersion", &[("state", "Enabled")])
        .await
        .expect_err("id is missing");
    match err {
        ClientError::Api {
            command,
            errorcode,
            cserrorcode,
            errortext,
        } => {
            assert_eq!(command, "updateKubernetesSupportedVersion");
            assert_eq!((errorcode, cserrorcode), (431, 9999));
            assert_eq!(
                errortext,
                "Unable to execute API command updatekubernetessupportedversion due to missing parameter id"
            );
        }
        other => panic!("{other:?}"),
    }

    let wrong =
        Client::new(&srv.url, Credentials::new(&srv.keys.api_key, "wrong")).expect("client");
    match wrong.call_value::<&str, &str>("listZones", &[]).await {
        Err(ClientError::Api { errorcode: 401, .. }) => {}
        other => panic!("{other:?}"),
    }

    let nobody = Client::new("http://127.0.0.1:1/client/api", srv.keys.clone()).expect("client");
    let err = nobody
        .call_value::<&str, &str>("listZones", &[])
        .await
        .expect_err("nothing listens");
    assert!(matches!(err, ClientError::Transport { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("cannot reach http://127.0.0.1:1/client/api"),
        "{text}"
    );
    assert!(
        !text.contains(&srv.keys.api_key) && !text.contains("signature="),
        "{text}"
    );
}

#[tokio::test]
async fn an_async_job_is_followed_to_its_end() {
    let srv = cksd().await;
    let client = Client::new(&srv.url, srv.keys.clone()).expect("client");
    let added = client
        .call_value(
            "addKubernetesSupportedVersion",
            &[
                ("semanticversion", "1.40.1"),
                ("mincpunumber", "2"),
                ("minmemory", "2048"),
                ("url", "http://127.0.0.1/cks/test.iso"),
            ],
        )
        .await
        .expect("add a version");
    let id = added["kubernetessupportedversion"]["id"]
        .as_str()
        .expect("version id")
        .to_string();
    let submitted = client
        .call_value("deleteKubernetesSupportedVersion", &[("id", id.as_str())])
        .await
        .expect("delete submitted");
    let job_id = submitted["jobid"].as_str().expect("jobid");
    let result = client
        .wait_job(job_id, &Polling::with_timeout(Duration::from_secs(30)))
        .await
        .expect("the delete succeeds");
    assert_eq!(result["success"], true, "{result}");
    let job = client.query_job(job_id).await.expect("job");
    assert_eq!(job["jobstatus"], 1);
}

/// What the recording server saw of each request: method, and where the command was.
#[derive(Default)]
struct Seen {
    requests: Vec<(String, bool)>,
}

/// An axum server that answers every request with a pending job and records how it came.
async fn recording_server() -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/client/api",
        axum::routing::any(
            move |method: axum::http::Method, uri: axum::http::Uri, body: String| {
                let record = record.clone();
                async move {
                    let in_url = uri.query().is_some_and(|q| q.contains("command="));
                    let in_body = body.contains("command=");
                    record
                        .lock()
                        .expect("lock")
                        .requests
                        .push((method.to_string(), in_url && !in_body));
                    axum::Json(
                        json!({"queryasyncjobresultresponse": {"jobid": "j1", "jobstatus": 0}}),
                    )
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/client/api", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn short_queries_are_gets_and_long_ones_posts() {
    let (url, seen) = recording_server().await;
    let client = Client::new(&url, Credentials::new("k", "s")).expect("client");
    client
        .call_value("listZones", &[("name", "x")])
        .await
        .expect("answered");
    let big = "A".repeat(MAX_GET_QUERY);
    client
        .call_value("deployVirtualMachine", &[("userdata", big.as_str())])
        .await
        .expect("answered");
    let requests = &seen.lock().expect("lock").requests;
    assert_eq!(
        requests.as_slice(),
        [("GET".to_string(), true), ("POST".to_string(), false)]
    );
}

#[tokio::test]
async fn a_job_that_does_not_end_times_out_at_the_deadline() {
    let (url, seen) = recording_server().await;
    let client = Client::new(&url, Credentials::new("k", "s")).expect("client");
    let started = Instant::now();
    let polling = Polling::every(Duration::from_millis(50), Duration::from_millis(300));
    let err = client
        .wait_job("j1", &polling)
        .await
        .expect_err("never ends");
    let waited = started.elapsed();
    match err {
        ClientError::JobTimeout { job_id, waited } => {
            assert_eq!(job_id, "j1");
            assert!(waited >= Duration::from_millis(300), "{waited:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    let polls = seen.lock().expect("lock").requests.len();
    assert!(
        (4..=10).contains(&polls),
        "{polls} polls in 300 ms every 50 ms"
    );
}
