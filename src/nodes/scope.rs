//! The graph-scoped start: each node asks its kind for what it needs while the graph runs
//! (`NodeKind::plan_graph_scope`), and this module binds and starts it, sharing one server per
//! address among the nodes that name it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use petgraph::graph::NodeIndex;
use tokio::net::UdpSocket;

use super::{rtmp_conn, CheckedGraph, Engine};
use crate::graph::{Catalogue, Listen};
use crate::servers::http::{HttpRoute, RouteTable};
use crate::servers::srt::{SrtListenSettings, SrtRoute};

/// One node, as its kind sees the graph-scoped start.
pub struct ScopeNode<'a> {
    pub engine: &'a Engine,
    pub index: NodeIndex,
    pub name: &'a str,
    /// What the node's `listens` declared.
    pub listens: &'a [Listen],
}

/// Starts a task on a bound UDP socket.
type UdpStart = Box<dyn FnOnce(UdpSocket) -> BoxFuture<'static, ()> + Send>;

/// What the nodes of one graph version ask for; `start_graph_scope` carries it out.
pub struct ScopePlan {
    /// UDP and SRT listeners are bound at the first start only (a reload does not rebind them).
    first_start: bool,
    http_routes: BTreeMap<SocketAddr, Vec<Arc<dyn HttpRoute>>>,
    /// Static file routes answer everything under their mount, so they go after the others.
    fallback_routes: BTreeMap<SocketAddr, Vec<Arc<dyn HttpRoute>>>,
    srt_servers: BTreeMap<SocketAddr, SrtServerPlan>,
    rtmp_listeners: BTreeSet<SocketAddr>,
    udp_sockets: Vec<(SocketAddr, &'static str, UdpStart)>,
    sources: Vec<(String, BoxFuture<'static, ()>)>,
}

impl ScopePlan {
    /// A route on the HTTP server of `addr`, tried in node order.
    pub fn http_route(&mut self, addr: SocketAddr, route: Arc<dyn HttpRoute>) {
        self.http_routes.entry(addr).or_default().push(route);
    }

    /// A route tried after every other route of `addr` (it answers a whole directory).
    pub fn http_fallback_route(&mut self, addr: SocketAddr, route: Arc<dyn HttpRoute>) {
        self.fallback_routes.entry(addr).or_default().push(route);
    }

    /// A route on the SRT listener of `addr`; every SRT node of an address must agree on `settings`.
    pub fn srt_route(
        &mut self,
        addr: SocketAddr,
        name: &str,
        settings: SrtListenSettings,
        route: Arc<dyn SrtRoute>,
    ) -> anyhow::Result<()> {
        if !self.first_start {
            return Ok(());
        }
        self.srt_servers.entry(addr).or_default().add(name, settings, route)
    }

    /// The RTMP listener of `addr` (publishers and players: `rtmp_conn` finds the nodes).
    pub fn rtmp_listener(&mut self, addr: SocketAddr) {
        self.rtmp_listeners.insert(addr);
    }

    /// A UDP socket bound on `addr` (at the first start only), handed to `start`.
    pub fn udp_socket(
        &mut self,
        addr: SocketAddr,
        protocol: &'static str,
        start: impl FnOnce(UdpSocket) -> BoxFuture<'static, ()> + Send + 'static,
    ) {
        if self.first_start {
            self.udp_sockets.push((addr, protocol, Box::new(start)));
        }
    }

    /// A source task (a file reader), started once per node name across reloads.
    pub fn source(&mut self, name: &str, task: BoxFuture<'static, ()>) {
        self.sources.push((name.to_owned(), task));
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
    http: HashMap<SocketAddr, Arc<RouteTable>>,
    rtmp: HashSet<SocketAddr>,
    sources: HashSet<String>,
}

/// Starts what lives as long as the graph: listeners, servers, file sources. Called again on
/// reload with a handle on the new graph: binds only new addresses, replaces every HTTP
/// server's routes (an address no node names any more serves 404s), starts new file sources.
pub async fn start_graph_scope(engine: &Engine) -> anyhow::Result<()> {
    let graph = Arc::clone(engine.graph());
    let scope = engine.shared::<GraphScope>();
    let mut state = scope.state.lock().await;
    // Certificates are read before any port is bound, so a bad path fails the start cleanly.
    let mut http_tls = http_tls_plan(&graph)?;
    let mut plan = ScopePlan {
        first_start: !state.started,
        http_routes: BTreeMap::new(),
        fallback_routes: BTreeMap::new(),
        srt_servers: BTreeMap::new(),
        rtmp_listeners: BTreeSet::new(),
        udp_sockets: Vec::new(),
        sources: Vec::new(),
    };
    for index in graph.dag.node_indices() {
        let named = graph.node(index);
        let listens = named.node.listens().map_err(anyhow::Error::msg)?;
        let node = ScopeNode { engine, index, name: &named.name, listens: &listens };
        named.node.kind().1.plan_graph_scope(&node, &mut plan)?;
    }
    state.started = true;

    for (addr, protocol, start) in plan.udp_sockets {
        let socket = crate::servers::udp::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for {protocol} on udp {addr}: {e}"))?;
        engine.spawn(start(socket));
    }
    for (name, task) in plan.sources {
        if state.sources.insert(name) {
            engine.spawn(task);
        }
    }
    for addr in plan.rtmp_listeners {
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

    let mut http_routes = plan.http_routes;
    for (addr, routes) in plan.fallback_routes {
        http_routes.entry(addr).or_default().extend(routes);
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
        let table = RouteTable::new(routes, tls);
        crate::servers::http::serve(engine, addr, Arc::clone(&table))
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for http on {addr}: {e}"))?;
        state.http.insert(addr, table);
    }
    for (addr, srt) in plan.srt_servers {
        let Some((_, settings)) = srt.settings else { continue };
        crate::servers::srt::serve(engine, addr, settings, srt.routes)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for srt on udp {addr}: {e}"))?;
    }
    Ok(())
}

/// The TLS acceptor of every HTTP address (`None` for plain HTTP), built from the PEM files the
/// nodes name; fails naming two nodes of one address that disagree, or the node whose files
/// cannot be read.
fn http_tls_plan(
    graph: &CheckedGraph,
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
