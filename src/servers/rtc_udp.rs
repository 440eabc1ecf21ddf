//! The UDP sockets all WebRTC peers of an address share (one `SO_REUSEPORT` socket per worker,
//! a worker per core), and the workers that drive them.
//!
//! The kernel spreads peers over the sockets by 5-tuple; a session lives on the worker whose
//! socket its peer's first STUN binding reached (signalling adds it to any worker, which hands it
//! over: `rtc_directory`), and moves again if a changed address lands on another socket. Media
//! commands go to every worker; each sends to the sessions it owns, from the streams' shared rings.
//! A datagram from a known 5-tuple goes to its peer. From an unknown address, only a STUN binding
//! request whose USERNAME starts with a session's ufrag (ours, issued in the answer) is taken, and
//! the address is then the session's (a client whose address changes keeps its session the same
//! way). Everything else is counted and dropped (RFC 7983's first-byte ranges tell STUN, DTLS and
//! RTP apart). One task owns every peer connection of the socket (`rtc`'s sans-IO peers are
//! plain values): each feeds datagrams and timers in, writes what they give out in one `sendmmsg`
//! batch per turn (`udp_batch`), hands received media and keyframe requests to each peer's `PeerHandler`, and takes
//! media to send from the nodes through one command queue, a packet list built once per stream
//! for all the players it names.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtc::peer_connection::event::{RTCPeerConnectionEvent, RTCTrackEvent};
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::state::{RTCIceConnectionState, RTCPeerConnectionState};
use rtc::peer_connection::RTCPeerConnection;
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::rtc_directory::{Directory, WorkerIndex};
use super::rtc_peer::{NewPeer, OutTrack};
pub use super::rtc_ring::{OutPacket, SentRing};
use super::rtc_slim::{Slim, SlimInput, SLIM_AFTER};
use super::rtc_srtp_keys::KeyTap;
use super::rtc_tcp::TcpLink;
use super::udp_batch::Outbox;
use crate::codec::rtp::demux::{binding_local_ufrag, classify, Datagram};
use crate::codec::rtp::dtls_flights::{FlightEvent, FlightLog};
use crate::codec::srtp::SrtpSender;
use crate::graph::stats::RtcPeerStats;
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
/// A fan-out turn sends what it queued once past this, so a keyframe to hundreds of players
/// does not grow the worker's buffer to megabytes.
const FLUSH_AT: usize = 128 * 1024;
/// How often a player is sent an RTCP sender report per track (as the crate's interceptor).
const REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// A joining player's replay (the stream since its last keyframe, ~100 packets at 1 Mbit/s) is
/// paced: this many packets per track now and at each pacing tick, the rest held in order with
/// what the stream sends meanwhile. One burst into the socket loses packets at the receiver
/// under load, and their resends then arrive too late for its replay window.
const PACE_PACKETS: usize = 12;
const PACE_INTERVAL: Duration = Duration::from_millis(2);
/// A backlog past this is sent at once (a player that cannot keep up is not held for).
const MAX_BACKLOG: usize = 2048;
/// Bindings kept for sessions not taken yet (see `Worker::early`).
const MAX_EARLY: usize = 64;
/// Datagrams a worker reads in one turn when the socket holds several.
const RECEIVE_BATCH: usize = 64;
/// Receive and send buffer asked of each shared socket. Every peer's bindings, DTLS flights and
/// RTCP arrive on these few sockets: a worker that is late (a fan-out turn, a busy core) must not
/// lose a handshake flight to a full buffer, which the peer would send again only after its
/// retransmission timer (1 s in the `rtc` crate and in browsers). The kernel's default is 208 KiB.
const SOCKET_BUFFER: usize = 4 << 20;

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
    /// The peer's counters (NACKs, retransmits, PLIs, its worker), read by the API.
    pub stats: Arc<RtcPeerStats>,
}

enum Command {
    Add(Box<NewSession>),
    Remove(SessionId),
    Send {
        kind: MediaKind,
        sessions: Arc<[SessionId]>,
        ring: Arc<SentRing>,
        packets: Arc<[OutPacket]>,
    },
    RequestKeyframe(SessionId),
    /// Worker `to` got a binding for a session of ours (`datagram`, from `from`): move it there.
    HandOver {
        id: SessionId,
        to: WorkerIndex,
        datagram: Bytes,
        from: SocketAddr,
    },
    /// A session handed over to this worker, with the binding that asked for it.
    Adopt {
        id: SessionId,
        peer: Box<Peer>,
        datagram: Bytes,
        from: SocketAddr,
    },
    /// A frame from an ICE-TCP connection (`rtc_tcp`); the first brings the way back.
    TcpFrame {
        id: SessionId,
        frame: Bytes,
        from: SocketAddr,
        link: Option<TcpLink>,
    },
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
    /// Sessions handed from one worker to another (first binding on another socket, or a
    /// changed address).
    pub handovers: AtomicU64,
    /// Sessions on each worker.
    pub per_worker: Box<[AtomicU64]>,
}

impl RtcUdpStats {
    fn new(workers: usize) -> RtcUdpStats {
        RtcUdpStats { per_worker: (0..workers).map(|_| AtomicU64::new(0)).collect(), ..Default::default() }
    }

    /// Sessions on all workers.
    pub fn sessions(&self) -> u64 {
        self.per_worker.iter().map(|n| n.load(Ordering::Relaxed)).sum()
    }
}

/// The handle nodes use: add and remove sessions, send media, ask publishers for keyframes.
#[derive(Clone)]
pub struct RtcUdp {
    /// Each worker's command queue.
    workers: Arc<[mpsc::Sender<Command>]>,
    directory: Arc<Directory>,
    local: SocketAddr,
    pub stats: Arc<RtcUdpStats>,
}

impl std::fmt::Debug for RtcUdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtcUdp").field("local", &self.local).finish()
    }
}

impl RtcUdp {
    /// A worker for each of `sockets` (bound to one address with `SO_REUSEPORT`), and their
    /// handle. Each worker is a task of its own, to be spawned.
    pub fn start(sockets: Vec<UdpSocket>) -> (RtcUdp, Vec<impl std::future::Future<Output = ()> + Send>) {
        let local = sockets
            .first()
            .and_then(|s| s.local_addr().ok())
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        if let Some(socket) = sockets.first() {
            let granted: Vec<_> = sockets.iter().map(raise_buffers).collect();
            let (receive, send) = granted[0];
            if receive < SOCKET_BUFFER || send < SOCKET_BUFFER {
                tracing::warn!(
                    addr = ?socket.local_addr().ok(),
                    receive, send, asked = SOCKET_BUFFER,
                    "webrtc udp socket buffers below the size asked (net.core.rmem_max / wmem_max cap them; \
                     SO_RCVBUFFORCE needs CAP_NET_ADMIN): handshakes may be lost under load"
                );
            } else {
                tracing::info!(addr = ?socket.local_addr().ok(), receive, send, "webrtc udp socket buffers");
            }
        }
        let stats = Arc::new(RtcUdpStats::new(sockets.len()));
        let directory = Arc::new(Directory::default());
        let (senders, queues): (Vec<_>, Vec<_>) =
            sockets.iter().map(|_| mpsc::channel(COMMAND_QUEUE)).unzip();
        // Workers reach each other through weak senders: the queues close when the handle goes.
        let siblings: Arc<[mpsc::WeakSender<Command>]> =
            senders.iter().map(mpsc::Sender::downgrade).collect();
        let workers = sockets
            .into_iter()
            .zip(queues)
            .enumerate()
            .map(|(index, (socket, queue))| {
                Worker {
                    index,
                    socket,
                    outbox: Outbox::default(),
                    stats: Arc::clone(&stats),
                    directory: Arc::clone(&directory),
                    siblings: Arc::clone(&siblings),
                    peers: HashMap::new(),
                    ufrags: HashMap::new(),
                    addresses: HashMap::new(),
                    deadlines: BTreeSet::new(),
                    pacing: BTreeSet::new(),
                    next_pace: None,
                    unreported_send_drops: 0,
                    early: Vec::new(),
                }
                .run(queue)
            })
            .collect();
        (RtcUdp { workers: senders.into(), directory, local, stats }, workers)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Adds a session to a worker (it moves to the one its peer's packets reach); `false` when
    /// the workers are gone.
    pub async fn add(&self, session: NewSession) -> bool {
        let worker = (session.id % self.workers.len().max(1) as u64) as usize;
        let Some(queue) = self.workers.get(worker) else { return false };
        self.directory.insert(&session.peer.local_ufrag, session.id, worker);
        queue.send(Command::Add(Box::new(session))).await.is_ok()
    }

    pub fn remove(&self, session: SessionId) {
        // The owner closes it; a session in the middle of a hand-over is closed on arrival.
        self.directory.remove_session(session);
        for queue in self.workers.iter() {
            // A full queue during shutdown loses nothing: a worker drops every peer when it ends.
            let _ = queue.try_send(Command::Remove(session));
        }
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
        // Every worker sends to those of the sessions it owns.
        for queue in self.workers.iter() {
            let command = Command::Send {
                kind,
                sessions: Arc::clone(&sessions),
                ring: Arc::clone(&ring),
                packets: Arc::clone(&packets),
            };
            let _ = queue.send(command).await;
        }
    }

    /// Hands a frame of an ICE-TCP connection to the worker owning the session of `ufrag`, with
    /// the connection's `link` if it was not handed yet (taken then). `false` when no session has
    /// that ufrag. A full worker queue loses the frame (and a link with it: the connection ends).
    pub fn tcp_frame(&self, ufrag: &str, frame: Bytes, from: SocketAddr, link: &mut Option<TcpLink>) -> bool {
        let Some((id, owner)) = self.directory.get(ufrag) else { return false };
        let Some(queue) = self.workers.get(owner) else { return false };
        let _ = queue.try_send(Command::TcpFrame { id, frame, from, link: link.take() });
        true
    }

    /// Asks a publishing session for a keyframe (PLI).
    pub fn request_keyframe(&self, session: SessionId) {
        for queue in self.workers.iter() {
            let _ = queue.try_send(Command::RequestKeyframe(session));
        }
    }
}

/// Raises a shared socket's receive and send buffers to `SOCKET_BUFFER`, past the system's cap when
/// the process may (`SO_RCVBUFFORCE`, root or CAP_NET_ADMIN); the sizes granted (the kernel counts
/// twice what is asked, half of it for its bookkeeping: the halves are returned).
fn raise_buffers(socket: &UdpSocket) -> (usize, usize) {
    use nix::sys::socket::{getsockopt, setsockopt, sockopt};
    if setsockopt(socket, sockopt::RcvBufForce, &SOCKET_BUFFER).is_err() {
        let _ = setsockopt(socket, sockopt::RcvBuf, &SOCKET_BUFFER);
    }
    if setsockopt(socket, sockopt::SndBufForce, &SOCKET_BUFFER).is_err() {
        let _ = setsockopt(socket, sockopt::SndBuf, &SOCKET_BUFFER);
    }
    let receive = getsockopt(socket, sockopt::RcvBuf).unwrap_or(0) / 2;
    let send = getsockopt(socket, sockopt::SndBuf).unwrap_or(0) / 2;
    (receive, send)
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
    /// Packets of the stream held back while the join burst is paced, in order.
    backlog: VecDeque<OutPacket>,
    /// What the sender reports of packets we protect ourselves say (RFC 3550 section 6.4.1).
    report: Report,
}

impl Sending {
    fn new(track: OutTrack, kind: MediaKind) -> Sending {
        let clock_rate = match kind {
            MediaKind::Video => 90_000,
            MediaKind::Audio => 48_000,
        };
        Sending {
            track,
            ring: None,
            offset: 0,
            last: 0,
            backlog: VecDeque::new(),
            report: Report { clock_rate, ..Report::default() },
        }
    }
}

/// A track's sender report state: packets and payload octets sent, and the RTP timestamp of the
/// newest packet with the time it left.
#[derive(Default)]
struct Report {
    clock_rate: u32,
    packets: u32,
    octets: u32,
    last: Option<(u32, Instant)>,
    next: Option<Instant>,
}

impl Report {
    fn sent(&mut self, packet: &OutPacket, fresh: bool, now: Instant) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(packet.payload.len() as u32);
        if fresh {
            self.last = Some((packet.timestamp, now));
        }
    }

    /// The sender report due at `now`, if one is. `media_clock`: the track's RTP time against
    /// the stream's wall-clock line (`SentRing::media_clock`), the same for its audio and video;
    /// without one, the newest packet's timestamp against when it was sent.
    fn due(&mut self, ssrc: u32, now: Instant, media_clock: Option<(u32, Instant)>) -> Option<SenderReport> {
        // Nothing sent to this player yet: nothing to report.
        let sent = self.last?;
        let (timestamp, at) = media_clock.unwrap_or(sent);
        if self.next.is_some_and(|next| now < next) {
            return None;
        }
        self.next = Some(now + REPORT_INTERVAL);
        // A frame may be due after `now` (a publisher ahead of its clock): signed seconds.
        let since = match now.checked_duration_since(at) {
            Some(after) => after.as_secs_f64(),
            None => -at.duration_since(now).as_secs_f64(),
        };
        Some(SenderReport {
            ssrc,
            ntp_time: ntp_now(),
            rtp_time: timestamp.wrapping_add((since * f64::from(self.clock_rate)) as i64 as u32),
            packet_count: self.packets,
            octet_count: self.octets,
            ..Default::default()
        })
    }
}

/// The wall clock as NTP's 32.32 fixed point (seconds since 1900).
fn ntp_now() -> u64 {
    const UNIX_TO_NTP: u64 = 2_208_988_800;
    let since_unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let fraction = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
    ((since_unix.as_secs() + UNIX_TO_NTP) << 32) | fraction
}

struct Peer {
    /// The crate's peer connection: ICE, DTLS, and until the player leaves it (`slim`) its
    /// consent checks and RTCP. Boxed so a slim player gives its kilobytes back.
    connection: Option<Box<RTCPeerConnection>>,
    /// A player's state of our own once it left the crate (`rtc_slim`).
    slim: Option<Box<Slim>>,
    /// Our ICE password, for the slim state's consent checks.
    password: String,
    handler: Arc<dyn PeerHandler>,
    stats: Arc<RtcPeerStats>,
    ufrag: String,
    candidate: SocketAddr,
    remote: Option<SocketAddr>,
    /// The ICE-TCP connection of the peer, if it came over TCP.
    tcp: Option<TcpLink>,
    /// Whether the connection's own packets (DTLS, RTCP) go over the TCP pair.
    media_over_tcp: bool,
    /// A player's SRTP master key, seen as the crate derives it; `srtp` is made from it once
    /// DTLS is done, and from then on the worker protects what it sends the player itself.
    keys: Option<Arc<KeyTap>>,
    srtp: Option<SrtpSender>,
    video: Option<Sending>,
    audio: Option<Sending>,
    /// Receiving tracks: their kind by track id, and the receiver and SSRC of video for PLIs.
    track_kinds: HashMap<String, MediaKind>,
    video_receiver: Option<(rtc::rtp_transceiver::RTCRtpReceiverId, u32)>,
    /// The SSRC of received audio, for telling its sender reports apart.
    audio_ssrc: Option<u32>,
    connected: bool,
    /// When ICE and DTLS completed.
    connected_at: Option<Instant>,
    /// The DTLS flights the peer sent and ours, for its retransmission counters (emptied once
    /// the handshake is long over).
    flights_in: FlightLog,
    flights_out: FlightLog,
    created: Instant,
    last_heard: Instant,
    timeout: Option<Instant>,
}

struct Worker {
    index: WorkerIndex,
    socket: UdpSocket,
    /// What the peers wrote during this turn, sent together at its end (`sendmmsg`).
    outbox: Outbox,
    stats: Arc<RtcUdpStats>,
    directory: Arc<Directory>,
    /// Every worker's queue (this one's too), for hand-overs.
    siblings: Arc<[mpsc::WeakSender<Command>]>,
    /// Boxed: a peer connection is kilobytes, and the map's spare capacity would hold as much
    /// again inline.
    peers: HashMap<SessionId, Box<Peer>>,
    ufrags: HashMap<String, SessionId>,
    addresses: HashMap<SocketAddr, SessionId>,
    /// The peers' timer deadlines in order, so a turn does not walk every peer for the next
    /// one. An entry whose peer has since another deadline (or is gone) is skipped when due.
    deadlines: BTreeSet<(Instant, SessionId)>,
    /// Players with a paced backlog, and the next pacing tick.
    pacing: BTreeSet<SessionId>,
    next_pace: Option<Instant>,
    /// Datagrams the socket did not take since the last sweep (logged there).
    unreported_send_drops: u64,
    /// Bindings for sessions this worker owns but has not taken yet (its `Add` or `Adopt` is
    /// still queued behind them), read again once it has: dropping them made the client check
    /// again one check interval later (200 ms in the `rtc` crate). When it arrived, for expiry.
    early: Vec<(SessionId, Bytes, SocketAddr, Instant)>,
}

impl Worker {
    async fn run(mut self, mut queue: mpsc::Receiver<Command>) {
        let mut buffer = vec![0u8; MAX_DATAGRAM];
        let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let next_timer = self.deadlines.first().map(|(at, _)| *at);
            let timer = async {
                match next_timer {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            let next_pace = self.next_pace;
            let pace = async {
                match next_pace {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = pace => self.pace(),
                received = self.socket.recv_from(&mut buffer) => match received {
                    Ok((n, from)) => {
                        self.datagram(&buffer[..n], from);
                        self.read_queued(&mut buffer);
                    }
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

    /// Reads what else the socket holds (up to `RECEIVE_BATCH` datagrams) in the same turn. A
    /// turn is one datagram or one command; with a stream fanned out to hundreds of players the
    /// commands are always ready, and one datagram a turn let the socket overflow (1000 players:
    /// 10 853 datagrams dropped, bindings and DTLS flights among them, even with 4 MiB buffers).
    fn read_queued(&mut self, buffer: &mut [u8]) {
        for _ in 1..RECEIVE_BATCH {
            match self.socket.try_recv_from(buffer) {
                Ok((n, from)) => self.datagram(&buffer[..n], from),
                // Nothing more (or an error the next turn's receive reports).
                Err(_) => break,
            }
        }
    }

    fn send_outbox(&mut self) {
        if self.outbox.is_empty() {
            return;
        }
        let done = self.outbox.flush(&self.socket);
        self.stats.datagrams_out.fetch_add(done.sent, Ordering::Relaxed);
        self.stats.send_dropped.fetch_add(done.dropped, Ordering::Relaxed);
        self.unreported_send_drops += done.dropped;
    }

    fn datagram(&mut self, data: &[u8], from: SocketAddr) {
        self.stats.datagrams_in.fetch_add(1, Ordering::Relaxed);
        let kind = classify(data);
        let session = match self.addresses.get(&from) {
            Some(&id) => Some(id),
            None if kind == Datagram::Stun => match binding_local_ufrag(data) {
                Some(ufrag) => match self.ufrags.get(ufrag).copied() {
                    Some(id) => Some(id),
                    None if self.claim(ufrag, data, from) => return,
                    None => None,
                },
                None => None,
            },
            None => None,
        };
        let Some(id) = session.filter(|_| kind != Datagram::Unknown) else {
            self.stats.dropped_unknown.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let Some(peer) = self.peers.get_mut(&id) else { return };
        if peer.slim.is_some() {
            self.slim_input(id, data, from, false);
            return;
        }
        let new_address = kind == Datagram::Stun && peer.remote != Some(from);
        if kind == Datagram::Dtls {
            count_flight(&mut peer.flights_in, &peer.stats, data, true);
        }
        let message = peer.heard(data, from, TransportProtocol::UDP);
        let Some(connection) = peer.connection.as_mut() else { return };
        match connection.handle_read(message) {
            Ok(()) if new_address => {
                // A binding that passed ICE's integrity check from a new address: the session
                // is there now (its first address, or a client whose address changed).
                match peer.remote.replace(from) {
                    Some(old) => tracing::info!(conn = id, %old, new = %from, "webrtc peer address changed"),
                    None => peer.stats.first_binding_us.store(micros_since(peer.created), Ordering::Relaxed),
                }
                self.addresses.insert(from, id);
            }
            Ok(()) => {}
            Err(e) => {
                self.stats.refused_by_peer.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(session = id, %from, "rtc datagram refused: {e}");
            }
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
                        // Only what went through the connection (its own SRTP, or a sender
                        // report) needs it driven.
                        let used_connection = peer.send(kind, &ring, &packets, now, &mut self.outbox);
                        if peer.has_backlog() && self.pacing.insert(id) && self.next_pace.is_none() {
                            self.next_pace = Some(now + PACE_INTERVAL);
                        }
                        if used_connection {
                            self.drive(id);
                        }
                    }
                    if self.outbox.len_bytes() >= FLUSH_AT {
                        self.send_outbox();
                    }
                }
            }
            Command::RequestKeyframe(id) => {
                if let Some(peer) = self.peers.get_mut(&id) {
                    peer.request_keyframe();
                    self.drive(id);
                }
            }
            Command::HandOver { id, to, datagram, from } => self.hand_over(id, to, datagram, from),
            Command::Adopt { id, peer, datagram, from } => self.adopt(id, peer, &datagram, from),
            Command::TcpFrame { id, frame, from, link } => self.tcp_frame(id, &frame, from, link),
        }
    }

    /// A pacing tick: each player with a backlog is sent its next packets.
    fn pace(&mut self) {
        let now = Instant::now();
        for id in std::mem::take(&mut self.pacing) {
            let Some(peer) = self.peers.get_mut(&id) else { continue };
            let used_connection = peer.pace(now, &mut self.outbox);
            if peer.has_backlog() {
                self.pacing.insert(id);
            }
            if used_connection {
                self.drive(id);
            }
            if self.outbox.len_bytes() >= FLUSH_AT {
                self.send_outbox();
            }
        }
        self.next_pace = (!self.pacing.is_empty()).then(|| now + PACE_INTERVAL);
    }

    /// A datagram (or ICE-TCP frame) from a player that left the crate.
    fn slim_input(&mut self, id: SessionId, data: &[u8], from: SocketAddr, over_tcp: bool) {
        let Some(peer) = self.peers.get_mut(&id) else { return };
        let Some(slim) = peer.slim.as_mut() else { return };
        let input = match slim.read(data, &peer.ufrag, from) {
            Ok(input) => input,
            Err(e) => {
                self.stats.refused_by_peer.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(conn = id, %from, "rtc datagram refused: {e}");
                return;
            }
        };
        peer.last_heard = Instant::now();
        match input {
            SlimInput::Binding(answer) => {
                if over_tcp {
                    if let Some(link) = &peer.tcp {
                        let _ = link.sender.try_send(BytesMut::from(&answer[..]));
                    }
                    return;
                }
                if peer.remote != Some(from) {
                    // A valid binding from a new address: the client's address changed.
                    if let Some(old) = peer.remote.replace(from) {
                        tracing::info!(conn = id, %old, new = %from, "webrtc peer address changed");
                    }
                    self.addresses.retain(|_, session| *session != id);
                    self.addresses.insert(from, id);
                }
                self.outbox.push(BytesMut::from(&answer[..]), from);
            }
            SlimInput::Rtcp(packets) => {
                peer.stats.slim_rtcp.fetch_add(1, Ordering::Relaxed);
                for packet in &packets {
                    let any = packet.as_any();
                    if any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>() {
                        peer.stats.plis.fetch_add(1, Ordering::Relaxed);
                        peer.handler.on_event(id, PeerEvent::KeyframeRequest);
                    } else if let Some(nack) = any.downcast_ref::<TransportLayerNack>() {
                        peer.resend(nack, &self.stats, &mut self.outbox);
                    } else if any.is::<ReceiverReport>() {
                        peer.stats.receiver_reports.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            SlimInput::Closed(why) => self.close(id, why),
            SlimInput::Ignored => {}
        }
    }

    /// A frame from the ICE-TCP connection of session `id` (a moved session's frame is lost).
    fn tcp_frame(&mut self, id: SessionId, frame: &[u8], from: SocketAddr, link: Option<TcpLink>) {
        self.stats.datagrams_in.fetch_add(1, Ordering::Relaxed);
        let Some(peer) = self.peers.get_mut(&id) else { return };
        if link.is_some() {
            peer.tcp = link;
            peer.stats.tcp.store(true, Ordering::Relaxed);
            if peer.remote.is_none() && peer.stats.first_binding_us.load(Ordering::Relaxed) == 0 {
                // The connection's first frame was a binding naming the session (`rtc_tcp`).
                peer.stats.first_binding_us.store(micros_since(peer.created), Ordering::Relaxed);
            }
        }
        if peer.slim.is_some() {
            self.slim_input(id, frame, from, true);
            return;
        }
        if classify(frame) == Datagram::Dtls {
            count_flight(&mut peer.flights_in, &peer.stats, frame, true);
        }
        let message = peer.heard(frame, from, TransportProtocol::TCP);
        let Some(connection) = peer.connection.as_mut() else { return };
        if let Err(e) = connection.handle_read(message) {
            self.stats.refused_by_peer.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(session = id, %from, "rtc tcp frame refused: {e}");
        }
        self.drive(id);
    }

    /// A binding for a session another worker owns reached this socket: asks the owner to hand
    /// it over, with the binding. `false` when no worker has the session.
    fn claim(&mut self, ufrag: &str, data: &[u8], from: SocketAddr) -> bool {
        let Some((id, owner)) = self.directory.get(ufrag) else { return false };
        if owner == self.index {
            // On its way here (added or handed over, still queued): read again when it is.
            if self.early.len() >= MAX_EARLY {
                self.early.remove(0);
            }
            self.early.push((id, Bytes::copy_from_slice(data), from, Instant::now()));
            return true;
        }
        let Some(queue) = self.siblings.get(owner).and_then(mpsc::WeakSender::upgrade) else { return false };
        let datagram = Bytes::copy_from_slice(data);
        // A full queue loses this binding only; the client retries.
        let _ = queue.try_send(Command::HandOver { id, to: self.index, datagram, from });
        true
    }

    /// Moves session `id` to worker `to`, which received `datagram` for it.
    fn hand_over(&mut self, id: SessionId, to: WorkerIndex, datagram: Bytes, from: SocketAddr) {
        let Some(peer) = self.peers.remove(&id) else { return };
        self.ufrags.remove(&peer.ufrag);
        self.addresses.retain(|_, session| *session != id);
        self.count_sessions();
        if !self.directory.move_to(&peer.ufrag, to) {
            self.finish(id, peer, "ended by the server");
            return;
        }
        let Some(queue) = self.siblings.get(to).and_then(mpsc::WeakSender::upgrade) else {
            self.finish(id, peer, "server stopped");
            return;
        };
        match queue.try_send(Command::Adopt { id, peer, datagram, from }) {
            Ok(()) => {
                self.stats.handovers.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(command) | mpsc::error::TrySendError::Closed(command)) => {
                // The other worker is busy: the session stays here until the next binding.
                if let Command::Adopt { peer, .. } = command {
                    self.directory.move_to(&peer.ufrag, self.index);
                    self.keep(id, peer);
                }
            }
        }
    }

    /// Takes a session handed over by another worker, and the binding that asked for it.
    fn adopt(&mut self, id: SessionId, peer: Box<Peer>, datagram: &[u8], from: SocketAddr) {
        if !self.directory.owned_by(&peer.ufrag, self.index) {
            // Removed while it moved.
            self.finish(id, peer, "ended by the server");
            return;
        }
        self.keep(id, peer);
        self.datagram(datagram, from);
        self.read_early(id);
    }

    /// Reads the bindings for session `id` that arrived before it did.
    fn read_early(&mut self, id: SessionId) {
        if !self.early.iter().any(|(early, ..)| *early == id) {
            return;
        }
        let (mine, rest) = std::mem::take(&mut self.early).into_iter().partition(|(early, ..)| *early == id);
        self.early = rest;
        for (_, datagram, from, _) in mine {
            self.datagram(&datagram, from);
        }
    }

    /// Makes `peer` one of this worker's sessions.
    fn keep(&mut self, id: SessionId, peer: Box<Peer>) {
        if let Some(at) = peer.timeout {
            self.deadlines.insert((at, id));
        }
        peer.stats.worker.store(self.index as u64, Ordering::Relaxed);
        self.ufrags.insert(peer.ufrag.clone(), id);
        self.peers.insert(id, peer);
        self.count_sessions();
    }

    fn count_sessions(&self) {
        if let Some(count) = self.stats.per_worker.get(self.index) {
            count.store(self.peers.len() as u64, Ordering::Relaxed);
        }
    }

    fn add(&mut self, session: NewSession) {
        let NewSession { id, peer, candidate, handler, stats } = session;
        let now = Instant::now();
        let NewPeer { connection, local_ufrag, local_pwd, video, audio, keys, .. } = peer;
        self.keep(
            id,
            Box::new(Peer {
                connection: Some(Box::new(connection)),
                slim: None,
                password: local_pwd,
                handler,
                stats,
                ufrag: local_ufrag,
                candidate,
                remote: None,
                tcp: None,
                media_over_tcp: false,
                keys,
                srtp: None,
                video: video.map(|t| Sending::new(t, MediaKind::Video)),
                audio: audio.map(|t| Sending::new(t, MediaKind::Audio)),
                track_kinds: HashMap::new(),
                video_receiver: None,
                audio_ssrc: None,
                connected: false,
                connected_at: None,
                flights_in: FlightLog::default(),
                flights_out: FlightLog::default(),
                created: now,
                last_heard: now,
                timeout: None,
            }),
        );
        self.drive(id);
        self.read_early(id);
    }

    fn timers(&mut self) {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(&(at, id)) = self.deadlines.first().filter(|(at, _)| *at <= now) {
            self.deadlines.pop_first();
            if self.peers.get(&id).is_some_and(|p| p.timeout == Some(at)) {
                due.push(id);
            }
        }
        for id in due {
            if let Some(peer) = self.peers.get_mut(&id) {
                peer.timeout = None;
                let Some(connection) = peer.connection.as_mut() else { continue };
                if let Err(e) = connection.handle_timeout(now) {
                    tracing::debug!(session = id, "rtc timer: {e}");
                }
            }
            self.drive(id);
        }
    }

    fn sweep(&mut self) {
        // Bindings whose session never came (removed meanwhile) are forgotten.
        self.early.retain(|(.., at)| at.elapsed() < SWEEP_INTERVAL);
        if self.unreported_send_drops > 0 {
            tracing::warn!(
                worker = self.index,
                dropped = std::mem::take(&mut self.unreported_send_drops),
                "webrtc udp: datagrams not sent in the last second (socket send buffer full)"
            );
        }
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
        for peer in self.peers.values_mut() {
            if peer.slim.is_none() && peer.connected_at.is_some_and(|at| now - at >= SLIM_AFTER) {
                peer.leave_crate();
            }
        }
    }

    /// Writes what the peer has to send, and hands its events and media to its handler.
    fn drive(&mut self, id: SessionId) {
        let Some(peer) = self.peers.get_mut(&id) else { return };
        if peer.connection.is_none() {
            return;
        }
        queue_writes(&mut self.outbox, peer);
        let mut closed = None;
        let mut ice_connected = false;
        while let Some(event) = peer.connection.as_mut().and_then(|c| c.poll_event()) {
            match event {
                RTCPeerConnectionEvent::OnIceConnectionStateChangeEvent(RTCIceConnectionState::Connected) => {
                    ice_connected = true;
                }
                RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) => match state {
                    RTCPeerConnectionState::Connected => {
                        peer.connected = true;
                        peer.connected_at = Some(Instant::now());
                        peer.stats.connected_us.store(micros_since(peer.created), Ordering::Relaxed);
                        tracing::debug!(
                            conn = id,
                            first_binding_us = peer.stats.first_binding_us.load(Ordering::Relaxed),
                            connected_us = peer.stats.connected_us.load(Ordering::Relaxed),
                            dtls_flights_in = peer.flights_in.flights,
                            dtls_repeats_in = peer.flights_in.repeats,
                            dtls_flights_out = peer.flights_out.flights,
                            dtls_repeats_out = peer.flights_out.repeats,
                            "webrtc peer: ice and dtls done"
                        );
                        peer.srtp = peer
                            .keys
                            .as_ref()
                            .and_then(|keys| keys.local_key())
                            .map(|key| SrtpSender::new(&key));
                        match &peer.srtp {
                            Some(srtp) => {
                                tracing::debug!(conn = id, profile = ?srtp.profile(), "webrtc player: own srtp")
                            }
                            None if peer.keys.is_some() => {
                                tracing::warn!(
                                    conn = id,
                                    "webrtc player: no srtp key seen, media through the crate"
                                )
                            }
                            None => {}
                        }
                        peer.handler.on_event(id, PeerEvent::Connected);
                    }
                    RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                        closed = Some(format!("connection {state}"));
                    }
                    _ => {}
                },
                RTCPeerConnectionEvent::OnTrack(RTCTrackEvent::OnOpen(init)) => {
                    let receiver = init.receiver_id;
                    if let Some(rtp_receiver) =
                        peer.connection.as_mut().and_then(|c| c.rtp_receiver(receiver))
                    {
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
        while let Some(message) = peer.connection.as_mut().and_then(|c| c.poll_read()) {
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
                        peer.stats.plis.fetch_add(1, Ordering::Relaxed);
                        peer.handler.on_event(id, PeerEvent::KeyframeRequest);
                    }
                    for nack in packets.iter().filter_map(|p| p.as_any().downcast_ref::<TransportLayerNack>())
                    {
                        peer.resend(nack, &self.stats, &mut self.outbox);
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
        if ice_connected {
            // We answer as the DTLS client (the crate's default role for an answerer): the crate
            // makes our ClientHello when ICE selects the pair but hands it out only at its next
            // timer, the ICE agent's 200 ms later, which every player's first frame waited for.
            // A timer turn now sends it.
            if let Some(connection) = peer.connection.as_mut() {
                if let Err(e) = connection.handle_timeout(Instant::now()) {
                    tracing::debug!(conn = id, "rtc timer: {e}");
                }
            }
        }
        // Retransmissions answering NACKs were written while reading; the ClientHello above.
        queue_writes(&mut self.outbox, peer);
        let timeout = peer.connection.as_mut().and_then(|c| c.poll_timeout());
        if timeout != peer.timeout {
            peer.timeout = timeout;
            if let Some(at) = timeout {
                self.deadlines.insert((at, id));
            }
        }
        if let Some(why) = closed {
            self.close(id, &why);
        }
    }

    fn close(&mut self, id: SessionId, why: &str) {
        let Some(peer) = self.peers.remove(&id) else { return };
        self.ufrags.remove(&peer.ufrag);
        self.addresses.retain(|_, session| *session != id);
        self.count_sessions();
        // After a crowd leaves, the tables give back what they grew to.
        if self.peers.capacity() > 64 && self.peers.len() < self.peers.capacity() / 4 {
            self.peers.shrink_to_fit();
            self.ufrags.shrink_to_fit();
            self.addresses.shrink_to_fit();
        }
        self.finish(id, peer, why);
    }

    /// Ends a session no longer in this worker's tables.
    fn finish(&mut self, id: SessionId, mut peer: Box<Peer>, why: &str) {
        self.directory.remove(&peer.ufrag);
        if let Some(connection) = peer.connection.as_mut() {
            let _ = connection.close();
            while let Some(out) = connection.poll_write() {
                let _ = self.socket.try_send_to(&out.message, out.transport.peer_addr);
            }
        }
        peer.handler.on_event(id, PeerEvent::Closed(why.to_owned()));
    }
}

/// Queues what the peer has to send for the end of the worker's turn. Once connected, to the
/// address of its last valid binding: ICE-lite keeps the pair the client nominated, and a client
/// whose address changed sends bindings from the new one without nominating again.
/// What goes over the peer's ICE-TCP pair goes to its connection's queue (full: dropped).
fn queue_writes(outbox: &mut Outbox, peer: &mut Peer) {
    let moved_to = peer.remote.filter(|_| peer.connected);
    let Some(connection) = peer.connection.as_mut() else { return };
    while let Some(out) = connection.poll_write() {
        let tcp = out.transport.transport_protocol == TransportProtocol::TCP;
        // STUN answers go where bindings came from; DTLS and RTCP show the selected pair.
        let class = classify(&out.message);
        if class != Datagram::Stun {
            peer.media_over_tcp = tcp;
        }
        if class == Datagram::Dtls {
            count_flight(&mut peer.flights_out, &peer.stats, &out.message, false);
        }
        if tcp {
            if let Some(link) = &peer.tcp {
                let _ = link.sender.try_send(out.message);
            }
            continue;
        }
        outbox.push(out.message, moved_to.unwrap_or(out.transport.peer_addr));
    }
}

/// Counts a DTLS datagram of the peer (`inbound`) or ours in its flight log and counters.
fn count_flight(log: &mut FlightLog, stats: &RtcPeerStats, datagram: &[u8], inbound: bool) {
    let counter = match (log.observe(datagram), inbound) {
        (None, _) => return,
        (Some(FlightEvent::New), true) => &stats.dtls_flights_in,
        (Some(FlightEvent::Repeat), true) => &stats.dtls_repeats_in,
        (Some(FlightEvent::New), false) => &stats.dtls_flights_out,
        (Some(FlightEvent::Repeat), false) => &stats.dtls_repeats_out,
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Microseconds since `at`, at least 1 (0 means "not yet" in the counters).
fn micros_since(at: Instant) -> u64 {
    (at.elapsed().as_micros() as u64).max(1)
}

/// Hands one packet with the player's header fields to the peer connection (SRTP is added
/// inside). Straight into its pipeline (interceptors, SRTP): `RTCRtpSender::write_rtp` would
/// check the SSRC and payload type, which we set from the negotiation ourselves, against the
/// sender's parameters rebuilt for every packet (codec lists cloned), and allocate the track id.
fn write_packet(
    connection: &mut RTCPeerConnection,
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
    // The track id is not read on the way out.
    let message = RTCMessage::RtpPacket(String::new(), rtp);
    match connection.handle_write(TaggedRTCMessage { now, message }) {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!("rtc send refused: {e}");
            false
        }
    }
}

/// Where a player's packets go when the worker protects them itself.
#[derive(Clone, Copy)]
enum Way<'a> {
    Udp(SocketAddr),
    Tcp(&'a TcpLink),
}

/// How one player's packets are written: protected by the worker into its outbox (or the
/// player's TCP queue) when it has the key, through the peer connection otherwise.
struct Path<'a> {
    connection: Option<&'a mut Box<RTCPeerConnection>>,
    /// A slim player's SRTCP for our sender reports.
    slim: Option<&'a mut Slim>,
    own: Option<(&'a mut SrtpSender, Way<'a>)>,
    outbox: &'a mut Outbox,
    stats: &'a RtcPeerStats,
    /// The connection was given something to write: it must be driven.
    used_connection: bool,
}

impl Path<'_> {
    /// Writes `packet` as the player's `sequence`; `fresh` when it is sent for the first time
    /// (not again for a NACK).
    fn write(
        &mut self,
        sending: &mut Sending,
        sequence: u16,
        packet: &OutPacket,
        fresh: bool,
        now: Instant,
    ) -> bool {
        let written = match &mut self.own {
            Some((srtp, way)) => {
                let written = write_protected(srtp, *way, self.outbox, &sending.track, sequence, packet);
                if written {
                    self.stats.srtp_packets.fetch_add(1, Ordering::Relaxed);
                }
                written
            }
            None => match self.connection.as_deref_mut() {
                Some(connection) => {
                    self.used_connection = true;
                    write_packet(connection, &sending.track, sequence, packet, now)
                }
                None => false,
            },
        };
        if written {
            sending.report.sent(packet, fresh, now);
        }
        written
    }

    /// Sends the track's sender report through the connection (its SRTCP) when one is due; the
    /// crate's own reporter sees only what goes through it.
    fn report(&mut self, sending: &mut Sending, now: Instant) {
        if self.own.is_none() {
            return;
        }
        let media_clock = sending.ring.as_ref().and_then(|ring| ring.media_clock());
        let Some(report) = sending.report.due(sending.track.ssrc, now, media_clock) else { return };
        let packets: Vec<Box<dyn rtc::rtcp::Packet>> = vec![Box::new(report)];
        if let Some(slim) = self.slim.as_deref_mut() {
            match (slim.protect(&packets), &self.own) {
                (Ok(datagram), Some((_, Way::Udp(to)))) => {
                    self.outbox.push(BytesMut::from(&datagram[..]), *to)
                }
                (Ok(datagram), Some((_, Way::Tcp(link)))) => {
                    let _ = link.sender.try_send(BytesMut::from(&datagram[..]));
                }
                (Ok(_), None) => {}
                (Err(e), _) => tracing::debug!("rtc sender report not protected: {e}"),
            }
            return;
        }
        let Some(connection) = self.connection.as_deref_mut() else { return };
        let message = RTCMessage::RtcpPacket(String::new(), packets);
        match connection.handle_write(TaggedRTCMessage { now, message }) {
            Ok(()) => self.used_connection = true,
            Err(e) => tracing::debug!("rtc sender report refused: {e}"),
        }
    }
}

/// Builds the player's RTP packet in place (its header, the stream's payload), protects it and
/// queues it. The one copy of the payload per player is the one SRTP needs.
fn write_protected(
    srtp: &mut SrtpSender,
    way: Way<'_>,
    outbox: &mut Outbox,
    track: &OutTrack,
    sequence: u16,
    packet: &OutPacket,
) -> bool {
    let tag_len = srtp.profile().tag_len();
    let mut write = |buffer: &mut Vec<u8>, start: usize| {
        buffer.push(0x80);
        buffer.push(u8::from(packet.marker) << 7 | (track.payload_type & 0x7f));
        buffer.extend_from_slice(&sequence.to_be_bytes());
        buffer.extend_from_slice(&packet.timestamp.to_be_bytes());
        buffer.extend_from_slice(&track.ssrc.to_be_bytes());
        buffer.extend_from_slice(&packet.payload);
        match srtp.protect(buffer, start) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!("rtc srtp protect failed: {e}");
                false
            }
        }
    };
    match way {
        Way::Udp(to) => outbox.push_with(to, write),
        Way::Tcp(link) => {
            let mut buffer = Vec::with_capacity(12 + packet.payload.len() + tag_len);
            if !write(&mut buffer, 0) {
                return false;
            }
            // A full connection queue loses the packet, as a full socket buffer would.
            let _ = link.sender.try_send(BytesMut::from(&buffer[..]));
            true
        }
    }
}

/// Writes up to `budget` packets of the track's backlog; a write that fails drops the rest.
fn drain(path: &mut Path<'_>, sending: &mut Sending, budget: usize, now: Instant) {
    for _ in 0..budget {
        let Some(packet) = sending.backlog.pop_front() else { break };
        sending.last = packet.sequence.wrapping_add(sending.offset);
        if !path.write(sending, sending.last, &packet, true, now) {
            sending.backlog.clear();
            break;
        }
    }
    if sending.backlog.is_empty() && sending.backlog.capacity() > 0 {
        // The burst is over: its few KB go back.
        sending.backlog = VecDeque::new();
    }
}

impl Peer {
    /// The way a player's packets are written this turn.
    fn path<'a>(&'a mut self, outbox: &'a mut Outbox) -> (Path<'a>, [Option<&'a mut Sending>; 2]) {
        let Peer { connection, slim, srtp, video, audio, remote, tcp, media_over_tcp, stats, .. } = self;
        let way = if *media_over_tcp { tcp.as_ref().map(Way::Tcp) } else { remote.map(Way::Udp) };
        let own = srtp.as_mut().zip(way);
        let (connection, slim) = (connection.as_mut(), slim.as_deref_mut());
        (
            Path { connection, slim, own, outbox, stats, used_connection: false },
            [video.as_mut(), audio.as_mut()],
        )
    }

    /// Bytes the peer sent from `from` over `protocol`: it was heard now, and this is the
    /// message its connection reads.
    fn heard(&mut self, data: &[u8], from: SocketAddr, protocol: TransportProtocol) -> TaggedBytesMut {
        let now = Instant::now();
        self.last_heard = now;
        TaggedBytesMut {
            now,
            transport: TransportContext {
                local_addr: self.candidate,
                peer_addr: from,
                ecn: None,
                transport_protocol: protocol,
            },
            message: BytesMut::from(data),
        }
    }

    /// Sends `packets` of the `kind` track; `true` when the connection has something to write.
    fn send(
        &mut self,
        kind: MediaKind,
        ring: &Arc<SentRing>,
        packets: &[OutPacket],
        now: Instant,
        outbox: &mut Outbox,
    ) -> bool {
        if !self.connected {
            return false;
        }
        let (mut path, [video, audio]) = self.path(outbox);
        let sending = match kind {
            MediaKind::Video => video,
            MediaKind::Audio => audio,
        };
        let Some(sending) = sending else { return false };
        let Some(first) = packets.first() else { return false };
        let mut replay = Vec::new();
        if !sending.ring.as_ref().is_some_and(|r| Arc::ptr_eq(r, ring)) {
            // A republish: what the old stream still held back goes first, under its numbering.
            drain(&mut path, sending, usize::MAX, now);
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
        if replay.is_empty() && sending.backlog.is_empty() {
            for packet in packets {
                sending.last = packet.sequence.wrapping_add(sending.offset);
                if !path.write(sending, sending.last, packet, true, now) {
                    break;
                }
            }
        } else {
            // A join burst, or packets behind one: in order, paced.
            sending.backlog.extend(replay);
            sending.backlog.extend(packets.iter().cloned());
            let budget = if sending.backlog.len() > MAX_BACKLOG { usize::MAX } else { PACE_PACKETS };
            drain(&mut path, sending, budget, now);
        }
        path.report(sending, now);
        path.used_connection
    }

    fn has_backlog(&self) -> bool {
        [&self.video, &self.audio].into_iter().flatten().any(|s| !s.backlog.is_empty())
    }

    /// A pacing tick's packets of each track; `true` when the connection has something to write.
    fn pace(&mut self, now: Instant, outbox: &mut Outbox) -> bool {
        let (mut path, tracks) = self.path(outbox);
        for sending in tracks.into_iter().flatten() {
            drain(&mut path, sending, PACE_PACKETS, now);
        }
        path.used_connection
    }

    /// Sends again, from the stream's ring, the packets a NACK names.
    fn resend(&mut self, nack: &TransportLayerNack, stats: &RtcUdpStats, outbox: &mut Outbox) {
        let peer_stats = Arc::clone(&self.stats);
        let (mut path, tracks) = self.path(outbox);
        let sending = tracks.into_iter().flatten().find(|s| s.track.ssrc == nack.media_ssrc);
        let Some(sending) = sending else {
            tracing::debug!(ssrc = nack.media_ssrc, "nack for a track we do not send");
            return;
        };
        let Some(ring) = sending.ring.clone() else { return };
        let now = Instant::now();
        for sequence in nack.nacks.iter().flat_map(|pair| pair.packet_list()) {
            stats.nack_requested.fetch_add(1, Ordering::Relaxed);
            peer_stats.nacks.fetch_add(1, Ordering::Relaxed);
            // Only what this player was sent: not before its first packet, not past its last.
            let behind = sending.last.wrapping_sub(sequence);
            let kept = ring.get(sequence.wrapping_sub(sending.offset)).filter(|_| behind < 0x8000);
            match kept {
                Some(packet) if path.write(sending, sequence, &packet, false, now) => {
                    stats.nack_resent.fetch_add(1, Ordering::Relaxed);
                    peer_stats.retransmits.fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    tracing::debug!(sequence, behind, last = sending.last, "nacked packet not resent");
                    stats.nack_missing.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Moves a connected player off the crate (`rtc_slim`) once both SRTP keys are known; a
    /// publisher, or a player whose keys were not seen, stays.
    fn leave_crate(&mut self) {
        let Some(keys) = self.keys.as_ref() else { return };
        let (Some(local), Some(remote)) = (keys.local_key(), keys.remote_key()) else { return };
        if self.srtp.is_none() {
            return;
        }
        self.slim = Some(Box::new(Slim::new(std::mem::take(&mut self.password), &local, &remote)));
        // Dropped without closing: a close would send the player a DTLS alert.
        self.connection = None;
        self.keys = None;
        self.timeout = None;
        self.track_kinds = HashMap::new();
        self.flights_in = FlightLog::default();
        self.flights_out = FlightLog::default();
        self.stats.slim.store(true, Ordering::Relaxed);
    }

    fn request_keyframe(&mut self) {
        let Some((receiver, ssrc)) = self.video_receiver else { return };
        let Some(connection) = self.connection.as_mut() else { return };
        if let Some(mut rtp_receiver) = connection.rtp_receiver(receiver) {
            let pli = PictureLossIndication { sender_ssrc: 0, media_ssrc: ssrc };
            if rtp_receiver.write_rtcp(Instant::now(), vec![Box::new(pli)]).is_ok() {
                self.stats.plis.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(timestamp: u32, len: usize) -> OutPacket {
        OutPacket { sequence: 0, marker: false, timestamp, payload: Bytes::from(vec![0; len]) }
    }

    /// The sender reports of packets the worker protects itself: counts of everything sent
    /// (resends too), the RTP time of the newest packet carried on to the report's moment, one
    /// report a second.
    #[test]
    fn sender_reports_count_what_was_sent_and_carry_the_clock_on() {
        let mut report = Report { clock_rate: 90_000, ..Report::default() };
        let start = Instant::now();
        assert!(report.due(7, start, None).is_none(), "nothing sent, nothing to report");
        report.sent(&packet(1000, 1200), true, start);
        report.sent(&packet(1000, 300), true, start);
        report.sent(&packet(500, 1200), false, start + Duration::from_millis(50));
        let first = report.due(7, start + Duration::from_millis(100), None).expect("a report");
        assert_eq!((first.ssrc, first.packet_count, first.octet_count), (7, 3, 2700));
        // 100 ms after the newest fresh packet: 9000 ticks of 90 kHz later.
        assert_eq!(first.rtp_time, 1000 + 9000);
        assert!(first.ntp_time >> 32 > 3_900_000_000, "NTP seconds since 1900");
        assert!(report.due(7, start + Duration::from_millis(600), None).is_none(), "one a second");
        assert!(report.due(7, start + Duration::from_millis(1100), None).is_some());
    }

    /// With the stream's media clock, a report maps RTP time to wall time by when the newest
    /// frame's media time is due, not by when it was sent: ahead of it or behind.
    #[test]
    fn sender_reports_follow_the_media_clock() {
        let mut report = Report { clock_rate: 48_000, ..Report::default() };
        let start = Instant::now();
        assert!(report.due(7, start, Some((1000, start))).is_none(), "nothing sent to this player yet");
        report.sent(&packet(1000, 100), true, start + Duration::from_millis(20));
        let late = report.due(7, start + Duration::from_millis(100), Some((1000, start))).expect("a report");
        assert_eq!(late.rtp_time, 1000 + 4800, "100 ms after the frame was due");
        let mut report = Report { clock_rate: 48_000, ..Report::default() };
        report.sent(&packet(1000, 100), true, start);
        let due_later = Some((1000, start + Duration::from_millis(50)));
        let early = report.due(7, start, due_later).expect("a report");
        assert_eq!(early.rtp_time, 1000u32.wrapping_sub(2400), "50 ms before the frame is due");
    }
}
