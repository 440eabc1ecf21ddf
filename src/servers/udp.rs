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

/// This host's address on its default route (what a device elsewhere would reach), found by
/// connecting a datagram socket (nothing is sent); 127.0.0.1 without a route.
pub fn primary_ip() -> std::net::IpAddr {
    let loopback = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    let Ok(socket) = std::net::UdpSocket::bind("0.0.0.0:0") else { return loopback };
    if socket.connect("192.0.2.1:9").is_err() {
        return loopback;
    }
    socket.local_addr().map_or(loopback, |addr| addr.ip())
}
