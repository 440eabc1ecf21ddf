//! One HTTP/1.1 server per address, shared by every node that serves on it.
//!
//! Nodes contribute routes; a request goes to the first route that takes it, else 404.
//! Live streams (HTTP-FLV, HTTP-TS) on plain TCP are taken before hyper (`http_raw`) so their hub
//! writes to the socket itself; over TLS they are bodies fed from hubs, a batch per body frame,
//! which hyper writes with one vectored write.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::Bound;
use crate::graph::{Catalogue, Engine};

pub type Body = UnsyncBoxBody<Batch, Infallible>;
pub type ResponseFuture = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;
/// A connection served past hyper (`HttpRoute::serve_raw`).
pub type RawFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A node's part of an HTTP server.
pub trait HttpRoute: Send + Sync {
    // The request moves back once per route tried, not per byte served: its size does not matter.
    #[allow(clippy::result_large_err)]
    /// Takes the request (returning the future answer) or gives it back for the next route.
    fn handle(
        &self,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<ResponseFuture, Request<Incoming>>;

    /// Whether this route serves `request` on the raw connection (`serve_raw`) rather than
    /// through hyper: live streams, so their hub can write to the socket itself. Plain TCP only.
    fn takes_raw(&self, _request: &Request<()>) -> bool {
        false
    }

    /// Serves a request `takes_raw` took; its head was already read off `stream`.
    fn serve_raw(&self, _request: Request<()>, _stream: TcpStream, _peer: SocketAddr, _id: u64) -> RawFuture {
        Box::pin(async {})
    }
}

/// A whole body in memory.
pub fn full_body(bytes: impl Into<Bytes>) -> Body {
    Full::new(Batch::from(bytes.into())).boxed_unsync()
}

/// Several shared `Bytes` sent as one body frame. hyper queues a frame as one buffer and writes
/// it through `chunks_vectored`, so a whole merged-write batch leaves in one `writev` (a frame
/// per packet made hyper flush every few packets: three times the system calls for HTTP-FLV).
#[derive(Debug, Default)]
pub struct Batch {
    /// Parts from `front` on are still to be written (a `Vec` taken whole from the hub's reader,
    /// so making a batch copies nothing).
    parts: Vec<Bytes>,
    front: usize,
    remaining: usize,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }

    fn live_parts(&self) -> impl Iterator<Item = &Bytes> {
        self.parts[self.front..].iter().filter(|b| !b.is_empty())
    }
}

impl From<Vec<Bytes>> for Batch {
    fn from(parts: Vec<Bytes>) -> Batch {
        let remaining = parts.iter().map(Bytes::len).sum();
        Batch { parts, front: 0, remaining }
    }
}

impl From<Bytes> for Batch {
    fn from(bytes: Bytes) -> Batch {
        Batch::from(vec![bytes])
    }
}

impl bytes::Buf for Batch {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.live_parts().next().map_or(&[], |b| b.as_ref())
    }

    fn advance(&mut self, mut n: usize) {
        n = n.min(self.remaining);
        self.remaining -= n;
        while n > 0 {
            let Some(front) = self.parts.get_mut(self.front) else { break };
            if n < front.len() {
                front.advance(n);
                return;
            }
            n -= front.len();
            // Released as soon as written: the hub's buffers are not held by a slow writer.
            *front = Bytes::new();
            self.front += 1;
        }
        while self.parts.get(self.front).is_some_and(Bytes::is_empty) {
            self.front += 1;
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, part) in dst.iter_mut().zip(self.live_parts()) {
            *slot = std::io::IoSlice::new(part);
            n += 1;
        }
        n
    }
}

/// A plain response with a status and a short text.
pub fn text_response(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(full_body(text.to_owned()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain"));
    response
}

/// SRS's CORS headers (`crossdomain on`).
pub fn add_cors(response: &mut Response<Body>) {
    let headers = response.headers_mut();
    for name in CORS_HEADERS {
        headers.insert(name, hyper::header::HeaderValue::from_static("*"));
    }
}

/// SRS's CORS headers, each with the value `*` (also written by hand on raw streams).
pub const CORS_HEADERS: [&str; 4] = [
    "access-control-allow-origin",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-expose-headers",
];

/// The routes of one server and its TLS acceptor (if HTTPS); replaced whole on reload
/// (requests in flight keep the old routes, connections keep the acceptor they were taken with).
#[derive(Default)]
pub struct RouteTable {
    routes: RwLock<Arc<[Arc<dyn HttpRoute>]>>,
    tls: RwLock<Option<TlsAcceptor>>,
}

impl RouteTable {
    pub fn new(routes: Vec<Arc<dyn HttpRoute>>, tls: Option<TlsAcceptor>) -> Arc<RouteTable> {
        Arc::new(RouteTable { routes: RwLock::new(routes.into()), tls: RwLock::new(tls) })
    }

    pub fn replace(&self, routes: Vec<Arc<dyn HttpRoute>>, tls: Option<TlsAcceptor>) {
        *self.routes.write().unwrap_or_else(|p| p.into_inner()) = routes.into();
        *self.tls.write().unwrap_or_else(|p| p.into_inner()) = tls;
    }

    pub(super) fn snapshot(&self) -> Arc<[Arc<dyn HttpRoute>]> {
        Arc::clone(&self.routes.read().unwrap_or_else(|p| p.into_inner()))
    }

    fn tls(&self) -> Option<TlsAcceptor> {
        self.tls.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Binds `addr` and serves the routes of `table` until shutdown (or until the returned [`Bound`]
/// is dropped), over TLS when the table has an acceptor (a failed handshake closes that
/// connection only).
pub async fn serve<N: Catalogue>(
    engine: &Engine<N>,
    addr: SocketAddr,
    table: Arc<RouteTable>,
) -> std::io::Result<Bound> {
    let listener = super::tcp::bind_listener(addr)?;
    let scheme = if table.tls().is_some() { "https" } else { "http" };
    tracing::info!(%addr, routes = table.snapshot().len(), "{scheme} server listening");
    let shutdown = engine.shutdown_signal();
    let engine = engine.clone();
    let (bound, mut unbound) = Bound::new();
    tokio::spawn(async move {
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(%addr, "accept failed: {e}");
                        continue;
                    }
                },
                _ = &mut shutdown => break,
                _ = &mut unbound => {
                    tracing::info!(%addr, "{scheme} server unbound: no node listens here any more");
                    break;
                }
            };
            let _ = stream.set_nodelay(true);
            let table = Arc::clone(&table);
            let id = engine.next_id();
            tokio::spawn(crate::graph::guard::guarded(scheme, Some(id), async move {
                let Some(acceptor) = table.tls() else {
                    match super::http_raw::take_raw(stream, &table, peer, id).await {
                        Ok(served) => return served.await,
                        Err(stream) => return serve_connection(stream, table, peer, id).await,
                    }
                };
                match tokio::time::timeout(crate::servers::tls::HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                    .await
                {
                    Ok(Ok(tls_stream)) => serve_connection(tls_stream, table, peer, id).await,
                    // A peer closing before any byte (a port probe) is not worth a warning.
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                        tracing::debug!(conn = id, %peer, "tls handshake failed: {e}")
                    }
                    Ok(Err(e)) => tracing::warn!(conn = id, %peer, "tls handshake failed: {e}"),
                    Err(_) => tracing::warn!(conn = id, %peer, "tls handshake failed: timed out"),
                }
            }));
        }
    });
    Ok(bound)
}

/// Serves HTTP/1.1 on one accepted connection (plain TCP or TLS) until it closes.
async fn serve_connection<S>(stream: S, table: Arc<RouteTable>, peer: SocketAddr, id: u64)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request: Request<Incoming>| {
        let routes = table.snapshot();
        async move { Ok::<_, Infallible>(dispatch(&routes, request, peer).await) }
    });
    if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
        tracing::debug!(conn = id, %peer, "http connection ended: {e}");
    }
}

async fn dispatch(
    routes: &[Arc<dyn HttpRoute>],
    mut request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    for route in routes {
        match route.handle(request, peer) {
            Ok(answer) => return answer.await,
            Err(unhandled) => request = unhandled,
        }
    }
    text_response(StatusCode::NOT_FOUND, "not found\n")
}

#[cfg(test)]
mod tests {
    use bytes::Buf;

    use super::*;

    #[test]
    fn a_batch_reads_as_one_buffer_across_its_parts() {
        let mut batch =
            Batch::from(vec![Bytes::from_static(b"abc"), Bytes::new(), Bytes::from_static(b"defg")]);
        assert_eq!(batch.remaining(), 7);
        let mut slices = [std::io::IoSlice::new(&[]); 4];
        assert_eq!(batch.chunks_vectored(&mut slices), 2, "empty parts are not kept");
        batch.advance(4);
        assert_eq!((batch.remaining(), batch.chunk()), (3, &b"efg"[..]));
        let mut rest = Vec::new();
        while batch.has_remaining() {
            let chunk = batch.chunk().to_vec();
            batch.advance(chunk.len());
            rest.extend(chunk);
        }
        assert_eq!(rest, b"efg");
        assert!(batch.is_empty());
    }
}
