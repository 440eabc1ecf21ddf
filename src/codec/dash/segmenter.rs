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
    pub fn push_frame(&mut self, frame: Frame) -> Result<Vec<SegmenterOutput>, DashError> {
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
    let state =
        TrackState { track: track.clone(), writer, timebase, pending: Vec::new(), last_sample_ticks: 0 };
    Ok((state, init))
}
