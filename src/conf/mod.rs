//! SRS configuration compatibility: `srs -c srs.conf`, `srs -e`, `srs conf import`.
//!
//! An srs.conf (or `SRS_*` environment variables) becomes the catalogue's classic form
//! (`nodes/classic/`), which the Dhall `classic.toGraph` turns into a graph: one semantics, two
//! syntaxes. The steps, each testable alone:
//! - [`parse`]: srs.conf text to a [`Directive`] tree (sans-IO; includes through a reader);
//! - [`env`]: `SRS_*` variables written into the tree, as SRS's getters let them win;
//! - `table`: one table per srs.conf block (name, SRS default, value kind, target field), which
//!   both the mapping and the variable list read;
//! - [`mapping`]: the tree to [`classic::Config`] and [`process::ProcessSettings`], SRS's
//!   defaults and truth rules, one warning per directive we do not support;
//! - [`print`]: the classic value as readable Dhall (`classic.toGraph classic.Config::{ .. }`).

mod caster_blocks;
pub mod classic;
mod control_blocks;
pub mod env;
pub mod mapping;
mod media_blocks;
pub mod parse;
pub mod print;
pub mod process;
mod process_blocks;
mod table;
pub mod values;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use parse::{Directive, FileSystem, SourceReader};

use crate::graph::LoadError;
use crate::nodes::GraphFile;

/// Where a directive came from: a file and line, or an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File {
        path: Arc<PathBuf>,
        line: usize,
    },
    Env {
        var: String,
    },
    /// Made up by the loader (`-e` creates `vhost __defaultVhost__`).
    Implied,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Env { var } => write!(f, "env {var}"),
            Origin::Implied => write!(f, "(implied)"),
        }
    }
}

/// A configuration that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfError {
    #[error("{path}: cannot read: {reason}")]
    Read { path: String, reason: String },
    #[error("{at}: {reason}")]
    Syntax { at: Origin, reason: String },
    #[error("{at}: `{directive}`: bad value `{value}`: {reason}")]
    BadValue { at: Origin, directive: String, value: String, reason: String },
}

impl ConfError {
    pub(crate) fn syntax(at: Origin, reason: String) -> ConfError {
        ConfError::Syntax { at, reason }
    }
}

/// Something in the configuration we read but do not act on (or act on differently).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub at: Origin,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Where the configuration comes from: `-c FILE`, `-e`, or both (variables override the file).
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub file: Option<PathBuf>,
    /// `-e`: no file; SRS's env-only defaults (console log, no daemon, `__defaultVhost__`).
    pub env_only: bool,
    /// The `SRS_*` variables (and others, ignored), in the order given.
    pub vars: Vec<(String, String)>,
}

/// A configuration read and mapped: what the graph is built from, and how the process runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: classic::Config,
    pub process: process::ProcessSettings,
    pub warnings: Vec<Warning>,
}

/// Reads, overrides and maps a configuration.
pub fn load(sources: &Sources, reader: &dyn SourceReader) -> Result<Loaded, ConfError> {
    let mut tree = match &sources.file {
        Some(path) => parse::parse_file(path, reader)?,
        None => Vec::new(),
    };
    let mut warnings = Vec::new();
    if sources.env_only {
        env::apply_env_only_defaults(&mut tree, &sources.vars);
    }
    env::apply(&mut tree, &sources.vars, &mut warnings);
    let mapped = mapping::map(&tree)?;
    warnings.extend(mapped.warnings);
    Ok(Loaded { config: mapped.config, process: mapped.process, warnings })
}

/// The file name to show in messages about `sources`.
pub fn describe(sources: &Sources) -> String {
    match &sources.file {
        Some(path) => path.display().to_string(),
        None => "SRS_* environment".to_owned(),
    }
}

/// The graph `config` gives: its classic form evaluated by the catalogue's `classic.toGraph`
/// (the catalogue's `package.dhall` at `catalogue`, an absolute path).
pub fn graph_file(config: &classic::Config, catalogue: &Path) -> Result<GraphFile, LoadError> {
    let text = print::graph_text(config, catalogue, &[]);
    crate::graph::load::load_text(&text, catalogue.parent().unwrap_or(Path::new("/")))
}
