//! MPEG-TS that `Ingest` pulls over HTTP (a live `.ts` body, or HLS segments) into its
//! publication: a `TsDemuxer` per continuous run of timestamps, frames merged into decode order
//! by `ts_source::Interleaver`, published at the first event (so a source that never answers
//! publishes nothing).
//!
//! At an HLS discontinuity (or when a VOD playlist loops) the demuxer starts again and the new
//! run's timestamps are shifted to follow the last frame sent: the publication's timeline never
//! goes back, so players and segmenters downstream see one stream. A VOD stream is paced by its
//! timestamps (real time, as `FileIn` does); a live one goes out as it arrives.

use std::time::{Duration, Instant};

use petgraph::graph::NodeIndex;

use super::ts_source::Interleaver;
use super::{Engine, Publication};
use crate::codec::mpegts::TsDemuxer;
use crate::graph::StreamKey;
use crate::media::{Frame, MediaEvent, MediaTime};

/// The step between the last frame of a run and the first of the next.
const RUN_GAP: MediaTime = MediaTime::from_millis(40);
/// Least time between two damage reports.
const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// The ingest's stream, fed with transport stream bytes.
pub struct TsPull {
    engine: Engine,
    node: NodeIndex,
    key: StreamKey,
    /// Who sends, for log lines (the URL).
    label: String,
    publication: Option<Publication>,
    demuxer: TsDemuxer,
    interleaver: Interleaver,
    /// Added to the current run's timestamps; `None` until its first frame.
    shift: Option<MediaTime>,
    /// The latest decode time sent, shifted.
    last_dts: Option<MediaTime>,
    paced: bool,
    /// When the first paced frame went out, and its time.
    pace_origin: Option<(tokio::time::Instant, MediaTime)>,
    damage_unlogged: u64,
    last_damage_log: Option<Instant>,
}

impl TsPull {
    pub fn new(engine: &Engine, node: NodeIndex, key: &StreamKey, label: String) -> TsPull {
        TsPull {
            engine: engine.clone(),
            node,
            key: key.clone(),
            label,
            publication: None,
            demuxer: TsDemuxer::default(),
            interleaver: Interleaver::default(),
            shift: Some(MediaTime::from_millis(0)),
            last_dts: None,
            paced: false,
            pace_origin: None,
            damage_unlogged: 0,
            last_damage_log: None,
        }
    }

    /// Sends frames at the pace of their timestamps (VOD) or as they come (live).
    pub fn set_paced(&mut self, paced: bool) {
        self.paced = paced;
    }

    /// Whether media went out.
    pub fn published(&self) -> bool {
        self.publication.is_some()
    }

    /// Demuxes `bytes` and sends what completes; `Err` when the stream cannot be published.
    pub async fn push(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.demuxer.push(bytes);
        self.drain().await
    }

    /// The timestamps of what follows need not continue the previous ones: the demuxer starts
    /// again, and the next run is shifted to follow what was sent.
    pub async fn discontinuity(&mut self) -> Result<(), String> {
        self.close_run().await?;
        self.demuxer = TsDemuxer::default();
        self.interleaver = Interleaver::default();
        self.shift = if self.last_dts.is_some() { None } else { Some(MediaTime::from_millis(0)) };
        Ok(())
    }

    /// Ends the input: the last frames go out and the publication ends.
    pub async fn end(mut self) {
        if let Err(why) = self.close_run().await {
            tracing::warn!(stream = %self.key, "ingest: {why}");
        }
        let stats = self.demuxer.stats();
        if let Some(publication) = self.publication.take() {
            tracing::info!(
                source = %self.label,
                stream = %self.key,
                frames = stats.frames,
                continuity_errors = stats.continuity_errors,
                "mpeg-ts pull ended"
            );
            publication.end().await;
        }
    }

    async fn close_run(&mut self) -> Result<(), String> {
        self.demuxer.finish();
        self.drain().await?;
        for frame in self.interleaver.flush() {
            self.send_frame(frame).await;
        }
        Ok(())
    }

    async fn drain(&mut self) -> Result<(), String> {
        while let Some(result) = self.demuxer.poll() {
            let event = match result {
                Ok(MediaEvent::End) => continue,
                Ok(event) => event,
                Err(error) => {
                    self.report(&error.to_string());
                    continue;
                }
            };
            if self.publication.is_none() {
                let publication =
                    self.engine.publish(self.node, self.key.clone()).map_err(|e| e.to_string())?;
                tracing::info!(stream = %self.key, source = %self.label, "ingest publishing");
                self.publication = Some(publication);
            }
            match event {
                MediaEvent::Frame(frame) => {
                    for frame in self.interleaver.push(frame) {
                        self.send_frame(frame).await;
                    }
                }
                event => {
                    if let MediaEvent::Description(description) = &event {
                        self.interleaver.set_tracks(description.video.is_some(), description.audio.is_some());
                    }
                    if let Some(publication) = &mut self.publication {
                        publication.send(event).await;
                    }
                }
            }
        }
        Ok(())
    }

    async fn send_frame(&mut self, mut frame: Frame) {
        let shift = *self.shift.get_or_insert_with(|| match self.last_dts {
            Some(last) => last + RUN_GAP - frame.dts,
            None => MediaTime::from_millis(0),
        });
        frame.dts = frame.dts + shift;
        frame.pts = frame.pts + shift;
        if self.paced {
            let (started, origin) = *self.pace_origin.get_or_insert((tokio::time::Instant::now(), frame.dts));
            let ahead = u64::try_from((frame.dts - origin).as_millis()).unwrap_or(0);
            tokio::time::sleep_until(started + Duration::from_millis(ahead)).await;
        }
        self.last_dts = Some(self.last_dts.map_or(frame.dts, |last| last.max(frame.dts)));
        if let Some(publication) = &mut self.publication {
            publication.send(MediaEvent::Frame(frame)).await;
        }
    }

    /// Damage is recovered by the demuxer; it is logged at most once per `LOG_INTERVAL`.
    fn report(&mut self, error: &str) {
        self.damage_unlogged += 1;
        let now = Instant::now();
        if self.last_damage_log.is_some_and(|last| now.duration_since(last) < LOG_INTERVAL) {
            return;
        }
        tracing::warn!(source = %self.label, stream = %self.key, reports = self.damage_unlogged, "mpeg-ts damage recovered: {error}");
        self.damage_unlogged = 0;
        self.last_damage_log = Some(now);
    }
}
