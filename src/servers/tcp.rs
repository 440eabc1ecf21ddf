//! A TCP accept loop shared by protocol servers: binds once, hands each connection (with a fresh
//! connection id) to a handler, stops accepting at shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};

use crate::graph::Engine;

pub type ConnectionFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
pub type Handler = Arc<dyn Fn(TcpStream, SocketAddr, u64) -> ConnectionFuture + Send + Sync>;

/// Binds `addr` and serves connections with `handler` until shutdown.
pub async fn serve(
    engine: &Engine,
    addr: SocketAddr,
    protocol: &'static str,
    handler: Handler,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(%addr, protocol, "listening");
    let shutdown = engine.shutdown_signal();
    let engine = engine.clone();
    tokio::spawn(async move {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let id = engine.next_id();
                        tokio::spawn(handler(stream, peer, id));
                    }
                    Err(e) => tracing::warn!(%addr, "accept failed: {e}"),
                },
                _ = &mut shutdown => break,
            }
        }
    });
    Ok(())
}

/// Writes every buffer with vectored writes, as few system calls as the kernel allows.
pub async fn write_all_vectored(
    stream: &mut TcpStream,
    buffers: &mut Vec<bytes::Bytes>,
) -> std::io::Result<()> {
    use bytes::Buf;
    use tokio::io::AsyncWriteExt;
    let mut start = 0;
    while start < buffers.len() {
        let slices: Vec<std::io::IoSlice<'_>> =
            buffers[start..].iter().take(64).map(|b| std::io::IoSlice::new(b)).collect();
        let mut written = stream.write_vectored(&slices).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
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
