//! The denial-of-service benchmark: `listZones` latency from signed clients at baseline and
//! while an unauthenticated attacker (a) holds ~1,100 half-open sockets, (b) posts 2 MiB forms
//! of 190,000 parameters, (c) runs 64 bad-login loops from one address, (d) from 64 addresses.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::clusters::{Server, start};
use crate::get_load;
use cks_client::request::signed_url;

const HALF_OPEN_SOCKETS: usize = 1_100;
const LOGIN_LOOPS: usize = 64;

pub async fn run(seconds: u64, clients: usize, database_url: Option<String>) -> anyhow::Result<()> {
    let server = Arc::new(start(database_url).await?);
    let addr = server
        .base
        .strip_prefix("http://")
        .and_then(|r| r.split('/').next())
        .unwrap_or_default()
        .to_string();
    println!(
        "cks-bench attack: listZones from {clients} signed keep-alive clients, {seconds} s per scenario"
    );
    println!(
        "{:<44} {:>9} {:>10} {:>10} {:>7}   attacker",
        "scenario", "req/s", "p50", "p99", "errors"
    );
    let scenarios: [(&str, Attack); 5] = [
        ("baseline", Attack::None),
        ("(a) 1,100 half-open sockets", Attack::HalfOpen),
        (
            "(b) 4 loops posting 190k-parameter forms",
            Attack::HugeForms,
        ),
        (
            "(c) 64 bad-login loops, one address",
            Attack::BadLogins { addresses: 1 },
        ),
        (
            "(d) 64 bad-login loops, 64 addresses",
            Attack::BadLogins {
                addresses: LOGIN_LOOPS,
            },
        ),
    ];
    for (index, (label, attack)) in scenarios.into_iter().enumerate() {
        let stop = Arc::new(AtomicBool::new(false));
        let outcome = Arc::new(Outcome::default());
        let attackers = attack.launch(&addr, &server, index, stop.clone(), outcome.clone());
        // Let the attack take hold first.
        tokio::time::sleep(Duration::from_secs(2)).await;
        outcome.start_counting();
        let figures = measure(&server, clients, seconds).await?;
        let attacked = outcome.report(seconds);
        stop.store(true, Ordering::Relaxed);
        for a in attackers {
            a.abort();
        }
        println!("{label:<44} {figures}   {attacked}");
        // Give the server the attack's connections back before the next scenario.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Attack {
    None,
    HalfOpen,
    HugeForms,
    BadLogins { addresses: usize },
}

/// What the attacker saw during the measurement: answers by status, sockets closed on it.
#[derive(Default)]
struct Outcome {
    ok: AtomicU64,
    throttled: AtomicU64,
    refused: AtomicU64,
    closed: AtomicU64,
    open: AtomicU64,
    cut: AtomicU64,
}

impl Outcome {
    /// Forgets what happened while the attack was taking hold.
    fn start_counting(&self) {
        for c in [
            &self.ok,
            &self.throttled,
            &self.refused,
            &self.closed,
            &self.cut,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }

    fn count(&self, status: u16) {
        let slot = match status {
            200 => &self.ok,
            429 => &self.throttled,
            _ => &self.refused,
        };
        slot.fetch_add(1, Ordering::Relaxed);
    }

    fn report(&self, seconds: u64) -> String {
        let rate = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64 / seconds as f64;
        let open = self.open.load(Ordering::Relaxed);
        if open > 0 || self.closed.load(Ordering::Relaxed) > 0 {
            return format!(
                "{open} sockets open, {:.0}/s closed by the server",
                rate(&self.closed)
            );
        }
        let answers = rate(&self.ok) + rate(&self.throttled) + rate(&self.refused);
        if answers + rate(&self.cut) == 0.0 {
            return String::new();
        }
        let mut res = format!(
            "{answers:.0} answers/s: {:.0}/s refused (431/531), {:.0}/s throttled (429)",
            rate(&self.refused),
            rate(&self.throttled)
        );
        if self.cut.load(Ordering::Relaxed) > 0 {
            res.push_str(&format!(", {:.0}/s cut off mid-body", rate(&self.cut)));
        }
        res
    }
}

impl Attack {
    fn launch(
        self,
        addr: &str,
        server: &Arc<Server>,
        scenario: usize,
        stop: Arc<AtomicBool>,
        outcome: Arc<Outcome>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        match self {
            Attack::None => Vec::new(),
            Attack::HalfOpen => (0..HALF_OPEN_SOCKETS)
                .map(|_| tokio::spawn(half_open(addr.to_string(), stop.clone(), outcome.clone())))
                .collect(),
            Attack::HugeForms => {
                // 2 MiB: 190,000 pieces of 11 bytes.
                let body: &'static str = "abcdefg=12&".repeat(190_000).leak();
                (0..4)
                    .map(|_| {
                        let (url, body, stop, outcome) =
                            (server.base.clone(), body, stop.clone(), outcome.clone());
                        tokio::spawn(async move {
                            let http = reqwest::Client::new();
                            while !stop.load(Ordering::Relaxed) {
                                let res = http
                                    .post(&url)
                                    .header("content-type", "application/x-www-form-urlencoded")
                                    .body(body)
                                    .send()
                                    .await;
                                match res {
                                    Ok(res) => outcome.count(res.status().as_u16()),
                                    // Refused and closed before the whole body was sent.
                                    Err(_) => {
                                        outcome.cut.fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                            }
                        })
                    })
                    .collect()
            }
            Attack::BadLogins { addresses } => (0..LOGIN_LOOPS)
                .map(|i| {
                    // 127.0.<scenario>.<n>: addresses no earlier scenario has throttled.
                    let from: IpAddr = format!("127.0.{}.{}", 100 + scenario, 1 + i % addresses)
                        .parse()
                        .expect("loopback address");
                    let (url, stop, outcome) = (server.base.clone(), stop.clone(), outcome.clone());
                    tokio::spawn(async move {
                        let Ok(http) = reqwest::Client::builder().local_address(from).build()
                        else {
                            return;
                        };
                        let mut n = 0u64;
                        while !stop.load(Ordering::Relaxed) {
                            n += 1;
                            let user = format!("user{i}-{}", n % 10);
                            let res = http
                                .post(&url)
                                .form(&[
                                    ("command", "login"),
                                    ("username", user.as_str()),
                                    ("password", "guess"),
                                    ("response", "json"),
                                ])
                                .send()
                                .await;
                            if let Ok(res) = res {
                                outcome.count(res.status().as_u16());
                            }
                        }
                    })
                })
                .collect(),
        }
    }
}

/// One socket that sends half a request head and waits; opened again whenever the server
/// closes it.
async fn half_open(addr: String, stop: Arc<AtomicBool>, outcome: Arc<Outcome>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = connect(&addr).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if stream
            .write_all(b"GET /client/api?command=listZones HTTP/1.1\r\nHost: cks\r\n")
            .await
            .is_err()
        {
            continue;
        }
        outcome.open.fetch_add(1, Ordering::Relaxed);
        let mut buf = [0u8; 256];
        let _ = stream.read(&mut buf).await;
        outcome.open.fetch_sub(1, Ordering::Relaxed);
        outcome.closed.fetch_add(1, Ordering::Relaxed);
    }
}

async fn connect(addr: &str) -> std::io::Result<TcpStream> {
    TcpStream::connect(addr).await
}

/// listZones p50/p99 from `clients` signed keep-alive clients for `seconds`.
async fn measure(server: &Server, clients: usize, seconds: u64) -> anyhow::Result<String> {
    let url = Arc::new(signed_url::<&str, &str>(
        &server.base,
        &server.keys,
        "listZones",
        &[],
    ));
    let load = get_load(url, clients, seconds).await?;
    Ok(format!(
        "{:>9.0} {:>7.2} ms {:>7.2} ms {:>7}",
        load.per_second(),
        load.percentile_ms(0.50),
        load.percentile_ms(0.99),
        load.errors
    ))
}
