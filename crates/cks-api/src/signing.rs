//! CloudStack request signatures: HMAC-SHA1 over a canonical, lowercased query string.
//!
//! The canonical form is CloudStack's: parameters except `signature`, sorted by name as sent,
//! `name=value` with the value encoded like Java's `URLEncoder` (then `+` → `%20`), joined by `&`,
//! lowercased. Real clients differ in small ways (Python `cs` leaves `~` raw, libcloud sorts
//! lowercased names and leaves `[]` raw), so the verifier also tries those encodings. Each
//! variant is still an HMAC with the caller's secret over every parameter: tolerance in how a
//! value is spelled, never in what is covered.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// How the canonical string is spelled; `JAVA` is CloudStack's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    /// Sort by lowercased name (libcloud) rather than by name as sent (CloudStack).
    pub sort_lowercased: bool,
    /// Leave `~` unencoded (Python `cs`) rather than `%7E`.
    pub tilde_raw: bool,
    /// Leave `[` and `]` unencoded (libcloud) rather than `%5B`/`%5D`.
    pub brackets_raw: bool,
}

impl Encoding {
    /// CloudStack's own spelling: names sorted as sent, Java's `URLEncoder` for every value.
    pub const JAVA: Encoding = Encoding {
        sort_lowercased: false,
        tilde_raw: false,
        brackets_raw: false,
    };
}

/// Every spelling the verifier accepts, CloudStack's first.
pub const ACCEPTED_ENCODINGS: [Encoding; 8] = {
    let mut res = [Encoding::JAVA; 8];
    let mut i = 0;
    while i < 8 {
        res[i] = Encoding {
            sort_lowercased: i & 1 != 0,
            tilde_raw: i & 2 != 0,
            brackets_raw: i & 4 != 0,
        };
        i += 1;
    }
    res
};

/// Java's `URLEncoder.encode(value, "UTF-8")` with `+` turned into `%20`.
pub fn java_url_encode(value: &str, encoding: Encoding) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for &b in value.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'.' | b'-' | b'*' | b'_')
            || (encoding.tilde_raw && b == b'~')
            || (encoding.brackets_raw && matches!(b, b'[' | b']'));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The lowercased string that is signed.
pub fn canonical_string(pairs: &[(String, String)], encoding: Encoding) -> String {
    let mut items: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("signature"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if encoding.sort_lowercased {
        items.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    } else {
        items.sort_by(|a, b| a.0.cmp(b.0));
    }
    let joined: Vec<String> = items
        .iter()
        .map(|(k, v)| format!("{k}={}", java_url_encode(v, encoding)))
        .collect();
    joined.join("&").to_lowercase()
}

/// Base64 HMAC-SHA1 of `canonical` with `secret`.
pub fn sign_canonical(secret: &str, canonical: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    STANDARD.encode(hmac::sign(&key, canonical.as_bytes()).as_ref())
}

/// The signature CloudStack's clients send for these parameters.
pub fn sign(secret: &str, pairs: &[(String, String)]) -> String {
    sign_canonical(secret, &canonical_string(pairs, Encoding::JAVA))
}

/// Checks `provided` against every accepted encoding in constant time per comparison.
/// Returns the encoding that matched.
pub fn verify(secret: &str, pairs: &[(String, String)], provided: &str) -> Option<Encoding> {
    let mut seen: Vec<String> = Vec::with_capacity(ACCEPTED_ENCODINGS.len());
    for encoding in ACCEPTED_ENCODINGS {
        let canonical = canonical_string(pairs, encoding);
        if seen.contains(&canonical) {
            continue;
        }
        let expected = sign_canonical(secret, &canonical);
        if bool::from(expected.as_bytes().ct_eq(provided.as_bytes())) {
            return Some(encoding);
        }
        seen.push(canonical);
    }
    None
}

/// Parses `expires` as CloudStack does: `2025-06-01T10:00:00+0000`, ISO offset or instant
/// (`+00:00`, `Z`), with or without fractional seconds. Returns Unix seconds.
pub fn parse_expires(text: &str) -> Option<i64> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let compact = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]][offset_hour sign:mandatory][offset_minute]"
    );
    if let Ok(t) = OffsetDateTime::parse(text, &compact) {
        return Some(t.unix_timestamp());
    }
    // Python's `cs` may send a naive UTC time with a trailing `Z` and microseconds; Rfc3339
    // covers that. A value with no zone at all is read as UTC.
    let naive = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(text, &naive)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// Why a signed request's `signatureversion`/`expires` pair is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub enum ExpiryError {
    /// `signatureversion` was sent and is not exactly `3`.
    UnknownVersion,
    /// `signatureversion=3` without an `expires`.
    MissingExpires,
    /// `expires` is in none of the forms [`parse_expires`] reads.
    UnreadableExpires,
    /// `expires` lies in the past.
    Expired,
    /// `expires` lies more than [`ExpiryPolicy::max_ahead`] seconds in the future.
    TooFarAhead,
    /// The server requires every signed request to expire (`api.signature.expires.required`).
    Required,
}

impl ExpiryError {
    /// What the 401 says: the caller's own request is wrong, nothing about any account.
    pub fn message(self) -> &'static str {
        match self {
            ExpiryError::UnknownVersion => {
                "unable to verify request signature: unsupported signatureversion (only 3 is known)"
            }
            ExpiryError::MissingExpires => {
                "unable to verify request signature: signatureversion=3 needs an expires parameter"
            }
            ExpiryError::UnreadableExpires => {
                "unable to verify request signature: unreadable expires (use yyyy-MM-dd'T'HH:mm:ssZ, e.g. 2025-06-01T10:00:00+0000)"
            }
            ExpiryError::Expired => "unable to verify request signature: the request has expired",
            ExpiryError::TooFarAhead => {
                "unable to verify request signature: expires is further ahead than the server accepts (api.signature.expires.max)"
            }
            ExpiryError::Required => {
                "unable to verify request signature: this server accepts only requests that expire: send signatureversion=3 and expires (api.signature.expires.required)"
            }
        }
    }
}

/// The server's limits on how long a signed request stays valid (`api.signature.expires.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryPolicy {
    /// The most seconds `expires` may lie ahead.
    pub max_ahead: i64,
    /// Whether a request must carry an `expires` at all.
    pub required: bool,
}

/// The rule for `signatureversion` and `expires`. CloudStack skips the `expires` check for
/// any version but the exact text `3` (so `03` or ` 3` made a signature valid forever) and puts
/// no limit on how far ahead `expires` may be; here a version is `3` or refused, an `expires`
/// is checked whenever it is sent, and it may be at most `max_ahead` seconds in the future.
/// A request with neither stays valid (CloudStack's clients without expiry rely on it) unless
/// the policy requires an expiry.
pub fn check_expiry(
    signature_version: Option<&str>,
    expires: Option<&str>,
    now: i64,
    policy: ExpiryPolicy,
) -> Result<(), ExpiryError> {
    match signature_version {
        None => {}
        Some("3") if expires.is_none() => return Err(ExpiryError::MissingExpires),
        Some("3") => {}
        Some(_) => return Err(ExpiryError::UnknownVersion),
    }
    let Some(text) = expires else {
        return match policy.required {
            true => Err(ExpiryError::Required),
            false => Ok(()),
        };
    };
    let at = parse_expires(text).ok_or(ExpiryError::UnreadableExpires)?;
    if at < now {
        return Err(ExpiryError::Expired);
    }
    if at - now > policy.max_ahead {
        return Err(ExpiryError::TooFarAhead);
    }
    Ok(())
}

/// Formats an `expires` value the way CloudStack's clients do.
pub fn format_expires(unix_seconds: i64) -> String {
    crate::date::format_date(unix_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn java_encoding_keeps_only_the_unreserved_set() {
        assert_eq!(
            java_url_encode("a b+c*~_.-/", Encoding::JAVA),
            "a%20b%2Bc*%7E_.-%2F"
        );
        assert_eq!(java_url_encode("é", Encoding::JAVA), "%C3%A9");
    }

    #[test]
    fn canonical_string_sorts_case_sensitively_and_lowercases_everything() {
        // The key and request of CloudStack's developer guide; the expected HMAC was computed
        // independently with Python's hmac module over the expected canonical string.
        let p = pairs(&[
            ("command", "listUsers"),
            ("page", "1"),
            ("pagesize", "100"),
            ("response", "json"),
            (
                "apiKey",
                "zv-NK1FbGS6E3H5rqLQbJyg8thySsuBbj0rz-XyFrz9_gZnH0kx6Pfh76sLyXkUeXp8BsVkyVBL-BDiKp-8QXA",
            ),
        ]);
        let canonical = canonical_string(&p, Encoding::JAVA);
        assert_eq!(
            canonical,
            "apikey=zv-nk1fbgs6e3h5rqlqbjyg8thyssubbj0rz-xyfrz9_gznh0kx6pfh76slyxkuexp8bsvkyvbl-bdikp-8qxa&command=listusers&page=1&pagesize=100&response=json"
        );
        let secret = "VDaACYb0LV9eNjTetIOElcVQkvJck_J_QljX_FcHRj87ZKiy0z0ty0ZsYBkoXkY9b7eq1EhwJaw7FF3akA3KBQ";
        assert_eq!(
            sign_canonical(secret, &canonical),
            "qKLDdGgxRRdcQvagn6hD4l71fmE="
        );
    }

    #[test]
    fn verify_accepts_client_spellings_but_not_a_wrong_secret() {
        let p = pairs(&[
            ("command", "listZones"),
            ("keyword", "a~b[c]"),
            ("apikey", "K"),
        ]);
        let java = sign("s3cret", &p);
        assert_eq!(verify("s3cret", &p, &java), Some(Encoding::JAVA));
        let cs_style = sign_canonical(
            "s3cret",
            &canonical_string(
                &p,
                Encoding {
                    tilde_raw: true,
                    ..Encoding::JAVA
                },
            ),
        );
        assert!(verify("s3cret", &p, &cs_style).is_some());
        assert_eq!(verify("other", &p, &java), None);
        let mut tampered = p.clone();
        tampered[1].1 = "a~b[d]".into();
        assert_eq!(verify("s3cret", &tampered, &java), None);
    }

    #[test]
    fn expiry_is_checked_for_version_3_only_spelled_exactly_and_bounded() {
        let now = 1_748_772_000; // 2025-06-01T10:00:00Z
        let p = ExpiryPolicy {
            max_ahead: 600,
            required: false,
        };
        let soon = Some("2025-06-01T10:05:00+0000");
        assert_eq!(check_expiry(Some("3"), soon, now, p), Ok(()));
        assert_eq!(check_expiry(None, None, now, p), Ok(()));
        for version in ["03", " 3", "3 ", "2", "4", ""] {
            assert_eq!(
                check_expiry(Some(version), soon, now, p),
                Err(ExpiryError::UnknownVersion),
                "{version:?}"
            );
        }
        assert_eq!(
            check_expiry(Some("3"), None, now, p),
            Err(ExpiryError::MissingExpires)
        );
        let past = Some("2025-06-01T09:59:59+0000");
        assert_eq!(
            check_expiry(Some("3"), past, now, p),
            Err(ExpiryError::Expired)
        );
        // An expires sent without a version is still honoured, not ignored.
        assert_eq!(check_expiry(None, past, now, p), Err(ExpiryError::Expired));
        let years = Some("2045-06-01T10:00:00+0000");
        assert_eq!(
            check_expiry(Some("3"), years, now, p),
            Err(ExpiryError::TooFarAhead)
        );
        assert_eq!(
            check_expiry(Some("3"), Some("soon"), now, p),
            Err(ExpiryError::UnreadableExpires)
        );
        let required = ExpiryPolicy {
            required: true,
            ..p
        };
        assert_eq!(
            check_expiry(None, None, now, required),
            Err(ExpiryError::Required)
        );
        assert_eq!(check_expiry(Some("3"), soon, now, required), Ok(()));
    }

    #[test]
    fn expires_accepts_cloudstack_and_iso_forms() {
        let want = 1_748_772_000;
        assert_eq!(parse_expires("2025-06-01T10:00:00+0000"), Some(want));
        assert_eq!(parse_expires("2025-06-01T10:00:00Z"), Some(want));
        assert_eq!(parse_expires("2025-06-01T12:00:00+02:00"), Some(want));
        assert_eq!(parse_expires("2025-06-01T10:00:00.123456Z"), Some(want));
        assert_eq!(parse_expires("2025-06-01T10:00:00.123+0000"), Some(want));
        assert_eq!(parse_expires("tomorrow"), None);
    }
}
