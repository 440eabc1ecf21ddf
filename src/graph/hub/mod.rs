//! Per-stream fan-out to players: one shared ring of pre-serialized packets, a cursor per consumer.
//!
//! The publisher appends each packet once (already serialized for one output format); every
//! consumer reads the same `Bytes` through its own cursor, so a frame costs one append however
//! many players there are. The ring doubles as the gop cache (new consumers start at the last
//! keyframe) and as each consumer's bounded queue: a consumer that falls out of the ring skips to
//! the newest keyframe, and the skip is counted. Sequence headers and metadata are kept apart and
//! sent first, in SRS's order (metadata, audio, video).
//!
//! Merged writes are decided here, once per stream, not per player: pushed packets stay invisible
//! until the hub *flushes* them (SRS's rule: more than `mw_msgs` packets spanning `mw_latency` of
//! media time), and a flush wakes every consumer at once. So all players of a stream wake together,
//! once per batch, with no timer of their own; in realtime mode the feeder flushes after each burst
//! it drained from its input (`end_burst`), and a stalled tail is flushed by the feeder's timer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use std::task::{Context, Poll, Waker};

use direct::DirectPlayers;
pub use direct::DirectSink;
use wakers::Wakers;

mod direct;
#[cfg(test)]
mod direct_tests;
mod wakers;

/// What a packet is, for the cache rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketClass {
    Metadata,
    AudioHeader,
    VideoHeader,
    VideoKeyframe,
    Video,
    Audio,
}

/// One message, serialized once for one output format.
#[derive(Debug, Clone)]
pub struct Packet {
    /// What goes on the wire before `bytes` (an FLV tag's header), often empty.
    pub head: Bytes,
    pub bytes: Bytes,
    /// What goes on the wire after `bytes` (an FLV tag's size field), often empty.
    pub tail: Bytes,
    pub time_ms: i64,
    pub class: PacketClass,
}

impl Packet {
    pub fn new(bytes: Bytes, time_ms: i64, class: PacketClass) -> Packet {
        Packet { head: Bytes::new(), bytes, tail: Bytes::new(), time_ms, class }
    }

    /// A packet whose middle is someone else's buffer (a frame's payload), shared rather than
    /// copied into a serialized message: a stream nobody watches costs no copy of its media.
    pub fn framed(head: Bytes, bytes: Bytes, tail: Bytes, time_ms: i64, class: PacketClass) -> Packet {
        Packet { head, bytes, tail, time_ms, class }
    }

    pub fn len(&self) -> usize {
        self.head.len() + self.bytes.len() + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the packet's non-empty parts, in wire order.
    fn push_parts(&self, out: &mut Vec<Bytes>) {
        out.extend([&self.head, &self.bytes, &self.tail].into_iter().filter(|b| !b.is_empty()).cloned());
    }

    /// The packet as one buffer: its own when it has one part, else a copy of the parts joined.
    fn whole(&self) -> Bytes {
        if self.head.is_empty() && self.tail.is_empty() {
            return self.bytes.clone();
        }
        let mut joined = BytesMut::with_capacity(self.len());
        for part in [&self.head, &self.bytes, &self.tail] {
            joined.extend_from_slice(part);
        }
        joined.freeze()
    }
}

/// SRS's play settings that shape the cache.
#[derive(Debug, Clone, Copy)]
pub struct HubConfig {
    pub gop_cache: bool,
    /// Clear the cache when a gop grows past this many packets (0: no cap).
    pub gop_cache_max_frames: usize,
    /// How far (media time) a consumer may fall behind before it skips.
    pub queue_length_ms: i64,
    /// Hard cap on packets held, whatever their timestamps say.
    pub max_packets: usize,
    /// Merged-write latency (SRS's `mw_latency`, media time): consumers are woken when the
    /// unflushed packets span this much. 0 is realtime: every burst is flushed at its end.
    pub merge_ms: i64,
    /// SRS's `mw_msgs`: a batch flushes only with more than this many packets (0 in realtime).
    pub merge_msgs: usize,
}

impl Default for HubConfig {
    fn default() -> HubConfig {
        HubConfig {
            gop_cache: true,
            gop_cache_max_frames: 2500,
            queue_length_ms: 30_000,
            max_packets: 16_384,
            merge_ms: 0,
            merge_msgs: 0,
        }
    }
}

/// SRS's "pure audio" guess: this many audio packets after the last video clears the gop cache.
const PURE_AUDIO_GUESS: u32 = 115;

/// A burst this long is flushed whatever its span (SRS's `SRS_PERF_MW_MSGS`: most packets per write).
pub const MAX_UNFLUSHED: usize = 128;

/// Flushed packets are also joined into one buffer up to this size (larger batches go as they are).
const MAX_JOINED_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Default)]
struct Headers {
    metadata: Option<Bytes>,
    audio: Option<Bytes>,
    video: Option<Bytes>,
}

#[derive(Debug, Default)]
struct State {
    headers: Headers,
    ring: VecDeque<Packet>,
    /// Sequence number of `ring[0]`.
    first_seq: u64,
    /// Consumers see packets before this sequence number; later ones wait for a flush.
    visible_end: u64,
    /// Media time of the oldest packet not yet flushed.
    unflushed_since_ms: Option<i64>,
    /// When the oldest packet not yet flushed arrived (the feeder flushes by then + `merge_ms`).
    unflushed_since: Option<tokio::time::Instant>,
    /// The packets of the last flush (`last_flush_start..visible_end`) joined into one buffer:
    /// consumers caught up with the stream (all of them, normally) take this one `Bytes` instead
    /// of a clone per packet, and write one iovec.
    last_flush_joined: Option<Bytes>,
    /// Where the last flush started (it ended at `visible_end`).
    last_flush_start: u64,
    /// Sequence number of the keyframe that starts the cached gop.
    gop_start: Option<u64>,
    video_cached: bool,
    audio_after_video: u32,
    publishing: bool,
    /// Added to the publisher's timestamps to get the ring's media time (see `push`).
    time_offset: i64,
    /// A new publisher began: its first packet sets `time_offset`.
    rebase: bool,
    closed: bool,
    wakers: Wakers,
    direct: DirectPlayers,
}

impl State {
    fn end_seq(&self) -> u64 {
        self.first_seq + self.ring.len() as u64
    }

    fn unflushed(&self) -> usize {
        (self.end_seq() - self.visible_end) as usize
    }

    /// SRS's merged-write rule: more than `merge_msgs` packets spanning at least `merge_ms`
    /// (or a span gone negative: timestamps jumped back), or a full batch.
    fn flush_due(&self, config: &HubConfig) -> bool {
        let unflushed = self.unflushed();
        let Some(since) = self.unflushed_since_ms else { return false };
        if unflushed >= MAX_UNFLUSHED {
            return true;
        }
        let newest = self.ring.back().map_or(since, |p| p.time_ms);
        let span = newest.saturating_sub(since);
        unflushed > config.merge_msgs && (span >= config.merge_ms || span < 0)
    }

    /// Makes every packet visible; true when there was something to wake consumers for. `join`:
    /// whether anyone reads (with nobody attached, joining would copy the stream for nothing; a
    /// consumer that comes later takes the packets one by one).
    fn flush(&mut self, join: bool) -> bool {
        self.unflushed_since_ms = None;
        self.unflushed_since = None;
        let (start_seq, end_seq) = (self.visible_end, self.end_seq());
        if start_seq == end_seq {
            return false;
        }
        self.visible_end = end_seq;
        self.last_flush_start = start_seq;
        self.last_flush_joined = if join { self.join(start_seq, end_seq) } else { None };
        true
    }

    /// The packets of the last flush: its joined buffer, or the packets themselves.
    fn last_flush_packets(&self) -> Vec<Bytes> {
        if let Some(joined) = &self.last_flush_joined {
            return vec![joined.clone()];
        }
        let start = self.last_flush_start.max(self.first_seq) - self.first_seq;
        let end = self.visible_end - self.first_seq;
        let mut packets = Vec::new();
        self.ring.range(start as usize..end as usize).for_each(|p| p.push_parts(&mut packets));
        packets
    }

    /// One buffer holding packets `start_seq..end_seq` (still in the ring), when worth it.
    fn join(&self, start_seq: u64, end_seq: u64) -> Option<Bytes> {
        if end_seq - start_seq < 2 {
            return None;
        }
        let range = (start_seq - self.first_seq) as usize..(end_seq - self.first_seq) as usize;
        let packets = self.ring.range(range);
        let len: usize = packets.clone().map(Packet::len).sum();
        if len > MAX_JOINED_BYTES {
            return None;
        }
        let mut joined = BytesMut::with_capacity(len);
        for packet in packets {
            for part in [&packet.head, &packet.bytes, &packet.tail] {
                joined.extend_from_slice(part);
            }
        }
        Some(joined.freeze())
    }

    /// Drops what no consumer can still read. `watched`: whether any consumer is attached. With
    /// none, only the gop cache is kept (a new consumer starts there), as SRS, whose queue is per
    /// consumer: an unwatched stream holds one picture group, not `queue_length` of packets, and
    /// its frames' memory is freed (and reused) a picture group after it was written.
    fn trim(&mut self, config: &HubConfig, watched: bool) {
        if !watched {
            let keep_from = self.gop_start.unwrap_or_else(|| self.end_seq());
            let drop = keep_from.saturating_sub(self.first_seq).min(self.ring.len() as u64);
            self.ring.drain(..drop as usize);
            self.first_seq += drop;
        }
        let newest = self.ring.back().map_or(0, |p| p.time_ms);
        while let Some(front) = self.ring.front() {
            let protected = self.gop_start.is_some_and(|gop| self.first_seq >= gop);
            let too_old = newest.saturating_sub(front.time_ms) > config.queue_length_ms
                || front.time_ms > newest.saturating_add(config.queue_length_ms);
            if self.ring.len() > config.max_packets || (too_old && !protected) {
                self.ring.pop_front();
                self.first_seq += 1;
            } else {
                break;
            }
        }
        if self.gop_start.is_some_and(|gop| gop < self.first_seq) {
            self.gop_start = None;
        }
        self.visible_end = self.visible_end.max(self.first_seq);
    }
}

/// Counters readable without the lock.
#[derive(Debug, Default)]
pub struct HubStats {
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    /// Times a consumer fell behind and skipped to a keyframe.
    pub skips: AtomicU64,
    pub consumers: AtomicUsize,
}

#[derive(Debug)]
pub struct Hub {
    state: Mutex<State>,
    config: HubConfig,
    pub stats: HubStats,
}

impl Hub {
    pub fn new(config: HubConfig) -> Arc<Hub> {
        Arc::new(Hub { state: Mutex::default(), config, stats: HubStats::default() })
    }

    /// Delivers a flush (`flushed`) or the close: writes it to directly attached players (those
    /// whose socket does not take it all are handed back to their tasks), then wakes the waiting
    /// consumers and the handed-back players once the lock is released.
    fn deliver(&self, mut state: MutexGuard<'_, State>, flushed: bool) {
        let mut handed_back = Vec::new();
        if flushed && state.direct.attached() > 0 {
            let packets = state.last_flush_packets();
            let end_seq = state.visible_end;
            let realtime = self.config.merge_ms == 0;
            state.direct.write(&packets, end_seq, realtime, &mut handed_back);
        }
        if state.closed {
            let end_seq = state.visible_end;
            state.direct.hand_back_all(end_seq, &mut handed_back);
        }
        let wakers = state.wakers.take();
        drop(state);
        wakers.into_iter().flatten().chain(handed_back).for_each(Waker::wake);
    }

    /// Whether anyone reads the stream (a consumer exists, or a player is written directly).
    fn watched(&self, state: &State) -> bool {
        self.stats.consumers.load(Ordering::Relaxed) > 0 || state.direct.attached() > 0
    }

    /// `State::flush`, joining only when someone reads.
    fn flush_state(&self, state: &mut State) -> bool {
        let watched = self.watched(state);
        state.flush(watched)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned hub only means a consumer panicked mid-read; the state itself stays consistent.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new publisher: SRS resets the meta cache; attached consumers stay and get the new headers in order.
    pub fn start_publish(&self) {
        let mut state = self.lock();
        state.headers = Headers::default();
        state.publishing = true;
        state.rebase = true;
    }

    /// The publisher left: what is left is flushed, the gop cache is cleared, headers stay,
    /// consumers stay attached.
    pub fn stop_publish(&self) {
        let mut state = self.lock();
        state.publishing = false;
        state.gop_start = None;
        state.video_cached = false;
        if self.flush_state(&mut state) {
            self.deliver(state, true);
        }
    }

    pub fn is_publishing(&self) -> bool {
        self.lock().publishing
    }

    /// Ends the hub: consumers drain what is left, then see it closed.
    pub fn close(&self) {
        let mut state = self.lock();
        let flushed = self.flush_state(&mut state);
        state.closed = true;
        self.deliver(state, flushed);
    }

    /// Flushes when SRS's merged-write rule says so (realtime: whenever anything is unflushed).
    /// Feeders call it after each burst they drained from their input.
    pub fn end_burst(&self) {
        let mut state = self.lock();
        let due =
            if self.config.merge_ms == 0 { state.unflushed() > 0 } else { state.flush_due(&self.config) };
        if due && self.flush_state(&mut state) {
            self.deliver(state, true);
        }
    }

    /// Flushes whatever waits (a stalled stream's tail) and wakes consumers.
    pub fn flush(&self) {
        let mut state = self.lock();
        if self.flush_state(&mut state) {
            self.deliver(state, true);
        }
    }

    /// Whether packets wait for a flush.
    #[cfg(test)]
    pub fn has_unflushed(&self) -> bool {
        self.lock().unflushed() > 0
    }

    /// The merged-write latency this hub batches with (0: realtime).
    pub fn merge_latency(&self) -> std::time::Duration {
        std::time::Duration::from_millis(u64::try_from(self.config.merge_ms).unwrap_or(0))
    }

    /// When packets waiting for a flush must go out whatever the rule says: `mw_latency` after
    /// the oldest of them arrived (SRS's consumer waits at most that long too). `None`: none wait.
    pub fn flush_deadline(&self) -> Option<tokio::time::Instant> {
        self.lock().unflushed_since.map(|since| since + self.merge_latency())
    }

    /// Appends a packet; it reaches consumers at the next flush (at once when the packets
    /// waiting already make a batch, in merged-write mode).
    pub fn push(&self, mut packet: Packet) {
        self.stats.packets.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes.fetch_add(packet.len() as u64, Ordering::Relaxed);
        let mut state = self.lock();
        if std::mem::take(&mut state.rebase) {
            // A new publisher's clock starts anew (usually at 0) while the ring may still hold the
            // last publish's packets for players that stayed: its packets continue the ring's
            // timeline, so the old ones age out by `queue_length`. Compared on two clocks, a run
            // of short publishes never looked old and the ring kept them all, up to `max_packets`
            // (megabytes per stream, until the last player left).
            state.time_offset =
                state.ring.back().map_or(0, |last| last.time_ms.saturating_sub(packet.time_ms));
        }
        packet.time_ms = packet.time_ms.saturating_add(state.time_offset);
        let seq = state.end_seq();
        match packet.class {
            PacketClass::Metadata => state.headers.metadata = Some(packet.whole()),
            PacketClass::AudioHeader => state.headers.audio = Some(packet.whole()),
            PacketClass::VideoHeader => state.headers.video = Some(packet.whole()),
            PacketClass::VideoKeyframe => {
                state.gop_start = self.config.gop_cache.then_some(seq);
                state.video_cached = true;
                state.audio_after_video = 0;
            }
            PacketClass::Video => state.audio_after_video = 0,
            PacketClass::Audio => {
                if state.video_cached {
                    state.audio_after_video += 1;
                    if state.audio_after_video > PURE_AUDIO_GUESS {
                        state.gop_start = None;
                        state.video_cached = false;
                    }
                }
            }
        }
        let cap = self.config.gop_cache_max_frames as u64;
        if cap > 0 && state.gop_start.is_some_and(|gop| seq - gop >= cap) {
            state.gop_start = None;
        }
        if state.unflushed_since_ms.is_none() {
            state.unflushed_since_ms = Some(packet.time_ms);
            state.unflushed_since = Some(tokio::time::Instant::now());
        }
        state.ring.push_back(packet);
        let watched = self.watched(&state);
        state.trim(&self.config, watched);
        let batched = self.config.merge_ms > 0 && state.flush_due(&self.config);
        let full = state.unflushed() >= MAX_UNFLUSHED;
        if (batched || full) && self.flush_state(&mut state) {
            self.deliver(state, true);
        }
    }

    /// A consumer positioned at the gop cache (or the live edge without one).
    pub fn subscribe(self: &Arc<Hub>) -> Consumer {
        let state = self.lock();
        let next_seq =
            if state.publishing { state.gop_start.unwrap_or(state.end_seq()) } else { state.end_seq() };
        let first_take = Some(state.end_seq());
        // Counted before the lock goes, so no push trims the gop cache from under this consumer.
        self.stats.consumers.fetch_add(1, Ordering::Relaxed);
        drop(state);
        let cursor = Cursor { next_seq, headers_due: true, skips: 0, limit: None, first_take };
        Consumer { hub: Arc::clone(self), cursor, waker_slot: None, direct_sink: None, direct_slot: None }
    }

    pub fn consumer_count(&self) -> usize {
        self.stats.consumers.load(Ordering::Relaxed)
    }

    /// The media a consumer joining now gets first (the sequence headers and the gop cache), for
    /// a format whose header announces its tracks before any of them (FLV).
    pub fn tracks_at_join(&self) -> Tracks {
        let state = self.lock();
        let mut tracks = Tracks { audio: false, video: false };
        if !state.publishing {
            return tracks;
        }
        tracks.audio = state.headers.audio.is_some();
        tracks.video = state.headers.video.is_some();
        if let Some(gop_start) = state.gop_start {
            let start = gop_start.saturating_sub(state.first_seq) as usize;
            for packet in state.ring.iter().skip(start) {
                match packet.class {
                    PacketClass::Audio | PacketClass::AudioHeader => tracks.audio = true,
                    PacketClass::Video | PacketClass::VideoKeyframe | PacketClass::VideoHeader => {
                        tracks.video = true
                    }
                    PacketClass::Metadata => {}
                }
                if tracks.audio && tracks.video {
                    break;
                }
            }
        }
        tracks
    }
}

/// Whether a stream has shown audio and video (`Hub::tracks_at_join`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracks {
    pub audio: bool,
    pub video: bool,
}

/// The hub was closed and everything in it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stream closed")]
pub struct Closed;

/// One player's cursor into a hub.
#[derive(Debug)]
pub struct Consumer {
    hub: Arc<Hub>,
    cursor: Cursor,
    /// Where this consumer's waker waits in the hub (generation, index).
    waker_slot: Option<(u64, usize)>,
    /// The player's socket, when the hub may write to it directly (`direct` module).
    direct_sink: Option<Arc<dyn DirectSink>>,
    /// The hub's slot for this consumer while attached (or handed back and not yet resumed).
    direct_slot: Option<usize>,
}

/// A consumer's position, apart from its hub so it can move while the hub is locked.
#[derive(Debug)]
struct Cursor {
    next_seq: u64,
    headers_due: bool,
    skips: u64,
    /// A play that ends after this much media (`Consumer::limit_play`).
    limit: Option<PlayLimit>,
    /// Until the first take: the ring's end when the consumer subscribed. The first take goes
    /// that far even past the last flush, so a new player's whole gop cache (its keyframe may be
    /// newer than the last flush) goes out at once.
    first_take: Option<u64>,
}

/// SRS's play duration: media time counted as the sum of forward steps between the packets
/// handed over, so a jump back does not count and a republish does not restart it.
#[derive(Debug, Clone, Copy)]
struct PlayLimit {
    duration_ms: i64,
    played_ms: i64,
    last_ms: Option<i64>,
}

impl PlayLimit {
    fn reached(&self) -> bool {
        self.played_ms >= self.duration_ms
    }

    fn count(&mut self, time_ms: i64) {
        let step = self.last_ms.map_or(0, |last| time_ms.saturating_sub(last).max(0));
        self.played_ms = self.played_ms.saturating_add(step);
        self.last_ms = Some(time_ms);
    }
}

impl Consumer {
    /// Appends what is ready (up to `max` packets) to `out`; returns how many were added.
    pub fn poll_batch(&mut self, out: &mut Vec<Bytes>, max: usize) -> usize {
        let state = self.hub.lock();
        self.cursor.take(&state, &self.hub.stats, out, max)
    }

    /// Times this consumer fell behind and skipped to a keyframe.
    pub fn skips(&self) -> u64 {
        self.cursor.skips
    }

    /// Appends what is ready (up to `max`), or registers to be woken by the next flush;
    /// `Err(Closed)` once the hub is closed and drained.
    pub fn poll_recv_batch(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut Vec<Bytes>,
        max: usize,
    ) -> Poll<Result<usize, Closed>> {
        let mut state = self.hub.lock();
        let before = out.len();
        if let Some(index) = self.direct_slot {
            if state.direct.still_attached(index, cx.waker()) {
                return Poll::Pending;
            }
            self.direct_slot = None;
            self.cursor.resume(&mut state, index, out);
        }
        let n = (out.len() - before) + self.cursor.take(&state, &self.hub.stats, out, max);
        if n > 0 {
            return Poll::Ready(Ok(n));
        }
        if state.closed || self.cursor.limit.is_some_and(|limit| limit.reached()) {
            return Poll::Ready(Err(Closed));
        }
        match &self.direct_sink {
            // Caught up with nothing owed: the hub writes from now on.
            Some(sink) if !self.cursor.headers_due && self.cursor.next_seq == state.visible_end => {
                self.direct_slot = Some(state.direct.attach(Arc::clone(sink), cx.waker()));
            }
            _ => self.waker_slot = Some(state.wakers.register(self.waker_slot, cx.waker())),
        }
        Poll::Pending
    }

    /// Ends the play (as if the hub closed) once `duration_ms` of media was handed over: SRS's
    /// play duration (`play(name, start, duration)`). Such a player is not written directly.
    pub fn limit_play(&mut self, duration_ms: i64) {
        self.cursor.limit = Some(PlayLimit { duration_ms, played_ms: 0, last_ms: None });
        self.direct_sink = None;
    }

    /// Whether the play's duration (`limit_play`) was reached.
    pub fn play_time_reached(&self) -> bool {
        self.cursor.limit.is_some_and(|limit| limit.reached())
    }

    /// Lets the hub write this player's batches directly to `sink` whenever it is caught up.
    /// The player's task must then write nothing itself without calling `take_back` first.
    pub fn write_directly(&mut self, sink: Arc<dyn DirectSink>) {
        if self.cursor.limit.is_none() {
            self.direct_sink = Some(sink);
        }
    }

    /// Takes writing back from the hub, before the task writes anything of its own (or pauses):
    /// appends what the hub could not write to `out`; the cursor goes on after what it did write.
    /// Reattaches at the next `poll_recv_batch` that finds the player caught up.
    pub fn take_back(&mut self, out: &mut Vec<Bytes>) {
        if let Some(index) = self.direct_slot.take() {
            let mut state = self.hub.lock();
            self.cursor.resume(&mut state, index, out);
        }
    }

    /// Whether the hub currently writes this player's batches.
    pub fn is_direct(&self) -> bool {
        self.direct_slot.is_some()
    }

    /// Waits until something is ready, then appends it; `Err(Closed)` once the hub is closed and drained.
    pub async fn recv_batch(&mut self, out: &mut Vec<Bytes>, max: usize) -> Result<usize, Closed> {
        std::future::poll_fn(|cx| self.poll_recv_batch(cx, out, max)).await
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }
}

impl Cursor {
    /// Takes over from the hub's direct writes for slot `index`: what it could not write goes to
    /// `out`, and the cursor goes on after what it did write.
    fn resume(&mut self, state: &mut State, index: usize, out: &mut Vec<Bytes>) {
        let visible_end = state.visible_end;
        let back = state.direct.release(index, visible_end);
        self.next_seq = back.resume_seq;
        out.extend(back.unwritten);
    }

    fn take(&mut self, state: &State, stats: &HubStats, out: &mut Vec<Bytes>, max: usize) -> usize {
        let before = out.len();
        if self.next_seq < state.first_seq {
            // Fell out of the ring: skip to the newest keyframe and resend the headers.
            self.skips += 1;
            stats.skips.fetch_add(1, Ordering::Relaxed);
            self.next_seq = state.gop_start.unwrap_or(state.end_seq());
            self.headers_due = true;
        }
        if self.headers_due && state.publishing {
            let headers = &state.headers;
            out.extend([&headers.metadata, &headers.audio, &headers.video].into_iter().flatten().cloned());
            self.headers_due = false;
        }
        let visible_end = self.first_take.take().map_or(state.visible_end, |end| end.max(state.visible_end));
        if let Some(limit) = self.limit.as_mut() {
            return Self::take_limited(limit, &mut self.next_seq, state, visible_end, out, max, before);
        }
        if let Some(joined) =
            state.last_flush_joined.as_ref().filter(|_| self.next_seq == state.last_flush_start)
        {
            if out.len() - before < max {
                out.push(joined.clone());
                self.next_seq = state.visible_end;
            }
        }
        let start = (self.next_seq - state.first_seq) as usize;
        let available = visible_end.saturating_sub(self.next_seq) as usize;
        let take = available.min(max.saturating_sub(out.len() - before));
        state.ring.range(start..start + take).for_each(|p| p.push_parts(out));
        self.next_seq += take as u64;
        out.len() - before
    }

    /// Packets one by one (not the joined flush), up to the one that reaches the play's duration.
    fn take_limited(
        limit: &mut PlayLimit,
        next_seq: &mut u64,
        state: &State,
        visible_end: u64,
        out: &mut Vec<Bytes>,
        max: usize,
        before: usize,
    ) -> usize {
        while !limit.reached() && *next_seq < visible_end && out.len() - before < max {
            let Some(packet) = state.ring.get((*next_seq - state.first_seq) as usize) else { break };
            limit.count(packet.time_ms);
            packet.push_parts(out);
            *next_seq += 1;
        }
        out.len() - before
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let mut state = self.hub.lock();
        state.wakers.unregister(self.waker_slot);
        if let Some(index) = self.direct_slot {
            let visible_end = state.visible_end;
            state.direct.release(index, visible_end);
        }
        drop(state);
        self.hub.stats.consumers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(class: PacketClass, time_ms: i64, tag: &str) -> Packet {
        Packet::new(Bytes::copy_from_slice(tag.as_bytes()), time_ms, class)
    }

    fn names(out: &[Bytes]) -> Vec<String> {
        out.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()
    }

    fn publish_gop(hub: &Hub) {
        hub.start_publish();
        hub.push(packet(PacketClass::Metadata, 0, "meta"));
        hub.push(packet(PacketClass::VideoHeader, 0, "vsh"));
        hub.push(packet(PacketClass::AudioHeader, 0, "ash"));
        hub.push(packet(PacketClass::VideoKeyframe, 0, "k1"));
        hub.push(packet(PacketClass::Audio, 10, "a1"));
        hub.push(packet(PacketClass::Video, 40, "p1"));
        hub.push(packet(PacketClass::VideoKeyframe, 80, "k2"));
        hub.push(packet(PacketClass::Video, 120, "p2"));
        hub.end_burst();
    }

    #[test]
    fn late_joiner_gets_headers_then_last_gop() {
        let hub = Hub::new(HubConfig::default());
        publish_gop(&hub);
        let mut consumer = hub.subscribe();
        let mut out = Vec::new();
        consumer.poll_batch(&mut out, 100);
        assert_eq!(names(&out), ["meta", "ash", "vsh", "k2", "p2"]);
    }

    #[test]
    fn without_gop_cache_a_joiner_starts_live() {
        let hub = Hub::new(HubConfig { gop_cache: false, ..HubConfig::default() });
        publish_gop(&hub);
        let mut consumer = hub.subscribe();
        hub.push(packet(PacketClass::Video, 160, "p3"));
        hub.end_burst();
        let mut out = Vec::new();
        consumer.poll_batch(&mut out, 100);
        assert_eq!(names(&out), ["meta", "ash", "vsh", "p3"]);
    }

    #[test]
    fn audio_only_streams_are_not_cached() {
        let hub = Hub::new(HubConfig::default());
        hub.start_publish();
        hub.push(packet(PacketClass::AudioHeader, 0, "ash"));
        hub.push(packet(PacketClass::Audio, 0, "a1"));
        hub.end_burst();
        let mut consumer = hub.subscribe();
        let mut out = Vec::new();
        consumer.poll_batch(&mut out, 100);
        assert_eq!(names(&out), ["ash"]);
    }

    #[test]
    fn a_joiner_learns_which_tracks_the_stream_has_shown() {
        let hub = Hub::new(HubConfig::default());
        assert_eq!(hub.tracks_at_join(), Tracks { audio: false, video: false }, "not publishing");
        hub.start_publish();
        hub.push(packet(PacketClass::VideoHeader, 0, "vsh"));
        hub.push(packet(PacketClass::VideoKeyframe, 0, "k1"));
        hub.end_burst();
        assert_eq!(hub.tracks_at_join(), Tracks { audio: false, video: true }, "video only");
        // Audio without a sequence header (MP3) shows in the gop cache.
        hub.push(packet(PacketClass::Audio, 10, "mp3"));
        hub.end_burst();
        assert_eq!(hub.tracks_at_join(), Tracks { audio: true, video: true });

        let audio_only = Hub::new(HubConfig::default());
        audio_only.start_publish();
        audio_only.push(packet(PacketClass::AudioHeader, 0, "ash"));
        audio_only.push(packet(PacketClass::Audio, 0, "a1"));
        audio_only.end_burst();
        assert_eq!(audio_only.tracks_at_join(), Tracks { audio: true, video: false });
    }

    #[test]
    fn slow_consumer_skips_to_newest_keyframe_and_is_counted() {
        let config = HubConfig { queue_length_ms: 1_000, ..HubConfig::default() };
        let hub = Hub::new(config);
        publish_gop(&hub);
        let mut slow = hub.subscribe();
        for i in 0..100 {
            let class = if i % 25 == 0 { PacketClass::VideoKeyframe } else { PacketClass::Video };
            hub.push(packet(class, 200 + i * 40, &format!("f{i}")));
        }
        hub.end_burst();
        let mut out = Vec::new();
        slow.poll_batch(&mut out, 1000);
        assert_eq!(slow.skips(), 1);
        assert_eq!(hub.stats.skips.load(Ordering::Relaxed), 1);
        assert_eq!(names(&out)[..4], ["meta", "ash", "vsh", "f75"]);
        assert_eq!(out.len(), 3 + 25);
    }

    #[test]
    fn gop_cache_cap_clears_the_cache() {
        let hub = Hub::new(HubConfig { gop_cache_max_frames: 3, ..HubConfig::default() });
        hub.start_publish();
        hub.push(packet(PacketClass::VideoKeyframe, 0, "k"));
        for i in 0..5 {
            hub.push(packet(PacketClass::Video, 40 * (i + 1), "p"));
        }
        hub.end_burst();
        let mut consumer = hub.subscribe();
        let mut out = Vec::new();
        consumer.poll_batch(&mut out, 100);
        assert!(out.is_empty(), "a gop past the cap is not served: {:?}", names(&out));
    }

    #[test]
    fn a_run_of_short_publishes_ages_out_of_the_ring() {
        // Players stay attached while publishers come and go, each starting its clock at 0.
        let hub = Hub::new(HubConfig { queue_length_ms: 1_000, ..HubConfig::default() });
        let mut player = hub.subscribe();
        let mut out = Vec::new();
        for _ in 0..20 {
            hub.start_publish();
            hub.push(packet(PacketClass::VideoHeader, 0, "vsh"));
            for i in 0..10 {
                let class = if i == 0 { PacketClass::VideoKeyframe } else { PacketClass::Video };
                hub.push(packet(class, i * 40, "f"));
            }
            hub.end_burst();
            hub.stop_publish();
            out.clear();
            player.poll_batch(&mut out, 1000);
        }
        // 20 publishes of 400 ms: the ring holds about the last second, not all 220 packets.
        let held = hub.lock().ring.len();
        assert!(held <= 3 * 11, "the ring still holds {held} packets of earlier publishes");
        // The player read every packet as it came and was never made to skip.
        assert_eq!(player.skips(), 0);
        assert_eq!(hub.stats.packets.load(Ordering::Relaxed), 220);
    }

    #[test]
    fn an_unwatched_stream_holds_its_gop_cache_only_and_a_player_holds_the_queue() {
        let hub = Hub::new(HubConfig::default());
        hub.start_publish();
        hub.push(packet(PacketClass::VideoHeader, 0, "vsh"));
        // Three 1 s picture groups of 25 frames, well within the 30 s queue.
        let push_gop = |gop: i64, name: &str| {
            for i in 0..25 {
                let class = if i == 0 { PacketClass::VideoKeyframe } else { PacketClass::Video };
                hub.push(packet(class, gop * 1000 + i * 40, name));
            }
            hub.end_burst();
        };
        push_gop(0, "g0");
        push_gop(1, "g1");
        assert_eq!(hub.lock().ring.len(), 25, "nobody watches: only the last picture group stays");
        let mut player = hub.subscribe();
        let mut out = Vec::new();
        player.poll_batch(&mut out, 1000);
        assert_eq!(names(&out)[1..], vec!["g1"; 25][..], "the joiner gets the header, then the cached gop");
        // With a player attached, the ring keeps the queue (what a slow player may still read).
        push_gop(2, "g2");
        push_gop(3, "g3");
        assert_eq!(hub.lock().ring.len(), 75);
        drop(player);
        push_gop(4, "g4");
        assert_eq!(hub.lock().ring.len(), 25, "the last player left: back to the gop cache");
        // Without a gop cache, an unwatched stream holds nothing at all.
        let hub = Hub::new(HubConfig { gop_cache: false, ..HubConfig::default() });
        hub.start_publish();
        for i in 0..50 {
            hub.push(packet(
                if i % 25 == 0 { PacketClass::VideoKeyframe } else { PacketClass::Video },
                i * 40,
                "f",
            ));
        }
        assert_eq!(hub.lock().ring.len(), 0);
    }

    fn batched() -> HubConfig {
        HubConfig { merge_ms: 350, merge_msgs: 8, ..HubConfig::default() }
    }

    #[test]
    fn realtime_packets_wait_for_the_end_of_their_burst() {
        let hub = Hub::new(HubConfig::default());
        hub.start_publish();
        let mut consumer = hub.subscribe();
        hub.push(packet(PacketClass::VideoKeyframe, 0, "k"));
        hub.push(packet(PacketClass::Audio, 0, "a"));
        let mut out = Vec::new();
        assert_eq!(consumer.poll_batch(&mut out, 100), 0, "nothing visible mid-burst");
        assert!(hub.has_unflushed());
        hub.end_burst();
        consumer.poll_batch(&mut out, 100);
        assert_eq!(names(&out), ["ka"], "a caught-up consumer takes the flush as one buffer");
        assert!(!hub.has_unflushed());
    }

    #[test]
    fn consumers_behind_the_last_flush_take_packets_one_by_one() {
        let hub = Hub::new(HubConfig::default());
        hub.start_publish();
        let mut behind = hub.subscribe();
        hub.push(packet(PacketClass::VideoKeyframe, 0, "k"));
        hub.end_burst();
        let mut caught_up = hub.subscribe();
        assert_eq!(caught_up.poll_batch(&mut Vec::new(), 100), 1, "the gop cache: k");
        hub.push(packet(PacketClass::Video, 40, "p1"));
        hub.push(packet(PacketClass::Video, 80, "p2"));
        hub.end_burst();
        let (mut out_behind, mut out_caught_up) = (Vec::new(), Vec::new());
        behind.poll_batch(&mut out_behind, 100);
        caught_up.poll_batch(&mut out_caught_up, 100);
        assert_eq!(names(&out_behind), ["k", "p1", "p2"]);
        assert_eq!(names(&out_caught_up), ["p1p2"]);
        // Every buffer handed out after the first flush is the hub's: no copy per consumer.
        let mut again = Vec::new();
        let mut third = hub.subscribe();
        third.poll_batch(&mut again, 100);
        hub.push(packet(PacketClass::Video, 120, "p3"));
        hub.push(packet(PacketClass::Video, 160, "p4"));
        hub.end_burst();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        caught_up.poll_batch(&mut a, 100);
        third.poll_batch(&mut b, 100);
        assert_eq!(a[0].as_ptr(), b[0].as_ptr(), "one joined buffer shared by both");
    }

    #[test]
    fn merged_writes_flush_past_mw_msgs_and_mw_latency() {
        let hub = Hub::new(batched());
        hub.start_publish();
        let mut consumer = hub.subscribe();
        let mut out = Vec::new();
        // 25 fps: the span reaches 350 ms at the tenth frame (0..=360 ms), and 10 > mw_msgs.
        for i in 0..9 {
            hub.push(packet(PacketClass::Video, i * 40, "p"));
            hub.end_burst();
        }
        assert_eq!(consumer.poll_batch(&mut out, 100), 0, "320 ms of media is not a batch yet");
        hub.push(packet(PacketClass::Video, 360, "p"));
        assert_eq!(consumer.poll_batch(&mut out, 100), 1, "the tenth packet completes the batch");
        assert_eq!(names(&out), ["pppppppppp"]);
        // Many packets at one timestamp: the span rule holds them, the count cap does not.
        for _ in 0..MAX_UNFLUSHED - 1 {
            hub.push(packet(PacketClass::Audio, 400, "a"));
        }
        hub.end_burst();
        assert_eq!(consumer.poll_batch(&mut out, 1000), 0);
        hub.push(packet(PacketClass::Audio, 400, "a"));
        out.clear();
        assert_eq!(consumer.poll_batch(&mut out, 1000), 1);
        assert_eq!(out[0].len(), MAX_UNFLUSHED);
    }

    #[test]
    fn few_messages_wait_for_mw_msgs_and_a_jump_back_flushes() {
        let hub = Hub::new(batched());
        hub.start_publish();
        let mut consumer = hub.subscribe();
        let mut out = Vec::new();
        hub.push(packet(PacketClass::Audio, 0, "a"));
        hub.push(packet(PacketClass::Audio, 1000, "a"));
        assert_eq!(consumer.poll_batch(&mut out, 100), 0, "two packets are not more than mw_msgs = 8");
        for i in 0..7 {
            hub.push(packet(PacketClass::Audio, 2000 + i, "a"));
        }
        assert_eq!(consumer.poll_batch(&mut out, 100), 1);
        assert_eq!(out[0].len(), 9, "nine one-byte packets");
        for i in 0..8 {
            hub.push(packet(PacketClass::Audio, 5000 - i, "b"));
        }
        assert_eq!(consumer.poll_batch(&mut out, 100), 0, "eight packets, not more than mw_msgs");
        hub.push(packet(PacketClass::Audio, 4000, "b"));
        assert_eq!(consumer.poll_batch(&mut out, 100), 1, "a span gone negative counts as a full one");
    }

    #[test]
    fn a_stalled_tail_is_flushed_on_demand_and_at_unpublish() {
        let hub = Hub::new(batched());
        hub.start_publish();
        let mut consumer = hub.subscribe();
        let mut out = Vec::new();
        hub.push(packet(PacketClass::VideoKeyframe, 0, "k"));
        assert_eq!(hub.merge_latency(), std::time::Duration::from_millis(350));
        assert_eq!(consumer.poll_batch(&mut out, 100), 0);
        hub.flush();
        assert_eq!(consumer.poll_batch(&mut out, 100), 1);
        hub.push(packet(PacketClass::Video, 40, "p"));
        hub.stop_publish();
        assert_eq!(consumer.poll_batch(&mut out, 100), 1, "the publisher's last packets reach players");
    }

    #[test]
    fn a_new_consumer_takes_the_gop_cache_at_once_even_before_its_flush() {
        let hub = Hub::new(batched());
        hub.start_publish();
        hub.push(packet(PacketClass::VideoKeyframe, 0, "k"));
        hub.push(packet(PacketClass::Video, 40, "p"));
        let mut early = hub.subscribe();
        let mut out = Vec::new();
        early.poll_batch(&mut out, 100);
        assert_eq!(names(&out), ["k", "p"], "not flushed yet, but a new player's first batch");
        hub.push(packet(PacketClass::Video, 80, "p2"));
        out.clear();
        assert_eq!(early.poll_batch(&mut out, 100), 0, "from then on, flushes pace it");
    }

    #[test]
    fn a_limited_play_ends_after_its_duration_of_media() {
        let hub = Hub::new(HubConfig::default());
        hub.start_publish();
        let mut consumer = hub.subscribe();
        consumer.limit_play(100);
        for i in 0..10 {
            hub.push(packet(PacketClass::Video, 1000 + i * 40, &format!("f{i}")));
        }
        hub.end_burst();
        let mut out = Vec::new();
        consumer.poll_batch(&mut out, 100);
        assert_eq!(names(&out), ["f0", "f1", "f2", "f3"], "0, 40, 80, 120 ms: the fourth reaches 100 ms");
        assert!(consumer.play_time_reached());
        let mut cx = std::task::Context::from_waker(Waker::noop());
        assert_eq!(consumer.poll_recv_batch(&mut cx, &mut out, 100), Poll::Ready(Err(Closed)));
    }

    #[tokio::test]
    async fn waiting_consumer_wakes_on_push_and_sees_close() {
        let hub = Hub::new(HubConfig::default());
        hub.start_publish();
        let mut consumer = hub.subscribe();
        let pusher = Arc::clone(&hub);
        let task = tokio::spawn(async move {
            pusher.push(packet(PacketClass::VideoKeyframe, 0, "k"));
            pusher.close();
        });
        let mut out = Vec::new();
        assert!(consumer.recv_batch(&mut out, 10).await.is_ok());
        task.await.unwrap();
        assert_eq!(names(&out), ["k"]);
        out.clear();
        assert_eq!(consumer.recv_batch(&mut out, 10).await, Err(Closed));
    }
}
