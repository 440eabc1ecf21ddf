//! Media events to file bytes, per container (FLV, MPEG-TS, fragmented or classic MP4), with no
//! I/O: the part of `FileOut` and `Dvr` that picks and drives the codec writers.
//!
//! Every format starts its file at the first frame, with the latest description, because FLV-family
//! sources describe video and audio one sequence header at a time. A frame the container cannot take
//! (unknown codec, decode time going back) is dropped and counted, never fatal. `push` says when the
//! bytes so far end at a point a reader can stop at (a keyframe, a whole fragment): the writer flushes
//! there, so a killed process leaves a playable file.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use super::file_blocks::{InputBlocks, InputRun};
use super::file_io::BLOCK_ALIGN;
use super::flv_frames::FramesToFlv;
use super::FileFormat;
use crate::codec::amf0::Amf0Value;
use crate::codec::flv::{
    metadata_body_with_size_fields, metadata_body_without_size_fields, on_metadata, tag_bytes, FlvHeader,
    TagType, DURATION_VALUE_OFFSET, FILESIZE_VALUE_OFFSET, TAG_HEADER_LEN,
};
use crate::codec::mp4::{ClassicFinish, ClassicWriter, FilePatch, FragmentWriter, NextDecodeTimes};
use crate::codec::mpegts::TsMuxer;
use crate::media::{Codec, Frame, MediaEvent, MediaKind, MediaTime, StreamDescription};

/// How an MP4 output is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub enum Mp4Layout {
    /// `moof`+`mdat` per GOP, written as they come: a killed process leaves a playable file.
    Fragmented,
    /// One `mdat`, then `moov` written when the stream ends (the file plays only once complete).
    Classic,
    /// Classic, then rewritten with `moov` first so players can start before the whole file arrives.
    Faststart,
}

/// A fragment of an audio-only stream is cut after this much media.
const AUDIO_FRAGMENT_MS: i64 = 1000;
/// A fragment is cut after this much media even without a keyframe, bounding memory and loss.
const MAX_FRAGMENT_MS: i64 = 10_000;
/// Warnings logged per file about dropped frames before going quiet (the total is logged at the end).
const MAX_DROP_WARNINGS: u64 = 5;

/// Turns one stream's events into the bytes of one file.
#[derive(Debug)]
pub struct FileMuxer {
    container: Container,
    description: Option<Arc<StreamDescription>>,
    started: bool,
    /// Decode time of the first frame of an MP4 or FLV file: its time zero.
    timeline_start: Option<MediaTime>,
    /// Frames the container could not take.
    pub n_dropped: u64,
    /// Bytes handed out by earlier calls, and where in `out` this call's bytes start.
    n_bytes: u64,
    call_start: usize,
    /// FLV: file offset of the onMetaData tag whose `duration` and `filesize` are patched at the end.
    metadata_at: Option<u64>,
    /// FLV: per track (video, audio), the last decode time on the file's timeline and the step
    /// before it (a frame's length), and the presentation span so far (first start, last end).
    last_frames: [Option<(MediaTime, MediaTime)>; 2],
    presented: Option<(MediaTime, MediaTime)>,
    /// Where FLV and TS frames are written before being split off into `out`: once the writer has
    /// dropped the chunks, the same memory is used again, so a frame allocates nothing.
    scratch: BytesMut,
    /// FLV: the bytes a tag has in front of its frame's data, to find it unchanged in an input.
    around: BytesMut,
}

/// Bytes `FileMuxer::scratch` starts with (a few frames).
const SCRATCH_LEN: usize = 256 * 1024;

/// What ends a file: a classic MP4's `moov` and size patch, and values to write over bytes already
/// written (an FLV's duration and size).
#[derive(Debug, Default)]
pub struct Finish {
    pub classic: Option<ClassicFinish>,
    pub patches: Vec<FilePatch>,
}

#[derive(Debug)]
enum Container {
    Flv(FramesToFlv),
    Ts(Option<TsMuxer>),
    Fragmented(Option<FragmentedMp4>),
    /// The writer once the stream is described, where `mdat` must start (a multiple of), and the
    /// room kept in front of it for the `moov` (faststart in a batch run, from the input's size).
    Classic(Option<ClassicWriter>, Option<u64>, u64),
}

/// A static run of zeros: a `free` box's payload is pushed as shared slices of it, not allocated.
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

impl FileMuxer {
    pub fn new(format: FileFormat, mp4_layout: Mp4Layout) -> FileMuxer {
        FileMuxer::with_moov_room(format, mp4_layout, 0)
    }

    /// As `new`; a faststart MP4 keeps `moov_room` bytes (if not 0) in front of its media for the
    /// `moov`, which then goes there at the end without moving the media (`moov_room_for`).
    pub fn with_moov_room(format: FileFormat, mp4_layout: Mp4Layout, moov_room: u64) -> FileMuxer {
        let container = match (format, mp4_layout) {
            (FileFormat::Flv, _) => Container::Flv(FramesToFlv::default()),
            // Segmented outputs are written by `file_vod.rs`; were one to come here, it would get
            // the MPEG-TS its segments are made of.
            (FileFormat::Ts | FileFormat::Hls | FileFormat::Dash, _) => Container::Ts(None),
            (FileFormat::Mp4, Mp4Layout::Fragmented) => Container::Fragmented(None),
            (FileFormat::Mp4, Mp4Layout::Classic) => Container::Classic(None, None, 0),
            // The media starts on a file system block, so `moov` can be inserted in front of it.
            (FileFormat::Mp4, Mp4Layout::Faststart) => Container::Classic(None, Some(BLOCK_ALIGN), moov_room),
        };
        FileMuxer {
            container,
            description: None,
            started: false,
            timeline_start: None,
            n_dropped: 0,
            n_bytes: 0,
            call_start: 0,
            metadata_at: None,
            last_frames: [None, None],
            presented: None,
            scratch: BytesMut::new(),
            around: BytesMut::new(),
        }
    }

    /// Appends to `out` the bytes for `event`; `true` when the output now ends at a point a reader
    /// can stop at cleanly (flush there).
    pub fn push(&mut self, event: &MediaEvent, out: &mut Vec<Bytes>) -> bool {
        self.call_start = out.len();
        let durable = self.push_event(event, out);
        self.count(out);
        durable
    }

    fn count(&mut self, out: &[Bytes]) {
        let appended = out.get(self.call_start..).unwrap_or_default();
        self.n_bytes += appended.iter().map(|chunk| chunk.len() as u64).sum::<u64>();
        self.call_start = out.len();
    }

    /// File offset where the next byte pushed to `out` will go.
    fn position(&self, out: &[Bytes]) -> u64 {
        let appended = out.get(self.call_start..).unwrap_or_default();
        self.n_bytes + appended.iter().map(|chunk| chunk.len() as u64).sum::<u64>()
    }

    fn push_event(&mut self, event: &MediaEvent, out: &mut Vec<Bytes>) -> bool {
        match event {
            MediaEvent::Description(description) => {
                self.description = Some(Arc::clone(description));
                if self.started {
                    self.on_new_description(description, out);
                }
                false
            }
            MediaEvent::Frame(frame) => {
                if !self.started {
                    self.start(out);
                }
                match self.push_frame(frame, out) {
                    Ok(durable) => durable,
                    Err(reason) => {
                        self.dropped(frame, &reason);
                        false
                    }
                }
            }
            MediaEvent::Metadata(metadata) => {
                if !matches!(self.container, Container::Flv(_)) {
                    return false;
                }
                let object = on_metadata(&metadata.amf0).ok().flatten();
                if !self.started {
                    // The source's metadata goes into the file's first onMetaData.
                    self.started = true;
                    self.start_flv(object.as_ref(), out);
                    return false;
                }
                // A later onMetaData keeps the first one's duration and size uncontradicted.
                let event = match &object {
                    Some(object) => MediaEvent::Metadata(crate::media::Metadata {
                        time: metadata.time,
                        amf0: metadata_body_without_size_fields(object),
                    }),
                    None => event.clone(),
                };
                if let Container::Flv(to_flv) = &mut self.container {
                    flv_tags(to_flv, &event, out);
                }
                false
            }
            MediaEvent::End => false,
        }
    }

    /// What ends the file: the last fragment, a classic file's `moov` and size patch, an FLV file's
    /// duration and size written into its first onMetaData.
    pub fn finish(mut self, out: &mut Vec<Bytes>) -> Finish {
        self.call_start = out.len();
        let classic = self.finish_container(out);
        self.count(out);
        let patches = self.flv_metadata_patches();
        Finish { classic, patches }
    }

    fn flv_metadata_patches(&self) -> Vec<FilePatch> {
        let Some(at) = self.metadata_at else { return Vec::new() };
        let body = at + TAG_HEADER_LEN as u64;
        let duration = self.presented.map_or(0.0, |(start, end)| (end - start).as_secs_f64().max(0.0));
        let number = |value: f64| Bytes::copy_from_slice(&value.to_be_bytes());
        vec![
            FilePatch { offset: body + DURATION_VALUE_OFFSET as u64, bytes: number(duration) },
            FilePatch { offset: body + FILESIZE_VALUE_OFFSET as u64, bytes: number(self.n_bytes as f64) },
        ]
    }

    fn finish_container(&mut self, out: &mut Vec<Bytes>) -> Option<ClassicFinish> {
        if self.n_dropped > 0 {
            tracing::warn!(n_dropped = self.n_dropped, "frames the container could not take were dropped");
        }
        match &mut self.container {
            Container::Fragmented(Some(fragmented)) => {
                if let Err(e) = fragmented.flush(NextDecodeTimes::default(), out) {
                    tracing::warn!("last fragment lost: {e}");
                }
                None
            }
            Container::Classic(classic, _, _) => {
                let classic = classic.take()?;
                classic.finish().map_err(|e| tracing::warn!("cannot finish the mp4 file: {e}")).ok()
            }
            _ => None,
        }
    }

    fn start(&mut self, out: &mut Vec<Bytes>) {
        self.started = true;
        self.scratch.reserve(SCRATCH_LEN);
        let description = self.description.clone().unwrap_or_default();
        match &mut self.container {
            Container::Flv(_) => self.start_flv(None, out),
            Container::Ts(muxer) => match TsMuxer::new(&description) {
                Ok(created) => *muxer = Some(created),
                Err(e) => tracing::warn!("mpeg-ts output cannot start: {e}"),
            },
            Container::Fragmented(fragmented) => match FragmentedMp4::new(&description, out) {
                Ok(created) => *fragmented = Some(created),
                Err(e) => tracing::warn!("mp4 output cannot start: {e}"),
            },
            Container::Classic(classic, align, room) => {
                match ClassicWriter::with_room(&description, *room, *align) {
                    Ok((created, start)) => {
                        out.push(start.head);
                        let mut zeros = start.zeros;
                        while zeros > 0 {
                            let n = zeros.min(ZEROS.len() as u64) as usize;
                            out.push(Bytes::from_static(&ZEROS[..n]));
                            zeros -= n as u64;
                        }
                        out.push(start.mdat_header);
                        *classic = Some(created);
                    }
                    Err(e) => tracing::warn!("mp4 output cannot start: {e}"),
                }
            }
        }
    }

    /// The FLV header, an onMetaData (the source's, if it sent one first) with room for the
    /// duration and size, then the sequence headers of the description known so far.
    fn start_flv(&mut self, source_metadata: Option<&Amf0Value>, out: &mut Vec<Bytes>) {
        out.push(FlvHeader::new(true, true).file_start());
        let body = metadata_body_with_size_fields(0.0, 0.0, source_metadata);
        match tag_bytes(TagType::Script, 0, &body) {
            Ok(tag) => {
                self.metadata_at = Some(self.position(out));
                out.push(tag);
            }
            Err(e) => tracing::warn!("no onMetaData in the flv file: {e}"),
        }
        let description = self.description.clone().unwrap_or_default();
        if let Container::Flv(to_flv) = &mut self.container {
            flv_tags(to_flv, &MediaEvent::Description(description), out);
        }
    }

    fn on_new_description(&mut self, description: &StreamDescription, out: &mut Vec<Bytes>) {
        match &mut self.container {
            Container::Flv(to_flv) => {
                flv_tags(to_flv, &MediaEvent::Description(Arc::new(description.clone())), out)
            }
            Container::Ts(Some(muxer)) => {
                if let Err(e) = muxer.update_description(description) {
                    tracing::warn!("mpeg-ts output keeps its tracks: {e}");
                }
            }
            // MP4 declares its tracks once, in the moov written at the start.
            _ => tracing::debug!("mp4 output keeps the tracks it started with"),
        }
    }

    fn push_frame(&mut self, frame: &Frame, out: &mut Vec<Bytes>) -> Result<bool, String> {
        match &mut self.container {
            Container::Flv(to_flv) => {
                let video_keyframe = frame.keyframe && frame.kind() == MediaKind::Video;
                let frame = rebase(&mut self.timeline_start, frame)?;
                note_flv_frame(&mut self.last_frames, &mut self.presented, &frame);
                if to_flv.append_frame_tag(&frame, &mut self.scratch) {
                    out.push(self.scratch.split().freeze());
                }
                Ok(video_keyframe)
            }
            Container::Ts(muxer) => {
                let muxer = muxer.as_mut().ok_or("no mpeg-ts output")?;
                muxer.write_frame_into(frame, &mut self.scratch).map_err(|e| e.to_string())?;
                out.push(self.scratch.split().freeze());
                Ok(frame.keyframe && frame.kind() == MediaKind::Video)
            }
            Container::Fragmented(fragmented) => {
                let frame = rebase(&mut self.timeline_start, frame)?;
                fragmented.as_mut().ok_or("no mp4 output")?.push(&frame, out)
            }
            Container::Classic(classic, _, _) => {
                let frame = rebase(&mut self.timeline_start, frame)?;
                let classic = classic.as_mut().ok_or("no mp4 output")?;
                out.push(classic.write_frame(&frame).map_err(|e| e.to_string())?);
                Ok(false)
            }
        }
    }

    /// An FLV frame whose whole tag (header, body, size field) an input holds byte for byte as
    /// `push` would write it: those bytes (a run of the block that holds them) to write instead,
    /// with the muxer's state advanced as if the tag had been pushed. `None` for anything else
    /// (push it).
    pub fn copy_unchanged(&mut self, event: &MediaEvent, inputs: &InputBlocks) -> Option<InputRun> {
        let MediaEvent::Frame(frame) = event else { return None };
        let Container::Flv(to_flv) = &mut self.container else { return None };
        let start = self.timeline_start.filter(|_| self.started)?;
        if frame.dts < start {
            return None;
        }
        let rebased = Frame { dts: frame.dts - start, pts: frame.pts - start, ..frame.clone() };
        let after = to_flv.frame_tag_around(&rebased, &mut self.around)?;
        let run = inputs.find_unchanged(&self.around, &frame.data, &after)?;
        note_flv_frame(&mut self.last_frames, &mut self.presented, &rebased);
        self.n_bytes += run.len() as u64;
        Some(run)
    }

    fn dropped(&mut self, frame: &Frame, reason: &str) {
        self.n_dropped += 1;
        if self.n_dropped <= MAX_DROP_WARNINGS {
            tracing::warn!(codec = %frame.codec, dts = %frame.dts, "frame dropped: {reason}");
        }
    }
}

/// MP4 has no negative decode times and players start MP4 and FLV at zero: the file's timeline
/// starts at its first frame (MPEG-TS sources start anywhere in the 33-bit clock), keeping the
/// tracks' offsets. MPEG-TS output keeps the source's clock.
fn rebase(start: &mut Option<MediaTime>, frame: &Frame) -> Result<Frame, String> {
    let start = *start.get_or_insert(frame.dts);
    if frame.dts < start {
        return Err("decode time before the file's first frame".into());
    }
    Ok(Frame { dts: frame.dts - start, pts: frame.pts - start, ..frame.clone() })
}

/// FLV: a frame's decode time and length per track, and the presentation span, for the duration
/// written into the file's first onMetaData.
fn note_flv_frame(
    last_frames: &mut [Option<(MediaTime, MediaTime)>; 2],
    presented: &mut Option<(MediaTime, MediaTime)>,
    frame: &Frame,
) {
    let last = &mut last_frames[usize::from(frame.kind() == MediaKind::Audio)];
    let step = last.map_or(MediaTime::ZERO, |(previous, _)| frame.dts - previous);
    *last = Some((frame.dts, step));
    let end = frame.pts + step;
    *presented = Some(match *presented {
        Some((start, last_end)) => (start.min(frame.pts), last_end.max(end)),
        None => (frame.pts, end),
    });
}

fn flv_tags(to_flv: &mut FramesToFlv, event: &MediaEvent, out: &mut Vec<Bytes>) {
    for tag in to_flv.push(event) {
        match tag_bytes(tag.tag_type, tag.timestamp_ms, &tag.body) {
            Ok(bytes) => out.push(bytes),
            Err(e) => tracing::warn!("dropping a tag: {e}"),
        }
    }
}

/// Fragmented MP4: frames wait in the open fragment, which is cut at each video keyframe (every
/// second for audio-only streams).
#[derive(Debug)]
struct FragmentedMp4 {
    writer: FragmentWriter,
    video_codec: Option<Codec>,
    audio_codec: Option<Codec>,
    video: Vec<Frame>,
    audio: Vec<Frame>,
    first_dts: Option<MediaTime>,
    last_video_dts: Option<MediaTime>,
    last_audio_dts: Option<MediaTime>,
    sequence_number: u32,
}

impl FragmentedMp4 {
    fn new(description: &StreamDescription, out: &mut Vec<Bytes>) -> Result<FragmentedMp4, String> {
        let writer = FragmentWriter::new(description).map_err(|e| e.to_string())?;
        out.push(writer.init_segment().map_err(|e| e.to_string())?);
        Ok(FragmentedMp4 {
            writer,
            video_codec: description.video.as_ref().map(|v| v.codec),
            audio_codec: description.audio.as_ref().map(|a| a.codec),
            video: Vec::new(),
            audio: Vec::new(),
            first_dts: None,
            last_video_dts: None,
            last_audio_dts: None,
            sequence_number: 1,
        })
    }

    fn push(&mut self, frame: &Frame, out: &mut Vec<Bytes>) -> Result<bool, String> {
        let (codec, last_dts) = match frame.kind() {
            MediaKind::Video => (self.video_codec, &mut self.last_video_dts),
            MediaKind::Audio => (self.audio_codec, &mut self.last_audio_dts),
        };
        if codec != Some(frame.codec) {
            return Err(format!("the mp4 file has no {} {} track", frame.codec, frame.kind()));
        }
        if last_dts.is_some_and(|last| frame.dts < last) {
            return Err("decode time goes backwards".into());
        }
        *last_dts = Some(frame.dts);
        let span_ms = self.first_dts.map_or(0, |first| (frame.dts - first).as_millis());
        let cut = if self.video_codec.is_some() {
            (frame.kind() == MediaKind::Video && frame.keyframe && !self.video.is_empty())
                || span_ms >= MAX_FRAGMENT_MS
        } else {
            span_ms >= AUDIO_FRAGMENT_MS
        };
        let mut durable = false;
        if cut {
            let next = match frame.kind() {
                MediaKind::Video => NextDecodeTimes { video: Some(frame.dts), audio: None },
                MediaKind::Audio => NextDecodeTimes { video: None, audio: Some(frame.dts) },
            };
            self.flush(next, out).map_err(|e| format!("fragment lost: {e}"))?;
            durable = true;
        }
        self.first_dts.get_or_insert(frame.dts);
        match frame.kind() {
            MediaKind::Video => self.video.push(frame.clone()),
            MediaKind::Audio => self.audio.push(frame.clone()),
        }
        Ok(durable)
    }

    fn flush(
        &mut self,
        next: NextDecodeTimes,
        out: &mut Vec<Bytes>,
    ) -> Result<(), crate::codec::mp4::Mp4Error> {
        if self.video.is_empty() && self.audio.is_empty() {
            return Ok(());
        }
        let video: Vec<&Frame> = self.video.iter().collect();
        let audio: Vec<&Frame> = self.audio.iter().collect();
        // The frames' data go to the file as they are: no fragment-sized buffer.
        let result = self.writer.fragment_chunks_until(self.sequence_number, &video, &audio, next, out);
        self.sequence_number = self.sequence_number.wrapping_add(1);
        self.video.clear();
        self.audio.clear();
        self.first_dts = None;
        result
    }
}
