//! MPEG-2 transport stream (ISO/IEC 13818-1), sans-IO: [`TsMuxer`] turns a stream description and
//! frames into whole 188-byte packets; [`TsDemuxer`] turns bytes (any chunking, with garbage and
//! losses) back into descriptions and canonical frames.
//!
//! Scope is what live servers exchange: one program, one video track (H.264, H.265) and one audio
//! track (AAC in ADTS, MP3). No SDT/NIT, no scrambling, no teletext or private data, no I/O.
//! Layout: `packet.rs` (188-byte packets), `psi.rs` (PAT/PMT, CRC32), `pes.rs` (PES headers),
//! `timeline.rs` (33-bit unwrap), `video.rs` and `audio.rs` (elementary-stream framing),
//! `es.rs` (PES reassembly per stream), `mux.rs` and `demux.rs` (the two state machines).

pub(crate) mod audio;
mod demux;
mod es;
mod mux;
mod packet;
pub(crate) mod pes;
pub(crate) mod psi;
pub(crate) mod timeline;
pub(crate) mod video;

#[cfg(test)]
mod tests;

pub use demux::{TsDemuxer, TsDemuxerLimits, TsDemuxerStats};
pub use mux::TsMuxer;
pub use packet::{PACKET_LEN, SYNC_BYTE};

use crate::media::Codec;

/// The PID of the PAT, fixed by the standard.
pub const PID_PAT: u16 = 0x0000;
/// The PMT PID SRS and ffmpeg use.
pub const PID_PMT: u16 = 0x1000;
/// The video PID SRS and ffmpeg use.
pub const PID_VIDEO: u16 = 0x100;
/// The audio PID SRS and ffmpeg use.
pub const PID_AUDIO: u16 = 0x101;

/// stream_type values of the PMT for the codecs this module carries.
pub mod stream_type {
    /// ISO/IEC 11172-3 audio (MPEG-1 layer III).
    pub const MPEG1_AUDIO: u8 = 0x03;
    /// ISO/IEC 13818-3 audio (MPEG-2 half sample rates).
    pub const MPEG2_AUDIO: u8 = 0x04;
    /// ISO/IEC 13818-7 AAC with ADTS framing.
    pub const AAC_ADTS: u8 = 0x0f;
    pub const H264: u8 = 0x1b;
    pub const H265: u8 = 0x24;
}

/// The whole packets of one datagram (MPEG-TS over UDP): from the first sync byte, without
/// the trailing bytes that do not fill a packet, as SRS reads a datagram. A datagram is a unit
/// of loss, so a partial packet must not be joined to the next datagram's bytes.
pub fn whole_packets(datagram: &[u8]) -> &[u8] {
    let Some(start) = datagram.iter().position(|b| *b == SYNC_BYTE) else { return &[] };
    let rest = &datagram[start..];
    &rest[..rest.len() / PACKET_LEN * PACKET_LEN]
}

/// The codec a PMT stream_type carries, if this module handles it.
pub fn codec_of_stream_type(stream_type: u8) -> Option<Codec> {
    match stream_type {
        stream_type::H264 => Some(Codec::H264),
        stream_type::H265 => Some(Codec::H265),
        stream_type::AAC_ADTS => Some(Codec::Aac),
        stream_type::MPEG1_AUDIO | stream_type::MPEG2_AUDIO => Some(Codec::Mp3),
        _ => None,
    }
}

/// Everything that can go wrong muxing or demuxing. Demuxer errors are reports: the demuxer has
/// already recovered (dropped the damaged unit, resynchronised) when it returns one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsError {
    #[error("truncated at byte {offset}: the input ends inside a packet ({len} bytes left)")]
    Truncated { offset: u64, len: usize },
    #[error("lost packet sync")]
    LostSync,
    #[error("skipped {skipped} bytes to find packet sync at byte offset {offset}")]
    Resynced { skipped: usize, offset: u64 },
    #[error("adaptation field of {len} bytes on pid {pid:#x} overruns the packet")]
    AdaptationField { pid: u16, len: usize },
    #[error("table {table_id:#04x}: {reason}")]
    Section { table_id: u8, reason: &'static str },
    #[error("table {table_id:#04x}: crc32 mismatch")]
    Crc { table_id: u8 },
    #[error("pes header on pid {pid:#x}: {reason}")]
    PesHeader { pid: u16, reason: &'static str },
    #[error("continuity counter on pid {pid:#x}: expected {expected}, found {found}; unit dropped")]
    Continuity { pid: u16, expected: u8, found: u8 },
    #[error("transport_error_indicator set on pid {pid:#x}; unit dropped")]
    TransportError { pid: u16 },
    #[error("pes on pid {pid:#x} exceeds {limit} bytes; dropped")]
    PesTooLarge { pid: u16, limit: usize },
    #[error("more than {limit} pids announced; pid {pid:#x} ignored")]
    TooManyPids { pid: u16, limit: usize },
    #[error("pes on pid {pid:#x} has no pts; dropped")]
    MissingTimestamp { pid: u16 },
    #[error("{codec} elementary stream on pid {pid:#x}: {reason}")]
    Elementary { pid: u16, codec: Codec, reason: String },
    #[error("{codec} is not carried in mpeg-ts by this muxer")]
    UnsupportedCodec { codec: Codec },
    #[error("the description has no track for a {codec} frame")]
    NoTrackFor { codec: Codec },
    #[error("{codec} configuration: {reason}")]
    Config { codec: Codec, reason: String },
}
