//! SRS's file path variables, filled for one stream at one instant: `[vhost] [app] [stream]`,
//! `[timestamp]` (Unix milliseconds) and the Go-style date fields `[2006] [01] [02] [15] [04] [05]
//! [999]` (year, month, day, hour, minute, second, millisecond).
//!
//! Dates are civil UTC computed here (no time-zone database is read); SRS uses the server's local
//! time, which is the same on the usual UTC servers and containers.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::graph::StreamKey;

/// `template` with every variable replaced for `key` at `now`.
pub fn fill_path(template: &str, key: &StreamKey, now: SystemTime) -> PathBuf {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let millis = since_epoch.as_millis();
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let seconds_of_day = secs % 86_400;
    let filled = key
        .fill(template)
        .replace("[timestamp]", &millis.to_string())
        .replace("[2006]", &format!("{year:04}"))
        .replace("[01]", &format!("{month:02}"))
        .replace("[02]", &format!("{day:02}"))
        .replace("[15]", &format!("{:02}", seconds_of_day / 3600))
        .replace("[04]", &format!("{:02}", seconds_of_day / 60 % 60))
        .replace("[05]", &format!("{:02}", seconds_of_day % 60))
        .replace("[999]", &format!("{:03}", millis % 1000));
    PathBuf::from(filled)
}

/// Year, month (1-12) and day (1-31) of the proleptic Gregorian calendar for a count of days
/// since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn fills_stream_and_date_variables() {
        let key = StreamKey::parse("live/cam").unwrap();
        // 2024-02-29 13:05:09.042 UTC.
        let now = UNIX_EPOCH + Duration::from_millis(1_709_211_909_042);
        let path = fill_path(
            "/r/[vhost]/[app]/[stream]-[2006][01][02]-[15][04][05].[999]-[timestamp].mp4",
            &key,
            now,
        );
        assert_eq!(path, PathBuf::from("/r/__defaultVhost__/live/cam-20240229-130509.042-1709211909042.mp4"));
    }

    #[test]
    fn civil_dates_around_epoch_and_leap_years() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
