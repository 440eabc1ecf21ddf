//! AAC frames (raw, as RTMP/FLV carry them) to 20 ms Opus frames at 48 kHz stereo.
//!
//! fdk-aac decodes (LC and HE-AAC, down-mixed to at most two channels), `Resampler` brings the
//! decoder's rate to 48 kHz, and the PCM is cut into 960-sample frames for libopus. Output times
//! come from a `Timeline` fed with each AAC frame's time, so they advance by exactly 20 ms.

use bytes::Bytes;
use fdk_aac::dec::{Decoder, Transport};

use super::resample::Resampler;
use super::timeline::Timeline;
use super::{to_stereo, TranscodeError, CHANNELS, OPUS_FRAME_SAMPLES, OPUS_RATE};
use crate::codec::aac::AudioSpecificConfig;
use crate::codec::opus::OpusHead;
use crate::media::MediaTime;

/// Room for one decoded frame: HE-AAC gives 2048 samples per channel, down-mixed to two.
const PCM_CAPACITY: usize = 2048 * 8;
/// Largest Opus packet we ask libopus for (a 20 ms frame at 510 kbit/s is 1275 bytes).
const MAX_PACKET: usize = 1500;

/// One stream's AAC → Opus transcoder.
pub struct AacToOpus {
    decoder: Decoder,
    encoder: opus::Encoder,
    resampler: Option<Resampler>,
    timeline: Timeline,
    decoded: Vec<i16>,
    stereo: Vec<i16>,
    /// 48 kHz stereo PCM not yet encoded.
    pending: Vec<i16>,
    packet: Vec<u8>,
}

impl std::fmt::Debug for AacToOpus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AacToOpus").field("pending", &(self.pending.len() / CHANNELS)).finish()
    }
}

impl AacToOpus {
    /// A transcoder for the stream whose AudioSpecificConfig is `asc`, encoding at `bitrate` bit/s.
    pub fn new(asc: &[u8], bitrate: u32) -> Result<AacToOpus, TranscodeError> {
        AudioSpecificConfig::parse(asc).map_err(|e| TranscodeError::Config(e.to_string()))?;
        let mut decoder = Decoder::new(Transport::Raw);
        decoder.config_raw(asc).map_err(|e| TranscodeError::AacDecode(e.to_string()))?;
        // Down-mixing in the decoder is cheaper than dropping channels after it.
        let _ = decoder.set_max_output_channels(CHANNELS);
        let mut encoder = opus::Encoder::new(OPUS_RATE, opus::Channels::Stereo, opus::Application::Audio)?;
        encoder.set_bitrate(opus::Bitrate::Bits(bitrate.clamp(6_000, 510_000) as i32))?;
        // Complexity 5 costs about half of the default 10 for a loss a listener hardly hears at 48 kbit/s.
        encoder.set_complexity(5)?;
        Ok(AacToOpus {
            decoder,
            encoder,
            resampler: None,
            timeline: Timeline::new(OPUS_RATE),
            decoded: vec![0; PCM_CAPACITY],
            stereo: Vec::new(),
            pending: Vec::new(),
            packet: vec![0; MAX_PACKET],
        })
    }

    /// Transcodes one AAC frame at `time`, appending the Opus frames it completes to `out`.
    pub fn push(
        &mut self,
        frame: &[u8],
        time: MediaTime,
        out: &mut Vec<(Bytes, MediaTime)>,
    ) -> Result<(), TranscodeError> {
        self.decoder.fill(frame).map_err(|e| TranscodeError::AacDecode(e.to_string()))?;
        self.decoder.decode_frame(&mut self.decoded).map_err(|e| TranscodeError::AacDecode(e.to_string()))?;
        let info = self.decoder.stream_info();
        let (rate, channels) = (info.sampleRate.max(0) as u32, info.numChannels.max(0) as usize);
        let samples = (info.frameSize.max(0) as usize * channels).min(self.decoded.len());
        let resampler = match &mut self.resampler {
            Some(r) => r,
            None => self.resampler.insert(Resampler::new(rate, OPUS_RATE, CHANNELS).ok_or_else(|| {
                TranscodeError::Config(format!("decoded rate {rate}, {channels} channels"))
            })?),
        };
        self.timeline.observe(time, (self.pending.len() / CHANNELS) as u64);
        self.stereo.clear();
        to_stereo(&self.decoded[..samples], channels, &mut self.stereo);
        resampler.process(&self.stereo, &mut self.pending);
        let frame_len = OPUS_FRAME_SAMPLES * CHANNELS;
        let mut taken = 0;
        while self.pending.len() - taken >= frame_len {
            let pcm = &self.pending[taken..taken + frame_len];
            let size = self.encoder.encode(pcm, &mut self.packet)?;
            taken += frame_len;
            let at = self.timeline.stamp(OPUS_FRAME_SAMPLES as u64);
            out.push((Bytes::copy_from_slice(&self.packet[..size]), at));
        }
        self.pending.drain(..taken);
        Ok(())
    }

    /// Encodes what is held at the end of the stream (less than one 20 ms frame), padded with
    /// silence to a whole frame.
    pub fn flush(&mut self, out: &mut Vec<(Bytes, MediaTime)>) -> Result<(), TranscodeError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.pending.resize(OPUS_FRAME_SAMPLES * CHANNELS, 0);
        let size = self.encoder.encode(&self.pending, &mut self.packet)?;
        self.pending.clear();
        let at = self.timeline.stamp(OPUS_FRAME_SAMPLES as u64);
        out.push((Bytes::copy_from_slice(&self.packet[..size]), at));
        Ok(())
    }
}

/// The description of the Opus track this transcoder makes (OpusHead as the config).
pub fn opus_track_config() -> Bytes {
    OpusHead { channels: 2, pre_skip: 312, input_sample_rate: OPUS_RATE, output_gain: 0, mapping_family: 0 }
        .encode()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// 1 kHz, stereo, at `rate`: `frames` samples per channel.
    pub fn tone(rate: u32, frames: usize) -> Vec<i16> {
        (0..frames)
            .flat_map(|n| {
                let s = ((n as f64 * 1000.0 * std::f64::consts::TAU / rate as f64).sin() * 12_000.0) as i16;
                [s, s]
            })
            .collect()
    }

    /// Raw AAC-LC frames of a 1 kHz tone at `rate`, with the encoder's ASC.
    pub fn aac_tone(rate: u32, seconds: usize) -> (Bytes, Vec<Bytes>) {
        use fdk_aac::enc::{AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport};
        let encoder = Encoder::new(EncoderParams {
            bit_rate: BitRate::Cbr(64_000),
            sample_rate: rate,
            transport: Transport::Raw,
            channels: ChannelMode::Stereo,
            audio_object_type: AudioObjectType::Mpeg4LowComplexity,
        })
        .unwrap();
        let info = encoder.info().unwrap();
        let asc = Bytes::copy_from_slice(&info.confBuf[..info.confSize as usize]);
        let pcm = tone(rate, rate as usize * seconds);
        let mut frames = Vec::new();
        let mut out = vec![0u8; 8192];
        for chunk in pcm.chunks(2048) {
            let encoded = encoder.encode(chunk, &mut out).unwrap();
            if encoded.output_size > 0 {
                frames.push(Bytes::copy_from_slice(&out[..encoded.output_size]));
            }
        }
        (asc, frames)
    }

    #[test]
    fn aac_44k1_becomes_20ms_opus_frames_with_continuous_times() {
        let (asc, frames) = aac_tone(44_100, 2);
        let mut transcoder = AacToOpus::new(&asc, 48_000).unwrap();
        let mut out = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            let time = MediaTime::from_millis(1000 + (i as i64 * 1024 * 1000) / 44_100);
            transcoder.push(frame, time, &mut out).unwrap();
        }
        // Every AAC frame's 1024 samples became 1114.6 samples at 48 kHz.
        let expected = frames.len() as f64 * 1024.0 * 48_000.0 / 44_100.0 / 960.0;
        assert!((out.len() as f64 - expected).abs() <= 1.0, "{} vs {expected}", out.len());
        assert_eq!(out[0].1.as_millis(), 1000);
        for pair in out.windows(2) {
            assert_eq!(
                (pair[1].1 - pair[0].1).rescale(crate::media::Timebase::new(48_000).unwrap()).ticks(),
                960
            );
        }
        // Decode the Opus back: a tone is there (not silence).
        let mut decoder = opus::Decoder::new(48_000, opus::Channels::Stereo).unwrap();
        let mut pcm = vec![0i16; 960 * 2];
        let mut peak = 0i16;
        for (packet, _) in out.iter().skip(10) {
            let n = decoder.decode(packet, &mut pcm, false).unwrap();
            assert_eq!(n, 960);
            peak = peak.max(pcm.iter().map(|s| s.saturating_abs()).max().unwrap_or(0));
        }
        assert!(peak > 5_000, "peak {peak}");
    }

    #[test]
    fn flush_encodes_the_last_partial_frame() {
        let (asc, frames) = aac_tone(44_100, 1);
        let mut transcoder = AacToOpus::new(&asc, 48_000).unwrap();
        let mut out = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            let time = MediaTime::from_millis((i as i64 * 1024 * 1000) / 44_100);
            transcoder.push(frame, time, &mut out).unwrap();
        }
        let input_ms = frames.len() as i64 * 1024 * 1000 / 44_100;
        let held_end = out.last().unwrap().1.as_millis() + 20;
        transcoder.flush(&mut out).unwrap();
        let end = out.last().unwrap().1.as_millis() + 20;
        // Before the flush up to 20 ms of input was missing; after it the output covers it all.
        assert!(
            held_end <= input_ms && end >= input_ms && end < input_ms + 20,
            "{held_end} {end} {input_ms}"
        );
        let mut again = Vec::new();
        transcoder.flush(&mut again).unwrap();
        assert!(again.is_empty());
    }

    #[test]
    fn corrupt_aac_is_an_error_and_the_stream_goes_on() {
        let (asc, frames) = aac_tone(48_000, 1);
        let mut transcoder = AacToOpus::new(&asc, 48_000).unwrap();
        let mut out = Vec::new();
        let garbage = [0xffu8; 200];
        let mut errors = 0;
        for (i, frame) in frames.iter().enumerate() {
            let time = MediaTime::from_millis(i as i64 * 21);
            if i == 5 && transcoder.push(&garbage, time, &mut out).is_err() {
                errors += 1;
            }
            transcoder.push(frame, time, &mut out).unwrap();
        }
        assert!(errors <= 1);
        assert!(out.len() >= frames.len() * 1024 / 960 - 2);
        assert!(AacToOpus::new(&[], 48_000).is_err());
    }
}
