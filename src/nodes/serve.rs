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
use crate::servers::http::Batch;

/// Most packets handed over in one batch (SRS's `SRS_PERF_MW_MSGS`).
pub const MAX_BATCH: usize = 128;

/// The hub of a serving sink for one stream, configured from the vhost upstream.
pub fn hub_for(engine: &Engine, node: NodeIndex, key: &StreamKey) -> Arc<Hub> {
    engine.hub(node, key, || vhost::settings_for(engine, node, key).hub_config())
}

/// A consumer that waits for the merged-write latency before handing over what accumulated.
///
/// A player's first batch (the gop cache) is handed over at once, and so is a batch that already
/// spans the latency in media time (as SRS), so the first frame is not held back. While the stream flows,
/// batches are paced by the timer alone (one wake-up per batch instead of a push notification and
/// then a timer); the hub's notification is only waited for when a sleep found nothing.
#[derive(Debug)]
pub struct Batcher {
    consumer: Consumer,
    latency: Duration,
    flowing: bool,
    started: bool,
}

impl Batcher {
    pub fn new(consumer: Consumer, latency_ms: u64) -> Batcher {
        Batcher { consumer, latency: Duration::from_millis(latency_ms), flowing: false, started: false }
    }

    /// The next batch: waits for data, then (unless realtime, or the batch already spans the
    /// latency) for the merged-write latency.
    pub async fn next(&mut self, out: &mut Vec<Bytes>) -> Result<(), Closed> {
        if self.latency.is_zero() {
            self.consumer.recv_batch(out, MAX_BATCH).await?;
            return Ok(());
        }
        self.consumer.take_span_ms();
        if self.flowing {
            tokio::time::sleep(self.latency).await;
            let n = self.consumer.poll_batch(out, MAX_BATCH);
            if n > 0 {
                // A full batch means more is waiting: take it without sleeping.
                self.flowing = n < MAX_BATCH;
                return Ok(());
            }
        }
        let mut n = self.consumer.recv_batch(out, MAX_BATCH).await?;
        let latency_ms = i64::try_from(self.latency.as_millis()).unwrap_or(i64::MAX);
        let first = !std::mem::replace(&mut self.started, true);
        if !first && n < MAX_BATCH && self.consumer.take_span_ms() < latency_ms {
            tokio::time::sleep(self.latency).await;
            n += self.consumer.poll_batch(out, MAX_BATCH - n);
        }
        self.flowing = n < MAX_BATCH;
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
/// Each batch is one body frame (a `Batch` of the shared packets), written with one writev.
pub struct HubBody {
    ready: Option<Batch>,
    next: Option<NextBatch>,
    /// The player's registry entry: bytes are counted on it, and a kick ends the body.
    lease: Option<PlayerLease>,
}

impl HubBody {
    pub fn new(prefix: Option<Bytes>, batcher: Batcher) -> HubBody {
        HubBody { ready: prefix.map(Batch::from), next: Some(Self::fetch(batcher, None)), lease: None }
    }

    /// A body for a registered player: bytes are counted on it, and a kick ends the body.
    pub fn leased(prefix: Option<Bytes>, batcher: Batcher, lease: PlayerLease) -> HubBody {
        let client = Arc::clone(lease.guard.client());
        HubBody {
            ready: prefix.map(Batch::from),
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

    fn count(&self, batch: &Batch) {
        if let Some(lease) = &self.lease {
            lease.guard.client().add_sent(bytes::Buf::remaining(batch));
        }
    }
}

impl Body for HubBody {
    type Data = Batch;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Batch>, Self::Error>>> {
        loop {
            if let Some(batch) = self.ready.take().filter(|b| !b.is_empty()) {
                self.count(&batch);
                return Poll::Ready(Some(Ok(Frame::data(batch))));
            }
            let Some(next) = self.next.as_mut() else { return Poll::Ready(None) };
            match next.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready((batcher, packets, result, client)) => {
                    self.ready = Some(packets.into_iter().collect());
                    self.next = result.is_ok().then(|| Self::fetch(batcher, client));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ready.as_ref().is_none_or(Batch::is_empty) && self.next.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::hub::{HubConfig, Packet, PacketClass};

    fn packet(class: PacketClass, time_ms: i64) -> Packet {
        Packet { bytes: Bytes::from(time_ms.to_string()), time_ms, class }
    }

    #[tokio::test]
    async fn the_first_batch_and_a_batch_spanning_the_latency_are_not_held_back() {
        let hub = Hub::new(HubConfig::default());
        hub.start_publish();
        hub.push(packet(PacketClass::VideoKeyframe, 0));
        let mut batcher = Batcher::new(hub.subscribe(), 3_600_000);
        let mut out = Vec::new();
        let done = tokio::time::timeout(Duration::from_secs(30), batcher.next(&mut out)).await;
        assert_eq!(done, Ok(Ok(())));
        assert_eq!(out.len(), 1, "the first batch goes at once");
        // A stall (the flowing path's sleep found nothing) then a burst spanning more than an hour,
        // with an hour of merged-write latency: only the span rule lets `next` return (the timeout is a
        // safety net, never reached when the rule holds).
        batcher.flowing = false;
        hub.push(packet(PacketClass::Video, 1_800_000));
        hub.push(packet(PacketClass::Video, 5_500_000));
        out.clear();
        let done = tokio::time::timeout(Duration::from_secs(30), batcher.next(&mut out)).await;
        assert_eq!(done, Ok(Ok(())));
        assert_eq!(out.len(), 2, "the burst at once");
    }

    #[tokio::test]
    async fn realtime_batches_take_what_is_ready() {
        let hub = Hub::new(HubConfig::default());
        hub.start_publish();
        hub.push(packet(PacketClass::VideoKeyframe, 0));
        let mut batcher = Batcher::new(hub.subscribe(), 0);
        let mut out = Vec::new();
        batcher.next(&mut out).await.unwrap();
        assert_eq!(out, [Bytes::from("0")]);
        hub.push(packet(PacketClass::Video, 40));
        out.clear();
        batcher.next(&mut out).await.unwrap();
        assert_eq!(out, [Bytes::from("40")]);
    }
}
