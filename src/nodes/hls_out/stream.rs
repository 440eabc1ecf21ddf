//! One stream's HLS output while it is published: media events in, segments, parts and
//! playlists out, following `codec::hls::Segmenter`'s decisions.
//!
//! What must outlive a publish (the segment list, sequence numbers, init segments) is `Parked`:
//! taken from `HlsStreams` when a publish starts and put back when it ends, so a republish
//! continues the same playlist after a discontinuity, and `hls_dispose` can find the files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use petgraph::graph::NodeIndex;

use super::writer::{self, Fmp4Segments, TsSegments, WriteError};
use super::{on_segment_committed, Config, SegmentCommitted, SegmentFormat};
use crate::codec::hls::{
    fill_time, segment_uri, target_duration, AacSampleClock, Closed, LowLatencyInfo, MediaPlaylist,
    PlaylistEntry, PlaylistKey, PlaylistPart, Segment, SegmentCipher, SegmentKey, Segmenter,
};
use crate::graph::StreamKey;
use crate::media::{Codec, CodecSet, Frame, MediaKind, StreamDescription};
use crate::nodes::live_playlists::{normalize, LivePlaylist, LivePlaylists, Progress};
use crate::nodes::path_template::{unix_millis, zone_offset};
use crate::nodes::StreamCtx;

/// Where one segment lives and how the playlist names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    /// Path under `hls_path` (what hooks report as the url).
    pub relative: String,
    pub path: PathBuf,
    /// URI in the playlist; `[duration]` is filled when the segment closes.
    pub uri: String,
    /// fMP4 initialization segment URI.
    pub map_uri: Option<String>,
    /// The AES-128 key the segment is encrypted with (`hls_keys`).
    pub key: Option<Arc<KeyFile>>,
}

/// One key of `hls_keys`: its file, how the playlist names it, its bytes and IV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    pub path: PathBuf,
    pub uri: String,
    pub key: SegmentKey,
}

/// SRS's key rotation: a new random key and IV on every segment whose sequence number is a
/// multiple of `hls_fragments_per_key`, and on the first segment of a publish (a republish goes
/// on from any sequence number, and its first segments need a key too).
struct KeyRotation {
    /// `[vhost] [app] [stream]` filled; `[seq]` is filled per key.
    template: String,
    root: PathBuf,
    m3u8_relative: String,
    url_prefix: String,
    per_key: u64,
    current: Option<Arc<KeyFile>>,
    /// A key made for the segment just opened, whose file is still to be written.
    unwritten: Option<Arc<KeyFile>>,
    failed: Option<getrandom::Error>,
}

impl KeyRotation {
    fn for_segment(&mut self, seq: u64) -> Option<Arc<KeyFile>> {
        if self.current.is_none() || seq % self.per_key.max(1) == 0 {
            let mut bytes = [0u8; 32];
            if let Err(e) = getrandom::getrandom(&mut bytes) {
                self.failed = Some(e);
                return None;
            }
            let (key, iv) = bytes.split_at(16);
            let mut segment_key = SegmentKey { key: [0; 16], iv: [0; 16] };
            segment_key.key.copy_from_slice(key);
            segment_key.iv.copy_from_slice(iv);
            let relative = self.template.replace("[seq]", &seq.to_string());
            // SRS puts hls_key_url in front of the key file's name; without one, the key is named
            // relative to the playlist like the segments (SRS would name it under hls_path, a
            // directory rather than a URL).
            let uri = if self.url_prefix.is_empty() {
                segment_uri(&self.m3u8_relative, &relative, "")
            } else {
                format!("{}{relative}", self.url_prefix)
            };
            let file = Arc::new(KeyFile { path: self.root.join(&relative), uri, key: segment_key });
            self.current = Some(Arc::clone(&file));
            self.unwritten = Some(file);
        }
        self.current.clone()
    }
}

/// `name.ext` → `name.<index>.ext`: the file of one LL-HLS part.
fn part_name(name: &str, index: usize) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !ext.contains('/') => format!("{stem}.{index}.{ext}"),
        _ => format!("{name}.{index}"),
    }
}

impl SegmentFile {
    pub fn uri_with(&self, duration: Duration) -> String {
        self.uri.replace("[duration]", &duration.as_millis().to_string())
    }

    pub fn part_path(&self, index: usize) -> PathBuf {
        PathBuf::from(part_name(&self.path.to_string_lossy(), index))
    }

    pub fn part_uri(&self, index: usize) -> String {
        part_name(&self.uri, index)
    }
}

/// What survives between publishes of one stream.
#[derive(Debug)]
pub struct Parked {
    pub segmenter: Segmenter<SegmentFile>,
    /// Bumped by every publish; a dispose timer only acts if no publish came after it.
    pub generation: u64,
    pub n_inits: u32,
    /// Playlist and init segments: removed by `hls_dispose` with the segments.
    pub other_files: Vec<PathBuf>,
}

/// Every stream's parked HLS state, shared through `Engine::shared`.
#[derive(Debug, Default)]
pub struct HlsStreams {
    parked: Mutex<HashMap<(NodeIndex, StreamKey), Parked>>,
}

impl HlsStreams {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<(NodeIndex, StreamKey), Parked>> {
        // A poisoned map is still a valid map.
        self.parked.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn take(&self, node: NodeIndex, key: &StreamKey) -> Option<Parked> {
        self.map().remove(&(node, key.clone()))
    }

    /// Takes the state only if no publish happened since `generation`.
    pub fn take_if_idle(&self, node: NodeIndex, key: &StreamKey, generation: u64) -> Option<Parked> {
        let mut map = self.map();
        let idle = map.get(&(node, key.clone())).is_some_and(|p| p.generation == generation);
        if idle {
            map.remove(&(node, key.clone()))
        } else {
            None
        }
    }

    pub fn put(&self, node: NodeIndex, key: StreamKey, parked: Parked) {
        self.map().insert((node, key), parked);
    }
}

#[derive(Debug)]
enum Container {
    Ts(Box<TsSegments>),
    Fmp4(Fmp4Segments),
}

/// Codecs a segment format carries.
pub fn accepted(format: SegmentFormat) -> (CodecSet, CodecSet) {
    match format {
        SegmentFormat::Ts => {
            (CodecSet::of(&[Codec::H264, Codec::H265]), CodecSet::of(&[Codec::Aac, Codec::Mp3]))
        }
        SegmentFormat::Fmp4 => (
            CodecSet::of(&[Codec::H264, Codec::H265, Codec::Av1]),
            CodecSet::of(&[Codec::Aac, Codec::Mp3, Codec::Opus]),
        ),
    }
}

/// The runtime of one publish.
pub struct HlsStream {
    ctx: StreamCtx,
    config: Config,
    pub parked: Parked,
    m3u8_relative: String,
    m3u8_path: PathBuf,
    description: Option<StreamDescription>,
    seen_description: bool,
    container: Option<Container>,
    map_uri: Option<String>,
    audio_clock: AacSampleClock,
    warned: CodecSet,
    live: Option<Arc<LivePlaylist>>,
    keys: Option<KeyRotation>,
    /// The publisher's query string, kept for segments committed after it left.
    publisher_param: String,
    /// A segment was given up (full disk): frames are skipped until one a segment can start at.
    resync: bool,
}

impl HlsStream {
    pub fn new(ctx: StreamCtx, config: Config, parked: Parked) -> HlsStream {
        let m3u8_relative = ctx.key.fill(&config.hls_m3u8_file);
        let m3u8_path = Path::new(&config.hls_path).join(&m3u8_relative);
        let live = config.low_latency.then(|| ctx.engine.shared::<LivePlaylists>().register(&m3u8_path));
        let keys = config.hls_keys.then(|| KeyRotation {
            template: ctx.key.fill(&config.hls_key_file),
            root: PathBuf::from(config.key_root()),
            m3u8_relative: m3u8_relative.clone(),
            url_prefix: config.hls_key_url.clone(),
            per_key: config.hls_fragments_per_key,
            current: None,
            unwritten: None,
            failed: None,
        });
        let publisher_param = ctx
            .engine
            .shared::<crate::control::registry::Registry>()
            .publisher_info(&ctx.key)
            .map(|info| info.param)
            .unwrap_or_default();
        HlsStream {
            ctx,
            config,
            parked,
            publisher_param,
            m3u8_relative,
            m3u8_path,
            description: None,
            seen_description: false,
            container: None,
            map_uri: None,
            audio_clock: AacSampleClock::default(),
            warned: CodecSet::EMPTY,
            live,
            keys,
            resync: false,
        }
    }

    pub fn m3u8_path(&self) -> &Path {
        &self.m3u8_path
    }

    /// A new description: tracks this format cannot carry are left out (said once).
    pub async fn on_description(&mut self, description: &StreamDescription) -> Result<(), WriteError> {
        let (video_ok, audio_ok) = accepted(self.config.segment_format);
        let mut filtered = description.clone();
        if filtered.video.as_ref().is_some_and(|t| !video_ok.contains(t.codec)) {
            self.warn_once(filtered.video.take().map(|t| t.codec));
        }
        if filtered.audio.as_ref().is_some_and(|t| !audio_ok.contains(t.codec)) {
            self.warn_once(filtered.audio.take().map(|t| t.codec));
        }
        let changed = self.description.as_ref() != Some(&filtered);
        if changed || !self.seen_description {
            // SRS marks the segment a sequence header arrives in; a new publish always has one.
            self.parked.segmenter.mark_discontinuity();
        }
        self.seen_description = true;
        if !changed {
            return Ok(());
        }
        self.description = Some(filtered.clone());
        match (self.config.segment_format, &mut self.container) {
            (SegmentFormat::Ts, Some(Container::Ts(ts))) => ts.update_description(&filtered)?,
            (SegmentFormat::Ts, _) => {
                self.container = Some(Container::Ts(Box::new(TsSegments::new(&filtered)?)))
            }
            (SegmentFormat::Fmp4, _) => {
                // Frames already buffered belong to the old tracks: end their segment first.
                if let Some(closed) = self.parked.segmenter.close() {
                    self.on_closed(closed, None).await?;
                }
                let fmp4 = Fmp4Segments::new(&filtered)?;
                let stem = self.m3u8_relative.strip_suffix(".m3u8").unwrap_or(&self.m3u8_relative);
                let init_relative = format!("{stem}-init-{}.mp4", self.parked.n_inits);
                self.parked.n_inits += 1;
                let init_path = Path::new(&self.config.hls_path).join(&init_relative);
                writer::write_atomically(&init_path, &fmp4.init_segment()?).await?;
                self.parked.other_files.push(init_path);
                self.map_uri =
                    Some(segment_uri(&self.m3u8_relative, &init_relative, &self.config.hls_entry_prefix));
                self.container = Some(Container::Fmp4(fmp4));
            }
        }
        Ok(())
    }

    fn warn_once(&mut self, codec: Option<Codec>) {
        if let Some(codec) = codec.filter(|c| !self.warned.contains(*c)) {
            self.warned.insert(codec);
            tracing::warn!(node = self.ctx.name(), stream = %self.ctx.key, %codec,
                "{:?} hls segments cannot carry {codec}; that track is left out", self.config.segment_format);
        }
    }

    pub async fn on_frame(&mut self, frame: &Frame) -> Result<(), WriteError> {
        let Some(description) = &self.description else { return Ok(()) };
        let carried = match frame.kind() {
            MediaKind::Video => description.video.as_ref().map(|t| t.codec),
            MediaKind::Audio => description.audio.as_ref().map(|t| t.codec),
        };
        if carried != Some(frame.codec) {
            self.warn_once(Some(frame.codec));
            return Ok(());
        }
        let mut frame = frame.clone();
        if frame.codec == Codec::Aac && !self.config.hls_dts_directly {
            let rate = description.audio.as_ref().map_or(0, |t| t.sample_rate);
            frame.dts = self.audio_clock.next(frame.dts, rate);
            frame.pts = frame.dts;
        }
        let is_video = frame.kind() == MediaKind::Video;
        let random_access = if is_video { frame.keyframe } else { description.video.is_none() };
        if self.resync && !random_access {
            return Ok(());
        }
        self.resync = false;
        let namer = self.namer();
        let keys = &mut self.keys;
        let step = self.parked.segmenter.push(
            frame.kind(),
            frame.dts,
            is_video && frame.keyframe,
            random_access,
            |seq| namer.segment(seq, keys.as_mut().and_then(|k| k.for_segment(seq))),
        );
        let mut playlist_due = false;
        if let Some(closed) = step.closed {
            self.on_closed(closed, Some(&frame)).await?;
        }
        if let Some(part) = step.part_closed {
            let path = self.parked.segmenter.open_segment().map(|s| s.meta.part_path(part.index as usize));
            if let (Some(Container::Fmp4(fmp4)), Some(path)) = (&mut self.container, path) {
                fmp4.finish_part(&path, Some(&frame)).await?;
            }
            playlist_due = true;
        }
        if step.opened {
            if let Some(keys) = &mut self.keys {
                if let Some(e) = keys.failed.take() {
                    return Err(WriteError::Random(e));
                }
                // The key file is in place before any playlist names it (the playlist is written
                // when this segment closes, at the earliest).
                if let Some(key) = keys.unwritten.take() {
                    writer::write_atomically(&key.path, &key.key.key).await?;
                }
            }
            let open = self.parked.segmenter.open_segment();
            let path = open.map(|s| s.meta.path.clone());
            let cipher = open.and_then(|s| s.meta.key.as_ref()).map(|k| SegmentCipher::new(&k.key));
            if let (Some(Container::Ts(ts)), Some(path)) = (&mut self.container, path) {
                ts.open(&path, cipher).await?;
            }
        }
        match &mut self.container {
            Some(Container::Ts(ts)) => ts.write(&frame).await?,
            Some(Container::Fmp4(fmp4)) => fmp4.write(&frame),
            None => {}
        }
        if playlist_due {
            self.write_playlist().await?;
        }
        Ok(())
    }

    /// The disk is full: the open segment is given up (its temporary file removed, never
    /// listed) and frames are skipped until the next keyframe, where a new segment is tried.
    /// Gives the file given up, for the log line.
    pub async fn give_up_segment(&mut self) -> Option<PathBuf> {
        match &mut self.container {
            Some(Container::Ts(ts)) => ts.abandon().await,
            Some(Container::Fmp4(fmp4)) => fmp4.abandon(),
            None => {}
        }
        self.resync = true;
        let segment = self.parked.segmenter.abandon_open()?;
        remove_parts(&segment).await;
        Some(segment.meta.path)
    }

    /// End of publish: the open segment closes and the playlist is written a last time.
    pub async fn finish(&mut self) -> Result<(), WriteError> {
        if let Some(closed) = self.parked.segmenter.close() {
            self.on_closed(closed, None).await?;
        }
        if !self.parked.other_files.contains(&self.m3u8_path) {
            self.parked.other_files.push(self.m3u8_path.clone());
        }
        Ok(())
    }

    async fn on_closed(
        &mut self,
        closed: Closed<SegmentFile>,
        next: Option<&Frame>,
    ) -> Result<(), WriteError> {
        let (segment, keep, expired) = match closed {
            Closed::Kept { segment, expired } => (segment, true, expired),
            Closed::Dropped { segment } => (segment, false, Vec::new()),
        };
        let finished = match &mut self.container {
            Some(Container::Ts(ts)) => ts.finish(keep).await,
            Some(Container::Fmp4(fmp4)) => match segment.parts.last() {
                Some(last) => {
                    let last_part = segment.meta.part_path(last.index as usize);
                    fmp4.finish_with_last_part(&segment.meta.path, &last_part, keep, next).await
                }
                None => fmp4.finish(&segment.meta.path, keep, next).await,
            },
            None => Ok(()),
        };
        if let Err(e) = finished {
            // The file is not there: no playlist may name it.
            if keep {
                self.parked.segmenter.unlist_newest(segment.seq);
            }
            remove_parts(&segment).await;
            return Err(e);
        }
        if !keep {
            remove_parts(&segment).await;
            // A key made for a dropped segment and used by no other (its sequence number is
            // reused, and a new key of that number has the same file name).
            if let Some(key) = segment.meta.key.as_ref().filter(|k| !self.key_in_use(k)) {
                writer::remove(&key.path).await;
            }
        }
        if self.config.hls_cleanup {
            for old in &expired {
                writer::remove(&old.meta.path).await;
                remove_parts(old).await;
                if let Some(key) = old.meta.key.as_ref().filter(|k| !self.key_in_use(k)) {
                    writer::remove(&key.path).await;
                }
            }
        }
        self.write_playlist().await?;
        if keep {
            on_segment_committed(
                &self.ctx,
                &SegmentCommitted {
                    path: segment.meta.path.clone(),
                    url: segment.meta.relative.clone(),
                    duration: segment.duration,
                    seq: segment.seq,
                    m3u8: self.m3u8_path.clone(),
                    m3u8_url: self.m3u8_relative.clone(),
                    entry_url: segment.meta.uri_with(segment.duration),
                    publisher_param: self.publisher_param.clone(),
                    notify_bytes: self.config.hls_nb_notify,
                },
            );
        }
        Ok(())
    }

    /// Whether a listed or open segment is still encrypted with `key`.
    fn key_in_use(&self, key: &KeyFile) -> bool {
        let segmenter = &self.parked.segmenter;
        segmenter
            .segments()
            .chain(segmenter.open_segment())
            .any(|s| s.meta.key.as_ref().is_some_and(|k| k.path == key.path))
    }

    fn namer(&self) -> Namer {
        let mut template = self.ctx.key.fill(&self.config.hls_ts_file);
        if self.config.segment_format == SegmentFormat::Fmp4 {
            if let Some(stem) = template.strip_suffix(".ts") {
                template = format!("{stem}.m4s");
            }
        }
        Namer {
            template,
            hls_path: PathBuf::from(&self.config.hls_path),
            m3u8_relative: self.m3u8_relative.clone(),
            entry_prefix: self.config.hls_entry_prefix.clone(),
            map_uri: self.map_uri.clone(),
            utc_time: self.config.utc_time,
        }
    }

    /// The playlist as it stands.
    pub fn playlist(&self) -> MediaPlaylist {
        let segmenter = &self.parked.segmenter;
        let n_listed = segmenter.segments().len();
        let with_parts = |parts: &[crate::codec::hls::Part], file: &SegmentFile| -> Vec<PlaylistPart> {
            parts
                .iter()
                .map(|p| PlaylistPart {
                    duration: p.duration,
                    uri: file.part_uri(p.index as usize),
                    independent: p.independent,
                })
                .collect()
        };
        let mut entries: Vec<PlaylistEntry> = segmenter
            .segments()
            .enumerate()
            .map(|(i, s)| PlaylistEntry {
                discontinuity: s.discontinuity,
                map_uri: s.meta.map_uri.clone(),
                key: s.meta.key.as_ref().map(|k| PlaylistKey { uri: k.uri.clone(), iv: k.key.iv }),
                duration: s.duration,
                uri: Some(s.meta.uri_with(s.duration)),
                // LL-HLS lists the parts of the newest segments only.
                parts: if self.config.low_latency && i + 2 >= n_listed {
                    with_parts(&s.parts, &s.meta)
                } else {
                    Vec::new()
                },
            })
            .collect();
        let mut preload_hint = None;
        let mut low_latency = None;
        if self.config.low_latency {
            low_latency =
                Some(LowLatencyInfo::for_part_target(Duration::from_millis(self.config.part_target)));
            if let Some(open) = segmenter.open_segment() {
                if !open.parts.is_empty() {
                    entries.push(PlaylistEntry {
                        discontinuity: open.discontinuity,
                        map_uri: open.meta.map_uri.clone(),
                        parts: with_parts(&open.parts, &open.meta),
                        ..Default::default()
                    });
                }
                preload_hint = Some(open.meta.part_uri(open.parts.len()));
            }
        }
        let durations: Vec<Duration> = segmenter.segments().map(|s| s.duration).collect();
        MediaPlaylist {
            version: if self.config.segment_format == SegmentFormat::Fmp4 { 7 } else { 3 },
            media_sequence: segmenter.media_sequence(),
            discontinuity_sequence: segmenter.discontinuity_sequence(),
            target_duration: target_duration(durations.iter(), segmenter.config().max_td()),
            low_latency,
            entries,
            preload_hint,
            vod: false,
        }
    }

    async fn write_playlist(&self) -> Result<(), WriteError> {
        let playlist = self.playlist();
        writer::write_atomically(&self.m3u8_path, playlist.to_text().as_bytes()).await?;
        if let Some(live) = &self.live {
            let segmenter = &self.parked.segmenter;
            let open = segmenter.open_segment();
            live.update(Progress {
                last_complete: segmenter.segments().last().map(|s| s.seq),
                open: open.map(|s| (s.seq, s.parts.len() as u32)),
                hint: open.map(|s| normalize(&s.meta.part_path(s.parts.len()))),
                target_duration: Duration::from_secs(playlist.target_duration),
                part_target: Duration::from_millis(self.config.part_target),
            });
        }
        Ok(())
    }
}

async fn remove_parts(segment: &Segment<SegmentFile>) {
    for part in &segment.parts {
        writer::remove(&segment.meta.part_path(part.index as usize)).await;
    }
}

/// Names segments as they open (the wall clock is read here, at the edge).
struct Namer {
    template: String,
    hls_path: PathBuf,
    m3u8_relative: String,
    entry_prefix: String,
    map_uri: Option<String>,
    utc_time: bool,
}

impl Namer {
    fn segment(&self, seq: u64, key: Option<Arc<KeyFile>>) -> SegmentFile {
        let now = std::time::SystemTime::now();
        let offset = zone_offset(self.utc_time, now);
        let relative = fill_time(&self.template, unix_millis(now), offset).replace("[seq]", &seq.to_string());
        SegmentFile {
            path: self.hls_path.join(&relative),
            uri: segment_uri(&self.m3u8_relative, &relative, &self.entry_prefix),
            relative,
            map_uri: self.map_uri.clone(),
            key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_named_after_their_segment() {
        assert_eq!(part_name("live/s-5.m4s", 2), "live/s-5.2.m4s");
        assert_eq!(part_name("live.d/s", 0), "live.d/s.0");
    }
}
