//! One RTMP connection: drives `codec::rtmp::ServerSession` over a socket and, by the client's
//! intent, publishes into the graph (through `RtmpIn`) or plays a stream's hub (through `RtmpOut`).
//!
//! A protocol error, a publisher that goes silent past its timeout or a player that stops reading
//! closes this connection only, with a log line naming the peer and the cause.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use petgraph::graph::NodeIndex;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::flv_frames::FlvToFrames;
use super::origin_coworkers::{self, RtmpDecision};
use super::serve;
use super::vhost;
use super::NodeSpec;
use crate::codec::flv::TagType;
use crate::codec::rtmp::reply::strip_set_data_frame;
use crate::codec::rtmp::{
    MediaMessage, MediaMessageKind, PublishStyle, ServerConfig, ServerEvent, ServerSession, StreamRequest,
};
use crate::control::admission;
use crate::control::hooks::HookEvent;
use crate::control::registry::{ClientGuard, ClientKind, Registry};
use crate::control::security::RuleMethod;
use crate::graph::engine::PublishError;
use crate::graph::hub::Consumer;
use crate::graph::Catalogue;
use crate::graph::StreamKey;
use crate::media::TimestampUnwrapper;
use crate::nodes::{CheckedGraph, Engine, Publication};
use crate::servers::tcp::{read_shared, write_all_vectored};

/// Bytes read from the socket at a time: players send little (acknowledgements), so the buffer
/// starts small and grows to the large size only when a read fills it (a publisher).
const READ_BUFFER: usize = 64 * 1024;
const INITIAL_READ_BUFFER: usize = 4 * 1024;
/// How long a connection may stay without publishing or playing: from accept (handshake and connect
/// included, SRS's `SRS_CONSTS_RTMP_TIMEOUT`) and again after an unpublish or stop. Without it a peer
/// that connects and never sends a byte holds its socket and memory forever.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

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
    #[error("neither published nor played within {0:?} (handshake, connect or idle timeout)")]
    Idle(Duration),
    #[error("player stopped reading for {0:?}")]
    PlayerStalled(Duration),
    #[error("rejected: {0}")]
    Rejected(String),
    #[error("server shutting down")]
    Shutdown,
    #[error("kicked (through the api, or by hls_on_error)")]
    Kicked,
    #[error("the play's duration of {0} ms was reached")]
    PlayDurationReached(i64),
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
    consumer: Consumer,
    /// Accepted, its first batch not taken yet.
    starting: bool,
    /// The duration the client asked to play (SRS ends the play, and the connection, after it).
    duration_ms: Option<i64>,
    paused: bool,
    key: StreamKey,
    /// Counted on the edge's pull of the stream (if this server is an edge without it).
    _edge: Option<super::edge_pull::EdgePlayer>,
}

/// The nodes of `graph` that take publishers and players on `addr`.
pub fn nodes_at(graph: &CheckedGraph, addr: SocketAddr) -> RtmpNodes {
    let mut nodes = RtmpNodes { publish: None, play: None };
    for index in graph.dag.node_indices() {
        let spec = &graph.node(index).node;
        if spec.listens().unwrap_or_default().iter().any(|listen| listen.addr == addr) {
            match spec {
                NodeSpec::RtmpIn(_) => nodes.publish = Some(index),
                NodeSpec::RtmpOut(_) => nodes.play = Some(index),
                _ => {}
            }
        }
    }
    nodes
}

/// Why a new connection is refused by the listener's limits, if it is.
fn over_limit(engine: &Engine, nodes: RtmpNodes, registry: &Registry, peer: SocketAddr) -> Option<String> {
    let Some(NodeSpec::RtmpIn(config)) = nodes.publish.map(|n| engine.spec(n)) else { return None };
    let total = registry.client_count() as u64;
    if total >= config.max_connections {
        return Some(format!("{total} clients reach max_connections {}", config.max_connections));
    }
    let from_peer = registry.count_from(peer.ip()) as u64;
    if config.max_connections_per_ip > 0 && from_peer >= config.max_connections_per_ip {
        return Some(format!("{from_peer} clients from {} reach max_connections_per_ip", peer.ip()));
    }
    None
}

pub async fn handle(engine: Engine, nodes: RtmpNodes, stream: TcpStream, peer: SocketAddr, id: u64) {
    let registry = engine.shared::<Registry>();
    if let Some(why) = over_limit(&engine, nodes, &registry, peer) {
        tracing::warn!(conn = id, %peer, "rtmp connection refused: {why}");
        return;
    }
    let client = registry.register(id, peer.ip());
    let config = ServerConfig { chunk_size: super::rtmp_out::chunk_size(&engine), ..ServerConfig::default() };
    let stream = Arc::new(stream);
    let mut connection = Connection {
        socket: Arc::clone(&stream),
        nodelay: None,
        engine,
        nodes,
        peer,
        id,
        session: ServerSession::new(config),
        client,
        vhost: None,
    };
    let end = connection.run(&stream).await;
    connection.closed();
    match end {
        ConnectionEnd::Closed
        | ConnectionEnd::Shutdown
        | ConnectionEnd::Kicked
        | ConnectionEnd::PlayDurationReached(_) => {
            tracing::info!(conn = id, %peer, "rtmp connection closed ({end})")
        }
        ConnectionEnd::Rejected(ref why) => tracing::info!(conn = id, %peer, "rtmp request rejected: {why}"),
        other => tracing::warn!(conn = id, %peer, "rtmp connection dropped: {other}"),
    }
}

struct Connection {
    /// The socket, shared with the hub of the stream played (it writes batches directly).
    socket: Arc<TcpStream>,
    /// `tcp_nodelay` of the stream's vhost, applied once the stream (and so the vhost) is known.
    nodelay: Option<bool>,
    engine: Engine,
    nodes: RtmpNodes,
    peer: SocketAddr,
    id: u64,
    session: ServerSession,
    client: ClientGuard,
    /// The settings of the vhost the client connected to (for connection-level hooks).
    vhost: Option<vhost::Config>,
}

impl Connection {
    async fn run(&mut self, stream: &TcpStream) -> ConnectionEnd {
        let mut buffer = vec![0u8; INITIAL_READ_BUFFER];
        let mut publishing: Option<Publishing> = None;
        let mut playing: Option<Playing> = None;
        let mut out: Vec<Bytes> = Vec::new();
        let shutdown = self.engine.shutdown_signal();
        tokio::pin!(shutdown);
        let kicked = self.client.client().kicked();
        tokio::pin!(kicked);
        let mut idle_deadline = Some(Instant::now() + IDLE_TIMEOUT);
        let result: Result<(), ConnectionEnd> = loop {
            let deadline = publishing.as_ref().map(Publishing::deadline);
            let wants_media = playing.as_ref().is_some_and(|p| !p.paused);
            // Biased, the batch first: a player woken by its hub's flush writes without polling the
            // other branches (each costs a poll); reads wait at most until the player caught up.
            // Shutdown and kick come before reads, so a publisher that never pauses still sees them.
            tokio::select! {
                biased;
                batch = next_batch(&mut playing, &mut out), if wants_media => {
                    if batch.is_err() {
                        break Err(match playing.as_ref().and_then(|p| p.duration_ms.filter(|_| p.consumer.play_time_reached())) {
                            Some(duration_ms) => ConnectionEnd::PlayDurationReached(duration_ms),
                            None => ConnectionEnd::Shutdown,
                        });
                    }
                }
                _ = &mut shutdown => break Err(ConnectionEnd::Shutdown),
                _ = &mut kicked => break Err(ConnectionEnd::Kicked),
                read = read_shared(stream, &mut buffer) => {
                    let n = match read {
                        Ok(0) => break Err(ConnectionEnd::Closed),
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break Err(ConnectionEnd::Closed),
                        Err(e) => break Err(e.into()),
                    };
                    self.client.client().add_received(n);
                    if let Err(e) = self.session.handle_input(&buffer[..n]) {
                        break Err(e.into());
                    }
                    if n == buffer.len() && buffer.len() < READ_BUFFER {
                        buffer.resize(READ_BUFFER, 0);
                    }
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
                    let waited = publishing.as_ref().map_or(Duration::ZERO, Publishing::timeout);
                    break Err(ConnectionEnd::PublisherTimeout(waited));
                }
                _ = sleep_until(idle_deadline), if idle_deadline.is_some() => break Err(ConnectionEnd::Idle(IDLE_TIMEOUT)),
            }
            if let Err(end) = self.handle_events(&mut publishing, &mut playing).await {
                break Err(end);
            }
            if publishing.is_some() || playing.is_some() {
                idle_deadline = None;
            } else if idle_deadline.is_none() {
                idle_deadline = Some(Instant::now() + IDLE_TIMEOUT);
            }
            if let Some(nodelay) = self.nodelay.take() {
                let _ = stream.set_nodelay(nodelay);
            }
            // The hub may be writing this player's batches: take writing back before we write
            // bytes of our own (they go after whole messages) or pause; it reattaches once the
            // player is caught up again.
            if let Some(playing) = playing.as_mut().filter(|p| p.paused || self.session.has_output()) {
                playing.consumer.take_back(&mut out);
            }
            while let Some(bytes) = self.session.poll_output() {
                out.push(bytes);
            }
            // A new player's gop cache goes out in the same write as the play answer: a second
            // small write right after would wait for the client's delayed ACK (Nagle), 40 ms.
            if let Some(playing) = playing.as_mut().filter(|p| p.starting) {
                playing.starting = false;
                playing.consumer.poll_batch(&mut out, serve::MAX_BATCH);
            }
            if !out.is_empty() {
                self.client.client().add_sent(out.iter().map(Bytes::len).sum());
                match tokio::time::timeout(serve::WRITE_TIMEOUT, write_all_vectored(stream, &mut out)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => break Err(e.into()),
                    Err(_) => break Err(ConnectionEnd::PlayerStalled(serve::WRITE_TIMEOUT)),
                }
            }
            if self.session.is_closing() {
                break Err(ConnectionEnd::Rejected("request refused".into()));
            }
        };
        if let Some(publishing) = publishing {
            self.left(HookEvent::Unpublish, publishing.publication.key());
            publishing.publication.end().await;
        }
        if let Some(playing) = playing {
            self.left(HookEvent::Stop, &playing.key);
        }
        result.err().unwrap_or(ConnectionEnd::Closed)
    }

    /// Fires `on_unpublish` / `on_stop` for `key` in the background.
    fn left(&self, event: HookEvent, key: &StreamKey) {
        let settings = self.vhost_settings(key);
        admission::notify(self.client.registry(), self.client.client(), &settings.rules(), event, Some(key));
    }

    /// The settings of the stream's vhost (its name is already resolved in the key).
    fn vhost_settings(&self, key: &StreamKey) -> vhost::Config {
        vhost::config_named(&self.engine, &key.vhost).unwrap_or_default()
    }

    /// Fires `on_close` with the connection's byte counts.
    fn closed(&self) {
        let Some(settings) = &self.vhost else { return };
        let client = self.client.client();
        let event = HookEvent::Close {
            send_bytes: client.send_bytes.load(std::sync::atomic::Ordering::Relaxed),
            recv_bytes: client.recv_bytes.load(std::sync::atomic::Ordering::Relaxed),
        };
        admission::notify(self.client.registry(), client, &settings.rules(), event, None);
    }
}

async fn next_batch(
    playing: &mut Option<Playing>,
    out: &mut Vec<Bytes>,
) -> Result<(), crate::graph::hub::Closed> {
    match playing {
        Some(playing) => playing.consumer.recv_batch(out, serve::MAX_BATCH).await.map(drop),
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
                    self.on_connect(&connect).await?;
                }
                ServerEvent::Publish(request) => {
                    let kind = match request.style {
                        PublishStyle::Fmle => ClientKind::FmlePublish,
                        PublishStyle::Flash => ClientKind::FlashPublish,
                    };
                    *publishing = self.start_publish(&request.request, kind).await?;
                }
                ServerEvent::Play(request) => {
                    *playing = self.start_play(&request.request, request.command.duration).await?;
                }
                ServerEvent::Media(media) => {
                    if let Some(publishing) = publishing.as_mut() {
                        publishing.push(media, self.id).await;
                    }
                }
                ServerEvent::Unpublish => {
                    if let Some(done) = publishing.take() {
                        self.left(HookEvent::Unpublish, done.publication.key());
                        done.publication.end().await;
                    }
                }
                ServerEvent::StopPlay => {
                    if let Some(done) = playing.take() {
                        self.left(HookEvent::Stop, &done.key);
                    }
                }
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
        let vhost = vhost::resolve_enabled(&self.engine, &request.vhost)?;
        Ok(StreamKey::new(vhost, request.app.clone(), request.stream.clone()))
    }

    /// Records the client's URLs, then refer (`all`) and `on_connect` for its vhost; a denial closes.
    async fn on_connect(
        &mut self,
        connect: &crate::codec::rtmp::ConnectCommand,
    ) -> Result<(), ConnectionEnd> {
        let request = StreamRequest::discover(&connect.tc_url, "");
        self.client.client().update(|info| {
            info.tc_url = connect.tc_url.clone();
            info.page_url = connect.page_url.clone();
            info.swf_url = connect.swf_url.clone();
            info.param = request.param.clone();
        });
        let name = match vhost::resolve_enabled(&self.engine, &request.vhost) {
            Ok(name) => name,
            // SRS refuses the connect of a disabled vhost; an unknown one fails at publish or play.
            Err(why) if why.ends_with("is disabled") => {
                return Err(ConnectionEnd::Rejected(format!("connect denied: {why}")))
            }
            Err(_) => return Ok(()),
        };
        let settings = vhost::config_named(&self.engine, &name).unwrap_or_default();
        let admitted = admission::admit_connection(
            self.client.registry(),
            self.client.client(),
            &settings.rules(),
            &request.app,
        )
        .await;
        self.vhost = Some(settings);
        admitted.map_err(|why| ConnectionEnd::Rejected(format!("connect denied: {why}")))
    }

    /// Security, refer and `on_publish`, then the busy check (SRS's order), as one decision.
    async fn decide_publish(
        &mut self,
        request: &StreamRequest,
        kind: ClientKind,
    ) -> Result<(Publication, vhost::Config), String> {
        let key = self.stream_key(request)?;
        let node = self.nodes.publish.ok_or("this listener takes no publishers")?;
        let settings = self.vhost_settings(&key);
        self.client.client().update(|info| {
            info.kind = kind;
            info.stream = Some(key.clone());
            info.param = request.param.clone();
        });
        admission::admit(
            self.client.registry(),
            self.client.client(),
            &settings.rules(),
            RuleMethod::Publish,
            &key,
        )
        .await?;
        super::edge_traverse::authorize(&self.engine, &key, &request.param, true).await?;
        match self.engine.publish(node, key) {
            Ok(publication) => Ok((publication, settings)),
            Err(e @ PublishError::Busy(_)) => Err(format!("stream busy: {e}")),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn start_publish(
        &mut self,
        request: &StreamRequest,
        kind: ClientKind,
    ) -> Result<Option<Publishing>, ConnectionEnd> {
        let decided = self.decide_publish(request, kind).await;
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

    /// Security, refer and `on_play` for a player, as one decision.
    async fn decide_play(
        &mut self,
        request: &StreamRequest,
    ) -> Result<(NodeIndex, StreamKey, vhost::Config), String> {
        let key = self.stream_key(request)?;
        let node = self.nodes.play.ok_or("this listener serves no players")?;
        let settings = self.vhost_settings(&key);
        self.client.client().update(|info| {
            info.kind = ClientKind::RtmpPlay;
            info.stream = Some(key.clone());
            info.param = request.param.clone();
        });
        admission::admit(
            self.client.registry(),
            self.client.client(),
            &settings.rules(),
            RuleMethod::Play,
            &key,
        )
        .await?;
        super::edge_traverse::authorize(&self.engine, &key, &request.param, false).await?;
        Ok((node, key, settings))
    }

    /// `duration` is the play command's, in milliseconds as librtmp sends it and SRS reads it;
    /// above 0 the play (and the connection) ends after that much media.
    async fn start_play(
        &mut self,
        request: &StreamRequest,
        duration: f64,
    ) -> Result<Option<Playing>, ConnectionEnd> {
        match self.decide_play(request).await {
            Ok((node, key, settings)) => {
                // An origin cluster's origin without the stream sends the player where it is.
                match origin_coworkers::rtmp_decision(&self.engine, &key, &request.host, &request.param).await
                {
                    RtmpDecision::Local => {}
                    RtmpDecision::Redirect { tc_url, url } => {
                        tracing::info!(conn = self.id, peer = %self.peer, stream = %key, %url, "rtmp play redirected (302)");
                        self.session.redirect_play(&tc_url, &url)?;
                        return Ok(None);
                    }
                    RtmpDecision::NoOrigin => {
                        tracing::warn!(conn = self.id, peer = %self.peer, stream = %key, "rtmp play refused: no origin of the cluster has the stream");
                        self.session.reject_play("no origin")?;
                        return Ok(None);
                    }
                }
                self.session.accept_play()?;
                let hub = serve::hub_for(&self.engine, node, &key);
                self.nodelay = Some(settings.tcp_nodelay);
                tracing::info!(conn = self.id, peer = %self.peer, stream = %key, "rtmp play");
                let mut consumer = hub.subscribe();
                let socket = serve::DirectSocket {
                    socket: Arc::clone(&self.socket),
                    client: Arc::clone(self.client.client()),
                };
                consumer.write_directly(Arc::new(socket));
                // Whole milliseconds of a finite, positive duration (the cast saturates).
                let duration_ms = (duration.is_finite() && duration >= 1.0).then_some(duration as i64);
                if let Some(duration_ms) = duration_ms {
                    consumer.limit_play(duration_ms);
                }
                let edge = super::edge_pull::player_joined(&self.engine, &key, &request.param);
                Ok(Some(Playing { consumer, duration_ms, paused: false, starting: true, key, _edge: edge }))
            }
            Err(why) => {
                tracing::warn!(conn = self.id, peer = %self.peer, url = %request.stream_key(), "rtmp play refused: {why}");
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
