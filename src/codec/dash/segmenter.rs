//! Cutting a stream into DASH media segments: one fMP4 fragment per track and segment, video and
//! audio as separate representations (each with its own init segment and files), both numbered by
//! one shared counter so segment `n` of each covers about the same time.
//!
//! Cuts follow SRS's rules: with video, a segment ends at the first keyframe at least `fragment`
//! after its start (the keyframe opens the next one); audio-only streams cut on duration. Audio
//! frames are assigned by time to the segment the video cut decided, so an audio segment is closed
//! when the first audio frame past the cut arrives (that frame also gives its exact duration).
//! When video stalls for three fragments, both tracks are cut anyway and video waits for the next
//! keyframe, which bounds what is held in memory. No files and no clock here: the caller writes the
//! bytes and keeps the MPD window (`presentation.rs`).

use std::collections::VecDeque;

use bytes::Bytes;

use super::error::DashError;
use crate::codec::mp4::{FragmentWriter, NextDecodeTimes};
use crate::media::{AudioTrack, Frame, MediaKind, MediaTime, StreamDescription, Timebase, VideoTrack};

/// A segment stalled this many fragments long is cut without waiting for a keyframe.
const STALL_FRAGMENTS: i64 = 3;
/// Frames held per track before a cut is forced, whatever the timestamps say.
const MAX_PENDING_FRAMES: usize = 20_000;

/// What the segmenter asks its caller to store or know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmenterOutput {
    /// A track (re)starts: its init segment and description; earlier segments of that kind used
    /// another configuration.
    Init(InitSegment),
    Segment(MediaSegment),
    /// A track of the description that cannot be written; its frames are dropped.
    TrackSkipped {
        kind: MediaKind,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitSegment {
    pub track: TrackDescription,
    pub timebase: Timebase,
    pub bytes: Bytes,
}

/// The single track of a representation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackDescription {
    Video(VideoTrack),
    Audio(AudioTrack),
}

impl TrackDescription {
    pub fn kind(&self) -> MediaKind {
        match self {
            TrackDescription::Video(_) => MediaKind::Video,
            TrackDescription::Audio(_) => MediaKind::Audio,
        }
    }

    fn stream_description(&self) -> StreamDescription {
        match self {
            TrackDescription::Video(video) => StreamDescription { video: Some(video.clone()), audio: None },
            TrackDescription::Audio(audio) => StreamDescription { video: None, audio: Some(audio.clone()) },
        }
    }
}

/// One `moof`+`mdat` of one track, with its place on the track's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSegment {
    pub kind: MediaKind,
    pub number: u64,
    /// Decode time of the first sample, in the track's timescale (the `tfdt`).
    pub start: u64,
    /// In the track's timescale.
    pub duration: u64,
    pub timebase: Timebase,
    pub n_frames: usize,
    pub bytes: Bytes,
}

#[derive(Debug)]
struct TrackState {
    track: TrackDescription,
    writer: FragmentWriter,
    timebase: Timebase,
    pending: Vec<Frame>,
    /// Duration of the last sample written, used when a segment ends with nothing after it.
    last_sample_ticks: u64,
    /// Decode time of the last frame taken, to refuse frames that go back in time.
    last_dts: Option<MediaTime>,
}

/// Turns descriptions and frames into init and media segments.
#[derive(Debug)]
pub struct DashSegmenter {
    fragment: MediaTime,
    video: Option<TrackState>,
    audio: Option<TrackState>,
    /// Decode time where the segment being gathered started; `None` before the first frame.
    segment_start: Option<MediaTime>,
    /// Number of the segment being gathered.
    number: u64,
    /// Cuts decided by video that audio has not reached yet: (segment number, cut time).
    audio_cuts: VecDeque<(u64, MediaTime)>,
    waiting_keyframe: bool,
    last_video_dts: Option<MediaTime>,
    origin: Option<MediaTime>,
}

impl DashSegmenter {
    /// A segmenter cutting at `fragment` (at least), numbering from `first_number`.
    pub fn new(fragment: MediaTime, first_number: u64) -> DashSegmenter {
        DashSegmenter {
            fragment,
            video: None,
            audio: None,
            segment_start: None,
            number: first_number,
            audio_cuts: VecDeque::new(),
            waiting_keyframe: true,
            last_video_dts: None,
            origin: None,
        }
    }

    /// Decode time of the first frame taken: media time zero of the presentation.
    pub fn origin(&self) -> Option<MediaTime> {
        self.origin
    }

    /// Takes a (new) stream description. Changed tracks end the current segment and get a new
    /// init segment; unchanged ones carry on.
    pub fn push_description(&mut self, description: &StreamDescription) -> Vec<SegmenterOutput> {
        let wanted = [
            description.video.clone().map(TrackDescription::Video),
            description.audio.clone().map(TrackDescription::Audio),
        ];
        let current = [self.video.as_ref().map(|t| &t.track), self.audio.as_ref().map(|t| &t.track)];
        if wanted.iter().map(Option::as_ref).eq(current) {
            return Vec::new();
        }
        let mut outputs = self.flush();
        for (slot, track) in [&mut self.video, &mut self.audio].into_iter().zip(wanted) {
            if slot.as_ref().map(|state| &state.track) == track.as_ref() {
                continue;
            }
            *slot = None;
            let Some(track) = track else { continue };
            match start_track(&track) {
                Ok((state, init)) => {
                    outputs.push(SegmenterOutput::Init(init));
                    *slot = Some(state);
                }
                Err(error) => outputs
                    .push(SegmenterOutput::TrackSkipped { kind: track.kind(), reason: error.to_string() }),
            }
        }
        self.waiting_keyframe = self.video.is_some();
        outputs
    }

    /// Takes one frame; returns the segments it completed.
    /// A frame whose decode time goes backwards is refused (and dropped) without harming what is held.
    pub fn push_frame(&mut self, frame: Frame) -> Result<Vec<SegmenterOutput>, DashError> {
        let state = match frame.kind() {
            MediaKind::Video => self.video.as_mut(),
            MediaKind::Audio => self.audio.as_mut(),
        };
        if let Some(state) = state {
            match state.last_dts {
                Some(previous) if frame.dts < previous => {
                    return Err(DashError::DecodeTimeBackwards {
                        kind: frame.kind(),
                        previous,
                        current: frame.dts,
                    })
                }
                _ if frame.codec == state.track_codec() => state.last_dts = Some(frame.dts),
                _ => {}
            }
        }
        match frame.kind() {
            MediaKind::Video => self.push_video(frame),
            MediaKind::Audio => self.push_audio(frame),
        }
    }

    /// Ends the stream: every frame still held becomes a segment.
    pub fn finish(&mut self) -> Vec<SegmenterOutput> {
        self.flush()
    }

    fn push_video(&mut self, frame: Frame) -> Result<Vec<SegmenterOutput>, DashError> {
        let Some(video) = self.video.as_ref() else { return Ok(Vec::new()) };
        if frame.codec != video.track_codec() || (self.waiting_keyframe && !frame.keyframe) {
            return Ok(Vec::new());
        }
        let n_pending = video.pending.len();
        self.waiting_keyframe = false;
        let start = self.begin(frame.dts);
        let mut outputs = Vec::new();
        let long_enough = frame.dts - start >= self.fragment;
        if frame.keyframe && long_enough && n_pending > 0 {
            outputs.extend(self.cut_at_video_keyframe(frame.dts)?);
        } else if n_pending >= MAX_PENDING_FRAMES {
            outputs = self.flush();
            if !frame.keyframe {
                self.waiting_keyframe = true;
                return Ok(outputs);
            }
            self.begin(frame.dts);
        }
        self.last_video_dts = Some(frame.dts);
        if let Some(video) = self.video.as_mut() {
            video.pending.push(frame);
        }
        Ok(outputs)
    }

    fn push_audio(&mut self, frame: Frame) -> Result<Vec<SegmenterOutput>, DashError> {
        let Some(audio) = self.audio.as_ref() else { return Ok(Vec::new()) };
        if frame.codec != audio.track_codec() {
            return Ok(Vec::new());
        }
        let start = self.begin(frame.dts);
        let mut outputs = Vec::new();
        while let Some(&(number, cut)) = self.audio_cuts.front() {
            if frame.dts < cut {
                break;
            }
            self.audio_cuts.pop_front();
            outputs.extend(self.emit(MediaKind::Audio, number, Some(frame.dts))?);
        }
        let pending = self.audio.as_ref().map_or(0, |audio| audio.pending.len());
        let elapsed = frame.dts - start;
        if self.video.is_none() && elapsed >= self.fragment && pending > 0 {
            outputs.extend(self.emit(MediaKind::Audio, self.number, Some(frame.dts))?);
            self.number += 1;
            self.segment_start = Some(frame.dts);
        } else if self.video_stalled(frame.dts, start) || pending >= MAX_PENDING_FRAMES {
            outputs.extend(self.flush());
            self.waiting_keyframe = self.video.is_some();
            self.segment_start = Some(frame.dts);
        }
        if let Some(audio) = self.audio.as_mut() {
            audio.pending.push(frame);
        }
        Ok(outputs)
    }

    /// Video is expected but none came for `STALL_FRAGMENTS` fragments.
    fn video_stalled(&self, now: MediaTime, segment_start: MediaTime) -> bool {
        let since = self.last_video_dts.unwrap_or(segment_start).max(segment_start);
        self.video.is_some() && (now - since).as_millis() >= self.fragment.as_millis() * STALL_FRAGMENTS
    }

    /// Notes the first frame's time; returns the start of the current segment.
    fn begin(&mut self, dts: MediaTime) -> MediaTime {
        self.origin.get_or_insert(dts);
        *self.segment_start.get_or_insert(dts)
    }

    fn cut_at_video_keyframe(&mut self, cut: MediaTime) -> Result<Vec<SegmenterOutput>, DashError> {
        let outputs = self.emit(MediaKind::Video, self.number, Some(cut))?;
        if self.audio.is_some() {
            self.audio_cuts.push_back((self.number, cut));
        }
        self.number += 1;
        self.segment_start = Some(cut);
        Ok(outputs)
    }

    /// Everything held becomes segments: audio goes to the oldest cut it has not reached.
    fn flush(&mut self) -> Vec<SegmenterOutput> {
        let mut outputs = Vec::new();
        if self.segment_start.is_none() {
            return outputs;
        }
        let audio_number = self.audio_cuts.front().map_or(self.number, |(number, _)| *number);
        self.audio_cuts.clear();
        for (kind, number) in [(MediaKind::Video, self.number), (MediaKind::Audio, audio_number)] {
            match self.emit(kind, number, None) {
                Ok(segments) => outputs.extend(segments),
                Err(error) => tracing::warn!("dash: dropping the last {kind} frames: {error}"),
            }
        }
        self.number += 1;
        self.segment_start = None;
        outputs
    }

    /// Writes the pending frames of `kind` as segment `number` (nothing when none are pending).
    fn emit(
        &mut self,
        kind: MediaKind,
        number: u64,
        next: Option<MediaTime>,
    ) -> Result<Vec<SegmenterOutput>, DashError> {
        let state = match kind {
            MediaKind::Video => self.video.as_mut(),
            MediaKind::Audio => self.audio.as_mut(),
        };
        let Some(state) = state else { return Ok(Vec::new()) };
        if state.pending.is_empty() {
            return Ok(Vec::new());
        }
        let frames = std::mem::take(&mut state.pending);
        let ticks = |time: MediaTime| time.rescale(state.timebase).ticks();
        let first = ticks(frames[0].dts);
        let last = ticks(frames[frames.len() - 1].dts);
        let end = match next {
            Some(next) => ticks(next),
            None => last + state.last_sample_ticks as i64,
        };
        if frames.len() > 1 {
            state.last_sample_ticks = u64::try_from(last - ticks(frames[frames.len() - 2].dts)).unwrap_or(0);
        }
        let refs: Vec<&Frame> = frames.iter().collect();
        let next_times = match kind {
            MediaKind::Video => NextDecodeTimes { video: next, audio: None },
            MediaKind::Audio => NextDecodeTimes { video: None, audio: next },
        };
        let (video, audio): (&[&Frame], &[&Frame]) = match kind {
            MediaKind::Video => (&refs, &[]),
            MediaKind::Audio => (&[], &refs),
        };
        // The mfhd sequence number is 32 bits; players only need it to increase within a track.
        let bytes = state.writer.fragment_until(number as u32, video, audio, next_times)?;
        Ok(vec![SegmenterOutput::Segment(MediaSegment {
            kind,
            number,
            start: u64::try_from(first).unwrap_or(0),
            duration: u64::try_from(end - first).unwrap_or(0),
            timebase: state.timebase,
            n_frames: frames.len(),
            bytes,
        })])
    }
}

impl TrackState {
    fn track_codec(&self) -> crate::media::Codec {
        match &self.track {
            TrackDescription::Video(video) => video.codec,
            TrackDescription::Audio(audio) => audio.codec,
        }
    }
}

fn start_track(track: &TrackDescription) -> Result<(TrackState, InitSegment), DashError> {
    let writer = FragmentWriter::new(&track.stream_description())?;
    let bytes = writer.init_segment()?;
    let timebase = writer.timebase(track.kind()).unwrap_or(Timebase::MPEG);
    let init = InitSegment { track: track.clone(), timebase, bytes };
    let state = TrackState {
        track: track.clone(),
        writer,
        timebase,
        pending: Vec::new(),
        last_sample_ticks: 0,
        last_dts: None,
    };
    Ok((state, init))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Codec;

    fn description(video: bool, audio: bool) -> StreamDescription {
        let fixture = |name: &str| Bytes::from(std::fs::read(format!("tests/fixtures/bits/{name}")).unwrap());
        StreamDescription {
            video: video.then(|| VideoTrack {
                codec: Codec::H264,
                config: fixture("high_320x240.avcc"),
                width: 320,
                height: 240,
                profile: "High".into(),
                level: "3.1".into(),
            }),
            audio: audio.then(|| AudioTrack {
                codec: Codec::Aac,
                config: fixture("lc_44100_stereo.asc"),
                sample_rate: 44_100,
                channels: 2,
                profile: "LC".into(),
            }),
        }
    }

    fn frame(codec: Codec, ms: i64, keyframe: bool) -> Frame {
        let time = MediaTime::from_millis(ms);
        Frame { codec, dts: time, pts: time, keyframe, data: Bytes::from_static(&[0, 0, 0, 1, 0x65]) }
    }

    /// 25 fps video with a keyframe every second and 20 ms audio frames, interleaved by time.
    fn frames_until(end_ms: i64) -> Vec<Frame> {
        let mut frames = Vec::new();
        for ms in 0..end_ms {
            if ms % 40 == 0 {
                frames.push(frame(Codec::H264, ms, ms % 1000 == 0));
            }
            if ms % 20 == 0 {
                frames.push(frame(Codec::Aac, ms, true));
            }
        }
        frames
    }

    fn segments(outputs: &[SegmenterOutput]) -> Vec<&MediaSegment> {
        outputs
            .iter()
            .filter_map(|o| match o {
                SegmenterOutput::Segment(segment) => Some(segment),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn video_cuts_at_keyframes_and_audio_follows_the_cut_time() {
        let mut segmenter = DashSegmenter::new(MediaTime::from_millis(2000), 1);
        let mut outputs = segmenter.push_description(&description(true, true));
        assert_eq!(outputs.iter().filter(|o| matches!(o, SegmenterOutput::Init(_))).count(), 2);
        for frame in frames_until(6000) {
            outputs.extend(segmenter.push_frame(frame).unwrap());
        }
        outputs.extend(segmenter.finish());
        let all = segments(&outputs);
        let video: Vec<_> = all.iter().filter(|s| s.kind == MediaKind::Video).collect();
        let audio: Vec<_> = all.iter().filter(|s| s.kind == MediaKind::Audio).collect();
        assert_eq!(video.iter().map(|s| s.number).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(audio.iter().map(|s| s.number).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(
            video.iter().map(|s| (s.start, s.duration)).collect::<Vec<_>>(),
            [(0, 180_000), (180_000, 180_000), (360_000, 180_000)]
        );
        assert_eq!(video.iter().map(|s| s.n_frames).collect::<Vec<_>>(), [50, 50, 50]);
        // Audio at 44.1 kHz: the segment ends where the first frame past the cut begins.
        assert_eq!(
            audio.iter().map(|s| (s.start, s.duration)).collect::<Vec<_>>(),
            [(0, 88_200), (88_200, 88_200), (176_400, 88_200)]
        );
        assert_eq!(audio.iter().map(|s| s.n_frames).collect::<Vec<_>>(), [100, 100, 100]);
    }

    #[test]
    fn leading_non_keyframes_are_dropped_and_audio_only_cuts_on_duration() {
        let mut segmenter = DashSegmenter::new(MediaTime::from_millis(1000), 7);
        segmenter.push_description(&description(true, false));
        assert!(segmenter.push_frame(frame(Codec::H264, 0, false)).unwrap().is_empty());
        assert_eq!(segmenter.origin(), None, "a frame before the first keyframe is not taken");
        let mut audio_only = DashSegmenter::new(MediaTime::from_millis(1000), 1);
        audio_only.push_description(&description(false, true));
        let mut outputs = Vec::new();
        for ms in (0..3000).step_by(20) {
            outputs.extend(audio_only.push_frame(frame(Codec::Aac, ms, true)).unwrap());
        }
        let cut = segments(&outputs);
        assert_eq!(cut.iter().map(|s| (s.number, s.n_frames)).collect::<Vec<_>>(), [(1, 50), (2, 50)]);
    }

    #[test]
    fn a_changed_description_ends_the_segment_and_restarts_the_track() {
        let mut segmenter = DashSegmenter::new(MediaTime::from_millis(2000), 1);
        segmenter.push_description(&description(true, true));
        for frame in frames_until(1000) {
            segmenter.push_frame(frame).unwrap();
        }
        assert!(segmenter.push_description(&description(true, true)).is_empty(), "same tracks: no change");
        let outputs = segmenter.push_description(&description(true, false));
        let flushed = segments(&outputs);
        assert_eq!(
            flushed.iter().map(|s| (s.kind, s.number)).collect::<Vec<_>>(),
            [(MediaKind::Video, 1), (MediaKind::Audio, 1)]
        );
        assert!(!outputs.iter().any(|o| matches!(o, SegmenterOutput::Init(_))), "video is unchanged");
        assert!(segmenter.push_frame(frame(Codec::Aac, 1000, true)).unwrap().is_empty());
        assert!(segmenter.push_frame(frame(Codec::H264, 1040, false)).unwrap().is_empty());
    }

    #[test]
    fn a_frame_back_in_time_is_refused_and_the_segment_survives() {
        let mut segmenter = DashSegmenter::new(MediaTime::from_millis(1000), 1);
        segmenter.push_description(&description(false, true));
        for ms in [0, 20, 40] {
            segmenter.push_frame(frame(Codec::Aac, ms, true)).unwrap();
        }
        let refused = segmenter.push_frame(frame(Codec::Aac, 30, true));
        assert!(matches!(refused, Err(DashError::DecodeTimeBackwards { kind: MediaKind::Audio, .. })));
        let outputs = segmenter.finish();
        assert_eq!(segments(&outputs).iter().map(|s| s.n_frames).collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn stalled_video_still_cuts_on_audio() {
        let mut segmenter = DashSegmenter::new(MediaTime::from_millis(1000), 1);
        segmenter.push_description(&description(true, true));
        segmenter.push_frame(frame(Codec::H264, 0, true)).unwrap();
        let mut outputs = Vec::new();
        for ms in (0..3100).step_by(20) {
            outputs.extend(segmenter.push_frame(frame(Codec::Aac, ms, true)).unwrap());
        }
        let cut = segments(&outputs);
        assert_eq!(
            cut.iter().map(|s| (s.kind, s.number)).collect::<Vec<_>>(),
            [(MediaKind::Video, 1), (MediaKind::Audio, 1)]
        );
    }
}
