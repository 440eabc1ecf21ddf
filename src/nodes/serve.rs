//! What every serving sink shares: finding a stream's hub, feeding it (the feeder decides when
//! players wake: `next_event`), and the HTTP body that hands players batches of pre-serialized packets.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use petgraph::graph::NodeIndex;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::vhost;
use crate::control::registry::{Client, ClientGuard};
use crate::graph::hub::{Closed, Consumer, DirectSink, Hub, HubConfig};
use crate::graph::StreamKey;
use crate::media::MediaEvent;
use crate::nodes::Engine;
use crate::servers::http::Batch;
use crate::servers::tcp::{read_shared, write_all_vectored};

/// Most packets handed over in one batch (SRS's `SRS_PERF_MW_MSGS`).
pub const MAX_BATCH: usize = crate::graph::hub::MAX_UNFLUSHED;

/// The hub of a serving sink for one stream, configured from the vhost upstream (gop cache,
/// queue length, and the merged-write rule its players are woken by).
pub fn hub_for(engine: &Engine, node: NodeIndex, key: &StreamKey) -> Arc<Hub> {
    engine.hub(node, key, || vhost::settings_for(engine, node, key).hub_config())
}

/// Like `hub_for`, but players are woken for every burst (SRT: its latency buffer does the batching).
pub fn realtime_hub_for(engine: &Engine, node: NodeIndex, key: &StreamKey) -> Arc<Hub> {
    engine.hub(node, key, || HubConfig {
        merge_ms: 0,
        merge_msgs: 0,
        ..vhost::settings_for(engine, node, key).hub_config()
    })
}

/// The next event for a sink that feeds `hub`. Before it waits on an empty input, the burst just
/// drained is flushed if the merged-write rule says so (realtime: always); packets still unflushed
/// are flushed at the latest `mw_latency` after the oldest of them arrived, so a slow stream (a
/// 5 fps camera without audio never reaches `mw_msgs` in time) or a stalled one still reaches its
/// players. One timer per stream, none per player.
pub async fn next_event(hub: &Hub, input: &mut mpsc::Receiver<MediaEvent>) -> Option<MediaEvent> {
    if let Ok(event) = input.try_recv() {
        return Some(event);
    }
    hub.end_burst();
    if let Some(deadline) = hub.flush_deadline() {
        if let Ok(event) = tokio::time::timeout_at(deadline, input.recv()).await {
            return event;
        }
        hub.flush();
    }
    input.recv().await
}

/// How long a write to a player may block before the player is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// A player's socket as a hub writes to it directly: bytes counted on the player's registry entry.
#[derive(Debug)]
pub struct DirectSocket {
    pub socket: Arc<TcpStream>,
    pub client: Arc<Client>,
}

impl DirectSink for DirectSocket {
    fn try_write(&self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        let written = self.socket.try_write_vectored(bufs)?;
        self.client.add_sent(written);
        Ok(written)
    }
}

/// Why a raw player's connection ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlayEnd {
    #[error("the stream ended")]
    StreamClosed,
    #[error("the player closed the connection")]
    PlayerLeft,
    #[error("kicked")]
    Kicked,
    #[error("server shutting down")]
    Shutdown,
    #[error("player stopped reading for {0:?}")]
    Stalled(Duration),
    #[error("write failed: {0}")]
    WriteFailed(String),
}

/// Plays a hub to a player on its own socket (an HTTP stream served past hyper): `first` (the
/// response head, a file header) is written, then the hub's batches, written by the hub itself
/// while the player keeps up and by this task when it does not. The lease ends with the play
/// (`on_stop` fires as the function returns).
pub async fn play_raw(
    engine: &Engine,
    socket: TcpStream,
    mut consumer: Consumer,
    lease: PlayerLease,
    first: Vec<Bytes>,
) -> PlayEnd {
    let socket = Arc::new(socket);
    let client = Arc::clone(lease.guard.client());
    consumer
        .write_directly(Arc::new(DirectSocket { socket: Arc::clone(&socket), client: Arc::clone(&client) }));
    let shutdown = engine.shutdown_signal();
    tokio::pin!(shutdown);
    let kicked = client.kicked();
    tokio::pin!(kicked);
    let mut out = first;
    // The gop cache goes out with the response head, in one write.
    consumer.poll_batch(&mut out, MAX_BATCH);
    // A player sends nothing after its request; what it sends anyway is read and dropped.
    let mut discard = [0u8; 512];
    loop {
        if !out.is_empty() {
            client.add_sent(out.iter().map(Bytes::len).sum());
            match tokio::time::timeout(WRITE_TIMEOUT, write_all_vectored(&socket, &mut out)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return PlayEnd::WriteFailed(e.to_string()),
                Err(_) => return PlayEnd::Stalled(WRITE_TIMEOUT),
            }
        }
        tokio::select! {
            biased;
            batch = consumer.recv_batch(&mut out, MAX_BATCH) => {
                if batch.is_err() {
                    return PlayEnd::StreamClosed;
                }
            }
            _ = &mut shutdown => return PlayEnd::Shutdown,
            _ = &mut kicked => return PlayEnd::Kicked,
            read = read_shared(&socket, &mut discard) => {
                if !matches!(read, Ok(n) if n > 0) {
                    return PlayEnd::PlayerLeft;
                }
            }
        }
    }
}

type Kicked = Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

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
/// Each batch is one body frame (a `Batch` of the shared packets, usually the hub's one joined
/// buffer), written with one writev. Polled directly: no future or allocation per batch.
pub struct HubBody {
    ready: Option<Batch>,
    /// `None` once the stream closed or the player was kicked.
    consumer: Option<Consumer>,
    /// Resolves when the player is kicked (polled only while waiting for the hub).
    kicked: Option<Kicked>,
    /// The player's registry entry: bytes are counted on it, and a kick ends the body.
    lease: Option<PlayerLease>,
}

impl HubBody {
    pub fn new(prefix: Option<Bytes>, consumer: Consumer) -> HubBody {
        HubBody { ready: prefix.map(Batch::from), consumer: Some(consumer), kicked: None, lease: None }
    }

    /// A body for a registered player: bytes are counted on it, and a kick ends the body.
    pub fn leased(prefix: Option<Bytes>, consumer: Consumer, lease: PlayerLease) -> HubBody {
        let kicked: Kicked = Box::pin(lease.guard.client().kicked());
        HubBody {
            ready: prefix.map(Batch::from),
            consumer: Some(consumer),
            kicked: Some(kicked),
            lease: Some(lease),
        }
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
        let this = &mut *self;
        if let Some(batch) = this.ready.take().filter(|b| !b.is_empty()) {
            this.count(&batch);
            return Poll::Ready(Some(Ok(Frame::data(batch))));
        }
        let Some(consumer) = this.consumer.as_mut() else { return Poll::Ready(None) };
        let mut packets = Vec::new();
        match consumer.poll_recv_batch(cx, &mut packets, MAX_BATCH) {
            Poll::Ready(Ok(_)) => {
                let batch = Batch::from(packets);
                this.count(&batch);
                Poll::Ready(Some(Ok(Frame::data(batch))))
            }
            Poll::Ready(Err(Closed)) => {
                this.consumer = None;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.kicked.as_mut().is_some_and(|kicked| kicked.as_mut().poll(cx).is_ready()) {
                    this.consumer = None;
                    return Poll::Ready(None);
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ready.as_ref().is_none_or(Batch::is_empty) && self.consumer.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::hub::{Packet, PacketClass};

    fn packet(class: PacketClass, time_ms: i64) -> Packet {
        Packet::new(Bytes::from(time_ms.to_string()), time_ms, class)
    }

    fn event() -> MediaEvent {
        MediaEvent::End
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_input_flushes_the_tail_after_the_merge_latency() {
        let hub = Hub::new(HubConfig { merge_ms: 350, merge_msgs: 8, ..HubConfig::default() });
        hub.start_publish();
        let mut consumer = hub.subscribe();
        let (sender, mut input) = mpsc::channel(4);
        hub.push(packet(PacketClass::VideoKeyframe, 0));
        let feeder = {
            let hub = Arc::clone(&hub);
            tokio::spawn(async move { next_event(&hub, &mut input).await })
        };
        let mut out = Vec::new();
        let started = tokio::time::Instant::now();
        consumer.recv_batch(&mut out, MAX_BATCH).await.unwrap();
        assert_eq!(out, [Bytes::from("0")]);
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(350),
            "flushed by the feeder's timer, not before"
        );
        sender.send(event()).await.unwrap();
        assert_eq!(feeder.await.unwrap(), Some(MediaEvent::End));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_stream_waits_at_most_the_merge_latency() {
        let hub = Hub::new(HubConfig { merge_ms: 350, merge_msgs: 8, ..HubConfig::default() });
        hub.start_publish();
        let mut consumer = hub.subscribe();
        let (sender, mut input) = mpsc::channel(4);
        let feeder = {
            let hub = Arc::clone(&hub);
            tokio::spawn(async move { while next_event(&hub, &mut input).await.is_some() {} })
        };
        // A 5 fps stream without audio: a frame every 200 ms, never 9 within 350 ms.
        let started = tokio::time::Instant::now();
        let frames = tokio::spawn({
            let hub = Arc::clone(&hub);
            async move {
                for i in 0..5 {
                    hub.push(packet(PacketClass::Video, i * 200));
                    sender.send(MediaEvent::End).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        });
        let mut out = Vec::new();
        consumer.recv_batch(&mut out, MAX_BATCH).await.unwrap();
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(350),
            "the first frame waited mw_latency, no more"
        );
        assert_eq!(out, [Bytes::from("0200")], "the frames at 0 and 200 ms, as one joined buffer");
        frames.await.unwrap();
        feeder.await.unwrap();
    }

    #[tokio::test]
    async fn realtime_feeders_flush_each_drained_burst() {
        let hub = Hub::new(HubConfig::default());
        hub.start_publish();
        let mut consumer = hub.subscribe();
        let (sender, mut input) = mpsc::channel(4);
        sender.send(event()).await.unwrap();
        sender.send(event()).await.unwrap();
        hub.push(packet(PacketClass::VideoKeyframe, 0));
        assert!(next_event(&hub, &mut input).await.is_some(), "a queued event comes first");
        assert!(hub.has_unflushed(), "mid-burst: not flushed");
        hub.push(packet(PacketClass::Video, 40));
        assert!(next_event(&hub, &mut input).await.is_some());
        drop(sender);
        assert_eq!(next_event(&hub, &mut input).await, None);
        let mut out = Vec::new();
        consumer.poll_batch(&mut out, MAX_BATCH);
        assert_eq!(out, [Bytes::from("040")], "the burst flushed (as one buffer) when the input ran dry");
    }
}
