//! `OpusToAac`: a WebRTC publisher's Opus becomes the AAC that RTMP, HTTP-FLV, HLS and DVR
//! take (SRS's vhost `rtc.rtc_to_rtmp`, with its `aac_bitrate`).
//!
//! Opus is decoded and encoded as AAC-LC, 48 kHz stereo, with fdk-aac
//! (`codec::audio::opus_to_aac`); the AAC sequence header is in the description before the
//! first frame, and output times are counted in samples, so they never go back when the
//! browser's RTP clock does. Video, metadata and AAC pass through untouched. Accepts any codec;
//! converts Opus to AAC.
//!
//! ```dhall
//! srs.node "to_aac" (srs.Node.OpusToAac srs.OpusToAac::{ bitrate = 48000 })
//! ```

use bytes::Bytes;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::audio_bridge::{self, AudioBridge, Transcoder};
use crate::codec::audio::opus_to_aac::OpusToAac;
use crate::codec::audio::TranscodeError;
use crate::codec::describe;
use crate::graph::engine::Outputs;
use crate::graph::{Caps, Ports};
use crate::media::{AudioTrack, Codec, MediaEvent, MediaTime};
use crate::nodes::{NodeKind, StreamCtx};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// AAC bitrate in bit/s (SRS's `rtc.aac_bitrate`, default 48000).
    pub bitrate: u64,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Transform { accepts: Caps::any(), converts: vec![(Codec::Opus, Codec::Aac)] }
    }

    fn validate(&self) -> Result<(), String> {
        if !(16_000..=320_000).contains(&self.bitrate) {
            return Err(format!("`bitrate` {} is outside 16000..320000", self.bitrate));
        }
        Ok(())
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("bitrate", self.bitrate.to_string())]
    }

    fn run(
        &self,
        ctx: StreamCtx,
        input: mpsc::Receiver<MediaEvent>,
        outputs: Outputs,
    ) -> BoxFuture<'static, ()> {
        Box::pin(audio_bridge::run(ToAac { bitrate: self.bitrate as u32 }, ctx, input, outputs))
    }
}

struct ToAac {
    bitrate: u32,
}

impl AudioBridge for ToAac {
    const FROM: Codec = Codec::Opus;
    const TO: Codec = Codec::Aac;

    fn open(&self, _: &AudioTrack) -> Result<(Box<dyn Transcoder>, AudioTrack), TranscodeError> {
        let transcoder = OpusToAac::new(self.bitrate)?;
        let output = describe::audio_track(Codec::Aac, transcoder.asc())
            .map_err(|e| TranscodeError::Config(e.to_string()))?;
        Ok((Box::new(transcoder), output))
    }
}

impl Transcoder for OpusToAac {
    fn push(
        &mut self,
        data: &[u8],
        time: MediaTime,
        out: &mut Vec<(Bytes, MediaTime)>,
    ) -> Result<(), TranscodeError> {
        OpusToAac::push(self, data, time, out)
    }

    fn flush(&mut self, out: &mut Vec<(Bytes, MediaTime)>) -> Result<(), TranscodeError> {
        OpusToAac::flush(self, out)
    }
}
