//! The initialization segment of fragmented MP4: `ftyp` plus a `moov` whose sample tables are empty
//! and whose `mvex` announces that the samples come in movie fragments.
//!
//! It is CMAF-friendly (brands iso6 and cmfc, `default-base-is-moof` fragments, per-track timescales)
//! so HLS fMP4 and DASH sinks can serve it as is. Fragments themselves are built in `fragment.rs`.

use bytes::Bytes;

use crate::media::StreamDescription;

use super::boxes::BoxWriter;
use super::error::Mp4Error;
use super::track::{track_layouts, write_ftyp, write_mvhd, write_trak, TrackDurations, TrackLayout};

/// `ftyp` + `moov` for a fragmented file carrying the stream's tracks (video is track 1).
pub fn init_segment(description: &StreamDescription) -> Result<Bytes, Mp4Error> {
    write_init_segment(&track_layouts(description)?)
}

pub(crate) fn write_init_segment(layouts: &[TrackLayout]) -> Result<Bytes, Mp4Error> {
    let mut writer = BoxWriter::default();
    write_ftyp(&mut writer, b"iso6", 0, &[b"iso6", b"cmfc", b"isom", b"mp41"]);
    writer.begin(b"moov");
    write_mvhd(&mut writer, 0, layouts.len() as u32 + 1);
    for layout in layouts {
        write_trak(&mut writer, layout, TrackDurations::default(), write_empty_tables)?;
    }
    writer.begin(b"mvex");
    for layout in layouts {
        writer.begin_full(b"trex", 0, 0);
        writer.u32(layout.track_id);
        writer.u32(1); // default_sample_description_index
        writer.u32(0); // every fragment states durations, sizes and flags per sample
        writer.u32(0);
        writer.u32(0);
        writer.end();
    }
    writer.end();
    writer.end();
    Ok(Bytes::from(writer.finish()?))
}

/// Sample tables with no entries: the samples live in the fragments.
fn write_empty_tables(writer: &mut BoxWriter) {
    for table in [b"stts", b"stsc", b"stco"] {
        writer.begin_full(table, 0, 0);
        writer.u32(0);
        writer.end();
    }
    writer.begin_full(b"stsz", 0, 0);
    writer.u32(0); // sample_size: sizes vary
    writer.u32(0);
    writer.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::mp4::boxes::BoxIter;
    use crate::media::{AudioTrack, Codec};

    fn mp3_description() -> StreamDescription {
        StreamDescription {
            video: None,
            audio: Some(AudioTrack {
                codec: Codec::Mp3,
                config: Bytes::new(),
                sample_rate: 44_100,
                channels: 1,
                profile: String::new(),
            }),
        }
    }

    #[test]
    fn init_segment_has_ftyp_then_moov_with_mvex_and_trex() {
        let bytes = init_segment(&mp3_description()).unwrap();
        let top: Vec<_> = BoxIter::new(&bytes, 0).collect::<Result<_, _>>().unwrap();
        assert_eq!(top.len(), 2);
        assert!(top[0].is(b"ftyp"));
        assert_eq!(&top[0].payload[..4], b"iso6");
        let mvex = top[1].require(b"mvex").unwrap();
        let trex = mvex.require(b"trex").unwrap();
        assert_eq!(&trex.payload[4..8], &1u32.to_be_bytes(), "track id 1");
        let mdhd = top[1].require(b"trak").unwrap().require(b"mdia").unwrap().require(b"mdhd").unwrap();
        assert_eq!(&mdhd.payload[12..16], &44_100u32.to_be_bytes(), "audio timescale is the sample rate");
    }
}
