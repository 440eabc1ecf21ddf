//! What MPEG-TS sources share (`SrtIn`, `MpegtsUdpIn`): transport stream bytes in, a publication's
//! events out, through one `TsDemuxer` per publication.
//!
//! Damage (losses, garbage, timestamp jumps) is recovered by the demuxer; here it is counted and
//! logged at most once per `LOG_INTERVAL`, so a lossy link cannot flood the log.
//!
//! TS muxers let audio run ahead of video (ffmpeg by up to 0.7 s), while the graph expects one
//! timeline in decode order (SRS's `time_jitter full` would squash every backward step to 10 ms
//! and halve the stream's speed). `Interleaver` merges the tracks by decode time, holding at
//! most `MAX_HOLD` of media.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::codec::mpegts::{TsDemuxer, TsError};
use crate::media::{Frame, MediaEvent, MediaKind, MediaTime};
use crate::nodes::Publication;

/// Most media time the interleaver holds while waiting for the other track.
const MAX_HOLD: MediaTime = MediaTime::from_millis(1_000);
/// Most frames it holds, whatever their times say.
const MAX_HELD_FRAMES: usize = 1_024;

/// Least time between two damage reports of one stream.
const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Feeds one publication from transport stream bytes.
#[derive(Debug)]
pub struct TsSource {
    demuxer: TsDemuxer,
    interleaver: Interleaver,
    /// Damage reports since the last log line.
    n_errors_unlogged: u64,
    last_log: Option<Instant>,
    /// Who sends, for log lines: `conn=7 peer=...` or the UDP address.
    label: String,
}

impl TsSource {
    pub fn new(label: String) -> TsSource {
        TsSource {
            demuxer: TsDemuxer::default(),
            interleaver: Interleaver::default(),
            n_errors_unlogged: 0,
            last_log: None,
            label,
        }
    }

    /// Demuxes `bytes` and sends what completes.
    pub async fn push(&mut self, publication: &mut Publication, bytes: &[u8]) {
        self.demuxer.push(bytes);
        self.drain(publication).await;
    }

    /// Ends the input: completes the last frames, sends them and ends the publication.
    pub async fn finish(mut self, mut publication: Publication) {
        self.demuxer.finish();
        self.drain(&mut publication).await;
        for frame in self.interleaver.flush() {
            publication.send(MediaEvent::Frame(frame)).await;
        }
        let stats = self.demuxer.stats();
        tracing::info!(
            source = %self.label,
            stream = %publication.key(),
            frames = stats.frames,
            packets = stats.packets,
            continuity_errors = stats.continuity_errors,
            bytes_skipped = stats.bytes_skipped,
            "mpeg-ts input ended"
        );
        publication.end().await;
    }

    async fn drain(&mut self, publication: &mut Publication) {
        while let Some(result) = self.demuxer.poll() {
            match result {
                Ok(event) => self.interleaver.send(publication, event).await,
                Err(error) => self.report(publication, &error),
            }
        }
    }

    fn report(&mut self, publication: &Publication, error: &TsError) {
        self.n_errors_unlogged += 1;
        let now = Instant::now();
        if self.last_log.is_some_and(|last| now.duration_since(last) < LOG_INTERVAL) {
            return;
        }
        let stats = self.demuxer.stats();
        tracing::warn!(
            source = %self.label,
            stream = %publication.key(),
            reports = self.n_errors_unlogged,
            continuity_errors = stats.continuity_errors,
            pes_dropped = stats.pes_dropped,
            "mpeg-ts damage recovered: {error}"
        );
        self.n_errors_unlogged = 0;
        self.last_log = Some(now);
    }
}

/// Merges the frames of a stream's tracks into one decode-time order.
#[derive(Debug, Default)]
pub struct Interleaver {
    held: BTreeMap<(MediaTime, u64), Frame>,
    n_video: usize,
    n_audio: usize,
    arrival: u64,
    /// Whether the stream has both kinds (else frames pass at once).
    both_kinds: bool,
}

impl Interleaver {
    /// The stream's tracks (from its description).
    /// Sends a demuxer's event on: frames in decode order, a description after setting the
    /// tracks it announces; `End` is left to the source (the publication's own end).
    pub async fn send(&mut self, publication: &mut Publication, event: MediaEvent) {
        match event {
            MediaEvent::End => {}
            MediaEvent::Frame(frame) => {
                for frame in self.push(frame) {
                    publication.send(MediaEvent::Frame(frame)).await;
                }
            }
            event => {
                if let MediaEvent::Description(description) = &event {
                    self.set_tracks(description.video.is_some(), description.audio.is_some());
                }
                publication.send(event).await;
            }
        }
    }

    pub fn set_tracks(&mut self, video: bool, audio: bool) {
        self.both_kinds = video && audio;
    }

    /// Takes a frame; returns those now known to come first, in decode order.
    pub fn push(&mut self, frame: Frame) -> Vec<Frame> {
        if !self.both_kinds && self.held.is_empty() {
            return vec![frame];
        }
        match frame.kind() {
            MediaKind::Video => self.n_video += 1,
            MediaKind::Audio => self.n_audio += 1,
        }
        self.arrival += 1;
        self.held.insert((frame.dts, self.arrival), frame);
        let mut ready = Vec::new();
        while let Some((&(oldest, _), _)) = self.held.first_key_value() {
            let newest = self.held.last_key_value().map_or(oldest, |(&(dts, _), _)| dts);
            let waiting_for_other_kind = self.both_kinds && (self.n_video == 0 || self.n_audio == 0);
            let over_limit = newest - oldest > MAX_HOLD || self.held.len() > MAX_HELD_FRAMES;
            if waiting_for_other_kind && !over_limit {
                break;
            }
            let Some((_, frame)) = self.held.pop_first() else { break };
            match frame.kind() {
                MediaKind::Video => self.n_video -= 1,
                MediaKind::Audio => self.n_audio -= 1,
            }
            ready.push(frame);
        }
        ready
    }

    /// Everything held, in order (end of stream).
    pub fn flush(&mut self) -> Vec<Frame> {
        self.n_video = 0;
        self.n_audio = 0;
        std::mem::take(&mut self.held).into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::media::Codec;

    fn frame(codec: Codec, ms: i64) -> Frame {
        let dts = MediaTime::from_millis(ms);
        Frame { codec, dts, pts: dts, keyframe: false, data: Bytes::new() }
    }

    #[test]
    fn audio_running_ahead_is_merged_into_decode_order() {
        let mut interleaver = Interleaver::default();
        interleaver.set_tracks(true, true);
        let mut out = Vec::new();
        for (codec, ms) in [(Codec::Aac, 0), (Codec::Aac, 23), (Codec::Aac, 46), (Codec::H264, 0)] {
            out.extend(interleaver.push(frame(codec, ms)));
        }
        for (codec, ms) in [(Codec::H264, 40), (Codec::Aac, 69), (Codec::H264, 80)] {
            out.extend(interleaver.push(frame(codec, ms)));
        }
        out.extend(interleaver.flush());
        let times: Vec<i64> = out.iter().map(|f| f.dts.as_millis()).collect();
        assert_eq!(times, [0, 0, 23, 40, 46, 69, 80]);
    }

    #[test]
    fn a_missing_track_holds_at_most_one_second() {
        let mut interleaver = Interleaver::default();
        interleaver.set_tracks(true, true);
        let released: usize = (0..100).map(|i| interleaver.push(frame(Codec::H264, i * 40)).len()).sum();
        assert!(released >= 70, "video flows without audio after the hold: {released}");
        let mut single = Interleaver::default();
        single.set_tracks(true, false);
        assert_eq!(single.push(frame(Codec::H264, 0)).len(), 1);
    }
}
