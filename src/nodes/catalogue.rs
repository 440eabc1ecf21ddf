//! `NodeSpec`, the catalogue `srs` runs: the Rust twin of the Dhall `Node` union, one variant per
//! node kind, and the one place that dispatches from a variant to its kind's [`NodeKind`].
//!
//! Adding a kind is one line in `node_catalogue!` (plus its module, its `nodes/<kind>.dhall` and
//! its line in `Node.dhall`/`package.dhall`).

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::kind::NodeKind;
use super::*;
use crate::graph::engine::Outputs;
use crate::graph::{self, Catalogue, Listen, Ports};
use crate::media::MediaEvent;

/// The engine running this catalogue.
pub type Engine = graph::Engine<NodeSpec>;
/// Where one stream-scoped instance runs.
pub type StreamCtx = graph::engine::StreamCtx<NodeSpec>;
/// A live publication into this catalogue's graph.
pub type Publication = graph::engine::Publication<NodeSpec>;
pub type GraphFile = graph::GraphFile<NodeSpec>;
pub type NamedNode = graph::NamedNode<NodeSpec>;
pub type CheckedGraph = graph::CheckedGraph<NodeSpec>;

/// Declares the `NodeSpec` union and its dispatch from one list of `Variant(settings type)`.
macro_rules! node_catalogue {
    ($($variant:ident($config:ty),)*) => {
        /// Every node kind, tagged as in the Dhall catalogue.
        // Specs are loaded once per graph and never copied on the data path: variant sizes do not matter.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
        pub enum NodeSpec {
            $($variant($config),)*
        }

        impl NodeSpec {
            /// The kind's name as written in graph files, and its implementation.
            pub fn kind(&self) -> (&'static str, &dyn NodeKind) {
                match self {
                    $(NodeSpec::$variant(config) => (stringify!($variant), config),)*
                }
            }
        }
    };
}

node_catalogue! {
    AacToOpus(aac_to_opus::Config),
    Console(console::Config),
    DashOut(dash_out::Config),
    Dvr(dvr::Config),
    EdgePull(edge_pull::Config),
    EdgePush(edge_push::Config),
    Exec(exec::Config),
    FileIn(file_in::Config),
    FileOut(file_out::Config),
    FlvPostIn(flv_post_in::Config),
    Forward(forward::Config),
    Gb28181In(gb28181_in::Config),
    HlsOut(hls_out::Config),
    HttpApi(http_api::Config),
    HttpRemux(http_remux::Config),
    HttpStatic(http_static::Config),
    Ingest(ingest::Config),
    Jitter(jitter::Config),
    MpegtsUdpIn(mpegts_udp_in::Config),
    OpusToAac(opus_to_aac::Config),
    OriginCluster(origin_cluster::Config),
    OriginCoworkers(origin_coworkers::Config),
    RtcIn(rtc_in::Config),
    RtcOut(rtc_out::Config),
    RtmpIn(rtmp_in::Config),
    RtmpOut(rtmp_out::Config),
    SrtIn(srt_in::Config),
    SrtOut(srt_out::Config),
    Transcode(transcode::Config),
    Vhost(vhost::Config),
}

impl NodeSpec {
    pub fn as_vhost(&self) -> Option<&vhost::Config> {
        match self {
            NodeSpec::Vhost(config) => Some(config),
            _ => None,
        }
    }
}

impl Catalogue for NodeSpec {
    fn kind_name(&self) -> &'static str {
        self.kind().0
    }

    fn ports(&self) -> Ports {
        self.kind().1.ports()
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        self.kind().1.listens()
    }

    fn validate(&self) -> Result<(), String> {
        self.kind().1.validate()
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        self.kind().1.summary()
    }

    fn routes_vhost(&self) -> Option<&str> {
        self.kind().1.routes_vhost()
    }

    fn start_graph_scope(engine: &Engine) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(scope::start_graph_scope(engine))
    }

    fn run_stream_node(
        ctx: StreamCtx,
        input: mpsc::Receiver<MediaEvent>,
        outputs: Outputs,
    ) -> BoxFuture<'static, ()> {
        let spec = ctx.spec().clone();
        spec.kind().1.run(ctx, input, outputs)
    }
}
