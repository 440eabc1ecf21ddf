//! The vocabulary that flows on graph edges: stream descriptions, frames, metadata, end of stream.
//!
//! Nothing here does I/O or imports anything else from the crate; every other layer speaks this language.

mod codec;
mod description;
mod event;
mod frame;
mod time;

pub use codec::{Codec, CodecSet, MediaKind};
pub use description::{AudioTrack, StreamDescription, VideoTrack};
pub use event::{MediaEvent, Metadata};
pub use frame::Frame;
pub use time::{MediaTime, Timebase, TimestampUnwrapper};
