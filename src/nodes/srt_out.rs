//! `SrtOut`: SRT players (ffmpeg, VLC, srt-live-transmit) get the stream as MPEG-TS.
//!
//! A caller plays when its stream id does not say `m=publish` (`#!::r=live/livestream,m=request`,
//! or the plain `live/livestream`). Each stream is muxed to TS once into a hub; every player
//! reads it from the last keyframe (tables first) and gets it in SRT messages of at most
//! 7 × 188 = 1316 bytes, cut from the shared bytes without copying. Players are written as
//! frames come (no merged-write wait: SRT's own latency buffer does that job). Shares its
//! listener with `SrtIn`; settings must equal the other SRT nodes' on the address.
//! Accepts video {H264, H265} and audio {AAC, MP3}.
//!
//! ```dhall
//! srs.node "srt_play" (srs.Node.SrtOut srs.SrtOut::{ listen = "10080" })
//! ```

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::SinkExt;
use petgraph::algo::has_path_connecting;
use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::{SimpleType, StaticType};
use tokio::sync::mpsc;

use super::http_remux::RemuxFormat;
use super::remux_serializer::RemuxSerializer;
use super::serve;
use super::srt_in::{self, caller_vhost};
use crate::codec::mpegts::PACKET_LEN;
use crate::codec::srt_streamid::SrtMode;
use crate::graph::engine::Outputs;
use crate::graph::Catalogue;
use crate::graph::{Listen, Ports, StreamKey};
use crate::media::MediaEvent;
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::NodeKind;
use crate::nodes::{Engine, StreamCtx};
use crate::servers::srt::{SessionFuture, SrtCaller, SrtRoute};
use srt_tokio::access::ServerRejectReason;

/// SRT's live-mode payload: seven transport packets.
pub const SRT_PAYLOAD_LEN: usize = 7 * PACKET_LEN;

/// The same settings as `SrtIn` (one listener per address serves both), as its own kind.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Config(pub srt_in::Config);

impl StaticType for Config {
    fn static_type() -> SimpleType {
        srt_in::Config::static_type()
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Sink { accepts: super::mpegts_udp_in::ts_caps() }
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        srt_in::srt_listens(&self.0.listen, None)
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        let query =
            format!("?streamid=#!::r={}/{},m=request", super::urls::EXAMPLE_APP, super::urls::EXAMPLE_STREAM);
        super::urls::on_listens(listens, "play", "srt", &query)
    }

    fn validate(&self) -> Result<(), String> {
        self.0.validate()
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        self.0.srt_summary()
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        for listen in node.listens {
            let route = Route::new(node.engine.clone(), node.index);
            plan.srt_route(listen.addr, node.name, self.0.listen_settings(), route)?;
        }
        Ok(())
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        Box::pin(run(ctx, input))
    }
}

/// Runs the serializer of one stream: frames in, TS packets into the stream's hub.
async fn run(ctx: StreamCtx, mut input: mpsc::Receiver<MediaEvent>) {
    let hub = serve::realtime_hub_for(&ctx.engine, ctx.node, &ctx.key);
    hub.start_publish();
    let mut serializer = RemuxSerializer::new(RemuxFormat::Ts);
    while let Some(event) = serve::next_event(&hub, &mut input).await {
        if event == MediaEvent::End {
            break;
        }
        for packet in serializer.push(&event) {
            hub.push(packet);
        }
    }
    hub.stop_publish();
}

/// Takes playing callers of the vhosts this node serves.
#[derive(Debug)]
pub struct Route {
    engine: Engine,
    node: NodeIndex,
}

impl Route {
    pub fn new(engine: Engine, node: NodeIndex) -> Arc<Route> {
        Arc::new(Route { engine, node })
    }

    /// Whether streams of `vhost` reach this node (always, in a graph without vhost nodes).
    fn serves(&self, vhost: &str) -> bool {
        let graph = self.engine.graph();
        let mut routers = graph.dag.node_indices().filter(|n| graph.node(*n).node.routes_vhost().is_some());
        let mut any = false;
        let found = routers.any(|n| {
            any = true;
            graph.node(n).node.routes_vhost() == Some(vhost)
                && has_path_connecting(&graph.dag, n, self.node, None)
        });
        found || !any
    }
}

impl SrtRoute for Route {
    fn handle(&self, caller: Box<SrtCaller>) -> Result<SessionFuture, Box<SrtCaller>> {
        if caller.stream_id.mode != SrtMode::Request {
            return Err(caller);
        }
        let Some(vhost) = caller_vhost(&self.engine, &caller) else {
            return Ok(Box::pin(
                caller.reject(ServerRejectReason::HostNotFound, "no vhost serves this host"),
            ));
        };
        if !self.serves(&vhost) {
            return Err(caller);
        }
        let key = StreamKey::new(vhost, caller.stream_id.app.clone(), caller.stream_id.stream.clone());
        Ok(Box::pin(play_session(self.engine.clone(), self.node, key, *caller)))
    }
}

/// Sends the stream to one player until it leaves, the stream's hub closes or a send fails.
async fn play_session(engine: Engine, node: NodeIndex, key: StreamKey, caller: SrtCaller) {
    let (id, peer) = (caller.id, caller.peer);
    let mut socket = match caller.request.accept(None).await {
        Ok(socket) => socket,
        Err(e) => {
            tracing::warn!(conn = id, %peer, "srt handshake failed: {e}");
            return;
        }
    };
    tracing::info!(conn = id, %peer, stream = %key, "srt play");
    let hub = serve::realtime_hub_for(&engine, node, &key);
    let mut consumer = hub.subscribe();
    let mut batch: Vec<Bytes> = Vec::with_capacity(serve::MAX_BATCH);
    let mut n_bytes: u64 = 0;
    'playing: loop {
        batch.clear();
        if consumer.recv_batch(&mut batch, serve::MAX_BATCH).await.is_err() {
            break;
        }
        for packet in &batch {
            for message in messages(packet) {
                n_bytes += message.len() as u64;
                if let Err(e) = socket.feed((Instant::now(), message)).await {
                    tracing::info!(conn = id, %peer, "srt player gone: {e}");
                    break 'playing;
                }
            }
        }
        if let Err(e) = socket.flush().await {
            tracing::info!(conn = id, %peer, "srt player gone: {e}");
            break;
        }
    }
    let _ = socket.close().await;
    tracing::info!(conn = id, %peer, stream = %key, bytes = n_bytes, "srt play ended");
}

/// A hub packet (whole TS packets) as SRT messages of at most 1316 bytes, sharing its memory.
pub fn messages(packet: &Bytes) -> impl Iterator<Item = Bytes> + '_ {
    (0..packet.len())
        .step_by(SRT_PAYLOAD_LEN)
        .map(|start| packet.slice(start..(start + SRT_PAYLOAD_LEN).min(packet.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_become_messages_of_seven_ts_packets() {
        let packet = Bytes::from(vec![0x47u8; 16 * PACKET_LEN]);
        let sizes: Vec<usize> = messages(&packet).map(|m| m.len()).collect();
        assert_eq!(sizes, vec![1316, 1316, 2 * PACKET_LEN]);
        assert_eq!(messages(&Bytes::new()).count(), 0);
    }
}
