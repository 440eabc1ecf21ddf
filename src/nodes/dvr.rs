//! `Dvr`: SRS's `dvr`: records each published stream to FLV or MP4 files (by the path's extension).
//!
//! `Session` writes one file per publish; `Segment` also starts a new file once the current one
//! holds `dvr_duration` seconds (at the next video keyframe when `dvr_wait_keyframe`), repeating
//! the metadata and sequence headers at its start. Timestamps go through `time_jitter` first, and
//! with `dvr_wait_keyframe` video before the first keyframe is dropped. Files are written under
//! `<path>.tmp` (MP4 fragmented, so a killed server leaves a playable file) and renamed when closed;
//! each closed file is handed to [`on_dvr_file_closed`], the point where `on_dvr` hooks attach.
//! The writing is `file_writer.rs`, shared with `FileOut`.
//!
//! ```dhall
//! srs.node "dvr" (srs.Node.Dvr srs.Dvr::{
//!   dvr_path = "./objs/dvr/[app]/[stream].[timestamp].mp4", dvr_plan = srs.DvrPlan.Segment })
//! ```

use std::sync::Arc;
use std::time::SystemTime;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::file_io::FileIoMode;
use super::file_muxer::Mp4Layout;
use super::file_writer::MediaFileWriter;
use super::jitter::{JitterCorrector, TimeJitter};
use super::path_template::{fill_path, zone_offset};
use super::FileFormat;
use crate::graph::engine::Outputs;
use crate::graph::{Ports, StreamKey};
use crate::media::{MediaEvent, MediaKind, MediaTime, Metadata, StreamDescription};
use crate::nodes::NodeKind;
use crate::nodes::StreamCtx;

/// SRS's `dvr_plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub enum DvrPlan {
    /// One file per publish.
    Session,
    /// A new file every `dvr_duration` seconds.
    Segment,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// Streams to record: `all`, or `app/stream` names.
    pub dvr_apply: Vec<String>,
    /// `Session` (one file per publish) or `Segment` (a file every `dvr_duration` seconds).
    pub dvr_plan: DvrPlan,
    /// File path template; `.mp4` records MP4, anything else FLV. A path not ending in `.flv` or
    /// `.mp4` is a directory and gets `/[stream].[timestamp].flv` appended (as SRS does).
    pub dvr_path: String,
    /// Seconds per file in the `Segment` plan.
    pub dvr_duration: u64,
    /// Start files on video keyframes only, and drop video before the first keyframe.
    pub dvr_wait_keyframe: bool,
    /// Timestamp correction applied to what is recorded.
    pub time_jitter: TimeJitter,
    /// Date variables of `dvr_path` in UTC; off: in local time (`TZ`), as SRS (its global `utc_time`).
    pub utc_time: bool,
}

impl Default for Config {
    /// SRS's defaults; the Dhall `Dvr.default` must equal these (tested in `conf::classic`).
    fn default() -> Config {
        Config {
            dvr_apply: vec!["all".into()],
            dvr_plan: DvrPlan::Session,
            dvr_path: "./objs/nginx/html/[app]/[stream].[timestamp].flv".into(),
            dvr_duration: 30,
            dvr_wait_keyframe: true,
            time_jitter: TimeJitter::Full,
            utc_time: false,
        }
    }
}

impl Config {
    /// Whether `dvr_apply` selects the stream.
    pub fn applies_to(&self, key: &StreamKey) -> bool {
        let name = format!("{}/{}", key.app, key.stream);
        self.dvr_apply.iter().any(|entry| entry == "all" || *entry == name)
    }

    /// The path template after SRS's directory rule, and the format it records.
    pub fn file_template(&self) -> (String, FileFormat) {
        let lower = self.dvr_path.to_ascii_lowercase();
        if lower.ends_with(".mp4") {
            (self.dvr_path.clone(), FileFormat::Mp4)
        } else if lower.ends_with(".flv") {
            (self.dvr_path.clone(), FileFormat::Flv)
        } else {
            let dir = self.dvr_path.trim_end_matches('/');
            (format!("{dir}/[stream].[timestamp].flv"), FileFormat::Flv)
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.dvr_apply.is_empty() {
            return Err("field `dvr_apply` is empty: write [\"all\"] or app/stream names".into());
        }
        if self.dvr_plan == DvrPlan::Segment && self.dvr_duration == 0 {
            return Err("field `dvr_duration` must be above 0 with the Segment plan".into());
        }
        Ok(())
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Sink { accepts: self.file_template().1.caps() }
    }

    fn validate(&self) -> Result<(), String> {
        Config::validate(self)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("dvr_path", self.dvr_path.clone()), ("dvr_plan", format!("{:?}", self.dvr_plan))]
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        Box::pin(run(ctx, self.clone(), input))
    }
}

/// A recording just closed under its final name: what SRS's `on_dvr` hook reports.
#[derive(Debug, Clone, PartialEq)]
pub struct DvrFileClosed {
    pub stream: StreamKey,
    pub path: std::path::PathBuf,
    pub duration: std::time::Duration,
    pub n_bytes: u64,
    pub n_frames: u64,
}

/// Every closed recording passes here: logged, and posted to the vhost's `on_dvr` hooks.
pub fn on_dvr_file_closed(ctx: &StreamCtx, closed: &DvrFileClosed) {
    let node = ctx.name();
    tracing::info!(
        node,
        stream = %closed.stream,
        file = %closed.path.display(),
        duration_ms = closed.duration.as_millis() as u64,
        n_bytes = closed.n_bytes,
        n_frames = closed.n_frames,
        "dvr file closed"
    );
    let event =
        crate::control::hooks::HookEvent::Dvr { cwd: current_dir(), file: closed.path.display().to_string() };
    super::vhost::notify_file_hook(ctx, event);
}

/// The working directory as SRS reports it in `on_dvr` / `on_hls` (`cwd`).
pub fn current_dir() -> String {
    std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()
}

/// What one stream's recording knows between events.
#[derive(Debug, Default)]
struct Recording {
    writer: Option<MediaFileWriter>,
    description: Option<Arc<StreamDescription>>,
    metadata: Option<Metadata>,
    seen_video_keyframe: bool,
    /// A file was given up (full disk): the next one starts at a frame a file can start at.
    resync: bool,
}

async fn run(ctx: StreamCtx, config: Config, mut input: mpsc::Receiver<MediaEvent>) {
    if !config.applies_to(&ctx.key) {
        while input.recv().await.is_some_and(|event| event != MediaEvent::End) {}
        return;
    }
    let (template, format) = config.file_template();
    let segment_length = (config.dvr_plan == DvrPlan::Segment)
        .then(|| MediaTime::from_millis(config.dvr_duration as i64 * 1000));
    let mut jitter = JitterCorrector::new(config.time_jitter);
    let mut recording = Recording::default();
    while let Some(event) = input.recv().await {
        if event == MediaEvent::End {
            break;
        }
        let event = jitter.correct_event(event);
        let result = match &event {
            MediaEvent::Description(description) => {
                recording.description = Some(Arc::clone(description));
                write_if_open(&mut recording, &event).await
            }
            MediaEvent::Metadata(metadata) => {
                recording.metadata = Some(metadata.clone());
                write_if_open(&mut recording, &event).await
            }
            MediaEvent::Frame(frame) => {
                let video_keyframe = frame.kind() == MediaKind::Video && frame.keyframe;
                if config.dvr_wait_keyframe
                    && frame.kind() == MediaKind::Video
                    && !recording.seen_video_keyframe
                {
                    if !video_keyframe {
                        continue;
                    }
                    recording.seen_video_keyframe = true;
                }
                let has_video = recording.description.as_ref().is_some_and(|d| d.video.is_some());
                // SRS reaps on video keyframes only; a stream without video has none, so any frame goes.
                let may_cut = !config.dvr_wait_keyframe || video_keyframe || !has_video;
                // As SRS, the incoming frame counts: a 2 s file is cut at the keyframe at 2 s.
                let full = match (recording.writer.as_ref().and_then(|w| w.first_dts()), segment_length) {
                    (Some(first_dts), Some(length)) => frame.dts - first_dts >= length,
                    _ => false,
                };
                if full && may_cut {
                    close(&ctx, &mut recording).await;
                }
                if recording.resync {
                    if !may_cut {
                        continue;
                    }
                    recording.resync = false;
                }
                let opened = match recording.writer {
                    Some(_) => Ok(()),
                    None => open(&ctx, &template, config.utc_time, format, &mut recording).await,
                };
                match opened {
                    Ok(()) => write_if_open(&mut recording, &event).await,
                    Err(e) => Err(e),
                }
            }
            MediaEvent::End => Ok(()),
        };
        if let Err(e) = result {
            if crate::nodes::hls_out::writer::is_storage_full(&e) {
                give_up_file(&ctx, &mut recording, &e).await;
                continue;
            }
            tracing::error!(node = ctx.name(), stream = %ctx.key, "dvr stops recording this stream: {e}");
            recording.writer = None;
            while input.recv().await.is_some_and(|event| event != MediaEvent::End) {}
            return;
        }
    }
    close(&ctx, &mut recording).await;
}

/// The disk is full: the file being written is given up (logged once, as the one file it is)
/// and recording goes on with a new file at the next keyframe, which fails again (once) while
/// there is no space and succeeds once there is.
async fn give_up_file(ctx: &StreamCtx, recording: &mut Recording, e: &std::io::Error) {
    recording.resync = true;
    let Some(writer) = recording.writer.take() else {
        tracing::error!(node = ctx.name(), stream = %ctx.key,
            "dvr: {e}; no file could be started, the stream goes on; recording resumes at a keyframe once there is space");
        return;
    };
    let file = writer.path().to_path_buf();
    let kept = writer.abandon().await;
    tracing::error!(node = ctx.name(), stream = %ctx.key, file = %file.display(), kept = kept.is_some(),
        "dvr: {e}; file given up (what reached the disk is kept), the stream goes on; \
         recording resumes at a keyframe once there is space");
}

async fn write_if_open(recording: &mut Recording, event: &MediaEvent) -> std::io::Result<()> {
    match &mut recording.writer {
        Some(writer) => writer.write(event).await,
        None => Ok(()),
    }
}

/// Starts a file and repeats the metadata and sequence headers seen so far at its start.
async fn open(
    ctx: &StreamCtx,
    template: &str,
    utc_time: bool,
    format: FileFormat,
    recording: &mut Recording,
) -> std::io::Result<()> {
    let now = SystemTime::now();
    let path = fill_path(template, &ctx.key, now, zone_offset(utc_time, now));
    let io = ctx.engine.shared::<FileIoMode>().settings();
    let mut writer = MediaFileWriter::create(path, format, Mp4Layout::Fragmented, io).await?;
    tracing::info!(node = ctx.name(), stream = %ctx.key, file = %writer.path().display(), "dvr file opened");
    if let Some(metadata) = &recording.metadata {
        writer.write(&MediaEvent::Metadata(metadata.clone())).await?;
    }
    if let Some(description) = &recording.description {
        writer.write(&MediaEvent::Description(Arc::clone(description))).await?;
    }
    recording.writer = Some(writer);
    Ok(())
}

async fn close(ctx: &StreamCtx, recording: &mut Recording) {
    let Some(writer) = recording.writer.take() else { return };
    let path = writer.path().to_path_buf();
    match writer.close().await {
        Ok(closed) => on_dvr_file_closed(
            ctx,
            &DvrFileClosed {
                stream: ctx.key.clone(),
                path: closed.path,
                duration: closed.duration,
                n_bytes: closed.n_bytes,
                n_frames: closed.n_frames,
            },
        ),
        Err(e) => tracing::error!(stream = %ctx.key, file = %path.display(), "dvr file not finished: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(path: &str, apply: &[&str]) -> Config {
        Config {
            dvr_apply: apply.iter().map(|s| s.to_string()).collect(),
            dvr_plan: DvrPlan::Session,
            dvr_path: path.into(),
            dvr_duration: 30,
            dvr_wait_keyframe: true,
            time_jitter: TimeJitter::Full,
            utc_time: false,
        }
    }

    #[test]
    fn path_extension_picks_the_format_and_directories_get_srs_file_names() {
        let mp4 = config("./objs/[app]/[stream].[timestamp].mp4", &["all"]).file_template();
        assert_eq!(mp4, ("./objs/[app]/[stream].[timestamp].mp4".into(), FileFormat::Mp4));
        let flv = config("./objs/[app]/[stream].FLV", &["all"]).file_template();
        assert_eq!(flv.1, FileFormat::Flv);
        let dir = config("./objs/dvr/", &["all"]).file_template();
        assert_eq!(dir, ("./objs/dvr/[stream].[timestamp].flv".into(), FileFormat::Flv));
    }

    #[test]
    fn dvr_apply_takes_all_or_app_stream_names() {
        let key = StreamKey::parse("live/cam").unwrap();
        assert!(config("x.flv", &["all"]).applies_to(&key));
        assert!(config("x.flv", &["other/one", "live/cam"]).applies_to(&key));
        assert!(!config("x.flv", &["live/other"]).applies_to(&key));
        assert!(config("x.flv", &[]).validate().is_err());
    }
}
