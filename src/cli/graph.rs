//! `srs graph check` and `srs graph dot`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::graph::{self, Severity};
use crate::nodes::{CheckedGraph, NodeSpec};

/// Loads and checks a graph file, printing every problem; the checked graph when clean.
pub fn load_checked(path: &Path) -> anyhow::Result<CheckedGraph> {
    let file = graph::load_file::<NodeSpec>(path)?;
    let report = graph::check(&file);
    for problem in &report.problems {
        match problem.severity {
            Severity::Warning => tracing::warn!("{}: {}", path.display(), problem.message),
            // A narrower codec set by design: `srs graph check` shows it as a note.
            Severity::Info => tracing::debug!("{}: {}", path.display(), problem.message),
            Severity::Error => {}
        }
    }
    match report.graph {
        Some(checked) => Ok(checked),
        None => {
            let errors: Vec<String> = report.errors().map(|p| p.message.clone()).collect();
            anyhow::bail!(
                "{}: the graph has {} error(s):\n  {}",
                path.display(),
                errors.len(),
                errors.join("\n  ")
            )
        }
    }
}

pub fn check(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    if paths.is_empty() {
        anyhow::bail!("name at least one graph file");
    }
    let mut failed = false;
    for path in paths {
        match graph::load_file::<NodeSpec>(path) {
            Err(error) => {
                failed = true;
                println!("{error}");
            }
            Ok(file) => {
                let report = graph::check(&file);
                for problem in &report.problems {
                    println!("{}: {problem}", path.display());
                }
                if report.is_ok() {
                    println!(
                        "{}: ok ({} nodes, {} edges)",
                        path.display(),
                        file.nodes.len(),
                        file.edges.len()
                    );
                } else {
                    failed = true;
                }
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub fn dot(path: &Path) -> anyhow::Result<ExitCode> {
    let checked = load_checked(path)?;
    print!("{}", graph::dot::to_dot(&checked));
    Ok(ExitCode::SUCCESS)
}
