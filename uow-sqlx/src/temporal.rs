//! Text forms of dates and times for databases that store them as text
//! (SQLite): fixed width, so text order is time order.
//!
//! `YYYY-MM-DD`, `HH:MM:SS.ffffff`, `YYYY-MM-DD HH:MM:SS.ffffff` (UTC for
//! time-zone-aware fields), years 0000–9999.

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(days));
    format!("{y:04}-{m:02}-{d:02}")
}

pub fn format_time(micros: i64) -> String {
    let secs = micros / 1_000_000;
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        micros % 1_000_000
    )
}

pub fn format_timestamp(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {}",
        format_time(micros.rem_euclid(MICROS_PER_DAY))
    )
}

fn number(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

pub fn parse_date(text: &str) -> Option<i32> {
    let mut parts = text.splitn(3, '-');
    let y = number(parts.next()?)?;
    let m = u32::try_from(number(parts.next()?)?).ok()?;
    let d = u32::try_from(number(parts.next()?)?).ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    i32::try_from(days_from_civil(y, m, d)).ok()
}

pub fn parse_time(text: &str) -> Option<i64> {
    let (hms, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let mut parts = hms.splitn(3, ':');
    let h = number(parts.next()?)?;
    let m = number(parts.next()?)?;
    let s = number(parts.next()?)?;
    if h > 23 || m > 59 || s > 59 || fraction.len() > 6 {
        return None;
    }
    let micros = number(fraction)? * 10_i64.pow(6 - fraction.len() as u32);
    Some(((h * 60 + m) * 60 + s) * 1_000_000 + micros)
}

pub fn parse_timestamp(text: &str) -> Option<i64> {
    let (date, time) = text.split_once([' ', 'T'])?;
    let time = time.trim_end_matches('Z');
    let days = i64::from(parse_date(date)?);
    Some(days * MICROS_PER_DAY + parse_time(time)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_across_eras() {
        for days in [-719_468, -1, 0, 1, 11_016, 19_000, 2_932_896] {
            assert_eq!(parse_date(&format_date(days)), Some(days), "{days}");
        }
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(19_723), "2024-01-01");
    }

    #[test]
    fn timestamps_round_trip_with_microseconds() {
        for micros in [0, 1, -1, 1_700_000_000_123_456, -86_400_000_001] {
            assert_eq!(parse_timestamp(&format_timestamp(micros)), Some(micros));
        }
        assert_eq!(format_timestamp(1_000_001), "1970-01-01 00:00:01.000001");
    }

    #[test]
    fn malformed_text_is_rejected() {
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_time("25:00:00"), None);
    }
}
