//! RTMP (wip).
pub mod chunk;
pub mod chunk_encoder;
pub mod error;
pub mod message;
pub mod digest;
pub mod handshake;
