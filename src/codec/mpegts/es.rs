//! One followed elementary stream inside the demuxer: continuity checking, PES reassembly across
//! packets, and the hand-off of a whole PES to the video or audio reader that makes frames of it.
//!
//! It does not decide which streams to follow (the PMT logic in `demux.rs`) and does not build
//! descriptions; it only reports a changed configuration record.

use bytes::{Bytes, BytesMut};

use super::audio::AudioReader;
use super::demux::mpeg_time;
use super::packet::PacketHeader;
use super::pes;
use super::timeline::TimestampUnwrapper;
use super::video::AnnexbReader;
use super::TsError;
use crate::media::{Codec, Frame, MediaKind};

/// Bytes reserved at a time for PES payloads: the audio frames of many PES share one allocation
/// (small, as a live server holds one per followed stream).
const ARENA_BLOCK: usize = 64 << 10;

/// A PES being gathered from packets; its payload is the stream's `arena`.
#[derive(Debug)]
struct PesInProgress {
    pts: Option<u64>,
    dts: Option<u64>,
    /// The payload length PES_packet_length announced; `None` for unbounded (video) PES.
    expected_len: Option<usize>,
    /// Set on a continuity or transport error: the PES is dropped when it ends.
    broken: bool,
}

#[derive(Debug)]
enum Reader {
    Video(AnnexbReader),
    Audio(AudioReader),
}

/// What completing one PES produced.
#[derive(Debug, Default)]
pub(crate) struct StreamOutput {
    pub frames: Vec<Frame>,
    /// A changed configuration: avcC/hvcC, AudioSpecificConfig, or a first MP3 frame.
    pub new_config: Option<Bytes>,
    pub dropped: u64,
}

#[derive(Debug)]
pub(crate) struct ElementaryStream {
    pub pid: u16,
    pub codec: Codec,
    last_continuity: Option<u8>,
    pes: Option<PesInProgress>,
    /// The payload of the PES in progress, at the front of a block that later payloads share
    /// (audio frames are slices of it; video is rewritten and the bytes reused).
    arena: BytesMut,
    reader: Reader,
    audio_units: Vec<super::audio::AudioUnit>,
}

impl ElementaryStream {
    pub fn new(pid: u16, codec: Codec) -> ElementaryStream {
        let reader = match codec.kind() {
            MediaKind::Video => Reader::Video(AnnexbReader::new(codec)),
            MediaKind::Audio => Reader::Audio(AudioReader::new(codec)),
        };
        ElementaryStream {
            pid,
            codec,
            last_continuity: None,
            pes: None,
            arena: BytesMut::new(),
            reader,
            audio_units: Vec::new(),
        }
    }

    pub fn mark_broken(&mut self) {
        if let Some(pes) = &mut self.pes {
            pes.broken = true;
        }
    }

    /// Checks a payload-carrying packet's continuity counter: `Ok(false)` for a duplicate packet
    /// (to be ignored), an error (and a broken PES) for a gap not announced as a discontinuity.
    pub fn check_continuity(&mut self, header: &PacketHeader) -> Result<bool, TsError> {
        let found = header.continuity_counter;
        let result = match self.last_continuity {
            Some(_) if header.discontinuity => Ok(true),
            Some(last) if found == last => return Ok(false),
            Some(last) if found != (last + 1) & 0x0f => {
                self.mark_broken();
                Err(TsError::Continuity { pid: self.pid, expected: (last + 1) & 0x0f, found })
            }
            _ => Ok(true),
        };
        self.last_continuity = Some(found);
        result
    }

    /// Starts a PES from a payload_unit_start packet's payload.
    pub fn start_pes(&mut self, payload: &[u8]) -> Result<(), TsError> {
        self.pes = None;
        self.arena.clear();
        let header = pes::parse_header(payload, self.pid)?;
        let wanted = header.payload_len.unwrap_or(4096);
        if self.arena.capacity() < wanted {
            self.arena.reserve(wanted.max(ARENA_BLOCK));
        }
        self.arena.extend_from_slice(&payload[header.header_len..]);
        let broken = header.pts.is_none();
        self.pes = Some(PesInProgress {
            pts: header.pts,
            dts: header.dts,
            expected_len: header.payload_len,
            broken,
        });
        if broken {
            return Err(TsError::MissingTimestamp { pid: self.pid });
        }
        Ok(())
    }

    /// Adds a continuation packet's payload; without a PES in progress (joined mid-PES) it is ignored.
    pub fn append(&mut self, payload: &[u8], max_pes_bytes: usize) -> Result<(), TsError> {
        let Some(pes) = &mut self.pes else { return Ok(()) };
        if pes.broken {
            return Ok(());
        }
        if self.arena.len() + payload.len() > max_pes_bytes {
            self.pes = None;
            self.arena.clear();
            return Err(TsError::PesTooLarge { pid: self.pid, limit: max_pes_bytes });
        }
        self.arena.extend_from_slice(payload);
        Ok(())
    }

    /// Whether the PES in progress has all the bytes its header announced.
    pub fn is_complete(&self) -> bool {
        self.pes.as_ref().is_some_and(|pes| pes.expected_len.is_some_and(|len| self.arena.len() >= len))
    }

    /// Ends the PES in progress and turns it into frames, timestamps unwrapped on `unwrapper`.
    pub fn complete(
        &mut self,
        unwrapper: &mut TimestampUnwrapper,
        output: &mut StreamOutput,
    ) -> Result<(), TsError> {
        let Some(pes) = self.pes.take() else { return Ok(()) };
        let Some(pts_raw) = pes.pts.filter(|_| !pes.broken) else {
            self.arena.clear();
            output.dropped += 1;
            return Ok(());
        };
        if let Some(len) = pes.expected_len {
            self.arena.truncate(len);
        }
        let dts = unwrapper.unwrap(pes.dts.unwrap_or(pts_raw));
        // A pts before its dts is malformed; clamping keeps frames usable downstream.
        let pts = unwrapper.unwrap(pts_raw).max(dts);
        let (pid, codec) = (self.pid, self.codec);
        let with_pid = |error: TsError| match error {
            TsError::Elementary { codec, reason, .. } => TsError::Elementary { pid, codec, reason },
            TsError::Config { codec, reason } => TsError::Config { codec, reason },
            other => other,
        };
        match &mut self.reader {
            Reader::Video(reader) => {
                let unit = reader.read(&self.arena);
                self.arena.clear();
                let config = reader.take_changed_config().transpose().map_err(with_pid)?;
                output.new_config = config;
                if let Some(unit) = unit {
                    output.frames.push(Frame {
                        codec,
                        dts: mpeg_time(dts),
                        pts: mpeg_time(pts),
                        keyframe: unit.keyframe,
                        data: unit.data,
                    });
                }
                Ok(())
            }
            Reader::Audio(reader) => {
                let payload = self.arena.split().freeze();
                let result = reader.read(payload, pts, &mut self.audio_units).map_err(with_pid);
                output.new_config = reader.take_changed_facts().map(|facts| facts.config);
                output.frames.extend(self.audio_units.drain(..).map(|unit| Frame {
                    codec,
                    dts: mpeg_time(unit.pts),
                    pts: mpeg_time(unit.pts),
                    keyframe: true,
                    data: unit.data,
                }));
                result
            }
        }
    }
}
