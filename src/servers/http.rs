//! One HTTP/1.1 server per address, shared by every node that serves on it.
//!
//! Nodes contribute routes; a request goes to the first route that takes it, else 404.
//! Streaming responses (HTTP-FLV, HTTP-TS) are bodies fed from hubs: the body yields every
//! buffered packet at once, so hyper writes a batch with one vectored write.

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
use tokio::net::TcpListener;

use crate::graph::Engine;

pub type Body = UnsyncBoxBody<Bytes, Infallible>;
pub type ResponseFuture = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

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
}

/// A whole body in memory.
pub fn full_body(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
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
    use hyper::header::HeaderValue;
    let headers = response.headers_mut();
    for name in
        ["access-control-allow-origin", "access-control-allow-headers", "access-control-allow-methods"]
    {
        headers.insert(name, HeaderValue::from_static("*"));
    }
    headers.insert("access-control-expose-headers", HeaderValue::from_static("*"));
}

/// The routes of one server; replaced whole on reload (requests in flight keep the old ones).
#[derive(Default)]
pub struct RouteTable {
    routes: RwLock<Arc<[Arc<dyn HttpRoute>]>>,
}

impl RouteTable {
    pub fn new(routes: Vec<Arc<dyn HttpRoute>>) -> Arc<RouteTable> {
        Arc::new(RouteTable { routes: RwLock::new(routes.into()) })
    }

    pub fn replace(&self, routes: Vec<Arc<dyn HttpRoute>>) {
        *self.routes.write().unwrap_or_else(|p| p.into_inner()) = routes.into();
    }

    fn snapshot(&self) -> Arc<[Arc<dyn HttpRoute>]> {
        Arc::clone(&self.routes.read().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Binds `addr` and serves the routes of `table` until shutdown.
pub async fn serve(engine: &Engine, addr: SocketAddr, table: Arc<RouteTable>) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(%addr, routes = table.snapshot().len(), "http server listening");
    let shutdown = engine.shutdown_signal();
    let engine = engine.clone();
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
            };
            let _ = stream.set_nodelay(true);
            let table = Arc::clone(&table);
            let id = engine.next_id();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let routes = table.snapshot();
                    async move { Ok::<_, Infallible>(dispatch(&routes, request, peer).await) }
                });
                if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                    tracing::debug!(conn = id, %peer, "http connection ended: {e}");
                }
            });
        }
    });
    Ok(())
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
