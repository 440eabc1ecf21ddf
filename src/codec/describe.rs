//! Turns a codec configuration into a described track: `VideoTrack` and `AudioTrack` with width,
//! height, profile and level, or sample rate, channels and profile, as SRS reports them.
//!
//! The inputs are what a sequence header carries: avcC, hvcC or av1C for video; the AudioSpecificConfig
//! for AAC, the OpusHead for Opus, and for MP3 the bytes of the first frame (MP3 has no configuration,
//! so the track keeps an empty `config`). Nothing here reads frames beyond that first MP3 header.

use bytes::Bytes;
use thiserror::Error;

use super::aac::{self, AacError, AudioSpecificConfig};
use super::av1::{self, Av1Config, Av1Error};
use super::avc::{self, AvcConfig, AvcError};
use super::hevc::{self, HevcConfig, HevcError};
use super::mp3::{self, Mp3Error};
use super::opus::{self, OpusError, OpusHead};
use crate::media::{AudioTrack, Codec, MediaKind, VideoTrack};

/// What can go wrong while describing a track.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DescribeError {
    #[error("{0} is not a {1} codec")]
    WrongKind(Codec, MediaKind),
    #[error("{0} configuration holds no sequence parameter set")]
    NoSps(Codec),
    #[error("h264 configuration: {0}")]
    Avc(#[from] AvcError),
    #[error("h265 configuration: {0}")]
    Hevc(#[from] HevcError),
    #[error("av1 configuration: {0}")]
    Av1(#[from] Av1Error),
    #[error("aac configuration: {0}")]
    Aac(#[from] AacError),
    #[error("mp3 first frame: {0}")]
    Mp3(#[from] Mp3Error),
    #[error("opus head: {0}")]
    Opus(#[from] OpusError),
}

/// Describes a video track from its decoder configuration record.
///
/// Profile and level come from the record's header (as SRS reads them); the size comes from the first
/// SPS, or for AV1 from the sequence header OBU when the record carries one (0x0 otherwise).
pub fn video_track(codec: Codec, config: Bytes) -> Result<VideoTrack, DescribeError> {
    let (width, height, profile, level) = match codec {
        Codec::H264 => {
            let record = AvcConfig::parse(&config)?;
            let sps = avc::parse_sps(record.sps.first().ok_or(DescribeError::NoSps(codec))?)?;
            let profile = avc::profile_name(record.profile_idc).to_string();
            (sps.width, sps.height, profile, avc::level_name(record.level_idc))
        }
        Codec::H265 => {
            let record = HevcConfig::parse(&config)?;
            let sps = hevc::parse_sps(record.sps.first().ok_or(DescribeError::NoSps(codec))?)?;
            let profile = hevc::profile_name(record.general_profile_idc).to_string();
            (sps.width, sps.height, profile, hevc::level_name(record.general_level_idc))
        }
        Codec::Av1 => {
            let record = Av1Config::parse(&config)?;
            let (width, height) = match record.sequence_header()? {
                Some(header) => (header.max_frame_width, header.max_frame_height),
                None => (0, 0),
            };
            let profile = av1::profile_name(record.seq_profile).to_string();
            (width, height, profile, av1::level_name(record.seq_level_idx_0))
        }
        Codec::Aac | Codec::Mp3 | Codec::Opus => {
            return Err(DescribeError::WrongKind(codec, MediaKind::Video))
        }
    };
    Ok(VideoTrack { codec, config, width, height, profile, level })
}

/// Describes an audio track from its configuration (ASC, OpusHead, or the first MP3 frame).
///
/// AAC with SBR reports the SBR output rate and, with PS, two channels, as decoders (and ffprobe) do;
/// its profile is "HE" or "HEv2" whether the SBR/PS signalling is explicit or a backward-compatible
/// extension. Opus reports 48000 Hz, its only decoding rate. MP3 and Opus have an empty profile.
pub fn audio_track(codec: Codec, config: Bytes) -> Result<AudioTrack, DescribeError> {
    match codec {
        Codec::Aac => {
            let (asc, extension) = AudioSpecificConfig::parse_with_extension(&config)?;
            let sample_rate =
                extension.extension_sample_rate.filter(|_| extension.sbr).unwrap_or(asc.sample_rate);
            let channels = if extension.ps && asc.channels == 1 { 2 } else { asc.channels };
            let profile = match (extension.sbr, extension.ps) {
                (_, true) => aac::profile_name(aac::OBJECT_TYPE_PS),
                (true, false) => aac::profile_name(aac::OBJECT_TYPE_SBR),
                _ => asc.profile_name(),
            };
            Ok(AudioTrack { codec, config, sample_rate, channels, profile: profile.to_string() })
        }
        Codec::Mp3 => {
            let header = mp3::parse_header(&config)?;
            let (sample_rate, channels) = (header.sample_rate, header.channels);
            Ok(AudioTrack { codec, config: Bytes::new(), sample_rate, channels, profile: String::new() })
        }
        Codec::Opus => {
            let head = OpusHead::parse(&config)?;
            let sample_rate = opus::DECODE_SAMPLE_RATE;
            Ok(AudioTrack { codec, config, sample_rate, channels: head.channels, profile: String::new() })
        }
        Codec::H264 | Codec::H265 | Codec::Av1 => Err(DescribeError::WrongKind(codec, MediaKind::Audio)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values are ffprobe's for the clips scripts/fixtures/bits.sh encodes (it prints them), e.g.
    // `ffprobe -v error -show_entries stream=profile,level,width,height,sample_rate,channels <clip>`.
    fn fixture(bytes: &'static [u8]) -> Bytes {
        Bytes::from_static(bytes)
    }
    const HIGH_AVCC: &[u8] = include_bytes!("../../tests/fixtures/bits/high_320x240.avcc");
    const BASELINE_AVCC: &[u8] = include_bytes!("../../tests/fixtures/bits/baseline_426x240.avcc");
    const MAIN_HVCC: &[u8] = include_bytes!("../../tests/fixtures/bits/main_426x240.hvcc");
    const AV1C: &[u8] = include_bytes!("../../tests/fixtures/bits/av1_426x240.av1c");
    const LC_ASC: &[u8] = include_bytes!("../../tests/fixtures/bits/lc_44100_stereo.asc");
    const MP3_MONO: &[u8] = include_bytes!("../../tests/fixtures/bits/mono_22050.mp3");
    const OPUS_HEAD: &[u8] = include_bytes!("../../tests/fixtures/bits/stereo_48000.opushead");

    fn video(codec: Codec, bytes: &'static [u8]) -> (u32, u32, String, String) {
        let track = video_track(codec, fixture(bytes)).unwrap();
        assert_eq!(&track.config[..], bytes, "the record is kept as carried");
        (track.width, track.height, track.profile, track.level)
    }

    #[test]
    fn video_tracks_match_ffprobe() {
        let expect = |w, h, p: &str, l: &str| (w, h, p.to_string(), l.to_string());
        assert_eq!(video(Codec::H264, HIGH_AVCC), expect(320, 240, "High", "3.1"));
        // ffprobe says "Constrained Baseline"; SRS reads only profile_idc and says "Baseline".
        assert_eq!(video(Codec::H264, BASELINE_AVCC), expect(426, 240, "Baseline", "3"));
        // ffprobe's level 60 is level 2 (general_level_idc / 30).
        assert_eq!(video(Codec::H265, MAIN_HVCC), expect(426, 240, "Main", "2"));
        // ffprobe's level 0 is seq_level_idx 0, level 2.0.
        assert_eq!(video(Codec::Av1, AV1C), expect(426, 240, "Main", "2.0"));
    }

    #[test]
    fn audio_tracks_match_ffprobe() {
        let track = audio_track(Codec::Aac, fixture(LC_ASC)).unwrap();
        assert_eq!((track.sample_rate, track.channels, track.profile.as_str()), (44100, 2, "LC"));
        let track = audio_track(Codec::Mp3, fixture(MP3_MONO)).unwrap();
        assert_eq!((track.sample_rate, track.channels, track.config.len()), (22050, 1, 0));
        let track = audio_track(Codec::Opus, fixture(OPUS_HEAD)).unwrap();
        assert_eq!((track.sample_rate, track.channels, &track.config[..]), (48000, 2, OPUS_HEAD));
    }

    #[test]
    fn he_aac_reports_output_rate_and_channels() {
        let he =
            AudioSpecificConfig { object_type: 5, sample_rate_index: 7, sample_rate: 22050, channels: 2 };
        let track = audio_track(Codec::Aac, he.encode()).unwrap();
        assert_eq!((track.sample_rate, track.channels, track.profile.as_str()), (44100, 2, "HE"));
        let hev2 = AudioSpecificConfig { object_type: 29, channels: 1, ..he };
        let track = audio_track(Codec::Aac, hev2.encode()).unwrap();
        assert_eq!((track.sample_rate, track.channels, track.profile.as_str()), (44100, 2, "HEv2"));
        // Backward-compatible signalling: LC 24000 mono, then sync extension 0x2b7, SBR present, 48000.
        let implicit = Bytes::from_static(&[0x13, 0x08, 0x56, 0xe5, 0x98]);
        let track = audio_track(Codec::Aac, implicit).unwrap();
        assert_eq!((track.sample_rate, track.channels, track.profile.as_str()), (48000, 1, "HE"));
    }

    #[test]
    fn wrong_kind_and_bad_configs_are_errors() {
        assert_eq!(
            video_track(Codec::Aac, fixture(LC_ASC)),
            Err(DescribeError::WrongKind(Codec::Aac, MediaKind::Video))
        );
        assert_eq!(
            audio_track(Codec::H264, fixture(HIGH_AVCC)),
            Err(DescribeError::WrongKind(Codec::H264, MediaKind::Audio))
        );
        let no_sps = Bytes::from_static(&[1, 0x64, 0, 0x1f, 0xff, 0xe0, 0]);
        assert_eq!(video_track(Codec::H264, no_sps), Err(DescribeError::NoSps(Codec::H264)));
        assert!(matches!(video_track(Codec::H265, fixture(&MAIN_HVCC[..30])), Err(DescribeError::Hevc(_))));
        assert!(matches!(audio_track(Codec::Mp3, Bytes::new()), Err(DescribeError::Mp3(_))));
        assert!(matches!(audio_track(Codec::Opus, fixture(LC_ASC)), Err(DescribeError::Opus(_))));
    }

    #[test]
    fn fuzzed_configs_give_errors_not_panics() {
        let mut rng = crate::codec::xorshift::XorShift::new(0xfeed_face_0102_0304);
        let mut next = move || rng.next_u64();
        let cases: [(Codec, &[u8]); 7] = [
            (Codec::H264, HIGH_AVCC),
            (Codec::H265, &MAIN_HVCC[..120]),
            (Codec::Av1, AV1C),
            (Codec::Aac, LC_ASC),
            (Codec::Mp3, &MP3_MONO[..4]),
            (Codec::Opus, OPUS_HEAD),
            (Codec::H264, BASELINE_AVCC),
        ];
        let mut n_errors = 0;
        for round in 0..7000 {
            let (codec, base) = cases[round % cases.len()];
            let mut data = base.to_vec();
            for _ in 0..(next() % 3 + 1) {
                let idx = (next() as usize) % data.len();
                data[idx] = next() as u8;
            }
            data.truncate((next() as usize) % (data.len() + 1));
            let config = Bytes::from(data);
            let failed = match codec.kind() {
                MediaKind::Video => video_track(codec, config).is_err(),
                MediaKind::Audio => audio_track(codec, config).is_err(),
            };
            n_errors += usize::from(failed);
        }
        assert!(n_errors > 1000, "only {n_errors} of 7000 mutations were rejected");
    }
}
