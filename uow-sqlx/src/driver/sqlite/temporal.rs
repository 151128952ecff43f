//! Text forms of dates and times for databases that store them as text
//! (SQLite), formatted and parsed by chrono: fixed width, so text order is
//! time order.
//!
//! `YYYY-MM-DD`, `HH:MM:SS.ffffff`, `YYYY-MM-DD HH:MM:SS.ffffff` (UTC for
//! time-zone-aware fields), years 0001–9999 (the range every store holds,
//! see `uow_core::backend::check_storable`).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use uow_core::ValueError;

use crate::driver::chrono_values as cv;

const DATE: &str = "%Y-%m-%d";
const TIME: &str = "%H:%M:%S%.6f";
const TIMESTAMP: &str = "%Y-%m-%d %H:%M:%S%.6f";

fn out_of_range(what: &str, value: impl std::fmt::Display) -> ValueError {
    ValueError::new(format!("{what} {value} is out of range"))
}

/// Days since 1970-01-01 → `YYYY-MM-DD`.
pub fn format_date(days: i32) -> Result<String, ValueError> {
    let date = cv::date(days).ok_or_else(|| out_of_range("day", days))?;
    Ok(date.format(DATE).to_string())
}

/// Microseconds since midnight → `HH:MM:SS.ffffff`.
pub fn format_time(micros: i64) -> Result<String, ValueError> {
    let time = cv::time(micros).ok_or_else(|| out_of_range("time of day (µs)", micros))?;
    Ok(time.format(TIME).to_string())
}

/// Microseconds since the epoch → `YYYY-MM-DD HH:MM:SS.ffffff`.
pub fn format_timestamp(micros: i64) -> Result<String, ValueError> {
    let t = cv::timestamp(micros).ok_or_else(|| out_of_range("timestamp (µs)", micros))?;
    Ok(t.format(TIMESTAMP).to_string())
}

/// `YYYY-MM-DD` → days since 1970-01-01; `None` for anything else, an
/// impossible date (`2024-02-31`) included.
pub fn parse_date(text: &str) -> Option<i32> {
    let date = NaiveDate::parse_from_str(text, DATE).ok()?;
    cv::days(date).ok()
}

/// `HH:MM:SS[.f]` → microseconds since midnight.
pub fn parse_time(text: &str) -> Option<i64> {
    let time = NaiveTime::parse_from_str(text, "%H:%M:%S%.f").ok()?;
    Some(cv::micros_of_day(time))
}

/// `YYYY-MM-DD HH:MM:SS[.f]` (or with `T`, and a trailing `Z`) →
/// microseconds since the epoch.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let t = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()?;
    Some(t.and_utc().timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uow_core::backend::{FIRST_DAY, FIRST_MICRO, LAST_DAY, LAST_MICRO};

    #[test]
    fn dates_round_trip_across_the_stored_years() {
        for days in [FIRST_DAY, -1, 0, 1, 11_016, 19_000, LAST_DAY] {
            assert_eq!(
                parse_date(&format_date(days).unwrap()),
                Some(days),
                "{days}"
            );
        }
        assert_eq!(format_date(0).unwrap(), "1970-01-01");
        assert_eq!(format_date(19_723).unwrap(), "2024-01-01");
        assert_eq!(format_date(FIRST_DAY).unwrap(), "0001-01-01");
        assert_eq!(format_date(LAST_DAY).unwrap(), "9999-12-31");
    }

    #[test]
    fn timestamps_round_trip_with_microseconds() {
        for micros in [
            FIRST_MICRO,
            0,
            1,
            -1,
            1_700_000_000_123_456,
            -86_400_000_001,
            LAST_MICRO,
        ] {
            let text = format_timestamp(micros).unwrap();
            assert_eq!(parse_timestamp(&text), Some(micros), "{text}");
        }
        assert_eq!(
            format_timestamp(1_000_001).unwrap(),
            "1970-01-01 00:00:01.000001"
        );
    }

    #[test]
    fn malformed_or_impossible_text_is_rejected() {
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("2024-02-31"), None);
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_time("25:00:00"), None);
        assert_eq!(parse_time("12:00"), None);
    }

    #[test]
    fn text_order_is_time_order() {
        let a = format_timestamp(FIRST_MICRO).unwrap();
        let b = format_timestamp(-1).unwrap();
        let c = format_timestamp(LAST_MICRO).unwrap();
        assert!(a < b && b < c);
    }
}
