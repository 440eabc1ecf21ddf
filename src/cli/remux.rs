//! `srs remux IN OUT`: a generated file-to-file graph.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RemuxArgs {
    /// Input file.
    pub input: PathBuf,
    /// Output file.
    pub output: PathBuf,
    /// Paces the input in real time, like a live source.
    #[arg(long)]
    pub realtime: bool,
}

pub fn remux(args: RemuxArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("remux of {} is not available yet", args.input.display())
}
