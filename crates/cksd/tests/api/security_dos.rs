//! What an unauthenticated client cannot do to everyone else: hold connections open, make the
//! server parse huge forms, or guess passwords without end.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{TestServer, error_text};

async fn login_from(srv: &TestServer, from: &str, username: &str, password: &str) -> (u16, Value) {
    let from: IpAddr = from.parse().unwrap();
    let res = reqwest::Client::builder()
        .local_address(from)
        .build()
        .unwrap()
        .post(&srv.url)
        .form(&[
            ("command", "login"),
            ("username", username),
            ("password", password),
            ("response", "json"),
        ])
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

async fn login(srv: &TestServer, username: &str, password: &str) -> (u16, Value) {
    login_from(srv, "127.0.0.1", username, password).await
}

fn host_port(srv: &TestServer) -> String {
    let rest = srv.url.strip_prefix("http://").unwrap();
    rest.split('/').next().unwrap().to_string()
}

#[tokio::test]
async fn half_open_sockets_are_closed_and_a_client_past_the_connection_limit_still_gets_answers() {
    let srv = TestServer::start_with(&[
        "--instant-simulator",
        "--header-timeout-ms",
        "300",
        "--max-connections",
        "8",
    ]);
    let addr = host_port(&srv);
    // More half-sent requests than the server serves at once, and one that sends nothing.
    let mut sockets = Vec::new();
    for i in 0..20 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        if i > 0 {
            s.write_all(b"GET /client/api?command=listZones HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
        }
        sockets.push(s);
    }
    // Served once the half-open sockets ahead of it have timed out.
    let (status, body) =
        tokio::time::timeout(Duration::from_secs(10), srv.admin().call("listZones", &[]))
            .await
            .expect("a client behind half-open sockets got no answer");
    assert_eq!(status, 200, "{body}");
    for (i, mut s) in sockets.into_iter().enumerate() {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
        // EOF or a reset: either way the server let go.
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "socket {i} still open: {read:?}"
        );
    }
}

#[tokio::test]
async fn a_form_with_too_many_parameters_is_refused_before_the_signature_is_checked() {
    let srv = TestServer::start();
    // 40 KB: small enough to be sent whole before the server answers and closes.
    let body = format!("command=listZones&response=json{}", "&a=1".repeat(10_000));
    let res = reqwest::Client::new()
        .post(&srv.url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 431);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        error_text(&body),
        "Too many request parameters: at most 512 are accepted (query string and form body together)"
    );
    // A signed request with a normal count is answered as ever.
    assert_eq!(srv.admin().call("listZones", &[]).await.0, 200);
}

#[tokio::test]
async fn the_nth_bad_login_locks_the_user_even_for_the_right_password_across_restarts() {
    let mut srv = TestServer::start();
    srv.account("carol", 0, None).await;
    srv.account("dave", 0, None).await;
    let (status, body) = srv
        .admin()
        .call(
            "updateConfiguration",
            &[("name", "incorrect.login.attempts.allowed"), ("value", "3")],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    for _ in 0..2 {
        let (status, body) = login(&srv, "carol", "wrong").await;
        assert_eq!(status, 531);
        assert!(error_text(&body).starts_with("Failed to authenticate user carol"));
    }
    // The count is in the database: a restarted server goes on from two.
    srv.restart();
    let (status, body) = login(&srv, "carol", "wrong").await;
    assert_eq!(status, 531);
    let locked = "User carol in domain";
    assert!(error_text(&body).starts_with(locked), "{body}");
    assert!(
        error_text(&body).contains("is locked after 3 failed login attempts; try again in"),
        "{body}"
    );
    let (status, body) = login(&srv, "carol", "carol-password").await;
    assert_eq!(status, 531);
    assert!(error_text(&body).starts_with(locked), "{body}");
    srv.restart();
    let (status, body) = login(&srv, "carol", "carol-password").await;
    assert_eq!(status, 531, "the lock must hold after a restart: {body}");

    // Another user is not affected, and a success starts the count again. (From another
    // address: this one's failed logins are throttled too.)
    let dave = |password: &'static str| login_from(&srv, "127.0.0.3", "dave", password);
    assert_eq!(dave("wrong").await.0, 531);
    assert_eq!(dave("wrong").await.0, 531);
    assert_eq!(dave("dave-password").await.0, 200);
    assert_eq!(dave("wrong").await.0, 531);
    assert_eq!(dave("dave-password").await.0, 200);

    // The lock ends by itself after incorrect.login.lockout.duration seconds.
    let (status, body) = srv
        .admin()
        .call(
            "updateConfiguration",
            &[("name", "incorrect.login.lockout.duration"), ("value", "2")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..3 {
        dave("wrong").await;
    }
    // Two seconds, not one: lock ends are whole seconds, and a one-second lock could end
    // between the third failure and this login on a loaded machine.
    assert_eq!(dave("dave-password").await.0, 531);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(dave("dave-password").await.0, 200);
}

#[tokio::test]
async fn an_address_that_keeps_failing_is_throttled_without_locking_other_users_out() {
    let srv = TestServer::start();
    srv.account("erin", 0, None).await;
    // Ten guesses at users that do not exist: no user lock, but the address has spent its burst.
    for i in 0..10 {
        let (status, _) = login(&srv, &format!("nobody{i}"), "guess").await;
        assert_eq!(status, 531);
    }
    let (status, body) = login(&srv, "erin", "erin-password").await;
    assert_eq!(status, 429, "{body}");
    assert!(
        error_text(&body)
            .starts_with("Too many failed login attempts from 127.0.0.1; try again in"),
        "{body}"
    );
    // The same user from another address, and signed requests from this one, are served.
    let (status, body) = login_from(&srv, "127.0.0.2", "erin", "erin-password").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(srv.admin().call("listZones", &[]).await.0, 200);
}
