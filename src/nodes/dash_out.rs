//! `DashOut`: SRS's `dash { }`: writes each stream as MPEG-DASH under `dash_path`, an MPD plus
//! per-track fMP4 init and media segments, for any static HTTP server to serve.
//!
//! Takes video {H264, H265, AV1} and audio {AAC, Opus, MP3}. Video and audio are separate
//! representations (two AdaptationSets, each with its own `<track>-init.mp4` and `.m4s` files in a
//! folder named like the MPD), as DASH players expect. Segments are cut at video keyframes at least
//! `dash_fragment` apart (by duration for audio-only streams), written under a temporary name then
//! renamed, and the MPD is rewritten after each one. The last `dash_window_size` segments are kept
//! (older ones deleted with `dash_cleanup`); when the stream ends the MPD turns static (a playable
//! recording of the window), and `dash_dispose` seconds later every file is removed. A republish
//! before that continues the same timeline (same availabilityStartTime, its media shifted to where
//! the wall clock has got to, later segment numbers). The cutting and the MPD live in
//! `codec::dash`; this file only does files and clocks.
//!
//! ```dhall
//! srs.node "dash" (srs.Node.DashOut srs.DashOut::{ dash_fragment = 2.0, dash_path = "./objs/nginx/html" })
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use crate::codec::dash::{
    DashPresentation, DashSegmenter, PresentationConfig, SegmentAddressing, SegmenterOutput, TimelineAnchor,
};
use crate::graph::engine::Outputs;
use crate::graph::{Caps, Ports, StreamKey};
use crate::media::{Codec, MediaEvent, MediaTime};
use crate::nodes::NodeKind;
use crate::nodes::StreamCtx;

/// How segment URLs are formed in the MPD's `SegmentTemplate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub enum DashSegmentTemplate {
    /// `$Number$` with a nominal `duration`: exact when the GOP divides `dash_fragment`.
    Number,
    /// `$Time$` with a `SegmentTimeline` listing every segment's real start and duration.
    Time,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// Target segment duration in seconds (cut at the next keyframe after it).
    pub dash_fragment: f64,
    /// MPD `minimumUpdatePeriod`, seconds; with `$Time$` at most half of `dash_fragment`.
    pub dash_update_period: f64,
    /// MPD `timeShiftBufferDepth`, seconds; at most what the kept window spans.
    pub dash_timeshift: f64,
    /// Root folder of the output.
    pub dash_path: String,
    /// MPD path under `dash_path`, with [vhost] [app] [stream]; segments go in a folder beside it.
    pub dash_mpd_file: String,
    /// Media segments kept per representation.
    pub dash_window_size: u64,
    /// Delete segments that left the window.
    pub dash_cleanup: bool,
    /// Delete every file this many seconds after the stream ended; 0 keeps them.
    pub dash_dispose: f64,
    /// `$Number$` or `$Time$` segment addressing.
    pub segment_template: DashSegmentTemplate,
}

impl Default for Config {
    /// SRS's defaults; the Dhall `DashOut.default` must equal these (tested in `conf::classic`).
    fn default() -> Config {
        Config {
            dash_fragment: 10.0,
            dash_update_period: 5.0,
            dash_timeshift: 300.0,
            dash_path: "./objs/nginx/html".into(),
            dash_mpd_file: "[app]/[stream].mpd".into(),
            dash_window_size: 5,
            dash_cleanup: true,
            dash_dispose: 120.0,
            segment_template: DashSegmentTemplate::Time,
        }
    }
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        let positive = |name: &str, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(())
            } else {
                Err(format!("field `{name}` is {value}: give a positive number of seconds"))
            }
        };
        positive("dash_fragment", self.dash_fragment)?;
        positive("dash_update_period", self.dash_update_period)?;
        if !(self.dash_timeshift.is_finite() && self.dash_timeshift >= 0.0) {
            return Err(format!(
                "field `dash_timeshift` is {}: give seconds, 0 or more",
                self.dash_timeshift
            ));
        }
        if !(self.dash_dispose.is_finite() && self.dash_dispose >= 0.0) {
            return Err(format!("field `dash_dispose` is {}: give seconds, 0 or more", self.dash_dispose));
        }
        if self.dash_window_size == 0 {
            return Err("field `dash_window_size` is 0: keep at least one segment".into());
        }
        if !self.dash_mpd_file.ends_with(".mpd") || !self.dash_mpd_file.contains("[stream]") {
            return Err(format!(
                "field `dash_mpd_file` `{}` must contain [stream] and end in .mpd",
                self.dash_mpd_file
            ));
        }
        Ok(())
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        ports()
    }

    fn validate(&self) -> Result<(), String> {
        Config::validate(self)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("dash_path", self.dash_path.clone()), ("dash_mpd_file", self.dash_mpd_file.clone())]
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        // A live sink logs its write errors (it cannot disconnect its publisher) and goes on.
        let run = run(ctx, self.clone(), input);
        Box::pin(async move {
            let _ = run.await;
        })
    }
}

pub fn ports() -> Ports {
    Ports::Sink {
        accepts: Caps::new(&[Codec::H264, Codec::H265, Codec::Av1], &[Codec::Aac, Codec::Opus, Codec::Mp3]),
    }
}

fn millis(seconds: f64) -> u64 {
    (seconds * 1000.0).round() as u64
}

fn unix_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A stream's timeline between publishes, so a republish keeps the MPD's availabilityStartTime.
#[derive(Debug)]
struct Parked {
    anchor: TimelineAnchor,
    /// Above every segment number used so far.
    next_number: u64,
    /// Bumped by every publish; a dispose timer only acts if no publish came after it.
    generation: u64,
    /// Files of earlier publishes, which the next publish's MPD no longer lists: removed on dispose.
    files: Vec<String>,
}

/// Every stream's parked timeline, shared through `Engine::shared`.
#[derive(Debug, Default)]
struct DashStreams {
    parked: Mutex<HashMap<(NodeIndex, StreamKey), Parked>>,
}

impl DashStreams {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<(NodeIndex, StreamKey), Parked>> {
        // A poisoned map is still a valid map.
        self.parked.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Where one stream's files go.
#[derive(Debug, Clone)]
struct Paths {
    mpd: PathBuf,
    /// The MPD's folder: segment file names are relative to it.
    root: PathBuf,
}

/// The stream-scoped instance: cuts, writes, and keeps the MPD current.
struct DashWriter {
    config: Config,
    paths: Paths,
    segmenter: DashSegmenter,
    presentation: DashPresentation,
    /// Files that left the window but were kept (cleanup off), removed on dispose.
    kept_files: Vec<String>,
    n_segments: u64,
    next_number: u64,
    /// Time spent cutting and building segments and MPDs, and writing files.
    build_time: Duration,
    write_time: Duration,
}

/// Writes the stream until it ends; the first write error, naming its file, is returned (after
/// the stream ended: every later segment is still tried), for a batch run to report.
pub async fn run(
    ctx: StreamCtx,
    config: Config,
    mut input: mpsc::Receiver<MediaEvent>,
) -> Result<(), String> {
    let mut first_error: Option<String> = None;
    let mpd = PathBuf::from(&config.dash_path).join(ctx.key.fill(&config.dash_mpd_file));
    let root = mpd.parent().map(Path::to_path_buf).unwrap_or_default();
    let stem = mpd.file_stem().and_then(|s| s.to_str()).unwrap_or("stream").to_owned();
    let mpd_name = mpd.file_name().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
    let mut presentation = DashPresentation::new(PresentationConfig {
        addressing: match config.segment_template {
            DashSegmentTemplate::Number => SegmentAddressing::Number,
            DashSegmentTemplate::Time => SegmentAddressing::Time,
        },
        fragment_ms: millis(config.dash_fragment),
        update_period_ms: millis(config.dash_update_period),
        timeshift_ms: millis(config.dash_timeshift),
        window_size: usize::try_from(config.dash_window_size).unwrap_or(usize::MAX),
        prefix: format!("{stem}/"),
        mpd_name,
    });
    let streams = ctx.engine.shared::<DashStreams>();
    // Left in the map with its generation claimed at once, so a dispose timer of an earlier
    // publish leaves this one's files alone.
    let (resumed, earlier_files, generation) = match streams.map().get_mut(&(ctx.node, ctx.key.clone())) {
        Some(parked) => {
            parked.generation += 1;
            (Some((parked.anchor, parked.next_number)), std::mem::take(&mut parked.files), parked.generation)
        }
        None => (None, Vec::new(), 1),
    };
    // A republish numbers its segments by where the wall clock has got to on the old timeline.
    let first_number = match resumed {
        Some((anchor, next_number)) => {
            presentation.resume(anchor);
            let now = anchor.media_time_at(unix_millis());
            anchor.number_at(now, millis(config.dash_fragment)).max(next_number)
        }
        None => 1,
    };
    let fragment = MediaTime::from_millis(millis(config.dash_fragment) as i64);
    let mut writer = DashWriter {
        paths: Paths { mpd, root },
        segmenter: DashSegmenter::new(fragment, first_number),
        presentation,
        config,
        kept_files: earlier_files,
        n_segments: 0,
        next_number: first_number,
        build_time: Duration::ZERO,
        write_time: Duration::ZERO,
    };
    // Moves a republish's media onto the resumed timeline; fixed at its first frame.
    let mut shift: Option<MediaTime> = None;
    tracing::info!(stream = %ctx.key, mpd = %writer.paths.mpd.display(), "dash started");
    while let Some(event) = input.recv().await {
        let started = Instant::now();
        let outputs = match event {
            MediaEvent::Description(description) => writer.segmenter.push_description(&description),
            MediaEvent::Frame(mut frame) => {
                if let Some((anchor, _)) = resumed {
                    let offset =
                        *shift.get_or_insert_with(|| anchor.media_time_at(unix_millis()) - frame.dts);
                    frame.dts = frame.dts + offset;
                    frame.pts = frame.pts + offset;
                }
                match writer.segmenter.push_frame(frame) {
                    Ok(outputs) => outputs,
                    Err(error) => {
                        tracing::warn!(stream = %ctx.key, "dash: dropping frames: {error}");
                        continue;
                    }
                }
            }
            MediaEvent::Metadata(_) => continue,
            MediaEvent::End => break,
        };
        if let Some(origin) = writer.segmenter.origin() {
            writer.presentation.set_origin(origin);
        }
        writer.build_time += started.elapsed();
        if let Err(error) = writer.store(&outputs, false).await {
            tracing::warn!(stream = %ctx.key, "dash: cannot write: {error}");
            first_error.get_or_insert(error.to_string());
        }
    }
    let outputs = writer.segmenter.finish();
    if let Err(error) = writer.store(&outputs, true).await {
        tracing::warn!(stream = %ctx.key, "dash: cannot write the last segment: {error}");
        first_error.get_or_insert(error.to_string());
    }
    let result = first_error.map_or(Ok(()), Err);
    if let Some(anchor) = writer.presentation.anchor() {
        let mut files = writer.presentation.files();
        files.extend(writer.kept_files.iter().cloned());
        // Init segments keep their names from one publish to the next.
        files.sort();
        files.dedup();
        let parked = Parked { anchor, next_number: writer.next_number, generation, files };
        streams.map().insert((ctx.node, ctx.key.clone()), parked);
    }
    let n_segments = writer.n_segments.max(1);
    tracing::info!(
        stream = %ctx.key,
        segments = writer.n_segments,
        build_us_per_segment = writer.build_time.as_micros() as u64 / n_segments,
        write_us_per_segment = writer.write_time.as_micros() as u64 / n_segments,
        "dash ended"
    );
    if writer.config.dash_dispose > 0.0 {
        writer.dispose_later(&ctx, &streams, generation).await;
    }
    result
}

impl DashWriter {
    /// Removes every file `dash_dispose` after the stream ended, unless it was published again.
    async fn dispose_later(&mut self, ctx: &StreamCtx, streams: &DashStreams, generation: u64) {
        let writer = self;
        let wait = Duration::from_millis(millis(writer.config.dash_dispose));
        let shutdown = ctx.engine.shutdown_signal();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown => return,
        }
        let idle = {
            let mut map = streams.map();
            let key = (ctx.node, ctx.key.clone());
            let idle = map.get(&key).is_none_or(|p| p.generation == generation)
                && !ctx.engine.live_streams().contains(&ctx.key);
            if idle {
                // The files go, and with them the timeline: a later publish starts a new one.
                map.remove(&key);
            }
            idle
        };
        if !idle {
            tracing::info!(stream = %ctx.key, "dash: stream published again, files kept");
            return;
        }
        writer.dispose().await;
        tracing::info!(stream = %ctx.key, "dash files disposed");
    }

    /// Writes what the segmenter produced, then the MPD, then deletes what left the window.
    async fn store(&mut self, outputs: &[SegmenterOutput], ended: bool) -> std::io::Result<()> {
        let started = Instant::now();
        let mut leaving = Vec::new();
        let mut changed = ended;
        for output in outputs {
            match output {
                SegmenterOutput::Init(init) => {
                    let kind = init.track.kind();
                    match self.presentation.set_track(init) {
                        Ok(dropped) => {
                            leaving.extend(dropped.iter().map(|r| self.presentation.segment_file(kind, r)))
                        }
                        Err(error) => tracing::warn!("dash: {kind} track not described: {error}"),
                    }
                    write_atomically(&self.file(&self.presentation.init_file(kind)), &init.bytes).await?;
                }
                SegmenterOutput::Segment(segment) => {
                    let record = crate::codec::dash::SegmentRecord {
                        number: segment.number,
                        start: segment.start,
                        duration: segment.duration,
                    };
                    let name = self.presentation.segment_file(segment.kind, &record);
                    write_atomically(&self.file(&name), &segment.bytes).await?;
                    // Recorded once its file is complete: its time of availability is now.
                    let dropped = self.presentation.add_segment(segment, unix_millis());
                    leaving.extend(dropped.iter().map(|r| self.presentation.segment_file(segment.kind, r)));
                    self.n_segments += 1;
                    self.next_number = self.next_number.max(segment.number + 1);
                    changed = true;
                }
                SegmenterOutput::TrackSkipped { kind, reason } => {
                    tracing::warn!("dash: {kind} track skipped: {reason}");
                }
            }
        }
        if changed {
            if let Some(mpd) = self.presentation.mpd(unix_millis(), ended) {
                write_atomically(&self.paths.mpd, mpd.to_xml().as_bytes()).await?;
            }
        }
        if self.config.dash_cleanup {
            for name in leaving {
                remove_quietly(&self.file(&name)).await;
            }
        } else {
            self.kept_files.extend(leaving);
        }
        self.write_time += started.elapsed();
        Ok(())
    }

    fn file(&self, relative: &str) -> PathBuf {
        self.paths.root.join(relative)
    }

    /// Removes the MPD and every file it or the kept list names, then the segment folder if empty.
    async fn dispose(&mut self) {
        remove_quietly(&self.paths.mpd).await;
        let mut folders = Vec::new();
        for name in self.presentation.files().into_iter().chain(self.kept_files.drain(..)) {
            let path = self.paths.root.join(&name);
            if let Some(folder) = path.parent() {
                if !folders.iter().any(|f: &PathBuf| f == folder) {
                    folders.push(folder.to_path_buf());
                }
            }
            remove_quietly(&path).await;
        }
        for folder in folders {
            // Only succeeds when the folder is empty, which is what we want.
            let _ = tokio::fs::remove_dir(&folder).await;
        }
    }
}

/// Writes `<path>.tmp` and renames it over `path`, so readers never see a partial file. The error
/// names the file.
async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let write = async {
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(folder).await?;
        }
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        tokio::fs::write(&temporary, bytes).await?;
        tokio::fs::rename(&temporary, path).await
    };
    write.await.map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

async fn remove_quietly(path: &Path) {
    if let Err(error) = tokio::fs::remove_file(path).await {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(file = %path.display(), "dash: cannot delete: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            dash_fragment: 10.0,
            dash_update_period: 5.0,
            dash_timeshift: 300.0,
            dash_path: "./objs/nginx/html".into(),
            dash_mpd_file: "[app]/[stream].mpd".into(),
            dash_window_size: 5,
            dash_cleanup: true,
            dash_dispose: 120.0,
            segment_template: DashSegmentTemplate::Time,
        }
    }

    #[test]
    fn validation_names_the_bad_field() {
        assert_eq!(config().validate(), Ok(()));
        let bad = Config { dash_fragment: 0.0, ..config() };
        assert!(bad.validate().unwrap_err().contains("dash_fragment"));
        let bad = Config { dash_window_size: 0, ..config() };
        assert!(bad.validate().unwrap_err().contains("dash_window_size"));
        let bad = Config { dash_mpd_file: "[app]/live.mpd".into(), ..config() };
        assert!(bad.validate().unwrap_err().contains("[stream]"));
    }
}
