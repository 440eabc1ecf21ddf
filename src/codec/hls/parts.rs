//! Low-Latency HLS partial segments: where a part ends inside a segment.
//!
//! A part closes before the frame that would carry it past the part target, estimating that
//! frame's own length from the last interval seen on its track, so parts stay at or under the
//! target (the spec asks part durations not to exceed PART-TARGET). Segment cuts close the open
//! part too; they are the segmenter's decision (`segmenter.rs`).

use std::time::Duration;

use super::segmenter::between;
use crate::media::{MediaKind, MediaTime};

/// A closed partial segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Position inside its segment, from 0.
    pub index: u32,
    pub duration: Duration,
    /// Starts with a frame a decoder can start from.
    pub independent: bool,
}

/// Cuts parts for the segment being written; interval estimates survive segment cuts.
#[derive(Debug, Clone)]
pub struct PartCutter {
    target: Duration,
    /// The open part: start time, whether it is independent, whether it holds video yet.
    open: Option<(MediaTime, bool, bool)>,
    n_closed: u32,
    last_dts: [Option<MediaTime>; 2],
    interval: [Duration; 2],
}

fn slot(kind: MediaKind) -> usize {
    match kind {
        MediaKind::Video => 0,
        MediaKind::Audio => 1,
    }
}

impl PartCutter {
    pub fn new(target: Duration) -> PartCutter {
        PartCutter { target, open: None, n_closed: 0, last_dts: [None; 2], interval: [Duration::ZERO; 2] }
    }

    pub fn target(&self) -> Duration {
        self.target
    }

    /// Parts closed so far in the current segment.
    pub fn n_closed(&self) -> u32 {
        self.n_closed
    }

    /// Called before a frame is written; returns the part that ends before it, if any.
    pub fn before_frame(&mut self, kind: MediaKind, dts: MediaTime, random_access: bool) -> Option<Part> {
        if let Some(last) = self.last_dts[slot(kind)] {
            let interval = between(last, dts);
            if !interval.is_zero() {
                self.interval[slot(kind)] = interval;
            }
        }
        self.last_dts[slot(kind)] = Some(dts);
        let is_video = kind == MediaKind::Video;
        let Some((start, independent, has_video)) = self.open else {
            self.open = Some((dts, random_access, is_video));
            return None;
        };
        let elapsed = between(start, dts);
        if elapsed.is_zero() || elapsed + self.interval[slot(kind)] <= self.target {
            // A part opened by audio is independent when its first video frame is a keyframe.
            if is_video && !has_video {
                self.open = Some((start, independent || random_access, true));
            }
            return None;
        }
        self.open = Some((dts, random_access, is_video));
        Some(self.close(elapsed, independent))
    }

    /// Closes the open part at `end` because its segment ends there; the next frame opens part 0
    /// of the next segment.
    pub fn end_segment(&mut self, end: MediaTime) -> Option<Part> {
        let part = self.open.take().and_then(|(start, independent, _)| {
            let elapsed = between(start, end);
            (!elapsed.is_zero()).then(|| self.close(elapsed, independent))
        });
        self.n_closed = 0;
        part
    }

    fn close(&mut self, duration: Duration, independent: bool) -> Part {
        let part = Part { index: self.n_closed, duration, independent };
        self.n_closed += 1;
        part
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_stay_under_the_target_at_25_fps() {
        let mut cutter = PartCutter::new(Duration::from_millis(500));
        let mut parts = Vec::new();
        for i in 0..50 {
            let dts = MediaTime::from_millis(i * 40);
            if let Some(part) = cutter.before_frame(MediaKind::Video, dts, i % 25 == 0) {
                parts.push(part);
            }
        }
        assert_eq!(parts.len(), 4);
        assert!(parts.iter().all(|p| p.duration <= Duration::from_millis(500)), "{parts:?}");
        assert_eq!(parts[0], Part { index: 0, duration: Duration::from_millis(480), independent: true });
        assert!(!parts[1].independent);
        let last = cutter.end_segment(MediaTime::from_millis(2000)).expect("open part closes");
        assert_eq!(last.index, 4);
        assert_eq!(cutter.n_closed(), 0);
    }
}
