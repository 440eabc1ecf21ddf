//! The command line: `srs run`, `srs graph check|dot`, `srs remux`, `srs conf import`, `srs bench`, and SRS's
//! own `srs -c srs.conf`, `srs -e`, `srs -t`. The only place `anyhow` is used for errors shown to
//! the user.

mod bench;
mod conf;
mod embedded;
mod graph;
mod process;
mod remux;
mod run;
pub mod runtime;
mod version;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "srs",
    version = version::TEXT,
    about = "A live media server and media pipeline tool, driven by Dhall graphs",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// Runs the server from an SRS configuration file, as SRS does (`srs -c conf/srs.conf`).
    #[arg(short = 'c', long = "config", value_name = "FILE", conflicts_with = "env")]
    config: Option<PathBuf>,
    /// Takes the whole configuration from SRS_* variables, as SRS 5+ (`SRS_LISTEN=1935 ...`).
    /// With `-c`, set SRS_* variables override the file.
    #[arg(short = 'e', long = "env")]
    env: bool,
    /// Tests the configuration (`-c FILE` or `-e`) and exits, as SRS and nginx do.
    #[arg(short = 't', long = "test")]
    test: bool,
    #[command(subcommand)]
    command: Option<Command>,
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
    /// SRS configuration tools.
    #[command(subcommand)]
    Conf(ConfCommand),
}

#[derive(Debug, Subcommand)]
enum ConfCommand {
    /// Prints the graph an srs.conf (and set SRS_* variables) gives, in classic form:
    /// `srs conf import srs.conf > srs.dhall; srs run srs.dhall` serves what `srs -c srs.conf` serves.
    Import {
        /// The srs.conf to read.
        file: Option<PathBuf>,
        /// Reads the configuration from SRS_* variables only, as `srs -e`.
        #[arg(short = 'e', long = "env", conflicts_with = "file")]
        env: bool,
        /// The catalogue's package.dhall the output imports (default: the built-in catalogue,
        /// unpacked under ~/.local/share/srs/). A relative path is relative to where you write the output.
        #[arg(long, value_name = "PACKAGE_DHALL")]
        catalogue: Option<PathBuf>,
    },
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
        Some(Command::Run { graph }) => run::run(graph),
        Some(Command::Graph(GraphCommand::Check { graphs })) => graph::check(&graphs),
        Some(Command::Graph(GraphCommand::Dot { graph })) => graph::dot(&graph),
        Some(Command::Remux(args)) => remux::remux(args),
        Some(Command::Bench(args)) => bench::bench(args),
        Some(Command::Conf(ConfCommand::Import { file, env, catalogue })) => {
            conf::import(file, env, catalogue)
        }
        None if cli.config.is_some() || cli.env => conf::run_server(cli.config, cli.env, cli.test),
        None => Err(anyhow::anyhow!(
            "give a command (see `srs --help`), or run as SRS does: `srs -c srs.conf` or `srs -e`"
        )),
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

/// `level` for our logs; the WebRTC stack's per-peer state lines (ICE, DTLS, peer connection)
/// only from warnings (`rtc_dtls` warns of a missing server name on every peer: errors only).
pub(crate) fn default_filter(level: &str) -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::new(format!(
        "{level},rtc=warn,rtc_ice=warn,rtc_dtls=error,rtc_srtp=warn,rtc_interceptor=warn,rtc_sctp=warn"
    ))
}

/// Logs to stderr, `RUST_LOG` filtering (info by default).
pub(crate) fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
