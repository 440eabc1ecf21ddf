//! Reload (SIGHUP and the API's `raw?rpc=reload`): re-read and re-check the graph file; a bad
//! file changes nothing and the reason is returned; a good one becomes the current graph and
//! graph-scoped parts are reconciled (new listeners bound, HTTP routes replaced, new file sources
//! started). Streams already live keep the nodes they were instantiated with until they end;
//! the next publish takes the new graph.

use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::graph::{self, Catalogue, Engine};

/// What the last reload did, as SRS's `reload-fetch` reports it.
#[derive(Debug, Clone, Default)]
pub struct ReloadOutcome {
    pub rid: u64,
    pub err: i64,
    pub msg: String,
    pub state: String,
}

/// The graph file to re-read and the last outcome; kept in `Engine::shared`.
#[derive(Debug, Default)]
pub struct ReloadState {
    path: Mutex<Option<PathBuf>>,
    last: Mutex<ReloadOutcome>,
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl ReloadState {
    pub fn set_path(&self, path: PathBuf) {
        *self.path.lock().unwrap_or_else(|p| p.into_inner()) = Some(path);
    }

    pub fn last(&self) -> ReloadOutcome {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn record(&self, err: i64, msg: String) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        *last = ReloadOutcome {
            rid: last.rid + 1,
            err,
            msg,
            state: if err == 0 { "done" } else { "failed" }.into(),
        };
    }
}

impl ReloadOutcome {
    pub fn to_json(&self) -> Value {
        json!({"err": self.err, "msg": self.msg, "state": self.state, "rid": self.rid.to_string()})
    }
}

/// Reloads the graph file; `Ok` summarizes the change, `Err` says why nothing changed.
pub async fn reload<N: Catalogue>(engine: &Engine<N>) -> Result<String, String> {
    let state = engine.shared::<ReloadState>();
    let _one = state.one_at_a_time.lock().await;
    let result = apply(engine, &state).await;
    match &result {
        Ok(summary) => {
            tracing::info!("reload applied: {summary}");
            state.record(0, summary.clone());
        }
        Err(why) => {
            tracing::error!("reload refused, the running graph is unchanged: {why}");
            state.record(1, why.clone());
        }
    }
    result
}

async fn apply<N: Catalogue>(engine: &Engine<N>, state: &ReloadState) -> Result<String, String> {
    let path = state.path.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let path = path.ok_or("this server was started without a graph file to reload")?;
    let loaded = tokio::task::spawn_blocking(move || load_checked::<N>(&path))
        .await
        .map_err(|e| format!("the loader failed: {e}"))??;
    let old = engine.current();
    let names =
        |g: &graph::CheckedGraph<N>| -> Vec<String> { g.file.nodes.iter().map(|n| n.name.clone()).collect() };
    let (before, after) = (names(old.graph()), names(&loaded));
    let added: Vec<&String> = after.iter().filter(|n| !before.contains(n)).collect();
    let removed: Vec<&String> = before.iter().filter(|n| !after.contains(n)).collect();
    let changed: Vec<&String> = after
        .iter()
        .filter(|n| before.contains(n) && old.graph().file.node(n) != loaded.file.node(n))
        .collect();
    let new = engine.replace_graph(loaded);
    N::start_graph_scope(&new).await.map_err(|e| format!("{e:#}"))?;
    let attached = new.attach_new_nodes();
    Ok(format!("nodes added {added:?}, removed {removed:?}, changed {changed:?}; {attached} instances attached to live streams"))
}

fn load_checked<N: Catalogue>(path: &std::path::Path) -> Result<graph::CheckedGraph<N>, String> {
    let file = graph::load_file(path).map_err(|e| e.to_string())?;
    let report = graph::check(&file);
    match report.graph {
        Some(checked) => Ok(checked),
        None => {
            let errors: Vec<String> = report.errors().map(|p| p.message.clone()).collect();
            Err(format!("{}: {}", path.display(), errors.join("; ")))
        }
    }
}
