//! srs: a live media server and media pipeline tool built from typed graphs.
//!
//! Layers, from the inside out (see ARCHITECTURE.md):
//! - [`media`]: the vocabulary on graph edges (descriptions, frames, `MediaTime`); no I/O.
//! - [`codec`]: pure wire formats (AMF0, FLV, RTMP, MPEG-TS, MP4, bitstream facts); sans-IO.
//! - [`graph`]: the protocol-agnostic engine: graph files, checking, hubs, stream lifetimes.
//! - [`nodes`]: node glue, one module per node kind; the only place codec events become frames.
//! - [`servers`]: sockets and HTTP routing shared by nodes.
//! - [`conf`]: srs.conf and `SRS_*` variables read into the classic form (SRS compatibility).
//! - [`cli`]: the command line.
//! - [`bench`]: the load harness and kernel-floor server behind `srs bench`.

// Unsafe is denied everywhere but two places. `control::process::sys`: the fork/exec and signal glue of
// supervised children, which std and tokio only offer as `unsafe` (`pre_exec`) or not at all (`killpg`);
// and `codec::audio::fdk`: fdk-aac's C API, its encoder opened with the AAC module alone and its
// decoder with the limiter and the frame-delaying concealment off, which the `fdk-aac` crate cannot
// do (the metadata module added 9.3 ms to the Opus-to-AAC bridge, the decoder's defaults 38 ms to
// the AAC-to-Opus one).
#![deny(unsafe_code)]

pub mod bench;
pub mod cli;
pub mod codec;
pub mod conf;
pub mod control;
pub mod graph;
pub mod media;
pub mod nodes;
pub mod servers;
