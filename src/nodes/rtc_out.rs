//! `RtcOut`: browsers play over WebRTC (WHEP, or SRS's `/rtc/v1/play/`).
//!
//! Each frame is packetized once per stream (`codec::rtp`); the packet list goes to the UDP
//! worker in one command naming every player, and per player only the sequence number, SSRC,
//! payload type and SRTP differ. A new player's video starts at the stream's last keyframe (the
//! picture group so far, replayed from the stream's ring by the worker; while no player takes
//! video the frames since the last keyframe are held, unpacketized, for the first one to come),
//! audio at once; the stream's WebRTC publisher, if any, is asked for a keyframe. Players may come
//! before the publisher; a republish continues their sessions. Admission as any player
//! (security, refer, `on_play`), registered as `rtc-play` clients; `on_stop` when they leave.
//! The answer's video codec is the played stream's (H.264 or H.265); a player that does not offer
//! it gets 400 with the reason, as in SRS (`codec::rtp::sdp::OfferedCodecs::play_video`).
//! Accepts video {H264, H265} and audio {Opus}: an `AacToOpus` before it turns an RTMP stream's AAC into Opus.
//!
//! ```dhall
//! srs.node "rtc_play" (srs.Node.RtcOut srs.RtcOut::{ listen = "8000", api = "1985" })
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use hyper::StatusCode;
use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::rtc_in::{rtc_listens, Endpoint};
use super::rtc_shared::{RtcKicks, RtcSessions, RtcSockets, RtcStreams, SessionEntry};
use super::rtc_signal::{self, Answer, Offer, Refusal};
use super::vhost;
use crate::codec::avc::AvcConfig;
use crate::codec::hevc::HevcConfig;
use crate::codec::rtp::clock::{OPUS_CLOCK_HZ, VIDEO_CLOCK_HZ};
use crate::codec::rtp::h264::H264Packetizer;
use crate::codec::rtp::h265::H265Packetizer;
use crate::codec::rtp::sdp::{ice_ufrag, OfferedCodecs};
use crate::codec::rtp::{opus, RtpClock, RtpPayload};
use crate::control::admission;
use crate::control::hooks::HookEvent;
use crate::control::registry::{ClientGuard, ClientKind};
use crate::control::security::RuleMethod;
use crate::graph::engine::Outputs;
use crate::graph::{Listen, Ports, StreamKey, Transport};
use crate::media::{Codec, Frame, MediaEvent, MediaKind, MediaTime};
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::{Engine, NodeKind, StreamCtx};
use crate::servers::rtc_peer::{self, Direction};
use crate::servers::rtc_udp::{NewSession, PeerEvent, PeerHandler, SentRing, SessionId};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// UDP address of the WebRTC socket (SRS's `rtc_server.listen`), shared with `RtcIn`.
    pub listen: String,
    /// HTTP address the signalling routes go on: the `HttpApi`'s.
    pub api: String,
    /// The IP in the answer's candidate: an IP, `*`, or `$VAR`.
    pub candidate: String,
    /// WebRTC sessions (publishers and players) beyond which offers get `503`.
    pub max_connections: u64,
    /// UDP workers, each with its own `SO_REUSEPORT` socket on `listen` (0: one per core).
    pub workers: u64,
    /// ICE over TCP on `listen`'s port number too (SRS's `rtc_server.tcp`).
    pub tcp: bool,
    /// The candidates answers carry (SRS's `rtc_server.protocol`): `udp`, `tcp` or `all`.
    pub protocol: String,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Sink { accepts: super::rtc_in::rtc_caps() }
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        super::rtc_in::transports(&self.protocol, self.tcp)?;
        rtc_listens(&self.listen, &self.api, "webrtc play")
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        super::rtc_in::signalling_urls(listens, "whep", "play (WebRTC WHEP)")
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        super::rtc_in::rtc_summary(&self.listen, &self.api, &self.candidate)
    }

    /// Players take media live from their join (at the next keyframe): nothing is kept for them.
    fn takes_media_now(&self, engine: &Engine, key: &StreamKey) -> bool {
        engine.shared::<RtcStreams>().has_players(key)
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        let transports = super::rtc_in::transports(&self.protocol, self.tcp).map_err(anyhow::Error::msg)?;
        let Some((endpoint, http)) =
            Endpoint::of(node.listens, &self.candidate, self.max_connections, transports)
        else {
            return Ok(());
        };
        super::rtc_in::plan_sockets(node, plan, endpoint.udp_addr, self.workers, self.tcp);
        let (engine, index) = (node.engine.clone(), node.index);
        let negotiate = Arc::new(move |offer: Offer| {
            let (engine, endpoint) = (engine.current(), endpoint.clone());
            Box::pin(async move { negotiate(engine, index, endpoint, offer).await }) as BoxFuture<'static, _>
        });
        for addr in http {
            let route =
                rtc_signal::Route::new(node.engine.clone(), node.index, Direction::Play, negotiate.clone());
            plan.http_route(addr, Arc::new(route));
        }
        Ok(())
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        let udp_addr =
            self.listens().ok().and_then(|l| l.into_iter().find(|l| l.transport == Transport::Udp));
        Box::pin(run(ctx, input, udp_addr.map(|l| l.addr)))
    }
}

/// Admits a player, answers its offer and adds it to its stream's players.
async fn negotiate(
    engine: Engine,
    node: NodeIndex,
    endpoint: Endpoint,
    offer: Offer,
) -> Result<Answer, Refusal> {
    let (udp, address) = endpoint.prepare(&engine, &offer)?;
    let key = offer.key.clone();
    // SRS refuses to play a live stream that is not bridged to WebRTC (`rtmp_to_rtc off`,
    // its #2728) rather than leave the player waiting; a stream not yet published is waited for.
    if engine.publication_reaches(&key, node) == Some(false) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("stream {key} is published but not bridged to WebRTC (rtmp_to_rtc off, see SRS #2728)"),
        ));
    }
    // The player must take the stream's video codec (SRS refuses it otherwise).
    let stream_video = engine
        .publications()
        .into_iter()
        .find(|live| live.key == key)
        .and_then(|live| live.stats.description())
        .and_then(|description| description.video.as_ref().map(|v| v.codec));
    let video = OfferedCodecs::of(&offer.sdp)
        .play_video(stream_video)
        .map_err(|why| Refusal::new(StatusCode::BAD_REQUEST, format!("cannot play {key}: {why}")))?;
    let id = engine.next_id();
    let (guard, settings) =
        super::rtc_in::admit_offer(&engine, &offer, id, ClientKind::RtcPlay, RuleMethod::Play).await?;
    let peer = rtc_peer::answer(&offer.sdp, Direction::Play, address, endpoint.transports, video)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("cannot answer the offer: {e}")))?;
    let answer = peer.answer.clone();
    let session_name = format!("{}:{}", peer.local_ufrag, ice_ufrag(&offer.sdp).unwrap_or_default());
    let token = rtc_signal::token();
    let kicked = guard.client().kicked();
    let stats = Arc::clone(&guard.client().rtc);
    let streams = engine.shared::<RtcStreams>();
    let sessions = engine.shared::<RtcSessions>();
    let handler = Arc::new(Player {
        key: key.clone(),
        streams: Arc::clone(&streams),
        sessions: Arc::clone(&sessions),
        guard: Mutex::new(Some(guard)),
        settings,
    });
    if !udp.add(NewSession { id, peer, candidate: address, handler, stats }).await {
        return Err(Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "the webrtc socket stopped"));
    }
    engine.shared::<RtcKicks>().watch(&engine, kicked, udp.clone(), id);
    sessions.insert(id, SessionEntry { token: token.clone(), udp });
    streams.add_player(&key, id, video);
    tracing::info!(conn = id, peer = %offer.peer, stream = %key, candidate = %address, "webrtc player answered");
    Ok(Answer { sdp: answer, session: id, token, session_name })
}

/// The worker's side of a player: keyframe requests go to the publisher, the end cleans up.
struct Player {
    key: StreamKey,
    streams: Arc<RtcStreams>,
    sessions: Arc<RtcSessions>,
    guard: Mutex<Option<ClientGuard>>,
    settings: vhost::Config,
}

impl PeerHandler for Player {
    fn on_event(&self, session: SessionId, event: PeerEvent) {
        match event {
            PeerEvent::Connected => {
                tracing::info!(conn = session, stream = %self.key, "webrtc player connected");
                self.streams.request_keyframe(&self.key);
            }
            PeerEvent::KeyframeRequest => self.streams.request_keyframe(&self.key),
            PeerEvent::Media { .. } | PeerEvent::SenderReport { .. } => {}
            PeerEvent::Closed(why) => {
                tracing::info!(conn = session, stream = %self.key, "webrtc play ended: {why}");
                self.streams.remove_player(&self.key, session);
                self.sessions.remove(session);
                let guard = self.guard.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(guard) = guard {
                    admission::notify(
                        guard.registry(),
                        guard.client(),
                        &self.settings.rules(),
                        HookEvent::Stop,
                        Some(&self.key),
                    );
                }
            }
        }
    }
}

/// A random RTP timestamp base, per stream and track (RFC 3550 §5.1).
fn random_base() -> u32 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::getrandom(&mut bytes);
    u32::from_be_bytes(bytes)
}

/// One track's RTP timestamps for a publish: a random start, or where the last publish stopped.
struct TrackClock {
    clock: RtpClock,
    base: Option<u32>,
    resume: Option<u32>,
    last: Option<u32>,
    /// Added to the last timestamp to give the next publish's first (one frame's worth).
    step: u32,
}

impl TrackClock {
    fn new(hz: u32, resume: Option<u32>, step: u32) -> TrackClock {
        TrackClock { clock: RtpClock::new(hz), base: None, resume, last: None, step }
    }

    fn stamp(&mut self, time: crate::media::MediaTime) -> u32 {
        let clock = &self.clock;
        let base = *self.base.get_or_insert_with(|| match self.resume {
            Some(next) => next.wrapping_sub(clock.to_rtp(time, 0)),
            None => random_base(),
        });
        let stamp = self.clock.to_rtp(time, base);
        self.last = Some(stamp);
        stamp
    }

    /// Where the next publish continues.
    fn next(&self) -> Option<u32> {
        self.last.map(|last| last.wrapping_add(self.step)).or(self.resume)
    }
}

/// When each media time of a stream is due on the wall clock: one line for audio and video, which
/// the tracks' sender reports follow (`SentRing::media_clock`), so a player lines the tracks up by
/// media time even when one is sent later than the other (the audio transcoder holds samples
/// for a whole frame). Drawn again when the stream strays from it by more than `MAX_STRAY` (a
/// pause, a jump, a burst): both tracks move together.
#[derive(Default)]
struct DueClock {
    anchor: Option<(Instant, MediaTime)>,
}

const MAX_STRAY: Duration = Duration::from_secs(1);

fn micros(time: MediaTime) -> i64 {
    let hz = i128::from(time.timebase().hz().max(1));
    (i128::from(time.ticks()) * 1_000_000 / hz) as i64
}

impl DueClock {
    fn due(&mut self, time: MediaTime, now: Instant) -> Instant {
        if let Some((at, base)) = self.anchor {
            let offset_us = micros(time).saturating_sub(micros(base));
            let step = Duration::from_micros(offset_us.unsigned_abs());
            let due = if offset_us >= 0 { at.checked_add(step) } else { at.checked_sub(step) };
            let strays = |due: Instant| due.max(now).duration_since(due.min(now)) > MAX_STRAY;
            if let Some(due) = due.filter(|due| !strays(*due)) {
                return due;
            }
        }
        self.anchor = Some((now, time));
        now
    }
}

/// Most frames, and bytes, held while no player takes video. A longer picture group is not
/// replayed (its first player waits for the next keyframe): the worker replays at most half the
/// stream's ring, 512 packets of up to 1200 bytes.
const MAX_HELD: usize = 600;
const MAX_HELD_BYTES: usize = 512 * 1200;

/// The video frames since the last keyframe while no player takes video, so the first player to
/// come is replayed the picture group so far (it would otherwise wait up to a whole GOP for the
/// next keyframe: the ring holds only what was packetized for players). The frames share the
/// stream's buffers; nothing is packetized until a player comes.
#[derive(Default)]
struct Held {
    frames: Vec<Frame>,
    /// The frames' bytes.
    bytes: usize,
    /// Frames were lost since the last keyframe (too many held, a new description): the ring
    /// and what is held do not continue each other until the next keyframe.
    broken: bool,
}

impl Held {
    fn hold(&mut self, frame: Frame) {
        if frame.keyframe {
            self.frames.clear();
            self.bytes = 0;
            self.broken = false;
        } else if self.frames.len() >= MAX_HELD || self.bytes + frame.data.len() > MAX_HELD_BYTES {
            self.break_off();
            return;
        }
        if !self.broken {
            self.bytes += frame.data.len();
            self.frames.push(frame);
        }
    }

    /// A frame went into the ring: a keyframe there mends a break.
    fn packetized(&mut self, keyframe: bool) {
        self.broken &= !keyframe;
    }

    /// The frames held do not follow what was packetized before (new parameter sets).
    fn break_off(&mut self) {
        self.frames = Vec::new();
        self.bytes = 0;
        self.broken = true;
    }

    /// Whether a player can start now: from a keyframe held, or from the ring's last keyframe
    /// when what is held continues it.
    fn can_start(&self, ring_has_keyframe: bool) -> bool {
        !self.broken && (ring_has_keyframe || self.frames.first().is_some_and(|f| f.keyframe))
    }

    fn take(&mut self) -> Vec<Frame> {
        self.bytes = 0;
        std::mem::take(&mut self.frames)
    }
}

/// Packetizes the stream once and hands each frame's packets to the worker for every player.
async fn run(ctx: StreamCtx, mut input: mpsc::Receiver<MediaEvent>, udp_addr: Option<std::net::SocketAddr>) {
    let Some(udp) = udp_addr.and_then(|addr| ctx.engine.shared::<RtcSockets>().get(addr)) else {
        tracing::warn!(node = ctx.name(), stream = %ctx.key, "no webrtc socket: frames dropped");
        while input.recv().await.is_some() {}
        return;
    };
    let streams = ctx.engine.shared::<RtcStreams>();
    let (h264, h265) = (H264Packetizer::default(), H265Packetizer::default());
    let (video_resume, audio_resume) = streams.resume(&ctx.key);
    // One 30 fps frame, one 20 ms Opus frame.
    let mut video_clock = TrackClock::new(VIDEO_CLOCK_HZ, video_resume, 3000);
    let mut audio_clock = TrackClock::new(OPUS_CLOCK_HZ, audio_resume, 960);
    let mut parameter_sets: Vec<Bytes> = Vec::new();
    let mut payloads: Vec<RtpPayload> = Vec::new();
    // Sent packets are kept once per track for every player's NACKs.
    let (video_ring, audio_ring) = (SentRing::new(), SentRing::new());
    let mut held = Held::default();
    let mut due_clock = DueClock::default();
    while let Some(event) = input.recv().await {
        match event {
            MediaEvent::Description(description) => {
                let sets = description.video.as_ref().map(video_parameter_sets).unwrap_or_default();
                if sets != parameter_sets {
                    parameter_sets = sets;
                    held.break_off();
                }
            }
            MediaEvent::Frame(frame) if matches!(frame.codec, Codec::H264 | Codec::H265) => {
                // With a keyframe in the ring (or held) every player takes video now: the worker
                // sends a joining player the picture group so far first.
                let started = frame.keyframe || held.can_start(video_ring.has_keyframe());
                let targets = streams.video_targets(&ctx.key, frame.codec, started);
                if !frame.keyframe && streams.waiting_players(&ctx.key, frame.codec) {
                    streams.request_keyframe(&ctx.key);
                }
                if targets.is_empty() {
                    held.hold(frame);
                    continue;
                }
                // What was held goes into the ring first, unsent: the new players' join burst
                // takes it from there.
                let packetize = Packetize { h264: &h264, h265: &h265, parameter_sets: &parameter_sets };
                let now = Instant::now();
                for old in held.take() {
                    if packetize.frame(&old, &mut payloads, &ctx.key) {
                        let timestamp = video_clock.stamp(old.pts);
                        let due = due_clock.due(old.pts, now);
                        video_ring.push(
                            payloads.drain(..).map(|p| (p.marker, timestamp, p.data)),
                            old.keyframe,
                            due,
                        );
                    }
                }
                if !packetize.frame(&frame, &mut payloads, &ctx.key) {
                    continue;
                }
                held.packetized(frame.keyframe);
                let timestamp = video_clock.stamp(frame.pts);
                let due = due_clock.due(frame.pts, now);
                let packets = video_ring.push(
                    payloads.drain(..).map(|p| (p.marker, timestamp, p.data)),
                    frame.keyframe,
                    due,
                );
                udp.send(MediaKind::Video, targets, Arc::clone(&video_ring), packets).await;
            }
            MediaEvent::Frame(frame) if frame.codec == Codec::Opus => {
                let targets = streams.audio_targets(&ctx.key);
                if targets.is_empty() {
                    continue;
                }
                let payload = opus::packetize(&frame.data);
                let timestamp = audio_clock.stamp(frame.pts);
                let due = due_clock.due(frame.pts, Instant::now());
                let packets = audio_ring.push([(payload.marker, timestamp, payload.data)], false, due);
                udp.send(MediaKind::Audio, targets, Arc::clone(&audio_ring), packets).await;
            }
            MediaEvent::Frame(_) | MediaEvent::Metadata(_) => {}
            MediaEvent::End => break,
        }
    }
    streams.set_resume(&ctx.key, (video_clock.next(), audio_clock.next()));
}

/// The stream's video packetizers and the parameter sets sent before each keyframe.
struct Packetize<'a> {
    h264: &'a H264Packetizer,
    h265: &'a H265Packetizer,
    parameter_sets: &'a [Bytes],
}

impl Packetize<'_> {
    /// The payloads of `frame` into `payloads` (cleared first); `false` for a frame that cannot
    /// be packetized (skipped, logged).
    fn frame(&self, frame: &Frame, payloads: &mut Vec<RtpPayload>, key: &StreamKey) -> bool {
        payloads.clear();
        let packetized = if frame.codec == Codec::H265 {
            self.h265.packetize(&frame.data, frame.keyframe, self.parameter_sets, payloads)
        } else {
            self.h264.packetize(&frame.data, frame.keyframe, self.parameter_sets, payloads)
        };
        if let Err(e) = packetized {
            tracing::debug!(stream = %key, codec = frame.codec.name(), "webrtc: bad frame skipped: {e}");
            return false;
        }
        true
    }
}

/// The parameter sets sent before each keyframe: SPS, PPS (H.264) or VPS, SPS, PPS (H.265).
fn video_parameter_sets(track: &crate::media::VideoTrack) -> Vec<Bytes> {
    match track.codec {
        Codec::H264 => AvcConfig::parse(&track.config).map(|c| c.sps.into_iter().chain(c.pps).collect()).ok(),
        Codec::H265 => HevcConfig::parse(&track.config)
            .map(|c| c.vps.into_iter().chain(c.sps).chain(c.pps).collect())
            .ok(),
        _ => None,
    }
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Audio and video of one instant are due at one wall time, whenever each was sent; a stream
    /// that strays more than a second from its line draws a new one.
    #[test]
    fn both_tracks_of_an_instant_are_due_together() {
        let mut clock = DueClock::default();
        let start = Instant::now();
        let video = clock.due(MediaTime::from_millis(1000), start);
        assert_eq!(video, start);
        // The transcoded audio of the same instant, sent 20 ms later.
        let audio = clock.due(MediaTime::from_millis(1000), start + Duration::from_millis(20));
        assert_eq!(audio, video);
        let earlier = clock.due(MediaTime::from_millis(960), start + Duration::from_millis(30));
        assert_eq!(video.duration_since(earlier), Duration::from_millis(40));
        // A jump of 10 s in the stream's times: a new line from now.
        let jumped = start + Duration::from_millis(40);
        assert_eq!(clock.due(MediaTime::from_millis(11_000), jumped), jumped);
        assert_eq!(clock.due(MediaTime::from_millis(11_040), jumped), jumped + Duration::from_millis(40));
    }

    fn video(keyframe: bool) -> Frame {
        let time = MediaTime::from_millis(0);
        Frame { codec: Codec::H264, dts: time, pts: time, keyframe, data: Bytes::from_static(b"f") }
    }

    /// While no player takes video the picture group so far is held for the first one to come,
    /// from its keyframe on; when frames were lost (too many, new parameter sets) a player
    /// waits for the next keyframe.
    #[test]
    fn the_picture_group_so_far_is_held_for_the_first_player() {
        let mut held = Held::default();
        held.hold(video(false));
        assert!(!held.can_start(false), "no keyframe yet");
        assert!(held.can_start(true), "the ring's keyframe, continued by what is held");
        held.hold(video(true));
        held.hold(video(false));
        assert!(held.can_start(false));
        let frames = held.take();
        assert_eq!(frames.iter().map(|f| f.keyframe).collect::<Vec<_>>(), [true, false]);
        for _ in 0..=MAX_HELD {
            held.hold(video(false));
        }
        assert!(!held.can_start(true) && held.take().is_empty(), "too many: nothing held");
        held.hold(video(true));
        assert!(held.can_start(false), "a keyframe mends it");
        let big = Frame { data: Bytes::from(vec![0; MAX_HELD_BYTES / 2]), ..video(false) };
        held.hold(big.clone());
        held.hold(big);
        assert!(!held.can_start(true) && held.take().is_empty(), "too many bytes: nothing held");
        held.hold(video(true));
        assert!(held.can_start(false), "a keyframe mends it");
        held.break_off();
        assert!(!held.can_start(true));
        held.packetized(false);
        assert!(!held.can_start(true));
        held.packetized(true);
        assert!(held.can_start(true), "a keyframe sent mends it too");
    }

    #[test]
    fn a_republish_continues_the_rtp_timestamps() {
        let mut first = TrackClock::new(VIDEO_CLOCK_HZ, None, 3000);
        let start = first.stamp(MediaTime::from_millis(5_000));
        assert_eq!(first.stamp(MediaTime::from_millis(5_100)), start.wrapping_add(9_000));
        // The next publish starts its own clock anywhere (here at 0) but continues the numbers.
        let mut second = TrackClock::new(VIDEO_CLOCK_HZ, first.next(), 3000);
        assert_eq!(second.stamp(MediaTime::from_millis(0)), start.wrapping_add(12_000));
        assert_eq!(second.stamp(MediaTime::from_millis(40)), start.wrapping_add(15_600));
    }
}
