//! A WHEP player for tests, on the `rtc` crate's sans-IO peer (ICE controlling, DTLS client,
//! SRTP), driven on a plain UDP socket by the calling thread: it offers the video codecs a test
//! names (H.264, H.265) and Opus, receives for a while, and gives the video RTP packets back so
//! the test can put them together with the server's own depacketizer and check the pictures.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::interceptor::Registry;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::event::{RTCPeerConnectionEvent, RTCTrackEvent};
use rtc::peer_connection::message::RTCMessage;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::sansio::Protocol;
use srs::media::Codec;

use super::whip;

/// One received video packet: sequence number, timestamp, marker, payload.
pub type VideoPacket = (u16, u32, bool, Bytes);

/// What a play received.
#[derive(Debug, Default)]
pub struct Received {
    /// The answer's SDP.
    pub answer: String,
    pub video: Vec<VideoPacket>,
    pub audio_packets: u64,
}

/// A receive-only peer offering the video codecs `offered` and Opus.
fn offerer(local: SocketAddr, offered: &[Codec]) -> Result<RTCPeerConnection, String> {
    let stack = |e: rtc::shared::error::Error| format!("webrtc: {e}");
    let now = Instant::now();
    let mut media_engine = MediaEngine::default();
    for &codec in offered {
        media_engine
            .register_codec(whip::codec(RtpCodecKind::Video, codec), RtpCodecKind::Video)
            .map_err(stack)?;
    }
    let opus = whip::codec(RtpCodecKind::Audio, Codec::H264);
    media_engine.register_codec(opus, RtpCodecKind::Audio).map_err(stack)?;
    // The default interceptors send receiver reports and NACKs, as a browser does.
    let registry = register_default_interceptors(Registry::new(), &mut media_engine).map_err(stack)?;
    let settings = SettingEngineBuilder::new().with_include_loopback_candidate(true).build();
    let mut peer = RTCPeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_setting_engine(settings)
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .build(now)
        .map_err(stack)?;
    peer.add_transceiver_from_kind(RtpCodecKind::Video, None).map_err(stack)?;
    peer.add_transceiver_from_kind(RtpCodecKind::Audio, None).map_err(stack)?;
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
    Ok(peer)
}

/// Offers `offered` to the WHEP endpoint `path` of the API at `api`. A refusal is
/// `Err((status, body))`; else plays until `enough` video packets came or `timeout` passed.
pub fn play(
    api: u16,
    path: &str,
    offered: &[Codec],
    enough: usize,
    timeout: Duration,
) -> Result<Received, (u16, String)> {
    let fail = |why: String| (0, why);
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| fail(e.to_string()))?;
    let local = socket.local_addr().map_err(|e| fail(e.to_string()))?;
    let mut peer = offerer(local, offered).map_err(fail)?;
    let offer = peer.local_description().map(|d| d.sdp).ok_or_else(|| fail("no offer".into()))?;
    let (status, location, answer) = whip::post(api, path, &offer).map_err(fail)?;
    if status != 201 {
        return Err((status, answer));
    }
    let stack = |e: rtc::shared::error::Error| fail(format!("webrtc: {e}"));
    peer.set_remote_description(
        Instant::now(),
        RTCSessionDescription::answer(answer.clone()).map_err(stack)?,
    )
    .map_err(stack)?;
    let mut received = Received { answer, ..Received::default() };
    let mut video_tracks = std::collections::HashSet::new();
    let mut buffer = vec![0u8; 2048];
    let deadline = Instant::now() + timeout;
    while received.video.len() < enough && Instant::now() < deadline {
        while let Some(out) = peer.poll_write() {
            let _ = socket.send_to(&out.message, out.transport.peer_addr);
        }
        while let Some(event) = peer.poll_event() {
            match event {
                RTCPeerConnectionEvent::OnConnectionStateChangeEvent(
                    state @ (RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed),
                ) => return Err(fail(format!("connection {state}"))),
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
        while let Some(message) = peer.poll_read() {
            if let RTCMessage::RtpPacket(track, packet) = message.message {
                if video_tracks.contains(&track.to_string()) {
                    let header = &packet.header;
                    received.video.push((
                        header.sequence_number,
                        header.timestamp,
                        header.marker,
                        packet.payload,
                    ));
                } else {
                    received.audio_packets += 1;
                }
            }
        }
        let wake = peer.poll_timeout().unwrap_or_else(|| Instant::now() + Duration::from_millis(50));
        let wait = wake
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), Duration::from_millis(50));
        let _ = socket.set_read_timeout(Some(wait));
        whip::receive_or_tick(&mut peer, &socket, &mut buffer, local);
    }
    let _ = peer.close();
    while let Some(out) = peer.poll_write() {
        let _ = socket.send_to(&out.message, out.transport.peer_addr);
    }
    if let Some(location) = location {
        let _ = crate::common::http_exchange(api, "DELETE", &location, &[], b"");
    }
    Ok(received)
}
