//! The reorder window both video depacketizers share: packets are given out in sequence-number
//! order; a gap is waited for while the window holds at most `REORDER_PACKETS` packets spanning at
//! most `REORDER_TICKS` of media time, after which the missing packets count as lost.

use std::collections::BTreeMap;

use bytes::Bytes;

/// Packets held while waiting for a missing one before the gap counts as a loss.
pub const REORDER_PACKETS: usize = 64;
/// Media time (90 kHz ticks) held while waiting for a missing packet: 100 ms.
pub const REORDER_TICKS: u32 = 9_000;

/// One packet's fields the payload formats read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub timestamp: u32,
    pub marker: bool,
    pub payload: Bytes,
}

/// What comes out of the window, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ordered {
    Packet(Packet),
    /// This many packets before the next one will not come.
    Lost(u64),
}

/// Puts packets back in sequence-number order.
#[derive(Debug, Default)]
pub struct ReorderWindow {
    /// Packets waiting for an earlier one, by extended sequence number.
    held: BTreeMap<u64, Packet>,
    /// The extended sequence number expected next.
    next: Option<u64>,
}

impl ReorderWindow {
    pub fn new() -> ReorderWindow {
        ReorderWindow::default()
    }

    /// Takes one packet; appends to `out` what can now be given out. A duplicate, or a packet
    /// later than a gap already given up on, is dropped.
    pub fn push(&mut self, sequence: u16, packet: Packet, out: &mut Vec<Ordered>) {
        let extended = self.extend(sequence);
        let next = *self.next.get_or_insert(extended);
        if extended < next {
            return;
        }
        self.held.entry(extended).or_insert(packet);
        self.drain(out);
        while self.full() {
            let Some((&first, _)) = self.held.first_key_value() else { break };
            out.push(Ordered::Lost(first - self.next.unwrap_or(first)));
            self.next = Some(first);
            self.drain(out);
        }
    }

    /// Packets held now (waiting for an earlier one).
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// The 16-bit sequence number placed on a 64-bit line near the one expected next.
    fn extend(&self, sequence: u16) -> u64 {
        let Some(reference) = self.next else { return (1 << 32) + u64::from(sequence) };
        let candidate = (reference & !0xffff) | u64::from(sequence);
        if candidate + 0x8000 < reference {
            candidate + 0x1_0000
        } else if candidate > reference + 0x8000 {
            candidate.saturating_sub(0x1_0000)
        } else {
            candidate
        }
    }

    fn full(&self) -> bool {
        let (Some((_, first)), Some((_, last))) = (self.held.first_key_value(), self.held.last_key_value())
        else {
            return false;
        };
        self.held.len() > REORDER_PACKETS
            || last.timestamp.wrapping_sub(first.timestamp) as i32 > REORDER_TICKS as i32
    }

    fn drain(&mut self, out: &mut Vec<Ordered>) {
        while let Some(next) = self.next {
            let Some(packet) = self.held.remove(&next) else { break };
            self.next = Some(next + 1);
            out.push(Ordered::Packet(packet));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(timestamp: u32) -> Packet {
        Packet { timestamp, marker: false, payload: Bytes::new() }
    }

    fn order(window: &mut ReorderWindow, seqs: &[(u16, u32)]) -> Vec<Ordered> {
        let mut out = Vec::new();
        for &(seq, ts) in seqs {
            window.push(seq, packet(ts), &mut out);
        }
        out
    }

    fn stamps(out: &[Ordered]) -> Vec<i64> {
        out.iter()
            .map(|o| match o {
                Ordered::Packet(p) => i64::from(p.timestamp),
                Ordered::Lost(n) => -(*n as i64),
            })
            .collect()
    }

    #[test]
    fn reorders_across_the_wrap_and_drops_duplicates() {
        let mut window = ReorderWindow::new();
        let out = order(&mut window, &[(65534, 1), (0, 3), (65535, 2), (65535, 2), (1, 4), (0, 3)]);
        assert_eq!(stamps(&out), vec![1, 2, 3, 4]);
        assert_eq!(window.held(), 0);
    }

    #[test]
    fn a_gap_is_lost_once_the_window_spans_too_long() {
        let mut window = ReorderWindow::new();
        let out = order(&mut window, &[(10, 0), (12, 100), (13, 200)]);
        assert_eq!(stamps(&out), vec![0]);
        assert_eq!(window.held(), 2);
        // 100 ms later the missing packet is given up on.
        let out = order(&mut window, &[(14, 200 + REORDER_TICKS)]);
        assert_eq!(stamps(&out), vec![-1, 100, 200, i64::from(200 + REORDER_TICKS)]);
        // It arrives after all: too late, dropped.
        assert!(order(&mut window, &[(11, 50)]).is_empty());
    }

    #[test]
    fn a_gap_is_lost_once_the_window_holds_too_many() {
        let mut window = ReorderWindow::new();
        let mut seqs = vec![(0, 0)];
        seqs.extend((0..=REORDER_PACKETS as u16).map(|i| (i + 3, 0)));
        let out = order(&mut window, &seqs);
        assert_eq!(out[1], Ordered::Lost(2));
        assert_eq!(out.len(), 2 + REORDER_PACKETS + 1);
        assert_eq!(window.held(), 0);
    }

    /// A small deterministic generator (xorshift), so the test needs no crate and repeats.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn shuffled_duplicated_and_lost_packets_come_out_in_order_with_every_loss_counted() {
        let mut state = 0x9e37_79b9_7f4a_7c15;
        for round in 0..20 {
            // 3000 packets from a sequence number near the wrap, 10 a picture 3000 ticks apart.
            let first = 65_000u16.wrapping_add(round * 97);
            let mut sent: Vec<(u16, u32)> =
                (0..3000u32).map(|i| (first.wrapping_add(i as u16), i / 10 * 3000)).collect();
            let lose = round % 2 == 1;
            let mut lost = 0u64;
            if lose {
                // Drop about one packet in 50, never the first.
                let before = sent.len();
                let mut index = 0;
                sent.retain(|_| {
                    index += 1;
                    index == 1 || next(&mut state) % 50 != 0
                });
                lost = (before - sent.len()) as u64;
            }
            // Shuffle within runs of 8 and repeat one packet in 20. The first packet comes first:
            // it sets where the sequence starts (an earlier one is taken as late).
            let mut arrivals = vec![sent[0]];
            for run in sent[1..].chunks(8) {
                let mut run = run.to_vec();
                for i in (1..run.len()).rev() {
                    let j = (next(&mut state) % (i as u64 + 1)) as usize;
                    run.swap(i, j);
                }
                for packet in run {
                    arrivals.push(packet);
                    if next(&mut state) % 20 == 0 {
                        arrivals.push(packet);
                    }
                }
            }
            let mut window = ReorderWindow::new();
            let mut out = Vec::new();
            for (seq, ts) in arrivals {
                window.push(seq, packet(ts), &mut out);
            }
            let given: Vec<u32> = out
                .iter()
                .filter_map(|o| match o {
                    Ordered::Packet(p) => Some(p.timestamp),
                    Ordered::Lost(_) => None,
                })
                .collect();
            let counted: u64 = out.iter().map(|o| if let Ordered::Lost(n) = o { *n } else { 0 }).sum();
            // Everything before the last gap's wait is out, in order, once; the rest is held.
            let expected: Vec<u32> = sent.iter().map(|p| p.1).take(given.len()).collect();
            let first_difference = given.iter().zip(&expected).position(|(a, b)| a != b);
            assert!(
                given.len() == expected.len() && first_difference.is_none(),
                "round {round}: {} given, {} sent, first difference at {first_difference:?}",
                given.len(),
                sent.len()
            );
            assert_eq!(given.len() + window.held(), sent.len(), "round {round}");
            if lose {
                // Every packet missing before the last one given out was counted, once.
                let last = sent[given.len() - 1].0.wrapping_sub(first) as u64;
                assert_eq!(counted, last + 1 - given.len() as u64, "round {round}");
                assert!(counted > 0 && counted <= lost, "round {round}: {counted} of {lost}");
            } else {
                assert_eq!(counted, 0, "round {round}: nothing lost");
                assert_eq!(window.held(), 0, "round {round}");
            }
        }
    }
}
