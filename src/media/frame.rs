//! One access unit: a video picture or an audio frame.

use bytes::Bytes;

use super::{Codec, MediaKind, MediaTime};

/// An access unit. Payloads are canonical: H.264/H.265 as 4-byte length-prefixed NAL units,
/// AV1 as OBUs, AAC/MP3/Opus as raw frames. Cloning is cheap: the payload is shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub codec: Codec,
    /// Decode time.
    pub dts: MediaTime,
    /// Presentation time; equals `dts` unless the stream has B-frames.
    pub pts: MediaTime,
    /// Random access point: a frame a decoder can start from.
    pub keyframe: bool,
    pub data: Bytes,
}

impl Frame {
    pub fn kind(&self) -> MediaKind {
        self.codec.kind()
    }

    /// `pts - dts` in milliseconds: the FLV/RTMP composition time offset.
    pub fn cts_millis(&self) -> i64 {
        (self.pts - self.dts).as_millis()
    }
}
