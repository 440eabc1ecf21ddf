//! What the load harness counts: per player (bytes, connect → first video frame, server-added
//! latency samples) and per publisher, plus the arithmetic of the report (percentiles, rate spread).
//!
//! Counters are atomics written by the client tasks and read by the once-a-second reporter; latency
//! samples go to a per-player vector behind an uncontended lock and are drained by the reporter.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Which protocol a player speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayerKind {
    Rtmp,
    HttpFlv,
    /// A WebRTC player (WHEP signalling, `rtc` crate peer).
    Whep,
}

#[derive(Debug)]
pub struct PlayerStats {
    pub kind: PlayerKind,
    /// Media bytes received (after the handshake / response head).
    pub bytes: AtomicU64,
    /// Play started (NetStream.Play.Start, or HTTP 200).
    pub connected: AtomicBool,
    /// Refused, or the connection failed or ended early.
    pub failed: AtomicBool,
    /// Video frames received (coded frames; for WebRTC, packets with the marker bit).
    pub frames: AtomicU64,
    /// WebRTC players: RTP packets and video keyframes received, NACKs the peer sent, and
    /// sequence numbers never received (gaps not filled by a retransmission).
    pub packets: AtomicU64,
    pub keyframes: AtomicU64,
    pub nacks: AtomicU64,
    pub lost: AtomicU64,
    /// Microseconds from TCP connect to the first video frame, plus one (0: none yet).
    first_frame: AtomicU64,
    /// WebRTC players: the phases of the start and the DTLS flights (`whep_phases`).
    pub phases: super::whep_phases::Phases,
    /// Server-added latency samples in microseconds, not yet drained.
    latencies: Mutex<Vec<u32>>,
}

impl PlayerStats {
    pub fn new(kind: PlayerKind) -> PlayerStats {
        PlayerStats {
            kind,
            bytes: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            packets: AtomicU64::new(0),
            keyframes: AtomicU64::new(0),
            nacks: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            first_frame: AtomicU64::new(0),
            phases: Default::default(),
            latencies: Mutex::new(Vec::new()),
        }
    }

    pub fn add_bytes(&self, n: usize) {
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Records the first video frame (later calls are ignored).
    pub fn first_frame(&self, micros: u64) {
        let _ = self.first_frame.compare_exchange(0, micros + 1, Ordering::Relaxed, Ordering::Relaxed);
    }

    pub fn first_frame_micros(&self) -> Option<u64> {
        self.first_frame.load(Ordering::Relaxed).checked_sub(1)
    }

    pub fn add_latency(&self, micros: i64) {
        let sample = micros.clamp(0, i64::from(u32::MAX)) as u32;
        self.latencies.lock().unwrap_or_else(|p| p.into_inner()).push(sample);
    }

    pub fn drain_latencies(&self, into: &mut Vec<u32>) {
        into.append(&mut self.latencies.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

#[derive(Debug, Default)]
pub struct PublisherStats {
    pub publishing: AtomicUsize,
    pub failed: AtomicUsize,
    pub bytes: AtomicU64,
    pub frames_stamped: AtomicU64,
}

/// p50, p90, p99 of `samples` (sorted here), or `None` when empty.
pub fn percentiles(samples: &mut [u64]) -> Option<[u64; 3]> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Some([at(0.50), at(0.90), at(0.99)])
}

/// The spread of per-player rates: min, median, max, and the fraction within `tolerance` of the median.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSpread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
    pub within: f64,
}

pub fn rate_spread(rates: &mut [f64], tolerance: f64) -> Option<RateSpread> {
    if rates.is_empty() {
        return None;
    }
    rates.sort_unstable_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let close = rates.iter().filter(|r| (*r - median).abs() <= median * tolerance).count();
    Some(RateSpread {
        min: rates[0],
        median,
        max: rates[rates.len() - 1],
        within: close as f64 / rates.len() as f64,
    })
}

/// `p50/p99` in whole milliseconds (of µs percentiles), or `-`.
pub fn format_p50_p99_millis(percentiles: Option<[u64; 3]>) -> String {
    match percentiles {
        Some([p50, _, p99]) => format!("{:.0}/{:.0}", p50 as f64 / 1e3, p99 as f64 / 1e3),
        None => "-".into(),
    }
}

/// `p50/p90/p99` in milliseconds, or `-`.
pub fn format_millis(percentiles: Option<[u64; 3]>) -> String {
    match percentiles {
        Some([p50, p90, p99]) => {
            format!("{:.1}/{:.1}/{:.1} ms", p50 as f64 / 1e3, p90 as f64 / 1e3, p99 as f64 / 1e3)
        }
        None => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_hundred() {
        let mut samples: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(percentiles(&mut samples), Some([51, 90, 99]));
        assert_eq!(percentiles(&mut []), None);
    }

    #[test]
    fn spread_counts_players_near_the_median() {
        let mut rates = vec![100.0, 101.0, 99.0, 50.0, 102.5];
        let spread = rate_spread(&mut rates, 0.03).unwrap();
        assert_eq!((spread.min, spread.median, spread.max), (50.0, 100.0, 102.5));
        assert_eq!(spread.within, 0.8);
    }

    #[test]
    fn first_frame_is_kept_once() {
        let stats = PlayerStats::new(PlayerKind::Rtmp);
        assert_eq!(stats.first_frame_micros(), None);
        stats.first_frame(0);
        stats.first_frame(500);
        assert_eq!(stats.first_frame_micros(), Some(0));
        stats.add_latency(-5);
        stats.add_latency(1200);
        let mut drained = Vec::new();
        stats.drain_latencies(&mut drained);
        assert_eq!(drained, [0, 1200]);
    }
}
