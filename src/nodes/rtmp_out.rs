//! `RtmpOut`: RTMP players. Each frame is chunked once per stream and shared by every player.
//!
//! Accepts video {H264, H265, AV1} and audio {AAC, MP3, Opus}. Shares the listener of an
//! `RtmpIn` on the same address. Serving settings (gop cache, merged-write latency, chunk
//! size) come from the `Vhost` node upstream.
//!
//! ```dhall
//! srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
//! ```

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::flv_frames::FramesToFlv;
use super::remux_serializer::packet_class;
use super::serve;
use crate::codec::rtmp::reply::DEFAULT_STREAM_ID;
use crate::codec::rtmp::{encode_message, MediaMessage, MediaMessageKind};
use crate::graph::engine::Outputs;
use crate::graph::hub::Packet;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::{listens_on, Listen, Ports, Transport};
use crate::media::MediaEvent;
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::NodeKind;
use crate::nodes::{Engine, StreamCtx};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// RTMP listen address, as SRS's `listen`: `1935` or `ip:port`.
    pub listen: String,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Sink { accepts: super::rtmp_in::rtmp_caps() }
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        listens_on(&self.listen, Transport::Tcp, "rtmp", Some("rtmp play"), None)
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        let path = format!("/{}/{}", super::urls::EXAMPLE_APP, super::urls::EXAMPLE_STREAM);
        super::urls::on_listens(listens, "play", "rtmp", &path)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("listen", self.listen.clone())]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        for listen in node.listens {
            plan.rtmp_listener(listen.addr);
        }
        Ok(())
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        Box::pin(run(ctx, input))
    }
}

/// The chunk size RTMP players get: the default vhost's `chunk_size` (SRS's global `chunk_size`).
/// Sessions announce it at connect, before the stream (and so its vhost) is known, so one value
/// serves every vhost.
pub fn chunk_size(engine: &Engine) -> u32 {
    let graph = engine.graph();
    let vhosts: Vec<&super::vhost::Config> =
        graph.dag.node_indices().filter_map(|n| graph.node(n).node.as_vhost()).collect();
    let chosen = vhosts.iter().find(|v| v.name == DEFAULT_VHOST).or(vhosts.first());
    chosen.map_or(60_000, |v| u32::try_from(v.chunk_size).unwrap_or(60_000))
}

/// Serializes one stream for RTMP players: each message chunked once, shared by every player.
async fn run(ctx: StreamCtx, mut input: mpsc::Receiver<MediaEvent>) {
    let hub = serve::hub_for(&ctx.engine, ctx.node, &ctx.key);
    let chunk_size = chunk_size(&ctx.engine);
    hub.start_publish();
    let mut to_flv = FramesToFlv::default();
    while let Some(event) = serve::next_event(&hub, &mut input).await {
        if event == MediaEvent::End {
            break;
        }
        for tag in to_flv.push(&event) {
            let kind = MediaMessageKind::from(tag.tag_type);
            let class = packet_class(&event, tag.tag_type);
            let media = MediaMessage { kind, timestamp: tag.timestamp_ms, payload: tag.body };
            let bytes =
                encode_message(&media.to_message(DEFAULT_STREAM_ID), chunk_size, kind.chunk_stream_id());
            hub.push(Packet::new(bytes, i64::from(media.timestamp), class));
        }
    }
    hub.stop_publish();
}
