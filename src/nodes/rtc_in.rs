//! `RtcIn`: browsers publish over WebRTC (WHIP, or SRS's `/rtc/v1/publish/`); their H.264 (or
//! H.265) and Opus become the stream's frames.
//!
//! Signalling is a route on the `api` HTTP address (usually the `HttpApi`'s); media arrives on the
//! `listen` UDP socket, shared with every other WebRTC peer of the address. A publisher is
//! admitted like any other (security, refer, `on_publish`) and registered as an `rtc-publish`
//! client; a busy stream is refused (409). The answer takes H.264 when offered, H.265 when the
//! publisher asks for it (SRS's `codec=hevc` query) or offers nothing else (`codec::rtp::sdp`).
//! Received RTP is put back into access units (`codec::rtp::h264` / `h265`): after a loss, pictures wait for the next keyframe, which is asked for
//! at once (PLI), as it is when the peer connects and when a WebRTC player asks. Both tracks
//! start at the time their first packet arrived, on one clock, until the publisher's RTCP sender
//! reports tell how far apart they really started (`codec::rtp::sync`); then one track is moved
//! later to match. Produces video {H264, H265}, audio {Opus}.
//!
//! ```dhall
//! srs.node "rtc_publish" (srs.Node.RtcIn srs.RtcIn::{ listen = "8000", api = "1985" })
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::StatusCode;
use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::{mpsc, Notify};

use super::rtc_shared::{candidate, RtcSessions, RtcSockets, RtcStreams, SessionEntry};
use super::rtc_signal::{self, Answer, Offer, Refusal};
use super::vhost;
use crate::codec::avc::AvcConfig;
use crate::codec::describe;
use crate::codec::hevc::HevcConfig;
use crate::codec::opus::OpusHead;
use crate::codec::rtp::clock::{OPUS_CLOCK_HZ, VIDEO_CLOCK_HZ};
use crate::codec::rtp::h264::{H264Depacketizer, H264Event};
use crate::codec::rtp::h265::{H265Depacketizer, H265Event};
use crate::codec::rtp::sdp::{self, ice_ufrag, OfferedCodecs};
use crate::codec::rtp::sync::{self, AvSync};
use crate::codec::rtp::{opus, RtpClock};
use crate::control::admission;
use crate::control::hooks::HookEvent;
use crate::control::registry::{ClientGuard, ClientKind, Registry};
use crate::control::security::RuleMethod;
use crate::graph::engine::PublishError;
use crate::graph::{listens_on, Caps, Listen, Ports, Transport};
use crate::media::{
    AudioTrack, Codec, Frame, MediaEvent, MediaKind, MediaTime, StreamDescription, VideoTrack,
};
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::{Engine, NodeKind, Publication};
use crate::servers::rtc_peer::{self, Direction, Transports};
use crate::servers::rtc_udp::{NewSession, PeerEvent, PeerHandler, RtcUdp, SessionId};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// UDP address of the WebRTC socket (SRS's `rtc_server.listen`), shared with `RtcOut`.
    pub listen: String,
    /// HTTP address the signalling routes go on: the `HttpApi`'s, as SRS mounts them on its API.
    pub api: String,
    /// The IP in the answer's candidate (SRS's `rtc_server.candidate`): an IP, `*`, or `$VAR`.
    pub candidate: String,
    /// WebRTC sessions (publishers and players) beyond which offers get `503`.
    pub max_connections: u64,
    /// UDP workers, each with its own `SO_REUSEPORT` socket on `listen` (0: one per core).
    pub workers: u64,
    /// ICE over TCP on `listen`'s port number too (SRS's `rtc_server.tcp`).
    pub tcp: bool,
    /// The candidates answers carry (SRS's `rtc_server.protocol`): `udp`, `tcp` or `all`.
    pub protocol: String,
    /// Milliseconds between keyframe requests (PLI) to a publisher, so players that start at a
    /// keyframe (RTMP, HTTP-FLV, HLS) get one (SRS's vhost `rtc.pli_for_rtmp`); 0: only on loss
    /// and when asked.
    pub pli_interval: u64,
}

/// What WebRTC publishers produce and players take.
pub fn rtc_caps() -> Caps {
    Caps::new(&[Codec::H264, Codec::H265], &[Codec::Opus])
}

/// The UDP and HTTP listens of a WebRTC node.
pub fn rtc_listens(listen: &str, api: &str, role: &'static str) -> Result<Vec<Listen>, String> {
    let mut listens = listens_on(listen, Transport::Udp, "webrtc", Some(role), None)?;
    let api =
        listens_on(api, Transport::Tcp, "http", None, None).map_err(|e| e.replace("`listen`", "`api`"))?;
    listens.extend(api);
    Ok(listens)
}

/// The signalling URL of a WebRTC node (`whip` or `whep`) on each of its HTTP listens.
pub fn signalling_urls(listens: &[Listen], kind: &str, action: &'static str) -> Vec<super::urls::ServedUrl> {
    let api: Vec<Listen> = listens.iter().filter(|l| l.transport == Transport::Tcp).cloned().collect();
    let path =
        format!("/rtc/v1/{kind}/?app={}&stream={}", super::urls::EXAMPLE_APP, super::urls::EXAMPLE_STREAM);
    super::urls::on_listens(&api, action, "http", &path)
}

/// The candidates of answers, from `protocol` (SRS's `rtc_server.protocol`) and `tcp`.
pub fn transports(protocol: &str, tcp: bool) -> Result<Transports, String> {
    let transports = match protocol {
        "udp" => Transports::UDP,
        "tcp" => Transports { udp: false, tcp: true },
        "all" => Transports { udp: true, tcp: true },
        other => return Err(format!("`protocol` is `{other}`: it is `udp`, `tcp` or `all`")),
    };
    if transports.tcp && !tcp {
        return Err(format!("`protocol` `{protocol}` offers TCP candidates: it needs `tcp = True`"));
    }
    Ok(transports)
}

/// Plans the WebRTC sockets of a node: UDP workers, and with `tcp` the ICE-TCP listener.
pub fn plan_sockets(
    node: &ScopeNode<'_>,
    plan: &mut ScopePlan,
    udp_addr: SocketAddr,
    workers: u64,
    tcp: bool,
) {
    plan.rtc_socket(udp_addr, workers);
    if tcp {
        plan.tcp_listener(udp_addr, "webrtc-tcp", super::rtc_shared::tcp_handler(node.engine, udp_addr));
    }
}

/// What `srs graph dot` shows of a WebRTC node.
pub fn rtc_summary(listen: &str, api: &str, candidate: &str) -> Vec<(&'static str, String)> {
    vec![("listen", listen.to_owned()), ("api", api.to_owned()), ("candidate", candidate.to_owned())]
}

/// The settings the signalling of a WebRTC node needs.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub udp_addr: SocketAddr,
    /// The candidates answers carry.
    pub transports: Transports,
    pub candidate: String,
    pub max_connections: u64,
}

impl Endpoint {
    /// The first UDP listen and the HTTP listens of `listens`.
    pub fn of(
        listens: &[Listen],
        candidate: &str,
        max_connections: u64,
        transports: Transports,
    ) -> Option<(Endpoint, Vec<SocketAddr>)> {
        let udp = listens.iter().find(|l| l.transport == Transport::Udp)?.addr;
        let http = listens.iter().filter(|l| l.transport == Transport::Tcp).map(|l| l.addr).collect();
        Some((Endpoint { udp_addr: udp, transports, candidate: candidate.to_owned(), max_connections }, http))
    }

    /// Checks what every offer needs: a codec we take, room, the socket; gives the socket and candidate.
    pub fn prepare(&self, engine: &Engine, offer: &Offer) -> Result<(RtcUdp, SocketAddr), Refusal> {
        if let Some(why) = OfferedCodecs::of(&offer.sdp).refusal() {
            return Err(Refusal::new(StatusCode::BAD_REQUEST, why));
        }
        if engine.shared::<RtcSessions>().len() as u64 >= self.max_connections {
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{} webrtc sessions already (max_connections)", self.max_connections),
            ));
        }
        let udp = engine.shared::<RtcSockets>().get(self.udp_addr).ok_or_else(|| {
            Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "the webrtc socket is not running")
        })?;
        let address =
            candidate(&self.candidate, offer.eip.as_deref(), offer.host.as_deref(), udp.local_addr().port())
                .map_err(|why| Refusal::new(StatusCode::BAD_REQUEST, why))?;
        Ok((udp, address))
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Source { produces: rtc_caps() }
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        transports(&self.protocol, self.tcp)?;
        rtc_listens(&self.listen, &self.api, "webrtc publish")
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        signalling_urls(listens, "whip", "publish (WebRTC WHIP)")
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        rtc_summary(&self.listen, &self.api, &self.candidate)
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        let transports = transports(&self.protocol, self.tcp).map_err(anyhow::Error::msg)?;
        let Some((endpoint, http)) =
            Endpoint::of(node.listens, &self.candidate, self.max_connections, transports)
        else {
            return Ok(());
        };
        plan_sockets(node, plan, endpoint.udp_addr, self.workers, self.tcp);
        let (engine, index, pli_interval) = (node.engine.clone(), node.index, self.pli_interval);
        let negotiate = Arc::new(move |offer: Offer| {
            let (engine, endpoint) = (engine.current(), endpoint.clone());
            Box::pin(async move { negotiate(engine, index, endpoint, pli_interval, offer).await })
                as futures::future::BoxFuture<'static, _>
        });
        for addr in http {
            let route = rtc_signal::Route::new(
                node.engine.clone(),
                node.index,
                Direction::Publish,
                negotiate.clone(),
            );
            plan.http_route(addr, Arc::new(route));
        }
        Ok(())
    }
}

/// Registers the peer of `offer` as a client of `kind` for its stream and admits it (security,
/// refer, blocking hooks, as for any protocol), with its vhost's settings; a refusal is the
/// signalling's 403.
pub async fn admit_offer(
    engine: &Engine,
    offer: &Offer,
    id: u64,
    kind: ClientKind,
    method: RuleMethod,
) -> Result<(ClientGuard, vhost::Config), Refusal> {
    let key = &offer.key;
    let registry = engine.shared::<Registry>();
    let guard = registry.register(id, offer.peer.ip());
    guard.client().update(|info| {
        info.kind = kind;
        info.stream = Some(key.clone());
        info.param = offer.param.clone();
        info.tc_url = format!("webrtc://{}/{}", offer.host.as_deref().unwrap_or(&key.vhost), key.app);
    });
    let settings = vhost::config_named(engine, &key.vhost).unwrap_or_default();
    let verb = if kind.is_publish() { "publish" } else { "play" };
    admission::admit(&registry, guard.client(), &settings.rules(), method, key)
        .await
        .map_err(|why| Refusal::new(StatusCode::FORBIDDEN, format!("{verb} denied: {why}")))?;
    Ok((guard, settings))
}

/// Admits a publisher, answers its offer and starts its session.
async fn negotiate(
    engine: Engine,
    node: NodeIndex,
    endpoint: Endpoint,
    pli_interval: u64,
    offer: Offer,
) -> Result<Answer, Refusal> {
    let (udp, address) = endpoint.prepare(&engine, &offer)?;
    let key = offer.key.clone();
    let id = engine.next_id();
    let (guard, settings) =
        admit_offer(&engine, &offer, id, ClientKind::RtcPublish, RuleMethod::Publish).await?;
    let publication = match engine.publish(node, key.clone()) {
        Ok(publication) => publication,
        Err(e @ PublishError::Busy(_)) => {
            return Err(Refusal::new(StatusCode::CONFLICT, format!("stream busy: {e}")))
        }
        Err(e) => return Err(Refusal::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
    };
    let video = OfferedCodecs::of(&offer.sdp).publish_video(sdp::preferred_video(&offer.param));
    let peer = rtc_peer::answer(
        &offer.sdp,
        Direction::Publish,
        address,
        endpoint.transports,
        video.unwrap_or(Codec::H264),
    )
    .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("cannot answer the offer: {e}")))?;
    let answer = peer.answer.clone();
    let session_name = format!("{}:{}", peer.local_ufrag, ice_ufrag(&offer.sdp).unwrap_or_default());
    let token = rtc_signal::token();
    let (events, inbox) = mpsc::channel(EVENT_QUEUE);
    let closed = Arc::new(Notify::new());
    let handler = Arc::new(Publisher { events, closed: Arc::clone(&closed), lost: Mutex::new(0) });
    let stats = Arc::clone(&guard.client().rtc);
    let session = NewSession { id, peer, candidate: address, handler, stats };
    if !udp.add(session).await {
        return Err(Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "the webrtc socket stopped"));
    }
    engine.shared::<RtcSessions>().insert(id, SessionEntry { token: token.clone(), udp: udp.clone() });
    engine.shared::<RtcStreams>().set_publisher(&key, Some((udp.clone(), id)));
    tracing::info!(conn = id, peer = %offer.peer, stream = %key, candidate = %address, "webrtc publisher answered");
    let pli_period = (pli_interval > 0).then(|| Duration::from_millis(pli_interval));
    let video = video.unwrap_or(Codec::H264);
    let run =
        Publishing { engine: engine.clone(), udp, id, guard, settings, inbox, closed, pli_period, video };
    engine.spawn(run.run(publication));
    Ok(Answer { sdp: answer, session: id, token, session_name })
}

/// Events queued from the UDP worker to a publisher's task; a full queue drops media, which the
/// depacketizer sees as loss.
const EVENT_QUEUE: usize = 4096;
/// Least time between two keyframe requests to one publisher.
const PLI_INTERVAL: Duration = Duration::from_millis(500);

/// The worker's side of a publisher: hands events to its task without blocking.
struct Publisher {
    events: mpsc::Sender<PeerEvent>,
    closed: Arc<Notify>,
    lost: Mutex<u64>,
}

impl PeerHandler for Publisher {
    fn on_event(&self, session: SessionId, event: PeerEvent) {
        if matches!(event, PeerEvent::Closed(_)) {
            self.closed.notify_one();
        }
        if self.events.try_send(event).is_err() {
            let mut lost = self.lost.lock().unwrap_or_else(|p| p.into_inner());
            *lost += 1;
            if lost.is_power_of_two() {
                tracing::warn!(
                    conn = session,
                    "webrtc publisher events dropped: {lost} (its task is behind)"
                );
            }
        }
    }
}

/// One publisher's task: depacketizes media into the stream until the session ends.
struct Publishing {
    engine: Engine,
    udp: RtcUdp,
    id: SessionId,
    guard: ClientGuard,
    settings: vhost::Config,
    inbox: mpsc::Receiver<PeerEvent>,
    closed: Arc<Notify>,
    /// Periodic keyframe requests.
    pli_period: Option<Duration>,
    /// The video codec the answer took.
    video: Codec,
}

impl Publishing {
    async fn run(mut self, mut publication: Publication) {
        let key = publication.key().clone();
        let mut media = MediaState::new(self.id, self.video);
        tracing::info!(conn = self.id, stream = %key, video = %self.video.name(), "webrtc publish video codec");
        let shutdown = self.engine.shutdown_signal();
        tokio::pin!(shutdown);
        let kicked = self.guard.client().kicked();
        tokio::pin!(kicked);
        let mut last_pli: Option<Instant> = None;
        let mut why = String::from("ended");
        let mut closing = false;
        let mut periodic = tokio::time::interval(self.pli_period.unwrap_or(Duration::from_secs(3600)));
        periodic.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Once the worker said the session closed, what is queued is taken, then the loop ends
            // (the `Closed` event itself may have been dropped by a full queue).
            let event = if closing {
                self.inbox.try_recv().ok()
            } else {
                tokio::select! {
                    _ = periodic.tick(), if self.pli_period.is_some() => {
                        self.udp.request_keyframe(self.id);
                        continue;
                    }
                    event = self.inbox.recv() => event,
                    _ = self.closed.notified() => {
                        closing = true;
                        continue;
                    }
                    _ = &mut shutdown => { why = "server stopped".into(); None }
                    _ = &mut kicked => { why = "kicked".into(); None }
                }
            };
            let Some(event) = event else { break };
            let mut wants_keyframe = false;
            match event {
                PeerEvent::Connected => {
                    tracing::info!(conn = self.id, stream = %key, "webrtc publisher connected");
                    wants_keyframe = true;
                }
                PeerEvent::Media { kind, sequence, timestamp, marker, payload } => {
                    self.guard.client().add_received(payload.len() + 12);
                    for event in media.push(kind, sequence, timestamp, marker, payload, &mut wants_keyframe) {
                        publication.send(event).await;
                    }
                }
                PeerEvent::SenderReport { kind, ntp, rtp } => media.report(self.id, kind, ntp, rtp),
                PeerEvent::KeyframeRequest => {}
                PeerEvent::Closed(reason) => {
                    why = reason;
                    break;
                }
            }
            if wants_keyframe && last_pli.is_none_or(|t| t.elapsed() >= PLI_INTERVAL) {
                last_pli = Some(Instant::now());
                self.udp.request_keyframe(self.id);
            }
        }
        tracing::info!(conn = self.id, stream = %key, "webrtc publish ended: {why}");
        self.udp.remove(self.id);
        self.engine.shared::<RtcSessions>().remove(self.id);
        self.engine.shared::<RtcStreams>().set_publisher(&key, None);
        publication.end().await;
        let registry = Arc::clone(self.guard.registry());
        admission::notify(
            &registry,
            self.guard.client(),
            &self.settings.rules(),
            HookEvent::Unpublish,
            Some(&key),
        );
    }
}

/// A publisher's video depacketizer: the codec its answer took.
enum VideoDepacketizer {
    H264(H264Depacketizer, Vec<H264Event>),
    H265(H265Depacketizer, Vec<H265Event>),
}

/// What either depacketizer gives, as the stream needs it.
enum VideoEvent {
    /// The decoder configuration changed: the new track.
    Track(Option<VideoTrack>),
    AccessUnit {
        timestamp: u32,
        keyframe: bool,
        data: Bytes,
    },
    NeedKeyframe,
    /// A packet was lost or damaged (its picture is dropped): why.
    Damaged(String),
}

impl VideoDepacketizer {
    fn new(codec: Codec) -> VideoDepacketizer {
        match codec {
            Codec::H265 => VideoDepacketizer::H265(H265Depacketizer::new(), Vec::new()),
            _ => VideoDepacketizer::H264(H264Depacketizer::new(), Vec::new()),
        }
    }

    fn codec(&self) -> Codec {
        match self {
            VideoDepacketizer::H264(..) => Codec::H264,
            VideoDepacketizer::H265(..) => Codec::H265,
        }
    }

    fn push(
        &mut self,
        sequence: u16,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
        out: &mut Vec<VideoEvent>,
    ) {
        match self {
            VideoDepacketizer::H264(depacketizer, events) => {
                depacketizer.push(sequence, timestamp, marker, payload, events);
                out.extend(events.drain(..).map(|event| match event {
                    H264Event::ParameterSets { sps, pps } => VideoEvent::Track(avc_track(sps, pps)),
                    H264Event::AccessUnit { timestamp, keyframe, data } => {
                        VideoEvent::AccessUnit { timestamp, keyframe, data }
                    }
                    H264Event::NeedKeyframe => VideoEvent::NeedKeyframe,
                    H264Event::Damaged(e) => VideoEvent::Damaged(e.to_string()),
                }));
            }
            VideoDepacketizer::H265(depacketizer, events) => {
                depacketizer.push(sequence, timestamp, marker, payload, events);
                out.extend(events.drain(..).map(|event| match event {
                    H265Event::ParameterSets { vps, sps, pps } => {
                        VideoEvent::Track(hevc_track(vps, sps, pps))
                    }
                    H265Event::AccessUnit { timestamp, keyframe, data } => {
                        VideoEvent::AccessUnit { timestamp, keyframe, data }
                    }
                    H265Event::NeedKeyframe => VideoEvent::NeedKeyframe,
                    H265Event::Damaged(e) => VideoEvent::Damaged(e.to_string()),
                }));
            }
        }
    }
}

/// Received RTP turned into the stream's events.
struct MediaState {
    video: VideoDepacketizer,
    video_clock: RtpClock,
    audio_clock: RtpClock,
    /// Each track's start on the common clock (the arrival of its first packet).
    started: Instant,
    video_offset: Option<MediaTime>,
    audio_offset: Option<MediaTime>,
    description: StreamDescription,
    described: bool,
    scratch: Vec<VideoEvent>,
    /// The tracks' real start offset, from sender reports.
    sync: AvSync,
    conn: SessionId,
    /// Video packets lost or damaged so far (logged at each power of two).
    damaged: u64,
}

impl MediaState {
    fn new(conn: SessionId, video: Codec) -> MediaState {
        MediaState {
            conn,
            damaged: 0,
            video: VideoDepacketizer::new(video),
            video_clock: RtpClock::new(VIDEO_CLOCK_HZ),
            audio_clock: RtpClock::new(OPUS_CLOCK_HZ),
            started: Instant::now(),
            video_offset: None,
            audio_offset: None,
            description: StreamDescription::default(),
            described: false,
            scratch: Vec::new(),
            sync: AvSync::new(VIDEO_CLOCK_HZ, OPUS_CLOCK_HZ),
        }
    }

    /// Takes a sender report; once both tracks are placed and reported, moves one track later
    /// so they start as far apart as they did at the sender.
    fn report(&mut self, conn: SessionId, kind: MediaKind, ntp: u64, rtp: u32) {
        let Some(sender_skew) = self.sync.report(kind, ntp, rtp) else { return };
        let (Some(video), Some(audio)) = (self.video_offset.as_mut(), self.audio_offset.as_mut()) else {
            return;
        };
        let placed_skew = (*audio - *video).as_millis();
        let shifts = sync::shifts(placed_skew, sender_skew);
        *video = *video + MediaTime::from_millis(shifts.video_ms);
        *audio = *audio + MediaTime::from_millis(shifts.audio_ms);
        tracing::info!(
            conn,
            sender_skew,
            placed_skew,
            video_later_ms = shifts.video_ms,
            audio_later_ms = shifts.audio_ms,
            "webrtc publisher's tracks aligned by its sender reports (audio start after video, ms)"
        );
    }

    fn arrival(&self) -> MediaTime {
        MediaTime::from_millis(self.started.elapsed().as_millis() as i64)
    }

    fn push(
        &mut self,
        kind: MediaKind,
        sequence: u16,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
        wants_keyframe: &mut bool,
    ) -> Vec<MediaEvent> {
        let mut out = Vec::new();
        match kind {
            MediaKind::Audio => {
                let Some(frame) = opus::depacketize(payload) else { return out };
                if self.description.audio.is_none() {
                    self.description.audio = Some(opus_track());
                    self.described = false;
                }
                self.describe(&mut out);
                if self.audio_offset.is_none() {
                    self.audio_offset = Some(self.arrival());
                    self.sync.started(MediaKind::Audio, timestamp);
                }
                let offset = self.audio_offset.unwrap_or(MediaTime::ZERO);
                let time = self.audio_clock.unwrap(timestamp) + offset;
                out.push(MediaEvent::Frame(Frame {
                    codec: Codec::Opus,
                    dts: time,
                    pts: time,
                    keyframe: true,
                    data: frame,
                }));
            }
            MediaKind::Video => {
                let mut events = std::mem::take(&mut self.scratch);
                self.video.push(sequence, timestamp, marker, payload, &mut events);
                let codec = self.video.codec();
                for event in events.drain(..) {
                    match event {
                        VideoEvent::Track(track) => {
                            if let Some(track) = track {
                                self.description.video = Some(track);
                                self.described = false;
                            }
                        }
                        VideoEvent::AccessUnit { timestamp, keyframe, data } => {
                            if self.description.video.is_none() {
                                continue;
                            }
                            self.describe(&mut out);
                            if self.video_offset.is_none() {
                                self.video_offset = Some(self.arrival());
                                self.sync.started(MediaKind::Video, timestamp);
                            }
                            let offset = self.video_offset.unwrap_or(MediaTime::ZERO);
                            let time = self.video_clock.unwrap(timestamp) + offset;
                            out.push(MediaEvent::Frame(Frame {
                                codec,
                                dts: time,
                                pts: time,
                                keyframe,
                                data,
                            }));
                        }
                        VideoEvent::NeedKeyframe => *wants_keyframe = true,
                        VideoEvent::Damaged(why) => {
                            self.damaged += 1;
                            if self.damaged.is_power_of_two() {
                                tracing::warn!(
                                    conn = self.conn,
                                    damaged = self.damaged,
                                    "webrtc publisher's video lost or damaged (picture dropped): {why}"
                                );
                            }
                        }
                    }
                }
                self.scratch = events;
            }
        }
        out
    }

    fn describe(&mut self, out: &mut Vec<MediaEvent>) {
        if !self.described {
            self.described = true;
            out.push(MediaEvent::Description(Arc::new(self.description.clone())));
        }
    }
}

fn avc_track(sps: Bytes, pps: Bytes) -> Option<VideoTrack> {
    let config = AvcConfig::from_parameter_sets(vec![sps], vec![pps]).ok()?;
    describe::video_track(Codec::H264, config.encode()).ok()
}

fn hevc_track(vps: Bytes, sps: Bytes, pps: Bytes) -> Option<VideoTrack> {
    let config = HevcConfig::from_parameter_sets(vec![vps], vec![sps], vec![pps]).ok()?;
    describe::video_track(Codec::H265, config.encode()).ok()
}

fn opus_track() -> AudioTrack {
    let head =
        OpusHead { channels: 2, pre_skip: 312, input_sample_rate: 48_000, output_gain: 0, mapping_family: 0 };
    AudioTrack {
        codec: Codec::Opus,
        config: head.encode(),
        sample_rate: 48_000,
        channels: 2,
        profile: String::new(),
    }
}
