//! Failed password logins per client address: a token bucket in memory.
//!
//! The per-user lock (`incorrect.login.attempts.allowed`) is in the store; this bounds how fast
//! one address may guess at all, across any usernames, so it cannot keep a core busy with
//! password hashes or lock every user it can name. Each instance counts on its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins an address may make at once before it has to wait.
pub const LOGIN_FAILURE_BURST: f64 = 10.0;
/// And how often it earns one more after that (ten a minute).
pub const LOGIN_FAILURE_REFILL: Duration = Duration::from_secs(6);
/// Addresses remembered before the ones with a full bucket again are forgotten.
const MAX_TRACKED: usize = 10_000;

#[derive(Default)]
pub struct LoginThrottle {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn now(self, now: Instant) -> Bucket {
        let earned = now.duration_since(self.at).as_secs_f64() / LOGIN_FAILURE_REFILL.as_secs_f64();
        Bucket {
            tokens: (self.tokens + earned).min(LOGIN_FAILURE_BURST),
            at: now,
        }
    }
}

impl LoginThrottle {
    /// `Err(seconds to wait)` while `addr` has no failure left to spend.
    pub fn check(&self, addr: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let Ok(buckets) = self.buckets.lock() else {
            return Ok(());
        };
        match buckets.get(&key(addr)).map(|b| b.now(now)) {
            Some(b) if b.tokens < 1.0 => {
                let wait = (1.0 - b.tokens) * LOGIN_FAILURE_REFILL.as_secs_f64();
                Err(wait.ceil() as u64)
            }
            _ => Ok(()),
        }
    }

    /// Spends one failure of `addr`'s.
    pub fn failed(&self, addr: IpAddr) {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return;
        };
        if buckets.len() >= MAX_TRACKED {
            buckets.retain(|_, b| b.now(now).tokens < LOGIN_FAILURE_BURST);
        }
        let bucket = buckets.entry(key(addr)).or_insert(Bucket {
            tokens: LOGIN_FAILURE_BURST,
            at: now,
        });
        let mut current = bucket.now(now);
        current.tokens = (current.tokens - 1.0).max(0.0);
        *bucket = current;
    }
}

/// An IPv6 client usually holds a whole /64, so that is what is counted.
fn key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_held_back_after_its_burst_and_others_are_not() {
        let throttle = LoginThrottle::default();
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        for _ in 0..LOGIN_FAILURE_BURST as usize {
            assert!(throttle.check(a).is_ok());
            throttle.failed(a);
        }
        let wait = throttle.check(a).unwrap_err();
        assert!((1..=6).contains(&wait), "{wait}");
        assert!(throttle.check("127.0.0.3".parse().unwrap()).is_ok());
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(
            key("2001:db8::1".parse().unwrap()),
            key("2001:db8::ffff:1".parse().unwrap())
        );
        assert_ne!(
            key("2001:db8::1".parse().unwrap()),
            key("2001:db8:0:1::1".parse().unwrap())
        );
    }
}
