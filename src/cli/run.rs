//! `srs run [GRAPH]`: the server. A graph with only file sources (and no listener) is a batch job:
//! it exits by itself once every source has finished and every file is written.

use std::sync::Arc;

use super::runtime::is_batch_graph;

use crate::control::reload::{GraphLoader, ReloadState};
use crate::nodes::{Engine, NodeSpec};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// How long shutdown waits for streams to finalize before exiting anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub fn run(graph: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    super::init_logging();
    let path = match graph {
        Some(path) => path,
        None => super::embedded::unpack_default_graph()?,
    };
    let checked = super::graph::load_checked(&path)?;
    let label = path.display().to_string();
    let reload: GraphLoader<NodeSpec> =
        Arc::new(move || crate::graph::load_file(&path).map_err(|e| e.to_string()));
    serve(checked, &label, Some(reload))
}

/// Runs a checked graph until SIGINT or SIGTERM, then stops gracefully (exit 0). SIGHUP and the
/// API reload the graph `reload` gives; without one, reload reports that it cannot.
pub(crate) fn serve(
    checked: crate::nodes::CheckedGraph,
    label: &str,
    reload: Option<GraphLoader<NodeSpec>>,
) -> anyhow::Result<ExitCode> {
    if is_batch_graph(&checked) {
        return run_batch(checked, label);
    }
    let runtime = super::runtime::server_runtime()?;
    runtime.block_on(async move {
        let engine = Engine::new(checked);
        if let Some(loader) = reload {
            engine.shared::<ReloadState<NodeSpec>>().set_loader(loader);
        }
        super::version::log_start();
        engine.start().await?;
        tracing::info!(graph = %label, "server running");
        for (node, url) in crate::nodes::urls::graph_urls(&engine.graph().file) {
            tracing::info!(node = %node, "{}: {}", url.action, url.url);
        }
        tokio::select! {
            _ = wait_for_signal() => {}
            _ = reload_on_hangup(&engine) => {}
        }
        stop(&engine).await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Only file sources: the run is a batch job on one thread (`runtime::run_batch`'s runtime) and
/// ends when they all have, or at SIGINT/SIGTERM. Files are written as in a live graph (flushed at
/// keyframes, synced when closed): such a graph may be a recording paced in real time, which a
/// `kill -9` must leave playable.
fn run_batch(checked: crate::nodes::CheckedGraph, label: &str) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let engine = Engine::new(checked);
        engine.start().await?;
        tracing::info!(graph = %label, "batch running");
        tokio::select! {
            _ = engine.wait_idle() => {
                let failures = engine.failures();
                tracing::info!(n_failures = failures.len(), "every file source finished");
                return Ok(if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
            }
            _ = wait_for_signal() => {}
        }
        stop(&engine).await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Stops gracefully: sources stop, streams finalize, for at most `SHUTDOWN_GRACE`.
async fn stop(engine: &Engine) {
    tracing::info!("shutting down");
    if !engine.shutdown(SHUTDOWN_GRACE).await {
        tracing::warn!(
            tasks = engine.running_tasks(),
            "shutdown grace elapsed with streams still finalizing"
        );
    }
}

/// Reloads the graph file on every SIGHUP (SRS's reload signal); never returns.
async fn reload_on_hangup(engine: &Engine) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangup) = signal(SignalKind::hangup()) else { return std::future::pending().await };
    while hangup.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading the graph");
        // The outcome is logged by `reload`; a bad file leaves the running graph as it is.
        let _ = crate::control::reload::reload(engine).await;
    }
    std::future::pending().await
}

/// SIGINT or SIGTERM.
pub(crate) async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(mut interrupt), Ok(mut terminate)) => {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
