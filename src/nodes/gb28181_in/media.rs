//! The media side: RTP packets (UDP datagrams, or RFC 4571 frames on TCP connections) to each
//! device's publication. The SSRC names the device (the registrar gave it in the INVITE); an
//! unknown SSRC is dropped (a TCP connection whose first packet has one is closed). The stream is
//! published when the device's first packet arrives, after admission as any publisher.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpStream, UdpSocket};

use super::caster::{Caster, SharedSession};
use crate::codec::gb28181::{Delivery, Rfc4571Framer, RtpPacket, Sequencer};
use crate::codec::ps::PsDemuxer;
use crate::control::admission;
use crate::control::hooks::HookEvent;
use crate::control::registry::{ClientGuard, ClientKind, Registry};
use crate::control::security::RuleMethod;
use crate::graph::StreamKey;
use crate::media::MediaEvent;
use crate::nodes::ts_source::Interleaver;
use crate::nodes::{vhost, Publication};

/// Packets UDP may hold waiting for a missing one.
const UDP_REORDER_WINDOW: usize = 16;
/// Least time between two warnings about one kind of dropped packet.
const LOG_INTERVAL: Duration = Duration::from_secs(5);
/// After a refused publish, the device's packets are dropped this long before asking again.
const REFUSAL_BACKOFF: Duration = Duration::from_secs(5);
const MAX_DATAGRAM: usize = 65_536;

/// One device's publication and the state that turns its packets into frames.
pub struct MediaSession {
    publication: Option<Publication>,
    guard: ClientGuard,
    settings: vhost::Config,
    demuxer: PsDemuxer,
    sequencer: Sequencer<RtpPacket>,
    interleaver: Interleaver,
    /// Whether packets come over TCP (no reordering) or UDP.
    window: usize,
    last_error_log: Option<Instant>,
    deliveries: Vec<Delivery<RtpPacket>>,
}

impl MediaSession {
    /// A new path for the device's media (a TCP connection, or UDP after TCP): numbering may restart.
    fn use_window(&mut self, window: usize) {
        if self.window != window {
            self.window = window;
            self.sequencer = Sequencer::new(window);
            self.demuxer.lost();
        }
    }

    async fn on_packet(&mut self, packet: RtpPacket, n_bytes: usize) {
        self.guard.client().add_received(n_bytes);
        self.sequencer.push(packet.sequence, packet, &mut self.deliveries);
        for delivery in std::mem::take(&mut self.deliveries) {
            match delivery {
                Delivery::Lost { .. } => self.demuxer.lost(),
                Delivery::Payload(packet) => {
                    self.demuxer.push(&packet.payload);
                    if packet.marker {
                        self.demuxer.frame_boundary();
                    }
                }
            }
        }
        self.drain().await;
    }

    async fn drain(&mut self) {
        let Some(publication) = self.publication.as_mut() else { return };
        while let Some(event) = self.demuxer.poll() {
            match event {
                Ok(event) => self.interleaver.send(publication, event).await,
                Err(error) => {
                    if self.last_error_log.is_none_or(|last| last.elapsed() >= LOG_INTERVAL) {
                        self.last_error_log = Some(Instant::now());
                        let stats = self.demuxer.stats();
                        tracing::warn!(
                            conn = self.guard.client().id,
                            stream = %publication.key(),
                            frames_dropped = stats.frames_dropped,
                            pes_not_carried = stats.pes_not_carried,
                            lost_packets = self.sequencer.lost,
                            "gb28181 media damage recovered: {error}"
                        );
                    }
                }
            }
        }
    }

    /// Completes the last frames, ends the publication and fires `on_unpublish`.
    pub async fn end(&mut self) {
        self.demuxer.finish();
        self.drain().await;
        let Some(mut publication) = self.publication.take() else { return };
        for frame in self.interleaver.flush() {
            publication.send(MediaEvent::Frame(frame)).await;
        }
        let key = publication.key().clone();
        publication.end().await;
        let rules = self.settings.rules();
        admission::notify(
            self.guard.registry(),
            self.guard.client(),
            &rules,
            HookEvent::Unpublish,
            Some(&key),
        );
    }
}

impl Caster {
    /// The device's session, published now if it is new (admission, then the engine).
    async fn session_for(
        self: &Arc<Caster>,
        device: &str,
        peer: SocketAddr,
        window: usize,
    ) -> Option<SharedSession> {
        if let Some(session) = self.sessions().get(device).cloned() {
            return Some(session);
        }
        if self.refused_recently(device) {
            return None;
        }
        let key = self.stream_key(device)?;
        let id = self.engine.next_id();
        let registry = self.engine.shared::<Registry>();
        let guard = registry.register(id, peer.ip());
        guard.client().update(|info| {
            // SRS's casters publish as an FMLE client would.
            info.kind = ClientKind::FmlePublish;
            info.stream = Some(key.clone());
            info.tc_url = format!("gb28181://{peer}/{}", key.app);
        });
        let settings = vhost::config_named(&self.engine, &key.vhost).unwrap_or_default();
        let admitted =
            admission::admit(&registry, guard.client(), &settings.rules(), RuleMethod::Publish, &key).await;
        let publication =
            admitted.and_then(|()| self.engine.publish(self.node, key.clone()).map_err(|e| e.to_string()));
        let publication = match publication {
            Ok(publication) => publication,
            Err(why) => {
                tracing::warn!(conn = id, %peer, device, stream = %key, "gb28181 publish refused: {why}");
                self.note_refusal(device);
                return None;
            }
        };
        tracing::info!(conn = id, %peer, device, stream = %key, "gb28181 publishing");
        let session = Arc::new(tokio::sync::Mutex::new(MediaSession {
            publication: Some(publication),
            guard,
            settings,
            demuxer: PsDemuxer::default(),
            sequencer: Sequencer::new(window),
            interleaver: Interleaver::default(),
            window,
            last_error_log: None,
            deliveries: Vec::new(),
        }));
        let mut sessions = self.sessions();
        Some(Arc::clone(sessions.entry(device.to_owned()).or_insert(session)))
    }

    fn stream_key(&self, device: &str) -> Option<StreamKey> {
        let Some(vhost) = vhost::resolve(&self.engine, crate::graph::stream_key::DEFAULT_VHOST) else {
            tracing::warn!(device, "gb28181 media dropped: no vhost node serves the default vhost");
            return None;
        };
        Some(StreamKey::new(vhost, self.config.app.clone(), device.to_owned()))
    }

    fn refused_recently(&self, device: &str) -> bool {
        let mut refusals = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        refusals.retain(|_, at: &mut Instant| at.elapsed() < REFUSAL_BACKOFF);
        refusals.contains_key(device)
    }

    fn note_refusal(&self, device: &str) {
        let mut refusals = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        refusals.insert(device.to_owned(), Instant::now());
    }
}

/// Reads RTP datagrams of every device until shutdown.
pub async fn run_udp(caster: Arc<Caster>, socket: UdpSocket) {
    let shutdown = caster.engine.shutdown_signal();
    tokio::pin!(shutdown);
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    let mut last_unknown_log: Option<Instant> = None;
    loop {
        let (n, peer) = tokio::select! {
            received = socket.recv_from(&mut buffer) => match received {
                Ok(received) => received,
                Err(e) => {
                    tracing::debug!("gb28181 media receive failed: {e}");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let packet = match RtpPacket::parse(Bytes::copy_from_slice(&buffer[..n])) {
            Ok(packet) => packet,
            Err(e) => {
                log_limited(&mut last_unknown_log, || tracing::warn!(%peer, "gb28181 datagram dropped: {e}"));
                continue;
            }
        };
        let Some(device) = caster.device_of_ssrc(packet.ssrc) else {
            let ssrc = packet.ssrc;
            log_limited(
                &mut last_unknown_log,
                || tracing::warn!(%peer, ssrc, "gb28181 rtp of an unknown ssrc dropped"),
            );
            continue;
        };
        let Some(session) = caster.session_for(&device, peer, UDP_REORDER_WINDOW).await else { continue };
        let mut session = session.lock().await;
        session.use_window(UDP_REORDER_WINDOW);
        session.on_packet(packet, n).await;
    }
}

fn log_limited(last: &mut Option<Instant>, log: impl FnOnce()) {
    if last.is_none_or(|at| at.elapsed() >= LOG_INTERVAL) {
        *last = Some(Instant::now());
        log();
    }
}

/// The accept loop's handler for media connections.
pub fn tcp_handler(caster: &Arc<Caster>) -> crate::servers::tcp::Handler {
    let caster = Arc::clone(caster);
    Arc::new(move |stream, peer, id| Box::pin(serve_tcp(Arc::clone(&caster), stream, peer, id)))
}

/// One device's media connection: RFC 4571 frames of RTP until it closes or breaks.
async fn serve_tcp(caster: Arc<Caster>, mut stream: TcpStream, peer: SocketAddr, id: u64) {
    let shutdown = caster.engine.shutdown_signal();
    tokio::pin!(shutdown);
    let mut framer = Rfc4571Framer::default();
    let mut buffer = vec![0u8; 64 * 1024];
    // A connection that stays silent this long holds nothing worth keeping.
    let idle = Duration::from_secs(caster.config.timeout);
    let mut session = None;
    let end = loop {
        let n = tokio::select! {
            read = tokio::time::timeout(idle, stream.read(&mut buffer)) => match read {
                Ok(Ok(0)) => break "closed by the device".to_owned(),
                Ok(Ok(n)) => n,
                Ok(Err(e)) => break format!("read failed: {e}"),
                Err(_) => break format!("nothing for {} s", idle.as_secs()),
            },
            _ = &mut shutdown => break "shutdown".to_owned(),
        };
        framer.push(&buffer[..n]);
        let mut broken = None;
        while let Some(frame) = framer.next_packet() {
            let n_bytes = frame.len() + 2;
            let packet = match RtpPacket::parse(frame) {
                Ok(packet) => packet,
                Err(e) => {
                    broken = Some(format!("not rtp: {e}"));
                    break;
                }
            };
            if session.is_none() {
                let Some(device) = caster.device_of_ssrc(packet.ssrc) else {
                    broken = Some(format!("rtp of an unknown ssrc {}", packet.ssrc));
                    break;
                };
                tracing::info!(conn = id, %peer, device = %device, "gb28181 media connection");
                session = caster.session_for(&device, peer, 0).await.map(|s| (device, s));
                let Some((_, session)) = &session else {
                    broken = Some("publish refused".to_owned());
                    break;
                };
                session.lock().await.use_window(0);
            }
            let Some((device, session)) = &session else { break };
            if caster.device_of_ssrc(packet.ssrc).as_deref() != Some(device.as_str()) {
                continue;
            }
            session.lock().await.on_packet(packet, n_bytes).await;
        }
        if let Some(cause) = broken {
            break cause;
        }
    };
    tracing::info!(conn = id, %peer, "gb28181 media connection ended: {end}");
}
