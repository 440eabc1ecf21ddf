//! The one error type of the DASH module: a track the MPD cannot describe, or a fragment the MP4
//! writer refused.

use crate::codec::mp4::Mp4Error;
use crate::media::{Codec, MediaKind, MediaTime};

#[derive(Debug, thiserror::Error)]
pub enum DashError {
    #[error("{codec} configuration cannot give a codecs string: {reason}")]
    BadCodecConfig { codec: Codec, reason: String },
    #[error("{0} is not a codec a DASH representation can carry")]
    UnsupportedCodec(Codec),
    #[error("{kind} decode time goes backwards: {current} after {previous}")]
    DecodeTimeBackwards { kind: MediaKind, previous: MediaTime, current: MediaTime },
    #[error(transparent)]
    Mp4(#[from] Mp4Error),
}
