//! `FlvError`: everything that can go wrong reading FLV files and FLV tag bodies.
//!
//! File-level errors carry the byte offset in the file; body-level errors carry the offset inside the
//! tag body, because a body also arrives alone as an RTMP message payload. No recovery logic lives here.

use crate::codec::amf0::Amf0Error;
use crate::codec::nal::NalError;

/// Errors of `codec::flv`. Messages are lowercase and name the byte offset where one is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlvError {
    #[error("not an flv file: signature {0:02x?} at byte 0")]
    BadSignature([u8; 3]),
    #[error("flv header data offset {0} is smaller than the 9-byte header")]
    BadDataOffset(u32),
    #[error("flv header data offset {0} exceeds the limit of {limit}", limit = super::header::MAX_DATA_OFFSET)]
    DataOffsetTooLarge(u32),
    #[error("unknown tag type {tag_type} at byte {offset}")]
    UnknownTagType { tag_type: u8, offset: u64 },
    #[error("encrypted (filtered) tag at byte {0} is not supported")]
    EncryptedTag(u64),
    #[error("truncated {what} at byte {offset}: {missing} more bytes expected")]
    Truncated { what: &'static str, offset: u64, missing: u64 },
    #[error("{what} tag body too short: {len} bytes, at least {needed} needed")]
    BodyTooShort { what: &'static str, len: usize, needed: usize },
    #[error("unknown video packet type {0}")]
    UnknownVideoPacketType(u8),
    #[error("unknown avc packet type {0}")]
    UnknownAvcPacketType(u8),
    #[error("unknown audio packet type {0}")]
    UnknownAudioPacketType(u8),
    #[error("unknown aac packet type {0}")]
    UnknownAacPacketType(u8),
    #[error("enhanced multitrack {0} tags are not supported")]
    MultitrackUnsupported(&'static str),
    #[error("script data: {0}")]
    ScriptData(#[from] Amf0Error),
    #[error("{codec} sequence header: {reason}")]
    BadSequenceHeader { codec: &'static str, reason: String },
    #[error("video frame: {0}")]
    NalFraming(#[from] NalError),
    #[error("tag body of {0} bytes exceeds the 24-bit size field")]
    BodyTooLarge(usize),
    #[error("{0} cannot be written as an flv tag")]
    UnsupportedCodec(&'static str),
}
