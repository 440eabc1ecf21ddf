//! The load harness behind `srs bench`: M publishers replaying an FLV file in real time, N RTMP,
//! N HTTP-FLV and N WebRTC (WHEP) players, one tokio task per client, against any server (ours or SRS's); and the
//! kernel-floor server (`floor`) to compare a server's CPU with.
//!
//! A run: publishers start and settle; players connect at a bounded rate (no SYN floods); after a
//! warm-up the steady window starts, lasts `duration`, and is what the final report measures
//! (rates, latency, and the server's CPU and memory when its pid is given); then players leave and
//! the server's memory is read once more.

pub mod floor;
pub mod gb_device;
pub mod gb_load;
pub mod players;
pub mod process;
pub mod publisher;
pub mod report;
pub mod source;
pub mod stamp;
pub mod stats;
pub mod whep;
pub mod whep_phases;
pub mod whep_server;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use process::ProcessSample;
pub use report::BenchReport;
use source::FlvSource;
use stats::{PlayerKind, PlayerStats, PublisherStats};

#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// `rtmp://host[:port]/app/stream`: publishers publish here, RTMP players play here.
    pub url: String,
    /// `http://host[:port]/app/stream.flv`: HTTP-FLV players play here.
    pub flv_url: String,
    /// `http://host[:port]/rtc/v1/whep/?app=..&stream=..`: WebRTC players play here.
    pub whep_url: String,
    pub players_rtmp: usize,
    pub players_flv: usize,
    pub players_whep: usize,
    pub publishers: usize,
    /// The media publishers replay (required when `publishers > 0`).
    pub source: Option<Arc<FlvSource>>,
    /// Length of the steady window measured.
    pub duration: Duration,
    /// Before players connect, after publishing started (fills the gop cache).
    pub settle: Duration,
    /// After the last player was started, before the steady window.
    pub warmup: Duration,
    /// After players left, before reading the server's memory again.
    pub cooldown: Duration,
    /// Players started per second.
    pub ramp_per_second: u32,
    /// The WebRTC players' ICE check interval (`whep::ICE_CHECK_INTERVAL` by default).
    pub whep_ice_check_interval: Duration,
    /// The server process to read CPU and memory of.
    pub server_pid: Option<u32>,
    /// Print a line every second.
    pub progress: bool,
}

/// The URL of stream `index` when `count` publishers run: `name_<index>` (before any extension).
pub fn stream_url(url: &str, index: usize, count: usize) -> String {
    if count <= 1 {
        return url.to_owned();
    }
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let (dir, name) = base.rsplit_once('/').unwrap_or(("", base));
    let name = match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}_{index}.{ext}"),
        None => format!("{name}_{index}"),
    };
    match query {
        Some(query) => format!("{dir}/{name}?{query}"),
        None => format!("{dir}/{name}"),
    }
}

/// Runs a load test and returns its report (also printed as it goes when `progress`).
pub async fn run(config: BenchConfig) -> Result<BenchReport, String> {
    let publisher_stats = Arc::new(PublisherStats::default());
    let mut publishers = JoinSet::new();
    if config.publishers > 0 {
        let source = config.source.clone().ok_or("publishers need an input file")?;
        for index in 0..config.publishers {
            let url = stream_url(&config.url, index, config.publishers);
            publishers.spawn(publisher::publisher(url, Arc::clone(&source), Arc::clone(&publisher_stats)));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while publisher_stats.publishing.load(Ordering::Relaxed) < config.publishers {
            if Instant::now() > deadline || publisher_stats.failed.load(Ordering::Relaxed) > 0 {
                return Err("publishers did not start (see the log)".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(config.settle).await;
    }
    let sample = || config.server_pid.and_then(ProcessSample::read);
    let idle = sample();
    let mut reporter = report::Reporter::new(config.progress, config.server_pid);

    let machine_drops = whep_server::machine_rcvbuf_errors();
    let players = start_players(&config, &mut reporter).await;
    tokio::time::sleep(config.warmup).await;
    reporter.tick(&players.stats, &publisher_stats);

    let steady_start = reporter.snapshot(&players.stats, sample());
    let window_end = Instant::now() + config.duration;
    while Instant::now() < window_end {
        let next = (Instant::now() + Duration::from_secs(1)).min(window_end);
        tokio::time::sleep_until(next).await;
        reporter.tick(&players.stats, &publisher_stats);
    }
    let steady_end = reporter.snapshot(&players.stats, sample());
    // The server's view of the WebRTC players' start and the sockets' drops, all players still on.
    let whep_start = match config.players_whep {
        0 => None,
        _ => Some((
            whep_server::fetch(&config.whep_url).await,
            whep_server::UdpDrops {
                server: config.server_pid.and_then(whep_server::process_drops),
                bench: whep_server::process_drops(std::process::id()),
                machine: whep_server::machine_rcvbuf_errors()
                    .zip(machine_drops)
                    .map(|(after, before)| after.saturating_sub(before)),
            },
        )),
    };

    // WebRTC players end their sessions (DELETE) when told; the others are cut off.
    let _ = players.stop.send(true);
    let mut tasks = players.tasks;
    let _ =
        tokio::time::timeout(Duration::from_secs(5), async { while tasks.join_next().await.is_some() {} })
            .await;
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    tokio::time::sleep(config.cooldown).await;
    let after = sample();
    publishers.abort_all();
    while publishers.join_next().await.is_some() {}

    let mut report =
        report::final_report(&players.stats, &publisher_stats, idle, &steady_start, &steady_end, after);
    if let (Some(start), Some((server, drops))) = (report.whep_start.as_mut(), whep_start) {
        start.server = server;
        start.drops = Some(drops);
    }
    Ok(report)
}

struct Players {
    stats: Vec<Arc<PlayerStats>>,
    tasks: JoinSet<()>,
    /// Turns true when the window is over.
    stop: tokio::sync::watch::Sender<bool>,
}

/// Starts every player at `ramp_per_second`, in tenth-of-a-second bursts; players of stream i
/// are spread round-robin over the publishers' streams.
async fn start_players(config: &BenchConfig, reporter: &mut report::Reporter) -> Players {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut players = Players { stats: Vec::new(), tasks: JoinSet::new(), stop };
    let kinds = std::iter::repeat_n(PlayerKind::Rtmp, config.players_rtmp)
        .chain(std::iter::repeat_n(PlayerKind::HttpFlv, config.players_flv))
        .chain(std::iter::repeat_n(PlayerKind::Whep, config.players_whep));
    let per_burst = (config.ramp_per_second as usize / 10).max(1);
    let streams = config.publishers.max(1);
    let mut last_tick = Instant::now();
    for (index, kind) in kinds.enumerate() {
        if index > 0 && index % per_burst == 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let stats = Arc::new(PlayerStats::new(kind));
        let stream = index % streams;
        match kind {
            PlayerKind::Rtmp => {
                let url = stream_url(&config.url, stream, config.publishers);
                players.tasks.spawn(players::rtmp_player(url, Arc::clone(&stats)));
            }
            PlayerKind::HttpFlv => {
                let url = stream_url(&config.flv_url, stream, config.publishers);
                players.tasks.spawn(players::flv_player(url, Arc::clone(&stats)));
            }
            PlayerKind::Whep => {
                let url = whep::whep_stream_url(&config.whep_url, stream, config.publishers);
                let interval = config.whep_ice_check_interval;
                players.tasks.spawn(whep::whep_player(url, Arc::clone(&stats), stopped.clone(), interval));
            }
        }
        players.stats.push(stats);
        if last_tick.elapsed() >= Duration::from_secs(1) {
            reporter.tick(&players.stats, &PublisherStats::default());
            last_tick = Instant::now();
        }
    }
    players
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_urls_per_publisher() {
        assert_eq!(stream_url("rtmp://h/live/bench", 0, 1), "rtmp://h/live/bench");
        assert_eq!(stream_url("rtmp://h/live/bench", 2, 3), "rtmp://h/live/bench_2");
        assert_eq!(stream_url("http://h:8080/live/bench.flv", 1, 2), "http://h:8080/live/bench_1.flv");
        assert_eq!(stream_url("rtmp://h/live/bench?k=v", 1, 2), "rtmp://h/live/bench_1?k=v");
    }
}
