//! `srs remux IN OUT`, or `srs remux IN... --out-dir DIR`: a generated file-to-file graph
//! (`FileIn → FileOut`) per input, run by the same engine as the server. Formats come from the
//! extensions (FLV, MPEG-TS, MP4; HLS VOD `.m3u8` and static DASH `.mpd` as outputs); `--format`
//! overrides the output's. Each graph is a batch run (`runtime::run_batch`): one thread, its own
//! current-thread runtime, file I/O in place; several inputs are converted at once, one per core.
//! A progress bar shows on a terminal; a damaged input exits non-zero and leaves an output that
//! plays up to the damage.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;

use crate::graph::{self, Edge};
use crate::nodes::file_io::BatchIo;
use crate::nodes::file_muxer::Mp4Layout;
use crate::nodes::{file_in, file_out, CheckedGraph, FileFormat, NodeSpec};
use crate::nodes::{Engine, GraphFile, NamedNode};

#[derive(Debug, clap::Args)]
pub struct RemuxArgs {
    /// `IN OUT` (extensions pick the formats), or with `--out-dir`, every input to convert.
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// Writes each input to DIR/<input's name>.<format's extension> (`--format` is required).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Inputs converted at once with `--out-dir` (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Writes each output to disk (fdatasync) before giving it its name.
    #[arg(long)]
    pub sync: bool,
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

/// One conversion: an input and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub input: PathBuf,
    pub output: PathBuf,
}

/// The conversions the arguments ask for.
pub fn jobs(args: &RemuxArgs) -> anyhow::Result<Vec<Job>> {
    let Some(dir) = &args.out_dir else {
        let [input, output] = args.files.as_slice() else {
            anyhow::bail!("give an input and an output (`srs remux IN OUT`), or inputs and `--out-dir DIR`");
        };
        return Ok(vec![Job { input: input.clone(), output: output.clone() }]);
    };
    let Some(format) = args.format else {
        anyhow::bail!("`--out-dir` needs `--format` (flv, ts, mp4, hls or dash)");
    };
    let mut jobs: Vec<Job> = Vec::new();
    for input in &args.files {
        let stem = input.file_stem().with_context(|| format!("{}: no file name", input.display()))?;
        let mut name = stem.to_owned();
        name.push(".");
        name.push(extension(format));
        let output = dir.join(name);
        if let Some(other) = jobs.iter().find(|job| job.output == output) {
            anyhow::bail!(
                "{} and {} would both be written to {}",
                other.input.display(),
                input.display(),
                output.display()
            );
        }
        jobs.push(Job { input: input.clone(), output });
    }
    Ok(jobs)
}

/// The extension an output of `format` gets in `--out-dir`.
fn extension(format: FileFormat) -> &'static str {
    match format {
        FileFormat::Flv => "flv",
        FileFormat::Ts => "ts",
        FileFormat::Mp4 => "mp4",
        FileFormat::Hls => "m3u8",
        FileFormat::Dash => "mpd",
    }
}

/// The graph `srs remux` runs for one job.
pub fn remux_graph(job: &Job, args: &RemuxArgs) -> GraphFile {
    let text = |path: &Path| path.to_string_lossy().into_owned();
    GraphFile {
        nodes: vec![
            NamedNode {
                name: "input".into(),
                node: NodeSpec::FileIn(file_in::Config {
                    path: text(&job.input),
                    stream: "remux/file".into(),
                    realtime: args.realtime,
                    repeat: false,
                }),
            },
            NamedNode {
                name: "output".into(),
                node: NodeSpec::FileOut(file_out::Config {
                    path: text(&job.output),
                    format: args.format,
                    mp4_layout: args.mp4_layout,
                    segment_duration: args.segment_duration,
                }),
            },
        ],
        edges: vec![Edge { from: "input".into(), to: "output".into() }],
    }
}

/// A job's checked graph, its input's size for the progress bar, and the room its output keeps
/// for a faststart `moov`.
struct Ready {
    job: Job,
    graph: Mutex<Option<CheckedGraph>>,
    input_len: u64,
    moov_room: u64,
}

/// Bytes of an input read to estimate its sample count.
const CENSUS_HEAD: u64 = 1 << 20;

/// The room a faststart MP4 output keeps in front of its media for the `moov`: estimated from the
/// tags of an FLV input's first MiB, scaled by its length, so that the `moov` is written there at
/// the end with nothing moved (ffmpeg's `-moov_size`, estimated for the user). 0 for other
/// outputs and inputs whose sample count is not estimated here: the `moov` is then moved to the
/// front at the end.
fn moov_room(job: &Job, args: &RemuxArgs, input_len: u64) -> u64 {
    let output = args.format.or_else(|| crate::nodes::file_format(&job.output.to_string_lossy()).ok());
    if output != Some(FileFormat::Mp4) || args.mp4_layout != Mp4Layout::Faststart {
        return 0;
    }
    let mut head = Vec::new();
    let read = std::fs::File::open(&job.input).and_then(|file| file.take(CENSUS_HEAD).read_to_end(&mut head));
    if read.is_err() {
        return 0;
    }
    match crate::codec::flv::census(&head) {
        // A sixteenth more samples than the head suggests: a file's rate varies.
        Some(census) => {
            let samples = census.scaled_to(input_len);
            crate::codec::mp4::moov_room_for(samples.saturating_add(samples / 16))
        }
        None => 0,
    }
}

pub fn remux(args: RemuxArgs) -> anyhow::Result<ExitCode> {
    super::init_logging_quiet();
    let mut ready = Vec::new();
    for job in jobs(&args)? {
        let input_len =
            std::fs::metadata(&job.input).with_context(|| format!("{}", job.input.display()))?.len();
        let report = graph::check(&remux_graph(&job, &args));
        let Some(checked) = report.graph else {
            let errors: Vec<String> = report.errors().map(|p| p.message.clone()).collect();
            anyhow::bail!("{}", errors.join("\n"));
        };
        let moov_room = moov_room(&job, &args, input_len);
        ready.push(Ready { job, graph: Mutex::new(Some(checked)), input_len, moov_room });
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = args.jobs.unwrap_or(cores).clamp(1, ready.len());
    let sync = args.sync;
    let total: u64 = ready.iter().map(|r| r.input_len).sum();
    let bar = std::io::stderr().is_terminal().then(|| progress_bar(total));
    // Each running or finished job's engine, read by the progress bar.
    let engines: Mutex<Vec<Engine>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let (finished, outcomes) = mpsc::channel();
    let mut results: Vec<Option<anyhow::Result<Vec<String>>>> = ready.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let finished = finished.clone();
            let (ready, next, engines) = (&ready, &next, &engines);
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = ready.get(index) else { break };
                let graph = job.graph.lock().unwrap_or_else(|p| p.into_inner()).take();
                let outcome = match graph {
                    Some(graph) => {
                        let batch = BatchIo { sync, moov_room: job.moov_room };
                        super::runtime::run_batch(graph, batch, |engine| {
                            engines.lock().unwrap_or_else(|p| p.into_inner()).push(engine.clone())
                        })
                    }
                    None => Ok(Vec::new()),
                };
                let _ = finished.send((index, outcome));
            });
        }
        drop(finished);
        // Outcomes as they come (the last one ends the wait at once); in between, at most every
        // 100 ms, the bar reads the engines' byte counters.
        loop {
            match outcomes.recv_timeout(Duration::from_millis(100)) {
                Ok((index, outcome)) => {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Some(outcome);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if let Some(bar) = &bar {
                let engines = engines.lock().unwrap_or_else(|p| p.into_inner());
                bar.set_position(engines.iter().map(Engine::progress_bytes).sum());
            }
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut failed = false;
    for (job, outcome) in ready.iter().map(|r| &r.job).zip(results) {
        let failures = match outcome {
            Some(Ok(failures)) => failures,
            Some(Err(error)) => vec![format!("{error:#}")],
            None => vec!["the conversion did not finish".to_owned()],
        };
        if !failures.is_empty() {
            failed = true;
            eprintln!("srs remux: {}", failures.join("\nsrs remux: "));
            eprintln!("srs remux: {} keeps what was converted before the error", job.output.display());
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        args: RemuxArgs,
    }

    fn jobs_of(line: &[&str]) -> anyhow::Result<Vec<(String, String)>> {
        let args = Command::try_parse_from(std::iter::once("remux").chain(line.iter().copied()))?.args;
        let text = |path: &Path| path.to_string_lossy().into_owned();
        Ok(jobs(&args)?.iter().map(|job| (text(&job.input), text(&job.output))).collect())
    }

    #[test]
    fn outputs_are_named_after_their_inputs_in_the_out_dir() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
        };
        assert_eq!(jobs_of(&["in.flv", "out.ts"]).unwrap(), pairs(&[("in.flv", "out.ts")]));
        assert_eq!(
            jobs_of(&["a/x.flv", "show.2024.ts", "--format", "hls", "--out-dir", "d"]).unwrap(),
            pairs(&[("a/x.flv", "d/x.m3u8"), ("show.2024.ts", "d/show.2024.m3u8")])
        );
        assert!(jobs_of(&["a.flv", "b.flv", "c.flv"]).is_err(), "three files need --out-dir");
        assert!(jobs_of(&["a.flv", "--out-dir", "d"]).is_err(), "--out-dir needs --format");
        assert!(jobs_of(&["a/x.flv", "b/x.ts", "--format", "mp4", "--out-dir", "d"]).is_err(), "same name");
    }
}
