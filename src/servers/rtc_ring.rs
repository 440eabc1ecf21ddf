//! The packets a stream's track sent lately, kept once for all its players: NACKs from any player
//! are answered from here (the `rtc` crate's own NACK responder would keep a copy per player).
//!
//! The stream numbers its packets itself (`OutPacket::sequence`); each player's sequence numbers
//! are the stream's plus an offset fixed when it started receiving, so a player's NACKed
//! sequence number finds the stream's packet by subtraction. Slots hold the payload's `Bytes`
//! (shared with what was sent), so the ring costs its slots, not copies. The ring also knows
//! where the last keyframe starts, so a player that joins mid-picture-group is first sent the
//! group so far (its first frame comes at once, not at the next keyframe).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;

/// Packets kept per track: at 1 Mbit/s of 1200-byte payloads, about 10 s of video.
pub const RING_SIZE: usize = 1024;

/// One packet to send: the stream's sequence number, payload, marker and timestamp; the sequence
/// number, SSRC and payload type on the wire are each player's.
#[derive(Debug, Clone)]
pub struct OutPacket {
    pub sequence: u16,
    pub marker: bool,
    pub timestamp: u32,
    pub payload: Bytes,
}

/// A track's ring of sent packets, shared by the node that fills it and the workers that answer
/// NACKs from it.
#[derive(Debug)]
pub struct SentRing {
    inner: Mutex<Ring>,
}

#[derive(Debug)]
struct Ring {
    slots: Vec<Option<OutPacket>>,
    next: u16,
    /// The stream sequence number of the last keyframe's first packet.
    keyframe: Option<u16>,
    /// The newest frame's RTP timestamp and when its media time is due (`push`).
    clock: Option<(u32, Instant)>,
}

impl Default for SentRing {
    fn default() -> Self {
        SentRing {
            inner: Mutex::new(Ring { slots: vec![None; RING_SIZE], next: 0, keyframe: None, clock: None }),
        }
    }
}

impl SentRing {
    pub fn new() -> Arc<SentRing> {
        Arc::new(SentRing::default())
    }

    /// Numbers `packets` (marker, timestamp, payload) of one frame with the track's next sequence
    /// numbers, keeps them, and gives them back as the list to send. `due`: when the frame's media
    /// time is due on the stream's wall-clock line, shared by its tracks (`media_clock`).
    pub fn push(
        &self,
        packets: impl IntoIterator<Item = (bool, u32, Bytes)>,
        keyframe: bool,
        due: Instant,
    ) -> Arc<[OutPacket]> {
        let mut ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if keyframe {
            ring.keyframe = Some(ring.next);
        }
        let sent: Arc<[OutPacket]> = packets
            .into_iter()
            .map(|(marker, timestamp, payload)| {
                let sequence = ring.next;
                ring.next = ring.next.wrapping_add(1);
                OutPacket { sequence, marker, timestamp, payload }
            })
            .collect();
        for packet in sent.iter() {
            ring.slots[usize::from(packet.sequence) % RING_SIZE] = Some(packet.clone());
        }
        if let Some(last) = sent.last() {
            ring.clock = Some((last.timestamp, due));
        }
        sent
    }

    /// The track's RTP clock against the wall clock: the newest frame's timestamp and when its
    /// media time is due. Sender reports carry it on, so a player lines audio and video up by
    /// their media times, not by when each was sent (an audio transcoder sends a frame up to one
    /// frame later than the video of the same instant).
    pub fn media_clock(&self) -> Option<(u32, Instant)> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clock
    }

    /// Whether a keyframe was pushed (a joining player can start from it).
    pub fn has_keyframe(&self) -> bool {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).keyframe.is_some()
    }

    /// The packets from the last keyframe up to `before` (excluded), when all are still kept
    /// and they are at most half the ring; empty when `before` starts the keyframe.
    pub fn since_keyframe(&self, before: u16) -> Option<Vec<OutPacket>> {
        let ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let start = ring.keyframe?;
        let count = before.wrapping_sub(start);
        if usize::from(count) > RING_SIZE / 2 {
            return None;
        }
        (0..count)
            .map(|i| {
                let sequence = start.wrapping_add(i);
                ring.slots[usize::from(sequence) % RING_SIZE]
                    .as_ref()
                    .filter(|p| p.sequence == sequence)
                    .cloned()
            })
            .collect()
    }

    /// The packet sent with `sequence`, if it is still kept.
    pub fn get(&self, sequence: u16) -> Option<OutPacket> {
        let ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        ring.slots[usize::from(sequence) % RING_SIZE].as_ref().filter(|p| p.sequence == sequence).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(i: u32) -> (bool, u32, Bytes) {
        (i % 2 == 0, i * 3000, Bytes::from(i.to_be_bytes().to_vec()))
    }

    #[test]
    fn keeps_the_last_ring_size_packets_by_sequence() {
        let ring = SentRing::default();
        let first = ring.push((0..3).map(packet), false, Instant::now());
        assert_eq!(first.iter().map(|p| p.sequence).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(ring.get(1).map(|p| p.timestamp), Some(3000));
        assert!(ring.get(3).is_none(), "not sent yet");
        ring.push((3..RING_SIZE as u32 + 1).map(packet), false, Instant::now());
        assert!(ring.get(0).is_none(), "overwritten by packet {RING_SIZE}");
        assert_eq!(ring.get(1).map(|p| p.payload), Some(Bytes::from(1u32.to_be_bytes().to_vec())));
        assert_eq!(ring.get(RING_SIZE as u16).map(|p| p.sequence), Some(RING_SIZE as u16));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let ring = SentRing::default();
        for _ in 0..64 {
            ring.push((0..1024).map(packet), false, Instant::now());
        }
        assert_eq!(ring.push([packet(9)], false, Instant::now())[0].sequence, 0, "65536 packets later");
        assert!(ring.get(0).is_some_and(|p| p.timestamp == 27_000));
        assert!(ring.get(65_535).is_some());
    }

    #[test]
    fn a_joining_player_gets_the_group_since_the_keyframe() {
        let ring = SentRing::default();
        assert!(!ring.has_keyframe());
        ring.push((0..4).map(packet), false, Instant::now());
        assert!(ring.since_keyframe(4).is_none(), "no keyframe yet");
        let key = ring.push((4..7).map(packet), true, Instant::now());
        let delta = ring.push((7..9).map(packet), false, Instant::now());
        assert!(ring.has_keyframe());
        assert_eq!(ring.since_keyframe(key[0].sequence).map(|v| v.len()), Some(0));
        let replay = ring.since_keyframe(delta[1].sequence).expect("kept");
        assert_eq!(replay.iter().map(|p| p.sequence).collect::<Vec<_>>(), [4, 5, 6, 7]);
        ring.push((9..9 + RING_SIZE as u32).map(packet), false, Instant::now());
        assert!(
            ring.since_keyframe(9 + RING_SIZE as u16).is_none(),
            "the group is longer than half the ring"
        );
    }
}
