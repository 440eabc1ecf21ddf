//! Building one WebRTC peer from a browser's offer: the `rtc` crate's peer connection (ICE-lite,
//! DTLS and SRTP inside), our codecs (H.264 packetization mode 1 or H.265, the caller's choice;
//! Opus), the interceptors that
//! answer NACKs and send receiver reports and TWCC feedback, one host candidate, and our ICE
//! credentials, so the STUN username names the session on the shared port.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rtc::ice::tcp_type::TcpType;
use rtc::interceptor::{NackGeneratorBuilder, Registry, Slot};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::certificate::{CertificateParams, RTCCertificate};
use rtc::peer_connection::configuration::interceptor_registry::{
    configure_rtcp_reports, configure_simulcast_extension_headers, configure_twcc_receiver_only,
};
use rtc::peer_connection::configuration::media_engine::{
    MediaEngine, MIME_TYPE_H264, MIME_TYPE_HEVC, MIME_TYPE_OPUS,
};
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::peer_connection::RTCPeerConnection;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use thiserror::Error;

use super::rtc_feedback::FeedbackToApplication;
use super::rtc_srtp_keys::{offered_profiles, KeyTap};

use crate::media::{Codec, MediaKind};

/// H.264 as we answer it: constrained baseline 3.1, which every browser decodes and encodes.
pub const H264_FMTP: &str = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
/// H.265 as we answer it: Main profile, main tier, level 3.1, one RTP stream (RFC 7798 §7.1). The
/// crate matches an offer's H.265 by name when these differ.
pub const H265_FMTP: &str = "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST";

#[derive(Debug, Error)]
pub enum RtcPeerError {
    #[error("webrtc: {0}")]
    Stack(#[from] rtc::shared::error::Error),
    #[error("the answer names no ice-ufrag")]
    NoUfrag,
}

/// Which way media goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The peer sends (WHIP).
    Publish,
    /// The peer receives (WHEP).
    Play,
}

/// A sending track of a playing peer: the sender, its SSRC and the payload type negotiated.
#[derive(Debug, Clone, Copy)]
pub struct OutTrack {
    pub sender: rtc::rtp_transceiver::RTCRtpSenderId,
    pub ssrc: u32,
    pub payload_type: u8,
}

/// A peer connection with its answer, ready for the UDP worker.
pub struct NewPeer {
    pub connection: RTCPeerConnection,
    pub answer: String,
    /// Our ICE username fragment: the STUN username's first half.
    pub local_ufrag: String,
    /// Our ICE password: bindings are checked with it once a player leaves the crate
    /// (`rtc_slim`).
    pub local_pwd: String,
    pub video: Option<OutTrack>,
    pub audio: Option<OutTrack>,
    /// Where a player's SRTP master key shows up once DTLS is done (`rtc_srtp_keys`): the worker
    /// then protects what it sends itself. `None` for publishers.
    pub keys: Option<Arc<KeyTap>>,
}

/// Our codec of a track: `video` (H.264 or H.265) for video, Opus for audio.
fn codec(kind: MediaKind, video: Codec) -> RTCRtpCodecParameters {
    let feedback =
        |typ: &str, parameter: &str| RTCPFeedback { typ: typ.to_owned(), parameter: parameter.to_owned() };
    let (video_mime, video_fmtp, video_type) = match video {
        Codec::H265 => (MIME_TYPE_HEVC, H265_FMTP, 104),
        _ => (MIME_TYPE_H264, H264_FMTP, 102),
    };
    match kind {
        MediaKind::Video => RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: video_mime.to_owned(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: video_fmtp.to_owned(),
                rtcp_feedback: vec![
                    feedback("goog-remb", ""),
                    feedback("ccm", "fir"),
                    feedback("nack", ""),
                    feedback("nack", "pli"),
                    feedback("transport-cc", ""),
                ],
            },
            payload_type: video_type,
        },
        MediaKind::Audio => RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: MIME_TYPE_OPUS.to_owned(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                rtcp_feedback: vec![feedback("transport-cc", "")],
            },
            payload_type: 111,
        },
    }
}

/// Random characters for ICE credentials and SSRCs.
fn random_text(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; n];
    // The OS random source does not fail on Linux; a zeroed buffer still gives a usable ufrag.
    let _ = getrandom::getrandom(&mut bytes);
    bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect()
}

fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::getrandom(&mut bytes);
    u32::from_be_bytes(bytes)
}

/// Where `FeedbackToApplication` sits in the chain: past the crate's last slot (13 000).
const FEEDBACK_SLOT: usize = 20_000;

/// The crate's default interceptors but its NACK responder: NACKs from players are answered from
/// the stream's shared ring (`rtc_ring`), where the responder would keep 1024 packets per player.
/// The NACK feedback is in our codecs (`codec`); the generator NACKs a publisher's losses.
fn interceptors(media_engine: &mut MediaEngine) -> Result<Registry, RtcPeerError> {
    let registry = Registry::new()
        .with(Slot::NackGenerator, NackGeneratorBuilder::new().build())
        // Application-most: after every stage that reads RTCP, before the terminus drops it.
        .with(Slot::Custom(FEEDBACK_SLOT), FeedbackToApplication::default());
    configure_simulcast_extension_headers(media_engine)?;
    let registry = configure_twcc_receiver_only(registry, media_engine)?;
    Ok(configure_rtcp_reports(registry))
}

/// The DTLS certificate of every peer of the process, made once (as SRS does): the crate would
/// make a key pair and sign a certificate for each peer otherwise, a cost at every connect and a
/// few KB kept per peer. Empty if it cannot be made: each peer then makes its own.
fn shared_certificate() -> Vec<RTCCertificate> {
    static CERTIFICATE: OnceLock<Option<RTCCertificate>> = OnceLock::new();
    let made = CERTIFICATE.get_or_init(|| {
        let provider = rtc::crypto::default_provider().ok()?;
        let params = CertificateParams::new(vec![format!("srs-{}", random_text(8))]).ok()?;
        RTCCertificate::generate(provider.crypto(), rtc::crypto::SignatureScheme::EcdsaP256Sha256, params)
            .map_err(|e| tracing::warn!("webrtc: no shared dtls certificate, one per peer: {e}"))
            .ok()
    });
    made.iter().cloned().collect()
}

/// The host candidates an answer carries (SRS's `rtc_server.protocol`): UDP, TCP (passive,
/// ICE-TCP on the same port number), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transports {
    pub udp: bool,
    pub tcp: bool,
}

impl Transports {
    pub const UDP: Transports = Transports { udp: true, tcp: false };
}

/// Answers `offer` for a peer that publishes or plays, with `candidate` as our host candidate
/// on each of `transports`; its video is `video` (H.264 or H.265, `codec::rtp::sdp` chooses).
pub fn answer(
    offer: &str,
    direction: Direction,
    candidate: SocketAddr,
    transports: Transports,
    video_codec: Codec,
) -> Result<NewPeer, RtcPeerError> {
    let now = Instant::now();
    let mut media_engine = MediaEngine::default();
    media_engine.register_codec(codec(MediaKind::Video, video_codec), RtpCodecKind::Video)?;
    media_engine.register_codec(codec(MediaKind::Audio, video_codec), RtpCodecKind::Audio)?;
    let registry = interceptors(&mut media_engine)?;
    let local_ufrag = random_text(8);
    let local_pwd = random_text(24);
    let mut settings = SettingEngineBuilder::new()
        .with_lite(true)
        .with_ice_credentials(local_ufrag.clone(), local_pwd.clone())
        .with_include_loopback_candidate(true)
        .with_srtp_protection_profiles(offered_profiles());
    let keys = if direction == Direction::Play { KeyTap::new() } else { None };
    if let Some(tap) = &keys {
        settings = settings.with_crypto_provider(Arc::clone(tap) as Arc<dyn rtc::crypto::RTCCryptoProvider>);
    }
    let settings = settings.build();
    let mut connection = rtc::peer_connection::RTCPeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().with_certificates(shared_certificate()).build())
        .with_setting_engine(settings)
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .build(now)?;
    let mut senders = Vec::new();
    if direction == Direction::Play {
        for (kind, rtp_kind) in
            [(MediaKind::Video, RtpCodecKind::Video), (MediaKind::Audio, RtpCodecKind::Audio)]
        {
            let ssrc = random_u32();
            let track = MediaStreamTrack::new(
                "srs".to_owned(),
                format!("srs-{kind}"),
                format!("srs-{kind}"),
                rtp_kind,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                    codec: codec(kind, video_codec).rtp_codec,
                    ..Default::default()
                }],
            );
            senders.push((kind, connection.add_track(track)?, ssrc));
        }
    }
    connection.set_remote_description(now, RTCSessionDescription::offer(offer.to_owned())?)?;
    let networks = [(transports.udp, "udp", TcpType::Unspecified), (transports.tcp, "tcp", TcpType::Passive)];
    for (_, network, tcp_type) in networks.into_iter().filter(|(on, _, _)| *on) {
        let host = CandidateHostConfig {
            base_config: CandidateConfig {
                network: network.to_owned(),
                address: candidate.ip().to_string(),
                port: candidate.port(),
                component: 1,
                ..Default::default()
            },
            tcp_type,
        }
        .new_candidate_host()?;
        connection.add_local_candidate(RTCIceCandidate::from(&host).to_json()?)?;
    }
    let answer = connection.create_answer(None)?;
    connection.set_local_description(now, answer)?;
    let answer = connection.local_description().map(|d| d.sdp).unwrap_or_default();
    let (mut video, mut audio) = (None, None);
    for (kind, sender, ssrc) in senders {
        let Some(mut rtp_sender) = connection.rtp_sender(sender) else { continue };
        let mime = codec(kind, video_codec).rtp_codec.mime_type;
        let negotiated = rtp_sender
            .get_parameters()
            .rtp_parameters
            .codecs
            .iter()
            .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(&mime))
            .map(|c| c.payload_type);
        let Some(payload_type) = negotiated else { continue };
        let track = Some(OutTrack { sender, ssrc, payload_type });
        match kind {
            MediaKind::Video => video = track,
            MediaKind::Audio => audio = track,
        }
    }
    if crate::codec::rtp::sdp::ice_ufrag(&answer) != Some(local_ufrag.as_str()) {
        return Err(RtcPeerError::NoUfrag);
    }
    Ok(NewPeer { connection, answer, local_ufrag, local_pwd, video, audio, keys })
}
