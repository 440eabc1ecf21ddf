//! The running graph: graph-scoped servers, stream-scoped node instances, publish/play routing.
//!
//! A publish of `vhost/app/stream` at a source node instantiates every node downstream of it
//! (choosing at router nodes the branch for the stream's vhost), wires them with bounded,
//! lossless channels, and hands the publisher the senders. Serving sinks put what they
//! serialize into per-stream hubs that players find here, so a player may arrive first and
//! wait. Shutdown stops the sources; every instance then sees its input end and finalizes.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime};

use petgraph::graph::NodeIndex;
use tokio::sync::{mpsc, watch, Notify};

use super::hub::{Hub, HubConfig};
use super::stats::{EdgeStats, StreamStats};
use super::{Catalogue, CheckedGraph, StreamKey};
use crate::media::MediaEvent;

/// How often hubs nobody uses are dropped (SRS cleans a dead source after 3 s).
const HUB_SWEEP_INTERVAL: Duration = Duration::from_secs(3);

/// Events buffered on one graph edge before the upstream waits.
const EDGE_CAPACITY: usize = 512;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PublishError {
    #[error("stream {0} is already being published")]
    Busy(StreamKey),
    #[error("no vhost node matches vhost `{vhost}` of stream {key} (and there is no `__defaultVhost__`)")]
    VhostNotFound { vhost: String, key: StreamKey },
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// A handle on the running graph; cheap to clone.
///
/// Each handle sees one version of the graph (`graph()`): a stream instantiated before a reload
/// keeps the version it started with, so its node indexes stay meaningful; `current()` gives a
/// handle on the newest version, for new connections and publishes.
/// `N` is the node catalogue the engine runs (`nodes::NodeSpec` in `srs`).
#[derive(Debug)]
pub struct Engine<N> {
    inner: Arc<Inner<N>>,
    graph: Arc<CheckedGraph<N>>,
}

impl<N> Clone for Engine<N> {
    fn clone(&self) -> Self {
        Engine { inner: Arc::clone(&self.inner), graph: Arc::clone(&self.graph) }
    }
}

/// A live publication as the control plane sees it.
#[derive(Debug, Clone)]
pub struct LiveStream {
    pub key: StreamKey,
    pub publication_id: u64,
    pub stats: Arc<StreamStats>,
}

struct Inner<N> {
    current: RwLock<Arc<CheckedGraph<N>>>,
    publishers: Mutex<HashMap<StreamKey, LiveStream>>,
    /// Keyed by node name, not index, so a hub outlives a reload that renumbers nodes.
    hubs: Mutex<HashMap<(String, StreamKey), Arc<Hub>>>,
    /// Per graph edge `(from, to)` by node names, summed over streams.
    edges: Mutex<HashMap<(String, String), Arc<EdgeStats>>>,
    /// The instances of each live publication, by publication id, so a reload can rewire them.
    instances: Mutex<HashMap<u64, StreamInstances<N>>>,
    started_at: SystemTime,
    next_id: AtomicU64,
    running_tasks: AtomicUsize,
    tasks_changed: Notify,
    shutdown: watch::Sender<bool>,
    failures: Mutex<Vec<String>>,
    progress_bytes: AtomicU64,
    shared: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl<N> std::fmt::Debug for Inner<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("running_tasks", &self.running_tasks).finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Poisoning means a task panicked while holding a map; the map itself is still valid.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<N: Catalogue> Engine<N> {
    /// An engine for a checked graph; nothing runs until `start`.
    pub fn new(graph: CheckedGraph<N>) -> Engine<N> {
        let (shutdown, _) = watch::channel(false);
        let graph = Arc::new(graph);
        Engine {
            graph: Arc::clone(&graph),
            inner: Arc::new(Inner {
                current: RwLock::new(graph),
                publishers: Mutex::default(),
                hubs: Mutex::default(),
                edges: Mutex::default(),
                instances: Mutex::default(),
                started_at: SystemTime::now(),
                next_id: AtomicU64::new(1),
                running_tasks: AtomicUsize::new(0),
                tasks_changed: Notify::new(),
                shutdown,
                failures: Mutex::default(),
                progress_bytes: AtomicU64::new(0),
                shared: Mutex::default(),
            }),
        }
    }

    /// Binds listeners and starts graph-scoped work (servers, file sources).
    pub async fn start(&self) -> anyhow::Result<()> {
        N::start_graph_scope(self).await?;
        let engine = self.clone();
        tokio::spawn(async move {
            let shutdown = engine.shutdown_signal();
            tokio::pin!(shutdown);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(HUB_SWEEP_INTERVAL) => engine.sweep_hubs(),
                    _ = &mut shutdown => break,
                }
            }
        });
        Ok(())
    }

    /// The graph version this handle sees.
    pub fn graph(&self) -> &Arc<CheckedGraph<N>> {
        &self.graph
    }

    pub fn spec(&self, node: NodeIndex) -> &N {
        &self.graph.node(node).node
    }

    /// A handle on the newest graph version (after reloads).
    pub fn current(&self) -> Engine<N> {
        let graph = self.inner.current.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        Engine { inner: Arc::clone(&self.inner), graph: Arc::clone(&graph) }
    }

    /// Makes `graph` the current version: later publishes and connections use it; streams already
    /// instantiated keep theirs until they end. Returns a handle on it.
    pub fn replace_graph(&self, graph: CheckedGraph<N>) -> Engine<N> {
        let graph = Arc::new(graph);
        *self.inner.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::clone(&graph);
        Engine { inner: Arc::clone(&self.inner), graph }
    }

    /// When the engine was created (the server's start).
    pub fn started_at(&self) -> SystemTime {
        self.inner.started_at
    }

    /// A fresh id for a connection or publication, used in logs and the API.
    pub fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs `future` as a tracked task: `wait_idle` and shutdown wait for it.
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.inner.running_tasks.fetch_add(1, Ordering::SeqCst);
        let inner = Arc::clone(&self.inner);
        tokio::spawn(async move {
            super::guard::guarded("a stream or source task", None, future).await;
            inner.running_tasks.fetch_sub(1, Ordering::SeqCst);
            inner.tasks_changed.notify_waiters();
        });
    }

    /// Resolves once no tracked task runs (every stream finalized, every source done).
    pub async fn wait_idle(&self) {
        loop {
            let changed = self.inner.tasks_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.inner.running_tasks.load(Ordering::SeqCst) == 0 {
                return;
            }
            changed.await;
        }
    }

    pub fn running_tasks(&self) -> usize {
        self.inner.running_tasks.load(Ordering::SeqCst)
    }

    /// Tells sources and servers to stop; resolves when every task ended or `grace` passed.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.inner.shutdown.send_replace(true);
        for hub in lock(&self.inner.hubs).values() {
            hub.close();
        }
        tokio::time::timeout(grace, self.wait_idle()).await.is_ok()
    }

    /// Resolves when shutdown starts.
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.inner.shutdown.subscribe();
        async move {
            let _ = receiver.wait_for(|stopping| *stopping).await;
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.inner.shutdown.borrow()
    }

    /// The hub of a serving sink for one stream, created on first use (a player may come first).
    pub fn hub(&self, node: NodeIndex, key: &StreamKey, config: impl FnOnce() -> HubConfig) -> Arc<Hub> {
        let name = self.graph.node(node).name.clone();
        let mut hubs = lock(&self.inner.hubs);
        Arc::clone(hubs.entry((name, key.clone())).or_insert_with(|| Hub::new(config())))
    }

    /// Every hub with its node name and stream, for the API and metrics.
    pub fn hubs(&self) -> Vec<(String, StreamKey, Arc<Hub>)> {
        let hubs = lock(&self.inner.hubs);
        hubs.iter().map(|((name, key), hub)| (name.clone(), key.clone(), Arc::clone(hub))).collect()
    }

    /// Counters of every graph edge that carried a stream, by node names.
    pub fn edge_stats(&self) -> Vec<((String, String), Arc<EdgeStats>)> {
        let edges = lock(&self.inner.edges);
        edges.iter().map(|(names, stats)| (names.clone(), Arc::clone(stats))).collect()
    }

    fn edge(&self, from: NodeIndex, to: NodeIndex) -> Arc<EdgeStats> {
        let names = (self.graph.node(from).name.clone(), self.graph.node(to).name.clone());
        Arc::clone(lock(&self.inner.edges).entry(names).or_default())
    }

    /// Graph-scoped state of type `T` that nodes share (one per graph, made on first use): how a
    /// sink publishes live state to the servers that need it without the engine naming either.
    pub fn shared<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut shared = lock(&self.inner.shared);
        let entry = shared.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default()));
        match Arc::clone(entry).downcast::<T>() {
            Ok(value) => value,
            // Entries are keyed by their own TypeId, so the downcast always succeeds.
            Err(_) => unreachable!("shared state keyed by a foreign type"),
        }
    }

    /// Forgets hubs nobody uses: no publisher and no consumer.
    pub fn sweep_hubs(&self) {
        lock(&self.inner.hubs).retain(|_, hub| hub.is_publishing() || hub.consumer_count() > 0);
    }

    /// Records a failure that should change the exit status of a batch run (`srs remux`).
    pub fn report_failure(&self, message: String) {
        tracing::error!("{message}");
        lock(&self.inner.failures).push(message);
    }

    pub fn failures(&self) -> Vec<String> {
        lock(&self.inner.failures).clone()
    }

    /// Counts input bytes consumed by sources, for progress bars.
    pub fn add_progress(&self, n_bytes: u64) {
        self.inner.progress_bytes.fetch_add(n_bytes, Ordering::Relaxed);
    }

    pub fn progress_bytes(&self) -> u64 {
        self.inner.progress_bytes.load(Ordering::Relaxed)
    }

    /// Streams being published now.
    pub fn live_streams(&self) -> Vec<StreamKey> {
        lock(&self.inner.publishers).keys().cloned().collect()
    }

    /// Whether the live publication of `key` runs an instance of `node` (the node is downstream
    /// of the stream's source, through the router of its vhost); `None` when `key` is not
    /// published. Lets a node refuse players of a stream that can never reach it.
    pub fn publication_reaches(&self, key: &StreamKey, node: NodeIndex) -> Option<bool> {
        let id = lock(&self.inner.publishers).get(key)?.publication_id;
        let name = &self.graph.node(node).name;
        Some(lock(&self.inner.instances).get(&id).is_some_and(|i| i.inboxes.contains_key(name)))
    }

    /// The live publication of `key`, with its counters and description.
    pub fn publication(&self, key: &StreamKey) -> Option<LiveStream> {
        lock(&self.inner.publishers).get(key).cloned()
    }

    /// Streams being published now, with their counters and description.
    pub fn publications(&self) -> Vec<LiveStream> {
        lock(&self.inner.publishers).values().cloned().collect()
    }

    /// Starts a publication of `key` at `source`: instantiates the nodes downstream.
    pub fn publish(&self, source: NodeIndex, key: StreamKey) -> Result<Publication<N>, PublishError> {
        if self.is_shutting_down() {
            return Err(PublishError::ShuttingDown);
        }
        super::guard::panic_if_test_stream(&key.stream);
        let route = self.route(source, &key)?;
        let id = self.next_id();
        let stats = Arc::new(StreamStats::default());
        {
            let mut publishers = lock(&self.inner.publishers);
            if publishers.contains_key(&key) {
                return Err(PublishError::Busy(key));
            }
            let live = LiveStream { key: key.clone(), publication_id: id, stats: Arc::clone(&stats) };
            publishers.insert(key.clone(), live);
        }
        let source_name = self.graph.node(source).name.clone();
        let mut instances =
            StreamInstances { key: key.clone(), source: source_name, ..StreamInstances::default() };
        let mut outputs = self.instantiate(&route, &route.order, &mut instances, id, &key);
        let source_outputs = outputs.remove(&source).unwrap_or_default();
        lock(&self.inner.instances).insert(id, instances);
        tracing::info!(stream = %key, id, nodes = route.order.len(), "publish started");
        Ok(Publication { engine: self.clone(), key, id, outputs: source_outputs, stats })
    }

    fn route(&self, source: NodeIndex, key: &StreamKey) -> Result<Route, PublishError> {
        let graph = &self.graph;
        let mut route = Route { order: vec![source], children: HashMap::new(), parent: HashMap::new() };
        let mut seen = HashSet::from([source]);
        let mut queue = VecDeque::from([source]);
        while let Some(node) = queue.pop_front() {
            let children: Vec<NodeIndex> = graph.children(node).collect();
            let routers: Vec<NodeIndex> =
                children.iter().copied().filter(|c| graph.node(*c).node.routes_vhost().is_some()).collect();
            let chosen_router = if routers.is_empty() {
                None
            } else {
                let named = |name: &str| {
                    routers.iter().copied().find(|r| graph.node(*r).node.routes_vhost() == Some(name))
                };
                let router = named(&key.vhost).or_else(|| named(super::stream_key::DEFAULT_VHOST));
                Some(router.ok_or_else(|| PublishError::VhostNotFound {
                    vhost: key.vhost.clone(),
                    key: key.clone(),
                })?)
            };
            let selected: Vec<NodeIndex> =
                children.into_iter().filter(|c| !routers.contains(c) || Some(*c) == chosen_router).collect();
            for &child in &selected {
                if seen.insert(child) {
                    route.parent.insert(child, node);
                    route.order.push(child);
                    queue.push_back(child);
                }
            }
            route.children.insert(node, selected);
        }
        Ok(route)
    }

    /// Spawns an instance of each node of `nodes` (in route order; the source's outputs are
    /// returned instead, as the publisher drives it), wired to its children among `nodes`, and
    /// records each in `instances`. Returns the outputs of nodes not spawned (the source).
    fn instantiate(
        &self,
        route: &Route,
        nodes: &[NodeIndex],
        instances: &mut StreamInstances<N>,
        id: u64,
        key: &StreamKey,
    ) -> HashMap<NodeIndex, Outputs> {
        let source = route.order[0];
        let mut inputs = HashMap::new();
        let mut receivers = HashMap::new();
        for &node in nodes.iter().filter(|n| **n != source) {
            let (sender, receiver) = mpsc::channel(EDGE_CAPACITY);
            inputs.insert(node, sender);
            receivers.insert(node, receiver);
        }
        let mut unspawned = HashMap::new();
        for &node in nodes {
            let named = self.graph.node(node);
            let (inbox, late) = mpsc::unbounded_channel();
            instances.inboxes.insert(named.name.clone(), inbox);
            instances.specs.insert(named.name.clone(), named.node.clone());
            if let Some(&parent) = route.parent.get(&node) {
                instances.parents.insert(named.name.clone(), self.graph.node(parent).name.clone());
            }
            // Children already running keep the feed they have.
            let children = route.children[&node].iter().filter(|c| inputs.contains_key(c));
            let outputs = Outputs {
                children: children.map(|c| self.child(node, *c, inputs[c].clone())).collect(),
                late: Some(late),
                ..Outputs::default()
            };
            match receivers.remove(&node) {
                Some(receiver) => {
                    let ctx = StreamCtx {
                        engine: self.clone(),
                        key: key.clone(),
                        node,
                        path: route.path_to(node),
                        publication_id: id,
                    };
                    self.spawn(N::run_stream_node(ctx, receiver, outputs));
                }
                None => {
                    unspawned.insert(node, outputs);
                }
            }
        }
        // New nodes whose parent runs already are attached to it.
        for &node in nodes {
            let Some(&parent) = route.parent.get(&node) else { continue };
            if nodes.contains(&parent) {
                continue;
            }
            if let (Some(inbox), Some(input)) =
                (instances.inboxes.get(&self.graph.node(parent).name), inputs.get(&node))
            {
                let _ = inbox.send(Rewire::Attach(self.child(parent, node, input.clone())));
            }
        }
        unspawned
    }

    fn child(&self, from: NodeIndex, to: NodeIndex, sender: mpsc::Sender<MediaEvent>) -> Child {
        Child { name: self.graph.node(to).name.clone(), sender, stats: self.edge(from, to) }
    }

    /// After a reload (this handle sees the new graph): brings every live publication to the new
    /// graph. Nodes the new graph adds downstream of its source start and are fed by their
    /// parent's running instance, which first replays the stream's description and metadata;
    /// nodes whose settings changed restart with everything below them (for the sinks below, as a
    /// republish: their players stay on their hub), a changed node's hub is replaced (its format
    /// may have changed); the others run on. Returns how many instances were started.
    pub fn attach_new_nodes(&self) -> usize {
        let live: Vec<u64> = lock(&self.inner.instances).keys().copied().collect();
        let mut started = 0;
        for id in live {
            let Some(mut instances) = lock(&self.inner.instances).remove(&id) else { continue };
            started += self.bring_to_graph(id, &mut instances);
            // A publication that ended meanwhile is not put back.
            if lock(&self.inner.publishers).values().any(|live| live.publication_id == id) {
                lock(&self.inner.instances).insert(id, instances);
            }
        }
        started
    }

    fn bring_to_graph(&self, id: u64, instances: &mut StreamInstances<N>) -> usize {
        let Some(source) = self.graph.index_of(&instances.source) else { return 0 };
        let Ok(route) = self.route(source, &instances.key) else { return 0 };
        let named = |node: NodeIndex| self.graph.node(node);
        let changed: Vec<NodeIndex> = route.order[1..]
            .iter()
            .copied()
            .filter(|n| instances.specs.get(&named(*n).name).is_some_and(|old| *old != named(*n).node))
            .collect();
        let below_changed = |node: NodeIndex| changed.iter().any(|c| route.path_to(node).contains(c));
        let restart: Vec<NodeIndex> = route.order[1..]
            .iter()
            .copied()
            .filter(|n| !instances.inboxes.contains_key(&named(*n).name) || below_changed(*n))
            .collect();
        if restart.is_empty() {
            return 0;
        }
        for &node in &restart {
            let name = &named(node).name;
            let old_parent = instances.parents.get(name).and_then(|parent| instances.inboxes.get(parent));
            if let Some(inbox) = old_parent {
                let _ = inbox.send(Rewire::Detach(name.clone()));
            }
            if changed.contains(&node) {
                self.replace_hub(name, &instances.key);
            }
        }
        let names: Vec<&str> = restart.iter().map(|n| named(*n).name.as_str()).collect();
        tracing::info!(stream = %instances.key, id, nodes = ?names, "reload: nodes started on a live stream");
        self.instantiate(&route, &restart, instances, id, &instances.key.clone());
        restart.len()
    }

    /// Closes and forgets the hub of node `name` for `key`: its players end, new ones get a new hub.
    fn replace_hub(&self, name: &str, key: &StreamKey) {
        if let Some(hub) = lock(&self.inner.hubs).remove(&(name.to_owned(), key.clone())) {
            hub.close();
        }
    }

    fn end_publication(&self, key: &StreamKey, id: u64) {
        lock(&self.inner.instances).remove(&id);
        let mut publishers = lock(&self.inner.publishers);
        if publishers.get(key).is_some_and(|live| live.publication_id == id) {
            publishers.remove(key);
        }
    }
}

#[derive(Debug)]
struct Route {
    /// Nodes in discovery order, the source first.
    order: Vec<NodeIndex>,
    children: HashMap<NodeIndex, Vec<NodeIndex>>,
    parent: HashMap<NodeIndex, NodeIndex>,
}

impl Route {
    fn path_to(&self, node: NodeIndex) -> Vec<NodeIndex> {
        let mut path = vec![node];
        let mut at = node;
        while let Some(&parent) = self.parent.get(&at) {
            path.push(parent);
            at = parent;
        }
        path.reverse();
        path
    }
}

/// What a stream-scoped node instance knows about where it runs.
#[derive(Debug, Clone)]
pub struct StreamCtx<N> {
    pub engine: Engine<N>,
    pub key: StreamKey,
    pub node: NodeIndex,
    /// The route from the source to this node, both included.
    pub path: Vec<NodeIndex>,
    pub publication_id: u64,
}

impl<N: Catalogue> StreamCtx<N> {
    pub fn spec(&self) -> &N {
        self.engine.spec(self.node)
    }

    pub fn name(&self) -> &str {
        &self.engine.graph().node(self.node).name
    }

    /// The nearest node upstream (this one included) for which `pick` says yes.
    pub fn upstream<'a, T>(&'a self, pick: impl Fn(&'a N) -> Option<T>) -> Option<T> {
        self.path.iter().rev().find_map(|n| pick(self.engine.spec(*n)))
    }
}

/// A live publication's running instances, by node name: the inbox through which a reload
/// rewires each, the settings it runs with, and its parent's name.
#[derive(Debug)]
struct StreamInstances<N> {
    key: StreamKey,
    /// The source node's name.
    source: String,
    inboxes: HashMap<String, mpsc::UnboundedSender<Rewire>>,
    specs: HashMap<String, N>,
    parents: HashMap<String, String>,
}

impl<N> Default for StreamInstances<N> {
    fn default() -> Self {
        StreamInstances {
            key: StreamKey::new("", "", ""),
            source: String::new(),
            inboxes: HashMap::new(),
            specs: HashMap::new(),
            parents: HashMap::new(),
        }
    }
}

/// A change a reload makes to a running instance's children.
#[derive(Debug)]
enum Rewire {
    /// A new child: it gets the stream's description and metadata first.
    Attach(Child),
    /// The child of this name stops getting events (its instance sees its input end).
    Detach(String),
}

/// One child of an instance: its node name, its input, its edge's counters.
#[derive(Debug)]
struct Child {
    name: String,
    sender: mpsc::Sender<MediaEvent>,
    stats: Arc<EdgeStats>,
}

/// The senders to a node's children; sending clones the (cheap) event to each.
#[derive(Debug, Default)]
pub struct Outputs {
    children: Vec<Child>,
    /// Rewiring by a reload while the stream runs.
    late: Option<mpsc::UnboundedReceiver<Rewire>>,
    /// The last description and metadata sent, replayed to a late child before anything else.
    description: Option<MediaEvent>,
    metadata: Option<MediaEvent>,
}

impl Outputs {
    /// Sends to every child still listening; `false` once none is.
    pub async fn send(&mut self, event: MediaEvent) -> bool {
        self.rewire().await;
        match &event {
            MediaEvent::Description(_) => self.description = Some(event.clone()),
            MediaEvent::Metadata(_) => self.metadata = Some(event.clone()),
            _ => {}
        }
        let payload_bytes = match &event {
            MediaEvent::Frame(frame) => Some(frame.data.len() as u64),
            _ => None,
        };
        let mut closed = Vec::new();
        for (i, child) in self.children.iter().enumerate() {
            let sender = &child.sender;
            let delivered = sender.send(event.clone()).await.is_ok();
            child.stats.record(delivered, payload_bytes, sender.max_capacity() - sender.capacity());
            if !delivered {
                closed.push(i);
            }
        }
        for i in closed.into_iter().rev() {
            self.children.remove(i);
        }
        !self.children.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    async fn rewire(&mut self) {
        let Some(late) = &mut self.late else { return };
        while let Ok(change) = late.try_recv() {
            match change {
                Rewire::Attach(child) => {
                    for replay in [&self.description, &self.metadata].into_iter().flatten() {
                        let _ = child.sender.send(replay.clone()).await;
                    }
                    self.children.push(child);
                }
                Rewire::Detach(name) => self.children.retain(|child| child.name != name),
            }
        }
    }
}

/// A live publication: what the publisher sends goes to the nodes downstream of its source.
/// Dropping it ends the stream (every instance sees its input close and finalizes).
#[derive(Debug)]
pub struct Publication<N: Catalogue> {
    engine: Engine<N>,
    key: StreamKey,
    id: u64,
    outputs: Outputs,
    stats: Arc<StreamStats>,
}

impl<N: Catalogue> Publication<N> {
    pub async fn send(&mut self, event: MediaEvent) {
        self.stats.record(&event);
        self.outputs.send(event).await;
    }

    /// The stream's counters and description, as the API shows them.
    pub fn stats(&self) -> &Arc<StreamStats> {
        &self.stats
    }

    pub fn key(&self) -> &StreamKey {
        &self.key
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// Sends end of stream and releases the stream name.
    pub async fn end(mut self) {
        self.outputs.send(MediaEvent::End).await;
    }
}

impl<N: Catalogue> Drop for Publication<N> {
    fn drop(&mut self) {
        self.engine.end_publication(&self.key, self.id);
        tracing::info!(stream = %self.key, id = self.id, "publish ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::hub::{Packet, PacketClass};
    use crate::graph::test_catalogue::TestNode;
    use crate::graph::{Edge, GraphFile, NamedNode};

    fn engine() -> Engine<TestNode> {
        let file = GraphFile {
            nodes: vec![
                NamedNode {
                    name: "__defaultVhost__".into(),
                    node: TestNode::Router("__defaultVhost__".into()),
                },
                NamedNode { name: "a.com".into(), node: TestNode::Router("a.com".into()) },
                NamedNode { name: "jitter".into(), node: TestNode::Pass },
                NamedNode { name: "out".into(), node: TestNode::http_sink("8080") },
            ],
            edges: vec![
                Edge { from: "jitter".into(), to: "__defaultVhost__".into() },
                Edge { from: "jitter".into(), to: "a.com".into() },
                Edge { from: "__defaultVhost__".into(), to: "out".into() },
            ],
        };
        // The checker wants a source node; routing does not, so the graph is indexed by hand.
        let dag = {
            let mut dag = petgraph::graph::DiGraph::new();
            let n: Vec<_> = (0..file.nodes.len()).map(|i| dag.add_node(i)).collect();
            dag.add_edge(n[2], n[0], ());
            dag.add_edge(n[2], n[1], ());
            dag.add_edge(n[0], n[3], ());
            dag
        };
        let count = file.nodes.len();
        Engine::new(CheckedGraph {
            file,
            dag,
            input_caps: vec![Default::default(); count],
            output_caps: vec![Default::default(); count],
        })
    }

    #[test]
    fn routes_by_vhost_with_default_fallback() {
        let engine = engine();
        let jitter = NodeIndex::new(2);
        let route = engine.route(jitter, &StreamKey::new("a.com", "live", "s")).unwrap();
        assert_eq!(route.order, [jitter, NodeIndex::new(1)]);
        let route = engine.route(jitter, &StreamKey::new("other.com", "live", "s")).unwrap();
        assert_eq!(route.order, [jitter, NodeIndex::new(0), NodeIndex::new(3)]);
        assert_eq!(route.path_to(NodeIndex::new(3)), [jitter, NodeIndex::new(0), NodeIndex::new(3)]);
    }

    #[tokio::test]
    async fn a_second_publisher_is_busy_until_the_first_ends() {
        let engine = engine();
        let key = StreamKey::new("a.com", "live", "s");
        let first = engine.publish(NodeIndex::new(2), key.clone()).unwrap();
        assert_eq!(
            engine.publish(NodeIndex::new(2), key.clone()).unwrap_err(),
            PublishError::Busy(key.clone())
        );
        first.end().await;
        assert!(engine.publish(NodeIndex::new(2), key).is_ok());
    }

    #[tokio::test]
    async fn unused_hubs_are_swept_and_used_ones_kept() {
        let engine = engine();
        let key = StreamKey::new("a.com", "live", "s");
        let kept = engine.hub(NodeIndex::new(3), &key, HubConfig::default);
        let consumer = kept.subscribe();
        let other = StreamKey::new("a.com", "live", "gone");
        let gone = engine.hub(NodeIndex::new(3), &other, HubConfig::default);
        gone.push(Packet::new(bytes::Bytes::from_static(b"x"), 0, PacketClass::Audio));
        drop(gone);
        engine.sweep_hubs();
        assert!(Arc::ptr_eq(&engine.hub(NodeIndex::new(3), &key, HubConfig::default), consumer.hub()));
        assert_eq!(lock(&engine.inner.hubs).len(), 1, "the unused hub was dropped");
    }
}
