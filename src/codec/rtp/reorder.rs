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
}
