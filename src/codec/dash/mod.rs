//! MPEG-DASH output, sans-IO: cutting a stream into per-track fMP4 segments (`segmenter`), keeping
//! the window of segments a live presentation offers (`presentation`), and writing the MPD
//! (`mpd`, with `codecs` strings and `iso8601` times).
//!
//! Nothing here touches a file or reads a clock: the caller passes wall-clock instants and writes
//! the bytes it is given. The fMP4 boxes themselves come from `codec::mp4`.

mod codecs;
mod error;
mod iso8601;
mod mpd;
mod presentation;
mod segmenter;

pub use codecs::{audio_codecs, video_codecs};
pub use error::DashError;
pub use iso8601::{format_date_time, format_duration};
pub use mpd::{
    escape_attribute, AdaptationSet, Addressing, Mpd, Presentation, RepresentationMedia, SegmentTemplate,
    TimelineEntry, UtcTiming, PROFILE_ISOFF_LIVE,
};
pub use presentation::{
    representation_id, DashPresentation, PresentationConfig, SegmentAddressing, SegmentRecord, TimelineAnchor,
};
pub use segmenter::{DashSegmenter, InitSegment, MediaSegment, SegmenterOutput, TrackDescription};
