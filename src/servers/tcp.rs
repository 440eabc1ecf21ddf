//! A TCP accept loop shared by protocol servers: binds once, hands each connection (with a fresh
//! connection id) to a handler, stops accepting at shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};

use super::Bound;
use crate::graph::guard::guarded;
use crate::graph::{Catalogue, Engine};

/// Connections the kernel completes before the server accepts them. The usual 128 (std's and
/// mio's) overflows when thousands connect at once (players coming back after an outage): every
/// SYN dropped costs its client a 1 s, then 3 s retransmit. The kernel caps it at `somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

/// A listening socket on `addr` with [`LISTEN_BACKLOG`] (and `SO_REUSEADDR`, as std's).
pub fn bind_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket =
        if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

pub type ConnectionFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
pub type Handler = Arc<dyn Fn(TcpStream, SocketAddr, u64) -> ConnectionFuture + Send + Sync>;

/// Binds `addr` and serves connections with `handler` until shutdown, or until the returned
/// [`Bound`] is dropped.
pub async fn serve<N: Catalogue>(
    engine: &Engine<N>,
    addr: SocketAddr,
    protocol: &'static str,
    handler: Handler,
) -> std::io::Result<Bound> {
    let listener = bind_listener(addr)?;
    tracing::info!(%addr, protocol, "listening");
    let shutdown = engine.shutdown_signal();
    let engine = engine.clone();
    let (bound, mut unbound) = Bound::new();
    tokio::spawn(async move {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let id = engine.next_id();
                        tokio::spawn(guarded(protocol, Some(id), handler(stream, peer, id)));
                    }
                    Err(e) => tracing::warn!(%addr, "accept failed: {e}"),
                },
                _ = &mut shutdown => break,
                _ = &mut unbound => {
                    tracing::info!(%addr, protocol, "unbound: no node listens here any more");
                    break;
                }
            }
        }
    });
    Ok(bound)
}

/// Writes every buffer with vectored writes, as few system calls as the kernel allows. Takes the
/// stream shared (`&TcpStream`): a hub may write to the same socket between two calls
/// (`graph::hub::DirectSink`), never during one.
pub async fn write_all_vectored(stream: &TcpStream, buffers: &mut Vec<bytes::Bytes>) -> std::io::Result<()> {
    use bytes::Buf;
    let mut start = 0;
    while start < buffers.len() {
        let slices: Vec<std::io::IoSlice<'_>> =
            buffers[start..].iter().take(64).map(|b| std::io::IoSlice::new(b)).collect();
        let mut written = match stream.try_write_vectored(&slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                stream.writable().await?;
                continue;
            }
            Err(e) => return Err(e),
        };
        while written > 0 && start < buffers.len() {
            let len = buffers[start].len();
            if written >= len {
                written -= len;
                start += 1;
            } else {
                buffers[start].advance(written);
                written = 0;
            }
        }
    }
    buffers.clear();
    Ok(())
}

/// Reads what is there into `buffer` (waiting for some), from a stream shared with a writer.
pub async fn read_shared(stream: &TcpStream, buffer: &mut [u8]) -> std::io::Result<usize> {
    loop {
        stream.readable().await?;
        match stream.try_read(buffer) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            result => return result,
        }
    }
}
