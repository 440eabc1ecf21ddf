//! RTP as WebRTC carries media, sans-IO: the fixed header (RFC 3550), the first-byte
//! demultiplexing of one UDP port (RFC 7983), the H.264 (RFC 6184) and Opus (RFC 7587) payload
//! formats, and the RTP clocks against `MediaTime`.
//!
//! Frames on graph edges are access units (H.264 as 4-byte length-prefixed NAL units); this module
//! turns them into RTP payloads and back. Encryption (SRTP) and sessions are not here.

pub mod clock;
pub mod demux;
pub mod depacketizer;
pub mod dtls_flights;
pub mod h264;
pub mod h264_filter;
pub mod h265;
pub mod h265_filter;
pub mod header;
pub mod opus;
pub mod reorder;
pub mod sdp;
pub mod stun;
pub mod sync;
pub mod units;

pub use clock::RtpClock;
pub use header::{RtpError, RtpHeader};

/// One RTP payload ready to be wrapped in a header: the marker bit ends an access unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPayload {
    pub marker: bool,
    pub data: bytes::Bytes,
}
