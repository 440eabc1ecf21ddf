//! HLS, sans-IO: media playlists as SRS writes them (plus fMP4, Low-Latency HLS and VOD forms),
//! SRS's segment cutting rules, path templates, AES-128 segment encryption and the AAC sample clock.
//!
//! Nothing here touches a file, reads a clock or draws random bytes: the segmenter takes frame
//! timestamps and says where segments and parts end; the playlist writer turns a list of entries
//! into text; templates take the wall-clock time and zone offset as values; the segment cipher is
//! handed its key and IV. Muxing segments is `codec::mpegts` and `codec::mp4`'s job.
//! Layout: `playlist.rs` (text), `segmenter.rs` (cuts, window, sequence numbers), `parts.rs`
//! (LL-HLS partial segments), `template.rs` (file names and URIs), `encryption.rs` (`hls_keys`),
//! `audio_clock.rs`, `master.rs` (the variant playlist written) and `reader.rs` (playlists read,
//! for pulling HLS).

mod audio_clock;
mod encryption;
mod master;
mod parts;
mod playlist;
mod reader;
mod segmenter;
mod template;

pub use audio_clock::AacSampleClock;
pub use encryption::{key_line, SegmentCipher, SegmentKey};
pub use master::{master_playlist, Variant};
pub use parts::{Part, PartCutter};
pub use playlist::{
    target_duration, LowLatencyInfo, MediaPlaylist, PlaylistEntry, PlaylistKey, PlaylistPart,
};
pub use reader::{
    choose_variant, resolve_uri, MediaPlaylistText, Playlist, PlaylistError, SegmentEntry, VariantEntry,
    MAX_PLAYLIST_BYTES,
};
pub use segmenter::{Closed, Segment, Segmenter, SegmenterConfig, Step, MIN_SEGMENT_DURATION};
pub use template::{civil_from_unix_ms, fill_time, segment_uri};
