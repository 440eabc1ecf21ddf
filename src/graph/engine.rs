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
    /// The instances of each live publication, by publication id, so a reload can attach nodes.
    instances: Mutex<HashMap<u64, StreamInstances>>,
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
            future.await;
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

    /// Streams being published now, with their counters and description.
    pub fn publications(&self) -> Vec<LiveStream> {
        lock(&self.inner.publishers).values().cloned().collect()
    }

    /// Starts a publication of `key` at `source`: instantiates the nodes downstream.
    pub fn publish(&self, source: NodeIndex, key: StreamKey) -> Result<Publication<N>, PublishError> {
        if self.is_shutting_down() {
            return Err(PublishError::ShuttingDown);
        }
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
        let mut inputs: HashMap<NodeIndex, mpsc::Sender<MediaEvent>> = HashMap::new();
        let mut receivers = Vec::new();
        for &node in &route.order[1..] {
            let (sender, receiver) = mpsc::channel(EDGE_CAPACITY);
            inputs.insert(node, sender);
            receivers.push((node, receiver));
        }
        let mut instances = StreamInstances {
            key: key.clone(),
            source: self.graph.node(source).name.clone(),
            inboxes: HashMap::new(),
        };
        let mut outputs_of = |node: NodeIndex| {
            let (inbox, late) = mpsc::unbounded_channel();
            instances.inboxes.insert(self.graph.node(node).name.clone(), inbox);
            Outputs {
                senders: route.children[&node].iter().map(|child| inputs[child].clone()).collect(),
                stats: route.children[&node].iter().map(|child| self.edge(node, *child)).collect(),
                late: Some(late),
                ..Outputs::default()
            }
        };
        let source_outputs = outputs_of(source);
        let receivers: Vec<_> =
            receivers.into_iter().map(|(node, receiver)| (node, receiver, outputs_of(node))).collect();
        lock(&self.inner.instances).insert(id, instances);
        for (node, receiver, outputs) in receivers {
            let ctx = StreamCtx {
                engine: self.clone(),
                key: key.clone(),
                node,
                path: route.path_to(node),
                publication_id: id,
            };
            self.spawn(N::run_stream_node(ctx, receiver, outputs));
        }
        drop(inputs);
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

    /// After a reload (this handle sees the new graph): gives every live publication the nodes
    /// the new graph adds downstream of its source, so a new sink serves streams already live.
    /// A new node is fed by its parent's running instance, which first replays the stream's
    /// description and metadata to it; nodes that changed keep their running instance until
    /// the next publish. Returns how many instances were started.
    pub fn attach_new_nodes(&self) -> usize {
        let live: Vec<(u64, StreamInstances)> =
            lock(&self.inner.instances).iter().map(|(id, i)| (*id, i.clone())).collect();
        let mut started = 0;
        for (id, instances) in live {
            let Some(source) = self.graph.index_of(&instances.source) else { continue };
            let Ok(route) = self.route(source, &instances.key) else { continue };
            let name = |node: NodeIndex| self.graph.node(node).name.clone();
            let new: Vec<NodeIndex> =
                route.order.iter().copied().filter(|n| !instances.inboxes.contains_key(&name(*n))).collect();
            if new.is_empty() {
                continue;
            }
            let mut inputs: HashMap<NodeIndex, mpsc::Sender<MediaEvent>> = HashMap::new();
            let mut receivers = Vec::new();
            for &node in &new {
                let (sender, receiver) = mpsc::channel(EDGE_CAPACITY);
                inputs.insert(node, sender);
                receivers.push((node, receiver));
            }
            let mut added = HashMap::new();
            for (node, receiver) in receivers {
                let (inbox, late) = mpsc::unbounded_channel();
                added.insert(name(node), inbox);
                // Children that run already keep the feed they have.
                let children: Vec<NodeIndex> =
                    route.children[&node].iter().copied().filter(|c| inputs.contains_key(c)).collect();
                let outputs = Outputs {
                    senders: children.iter().map(|child| inputs[child].clone()).collect(),
                    stats: children.iter().map(|child| self.edge(node, *child)).collect(),
                    late: Some(late),
                    ..Outputs::default()
                };
                let ctx = StreamCtx {
                    engine: self.clone(),
                    key: instances.key.clone(),
                    node,
                    path: route.path_to(node),
                    publication_id: id,
                };
                self.spawn(N::run_stream_node(ctx, receiver, outputs));
                started += 1;
            }
            for &node in &new {
                let Some(&parent) = route.parent.get(&node) else { continue };
                if let Some(inbox) = instances.inboxes.get(&name(parent)) {
                    let child = LateChild { sender: inputs[&node].clone(), stats: self.edge(parent, node) };
                    let _ = inbox.send(child);
                }
            }
            tracing::info!(stream = %instances.key, id, nodes = new.len(), "reload: new nodes attached to a live stream");
            if let Some(live) = lock(&self.inner.instances).get_mut(&id) {
                live.inboxes.extend(added);
            }
        }
        started
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

/// A live publication's running instances: the inbox of each, by node name, through which a
/// reload attaches new children.
#[derive(Debug, Clone)]
struct StreamInstances {
    key: StreamKey,
    /// The source node's name.
    source: String,
    inboxes: HashMap<String, mpsc::UnboundedSender<LateChild>>,
}

/// A child attached to a running instance by a reload.
#[derive(Debug)]
struct LateChild {
    sender: mpsc::Sender<MediaEvent>,
    stats: Arc<EdgeStats>,
}

/// The senders to a node's children; sending clones the (cheap) event to each.
#[derive(Debug, Default)]
pub struct Outputs {
    senders: Vec<mpsc::Sender<MediaEvent>>,
    /// The counters of each sender's edge, same order.
    stats: Vec<Arc<EdgeStats>>,
    /// Children a reload attaches while the stream runs.
    late: Option<mpsc::UnboundedReceiver<LateChild>>,
    /// The last description and metadata sent, replayed to a late child before anything else.
    description: Option<MediaEvent>,
    metadata: Option<MediaEvent>,
}

impl Outputs {
    /// Sends to every child still listening; `false` once none is.
    pub async fn send(&mut self, event: MediaEvent) -> bool {
        self.take_late_children().await;
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
        for (i, sender) in self.senders.iter().enumerate() {
            let delivered = sender.send(event.clone()).await.is_ok();
            if let Some(stats) = self.stats.get(i) {
                stats.record(delivered, payload_bytes, sender.max_capacity() - sender.capacity());
            }
            if !delivered {
                closed.push(i);
            }
        }
        for i in closed.into_iter().rev() {
            self.senders.remove(i);
            if i < self.stats.len() {
                self.stats.remove(i);
            }
        }
        !self.senders.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }

    async fn take_late_children(&mut self) {
        let Some(late) = &mut self.late else { return };
        while let Ok(child) = late.try_recv() {
            for replay in [&self.description, &self.metadata].into_iter().flatten() {
                let _ = child.sender.send(replay.clone()).await;
            }
            self.senders.push(child.sender);
            self.stats.push(child.stats);
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
        gone.push(Packet { bytes: bytes::Bytes::from_static(b"x"), time_ms: 0, class: PacketClass::Audio });
        drop(gone);
        engine.sweep_hubs();
        assert!(Arc::ptr_eq(&engine.hub(NodeIndex::new(3), &key, HubConfig::default), consumer.hub()));
        assert_eq!(lock(&engine.inner.hubs).len(), 1, "the unused hub was dropped");
    }
}
