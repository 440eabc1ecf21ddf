//! Per-stream fan-out to players: one shared ring of pre-serialized packets, a cursor per consumer.
//!
//! The publisher appends each packet once (already serialized for one output format); every
//! consumer reads the same `Bytes` through its own cursor, so a frame costs one append however
//! many players there are. The ring doubles as the gop cache (new consumers start at the last
//! keyframe) and as each consumer's bounded queue: a consumer that falls out of the ring skips to
//! the newest keyframe, and the skip is counted. Sequence headers and metadata are kept apart and
//! sent first, in SRS's order (metadata, audio, video).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::Notify;

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
    pub bytes: Bytes,
    pub time_ms: i64,
    pub class: PacketClass,
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
}

impl Default for HubConfig {
    fn default() -> HubConfig {
        HubConfig {
            gop_cache: true,
            gop_cache_max_frames: 2500,
            queue_length_ms: 30_000,
            max_packets: 16_384,
        }
    }
}

/// SRS's "pure audio" guess: this many audio packets after the last video clears the gop cache.
const PURE_AUDIO_GUESS: u32 = 115;

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
    /// Sequence number of the keyframe that starts the cached gop.
    gop_start: Option<u64>,
    video_cached: bool,
    audio_after_video: u32,
    publishing: bool,
    closed: bool,
}

impl State {
    fn end_seq(&self) -> u64 {
        self.first_seq + self.ring.len() as u64
    }

    fn trim(&mut self, config: &HubConfig) {
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
    notify: Notify,
    config: HubConfig,
    pub stats: HubStats,
}

impl Hub {
    pub fn new(config: HubConfig) -> Arc<Hub> {
        Arc::new(Hub { state: Mutex::default(), notify: Notify::new(), config, stats: HubStats::default() })
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
    }

    /// The publisher left: the gop cache is cleared, headers stay, consumers stay attached.
    pub fn stop_publish(&self) {
        let mut state = self.lock();
        state.publishing = false;
        state.gop_start = None;
        state.video_cached = false;
    }

    pub fn is_publishing(&self) -> bool {
        self.lock().publishing
    }

    /// Ends the hub: consumers drain what is left, then see it closed.
    pub fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
    }

    pub fn push(&self, packet: Packet) {
        self.stats.packets.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes.fetch_add(packet.bytes.len() as u64, Ordering::Relaxed);
        {
            let mut state = self.lock();
            let seq = state.end_seq();
            match packet.class {
                PacketClass::Metadata => state.headers.metadata = Some(packet.bytes.clone()),
                PacketClass::AudioHeader => state.headers.audio = Some(packet.bytes.clone()),
                PacketClass::VideoHeader => state.headers.video = Some(packet.bytes.clone()),
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
            state.ring.push_back(packet);
            state.trim(&self.config);
        }
        self.notify.notify_waiters();
    }

    /// A consumer positioned at the gop cache (or the live edge without one).
    pub fn subscribe(self: &Arc<Hub>) -> Consumer {
        let state = self.lock();
        let next_seq =
            if state.publishing { state.gop_start.unwrap_or(state.end_seq()) } else { state.end_seq() };
        drop(state);
        self.stats.consumers.fetch_add(1, Ordering::Relaxed);
        Consumer { hub: Arc::clone(self), next_seq, headers_due: true, skips: 0, taken_span: None }
    }

    pub fn consumer_count(&self) -> usize {
        self.stats.consumers.load(Ordering::Relaxed)
    }
}

/// The hub was closed and everything in it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("stream closed")]
pub struct Closed;

/// One player's cursor into a hub.
#[derive(Debug)]
pub struct Consumer {
    hub: Arc<Hub>,
    next_seq: u64,
    headers_due: bool,
    pub skips: u64,
    /// Media times of the first and last ring packets taken since `take_span_ms`.
    taken_span: Option<(i64, i64)>,
}

impl Consumer {
    /// Appends what is ready (up to `max` packets) to `out`; returns how many were added.
    pub fn poll_batch(&mut self, out: &mut Vec<Bytes>, max: usize) -> usize {
        let before = out.len();
        let state = self.hub.lock();
        if self.next_seq < state.first_seq {
            // Fell out of the ring: skip to the newest keyframe and resend the headers.
            self.skips += 1;
            self.hub.stats.skips.fetch_add(1, Ordering::Relaxed);
            self.next_seq = state.gop_start.unwrap_or(state.end_seq());
            self.headers_due = true;
        }
        if self.headers_due && state.publishing {
            let headers = &state.headers;
            out.extend([&headers.metadata, &headers.audio, &headers.video].into_iter().flatten().cloned());
            self.headers_due = false;
        }
        let start = (self.next_seq - state.first_seq) as usize;
        let available = state.ring.len().saturating_sub(start);
        let take = available.min(max.saturating_sub(out.len() - before));
        let taken = state.ring.range(start..start + take);
        if let (Some(first), Some(last)) = (taken.clone().next(), taken.clone().next_back()) {
            let span_start = self.taken_span.map_or(first.time_ms, |(start, _)| start);
            self.taken_span = Some((span_start, last.time_ms));
        }
        out.extend(taken.map(|p| p.bytes.clone()));
        self.next_seq += take as u64;
        out.len() - before
    }

    /// The media time covered by the packets taken since the last call (0 for none or one).
    pub fn take_span_ms(&mut self) -> i64 {
        self.taken_span.take().map_or(0, |(first, last)| last.saturating_sub(first))
    }

    /// Waits until something is ready, then appends it; `Err(Closed)` once the hub is closed and drained.
    pub async fn recv_batch(&mut self, out: &mut Vec<Bytes>, max: usize) -> Result<usize, Closed> {
        let hub = Arc::clone(&self.hub);
        loop {
            let notified = hub.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let n = self.poll_batch(out, max);
            if n > 0 {
                return Ok(n);
            }
            if hub.lock().closed {
                return Err(Closed);
            }
            notified.await;
        }
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        self.hub.stats.consumers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(class: PacketClass, time_ms: i64, tag: &str) -> Packet {
        Packet { bytes: Bytes::copy_from_slice(tag.as_bytes()), time_ms, class }
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
        let mut consumer = hub.subscribe();
        let mut out = Vec::new();
        consumer.poll_batch(&mut out, 100);
        assert_eq!(names(&out), ["ash"]);
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
        let mut out = Vec::new();
        slow.poll_batch(&mut out, 1000);
        assert_eq!(slow.skips, 1);
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
        let mut consumer = hub.subscribe();
        let mut out = Vec::new();
        consumer.poll_batch(&mut out, 100);
        assert!(out.is_empty(), "a gop past the cap is not served: {:?}", names(&out));
    }

    #[test]
    fn span_of_taken_packets() {
        let hub = Hub::new(HubConfig::default());
        publish_gop(&hub);
        let mut consumer = hub.subscribe();
        let mut out = Vec::new();
        consumer.poll_batch(&mut out, 1);
        assert_eq!(consumer.take_span_ms(), 0, "the headers fill a batch of one: no ring packet taken");
        consumer.poll_batch(&mut out, 100);
        assert_eq!(consumer.take_span_ms(), 40, "k2 at 80 ms (taken first) .. p2 at 120 ms");
        assert_eq!(consumer.take_span_ms(), 0);
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
