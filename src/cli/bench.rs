//! `srs bench`: the load harness (publishers, RTMP, HTTP-FLV and WHEP players against any server), or
//! with `--floor` the kernel-floor server to compare CPU with. See README "Benchmarking".

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::bench::source::FlvSource;
use crate::bench::{self, BenchConfig};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// Another kind of load than publishers and players.
    #[command(subcommand)]
    pub kind: Option<BenchKind>,
    /// Seconds of steady state measured (after the ramp and warm-up).
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    #[arg(long, default_value_t = 0)]
    pub players_rtmp: usize,
    #[arg(long, default_value_t = 0)]
    pub players_flv: usize,
    /// WebRTC players (WHEP signalling at --whep-url, one UDP socket each).
    #[arg(long, default_value_t = 0)]
    pub players_whep: usize,
    /// Publishers replaying --input (stream names get `_<i>` when more than one).
    #[arg(long, default_value_t = 1)]
    pub publishers: usize,
    /// FLV file the publishers replay in real time, looping (the floor serves it too).
    #[arg(long)]
    pub input: Option<PathBuf>,
    #[arg(long, default_value = "rtmp://127.0.0.1:1935/live/bench")]
    pub url: String,
    #[arg(long, default_value = "http://127.0.0.1:8080/live/bench.flv")]
    pub flv_url: String,
    #[arg(long, default_value = "http://127.0.0.1:1985/rtc/v1/whep/?app=live&stream=bench")]
    pub whep_url: String,
    /// Players started per second.
    #[arg(long, default_value_t = 200)]
    pub ramp: u32,
    /// Milliseconds between a WebRTC player's ICE checks (the `rtc` crate's default is 200; a
    /// browser's is about 50). The pair is nominated one interval after its first check passed.
    #[arg(long, default_value_t = bench::whep::ICE_CHECK_INTERVAL.as_millis() as u64)]
    pub whep_ice_check_ms: u64,
    /// Seconds between the last player started and the steady window.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// The server's pid: reports its CPU per player-minute and RSS per player.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Runs the kernel-floor server instead of clients.
    #[arg(long)]
    pub floor: bool,
    /// Where the floor listens.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// The floor's batch interval in milliseconds (the server's mw_latency).
    #[arg(long, default_value_t = 350)]
    pub batch_ms: u64,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchKind {
    /// Simulated GB28181 cameras: SIP registration, then PS over RTP from a TS file, in real time.
    Gb28181(Box<Gb28181Args>),
}

#[derive(Debug, clap::Args)]
pub struct Gb28181Args {
    /// The server's SIP address.
    #[arg(long, default_value = "127.0.0.1:5060")]
    pub server: SocketAddr,
    /// The first device's id (the others count up from it).
    #[arg(long, default_value = "34020000001320000001")]
    pub device_id: String,
    /// A TS file (H.264 or H.265, AAC) the devices stream in a loop.
    #[arg(long)]
    pub file: PathBuf,
    /// SIP over tcp or udp (the media follows the server's INVITE).
    #[arg(long, default_value = "tcp")]
    pub transport: String,
    #[arg(long, default_value_t = 1)]
    pub devices: usize,
    #[arg(long)]
    pub password: Option<String>,
    /// Seconds measured after the devices settle.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Devices started per second.
    #[arg(long, default_value_t = 50)]
    pub ramp: u32,
    /// The server's pid: reports its CPU and memory per device.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

fn bench_gb28181(args: Gb28181Args) -> anyhow::Result<ExitCode> {
    let transport = match args.transport.as_str() {
        "tcp" => crate::codec::sip::MediaTransport::Tcp,
        "udp" => crate::codec::sip::MediaTransport::Udp,
        other => anyhow::bail!("--transport {other}: use tcp or udp"),
    };
    let wanted_fds = 4 * args.devices as u64 + 1024;
    if let Err(e) = bench::process::raise_fd_limit(wanted_fds) {
        eprintln!("srs bench: cannot raise the open-file limit: {e}");
    }
    let config = bench::gb_load::GbLoadConfig {
        server: args.server,
        device_id: args.device_id,
        file: args.file,
        transport,
        devices: args.devices,
        password: args.password,
        duration: Duration::from_secs(args.duration),
        ramp: args.ramp,
        server_pid: args.server_pid,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(bench::gb_load::run(config)).map_err(anyhow::Error::msg)?;
    print!("{report}");
    Ok(if report.contains("failure:") { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    super::init_logging_quiet();
    if let Some(BenchKind::Gb28181(gb)) = args.kind {
        return bench_gb28181(*gb);
    }
    let wanted_fds =
        2 * (args.players_rtmp + args.players_flv + args.players_whep + args.publishers) as u64 + 1024;
    match bench::process::raise_fd_limit(wanted_fds.max(65_536)) {
        Ok(limit) if limit < wanted_fds => {
            eprintln!("srs bench: open-file limit {limit} < {wanted_fds} wanted")
        }
        Ok(_) => {}
        Err(e) => eprintln!("srs bench: cannot raise the open-file limit: {e}"),
    }
    let source = match &args.input {
        Some(path) => Some(Arc::new(FlvSource::load(path).map_err(anyhow::Error::msg)?)),
        None => None,
    };
    if args.floor {
        let source = source.context("--floor needs --input")?;
        bench::floor::run_floor(args.listen, (*source).clone(), Duration::from_millis(args.batch_ms))?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.publishers > 0 && source.is_none() {
        anyhow::bail!("publishers need --input (or pass --publishers 0 to play an existing stream)");
    }
    let config = BenchConfig {
        url: args.url,
        flv_url: args.flv_url,
        whep_url: args.whep_url,
        players_rtmp: args.players_rtmp,
        players_flv: args.players_flv,
        players_whep: args.players_whep,
        publishers: args.publishers,
        source,
        duration: Duration::from_secs(args.duration),
        settle: Duration::from_secs(2),
        warmup: Duration::from_secs(args.warmup),
        cooldown: Duration::from_secs(3),
        ramp_per_second: args.ramp,
        whep_ice_check_interval: Duration::from_millis(args.whep_ice_check_ms),
        server_pid: args.server_pid,
        progress: true,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(bench::run(config)).map_err(anyhow::Error::msg)?;
    print!("{report}");
    let failed = report.publisher_failures > 0 || report.kinds.iter().any(|k| k.failed > 0);
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
