//! fdk-aac's C API, used directly through `fdk-aac-sys`: the `fdk-aac` crate cannot open the
//! encoder with its AAC module alone, nor turn the decoder's limiter and frame-delaying
//! concealment off, and both cost the live bridges latency.
//!
//! `encoder`: AAC-LC encoding; `decoder`: raw AAC frames to PCM.

// The library is C++ behind a C API: the calls in these two modules are its whole use, each with
// buffers that outlive the call and sizes taken from the Rust slices.
#![allow(unsafe_code)]

pub mod decoder;
pub mod encoder;

pub use decoder::{AacDecodeError, AacDecoder, DecodedFrame};
pub use encoder::{AacEncodeError, AacLcEncoder};
