//! MP4 (ISO BMFF), sans-IO: fragmented output for HLS fMP4 and DASH, classic files with the movie
//! header at the end (and a faststart rewrite that moves it to the front), and a reader that turns
//! either kind of file back into a stream description and frames.
//!
//! Nothing here touches a file: writers return the bytes to append (and, for classic files, the one
//! patch to apply at the end); the reader names the byte ranges it needs (box headers, `moov`,
//! `moof`s, then each sample) and its caller reads them, so a file is never held whole. Codec configuration fields are read by
//! `crate::codec::describe`; this module only moves them between boxes and the media model.

mod boxes;
mod classic;
mod error;
mod faststart;
mod fragment;
mod fragment_reader;
mod init;
mod reader;
mod sample_entry;
mod sample_table;
mod table_builder;
mod track;

pub use classic::{
    moov_room_for, room_after_moov, ClassicFinish, ClassicStart, ClassicWriter, FilePatch, Room,
};
pub use error::{FourCc, Mp4Error};
pub use faststart::{faststart, faststart_insert, faststart_moov};
pub use fragment::{FragmentWriter, NextDecodeTimes};
pub use init::init_segment;
pub use reader::{
    read_mp4, read_mp4_partial, BoxScan, IndexedSample, Mp4Contents, Mp4Index, MAX_MOOF_BYTES, MAX_MOOV_BYTES,
};

#[cfg(test)]
mod roundtrip_tests;
