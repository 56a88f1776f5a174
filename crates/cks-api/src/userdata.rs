//! User data as CloudStack accepts it (`registerCniConfiguration`, and later VM user data):
//! base64 text, URL-decoded once more when it still holds `%`, within `vm.userdata.max.length`
//! characters, stored re-encoded with padding.

use base64::Engine;
use base64::alphabet::STANDARD as STANDARD_ALPHABET;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use percent_encoding::percent_decode_str;

use crate::error::ApiError;

/// The most user data a POST may carry, whatever the setting says (1 MiB).
pub const MAX_POST_LENGTH: usize = 1_048_576;

/// Lenient like Commons Codec's decoder: padding optional, stray trailing bits ignored.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &STANDARD_ALPHABET,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Checks user data and returns it as canonical (padded, standard alphabet) base64.
/// `max_length` is `vm.userdata.max.length`, counted on the text as sent.
pub fn validate(value: &str, max_length: usize) -> Result<String, ApiError> {
    let text = match value.contains('%') {
        true => percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| ApiError::invalid("Url decoding of userdata failed."))?
            .into_owned(),
        false => value.to_string(),
    };
    // Commons' `Base64.isBase64`: both alphabets, padding and whitespace.
    let is_base64 = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/-_=".contains(c) || c.is_ascii_whitespace());
    if !is_base64 {
        return Err(ApiError::invalid("User data is not base64 encoded."));
    }
    if text.len() >= MAX_POST_LENGTH {
        return Err(ApiError::invalid(
            "User data is too long for an http POST request",
        ));
    }
    if text.len() > max_length {
        return Err(ApiError::invalid(format!(
            "User data has exceeded configurable max length: {max_length}"
        )));
    }
    let compact: String = text
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let decoded = LENIENT
        .decode(compact.trim_end_matches('='))
        .map_err(|_| ApiError::invalid("User data is not base64 encoded."))?;
    if decoded.is_empty() {
        return Err(ApiError::invalid("User data is too short."));
    }
    Ok(STANDARD.encode(decoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(value: &str, max: usize) -> String {
        validate(value, max).unwrap_err().to_string()
    }

    #[test]
    fn accepts_base64_in_either_alphabet_and_pads_it() {
        let content = STANDARD.encode("#cloud-config\nruncmd: [ls]\n?>");
        assert_eq!(validate(&content, 32768).unwrap(), content);
        let unpadded = STANDARD.encode("ab");
        assert_eq!(
            validate(unpadded.trim_end_matches('='), 100).unwrap(),
            "YWI="
        );
        assert_eq!(validate("YW\nI=", 100).unwrap(), "YWI=");
        let url_safe = content.replace('+', "-").replace('/', "_");
        assert_eq!(validate(&url_safe, 32768).unwrap(), content);
        assert_eq!(validate("YWI%3D", 100).unwrap(), "YWI=");
    }

    #[test]
    fn refuses_with_cloudstacks_texts() {
        assert_eq!(err("not base64!", 100), "User data is not base64 encoded.");
        assert_eq!(err("a=b=", 100), "User data is not base64 encoded.");
        assert_eq!(err("====", 100), "User data is too short.");
        assert_eq!(
            err(&"QUJD".repeat(10), 16),
            "User data has exceeded configurable max length: 16"
        );
        assert_eq!(
            err(&"QUJD".repeat(MAX_POST_LENGTH / 4), usize::MAX),
            "User data is too long for an http POST request"
        );
    }
}
