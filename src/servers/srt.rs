//! One SRT listener per address (srt-tokio), shared by every node that serves SRT on it.
//!
//! Each caller's stream id is parsed (`codec::srt_streamid`) before the handshake completes, so a
//! bad id, an unknown vhost or a busy stream is rejected with an SRT reject code. Nodes
//! contribute `SrtRoute`s (publish: `SrtIn`, play: `SrtOut`); a caller goes to the first route
//! that takes it. Latency and encryption are the listener's, so every node on one address must
//! agree on them. The listener closes at shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use srt_tokio::access::{RejectReason, ServerRejectReason};
use srt_tokio::options::{ByteCount, KeySize, Passphrase};
use srt_tokio::{ConnectionRequest, SrtListener};

use super::Bound;
use crate::codec::srt_streamid::SrtStreamId;
use crate::graph::{Catalogue, Engine};

/// SRS's `sendbuf`/`recvbuf` default, 8192 × (1500 − 28) bytes. srt-tokio's default send buffer
/// (46 KB) holds less than one gop burst to a new player: the rest would be dropped unsent.
const SOCKET_BUFFER_BYTES: u64 = 8192 * (1500 - 28);

pub type SessionFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The listener's settings (SRS `srt_server`), equal for every node on one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtListenSettings {
    /// Receive and peer latency (SRTO_LATENCY), milliseconds.
    pub latency_ms: u64,
    /// Empty: no encryption; else 10 to 79 characters.
    pub passphrase: String,
    /// 0 (the caller's choice), 16, 24 or 32 bytes.
    pub pbkeylen: u64,
    /// App used when a stream id names none.
    pub default_app: String,
}

impl SrtListenSettings {
    /// Checks what srt-tokio would otherwise refuse by panicking.
    pub fn validate(&self) -> Result<(), String> {
        if !self.passphrase.is_empty() && !(10..=79).contains(&self.passphrase.len()) {
            return Err(format!(
                "field `passphrase` has {} characters: SRT needs 10 to 79 (or empty for no encryption)",
                self.passphrase.len()
            ));
        }
        if !matches!(self.pbkeylen, 0 | 16 | 24 | 32) {
            return Err(format!("field `pbkeylen` is {}: use 0, 16, 24 or 32", self.pbkeylen));
        }
        if self.default_app.is_empty() || self.default_app.contains('/') {
            return Err(format!("field `default_app` `{}` must be one path segment", self.default_app));
        }
        Ok(())
    }
}

/// A caller whose stream id parsed; the route accepts or rejects the request.
#[derive(Debug)]
pub struct SrtCaller {
    pub id: u64,
    pub peer: SocketAddr,
    pub stream_id: SrtStreamId,
    pub request: ConnectionRequest,
}

impl SrtCaller {
    /// Refuses the caller with `reason`, logging why.
    pub async fn reject(self, reason: ServerRejectReason, why: &str) {
        tracing::warn!(conn = self.id, peer = %self.peer, "srt caller rejected: {why}");
        if let Err(e) = self.request.reject(RejectReason::Server(reason)).await {
            tracing::debug!(conn = self.id, "srt reject not sent: {e}");
        }
    }
}

/// A node's part of an SRT listener.
pub trait SrtRoute: Send + Sync {
    /// Takes the caller (returning its session) or gives it back for the next route.
    fn handle(&self, caller: Box<SrtCaller>) -> Result<SessionFuture, Box<SrtCaller>>;
}

/// Binds `addr` and serves `routes` until shutdown, or until the returned [`Bound`] is dropped.
pub async fn serve<N: Catalogue>(
    engine: &Engine<N>,
    addr: SocketAddr,
    settings: SrtListenSettings,
    routes: Vec<Arc<dyn SrtRoute>>,
) -> std::io::Result<Bound> {
    settings.validate().map_err(std::io::Error::other)?;
    let latency = Duration::from_millis(settings.latency_ms);
    let key_size = match settings.pbkeylen {
        16 => KeySize::AES128,
        24 => KeySize::AES192,
        32 => KeySize::AES256,
        _ => KeySize::Unspecified,
    };
    let passphrase = if settings.passphrase.is_empty() {
        None
    } else {
        Some(Passphrase::try_from(settings.passphrase.clone()).map_err(std::io::Error::other)?)
    };
    let (listener, mut incoming) = SrtListener::builder()
        .latency(latency)
        .set(|options| {
            options.sender.buffer_size = ByteCount(SOCKET_BUFFER_BYTES);
            options.receiver.buffer_size = ByteCount(SOCKET_BUFFER_BYTES);
            options.encryption.key_size = key_size;
            options.encryption.passphrase = passphrase;
        })
        .bind(addr)
        .await?;
    tracing::info!(%addr, routes = routes.len(), latency_ms = settings.latency_ms, "srt server listening");
    let shutdown = engine.shutdown_signal();
    let engine = engine.clone();
    let (bound, mut unbound) = Bound::new();
    tokio::spawn(async move {
        // The listener task lives as long as this value.
        let _listener: SrtListener = listener;
        tokio::pin!(shutdown);
        loop {
            let request = tokio::select! {
                request = incoming.incoming().next() => match request {
                    Some(request) => request,
                    None => break,
                },
                _ = &mut shutdown => break,
                _ = &mut unbound => break,
            };
            let id = engine.next_id();
            let peer = request.remote();
            let text = request.stream_id().map(|s| s.as_str().to_owned()).unwrap_or_default();
            let stream_id = match SrtStreamId::parse(&text, &settings.default_app) {
                Ok(stream_id) => stream_id,
                Err(e) => {
                    tracing::warn!(conn = id, %peer, "srt caller rejected: {e}");
                    tokio::spawn(async move {
                        let _ = request.reject(RejectReason::Server(ServerRejectReason::BadRequest)).await;
                    });
                    continue;
                }
            };
            tracing::info!(conn = id, %peer, stream_id = %text, mode = %stream_id.mode, "srt caller");
            let caller = Box::new(SrtCaller { id, peer, stream_id, request });
            match dispatch(&routes, caller) {
                Ok(session) => {
                    tokio::spawn(crate::graph::guard::guarded("srt", Some(id), session));
                }
                Err(caller) => {
                    let why = format!("no node on this address serves srt {}", caller.stream_id.mode);
                    tokio::spawn(async move { caller.reject(ServerRejectReason::BadMode, &why).await });
                }
            }
        }
        tracing::info!(%addr, "srt server stopped");
    });
    Ok(bound)
}

fn dispatch(
    routes: &[Arc<dyn SrtRoute>],
    mut caller: Box<SrtCaller>,
) -> Result<SessionFuture, Box<SrtCaller>> {
    for route in routes {
        match route.handle(caller) {
            Ok(session) => return Ok(session),
            Err(given_back) => caller = given_back,
        }
    }
    Err(caller)
}
