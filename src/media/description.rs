//! What a stream carries: its tracks, each with codec, codec configuration and derived facts.

use bytes::Bytes;

use super::Codec;

/// A video track as announced by its sequence header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoTrack {
    pub codec: Codec,
    /// The decoder configuration record (avcC, hvcC, av1C) exactly as carried in the stream.
    pub config: Bytes,
    pub width: u32,
    pub height: u32,
    /// Profile name as SRS reports it ("High", "Main", ...), empty when unknown.
    pub profile: String,
    /// Level as SRS reports it ("3.1", ...), empty when unknown.
    pub level: String,
}

/// An audio track as announced by its sequence header (or first frame for MP3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioTrack {
    pub codec: Codec,
    /// AudioSpecificConfig for AAC, OpusHead for Opus, empty for MP3.
    pub config: Bytes,
    pub sample_rate: u32,
    pub channels: u8,
    /// Profile name as SRS reports it ("LC", "HE", ...), empty when unknown.
    pub profile: String,
}

/// The tracks of a stream. A new description is sent whenever a sequence header changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamDescription {
    pub video: Option<VideoTrack>,
    pub audio: Option<AudioTrack>,
}
