//! Node glue: one module per node kind, mirroring `nodes/*.dhall` one for one.
//!
//! `NodeSpec` is the Rust twin of the Dhall `Node` union. Each kind declares its ports and
//! listeners as data (read by `graph check`) and runs a stream-scoped instance per live stream.
//! This is the only layer where codec events become media frames and back.

pub mod file_in;
pub mod file_out;
pub mod flv_frames;
pub mod http_api;
pub mod http_remux;
pub mod jitter;
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
use crate::media::MediaEvent;
use crate::servers::http::HttpRoute;

/// Every node kind, tagged as in the Dhall catalogue.
// Specs are loaded once per graph and never copied on the data path: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub enum NodeSpec {
    FileIn(file_in::Config),
    FileOut(file_out::Config),
    HttpApi(http_api::Config),
    HttpRemux(http_remux::Config),
    Jitter(jitter::Config),
    RtmpIn(rtmp_in::Config),
    RtmpOut(rtmp_out::Config),
    Vhost(vhost::Config),
}

impl NodeSpec {
    /// The kind's name as written in graph files.
    pub fn kind_name(&self) -> &'static str {
        match self {
            NodeSpec::FileIn(_) => "FileIn",
            NodeSpec::FileOut(_) => "FileOut",
            NodeSpec::HttpApi(_) => "HttpApi",
            NodeSpec::HttpRemux(_) => "HttpRemux",
            NodeSpec::Jitter(_) => "Jitter",
            NodeSpec::RtmpIn(_) => "RtmpIn",
            NodeSpec::RtmpOut(_) => "RtmpOut",
            NodeSpec::Vhost(_) => "Vhost",
        }
    }

    pub fn ports(&self) -> Ports {
        match self {
            NodeSpec::FileIn(_) => file_in::ports(),
            NodeSpec::FileOut(config) => file_out::ports(config),
            NodeSpec::HttpApi(_) => http_api::ports(),
            NodeSpec::HttpRemux(config) => http_remux::ports(config),
            NodeSpec::Jitter(_) | NodeSpec::Vhost(_) => Ports::passthrough(),
            NodeSpec::RtmpIn(_) => rtmp_in::ports(),
            NodeSpec::RtmpOut(_) => rtmp_out::ports(),
        }
    }

    /// Graph-scoped sockets the node needs; `Err` names a bad address field.
    pub fn listens(&self) -> Result<Vec<Listen>, String> {
        match self {
            NodeSpec::HttpApi(config) => http_api::listens(config),
            NodeSpec::HttpRemux(config) => http_remux::listens(config),
            NodeSpec::RtmpIn(config) => rtmp_in::listens(config),
            NodeSpec::RtmpOut(config) => rtmp_out::listens(config),
            NodeSpec::FileIn(_) | NodeSpec::FileOut(_) | NodeSpec::Jitter(_) | NodeSpec::Vhost(_) => {
                Ok(Vec::new())
            }
        }
    }

    /// Settings checks beyond what Dhall's types catch.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            NodeSpec::FileIn(config) => config.validate(),
            NodeSpec::FileOut(config) => config.validate(),
            NodeSpec::HttpRemux(config) => config.validate(),
            NodeSpec::Vhost(config) => config.validate(),
            NodeSpec::HttpApi(_) | NodeSpec::Jitter(_) | NodeSpec::RtmpIn(_) | NodeSpec::RtmpOut(_) => Ok(()),
        }
    }

    /// For router nodes: the vhost whose streams take this branch.
    pub fn routes_vhost(&self) -> Option<&str> {
        self.as_vhost().map(|config| config.name.as_str())
    }

    /// Key settings shown by `srs graph dot`.
    pub fn summary(&self) -> Vec<(&'static str, String)> {
        match self {
            NodeSpec::FileIn(config) => {
                vec![("path", config.path.clone()), ("stream", config.stream.clone())]
            }
            NodeSpec::FileOut(config) => vec![("path", config.path.clone())],
            NodeSpec::HttpApi(config) => vec![("listen", config.listen.clone())],
            NodeSpec::HttpRemux(config) => {
                vec![("listen", config.listen.clone()), ("mount", config.mount.clone())]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Flv,
}

impl FileFormat {
    pub fn caps(self) -> Caps {
        match self {
            FileFormat::Flv => rtmp_in::rtmp_caps(),
        }
    }
}

/// The format a path's extension names.
pub fn file_format(path: &str) -> Result<FileFormat, String> {
    let extension = std::path::Path::new(path).extension().and_then(|e| e.to_str()).unwrap_or_default();
    match extension.to_ascii_lowercase().as_str() {
        "flv" => Ok(FileFormat::Flv),
        other => Err(format!("unknown file format `.{other}` (known: .flv)")),
    }
}

/// Graph-scoped parts already running, so a reload starts only what is new.
#[derive(Default)]
pub struct GraphScope {
    state: tokio::sync::Mutex<ScopeState>,
}

#[derive(Default)]
struct ScopeState {
    http: std::collections::HashMap<std::net::SocketAddr, std::sync::Arc<crate::servers::http::RouteTable>>,
    rtmp: std::collections::HashSet<std::net::SocketAddr>,
    files: std::collections::HashSet<String>,
}

/// Starts what lives as long as the graph: listeners, servers, file sources. Called again on
/// reload with a handle on the new graph: binds only new addresses, replaces every HTTP
/// server's routes (an address no node names any more serves 404s), starts new file sources.
pub async fn start_graph_scope(engine: &Engine) -> anyhow::Result<()> {
    let graph = std::sync::Arc::clone(engine.graph());
    let scope = engine.extension::<GraphScope>();
    let mut state = scope.state.lock().await;
    let mut http_routes: std::collections::BTreeMap<
        std::net::SocketAddr,
        Vec<std::sync::Arc<dyn HttpRoute>>,
    > = Default::default();
    for index in graph.dag.node_indices() {
        let named = graph.node(index);
        let spec = &named.node;
        match spec {
            NodeSpec::FileIn(config) if state.files.insert(named.name.clone()) => {
                engine.spawn(file_in::run(engine.clone(), index, config.clone()));
            }
            NodeSpec::HttpApi(config) => {
                for listen in spec.listens().map_err(anyhow::Error::msg)? {
                    let route = http_api::Route::new(engine.clone(), config.clone());
                    http_routes.entry(listen.addr).or_default().push(std::sync::Arc::new(route));
                }
            }
            NodeSpec::HttpRemux(config) => {
                for listen in spec.listens().map_err(anyhow::Error::msg)? {
                    let route = http_remux::Route::new(engine.clone(), index, config.clone());
                    http_routes.entry(listen.addr).or_default().push(std::sync::Arc::new(route));
                }
            }
            _ => {}
        }
    }
    for addr in rtmp_conn::listen_addresses(&graph) {
        if state.rtmp.contains(&addr) {
            continue;
        }
        let handler_engine = engine.clone();
        let handler: crate::servers::tcp::Handler = std::sync::Arc::new(move |stream, peer, id| {
            // Each connection takes the graph current when it arrives (reloads change it).
            let engine = handler_engine.current();
            let nodes = rtmp_conn::nodes_at(engine.graph(), addr);
            Box::pin(rtmp_conn::handle(engine, nodes, stream, peer, id))
        });
        crate::servers::tcp::serve(engine, addr, "rtmp", handler)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for rtmp on {addr}: {e}"))?;
        state.rtmp.insert(addr);
    }
    for (addr, table) in &state.http {
        if !http_routes.contains_key(addr) {
            table.replace(Vec::new());
        }
    }
    for (addr, routes) in http_routes {
        if let Some(table) = state.http.get(&addr) {
            table.replace(routes);
            continue;
        }
        let table = crate::servers::http::RouteTable::new(routes);
        crate::servers::http::serve(engine, addr, std::sync::Arc::clone(&table))
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for http on {addr}: {e}"))?;
        state.http.insert(addr, table);
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
        NodeSpec::HttpApi(_) => tracing::error!(node = ctx.name(), "a service node takes no streams"),
        NodeSpec::FileOut(config) => file_out::run(ctx, config, input).await,
        NodeSpec::HttpRemux(config) => http_remux::run(ctx, config, input).await,
        NodeSpec::RtmpOut(_) => rtmp_out::run(ctx, input).await,
    }
}
