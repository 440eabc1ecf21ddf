//! `srs remux IN OUT`: a generated file-to-file graph (`FileIn → FileOut`) run by the same engine
//! as the server. Formats come from the extensions (FLV, MPEG-TS, MP4; HLS VOD `.m3u8` and static DASH `.mpd` as outputs); `--format` overrides the
//! output's. A progress bar shows on a terminal; a damaged input exits non-zero and leaves an
//! output that plays up to the damage.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::graph::{self, Edge};
use crate::nodes::file_muxer::Mp4Layout;
use crate::nodes::{file_in, file_out, FileFormat, NodeSpec};
use crate::nodes::{Engine, GraphFile, NamedNode};

#[derive(Debug, clap::Args)]
pub struct RemuxArgs {
    /// Input file; its extension picks the format.
    pub input: PathBuf,
    /// Output file; its extension picks the format.
    pub output: PathBuf,
    /// Paces the input in real time, like a live source.
    #[arg(long)]
    pub realtime: bool,
    /// Output container whatever the output's extension: flv, ts, mp4, hls (.m3u8) or dash (.mpd).
    #[arg(long, value_parser = parse_format)]
    pub format: Option<FileFormat>,
    /// MP4 layout: fragmented (default; playable if interrupted), classic or faststart.
    #[arg(long, value_parser = parse_mp4_layout, default_value = "fragmented")]
    pub mp4_layout: Mp4Layout,
    /// HLS and DASH: segments are cut at the first video keyframe at least this many seconds in.
    #[arg(long, default_value_t = file_out::DEFAULT_SEGMENT_DURATION)]
    pub segment_duration: f64,
}

fn parse_format(name: &str) -> Result<FileFormat, String> {
    FileFormat::from_name(name)
        .ok_or_else(|| format!("unknown format `{name}` (known: flv, ts, mp4, hls, dash)"))
}

fn parse_mp4_layout(name: &str) -> Result<Mp4Layout, String> {
    match name.to_ascii_lowercase().as_str() {
        "fragmented" => Ok(Mp4Layout::Fragmented),
        "classic" => Ok(Mp4Layout::Classic),
        "faststart" => Ok(Mp4Layout::Faststart),
        _ => Err(format!("unknown mp4 layout `{name}` (known: fragmented, classic, faststart)")),
    }
}

/// The graph `srs remux` runs.
pub fn remux_graph(args: &RemuxArgs) -> GraphFile {
    let text = |path: &PathBuf| path.to_string_lossy().into_owned();
    GraphFile {
        nodes: vec![
            NamedNode {
                name: "input".into(),
                node: NodeSpec::FileIn(file_in::Config {
                    path: text(&args.input),
                    stream: "remux/file".into(),
                    realtime: args.realtime,
                    repeat: false,
                }),
            },
            NamedNode {
                name: "output".into(),
                node: NodeSpec::FileOut(file_out::Config {
                    path: text(&args.output),
                    format: args.format,
                    mp4_layout: args.mp4_layout,
                    segment_duration: args.segment_duration,
                }),
            },
        ],
        edges: vec![Edge { from: "input".into(), to: "output".into() }],
    }
}

pub fn remux(args: RemuxArgs) -> anyhow::Result<ExitCode> {
    super::init_logging_quiet();
    let input_len =
        std::fs::metadata(&args.input).with_context(|| format!("{}", args.input.display()))?.len();
    let report = graph::check(&remux_graph(&args));
    let Some(checked) = report.graph else {
        let errors: Vec<String> = report.errors().map(|p| p.message.clone()).collect();
        anyhow::bail!("{}", errors.join("\n"));
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let failures = runtime.block_on(async move {
        let engine = Engine::new(checked);
        engine.start().await?;
        let bar = std::io::stderr().is_terminal().then(|| progress_bar(input_len));
        let idle = engine.wait_idle();
        tokio::pin!(idle);
        loop {
            tokio::select! {
                _ = &mut idle => break,
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    if let Some(bar) = &bar {
                        bar.set_position(engine.progress_bytes());
                    }
                }
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        anyhow::Ok(engine.failures())
    })?;
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("srs remux: {}", failures.join("\nsrs remux: "));
        eprintln!("srs remux: {} keeps what was converted before the error", args.output.display());
        Ok(ExitCode::FAILURE)
    }
}

fn progress_bar(len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}
