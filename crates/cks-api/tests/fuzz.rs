//! Bounded fuzzing of the parsing surfaces a caller reaches before or without credentials:
//! form parameters, signatures and `expires`, and user data. Each test runs a few thousand
//! seeded inputs (`CKS_FUZZ_ITERATIONS=1000000` for a long campaign); a failure prints its seed.

#![allow(
    clippy::unwrap_used,
    reason = "test code: an unwrap that fails is a failed assertion"
)]

use cks_api::fuzzing::{self, Rng};
use cks_api::params::{RawParams, is_parameter_name};
use cks_api::signing::{self, Encoding};
use cks_api::userdata;

fn form(rng: &mut Rng) -> String {
    let mut pieces = Vec::new();
    for _ in 0..rng.below(12) {
        let name = if rng.chance(70) {
            rng.name()
        } else {
            rng.text(6)
        };
        let value = rng.text(10);
        pieces.push(match rng.below(3) {
            0 => name,
            1 => format!("{name}={value}"),
            _ => format!(
                "{}={}",
                name,
                signing::java_url_encode(&value, Encoding::JAVA)
            ),
        });
    }
    pieces.join("&")
}

#[test]
fn form_parsing_never_panics_and_keeps_only_parameter_names() {
    fuzzing::run(5000, |rng| {
        let text = form(rng);
        let mut raw = RawParams::default();
        match raw.add_form(&text) {
            Ok(()) => {
                for (name, value) in raw.pairs() {
                    assert!(is_parameter_name(name), "{name:?} from {text:?}");
                    assert!(!value.chars().any(|c| c.is_ascii_control()), "{text:?}");
                }
            }
            Err(e) => {
                let code = e.codes().0;
                assert!(code == 430 || code == 431, "{code} for {text:?}");
            }
        }
    });
}

#[test]
fn encoded_parameters_arrive_as_sent() {
    fuzzing::run(3000, |rng| {
        let pairs: Vec<(String, String)> = (0..1 + rng.below(6))
            .map(|i| {
                (
                    format!("{}{i}", rng.name().replace(['[', ']'], "")),
                    rng.text(10),
                )
            })
            .filter(|(_, v)| !v.chars().any(|c| c.is_ascii_control()))
            .collect();
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", signing::java_url_encode(v, Encoding::JAVA)))
            .collect();
        let mut raw = RawParams::default();
        raw.add_form(&query.join("&")).unwrap();
        assert_eq!(raw.pairs(), pairs.as_slice());
    });
}

/// The signed string must identify the parameters: two different sets that a server would
/// read differently never share one (the replay found in the attack was such a pair).
#[test]
fn no_two_accepted_parameter_sets_share_a_signed_string() {
    fuzzing::run(5000, |rng| {
        let a = form(rng);
        let b = match rng.below(3) {
            // Two pieces smuggled as one name: `k1%3Dv1%26k2=v2`.
            0 => {
                let mut pieces: Vec<String> = a.split('&').map(str::to_string).collect();
                if pieces.len() >= 2 {
                    let i = rng.below(pieces.len() - 1);
                    let next = pieces.remove(i + 1);
                    pieces[i] = format!("{}%26{next}", pieces[i].replace('=', "%3D"));
                }
                pieces.join("&")
            }
            // A near miss: one separator encoded, one encoded `=` decoded.
            1 => a.replacen('&', "%26", 1).replacen("%3D", "=", 1),
            _ => form(rng),
        };
        let (mut ra, mut rb) = (RawParams::default(), RawParams::default());
        if ra.add_form(&a).is_err() || rb.add_form(&b).is_err() {
            return;
        }
        let ca = signing::canonical_string(ra.pairs(), Encoding::JAVA);
        let cb = signing::canonical_string(rb.pairs(), Encoding::JAVA);
        if ca == cb {
            let seen = |r: &RawParams| {
                let mut v: Vec<(String, String)> = r
                    .pairs()
                    .iter()
                    .filter(|(k, _)| !k.eq_ignore_ascii_case("signature"))
                    .map(|(k, v)| (k.to_lowercase(), v.to_lowercase()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(seen(&ra), seen(&rb), "{a:?} and {b:?} sign alike");
        }
    });
}

#[test]
fn a_signature_covers_every_parameter_and_value() {
    fuzzing::run(2000, |rng| {
        let mut pairs: Vec<(String, String)> = (0..1 + rng.below(6))
            .map(|i| (format!("{}{i}", rng.name()), rng.text(8)))
            .collect();
        let secret = rng.text(12);
        let signature = signing::sign(&secret, &pairs);
        assert!(signing::verify(&secret, &pairs, &signature).is_some());
        let i = rng.below(pairs.len());
        match rng.below(3) {
            0 => pairs[i].1.push('x'),
            1 => pairs.push(("extra".into(), "1".into())),
            _ => {
                pairs.remove(i);
            }
        }
        assert!(
            signing::verify(&secret, &pairs, &signature).is_none(),
            "{pairs:?}"
        );
        assert!(signing::verify(&format!("{secret}!"), &pairs, &signature).is_none());
    });
}

#[test]
fn expiry_checks_never_panic_and_never_let_a_bad_version_through() {
    fuzzing::run(5000, |rng| {
        let version = rng.chance(80).then(|| rng.text(3));
        let expires = rng.chance(80).then(|| {
            if rng.chance(50) {
                signing::format_expires((rng.next_u64() % 4_000_000_000) as i64)
            } else {
                rng.text(8)
            }
        });
        let now = 1_748_772_000;
        let policy = signing::ExpiryPolicy {
            max_ahead: 600,
            required: rng.chance(20),
        };
        let checked = signing::check_expiry(version.as_deref(), expires.as_deref(), now, policy);
        if checked.is_ok() {
            assert!(version.as_deref().is_none_or(|v| v == "3"), "{version:?}");
            assert!(!policy.required || expires.is_some(), "{policy:?}");
            if let Some(at) = expires.as_deref().and_then(signing::parse_expires) {
                assert!((now..=now + 600).contains(&at), "{expires:?}");
            }
        }
    });
}

#[test]
fn user_data_validation_never_panics_and_keeps_what_it_accepts() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    fuzzing::run(3000, |rng| {
        let bytes = rng.bytes(64);
        let sent = match rng.below(3) {
            0 => b64.encode(&bytes),
            1 => signing::java_url_encode(&b64.encode(&bytes), Encoding::JAVA),
            _ => String::from_utf8_lossy(&bytes).into_owned(),
        };
        if let Ok(canonical) = userdata::validate(&sent, 32768) {
            let decoded = b64.decode(&canonical).expect("canonical base64");
            assert!(!decoded.is_empty());
            assert_eq!(b64.encode(&decoded), canonical);
        }
    });
}
