//! Pure wire formats, sans-IO: bytes in, events out; events in, bytes out.
//!
//! Nothing in `codec/` does I/O, reads a clock, or imports tokio, `graph`, `nodes`, `servers` or `control`.
//! Each module is usable and testable on its own, like an external library.

pub mod aac;
pub mod amf0;
pub mod audio;
pub mod av1;
pub mod avc;
pub mod bits;
pub mod dash;
pub mod describe;
pub mod description_gate;
pub mod flv;
pub mod frame_blocks;
pub mod gb28181;
pub mod hevc;
pub mod hls;
pub mod http_chunked;
pub mod mp3;
pub mod mp4;
pub mod mpegts;
pub mod nal;
pub mod opus;
pub mod percent;
pub mod ps;
pub mod resp;
pub mod rtmp;
pub mod rtp;
pub mod sip;
pub mod srt_streamid;
pub mod srtcp;
pub mod srtp;
pub mod xorshift;
