//! Node glue: one module per node kind, mirroring `nodes/*.dhall` one for one.
//!
//! `NodeSpec` is the Rust twin of the Dhall `Node` union. Each kind declares its ports and
//! listeners as data (read by `graph check`) and runs a stream-scoped instance per live stream.
//! This is the only layer where codec events become media frames and back.

pub mod dvr;
pub mod file_in;
pub mod file_muxer;
pub mod file_out;
pub mod file_writer;
pub mod flv_frames;
pub mod hls_out;
pub mod http_remux;
pub mod http_static;
pub mod jitter;
pub mod live_playlists;
pub mod path_template;
pub mod remux_serializer;
pub mod rtmp_conn;
pub mod rtmp_in;
pub mod rtmp_out;
pub mod serve;
pub mod vhost;

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use crate::graph::engine::{Outputs, StreamCtx};
use crate::graph::{Caps, Engine, Listen, Ports};
use crate::media::{Codec, MediaEvent};
use crate::servers::http::HttpRoute;

/// Every node kind, tagged as in the Dhall catalogue.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub enum NodeSpec {
    Dvr(dvr::Config),
    FileIn(file_in::Config),
    FileOut(file_out::Config),
    HlsOut(hls_out::Config),
    HttpRemux(http_remux::Config),
    HttpStatic(http_static::Config),
    Jitter(jitter::Config),
    RtmpIn(rtmp_in::Config),
    RtmpOut(rtmp_out::Config),
    Vhost(vhost::Config),
}

impl NodeSpec {
    /// The kind's name as written in graph files.
    pub fn kind_name(&self) -> &'static str {
        match self {
            NodeSpec::Dvr(_) => "Dvr",
            NodeSpec::FileIn(_) => "FileIn",
            NodeSpec::FileOut(_) => "FileOut",
            NodeSpec::HlsOut(_) => "HlsOut",
            NodeSpec::HttpRemux(_) => "HttpRemux",
            NodeSpec::HttpStatic(_) => "HttpStatic",
            NodeSpec::Jitter(_) => "Jitter",
            NodeSpec::RtmpIn(_) => "RtmpIn",
            NodeSpec::RtmpOut(_) => "RtmpOut",
            NodeSpec::Vhost(_) => "Vhost",
        }
    }

    pub fn ports(&self) -> Ports {
        match self {
            NodeSpec::Dvr(config) => dvr::ports(config),
            NodeSpec::FileIn(_) => file_in::ports(),
            NodeSpec::FileOut(config) => file_out::ports(config),
            NodeSpec::HlsOut(config) => hls_out::ports(config),
            NodeSpec::HttpRemux(config) => http_remux::ports(config),
            NodeSpec::HttpStatic(_) => http_static::ports(),
            NodeSpec::Jitter(_) | NodeSpec::Vhost(_) => Ports::passthrough(),
            NodeSpec::RtmpIn(_) => rtmp_in::ports(),
            NodeSpec::RtmpOut(_) => rtmp_out::ports(),
        }
    }

    /// Graph-scoped sockets the node needs; `Err` names a bad address field.
    pub fn listens(&self) -> Result<Vec<Listen>, String> {
        match self {
            NodeSpec::HttpRemux(config) => http_remux::listens(config),
            NodeSpec::HttpStatic(config) => http_static::listens(config),
            NodeSpec::RtmpIn(config) => rtmp_in::listens(config),
            NodeSpec::RtmpOut(config) => rtmp_out::listens(config),
            NodeSpec::Dvr(_)
            | NodeSpec::FileIn(_)
            | NodeSpec::FileOut(_)
            | NodeSpec::HlsOut(_)
            | NodeSpec::Jitter(_)
            | NodeSpec::Vhost(_) => Ok(Vec::new()),
        }
    }

    /// Settings checks beyond what Dhall's types catch.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            NodeSpec::Dvr(config) => config.validate(),
            NodeSpec::FileIn(config) => config.validate(),
            NodeSpec::FileOut(config) => config.validate(),
            NodeSpec::HlsOut(config) => config.validate(),
            NodeSpec::HttpRemux(config) => config.validate(),
            NodeSpec::HttpStatic(config) => config.validate(),
            NodeSpec::Vhost(config) => config.validate(),
            NodeSpec::Jitter(_) | NodeSpec::RtmpIn(_) | NodeSpec::RtmpOut(_) => Ok(()),
        }
    }

    /// For router nodes: the vhost whose streams take this branch.
    pub fn routes_vhost(&self) -> Option<&str> {
        self.as_vhost().map(|config| config.name.as_str())
    }

    /// Key settings shown by `srs graph dot`.
    pub fn summary(&self) -> Vec<(&'static str, String)> {
        match self {
            NodeSpec::Dvr(config) => {
                vec![("dvr_path", config.dvr_path.clone()), ("dvr_plan", format!("{:?}", config.dvr_plan))]
            }
            NodeSpec::FileIn(config) => {
                vec![("path", config.path.clone()), ("stream", config.stream.clone())]
            }
            NodeSpec::FileOut(config) => vec![("path", config.path.clone())],
            NodeSpec::HlsOut(config) => {
                vec![("hls_path", config.hls_path.clone()), ("m3u8", config.hls_m3u8_file.clone())]
            }
            NodeSpec::HttpRemux(config) => {
                vec![("listen", config.listen.clone()), ("mount", config.mount.clone())]
            }
            NodeSpec::HttpStatic(config) => {
                vec![("listen", config.listen.clone()), ("dir", config.dir.clone())]
            }
            NodeSpec::Jitter(config) => vec![("algorithm", format!("{:?}", config.algorithm).to_lowercase())],
            NodeSpec::RtmpIn(config) => vec![("listen", config.listen.clone())],
            NodeSpec::RtmpOut(config) => vec![("listen", config.listen.clone())],
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

/// File formats known by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub enum FileFormat {
    Flv,
    Ts,
    Mp4,
}

impl FileFormat {
    pub fn caps(self) -> Caps {
        match self {
            FileFormat::Flv => rtmp_in::rtmp_caps(),
            FileFormat::Ts => Caps::new(&[Codec::H264, Codec::H265], &[Codec::Aac, Codec::Mp3]),
            FileFormat::Mp4 => Caps::any(),
        }
    }

    /// The format named as `srs remux --format` spells it.
    pub fn from_name(name: &str) -> Option<FileFormat> {
        match name.to_ascii_lowercase().as_str() {
            "flv" => Some(FileFormat::Flv),
            "ts" | "mpegts" => Some(FileFormat::Ts),
            "mp4" => Some(FileFormat::Mp4),
            _ => None,
        }
    }
}

/// The format a path's extension names.
pub fn file_format(path: &str) -> Result<FileFormat, String> {
    let extension = std::path::Path::new(path).extension().and_then(|e| e.to_str()).unwrap_or_default();
    match extension.to_ascii_lowercase().as_str() {
        "flv" => Ok(FileFormat::Flv),
        "ts" => Ok(FileFormat::Ts),
        "mp4" | "m4a" | "m4v" | "mov" => Ok(FileFormat::Mp4),
        other => Err(format!("unknown file format `.{other}` (known: .flv, .ts, .mp4, .m4a, .m4v, .mov)")),
    }
}

/// Starts what lives as long as the graph: listeners, servers, file sources.
pub async fn start_graph_scope(engine: &Engine) -> anyhow::Result<()> {
    let graph = std::sync::Arc::clone(engine.graph());
    type Routes = std::collections::BTreeMap<std::net::SocketAddr, Vec<std::sync::Arc<dyn HttpRoute>>>;
    let mut http_routes: Routes = Default::default();
    // Static file routes answer everything under their mount, so they go after the others.
    let mut fallback_routes: Routes = Default::default();
    for index in graph.dag.node_indices() {
        let spec = &graph.node(index).node;
        match spec {
            NodeSpec::FileIn(config) => engine.spawn(file_in::run(engine.clone(), index, config.clone())),
            NodeSpec::HttpRemux(config) => {
                for listen in spec.listens().map_err(anyhow::Error::msg)? {
                    let route = http_remux::Route::new(engine.clone(), index, config.clone());
                    http_routes.entry(listen.addr).or_default().push(std::sync::Arc::new(route));
                }
            }
            NodeSpec::HttpStatic(config) => {
                for listen in spec.listens().map_err(anyhow::Error::msg)? {
                    let route = http_static::Route::new(engine.clone(), config.clone());
                    fallback_routes.entry(listen.addr).or_default().push(std::sync::Arc::new(route));
                }
            }
            _ => {}
        }
    }
    for (addr, routes) in fallback_routes {
        http_routes.entry(addr).or_default().extend(routes);
    }
    let mut rtmp_listeners: std::collections::BTreeMap<std::net::SocketAddr, rtmp_conn::RtmpNodes> =
        Default::default();
    for index in graph.dag.node_indices() {
        let spec = &graph.node(index).node;
        if let NodeSpec::RtmpIn(_) | NodeSpec::RtmpOut(_) = spec {
            for listen in spec.listens().map_err(anyhow::Error::msg)? {
                let nodes = rtmp_listeners
                    .entry(listen.addr)
                    .or_insert(rtmp_conn::RtmpNodes { publish: None, play: None });
                match spec {
                    NodeSpec::RtmpIn(_) => nodes.publish = Some(index),
                    _ => nodes.play = Some(index),
                }
            }
        }
    }
    for (addr, nodes) in rtmp_listeners {
        let handler_engine = engine.clone();
        let handler: crate::servers::tcp::Handler = std::sync::Arc::new(move |stream, peer, id| {
            Box::pin(rtmp_conn::handle(handler_engine.clone(), nodes, stream, peer, id))
        });
        crate::servers::tcp::serve(engine, addr, "rtmp", handler)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for rtmp on {addr}: {e}"))?;
    }
    for (addr, routes) in http_routes {
        crate::servers::http::serve(engine, addr, routes)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for http on {addr}: {e}"))?;
    }
    Ok(())
}

/// Runs one node's instance for one stream until its input ends.
pub async fn run_stream_node(ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, outputs: Outputs) {
    match ctx.spec().clone() {
        NodeSpec::Jitter(config) => jitter::run(config.algorithm, input, outputs).await,
        NodeSpec::Vhost(config) => vhost::run(&config, input, outputs).await,
        NodeSpec::FileIn(_) | NodeSpec::RtmpIn(_) => {
            tracing::error!(node = ctx.name(), "a source node cannot take input");
        }
        NodeSpec::Dvr(config) => dvr::run(ctx, config, input).await,
        NodeSpec::FileOut(config) => file_out::run(ctx, config, input).await,
        NodeSpec::HlsOut(config) => hls_out::run(ctx, config, input).await,
        NodeSpec::HttpRemux(config) => http_remux::run(ctx, config, input).await,
        NodeSpec::HttpStatic(_) => {
            tracing::error!(node = ctx.name(), "a service node takes no media");
        }
        NodeSpec::RtmpOut(_) => rtmp_out::run(ctx, input).await,
    }
}
