//! UDP sockets for datagram sources (MPEG-TS over UDP): bound here, read by the node.
//!
//! No protocol lives here; the socket is handed to the one node that declared the address.

use std::net::SocketAddr;

use tokio::net::UdpSocket;

/// Binds a datagram socket on `addr` for a source node.
pub async fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = UdpSocket::bind(addr).await?;
    tracing::info!(%addr, "udp listening");
    Ok(socket)
}
