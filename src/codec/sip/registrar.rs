//! The server side of GB28181's SIP (SRS 5+ flow), sans-IO: messages and clock ticks in,
//! actions out. A device REGISTERs (digest-challenged when a password is set: 401, then 200 or
//! 403); the registrar then INVITEs it to send PS over RTP to the media port with an SSRC of its
//! choosing (`y=`), ACKs the 200, and answers MESSAGE (Keepalive, Catalog) with 200. Media that
//! stops for `reinvite` brings a new INVITE with the same SSRC; BYE or `Expires: 0` ends the
//! session, as does `timeout` without SIP or media.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::digest;
use super::headers::{parse_cseq, parse_digest, NameAddr, Via};
use super::sdp::{MediaOffer, MediaTransport};
use super::{SipError, SipMessage};
use crate::codec::xorshift::XorShift;

/// Most devices (registered or being challenged) one registrar keeps.
const MAX_DEVICES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// Our GB28181 id (From of our requests).
    pub server_id: String,
    pub realm: String,
    /// Digest password; `None` accepts every REGISTER.
    pub password: Option<String>,
    /// The address written in Via, Contact and the SDP `c=` line.
    pub candidate: String,
    pub sip_port: u16,
    pub media_port: u16,
    pub reinvite: Duration,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer on the connection or address the message came from.
    Reply(SipMessage),
    /// Send to the device, over the path its REGISTER came in on.
    Send { device: String, message: SipMessage },
    /// The device registered: remember that path.
    Registered { device: String },
    /// Media with `ssrc` belongs to `device` from now on.
    Play { device: String, ssrc: u32 },
    /// The device's session ended (BYE, unregister, timeout): end its stream, forget its path.
    Stop { device: String, reason: &'static str },
}

#[derive(Debug)]
enum CallState {
    /// Registered, no call (after a BYE from the device: until it registers again).
    Idle,
    Inviting {
        call_id: String,
        from_tag: String,
        sent: Instant,
    },
    Playing {
        call_id: String,
        from_tag: String,
        to: String,
        since: Instant,
    },
    /// Invited by an external SIP server (SRS 5's `POST /gb/v1/publish/`): media only.
    External,
}

#[derive(Debug)]
struct Device {
    /// The host part of the device's From URI (the INVITE's Request-URI host).
    host: String,
    transport: MediaTransport,
    ssrc: String,
    state: CallState,
    cseq: u32,
    last_sip: Instant,
    last_media: Option<Instant>,
}

pub struct Registrar {
    config: RegistrarConfig,
    devices: HashMap<String, Device>,
    /// The nonce last sent to each device id being challenged.
    nonces: HashMap<String, String>,
    ssrcs: HashMap<u32, String>,
    rng: XorShift,
}

impl Registrar {
    /// `seed` feeds nonces, tags, branches and SSRC digits (the caller draws it from the OS).
    pub fn new(config: RegistrarConfig, seed: u64) -> Registrar {
        Registrar {
            config,
            devices: HashMap::new(),
            nonces: HashMap::new(),
            ssrcs: HashMap::new(),
            rng: XorShift::new(seed | 1),
        }
    }

    /// The device an RTP SSRC belongs to.
    pub fn device_of_ssrc(&self, ssrc: u32) -> Option<&str> {
        self.ssrcs.get(&ssrc).map(String::as_str)
    }

    pub fn is_registered(&self, device: &str) -> bool {
        self.devices.contains_key(device)
    }

    /// A device an external SIP server invites, sending with `ssrc` (SRS 5's
    /// `POST /gb/v1/publish/`); `Err` if the id or the SSRC is taken. It ends after `timeout`
    /// without media.
    pub fn expect_media(&mut self, device: &str, ssrc: u32, now: Instant) -> Result<(), &'static str> {
        if self.devices.contains_key(device) {
            return Err("device id busy");
        }
        if self.ssrcs.contains_key(&ssrc) {
            return Err("ssrc busy");
        }
        if self.devices.len() >= MAX_DEVICES {
            return Err("too many devices");
        }
        self.ssrcs.insert(ssrc, device.to_owned());
        let device_state = Device {
            host: String::new(),
            transport: MediaTransport::Tcp,
            ssrc: format!("{ssrc:010}"),
            state: CallState::External,
            cseq: 0,
            last_sip: now,
            last_media: None,
        };
        self.devices.insert(device.to_owned(), device_state);
        Ok(())
    }

    /// Media arrived for `device`.
    pub fn on_media(&mut self, device: &str, now: Instant) {
        if let Some(d) = self.devices.get_mut(device) {
            d.last_media = Some(now);
        }
    }

    /// A message from a device (`transport`: what it came over).
    pub fn on_message(
        &mut self,
        message: &SipMessage,
        transport: MediaTransport,
        now: Instant,
    ) -> Result<Vec<Action>, SipError> {
        for name in ["via", "from", "to", "call-id", "cseq"] {
            if message.header(name).is_none() {
                return Err(SipError::MissingHeader(match name {
                    "via" => "Via",
                    "from" => "From",
                    "to" => "To",
                    "call-id" => "Call-ID",
                    _ => "CSeq",
                }));
            }
        }
        let from = NameAddr::parse(message.require("from")?)?;
        let device = from.user().ok_or(SipError::BadHeader("From"))?.to_owned();
        match message.method() {
            Some("REGISTER") => self.on_register(message, &from, device, transport, now),
            Some("MESSAGE") | Some("NOTIFY") | Some("OPTIONS") | Some("INFO") => {
                if let Some(d) = self.devices.get_mut(&device) {
                    d.last_sip = now;
                }
                Ok(vec![Action::Reply(ok(message))])
            }
            Some("BYE") => {
                let mut actions = vec![Action::Reply(ok(message))];
                if let Some(d) = self.devices.get_mut(&device) {
                    d.last_sip = now;
                    if !matches!(d.state, CallState::Idle) {
                        d.state = CallState::Idle;
                        actions.push(Action::Stop { device, reason: "bye" });
                    }
                }
                Ok(actions)
            }
            Some("ACK") | Some("CANCEL") => Ok(Vec::new()),
            Some(_) => Ok(vec![Action::Reply(SipMessage::response_to(message, 501, "Not Implemented"))]),
            None => {
                // The device's answer to our INVITE or BYE: the To user is the device.
                let to = NameAddr::parse(message.require("to")?)?;
                let device = to.user().ok_or(SipError::BadHeader("To"))?.to_owned();
                Ok(self.on_response(message, device, now))
            }
        }
    }

    fn on_register(
        &mut self,
        message: &SipMessage,
        from: &NameAddr,
        device: String,
        transport: MediaTransport,
        now: Instant,
    ) -> Result<Vec<Action>, SipError> {
        if device.len() > 64 || !device.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Ok(vec![Action::Reply(SipMessage::response_to(message, 400, "Bad Device Id"))]);
        }
        // The host goes into the Request-URI of our INVITE, ACK and BYE: a space there breaks the
        // request line, so only a host token is taken (the fuzzer found the INVITE we wrote did
        // not parse).
        if from.host().is_some_and(|host| !is_host_token(host)) {
            return Ok(vec![Action::Reply(SipMessage::response_to(message, 400, "Bad From Host"))]);
        }
        if let Some(password) = self.config.password.clone() {
            let Some(authorization) = message.header("authorization") else {
                return Ok(vec![Action::Reply(self.challenge(message, &device))]);
            };
            let params = parse_digest(authorization)?;
            let get =
                |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("");
            let expected_nonce = self.nonces.get(&device).map(String::as_str);
            let valid = expected_nonce == Some(get("nonce"))
                && get("response")
                    == digest::response(
                        get("username"),
                        &self.config.realm,
                        &password,
                        "REGISTER",
                        get("uri"),
                        get("nonce"),
                    );
            if !valid {
                return Ok(vec![Action::Reply(SipMessage::response_to(message, 403, "Forbidden"))]);
            }
            self.nonces.remove(&device);
        }
        let expires = message.header("expires").and_then(|e| e.trim().parse::<u32>().ok()).unwrap_or(3600);
        let mut reply = ok(message);
        reply.push_header("Expires", expires.to_string());
        let mut actions = vec![Action::Reply(reply)];
        if expires == 0 {
            if let Some(d) = self.devices.remove(&device) {
                self.ssrcs.retain(|_, owner| *owner != device);
                if let Some(bye) = self.bye(&device, &d) {
                    actions.push(Action::Send { device: device.clone(), message: bye });
                }
                actions.push(Action::Stop { device, reason: "unregistered" });
            }
            return Ok(actions);
        }
        if !self.devices.contains_key(&device) && self.devices.len() >= MAX_DEVICES {
            return Ok(vec![Action::Reply(SipMessage::response_to(message, 503, "Service Unavailable"))]);
        }
        let host = from.host().unwrap_or(&self.config.realm).to_owned();
        let fresh = !self.devices.contains_key(&device);
        if fresh {
            let ssrc = self.new_ssrc();
            self.ssrcs.insert(ssrc.parse().unwrap_or_default(), device.clone());
            self.devices.insert(
                device.clone(),
                Device {
                    host,
                    transport,
                    ssrc,
                    state: CallState::Idle,
                    cseq: 0,
                    last_sip: now,
                    last_media: None,
                },
            );
        }
        actions.push(Action::Registered { device: device.clone() });
        let Some(d) = self.devices.get_mut(&device) else { return Ok(actions) };
        d.last_sip = now;
        d.transport = transport;
        if matches!(d.state, CallState::Idle) {
            actions.push(self.invite(&device, now));
        }
        Ok(actions)
    }

    fn challenge(&mut self, message: &SipMessage, device: &str) -> SipMessage {
        if self.nonces.len() >= MAX_DEVICES {
            self.nonces.clear();
        }
        let nonce = format!("{:016x}", self.rng.next_u64());
        let mut reply = SipMessage::response_to(message, 401, "Unauthorized");
        reply.push_header("WWW-Authenticate", digest::challenge(&self.config.realm, &nonce));
        self.nonces.insert(device.to_owned(), nonce);
        reply
    }

    fn on_response(&mut self, message: &SipMessage, device: String, now: Instant) -> Vec<Action> {
        let Some(code) = message.status() else { return Vec::new() };
        let Ok((cseq, method)) = message.require("cseq").and_then(parse_cseq) else { return Vec::new() };
        if method != "INVITE" || code < 200 {
            return Vec::new();
        }
        let server = self.server_uri();
        let (candidate, sip_port) = (self.config.candidate.clone(), self.config.sip_port);
        let branch = self.token();
        let Some(d) = self.devices.get_mut(&device) else { return Vec::new() };
        let CallState::Inviting { call_id, from_tag, .. } = &d.state else { return Vec::new() };
        if message.header("call-id") != Some(call_id.as_str()) {
            return Vec::new();
        }
        d.last_sip = now;
        if code >= 300 {
            // Refused: try again after `reinvite`.
            d.state = CallState::Inviting { call_id: call_id.clone(), from_tag: from_tag.clone(), sent: now };
            return Vec::new();
        }
        let to = message.header("to").unwrap_or_default().to_owned();
        let uri = format!("sip:{device}@{}", d.host);
        let mut ack = SipMessage::request("ACK", &uri);
        ack.push_header("Via", via(d.transport, &candidate, sip_port, &branch));
        ack.push_header("From", NameAddr::new(server).with_tag(from_tag).to_string());
        ack.push_header("To", to.clone());
        ack.push_header("Call-ID", call_id.clone());
        ack.push_header("CSeq", format!("{cseq} ACK"));
        ack.push_header("Max-Forwards", "70");
        let ssrc = d.ssrc.parse().unwrap_or_default();
        d.state = CallState::Playing { call_id: call_id.clone(), from_tag: from_tag.clone(), to, since: now };
        vec![Action::Send { device: device.clone(), message: ack }, Action::Play { device, ssrc }]
    }

    /// Re-INVITEs devices whose media stopped, drops those silent past `timeout`.
    pub fn on_tick(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        let (reinvite, timeout) = (self.config.reinvite, self.config.timeout);
        let mut expired = Vec::new();
        let mut to_invite = Vec::new();
        for (id, d) in &self.devices {
            let last_heard = d.last_media.map_or(d.last_sip, |media| media.max(d.last_sip));
            if now.duration_since(last_heard) > timeout {
                expired.push(id.clone());
                continue;
            }
            match &d.state {
                CallState::Playing { since, .. } => {
                    let media = d.last_media.map_or(*since, |media| media.max(*since));
                    if now.duration_since(media) > reinvite {
                        to_invite.push(id.clone());
                    }
                }
                CallState::Inviting { sent, .. } if now.duration_since(*sent) > reinvite => {
                    to_invite.push(id.clone())
                }
                _ => {}
            }
        }
        for id in expired {
            if let Some(d) = self.devices.remove(&id) {
                self.ssrcs.retain(|_, owner| *owner != id);
                if let Some(bye) = self.bye(&id, &d) {
                    actions.push(Action::Send { device: id.clone(), message: bye });
                }
                actions.push(Action::Stop { device: id, reason: "timeout" });
            }
        }
        for id in to_invite {
            let bye = self.devices.get(&id).and_then(|d| self.bye(&id, d));
            if let Some(bye) = bye {
                actions.push(Action::Send { device: id.clone(), message: bye });
            }
            actions.push(self.invite(&id, now));
        }
        actions
    }

    /// An INVITE for the device's SSRC; the device goes to `Inviting`.
    fn invite(&mut self, device: &str, now: Instant) -> Action {
        let (call_id, from_tag, branch) = (self.token(), format!("SRS{}", &self.token()[..8]), self.token());
        let server = self.server_uri();
        let config = &self.config;
        let Some(d) = self.devices.get_mut(device) else {
            return Action::Stop { device: device.to_owned(), reason: "unknown device" };
        };
        d.cseq += 1;
        let uri = format!("sip:{device}@{}", d.host);
        let mut invite = SipMessage::request("INVITE", &uri);
        invite.push_header("Via", via(d.transport, &config.candidate, config.sip_port, &branch));
        invite.push_header("From", NameAddr::new(server).with_tag(&from_tag).to_string());
        invite.push_header("To", NameAddr::new(uri.clone()).to_string());
        invite.push_header("Call-ID", call_id.clone());
        invite.push_header("CSeq", format!("{} INVITE", d.cseq));
        invite.push_header(
            "Contact",
            format!("<sip:{}@{}:{}>", config.server_id, config.candidate, config.sip_port),
        );
        invite.push_header("Max-Forwards", "70");
        invite.push_header("Subject", format!("{device}:{},{}:0", d.ssrc, config.server_id));
        invite.push_header("Content-Type", "application/sdp");
        let offer = MediaOffer {
            id: config.server_id.clone(),
            ip: config.candidate.clone(),
            port: config.media_port,
            transport: d.transport,
            direction: "recvonly",
            ssrc: d.ssrc.clone(),
        };
        invite.body = Bytes::from(offer.write());
        d.state = CallState::Inviting { call_id, from_tag, sent: now };
        Action::Send { device: device.to_owned(), message: invite }
    }

    /// A BYE ending the device's call, if it has one in progress.
    fn bye(&self, device: &str, d: &Device) -> Option<SipMessage> {
        let CallState::Playing { call_id, from_tag, to, .. } = &d.state else { return None };
        let uri = format!("sip:{device}@{}", d.host);
        let mut bye = SipMessage::request("BYE", &uri);
        let branch = format!("{call_id}b{}", d.cseq + 1);
        bye.push_header("Via", via(d.transport, &self.config.candidate, self.config.sip_port, &branch));
        bye.push_header("From", NameAddr::new(self.server_uri()).with_tag(from_tag).to_string());
        bye.push_header("To", to.clone());
        bye.push_header("Call-ID", call_id.clone());
        bye.push_header("CSeq", format!("{} BYE", d.cseq + 1));
        bye.push_header("Max-Forwards", "70");
        Some(bye)
    }

    fn server_uri(&self) -> String {
        format!("sip:{}@{}", self.config.server_id, self.config.realm)
    }

    fn token(&mut self) -> String {
        format!("{:016x}", self.rng.next_u64())
    }

    /// SRS's SSRC string: "0", five digits of our id (its domain part), four random digits;
    /// drawn again while taken.
    fn new_ssrc(&mut self) -> String {
        let domain: String = self.config.server_id.chars().skip(3).take(5).collect();
        let domain = if domain.len() == 5 && domain.bytes().all(|b| b.is_ascii_digit()) {
            domain
        } else {
            "00000".into()
        };
        loop {
            let ssrc = format!("0{domain}{:04}", self.rng.below(10_000));
            if ssrc.parse::<u32>().is_ok_and(|value| !self.ssrcs.contains_key(&value)) {
                return ssrc;
            }
        }
    }
}

/// A URI host (with port): a name, an IPv4 address or a bracketed IPv6 one.
fn is_host_token(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']'))
}

fn ok(request: &SipMessage) -> SipMessage {
    SipMessage::response_to(request, 200, "OK")
}

fn via(transport: MediaTransport, host: &str, port: u16, branch: &str) -> String {
    let transport = if transport == MediaTransport::Tcp { "TCP" } else { "UDP" };
    Via {
        transport: transport.into(),
        host: host.into(),
        port: Some(port),
        params: vec![("rport".into(), None), ("branch".into(), Some(format!("z9hG4bK{branch}")))],
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::sip::parse_datagram;

    const DEVICE: &str = "34020000001320000001";

    fn config(password: Option<&str>) -> RegistrarConfig {
        RegistrarConfig {
            server_id: "34020000002000000001".into(),
            realm: "3402000000".into(),
            password: password.map(str::to_owned),
            candidate: "10.0.0.1".into(),
            sip_port: 5060,
            media_port: 9000,
            reinvite: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
        }
    }

    fn register(authorization: Option<&str>, expires: u32) -> SipMessage {
        let mut text = format!(
            "REGISTER sip:34020000002000000001@3402000000 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9:5060;rport;branch=z9hG4bK1\r\n\
             From: <sip:{DEVICE}@3402000000>;tag=7\r\nTo: <sip:{DEVICE}@3402000000>\r\nCall-ID: reg1\r\nCSeq: 1 REGISTER\r\n\
             Expires: {expires}\r\n"
        );
        if let Some(authorization) = authorization {
            text.push_str(&format!("Authorization: {authorization}\r\n"));
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        parse_datagram(text.as_bytes(), &Default::default()).unwrap()
    }

    fn sent(actions: &[Action], method: &str) -> Option<SipMessage> {
        actions.iter().find_map(|a| match a {
            Action::Send { message, .. } if message.method() == Some(method) => Some(message.clone()),
            _ => None,
        })
    }

    fn replied(actions: &[Action]) -> Option<u16> {
        actions.iter().find_map(|a| match a {
            Action::Reply(message) => message.status(),
            _ => None,
        })
    }

    /// The device's 200 OK to `invite`.
    fn answer(invite: &SipMessage) -> SipMessage {
        let mut ok = SipMessage::response_to(invite, 200, "OK");
        let to = NameAddr::parse(invite.header("to").unwrap()).unwrap().with_tag("dev1");
        ok.set_header("To", to.to_string());
        ok
    }

    #[test]
    fn register_invite_ack_then_reinvite_after_media_loss_and_timeout() {
        let mut registrar = Registrar::new(config(None), 1);
        let t0 = Instant::now();
        let actions = registrar.on_message(&register(None, 3600), MediaTransport::Udp, t0).unwrap();
        assert_eq!(replied(&actions), Some(200));
        assert!(actions.contains(&Action::Registered { device: DEVICE.into() }));
        let invite = sent(&actions, "INVITE").expect("an INVITE follows the REGISTER");
        let sdp = MediaOffer::parse(std::str::from_utf8(&invite.body).unwrap()).unwrap();
        assert_eq!(
            (sdp.ip.as_str(), sdp.port, sdp.transport, sdp.direction),
            ("10.0.0.1", 9000, MediaTransport::Udp, "recvonly")
        );
        assert_eq!(sdp.ssrc.len(), 10);
        assert!(sdp.ssrc.starts_with("020000"), "SRS's ssrc: 0 + the id's domain digits: {}", sdp.ssrc);
        assert_eq!(
            invite.header("subject"),
            Some(format!("{DEVICE}:{},34020000002000000001:0", sdp.ssrc).as_str())
        );
        assert!(invite.header("via").unwrap().contains(";rport;branch=z9hG4bK"));

        let actions = registrar.on_message(&answer(&invite), MediaTransport::Udp, t0).unwrap();
        let ack = sent(&actions, "ACK").expect("200 is ACKed");
        assert!(ack.header("to").unwrap().ends_with("tag=dev1"));
        let ssrc = sdp.ssrc_value().unwrap();
        assert!(actions.contains(&Action::Play { device: DEVICE.into(), ssrc }));
        assert_eq!(registrar.device_of_ssrc(ssrc), Some(DEVICE));

        registrar.on_media(DEVICE, t0 + Duration::from_secs(1));
        assert!(registrar.on_tick(t0 + Duration::from_secs(4)).is_empty(), "media is fresh");
        let actions = registrar.on_tick(t0 + Duration::from_secs(7));
        assert!(sent(&actions, "BYE").is_some(), "the dead call is ended");
        let reinvite = sent(&actions, "INVITE").expect("re-INVITE after `reinvite` of media loss");
        assert!(
            std::str::from_utf8(&reinvite.body).unwrap().contains(&format!("y={}", sdp.ssrc)),
            "same ssrc"
        );

        let actions = registrar.on_tick(t0 + Duration::from_secs(62));
        assert!(actions.contains(&Action::Stop { device: DEVICE.into(), reason: "timeout" }));
        assert!(!registrar.is_registered(DEVICE));
    }

    #[test]
    fn a_from_host_that_is_not_a_host_is_refused() {
        // Found by the fuzzer (fuzz/regressions/sip_registrar): the host went into the INVITE's
        // Request-URI, whose request line then did not parse.
        let mut registrar = Registrar::new(config(None), 3);
        let now = Instant::now();
        let mut message = register(None, 3600);
        message.set_header("From", format!("<sip:{DEVICE}@t: <sip:1@18 MR2.168.1.64:5060>;tag=7"));
        let actions = registrar.on_message(&message, MediaTransport::Udp, now).unwrap();
        assert_eq!(replied(&actions), Some(400));
        assert!(sent(&actions, "INVITE").is_none());
        assert!(!registrar.is_registered(DEVICE));
        let actions = registrar.on_message(&register(None, 3600), MediaTransport::Udp, now).unwrap();
        let invite = sent(&actions, "INVITE").expect("a well-formed device is invited");
        assert!(parse_datagram(&invite.to_bytes(), &Default::default()).is_ok());
    }

    #[test]
    fn digest_challenge_then_200_or_403() {
        let mut registrar = Registrar::new(config(Some("pw")), 2);
        let now = Instant::now();
        let actions = registrar.on_message(&register(None, 3600), MediaTransport::Tcp, now).unwrap();
        let Some(Action::Reply(challenge)) = actions.first() else { panic!("{actions:?}") };
        assert_eq!(challenge.status(), Some(401));
        let params = parse_digest(challenge.header("www-authenticate").unwrap()).unwrap();
        let nonce = params.iter().find(|(n, _)| n == "nonce").unwrap().1.clone();
        let uri = "sip:34020000002000000001@3402000000";
        let wrong = digest::authorization(DEVICE, "3402000000", "nope", "REGISTER", uri, &nonce);
        let actions = registrar.on_message(&register(Some(&wrong), 3600), MediaTransport::Tcp, now).unwrap();
        assert_eq!(replied(&actions), Some(403));
        let right = digest::authorization(DEVICE, "3402000000", "pw", "REGISTER", uri, &nonce);
        let actions = registrar.on_message(&register(Some(&right), 3600), MediaTransport::Tcp, now).unwrap();
        assert_eq!(replied(&actions), Some(200));
        let invite = sent(&actions, "INVITE").unwrap();
        assert!(std::str::from_utf8(&invite.body).unwrap().contains("m=video 9000 TCP/RTP/AVP 96"));
        let replay = registrar.on_message(&register(Some(&right), 3600), MediaTransport::Tcp, now).unwrap();
        assert_eq!(replied(&replay), Some(403), "a nonce answers one challenge");
    }

    #[test]
    fn unregister_and_bye_end_the_stream_and_missing_headers_are_errors() {
        let mut registrar = Registrar::new(config(None), 3);
        let now = Instant::now();
        let actions = registrar.on_message(&register(None, 3600), MediaTransport::Udp, now).unwrap();
        let invite = sent(&actions, "INVITE").unwrap();
        registrar.on_message(&answer(&invite), MediaTransport::Udp, now).unwrap();
        let actions = registrar.on_message(&register(None, 0), MediaTransport::Udp, now).unwrap();
        assert!(sent(&actions, "BYE").is_some());
        assert!(actions.contains(&Action::Stop { device: DEVICE.into(), reason: "unregistered" }));
        let mut broken = register(None, 3600);
        broken.headers.retain(|(name, _)| name != "Call-ID");
        assert_eq!(
            registrar.on_message(&broken, MediaTransport::Udp, now),
            Err(SipError::MissingHeader("Call-ID"))
        );
    }
}
