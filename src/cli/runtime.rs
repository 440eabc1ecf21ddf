//! The tokio runtimes: the server's (multi-threaded), and batch runs'.
//!
//! Batch runs: a graph whose sources are all files and that listens on nothing has an end. It runs
//! on the calling thread, on a current-thread runtime: the file source, the nodes and the file
//! sinks of its streams take turns on that one thread (a channel send wakes a task of the same
//! thread, no futex, no other core). `run_batch` (`srs remux`) also has file nodes do their I/O in
//! place, in large blocks (`nodes::file_io`); `srs run` keeps live file I/O (`run.rs`). Several
//! batch runs at once are several threads (`srs remux --out-dir`).

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::graph::{Catalogue, Ports};
use crate::nodes::file_io::{BatchIo, FileIoMode};
use crate::nodes::{CheckedGraph, Engine, NodeSpec};

/// How often a parking worker may run the idle hook.
const IDLE_HOOK_INTERVAL: Duration = Duration::from_secs(1);

static IDLE_HOOK: OnceLock<fn()> = OnceLock::new();

/// Sets what a worker thread runs when it goes idle (at most once a second per worker). The
/// binary gives its allocator's collection here: mimalloc keeps pages freed by another thread on
/// the owning thread's lists until that thread allocates again, and an idle worker never does, so
/// after a burst of players left their connections' memory stayed with the process.
pub fn set_worker_idle_hook(hook: fn()) {
    let _ = IDLE_HOOK.set(hook);
}

/// A multi-threaded runtime whose workers run the idle hook when they park.
pub fn server_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().on_thread_park(run_idle_hook).build()
}

fn run_idle_hook() {
    thread_local! {
        static LAST_RUN: Cell<Option<Instant>> = const { Cell::new(None) };
    }
    let Some(hook) = IDLE_HOOK.get() else { return };
    let now = Instant::now();
    if LAST_RUN.get().is_none_or(|last| now.duration_since(last) >= IDLE_HOOK_INTERVAL) {
        LAST_RUN.set(Some(now));
        hook();
    }
}

/// Runs `graph` to its end on this thread; `started` sees the engine once its sources run.
/// Returns the failures nodes reported.
pub fn run_batch(
    graph: CheckedGraph,
    io: BatchIo,
    started: impl FnOnce(&Engine),
) -> anyhow::Result<Vec<String>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let engine = Engine::new(graph);
        engine.shared::<FileIoMode>().set_batch(io);
        engine.start().await?;
        started(&engine);
        engine.wait_idle().await;
        Ok(engine.failures())
    })
}

/// A graph whose every source is a file and that listens on nothing: it has an end.
pub fn is_batch_graph(graph: &CheckedGraph) -> bool {
    let mut nodes = graph.dag.node_indices().map(|index| &graph.node(index).node);
    nodes.all(|spec| {
        let listens = spec.listens().map(|l| !l.is_empty()).unwrap_or(true);
        let live_source =
            matches!(spec.ports(), Ports::Source { .. }) && !matches!(spec, NodeSpec::FileIn(_));
        !listens && !live_source
    })
}
