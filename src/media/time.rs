//! `MediaTime`: a timestamp that always carries its timebase, with exact conversions.
//!
//! Bare integers of unknown unit are how media servers get timestamps wrong; every timestamp
//! in the crate is a `MediaTime`.

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Sub};

/// Ticks per second of a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timebase(u32);

impl Timebase {
    /// Milliseconds: RTMP and FLV.
    pub const MILLIS: Timebase = Timebase(1000);
    /// 90 kHz: MPEG-TS, RTP video.
    pub const MPEG: Timebase = Timebase(90_000);

    /// A timebase of `hz` ticks per second; `None` for zero.
    pub fn new(hz: u32) -> Option<Timebase> {
        (hz != 0).then_some(Timebase(hz))
    }

    pub fn hz(self) -> u32 {
        self.0
    }
}

/// A point in media time: `ticks / timebase` seconds.
#[derive(Clone, Copy)]
pub struct MediaTime {
    ticks: i64,
    timebase: Timebase,
}

impl MediaTime {
    pub const ZERO: MediaTime = MediaTime::from_millis(0);

    pub const fn new(ticks: i64, timebase: Timebase) -> MediaTime {
        MediaTime { ticks, timebase }
    }

    pub const fn from_millis(ms: i64) -> MediaTime {
        MediaTime { ticks: ms, timebase: Timebase::MILLIS }
    }

    pub fn ticks(self) -> i64 {
        self.ticks
    }

    pub fn timebase(self) -> Timebase {
        self.timebase
    }

    /// The same instant in another timebase, rounded towards negative infinity.
    pub fn rescale(self, timebase: Timebase) -> MediaTime {
        if timebase == self.timebase {
            return self;
        }
        let scaled = i128::from(self.ticks) * i128::from(timebase.0);
        let ticks = scaled.div_euclid(i128::from(self.timebase.0));
        MediaTime { ticks: ticks.clamp(i64::MIN.into(), i64::MAX.into()) as i64, timebase }
    }

    pub fn as_millis(self) -> i64 {
        self.rescale(Timebase::MILLIS).ticks
    }

    pub fn as_secs_f64(self) -> f64 {
        self.ticks as f64 / f64::from(self.timebase.0)
    }

    /// Exact comparison across timebases.
    fn cross(self, other: MediaTime) -> (i128, i128) {
        (
            i128::from(self.ticks) * i128::from(other.timebase.0),
            i128::from(other.ticks) * i128::from(self.timebase.0),
        )
    }
}

impl PartialEq for MediaTime {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = self.cross(*other);
        a == b
    }
}

impl Eq for MediaTime {}

impl PartialOrd for MediaTime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MediaTime {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = self.cross(*other);
        a.cmp(&b)
    }
}

/// Differences are expressed in the left operand's timebase.
impl Sub for MediaTime {
    type Output = MediaTime;
    fn sub(self, rhs: MediaTime) -> MediaTime {
        let rhs = rhs.rescale(self.timebase);
        MediaTime { ticks: self.ticks.saturating_sub(rhs.ticks), timebase: self.timebase }
    }
}

impl Add for MediaTime {
    type Output = MediaTime;
    fn add(self, rhs: MediaTime) -> MediaTime {
        let rhs = rhs.rescale(self.timebase);
        MediaTime { ticks: self.ticks.saturating_add(rhs.ticks), timebase: self.timebase }
    }
}

impl fmt::Debug for MediaTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ticks, self.timebase.0)
    }
}

impl fmt::Display for MediaTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}

/// Turns 32-bit millisecond timestamps (RTMP, FLV) into a continuous timeline: a step back by more
/// than half the range is a wrap-around, not a jump back, so sessions longer than 49.7 days (or
/// streams that start near the top of the range) keep increasing.
#[derive(Debug, Clone, Default)]
pub struct TimestampUnwrapper {
    last: Option<u32>,
    epoch: i64,
}

impl TimestampUnwrapper {
    const RANGE: i64 = 1 << 32;

    pub fn unwrap(&mut self, ts: u32) -> i64 {
        if let Some(last) = self.last {
            let step = i64::from(ts) - i64::from(last);
            if step < -Self::RANGE / 2 {
                self.epoch += 1;
            } else if step > Self::RANGE / 2 && self.epoch > 0 {
                // A late packet from before the wrap: place it in the previous epoch.
                return (self.epoch - 1) * Self::RANGE + i64::from(ts);
            }
        }
        self.last = Some(ts);
        self.epoch * Self::RANGE + i64::from(ts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_is_exact_and_floors() {
        let t = MediaTime::from_millis(1001);
        assert_eq!(t.rescale(Timebase::MPEG).ticks(), 90_090);
        let back = MediaTime::new(90_089, Timebase::MPEG).rescale(Timebase::MILLIS);
        assert_eq!(back.ticks(), 1000);
        let negative = MediaTime::new(-1, Timebase::MPEG).rescale(Timebase::MILLIS);
        assert_eq!(negative.ticks(), -1);
    }

    #[test]
    fn unwraps_32_bit_millisecond_timestamps() {
        let mut unwrapper = TimestampUnwrapper::default();
        let top = u32::MAX - 20;
        let out: Vec<i64> = [top, u32::MAX, 19, top + 10, 59].iter().map(|t| unwrapper.unwrap(*t)).collect();
        let base = i64::from(top);
        assert_eq!(out, [base, base + 20, base + 40, base + 10, base + 80]);
    }

    #[test]
    fn compares_across_timebases() {
        assert_eq!(MediaTime::from_millis(1000), MediaTime::new(90_000, Timebase::MPEG));
        assert!(MediaTime::from_millis(999) < MediaTime::new(90_000, Timebase::MPEG));
        let d = MediaTime::from_millis(2000) - MediaTime::new(90_000, Timebase::MPEG);
        assert_eq!(d.as_millis(), 1000);
    }
}
