//! `FileIn`: publishes a media file as a stream, as fast as possible or paced in real time.
//!
//! The format comes from the extension (`.flv`). Produces whatever the file carries.
//! Graph-scoped: it starts with the graph and publishes once (or in a loop with `repeat`).
//! A damaged file ends the stream after every good frame before the damage, and the failure
//! is reported (so `srs remux` exits non-zero).
//!
//! ```dhall
//! srs.node "file" (srs.Node.FileIn srs.FileIn::{ path = "in.flv", stream = "live/file", realtime = True })
//! ```

use std::time::Duration;

use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::flv_frames::FlvToFrames;
use crate::codec::flv::FlvReader;
use crate::graph::engine::Publication;
use crate::graph::{Caps, Engine, Ports, StreamKey};
use crate::media::{MediaEvent, MediaTime, TimestampUnwrapper};

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
        super::file_format(&self.path).map(|_| ()).map_err(|e| format!("field `path`: {e}"))
    }
}

pub fn ports() -> Ports {
    Ports::Source { produces: Caps::any() }
}

/// Bytes read from the file at a time.
const READ_CHUNK: usize = 256 * 1024;

/// Publishes the file until it ends (or forever with `repeat`), or until shutdown.
pub async fn run(engine: Engine, node: NodeIndex, config: Config) {
    let name = engine.graph().node(node).name.clone();
    let key = match config.stream_key() {
        Ok(key) => key,
        Err(reason) => return engine.report_failure(format!("node `{name}`: {reason}")),
    };
    let mut publication = match engine.publish(node, key) {
        Ok(publication) => publication,
        Err(e) => return engine.report_failure(format!("node `{name}`: {e}")),
    };
    let shutdown = engine.shutdown_signal();
    tokio::pin!(shutdown);
    let mut pacer = Pacer::new(config.realtime);
    let mut offset_ms = 0;
    loop {
        let pass = publish_once(&engine, &config, &mut publication, &mut pacer, offset_ms);
        let result = tokio::select! {
            result = pass => result,
            _ = &mut shutdown => break,
        };
        match result {
            Ok(last_ms) if config.repeat => offset_ms = last_ms + 40,
            Ok(_) => break,
            Err(reason) => {
                engine.report_failure(format!("{}: {reason}", config.path));
                break;
            }
        }
    }
    publication.end().await;
}

/// Reads the file once; returns the last timestamp published (ms).
async fn publish_once(
    engine: &Engine,
    config: &Config,
    publication: &mut Publication,
    pacer: &mut Pacer,
    offset_ms: i64,
) -> Result<i64, String> {
    let mut file = tokio::fs::File::open(&config.path).await.map_err(|e| e.to_string())?;
    let mut reader = FlvReader::default();
    let mut frames = FlvToFrames::default();
    let mut unwrapper = TimestampUnwrapper::default();
    let mut buffer = vec![0u8; READ_CHUNK];
    let mut last_ms = offset_ms;
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
            let ts = unwrapper.unwrap(tag.timestamp_ms) + offset_ms;
            let events = match frames.push(tag.tag_type, ts, tag.body) {
                Ok(events) => events,
                Err(e) => {
                    tracing::warn!(file = %config.path, offset = tag.offset, "skipping a bad tag: {e}");
                    continue;
                }
            };
            for event in events {
                if let MediaEvent::Frame(frame) = &event {
                    last_ms = last_ms.max(frame.dts.as_millis());
                    pacer.wait_for(frame.dts).await;
                }
                publication.send(event).await;
            }
        }
        if n == 0 {
            return Ok(last_ms);
        }
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
