//! FLV, sans-IO: the file header, an incremental tag reader, the tag writer, and the headers at the start
//! of audio and video tag bodies (legacy FLV, the legacy HEVC codec id 12, and Enhanced RTMP v1/v2).
//! A tag body is also an RTMP audio/video/data message payload, so the body parsers serve RTMP too.
//!
//! Nothing here turns tags into media frames (that is `nodes::flv_frames`), reads files, or knows time.

mod audio;
mod cursor;
mod error;
mod header;
mod reader;
mod script;
mod video;
mod writer;

use bytes::Bytes;

pub use audio::{AudioCodec, AudioPacketKind, AudioTagHeader, SoundParams};
pub use error::FlvError;
pub use header::{FlvHeader, HEADER_LEN};
pub use reader::{read_all, FlvReader};
pub use script::{
    metadata_body, metadata_body_with_size_fields, metadata_body_without_size_fields, on_metadata,
    unwrap_set_data_frame, DURATION_VALUE_OFFSET, FILESIZE_VALUE_OFFSET,
};
pub use video::{VideoCodec, VideoFrameType, VideoPacketKind, VideoTagHeader};
pub use writer::{append_tag, tag_bytes, tag_framing, TAG_HEADER_LEN};

/// The kinds of FLV tag (the same numbers as the RTMP message types for audio, video and AMF0 data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagType {
    Audio,
    Video,
    Script,
}

impl TagType {
    pub fn from_u8(value: u8) -> Option<TagType> {
        match value {
            8 => Some(TagType::Audio),
            9 => Some(TagType::Video),
            18 => Some(TagType::Script),
            _ => None,
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            TagType::Audio => 8,
            TagType::Video => 9,
            TagType::Script => 18,
        }
    }
}

/// One tag as read from a file or stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlvTag {
    pub tag_type: TagType,
    /// Milliseconds: the 24-bit timestamp with the extension byte as its top 8 bits.
    pub timestamp_ms: u32,
    /// Always 0 in conforming files; kept as read.
    pub stream_id: u32,
    /// The tag body, sharing the reader's buffer.
    pub body: Bytes,
    /// Byte offset of the tag header in the file.
    pub offset: u64,
    /// The previous-tag-size field after this tag did not equal its size (tolerated, reported).
    pub previous_tag_size_mismatch: bool,
}
