//! MPEG-2 Program Stream (ISO/IEC 13818-1 §2.5), sans-IO, as GB28181 cameras send it in RTP:
//! [`PsDemuxer`] turns bytes (pack headers, system headers, program stream maps, PES packets,
//! any chunking, with garbage and losses) into descriptions and canonical frames; [`PsMuxer`]
//! turns frames back into packs (our test device and the bench use it).
//!
//! Elementary streams are read with the MPEG-TS module's readers (`mpegts::video::AnnexbReader`,
//! `mpegts::audio::AudioReader`), so PS and TS make the same frames and descriptions.
//! Layout: `pack.rs` (pack header, system header, PSM), `demux.rs`, `mux.rs`.

mod demux;
mod mux;
mod pack;

pub use demux::{PsDemuxer, PsDemuxerStats};
pub use mux::PsMuxer;

use crate::media::Codec;

/// stream_type values a GB28181 PSM carries.
pub mod stream_type {
    pub const H264: u8 = 0x1b;
    pub const H265: u8 = 0x24;
    pub const AAC: u8 = 0x0f;
    /// GB28181's G.711 A-law and µ-law: dropped (and counted), we do not carry G.711.
    pub const G711A: u8 = 0x90;
    pub const G711U: u8 = 0x91;
}

/// What a PSM stream_type means to the demuxer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Carried(Codec),
    /// Audio or video we cannot carry: its PES are dropped and counted.
    Dropped,
}

pub fn kind_of_stream_type(stream_type: u8) -> StreamKind {
    match stream_type {
        stream_type::H264 => StreamKind::Carried(Codec::H264),
        stream_type::H265 => StreamKind::Carried(Codec::H265),
        stream_type::AAC => StreamKind::Carried(Codec::Aac),
        _ => StreamKind::Dropped,
    }
}

/// Damage the demuxer reports (after recovering: the damaged unit is dropped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PsError {
    #[error("skipped {skipped} bytes to find a start code")]
    Resynced { skipped: usize },
    #[error("pack header: {0}")]
    PackHeader(&'static str),
    #[error("program stream map: {0}")]
    Psm(&'static str),
    #[error("pes header of stream {stream_id:#04x}: {reason}")]
    PesHeader { stream_id: u8, reason: &'static str },
    #[error("video frame over {limit} bytes; dropped")]
    FrameTooLarge { limit: usize },
    #[error("{codec} elementary stream: {reason}")]
    Elementary { codec: Codec, reason: String },
    #[error("{codec} is not carried in program streams by this muxer")]
    UnsupportedCodec { codec: Codec },
}

#[cfg(test)]
mod tests;
