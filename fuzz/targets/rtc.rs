//! Fuzz bodies for what a WebRTC peer sends: the first-byte demultiplexing and STUN binding of the
//! shared UDP port, RTP headers, the H.264 and H.265 depacketizers fed a sequence of packets (not
//! one buffer), Opus payloads, sender-report lip sync and the SDP offer.

use bytes::Bytes;
use srs::codec::rtp::h264::{H264Depacketizer, H264Event, H264Packetizer};
use srs::codec::rtp::h265::{H265Depacketizer, H265Event, H265Packetizer};
use srs::codec::rtp::{demux, h264, h264_filter, opus, sdp, sync, RtpHeader};
use srs::media::MediaKind;

use super::Input;

/// At most this many packets per input, so one input stays fast.
const MAX_PACKETS: usize = 512;

/// One RTP packet of a program: either raw bytes through the header parser (as the UDP server
/// reads them after SRTP), or fields the program steps from the previous packet's (sequence
/// jumps, reordering, duplicates, timestamp changes) with a payload from the input.
struct Packet {
    sequence: u16,
    timestamp: u32,
    marker: bool,
    payload: Bytes,
}

struct PacketProgram<'a> {
    input: Input<'a>,
    sequence: u16,
    timestamp: u32,
    steps: usize,
}

impl<'a> PacketProgram<'a> {
    fn new(data: &'a [u8]) -> Self {
        let mut input = Input::new(data);
        let (sequence, timestamp) = (input.u16(), input.u32());
        PacketProgram { input, sequence, timestamp, steps: 0 }
    }

    /// The next packet, `None` at the end of the input; `flush` is set when the program asks
    /// the sender to stop (the depacketizer is flushed).
    fn next(&mut self, flush: &mut bool) -> Option<Packet> {
        if self.input.is_empty() || self.steps >= MAX_PACKETS {
            return None;
        }
        self.steps += 1;
        let op = self.input.u8();
        *flush = op & 0x40 != 0 && op & 0x20 != 0;
        if op & 0x80 != 0 {
            let raw = Bytes::copy_from_slice(self.input.sized(true));
            let Ok((header, range)) = RtpHeader::parse(&raw) else {
                return Some(Packet {
                    sequence: self.sequence,
                    timestamp: self.timestamp,
                    marker: false,
                    payload: Bytes::new(),
                });
            };
            self.sequence = header.sequence;
            self.timestamp = header.timestamp;
            return Some(Packet {
                sequence: header.sequence,
                timestamp: header.timestamp,
                marker: header.marker,
                payload: raw.slice(range),
            });
        }
        // Mostly the next packet; sometimes a jump back or ahead (loss, reorder, duplicate).
        let step = match op & 0x18 {
            0x00 | 0x08 => 1,
            0x10 => i16::from(self.input.u8() as i8),
            _ => self.input.u16() as i16,
        };
        self.sequence = self.sequence.wrapping_add_signed(step);
        if op & 0x04 != 0 {
            self.timestamp = self.timestamp.wrapping_add(u32::from(self.input.u16()));
        }
        let payload = Bytes::copy_from_slice(self.input.sized(true));
        Some(Packet { sequence: self.sequence, timestamp: self.timestamp, marker: op & 0x01 != 0, payload })
    }
}

/// What the publisher's task does with an access unit on its way out to WebRTC players:
/// B-frame and SEI filters, then the packetizer.
fn h264_access_unit(data: &Bytes, keyframe: bool, sets: &[Bytes]) {
    let _ = h264_filter::is_bframe(data);
    let data = h264_filter::strip_sei(data).unwrap_or_else(|| data.clone());
    let mut out = Vec::new();
    let _ = H264Packetizer::new(64 + data.len() % 1200).packetize(&data, keyframe, sets, &mut out);
    for payload in &out {
        let _ = h264::starts_keyframe(&payload.data);
    }
}

/// H.264 over RTP: a sequence of packets into the depacketizer (reorder window, STAP-A, FU-A,
/// losses), every access unit out through the filters and the packetizer.
pub fn rtp_h264(data: &[u8]) {
    let mut program = PacketProgram::new(data);
    let mut depacketizer = H264Depacketizer::new();
    let mut events = Vec::new();
    let mut sets: Vec<Bytes> = Vec::new();
    let mut flush = false;
    while let Some(packet) = program.next(&mut flush) {
        let _ = h264::starts_keyframe(&packet.payload);
        depacketizer.push(packet.sequence, packet.timestamp, packet.marker, packet.payload, &mut events);
        if flush {
            depacketizer.flush(&mut events);
        }
        for event in events.drain(..) {
            match event {
                H264Event::ParameterSets { sps, pps } => sets = vec![sps, pps],
                H264Event::AccessUnit { data, keyframe, .. } => h264_access_unit(&data, keyframe, &sets),
                H264Event::NeedKeyframe | H264Event::Damaged(_) => {}
            }
        }
    }
    depacketizer.flush(&mut events);
    let _ = depacketizer.parameter_sets();
}

/// H.265 over RTP: the same program into the H.265 depacketizer (AP, FU), pictures repacketized.
pub fn rtp_h265(data: &[u8]) {
    let mut program = PacketProgram::new(data);
    let mut depacketizer = H265Depacketizer::new();
    let mut events = Vec::new();
    let mut sets: Vec<Bytes> = Vec::new();
    let mut flush = false;
    while let Some(packet) = program.next(&mut flush) {
        depacketizer.push(packet.sequence, packet.timestamp, packet.marker, packet.payload, &mut events);
        for event in events.drain(..) {
            match event {
                H265Event::ParameterSets { vps, sps, pps } => sets = vec![vps, sps, pps],
                H265Event::AccessUnit { data, keyframe, .. } => {
                    let mut out = Vec::new();
                    let max_payload = 64 + data.len() % 1200;
                    let _ = H265Packetizer::new(max_payload).packetize(&data, keyframe, &sets, &mut out);
                }
                H265Event::NeedKeyframe | H265Event::Damaged(_) => {}
            }
        }
    }
}

/// Datagrams on the shared WebRTC UDP port: classified by first byte, STUN binding requests read
/// for their ufrag, RTP headers parsed and Opus payloads taken; interleaved with sender reports
/// for lip sync (clock rates and times from the input).
pub fn rtc_udp(data: &[u8]) {
    let mut input = Input::new(data);
    let mut av_sync = sync::AvSync::new(u32::from(input.u16()), u32::from(input.u16()));
    let mut steps = 0;
    while !input.is_empty() && steps < MAX_PACKETS {
        steps += 1;
        match input.u8() % 4 {
            0 => {
                let kind = if input.u8() & 1 == 0 { MediaKind::Video } else { MediaKind::Audio };
                av_sync.started(kind, input.u32());
            }
            1 => {
                let kind = if input.u8() & 1 == 0 { MediaKind::Video } else { MediaKind::Audio };
                let ntp = u64::from(input.u32()) << 32 | u64::from(input.u32());
                let _ = av_sync.report(kind, ntp, input.u32());
            }
            _ => {
                let datagram = input.sized(true);
                match demux::classify(datagram) {
                    demux::Datagram::Stun => {
                        let _ = demux::binding_local_ufrag(datagram);
                    }
                    demux::Datagram::Rtp => {
                        if let Ok((_, range)) = RtpHeader::parse(datagram) {
                            let payload = Bytes::copy_from_slice(&datagram[range]);
                            let _ = opus::depacketize(payload);
                        }
                    }
                    demux::Datagram::Dtls | demux::Datagram::Unknown => {}
                }
            }
        }
    }
}

/// An SDP offer as a WHIP/WHEP client posts it (codecs, refusal, ICE ufrag), and as a GB28181
/// device answers an INVITE (the `y=` SSRC, media address and transport).
pub fn sdp(data: &[u8]) {
    let text = String::from_utf8_lossy(&data[..data.len().min(sdp::MAX_SDP)]);
    let offered = sdp::OfferedCodecs::of(&text);
    let _ = offered.refusal();
    let _ = sdp::ice_ufrag(&text);
    if let Some(offer) = srs::codec::sip::MediaOffer::parse(&text) {
        let _ = offer.ssrc_value();
        let written = offer.write();
        assert!(
            srs::codec::sip::MediaOffer::parse(&written).is_some(),
            "an offer we write does not parse: {written:?}"
        );
    }
}

/// Our ICE ufrag and password for `rtc_player`: a player of the session knows both (the answer
/// gives them), so bindings with a right integrity are input a peer controls too.
const PLAYER_UFRAG: &str = "fuzzufrag";
const PLAYER_PASSWORD: &str = "fuzzpasswordfuzzpassword";

/// A binding request as a player sends it for consent: a USERNAME (ours, a colon and the input's
/// bytes, or only the input's), attributes from the input, then a right MESSAGE-INTEGRITY and,
/// mostly, a right FINGERPRINT.
fn binding_request(input: &mut Input) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let flags = input.u8();
    let mut attributes = Vec::new();
    let mut attribute = |kind: u16, value: &[u8]| {
        attributes.extend_from_slice(&kind.to_be_bytes());
        attributes.extend_from_slice(&(value.len() as u16).to_be_bytes());
        attributes.extend_from_slice(value);
        attributes.resize(attributes.len().next_multiple_of(4), 0);
    };
    let mut username = if flags & 1 == 0 { format!("{PLAYER_UFRAG}:").into_bytes() } else { Vec::new() };
    username.extend_from_slice(input.sized(false));
    attribute(0x0006, &username);
    for _ in 0..(flags >> 5) {
        let kind = input.u16();
        let value = input.sized(false).to_vec();
        attribute(kind, &value);
    }
    let mut message = vec![0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42];
    message.extend_from_slice(&input.u32().to_be_bytes());
    message.extend_from_slice(&input.u32().to_be_bytes());
    message.extend_from_slice(&input.u32().to_be_bytes());
    let integrity_at = attributes.len();
    message[2..4].copy_from_slice(&((integrity_at + 24) as u16).to_be_bytes());
    message.extend_from_slice(&attributes);
    let Ok(mut mac) = <Hmac<sha1::Sha1> as Mac>::new_from_slice(PLAYER_PASSWORD.as_bytes()) else {
        return message;
    };
    mac.update(&message);
    message.extend_from_slice(&[0x00, 0x08, 0, 20]);
    message.extend_from_slice(&mac.finalize().into_bytes());
    if flags & 2 == 0 {
        message[2..4].copy_from_slice(&((integrity_at + 32) as u16).to_be_bytes());
        let fingerprint = srs::codec::rtp::stun::crc32(&message) ^ 0x5354_554e;
        message.extend_from_slice(&[0x80, 0x28, 0, 4]);
        message.extend_from_slice(&fingerprint.to_be_bytes());
    }
    message
}

/// What a WebRTC player sends once its session has left the `rtc` crate (`servers::rtc_slim`):
/// raw datagrams (STUN, DTLS, SRTCP that fails its tag), its RTCP from the input protected with
/// its key (so the RTCP parser and the replay window see any plaintext), sometimes sent twice,
/// and consent bindings with a right integrity and fingerprint.
pub fn rtc_player(data: &[u8]) {
    use srs::codec::srtcp::Srtcp;
    use srs::codec::srtp::{MasterKey, Profile};
    use srs::servers::rtc_slim::{Slim, SlimInput};
    let mut input = Input::new(data);
    let profile = if input.u8() & 1 == 0 { Profile::AeadAes128Gcm } else { Profile::Aes128CmHmacSha1_80 };
    let ours = MasterKey { profile, key: [1; 16], salt: [2; 14] };
    let theirs = MasterKey { profile, key: [3; 16], salt: [4; 14] };
    let mut slim = Slim::new(PLAYER_PASSWORD.to_owned(), &ours, &theirs);
    let mut player = Srtcp::new(&theirs);
    let from = std::net::SocketAddr::from(([127, 0, 0, 1], input.u16()));
    let mut steps = 0;
    while !input.is_empty() && steps < MAX_PACKETS {
        steps += 1;
        let op = input.u8();
        match op % 3 {
            0 => {
                let _ = slim.read(input.sized(true), PLAYER_UFRAG, from);
            }
            1 => {
                let Ok(protected) = player.protect(input.sized(true)) else { continue };
                let read = slim.read(&protected, PLAYER_UFRAG, from);
                // RTCP that was read once is refused the second time (what is not RTCP by its
                // first bytes is ignored both times).
                if op & 0x80 != 0 && matches!(read, Ok(SlimInput::Rtcp(_))) {
                    assert!(
                        slim.read(&protected, PLAYER_UFRAG, from).is_err(),
                        "a replayed SRTCP packet is refused"
                    );
                }
            }
            _ => {
                let request = binding_request(&mut input);
                let _ = slim.read(&request, PLAYER_UFRAG, from);
            }
        }
    }
}
