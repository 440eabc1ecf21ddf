//! What one `Gb28181In` node's sockets share: the SIP registrar, the path back to each device
//! (a TCP connection's writer or a UDP address), and each device's media session.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use petgraph::graph::NodeIndex;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::media::MediaSession;
use super::Config;
use crate::codec::sip::{Action, Registrar, RegistrarConfig, SipMessage};
use crate::nodes::Engine;

/// A device's media session, shared by the TCP and UDP media paths.
pub type SharedSession = Arc<tokio::sync::Mutex<MediaSession>>;

/// Where a device's SIP messages go.
#[derive(Debug, Clone)]
pub enum SipPeer {
    /// The writer of the TCP connection the device registered on.
    Tcp {
        conn: u64,
        writer: mpsc::Sender<Bytes>,
    },
    Udp(SocketAddr),
}

pub struct Caster {
    pub engine: Engine,
    pub node: NodeIndex,
    pub config: Config,
    registrar: Mutex<Registrar>,
    peers: Mutex<HashMap<String, SipPeer>>,
    /// Devices publishing (or about to): their session, shared by the TCP and UDP media paths.
    sessions: Mutex<HashMap<String, SharedSession>>,
    /// The SIP UDP socket, for messages to devices that registered over UDP.
    pub sip_udp: Mutex<Option<Arc<UdpSocket>>>,
    /// Devices whose publish was refused, and when (their packets wait a while before asking again).
    pub refusals: Mutex<HashMap<String, Instant>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a panic elsewhere mid-update; the maps are still usable.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Caster {
    pub fn new(engine: Engine, node: NodeIndex, config: Config) -> Caster {
        let candidate = match config.candidate.as_str() {
            "*" | "" => crate::servers::udp::primary_ip().to_string(),
            ip => ip.to_owned(),
        };
        let port =
            |text: &str| crate::graph::listen::parse_listen(text).map(|a| a.port()).unwrap_or_default();
        let registrar_config = RegistrarConfig {
            server_id: config.server_id.clone(),
            realm: config.realm.clone(),
            password: (!config.password.is_empty()).then(|| config.password.clone()),
            candidate,
            sip_port: port(&config.sip_listen),
            media_port: port(&config.media_listen),
            reinvite: std::time::Duration::from_secs(config.reinvite),
            timeout: std::time::Duration::from_secs(config.timeout),
        };
        let mut seed = [0u8; 8];
        let _ = getrandom::getrandom(&mut seed);
        Caster {
            engine,
            node,
            config,
            registrar: Mutex::new(Registrar::new(registrar_config, u64::from_le_bytes(seed))),
            peers: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            sip_udp: Mutex::new(None),
            refusals: Mutex::new(HashMap::new()),
        }
    }

    pub fn registrar(&self) -> MutexGuard<'_, Registrar> {
        lock(&self.registrar)
    }

    pub fn sessions(&self) -> MutexGuard<'_, HashMap<String, SharedSession>> {
        lock(&self.sessions)
    }

    /// The device whose media carries `ssrc`, noting that media arrived.
    pub fn device_of_ssrc(&self, ssrc: u32) -> Option<String> {
        let mut registrar = self.registrar();
        let device = registrar.device_of_ssrc(ssrc)?.to_owned();
        registrar.on_media(&device, Instant::now());
        Some(device)
    }

    /// A message from `from`: the registrar decides, the actions are carried out.
    pub fn on_sip(&self, message: &SipMessage, from: &SipPeer, label: &str) {
        let transport = match from {
            SipPeer::Tcp { .. } => crate::codec::sip::MediaTransport::Tcp,
            SipPeer::Udp(_) => crate::codec::sip::MediaTransport::Udp,
        };
        let result = self.registrar().on_message(message, transport, Instant::now());
        match result {
            Ok(actions) => self.execute(actions, Some(from)),
            // That message only: the device's session and connection go on.
            Err(e) => tracing::warn!(peer = %label, "sip message dropped: {e}"),
        }
    }

    /// Clock tick: re-INVITEs and timeouts.
    pub fn on_tick(&self) {
        let actions = self.registrar().on_tick(Instant::now());
        self.execute(actions, None);
    }

    fn execute(&self, actions: Vec<Action>, from: Option<&SipPeer>) {
        for action in actions {
            match action {
                Action::Reply(message) => {
                    if let Some(peer) = from {
                        self.send(peer, &message);
                    }
                }
                Action::Send { device, message } => {
                    let peer = lock(&self.peers).get(&device).cloned();
                    if let Some(peer) = peer {
                        self.send(&peer, &message);
                    }
                }
                Action::Registered { device } => {
                    if let Some(peer) = from {
                        lock(&self.peers).insert(device, peer.clone());
                    }
                }
                Action::Play { device, ssrc } => {
                    tracing::info!(device = %device, ssrc, "gb28181 device invited, waiting for media");
                }
                Action::Stop { device, reason } => {
                    lock(&self.peers).remove(&device);
                    self.end_session(&device, reason);
                }
            }
        }
    }

    fn send(&self, peer: &SipPeer, message: &SipMessage) {
        let bytes = message.to_bytes();
        match peer {
            SipPeer::Tcp { conn, writer } => {
                if writer.try_send(bytes).is_err() {
                    tracing::debug!(conn = *conn, "sip message not sent: connection closed or stalled");
                }
            }
            SipPeer::Udp(addr) => {
                let socket = lock(&self.sip_udp).clone();
                if let Some(socket) = socket {
                    if let Err(e) = socket.try_send_to(&bytes, *addr) {
                        tracing::debug!(peer = %addr, "sip datagram not sent: {e}");
                    }
                }
            }
        }
    }

    /// Ends the device's stream (players see its end) and forgets the session.
    pub fn end_session(&self, device: &str, reason: &'static str) {
        let Some(session) = self.sessions().remove(device) else { return };
        tracing::info!(device = %device, reason, "gb28181 stream ends");
        self.engine.spawn(async move {
            session.lock().await.end().await;
        });
    }
}
