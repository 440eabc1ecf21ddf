//! What the engine needs from the node kinds it runs, without knowing any of them.
//!
//! The catalogue is the Rust twin of the Dhall `Node` union: one type whose values are node
//! settings, one variant per kind. The engine, the checker and the loader are generic over it,
//! so `graph/` names no node, protocol or server; `nodes::NodeSpec` is the catalogue `srs` runs.

use std::fmt::Debug;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::engine::{Engine, Outputs, StreamCtx};
use super::{Listen, Ports};
use crate::media::MediaEvent;

/// One node's settings, as the engine reads and runs them.
pub trait Catalogue:
    Debug + Clone + PartialEq + Send + Sync + DeserializeOwned + StaticType + 'static
{
    /// The kind's name as written in graph files (`RtmpIn`).
    fn kind_name(&self) -> &'static str;

    /// Media ports, read by `graph check` and the engine.
    fn ports(&self) -> Ports;

    /// Graph-scoped sockets the node needs; `Err` names a bad address field.
    fn listens(&self) -> Result<Vec<Listen>, String>;

    /// Settings checks beyond what Dhall's types catch.
    fn validate(&self) -> Result<(), String>;

    /// Key settings shown by `srs graph dot`.
    fn summary(&self) -> Vec<(&'static str, String)>;

    /// For router nodes: the vhost whose streams take this branch.
    fn routes_vhost(&self) -> Option<&str>;

    /// Starts what lives as long as the graph (listeners, servers, file sources); called again on
    /// reload with a handle on the new graph, to start only what is new.
    fn start_graph_scope(engine: &Engine<Self>) -> BoxFuture<'_, anyhow::Result<()>>;

    /// Runs one node's instance for one stream until its input ends.
    fn run_stream_node(
        ctx: StreamCtx<Self>,
        input: mpsc::Receiver<MediaEvent>,
        outputs: Outputs,
    ) -> BoxFuture<'static, ()>;
}
