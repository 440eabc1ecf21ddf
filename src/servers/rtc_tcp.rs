//! ICE over TCP (RFC 6544 passive candidates, RFC 4571 framing: each packet after its 16-bit
//! length), SRS 5's `rtc_server.tcp`, for networks that block UDP: a listener on the WebRTC
//! port number; each connection's first frame must be a STUN binding naming a session's ufrag
//! (within `FIRST_FRAME_TIMEOUT`), and from then on its frames go to the worker that owns the
//! session (`RtcUdp::tcp_frame`), and what the peer connection writes for the TCP pair comes back
//! through a bounded queue (full: dropped, as a lossy network would). The session's end closes
//! the connection; the connection's end leaves the session to its idle timeout (a client may be
//! on UDP as well).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::rtc_udp::RtcUdp;
use crate::codec::gb28181::framing::Rfc4571Framer;
use crate::codec::rtp::demux::{binding_local_ufrag, classify, Datagram};

/// Frames the worker may queue to one connection before it drops them.
pub const TCP_QUEUE: usize = 1024;
/// A connection that names no session in this time is closed.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(10);
const READ_BUFFER: usize = 8192;

/// Where a TCP peer's packets go: the connection's send queue and its address.
#[derive(Debug, Clone)]
pub struct TcpLink {
    pub remote: SocketAddr,
    pub sender: mpsc::Sender<BytesMut>,
}

/// Serves one ICE-TCP connection on `udp`'s sessions.
pub async fn serve(udp: RtcUdp, stream: TcpStream, remote: SocketAddr, id: u64) {
    let (mut reader, mut writer) = stream.into_split();
    let (sender, mut queue) = mpsc::channel::<BytesMut>(TCP_QUEUE);
    let mut link = Some(TcpLink { remote, sender });
    let mut framer = Rfc4571Framer::default();
    let mut buffer = vec![0u8; READ_BUFFER];
    let mut ufrag: Option<String> = None;
    let deadline = tokio::time::sleep(FIRST_FRAME_TIMEOUT);
    tokio::pin!(deadline);
    let why = loop {
        tokio::select! {
            read = reader.read(&mut buffer) => {
                let n = match read {
                    Ok(0) => break "closed by the peer".to_owned(),
                    Ok(n) => n,
                    Err(e) => break format!("read: {e}"),
                };
                framer.push(&buffer[..n]);
                while let Some(frame) = framer.next_packet() {
                    if ufrag.is_none() {
                        ufrag = first_ufrag(&frame);
                    }
                    let Some(name) = ufrag.as_deref() else { break };
                    // The first frame hands the worker the way back; a full worker queue loses
                    // the frame (the client retries its binding), not the link.
                    if !udp.tcp_frame(name, frame, remote, &mut link) {
                        tracing::debug!(conn = id, %remote, "webrtc tcp frame for no session");
                    }
                }
                if ufrag.is_none() {
                    break "the first frame is not a binding for a session".to_owned();
                }
            }
            out = queue.recv(), if link.is_none() => match out {
                Some(packet) => {
                    if let Err(e) = write_frame(&mut writer, &packet).await {
                        break format!("write: {e}");
                    }
                }
                None => break "session ended".to_owned(),
            },
            _ = &mut deadline, if link.is_some() => break "no binding in time".to_owned(),
        }
    };
    tracing::debug!(conn = id, %remote, "webrtc tcp connection ends: {why}");
}

/// The local ufrag of `frame` when it is a STUN binding.
fn first_ufrag(frame: &Bytes) -> Option<String> {
    if classify(frame) != Datagram::Stun {
        return None;
    }
    binding_local_ufrag(frame).map(str::to_owned)
}

async fn write_frame(writer: &mut tokio::net::tcp::OwnedWriteHalf, packet: &[u8]) -> std::io::Result<()> {
    let Ok(len) = u16::try_from(packet.len()) else { return Ok(()) };
    let mut framed = BytesMut::with_capacity(2 + packet.len());
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(packet);
    writer.write_all(&framed).await
}
