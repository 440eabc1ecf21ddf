//! Output times of transcoded audio, counted in samples: continuous and never going back.
//!
//! A transcoder's output frames do not line up with its input frames (1024-sample AAC frames in,
//! 960-sample Opus frames out), so each output frame is stamped from the samples produced since
//! an anchor. The input's times only move the anchor: a step forward beyond the tolerance (lost
//! packets, a silence the sender did not send) is followed, so audio stays with video; a step back
//! (a browser's RTP clock restarting) is absorbed: the offset between input and output times is
//! re-based and counting goes on, so the RTMP side never sees time go backwards.

use crate::media::{MediaTime, Timebase};

/// Input times within this of the counted time are taken as jitter, not as a jump (ms): RTP and
/// RTMP times jitter by a millisecond or two, and a lip-sync correction of a WebRTC publish
/// (`codec::rtp::sync`) larger than this must get through.
const TOLERANCE_MS: i64 = 25;

#[derive(Debug, Clone)]
pub struct Timeline {
    timebase: Timebase,
    /// Added to input times (in the output rate's ticks) to place them on the output timeline.
    offset: i64,
    /// The time of the next sample to be stamped; `None` before the first input.
    next: Option<i64>,
    tolerance: i64,
}

impl Timeline {
    /// A timeline counting samples at `rate` Hz (0 is taken as 48 kHz).
    pub fn new(rate: u32) -> Timeline {
        let timebase = Timebase::new(rate).unwrap_or(Timebase::new(48_000).unwrap_or(Timebase::MPEG));
        let tolerance = TOLERANCE_MS * i64::from(timebase.hz()) / 1000;
        Timeline { timebase, offset: 0, next: None, tolerance }
    }

    /// Tells the timeline that the input sample due `pending` samples after the next stamped one
    /// arrived with time `input` (its first sample's time); gives the time it is placed at.
    pub fn observe(&mut self, input: MediaTime, pending: u64) -> MediaTime {
        let input = input.rescale(self.timebase).ticks();
        let Some(next) = self.next else {
            self.next = Some(input);
            return MediaTime::new(input, self.timebase);
        };
        let expected = next + pending as i64;
        let placed = input + self.offset;
        if placed > expected + self.tolerance {
            // A gap: the rest of the stream is later; what is pending keeps its place before it.
            self.next = Some(next + (placed - expected));
            MediaTime::new(placed, self.timebase)
        } else {
            if placed < expected - self.tolerance {
                // The input's clock went back: keep counting from here.
                self.offset = expected - input;
            }
            MediaTime::new(expected, self.timebase)
        }
    }

    /// The time of the next `samples` output samples; the timeline moves past them.
    pub fn stamp(&mut self, samples: u64) -> MediaTime {
        let at = self.next.unwrap_or(0);
        self.next = Some(at + samples as i64);
        MediaTime::new(at, self.timebase)
    }

    /// The time of the next sample to be stamped (zero before the first input).
    pub fn position(&self) -> MediaTime {
        MediaTime::new(self.next.unwrap_or(0), self.timebase)
    }

    pub fn timebase(&self) -> Timebase {
        self.timebase
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: MediaTime) -> i64 {
        t.as_millis()
    }

    /// Feeds 20 ms frames with the given input times (ms), stamping each one at once.
    fn run(inputs: &[i64]) -> Vec<i64> {
        let mut timeline = Timeline::new(48_000);
        inputs
            .iter()
            .map(|t| {
                timeline.observe(MediaTime::from_millis(*t), 0);
                ms(timeline.stamp(960))
            })
            .collect()
    }

    #[test]
    fn jitter_is_smoothed_into_a_continuous_count() {
        assert_eq!(run(&[1000, 1021, 1039, 1062, 1080]), [1000, 1020, 1040, 1060, 1080]);
    }

    #[test]
    fn a_clock_that_jumps_back_never_takes_time_back() {
        let out = run(&[5000, 5020, 5040, 100, 120, 140, 5000]);
        assert!(out.windows(2).all(|w| w[1] > w[0]), "{out:?}");
        assert_eq!(out, [5000, 5020, 5040, 5060, 5080, 5100, 5120 + (5000 - 160)]);
    }

    #[test]
    fn a_gap_forward_is_followed() {
        assert_eq!(run(&[0, 20, 40, 1040, 1060]), [0, 20, 40, 1040, 1060]);
    }

    #[test]
    fn pending_samples_keep_their_place_before_a_gap() {
        let mut timeline = Timeline::new(48_000);
        timeline.observe(MediaTime::from_millis(0), 0);
        assert_eq!(ms(timeline.stamp(960)), 0);
        // 480 samples (10 ms) are buffered when input 500 ms later arrives.
        let placed = timeline.observe(MediaTime::from_millis(500), 480);
        assert_eq!(ms(placed), 500);
        assert_eq!(ms(timeline.stamp(960)), 490);
    }
}
