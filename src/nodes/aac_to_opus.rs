//! `AacToOpus`: an RTMP/SRT stream's AAC becomes the Opus WebRTC players take (SRS's vhost
//! `rtc.rtmp_to_rtc`, with its `opus_bitrate`).
//!
//! AAC is decoded with fdk-aac, resampled to 48 kHz and encoded as 20 ms Opus frames
//! (`codec::audio::aac_to_opus`); metadata and audio in other codecs (a WHIP publisher's Opus) pass
//! through untouched, and so does video, but for B-frames of H.264 and H.265 (`keep_bframe`) and
//! H.264 SEI units (`keep_avc_nalu_sei`) as SRS's bridge. Accepts any codec; converts AAC to Opus.
//! Feeding only `RtcOut` nodes, it transcodes only while the stream has a WebRTC player
//! (`audio_bridge::Demand`, `NodeKind::takes_media_now`).
//!
//! ```dhall
//! srs.node "to_opus" (srs.Node.AacToOpus srs.AacToOpus::{ bitrate = 48000, keep_bframe = False, complexity = 5 })
//! ```

use bytes::Bytes;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::audio_bridge::{self, AudioBridge, Transcoder};
use crate::codec::audio::aac_to_opus::{opus_track_config, AacToOpus};
use crate::codec::audio::{TranscodeError, CHANNELS, OPUS_RATE};
use crate::codec::hevc::HevcConfig;
use crate::codec::rtp::{h264_filter, h265_filter};
use crate::graph::engine::Outputs;
use crate::graph::{Caps, Ports};
use crate::media::{AudioTrack, Codec, Frame, MediaEvent, MediaTime, StreamDescription};
use crate::nodes::{NodeKind, StreamCtx};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// Opus bitrate in bit/s (SRS's `rtc.opus_bitrate`, default 48000).
    pub bitrate: u64,
    /// Off: B-frames are left out (browsers cannot reorder them; SRS's `rtc.keep_bframe`).
    pub keep_bframe: bool,
    /// Off: SEI NAL units are left out (SRS's `rtc.keep_avc_nalu_sei`).
    pub keep_avc_nalu_sei: bool,
    /// libopus's complexity, 0 to 10 (default 5; not in SRS, whose FFmpeg encoder runs at 10):
    /// lower trades quality for streams per core.
    pub complexity: u64,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Transform { accepts: Caps::any(), converts: vec![(Codec::Aac, Codec::Opus)] }
    }

    fn validate(&self) -> Result<(), String> {
        if !(6_000..=510_000).contains(&self.bitrate) {
            return Err(format!("`bitrate` {} is outside Opus's 6000..510000", self.bitrate));
        }
        if self.complexity > 10 {
            return Err(format!("`complexity` {} is outside libopus's 0..10", self.complexity));
        }
        Ok(())
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![
            ("bitrate", self.bitrate.to_string()),
            ("keep_bframe", self.keep_bframe.to_string()),
            ("keep_avc_nalu_sei", self.keep_avc_nalu_sei.to_string()),
            ("complexity", self.complexity.to_string()),
        ]
    }

    fn run(
        &self,
        ctx: StreamCtx,
        input: mpsc::Receiver<MediaEvent>,
        outputs: Outputs,
    ) -> BoxFuture<'static, ()> {
        let bridge = ToOpus {
            bitrate: self.bitrate as u32,
            keep_bframe: self.keep_bframe,
            keep_sei: self.keep_avc_nalu_sei,
            complexity: self.complexity.min(10) as u8,
        };
        Box::pin(audio_bridge::run(bridge, ctx, input, outputs))
    }
}

struct ToOpus {
    bitrate: u32,
    keep_bframe: bool,
    keep_sei: bool,
    complexity: u8,
}

impl AudioBridge for ToOpus {
    const FROM: Codec = Codec::Aac;
    const TO: Codec = Codec::Opus;

    fn open(&self, track: &AudioTrack) -> Result<(Box<dyn Transcoder>, AudioTrack), TranscodeError> {
        let mut transcoder = AacToOpus::new(&track.config, self.bitrate)?;
        transcoder.set_complexity(self.complexity)?;
        let output = AudioTrack {
            codec: Codec::Opus,
            config: opus_track_config(),
            sample_rate: OPUS_RATE,
            channels: CHANNELS as u8,
            profile: String::new(),
        };
        Ok((Box::new(transcoder), output))
    }

    fn video(&self, frame: Frame, description: Option<&StreamDescription>) -> Option<Frame> {
        if frame.codec == Codec::H265 && !self.keep_bframe {
            // The slice type follows the PPS's reserved bits (0 in every encoder seen).
            let extra_bits = description
                .and_then(|d| d.video.as_ref())
                .filter(|v| v.codec == Codec::H265)
                .and_then(|v| HevcConfig::parse(&v.config).ok())
                .and_then(|c| c.pps.first().and_then(|pps| h265_filter::extra_slice_header_bits(pps)))
                .unwrap_or(0);
            return (!h265_filter::is_bframe(&frame.data, extra_bits)).then_some(frame);
        }
        if frame.codec != Codec::H264 {
            return Some(frame);
        }
        if !self.keep_bframe && h264_filter::is_bframe(&frame.data) {
            return None;
        }
        if !self.keep_sei {
            if let Some(data) = h264_filter::strip_sei(&frame.data) {
                return Some(Frame { data, ..frame });
            }
        }
        Some(frame)
    }
}

impl Transcoder for AacToOpus {
    fn push(
        &mut self,
        data: &[u8],
        time: MediaTime,
        out: &mut Vec<(Bytes, MediaTime)>,
    ) -> Result<(), TranscodeError> {
        AacToOpus::push(self, data, time, out)
    }

    fn flush(&mut self, out: &mut Vec<(Bytes, MediaTime)>) -> Result<(), TranscodeError> {
        AacToOpus::flush(self, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complexity_is_libopus_range_and_reaches_the_encoder() {
        let config = Config { bitrate: 48_000, keep_bframe: false, keep_avc_nalu_sei: true, complexity: 5 };
        assert_eq!(config.validate(), Ok(()));
        let error = Config { complexity: 11, ..config.clone() }.validate().unwrap_err();
        assert!(error.contains("`complexity` 11"), "{error}");
        // The same audio at complexity 0 and 5 gives other packets: the setting reached libopus.
        let (asc, frames) = crate::codec::audio::aac_to_opus::tests::aac_tone(48_000, 1);
        let track = AudioTrack {
            codec: Codec::Aac,
            config: asc,
            sample_rate: 48_000,
            channels: 2,
            profile: String::new(),
        };
        let packets = |complexity: u8| {
            let bridge = ToOpus { bitrate: 48_000, keep_bframe: false, keep_sei: true, complexity };
            let (mut transcoder, output) = bridge.open(&track).unwrap();
            assert_eq!((output.codec, output.sample_rate), (Codec::Opus, 48_000));
            let mut out = Vec::new();
            for (i, frame) in frames.iter().enumerate() {
                transcoder.push(frame, MediaTime::from_millis(i as i64 * 21), &mut out).unwrap();
            }
            out.into_iter().map(|(data, _)| data).collect::<Vec<_>>()
        };
        let (cheap, default) = (packets(0), packets(5));
        assert_eq!(cheap.len(), default.len());
        assert_ne!(cheap, default, "the complexity reached libopus");
    }
}
