//! SRS's segment cutting rules (srs_app_hls.cpp, srs_app_fragment.cpp), as a state machine fed
//! with frame timestamps.
//!
//! - The open segment's duration is updated from each frame's decode time *before* the cut is
//!   decided, so a closed segment spans from its first frame to the frame that starts the next.
//! - Video-driven cut: duration ≥ 200 ms and ≥ hls_fragment × hls_td_ratio (SRS 7 semantics),
//!   only on a keyframe when `wait_keyframe`. Audio-driven cut: duration ≥ hls_aof_ratio ×
//!   hls_fragment, keyframe or not (pure audio, or video that stopped).
//! - A closing segment under 100 ms is dropped and its sequence number reused.
//! - The window walks kept segments newest to oldest; once the running sum passes `window`, every
//!   segment older than the one that passed it expires (so a little more than the window stays).
//! - A discontinuity mark (new publish, new sequence header) goes on the open segment, or on the
//!   next one when none is open.
//!
//! `M` is whatever the caller attaches to a segment when it opens (file names, wall-clock time).

use std::collections::VecDeque;
use std::time::Duration;

use super::parts::{Part, PartCutter};
use crate::media::{MediaKind, MediaTime};

/// Segments shorter than this are dropped when they close (SRS's acceptance rule).
pub const MIN_SEGMENT_DURATION: Duration = Duration::from_millis(100);
/// A video-driven cut never makes a segment shorter than this.
const MIN_VIDEO_CUT: Duration = Duration::from_millis(200);

/// The time from `from` to `to`, in whole milliseconds; zero when `to` is not later.
pub(super) fn between(from: MediaTime, to: MediaTime) -> Duration {
    Duration::from_millis(u64::try_from((to - from).as_millis()).unwrap_or(0))
}

/// `seconds × ratio` as a duration; absurd values saturate instead of panicking.
fn scaled(base: Duration, ratio: f64) -> Duration {
    Duration::try_from_secs_f64(base.as_secs_f64() * ratio).unwrap_or(if ratio > 0.0 {
        Duration::MAX
    } else {
        Duration::ZERO
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmenterConfig {
    /// `hls_fragment`.
    pub fragment: Duration,
    /// `hls_td_ratio`: the video cut threshold and target duration are fragment × ratio.
    pub td_ratio: f64,
    /// `hls_aof_ratio`: audio-driven cuts at fragment × ratio.
    pub aof_ratio: f64,
    /// `hls_window`.
    pub window: Duration,
    /// `hls_wait_keyframe`.
    pub wait_keyframe: bool,
    /// LL-HLS part target, when parts are cut.
    pub part_target: Option<Duration>,
}

impl SegmenterConfig {
    /// SRS's `max_td`: the video cut threshold and the floor of EXT-X-TARGETDURATION.
    pub fn max_td(&self) -> Duration {
        scaled(self.fragment, self.td_ratio)
    }

    /// The audio-driven ("absolutely overflow") threshold.
    pub fn audio_overflow(&self) -> Duration {
        scaled(self.fragment, self.aof_ratio)
    }
}

/// A closed, kept segment (or the one being written, while open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment<M> {
    pub seq: u64,
    pub start: MediaTime,
    pub duration: Duration,
    pub discontinuity: bool,
    /// LL-HLS parts, in order (empty without parts).
    pub parts: Vec<Part>,
    pub meta: M,
}

/// What happened to the segment that closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed<M> {
    /// Listed; `expired` left the window (oldest first).
    Kept { segment: Segment<M>, expired: Vec<Segment<M>> },
    /// Too short: not listed, its sequence number goes to the next segment.
    Dropped { segment: Segment<M> },
}

/// The outcome of one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<M> {
    /// The segment that ended before this frame.
    pub closed: Option<Closed<M>>,
    /// A part of the open segment that ended before this frame.
    pub part_closed: Option<Part>,
    /// This frame opened a new segment (it is its first frame).
    pub opened: bool,
}

/// Cuts a stream into segments and keeps the live window.
#[derive(Debug, Clone)]
pub struct Segmenter<M> {
    config: SegmenterConfig,
    segments: VecDeque<Segment<M>>,
    open: Option<Segment<M>>,
    parts: Option<PartCutter>,
    next_seq: u64,
    discontinuity_pending: bool,
    /// Discontinuities that left the window (EXT-X-DISCONTINUITY-SEQUENCE).
    discontinuity_sequence: u64,
}

impl<M: Clone> Segmenter<M> {
    pub fn new(config: SegmenterConfig) -> Segmenter<M> {
        Segmenter {
            config,
            segments: VecDeque::new(),
            open: None,
            parts: config.part_target.map(PartCutter::new),
            next_seq: 0,
            discontinuity_pending: false,
            discontinuity_sequence: 0,
        }
    }

    pub fn config(&self) -> &SegmenterConfig {
        &self.config
    }

    /// Kept segments in the window, oldest first.
    pub fn segments(&self) -> impl ExactSizeIterator<Item = &Segment<M>> + DoubleEndedIterator {
        self.segments.iter()
    }

    /// The segment being written, with its parts so far.
    pub fn open_segment(&self) -> Option<&Segment<M>> {
        self.open.as_ref()
    }

    /// The first sequence number listed (EXT-X-MEDIA-SEQUENCE).
    pub fn media_sequence(&self) -> u64 {
        self.segments.front().map_or_else(|| self.open.as_ref().map_or(self.next_seq, |s| s.seq), |s| s.seq)
    }

    /// How many `#EXT-X-DISCONTINUITY` tags have left the window (EXT-X-DISCONTINUITY-SEQUENCE):
    /// a player keeps its timelines apart by it, as segments with discontinuities slide out.
    pub fn discontinuity_sequence(&self) -> u64 {
        self.discontinuity_sequence
    }

    /// A new publish or a new sequence header: `#EXT-X-DISCONTINUITY` before the open segment
    /// (or the next one).
    pub fn mark_discontinuity(&mut self) {
        match &mut self.open {
            Some(segment) => segment.discontinuity = true,
            None => self.discontinuity_pending = true,
        }
    }

    /// Places one frame. `random_access`: a video keyframe, or any frame of an audio-only stream.
    pub fn push(
        &mut self,
        kind: MediaKind,
        dts: MediaTime,
        keyframe: bool,
        random_access: bool,
        open: impl FnOnce(u64) -> M,
    ) -> Step<M> {
        let mut step = Step { closed: None, part_closed: None, opened: false };
        if let Some(segment) = &mut self.open {
            if dts < segment.start {
                segment.start = dts;
            }
            segment.duration = segment.duration.max(between(segment.start, dts));
            let cut = match kind {
                MediaKind::Video => {
                    segment.duration >= MIN_VIDEO_CUT
                        && segment.duration >= self.config.max_td()
                        && (!self.config.wait_keyframe || keyframe)
                }
                MediaKind::Audio => segment.duration >= self.config.audio_overflow(),
            };
            if cut {
                step.closed = self.close_at(dts);
            }
        }
        if self.open.is_none() {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.open = Some(Segment {
                seq,
                start: dts,
                duration: Duration::ZERO,
                discontinuity: std::mem::take(&mut self.discontinuity_pending),
                parts: Vec::new(),
                meta: open(seq),
            });
            step.opened = true;
        }
        if let (Some(cutter), Some(segment)) = (&mut self.parts, &mut self.open) {
            if let Some(part) = cutter.before_frame(kind, dts, random_access) {
                segment.parts.push(part.clone());
                step.part_closed = Some(part);
            }
        }
        step
    }

    /// Closes the open segment where its last frame ended (end of stream, or a forced cut such
    /// as an fMP4 codec change). The next frame opens a new segment.
    pub fn close(&mut self) -> Option<Closed<M>> {
        let end =
            self.open.as_ref().map(|s| s.start + MediaTime::from_millis(s.duration.as_millis() as i64))?;
        self.close_at(end)
    }

    /// The open segment could not be written (a full disk): it is forgotten, not listed; its
    /// sequence number goes to the next segment, which follows a discontinuity.
    pub fn abandon_open(&mut self) -> Option<Segment<M>> {
        let segment = self.open.take()?;
        if let Some(cutter) = &mut self.parts {
            let _ = cutter.end_segment(segment.start);
        }
        self.next_seq = segment.seq;
        self.discontinuity_pending = true;
        Some(segment)
    }

    /// The newest listed segment, `seq`, could not be finished on disk: it leaves the list (so
    /// no playlist names a file that is not there) and a discontinuity follows.
    pub fn unlist_newest(&mut self, seq: u64) -> Option<Segment<M>> {
        if self.segments.back().is_none_or(|s| s.seq != seq) {
            return None;
        }
        let segment = self.segments.pop_back();
        self.mark_discontinuity();
        segment
    }

    /// Forgets every listed segment (hls_dispose); sequence numbers keep counting.
    pub fn clear(&mut self) -> Vec<Segment<M>> {
        let cleared: Vec<Segment<M>> = self.segments.drain(..).collect();
        self.count_discontinuities(&cleared);
        cleared
    }

    fn count_discontinuities(&mut self, gone: &[Segment<M>]) {
        self.discontinuity_sequence += gone.iter().filter(|s| s.discontinuity).count() as u64;
    }

    fn close_at(&mut self, end: MediaTime) -> Option<Closed<M>> {
        let mut segment = self.open.take()?;
        if let Some(part) = self.parts.as_mut().and_then(|cutter| cutter.end_segment(end)) {
            segment.parts.push(part);
        }
        if segment.duration < MIN_SEGMENT_DURATION {
            self.next_seq = segment.seq;
            // Its discontinuity still happened: the segment taking its number carries it.
            self.discontinuity_pending |= segment.discontinuity;
            return Some(Closed::Dropped { segment });
        }
        self.segments.push_back(segment.clone());
        let expired = self.shrink();
        Some(Closed::Kept { segment, expired })
    }

    fn shrink(&mut self) -> Vec<Segment<M>> {
        let mut total = Duration::ZERO;
        let mut remove_before = 0;
        for (idx, segment) in self.segments.iter().enumerate().rev() {
            total += segment.duration;
            if total > self.config.window {
                remove_before = idx;
                break;
            }
        }
        let expired: Vec<Segment<M>> = self.segments.drain(..remove_before).collect();
        self.count_discontinuities(&expired);
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(fragment_ms: u64, window_ms: u64) -> SegmenterConfig {
        SegmenterConfig {
            fragment: Duration::from_millis(fragment_ms),
            td_ratio: 1.0,
            aof_ratio: 2.1,
            window: Duration::from_millis(window_ms),
            wait_keyframe: true,
            part_target: None,
        }
    }

    /// Feeds 25 fps video with a keyframe every `gop` frames; returns the kept segments.
    fn feed_video(segmenter: &mut Segmenter<()>, frames: std::ops::Range<i64>, gop: i64) -> Vec<Segment<()>> {
        let mut kept = Vec::new();
        for i in frames {
            let keyframe = i % gop == 0;
            let step =
                segmenter.push(MediaKind::Video, MediaTime::from_millis(i * 40), keyframe, keyframe, |_| ());
            if let Some(Closed::Kept { segment, .. }) = step.closed {
                kept.push(segment);
            }
        }
        kept
    }

    #[test]
    fn video_cuts_at_the_first_keyframe_past_the_fragment() {
        let mut segmenter = Segmenter::new(config(2000, 60_000));
        // Keyframes every 1.2 s: 0, 1.2, 2.4, 3.6, 4.8 ... the first past 2 s is 2.4.
        let kept = feed_video(&mut segmenter, 0..125, 30);
        let durations: Vec<u128> = kept.iter().map(|s| s.duration.as_millis()).collect();
        assert_eq!(durations[..2], [2400, 2400]);
        assert!(kept.iter().all(|s| s.duration >= Duration::from_millis(2000)));
        assert_eq!(
            kept.iter().map(|s| s.seq).collect::<Vec<_>>(),
            (0..kept.len() as u64).collect::<Vec<_>>()
        );
    }

    #[test]
    fn without_wait_keyframe_video_cuts_anywhere() {
        let mut segmenter = Segmenter::new(SegmenterConfig { wait_keyframe: false, ..config(1000, 60_000) });
        let kept = feed_video(&mut segmenter, 0..100, 1000);
        assert!(kept.iter().all(|s| s.duration == Duration::from_millis(1000)), "{kept:?}");
    }

    #[test]
    fn pure_audio_cuts_at_the_aof_ratio() {
        let mut segmenter: Segmenter<()> = Segmenter::new(config(2000, 60_000));
        let mut kept = Vec::new();
        for i in 0..500 {
            // AAC at 44.1 kHz: 1024 samples ≈ 23.2 ms.
            let dts = MediaTime::from_millis(i * 1024 * 1000 / 44100);
            if let Some(Closed::Kept { segment, .. }) =
                segmenter.push(MediaKind::Audio, dts, false, true, |_| ()).closed
            {
                kept.push(segment);
            }
        }
        assert!(!kept.is_empty());
        for segment in &kept {
            assert!(
                segment.duration >= Duration::from_millis(4200)
                    && segment.duration < Duration::from_millis(4230)
            );
        }
    }

    #[test]
    fn short_segments_are_dropped_and_their_number_reused() {
        let mut segmenter: Segmenter<()> = Segmenter::new(config(1000, 60_000));
        segmenter.push(MediaKind::Video, MediaTime::from_millis(0), true, true, |_| ());
        segmenter.push(MediaKind::Video, MediaTime::from_millis(40), false, false, |_| ());
        assert!(matches!(segmenter.close(), Some(Closed::Dropped { ref segment }) if segment.seq == 0));
        segmenter.push(MediaKind::Video, MediaTime::from_millis(80), true, true, |_| ());
        assert_eq!(segmenter.open_segment().map(|s| s.seq), Some(0));
    }

    #[test]
    fn window_keeps_a_little_more_than_hls_window() {
        let mut segmenter = Segmenter::new(config(1000, 3000));
        let mut expired = Vec::new();
        for i in 0..250 {
            let keyframe = i % 25 == 0;
            let step =
                segmenter.push(MediaKind::Video, MediaTime::from_millis(i * 40), keyframe, keyframe, |_| ());
            if let Some(Closed::Kept { expired: gone, .. }) = step.closed {
                expired.extend(gone.into_iter().map(|s| s.seq));
            }
        }
        // Nine 1 s segments closed; newest to oldest, the sum passes 3 s at the fourth, which stays.
        let listed: Vec<u64> = segmenter.segments().map(|s| s.seq).collect();
        assert_eq!(listed, [5, 6, 7, 8]);
        assert_eq!(expired, [0, 1, 2, 3, 4]);
        assert_eq!(segmenter.media_sequence(), 5);
    }

    #[test]
    fn discontinuities_leaving_the_window_are_counted() {
        let mut segmenter = Segmenter::new(config(1000, 3000));
        for i in 0..250 {
            // A discontinuity on segments 1 and 2 (a republish and a new sequence header).
            if i == 25 || i == 50 {
                segmenter.mark_discontinuity();
            }
            let keyframe = i % 25 == 0;
            segmenter.push(MediaKind::Video, MediaTime::from_millis(i * 40), keyframe, keyframe, |_| ());
        }
        // Segments 0-4 left the window (see above); 1 and 2 carried discontinuities.
        assert_eq!(segmenter.media_sequence(), 5);
        assert_eq!(segmenter.discontinuity_sequence(), 2);
        segmenter.close();
        segmenter.mark_discontinuity();
        segmenter.push(MediaKind::Video, MediaTime::from_millis(10_000), true, true, |_| ());
        segmenter.push(MediaKind::Video, MediaTime::from_millis(10_040), false, false, |_| ());
        // A dropped (too short) segment passes its discontinuity to the one taking its number.
        assert!(matches!(segmenter.close(), Some(Closed::Dropped { ref segment }) if segment.discontinuity));
        segmenter.push(MediaKind::Video, MediaTime::from_millis(10_080), true, true, |_| ());
        assert!(segmenter.open_segment().is_some_and(|s| s.discontinuity));
        assert!(!segmenter.clear().is_empty());
        assert_eq!(segmenter.discontinuity_sequence(), 2, "cleared segments had none");
    }

    #[test]
    fn abandoned_and_unlisted_segments_leave_no_entry_and_a_discontinuity() {
        let mut segmenter: Segmenter<()> = Segmenter::new(config(2000, 60_000));
        let at = |ms| MediaTime::from_millis(ms);
        segmenter.push(MediaKind::Video, at(0), true, true, |_| ());
        let kept = segmenter.push(MediaKind::Video, at(2000), true, true, |_| ());
        assert!(matches!(kept.closed, Some(Closed::Kept { ref segment, .. }) if segment.seq == 0));
        // Segment 1 is open; the disk fills while it is written.
        assert_eq!(segmenter.abandon_open().map(|s| s.seq), Some(1));
        assert!(segmenter.open_segment().is_none());
        let step = segmenter.push(MediaKind::Video, at(3000), true, true, |_| ());
        assert!(step.opened);
        let open = segmenter.open_segment().unwrap();
        assert_eq!((open.seq, open.discontinuity), (1, true), "the number is reused, after a discontinuity");
        // Segment 1 closes as kept but its file cannot be finished: it leaves the list.
        let step = segmenter.push(MediaKind::Video, at(5000), true, true, |_| ());
        assert!(matches!(step.closed, Some(Closed::Kept { ref segment, .. }) if segment.seq == 1));
        assert_eq!(segmenter.unlist_newest(0), None, "only the newest segment is unlisted");
        assert_eq!(segmenter.unlist_newest(1).map(|s| s.seq), Some(1));
        assert_eq!(segmenter.segments().map(|s| s.seq).collect::<Vec<_>>(), [0]);
        assert!(segmenter.open_segment().unwrap().discontinuity);
    }

    #[test]
    fn discontinuity_marks_the_open_or_next_segment() {
        let mut segmenter: Segmenter<()> = Segmenter::new(config(1000, 60_000));
        segmenter.mark_discontinuity();
        feed_video(&mut segmenter, 0..30, 25);
        assert!(segmenter.segments().next().is_some_and(|s| s.discontinuity));
        assert!(!segmenter.open_segment().is_some_and(|s| s.discontinuity));
        segmenter.mark_discontinuity();
        assert!(segmenter.open_segment().is_some_and(|s| s.discontinuity));
    }

    #[test]
    fn parts_are_cut_inside_segments_and_closed_with_them() {
        let mut segmenter: Segmenter<()> = Segmenter::new(SegmenterConfig {
            part_target: Some(Duration::from_millis(500)),
            ..config(2000, 60_000)
        });
        let kept = feed_video(&mut segmenter, 0..51, 50);
        assert_eq!(kept.len(), 1);
        let parts = &kept[0].parts;
        let total: Duration = parts.iter().map(|p| p.duration).sum();
        assert_eq!(total, kept[0].duration);
        assert!(parts[0].independent && parts.iter().skip(1).all(|p| !p.independent));
        assert!(parts.iter().all(|p| p.duration <= Duration::from_millis(500)));
    }
}
