//! One RTMP connection: drives `codec::rtmp::ServerSession` over a socket and, by the client's
//! intent, publishes into the graph (through `RtmpIn`) or plays a stream's hub (through `RtmpOut`).
//!
//! A protocol error, a publisher that goes silent past its timeout or a player that stops reading
//! closes this connection only, with a log line naming the peer and the cause.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use petgraph::graph::NodeIndex;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::flv_frames::FlvToFrames;
use super::serve::{self, Batcher};
use super::vhost;
use crate::codec::flv::TagType;
use crate::codec::rtmp::reply::strip_set_data_frame;
use crate::codec::rtmp::{
    MediaMessage, MediaMessageKind, ServerConfig, ServerEvent, ServerSession, StreamRequest,
};
use crate::graph::engine::{Publication, PublishError};
use crate::graph::{Engine, StreamKey};
use crate::media::TimestampUnwrapper;
use crate::servers::tcp::write_all_vectored;

/// How long a write to a player may block before the player is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes read from the socket at a time: players send little (acknowledgements), so the buffer
/// starts small and grows to the large size only when a read fills it (a publisher).
const READ_BUFFER: usize = 64 * 1024;
const INITIAL_READ_BUFFER: usize = 4 * 1024;

/// The nodes a listener serves: who takes publishes, who takes plays.
#[derive(Debug, Clone, Copy)]
pub struct RtmpNodes {
    pub publish: Option<NodeIndex>,
    pub play: Option<NodeIndex>,
}

/// Why a connection ended, for the log.
#[derive(Debug, thiserror::Error)]
enum ConnectionEnd {
    #[error("client closed the connection")]
    Closed,
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("protocol: {0}")]
    Protocol(#[from] crate::codec::rtmp::RtmpError),
    #[error("publisher sent nothing for {0:?}")]
    PublisherTimeout(Duration),
    #[error("player stopped reading for {0:?}")]
    PlayerStalled(Duration),
    #[error("rejected: {0}")]
    Rejected(String),
    #[error("server shutting down")]
    Shutdown,
}

struct Publishing {
    publication: Publication,
    frames: FlvToFrames,
    unwrapper: TimestampUnwrapper,
    last_media: Instant,
    got_media: bool,
    firstpkt_timeout: Duration,
    normal_timeout: Duration,
}

struct Playing {
    batcher: Batcher,
    paused: bool,
}

pub async fn handle(engine: Engine, nodes: RtmpNodes, mut stream: TcpStream, peer: SocketAddr, id: u64) {
    let config = ServerConfig { chunk_size: super::rtmp_out::chunk_size(&engine), ..ServerConfig::default() };
    let mut connection =
        Connection { nodelay: None, engine, nodes, peer, id, session: ServerSession::new(config) };
    let end = connection.run(&mut stream).await;
    match end {
        ConnectionEnd::Closed | ConnectionEnd::Shutdown => {
            tracing::info!(conn = id, %peer, "rtmp connection closed")
        }
        ConnectionEnd::Rejected(ref why) => tracing::info!(conn = id, %peer, "rtmp request rejected: {why}"),
        other => tracing::warn!(conn = id, %peer, "rtmp connection dropped: {other}"),
    }
}

struct Connection {
    /// `tcp_nodelay` of the stream's vhost, applied once the stream (and so the vhost) is known.
    nodelay: Option<bool>,
    engine: Engine,
    nodes: RtmpNodes,
    peer: SocketAddr,
    id: u64,
    session: ServerSession,
}

impl Connection {
    async fn run(&mut self, stream: &mut TcpStream) -> ConnectionEnd {
        let mut buffer = vec![0u8; INITIAL_READ_BUFFER];
        let mut publishing: Option<Publishing> = None;
        let mut playing: Option<Playing> = None;
        let mut out: Vec<Bytes> = Vec::new();
        let shutdown = self.engine.shutdown_signal();
        tokio::pin!(shutdown);
        let result: Result<(), ConnectionEnd> = loop {
            let deadline = publishing.as_ref().map(Publishing::deadline);
            let wants_media = playing.as_ref().is_some_and(|p| !p.paused);
            tokio::select! {
                read = stream.read(&mut buffer) => {
                    let n = match read {
                        Ok(0) => break Err(ConnectionEnd::Closed),
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break Err(ConnectionEnd::Closed),
                        Err(e) => break Err(e.into()),
                    };
                    if let Err(e) = self.session.handle_input(&buffer[..n]) {
                        break Err(e.into());
                    }
                    if n == buffer.len() && buffer.len() < READ_BUFFER {
                        buffer.resize(READ_BUFFER, 0);
                    }
                }
                batch = next_batch(&mut playing, &mut out), if wants_media => {
                    if batch.is_err() {
                        break Err(ConnectionEnd::Shutdown);
                    }
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
                    let waited = publishing.as_ref().map_or(Duration::ZERO, Publishing::timeout);
                    break Err(ConnectionEnd::PublisherTimeout(waited));
                }
                _ = &mut shutdown => break Err(ConnectionEnd::Shutdown),
            }
            if let Err(end) = self.handle_events(&mut publishing, &mut playing).await {
                break Err(end);
            }
            if let Some(nodelay) = self.nodelay.take() {
                let _ = stream.set_nodelay(nodelay);
            }
            while let Some(bytes) = self.session.poll_output() {
                out.push(bytes);
            }
            if !out.is_empty() {
                match tokio::time::timeout(WRITE_TIMEOUT, write_all_vectored(stream, &mut out)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => break Err(e.into()),
                    Err(_) => break Err(ConnectionEnd::PlayerStalled(WRITE_TIMEOUT)),
                }
            }
            if self.session.is_closing() {
                break Err(ConnectionEnd::Rejected("request refused".into()));
            }
        };
        if let Some(publishing) = publishing {
            publishing.publication.end().await;
        }
        result.err().unwrap_or(ConnectionEnd::Closed)
    }
}

async fn next_batch(
    playing: &mut Option<Playing>,
    out: &mut Vec<Bytes>,
) -> Result<(), crate::graph::hub::Closed> {
    match playing {
        Some(playing) => playing.batcher.next(out).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

impl Publishing {
    fn timeout(&self) -> Duration {
        if self.got_media {
            self.normal_timeout
        } else {
            self.firstpkt_timeout
        }
    }

    fn deadline(&self) -> Instant {
        self.last_media + self.timeout()
    }
}

impl Connection {
    /// Applies what the session reported: decisions for publish and play, media into the graph.
    async fn handle_events(
        &mut self,
        publishing: &mut Option<Publishing>,
        playing: &mut Option<Playing>,
    ) -> Result<(), ConnectionEnd> {
        while let Some(event) = self.session.poll_event() {
            match event {
                ServerEvent::Connect(connect) => {
                    tracing::debug!(conn = self.id, peer = %self.peer, tc_url = %connect.tc_url, "rtmp connect");
                }
                ServerEvent::Publish(request) => {
                    *publishing = self.start_publish(&request.request)?;
                }
                ServerEvent::Play(request) => {
                    *playing = self.start_play(&request.request)?;
                }
                ServerEvent::Media(media) => {
                    if let Some(publishing) = publishing.as_mut() {
                        publishing.push(media, self.id).await;
                    }
                }
                ServerEvent::Unpublish => {
                    if let Some(done) = publishing.take() {
                        done.publication.end().await;
                    }
                }
                ServerEvent::StopPlay => *playing = None,
                ServerEvent::Pause { paused, .. } => {
                    if let Some(playing) = playing.as_mut() {
                        playing.paused = paused;
                    }
                }
            }
        }
        Ok(())
    }

    fn stream_key(&self, request: &StreamRequest) -> Result<StreamKey, String> {
        if request.stream.is_empty() {
            return Err("empty stream name".into());
        }
        let vhost = vhost::resolve(&self.engine, &request.vhost)
            .ok_or_else(|| format!("vhost `{}` not found", request.vhost))?;
        Ok(StreamKey::new(vhost, request.app.clone(), request.stream.clone()))
    }

    fn start_publish(&mut self, request: &StreamRequest) -> Result<Option<Publishing>, ConnectionEnd> {
        let decided = self.stream_key(request).and_then(|key| {
            let node = self.nodes.publish.ok_or("this listener takes no publishers")?;
            let settings = vhost::settings_for(&self.engine, node, &key);
            match self.engine.publish(node, key.clone()) {
                Ok(publication) => Ok((publication, settings)),
                Err(e @ PublishError::Busy(_)) => Err(format!("stream busy: {e}")),
                Err(e) => Err(e.to_string()),
            }
        });
        match decided {
            Ok((publication, settings)) => {
                self.session.accept_publish()?;
                self.nodelay = Some(settings.tcp_nodelay);
                tracing::info!(conn = self.id, peer = %self.peer, stream = %publication.key(), "rtmp publish");
                Ok(Some(Publishing {
                    publication,
                    frames: FlvToFrames::default(),
                    unwrapper: TimestampUnwrapper::default(),
                    last_media: Instant::now(),
                    got_media: false,
                    firstpkt_timeout: Duration::from_millis(settings.firstpkt_timeout),
                    normal_timeout: Duration::from_millis(settings.normal_timeout),
                }))
            }
            Err(why) => {
                self.session.reject_publish(&why)?;
                tracing::warn!(conn = self.id, peer = %self.peer, url = %request.stream_key(), "rtmp publish refused: {why}");
                Ok(None)
            }
        }
    }

    fn start_play(&mut self, request: &StreamRequest) -> Result<Option<Playing>, ConnectionEnd> {
        let decided = self.stream_key(request).and_then(|key| {
            let node = self.nodes.play.ok_or("this listener serves no players")?;
            Ok((node, key))
        });
        match decided {
            Ok((node, key)) => {
                self.session.accept_play()?;
                let hub = serve::hub_for(&self.engine, node, &key);
                let settings = vhost::settings_for(&self.engine, node, &key);
                self.nodelay = Some(settings.tcp_nodelay);
                tracing::info!(conn = self.id, peer = %self.peer, stream = %key, "rtmp play");
                let batcher = Batcher::new(hub.subscribe(), settings.effective_mw_latency_ms());
                Ok(Some(Playing { batcher, paused: false }))
            }
            Err(why) => {
                self.session.reject_play(&why)?;
                Ok(None)
            }
        }
    }
}

impl Publishing {
    /// Turns one RTMP media message into frames and sends them downstream (waiting if it is full).
    async fn push(&mut self, media: MediaMessage, conn: u64) {
        self.last_media = Instant::now();
        self.got_media = true;
        let (tag_type, payload) = match media.kind {
            MediaMessageKind::Audio => (TagType::Audio, media.payload),
            MediaMessageKind::Video => (TagType::Video, media.payload),
            MediaMessageKind::Data => (TagType::Script, strip_set_data_frame(&media.payload)),
        };
        let timestamp = self.unwrapper.unwrap(media.timestamp);
        match self.frames.push(tag_type, timestamp, payload) {
            Ok(events) => {
                for event in events {
                    self.publication.send(event).await;
                }
            }
            Err(e) => tracing::warn!(conn, stream = %self.publication.key(), "dropping a bad message: {e}"),
        }
    }
}
