//! Audio transcoding between the codecs of WebRTC (Opus, 48 kHz) and of RTMP/HLS (AAC), sans-IO:
//! encoded frames and their times in, encoded frames and their times out.
//!
//! `aac_to_opus` (fdk-aac decode, `resample` to 48 kHz, 20 ms Opus frames) and `opus_to_aac`
//! (Opus decode, AAC-LC encode with fdk-aac); `timeline` stamps the output from samples counted,
//! so it stays continuous and monotonic whatever the input's clock does.

pub mod aac_to_opus;
pub mod fdk;
pub mod opus_to_aac;
pub mod resample;
pub mod timeline;

/// The one rate Opus runs at here (RTP's Opus clock, RFC 7587).
pub const OPUS_RATE: u32 = 48_000;
/// Samples per channel in one 20 ms Opus frame at 48 kHz.
pub const OPUS_FRAME_SAMPLES: usize = 960;
/// Channels every transcoder outputs: WebRTC signals Opus as stereo, and AAC players expect it.
pub const CHANNELS: usize = 2;

/// Why a frame could not be transcoded; the stream goes on with the next one.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error("aac decoder: {0}")]
    AacDecode(String),
    #[error("aac encoder: {0}")]
    AacEncode(String),
    #[error("opus: {0}")]
    Opus(#[from] opus::Error),
    #[error("bad audio config: {0}")]
    Config(String),
}

/// `input` (interleaved, `channels` channels) as interleaved stereo: mono is doubled, more than
/// two channels keep the first two.
pub fn to_stereo(input: &[i16], channels: usize, out: &mut Vec<i16>) {
    match channels {
        0 => {}
        1 => out.extend(input.iter().flat_map(|s| [*s, *s])),
        2 => out.extend_from_slice(input),
        n => out.extend(input.chunks_exact(n).flat_map(|c| [c[0], c[1]])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_from_any_layout() {
        let mut out = Vec::new();
        to_stereo(&[1, 2], 1, &mut out);
        assert_eq!(out, [1, 1, 2, 2]);
        out.clear();
        to_stereo(&[1, 2, 3, 4, 5, 6], 3, &mut out);
        assert_eq!(out, [1, 2, 4, 5]);
    }
}
