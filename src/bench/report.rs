//! The harness's output: a line every second while it runs, and the final report of the steady
//! window (per player kind, and the server process's CPU and memory when its pid is known).

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::time::Instant;

use super::process::ProcessSample;
use super::stats::{
    format_millis, percentiles, rate_spread, PlayerKind, PlayerStats, PublisherStats, RateSpread,
};
use super::whep_phases::WhepStart;

/// Players within this fraction of the median rate count as even.
pub const RATE_TOLERANCE: f64 = 0.03;

const KINDS: [PlayerKind; 3] = [PlayerKind::Rtmp, PlayerKind::HttpFlv, PlayerKind::Whep];

fn kind_index(kind: PlayerKind) -> usize {
    match kind {
        PlayerKind::Rtmp => 0,
        PlayerKind::HttpFlv => 1,
        PlayerKind::Whep => 2,
    }
}

fn kind_name(kind: PlayerKind) -> &'static str {
    match kind {
        PlayerKind::Rtmp => "rtmp",
        PlayerKind::HttpFlv => "flv",
        PlayerKind::Whep => "whep",
    }
}

/// The state of every player at one instant.
#[derive(Debug)]
pub struct Snapshot {
    at: Instant,
    bytes: Vec<u64>,
    frames: Vec<u64>,
    process: Option<ProcessSample>,
    /// Latency samples (µs) since the previous snapshot, per kind.
    latencies: [Vec<u32>; 3],
}

/// Prints progress and collects latency samples between snapshots.
pub struct Reporter {
    progress: bool,
    pid: Option<u32>,
    started: Instant,
    last: Instant,
    last_bytes: u64,
    last_process: Option<ProcessSample>,
    latencies: [Vec<u32>; 3],
}

impl Reporter {
    pub fn new(progress: bool, pid: Option<u32>) -> Reporter {
        let now = Instant::now();
        Reporter {
            progress,
            pid,
            started: now,
            last: now,
            last_bytes: 0,
            last_process: pid.and_then(ProcessSample::read),
            latencies: Default::default(),
        }
    }

    fn drain(&mut self, players: &[Arc<PlayerStats>]) -> [Vec<u32>; 3] {
        let mut fresh: [Vec<u32>; 3] = Default::default();
        for player in players {
            player.drain_latencies(&mut fresh[kind_index(player.kind)]);
        }
        for (all, new) in self.latencies.iter_mut().zip(&fresh) {
            all.extend_from_slice(new);
        }
        fresh
    }

    /// One progress line: players, aggregate rate, latency of the last second, server load.
    pub fn tick(&mut self, players: &[Arc<PlayerStats>], publishers: &PublisherStats) {
        let fresh = self.drain(players);
        let now = Instant::now();
        let bytes: u64 = players.iter().map(|p| p.bytes.load(Ordering::Relaxed)).sum();
        let seconds = now.duration_since(self.last).as_secs_f64().max(1e-3);
        let mbps = bytes.saturating_sub(self.last_bytes) as f64 * 8.0 / seconds / 1e6;
        let process = self.pid.and_then(ProcessSample::read);
        if self.progress {
            let count = |kind: PlayerKind, flag: fn(&PlayerStats) -> bool| {
                players.iter().filter(|p| p.kind == kind && flag(p)).count()
            };
            let connected =
                |p: &PlayerStats| p.connected.load(Ordering::Relaxed) && !p.failed.load(Ordering::Relaxed);
            let failed = |p: &PlayerStats| p.failed.load(Ordering::Relaxed);
            let mut latency: Vec<u64> = fresh.iter().flatten().map(|&l| u64::from(l)).collect();
            let server = match (process, self.last_process) {
                (Some(now_sample), Some(before)) => format!(
                    "  server cpu {:.0}% rss {:.1} MB",
                    now_sample.cpu_ms.saturating_sub(before.cpu_ms) as f64 / 10.0 / seconds,
                    now_sample.rss_kb as f64 / 1024.0
                ),
                _ => String::new(),
            };
            let mut kinds = String::new();
            for kind in KINDS {
                if players.iter().any(|p| p.kind == kind) {
                    let (ok, bad) = (count(kind, connected), count(kind, failed));
                    kinds.push_str(&format!("{} {ok}/{bad} failed  ", kind_name(kind)));
                }
            }
            println!(
                "{:>5.1}s  {kinds}{:.1} Mbit/s  latency {}{}{}",
                now.duration_since(self.started).as_secs_f64(),
                mbps,
                format_millis(percentiles(&mut latency)),
                server,
                if publishers.failed.load(Ordering::Relaxed) > 0 { "  PUBLISHER FAILED" } else { "" },
            );
        }
        self.last = now;
        self.last_bytes = bytes;
        self.last_process = process;
    }

    /// Bytes of every player and the server's state now; takes the latency samples gathered since
    /// the previous snapshot.
    pub fn snapshot(&mut self, players: &[Arc<PlayerStats>], process: Option<ProcessSample>) -> Snapshot {
        self.drain(players);
        Snapshot {
            at: Instant::now(),
            bytes: players.iter().map(|p| p.bytes.load(Ordering::Relaxed)).collect(),
            frames: players.iter().map(|p| p.frames.load(Ordering::Relaxed)).collect(),
            process,
            latencies: std::mem::take(&mut self.latencies),
        }
    }
}

/// One player kind over the steady window.
#[derive(Debug, Clone)]
pub struct KindReport {
    pub kind: PlayerKind,
    pub started: usize,
    pub connected: usize,
    pub failed: usize,
    pub mbps: f64,
    /// Per-player rates in Mbit/s.
    pub spread: Option<RateSpread>,
    /// Per-player video frame rates (frames per second).
    pub frame_spread: Option<RateSpread>,
    /// Players that got no video frame in the window.
    pub starved: usize,
    /// WebRTC players, summed: RTP packets and keyframes received, NACKs sent, packets lost.
    pub packets: u64,
    pub keyframes: u64,
    pub nacks: u64,
    pub lost: u64,
    /// Connect → first video frame, µs: p50, p90, p99.
    pub first_frame: Option<[u64; 3]>,
    /// Receive time − publisher send time, µs: p50, p90, p99.
    pub latency: Option<[u64; 3]>,
    pub latency_samples: usize,
}

/// The server process over the steady window.
#[derive(Debug, Clone, Copy)]
pub struct ServerReport {
    pub cpu_ms: u64,
    pub cpu_ms_per_player_minute: f64,
    pub rss_idle_kb: u64,
    pub rss_players_kb: u64,
    pub rss_per_player_kb: f64,
    pub rss_after_kb: u64,
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub window_seconds: f64,
    pub kinds: Vec<KindReport>,
    pub server: Option<ServerReport>,
    pub publisher_failures: usize,
    pub frames_stamped: u64,
    /// The WebRTC players' start: phases, DTLS flights, the server's counters, UDP drops.
    pub whep_start: Option<WhepStart>,
}

pub fn final_report(
    players: &[Arc<PlayerStats>],
    publishers: &PublisherStats,
    idle: Option<ProcessSample>,
    start: &Snapshot,
    end: &Snapshot,
    after: Option<ProcessSample>,
) -> BenchReport {
    let window = end.at.duration_since(start.at).as_secs_f64().max(1e-3);
    let mut kinds = Vec::new();
    for kind in KINDS {
        let mine: Vec<usize> = (0..players.len()).filter(|&i| players[i].kind == kind).collect();
        if mine.is_empty() {
            continue;
        }
        let ok = |i: &usize| {
            players[*i].connected.load(Ordering::Relaxed) && !players[*i].failed.load(Ordering::Relaxed)
        };
        let mut rates: Vec<f64> = mine
            .iter()
            .filter(|i| ok(i))
            .map(|&i| end.bytes[i].saturating_sub(start.bytes[i]) as f64 * 8.0 / window / 1e6)
            .collect();
        let mut frame_rates: Vec<f64> = mine
            .iter()
            .filter(|i| ok(i))
            .map(|&i| end.frames[i].saturating_sub(start.frames[i]) as f64 / window)
            .collect();
        let starved = frame_rates.iter().filter(|&&r| r == 0.0).count();
        let sum = |counter: fn(&PlayerStats) -> &std::sync::atomic::AtomicU64| -> u64 {
            mine.iter().map(|&i| counter(&players[i]).load(Ordering::Relaxed)).sum()
        };
        let mut first_frames: Vec<u64> =
            mine.iter().filter_map(|&i| players[i].first_frame_micros()).collect();
        let mut latencies: Vec<u64> = end.latencies[kind_index(kind)].iter().map(|&l| u64::from(l)).collect();
        kinds.push(KindReport {
            kind,
            started: mine.len(),
            connected: mine.iter().filter(|i| ok(i)).count(),
            failed: mine.iter().filter(|&&i| players[i].failed.load(Ordering::Relaxed)).count(),
            mbps: rates.iter().sum(),
            spread: rate_spread(&mut rates, RATE_TOLERANCE),
            frame_spread: rate_spread(&mut frame_rates, RATE_TOLERANCE),
            starved,
            packets: sum(|p| &p.packets),
            keyframes: sum(|p| &p.keyframes),
            nacks: sum(|p| &p.nacks),
            lost: sum(|p| &p.lost),
            first_frame: percentiles(&mut first_frames),
            latency: percentiles(&mut latencies),
            latency_samples: latencies.len(),
        });
    }
    let connected: usize = kinds.iter().map(|k| k.connected).sum();
    let server = match (idle, start.process, end.process) {
        (Some(idle), Some(before), Some(last)) => {
            let cpu_ms = last.cpu_ms.saturating_sub(before.cpu_ms);
            let player_minutes = connected.max(1) as f64 * window / 60.0;
            Some(ServerReport {
                cpu_ms,
                cpu_ms_per_player_minute: cpu_ms as f64 / player_minutes,
                rss_idle_kb: idle.rss_kb,
                rss_players_kb: last.rss_kb,
                rss_per_player_kb: (last.rss_kb as f64 - idle.rss_kb as f64) / connected.max(1) as f64,
                rss_after_kb: after.map_or(0, |a| a.rss_kb),
            })
        }
        _ => None,
    };
    BenchReport {
        window_seconds: window,
        kinds,
        server,
        publisher_failures: publishers.failed.load(Ordering::Relaxed),
        frames_stamped: publishers.frames_stamped.load(Ordering::Relaxed),
        whep_start: WhepStart::of(players),
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "== steady window {:.1} s ==", self.window_seconds)?;
        for kind in &self.kinds {
            let name = match kind.kind {
                PlayerKind::Rtmp => "rtmp",
                PlayerKind::HttpFlv => "http-flv",
                PlayerKind::Whep => "whep",
            };
            writeln!(
                f,
                "{name}: {} started, {} playing, {} failed, {:.1} Mbit/s aggregate",
                kind.started, kind.connected, kind.failed, kind.mbps
            )?;
            if let Some(s) = kind.spread {
                writeln!(
                    f,
                    "  per-player Mbit/s min/median/max {:.3}/{:.3}/{:.3}, {:.1} % within {:.0} % of the median",
                    s.min,
                    s.median,
                    s.max,
                    s.within * 100.0,
                    RATE_TOLERANCE * 100.0
                )?;
            }
            if let Some(s) = kind.frame_spread {
                writeln!(
                    f,
                    "  per-player frames/s min/median/max {:.2}/{:.2}/{:.2}, {:.1} % within {:.0} % of the median, {} starved",
                    s.min,
                    s.median,
                    s.max,
                    s.within * 100.0,
                    RATE_TOLERANCE * 100.0,
                    kind.starved
                )?;
            }
            if kind.kind == PlayerKind::Whep {
                writeln!(
                    f,
                    "  rtp packets {}, keyframes {}, nacks sent {}, packets lost {}",
                    kind.packets, kind.keyframes, kind.nacks, kind.lost
                )?;
            }
            writeln!(f, "  first video frame p50/p90/p99 {}", format_millis(kind.first_frame))?;
            if let (PlayerKind::Whep, Some(start)) = (kind.kind, &self.whep_start) {
                write!(f, "{start}")?;
            }
            writeln!(
                f,
                "  server-added latency p50/p90/p99 {} ({} samples)",
                format_millis(kind.latency),
                kind.latency_samples
            )?;
        }
        if let Some(s) = self.server {
            writeln!(
                f,
                "server: {} CPU-ms in the window = {:.2} CPU-ms per player-minute",
                s.cpu_ms, s.cpu_ms_per_player_minute
            )?;
            writeln!(
                f,
                "  RSS idle {} KB, with players {} KB ({:.1} KB per player), after players left {} KB",
                s.rss_idle_kb, s.rss_players_kb, s.rss_per_player_kb, s.rss_after_kb
            )?;
        }
        if self.publisher_failures > 0 {
            writeln!(f, "PUBLISHER FAILURES: {}", self.publisher_failures)?;
        }
        Ok(())
    }
}
