//! Classic (non-fragmented) MP4 written as a stream: `ftyp` and an `mdat` header first, then each
//! frame's payload as it arrives, and at the end a `moov` with complete sample tables (stts, ctts,
//! stss, stsz, stsc, stco/co64) plus one patch that sets the final `mdat` size.
//!
//! The writer never seeks: the host appends what it is given and applies the patch at the end. This
//! leaves `moov` after `mdat`; `faststart.rs` rewrites such a file so players can start before the
//! whole file has arrived.

use bytes::Bytes;

use crate::media::{Frame, MediaKind, MediaTime, StreamDescription, Timebase};

use super::boxes::BoxWriter;
use super::error::Mp4Error;
use super::table_builder::TableBuilder;
use super::track::{
    check_monotonic, track_layouts, write_ftyp, write_mvhd, write_trak, TrackDurations, TrackLayout,
    MOVIE_TIMESCALE,
};

/// Size of the `mdat` header: 32-bit size 1, code, 64-bit size, so any length can be patched in.
const MDAT_HEADER_LEN: u64 = 16;
/// A chunk (run of one track's samples stored together) is closed after this many samples.
const MAX_SAMPLES_PER_CHUNK: u32 = 256;

/// Bytes the host must write at `offset` once the file is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePatch {
    pub offset: u64,
    pub bytes: Bytes,
}

/// What ends a classic file: `moov` to append, and the `mdat` size to patch in.
#[derive(Debug, Clone)]
pub struct ClassicFinish {
    pub moov: Bytes,
    pub mdat_size_patch: FilePatch,
}

/// Streams a classic MP4: see the module documentation for the host's part.
#[derive(Debug)]
pub struct ClassicWriter {
    layouts: Vec<TrackLayout>,
    tables: Vec<TableBuilder>,
    mdat_offset: u64,
    /// Absolute file offset of the next byte the host will append.
    position: u64,
    /// Track whose chunk is open: the last frame written belonged to it.
    open_chunk_track: Option<usize>,
}

impl ClassicWriter {
    /// A writer and the bytes that start the file (`ftyp` and the `mdat` header).
    pub fn new(description: &StreamDescription) -> Result<(ClassicWriter, Bytes), Mp4Error> {
        ClassicWriter::with_mdat_alignment(description, None)
    }

    /// As `new`, with a `free` box after `ftyp` so that `mdat` starts at a multiple of `align`:
    /// where a file system inserts whole blocks into a file, `moov` can then be put in front of
    /// the media without copying it (`faststart_insert`).
    pub fn with_mdat_alignment(
        description: &StreamDescription,
        align: Option<u64>,
    ) -> Result<(ClassicWriter, Bytes), Mp4Error> {
        let layouts = track_layouts(description)?;
        let mut writer = BoxWriter::default();
        write_ftyp(&mut writer, b"isom", 0x200, &[b"isom", b"iso2", b"avc1", b"mp41"]);
        if let Some(align) = align.filter(|align| *align > 0) {
            let free_len = (align - writer.len() as u64 % align) % align;
            let free_len = if free_len < 8 { free_len + align } else { free_len };
            writer.begin(b"free");
            writer.zeros(free_len as usize - 8);
            writer.end();
        }
        let mdat_offset = writer.len() as u64;
        writer.u32(1);
        writer.bytes(b"mdat");
        writer.u64(0); // patched at finish
        let header = writer.finish()?;
        let tables = layouts.iter().map(|_| TableBuilder::default()).collect();
        let classic = ClassicWriter {
            layouts,
            tables,
            mdat_offset,
            position: mdat_offset + MDAT_HEADER_LEN,
            open_chunk_track: None,
        };
        Ok((classic, Bytes::from(header)))
    }

    /// Records one frame and returns the bytes to append: its payload, shared, not copied.
    pub fn write_frame(&mut self, frame: &Frame) -> Result<Bytes, Mp4Error> {
        let track_idx = self
            .layouts
            .iter()
            .position(|layout| layout.codec() == frame.codec)
            .ok_or(Mp4Error::NoSuchTrack { codec: frame.codec, kind: frame.kind() })?;
        let layout = &self.layouts[track_idx];
        let (dts, pts) = layout.ticks(frame);
        let table = &mut self.tables[track_idx];
        check_monotonic(frame.codec, table.last_decode_ticks(), &[dts])?;
        let size = u32::try_from(frame.data.len()).map_err(|_| Mp4Error::UnwritableTrack {
            codec: frame.codec,
            reason: "frame over 4 GiB".into(),
        })?;
        let continues_chunk =
            self.open_chunk_track == Some(track_idx) && table.open_chunk_samples() < MAX_SAMPLES_PER_CHUNK;
        let sync = frame.keyframe || layout.kind() == MediaKind::Audio;
        table.push(dts, pts.saturating_sub(dts), size, sync, (!continues_chunk).then_some(self.position));
        self.open_chunk_track = Some(track_idx);
        self.position += u64::from(size);
        Ok(frame.data.clone())
    }

    /// The `moov` to append and the `mdat` size patch.
    pub fn finish(self) -> Result<ClassicFinish, Mp4Error> {
        let mdat_size = self.position - self.mdat_offset;
        let starts: Vec<Option<MediaTime>> = self
            .layouts
            .iter()
            .zip(&self.tables)
            .map(|(layout, table)| {
                table.first_decode_ticks().map(|ticks| MediaTime::new(ticks, layout.timebase))
            })
            .collect();
        let earliest = starts.iter().flatten().min().copied();
        let mut writer = BoxWriter::default();
        writer.begin(b"moov");
        let mut plans = Vec::new();
        for (layout, (table, start)) in self.layouts.iter().zip(self.tables.iter().zip(&starts)) {
            let media = table.media_duration();
            let movie = to_movie_ticks(MediaTime::new(media as i64, layout.timebase));
            let start_delay = match (start, earliest) {
                (Some(start), Some(earliest)) => to_movie_ticks(*start - earliest),
                _ => 0,
            };
            plans.push(TrackDurations { movie, media, start_delay });
        }
        let movie_duration = plans.iter().map(|d| d.movie + d.start_delay).max().unwrap_or(0);
        write_mvhd(&mut writer, movie_duration, self.layouts.len() as u32 + 1);
        for ((layout, table), track_durations) in self.layouts.iter().zip(&self.tables).zip(&plans) {
            write_trak(&mut writer, layout, *track_durations, |writer| table.write(writer))?;
        }
        writer.end();
        Ok(ClassicFinish {
            moov: Bytes::from(writer.finish()?),
            mdat_size_patch: FilePatch {
                offset: self.mdat_offset + 8,
                bytes: Bytes::copy_from_slice(&mdat_size.to_be_bytes()),
            },
        })
    }
}

fn to_movie_ticks(time: MediaTime) -> u64 {
    let movie = Timebase::new(MOVIE_TIMESCALE).unwrap_or(Timebase::MILLIS);
    u64::try_from(time.rescale(movie).ticks()).unwrap_or(0)
}

/// `stco` when every offset fits 32 bits, else `co64`.
pub(crate) fn write_chunk_offsets(writer: &mut BoxWriter, offsets: impl Iterator<Item = u64> + Clone) {
    let n_chunks = offsets.clone().count() as u32;
    let wide = offsets.clone().any(|offset| offset > u64::from(u32::MAX));
    writer.begin_full(if wide { b"co64" } else { b"stco" }, 0, 0);
    writer.u32(n_chunks);
    for offset in offsets {
        if wide {
            writer.u64(offset);
        } else {
            // Every offset fits 32 bits when `wide` is false.
            writer.u32(offset as u32);
        }
    }
    writer.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::mp4::boxes::BoxIter;
    use crate::media::{AudioTrack, Codec};

    fn mp3_frame(dts: i64) -> Frame {
        let time = MediaTime::from_millis(dts);
        Frame {
            codec: Codec::Mp3,
            dts: time,
            pts: time,
            keyframe: true,
            data: Bytes::from_static(&[1, 2, 3]),
        }
    }

    #[test]
    fn mdat_patch_and_chunk_offsets_point_at_the_payloads() {
        let description = StreamDescription {
            video: None,
            audio: Some(AudioTrack {
                codec: Codec::Mp3,
                config: Bytes::new(),
                sample_rate: 1000,
                channels: 1,
                profile: String::new(),
            }),
        };
        let (mut writer, header) = ClassicWriter::new(&description).unwrap();
        let mut file = header.to_vec();
        for dts in [0, 26, 52] {
            file.extend_from_slice(&writer.write_frame(&mp3_frame(dts)).unwrap());
        }
        let finish = writer.finish().unwrap();
        let patch_at = finish.mdat_size_patch.offset as usize;
        file[patch_at..patch_at + 8].copy_from_slice(&finish.mdat_size_patch.bytes);
        file.extend_from_slice(&finish.moov);
        let top: Vec<_> = BoxIter::new(&file, 0).collect::<Result<_, _>>().unwrap();
        assert_eq!(top.len(), 3);
        assert_eq!(top[1].payload, &[1, 2, 3, 1, 2, 3, 1, 2, 3]);
        let stbl = top[2].require(b"trak").unwrap().require(b"mdia").unwrap();
        let stbl = stbl.require(b"minf").unwrap().require(b"stbl").unwrap();
        let stco = stbl.require(b"stco").unwrap().payload;
        assert_eq!(&stco[4..8], &1u32.to_be_bytes(), "one chunk");
        assert_eq!(u32::from_be_bytes(stco[8..12].try_into().unwrap()) as u64, top[1].payload_offset);
        assert_eq!(&stbl.require(b"stts").unwrap().payload[4..16], &[0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 26]);
        assert!(stbl.child(b"stss").unwrap().is_none(), "audio: every sample is sync");
    }
}
