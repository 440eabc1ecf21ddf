//! The command line: `srs run`, `srs graph check|dot`, `srs remux`, `srs bench`. The only place `anyhow` is used
//! for errors shown to the user.

mod bench;
mod embedded;
mod graph;
mod remux;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "srs",
    version,
    about = "A live media server and media pipeline tool, driven by Dhall graphs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server on a graph file (without one: the embedded default graph, like graphs/live.dhall).
    Run { graph: Option<PathBuf> },
    /// Checks or draws graph files.
    #[command(subcommand)]
    Graph(GraphCommand),
    /// Converts a media file to another (formats by extension), through the same nodes as the server.
    Remux(remux::RemuxArgs),
    /// Load-tests a server (publishers, RTMP and HTTP-FLV players), or runs the kernel floor.
    Bench(bench::BenchArgs),
}

#[derive(Debug, Subcommand)]
enum GraphCommand {
    /// Validates graph files: exit 0 when clean, 1 with every problem listed.
    Check { graphs: Vec<PathBuf> },
    /// Prints a graph in Graphviz DOT (`srs graph dot g.dhall | dot -Tsvg > g.svg`).
    Dot { graph: PathBuf },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { graph } => run::run(graph),
        Command::Graph(GraphCommand::Check { graphs }) => graph::check(&graphs),
        Command::Graph(GraphCommand::Dot { graph }) => graph::dot(&graph),
        Command::Remux(args) => remux::remux(args),
        Command::Bench(args) => bench::bench(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("srs: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Warnings and errors only, for batch commands (`RUST_LOG` still wins).
pub(crate) fn init_logging_quiet() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Logs to stderr, `RUST_LOG` filtering (info by default).
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
