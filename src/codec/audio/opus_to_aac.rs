//! Opus frames (as WebRTC carries them, 48 kHz) to raw AAC-LC frames at 48 kHz stereo.
//!
//! libopus decodes to stereo PCM, fdk-aac (`fdk::encoder`: its AAC module alone, 1600 samples
//! of delay) encodes 1024-sample frames at the asked bitrate; the
//! AudioSpecificConfig (the AAC sequence header) is known before the first frame. Output times
//! come from a `Timeline` fed with each Opus frame's time, less the encoder's delay, so the
//! decoded AAC lines up with the input and never goes back.

use super::fdk::encoder::FRAME_SAMPLES as AAC_FRAME_SAMPLES;
use super::fdk::AacLcEncoder;
use super::timeline::Timeline;
use super::{TranscodeError, CHANNELS, OPUS_RATE};
use crate::media::MediaTime;
use bytes::Bytes;

/// The longest Opus packet decodes to 120 ms.
const MAX_OPUS_SAMPLES: usize = 5760;

/// One stream's Opus → AAC transcoder.
pub struct OpusToAac {
    decoder: opus::Decoder,
    encoder: AacLcEncoder,
    asc: Bytes,
    /// The encoder's delay in samples: output is stamped this much earlier.
    delay: i64,
    timeline: Timeline,
    /// The first output time: the delay never stamps a frame before it.
    first: Option<MediaTime>,
    decoded: Vec<i16>,
    /// 48 kHz stereo PCM not yet encoded.
    pending: Vec<i16>,
    packet: Vec<u8>,
    /// The end was flushed: the encoder holds nothing real any more.
    flushed: bool,
}

impl std::fmt::Debug for OpusToAac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusToAac").field("pending", &(self.pending.len() / CHANNELS)).finish()
    }
}

impl OpusToAac {
    /// A transcoder encoding AAC-LC at `bitrate` bit/s.
    pub fn new(bitrate: u32) -> Result<OpusToAac, TranscodeError> {
        let encoder = AacLcEncoder::new(OPUS_RATE, CHANNELS as u32, bitrate.clamp(16_000, 320_000))
            .map_err(|e| TranscodeError::AacEncode(e.to_string()))?;
        Ok(OpusToAac {
            decoder: opus::Decoder::new(OPUS_RATE, opus::Channels::Stereo)?,
            asc: encoder.asc(),
            delay: i64::from(encoder.delay()),
            encoder,
            timeline: Timeline::new(OPUS_RATE),
            first: None,
            decoded: vec![0; MAX_OPUS_SAMPLES * CHANNELS],
            pending: Vec::new(),
            packet: vec![0; 8192],
            flushed: false,
        })
    }

    /// The AudioSpecificConfig of the output (AAC-LC, 48 kHz, stereo).
    pub fn asc(&self) -> Bytes {
        self.asc.clone()
    }

    /// Transcodes one Opus packet at `time`, appending the AAC frames it completes to `out`.
    pub fn push(
        &mut self,
        packet: &[u8],
        time: MediaTime,
        out: &mut Vec<(Bytes, MediaTime)>,
    ) -> Result<(), TranscodeError> {
        let samples = self.decoder.decode(packet, &mut self.decoded, false)?;
        self.timeline.observe(time, (self.pending.len() / CHANNELS) as u64);
        self.pending.extend_from_slice(&self.decoded[..samples * CHANNELS]);
        let frame_len = AAC_FRAME_SAMPLES * CHANNELS;
        let mut taken = 0;
        while self.pending.len() - taken >= frame_len {
            let encoded = self
                .encoder
                .encode(&self.pending[taken..taken + frame_len], &mut self.packet)
                .map_err(|e| TranscodeError::AacEncode(e.to_string()))?;
            taken += frame_len;
            let stamped = self.timeline.stamp(AAC_FRAME_SAMPLES as u64);
            let first = *self.first.get_or_insert(stamped);
            if encoded > 0 {
                let at = MediaTime::new(stamped.ticks() - self.delay, stamped.timebase()).max(first);
                out.push((Bytes::copy_from_slice(&self.packet[..encoded]), at));
            }
        }
        self.pending.drain(..taken);
        Ok(())
    }

    /// Encodes what is held at the end of the stream: the samples pending and the encoder's
    /// delay, pushed out with silence; frames that would start after the last real sample are
    /// left out, so the output ends within one AAC frame of the input.
    pub fn flush(&mut self, out: &mut Vec<(Bytes, MediaTime)>) -> Result<(), TranscodeError> {
        if self.flushed || (self.first.is_none() && self.pending.is_empty()) {
            return Ok(());
        }
        self.flushed = true;
        let pending = (self.pending.len() / CHANNELS) as i64;
        let end = self.timeline.position().ticks() + pending;
        let frames = (pending + self.delay + AAC_FRAME_SAMPLES as i64 - 1) / AAC_FRAME_SAMPLES as i64;
        self.pending.resize(frames as usize * AAC_FRAME_SAMPLES * CHANNELS, 0);
        let frame_len = AAC_FRAME_SAMPLES * CHANNELS;
        for chunk in std::mem::take(&mut self.pending).chunks_exact(frame_len) {
            let encoded = self
                .encoder
                .encode(chunk, &mut self.packet)
                .map_err(|e| TranscodeError::AacEncode(e.to_string()))?;
            let stamped = self.timeline.stamp(AAC_FRAME_SAMPLES as u64);
            let first = *self.first.get_or_insert(stamped);
            let at = MediaTime::new(stamped.ticks() - self.delay, stamped.timebase()).max(first);
            if encoded > 0 && at.ticks() < end {
                out.push((Bytes::copy_from_slice(&self.packet[..encoded]), at));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::aac::AudioSpecificConfig;
    use crate::codec::audio::aac_to_opus::tests::{aac_tone, tone};
    use crate::codec::audio::aac_to_opus::AacToOpus;

    fn opus_tone(seconds: usize) -> Vec<Bytes> {
        let mut encoder =
            opus::Encoder::new(48_000, opus::Channels::Stereo, opus::Application::Audio).unwrap();
        let pcm = tone(48_000, 48_000 * seconds);
        pcm.chunks(1920).map(|c| Bytes::from(encoder.encode_vec(c, 1500).unwrap())).collect()
    }

    /// What `OpusToAac` adds to a live stream's latency, at least: fdk-aac's AAC-LC delay,
    /// 1600 samples (33.3 ms at 48 kHz) = 1024 (MDCT overlap) + 576 (block-switching look-ahead,
    /// `DELAY_AAC` in its aacenc_lib.cpp, no parameter changes it), with the encoder opened
    /// without its DRC metadata module (whose delay line added 448 more). That is above issue
    /// 14's 30 ms target before any framing: only the AAC-LD/ELD object types go lower, and RTMP
    /// and MSE players do not decode them.
    #[test]
    fn the_aac_lc_encoder_holds_1600_samples() {
        let transcoder = OpusToAac::new(48_000).unwrap();
        assert_eq!(transcoder.delay, 1600);
        let mut out = Vec::new();
        let mut fed = 0;
        // The first frame comes out once 1024 samples are in; it is stamped 1600 samples early
        // (placed at the first time), the encoder's priming.
        let mut transcoder = OpusToAac::new(48_000).unwrap();
        for packet in opus_tone(1) {
            transcoder.push(&packet, MediaTime::from_millis(fed * 20), &mut out).unwrap();
            fed += 1;
            if !out.is_empty() {
                break;
            }
        }
        assert_eq!(fed, 2, "1024 samples need two 20 ms packets (960 each)");
    }

    #[test]
    fn opus_becomes_aac_lc_with_its_sequence_header_and_monotonic_times() {
        let mut transcoder = OpusToAac::new(48_000).unwrap();
        let asc = AudioSpecificConfig::parse(&transcoder.asc()).unwrap();
        assert_eq!((asc.object_type, asc.sample_rate, asc.channels), (2, 48_000, 2));
        let mut out = Vec::new();
        // The browser's clock jumps back 10 s after one second.
        for (i, packet) in opus_tone(2).iter().enumerate() {
            let ms = if i < 50 { 5_000 + i as i64 * 20 } else { -5_000 + i as i64 * 20 };
            transcoder.push(packet, MediaTime::from_millis(ms), &mut out).unwrap();
        }
        // 2 s of 20 ms frames = 96000 samples = 93.75 AAC frames, less what the encoder holds.
        assert!((90..=94).contains(&out.len()), "{} frames", out.len());
        assert!(out.windows(2).all(|w| w[1].1 >= w[0].1), "times go back");
        assert_eq!(out[0].1.as_millis(), 5_000);
        let last = out.last().unwrap().1.as_millis();
        assert!((6_900..=7_000).contains(&last), "last at {last}");
        assert!(transcoder.push(&[0xff; 3], MediaTime::from_millis(9_000), &mut out).is_err());
    }

    #[test]
    fn flush_gives_the_held_audio_up_to_the_end_of_the_input() {
        let mut transcoder = OpusToAac::new(48_000).unwrap();
        let mut out = Vec::new();
        let packets = opus_tone(1);
        for (i, packet) in packets.iter().enumerate() {
            transcoder.push(packet, MediaTime::from_millis(i as i64 * 20), &mut out).unwrap();
        }
        let held = out.len();
        transcoder.flush(&mut out).unwrap();
        assert!(out.len() > held, "nothing flushed");
        // The input is 1000 ms: the last AAC frame starts within one frame (21.3 ms) of its end.
        let last = out.last().unwrap().1.as_millis();
        assert!((1000 - 22..1000).contains(&last), "last frame at {last} ms");
        // (The encoder's first frames, its delay, are all placed at the first time.)
        assert!(out.windows(2).all(|w| w[1].1 >= w[0].1), "times go back");
        assert!(out[held - 1..].windows(2).all(|w| w[1].1 > w[0].1), "flushed frames not after the rest");
        let mut again = Vec::new();
        transcoder.flush(&mut again).unwrap();
        assert!(again.is_empty(), "a second flush gives {} frames", again.len());
    }

    #[test]
    fn aac_to_opus_to_aac_keeps_duration_and_tone() {
        let (asc, frames) = aac_tone(44_100, 3);
        let mut to_opus = AacToOpus::new(&asc, 48_000).unwrap();
        let mut to_aac = OpusToAac::new(64_000).unwrap();
        let (mut opus_frames, mut aac_frames) = (Vec::new(), Vec::new());
        for (i, frame) in frames.iter().enumerate() {
            to_opus
                .push(frame, MediaTime::from_millis(i as i64 * 1024 * 1000 / 44_100), &mut opus_frames)
                .unwrap();
        }
        for (packet, time) in &opus_frames {
            to_aac.push(packet, *time, &mut aac_frames).unwrap();
        }
        let input_ms = frames.len() as f64 * 1024.0 * 1000.0 / 44_100.0;
        let output_ms = aac_frames.len() as f64 * 1024.0 * 1000.0 / 48_000.0;
        // What the encoders hold back (one Opus frame, one AAC frame plus the delay) at most.
        assert!(input_ms - output_ms < 100.0 && output_ms <= input_ms, "{input_ms} -> {output_ms}");
        // Decode the AAC and count the tone's periods in one second of it.
        let mut decoder = fdk_aac::dec::Decoder::new(fdk_aac::dec::Transport::Raw);
        decoder.config_raw(&to_aac.asc()).unwrap();
        let mut pcm = Vec::new();
        let mut buf = vec![0i16; 4096];
        for (frame, _) in &aac_frames {
            decoder.fill(frame).unwrap();
            decoder.decode_frame(&mut buf).unwrap();
            pcm.extend_from_slice(&buf[..decoder.decoded_frame_size()]);
        }
        let left: Vec<i16> = pcm.iter().step_by(2).copied().skip(48_000).take(48_000).collect();
        let rising = left.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
        assert!((995..=1005).contains(&rising), "{rising} periods in one second");
    }
}
