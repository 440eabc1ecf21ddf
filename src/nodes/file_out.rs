//! `FileOut`: writes each stream to a file: FLV, MPEG-TS or MP4 by extension (or `format`), or a
//! VOD: an HLS playlist (`.m3u8`) or static DASH MPD (`.mpd`) with segments of `segment_duration`
//! seconds beside it (`file_vod.rs`; the playlist/MPD appears when the stream ends).
//!
//! `path` is an SRS template (`[vhost] [app] [stream] [timestamp] [2006] [01] [02] ...`). The file
//! is written under `<path>.tmp` and renamed when the stream ends. MP4 is fragmented by default
//! (`mp4_layout`): like FLV and TS it stays playable up to the last flushed keyframe or fragment if
//! the process dies first; `Classic` and `Faststart` finalize the file when the stream ends.
//! The writing itself is `file_writer.rs`, shared with `Dvr`.
//!
//! ```dhall
//! srs.node "record" (srs.Node.FileOut srs.FileOut::{ path = "./objs/[app]/[stream].[timestamp].mp4" })
//! ```

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::dash_out;
use super::file_io::FileIoMode;
use super::file_muxer::Mp4Layout;
use super::file_vod::{dash_config, HlsVodWriter};
use super::file_writer::MediaFileWriter;
use super::path_template::fill_path;
use super::FileFormat;
use crate::graph::engine::Outputs;
use crate::graph::Ports;
use crate::media::MediaEvent;
use crate::nodes::NodeKind;
use crate::nodes::StreamCtx;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// Output path template; its extension picks the format unless `format` is given.
    pub path: String,
    /// The container, whatever the extension says.
    pub format: Option<FileFormat>,
    /// How MP4 files are laid out: `Fragmented` (default), `Classic` or `Faststart`.
    pub mp4_layout: Mp4Layout,
    /// HLS and DASH: a segment ends at the first video keyframe at least this many seconds in.
    pub segment_duration: f64,
}

/// HLS and DASH segments' target duration, seconds (Apple's recommendation for VOD).
pub const DEFAULT_SEGMENT_DURATION: f64 = 6.0;
/// Shorter segments would make the live cutting rules drop some.
const MIN_SEGMENT_DURATION: f64 = 0.5;

impl Config {
    /// The output path and layout, with SRS's defaults otherwise.
    pub fn new(path: String) -> Config {
        Config {
            path,
            format: None,
            mp4_layout: Mp4Layout::Fragmented,
            segment_duration: DEFAULT_SEGMENT_DURATION,
        }
    }

    pub fn format(&self) -> Result<FileFormat, String> {
        match self.format {
            Some(format) => Ok(format),
            None => super::file_format(&self.path),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        self.format().map_err(|e| format!("field `path`: {e}"))?;
        if !(self.segment_duration.is_finite() && self.segment_duration >= MIN_SEGMENT_DURATION) {
            return Err(format!(
                "field `segment_duration` is {}: give at least {MIN_SEGMENT_DURATION} seconds",
                self.segment_duration
            ));
        }
        Ok(())
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        let accepts = self.format().map(FileFormat::caps).unwrap_or_else(|_| crate::graph::Caps::any());
        Ports::Sink { accepts }
    }

    fn validate(&self) -> Result<(), String> {
        Config::validate(self)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("path", self.path.clone())]
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        Box::pin(run(ctx, self.clone(), input))
    }
}

async fn run(ctx: StreamCtx, config: Config, mut input: mpsc::Receiver<MediaEvent>) {
    let format = match config.format() {
        Ok(format) => format,
        Err(e) => return ctx.engine.report_failure(format!("node `{}`: {e}", ctx.name())),
    };
    // FileOut is no srs.conf block: its dates stay in UTC.
    let path = fill_path(&config.path, &ctx.key, std::time::SystemTime::now(), 0);
    let io = ctx.engine.shared::<FileIoMode>().settings();
    match format {
        FileFormat::Hls => {
            let writer = HlsVodWriter::new(path, config.segment_duration, io.in_place);
            return run_hls(ctx, writer, input).await;
        }
        FileFormat::Dash => {
            let engine = ctx.engine.clone();
            if let Err(e) = dash_out::run(ctx, dash_config(&path, config.segment_duration), input).await {
                engine.report_failure(e);
            }
            return;
        }
        FileFormat::Flv | FileFormat::Ts | FileFormat::Mp4 => {}
    }
    let mut writer = match MediaFileWriter::create(path.clone(), format, config.mp4_layout, io).await {
        Ok(writer) => writer,
        Err(e) => return ctx.engine.report_failure(format!("{}: {e}", path.display())),
    };
    if io.in_place {
        writer.copy_unchanged_from(std::sync::Arc::clone(ctx.engine.shared::<FileIoMode>().inputs()));
    }
    while let Some(event) = input.recv().await {
        if event == MediaEvent::End {
            break;
        }
        if let Err(e) = writer.write(&event).await {
            ctx.engine.report_failure(format!("{}: {e}", path.display()));
            // Keep draining so the publisher is not blocked; the partial file stays as `.tmp`.
            while input.recv().await.is_some_and(|event| event != MediaEvent::End) {}
            return;
        }
    }
    match writer.close().await {
        Ok(closed) => tracing::info!(
            stream = %ctx.key,
            file = %closed.path.display(),
            n_frames = closed.n_frames,
            n_bytes = closed.n_bytes,
            "file written"
        ),
        Err(e) => ctx.engine.report_failure(format!("{}: cannot finish the file: {e}", path.display())),
    }
}

/// HLS VOD: segments as they close, the playlist when the input ends (or breaks off).
async fn run_hls(ctx: StreamCtx, mut writer: HlsVodWriter, mut input: mpsc::Receiver<MediaEvent>) {
    while let Some(event) = input.recv().await {
        let result = match &event {
            MediaEvent::Description(description) => writer.on_description(description).await,
            MediaEvent::Frame(frame) => writer.on_frame(frame).await,
            MediaEvent::Metadata(_) => Ok(()),
            MediaEvent::End => break,
        };
        if let Err(e) = result {
            ctx.engine.report_failure(format!("{}: {e}", writer.playlist_path().display()));
            while input.recv().await.is_some_and(|event| event != MediaEvent::End) {}
            return;
        }
    }
    match writer.finish().await {
        Ok(n_segments) => tracing::info!(
            stream = %ctx.key,
            playlist = %writer.playlist_path().display(),
            n_segments,
            "hls vod written"
        ),
        Err(e) => {
            ctx.engine.report_failure(format!("{}: cannot finish: {e}", writer.playlist_path().display()))
        }
    }
}
