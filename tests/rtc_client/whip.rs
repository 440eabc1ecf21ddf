//! A WHIP publisher for tests, on the `rtc` crate's sans-IO peer (ICE controlling, DTLS client,
//! SRTP), driven on a plain UDP socket by the calling thread. Unlike a browser, it sends media
//! whose capture times the test knows, and writes its own RTCP sender reports from them: the
//! tests delay one track's packets on purpose and check that the server puts audio and video
//! back together from the reports.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_HEVC;
use rtc::peer_connection::configuration::media_engine::{MediaEngine, MIME_TYPE_H264, MIME_TYPE_OPUS};
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use srs::codec::rtp::h264::H264Packetizer;
use srs::codec::rtp::h265::H265Packetizer;
use srs::codec::rtp::RtpPayload;
use srs::media::Codec;

/// What to publish: access units (capture time, keyframe, length-prefixed data) with the stream's
/// parameter sets (SPS and PPS; VPS, SPS and PPS for H.265), and 20 ms Opus frames from capture
/// time 0.
pub struct Media {
    pub video: Vec<(Duration, bool, Bytes)>,
    pub parameter_sets: Vec<Bytes>,
    pub audio: Vec<Bytes>,
}

/// How to send it: each track's packets leave this long after their capture time; sender
/// reports (capture time ↔ RTP time) every `report_every`, or none.
pub struct Plan {
    pub video_delay: Duration,
    pub audio_delay: Duration,
    pub report_every: Option<Duration>,
}

/// The offerer's sending tracks: kind, sender, SSRC.
type Senders = Vec<(RtpCodecKind, RTCRtpSenderId, u32)>;

/// What a publish did.
#[derive(Debug, Default)]
pub struct Sent {
    pub video_packets: u64,
    pub audio_packets: u64,
    pub reports: u64,
}

const H264_FMTP: &str = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
/// What a browser with H.265 offers (RFC 7798 §7.1: Main profile, level 3.1, one RTP stream).
pub const H265_FMTP: &str = "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST";
/// Where the reports' NTP clock is at capture time 0 (any value: only differences count).
const NTP_BASE_S: u64 = 3_900_000_000;

/// Our codec of `kind`: H.264 or H.265 (`video`) for video, Opus for audio.
pub fn codec(kind: RtpCodecKind, video: Codec) -> RTCRtpCodecParameters {
    match kind {
        RtpCodecKind::Video if video == Codec::H265 => RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: MIME_TYPE_HEVC.to_owned(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: H265_FMTP.to_owned(),
                rtcp_feedback: vec![],
            },
            payload_type: 104,
        },
        RtpCodecKind::Video => RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: MIME_TYPE_H264.to_owned(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: H264_FMTP.to_owned(),
                rtcp_feedback: vec![],
            },
            payload_type: 102,
        },
        _ => RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: MIME_TYPE_OPUS.to_owned(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                rtcp_feedback: vec![],
            },
            payload_type: 111,
        },
    }
}

/// One sending track: its sender, SSRC, payload type, RTP clock and counters.
struct Track {
    sender: RTCRtpSenderId,
    ssrc: u32,
    payload_type: u8,
    hz: u64,
    base: u32,
    sequence: u16,
    packets: u32,
    octets: u32,
}

impl Track {
    fn rtp_time(&self, capture: Duration) -> u32 {
        self.base.wrapping_add((capture.as_micros() as u64 * self.hz / 1_000_000) as u32)
    }

    fn send(
        &mut self,
        peer: &mut RTCPeerConnection,
        capture: Duration,
        payload: RtpPayload,
    ) -> Result<(), String> {
        let packet = rtc::rtp::Packet {
            header: rtc::rtp::header::Header {
                version: 2,
                marker: payload.marker,
                payload_type: self.payload_type,
                sequence_number: self.sequence,
                timestamp: self.rtp_time(capture),
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload: payload.data.clone(),
        };
        self.sequence = self.sequence.wrapping_add(1);
        self.packets += 1;
        self.octets = self.octets.wrapping_add(payload.data.len() as u32);
        let mut sender = peer.rtp_sender(self.sender).ok_or("no rtp sender")?;
        sender.write_rtp(Instant::now(), packet).map_err(|e| format!("write rtp: {e}"))
    }

    /// A sender report saying that capture time `now` is RTP time `rtp_time(now)`.
    fn report(&self, peer: &mut RTCPeerConnection, now: Duration) -> Result<(), String> {
        let fraction = ((u64::from(now.subsec_nanos())) << 32) / 1_000_000_000;
        let report = SenderReport {
            ssrc: self.ssrc,
            ntp_time: ((NTP_BASE_S + now.as_secs()) << 32) | fraction,
            rtp_time: self.rtp_time(now),
            packet_count: self.packets,
            octet_count: self.octets,
            reports: vec![],
            profile_extensions: Bytes::new(),
        };
        let mut sender = peer.rtp_sender(self.sender).ok_or("no rtp sender")?;
        sender.write_rtcp(Instant::now(), vec![Box::new(report)]).map_err(|e| format!("write rtcp: {e}"))
    }
}

fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::getrandom(&mut bytes);
    u32::from_be_bytes(bytes)
}

/// A sending peer offering the video codecs `offered` (sending `video`) and Opus.
fn offerer(
    local: SocketAddr,
    video: Codec,
    offered: &[Codec],
) -> Result<(RTCPeerConnection, Senders), String> {
    let stack = |e: rtc::shared::error::Error| format!("webrtc: {e}");
    let now = Instant::now();
    let mut media_engine = MediaEngine::default();
    for &offer in offered {
        media_engine.register_codec(codec(RtpCodecKind::Video, offer), RtpCodecKind::Video).map_err(stack)?;
    }
    media_engine.register_codec(codec(RtpCodecKind::Audio, video), RtpCodecKind::Audio).map_err(stack)?;
    let settings = SettingEngineBuilder::new().with_include_loopback_candidate(true).build();
    let mut peer = RTCPeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_setting_engine(settings)
        .with_media_engine(media_engine)
        .with_interceptor_registry(Registry::new())
        .build(now)
        .map_err(stack)?;
    let mut senders = Vec::new();
    for (kind, name) in [(RtpCodecKind::Video, "video"), (RtpCodecKind::Audio, "audio")] {
        let ssrc = random_u32();
        let track = MediaStreamTrack::new(
            "test".to_owned(),
            format!("test-{name}"),
            format!("test-{name}"),
            kind,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                codec: codec(kind, video).rtp_codec,
                ..Default::default()
            }],
        );
        senders.push((kind, peer.add_track(track).map_err(stack)?, ssrc));
    }
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
    .new_candidate_host()
    .map_err(stack)?;
    peer.add_local_candidate(RTCIceCandidate::from(&host).to_json().map_err(stack)?).map_err(stack)?;
    let offer = peer.create_offer(None).map_err(stack)?;
    peer.set_local_description(now, offer).map_err(stack)?;
    Ok((peer, senders))
}

/// POSTs `body` to `path` on 127.0.0.1:`port`; gives the status, the `Location` and the body.
/// One step of a client's loop: a datagram (waiting up to the socket's read timeout) handed to
/// the peer, or, when none came, the peer's timers.
pub fn receive_or_tick(
    peer: &mut RTCPeerConnection,
    socket: &UdpSocket,
    buffer: &mut [u8],
    local: SocketAddr,
) {
    match socket.recv_from(buffer) {
        Ok((n, from)) => {
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
            let _ = peer.handle_read(message);
        }
        Err(_) => {
            let _ = peer.handle_timeout(Instant::now());
        }
    }
}

pub fn post(port: u16, path: &str, body: &str) -> Result<(u16, Option<String>, String), String> {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    socket.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/sdp\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    socket.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no response head")?;
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
    let location = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("location").then(|| value.trim().to_owned())
    });
    Ok((status, location, body.to_owned()))
}

/// What is due next on the publisher's schedule.
enum Due {
    Video(usize),
    Audio(usize),
    Reports,
}

/// Publishes `media` to the WHIP endpoint of the API at `api` (`app`/`stream`) as `plan` says,
/// then DELETEs the session; gives what was sent and the session's `Location`.
pub fn publish(
    api: u16,
    app: &str,
    stream: &str,
    media: &Media,
    plan: &Plan,
) -> Result<(Sent, String), String> {
    let path = format!("/rtc/v1/whip/?app={app}&stream={stream}");
    publish_video(api, &path, media, plan, Codec::H264, &[Codec::H264])
}

/// Publishes as `publish` does to the WHIP `path` (with its query), offering the video codecs
/// `offered` and sending `video`, which the answer must have taken.
pub fn publish_video(
    api: u16,
    path: &str,
    media: &Media,
    plan: &Plan,
    video_codec: Codec,
    offered: &[Codec],
) -> Result<(Sent, String), String> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let (mut peer, senders) = offerer(local, video_codec, offered)?;
    let offer = peer.local_description().map(|d| d.sdp).ok_or("no offer")?;
    let (status, location, answer) = post(api, path, &offer)?;
    if status != 201 {
        return Err(format!("whip answered {status}: {answer}"));
    }
    let location = location.ok_or("no Location")?;
    let stack = |e: rtc::shared::error::Error| format!("webrtc: {e}");
    peer.set_remote_description(Instant::now(), RTCSessionDescription::answer(answer).map_err(stack)?)
        .map_err(stack)?;
    let mut tracks = Vec::new();
    for (kind, sender, ssrc) in senders {
        let mime = codec(kind, video_codec).rtp_codec.mime_type;
        let mut rtp_sender = peer.rtp_sender(sender).ok_or("no sender after the answer")?;
        let payload_type = rtp_sender
            .get_parameters()
            .rtp_parameters
            .codecs
            .iter()
            .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(&mime))
            .map(|c| c.payload_type)
            .ok_or_else(|| format!("{mime} not negotiated"))?;
        let hz = if kind == RtpCodecKind::Video { 90_000 } else { 48_000 };
        tracks.push(Track {
            sender,
            ssrc,
            payload_type,
            hz,
            base: random_u32(),
            sequence: random_u32() as u16,
            packets: 0,
            octets: 0,
        });
    }
    let (mut video, mut audio) = (tracks.remove(0), tracks.remove(0));
    let mut sent = Sent::default();
    let mut buffer = vec![0u8; 2048];
    let (h264, h265) = (H264Packetizer::default(), H265Packetizer::default());
    let mut connected_at: Option<Instant> = None;
    let (mut next_video, mut next_audio, mut next_report) = (0usize, 0usize, Duration::ZERO);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if peer.poll_timeout().is_some_and(|at| at <= Instant::now()) {
            let _ = peer.handle_timeout(Instant::now());
        }
        while let Some(out) = peer.poll_write() {
            let _ = socket.send_to(&out.message, out.transport.peer_addr);
        }
        while let Some(event) = peer.poll_event() {
            if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) = event {
                match state {
                    RTCPeerConnectionState::Connected => connected_at = connected_at.or(Some(Instant::now())),
                    RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                        return Err(format!("connection {state}"))
                    }
                    _ => {}
                }
            }
        }
        while peer.poll_read().is_some() {}
        if Instant::now() > deadline {
            return Err(format!("publishing took too long: {sent:?}"));
        }
        // Capture time 0 is a moment after the connection: the server's first PLI is answered.
        let start = connected_at.map(|at| at + Duration::from_millis(200));
        let mut wake = peer.poll_timeout().unwrap_or_else(|| Instant::now() + Duration::from_millis(50));
        if let Some(start) = start {
            let due = [
                media.video.get(next_video).map(|v| (start + v.0 + plan.video_delay, Due::Video(next_video))),
                media.audio.get(next_audio).map(|_| {
                    (
                        start + Duration::from_millis(20 * next_audio as u64) + plan.audio_delay,
                        Due::Audio(next_audio),
                    )
                }),
                plan.report_every.map(|_| (start + next_report, Due::Reports)),
            ];
            let next = due.into_iter().flatten().min_by_key(|(at, _)| *at);
            let Some((at, what)) = next else { break };
            if next_video >= media.video.len() && next_audio >= media.audio.len() {
                break;
            }
            let now = Instant::now();
            if at <= now {
                match what {
                    Due::Video(i) => {
                        let (capture, keyframe, data) = &media.video[i];
                        let mut payloads = Vec::new();
                        let packetized = if video_codec == Codec::H265 {
                            h265.packetize(data, *keyframe, &media.parameter_sets, &mut payloads)
                        } else {
                            h264.packetize(data, *keyframe, &media.parameter_sets, &mut payloads)
                        };
                        packetized.map_err(|e| format!("packetize: {e}"))?;
                        for payload in payloads {
                            video.send(&mut peer, *capture, payload)?;
                            sent.video_packets += 1;
                        }
                        next_video += 1;
                    }
                    Due::Audio(i) => {
                        let payload = RtpPayload { marker: true, data: media.audio[i].clone() };
                        audio.send(&mut peer, Duration::from_millis(20 * i as u64), payload)?;
                        sent.audio_packets += 1;
                        next_audio += 1;
                    }
                    Due::Reports => {
                        let capture = now.saturating_duration_since(start);
                        for track in [&video, &audio].into_iter().filter(|t| t.packets > 0) {
                            track.report(&mut peer, capture)?;
                            sent.reports += 1;
                        }
                        next_report += plan.report_every.unwrap_or(Duration::from_secs(1));
                    }
                }
                continue;
            }
            wake = wake.min(at);
        }
        let wait = wake.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        socket.set_read_timeout(Some(wait)).map_err(|e| e.to_string())?;
        receive_or_tick(&mut peer, &socket, &mut buffer, local);
    }
    // Let the last packets leave before the session ends.
    while let Some(out) = peer.poll_write() {
        let _ = socket.send_to(&out.message, out.transport.peer_addr);
    }
    std::thread::sleep(Duration::from_millis(200));
    let _ = peer.close();
    while let Some(out) = peer.poll_write() {
        let _ = socket.send_to(&out.message, out.transport.peer_addr);
    }
    Ok((sent, location))
}
