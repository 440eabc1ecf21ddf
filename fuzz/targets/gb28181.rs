//! Fuzz bodies for what a GB28181 device sends: its SIP (messages from a datagram or a TCP stream,
//! header values, and the registrar's state machine driven by a sequence of them), its media (RTP
//! over RFC 4571 TCP framing or UDP, the reorder window, the program stream demuxer).

use std::time::{Duration, Instant};

use bytes::Bytes;
use srs::codec::gb28181::{Delivery, Rfc4571Framer, RtpPacket, Sequencer};
use srs::codec::ps::PsDemuxer;
use srs::codec::sip::headers::{self, NameAddr, Via};
use srs::codec::sip::{
    digest, parse_datagram, Action, MediaTransport, Registrar, RegistrarConfig, SipError, SipLimits,
    SipMessage, SipStreamParser,
};

use super::Input;

/// Steps per input, so one input stays fast.
const MAX_STEPS: usize = 256;

fn drain_ps(demuxer: &mut PsDemuxer) {
    while let Some(event) = demuxer.poll() {
        let _ = event;
    }
}

/// Program stream bytes in pieces, with the transport's signals between them: a loss (RTP gap) or
/// a frame boundary (RTP marker), as the GB28181 media session drives the demuxer.
pub fn ps_demux(data: &[u8]) {
    let mut input = Input::new(data);
    let mut demuxer = PsDemuxer::new(1 << 20);
    let mut steps = 0;
    while !input.is_empty() && steps < MAX_STEPS {
        steps += 1;
        let op = input.u8();
        demuxer.push(input.sized(true));
        match op % 8 {
            0 => demuxer.lost(),
            1 | 2 => demuxer.frame_boundary(),
            _ => {}
        }
        drain_ps(&mut demuxer);
    }
    demuxer.finish();
    drain_ps(&mut demuxer);
    let _ = demuxer.stats();
}

/// A device's media as the server reads it: over TCP, a byte stream cut by RFC 4571 framing in
/// pieces the input chooses; over UDP, datagrams through a 16-packet reorder window. RTP parsed,
/// put in order, the PS payloads demuxed with losses and markers.
pub fn gb28181_media(data: &[u8]) {
    let mut input = Input::new(data);
    let tcp = input.u8() & 1 == 0;
    let mut sequencer: Sequencer<RtpPacket> = Sequencer::new(if tcp { 0 } else { 16 });
    let mut demuxer = PsDemuxer::new(1 << 20);
    let mut framer = Rfc4571Framer::default();
    let mut deliveries = Vec::new();
    let mut steps = 0;
    while !input.is_empty() && steps < MAX_STEPS {
        steps += 1;
        let mut packets = Vec::new();
        if tcp {
            framer.push(input.sized(true));
            packets.extend(std::iter::from_fn(|| framer.next_packet()));
        } else {
            packets.push(Bytes::copy_from_slice(input.sized(true)));
        }
        for packet in packets {
            let Ok(packet) = RtpPacket::parse(packet) else { continue };
            sequencer.push(packet.sequence, packet, &mut deliveries);
            for delivery in deliveries.drain(..) {
                match delivery {
                    Delivery::Lost { .. } => demuxer.lost(),
                    Delivery::Payload(packet) => {
                        demuxer.push(&packet.payload);
                        if packet.marker {
                            demuxer.frame_boundary();
                        }
                    }
                }
            }
            drain_ps(&mut demuxer);
        }
    }
    demuxer.finish();
    drain_ps(&mut demuxer);
}

/// The header values the registrar reads, parsed the ways it parses them.
fn read_headers(message: &SipMessage) {
    let _ = message.method();
    let _ = message.status();
    for (name, value) in &message.headers {
        let _ = Via::parse(value);
        if let Ok(address) = NameAddr::parse(value) {
            let _ = (address.tag(), address.user(), address.host());
            let _ = address.to_string();
        }
        let _ = headers::uri_user(value);
        let _ = headers::uri_host(value);
        let _ = headers::parse_cseq(value);
        let _ = headers::parse_digest(value);
        let _ = message.header(name);
    }
}

/// SIP messages: one datagram (UDP), then the same bytes as a TCP stream in pieces the input
/// chooses; every message's headers read, and re-encoded.
pub fn sip_message(data: &[u8]) {
    let mut input = Input::new(data);
    let split = usize::from(input.u16());
    let rest = input.rest();
    let limits = SipLimits::default();
    if let Ok(message) = parse_datagram(rest, &limits) {
        read_headers(&message);
        let _ = message.to_bytes();
    }
    let mut parser = SipStreamParser::new(limits);
    let (first, second) = rest.split_at(split.min(rest.len()));
    for piece in [first, second] {
        parser.push(piece);
        while let Some(message) = parser.next_message() {
            match message {
                Ok(message) => read_headers(&message),
                Err(_) => return,
            }
        }
    }
}

/// The registrar of the GB28181 server driven by a program: REGISTERs (with and without a digest
/// answer computed from the last challenge, right or wrong), keepalives, BYEs, answers to the
/// INVITEs it sent (matching Call-ID or not), raw datagrams, media arrivals and clock ticks. Every
/// message it sends or replies must parse as SIP.
pub fn sip_registrar(data: &[u8]) {
    let mut input = Input::new(data);
    let password = (input.u8() & 1 == 1).then(|| "secret".to_string());
    let config = RegistrarConfig {
        server_id: "34020000002000000001".into(),
        realm: "3402000000".into(),
        password,
        candidate: "127.0.0.1".into(),
        sip_port: 5060,
        media_port: 9000,
        reinvite: Duration::from_secs(5),
        timeout: Duration::from_secs(60),
    };
    let mut registrar = Registrar::new(config, u64::from(input.u32()));
    let start = Instant::now();
    let mut now = start;
    // What the device side remembers: the last nonce challenged and INVITE received.
    let mut nonce = String::new();
    let mut invite: Option<SipMessage> = None;
    let mut steps = 0;
    while !input.is_empty() && steps < MAX_STEPS {
        steps += 1;
        let op = input.u8();
        let device = device_id(&mut input, op);
        let transport = if op & 0x80 == 0 { MediaTransport::Udp } else { MediaTransport::Tcp };
        let text = match op % 10 {
            0 => String::from_utf8_lossy(input.sized(true)).into_owned(),
            1..=3 => register(&device, &nonce, &mut input),
            4 => request(&device, "MESSAGE", &mut input),
            5 => request(&device, "BYE", &mut input),
            6 => answer_invite(&device, invite.as_ref(), &mut input),
            7 => {
                now += Duration::from_secs(u64::from(input.u8()));
                let actions = registrar.on_tick(now);
                check_actions(&actions, &mut nonce, &mut invite);
                continue;
            }
            8 => {
                registrar.on_media(&device, now);
                if let Some(owner) = registrar.device_of_ssrc(input.u32()) {
                    let _ = registrar.is_registered(owner);
                }
                continue;
            }
            _ => {
                let _ = registrar.expect_media(&device, input.u32(), now);
                continue;
            }
        };
        let Ok(message) = parse_datagram(text.as_bytes(), &SipLimits::default()) else { continue };
        if let Ok(actions) = registrar.on_message(&message, transport, now) {
            check_actions(&actions, &mut nonce, &mut invite);
        }
    }
}

/// A device id: mostly one of three well-formed ones, sometimes text from the input.
fn device_id(input: &mut Input<'_>, op: u8) -> String {
    match op & 0x60 {
        0x60 => input.text(),
        selector => format!("3402000000132000000{}", selector >> 5),
    }
}

fn register(device: &str, nonce: &str, input: &mut Input<'_>) -> String {
    let expires = match input.u8() % 4 {
        0 => 0,
        1 => u32::from(input.u16()),
        _ => 3600,
    };
    let uri = "sip:34020000002000000001@3402000000";
    let mut text = format!(
        "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bK{}\r\n\
         From: <sip:{device}@3402000000>;tag=1\r\nTo: <sip:{device}@3402000000>\r\nCall-ID: reg{}\r\n\
         CSeq: {} REGISTER\r\nExpires: {expires}\r\n",
        input.u8(),
        input.u8(),
        input.u8()
    );
    let answer = input.u8();
    if answer & 1 == 1 {
        let password = if answer & 2 == 0 { "secret" } else { "wrong" };
        let authorization = digest::authorization(device, "3402000000", password, "REGISTER", uri, nonce);
        text.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    text.push_str("Content-Length: 0\r\n\r\n");
    text
}

fn request(device: &str, method: &str, input: &mut Input<'_>) -> String {
    let body = input.text();
    format!(
        "{method} sip:34020000002000000001@3402000000 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK{}\r\n\
         From: <sip:{device}@3402000000>;tag=2\r\nTo: <sip:34020000002000000001@3402000000>\r\nCall-ID: c{}\r\n\
         CSeq: {} {method}\r\nContent-Type: Application/MANSCDP+xml\r\nContent-Length: {}\r\n\r\n{body}",
        input.u8(),
        input.u8(),
        input.u8(),
        body.len()
    )
}

/// The device's answer to the last INVITE (its Call-ID and CSeq kept unless the input says not).
fn answer_invite(device: &str, invite: Option<&SipMessage>, input: &mut Input<'_>) -> String {
    let code = [100, 180, 200, 200, 200, 486, 603, 699][usize::from(input.u8() % 8)];
    let keep = input.u8();
    let call_id = match invite.and_then(|i| i.header("call-id")) {
        Some(id) if keep & 1 == 0 => id.to_owned(),
        _ => input.text(),
    };
    let cseq = match invite.and_then(|i| i.header("cseq")) {
        Some(cseq) if keep & 2 == 0 => cseq.to_owned(),
        _ => format!("{} INVITE", input.u8()),
    };
    let sdp = format!(
        "v=0\r\no={device} 0 0 IN IP4 127.0.0.1\r\ns=Play\r\nc=IN IP4 127.0.0.1\r\nm=video {} TCP/RTP/AVP 96\r\ny={}\r\n",
        input.u16(),
        input.u32()
    );
    format!(
        "SIP/2.0 {code} OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
         From: <sip:34020000002000000001@3402000000>;tag=3\r\nTo: <sip:{device}@3402000000>;tag=4\r\n\
         Call-ID: {call_id}\r\nCSeq: {cseq}\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

/// Every message the registrar writes parses as SIP; the device side remembers challenges and
/// INVITEs.
fn check_actions(actions: &[Action], nonce: &mut String, invite: &mut Option<SipMessage>) {
    for action in actions {
        let message = match action {
            Action::Reply(message) | Action::Send { message, .. } => message,
            Action::Registered { .. } | Action::Play { .. } | Action::Stop { .. } => continue,
        };
        // (A reply copies the request's Via, From, To, Call-ID and CSeq: a request near the head
        // limit gives a reply over it, which is the peer's doing.)
        let parsed = parse_datagram(&message.to_bytes(), &SipLimits::default());
        assert!(
            matches!(parsed, Ok(_) | Err(SipError::HeadTooLarge { .. })),
            "the registrar wrote SIP that does not parse: {parsed:?}\n{message:?}"
        );
        if let Some(challenge) = message.header("www-authenticate") {
            let params = headers::parse_digest(challenge).unwrap_or_default();
            if let Some((_, value)) = params.into_iter().find(|(name, _)| name == "nonce") {
                *nonce = value;
            }
        }
        if message.method() == Some("INVITE") {
            *invite = Some(message.clone());
        }
    }
}
