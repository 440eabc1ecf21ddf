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

/// `count` datagram sockets on one `addr` with `SO_REUSEPORT`: the kernel spreads senders over
/// them by 5-tuple (a sender always reaches the same socket), so each can have its own worker.
/// Port 0 binds the first on a free port and the others on the same one.
pub fn bind_reuseport(addr: SocketAddr, count: usize) -> std::io::Result<Vec<UdpSocket>> {
    use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage};
    use std::os::fd::AsRawFd;
    let mut sockets = Vec::with_capacity(count);
    let mut at = addr;
    for _ in 0..count.max(1) {
        let family = if at.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
        let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
        let fd = socket::socket(family, SockType::Datagram, flags, None)?;
        socket::setsockopt(&fd, sockopt::ReusePort, &true)?;
        socket::bind(fd.as_raw_fd(), &SockaddrStorage::from(at))?;
        let socket = UdpSocket::from_std(std::net::UdpSocket::from(fd))?;
        at = socket.local_addr()?;
        sockets.push(socket);
    }
    tracing::info!(addr = %at, sockets = sockets.len(), "udp listening (reuseport)");
    Ok(sockets)
}
