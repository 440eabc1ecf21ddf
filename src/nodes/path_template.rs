//! SRS's file path variables, filled for one stream at one instant: `[vhost] [app] [stream]`,
//! `[timestamp]` (Unix milliseconds) and the Go-style date fields `[2006] [01] [02] [15] [04] [05]
//! [999]` (year, month, day, hour, minute, second, millisecond).
//!
//! The date fields show local time, as SRS's do, or UTC when `utc_time` is on (srs.conf's global
//! `utc_time`). The local zone is the process's: `TZ` when set (a zone name such as
//! `Asia/Shanghai` or a POSIX rule such as `CST-8`), else `/etc/localtime`, read by `chrono`.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Local, Offset, TimeZone, Utc};

use crate::codec::hls::fill_time;
use crate::graph::StreamKey;

/// The offset east of UTC, in seconds, that the date fields use at `now`: 0 with `utc_time`.
pub fn zone_offset(utc_time: bool, now: SystemTime) -> i32 {
    if utc_time {
        return 0;
    }
    let utc: DateTime<Utc> = now.into();
    Local.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc()
}

/// Milliseconds since the Unix epoch (0 for a clock set before it).
pub fn unix_millis(now: SystemTime) -> i64 {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// `template` with every variable replaced for `key` at `now`, dates shown `utc_offset_secs`
/// east of UTC (see [`zone_offset`]).
pub fn fill_path(template: &str, key: &StreamKey, now: SystemTime, utc_offset_secs: i32) -> PathBuf {
    PathBuf::from(fill_time(&key.fill(template), unix_millis(now), utc_offset_secs))
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
        let template = "/r/[vhost]/[app]/[stream]-[2006][01][02]-[15][04][05].[999]-[timestamp].mp4";
        assert_eq!(
            fill_path(template, &key, now, 0),
            PathBuf::from("/r/__defaultVhost__/live/cam-20240229-130509.042-1709211909042.mp4")
        );
        // The same instant at UTC+8: the next hour's digits, the same timestamp.
        assert_eq!(
            fill_path(template, &key, now, 8 * 3600),
            PathBuf::from("/r/__defaultVhost__/live/cam-20240229-210509.042-1709211909042.mp4")
        );
    }

    #[test]
    fn utc_time_means_no_offset() {
        assert_eq!(zone_offset(true, SystemTime::now()), 0);
    }
}
