//! ISO 8601 text for the MPD: durations (`PT1M30.5S`, xs:duration) and UTC date-times
//! (`2024-01-02T03:04:05.123Z`, xs:dateTime), both at millisecond precision.
//!
//! Pure arithmetic on integers: no clock is read here, the caller passes the instant. Dates use the
//! proleptic Gregorian calendar; instants before 1970 are not needed by a live server and clamp to it.

use std::fmt::Write;

const MILLIS_PER_SECOND: u64 = 1000;
const SECONDS_PER_MINUTE: u64 = 60;
const SECONDS_PER_HOUR: u64 = 3600;
const SECONDS_PER_DAY: u64 = 86_400;

/// A duration in milliseconds as `PT[nH][nM][n[.fff]S]`; zero is `PT0S`.
pub fn format_duration(millis: u64) -> String {
    let total_seconds = millis / MILLIS_PER_SECOND;
    let fraction = millis % MILLIS_PER_SECOND;
    let hours = total_seconds / SECONDS_PER_HOUR;
    let minutes = total_seconds % SECONDS_PER_HOUR / SECONDS_PER_MINUTE;
    let seconds = total_seconds % SECONDS_PER_MINUTE;
    let mut text = String::from("PT");
    // Writing to a String cannot fail, so the results of write! are ignored below.
    if hours > 0 {
        let _ = write!(text, "{hours}H");
    }
    if minutes > 0 {
        let _ = write!(text, "{minutes}M");
    }
    if seconds > 0 || fraction > 0 || (hours == 0 && minutes == 0) {
        let _ = write!(text, "{seconds}{}S", fraction_text(fraction));
    }
    text
}

/// A Unix time in milliseconds as a UTC `xs:dateTime`; milliseconds are written only when non-zero.
pub fn format_date_time(unix_millis: i64) -> String {
    let unix_millis = u64::try_from(unix_millis).unwrap_or(0);
    let total_seconds = unix_millis / MILLIS_PER_SECOND;
    let (year, month, day) = civil_from_days(total_seconds / SECONDS_PER_DAY);
    let second_of_day = total_seconds % SECONDS_PER_DAY;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{}Z",
        second_of_day / SECONDS_PER_HOUR,
        second_of_day % SECONDS_PER_HOUR / SECONDS_PER_MINUTE,
        second_of_day % SECONDS_PER_MINUTE,
        fraction_text(unix_millis % MILLIS_PER_SECOND),
    )
}

/// `.5`, `.25`, `.125`: the millisecond part without trailing zeros, empty when zero.
fn fraction_text(millis: u64) -> String {
    if millis == 0 {
        return String::new();
    }
    let digits = format!("{millis:03}");
    format!(".{}", digits.trim_end_matches('0'))
}

/// Year, month (1–12) and day (1–31) of the day `days` after 1970-01-01.
///
/// Counts in 400-year eras starting on 0000-03-01, so that the leap day is the last day of a
/// "year" and months have a fixed pattern from March on.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    const DAYS_FROM_0000_03_01_TO_1970_01_01: u64 = 719_468;
    const DAYS_PER_ERA: u64 = 146_097;
    let z = days + DAYS_FROM_0000_03_01_TO_1970_01_01;
    let era = z / DAYS_PER_ERA;
    let day_of_era = z % DAYS_PER_ERA;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_the_largest_units_and_trim_fractions() {
        assert_eq!(format_duration(0), "PT0S");
        assert_eq!(format_duration(2000), "PT2S");
        assert_eq!(format_duration(2500), "PT2.5S");
        assert_eq!(format_duration(10_040), "PT10.04S");
        assert_eq!(format_duration(1), "PT0.001S");
        assert_eq!(format_duration(300_000), "PT5M");
        assert_eq!(format_duration(3_723_500), "PT1H2M3.5S");
        assert_eq!(format_duration(7_200_000), "PT2H");
        assert_eq!(format_duration(3_600_001), "PT1H0.001S");
    }

    #[test]
    fn date_times_are_utc_with_optional_milliseconds() {
        assert_eq!(format_date_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_date_time(-5), "1970-01-01T00:00:00Z");
        assert_eq!(format_date_time(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(format_date_time(951_868_799_999), "2000-02-29T23:59:59.999Z");
        assert_eq!(format_date_time(1_704_164_645_120), "2024-01-02T03:04:05.12Z");
        assert_eq!(format_date_time(4_102_444_800_000), "2100-01-01T00:00:00Z");
        assert_eq!(format_date_time(1_709_164_800_000), "2024-02-29T00:00:00Z");
        assert_eq!(format_date_time(1_735_689_599_000), "2024-12-31T23:59:59Z");
    }
}
