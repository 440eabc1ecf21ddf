//! The one error type of the MP4 module: every malformed input and every unwritable stream ends here.
//!
//! Reader errors carry the absolute byte offset in the file where the problem sits, so a damaged
//! recording can be inspected with a hex editor; writer errors name the codec or track at fault.

use std::fmt;

use crate::codec::describe::DescribeError;
use crate::media::{Codec, MediaKind};

/// A four-character box or sample-entry code, printed as text when it is printable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourCc(pub [u8; 4]);

impl fmt::Display for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            self.0.iter().try_for_each(|b| write!(f, "{}", char::from(*b)))
        } else {
            write!(f, "0x{:08x}", u32::from_be_bytes(self.0))
        }
    }
}

impl fmt::Debug for FourCc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FourCc({self})")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Mp4Error {
    #[error("truncated at byte {offset}: {what} needs {needed} bytes, {available} left")]
    Truncated { offset: u64, what: &'static str, needed: u64, available: u64 },
    #[error("box `{fourcc}` at byte {offset} has invalid size {size}")]
    BadBoxSize { offset: u64, fourcc: FourCc, size: u64 },
    #[error("box `{parent}` at byte {offset} has no `{child}` box")]
    MissingBox { offset: u64, parent: FourCc, child: FourCc },
    #[error("file has no `{0}` box")]
    MissingTopLevelBox(FourCc),
    #[error("{what} at byte {offset}: {reason}")]
    Invalid { offset: u64, what: &'static str, reason: String },
    #[error("{what} at byte {offset}: {count} exceeds the limit of {limit}")]
    TooMany { offset: u64, what: &'static str, count: u64, limit: u64 },
    #[error("unsupported sample entry `{fourcc}` at byte {offset}")]
    UnsupportedSampleEntry { offset: u64, fourcc: FourCc },
    #[error("file has no audio or video track")]
    NoTracks,
    #[error("{codec} track cannot be written: {reason}")]
    UnwritableTrack { codec: Codec, reason: String },
    #[error("{codec} frame given but the stream has no {kind} track of that codec")]
    NoSuchTrack { codec: Codec, kind: MediaKind },
    #[error("{codec} decode time goes backwards: {current_ticks} after {previous_ticks} (track timescale)")]
    DecodeTimeBackwards { codec: Codec, previous_ticks: i64, current_ticks: i64 },
    #[error("{codec} timestamp {ticks} does not fit the MP4 field it goes in")]
    TimestampOutOfRange { codec: Codec, ticks: i64 },
    #[error("box `{fourcc}` at byte {offset} is {size} bytes, more than the {limit} read into memory")]
    BoxTooLargeToRead { offset: u64, fourcc: FourCc, size: u64, limit: u64 },
    #[error("box `{0}` would exceed 4 GiB")]
    BoxTooLarge(FourCc),
    #[error("faststart: {0}")]
    Faststart(String),
    #[error(transparent)]
    Describe(#[from] DescribeError),
}
