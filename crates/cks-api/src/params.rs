//! Stage one of a request: the raw parameters, as sent.
//!
//! CloudStack merges the query string and a form body, looks names up case-insensitively, and
//! decodes `name[0].field=value` into maps. The signature, however, is computed over the names
//! *as sent*, so both views are kept.

use std::collections::BTreeMap;

use percent_encoding::percent_decode;

use crate::error::ApiError;

/// Most parameters one request may carry (query string and form body together). CloudStack's
/// commands take a few dozen; Tomcat, in front of CloudStack, refuses past `maxParameterCount`.
/// Checked before any decoding, so a 2 MiB body of `a&a&a...` costs a short scan, not a map.
pub const MAX_PARAMETERS: usize = 512;

/// One map parameter: index → field (case kept) → value.
pub type MapParam = BTreeMap<i64, BTreeMap<String, String>>;

/// Stage one of a request's parameters: decoded, names case-insensitive, `name[i].field` entries
/// gathered into maps; nothing typed yet.
#[derive(Debug, Default, Clone)]
pub struct RawParams {
    /// Every pair in arrival order, names as sent, values decoded. Used for signing.
    pairs: Vec<(String, String)>,
    /// Plain parameters by lowercased name; the first occurrence wins.
    plain: BTreeMap<String, String>,
    /// Map parameters by lowercased map name.
    maps: BTreeMap<String, MapParam>,
}

impl RawParams {
    /// Parses `application/x-www-form-urlencoded` text (a query string or a POST body), adding to
    /// what is already there.
    pub fn add_form(&mut self, text: &str) -> Result<(), ApiError> {
        let room = MAX_PARAMETERS.saturating_sub(self.pairs.len());
        if ParameterCounter::default().feed(text.as_bytes()) > room {
            return Err(ApiError::TooManyParameters(MAX_PARAMETERS));
        }
        for piece in text.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            let name = form_decode(name)?;
            let value = form_decode(value)?;
            self.insert(name, value)?;
        }
        Ok(())
    }

    /// Builds parameters from already decoded pairs (tests, the CLI).
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<RawParams, ApiError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut res = RawParams::default();
        for (k, v) in pairs {
            res.insert(k.into(), v.into())?;
        }
        Ok(res)
    }

    fn insert(&mut self, name: String, value: String) -> Result<(), ApiError> {
        // The signed string joins names raw with `=` and `&`: a name that could contain them
        // (sent percent-encoded) would let one parameter pose as two under the same signature.
        if !is_parameter_name(&name) {
            return Err(ApiError::invalid(format!(
                "Invalid parameter name {:?}: names consist of letters, digits, '_', '.', '[' and ']'",
                name.chars().take(64).collect::<String>()
            )));
        }
        if value.chars().any(|c| c.is_ascii_control()) {
            return Err(ApiError::invalid(format!(
                "Received value containing illegal ASCII non-printable characters for parameter {name}"
            )));
        }
        if name.contains('[') || name.contains(']') {
            let (map, index, field) = parse_map_key(&name)?;
            self.maps
                .entry(map)
                .or_default()
                .entry(index)
                .or_default()
                .entry(field)
                .or_insert_with(|| value.clone());
        } else {
            self.plain
                .entry(name.to_ascii_lowercase())
                .or_insert_with(|| value.clone());
        }
        self.pairs.push((name, value));
        Ok(())
    }

    /// The value of a plain parameter, looked up case-insensitively (`name` must be lowercase).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.plain.get(name).map(String::as_str)
    }

    /// A map parameter (`name[i].field=value`) by lowercase name.
    pub fn map(&self, name: &str) -> Option<&MapParam> {
        self.maps.get(name)
    }

    /// Plain parameters by lowercased name (what a job persists to run again after a restart).
    pub fn plain(&self) -> &BTreeMap<String, String> {
        &self.plain
    }

    /// Every pair as it arrived (names as sent, values decoded), for the signature check.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The `command` parameter: which API command is called.
    pub fn command(&self) -> Option<&str> {
        self.get("command")
    }
}

/// Counts the parameters of form text (its non-empty `&`-separated pieces) as it arrives in
/// chunks, so a body can be refused while it is still being read.
#[derive(Debug, Default, Clone, Copy)]
pub struct ParameterCounter {
    count: usize,
    in_piece: bool,
}

impl ParameterCounter {
    /// Counts the pieces that start in `bytes`; returns the count so far.
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        for &b in bytes {
            if b == b'&' {
                self.in_piece = false;
            } else if !self.in_piece {
                self.in_piece = true;
                self.count += 1;
            }
        }
        self.count
    }
}

/// `[A-Za-z0-9_.\[\]]+`: every name a CloudStack command declares, its map syntax included.
pub fn is_parameter_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'[' | b']'))
}

/// `name[<int>].<field>`: exactly one `[`, one `]`, an integer index and a `.field` after it.
fn parse_map_key(key: &str) -> Result<(String, i64, String), ApiError> {
    let bad = || {
        ApiError::MalformedParameter(format!(
            "Unable to decode parameter {key}; if specifying an object array, please use parameter[index].field=XXX, e.g. userGroupList[0].group=httpGroup"
        ))
    };
    if key.matches('[').count() != 1 || key.matches(']').count() != 1 {
        return Err(bad());
    }
    let (name, rest) = key.split_once('[').ok_or_else(bad)?;
    let (index, rest) = rest.split_once(']').ok_or_else(bad)?;
    let field = rest.strip_prefix('.').ok_or_else(bad)?;
    let index: i64 = index.trim().parse().map_err(|_| bad())?;
    if name.is_empty() || field.is_empty() {
        return Err(bad());
    }
    Ok((name.to_ascii_lowercase(), index, field.to_string()))
}

fn form_decode(text: &str) -> Result<String, ApiError> {
    let plus_as_space = text.replace('+', " ");
    percent_decode(plus_as_space.as_bytes())
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ApiError::invalid("Request parameters must be valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_first_value_wins() {
        let mut p = RawParams::default();
        p.add_form("Command=listZones&SIZE=3&size=4&name=a+b%2Bc")
            .unwrap();
        assert_eq!(p.get("command"), Some("listZones"));
        assert_eq!(p.get("size"), Some("3"));
        assert_eq!(p.get("name"), Some("a b+c"));
        assert_eq!(p.pairs()[0].0, "Command");
    }

    #[test]
    fn map_parameters_decode_by_index_and_keep_field_case() {
        let mut p = RawParams::default();
        p.add_form("nodeOfferings[0].node=worker&nodeofferings[0].offering=o1&nodeofferings[1].node=control")
            .unwrap();
        let m = p.map("nodeofferings").unwrap();
        assert_eq!(m[&0]["node"], "worker");
        assert_eq!(m[&0]["offering"], "o1");
        assert_eq!(m[&1]["node"], "control");
    }

    #[test]
    fn bad_map_syntax_is_430() {
        for key in [
            "a[0]=x",
            "a[x].f=1",
            "a[0][1].f=1",
            "a]0[.f=1",
            "[0].f=1",
            "a[0]f=1",
        ] {
            let err = RawParams::default().add_form(key).unwrap_err();
            assert_eq!(err.codes().0, 430, "{key}");
        }
    }

    #[test]
    fn names_that_could_pose_as_several_parameters_are_refused() {
        // `response=json&signatureVersion` sent percent-encoded: signed like two pairs, seen as one.
        for query in [
            "response%3Djson%26signatureVersion=3",
            "a%20b=1",
            "=1",
            "na%2Fme=1",
            "sig%C3%A9=1",
        ] {
            let err = RawParams::default().add_form(query).unwrap_err();
            assert_eq!(err.codes().0, 431, "{query}");
        }
        let mut p = RawParams::default();
        p.add_form("command=listZones&details[0].key=v&_=1&a.b=2")
            .unwrap();
        assert_eq!(p.pairs().len(), 4);
    }

    #[test]
    fn a_repeated_map_field_keeps_its_first_value_like_plain_parameters() {
        let mut p = RawParams::default();
        p.add_form("m[0].f=first&m[0].f=second&x=first&x=second")
            .unwrap();
        assert_eq!(p.map("m").unwrap()[&0]["f"], "first");
        assert_eq!(p.get("x"), Some("first"));
    }

    #[test]
    fn parameters_are_counted_across_chunk_boundaries() {
        let mut c = ParameterCounter::default();
        assert_eq!(c.feed(b"a=1&&b"), 2);
        assert_eq!(
            c.feed(b"=2&"),
            2,
            "a piece split between chunks counts once"
        );
        assert_eq!(c.feed(b"&c"), 3);
    }

    #[test]
    fn parameter_count_is_bounded_across_query_and_body() {
        let mut p = RawParams::default();
        let query = "a=1&".repeat(MAX_PARAMETERS - 1);
        p.add_form(&query).unwrap();
        p.add_form("command=listZones").unwrap();
        let err = p.add_form("one=more").unwrap_err();
        assert_eq!(err.codes().0, 431);
        assert_eq!(
            err.to_string(),
            "Too many request parameters: at most 512 are accepted (query string and form body together)"
        );
        // Empty pieces (`&&`) are not parameters.
        RawParams::default()
            .add_form(&"&".repeat(10 * MAX_PARAMETERS))
            .unwrap();
    }

    #[test]
    fn control_characters_are_rejected() {
        let err = RawParams::default().add_form("name=a%07b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Received value containing illegal ASCII non-printable characters for parameter name"
        );
    }
}
