//! Time in the forms Docker uses: RFC 3339 with nanoseconds in JSON, unix
//! seconds in summaries, `secs[.nanos]` or RFC 3339 in `since`/`until`, and
//! "2 hours ago" in tables.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub fn unix_nanos_now() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(0)
}

/// Unix seconds of an RFC 3339 time, if it is one.
pub fn parse_rfc3339_secs(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp())
}

/// An RFC 3339 string for unix nanoseconds.
pub fn rfc3339_of_nanos(nanos: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(nanos).to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Parses a `since`/`until` value as the Engine API takes it — `secs`,
/// `secs.nanos` or RFC 3339 — into unix nanoseconds.
pub fn parse_api_time(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return t.timestamp_nanos_opt();
    }
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().ok()?;
    let nanos: i64 = if frac.is_empty() {
        0
    } else {
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        format!("{frac:0<9}").parse().ok()?
    };
    Some(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_times_in_all_forms() {
        assert_eq!(parse_api_time("10"), Some(10_000_000_000));
        assert_eq!(parse_api_time("10.5"), Some(10_500_000_000));
        assert_eq!(parse_api_time("1970-01-01T00:00:02Z"), Some(2_000_000_000));
        assert_eq!(parse_api_time("soon"), None);
        assert_eq!(
            parse_api_time("99999999999"),
            Some(i64::MAX),
            "far futures saturate"
        );
    }
}
