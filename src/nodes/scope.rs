//! The graph-scoped start: each node asks its kind for what it needs while the graph runs
//! (`NodeKind::plan_graph_scope`), and this module binds and starts it, sharing one server per
//! address among the nodes that name it. On reload the plan of the new graph is compared with
//! what runs: new addresses are bound and new sources started, addresses and sources no node
//! names any more are unbound and stopped, HTTP route tables are replaced.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use petgraph::graph::NodeIndex;
use tokio::net::UdpSocket;

use super::{rtmp_conn, CheckedGraph, Engine};
use crate::graph::{Catalogue, Listen};
use crate::servers::http::{HttpRoute, RouteTable};
use crate::servers::srt::{SrtListenSettings, SrtRoute};
use crate::servers::Bound;

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
#[derive(Default)]
pub struct ScopePlan {
    http_routes: BTreeMap<SocketAddr, Vec<Arc<dyn HttpRoute>>>,
    /// Static file routes answer everything under their mount, so they go after the others.
    fallback_routes: BTreeMap<SocketAddr, Vec<Arc<dyn HttpRoute>>>,
    srt_servers: BTreeMap<SocketAddr, SrtServerPlan>,
    rtmp_listeners: BTreeSet<SocketAddr>,
    udp_sockets: Vec<(SocketAddr, &'static str, UdpStart)>,
    tcp_listeners: Vec<(SocketAddr, &'static str, crate::servers::tcp::Handler)>,
    /// WebRTC's shared sockets: one set per address whatever the number of nodes naming it,
    /// with the number of workers (`SO_REUSEPORT` sockets) the nodes ask for (0: one per core).
    rtc_sockets: BTreeMap<SocketAddr, u64>,
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
        self.srt_servers.entry(addr).or_default().add(name, settings, route)
    }

    /// The RTMP listener of `addr` (publishers and players: `rtmp_conn` finds the nodes).
    pub fn rtmp_listener(&mut self, addr: SocketAddr) {
        self.rtmp_listeners.insert(addr);
    }

    /// A UDP socket bound on `addr`, handed to `start` (a reload keeps a running one).
    pub fn udp_socket(
        &mut self,
        addr: SocketAddr,
        protocol: &'static str,
        start: impl FnOnce(UdpSocket) -> BoxFuture<'static, ()> + Send + 'static,
    ) {
        self.udp_sockets.push((addr, protocol, Box::new(start)));
    }

    /// A TCP listener on `addr` whose connections go to `handler` (a reload keeps a running one).
    pub fn tcp_listener(
        &mut self,
        addr: SocketAddr,
        protocol: &'static str,
        handler: crate::servers::tcp::Handler,
    ) {
        self.tcp_listeners.push((addr, protocol, handler));
    }

    /// The WebRTC sockets of `addr`, shared by the `RtcIn` and `RtcOut` nodes naming it, with
    /// `workers` workers (0: one per core; the most any node asks for); their handle is in
    /// `Engine::shared::<RtcSockets>()`.
    pub fn rtc_socket(&mut self, addr: SocketAddr, workers: u64) {
        let planned = self.rtc_sockets.entry(addr).or_default();
        *planned = (*planned).max(workers);
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
    http: HashMap<SocketAddr, (Arc<RouteTable>, Bound)>,
    rtmp: HashMap<SocketAddr, Bound>,
    srt: HashMap<SocketAddr, Bound>,
    udp: HashMap<SocketAddr, Bound>,
    tcp: HashMap<SocketAddr, Bound>,
    rtc: HashMap<SocketAddr, Vec<Bound>>,
    /// By node name: a source keeps running across reloads while its name does.
    sources: HashMap<String, Bound>,
}

/// `task`, ended early when the returned [`Bound`] is dropped.
fn until_dropped(task: BoxFuture<'static, ()>) -> (Bound, impl std::future::Future<Output = ()> + Send) {
    let (bound, unbound) = Bound::new();
    let run = async move {
        tokio::select! {
            _ = task => {}
            _ = unbound => {}
        }
    };
    (bound, run)
}

/// Starts what lives as long as the graph: listeners, servers, file sources. Called again on
/// reload with a handle on the new graph: binds new addresses and unbinds those no node names
/// any more, replaces every HTTP server's routes, starts new file sources and stops removed
/// ones.
pub async fn start_graph_scope(engine: &Engine) -> anyhow::Result<()> {
    let graph = Arc::clone(engine.graph());
    let scope = engine.shared::<GraphScope>();
    let mut state = scope.state.lock().await;
    // Certificates are read before any port is bound, so a bad path fails the start cleanly.
    let mut http_tls = http_tls_plan(&graph)?;
    let mut plan = ScopePlan::default();
    for index in graph.dag.node_indices() {
        let named = graph.node(index);
        let listens = named.node.listens().map_err(anyhow::Error::msg)?;
        let node = ScopeNode { engine, index, name: &named.name, listens: &listens };
        named.node.kind().1.plan_graph_scope(&node, &mut plan)?;
    }

    let planned: BTreeSet<SocketAddr> = plan.udp_sockets.iter().map(|(addr, _, _)| *addr).collect();
    state.udp.retain(|addr, _| planned.contains(addr));
    for (addr, protocol, start) in plan.udp_sockets {
        if state.udp.contains_key(&addr) {
            continue;
        }
        let socket = crate::servers::udp::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for {protocol} on udp {addr}: {e}"))?;
        let (bound, run) = until_dropped(start(socket));
        engine.spawn(run);
        state.udp.insert(addr, bound);
    }
    let planned: BTreeSet<SocketAddr> = plan.tcp_listeners.iter().map(|(addr, _, _)| *addr).collect();
    state.tcp.retain(|addr, _| planned.contains(addr));
    for (addr, protocol, handler) in plan.tcp_listeners {
        if state.tcp.contains_key(&addr) {
            continue;
        }
        let bound = crate::servers::tcp::serve(engine, addr, protocol, handler)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for {protocol} on tcp {addr}: {e}"))?;
        state.tcp.insert(addr, bound);
    }
    let rtc_sockets = engine.shared::<super::rtc_shared::RtcSockets>();
    state.rtc.retain(|addr, _| plan.rtc_sockets.contains_key(addr));
    rtc_sockets.retain(|addr| plan.rtc_sockets.contains_key(addr));
    for (addr, workers) in plan.rtc_sockets {
        if state.rtc.contains_key(&addr) {
            continue;
        }
        let workers = match workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n as usize,
        };
        let sockets = crate::servers::udp::bind_reuseport(addr, workers)
            .map_err(|e| anyhow::anyhow!("cannot listen for webrtc on udp {addr}: {e}"))?;
        let (handle, workers) = crate::servers::rtc_udp::RtcUdp::start(sockets);
        let mut bounds = Vec::new();
        for worker in workers {
            let (bound, run) = until_dropped(Box::pin(worker));
            engine.spawn(run);
            bounds.push(bound);
        }
        rtc_sockets.insert(addr, handle);
        state.rtc.insert(addr, bounds);
    }
    let planned: Vec<&str> = plan.sources.iter().map(|(name, _)| name.as_str()).collect();
    state.sources.retain(|name, _| planned.contains(&name.as_str()));
    for (name, task) in plan.sources {
        if let std::collections::hash_map::Entry::Vacant(entry) = state.sources.entry(name) {
            let (bound, run) = until_dropped(task);
            engine.spawn(run);
            entry.insert(bound);
        }
    }
    state.rtmp.retain(|addr, _| plan.rtmp_listeners.contains(addr));
    for addr in plan.rtmp_listeners {
        if state.rtmp.contains_key(&addr) {
            continue;
        }
        let handler_engine = engine.clone();
        let handler: crate::servers::tcp::Handler = Arc::new(move |stream, peer, id| {
            // Each connection takes the graph current when it arrives (reloads change it).
            let engine = handler_engine.current();
            let nodes = rtmp_conn::nodes_at(engine.graph(), addr);
            Box::pin(rtmp_conn::handle(engine, nodes, stream, peer, id))
        });
        let bound = crate::servers::tcp::serve(engine, addr, "rtmp", handler)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for rtmp on {addr}: {e}"))?;
        state.rtmp.insert(addr, bound);
    }

    let mut http_routes = plan.http_routes;
    for (addr, routes) in plan.fallback_routes {
        http_routes.entry(addr).or_default().extend(routes);
    }
    state.http.retain(|addr, _| http_routes.contains_key(addr));
    for (addr, routes) in http_routes {
        let tls = http_tls.remove(&addr).flatten();
        if let Some((table, _)) = state.http.get(&addr) {
            table.replace(routes, tls);
            continue;
        }
        let table = RouteTable::new(routes, tls);
        let bound = crate::servers::http::serve(engine, addr, Arc::clone(&table))
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for http on {addr}: {e}"))?;
        state.http.insert(addr, (table, bound));
    }
    // A running SRT listener keeps the routes it started with (its nodes' settings are fixed).
    state.srt.retain(|addr, _| plan.srt_servers.contains_key(addr));
    for (addr, srt) in plan.srt_servers {
        let Some((_, settings)) = srt.settings else { continue };
        if state.srt.contains_key(&addr) {
            continue;
        }
        let bound = crate::servers::srt::serve(engine, addr, settings, srt.routes)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for srt on udp {addr}: {e}"))?;
        state.srt.insert(addr, bound);
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
