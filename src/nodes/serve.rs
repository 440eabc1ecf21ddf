//! What every serving sink shares: finding a stream's hub, and handing players batches of
//! pre-serialized packets at the vhost's merged-write pace.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use petgraph::graph::NodeIndex;

use super::vhost;
use crate::control::registry::{Client, ClientGuard};
use crate::graph::hub::{Closed, Consumer, Hub};
use crate::graph::{Engine, StreamKey};

/// Most packets handed over in one batch (SRS's `SRS_PERF_MW_MSGS`).
pub const MAX_BATCH: usize = 128;

/// The hub of a serving sink for one stream, configured from the vhost upstream.
pub fn hub_for(engine: &Engine, node: NodeIndex, key: &StreamKey) -> Arc<Hub> {
    engine.hub(node, key, || vhost::settings_for(engine, node, key).hub_config())
}

/// A consumer that waits for the merged-write latency before handing over what accumulated.
#[derive(Debug)]
pub struct Batcher {
    consumer: Consumer,
    latency: Duration,
}

impl Batcher {
    pub fn new(consumer: Consumer, latency_ms: u64) -> Batcher {
        Batcher { consumer, latency: Duration::from_millis(latency_ms) }
    }

    /// The next batch: waits for data, then (unless realtime) for the merged-write latency.
    pub async fn next(&mut self, out: &mut Vec<Bytes>) -> Result<(), Closed> {
        self.consumer.recv_batch(out, MAX_BATCH).await?;
        if !self.latency.is_zero() && out.len() < MAX_BATCH {
            tokio::time::sleep(self.latency).await;
            self.consumer.poll_batch(out, MAX_BATCH);
        }
        Ok(())
    }

    pub fn consumer(&self) -> &Consumer {
        &self.consumer
    }
}

type NextBatch = Pin<
    Box<
        dyn std::future::Future<Output = (Batcher, Vec<Bytes>, Result<(), Closed>, Option<Arc<Client>>)>
            + Send,
    >,
>;

/// A registered player for as long as its response body lives; `on_end` runs when it drops
/// (the player left, was kicked, or the stream closed), e.g. to fire `on_stop`.
pub struct PlayerLease {
    guard: ClientGuard,
    on_end: Option<OnEnd>,
}

type OnEnd = Box<dyn FnOnce(&ClientGuard) + Send>;

impl PlayerLease {
    pub fn new(guard: ClientGuard, on_end: impl FnOnce(&ClientGuard) + Send + 'static) -> PlayerLease {
        PlayerLease { guard, on_end: Some(Box::new(on_end)) }
    }
}

impl Drop for PlayerLease {
    fn drop(&mut self) {
        if let Some(on_end) = self.on_end.take() {
            on_end(&self.guard);
        }
    }
}

/// An HTTP response body fed by a hub: a prefix (e.g. the FLV file header), then batches.
/// Every packet of a batch is yielded at once so hyper writes the batch with one writev.
pub struct HubBody {
    ready: std::collections::VecDeque<Bytes>,
    next: Option<NextBatch>,
    /// The player's registry entry: bytes are counted on it, and a kick ends the body.
    lease: Option<PlayerLease>,
}

impl HubBody {
    pub fn new(prefix: Option<Bytes>, batcher: Batcher) -> HubBody {
        HubBody { ready: prefix.into_iter().collect(), next: Some(Self::fetch(batcher, None)), lease: None }
    }

    /// A body for a registered player: bytes are counted on it, and a kick ends the body.
    pub fn leased(prefix: Option<Bytes>, batcher: Batcher, lease: PlayerLease) -> HubBody {
        let client = Arc::clone(lease.guard.client());
        HubBody {
            ready: prefix.into_iter().collect(),
            next: Some(Self::fetch(batcher, Some(client))),
            lease: Some(lease),
        }
    }

    fn fetch(mut batcher: Batcher, client: Option<Arc<Client>>) -> NextBatch {
        Box::pin(async move {
            let mut out = Vec::with_capacity(MAX_BATCH);
            let result = match &client {
                Some(client) => tokio::select! {
                    result = batcher.next(&mut out) => result,
                    _ = client.kicked() => Err(Closed),
                },
                None => batcher.next(&mut out).await,
            };
            (batcher, out, result, client)
        })
    }

    fn count(&self, bytes: &Bytes) {
        if let Some(lease) = &self.lease {
            lease.guard.client().add_sent(bytes.len());
        }
    }
}

impl Body for HubBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(bytes) = self.ready.pop_front() {
            self.count(&bytes);
            return Poll::Ready(Some(Ok(Frame::data(bytes))));
        }
        let Some(next) = self.next.as_mut() else { return Poll::Ready(None) };
        match next.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready((batcher, batch, result, client)) => {
                self.ready.extend(batch);
                self.next = result.is_ok().then(|| Self::fetch(batcher, client));
                match self.ready.pop_front() {
                    Some(bytes) => {
                        self.count(&bytes);
                        Poll::Ready(Some(Ok(Frame::data(bytes))))
                    }
                    None if self.next.is_some() => {
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    None => Poll::Ready(None),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ready.is_empty() && self.next.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
