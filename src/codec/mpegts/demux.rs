//! The demuxer: transport stream bytes in (any chunking, garbage, losses), media events out:
//! a [`MediaEvent::Description`] when the tracks or their configuration change, then frames in
//! canonical form with timestamps in [`Timebase::MPEG`] on a continuous 64-bit timeline.
//!
//! Damage is reported as a [`TsError`] from `poll` and recovered from: the damaged unit is dropped
//! and demuxing goes on. It follows the first program of the PAT and, in its PMT, the first video
//! and the first audio stream of a supported type; other programs and streams are ignored.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use super::es::{ElementaryStream, StreamOutput};
use super::packet::{parse_header, PacketHeader, PACKET_LEN, SYNC_BYTE};
use super::psi::{self, SectionAssembler};
use super::timeline::TimestampUnwrapper;
use super::{codec_of_stream_type, TsError, PID_PAT};
use crate::codec::describe;
use crate::codec::description_gate::DescriptionGate;
use crate::media::{Codec, Frame, MediaEvent, MediaKind, MediaTime, StreamDescription, Timebase};

/// Bounds on what a peer can make the demuxer hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TsDemuxerLimits {
    /// Largest PES reassembled; bigger ones are dropped.
    pub max_pes_bytes: usize,
    /// Most elementary streams a PMT may list; further ones are ignored.
    pub max_pmt_streams: usize,
}

impl Default for TsDemuxerLimits {
    fn default() -> Self {
        TsDemuxerLimits { max_pes_bytes: 8 << 20, max_pmt_streams: 32 }
    }
}

/// Counters of what was seen and what was recovered from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TsDemuxerStats {
    pub packets: u64,
    pub bytes_skipped: u64,
    pub continuity_errors: u64,
    pub crc_errors: u64,
    pub pes_dropped: u64,
    pub frames: u64,
    /// Video frames dropped because no SPS/PPS had been seen yet (joined mid-stream).
    pub frames_before_config: u64,
}

/// Sans-IO demuxer: `push` bytes, then `poll` until it returns `None`; `finish` at end of input.
#[derive(Debug)]
pub struct TsDemuxer {
    limits: TsDemuxerLimits,
    stats: TsDemuxerStats,
    buffer: BytesMut,
    /// Stream offset of `buffer[0]`, for error messages.
    offset: u64,
    /// True while packets follow each other at 188-byte steps; a new sync must be confirmed first.
    locked: bool,
    events: VecDeque<Result<MediaEvent, TsError>>,
    pat: SectionAssembler,
    pmt_pid: Option<u16>,
    pmt: SectionAssembler,
    last_pmt_section: Option<Bytes>,
    streams: Vec<ElementaryStream>,
    /// Reused for each completed PES, so completing one allocates nothing.
    completed: StreamOutput,
    unwrapper: TimestampUnwrapper,
    gate: DescriptionGate,
    finished: bool,
}

impl Default for TsDemuxer {
    fn default() -> Self {
        TsDemuxer::new(TsDemuxerLimits::default())
    }
}

impl TsDemuxer {
    pub fn new(limits: TsDemuxerLimits) -> TsDemuxer {
        TsDemuxer {
            limits,
            stats: TsDemuxerStats::default(),
            buffer: BytesMut::new(),
            offset: 0,
            locked: false,
            events: VecDeque::new(),
            pat: SectionAssembler::default(),
            pmt_pid: None,
            pmt: SectionAssembler::default(),
            last_pmt_section: None,
            streams: Vec::new(),
            completed: StreamOutput::default(),
            unwrapper: TimestampUnwrapper::default(),
            gate: DescriptionGate::default(),
            finished: false,
        }
    }

    pub fn stats(&self) -> TsDemuxerStats {
        self.stats
    }

    /// The latest description (what the last `Description` event said, or will say).
    pub fn description(&self) -> &StreamDescription {
        self.gate.description()
    }

    /// Appends input bytes; they need not be whole packets.
    pub fn push(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// Declares the end of input: the last (unbounded) PES is completed, held frames are released,
    /// and `MediaEvent::End` is queued after them.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        while self.buffer.len() >= PACKET_LEN {
            self.next_packet();
        }
        if !self.buffer.is_empty() {
            let len = self.buffer.len();
            self.events.push_back(Err(TsError::Truncated { offset: self.offset, len }));
            self.buffer.clear();
        }
        for index in 0..self.streams.len() {
            self.complete_pes(index);
        }
        self.gate.release(&mut self.events);
        self.events.push_back(Ok(MediaEvent::End));
    }

    /// The next event or error report; `None` when more input is needed.
    pub fn poll(&mut self) -> Option<Result<MediaEvent, TsError>> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            // Until sync is confirmed, a packet is taken only once the byte after it can be checked.
            let needed = if self.locked { PACKET_LEN } else { PACKET_LEN + 1 };
            if self.buffer.len() < needed || self.finished {
                return None;
            }
            self.next_packet();
        }
    }

    /// Consumes one packet from the buffer, or skips garbage up to the next plausible sync.
    fn next_packet(&mut self) {
        let confirmed =
            self.locked || self.finished || self.buffer.get(PACKET_LEN).is_none_or(|b| *b == SYNC_BYTE);
        if self.buffer[0] != SYNC_BYTE || !confirmed {
            self.locked = false;
            self.resync();
            return;
        }
        self.locked = self.buffer.get(PACKET_LEN).is_some_and(|b| *b == SYNC_BYTE);
        let packet = self.buffer.split_to(PACKET_LEN);
        self.offset += PACKET_LEN as u64;
        self.stats.packets += 1;
        match parse_header(&packet) {
            Ok(header) => self.on_packet(&header, &packet),
            Err(error) => self.events.push_back(Err(error)),
        }
    }

    /// Drops bytes up to a sync byte that is followed by another one a packet later, or up to the
    /// first sync byte that cannot be checked yet (the check happens when more bytes arrive).
    fn resync(&mut self) {
        let len = self.buffer.len();
        let mut skip = len;
        for i in 1..len {
            if self.buffer[i] != SYNC_BYTE {
                continue;
            }
            if i + PACKET_LEN >= len || self.buffer[i + PACKET_LEN] == SYNC_BYTE {
                skip = i;
                break;
            }
        }
        let at = self.offset;
        let _ = self.buffer.split_to(skip);
        self.offset += skip as u64;
        self.stats.bytes_skipped += skip as u64;
        self.events.push_back(Err(TsError::Resynced { skipped: skip, offset: at }));
    }

    fn on_packet(&mut self, header: &PacketHeader, packet: &[u8]) {
        let payload = if header.has_payload { &packet[header.payload_offset..] } else { &[][..] };
        if header.pid == PID_PAT {
            self.on_pat(header, payload);
        } else if Some(header.pid) == self.pmt_pid {
            self.on_pmt(header, payload);
        } else if let Some(index) = self.streams.iter().position(|s| s.pid == header.pid) {
            self.on_stream_packet(index, header, payload);
        }
    }

    fn on_pat(&mut self, header: &PacketHeader, payload: &[u8]) {
        if header.transport_error || payload.is_empty() {
            return;
        }
        for section in self.pat.push(payload, header.payload_unit_start).unwrap_or_else(|e| {
            self.events.push_back(Err(e));
            Vec::new()
        }) {
            match psi::parse_pat(&section) {
                Ok(programs) => {
                    let pmt_pid = programs.first().map(|(_, pid)| *pid);
                    if pmt_pid.is_some() && pmt_pid != self.pmt_pid {
                        self.pmt_pid = pmt_pid;
                        self.pmt = SectionAssembler::default();
                        self.last_pmt_section = None;
                    }
                }
                Err(error) => self.report_section_error(error),
            }
        }
    }

    fn on_pmt(&mut self, header: &PacketHeader, payload: &[u8]) {
        if header.transport_error || payload.is_empty() {
            return;
        }
        let sections = match self.pmt.push(payload, header.payload_unit_start) {
            Ok(sections) => sections,
            Err(error) => return self.events.push_back(Err(error)),
        };
        for section in sections {
            if self.last_pmt_section.as_ref() == Some(&section) {
                continue;
            }
            match psi::parse_pmt(&section) {
                Ok(pmt) => {
                    self.last_pmt_section = Some(section);
                    self.apply_pmt(&pmt);
                }
                Err(error) => self.report_section_error(error),
            }
        }
    }

    fn report_section_error(&mut self, error: TsError) {
        if matches!(error, TsError::Crc { .. }) {
            self.stats.crc_errors += 1;
        }
        self.events.push_back(Err(error));
    }

    /// Follows the first video and first audio stream of a new PMT, keeping the state of streams
    /// whose PID and codec did not change.
    fn apply_pmt(&mut self, pmt: &psi::Pmt) {
        if pmt.streams.len() > self.limits.max_pmt_streams {
            let pid = pmt.streams[self.limits.max_pmt_streams].pid;
            self.events.push_back(Err(TsError::TooManyPids { pid, limit: self.limits.max_pmt_streams }));
        }
        let mut chosen: Vec<(u16, Codec)> = Vec::new();
        for stream in pmt.streams.iter().take(self.limits.max_pmt_streams) {
            let Some(codec) = codec_of_stream_type(stream.stream_type) else { continue };
            if chosen.iter().all(|(_, c)| c.kind() != codec.kind()) {
                chosen.push((stream.pid, codec));
            }
        }
        let mut old = std::mem::take(&mut self.streams);
        let mut fresh_kinds = Vec::new();
        for (pid, codec) in chosen {
            match old.iter().position(|s| s.pid == pid && s.codec == codec) {
                Some(index) => self.streams.push(old.swap_remove(index)),
                None => {
                    fresh_kinds.push(codec.kind());
                    self.streams.push(ElementaryStream::new(pid, codec));
                }
            }
        }
        for kind in [MediaKind::Video, MediaKind::Audio] {
            let present = self.streams.iter().any(|s| s.codec.kind() == kind);
            if present && !fresh_kinds.contains(&kind) {
                continue;
            }
            // The track is gone, or a new stream replaces it whose description will come from its data.
            match kind {
                MediaKind::Video => self.gate.clear_video(),
                MediaKind::Audio => self.gate.clear_audio(),
            }
        }
    }

    fn on_stream_packet(&mut self, index: usize, header: &PacketHeader, payload: &[u8]) {
        let stream = &mut self.streams[index];
        if header.transport_error {
            stream.mark_broken();
            self.events.push_back(Err(TsError::TransportError { pid: header.pid }));
            return;
        }
        if !header.has_payload {
            return;
        }
        match stream.check_continuity(header) {
            Ok(true) => {}
            Ok(false) => return, // a duplicate packet, allowed once by the standard
            Err(error) => {
                self.stats.continuity_errors += 1;
                self.events.push_back(Err(error));
            }
        }
        if header.payload_unit_start {
            self.complete_pes(index);
            if let Err(error) = self.streams[index].start_pes(payload) {
                self.events.push_back(Err(error));
            }
        } else if let Err(error) = self.streams[index].append(payload, self.limits.max_pes_bytes) {
            self.stats.pes_dropped += 1;
            self.events.push_back(Err(error));
        }
        if self.streams[index].is_complete() {
            self.complete_pes(index);
        }
    }

    /// Ends the PES in progress on stream `index` and turns it into frames.
    fn complete_pes(&mut self, index: usize) {
        let mut output = std::mem::take(&mut self.completed);
        let result = self.streams[index].complete(&mut self.unwrapper, &mut output);
        if let Err(error) = result {
            self.events.push_back(Err(error));
        }
        self.stats.pes_dropped += output.dropped;
        let codec = self.streams[index].codec;
        if let Some(config) = output.new_config.take() {
            self.on_new_config(codec, config);
        }
        for frame in output.frames.drain(..) {
            if codec.kind() == MediaKind::Video && self.gate.description().video.is_none() {
                self.stats.frames_before_config += 1;
                continue;
            }
            self.emit(frame);
        }
        output.dropped = 0;
        self.completed = output;
    }

    fn on_new_config(&mut self, codec: Codec, config: Bytes) {
        let described = match codec.kind() {
            MediaKind::Video => describe::video_track(codec, config).map(|track| self.gate.set_video(track)),
            MediaKind::Audio => describe::audio_track(codec, config).map(|mut track| {
                if codec == Codec::Mp3 {
                    // MP3 has no configuration record: the first frame only served to describe it.
                    track.config = Bytes::new();
                }
                self.gate.set_audio(track);
            }),
        };
        if let Err(error) = described {
            self.events.push_back(Err(TsError::Config { codec, reason: error.to_string() }));
        }
    }

    /// Queues a frame, holding frames back until every followed stream is described.
    fn emit(&mut self, frame: Frame) {
        self.stats.frames += 1;
        let streams = &self.streams;
        let ready = |description: &StreamDescription| {
            streams.iter().all(|s| match s.codec.kind() {
                MediaKind::Video => description.video.is_some(),
                MediaKind::Audio => description.audio.is_some(),
            })
        };
        self.gate.emit(frame, ready, &mut self.events);
    }
}

/// A 90 kHz tick count as a `MediaTime`.
pub(crate) fn mpeg_time(ticks: i64) -> MediaTime {
    MediaTime::new(ticks, Timebase::MPEG)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::mpegts::TsMuxer;
    use crate::media::AudioTrack;

    /// A short AAC-only stream from our own muxer: 20 frames of 23 ms.
    fn aac_stream() -> Vec<u8> {
        let asc = crate::codec::aac::AudioSpecificConfig {
            object_type: 2,
            sample_rate_index: 4,
            sample_rate: 44_100,
            channels: 2,
        };
        let track = AudioTrack {
            codec: Codec::Aac,
            config: asc.encode(),
            sample_rate: 44_100,
            channels: 2,
            profile: String::new(),
        };
        let mut muxer = TsMuxer::from_tracks(None, Some(track)).unwrap();
        (0..20)
            .flat_map(|i| {
                let time = MediaTime::from_millis(i * 23);
                let frame = Frame {
                    codec: Codec::Aac,
                    dts: time,
                    pts: time,
                    keyframe: true,
                    data: Bytes::from(vec![i as u8; 200]),
                };
                muxer.write_frame(&frame).unwrap().to_vec()
            })
            .collect()
    }

    fn frames_of(demuxer: &mut TsDemuxer) -> (usize, Vec<TsError>) {
        let (mut frames, mut errors) = (0, Vec::new());
        while let Some(event) = demuxer.poll() {
            match event {
                Ok(MediaEvent::Frame(_)) => frames += 1,
                Ok(_) => {}
                Err(error) => errors.push(error),
            }
        }
        (frames, errors)
    }

    #[test]
    fn byte_by_byte_input_after_garbage_gives_every_frame() {
        let mut input = vec![0x47, 0x00, 0x47, 0x12];
        input.extend(aac_stream());
        let mut demuxer = TsDemuxer::default();
        let mut frames = 0;
        let mut errors = Vec::new();
        for byte in &input {
            demuxer.push(std::slice::from_ref(byte));
            let (n, e) = frames_of(&mut demuxer);
            frames += n;
            errors.extend(e);
        }
        demuxer.finish();
        frames += frames_of(&mut demuxer).0;
        assert_eq!(frames, 20);
        assert_eq!(demuxer.stats().bytes_skipped, 4);
        assert!(matches!(errors[..], [TsError::Resynced { offset: 0, .. }, ..]));
    }

    #[test]
    fn duplicate_packets_are_ignored_and_oversized_pes_dropped() {
        let stream = aac_stream();
        // Repeat the fourth packet (an audio PES start): allowed once, must not double a frame.
        let mut input = stream[..4 * PACKET_LEN].to_vec();
        input.extend_from_slice(&stream[3 * PACKET_LEN..]);
        let mut demuxer = TsDemuxer::default();
        demuxer.push(&input);
        demuxer.finish();
        let (frames, errors) = frames_of(&mut demuxer);
        assert_eq!((frames, errors.len()), (20, 0));
        let mut small = TsDemuxer::new(TsDemuxerLimits { max_pes_bytes: 100, ..TsDemuxerLimits::default() });
        small.push(&stream);
        small.finish();
        let (frames, errors) = frames_of(&mut small);
        assert_eq!(frames, 0);
        assert!(errors.iter().all(|e| matches!(e, TsError::PesTooLarge { limit: 100, .. })));
        assert_eq!(small.stats().pes_dropped, 20);
    }
}
