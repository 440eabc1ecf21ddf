//! The one UDP socket all WebRTC peers of an address share, and the worker that drives them.
//!
//! A datagram from a known 5-tuple goes to its peer. From an unknown address, only a STUN binding
//! request whose USERNAME starts with a session's ufrag (ours, issued in the answer) is taken, and
//! the address is then the session's (a client whose address changes keeps its session the same
//! way). Everything else is counted and dropped (RFC 7983's first-byte ranges tell STUN, DTLS and
//! RTP apart). One task owns every peer connection of the socket (`rtc`'s sans-IO peers are
//! plain values): it feeds datagrams and timers in, writes what they give out in one `sendmmsg`
//! batch per turn (`udp_batch`), hands received media and keyframe requests to each peer's `PeerHandler`, and takes
//! media to send from the nodes through one command queue, a packet list built once per stream
//! for all the players it names.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtc::peer_connection::event::{RTCPeerConnectionEvent, RTCTrackEvent};
use rtc::peer_connection::message::RTCMessage;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::RTCPeerConnection;
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::rtc_peer::{NewPeer, OutTrack};
pub use super::rtc_ring::{OutPacket, SentRing};
use super::udp_batch::Outbox;
use crate::codec::rtp::demux::{binding_local_ufrag, classify, Datagram};
use crate::media::MediaKind;

/// A session on the shared socket.
pub type SessionId = u64;

/// Largest datagram read.
const MAX_DATAGRAM: usize = 2048;
/// Commands queued to the worker; a full queue drops media (as the network would).
const COMMAND_QUEUE: usize = 4096;
/// A peer that has not finished ICE and DTLS in this time is dropped.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A peer silent for this long (SRS's `stun_timeout`) is dropped.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often idle and connect deadlines are checked.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// What a peer tells the node that owns it. Called on the worker: it must not block.
#[derive(Debug)]
pub enum PeerEvent {
    /// ICE and DTLS are done: media flows.
    Connected,
    /// A media packet from a publishing peer, decrypted.
    Media { kind: MediaKind, sequence: u16, timestamp: u32, marker: bool, payload: Bytes },
    /// A playing peer asks for a keyframe (PLI or FIR).
    KeyframeRequest,
    /// A publishing peer's RTCP sender report for one of its tracks: the sender's NTP time
    /// (32.32 fixed point) of RTP timestamp `rtp`.
    SenderReport { kind: MediaKind, ntp: u64, rtp: u32 },
    /// The session is over (failed, closed, timed out, removed); nothing follows.
    Closed(String),
}

/// The node side of a peer.
pub trait PeerHandler: Send + Sync {
    fn on_event(&self, session: SessionId, event: PeerEvent);
}

/// A session to add.
pub struct NewSession {
    pub id: SessionId,
    pub peer: NewPeer,
    /// The address of our candidate in the answer (the ICE agent knows itself by it).
    pub candidate: SocketAddr,
    pub handler: Arc<dyn PeerHandler>,
}

enum Command {
    Add(Box<NewSession>),
    Remove(SessionId),
    Send { kind: MediaKind, sessions: Arc<[SessionId]>, ring: Arc<SentRing>, packets: Arc<[OutPacket]> },
    RequestKeyframe(SessionId),
}

/// Counters of the shared socket, for logs and tests.
#[derive(Debug, Default)]
pub struct RtcUdpStats {
    pub datagrams_in: AtomicU64,
    /// Datagrams from no known session (garbage, unknown ufrag, stray).
    pub dropped_unknown: AtomicU64,
    /// Datagrams a peer refused (bad STUN integrity, broken DTLS, undecryptable SRTP).
    pub refused_by_peer: AtomicU64,
    pub datagrams_out: AtomicU64,
    /// Sends the socket did not take (full buffer).
    pub send_dropped: AtomicU64,
    /// Packets players asked for again (NACK), those sent again from the stream's ring, and
    /// those no longer kept.
    pub nack_requested: AtomicU64,
    pub nack_resent: AtomicU64,
    pub nack_missing: AtomicU64,
    pub sessions: AtomicU64,
}

/// The handle nodes use: add and remove sessions, send media, ask publishers for keyframes.
#[derive(Clone)]
pub struct RtcUdp {
    commands: mpsc::Sender<Command>,
    local: SocketAddr,
    pub stats: Arc<RtcUdpStats>,
}

impl std::fmt::Debug for RtcUdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtcUdp").field("local", &self.local).finish()
    }
}

impl RtcUdp {
    /// The worker of `socket`, and its handle.
    pub fn start(socket: UdpSocket) -> (RtcUdp, impl std::future::Future<Output = ()> + Send) {
        let (commands, queue) = mpsc::channel(COMMAND_QUEUE);
        let local = socket.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let stats = Arc::new(RtcUdpStats::default());
        let worker = Worker {
            socket,
            outbox: Outbox::default(),
            stats: Arc::clone(&stats),
            peers: HashMap::new(),
            ufrags: HashMap::new(),
            addresses: HashMap::new(),
        };
        (RtcUdp { commands, local, stats }, worker.run(queue))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Adds a session; `false` when the worker is gone.
    pub async fn add(&self, session: NewSession) -> bool {
        self.commands.send(Command::Add(Box::new(session))).await.is_ok()
    }

    pub fn remove(&self, session: SessionId) {
        // A full queue during shutdown loses nothing: the worker drops every peer when it ends.
        let _ = self.commands.try_send(Command::Remove(session));
    }

    /// Sends `packets` of one track to every session named; they are built once for all, and
    /// kept in the track's `ring` (where `SentRing::push` numbered them) for NACKs.
    pub async fn send(
        &self,
        kind: MediaKind,
        sessions: Arc<[SessionId]>,
        ring: Arc<SentRing>,
        packets: Arc<[OutPacket]>,
    ) {
        let _ = self.commands.send(Command::Send { kind, sessions, ring, packets }).await;
    }

    /// Asks a publishing session for a keyframe (PLI).
    pub fn request_keyframe(&self, session: SessionId) {
        let _ = self.commands.try_send(Command::RequestKeyframe(session));
    }
}

/// A sending track's per-player state: the player's sequence numbers are the stream's (in
/// `ring`) plus `offset`, fixed at the first packet and again when the stream is republished (a
/// new ring), so they stay continuous and a NACK finds the stream's packet by subtraction.
struct Sending {
    track: OutTrack,
    ring: Option<Arc<SentRing>>,
    offset: u16,
    /// The player's last sequence number sent.
    last: u16,
}

impl Sending {
    fn new(track: OutTrack) -> Sending {
        Sending { track, ring: None, offset: 0, last: 0 }
    }
}

struct Peer {
    connection: RTCPeerConnection,
    handler: Arc<dyn PeerHandler>,
    ufrag: String,
    candidate: SocketAddr,
    remote: Option<SocketAddr>,
    video: Option<Sending>,
    audio: Option<Sending>,
    /// Receiving tracks: their kind by track id, and the receiver and SSRC of video for PLIs.
    track_kinds: HashMap<String, MediaKind>,
    video_receiver: Option<(rtc::rtp_transceiver::RTCRtpReceiverId, u32)>,
    /// The SSRC of received audio, for telling its sender reports apart.
    audio_ssrc: Option<u32>,
    connected: bool,
    created: Instant,
    last_heard: Instant,
    timeout: Option<Instant>,
}

struct Worker {
    socket: UdpSocket,
    /// What the peers wrote during this turn, sent together at its end (`sendmmsg`).
    outbox: Outbox,
    stats: Arc<RtcUdpStats>,
    peers: HashMap<SessionId, Peer>,
    ufrags: HashMap<String, SessionId>,
    addresses: HashMap<SocketAddr, SessionId>,
}

impl Worker {
    async fn run(mut self, mut queue: mpsc::Receiver<Command>) {
        let mut buffer = vec![0u8; MAX_DATAGRAM];
        let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let next_timer = self.peers.values().filter_map(|p| p.timeout).min();
            let timer = async {
                match next_timer {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                received = self.socket.recv_from(&mut buffer) => match received {
                    Ok((n, from)) => self.datagram(&buffer[..n], from),
                    Err(e) => tracing::debug!("rtc udp receive failed: {e}"),
                },
                command = queue.recv() => match command {
                    Some(command) => self.command(command),
                    None => break,
                },
                _ = timer => self.timers(),
                _ = sweep.tick() => self.sweep(),
            }
            self.send_outbox();
        }
        for id in self.peers.keys().copied().collect::<Vec<_>>() {
            self.close(id, "server stopped");
        }
    }

    fn send_outbox(&mut self) {
        if self.outbox.is_empty() {
            return;
        }
        let done = self.outbox.flush(&self.socket);
        self.stats.datagrams_out.fetch_add(done.sent, Ordering::Relaxed);
        self.stats.send_dropped.fetch_add(done.dropped, Ordering::Relaxed);
    }

    fn datagram(&mut self, data: &[u8], from: SocketAddr) {
        self.stats.datagrams_in.fetch_add(1, Ordering::Relaxed);
        let kind = classify(data);
        let session = match self.addresses.get(&from) {
            Some(&id) => Some(id),
            None if kind == Datagram::Stun => {
                binding_local_ufrag(data).and_then(|u| self.ufrags.get(u).copied())
            }
            None => None,
        };
        let Some(id) = session.filter(|_| kind != Datagram::Unknown) else {
            self.stats.dropped_unknown.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let Some(peer) = self.peers.get_mut(&id) else { return };
        if kind == Datagram::Stun && peer.remote != Some(from) {
            // A binding from a new address: the session moves there once ICE accepts it.
            self.addresses.insert(from, id);
            peer.remote = Some(from);
        }
        let now = Instant::now();
        peer.last_heard = now;
        let message = TaggedBytesMut {
            now,
            transport: TransportContext {
                local_addr: peer.candidate,
                peer_addr: from,
                ecn: None,
                transport_protocol: TransportProtocol::UDP,
            },
            message: BytesMut::from(data),
        };
        if let Err(e) = peer.connection.handle_read(message) {
            self.stats.refused_by_peer.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(session = id, %from, "rtc datagram refused: {e}");
        }
        self.drive(id);
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Add(session) => self.add(*session),
            Command::Remove(id) => self.close(id, "ended by the server"),
            Command::Send { kind, sessions, ring, packets } => {
                let now = Instant::now();
                for &id in sessions.iter() {
                    if let Some(peer) = self.peers.get_mut(&id) {
                        peer.send(kind, &ring, &packets, now);
                        self.drive(id);
                    }
                }
            }
            Command::RequestKeyframe(id) => {
                if let Some(peer) = self.peers.get_mut(&id) {
                    peer.request_keyframe();
                    self.drive(id);
                }
            }
        }
    }

    fn add(&mut self, session: NewSession) {
        let NewSession { id, peer, candidate, handler } = session;
        let now = Instant::now();
        let NewPeer { connection, local_ufrag, video, audio, .. } = peer;
        self.ufrags.insert(local_ufrag.clone(), id);
        self.peers.insert(
            id,
            Peer {
                connection,
                handler,
                ufrag: local_ufrag,
                candidate,
                remote: None,
                video: video.map(Sending::new),
                audio: audio.map(Sending::new),
                track_kinds: HashMap::new(),
                video_receiver: None,
                audio_ssrc: None,
                connected: false,
                created: now,
                last_heard: now,
                timeout: None,
            },
        );
        self.stats.sessions.store(self.peers.len() as u64, Ordering::Relaxed);
        self.drive(id);
    }

    fn timers(&mut self) {
        let now = Instant::now();
        let due: Vec<SessionId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.timeout.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(peer) = self.peers.get_mut(&id) {
                peer.timeout = None;
                if let Err(e) = peer.connection.handle_timeout(now) {
                    tracing::debug!(session = id, "rtc timer: {e}");
                }
            }
            self.drive(id);
        }
    }

    fn sweep(&mut self) {
        let now = Instant::now();
        let stale: Vec<(SessionId, &'static str)> = self
            .peers
            .iter()
            .filter_map(|(id, p)| {
                if !p.connected && now - p.created > CONNECT_TIMEOUT {
                    Some((*id, "no ice/dtls connection in 30 s"))
                } else if now - p.last_heard > IDLE_TIMEOUT {
                    Some((*id, "no packet from the peer in 30 s"))
                } else {
                    None
                }
            })
            .collect();
        for (id, why) in stale {
            self.close(id, why);
        }
    }

    /// Writes what the peer has to send, and hands its events and media to its handler.
    fn drive(&mut self, id: SessionId) {
        let Some(peer) = self.peers.get_mut(&id) else { return };
        queue_writes(&mut self.outbox, peer);
        let mut closed = None;
        while let Some(event) = peer.connection.poll_event() {
            match event {
                RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) => match state {
                    RTCPeerConnectionState::Connected => {
                        peer.connected = true;
                        peer.handler.on_event(id, PeerEvent::Connected);
                    }
                    RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                        closed = Some(format!("connection {state}"));
                    }
                    _ => {}
                },
                RTCPeerConnectionEvent::OnTrack(RTCTrackEvent::OnOpen(init)) => {
                    let receiver = init.receiver_id;
                    if let Some(rtp_receiver) = peer.connection.rtp_receiver(receiver) {
                        let track = rtp_receiver.track();
                        let kind = match track.kind() {
                            RtpCodecKind::Video => MediaKind::Video,
                            _ => MediaKind::Audio,
                        };
                        if kind == MediaKind::Video {
                            peer.video_receiver = track.ssrcs().last().map(|ssrc| (receiver, ssrc));
                        }
                        peer.track_kinds.insert(init.track_id.to_string(), kind);
                    }
                }
                _ => {}
            }
        }
        while let Some(message) = peer.connection.poll_read() {
            match message.message {
                RTCMessage::RtpPacket(track_id, packet) => {
                    let Some(&kind) = peer.track_kinds.get(&track_id.to_string()) else { continue };
                    if kind == MediaKind::Video {
                        if let Some((_, ssrc)) = peer.video_receiver.as_mut() {
                            *ssrc = packet.header.ssrc;
                        }
                    } else {
                        peer.audio_ssrc = Some(packet.header.ssrc);
                    }
                    peer.handler.on_event(
                        id,
                        PeerEvent::Media {
                            kind,
                            sequence: packet.header.sequence_number,
                            timestamp: packet.header.timestamp,
                            marker: packet.header.marker,
                            payload: packet.payload,
                        },
                    );
                }
                RTCMessage::RtcpPacket(_, packets) => {
                    let asks = packets.iter().any(|p| {
                        p.as_any().downcast_ref::<PictureLossIndication>().is_some()
                            || p.as_any().downcast_ref::<FullIntraRequest>().is_some()
                    });
                    if asks {
                        peer.handler.on_event(id, PeerEvent::KeyframeRequest);
                    }
                    for nack in packets.iter().filter_map(|p| p.as_any().downcast_ref::<TransportLayerNack>())
                    {
                        peer.resend(nack, &self.stats);
                    }
                    for report in packets.iter().filter_map(|p| p.as_any().downcast_ref::<SenderReport>()) {
                        let kind = if peer.video_receiver.is_some_and(|(_, ssrc)| ssrc == report.ssrc) {
                            MediaKind::Video
                        } else if peer.audio_ssrc == Some(report.ssrc) {
                            MediaKind::Audio
                        } else {
                            continue;
                        };
                        let (ntp, rtp) = (report.ntp_time, report.rtp_time);
                        peer.handler.on_event(id, PeerEvent::SenderReport { kind, ntp, rtp });
                    }
                }
                _ => {}
            }
        }
        // Retransmissions answering NACKs were written while reading.
        queue_writes(&mut self.outbox, peer);
        peer.timeout = peer.connection.poll_timeout();
        if let Some(why) = closed {
            self.close(id, &why);
        }
    }

    fn close(&mut self, id: SessionId, why: &str) {
        let Some(mut peer) = self.peers.remove(&id) else { return };
        self.ufrags.remove(&peer.ufrag);
        self.addresses.retain(|_, session| *session != id);
        let _ = peer.connection.close();
        while let Some(out) = peer.connection.poll_write() {
            let _ = self.socket.try_send_to(&out.message, out.transport.peer_addr);
        }
        self.stats.sessions.store(self.peers.len() as u64, Ordering::Relaxed);
        peer.handler.on_event(id, PeerEvent::Closed(why.to_owned()));
    }
}

/// Queues what the peer has to send for the end of the worker's turn.
fn queue_writes(outbox: &mut Outbox, peer: &mut Peer) {
    while let Some(out) = peer.connection.poll_write() {
        outbox.push(out.message, out.transport.peer_addr);
    }
}

/// Hands one packet to the peer's sender with the player's header fields (SRTP is added inside).
fn write_packet(
    sender: &mut rtc::rtp_transceiver::rtp_sender::RTCRtpSender<'_>,
    track: &OutTrack,
    sequence: u16,
    packet: &OutPacket,
    now: Instant,
) -> bool {
    let rtp = rtc::rtp::Packet {
        header: rtc::rtp::header::Header {
            version: 2,
            marker: packet.marker,
            payload_type: track.payload_type,
            sequence_number: sequence,
            timestamp: packet.timestamp,
            ssrc: track.ssrc,
            ..Default::default()
        },
        payload: packet.payload.clone(),
    };
    match sender.write_rtp(now, rtp) {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!("rtc send refused: {e}");
            false
        }
    }
}

impl Peer {
    fn send(&mut self, kind: MediaKind, ring: &Arc<SentRing>, packets: &[OutPacket], now: Instant) {
        if !self.connected {
            return;
        }
        let sending = match kind {
            MediaKind::Video => self.video.as_mut(),
            MediaKind::Audio => self.audio.as_mut(),
        };
        let Some(sending) = sending else { return };
        let Some(first) = packets.first() else { return };
        let mut replay = Vec::new();
        if !sending.ring.as_ref().is_some_and(|r| Arc::ptr_eq(r, ring)) {
            // A player's first video starts at the stream's last keyframe: the packets since
            // then go first (the first picture comes now, not at the next keyframe).
            if sending.ring.is_none() && kind == MediaKind::Video {
                replay = ring.since_keyframe(first.sequence).unwrap_or_default();
            }
            // The first packets, or a republish: the player's numbering goes on where it was.
            let start = replay.first().map_or(first.sequence, |p| p.sequence);
            sending.offset = sending.last.wrapping_add(1).wrapping_sub(start);
            sending.ring = Some(Arc::clone(ring));
        }
        let Some(mut sender) = self.connection.rtp_sender(sending.track.sender) else { return };
        for packet in replay.iter().chain(packets) {
            sending.last = packet.sequence.wrapping_add(sending.offset);
            if !write_packet(&mut sender, &sending.track, sending.last, packet, now) {
                return;
            }
        }
    }

    /// Sends again, from the stream's ring, the packets a NACK names.
    fn resend(&mut self, nack: &TransportLayerNack, stats: &RtcUdpStats) {
        let sending = [self.video.as_ref(), self.audio.as_ref()]
            .into_iter()
            .flatten()
            .find(|s| s.track.ssrc == nack.media_ssrc);
        let Some(sending) = sending else {
            tracing::debug!(ssrc = nack.media_ssrc, "nack for a track we do not send");
            return;
        };
        let Some(ring) = sending.ring.as_ref() else { return };
        let Some(mut sender) = self.connection.rtp_sender(sending.track.sender) else { return };
        let now = Instant::now();
        for sequence in nack.nacks.iter().flat_map(|pair| pair.packet_list()) {
            stats.nack_requested.fetch_add(1, Ordering::Relaxed);
            // Only what this player was sent: not before its first packet, not past its last.
            let behind = sending.last.wrapping_sub(sequence);
            let kept = ring.get(sequence.wrapping_sub(sending.offset)).filter(|_| behind < 0x8000);
            match kept {
                Some(packet) if write_packet(&mut sender, &sending.track, sequence, &packet, now) => {
                    stats.nack_resent.fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    tracing::debug!(sequence, behind, last = sending.last, "nacked packet not resent");
                    stats.nack_missing.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    fn request_keyframe(&mut self) {
        let Some((receiver, ssrc)) = self.video_receiver else { return };
        if let Some(mut rtp_receiver) = self.connection.rtp_receiver(receiver) {
            let pli = PictureLossIndication { sender_ssrc: 0, media_ssrc: ssrc };
            let _ = rtp_receiver.write_rtcp(Instant::now(), vec![Box::new(pli)]);
        }
    }
}
