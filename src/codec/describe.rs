//! From a sequence header to a track description: the bridge between bitstream parsers and `media`.

use bytes::Bytes;

use crate::media::{AudioTrack, Codec, VideoTrack};

#[derive(Debug, thiserror::Error)]
pub enum DescribeError {
    #[error("{codec} configuration: {reason}")]
    Invalid { codec: Codec, reason: String },
}

/// Describes a video track from its decoder configuration record (avcC, hvcC, av1C).
pub fn video_track(codec: Codec, config: Bytes) -> Result<VideoTrack, DescribeError> {
    Ok(VideoTrack { codec, config, width: 0, height: 0, profile: String::new(), level: String::new() })
}

/// Describes an audio track from its configuration (AudioSpecificConfig, OpusHead) or, for MP3, a first frame.
pub fn audio_track(codec: Codec, config: Bytes) -> Result<AudioTrack, DescribeError> {
    Ok(AudioTrack { codec, config, sample_rate: 0, channels: 0, profile: String::new() })
}
