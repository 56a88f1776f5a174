//! CloudStack's date format: `yyyy-MM-dd'T'HH:mm:ssZ`, e.g. `2025-01-31T10:20:30+0000`.

use time::OffsetDateTime;
use time::macros::format_description;

/// Formats a Unix timestamp (seconds, UTC) the way CloudStack prints dates.
pub fn format_date(unix_seconds: i64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+0000");
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&format)
        .unwrap_or_default()
}

/// Now, as Unix seconds.
pub fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_use_cloudstacks_offset_form() {
        assert_eq!(
            super::format_date(1_738_318_830),
            "2025-01-31T10:20:30+0000"
        );
    }
}
