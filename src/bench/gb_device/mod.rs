//! A GB28181 camera of our own, for tests and `srs bench gb28181`: a SIP user agent that
//! REGISTERs (answering a digest challenge), answers INVITEs with its SDP, streams a TS file as
//! PS over RTP once ACKed (`media.rs`), sends Keepalive MESSAGEs and obeys BYE. SIP goes over
//! TCP or UDP; the media follows what the INVITE's SDP asks.

pub mod media;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::codec::sip::headers::{parse_digest, NameAddr};
use crate::codec::sip::{
    digest, parse_datagram, MediaOffer, MediaTransport, SipLimits, SipMessage, SipStreamParser,
};
pub use media::DeviceMedia;
use media::MediaTarget;

#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// The server's SIP address.
    pub server: SocketAddr,
    pub device_id: String,
    /// The server's id and realm (REGISTER's Request-URI).
    pub server_id: String,
    pub realm: String,
    pub password: Option<String>,
    /// SIP over TCP or UDP.
    pub transport: MediaTransport,
    pub keepalive: Duration,
    /// Stop sending media this long after the first ACK (once), as a camera whose uplink broke;
    /// the next INVITE brings it back.
    pub pause_media_after: Option<Duration>,
}

/// What a device did, for tests and reports.
#[derive(Debug, Default)]
pub struct DeviceStats {
    pub registered: AtomicU64,
    pub invites: AtomicU64,
    pub byes: AtomicU64,
    pub keepalives_answered: AtomicU64,
    pub frames_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
}

/// SIP over either transport.
enum SipLink {
    Tcp { stream: TcpStream, parser: SipStreamParser },
    Udp(UdpSocket),
}

impl SipLink {
    async fn connect(server: SocketAddr, transport: MediaTransport) -> Result<SipLink, String> {
        match transport {
            MediaTransport::Tcp => {
                let stream = TcpStream::connect(server).await.map_err(|e| format!("sip connect: {e}"))?;
                Ok(SipLink::Tcp { stream, parser: SipStreamParser::default() })
            }
            MediaTransport::Udp => {
                let socket = UdpSocket::bind("127.0.0.1:0").await.map_err(|e| format!("sip socket: {e}"))?;
                socket.connect(server).await.map_err(|e| format!("sip connect: {e}"))?;
                Ok(SipLink::Udp(socket))
            }
        }
    }

    fn local(&self) -> Option<SocketAddr> {
        match self {
            SipLink::Tcp { stream, .. } => stream.local_addr().ok(),
            SipLink::Udp(socket) => socket.local_addr().ok(),
        }
    }

    async fn send(&mut self, message: &SipMessage) -> Result<(), String> {
        let bytes = message.to_bytes();
        match self {
            SipLink::Tcp { stream, .. } => {
                stream.write_all(&bytes).await.map_err(|e| format!("sip write: {e}"))
            }
            SipLink::Udp(socket) => {
                socket.send(&bytes).await.map(|_| ()).map_err(|e| format!("sip send: {e}"))
            }
        }
    }

    async fn receive(&mut self) -> Result<SipMessage, String> {
        match self {
            SipLink::Tcp { stream, parser } => loop {
                if let Some(message) = parser.next_message() {
                    return message.map_err(|e| e.to_string());
                }
                let mut buffer = [0u8; 8192];
                let n = stream.read(&mut buffer).await.map_err(|e| format!("sip read: {e}"))?;
                if n == 0 {
                    return Err("sip connection closed by the server".into());
                }
                parser.push(&buffer[..n]);
            },
            SipLink::Udp(socket) => loop {
                let mut buffer = vec![0u8; 65_536];
                let n = socket.recv(&mut buffer).await.map_err(|e| format!("sip receive: {e}"))?;
                if let Ok(message) = parse_datagram(&buffer[..n], &SipLimits::default()) {
                    return Ok(message);
                }
            },
        }
    }
}

struct Ua {
    config: DeviceConfig,
    link: SipLink,
    local: SocketAddr,
    tag: String,
    call_id: String,
    cseq: u32,
    counter: u64,
}

impl Ua {
    fn transport_name(&self) -> &'static str {
        if self.config.transport == MediaTransport::Tcp {
            "TCP"
        } else {
            "UDP"
        }
    }

    fn request(&mut self, method: &str, uri: &str) -> SipMessage {
        self.cseq += 1;
        self.counter += 1;
        let (id, realm) = (&self.config.device_id, &self.config.realm);
        let mut message = SipMessage::request(method, uri);
        message.push_header(
            "Via",
            format!(
                "SIP/2.0/{} {};rport;branch=z9hG4bK{}{}",
                self.transport_name(),
                self.local,
                self.tag,
                self.counter
            ),
        );
        message.push_header("From", format!("<sip:{id}@{realm}>;tag={}", self.tag));
        message.push_header("To", format!("<sip:{id}@{realm}>"));
        message.push_header("Call-ID", self.call_id.clone());
        message.push_header("CSeq", format!("{} {method}", self.cseq));
        message.push_header("Max-Forwards", "70");
        message
    }

    fn register(&mut self, authorization: Option<String>) -> SipMessage {
        let uri = format!("sip:{}@{}", self.config.server_id, self.config.realm);
        let mut message = self.request("REGISTER", &uri);
        message.push_header("Contact", format!("<sip:{}@{}>", self.config.device_id, self.local));
        message.push_header("Expires", "3600");
        if let Some(authorization) = authorization {
            message.push_header("Authorization", authorization);
        }
        message
    }

    /// REGISTERs, answering one digest challenge; `Err` names a refusal (e.g. 403).
    async fn register_until_accepted(&mut self) -> Result<(), String> {
        let register = self.register(None);
        self.link.send(&register).await?;
        let mut answered_challenge = false;
        loop {
            let response = self.link.receive().await?;
            match response.status() {
                Some(200) => return Ok(()),
                Some(401) if !answered_challenge => {
                    answered_challenge = true;
                    let challenge = response.header("www-authenticate").ok_or("401 without a challenge")?;
                    let params = parse_digest(challenge).map_err(|e| e.to_string())?;
                    let get = |n: &str| {
                        params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default()
                    };
                    let uri = format!("sip:{}@{}", self.config.server_id, self.config.realm);
                    let password = self.config.password.clone().unwrap_or_default();
                    let authorization = digest::authorization(
                        &self.config.device_id,
                        &get("realm"),
                        &password,
                        "REGISTER",
                        &uri,
                        &get("nonce"),
                    );
                    let register = self.register(Some(authorization));
                    self.link.send(&register).await?;
                }
                Some(code) if code >= 200 => return Err(format!("register refused: {code}")),
                _ => {}
            }
        }
    }

    fn keepalive(&mut self) -> SipMessage {
        let uri = format!("sip:{}@{}", self.config.server_id, self.config.realm);
        let mut message = self.request("MESSAGE", &uri);
        message.push_header("Content-Type", "Application/MANSCDP+xml");
        message.body = Bytes::from(format!(
            "<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>{}</SN>\r\n<DeviceID>{}</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n",
            self.counter, self.config.device_id
        ));
        message
    }
}

/// Runs one device until `stop` flips to true; `Err` when the server refuses or the link breaks.
pub async fn run_device(
    config: DeviceConfig,
    media: Arc<DeviceMedia>,
    stats: Arc<DeviceStats>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let link = SipLink::connect(config.server, config.transport).await?;
    let local = link.local().ok_or("no local address")?;
    let mut seed = [0u8; 4];
    let _ = getrandom::getrandom(&mut seed);
    let tag = format!("{:08x}", u32::from_le_bytes(seed));
    let mut ua = Ua { call_id: format!("{tag}reg"), config, link, local, tag, cseq: 0, counter: 0 };
    ua.register_until_accepted().await?;
    stats.registered.fetch_add(1, Ordering::Relaxed);
    let mut keepalive = tokio::time::interval_at(Instant::now() + ua.config.keepalive, ua.config.keepalive);
    let mut streaming: Option<Streaming> = None;
    let mut offered: Option<(MediaTarget, SipMessage)> = None;
    let mut pause = ua.config.pause_media_after;
    loop {
        let message = tokio::select! {
            received = ua.link.receive() => received?,
            _ = keepalive.tick() => {
                let message = ua.keepalive();
                ua.link.send(&message).await?;
                continue;
            }
            _ = stopped(&mut stop) => break,
        };
        match message.method() {
            Some("INVITE") => {
                stats.invites.fetch_add(1, Ordering::Relaxed);
                let offer = std::str::from_utf8(&message.body)
                    .ok()
                    .and_then(MediaOffer::parse)
                    .ok_or("INVITE without usable sdp")?;
                let ip = offer.ip.parse().map_err(|_| format!("sdp address {}", offer.ip))?;
                let ssrc = offer.ssrc_value().ok_or("sdp y= is not a number")?;
                let target =
                    MediaTarget { addr: SocketAddr::new(ip, offer.port), transport: offer.transport, ssrc };
                ua.link.send(&SipMessage::response_to(&message, 100, "Trying")).await?;
                let mut ok = SipMessage::response_to(&message, 200, "OK");
                let to = message
                    .header("to")
                    .and_then(|to| NameAddr::parse(to).ok())
                    .ok_or("INVITE without To")?;
                ok.set_header("To", to.with_tag(&ua.tag).to_string());
                ok.push_header("Contact", format!("<sip:{}@{}>", ua.config.device_id, ua.local));
                ok.push_header("Content-Type", "application/sdp");
                let answer = MediaOffer {
                    id: ua.config.device_id.clone(),
                    ip: ua.local.ip().to_string(),
                    port: 0,
                    transport: offer.transport,
                    direction: "sendonly",
                    ssrc: offer.ssrc.clone(),
                };
                ok.body = Bytes::from(answer.write());
                ua.link.send(&ok).await?;
                offered = Some((target, message));
            }
            Some("ACK") => {
                let Some((target, _)) = offered.take() else { continue };
                if let Some(running) = streaming.take() {
                    running.stop().await;
                }
                let (stopper, mut stopped) = watch::channel(false);
                let limit = pause.take();
                let task = tokio::spawn(media::stream(
                    Arc::clone(&media),
                    target,
                    Arc::clone(&stats),
                    limit,
                    async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    },
                ));
                streaming = Some(Streaming { stopper, task });
            }
            Some("BYE") => {
                stats.byes.fetch_add(1, Ordering::Relaxed);
                ua.link.send(&SipMessage::response_to(&message, 200, "OK")).await?;
                if let Some(running) = streaming.take() {
                    running.stop().await;
                }
            }
            Some(_) => ua.link.send(&SipMessage::response_to(&message, 200, "OK")).await?,
            None => {
                if message.status() == Some(200)
                    && message.header("cseq").is_some_and(|c| c.ends_with("MESSAGE"))
                {
                    stats.keepalives_answered.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    if let Some(running) = streaming.take() {
        running.stop().await;
    }
    Ok(())
}

/// Resolves once `stop` is true (the guard `wait_for` gives is not held across awaits).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// The running media task and the sender that stops it.
struct Streaming {
    stopper: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

impl Streaming {
    async fn stop(self) {
        let _ = self.stopper.send(true);
        let _ = self.task.await;
    }
}
