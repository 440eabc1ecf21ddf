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

pub use decoder::{AacDecoder, DecodedFrame};
pub use encoder::AacLcEncoder;

/// A call into fdk-aac that failed, with the library's error code (its encoder's and decoder's
/// codes are both plain numbers, 0 for success).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fdk-aac {call} failed with error {code:#06x}")]
pub struct FdkError {
    pub call: &'static str,
    pub code: u32,
}

fn check(call: &'static str, code: u32) -> Result<(), FdkError> {
    if code == 0 {
        Ok(())
    } else {
        Err(FdkError { call, code })
    }
}
