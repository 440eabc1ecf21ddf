//! The WebRTC load-test player: a WHEP offer (receive-only H.264 and Opus) POSTed over plain
//! HTTP/1.1, then the `rtc` crate's peer connection as the client side (ICE controlling, DTLS
//! client, SRTP, the default NACK generator, receiver reports and TWCC), driven on its own UDP
//! socket by this player's task.
//!
//! It counts RTP packets and bytes, video frames (marker bits) and keyframes, the time from the
//! player's start to the end of the first keyframe and to each phase before it (`whep_phases`),
//! the DTLS flights both sides sent (`codec::rtp::dtls_flights`), and, from the peer's
//! statistics, the NACKs it sent and the packets it never got. When told to stop it DELETEs its
//! session's `Location`.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use rtc::interceptor::Registry;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::event::{RTCPeerConnectionEvent, RTCTrackEvent};
use rtc::peer_connection::message::RTCMessage;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::{RTCIceConnectionState, RTCPeerConnectionState};
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use rtc::statistics::StatsSelector;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::watch;

use super::stats::PlayerStats;
use super::whep_phases::Phase;
use crate::codec::rtp::demux::{classify, Datagram};
use crate::codec::rtp::dtls_flights::{FlightEvent, FlightLog};
use crate::codec::rtp::h264::starts_keyframe;

/// Largest datagram read.
const MAX_DATAGRAM: usize = 2048;
/// Largest HTTP response read (an answer SDP is a few KB; the API's client list at the end of a
/// run about 1 KB per player).
const MAX_RESPONSE: u64 = 16 << 20;
/// How often the peer's NACK and loss counters are copied to the player's stats.
const STATS_INTERVAL: Duration = Duration::from_secs(1);
/// Time the signalling exchange may take.
const SIGNALLING_TIMEOUT: Duration = Duration::from_secs(10);
/// SRTP replay window of a player, in packets: a join burst (a GOP, ~100 packets at 1 Mbit/s)
/// whose losses are resent after its end must still be taken; the crate's default 64 refused
/// them as replays under load.
const SRTP_REPLAY_WINDOW: usize = 1024;
/// Receive buffer asked of a player's socket (the kernel caps it at `net.core.rmem_max`): a
/// player's task may wait its turn on a loaded machine while its join burst arrives.
const RECEIVE_BUFFER: usize = 1 << 20;
/// How long the crate's ICE agent keeps checking a candidate pair before giving it up (its
/// default: 7 checks 200 ms apart), whatever the check interval.
const ICE_CHECKING: Duration = Duration::from_millis(1400);
/// The bench's default ICE check interval. The crate's controlling agent nominates the pair one
/// check interval after its first check succeeded (200 ms by default, so every player's start
/// waited 200 ms there); a browser paces the checks of a connection that is not yet writable
/// about 50 ms apart (Chromium's weak ping interval, 48 ms).
pub const ICE_CHECK_INTERVAL: Duration = Duration::from_millis(48);

/// Plays the WHEP `url` until `stop` turns true (then DELETEs the session) or the task is aborted;
/// a failure marks the player failed. The ICE agent checks every `ice_check_interval`.
pub async fn whep_player(
    url: String,
    stats: Arc<PlayerStats>,
    stop: watch::Receiver<bool>,
    ice_check_interval: Duration,
) {
    if let Err(why) = play(&url, &stats, stop, ice_check_interval).await {
        tracing::debug!(%url, "whep player failed: {why}");
        stats.failed.store(true, Ordering::Relaxed);
    }
}

/// The URL of stream `index` when `count` publishers run: `stream=<name>_<index>` in the query.
pub fn whep_stream_url(url: &str, index: usize, count: usize) -> String {
    if count <= 1 {
        return url.to_owned();
    }
    let Some((base, query)) = url.split_once('?') else { return url.to_owned() };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.strip_prefix("stream=") {
            Some(name) => format!("stream={name}_{index}"),
            None => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

/// `host:port` and the path (with query) of an `http://` URL.
pub(super) fn split_http_url(url: &str) -> Result<(String, String), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("not an http:// URL: {url}"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    if authority.is_empty() {
        return Err(format!("no host in {url}"));
    }
    let address = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
    Ok((address, path.to_owned()))
}

/// A signalling response: status, `Location` header, body.
#[derive(Debug)]
pub(super) struct Response {
    pub status: u16,
    location: Option<String>,
    pub body: String,
}

fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("response without a complete head")?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or("response without a status line")?;
    let location = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("location").then(|| value.trim().to_owned())
    });
    Ok(Response { status, location, body: body.to_owned() })
}

/// One HTTP/1.1 exchange on a fresh connection (`Connection: close`, body read to the end).
pub(super) async fn http(address: &str, method: &str, path: &str, body: &str) -> Result<Response, String> {
    let exchange = async {
        let mut socket = TcpStream::connect(address).await.map_err(|e| e.to_string())?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: srs-bench\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        socket.take(MAX_RESPONSE).read_to_end(&mut raw).await.map_err(|e| e.to_string())?;
        parse_response(&raw)
    };
    tokio::time::timeout(SIGNALLING_TIMEOUT, exchange).await.map_err(|_| "signalling timed out".to_owned())?
}

/// The local address that reaches `server` (the candidate we offer and bind).
fn local_ip_towards(server: &str) -> Result<IpAddr, String> {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
    probe.connect(server).map_err(|e| format!("no route to {server}: {e}"))?;
    probe.local_addr().map(|a| a.ip()).map_err(|e| e.to_string())
}

/// A receive-only peer offering H.264 and Opus (the crate's default codecs), with `local` as
/// its one host candidate, its ICE checks `ice_check_interval` apart.
fn offerer(
    local: SocketAddr,
    ice_check_interval: Duration,
) -> Result<RTCPeerConnection, rtc::shared::error::Error> {
    let now = Instant::now();
    let mut media_engine = MediaEngine::default();
    media_engine.register_default_codecs()?;
    let registry = register_default_interceptors(Registry::new(), &mut media_engine)?;
    let interval = ice_check_interval.max(Duration::from_millis(1));
    let checks = (ICE_CHECKING.as_millis() / interval.as_millis()).clamp(7, u128::from(u16::MAX)) as u16;
    let settings = SettingEngineBuilder::new()
        .with_include_loopback_candidate(true)
        .with_srtp_replay_protection_window(SRTP_REPLAY_WINDOW)
        .with_ice_connection_attempts(Some(interval), Some(checks))
        .build();
    let mut peer = RTCPeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_setting_engine(settings)
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .build(now)?;
    peer.add_transceiver_from_kind(RtpCodecKind::Video, None)?;
    peer.add_transceiver_from_kind(RtpCodecKind::Audio, None)?;
    let host = CandidateHostConfig {
        base_config: CandidateConfig {
            network: "udp".to_owned(),
            address: local.ip().to_string(),
            port: local.port(),
            component: 1,
            ..Default::default()
        },
        ..Default::default()
    }
    .new_candidate_host()?;
    peer.add_local_candidate(RTCIceCandidate::from(&host).to_json()?)?;
    let offer = peer.create_offer(None)?;
    peer.set_local_description(now, offer)?;
    Ok(peer)
}

/// What a player tracks of its video between packets.
#[derive(Debug, Default)]
struct VideoCount {
    /// The picture being received started as a keyframe.
    keyframe: bool,
}

async fn play(
    url: &str,
    stats: &PlayerStats,
    mut stop: watch::Receiver<bool>,
    ice_check_interval: Duration,
) -> Result<(), String> {
    let started = Instant::now();
    let mark = |phase: Phase| stats.phases.mark(phase, started.elapsed().as_micros() as u64);
    let (address, path) = split_http_url(url)?;
    let socket = UdpSocket::bind((local_ip_towards(&address)?, 0)).await.map_err(|e| e.to_string())?;
    if let Err(e) = nix::sys::socket::setsockopt(&socket, nix::sys::socket::sockopt::RcvBuf, &RECEIVE_BUFFER)
    {
        tracing::debug!("whep player: receive buffer not raised: {e}");
    }
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let stack = |e: rtc::shared::error::Error| format!("webrtc: {e}");
    let mut peer = offerer(local, ice_check_interval).map_err(stack)?;
    let offer = peer.local_description().map(|d| d.sdp).ok_or("no local description")?;
    mark(Phase::Offer);
    let answer = http(&address, "POST", &path, &offer).await?;
    mark(Phase::Answer);
    if answer.status != 201 && answer.status != 200 {
        return Err(format!("whep answered {}: {}", answer.status, answer.body.trim()));
    }
    let answer_sdp = RTCSessionDescription::answer(answer.body).map_err(stack)?;
    peer.set_remote_description(Instant::now(), answer_sdp).map_err(stack)?;
    let result = drive(&mut peer, &socket, local, stats, started, &mut stop).await;
    let _ = peer.close();
    while let Some(out) = peer.poll_write() {
        let _ = socket.try_send_to(&out.message, out.transport.peer_addr);
    }
    if let Some(location) = answer.location {
        let path = split_http_url(&location).map_or(location, |(_, path)| path);
        let _ = http(&address, "DELETE", &path, "").await;
    }
    result
}

/// Runs the peer until `stop` or a failure.
async fn drive(
    peer: &mut RTCPeerConnection,
    socket: &UdpSocket,
    local: SocketAddr,
    stats: &PlayerStats,
    started: Instant,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    let mut video_tracks = std::collections::HashSet::new();
    let mut video = VideoCount::default();
    let mut stats_tick = tokio::time::interval(STATS_INTERVAL);
    let mark = |phase: Phase| stats.phases.mark(phase, started.elapsed().as_micros() as u64);
    let (mut flights_out, mut flights_in) = (FlightLog::default(), FlightLog::default());
    loop {
        while let Some(out) = peer.poll_write() {
            if classify(&out.message) == Datagram::Dtls {
                count_flight(
                    &mut flights_out,
                    &out.message,
                    &stats.phases.flights_out,
                    &stats.phases.repeats_out,
                );
            }
            // A full socket buffer loses the datagram, as the network would.
            let _ = socket.try_send_to(&out.message, out.transport.peer_addr);
        }
        let mut ice_connected = false;
        while let Some(event) = peer.poll_event() {
            match event {
                RTCPeerConnectionEvent::OnIceConnectionStateChangeEvent(RTCIceConnectionState::Connected) => {
                    mark(Phase::IceConnected);
                    ice_connected = true;
                }
                RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) => match state {
                    RTCPeerConnectionState::Connected => {
                        mark(Phase::DtlsDone);
                        stats.connected.store(true, Ordering::Relaxed)
                    }
                    RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                        return Err(format!("connection {state}"))
                    }
                    _ => {}
                },
                RTCPeerConnectionEvent::OnTrack(RTCTrackEvent::OnOpen(init)) => {
                    let is_video = peer
                        .rtp_receiver(init.receiver_id)
                        .is_some_and(|r| r.track().kind() == RtpCodecKind::Video);
                    if is_video {
                        video_tracks.insert(init.track_id.to_string());
                    }
                }
                _ => {}
            }
        }
        if ice_connected {
            // When this player is the DTLS client (a server answering `setup:passive`, as SRS
            // does), the crate makes its ClientHello when ICE selects the pair but hands it out
            // only at its next timer, 200 ms later once connected: a timer turn now sends it (a
            // browser starts DTLS as soon as the pair is writable). Our server answers active.
            if let Err(e) = peer.handle_timeout(Instant::now()) {
                tracing::debug!("whep player timer: {e}");
            }
            continue;
        }
        while let Some(message) = peer.poll_read() {
            if let RTCMessage::RtpPacket(track, packet) = message.message {
                mark(Phase::FirstRtp);
                stats.packets.fetch_add(1, Ordering::Relaxed);
                stats.add_bytes(packet.payload.len() + 12);
                if !video_tracks.contains(&track.to_string()) {
                    continue;
                }
                video.keyframe |= starts_keyframe(&packet.payload);
                if packet.header.marker {
                    stats.frames.fetch_add(1, Ordering::Relaxed);
                    if std::mem::take(&mut video.keyframe) {
                        stats.keyframes.fetch_add(1, Ordering::Relaxed);
                        stats.first_frame(started.elapsed().as_micros() as u64);
                        mark(Phase::FirstFrame);
                    }
                }
            }
        }
        let deadline = peer.poll_timeout();
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = socket.recv_from(&mut buffer) => {
                let (n, from) = received.map_err(|e| e.to_string())?;
                match classify(&buffer[..n]) {
                    Datagram::Stun => mark(Phase::FirstStun),
                    Datagram::Dtls => {
                        mark(Phase::FirstDtls);
                        let phases = &stats.phases;
                        count_flight(&mut flights_in, &buffer[..n], &phases.flights_in, &phases.repeats_in);
                    }
                    _ => {}
                }
                let message = TaggedBytesMut {
                    now: Instant::now(),
                    transport: TransportContext {
                        local_addr: local,
                        peer_addr: from,
                        ecn: None,
                        transport_protocol: TransportProtocol::UDP,
                    },
                    message: BytesMut::from(&buffer[..n]),
                };
                if let Err(e) = peer.handle_read(message) {
                    stats.phases.refused.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%from, "whep player: datagram refused: {e}");
                }
            }
            _ = timer => {
                if let Err(e) = peer.handle_timeout(Instant::now()) {
                    tracing::debug!("whep player timer: {e}");
                }
            }
            _ = stats_tick.tick() => copy_peer_stats(peer, stats),
            _ = stop.changed() => return Ok(()),
        }
    }
}

/// Counts a DTLS datagram in its direction's flight log and the player's counters.
fn count_flight(log: &mut FlightLog, datagram: &[u8], flights: &AtomicU64, repeats: &AtomicU64) {
    match log.observe(datagram) {
        Some(FlightEvent::New) => flights.fetch_add(1, Ordering::Relaxed),
        Some(FlightEvent::Repeat) => repeats.fetch_add(1, Ordering::Relaxed),
        None => 0,
    };
}

/// NACKs sent and packets lost, summed over the inbound streams.
fn copy_peer_stats(peer: &mut RTCPeerConnection, stats: &PlayerStats) {
    let report = peer.get_stats(Instant::now(), StatsSelector::None);
    let (mut nacks, mut lost) = (0u64, 0u64);
    for inbound in report.inbound_rtp_streams() {
        nacks += u64::from(inbound.nack_count);
        lost += inbound.received_rtp_stream_stats.packets_lost.max(0) as u64;
    }
    stats.nacks.store(nacks, Ordering::Relaxed);
    stats.lost.store(lost, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_responses() {
        let url = "http://127.0.0.1:1985/rtc/v1/whep/?app=live&stream=bench";
        assert_eq!(whep_stream_url(url, 1, 3), "http://127.0.0.1:1985/rtc/v1/whep/?app=live&stream=bench_1");
        assert_eq!(whep_stream_url(url, 0, 1), url);
        assert_eq!(
            split_http_url(url).unwrap(),
            ("127.0.0.1:1985".to_owned(), "/rtc/v1/whep/?app=live&stream=bench".to_owned())
        );
        assert_eq!(split_http_url("http://h/x").unwrap().0, "h:80");
        assert!(split_http_url("rtmp://h/x").is_err());
        let response =
            parse_response(b"HTTP/1.1 201 Created\r\nlocation: /rtc/v1/whep/?x=1\r\n\r\nv=0\r\n").unwrap();
        assert_eq!(response.status, 201);
        assert_eq!(response.location.as_deref(), Some("/rtc/v1/whep/?x=1"));
        assert_eq!(response.body, "v=0\r\n");
        assert!(parse_response(b"HTTP/1.1 201").is_err());
    }
}
