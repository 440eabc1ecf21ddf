//! `FileIn`: publishes a media file as a stream, as fast as possible or paced in real time.
//!
//! The format comes from the extension: FLV and MPEG-TS are streamed; MP4 (`.mp4 .m4a .m4v .mov`,
//! classic or fragmented) is read whole into memory, as its sample tables may come last.
//! Produces whatever the file carries, in the file's own timebase (90 kHz for TS).
//! Graph-scoped: it starts with the graph and publishes once (or in a loop with `repeat`).
//! A damaged file ends the stream after every good frame before the damage, and the failure
//! is reported (so `srs remux` exits non-zero).
//!
//! ```dhall
//! srs.node "file" (srs.Node.FileIn srs.FileIn::{ path = "in.flv", stream = "live/file", realtime = True })
//! ```

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::flv_frames::FlvToFrames;
use super::FileFormat;
use crate::codec::flv::FlvReader;
use crate::codec::mp4::read_mp4_partial;
use crate::codec::mpegts::TsDemuxer;
use crate::graph::{Caps, Ports, StreamKey};
use crate::media::{MediaEvent, MediaTime, TimestampUnwrapper};
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::NodeKind;
use crate::nodes::{Engine, Publication};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// The file to read; its extension picks the format.
    pub path: String,
    /// The stream it publishes: `app/stream` or `vhost/app/stream`.
    pub stream: String,
    /// Pace frames by their timestamps, like a live publisher.
    pub realtime: bool,
    /// Start again at the end (timestamps keep increasing).
    pub repeat: bool,
}

impl Config {
    pub fn stream_key(&self) -> Result<StreamKey, String> {
        StreamKey::parse(&self.stream).ok_or_else(|| {
            format!("field `stream` is `{}`: write `app/stream` or `vhost/app/stream`", self.stream)
        })
    }

    pub fn validate(&self) -> Result<(), String> {
        self.stream_key()?;
        match super::file_format(&self.path) {
            Ok(FileFormat::Hls | FileFormat::Dash) => {
                Err(format!("field `path`: `{}` is an output format only", self.path))
            }
            Ok(_) => Ok(()),
            Err(e) => Err(format!("field `path`: {e}")),
        }
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Source { produces: Caps::any() }
    }

    fn validate(&self) -> Result<(), String> {
        Config::validate(self)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("path", self.path.clone()), ("stream", self.stream.clone())]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        plan.source(node.name, Box::pin(run(node.engine.clone(), node.index, self.clone())));
        Ok(())
    }
}

/// Bytes read from the file at a time.
const READ_CHUNK: usize = 256 * 1024;

/// Publishes the file until it ends (or forever with `repeat`), or until shutdown.
async fn run(engine: Engine, node: NodeIndex, config: Config) {
    let name = engine.graph().node(node).name.clone();
    let key = match config.stream_key() {
        Ok(key) => key,
        Err(reason) => return engine.report_failure(format!("node `{name}`: {reason}")),
    };
    let format = match super::file_format(&config.path) {
        Ok(format) => format,
        Err(reason) => return engine.report_failure(format!("node `{name}`: {reason}")),
    };
    let publication = match engine.publish(node, key) {
        Ok(publication) => publication,
        Err(e) => return engine.report_failure(format!("node `{name}`: {e}")),
    };
    let shutdown = engine.shutdown_signal();
    tokio::pin!(shutdown);
    let mut emitter = Emitter {
        publication,
        pacer: Pacer::new(config.realtime),
        offset: MediaTime::ZERO,
        last_dts: MediaTime::ZERO,
    };
    loop {
        let pass = async {
            match format {
                FileFormat::Flv => publish_flv(&engine, &config.path, &mut emitter).await,
                FileFormat::Ts => publish_ts(&engine, &config.path, &mut emitter).await,
                FileFormat::Mp4 => publish_mp4(&engine, &config.path, &mut emitter).await,
                FileFormat::Hls | FileFormat::Dash => {
                    Err(format!("{format:?} is an output format only: cannot read it"))
                }
            }
        };
        let result = tokio::select! {
            result = pass => result,
            _ = &mut shutdown => break,
        };
        match result {
            Ok(()) if config.repeat => {
                emitter.offset = emitter.last_dts + MediaTime::from_millis(REPEAT_GAP_MS)
            }
            Ok(()) => break,
            Err(reason) => {
                engine.report_failure(format!("{}: {reason}", config.path));
                break;
            }
        }
    }
    emitter.publication.end().await;
}

/// Gap between the last frame of a pass and the first of the next with `repeat`.
const REPEAT_GAP_MS: i64 = 40;

/// Sends events of one pass, shifted by the pass's offset and paced.
struct Emitter {
    publication: Publication,
    pacer: Pacer,
    /// Added to every timestamp: where this pass starts on the published timeline.
    offset: MediaTime,
    /// Latest decode time published, offset included.
    last_dts: MediaTime,
}

impl Emitter {
    async fn send(&mut self, event: MediaEvent) {
        let event = match event {
            MediaEvent::Frame(mut frame) => {
                if self.offset != MediaTime::ZERO {
                    frame.dts = frame.dts + self.offset;
                    frame.pts = frame.pts + self.offset;
                }
                self.last_dts = self.last_dts.max(frame.dts);
                self.pacer.wait_for(frame.dts).await;
                MediaEvent::Frame(frame)
            }
            MediaEvent::Metadata(mut metadata) if self.offset != MediaTime::ZERO => {
                metadata.time = metadata.time + self.offset;
                MediaEvent::Metadata(metadata)
            }
            // The end of the stream is the publication's, not the pass's.
            MediaEvent::End => return,
            other => other,
        };
        self.publication.send(event).await;
    }
}

/// FLV, streamed: a damaged tag ends the pass after every good tag before it.
async fn publish_flv(engine: &Engine, path: &str, emitter: &mut Emitter) -> Result<(), String> {
    let mut file = tokio::fs::File::open(path).await.map_err(|e| e.to_string())?;
    let mut reader = FlvReader::default();
    let mut frames = FlvToFrames::default();
    let mut unwrapper = TimestampUnwrapper::default();
    let mut buffer = vec![0u8; READ_CHUNK];
    loop {
        let n = file.read(&mut buffer).await.map_err(|e| e.to_string())?;
        if n == 0 {
            reader.finish();
        } else {
            reader.push(&buffer[..n]);
            engine.add_progress(n as u64);
        }
        while let Some(tag) = reader.next_tag() {
            let tag = tag.map_err(|e| e.to_string())?;
            let ts = unwrapper.unwrap(tag.timestamp_ms);
            let events = match frames.push(tag.tag_type, ts, tag.body) {
                Ok(events) => events,
                Err(e) => {
                    tracing::warn!(file = %path, offset = tag.offset, "skipping a bad tag: {e}");
                    continue;
                }
            };
            for event in events {
                emitter.send(event).await;
            }
        }
        if n == 0 {
            return Ok(());
        }
    }
}

/// MPEG-TS, streamed (timestamps stay in 90 kHz). The demuxer recovers from damage by itself, so the
/// whole file is published; the damage found is then reported as the pass's failure.
async fn publish_ts(engine: &Engine, path: &str, emitter: &mut Emitter) -> Result<(), String> {
    let mut file = tokio::fs::File::open(path).await.map_err(|e| e.to_string())?;
    let mut demuxer = TsDemuxer::default();
    let mut buffer = vec![0u8; READ_CHUNK];
    let mut first_damage: Option<String> = None;
    let mut n_damaged = 0u64;
    loop {
        let n = file.read(&mut buffer).await.map_err(|e| e.to_string())?;
        if n == 0 {
            demuxer.finish();
        } else {
            demuxer.push(&buffer[..n]);
            engine.add_progress(n as u64);
        }
        while let Some(polled) = demuxer.poll() {
            match polled {
                Ok(event) => emitter.send(event).await,
                Err(damage) => {
                    n_damaged += 1;
                    tracing::warn!(file = %path, "{damage}");
                    first_damage.get_or_insert_with(|| damage.to_string());
                }
            }
        }
        if n == 0 {
            return match first_damage {
                None => Ok(()),
                Some(first) if n_damaged == 1 => Err(first),
                Some(first) => Err(format!("{first} (and {} more errors)", n_damaged - 1)),
            };
        }
    }
}

/// MP4 (classic or fragmented), read whole into memory: the sample tables may sit at the end.
/// A damaged file publishes every sample before the damage, then reports it.
async fn publish_mp4(engine: &Engine, path: &str, emitter: &mut Emitter) -> Result<(), String> {
    let data = Bytes::from(tokio::fs::read(path).await.map_err(|e| e.to_string())?);
    let (contents, damage) = read_mp4_partial(&data).map_err(|e| e.to_string())?;
    emitter.send(MediaEvent::Description(Arc::new(contents.description))).await;
    let mut n_reported = 0;
    for frame in contents.frames {
        n_reported += frame.data.len() as u64;
        engine.add_progress(frame.data.len() as u64);
        emitter.send(MediaEvent::Frame(frame)).await;
    }
    engine.add_progress((data.len() as u64).saturating_sub(n_reported));
    match damage {
        None => Ok(()),
        Some(damage) => Err(damage.to_string()),
    }
}

/// Sleeps so frames leave at the pace of their timestamps.
#[derive(Debug)]
struct Pacer {
    enabled: bool,
    start: Option<(Instant, i64)>,
}

impl Pacer {
    fn new(enabled: bool) -> Pacer {
        Pacer { enabled, start: None }
    }

    async fn wait_for(&mut self, dts: MediaTime) {
        if !self.enabled {
            return;
        }
        let ms = dts.as_millis();
        let (started, first_ms) = *self.start.get_or_insert((Instant::now(), ms));
        let due = started + Duration::from_millis(u64::try_from(ms - first_ms).unwrap_or(0));
        tokio::time::sleep_until(due).await;
    }
}
