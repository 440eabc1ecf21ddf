//! Where a WebRTC player's first frame waits: the phases of its start, each timed from the moment
//! the player starts (before its offer is made), the DTLS flights it sent and received (a flight
//! seen twice is a retransmission, `codec::rtp::dtls_flights`), and the report's lines for them:
//! the phases' percentiles, the steps between them, the slowest players' timelines, and what the
//! server and the kernel say (`whep_server`: the server's own counters per session and the UDP
//! sockets' drops).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::stats::{format_p50_p99_millis as p50_p99, percentiles, PlayerKind, PlayerStats};
use super::whep_server::{ServerStart, UdpDrops};

/// One phase of a player's start, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The offer is made (the peer connection built, its certificate made): the POST goes out.
    Offer,
    /// The answer arrived (signalling done; the ICE checks start).
    Answer,
    /// The first STUN datagram from the server (the answer to our first binding).
    FirstStun,
    /// ICE connected: a pair was nominated and its nomination answered; DTLS starts.
    IceConnected,
    /// The first DTLS datagram from the server.
    FirstDtls,
    /// ICE and DTLS done: the peer connection is connected.
    DtlsDone,
    /// The first RTP packet decrypted.
    FirstRtp,
    /// The end of the first keyframe.
    FirstFrame,
}

pub const PHASES: [Phase; 8] = [
    Phase::Offer,
    Phase::Answer,
    Phase::FirstStun,
    Phase::IceConnected,
    Phase::FirstDtls,
    Phase::DtlsDone,
    Phase::FirstRtp,
    Phase::FirstFrame,
];

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Offer => "offer",
            Phase::Answer => "answer",
            Phase::FirstStun => "first stun",
            Phase::IceConnected => "ice connected",
            Phase::FirstDtls => "first dtls",
            Phase::DtlsDone => "dtls done",
            Phase::FirstRtp => "first rtp",
            Phase::FirstFrame => "first frame",
        }
    }

    fn index(self) -> usize {
        PHASES.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// A player's phase times (µs from its start, plus one: 0 is "not reached") and DTLS flights.
#[derive(Debug, Default)]
pub struct Phases {
    at: [AtomicU64; PHASES.len()],
    /// Flights the player sent, and those it sent again; the server's, and those seen again.
    pub flights_out: AtomicU64,
    pub repeats_out: AtomicU64,
    pub flights_in: AtomicU64,
    pub repeats_in: AtomicU64,
    /// Datagrams the peer connection refused (RTP before its SRTP keys, a broken record...).
    pub refused: AtomicU64,
}

impl Phases {
    /// Records `phase` at `micros` (the first time only).
    pub fn mark(&self, phase: Phase, micros: u64) {
        let slot = &self.at[phase.index()];
        let _ = slot.compare_exchange(0, micros + 1, Ordering::Relaxed, Ordering::Relaxed);
    }

    pub fn get(&self, phase: Phase) -> Option<u64> {
        self.at[phase.index()].load(Ordering::Relaxed).checked_sub(1)
    }
}

/// The start of the WebRTC players of a run.
#[derive(Debug, Clone, Default)]
pub struct WhepStart {
    /// p50/p90/p99 of each phase (µs), over the players that reached it, and how many did.
    pub phases: Vec<(Phase, Option<[u64; 3]>, usize)>,
    /// p50/p90/p99 of the step into each phase from the one before it, per player.
    pub steps: Vec<(Phase, Option<[u64; 3]>)>,
    /// The players with the slowest first frames: their phase times (µs).
    pub slowest: Vec<Vec<Option<u64>>>,
    /// Summed over players: flights sent and sent again; the server's seen and seen again; the
    /// players that saw or made any repeat.
    pub flights_out: u64,
    pub repeats_out: u64,
    pub flights_in: u64,
    pub repeats_in: u64,
    pub players_with_repeats: usize,
    /// Datagrams the players' peer connections refused.
    pub refused: u64,
    pub server: Option<ServerStart>,
    pub drops: Option<UdpDrops>,
}

/// How many of the slowest players the report lists.
const SLOWEST: usize = 5;

impl WhepStart {
    pub fn of(players: &[Arc<PlayerStats>]) -> Option<WhepStart> {
        let mine: Vec<&PlayerStats> =
            players.iter().filter(|p| p.kind == PlayerKind::Whep).map(|p| &**p).collect();
        if mine.is_empty() {
            return None;
        }
        let mut start = WhepStart::default();
        for phase in PHASES {
            let mut times: Vec<u64> = mine.iter().filter_map(|p| p.phases.get(phase)).collect();
            let reached = times.len();
            start.phases.push((phase, percentiles(&mut times), reached));
        }
        for pair in PHASES.windows(2) {
            let mut steps: Vec<u64> = mine
                .iter()
                .filter_map(|p| Some(p.phases.get(pair[1])?.saturating_sub(p.phases.get(pair[0])?)))
                .collect();
            start.steps.push((pair[1], percentiles(&mut steps)));
        }
        let mut by_first_frame: Vec<&PlayerStats> =
            mine.iter().copied().filter(|p| p.phases.get(Phase::FirstFrame).is_some()).collect();
        by_first_frame.sort_by_key(|p| std::cmp::Reverse(p.phases.get(Phase::FirstFrame)));
        start.slowest = by_first_frame
            .iter()
            .take(SLOWEST)
            .map(|p| PHASES.iter().map(|&phase| p.phases.get(phase)).collect())
            .collect();
        for p in &mine {
            let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
            start.flights_out += load(&p.phases.flights_out);
            start.repeats_out += load(&p.phases.repeats_out);
            start.flights_in += load(&p.phases.flights_in);
            start.repeats_in += load(&p.phases.repeats_in);
            start.refused += load(&p.phases.refused);
            if load(&p.phases.repeats_out) + load(&p.phases.repeats_in) > 0 {
                start.players_with_repeats += 1;
            }
        }
        Some(start)
    }
}

fn millis(value: Option<u64>) -> String {
    value.map_or("-".to_owned(), |v| format!("{:.0}", v as f64 / 1e3))
}

impl fmt::Display for WhepStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  start phases, ms from the player's start, p50/p99 (players reaching it):")?;
        let phases: Vec<String> = self
            .phases
            .iter()
            .map(|(phase, times, reached)| format!("{} {} ({reached})", phase.name(), p50_p99(*times)))
            .collect();
        writeln!(f, "    {}", phases.join(", "))?;
        writeln!(f, "  steps, ms from the phase before, p50/p99:")?;
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|(phase, times)| format!("→{} {}", phase.name(), p50_p99(*times)))
            .collect();
        writeln!(f, "    {}", steps.join(", "))?;
        let names: Vec<&str> = PHASES.iter().map(|p| p.name()).collect();
        writeln!(f, "  slowest first frames, ms at each phase ({}):", names.join(" / "))?;
        for player in &self.slowest {
            let times: Vec<String> = player.iter().map(|t| millis(*t)).collect();
            writeln!(f, "    {}", times.join(" / "))?;
        }
        writeln!(
            f,
            "  dtls flights: players sent {} (+{} again), got {} (+{} again); {} players saw a repeat; \
             {} datagrams refused by the players",
            self.flights_out,
            self.repeats_out,
            self.flights_in,
            self.repeats_in,
            self.players_with_repeats,
            self.refused
        )?;
        if let Some(server) = &self.server {
            write!(f, "{server}")?;
        }
        if let Some(drops) = &self.drops {
            write!(f, "{drops}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_steps_and_the_slowest_player() {
        let players: Vec<Arc<PlayerStats>> = (0..3u64)
            .map(|i| {
                let stats = Arc::new(PlayerStats::new(PlayerKind::Whep));
                for (n, phase) in PHASES.iter().enumerate() {
                    stats.phases.mark(*phase, (n as u64 + 1) * 1000 * (i + 1));
                }
                stats.phases.mark(Phase::Offer, 999_999); // a second mark is ignored
                stats
            })
            .collect();
        players[2].phases.repeats_out.store(1, Ordering::Relaxed);
        let start = WhepStart::of(&players).expect("whep players");
        assert_eq!(start.phases[0], (Phase::Offer, Some([2000, 3000, 3000]), 3));
        // Answer − offer: 1, 2 and 3 ms.
        assert_eq!(start.steps[0], (Phase::Answer, Some([2000, 3000, 3000])));
        assert_eq!(start.slowest[0][7], Some(24_000), "the slowest first frame first");
        assert_eq!(start.players_with_repeats, 1);
        let text = start.to_string();
        assert!(text.contains("first frame 16/24 (3)"), "{text}");
        assert!(WhepStart::of(&[Arc::new(PlayerStats::new(PlayerKind::Rtmp))]).is_none());
    }
}
