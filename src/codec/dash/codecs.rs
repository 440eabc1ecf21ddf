//! RFC 6381 `codecs` strings for MPD representations, read from the codec configuration a track
//! carries: `avc1.PPCCLL` (avcC), `hvc1.…` (hvcC, ISO 14496-15 annex E), `av01.P.LLT.DD` (av1C),
//! `mp4a.40.<object type>` (AudioSpecificConfig), `mp4a.6B` (MP3) and `opus`.
//!
//! The sample entries written by `codec::mp4` are `avc1`, `hvc1`, `av01`, `mp4a` and `Opus`, so the
//! strings name the same four-character codes.

use std::fmt::Write;

use super::error::DashError;
use crate::codec::aac::AudioSpecificConfig;
use crate::codec::av1::Av1Config;
use crate::media::{AudioTrack, Codec, VideoTrack};

/// Length of the fixed part of an hvcC record up to and including general_level_idc.
const HVCC_FIXED_LEN: usize = 13;

/// The codecs string of a video track.
pub fn video_codecs(track: &VideoTrack) -> Result<String, DashError> {
    let config = &track.config[..];
    let bad = |reason: &str| DashError::BadCodecConfig { codec: track.codec, reason: reason.into() };
    match track.codec {
        Codec::H264 => {
            if config.len() < 4 || config[0] != 1 {
                return Err(bad("avcC shorter than 4 bytes or not version 1"));
            }
            Ok(format!("avc1.{:02x}{:02x}{:02x}", config[1], config[2], config[3]))
        }
        Codec::H265 => {
            if config.len() < HVCC_FIXED_LEN {
                return Err(bad("hvcC shorter than 13 bytes"));
            }
            Ok(hevc_codecs(config))
        }
        Codec::Av1 => {
            let av1 = Av1Config::parse(config).map_err(|e| bad(&e.to_string()))?;
            Ok(format!(
                "av01.{}.{:02}{}.{:02}",
                av1.seq_profile,
                av1.seq_level_idx_0,
                if av1.seq_tier_0 { 'H' } else { 'M' },
                av1.bit_depth()
            ))
        }
        other => Err(DashError::UnsupportedCodec(other)),
    }
}

/// `hvc1.[A|B|C]<profile>.<compatibility, bit-reversed hex>.<L|H><level>[.<constraint byte>]*`,
/// trailing zero constraint bytes left out.
fn hevc_codecs(hvcc: &[u8]) -> String {
    let profile_space = hvcc[1] >> 6;
    let tier_high = hvcc[1] & 0x20 != 0;
    let profile_idc = hvcc[1] & 0x1f;
    let compatibility = u32::from_be_bytes([hvcc[2], hvcc[3], hvcc[4], hvcc[5]]).reverse_bits();
    let constraints = &hvcc[6..12];
    let level_idc = hvcc[12];
    let space = ["", "A", "B", "C"][usize::from(profile_space)];
    let mut text = format!(
        "hvc1.{space}{profile_idc}.{compatibility:X}.{}{level_idc}",
        if tier_high { 'H' } else { 'L' }
    );
    let n_significant = constraints.iter().rposition(|byte| *byte != 0).map_or(0, |i| i + 1);
    for byte in &constraints[..n_significant] {
        // Writing to a String cannot fail.
        let _ = write!(text, ".{byte:X}");
    }
    text
}

/// The codecs string of an audio track.
pub fn audio_codecs(track: &AudioTrack) -> Result<String, DashError> {
    match track.codec {
        Codec::Aac => {
            let config = AudioSpecificConfig::parse(&track.config)
                .map_err(|e| DashError::BadCodecConfig { codec: Codec::Aac, reason: e.to_string() })?;
            Ok(format!("mp4a.40.{}", config.object_type))
        }
        Codec::Mp3 => Ok(String::from("mp4a.6B")),
        Codec::Opus => Ok(String::from("opus")),
        other => Err(DashError::UnsupportedCodec(other)),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn video(codec: Codec, config: &[u8]) -> VideoTrack {
        VideoTrack {
            codec,
            config: Bytes::copy_from_slice(config),
            width: 320,
            height: 240,
            profile: String::new(),
            level: String::new(),
        }
    }

    fn audio(codec: Codec, config: &[u8]) -> AudioTrack {
        AudioTrack {
            codec,
            config: Bytes::copy_from_slice(config),
            sample_rate: 44_100,
            channels: 2,
            profile: String::new(),
        }
    }

    #[test]
    fn avc_string_is_profile_compatibility_level_in_hex() {
        assert_eq!(video_codecs(&video(Codec::H264, &[1, 0x64, 0x00, 0x1f, 0xff])).unwrap(), "avc1.64001f");
        assert_eq!(video_codecs(&video(Codec::H264, &[1, 0x42, 0xc0, 0x0d])).unwrap(), "avc1.42c00d");
        assert!(video_codecs(&video(Codec::H264, &[1, 0x42])).is_err());
    }

    #[test]
    fn hevc_string_follows_iso_14496_15_annex_e() {
        // Main profile, compatibility flags 0x60000000 (bits 1 and 2), level 93, constraint byte 0xb0.
        let hvcc = [1, 0x01, 0x60, 0, 0, 0, 0xb0, 0, 0, 0, 0, 0, 93, 0xf0];
        assert_eq!(video_codecs(&video(Codec::H265, &hvcc)).unwrap(), "hvc1.1.6.L93.B0");
        // Main 10, high tier, level 120, no constraint bytes.
        let hvcc = [1, 0x22, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 120];
        assert_eq!(video_codecs(&video(Codec::H265, &hvcc)).unwrap(), "hvc1.2.4.H120");
    }

    #[test]
    fn av1_string_has_profile_level_tier_and_depth() {
        // marker+version, profile 0 level 8, tier 0, 8-bit 4:2:0.
        let av1c = [0x81, 0x08, 0x0c, 0x00];
        assert_eq!(video_codecs(&video(Codec::Av1, &av1c)).unwrap(), "av01.0.08M.08");
    }

    #[test]
    fn strings_from_ffmpeg_made_configurations() {
        let fixture = |name: &str| std::fs::read(format!("tests/fixtures/bits/{name}")).unwrap();
        let h264 = video(Codec::H264, &fixture("high_320x240.avcc"));
        assert_eq!(video_codecs(&h264).unwrap(), "avc1.64001f");
        let h265 = video(Codec::H265, &fixture("main_426x240.hvcc"));
        assert_eq!(video_codecs(&h265).unwrap(), "hvc1.1.6.L60.90");
        let av1 = video(Codec::Av1, &fixture("av1_426x240.av1c"));
        assert_eq!(video_codecs(&av1).unwrap(), "av01.0.00M.08");
        let aac = audio(Codec::Aac, &fixture("lc_44100_stereo.asc"));
        assert_eq!(audio_codecs(&aac).unwrap(), "mp4a.40.2");
    }

    #[test]
    fn audio_strings_name_the_object_type() {
        assert_eq!(audio_codecs(&audio(Codec::Aac, &[0x12, 0x10])).unwrap(), "mp4a.40.2");
        assert_eq!(audio_codecs(&audio(Codec::Aac, &[0x2b, 0x92, 0x08, 0x00])).unwrap(), "mp4a.40.5");
        assert_eq!(audio_codecs(&audio(Codec::Mp3, &[])).unwrap(), "mp4a.6B");
        assert_eq!(audio_codecs(&audio(Codec::Opus, &[])).unwrap(), "opus");
        assert!(matches!(audio_codecs(&audio(Codec::H264, &[])), Err(DashError::UnsupportedCodec(_))));
    }
}
