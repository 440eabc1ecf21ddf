//! The demuxer: program stream bytes in (the RTP payloads of one device, in order), media events
//! out: a [`MediaEvent::Description`] when the tracks or their configuration change, then frames
//! in canonical form with timestamps in [`Timebase::MPEG`] on a continuous timeline.
//!
//! A video frame spans several PES packets (each at most 64 KiB); only the first carries a PTS,
//! so a frame ends where the next PES with another PTS begins (or at `finish`). Units are split
//! off the input buffer without copying; a frame's PES payloads are joined once.
//! Damage is reported from `poll` after recovery: garbage is skipped to the next start code, a
//! lost RTP packet (`lost`) drops the frame it fell in, a PSM that lies about lengths is ignored.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::pack::{self, END_CODE, START_PACK, START_PSM, START_SYSTEM_HEADER};
use super::{kind_of_stream_type, PsError, StreamKind};
use crate::codec::describe;
use crate::codec::description_gate::DescriptionGate;
use crate::codec::mpegts::audio::AudioReader;
use crate::codec::mpegts::timeline::TimestampUnwrapper;
use crate::codec::mpegts::video::AnnexbReader;
use crate::codec::mpegts::{pes, TsError};
use crate::media::{Codec, Frame, MediaEvent, MediaKind, MediaTime, StreamDescription, Timebase};

/// Largest video frame reassembled by default.
const DEFAULT_MAX_FRAME_BYTES: usize = 8 << 20;

/// Counters of what was seen and what was recovered from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PsDemuxerStats {
    pub bytes: u64,
    pub packs: u64,
    pub pes: u64,
    pub frames: u64,
    pub bytes_skipped: u64,
    /// PES of streams we do not carry (G.711 and other audio, unknown video).
    pub pes_not_carried: u64,
    /// Frames dropped for a loss, a bad header or their size.
    pub frames_dropped: u64,
    /// Video frames before the first SPS/PPS (joined mid-stream).
    pub frames_before_config: u64,
}

/// A video frame being gathered from PES packets.
#[derive(Debug)]
struct VideoFrame {
    pts: u64,
    dts: u64,
    parts: Vec<Bytes>,
    len: usize,
    broken: bool,
}

#[derive(Debug)]
pub struct PsDemuxer {
    buffer: BytesMut,
    events: VecDeque<Result<MediaEvent, PsError>>,
    stats: PsDemuxerStats,
    max_frame_bytes: usize,
    /// `(stream_id, stream_type)` of the latest PSM.
    stream_map: Vec<(u8, u8)>,
    video: Option<(Codec, AnnexbReader)>,
    audio: Option<(Codec, AudioReader)>,
    frame: Option<VideoFrame>,
    /// After a loss, video PES are skipped until one starts a frame (carries a PTS).
    video_resync: bool,
    unwrapper: TimestampUnwrapper,
    gate: DescriptionGate,
    finished: bool,
}

impl Default for PsDemuxer {
    fn default() -> Self {
        PsDemuxer::new(DEFAULT_MAX_FRAME_BYTES)
    }
}

impl PsDemuxer {
    pub fn new(max_frame_bytes: usize) -> PsDemuxer {
        PsDemuxer {
            buffer: BytesMut::new(),
            events: VecDeque::new(),
            stats: PsDemuxerStats::default(),
            max_frame_bytes,
            stream_map: Vec::new(),
            video: None,
            audio: None,
            frame: None,
            video_resync: false,
            unwrapper: TimestampUnwrapper::default(),
            gate: DescriptionGate::default(),
            finished: false,
        }
    }

    pub fn stats(&self) -> PsDemuxerStats {
        self.stats
    }

    /// Appends input bytes (any chunking) and demuxes every whole unit.
    pub fn push(&mut self, data: &[u8]) {
        if self.finished {
            return;
        }
        self.stats.bytes += data.len() as u64;
        self.buffer.extend_from_slice(data);
        while self.next_unit() {}
    }

    /// Bytes were lost before the next `push` (an RTP sequence gap): the partial unit in the
    /// buffer and the frame it belongs to are dropped; demuxing resumes at the next start code.
    /// The frame in progress is kept only if the partial unit shows a new frame began (a video
    /// PES with another PTS) or `frame_boundary` was called since it began.
    pub fn lost(&mut self) {
        let new_frame_began = match (pes::parse_header(&self.buffer, 0), &self.frame) {
            (Ok(header), Some(frame)) => {
                (0xe0..=0xef).contains(&header.stream_id) && header.pts.is_some_and(|pts| pts != frame.pts)
            }
            _ => false,
        };
        if new_frame_began {
            self.complete_frame();
        }
        self.buffer.clear();
        match &mut self.frame {
            Some(frame) if !frame.broken => frame.broken = true,
            Some(_) => {}
            // The loss took the start of a frame that never began here.
            None => self.stats.frames_dropped += 1,
        }
        self.video_resync = true;
    }

    /// The transport says a frame ended here (the RTP marker bit): the video frame in progress
    /// is complete, without waiting for the next one's PTS.
    pub fn frame_boundary(&mut self) {
        self.complete_frame();
    }

    /// End of input: the last frame is completed, held frames released, `MediaEvent::End` queued.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.complete_frame();
        self.gate.release(&mut self.events);
        self.events.push_back(Ok(MediaEvent::End));
    }

    /// The next event or damage report; `None` when more input is needed.
    pub fn poll(&mut self) -> Option<Result<MediaEvent, PsError>> {
        self.events.pop_front()
    }

    /// Takes one unit off the buffer; false when more bytes are needed.
    fn next_unit(&mut self) -> bool {
        let buffer = &self.buffer;
        if buffer.len() < 4 {
            return false;
        }
        if buffer[..3] != [0, 0, 1] || buffer[3] < END_CODE {
            self.resync();
            return !self.buffer.is_empty() && self.buffer.len() >= 4 && self.buffer[..3] == [0, 0, 1];
        }
        let id = buffer[3];
        let len = match id {
            END_CODE => 4,
            START_PACK => match pack::pack_header_len(buffer) {
                Ok(Some(len)) => len,
                Ok(None) => return false,
                Err(error) => {
                    self.events.push_back(Err(error));
                    let _ = self.buffer.split_to(4);
                    return true;
                }
            },
            _ => {
                if buffer.len() < 6 {
                    return false;
                }
                6 + usize::from(u16::from_be_bytes([buffer[4], buffer[5]]))
            }
        };
        if self.buffer.len() < len {
            return false;
        }
        let unit = self.buffer.split_to(len).freeze();
        match id {
            START_PACK => self.stats.packs += 1,
            END_CODE | START_SYSTEM_HEADER => {}
            START_PSM => self.on_psm(&unit),
            0xe0..=0xef => self.on_video_pes(unit),
            0xc0..=0xdf => self.on_audio_pes(unit),
            // Padding, private streams and the rest carry nothing we read.
            _ => {}
        }
        true
    }

    /// Skips to the next start code whose stream id a program stream can have (NAL headers
    /// and their start codes inside PES payloads are below 0xb9), keeping a partial one.
    fn resync(&mut self) {
        let len = self.buffer.len();
        let mut skip = len.saturating_sub(3);
        let mut from = 1;
        while let Some(found) = memchr::memmem::find(&self.buffer[from..], &[0, 0, 1]) {
            let at = from + found;
            if self.buffer.get(at + 3).is_none_or(|id| *id >= END_CODE) {
                skip = at;
                break;
            }
            from = at + 1;
        }
        if skip == 0 {
            return;
        }
        let _ = self.buffer.split_to(skip);
        self.stats.bytes_skipped += skip as u64;
        self.events.push_back(Err(PsError::Resynced { skipped: skip }));
    }

    fn on_psm(&mut self, unit: &[u8]) {
        match pack::parse_psm(unit) {
            Ok(entries) => self.stream_map = entries.into_iter().map(|(t, id)| (id, t)).collect(),
            Err(error) => self.events.push_back(Err(error)),
        }
    }

    fn stream_kind(&self, stream_id: u8) -> Option<StreamKind> {
        self.stream_map.iter().find(|(id, _)| *id == stream_id).map(|(_, t)| kind_of_stream_type(*t))
    }

    fn parse_pes(&mut self, unit: &[u8]) -> Option<pes::PesHeader> {
        self.stats.pes += 1;
        match pes::parse_header(unit, 0) {
            Ok(header) => Some(header),
            Err(TsError::PesHeader { reason, .. }) => {
                self.events.push_back(Err(PsError::PesHeader { stream_id: unit[3], reason }));
                None
            }
            Err(_) => None,
        }
    }

    fn on_video_pes(&mut self, unit: Bytes) {
        let codec = match self.stream_kind(unit[3]) {
            // Without a PSM, GB28181 video is H.264.
            None => Codec::H264,
            Some(StreamKind::Carried(codec)) if codec.kind() == MediaKind::Video => codec,
            Some(_) => {
                self.stats.pes_not_carried += 1;
                return;
            }
        };
        let Some(header) = self.parse_pes(&unit) else {
            if let Some(frame) = &mut self.frame {
                frame.broken = true;
            }
            return;
        };
        if self.video.as_ref().is_none_or(|(current, _)| *current != codec) {
            self.complete_frame();
            self.video = Some((codec, AnnexbReader::new(codec)));
            self.gate.clear_video();
        }
        let payload = unit.slice(header.header_len..);
        match header.pts {
            Some(pts) if self.frame.as_ref().is_none_or(|frame| frame.pts != pts) => {
                self.complete_frame();
                self.video_resync = false;
                let dts = header.dts.unwrap_or(pts);
                self.frame = Some(VideoFrame { pts, dts, parts: Vec::new(), len: 0, broken: false });
            }
            _ if self.video_resync => return,
            _ => {}
        }
        let max = self.max_frame_bytes;
        let Some(frame) = &mut self.frame else { return };
        if frame.broken {
            return;
        }
        if frame.len + payload.len() > max {
            frame.broken = true;
            frame.parts.clear();
            self.events.push_back(Err(PsError::FrameTooLarge { limit: max }));
            return;
        }
        frame.len += payload.len();
        frame.parts.push(payload);
    }

    /// Ends the video frame in progress and turns it into a frame.
    fn complete_frame(&mut self) {
        let Some(frame) = self.frame.take() else { return };
        if frame.broken || frame.len == 0 {
            self.stats.frames_dropped += 1;
            return;
        }
        let Some((codec, reader)) = &mut self.video else { return };
        let codec = *codec;
        let data = match frame.parts.as_slice() {
            [one] => reader.read(one),
            parts => {
                let mut joined = BytesMut::with_capacity(frame.len);
                parts.iter().for_each(|part| joined.extend_from_slice(part));
                reader.read(&joined)
            }
        };
        match reader.take_changed_config() {
            Some(Ok(config)) => match describe::video_track(codec, config) {
                Ok(track) => self.gate.set_video(track),
                Err(e) => self.report_elementary(codec, e.to_string()),
            },
            Some(Err(e)) => self.report_elementary(codec, e.to_string()),
            None => {}
        }
        let Some(unit) = data else { return };
        if self.gate.description().video.is_none() {
            self.stats.frames_before_config += 1;
            return;
        }
        let dts = self.unwrapper.unwrap(frame.dts);
        // A pts before its dts is malformed; clamping keeps frames usable downstream.
        let pts = self.unwrapper.unwrap(frame.pts).max(dts);
        self.emit(Frame {
            codec,
            dts: mpeg_time(dts),
            pts: mpeg_time(pts),
            keyframe: unit.keyframe,
            data: unit.data,
        });
    }

    fn on_audio_pes(&mut self, unit: Bytes) {
        let Some(header) = self.parse_pes(&unit) else { return };
        let payload = unit.slice(header.header_len..);
        let codec = match self.stream_kind(unit[3]) {
            Some(StreamKind::Carried(Codec::Aac)) => Codec::Aac,
            // Without a PSM, audio is read only if it looks like ADTS.
            None if payload.len() >= 2 && payload[0] == 0xff && payload[1] & 0xf0 == 0xf0 => Codec::Aac,
            _ => {
                self.stats.pes_not_carried += 1;
                return;
            }
        };
        let Some(pts) = header.pts else {
            self.stats.frames_dropped += 1;
            return;
        };
        let (_, reader) = self.audio.get_or_insert_with(|| (codec, AudioReader::new(codec)));
        let pts = self.unwrapper.unwrap(pts);
        let mut units = Vec::new();
        let result = reader.read(payload, pts, &mut units);
        let facts = reader.take_changed_facts();
        if let Err(e) = result {
            self.report_elementary(codec, e.to_string());
        }
        if let Some(facts) = facts {
            match describe::audio_track(codec, facts.config) {
                Ok(track) => self.gate.set_audio(track),
                Err(e) => self.report_elementary(codec, e.to_string()),
            }
        }
        for unit in units {
            let time = mpeg_time(unit.pts);
            self.emit(Frame { codec, dts: time, pts: time, keyframe: true, data: unit.data });
        }
    }

    fn report_elementary(&mut self, codec: Codec, reason: String) {
        self.events.push_back(Err(PsError::Elementary { codec, reason }));
    }

    /// Queues a frame, holding frames back until every track the stream announces (PSM) or
    /// shows (PES) is described.
    fn emit(&mut self, frame: Frame) {
        self.stats.frames += 1;
        let (stream_map, has_video, has_audio) =
            (&self.stream_map, self.video.is_some(), self.audio.is_some());
        let ready = |description: &StreamDescription| {
            let mapped = |kind: MediaKind| {
                stream_map.iter().any(|(_, t)| {
                    matches!(kind_of_stream_type(*t), StreamKind::Carried(codec) if codec.kind() == kind)
                })
            };
            let video_ok = description.video.is_some() || (!mapped(MediaKind::Video) && !has_video);
            let audio_ok = description.audio.is_some() || (!mapped(MediaKind::Audio) && !has_audio);
            video_ok && audio_ok
        };
        self.gate.emit(frame, ready, &mut self.events);
    }
}

fn mpeg_time(ticks: i64) -> MediaTime {
    MediaTime::new(ticks, Timebase::MPEG)
}
