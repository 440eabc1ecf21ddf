//! SRS's file-name templates and segment URIs.
//!
//! Time variables use Go's reference date as SRS does: `[2006]` year, `[01]` month, `[02]` day,
//! `[15]` hour, `[04]` minute, `[05]` second, `[999]` milliseconds, and `[timestamp]` the Unix time
//! in milliseconds. The wall-clock time and the offset of the zone it is shown in are arguments
//! (sans-IO): SRS shows local time, or UTC when `utc_time on`; the caller reads the local offset.

/// Year, month (1–12), day (1–31), hour, minute, second, millisecond of a Unix time in UTC.
pub fn civil_from_unix_ms(unix_ms: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let days = unix_ms.div_euclid(86_400_000);
    let in_day = unix_ms.rem_euclid(86_400_000);
    // Days to a proleptic Gregorian date, counting 400-year eras from 0000-03-01 so that the leap
    // day falls at the end of each year.
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (hour, minute) = ((in_day / 3_600_000) as u32, (in_day / 60_000 % 60) as u32);
    let (second, milli) = ((in_day / 1000 % 60) as u32, (in_day % 1000) as u32);
    (year, month, day, hour, minute, second, milli)
}

/// Replaces the time variables of `template` with the wall-clock time `unix_ms`, the date fields
/// shown in the zone `utc_offset_secs` east of UTC (`[timestamp]` is the Unix time either way).
pub fn fill_time(template: &str, unix_ms: i64, utc_offset_secs: i32) -> String {
    if !template.contains('[') {
        return template.to_owned();
    }
    let local_ms = unix_ms.saturating_add(i64::from(utc_offset_secs) * 1000);
    let (year, month, day, hour, minute, second, milli) = civil_from_unix_ms(local_ms);
    template
        .replace("[2006]", &format!("{year:04}"))
        .replace("[01]", &format!("{month:02}"))
        .replace("[02]", &format!("{day:02}"))
        .replace("[15]", &format!("{hour:02}"))
        .replace("[04]", &format!("{minute:02}"))
        .replace("[05]", &format!("{second:02}"))
        .replace("[999]", &format!("{milli:03}"))
        .replace("[timestamp]", &unix_ms.to_string())
}

/// The URI of a segment in its playlist, as SRS builds it: the segment's path relative to the
/// playlist's directory, behind `entry_prefix` when one is set (a prefix not ending in `/` is
/// followed by the playlist URL's directory).
pub fn segment_uri(m3u8_relative: &str, segment_relative: &str, entry_prefix: &str) -> String {
    let m3u8_dir = m3u8_relative.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut uri = entry_prefix.to_owned();
    if !entry_prefix.is_empty() && !entry_prefix.ends_with('/') {
        uri.push('/');
        if !m3u8_dir.is_empty() {
            uri.push_str(m3u8_dir);
            uri.push('/');
        }
    }
    if entry_prefix.is_empty() {
        uri.push_str(&relative_path(m3u8_dir, segment_relative));
    } else {
        let below_dir = segment_relative.strip_prefix(m3u8_dir).filter(|rest| rest.starts_with('/'));
        uri.push_str(below_dir.unwrap_or(segment_relative).trim_start_matches('/'));
    }
    uri
}

/// `file` (a path relative to the HLS root) as seen from the directory `dir` (relative to the
/// same root), comparing whole components: `live/s` sees `live/s-1.ts` as `../s-1.ts` (SRS
/// cuts the text `live/s` and writes `-1.ts`, which no player finds).
fn relative_path(dir: &str, file: &str) -> String {
    let dir_parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    let file_parts: Vec<&str> = file.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    let Some((name, file_dir)) = file_parts.split_last() else {
        return file.trim_start_matches('/').to_owned();
    };
    let common = dir_parts.iter().zip(file_dir).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; dir_parts.len() - common];
    parts.extend(&file_dir[common..]);
    parts.push(name);
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_civil_dates() {
        assert_eq!(civil_from_unix_ms(0), (1970, 1, 1, 0, 0, 0, 0));
        // 2024-02-29T23:59:58.123Z, a leap day.
        assert_eq!(civil_from_unix_ms(1_709_251_198_123), (2024, 2, 29, 23, 59, 58, 123));
        assert_eq!(civil_from_unix_ms(-1), (1969, 12, 31, 23, 59, 59, 999));
    }

    #[test]
    fn time_variables_fill_as_srs() {
        let filled = fill_time(
            "live/[2006]/[01]/[02]/s-[15][04][05]-[999]-[timestamp]-[seq].ts",
            1_709_251_198_123,
            0,
        );
        assert_eq!(filled, "live/2024/02/29/s-235958-123-1709251198123-[seq].ts");
    }

    #[test]
    fn date_fields_follow_the_zone_offset_and_the_timestamp_does_not() {
        let template = "[2006]-[01]-[02] [15]:[04]:[05].[999] [timestamp]";
        // 2024-02-29T23:59:58.123Z is 2024-03-01 07:59:58 at UTC+8 (Asia/Shanghai).
        assert_eq!(fill_time(template, 1_709_251_198_123, 8 * 3600), "2024-03-01 07:59:58.123 1709251198123");
        // And 2024-02-29 18:29:58 at UTC-05:30.
        assert_eq!(
            fill_time(template, 1_709_251_198_123, -(5 * 3600 + 1800)),
            "2024-02-29 18:29:58.123 1709251198123"
        );
    }

    #[test]
    fn uris_are_relative_to_the_playlist_or_behind_the_prefix() {
        assert_eq!(segment_uri("live/s.m3u8", "live/s-1.ts", ""), "s-1.ts");
        assert_eq!(segment_uri("live/s.m3u8", "live/2024/s-1.ts", ""), "2024/s-1.ts");
        assert_eq!(segment_uri("s.m3u8", "s-1.ts", ""), "s-1.ts");
        assert_eq!(segment_uri("live/s.m3u8", "live/s-1.ts", "http://cdn.com"), "http://cdn.com/live/s-1.ts");
        assert_eq!(segment_uri("live/s.m3u8", "live/s-1.ts", "http://cdn.com/x/"), "http://cdn.com/x/s-1.ts");
        assert_eq!(segment_uri("live/s.m3u8", "other/s-1.ts", ""), "../other/s-1.ts");
        assert_eq!(segment_uri("live/s/ll.m3u8", "live/s-1.m4s", ""), "../s-1.m4s");
        assert_eq!(segment_uri("live/s/ll.m3u8", "live/s/1.m4s", ""), "1.m4s");
        assert_eq!(segment_uri("./live/s.m3u8", "live/s-1.ts", ""), "s-1.ts");
        assert_eq!(segment_uri("live/s.m3u8", "live/s-1.ts", "http://cdn.com/x/"), "http://cdn.com/x/s-1.ts");
        assert_eq!(
            segment_uri("live/s/ll.m3u8", "live/s-1.ts", "http://cdn.com/x/"),
            "http://cdn.com/x/live/s-1.ts"
        );
    }
}
