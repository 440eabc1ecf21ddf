//! Node glue: one module per node kind, mirroring `nodes/*.dhall` one for one.
//!
//! `NodeSpec` is the Rust twin of the Dhall `Node` union. Each kind declares its ports and
//! listeners as data (read by `graph check`) and runs a stream-scoped instance per live stream.
//! This is the only layer where codec events become media frames and back.

pub mod jitter;
pub mod vhost;

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use crate::graph::engine::{Outputs, StreamCtx};
use crate::graph::{Engine, Listen, Ports};
use crate::media::MediaEvent;

/// Every node kind, tagged as in the Dhall catalogue.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub enum NodeSpec {
    Jitter(jitter::Config),
    Vhost(vhost::Config),
}

impl NodeSpec {
    /// The kind's name as written in graph files.
    pub fn kind_name(&self) -> &'static str {
        match self {
            NodeSpec::Jitter(_) => "Jitter",
            NodeSpec::Vhost(_) => "Vhost",
        }
    }

    pub fn ports(&self) -> Ports {
        match self {
            NodeSpec::Jitter(_) | NodeSpec::Vhost(_) => Ports::passthrough(),
        }
    }

    /// Graph-scoped sockets the node needs; `Err` names a bad address field.
    pub fn listens(&self) -> Result<Vec<Listen>, String> {
        match self {
            NodeSpec::Jitter(_) | NodeSpec::Vhost(_) => Ok(Vec::new()),
        }
    }

    /// Settings checks beyond what Dhall's types catch.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            NodeSpec::Vhost(config) => config.validate(),
            NodeSpec::Jitter(_) => Ok(()),
        }
    }

    /// For router nodes: the vhost whose streams take this branch.
    pub fn routes_vhost(&self) -> Option<&str> {
        match self {
            NodeSpec::Vhost(config) => Some(&config.name),
            _ => None,
        }
    }

    /// Key settings shown by `srs graph dot`.
    pub fn summary(&self) -> Vec<(&'static str, String)> {
        match self {
            NodeSpec::Jitter(config) => vec![("algorithm", format!("{:?}", config.algorithm).to_lowercase())],
            NodeSpec::Vhost(config) => config.summary(),
        }
    }

    pub fn as_vhost(&self) -> Option<&vhost::Config> {
        match self {
            NodeSpec::Vhost(config) => Some(config),
            _ => None,
        }
    }
}

/// Starts what lives as long as the graph: listeners, servers, file sources.
pub async fn start_graph_scope(engine: &Engine) -> anyhow::Result<()> {
    let _ = engine;
    Ok(())
}

/// Runs one node's instance for one stream until its input ends.
pub async fn run_stream_node(ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, outputs: Outputs) {
    match ctx.spec().clone() {
        NodeSpec::Jitter(config) => jitter::run(config.algorithm, input, outputs).await,
        NodeSpec::Vhost(config) => vhost::run(&config, input, outputs).await,
    }
}
