//! Puts one device's RTP packets back in sequence order. Over UDP a few packets may arrive out of
//! order: they are held in a small window; a gap the window cannot fill is a loss, reported once
//! so the demuxer drops the frame it fell in (not the stream). Over TCP the window is 0.

use std::collections::BTreeMap;

/// A packet this far behind the expected one means the sender started numbering anew.
const RESTART_DISTANCE: u16 = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery<T> {
    Payload(T),
    /// Packets were lost before the next payload.
    Lost {
        packets: u16,
    },
}

#[derive(Debug)]
pub struct Sequencer<T> {
    window: usize,
    expected: Option<u16>,
    /// Packets ahead of `expected`, by their distance from it.
    held: BTreeMap<u16, T>,
    pub lost: u64,
    pub late: u64,
}

impl<T> Sequencer<T> {
    /// `window`: how many packets may be held waiting for a missing one.
    pub fn new(window: usize) -> Sequencer<T> {
        Sequencer { window, expected: None, held: BTreeMap::new(), lost: 0, late: 0 }
    }

    /// Takes a packet; appends what is now in order to `out`.
    pub fn push(&mut self, sequence: u16, payload: T, out: &mut Vec<Delivery<T>>) {
        let expected = *self.expected.get_or_insert(sequence);
        let ahead = sequence.wrapping_sub(expected);
        if ahead >= 0x8000 {
            if ahead.wrapping_neg() <= RESTART_DISTANCE {
                // Behind what was delivered: a duplicate or too late.
                self.late += 1;
                return;
            }
            // Far behind: the sender restarted its numbering (a new call); start over there.
            self.held.clear();
            self.expected = Some(sequence);
            out.push(Delivery::Lost { packets: 0 });
            self.held.insert(0, payload);
            self.release(out);
            return;
        }
        self.held.insert(ahead, payload);
        self.release(out);
        if self.held.len() > self.window {
            let Some((&first, _)) = self.held.first_key_value() else { return };
            self.lost += u64::from(first);
            out.push(Delivery::Lost { packets: first });
            self.advance(first);
            self.release(out);
        }
    }

    /// Delivers the packets that follow `expected` without a gap.
    fn release(&mut self, out: &mut Vec<Delivery<T>>) {
        while let Some(payload) = self.held.remove(&0) {
            out.push(Delivery::Payload(payload));
            self.advance(1);
        }
    }

    fn advance(&mut self, by: u16) {
        if let Some(expected) = &mut self.expected {
            *expected = expected.wrapping_add(by);
        }
        self.held = std::mem::take(&mut self.held).into_iter().map(|(k, v)| (k - by, v)).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use bytes::Bytes;

    fn run(sequencer: &mut Sequencer<Bytes>, sequences: &[u16]) -> Vec<Delivery<Bytes>> {
        let mut out = Vec::new();
        for &s in sequences {
            sequencer.push(s, Bytes::from(s.to_be_bytes().to_vec()), &mut out);
        }
        out
    }

    fn payload(s: u16) -> Delivery<Bytes> {
        Delivery::Payload(Bytes::from(s.to_be_bytes().to_vec()))
    }

    #[test]
    fn reordered_packets_come_out_in_order_across_the_wrap() {
        let mut sequencer = Sequencer::new(4);
        let out = run(&mut sequencer, &[65_534, 0, 65_535, 1, 1]);
        assert_eq!(out, [payload(65_534), payload(65_535), payload(0), payload(1)]);
        assert_eq!(sequencer.late, 1);
    }

    #[test]
    fn a_gap_the_window_cannot_fill_is_one_loss() {
        let mut sequencer = Sequencer::new(2);
        let out = run(&mut sequencer, &[10, 12, 13, 14, 15]);
        assert_eq!(
            out,
            [payload(10), Delivery::Lost { packets: 1 }, payload(12), payload(13), payload(14), payload(15)]
        );
        let mut tcp = Sequencer::new(0);
        let out = run(&mut tcp, &[1, 3]);
        assert_eq!(out, [payload(1), Delivery::Lost { packets: 1 }, payload(3)]);
        assert_eq!(tcp.lost, 1);
        let out = run(&mut tcp, &[40_000]);
        assert_eq!(out, [Delivery::Lost { packets: 0 }, payload(40_000)], "a restart is followed");
    }
}
