//! `SrtIn`: SRT publishers (ffmpeg, OBS, srt-live-transmit) sending MPEG-TS become streams.
//!
//! A caller publishes when its stream id says so (`#!::r=live/livestream,m=publish`, see
//! `codec::srt_streamid`); the `h=` key (else `__defaultVhost__`) picks the vhost. The TS payload
//! is demuxed to frames. A busy stream or an unknown vhost is refused in the handshake. Shares
//! its listener with `SrtOut` nodes on the same address; `latency`, `passphrase` and `pbkeylen`
//! are the listener's (SRS `srt_server`). Produces video {H264, H265} and audio {AAC, MP3}.
//!
//! ```dhall
//! srs.node "srt" (srs.Node.SrtIn srs.SrtIn::{ listen = "10080" })
//! ```

use std::sync::Arc;

use futures::StreamExt;
use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use srt_tokio::access::ServerRejectReason;

use super::ts_source::TsSource;
use super::vhost;
use crate::codec::srt_streamid::SrtMode;
use crate::graph::engine::PublishError;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::{listens_on, Listen, Ports, StreamKey, Transport};
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::Engine;
use crate::nodes::NodeKind;
use crate::servers::srt::{SessionFuture, SrtCaller, SrtListenSettings, SrtRoute};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// SRT (UDP) listen address: `10080` or `ip:port`.
    pub listen: String,
    /// SRTO_LATENCY in milliseconds (SRS `srt_server.latency`).
    pub latency: u64,
    /// Encryption passphrase, 10 to 79 characters; empty for none.
    pub passphrase: String,
    /// Key length in bytes: 0 (the caller's), 16, 24 or 32.
    pub pbkeylen: u64,
    /// App for stream ids that name none (SRS `srt_server.default_app`).
    pub default_app: String,
}

impl Config {
    pub fn listen_settings(&self) -> SrtListenSettings {
        SrtListenSettings {
            latency_ms: self.latency,
            passphrase: self.passphrase.clone(),
            pbkeylen: self.pbkeylen,
            default_app: self.default_app.clone(),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        self.listen_settings().validate()
    }

    /// Key settings shown by `srs graph dot` for SRT nodes.
    pub fn srt_summary(&self) -> Vec<(&'static str, String)> {
        vec![("listen", self.listen.clone()), ("latency", format!("{} ms", self.latency))]
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Source { produces: super::mpegts_udp_in::ts_caps() }
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        srt_listens(&self.listen, Some("srt publish"))
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        let query =
            format!("?streamid=#!::r={}/{},m=publish", super::urls::EXAMPLE_APP, super::urls::EXAMPLE_STREAM);
        super::urls::on_listens(listens, "publish", "srt", &query)
    }

    fn validate(&self) -> Result<(), String> {
        Config::validate(self)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        self.srt_summary()
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        for listen in node.listens {
            let route = Route::new(node.engine.clone(), node.index);
            plan.srt_route(listen.addr, node.name, self.listen_settings(), route)?;
        }
        Ok(())
    }
}

/// The UDP listeners SRT nodes declare.
pub fn srt_listens(listen: &str, exclusive_role: Option<&'static str>) -> Result<Vec<Listen>, String> {
    listens_on(listen, Transport::Udp, "srt", exclusive_role, None)
}

/// The vhost a caller names (`h=`), resolved as SRS does; `None` when no vhost node serves it.
pub fn caller_vhost(engine: &Engine, caller: &SrtCaller) -> Option<String> {
    vhost::resolve(engine, caller.stream_id.vhost.as_deref().unwrap_or(DEFAULT_VHOST))
}

/// Takes publishing callers.
#[derive(Debug)]
pub struct Route {
    engine: Engine,
    node: NodeIndex,
}

impl Route {
    pub fn new(engine: Engine, node: NodeIndex) -> Arc<Route> {
        Arc::new(Route { engine, node })
    }
}

impl SrtRoute for Route {
    fn handle(&self, caller: Box<SrtCaller>) -> Result<SessionFuture, Box<SrtCaller>> {
        if caller.stream_id.mode != SrtMode::Publish {
            return Err(caller);
        }
        let (engine, node) = (self.engine.clone(), self.node);
        Ok(Box::pin(publish_session(engine, node, *caller)))
    }
}

/// Publishes one caller's stream until it disconnects or the server shuts down.
async fn publish_session(engine: Engine, node: NodeIndex, caller: SrtCaller) {
    let Some(vhost) = caller_vhost(&engine, &caller) else {
        return caller.reject(ServerRejectReason::HostNotFound, "no vhost serves this host").await;
    };
    let key = StreamKey::new(vhost, caller.stream_id.app.clone(), caller.stream_id.stream.clone());
    let mut publication = match engine.publish(node, key) {
        Ok(publication) => publication,
        Err(e @ PublishError::Busy(_)) => {
            return caller.reject(ServerRejectReason::Conflict, &e.to_string()).await
        }
        Err(e) => return caller.reject(ServerRejectReason::Down, &e.to_string()).await,
    };
    let (id, peer) = (caller.id, caller.peer);
    let mut socket = match caller.request.accept(None).await {
        Ok(socket) => socket,
        Err(e) => {
            tracing::warn!(conn = id, %peer, "srt handshake failed: {e}");
            return;
        }
    };
    tracing::info!(conn = id, %peer, stream = %publication.key(), "srt publishing");
    let mut source = TsSource::new(format!("srt conn={id} peer={peer}"));
    let shutdown = engine.shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let received = tokio::select! {
            received = socket.next() => received,
            _ = &mut shutdown => break,
        };
        match received {
            // SRT delivers bytes in order, and some senders (srt-live-transmit from a pipe) do not
            // align messages to packets: the demuxer takes any chunking and resyncs after a drop.
            Some(Ok((_, payload))) => source.push(&mut publication, &payload).await,
            Some(Err(e)) => {
                tracing::warn!(conn = id, %peer, "srt receive failed: {e}");
                break;
            }
            None => break,
        }
    }
    source.finish(publication).await;
}
