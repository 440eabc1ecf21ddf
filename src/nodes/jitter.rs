//! `Jitter`: SRS's `time_jitter` timestamp correction (`full`, `zero`, `off`), applied once per stream.
//!
//! Takes any media and gives the same media with corrected timestamps. SRS applies the
//! correction per player; we apply it once per stream so every player shares the same
//! serialized bytes (see ARCHITECTURE.md).
//!
//! ```dhall
//! srs.Node.Jitter srs.Jitter::{ algorithm = srs.TimeJitter.Full }
//! ```

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use crate::graph::engine::Outputs;
use crate::graph::Ports;
use crate::media::{Frame, MediaEvent, MediaTime};
use crate::nodes::{NodeKind, StreamCtx};

/// SRS's `play.time_jitter` / `dvr.time_jitter` algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub enum TimeJitter {
    /// Steps beyond ±250 ms become +10 ms; the stream starts near 0; metadata is stamped 0.
    Full,
    /// Timestamps start at 0 (the first message's timestamp is subtracted).
    Zero,
    /// Timestamps untouched.
    Off,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// Which correction to apply.
    pub algorithm: TimeJitter,
}

/// Largest step SRS accepts as real in `full` mode.
const MAX_JITTER_MS: i64 = 250;
/// What a step beyond that becomes.
const DEFAULT_FRAME_MS: i64 = 10;

/// The corrector state of one timeline (SRS's `SrsRtmpJitter`).
#[derive(Debug, Clone)]
pub struct JitterCorrector {
    algorithm: TimeJitter,
    last_pkt_time: i64,
    last_pkt_correct_time: i64,
    zero_base: Option<i64>,
}

impl JitterCorrector {
    pub fn new(algorithm: TimeJitter) -> JitterCorrector {
        JitterCorrector { algorithm, last_pkt_time: 0, last_pkt_correct_time: -1, zero_base: None }
    }

    /// Corrects an audio or video timestamp (milliseconds).
    pub fn correct_av(&mut self, ts: i64) -> i64 {
        match self.algorithm {
            TimeJitter::Off => ts,
            TimeJitter::Zero => ts - *self.zero_base.get_or_insert(ts),
            TimeJitter::Full => {
                let mut delta = ts - self.last_pkt_time;
                if !(-MAX_JITTER_MS..=MAX_JITTER_MS).contains(&delta) {
                    delta = DEFAULT_FRAME_MS;
                }
                self.last_pkt_correct_time = (self.last_pkt_correct_time + delta).max(0);
                self.last_pkt_time = ts;
                self.last_pkt_correct_time
            }
        }
    }

    /// Corrects a metadata (script data) timestamp.
    pub fn correct_metadata(&mut self, ts: i64) -> i64 {
        match self.algorithm {
            TimeJitter::Off => ts,
            TimeJitter::Zero => ts - *self.zero_base.get_or_insert(ts),
            TimeJitter::Full => 0,
        }
    }

    /// Corrects a frame, keeping its composition offset.
    pub fn correct_frame(&mut self, frame: Frame) -> Frame {
        if self.algorithm == TimeJitter::Off {
            return frame;
        }
        let cts = frame.cts_millis();
        let dts = self.correct_av(frame.dts.as_millis());
        Frame { dts: MediaTime::from_millis(dts), pts: MediaTime::from_millis(dts + cts), ..frame }
    }

    pub fn correct_event(&mut self, event: MediaEvent) -> MediaEvent {
        match event {
            MediaEvent::Frame(frame) => MediaEvent::Frame(self.correct_frame(frame)),
            MediaEvent::Metadata(mut metadata) => {
                metadata.time = MediaTime::from_millis(self.correct_metadata(metadata.time.as_millis()));
                MediaEvent::Metadata(metadata)
            }
            other => other,
        }
    }
}

/// SRS's `mix_correct`: holds audio and video until both kinds are queued, then releases them in
/// timestamp order, so a publisher that sends one kind late still yields a monotonic stream.
#[derive(Debug, Default)]
pub struct MixCorrector {
    queue: std::collections::BTreeMap<(i64, u64), Frame>,
    n_video: usize,
    n_audio: usize,
    arrival: u64,
}

/// SRS releases without the other kind once this many of one kind are waiting.
const MIX_MAX_ONE_KIND: usize = 10;

impl MixCorrector {
    /// Takes an event, returns those ready to go on (all of them at end of stream).
    pub fn push(&mut self, event: MediaEvent) -> Vec<MediaEvent> {
        let frame = match event {
            MediaEvent::Frame(frame) => frame,
            MediaEvent::End => {
                let mut out: Vec<MediaEvent> =
                    std::mem::take(&mut self.queue).into_values().map(MediaEvent::Frame).collect();
                out.push(MediaEvent::End);
                return out;
            }
            other => return vec![other],
        };
        match frame.kind() {
            crate::media::MediaKind::Video => self.n_video += 1,
            crate::media::MediaKind::Audio => self.n_audio += 1,
        }
        self.arrival += 1;
        self.queue.insert((frame.dts.as_millis(), self.arrival), frame);
        let mut out = Vec::new();
        while (self.n_video > 0 && self.n_audio > 0)
            || self.n_video > MIX_MAX_ONE_KIND
            || self.n_audio > MIX_MAX_ONE_KIND
        {
            let Some((_, frame)) = self.queue.pop_first() else { break };
            match frame.kind() {
                crate::media::MediaKind::Video => self.n_video -= 1,
                crate::media::MediaKind::Audio => self.n_audio -= 1,
            }
            out.push(MediaEvent::Frame(frame));
        }
        out
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::passthrough()
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("algorithm", format!("{:?}", self.algorithm).to_lowercase())]
    }

    fn run(
        &self,
        _: StreamCtx,
        input: mpsc::Receiver<MediaEvent>,
        outputs: Outputs,
    ) -> BoxFuture<'static, ()> {
        Box::pin(run(self.algorithm, input, outputs))
    }
}

async fn run(algorithm: TimeJitter, mut input: mpsc::Receiver<MediaEvent>, mut outputs: Outputs) {
    let mut corrector = JitterCorrector::new(algorithm);
    while let Some(event) = input.recv().await {
        let end = matches!(event, MediaEvent::End);
        if !outputs.send(corrector.correct_event(event)).await || end {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_full(input: &[i64]) -> Vec<i64> {
        let mut corrector = JitterCorrector::new(TimeJitter::Full);
        input.iter().map(|ts| corrector.correct_av(*ts)).collect()
    }

    #[test]
    fn full_starts_near_zero_and_collapses_jumps() {
        // First ts within 250 ms gives ts - 1; a first ts far from 0 gives 9.
        assert_eq!(run_full(&[100, 140, 180]), [99, 139, 179]);
        assert_eq!(run_full(&[50_000, 50_040, 50_080]), [9, 49, 89]);
        // A jump forward of 10 s becomes +10 ms, then normal steps continue.
        assert_eq!(run_full(&[0, 40, 10_040, 10_080]), [0, 40, 50, 90]);
    }

    #[test]
    fn full_applies_small_backward_steps_but_never_goes_negative() {
        assert_eq!(run_full(&[0, 40, 20, 60]), [0, 40, 20, 60]);
        // A large backward jump (publisher restart) becomes +10 ms: monotonic output.
        assert_eq!(run_full(&[0, 1_000, 1_040, 40, 80]), [0, 10, 50, 60, 100]);
        assert_eq!(run_full(&[200, 0]), [199, 0]);
    }

    #[test]
    fn full_turns_a_32_bit_wrap_into_a_10_ms_step() {
        let near_wrap = (1i64 << 32) - 40;
        let out = run_full(&[near_wrap - 40, near_wrap, 0, 40]);
        assert_eq!(out, [9, 49, 59, 99]);
        assert!(out.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn zero_rebases_on_first_message_of_any_kind() {
        let mut corrector = JitterCorrector::new(TimeJitter::Zero);
        assert_eq!(corrector.correct_metadata(5_000), 0);
        assert_eq!(corrector.correct_av(5_040), 40);
        assert_eq!(corrector.correct_av(4_990), -10);
    }

    #[test]
    fn full_stamps_metadata_zero_and_off_changes_nothing() {
        let mut full = JitterCorrector::new(TimeJitter::Full);
        assert_eq!(full.correct_metadata(123_456), 0);
        let mut off = JitterCorrector::new(TimeJitter::Off);
        assert_eq!(off.correct_av(-5), -5);
        assert_eq!(off.correct_av(1 << 40), 1 << 40);
    }

    fn frame(codec: crate::media::Codec, ms: i64) -> MediaEvent {
        MediaEvent::Frame(Frame {
            codec,
            dts: MediaTime::from_millis(ms),
            pts: MediaTime::from_millis(ms),
            keyframe: false,
            data: bytes::Bytes::new(),
        })
    }

    #[test]
    fn mix_correct_interleaves_late_audio_in_order() {
        use crate::media::Codec::{Aac, H264};
        let mut mixer = MixCorrector::default();
        let mut out = Vec::new();
        for event in [frame(H264, 0), frame(H264, 40), frame(Aac, 10), frame(Aac, 30), frame(H264, 80)] {
            out.extend(mixer.push(event));
        }
        out.extend(mixer.push(MediaEvent::End));
        let times: Vec<i64> = out
            .iter()
            .filter_map(|e| match e {
                MediaEvent::Frame(f) => Some(f.dts.as_millis()),
                _ => None,
            })
            .collect();
        assert_eq!(times, [0, 10, 30, 40, 80]);
        assert_eq!(out.last(), Some(&MediaEvent::End));
    }

    #[test]
    fn frames_keep_their_composition_offset() {
        let mut corrector = JitterCorrector::new(TimeJitter::Full);
        let frame = Frame {
            codec: crate::media::Codec::H264,
            dts: MediaTime::from_millis(90_000),
            pts: MediaTime::from_millis(90_080),
            keyframe: true,
            data: bytes::Bytes::new(),
        };
        let out = corrector.correct_frame(frame);
        assert_eq!((out.dts.as_millis(), out.pts.as_millis()), (9, 89));
    }
}
