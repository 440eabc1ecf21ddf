//! What `Ingest` pulls with its own clients: RTMP play, HTTP-FLV (or FFmpeg's FLV on a pipe), SRT,
//! MPEG-TS over HTTP and HLS (through `ingest_ts::TsPull`), each turned into a publication of the ingest's stream. The publication starts with the first
//! media and ends with the pull, so a source that comes back is a new publish (players stay on
//! their hubs, as with any republish).

use std::time::Duration;

use bytes::Bytes;
use petgraph::graph::NodeIndex;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::flv_frames::FlvToFrames;
use super::ingest_ts::TsPull;
use super::ts_source::TsSource;
use super::{Engine, Publication};
use crate::codec::flv::{FlvReader, TagType};
use crate::codec::rtmp::MediaMessageKind;
use crate::graph::StreamKey;
use crate::media::TimestampUnwrapper;
use crate::servers::hls_pull::{HlsChunk, HlsPull, HlsPullError};
use crate::servers::rtmp_client::RtmpPlayer;
use crate::servers::{http_pull, srt_pull};
use futures::StreamExt;

/// How long a source has to answer (TCP, handshake, play or the response head).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A source silent this long is dropped and dialled again.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The ingest's stream, published at the first media event.
pub struct LazyPublication {
    engine: Engine,
    node: NodeIndex,
    key: StreamKey,
    publication: Option<Publication>,
    frames: FlvToFrames,
    unwrapper: TimestampUnwrapper,
    events: Vec<crate::media::MediaEvent>,
}

impl LazyPublication {
    pub fn new(engine: &Engine, node: NodeIndex, key: &StreamKey) -> LazyPublication {
        LazyPublication {
            engine: engine.clone(),
            node,
            key: key.clone(),
            publication: None,
            frames: FlvToFrames::default(),
            unwrapper: TimestampUnwrapper::default(),
            events: Vec::new(),
        }
    }

    /// Whether media went out.
    pub fn published(&self) -> bool {
        self.publication.is_some()
    }

    /// One FLV tag body (an RTMP message payload); a bad body is logged and skipped.
    pub async fn push(&mut self, tag_type: TagType, timestamp_ms: u32, body: Bytes) -> Result<(), String> {
        let timestamp = self.unwrapper.unwrap(timestamp_ms);
        if let Err(e) = self.frames.push_into(tag_type, timestamp, body, &mut self.events) {
            tracing::warn!(stream = %self.key, "ingest skips a bad tag: {e}");
            return Ok(());
        }
        if self.events.is_empty() {
            return Ok(());
        }
        if self.publication.is_none() {
            let publication = self.engine.publish(self.node, self.key.clone()).map_err(|e| e.to_string())?;
            tracing::info!(stream = %self.key, "ingest publishing");
            self.publication = Some(publication);
        }
        if let Some(publication) = &mut self.publication {
            for event in self.events.drain(..) {
                publication.send(event).await;
            }
        }
        Ok(())
    }

    pub async fn end(self) {
        if let Some(publication) = self.publication {
            publication.end().await;
        }
    }
}

/// Plays `url` over RTMP into `out` until the source ends.
pub async fn pull_rtmp(url: &str, out: &mut LazyPublication) -> Result<(), String> {
    let mut player = RtmpPlayer::play(url, CONNECT_TIMEOUT).await.map_err(|e| e.to_string())?;
    loop {
        let next = tokio::time::timeout(IDLE_TIMEOUT, player.next())
            .await
            .map_err(|_| format!("no media for {IDLE_TIMEOUT:?}"))?;
        let Some(media) = next.map_err(|e| e.to_string())? else { return Ok(()) };
        let tag_type = match media.kind {
            MediaMessageKind::Audio => TagType::Audio,
            MediaMessageKind::Video => TagType::Video,
            MediaMessageKind::Data => TagType::Script,
        };
        out.push(tag_type, media.timestamp, media.payload).await?;
    }
}

/// GETs an HTTP-FLV `url` into `out` until the body ends.
pub async fn pull_http_flv(url: &str, out: &mut LazyPublication) -> Result<(), String> {
    let mut body = http_pull::get(url, CONNECT_TIMEOUT).await.map_err(|e| e.to_string())?;
    let mut reader = FlvReader::default();
    loop {
        let next = tokio::time::timeout(IDLE_TIMEOUT, body.next())
            .await
            .map_err(|_| format!("no data for {IDLE_TIMEOUT:?}"))?;
        match next.map_err(|e| e.to_string())? {
            Some(bytes) => {
                reader.push(&bytes);
                drain_tags(&mut reader, out).await?;
            }
            None => {
                reader.finish();
                drain_tags(&mut reader, out).await?;
                return Ok(());
            }
        }
    }
}

/// Calls an `srt://` URL and publishes its MPEG-TS as `key` (at the first datagram) until the
/// source ends. Whether anything was published, and why the pull ended.
pub async fn pull_srt(
    url: &str,
    engine: &Engine,
    node: NodeIndex,
    key: &StreamKey,
) -> (bool, Result<(), String>) {
    let mut socket = match srt_pull::call(url, CONNECT_TIMEOUT).await {
        Ok(socket) => socket,
        Err(e) => return (false, Err(e.to_string())),
    };
    let mut source = TsSource::new(format!("srt {url}"));
    let mut publication: Option<Publication> = None;
    let result = loop {
        let next = match tokio::time::timeout(IDLE_TIMEOUT, socket.next()).await {
            Ok(next) => next,
            Err(_) => break Err(format!("no data for {IDLE_TIMEOUT:?}")),
        };
        let bytes = match next {
            Some(Ok((_, bytes))) => bytes,
            Some(Err(e)) => break Err(e.to_string()),
            None => break Ok(()),
        };
        if publication.is_none() {
            match engine.publish(node, key.clone()) {
                Ok(started) => {
                    tracing::info!(stream = %key, "ingest publishing");
                    publication = Some(started);
                }
                Err(e) => break Err(e.to_string()),
            }
        }
        if let Some(publication) = &mut publication {
            source.push(publication, &bytes).await;
        }
    };
    let published = publication.is_some();
    if let Some(publication) = publication {
        source.finish(publication).await;
    }
    (published, result)
}

/// Reads FLV from a pipe (FFmpeg's stdout) into `out` until it closes.
pub async fn pull_flv_pipe(
    mut pipe: impl AsyncRead + Unpin,
    out: &mut LazyPublication,
) -> Result<(), String> {
    let mut reader = FlvReader::default();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = pipe.read(&mut buffer).await.map_err(|e| e.to_string())?;
        if n == 0 {
            reader.finish();
        } else {
            reader.push(&buffer[..n]);
        }
        drain_tags(&mut reader, out).await?;
        if n == 0 {
            return Ok(());
        }
    }
}

async fn drain_tags(reader: &mut FlvReader, out: &mut LazyPublication) -> Result<(), String> {
    while let Some(tag) = reader.next_tag() {
        let tag = tag.map_err(|e| format!("bad FLV: {e}"))?;
        out.push(tag.tag_type, tag.timestamp_ms, tag.body).await?;
    }
    Ok(())
}

/// GETs an MPEG-TS `url` (`http://….ts`) into `out` until the body ends: a live stream as it
/// arrives, a file (a body of known length) in real time by its timestamps.
pub async fn pull_http_ts(url: &str, out: &mut TsPull) -> Result<(), String> {
    let mut body = http_pull::get(url, CONNECT_TIMEOUT).await.map_err(|e| e.to_string())?;
    out.set_paced(body.content_length().is_some());
    loop {
        let next = tokio::time::timeout(IDLE_TIMEOUT, body.next())
            .await
            .map_err(|_| format!("no data for {IDLE_TIMEOUT:?}"))?;
        match next.map_err(|e| e.to_string())? {
            Some(bytes) => out.push(&bytes).await?,
            None => return Ok(()),
        }
    }
}

/// How an HLS pull ended without an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HlsEnd {
    /// A live playlist ended or a live source went away: pull again.
    Live,
    /// A VOD playlist was read through and is not looped: the ingest is done.
    VodDone,
    /// The stream is HLS we do not read ourselves (fMP4, encrypted or byte-range segments), for
    /// FFmpeg to take over: why, and whether the playlist is VOD.
    NotNative { why: String, vod: bool },
}

fn not_native(error: HlsPullError) -> Result<HlsEnd, String> {
    match error.not_native() {
        Some(vod) => Ok(HlsEnd::NotNative { why: error.to_string(), vod }),
        None => Err(error.to_string()),
    }
}

/// Pulls the HLS playlist `url` (of a master playlist, the highest variant within `max_bandwidth`,
/// 0: no limit) into `out`: a live stream as
/// its segments appear, a VOD one in real time, again from its start while `repeat`.
/// `last_live_segment` is kept across the pulls of one ingest: a live stream is joined again
/// after the segment read last, so a stalled source is not replayed at each reconnect.
pub async fn pull_hls(
    url: &str,
    repeat: bool,
    max_bandwidth: u64,
    last_live_segment: &mut Option<u64>,
    out: &mut TsPull,
) -> Result<HlsEnd, String> {
    let mut pass = 0u64;
    loop {
        let mut pull = match HlsPull::open(url, CONNECT_TIMEOUT, *last_live_segment, max_bandwidth).await {
            Ok(pull) => pull,
            Err(e) => return not_native(e),
        };
        out.set_paced(pull.is_vod());
        if pass > 0 {
            out.discontinuity().await?;
        }
        let mut segments = 0u64;
        loop {
            let chunk = match pull.next().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => return not_native(e),
            };
            match chunk {
                HlsChunk::Segment { sequence, discontinuity } => {
                    segments += 1;
                    if !pull.is_vod() {
                        *last_live_segment = Some(sequence);
                    }
                    if discontinuity {
                        out.discontinuity().await?;
                    }
                }
                HlsChunk::Data(bytes) => out.push(&bytes).await?,
            }
        }
        if !pull.is_vod() {
            return Ok(HlsEnd::Live);
        }
        if segments == 0 {
            return Err(format!("{}: a VOD playlist without segments", pull.url()));
        }
        if !repeat {
            return Ok(HlsEnd::VodDone);
        }
        pass += 1;
        tracing::info!(url = %pull.url(), pass, "hls vod playlist read through: looping");
    }
}
