//! Calendar dates as days since 1970-01-01, the one representation the
//! data, the position, the scorer and the sample writer share. At the
//! bottom, so none of them reaches into another for a date.

/// `YYYY-MM-DD` (anything after the date, such as a time, is ignored) → days
/// since 1970-01-01.
pub fn parse_iso_date(s: &str) -> Option<i32> {
    let s = s.trim();
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: i64 = s.get(5..7)?.parse().ok()?;
    let d: i64 = s.get(8..10)?.parse().ok()?;
    if s.get(4..5)? != "-" || s.get(7..8)? != "-" || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Days since 1970-01-01 → (year, month, day); Howard Hinnant's civil-from-days.
pub fn civil(days: i32) -> (i64, i64, i64) {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Howard Hinnant's days-from-civil.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// Days since 1970-01-01 to `YYYY-MM-DD` (proleptic Gregorian).
pub fn iso_date(days: i32) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_round_trip() {
        for d in [-1000, 0, 19_000, 19_723, 20_000] {
            assert_eq!(parse_iso_date(&iso_date(d)), Some(d));
        }
        assert_eq!(parse_iso_date("2024-01-02T09:30:00"), Some(19_724));
        assert_eq!(parse_iso_date("2024/01/02"), None);
        assert_eq!(parse_iso_date("2024-13-02"), None);
    }
}
