//! The SIP sockets: datagrams on UDP, messages cut from TCP connections, and the clock that
//! drives re-INVITEs and timeouts. A malformed datagram is dropped; a connection whose bytes
//! cannot be parsed as SIP is closed; neither touches another device.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

use super::caster::{Caster, SipPeer};
use crate::codec::sip::{parse_datagram, SipLimits, SipStreamParser};

/// Messages queued for one TCP connection before further ones are dropped.
const WRITE_QUEUE: usize = 64;
const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Reads SIP datagrams until shutdown.
pub async fn run_udp(caster: Arc<Caster>, socket: UdpSocket) {
    let socket = Arc::new(socket);
    *caster.sip_udp.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&socket));
    let shutdown = caster.engine.shutdown_signal();
    tokio::pin!(shutdown);
    let limits = SipLimits::default();
    let mut buffer = vec![0u8; 65_536];
    let mut last_log: Option<Instant> = None;
    loop {
        let (n, peer) = tokio::select! {
            received = socket.recv_from(&mut buffer) => match received {
                Ok(received) => received,
                Err(e) => {
                    tracing::debug!("sip receive failed: {e}");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        match parse_datagram(&buffer[..n], &limits) {
            Ok(message) => caster.on_sip(&message, &SipPeer::Udp(peer), &format!("udp {peer}")),
            Err(e) => {
                if last_log.is_none_or(|at| at.elapsed() >= LOG_INTERVAL) {
                    last_log = Some(Instant::now());
                    tracing::warn!(%peer, "sip datagram dropped: {e}");
                }
            }
        }
    }
}

/// The accept loop's handler for SIP connections.
pub fn tcp_handler(caster: &Arc<Caster>) -> crate::servers::tcp::Handler {
    let caster = Arc::clone(caster);
    Arc::new(move |stream, peer, id| Box::pin(serve_tcp(Arc::clone(&caster), stream, peer, id)))
}

async fn serve_tcp(caster: Arc<Caster>, stream: TcpStream, peer: SocketAddr, id: u64) {
    let (mut reader, mut writer) = stream.into_split();
    let (sender, mut queue) = mpsc::channel::<Bytes>(WRITE_QUEUE);
    let writing = tokio::spawn(async move {
        while let Some(bytes) = queue.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    let from = SipPeer::Tcp { conn: id, writer: sender };
    let shutdown = caster.engine.shutdown_signal();
    tokio::pin!(shutdown);
    let mut parser = SipStreamParser::new(SipLimits::default());
    let mut buffer = vec![0u8; 16 * 1024];
    let label = format!("tcp {peer}");
    // A device's SIP can be quieter than its media; a connection silent for three `timeout`s
    // belongs to no live session any more.
    let idle = Duration::from_secs(3 * caster.config.timeout);
    let end = 'connection: loop {
        let n = tokio::select! {
            read = tokio::time::timeout(idle, reader.read(&mut buffer)) => match read {
                Ok(Ok(0)) => break "closed by the peer".to_owned(),
                Ok(Ok(n)) => n,
                Ok(Err(e)) => break format!("read failed: {e}"),
                Err(_) => break format!("nothing for {} s", idle.as_secs()),
            },
            _ = &mut shutdown => break "shutdown".to_owned(),
        };
        parser.push(&buffer[..n]);
        while let Some(parsed) = parser.next_message() {
            match parsed {
                Ok(message) => caster.on_sip(&message, &from, &label),
                Err(e) => break 'connection format!("not sip: {e}"),
            }
        }
    };
    tracing::info!(conn = id, %peer, "sip connection ended: {end}");
    drop(from);
    writing.abort();
}

/// Ticks the registrar once a second until shutdown.
pub async fn run_clock(caster: Arc<Caster>) {
    let shutdown = caster.engine.shutdown_signal();
    tokio::pin!(shutdown);
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = interval.tick() => caster.on_tick(),
            _ = &mut shutdown => break,
        }
    }
}
