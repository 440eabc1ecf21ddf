//! AAC frames (raw, as RTMP/FLV carry them) to 20 ms Opus frames at 48 kHz stereo.
//!
//! fdk-aac decodes (LC and HE-AAC, down-mixed to at most two channels; `fdk::AacDecoder`, which
//! adds no delay of its own to AAC-LC, and whose SBR delay for HE-AAC is dropped from the front),
//! `Resampler` brings the decoder's rate to 48 kHz, and the PCM is cut into 960-sample frames for
//! libopus. Output times come from a `Timeline` fed with each AAC frame's time, so they advance by
//! exactly 20 ms.

use bytes::Bytes;

use super::fdk::AacDecoder;
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

#[derive(Debug, Clone, Copy)]
struct DecoderDelay {
    /// Decoded samples (per channel) still to drop: they come before the stream's first sample.
    to_drop: usize,
    /// The whole delay, in 48 kHz samples.
    at_output_rate: u64,
}

/// libopus's complexity unless set: about half the CPU of libopus's own default, 10 (what SRS's
/// FFmpeg encoder runs at), for a loss a listener hardly hears at 48 kbit/s. Below 5 the encoder
/// leaves out its pitch pre-filter and its last check for transients (`celt_encoder.c`).
pub const DEFAULT_COMPLEXITY: u8 = 5;

/// One stream's AAC → Opus transcoder.
pub struct AacToOpus {
    decoder: AacDecoder,
    encoder: opus::Encoder,
    /// The decoder's output delay (HE-AAC's SBR delay; none for AAC-LC), known after its first
    /// frame: as many decoded samples are dropped from the front, and each later frame's time is
    /// that much past the first of its samples.
    delay: Option<DecoderDelay>,
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
        // Down-mixing in the decoder is cheaper than dropping channels after it.
        let decoder = AacDecoder::new(asc, CHANNELS).map_err(|e| TranscodeError::AacDecode(e.to_string()))?;
        let mut encoder = opus::Encoder::new(OPUS_RATE, opus::Channels::Stereo, opus::Application::Audio)?;
        encoder.set_bitrate(opus::Bitrate::Bits(bitrate.clamp(6_000, 510_000) as i32))?;
        encoder.set_complexity(i32::from(DEFAULT_COMPLEXITY))?;
        Ok(AacToOpus {
            decoder,
            encoder,
            delay: None,
            resampler: None,
            timeline: Timeline::new(OPUS_RATE),
            decoded: vec![0; PCM_CAPACITY],
            stereo: Vec::new(),
            pending: Vec::new(),
            packet: vec![0; MAX_PACKET],
        })
    }

    /// libopus's complexity, 0 (cheapest) to 10.
    pub fn set_complexity(&mut self, complexity: u8) -> Result<(), TranscodeError> {
        Ok(self.encoder.set_complexity(i32::from(complexity.min(10)))?)
    }

    /// Transcodes one AAC frame at `time`, appending the Opus frames it completes to `out`.
    pub fn push(
        &mut self,
        frame: &[u8],
        time: MediaTime,
        out: &mut Vec<(Bytes, MediaTime)>,
    ) -> Result<(), TranscodeError> {
        let decoded = self
            .decoder
            .decode(frame, &mut self.decoded)
            .map_err(|e| TranscodeError::AacDecode(e.to_string()))?;
        let (rate, channels) = (decoded.sample_rate, decoded.channels);
        let delay = self.delay.get_or_insert(DecoderDelay {
            to_drop: decoded.output_delay as usize,
            at_output_rate: u64::from(decoded.output_delay) * u64::from(OPUS_RATE) / u64::from(rate.max(1)),
        });
        let dropped = delay.to_drop.min(decoded.samples);
        delay.to_drop -= dropped;
        let pcm = &self.decoded[dropped * channels..decoded.samples * channels];
        let resampler = match &mut self.resampler {
            Some(r) => r,
            None => self.resampler.insert(Resampler::new(rate, OPUS_RATE, CHANNELS).ok_or_else(|| {
                TranscodeError::Config(format!("decoded rate {rate}, {channels} channels"))
            })?),
        };
        // This frame's first sample (the one `time` is of) comes `delay` after the first it adds.
        self.timeline.observe(time, (self.pending.len() / CHANNELS) as u64 + delay.at_output_rate);
        self.stereo.clear();
        to_stereo(pcm, channels, &mut self.stereo);
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

    /// Where a click lands on the output's timeline, against where it is on the input's: the AAC
    /// stream's own timeline is its frames' times with fdk's declared decoder delay taken off; the
    /// Opus stream's is its packets' times with the encoder's look-ahead (the OpusHead pre-skip)
    /// taken off. Gives both, in ms.
    fn click_times(object_type: fdk_aac::enc::AudioObjectType) -> (f64, f64) {
        use fdk_aac::enc::{BitRate, ChannelMode, Encoder, EncoderParams, Transport};
        let rate = 44_100u32;
        let encoder = Encoder::new(EncoderParams {
            bit_rate: BitRate::Cbr(64_000),
            sample_rate: rate,
            transport: Transport::Raw,
            channels: ChannelMode::Stereo,
            audio_object_type: object_type,
        })
        .unwrap();
        let info = encoder.info().unwrap();
        let asc = info.confBuf[..info.confSize as usize].to_vec();
        let frame_samples = info.frameLength as usize;
        let click_at = rate as usize / 2 + 123;
        let pcm: Vec<i16> = (0..rate as usize * 2)
            .flat_map(|n| {
                let s = if (click_at..click_at + 64).contains(&n) { 20_000 } else { 0 };
                [s, s]
            })
            .collect();
        let mut out = vec![0u8; 8192];
        let frames: Vec<Vec<u8>> = pcm
            .chunks_exact(frame_samples * 2)
            .filter_map(|chunk| {
                let n = encoder.encode(chunk, &mut out).unwrap().output_size;
                (n > 0).then(|| out[..n].to_vec())
            })
            .collect();
        let time_of =
            |i: usize| MediaTime::from_millis(3_000 + (i * frame_samples * 1000 / rate as usize) as i64);
        let onset = |pcm: &[i16]| pcm.iter().step_by(2).position(|s| s.unsigned_abs() > 10_000).unwrap();
        // The input's timeline, by fdk's own decoder and its declared delay.
        let mut reference = fdk_aac::dec::Decoder::new(fdk_aac::dec::Transport::Raw);
        reference.config_raw(&asc).unwrap();
        let (mut decoded, mut frame) = (Vec::new(), vec![0i16; 8192]);
        for data in &frames {
            reference.fill(data).unwrap();
            reference.decode_frame(&mut frame).unwrap();
            decoded.extend_from_slice(&frame[..reference.decoded_frame_size()]);
        }
        let output_rate = reference.stream_info().sampleRate as f64;
        let delay = reference.stream_info().outputDelay as f64;
        let input_ms =
            time_of(0).as_millis() as f64 + (onset(&decoded) as f64 - delay) * 1000.0 / output_rate;
        // The output's timeline.
        let mut transcoder = AacToOpus::new(&asc, 48_000).unwrap();
        let mut packets = Vec::new();
        for (i, data) in frames.iter().enumerate() {
            transcoder.push(data, time_of(i), &mut packets).unwrap();
        }
        let mut opus_decoder = opus::Decoder::new(48_000, opus::Channels::Stereo).unwrap();
        let (mut opus_pcm, mut frame) = (Vec::new(), vec![0i16; 960 * 2]);
        for (packet, _) in &packets {
            let n = opus_decoder.decode(packet, &mut frame, false).unwrap();
            opus_pcm.extend_from_slice(&frame[..n * 2]);
        }
        let pre_skip = OpusHead::parse(&opus_track_config()).unwrap().pre_skip as f64;
        let first_ms =
            packets[0].1.rescale(crate::media::Timebase::new(48_000).unwrap()).ticks() as f64 / 48.0;
        let output_ms = first_ms + (onset(&opus_pcm) as f64 - pre_skip) / 48.0;
        (input_ms, output_ms)
    }

    /// Audio stays where the input's timestamps put it (video is not delayed with it): fdk's
    /// decoder defaults held it back 38 ms (a frame for concealment, 15 ms of limiter), and HE-AAC's
    /// SBR delay is taken off.
    #[test]
    fn a_click_keeps_its_time_through_the_bridge() {
        for object_type in
            [fdk_aac::enc::AudioObjectType::Mpeg4LowComplexity, fdk_aac::enc::AudioObjectType::Mpeg4HeAac]
        {
            let (input_ms, output_ms) = click_times(object_type);
            assert!(
                (output_ms - input_ms).abs() < 2.0,
                "{object_type:?}: in at {input_ms:.1} ms, out at {output_ms:.1} ms"
            );
        }
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
