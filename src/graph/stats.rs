//! Counters the control plane reads: per live stream (frames, bytes, its description) and per
//! graph edge (events, bytes, undelivered events, queue depth).
//!
//! Written on the data path with relaxed atomics (one add per event); read by the API and
//! `/metrics` without stopping anything. The description is behind a mutex touched only when a
//! sequence header changes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::media::{MediaEvent, StreamDescription};

/// One publication's counters.
#[derive(Debug)]
pub struct StreamStats {
    pub frames: AtomicU64,
    /// Media payload bytes received from the publisher.
    pub bytes: AtomicU64,
    pub started_at: SystemTime,
    description: Mutex<Option<Arc<StreamDescription>>>,
}

impl Default for StreamStats {
    fn default() -> StreamStats {
        StreamStats {
            frames: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            started_at: SystemTime::now(),
            description: Mutex::default(),
        }
    }
}

impl StreamStats {
    pub fn record(&self, event: &MediaEvent) {
        match event {
            MediaEvent::Frame(frame) => {
                self.frames.fetch_add(1, Ordering::Relaxed);
                self.bytes.fetch_add(frame.data.len() as u64, Ordering::Relaxed);
            }
            MediaEvent::Description(description) => {
                *self.description.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(description));
            }
            MediaEvent::Metadata(_) | MediaEvent::End => {}
        }
    }

    /// The latest description (codecs, resolution, sample rate), once the publisher sent one.
    pub fn description(&self) -> Option<Arc<StreamDescription>> {
        self.description.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// One graph edge's counters, summed over every stream that used it.
#[derive(Debug, Default)]
pub struct EdgeStats {
    pub events: AtomicU64,
    pub frames: AtomicU64,
    pub bytes: AtomicU64,
    /// Events the child did not take because it had ended.
    pub drops: AtomicU64,
    /// Events waiting in the edge's channel after the last send (a gauge).
    pub queue_depth: AtomicU64,
}

impl EdgeStats {
    pub fn record(&self, delivered: bool, frame_bytes: Option<u64>, queued: usize) {
        if !delivered {
            self.drops.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.events.fetch_add(1, Ordering::Relaxed);
        if let Some(bytes) = frame_bytes {
            self.frames.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
        self.queue_depth.store(queued as u64, Ordering::Relaxed);
    }
}

/// A WebRTC peer's transport counters, written by the UDP worker that owns it and read by the
/// API (per client, summed per stream) and `/metrics`.
#[derive(Debug, Default)]
pub struct RtcPeerStats {
    /// Packets the peer asked for again (NACK), and those sent again from the stream's ring.
    pub nacks: AtomicU64,
    pub retransmits: AtomicU64,
    /// Keyframe requests: PLI/FIR from a player, or sent to a publisher.
    pub plis: AtomicU64,
    /// The UDP worker (one per `SO_REUSEPORT` socket) the peer lives on.
    pub worker: AtomicU64,
    /// The peer came over ICE-TCP.
    pub tcp: std::sync::atomic::AtomicBool,
    /// RTP packets the UDP worker SRTP-protected itself for a player (the send path of prebuilt
    /// packets; 0 when they went through the `rtc` crate's pipeline).
    pub srtp_packets: AtomicU64,
    /// A player's session left the `rtc` crate after DTLS (`servers::rtc_slim`): its consent
    /// checks and RTCP are the worker's own.
    pub slim: std::sync::atomic::AtomicBool,
    /// RTCP packets (compound) of a player the slim state decrypted and acted on, and the
    /// receiver reports among them.
    pub slim_rtcp: AtomicU64,
    pub receiver_reports: AtomicU64,
    /// DTLS handshake flights (`codec::rtp::dtls_flights`) the peer sent, and those it sent again
    /// (one of ours was lost or late, or its own); ours, and ours sent again.
    pub dtls_flights_in: AtomicU64,
    pub dtls_repeats_in: AtomicU64,
    pub dtls_flights_out: AtomicU64,
    pub dtls_repeats_out: AtomicU64,
    /// Microseconds from the session's start (its offer answered) to the peer's first valid
    /// binding, and to ICE and DTLS done; 0 until then.
    pub first_binding_us: AtomicU64,
    pub connected_us: AtomicU64,
}

impl RtcPeerStats {
    /// (nacks, retransmits, plis).
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.nacks.load(Ordering::Relaxed),
            self.retransmits.load(Ordering::Relaxed),
            self.plis.load(Ordering::Relaxed),
        )
    }
}
