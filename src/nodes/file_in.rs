//! `FileIn`: publishes a media file as a stream, as fast as possible or paced in real time.
//!
//! The format comes from the extension: FLV and MPEG-TS are streamed; MP4 (`.mp4 .m4a .m4v .mov`,
//! classic or fragmented) is read in pieces: `moov` first (wherever it sits), then the samples in
//! windows, so memory does not grow with the file.
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

use super::file_io::{FileIo, FileIoMode, IoSettings};
use super::flv_frames::FlvToFrames;
use super::FileFormat;
use crate::codec::flv::FlvReader;
use crate::codec::mp4::{BoxScan, IndexedSample};
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

/// Publishes the file until it ends (or forever with `repeat`), or until shutdown.
pub(crate) async fn run(engine: Engine, node: NodeIndex, config: Config) {
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
    let io = engine.shared::<FileIoMode>().settings();
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
                FileFormat::Flv => publish_flv(&engine, &config.path, io, &mut emitter).await,
                FileFormat::Ts => publish_ts(&engine, &config.path, io, &mut emitter).await,
                FileFormat::Mp4 => publish_mp4(&engine, &config.path, io, &mut emitter).await,
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

/// FLV, streamed: a damaged tag ends the pass after every good tag before it. A batch run reads
/// in blocks that frames share instead (`publish_flv_blocks`).
async fn publish_flv(
    engine: &Engine,
    path: &str,
    io: IoSettings,
    emitter: &mut Emitter,
) -> Result<(), String> {
    if io.in_place {
        return publish_flv_blocks(engine, path, io, emitter).await;
    }
    let mut file = FileIo::open(path, io.in_place).await.map_err(|e| e.to_string())?;
    let mut tags = FlvTags::new(FlvReader::default());
    let mut buffer = vec![0u8; io.block];
    loop {
        let n = file.read(&mut buffer).await.map_err(|e| e.to_string())?;
        if n == 0 {
            tags.reader.finish();
        } else {
            tags.reader.push(&buffer[..n]);
            engine.add_progress(n as u64);
        }
        tags.publish_ready(path, emitter).await?;
        if n == 0 {
            return Ok(());
        }
    }
}

/// A batch run's FLV input, read a block at a time with positioned reads (`file_blocks`): each
/// block starts at the first tag the one before did not hold whole, so every tag body is a slice
/// of a block (no copy), and an FLV sink finds where the input holds it and copies unchanged tags
/// from the file (`InputBlocks::find_unchanged`). The bytes read again at each block's start (the
/// torn tag) are one tag's, a block is `BATCH_BLOCK` (or a tag, when larger).
async fn publish_flv_blocks(
    engine: &Engine,
    path: &str,
    io: IoSettings,
    emitter: &mut Emitter,
) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let blocks = Arc::clone(engine.shared::<FileIoMode>().inputs());
    let mut tags = FlvTags::new(FlvReader::default());
    let mut counted = 0;
    loop {
        let at = tags.reader.resume_offset();
        let wanted = io.block.max(tags.reader.needed());
        let block = blocks.read(&file, at, wanted).map_err(|e| format!("byte {at}: {e}"))?;
        let end = at + block.len() as u64;
        engine.add_progress(end.saturating_sub(counted));
        counted = counted.max(end);
        // A short read is the end of the file, whatever its length was at the start.
        let ended = end >= len || block.len() < wanted;
        tags.reader.next_block(block, ended);
        tags.publish_ready(path, emitter).await?;
        if ended {
            return Ok(());
        }
    }
}

/// Tags to frames, for both ways of reading FLV.
struct FlvTags {
    reader: FlvReader,
    frames: FlvToFrames,
    unwrapper: TimestampUnwrapper,
    events: Vec<MediaEvent>,
}

impl FlvTags {
    fn new(reader: FlvReader) -> FlvTags {
        FlvTags {
            reader,
            frames: FlvToFrames::default(),
            unwrapper: TimestampUnwrapper::default(),
            events: Vec::new(),
        }
    }

    /// Publishes the events of every complete tag.
    async fn publish_ready(&mut self, path: &str, emitter: &mut Emitter) -> Result<(), String> {
        while let Some(tag) = self.reader.next_tag() {
            let tag = tag.map_err(|e| e.to_string())?;
            let ts = self.unwrapper.unwrap(tag.timestamp_ms);
            if let Err(e) = self.frames.push_into(tag.tag_type, ts, tag.body, &mut self.events) {
                tracing::warn!(file = %path, offset = tag.offset, "skipping a bad tag: {e}");
                continue;
            }
            for event in self.events.drain(..) {
                emitter.send(event).await;
            }
        }
        Ok(())
    }
}

/// MPEG-TS, streamed (timestamps stay in 90 kHz). The demuxer recovers from damage by itself, so the
/// whole file is published; the damage found is then reported as the pass's failure.
async fn publish_ts(
    engine: &Engine,
    path: &str,
    io: IoSettings,
    emitter: &mut Emitter,
) -> Result<(), String> {
    let mut file = FileIo::open(path, io.in_place).await.map_err(|e| e.to_string())?;
    let mut demuxer = TsDemuxer::default();
    let mut buffer = vec![0u8; io.block];
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

/// MP4 (classic or fragmented), read in pieces: the top-level box headers, then `moov` (wherever it
/// sits) and each `moof`, then the samples in output order through `SampleWindows`. Memory is the
/// sample tables plus a few windows, whatever the file's size. A damaged file publishes every sample
/// before the damage, then reports it; samples whose bytes are past the end of a truncated file are
/// dropped, and said so in the log.
async fn publish_mp4(
    engine: &Engine,
    path: &str,
    io: IoSettings,
    emitter: &mut Emitter,
) -> Result<(), String> {
    let file = FileIo::open(path, io.in_place).await.map_err(|e| e.to_string())?;
    let file_len = file.len().await.map_err(|e| e.to_string())?;
    let file = Reader {
        file: Arc::new(match file {
            FileIo::Pooled(file) => file.into_std().await,
            FileIo::InPlace(file) => file,
        }),
        in_place: io.in_place,
    };
    let mut scan = BoxScan::new(file_len);
    while let Some((offset, len)) = scan.wanted() {
        scan.feed(file.read_at(offset, len).await.map_err(|e| format!("byte {offset}: {e}"))?);
    }
    let mut index = scan.finish().map_err(|e| e.to_string())?;
    let mut damage = index.take_damage();
    if index.n_missing_samples() > 0 {
        tracing::warn!(
            file = %path,
            n_dropped = index.n_missing_samples(),
            "samples dropped: their bytes are past the end of the file (truncated?)"
        );
    }
    let mut windows = SampleWindows { file, file_len, windows: Vec::new() };
    let probe = match index.description_probe() {
        Some(sample) => Some(windows.read(&sample).await?),
        None => None,
    };
    let description = index.description(probe.as_ref()).map_err(|e| e.to_string())?;
    emitter.send(MediaEvent::Description(Arc::new(description))).await;
    let mut stopped = vec![false; index.n_tracks()];
    let mut n_reported = 0;
    for sample in index.samples() {
        let track = usize::from(sample.track);
        if stopped[track] {
            continue;
        }
        let payload = windows.read(&sample).await?;
        match index.frame(&sample, payload) {
            Ok(frame) => {
                n_reported += frame.data.len() as u64;
                engine.add_progress(frame.data.len() as u64);
                emitter.send(MediaEvent::Frame(frame)).await;
            }
            Err(error) => {
                // The track stops at its first unreadable sample; the others go on.
                tracing::warn!(file = %path, "a track ends early: {error}");
                stopped[track] = true;
                damage.get_or_insert(error);
            }
        }
    }
    engine.add_progress(file_len.saturating_sub(n_reported));
    match damage {
        None => Ok(()),
        Some(damage) => Err(damage.to_string()),
    }
}

/// Bytes read at once for samples: a window over consecutive samples, handed out as slices.
const SAMPLE_WINDOW: usize = 1 << 20;
/// Windows kept at once, so tracks stored apart in the file are not read twice.
const MAX_SAMPLE_WINDOWS: usize = 2;

/// Sample bytes read in windows of at least `SAMPLE_WINDOW`; a sample is a slice of the window that
/// holds it, so a window lives as long as frames sliced from it are in flight (copies were tried:
/// with many small buffers freed on other threads, the allocator kept more memory, not less).
struct SampleWindows {
    file: Reader,
    file_len: u64,
    /// (file offset, bytes), the most recently used last.
    windows: Vec<(u64, Bytes)>,
}

impl SampleWindows {
    async fn read(&mut self, sample: &IndexedSample) -> Result<Bytes, String> {
        let size = sample.size as usize;
        let offset = sample.offset;
        let end = offset.saturating_add(u64::from(sample.size));
        let found = self
            .windows
            .iter()
            .position(|(start, bytes)| *start <= offset && end <= start + bytes.len() as u64);
        let (start, window) = match found {
            Some(position) => self.windows.remove(position),
            None => {
                let len = (size.max(SAMPLE_WINDOW) as u64).min(self.file_len.saturating_sub(offset));
                // `len` is at most `SAMPLE_WINDOW` or the sample's 32-bit size.
                let bytes = self
                    .file
                    .read_at(offset, len as usize)
                    .await
                    .map_err(|e| format!("byte {offset}: {e}"))?;
                if self.windows.len() >= MAX_SAMPLE_WINDOWS {
                    self.windows.remove(0);
                }
                (offset, bytes)
            }
        };
        // The window holds `offset..end`: found so, or read from `offset` for at least `size` bytes
        // (the index dropped samples past the end of the file).
        let from = usize::try_from(offset - start).unwrap_or(usize::MAX).min(window.len());
        let payload = window.slice(from..from.saturating_add(size).min(window.len()));
        self.windows.push((start, window));
        Ok(payload)
    }
}

/// An MP4 file read with positioned reads: on the blocking pool (live), or in place (batch).
struct Reader {
    file: Arc<std::fs::File>,
    in_place: bool,
}

impl Reader {
    /// `len` bytes at `offset`.
    async fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Bytes> {
        fn read(file: &std::fs::File, offset: u64, len: usize) -> std::io::Result<Bytes> {
            use std::os::unix::fs::FileExt;
            let mut buffer = vec![0u8; len];
            file.read_exact_at(&mut buffer, offset)?;
            Ok(Bytes::from(buffer))
        }
        if self.in_place {
            return read(&self.file, offset, len);
        }
        let file = Arc::clone(&self.file);
        tokio::task::spawn_blocking(move || read(&file, offset, len)).await.map_err(std::io::Error::other)?
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
