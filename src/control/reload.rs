//! Reload (SIGHUP and the API's `raw?rpc=reload`): re-read and re-check the graph (a graph file,
//! or the srs.conf `srs -c` runs, mapped again); a bad one changes nothing and the reason is
//! returned; a good one becomes the current graph and graph-scoped parts are reconciled (new
//! listeners bound, removed ones unbound, HTTP routes replaced, file sources started or
//! stopped), and nodes the new graph adds are attached to the streams already live. Nodes that
//! changed keep their running instance until the stream's next publish.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::graph::{self, Catalogue, Engine, GraphFile};

/// Reads the graph a reload applies (on a blocking thread); `Err` says why it could not.
pub type GraphLoader<N> = Arc<dyn Fn() -> Result<GraphFile<N>, String> + Send + Sync>;

/// What the last reload did, as SRS's `reload-fetch` reports it.
#[derive(Debug, Clone, Default)]
pub struct ReloadOutcome {
    pub rid: u64,
    pub err: i64,
    pub msg: String,
    pub state: String,
}

/// Where the graph is re-read from and the last outcome; kept in `Engine::shared`.
pub struct ReloadState<N> {
    loader: Mutex<Option<GraphLoader<N>>>,
    last: Mutex<ReloadOutcome>,
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl<N> Default for ReloadState<N> {
    fn default() -> Self {
        ReloadState {
            loader: Mutex::new(None),
            last: Mutex::default(),
            one_at_a_time: tokio::sync::Mutex::new(()),
        }
    }
}

impl<N: Catalogue> ReloadState<N> {
    /// Reload re-reads this graph file.
    pub fn set_path(&self, path: PathBuf) {
        self.set_loader(Arc::new(move || graph::load_file(&path).map_err(|e| e.to_string())));
    }

    /// Reload calls `loader` for the graph (e.g. an srs.conf mapped again).
    pub fn set_loader(&self, loader: GraphLoader<N>) {
        *self.loader.lock().unwrap_or_else(|p| p.into_inner()) = Some(loader);
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
    let state = engine.shared::<ReloadState<N>>();
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

async fn apply<N: Catalogue>(engine: &Engine<N>, state: &ReloadState<N>) -> Result<String, String> {
    let loader = state.loader.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let loader = loader.ok_or("this server was started without a graph file to reload")?;
    let loaded = tokio::task::spawn_blocking(move || checked::<N>(loader()?))
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
    Ok(format!("nodes added {added:?}, removed {removed:?}, changed {changed:?}; {attached} instances started on live streams"))
}

fn checked<N: Catalogue>(file: GraphFile<N>) -> Result<graph::CheckedGraph<N>, String> {
    let report = graph::check(&file);
    match report.graph {
        Some(checked) => Ok(checked),
        None => {
            let errors: Vec<String> = report.errors().map(|p| p.message.clone()).collect();
            Err(format!("the new graph has errors: {}", errors.join("; ")))
        }
    }
}
