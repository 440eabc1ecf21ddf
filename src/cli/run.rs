//! `srs run [GRAPH]`: the server.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::graph::Engine;

/// How long shutdown waits for streams to finalize before exiting anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub fn run(graph: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    super::init_logging();
    let path = match graph {
        Some(path) => path,
        None => super::embedded::unpack_default_graph()?,
    };
    let checked = super::graph::load_checked(&path)?;
    serve(checked, &path.display().to_string())
}

/// Runs a checked graph until SIGINT or SIGTERM, then stops gracefully (exit 0).
pub(crate) fn serve(checked: crate::graph::CheckedGraph, label: &str) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let engine = Engine::new(checked);
        engine.start().await?;
        tracing::info!(graph = %label, "server running");
        wait_for_signal().await;
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
