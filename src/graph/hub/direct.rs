//! Direct writes: while a player is caught up, the hub writes each flush to the player's socket
//! itself, from the thread that flushed, with one non-blocking vectored write, instead of waking
//! the player's task to do it. One system call per player per batch and no task wake-up, as the
//! kernel-floor program does. When a socket does not take a whole batch, the hub hands the player
//! back to its task with what is left to write (and wakes it); the task writes that, reads on
//! from the ring like any consumer, and attaches again once it has caught up.

use std::io::IoSlice;
use std::sync::Arc;
use std::task::Waker;

use bytes::{Buf, Bytes};

/// A player's socket the hub may write to (the player's task neither writes while attached).
pub trait DirectSink: Send + Sync + std::fmt::Debug {
    /// Writes what the socket takes now, without waiting (`WouldBlock` when it takes nothing).
    fn try_write(&self, bufs: &[IoSlice<'_>]) -> std::io::Result<usize>;
}

/// What a player's task gets back when the hub stops writing for it.
#[derive(Debug, Default)]
pub(super) struct HandBack {
    /// The part of the last batch the socket did not take: written first by the task.
    pub unwritten: Vec<Bytes>,
    /// The ring position after that batch, where the task's cursor goes on.
    pub resume_seq: u64,
}

struct DirectPlayer {
    sink: Arc<dyn DirectSink>,
    waker: Waker,
    /// Set when the hub stopped writing for this player.
    handed_back: Option<HandBack>,
}

/// The attached players of one hub, a slot each (reused after a player leaves).
#[derive(Default)]
pub(super) struct DirectPlayers {
    slots: Vec<Option<DirectPlayer>>,
    free: Vec<usize>,
    /// Slots the hub writes to (attached and not handed back).
    attached: usize,
}

impl std::fmt::Debug for DirectPlayers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectPlayers").field("attached", &self.attached).finish()
    }
}

impl DirectPlayers {
    pub fn attached(&self) -> usize {
        self.attached
    }

    pub fn attach(&mut self, sink: Arc<dyn DirectSink>, waker: &Waker) -> usize {
        let player = DirectPlayer { sink, waker: waker.clone(), handed_back: None };
        self.attached += 1;
        match self.free.pop() {
            Some(index) => {
                self.slots[index] = Some(player);
                index
            }
            None => {
                self.slots.push(Some(player));
                self.slots.len() - 1
            }
        }
    }

    /// Whether the hub still writes for the player in `index` (refreshing its waker if so).
    pub fn still_attached(&mut self, index: usize, waker: &Waker) -> bool {
        match self.slots.get_mut(index) {
            Some(Some(player)) if player.handed_back.is_none() => {
                if !player.waker.will_wake(waker) {
                    player.waker.clone_from(waker);
                }
                true
            }
            _ => false,
        }
    }

    /// Frees the slot: what the hub handed back, or (still attached) nothing unwritten and the
    /// cursor at `visible_end`, since every flush so far was written.
    pub fn release(&mut self, index: usize, visible_end: u64) -> HandBack {
        let Some(player) = self.slots.get_mut(index).and_then(Option::take) else {
            return HandBack { unwritten: Vec::new(), resume_seq: visible_end };
        };
        self.free.push(index);
        match player.handed_back {
            Some(back) => back,
            None => {
                self.attached -= 1;
                HandBack { unwritten: Vec::new(), resume_seq: visible_end }
            }
        }
    }

    /// Writes a flushed batch (the packets up to ring position `end_seq`) to every attached
    /// player; players whose socket did not take all of it are handed back, their wakers added to
    /// `wake`. Many players are split over the machine's cores (scoped threads, joined before this
    /// returns), so the last socket of a big stream is not a whole core's sweep behind the first:
    /// from 256 players in realtime mode (`realtime`), where that sweep is the latency, and from
    /// 2048 otherwise (a 350 ms batch hides a few milliseconds of sweep).
    pub fn write(&mut self, packets: &[Bytes], end_seq: u64, realtime: bool, wake: &mut Vec<Waker>) {
        let slices: Vec<IoSlice<'_>> = packets.iter().map(|p| IoSlice::new(p)).collect();
        let batch = Batch { packets, slices: &slices, total: packets.iter().map(Bytes::len).sum(), end_seq };
        let per_writer = if realtime { REALTIME_PLAYERS_PER_WRITER } else { PLAYERS_PER_WRITER };
        let parts = write_parallelism(self.attached, per_writer);
        let handed_back = if parts <= 1 {
            batch.write_to(&mut self.slots, wake)
        } else {
            let chunk = self.slots.len().div_ceil(parts);
            // Each part in a cell the writing thread takes it from: if no thread can be had,
            // this thread takes the part back and writes it too.
            let mut chunks = self.slots.chunks_mut(chunk);
            let mine = chunks.next();
            let parts: Vec<std::sync::Mutex<Option<&mut [Option<DirectPlayer>]>>> =
                chunks.map(|slots| std::sync::Mutex::new(Some(slots))).collect();
            std::thread::scope(|scope| {
                let mut handed_back = 0;
                let mut others = Vec::new();
                for part in &parts {
                    let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                        let mut wake = Vec::new();
                        let slots = part.lock().ok().and_then(|mut slots| slots.take());
                        (slots.map_or(0, |slots| batch.write_to(slots, &mut wake)), wake)
                    });
                    match spawned {
                        Ok(other) => others.push(other),
                        Err(_) => {
                            if let Some(slots) = part.lock().ok().and_then(|mut slots| slots.take()) {
                                handed_back += batch.write_to(slots, wake);
                            }
                        }
                    }
                }
                handed_back += mine.map_or(0, |slots| batch.write_to(slots, wake));
                for other in others {
                    // write_to has no panic path; a thread that failed anyway leaves its players attached.
                    if let Ok((count, wakers)) = other.join() {
                        handed_back += count;
                        wake.extend(wakers);
                    }
                }
                handed_back
            })
        };
        self.attached -= handed_back;
    }

    /// Hands every attached player back (the hub closed: their tasks must see it).
    pub fn hand_back_all(&mut self, resume_seq: u64, wake: &mut Vec<Waker>) {
        for player in self.slots.iter_mut().flatten().filter(|p| p.handed_back.is_none()) {
            player.handed_back = Some(HandBack { unwritten: Vec::new(), resume_seq });
            wake.push(player.waker.clone());
        }
        self.attached = 0;
    }
}

/// Attached players per writing thread before a flush is split over more threads.
const PLAYERS_PER_WRITER: usize = 2048;
const REALTIME_PLAYERS_PER_WRITER: usize = 256;

/// How many threads write one flush: one per `per_writer` players, at most one per core.
fn write_parallelism(attached: usize, per_writer: usize) -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    attached.div_ceil(per_writer).clamp(1, cores)
}

/// One flushed batch, as every attached player's socket gets it.
#[derive(Clone, Copy)]
struct Batch<'a> {
    packets: &'a [Bytes],
    slices: &'a [IoSlice<'a>],
    total: usize,
    end_seq: u64,
}

impl Batch<'_> {
    /// Writes the batch to the attached players among `slots`; returns how many were handed back.
    fn write_to(&self, slots: &mut [Option<DirectPlayer>], wake: &mut Vec<Waker>) -> usize {
        let mut handed_back = 0;
        for player in slots.iter_mut().flatten().filter(|p| p.handed_back.is_none()) {
            let written = match player.sink.try_write(self.slices) {
                Ok(n) if n >= self.total => continue,
                Ok(n) => n,
                // Would block, or failed: the task writes it and meets the error itself.
                Err(_) => 0,
            };
            player.handed_back =
                Some(HandBack { unwritten: remainder(self.packets, written), resume_seq: self.end_seq });
            wake.push(player.waker.clone());
            handed_back += 1;
        }
        handed_back
    }
}

/// `packets` without their first `written` bytes (sharing their memory).
fn remainder(packets: &[Bytes], mut written: usize) -> Vec<Bytes> {
    let mut rest = Vec::new();
    for packet in packets {
        if written >= packet.len() {
            written -= packet.len();
            continue;
        }
        let mut packet = packet.clone();
        packet.advance(written);
        written = 0;
        rest.push(packet);
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remainder_skips_written_bytes_across_packets() {
        let packets = [Bytes::from_static(b"abc"), Bytes::from_static(b"de"), Bytes::from_static(b"fgh")];
        let rest = remainder(&packets, 4);
        assert_eq!(rest, [Bytes::from_static(b"e"), Bytes::from_static(b"fgh")]);
        assert_eq!(remainder(&packets, 0).len(), 3);
        assert!(remainder(&packets, 8).is_empty());
    }
}
