//! A blocking RTMP client over `srs::codec::rtmp::ClientSession`, for tests that need to send what
//! ffmpeg cannot (Enhanced RTMP H.265, malformed messages) or to watch exactly what a player gets.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use srs::codec::rtmp::{ClientConfig, ClientEvent, ClientIntent, ClientSession, MediaMessage};

pub struct RtmpClient {
    pub socket: TcpStream,
    pub session: ClientSession,
    pub events: Vec<ClientEvent>,
}

impl RtmpClient {
    /// Connects and waits for Publishing or Playing (or a rejection, returned as Err).
    pub fn start(url: &str, intent: ClientIntent) -> Result<RtmpClient, String> {
        Self::start_from(url, intent, "127.0.0.1")
    }

    /// Like `start`, with the client socket bound to `local_ip` (e.g. 127.0.0.2).
    pub fn start_from(url: &str, intent: ClientIntent, local_ip: &str) -> Result<RtmpClient, String> {
        let server = url.trim_start_matches("rtmp://").split('/').next().unwrap_or_default();
        let socket = super::connect_from(local_ip, server).map_err(|e| e.to_string())?;
        socket.set_read_timeout(Some(Duration::from_millis(100))).expect("timeout");
        let mut client = RtmpClient {
            socket,
            session: ClientSession::new(ClientConfig::from_url(url, intent)),
            events: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            client.pump();
            for event in std::mem::take(&mut client.events) {
                match event {
                    ClientEvent::Publishing | ClientEvent::Playing => return Ok(client),
                    ClientEvent::Rejected { code, description } => {
                        return Err(format!("{code}: {description}"))
                    }
                    other => client.events.push(other),
                }
            }
        }
        Err("no answer within 10 s".into())
    }

    /// Writes queued output, reads what arrived (up to 100 ms), and queues the session's events.
    pub fn pump(&mut self) -> bool {
        while let Some(bytes) = self.session.poll_output() {
            if self.socket.write_all(&bytes).is_err() {
                return false;
            }
        }
        let mut buffer = [0u8; 65536];
        match self.socket.read(&mut buffer) {
            Ok(0) => return false,
            Ok(n) => {
                if self.session.handle_input(&buffer[..n]).is_err() {
                    return false;
                }
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return false,
        }
        while let Some(event) = self.session.poll_event() {
            self.events.push(event);
        }
        true
    }

    pub fn send(&mut self, media: &MediaMessage) {
        self.session.send_media(media).expect("publishing");
        while let Some(bytes) = self.session.poll_output() {
            self.socket.write_all(&bytes).expect("write");
        }
    }

    /// Media received until `count` messages arrived or `timeout` passed.
    pub fn receive_media(&mut self, count: usize, timeout: Duration) -> Vec<MediaMessage> {
        let deadline = Instant::now() + timeout;
        let mut media = Vec::new();
        while media.len() < count && Instant::now() < deadline {
            if !self.pump() {
                break;
            }
            for event in std::mem::take(&mut self.events) {
                if let ClientEvent::Media(m) = event {
                    media.push(m);
                }
            }
        }
        media
    }
}
