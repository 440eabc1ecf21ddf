//! `NodeKind`: everything one node kind is, implemented once by its settings type.
//!
//! A kind's `Config` (the Rust twin of `nodes/<kind>.dhall`) declares its ports and listeners,
//! checks itself, summarizes itself for `srs graph dot`, asks for its graph-scoped parts
//! (routes on a shared server, a socket, a file reader) and runs one instance per live stream.
//! `NodeSpec` dispatches to it in one place (`catalogue.rs`).

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::scope::{ScopeNode, ScopePlan};
use super::urls::ServedUrl;
use super::{Engine, StreamCtx};
use crate::graph::engine::Outputs;
use crate::graph::{Listen, Ports, StreamKey};
use crate::media::MediaEvent;

pub trait NodeKind: Send + Sync {
    /// Media ports, read by `graph check` and the engine.
    fn ports(&self) -> Ports;

    /// Graph-scoped sockets the node needs; `Err` names a bad address field.
    fn listens(&self) -> Result<Vec<Listen>, String> {
        Ok(Vec::new())
    }

    /// Settings checks beyond what Dhall's types catch.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// Key settings shown by `srs graph dot`.
    fn summary(&self) -> Vec<(&'static str, String)>;

    /// The URLs a user publishes to or plays from through this node, logged at start
    /// (`rtmp://127.0.0.1:1935/live/livestream`): `listens` are its own, `graph` names what
    /// other nodes write (a file server serves the HLS playlists an `HlsOut` writes).
    fn served_urls(&self, _listens: &[Listen], _graph: &super::GraphFile) -> Vec<ServedUrl> {
        Vec::new()
    }

    /// For router nodes: the vhost whose streams take this branch.
    fn routes_vhost(&self) -> Option<&str> {
        None
    }

    /// Adds what the node needs for as long as the graph runs (HTTP routes, SRT routes, sockets,
    /// file readers) to `plan`; `start_graph_scope` binds and starts it, once per address.
    fn plan_graph_scope(&self, _node: &ScopeNode<'_>, _plan: &mut ScopePlan) -> anyhow::Result<()> {
        Ok(())
    }

    /// Whether this node takes the stream `key`'s media at this moment. Most nodes always do: a gop
    /// cache, a recording, a segmenter keep what comes for later. A WebRTC sink keeps nothing for
    /// a player still to come, so it takes media only while the stream has one. A costly transform
    /// (an audio bridge) asks its children and pauses while none takes its output.
    fn takes_media_now(&self, _engine: &Engine, _key: &StreamKey) -> bool {
        true
    }

    /// One instance for one live stream, until its input ends. Sources and services are never
    /// instantiated per stream (the checker gives them no input edges).
    fn run(
        &self,
        ctx: StreamCtx,
        _input: mpsc::Receiver<MediaEvent>,
        _outputs: Outputs,
    ) -> BoxFuture<'static, ()> {
        tracing::error!(node = ctx.name(), "this node kind takes no stream input");
        Box::pin(async {})
    }
}
