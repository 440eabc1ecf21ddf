//! Node glue: one module per node kind, mirroring `nodes/*.dhall` one for one.
//!
//! `NodeSpec` is the Rust twin of the Dhall `Node` union. Each kind declares its ports and
//! listeners as data (read by `graph check`) and runs a stream-scoped instance per live stream.
//! This is the only layer where codec events become media frames and back.

pub mod dash_out;
pub mod dvr;
pub mod file_in;
pub mod file_muxer;
pub mod file_out;
pub mod file_vod;
pub mod file_writer;
pub mod flv_frames;
pub mod flv_post_in;
pub mod hls_out;
pub mod http_api;
pub mod http_remux;
pub mod http_static;
pub mod jitter;
pub mod live_playlists;
pub mod mpegts_udp_in;
pub mod path_template;
pub mod remux_serializer;
pub mod rtmp_conn;
pub mod rtmp_in;
pub mod rtmp_out;
pub mod serve;
pub mod srt_in;
pub mod srt_out;
pub mod ts_source;
pub mod vhost;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use crate::graph::engine::{Outputs, StreamCtx};
use crate::graph::{Caps, Engine, Listen, Ports};
use crate::media::{Codec, MediaEvent};
use crate::servers::http::HttpRoute;
use crate::servers::srt::{SrtListenSettings, SrtRoute};

/// Every node kind, tagged as in the Dhall catalogue.
// Specs are loaded once per graph and never copied on the data path: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub enum NodeSpec {
    DashOut(dash_out::Config),
    Dvr(dvr::Config),
    FileIn(file_in::Config),
    FileOut(file_out::Config),
    FlvPostIn(flv_post_in::Config),
    HlsOut(hls_out::Config),
    HttpApi(http_api::Config),
    HttpRemux(http_remux::Config),
    HttpStatic(http_static::Config),
    Jitter(jitter::Config),
    MpegtsUdpIn(mpegts_udp_in::Config),
    RtmpIn(rtmp_in::Config),
    RtmpOut(rtmp_out::Config),
    SrtIn(srt_in::Config),
    SrtOut(srt_out::Config),
    Vhost(vhost::Config),
}

impl NodeSpec {
    /// The kind's name as written in graph files.
    pub fn kind_name(&self) -> &'static str {
        match self {
            NodeSpec::DashOut(_) => "DashOut",
            NodeSpec::Dvr(_) => "Dvr",
            NodeSpec::FileIn(_) => "FileIn",
            NodeSpec::FileOut(_) => "FileOut",
            NodeSpec::FlvPostIn(_) => "FlvPostIn",
            NodeSpec::HlsOut(_) => "HlsOut",
            NodeSpec::HttpApi(_) => "HttpApi",
            NodeSpec::HttpRemux(_) => "HttpRemux",
            NodeSpec::HttpStatic(_) => "HttpStatic",
            NodeSpec::Jitter(_) => "Jitter",
            NodeSpec::MpegtsUdpIn(_) => "MpegtsUdpIn",
            NodeSpec::RtmpIn(_) => "RtmpIn",
            NodeSpec::RtmpOut(_) => "RtmpOut",
            NodeSpec::SrtIn(_) => "SrtIn",
            NodeSpec::SrtOut(_) => "SrtOut",
            NodeSpec::Vhost(_) => "Vhost",
        }
    }

    pub fn ports(&self) -> Ports {
        match self {
            NodeSpec::DashOut(_) => dash_out::ports(),
            NodeSpec::Dvr(config) => dvr::ports(config),
            NodeSpec::FileIn(_) => file_in::ports(),
            NodeSpec::FileOut(config) => file_out::ports(config),
            NodeSpec::FlvPostIn(_) => flv_post_in::ports(),
            NodeSpec::HlsOut(config) => hls_out::ports(config),
            NodeSpec::HttpApi(_) => http_api::ports(),
            NodeSpec::HttpRemux(config) => http_remux::ports(config),
            NodeSpec::HttpStatic(_) => http_static::ports(),
            NodeSpec::Jitter(_) | NodeSpec::Vhost(_) => Ports::passthrough(),
            NodeSpec::MpegtsUdpIn(_) => mpegts_udp_in::ports(),
            NodeSpec::RtmpIn(_) => rtmp_in::ports(),
            NodeSpec::RtmpOut(_) => rtmp_out::ports(),
            NodeSpec::SrtIn(_) => srt_in::ports(),
            NodeSpec::SrtOut(_) => srt_out::ports(),
        }
    }

    /// Graph-scoped sockets the node needs; `Err` names a bad address field.
    pub fn listens(&self) -> Result<Vec<Listen>, String> {
        match self {
            NodeSpec::FlvPostIn(config) => flv_post_in::listens(config),
            NodeSpec::HttpApi(config) => http_api::listens(config),
            NodeSpec::HttpRemux(config) => http_remux::listens(config),
            NodeSpec::HttpStatic(config) => http_static::listens(config),
            NodeSpec::MpegtsUdpIn(config) => mpegts_udp_in::listens(config),
            NodeSpec::RtmpIn(config) => rtmp_in::listens(config),
            NodeSpec::RtmpOut(config) => rtmp_out::listens(config),
            NodeSpec::SrtIn(config) => srt_in::listens(config),
            NodeSpec::SrtOut(config) => srt_out::listens(config),
            NodeSpec::DashOut(_)
            | NodeSpec::Dvr(_)
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
            NodeSpec::DashOut(config) => config.validate(),
            NodeSpec::Dvr(config) => config.validate(),
            NodeSpec::FileIn(config) => config.validate(),
            NodeSpec::FileOut(config) => config.validate(),
            NodeSpec::HlsOut(config) => config.validate(),
            NodeSpec::HttpRemux(config) => config.validate(),
            NodeSpec::HttpStatic(config) => config.validate(),
            NodeSpec::MpegtsUdpIn(config) => config.validate(),
            NodeSpec::SrtIn(config) | NodeSpec::SrtOut(config) => config.validate(),
            NodeSpec::Vhost(config) => config.validate(),
            NodeSpec::FlvPostIn(_)
            | NodeSpec::HttpApi(_)
            | NodeSpec::Jitter(_)
            | NodeSpec::RtmpIn(_)
            | NodeSpec::RtmpOut(_) => Ok(()),
        }
    }

    /// For router nodes: the vhost whose streams take this branch.
    pub fn routes_vhost(&self) -> Option<&str> {
        self.as_vhost().map(|config| config.name.as_str())
    }

    /// Key settings shown by `srs graph dot`.
    pub fn summary(&self) -> Vec<(&'static str, String)> {
        match self {
            NodeSpec::DashOut(config) => {
                vec![("dash_path", config.dash_path.clone()), ("dash_mpd_file", config.dash_mpd_file.clone())]
            }
            NodeSpec::Dvr(config) => {
                vec![("dvr_path", config.dvr_path.clone()), ("dvr_plan", format!("{:?}", config.dvr_plan))]
            }
            NodeSpec::FileIn(config) => {
                vec![("path", config.path.clone()), ("stream", config.stream.clone())]
            }
            NodeSpec::FileOut(config) => vec![("path", config.path.clone())],
            NodeSpec::FlvPostIn(config) => vec![("listen", config.listen.clone())],
            NodeSpec::HlsOut(config) => {
                vec![("hls_path", config.hls_path.clone()), ("m3u8", config.hls_m3u8_file.clone())]
            }
            NodeSpec::HttpApi(config) => vec![("listen", config.listen.clone())],
            NodeSpec::HttpRemux(config) => {
                vec![("listen", config.listen.clone()), ("mount", config.mount.clone())]
            }
            NodeSpec::HttpStatic(config) => {
                vec![("listen", config.listen.clone()), ("dir", config.dir.clone())]
            }
            NodeSpec::Jitter(config) => vec![("algorithm", format!("{:?}", config.algorithm).to_lowercase())],
            NodeSpec::MpegtsUdpIn(config) => {
                vec![("listen", config.listen.clone()), ("stream", config.stream.clone())]
            }
            NodeSpec::RtmpIn(config) => vec![("listen", config.listen.clone())],
            NodeSpec::RtmpOut(config) => vec![("listen", config.listen.clone())],
            NodeSpec::SrtIn(config) | NodeSpec::SrtOut(config) => {
                vec![("listen", config.listen.clone()), ("latency", format!("{} ms", config.latency))]
            }
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
    /// An HLS VOD playlist (`.m3u8`) with MPEG-TS segments beside it.
    Hls,
    /// A static MPEG-DASH presentation (`.mpd`) with fMP4 segments in a folder beside it.
    Dash,
}

impl FileFormat {
    pub fn caps(self) -> Caps {
        match self {
            FileFormat::Flv => rtmp_in::rtmp_caps(),
            FileFormat::Ts => Caps::new(&[Codec::H264, Codec::H265], &[Codec::Aac, Codec::Mp3]),
            FileFormat::Mp4 => Caps::any(),
            FileFormat::Hls => Caps::new(&[Codec::H264, Codec::H265], &[Codec::Aac, Codec::Mp3]),
            FileFormat::Dash => {
                Caps::new(&[Codec::H264, Codec::H265, Codec::Av1], &[Codec::Aac, Codec::Opus, Codec::Mp3])
            }
        }
    }

    /// The format named as `srs remux --format` spells it.
    pub fn from_name(name: &str) -> Option<FileFormat> {
        match name.to_ascii_lowercase().as_str() {
            "flv" => Some(FileFormat::Flv),
            "ts" | "mpegts" => Some(FileFormat::Ts),
            "mp4" => Some(FileFormat::Mp4),
            "hls" | "m3u8" => Some(FileFormat::Hls),
            "dash" | "mpd" => Some(FileFormat::Dash),
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
        "m3u8" => Ok(FileFormat::Hls),
        "mpd" => Ok(FileFormat::Dash),
        other => Err(format!(
            "unknown file format `.{other}` (known: .flv, .ts, .mp4, .m4a, .m4v, .mov, .m3u8, .mpd)"
        )),
    }
}

/// Graph-scoped parts already running, so a reload starts only what is new.
#[derive(Default)]
pub struct GraphScope {
    state: tokio::sync::Mutex<ScopeState>,
}

#[derive(Default)]
struct ScopeState {
    started: bool,
    http: std::collections::HashMap<SocketAddr, Arc<crate::servers::http::RouteTable>>,
    rtmp: std::collections::HashSet<SocketAddr>,
    files: std::collections::HashSet<String>,
}

/// Starts what lives as long as the graph: listeners, servers, file sources. Called again on
/// reload with a handle on the new graph: binds only new addresses, replaces every HTTP
/// server's routes (an address no node names any more serves 404s), starts new file sources.
pub async fn start_graph_scope(engine: &Engine) -> anyhow::Result<()> {
    let graph = Arc::clone(engine.graph());
    let scope = engine.shared::<GraphScope>();
    let mut state = scope.state.lock().await;
    let mut http_routes: BTreeMap<SocketAddr, Vec<Arc<dyn HttpRoute>>> = BTreeMap::new();
    // Static file routes answer everything under their mount, so they go after the others.
    let mut fallback_routes: BTreeMap<SocketAddr, Vec<Arc<dyn HttpRoute>>> = BTreeMap::new();
    let mut srt_servers: BTreeMap<SocketAddr, SrtServerPlan> = BTreeMap::new();
    let first_start = !state.started;
    // Certificates are read before any port is bound, so a bad path fails the start cleanly.
    let mut http_tls = http_tls_plan(&graph)?;
    for index in graph.dag.node_indices() {
        let named = graph.node(index);
        let spec = &named.node;
        let listens = spec.listens().map_err(anyhow::Error::msg)?;
        for listen in &listens {
            match spec {
                NodeSpec::HttpApi(config) => {
                    let route = http_api::Route::new(engine.clone(), config.clone());
                    http_routes.entry(listen.addr).or_default().push(Arc::new(route));
                }
                NodeSpec::HttpRemux(config) => {
                    let route = http_remux::Route::new(engine.clone(), index, config.clone());
                    http_routes.entry(listen.addr).or_default().push(Arc::new(route));
                }
                NodeSpec::FlvPostIn(_) => {
                    let route = flv_post_in::Route::new(engine.clone(), index);
                    http_routes.entry(listen.addr).or_default().push(Arc::new(route));
                }
                NodeSpec::HttpStatic(config) => {
                    let route = http_static::Route::new(engine.clone(), config.clone());
                    fallback_routes.entry(listen.addr).or_default().push(Arc::new(route));
                }
                // UDP and SRT listeners are bound at the first start only (a reload does not rebind them).
                NodeSpec::MpegtsUdpIn(config) if first_start => {
                    let socket = crate::servers::udp::bind(listen.addr).await.map_err(|e| {
                        anyhow::anyhow!("cannot listen for mpeg-ts on udp {}: {e}", listen.addr)
                    })?;
                    engine.spawn(mpegts_udp_in::run(engine.clone(), index, config.clone(), socket));
                }
                NodeSpec::SrtIn(config) | NodeSpec::SrtOut(config) if first_start => {
                    let route: Arc<dyn SrtRoute> = match spec {
                        NodeSpec::SrtIn(_) => srt_in::Route::new(engine.clone(), index),
                        _ => srt_out::Route::new(engine.clone(), index),
                    };
                    srt_servers.entry(listen.addr).or_default().add(
                        &named.name,
                        config.listen_settings(),
                        route,
                    )?;
                }
                _ => {}
            }
        }
        if let NodeSpec::FileIn(config) = spec {
            if state.files.insert(named.name.clone()) {
                engine.spawn(file_in::run(engine.clone(), index, config.clone()));
            }
        }
    }
    state.started = true;
    for (addr, routes) in fallback_routes {
        http_routes.entry(addr).or_default().extend(routes);
    }
    for addr in rtmp_conn::listen_addresses(&graph) {
        if state.rtmp.contains(&addr) {
            continue;
        }
        let handler_engine = engine.clone();
        let handler: crate::servers::tcp::Handler = Arc::new(move |stream, peer, id| {
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
            table.replace(Vec::new(), None);
        }
    }
    for (addr, routes) in http_routes {
        let tls = http_tls.remove(&addr).flatten();
        if let Some(table) = state.http.get(&addr) {
            table.replace(routes, tls);
            continue;
        }
        let table = crate::servers::http::RouteTable::new(routes, tls);
        crate::servers::http::serve(engine, addr, Arc::clone(&table))
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for http on {addr}: {e}"))?;
        state.http.insert(addr, table);
    }
    for (addr, plan) in srt_servers {
        let Some((_, settings)) = plan.settings else { continue };
        crate::servers::srt::serve(engine, addr, settings, plan.routes)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for srt on udp {addr}: {e}"))?;
    }
    Ok(())
}

/// The TLS acceptor of every HTTP address (`None` for plain HTTP), built from the PEM files the
/// nodes name; fails naming two nodes of one address that disagree, or the node whose files
/// cannot be read.
fn http_tls_plan(
    graph: &crate::graph::CheckedGraph,
) -> anyhow::Result<BTreeMap<SocketAddr, Option<tokio_rustls::TlsAcceptor>>> {
    let mut chosen: BTreeMap<SocketAddr, (&str, Option<crate::graph::TlsFiles>)> = BTreeMap::new();
    for index in graph.dag.node_indices() {
        let named = graph.node(index);
        let listens = named.node.listens().map_err(anyhow::Error::msg)?;
        for listen in listens.into_iter().filter(|listen| listen.protocol == "http") {
            match chosen.get(&listen.addr) {
                Some((first, tls)) if *tls != listen.tls => anyhow::bail!(
                    "http nodes `{first}` and `{}` share {} but differ in `tls`; give them the same `tls`",
                    named.name,
                    listen.addr
                ),
                Some(_) => {}
                None => {
                    chosen.insert(listen.addr, (&named.name, listen.tls));
                }
            }
        }
    }
    let mut plan = BTreeMap::new();
    for (addr, (name, tls)) in chosen {
        let acceptor = match tls {
            Some(files) => Some(
                crate::servers::tls::acceptor(&files)
                    .map_err(|e| anyhow::anyhow!("node `{name}` (https on {addr}): {e}"))?,
            ),
            None => None,
        };
        plan.insert(addr, acceptor);
    }
    Ok(plan)
}

/// The SRT nodes of one address: their routes and the settings they must agree on.
#[derive(Default)]
struct SrtServerPlan {
    /// The first node's name and settings.
    settings: Option<(String, SrtListenSettings)>,
    routes: Vec<Arc<dyn SrtRoute>>,
}

impl SrtServerPlan {
    fn add(
        &mut self,
        name: &str,
        settings: SrtListenSettings,
        route: Arc<dyn SrtRoute>,
    ) -> anyhow::Result<()> {
        match &self.settings {
            Some((first, agreed)) if *agreed != settings => anyhow::bail!(
                "srt nodes `{first}` and `{name}` share a listener but differ in latency, passphrase, \
                 pbkeylen or default_app; give them the same settings"
            ),
            Some(_) => {}
            None => self.settings = Some((name.to_owned(), settings)),
        }
        self.routes.push(route);
        Ok(())
    }
}

/// Runs one node's instance for one stream until its input ends.
pub async fn run_stream_node(ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, outputs: Outputs) {
    match ctx.spec().clone() {
        NodeSpec::Jitter(config) => jitter::run(config.algorithm, input, outputs).await,
        NodeSpec::Vhost(config) => vhost::run(&config, input, outputs).await,
        NodeSpec::FileIn(_)
        | NodeSpec::FlvPostIn(_)
        | NodeSpec::MpegtsUdpIn(_)
        | NodeSpec::RtmpIn(_)
        | NodeSpec::SrtIn(_) => {
            tracing::error!(node = ctx.name(), "a source node cannot take input");
        }
        NodeSpec::DashOut(config) => dash_out::run(ctx, config, input).await,
        NodeSpec::Dvr(config) => dvr::run(ctx, config, input).await,
        NodeSpec::HttpApi(_) => tracing::error!(node = ctx.name(), "a service node takes no streams"),
        NodeSpec::FileOut(config) => file_out::run(ctx, config, input).await,
        NodeSpec::HlsOut(config) => hls_out::run(ctx, config, input).await,
        NodeSpec::HttpRemux(config) => http_remux::run(ctx, config, input).await,
        NodeSpec::HttpStatic(_) => {
            tracing::error!(node = ctx.name(), "a service node takes no media");
        }
        NodeSpec::RtmpOut(_) => rtmp_out::run(ctx, input).await,
        NodeSpec::SrtOut(_) => srt_out::run(ctx, input).await,
    }
}
