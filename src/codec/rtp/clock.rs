//! RTP clocks against `MediaTime`: 90 kHz for video, 48 kHz for Opus.
//!
//! Received timestamps are 32-bit and start anywhere; `RtpClock::unwrap` makes them a continuous
//! `MediaTime` from the first one seen. Sent timestamps are a stream's `MediaTime` in the clock's
//! rate plus a base, wrapped to 32 bits.

use crate::media::{MediaTime, Timebase};

/// The RTP clock of video payloads.
pub const VIDEO_CLOCK_HZ: u32 = 90_000;
/// The RTP clock of Opus (RFC 7587: always 48 kHz).
pub const OPUS_CLOCK_HZ: u32 = 48_000;

/// One track's RTP clock.
#[derive(Debug, Clone)]
pub struct RtpClock {
    timebase: Timebase,
    /// The first timestamp received and the unwrapped value of the last one.
    first: Option<u32>,
    last: i64,
}

impl RtpClock {
    pub fn new(hz: u32) -> RtpClock {
        RtpClock { timebase: Timebase::new(hz).unwrap_or(Timebase::MPEG), first: None, last: 0 }
    }

    pub fn timebase(&self) -> Timebase {
        self.timebase
    }

    /// A received timestamp as media time since the first one: steps of less than half the
    /// 32-bit range either way are taken as the shortest distance (wraps and reordering).
    pub fn unwrap(&mut self, timestamp: u32) -> MediaTime {
        let first = *self.first.get_or_insert(timestamp);
        let previous = (first as i64 + self.last) as u32;
        let step = timestamp.wrapping_sub(previous) as i32;
        self.last += i64::from(step);
        MediaTime::new(self.last, self.timebase)
    }

    /// The timestamp to send for `time`, offset by `base` (a random start, RFC 3550 §5.1).
    pub fn to_rtp(&self, time: MediaTime, base: u32) -> u32 {
        let ticks = time.rescale(self.timebase).ticks();
        base.wrapping_add(ticks as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_across_the_32_bit_wrap() {
        let mut clock = RtpClock::new(VIDEO_CLOCK_HZ);
        assert_eq!(clock.unwrap(u32::MAX - 1499).ticks(), 0);
        assert_eq!(clock.unwrap(1500).ticks(), 3000);
        // A reordered, older packet maps back in time.
        assert_eq!(clock.unwrap(u32::MAX).ticks(), 1499);
        assert_eq!(clock.unwrap(4500).ticks(), 6000);
        assert_eq!(clock.unwrap(4500).as_millis(), 66);
    }

    #[test]
    fn media_time_to_rtp_and_back() {
        let clock = RtpClock::new(OPUS_CLOCK_HZ);
        let base = u32::MAX - 100;
        let rtp = clock.to_rtp(MediaTime::from_millis(20), base);
        assert_eq!(rtp, base.wrapping_add(960));
        let mut receiver = RtpClock::new(OPUS_CLOCK_HZ);
        receiver.unwrap(clock.to_rtp(MediaTime::ZERO, base));
        assert_eq!(receiver.unwrap(rtp).as_millis(), 20);
    }
}
