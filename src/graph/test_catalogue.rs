//! A small catalogue for the engine's own tests: the engine and the checker run it exactly as they
//! run `nodes::NodeSpec`, which shows that nothing in `graph/` depends on the real node kinds.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::engine::{Engine, Outputs, StreamCtx};
use super::listen::parse_listen;
use super::{Caps, Catalogue, Listen, Ports, TlsFiles, Transport};
use crate::media::{Codec, MediaEvent};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub enum TestNode {
    /// Publishes any codec.
    Source,
    /// Takes the streams of one vhost.
    Router(String),
    /// Passes everything through.
    Pass,
    /// Serves H.264/H.265 with AAC/MP3 over HTTP.
    HttpSink { listen: String, tls: Option<TlsFiles> },
    /// An HTTP service without media edges.
    HttpService { listen: String },
}

impl TestNode {
    pub fn http_sink(listen: &str) -> TestNode {
        TestNode::HttpSink { listen: listen.into(), tls: None }
    }
}

fn http_listen(listen: &str, tls: Option<TlsFiles>) -> Result<Vec<Listen>, String> {
    let addr = parse_listen(listen)?;
    Ok(vec![Listen { addr, transport: Transport::Tcp, protocol: "http", exclusive_role: None, tls }])
}

impl Catalogue for TestNode {
    fn kind_name(&self) -> &'static str {
        match self {
            TestNode::Source => "Source",
            TestNode::Router(_) => "Router",
            TestNode::Pass => "Pass",
            TestNode::HttpSink { .. } => "HttpSink",
            TestNode::HttpService { .. } => "HttpService",
        }
    }

    fn ports(&self) -> Ports {
        match self {
            TestNode::Source => Ports::Source { produces: Caps::any() },
            TestNode::Router(_) | TestNode::Pass => Ports::passthrough(),
            TestNode::HttpSink { .. } => {
                Ports::Sink { accepts: Caps::new(&[Codec::H264, Codec::H265], &[Codec::Aac, Codec::Mp3]) }
            }
            TestNode::HttpService { .. } => Ports::Service,
        }
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        match self {
            TestNode::HttpSink { listen, tls } => http_listen(listen, tls.clone()),
            TestNode::HttpService { listen } => http_listen(listen, None),
            _ => Ok(Vec::new()),
        }
    }

    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    fn routes_vhost(&self) -> Option<&str> {
        match self {
            TestNode::Router(vhost) => Some(vhost),
            _ => None,
        }
    }

    fn start_graph_scope(_: &Engine<Self>) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn run_stream_node(
        _: StreamCtx<Self>,
        mut input: mpsc::Receiver<MediaEvent>,
        mut outputs: Outputs,
    ) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            while let Some(event) = input.recv().await {
                outputs.send(event).await;
            }
        })
    }
}
