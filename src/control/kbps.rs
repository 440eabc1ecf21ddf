//! Bit rates over SRS's 30-second windows (`kbps.recv_30s` / `send_30s` in the API), from byte
//! counters sampled every few seconds: the rate is the counters' growth since the newest sample
//! at least 30 s old (since the first sample while the client or stream is younger), not an
//! average since start.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The window SRS's `*_30s` figures cover.
pub const WINDOW: Duration = Duration::from_secs(30);

/// How often the API node samples every client and stream.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

/// Samples beyond the window are dropped, so a window keeps about 30 s / interval of them.
const MAX_SAMPLES: usize = 16;

/// Byte counters at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub send: u64,
    pub recv: u64,
}

/// Recent samples of one client's or stream's counters.
#[derive(Debug, Default)]
pub struct RateWindow {
    samples: VecDeque<(Instant, Counters)>,
}

impl RateWindow {
    /// Records `counters` at `now`, keeping one sample older than the window.
    pub fn sample(&mut self, now: Instant, counters: Counters) {
        self.samples.push_back((now, counters));
        while self.samples.len() > 1
            && self.samples.get(1).is_some_and(|(at, _)| now.duration_since(*at) >= WINDOW)
        {
            self.samples.pop_front();
        }
        while self.samples.len() > MAX_SAMPLES {
            self.samples.pop_front();
        }
    }

    /// `(send, recv)` in kbit/s over the last 30 s (or since the first sample) up to `now`, where
    /// the counters read `counters`.
    pub fn kbps(&self, now: Instant, counters: Counters) -> (u64, u64) {
        let base = self
            .samples
            .iter()
            .rev()
            .find(|(at, _)| now.duration_since(*at) >= WINDOW)
            .or(self.samples.front());
        let Some((at, then)) = base else { return (0, 0) };
        let seconds = now.duration_since(*at).as_secs_f64();
        if seconds < 0.5 {
            return (0, 0);
        }
        let rate = |now: u64, then: u64| (now.saturating_sub(then) as f64 * 8.0 / 1000.0 / seconds) as u64;
        (rate(counters.send, then.send), rate(counters.recv, then.recv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(send: u64, recv: u64) -> Counters {
        Counters { send, recv }
    }

    #[test]
    fn the_rate_covers_the_last_thirty_seconds_not_the_whole_life() {
        let start = Instant::now();
        let mut window = RateWindow::default();
        // 60 s at 1 Mbit/s (125 000 B/s) sent, then 60 s at 200 kbit/s.
        let mut sent = 0u64;
        for second in 0..=120u64 {
            if second % 5 == 0 {
                window.sample(start + Duration::from_secs(second), counters(sent, 0));
            }
            sent += if second < 60 { 125_000 } else { 25_000 };
        }
        let now = start + Duration::from_secs(121);
        let (send, recv) = window.kbps(now, counters(sent, 0));
        assert!((195..=205).contains(&send), "the last 30 s ran at 200 kbit/s, got {send}");
        assert_eq!(recv, 0);
        let average = sent * 8 / 1000 / 121;
        assert!(average > 500, "the average since start ({average}) is what the window must not report");
        assert!(window.samples.len() <= 8, "old samples are dropped: {}", window.samples.len());
    }

    #[test]
    fn a_young_counter_is_measured_since_its_first_sample() {
        let start = Instant::now();
        let mut window = RateWindow::default();
        assert_eq!(window.kbps(start, counters(1000, 1000)), (0, 0), "no sample yet");
        window.sample(start, counters(0, 0));
        let (send, recv) = window.kbps(start + Duration::from_secs(10), counters(1_250_000, 250_000));
        assert_eq!((send, recv), (1000, 200));
    }
}
