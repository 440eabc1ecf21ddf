//! What MPEG-TS sources share (`SrtIn`, `MpegtsUdpIn`): transport stream bytes in, a publication's
//! events out, through one `TsDemuxer` per publication.
//!
//! Damage (losses, garbage, timestamp jumps) is recovered by the demuxer; here it is counted and
//! logged at most once per `LOG_INTERVAL`, so a lossy link cannot flood the log.

use std::time::{Duration, Instant};

use crate::codec::mpegts::{TsDemuxer, TsError};
use crate::graph::engine::Publication;
use crate::media::MediaEvent;

/// Least time between two damage reports of one stream.
const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Feeds one publication from transport stream bytes.
#[derive(Debug)]
pub struct TsSource {
    demuxer: TsDemuxer,
    /// Damage reports since the last log line.
    n_errors_unlogged: u64,
    last_log: Option<Instant>,
    /// Who sends, for log lines: `conn=7 peer=...` or the UDP address.
    label: String,
}

impl TsSource {
    pub fn new(label: String) -> TsSource {
        TsSource { demuxer: TsDemuxer::default(), n_errors_unlogged: 0, last_log: None, label }
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
                // The publication's own end is sent by `finish`.
                Ok(MediaEvent::End) => {}
                Ok(event) => publication.send(event).await,
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
