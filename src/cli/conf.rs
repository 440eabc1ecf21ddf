//! `srs -c srs.conf`, `srs -e`, `srs -t -c srs.conf` and `srs conf import`: SRS's way of
//! configuring, so an SRS user switches by changing only the binary.
//!
//! The configuration becomes the classic form, printed as Dhall (`classic.toGraph ..`) and
//! evaluated with the catalogue like any graph file: `srs conf import` prints the very text
//! `srs -c` runs. Every check happens before a port is bound.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use std::sync::Arc;

use crate::conf::{self, print, FileSystem, Loaded, Sources};
use crate::control::reload::GraphLoader;
use crate::graph::{self, Severity};
use crate::nodes::{CheckedGraph, GraphFile, NodeSpec};

/// `srs -c FILE`, `srs -e`, and with `test` (`-t`) only the checks.
pub fn run_server(file: Option<PathBuf>, env_only: bool, test: bool) -> anyhow::Result<ExitCode> {
    // Absolute, so a reload after entering `work_dir` reads the same file.
    let file = file.map(|path| std::path::absolute(&path).unwrap_or(path));
    let sources = sources(file, env_only);
    let label = conf::describe(&sources);
    if test {
        super::init_logging_quiet();
        let loaded = conf::load(&sources, &FileSystem)?;
        log_warnings(&loaded);
        let (file, _) = build_graph(&loaded, &super::embedded::catalogue()?)?;
        println!(
            "srs: configuration {label}: ok ({} nodes, {} edges), test is successful",
            file.nodes.len(),
            file.edges.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let loaded = conf::load(&sources, &FileSystem)?;
    if let Some(id) = &loaded.config.server_id {
        // Process-wide, like SRS's: the graph has no place for it (see `comments`).
        crate::control::registry::configure_server_id(id.clone());
    }
    super::process::enter_work_dir(&loaded.process)?;
    super::process::init_logging(&loaded.process)?;
    log_warnings(&loaded);
    let catalogue = super::embedded::catalogue()?;
    let (_, checked) = build_graph(&loaded, &catalogue)?;
    let _pid_file = super::process::PidFile::write(&loaded.process.pid)?;
    // SIGHUP and `raw?rpc=reload` read the configuration again, as SRS does (settings of the
    // process itself, such as work_dir, pid or the log, keep their values until a restart).
    let reload: GraphLoader<NodeSpec> = Arc::new(move || {
        let loaded = conf::load(&sources, &FileSystem).map_err(|e| e.to_string())?;
        log_warnings(&loaded);
        conf::graph_file(&loaded.config, &catalogue).map_err(|e| e.to_string())
    });
    super::run::serve(checked, &label, Some(reload))
}

/// `srs conf import [FILE] [-e]`: prints the equivalent graph in classic form.
pub fn import(file: Option<PathBuf>, env_only: bool, catalogue: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    super::init_logging_quiet();
    if file.is_none() && !env_only {
        anyhow::bail!("name an srs.conf to import, or `-e` to import the SRS_* environment");
    }
    let sources = sources(file, env_only);
    let loaded = conf::load(&sources, &FileSystem)?;
    let catalogue = match catalogue {
        Some(path) => path,
        None => super::embedded::catalogue()?,
    };
    let text = print::graph_text(&loaded.config, &catalogue, &comments(&sources, &loaded));
    // A relative catalogue resolves from the current directory, as inline Dhall text does.
    check_text(&text, &std::env::current_dir().context("current directory")?)?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// The sources of `-c`/`-e`, with this process's environment.
fn sources(file: Option<PathBuf>, env_only: bool) -> Sources {
    let vars = std::env::vars_os().filter_map(|(n, v)| Some((n.into_string().ok()?, v.into_string().ok()?)));
    Sources { file, env_only, vars: vars.collect() }
}

fn log_warnings(loaded: &Loaded) {
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
}

/// The classic config evaluated by `classic.toGraph` and checked.
fn build_graph(loaded: &Loaded, catalogue: &Path) -> anyhow::Result<(GraphFile, CheckedGraph)> {
    let file = conf::graph_file(&loaded.config, catalogue).context("the classic form did not evaluate")?;
    check_graph(file)
}

/// Loads graph text (relative imports from `base`) and checks it.
fn check_text(text: &str, base: &Path) -> anyhow::Result<(GraphFile, CheckedGraph)> {
    let file = graph::load::load_text(text, base).context("the classic form did not evaluate")?;
    check_graph(file)
}

/// Checks a graph: warnings are logged, errors fail.
fn check_graph(file: GraphFile) -> anyhow::Result<(GraphFile, CheckedGraph)> {
    let report = graph::check(&file);
    for problem in &report.problems {
        match problem.severity {
            Severity::Warning => tracing::warn!("graph: {}", problem.message),
            // A narrower codec set by design: `srs graph check` shows it as a note.
            Severity::Info => tracing::debug!("graph: {}", problem.message),
            Severity::Error => {}
        }
    }
    match report.graph {
        Some(checked) => Ok((file, checked)),
        None => {
            let errors: Vec<String> = report.errors().map(|p| p.message.clone()).collect();
            anyhow::bail!(
                "the configuration gives a graph with {} error(s):\n  {}",
                errors.len(),
                errors.join("\n  ")
            )
        }
    }
}

/// The header of an imported file: where it came from, what was not imported, and the process
/// settings that live outside the graph.
fn comments(sources: &Sources, loaded: &Loaded) -> Vec<String> {
    let mut lines = vec![format!("Imported from {} by `srs conf import`.", conf::describe(sources))];
    let applied: Vec<&str> = sources
        .vars
        .iter()
        .filter(|(name, value)| name.starts_with("SRS_") && !value.trim().is_empty())
        .map(|(name, _)| name.as_str())
        .collect();
    if !applied.is_empty() {
        lines.push(format!("SRS_* variables read: {}", applied.join(" ")));
    }
    let process = &loaded.process;
    let default = conf::process::ProcessSettings::default();
    if process.work_dir != default.work_dir {
        lines.push(format!("Run from work_dir {} (relative paths start there).", process.work_dir));
    }
    if let Some(id) = &loaded.config.server_id {
        lines.push(format!("server_id {id} is applied by `srs -c`/`srs -e`; `srs run` reports a random id."));
    }
    for warning in &loaded.warnings {
        lines.push(format!("warning: {warning}"));
    }
    lines
}
