//! `srs run [GRAPH]`: the server. A graph with only file sources (and no listener) is a batch job:
//! it exits by itself once every source has finished and every file is written.

use std::sync::Arc;

use crate::control::reload::{GraphLoader, ReloadState};
use crate::graph::Catalogue;
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
        if is_batch_graph(&engine) {
            // Only file sources: the run is a batch job and ends when they all have.
            tokio::select! {
                _ = engine.wait_idle() => {
                    let failures = engine.failures();
                    tracing::info!(n_failures = failures.len(), "every file source finished");
                    return Ok(if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
                }
                _ = wait_for_signal() => {}
            }
        } else {
            tokio::select! {
                _ = wait_for_signal() => {}
                _ = reload_on_hangup(&engine) => {}
            }
        }
        tracing::info!("shutting down");
        if !engine.shutdown(SHUTDOWN_GRACE).await {
            tracing::warn!(
                tasks = engine.running_tasks(),
                "shutdown grace elapsed with streams still finalizing"
            );
        }
        Ok(ExitCode::SUCCESS)
    })
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

/// A graph whose every source is a file and that listens on nothing: it has an end.
fn is_batch_graph(engine: &Engine) -> bool {
    let graph = engine.graph();
    let mut nodes = graph.dag.node_indices().map(|index| &graph.node(index).node);
    nodes.all(|spec| {
        let listens = spec.listens().map(|l| !l.is_empty()).unwrap_or(true);
        let live_source = matches!(spec.ports(), crate::graph::Ports::Source { .. })
            && !matches!(spec, crate::nodes::NodeSpec::FileIn(_));
        !listens && !live_source
    })
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
