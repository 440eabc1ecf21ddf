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
use super::track::{
    check_monotonic, sample_durations, track_layouts, write_ftyp, write_mvhd, write_trak, TrackDurations,
    TrackLayout, MOVIE_TIMESCALE,
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
    tables: Vec<SampleTable>,
    mdat_offset: u64,
    /// Absolute file offset of the next byte the host will append.
    position: u64,
    /// Track whose chunk is open: the last frame written belonged to it.
    open_chunk_track: Option<usize>,
}

/// Everything known about one track's samples, one entry per sample (chunks: one per chunk).
#[derive(Debug, Default)]
struct SampleTable {
    decode_ticks: Vec<i64>,
    composition_offsets: Vec<i64>,
    sizes: Vec<u32>,
    sync: Vec<bool>,
    /// (file offset, sample count) per chunk.
    chunks: Vec<(u64, u32)>,
}

impl ClassicWriter {
    /// A writer and the bytes that start the file (`ftyp` and the `mdat` header).
    pub fn new(description: &StreamDescription) -> Result<(ClassicWriter, Bytes), Mp4Error> {
        let layouts = track_layouts(description)?;
        let mut writer = BoxWriter::default();
        write_ftyp(&mut writer, b"isom", 0x200, &[b"isom", b"iso2", b"avc1", b"mp41"]);
        let mdat_offset = writer.len() as u64;
        writer.u32(1);
        writer.bytes(b"mdat");
        writer.u64(0); // patched at finish
        let header = writer.finish()?;
        let tables = layouts.iter().map(|_| SampleTable::default()).collect();
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
        check_monotonic(frame.codec, table.decode_ticks.last().copied(), &[dts])?;
        let size = u32::try_from(frame.data.len()).map_err(|_| Mp4Error::UnwritableTrack {
            codec: frame.codec,
            reason: "frame over 4 GiB".into(),
        })?;
        table.decode_ticks.push(dts);
        table.composition_offsets.push(pts.saturating_sub(dts));
        table.sizes.push(size);
        table.sync.push(frame.keyframe || layout.kind() == MediaKind::Audio);
        match table.chunks.last_mut() {
            Some((_, count))
                if self.open_chunk_track == Some(track_idx) && *count < MAX_SAMPLES_PER_CHUNK =>
            {
                *count += 1
            }
            _ => table.chunks.push((self.position, 1)),
        }
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
                table.decode_ticks.first().map(|ticks| MediaTime::new(*ticks, layout.timebase))
            })
            .collect();
        let earliest = starts.iter().flatten().min().copied();
        let mut writer = BoxWriter::default();
        writer.begin(b"moov");
        let mut plans = Vec::new();
        for (layout, (table, start)) in self.layouts.iter().zip(self.tables.iter().zip(&starts)) {
            let durations = sample_durations(&table.decode_ticks, None);
            let media: u64 = durations.iter().map(|d| u64::from(*d)).sum();
            let movie = to_movie_ticks(MediaTime::new(media as i64, layout.timebase));
            let start_delay = match (start, earliest) {
                (Some(start), Some(earliest)) => to_movie_ticks(*start - earliest),
                _ => 0,
            };
            plans.push((durations, TrackDurations { movie, media, start_delay }));
        }
        let movie_duration = plans.iter().map(|(_, d)| d.movie + d.start_delay).max().unwrap_or(0);
        write_mvhd(&mut writer, movie_duration, self.layouts.len() as u32 + 1);
        for ((layout, table), (durations, track_durations)) in
            self.layouts.iter().zip(&self.tables).zip(&plans)
        {
            write_trak(&mut writer, layout, *track_durations, |writer| {
                write_tables(writer, table, durations)
            })?;
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

/// Run-length encodes equal consecutive values as (count, value).
fn runs<T: PartialEq + Copy>(values: impl IntoIterator<Item = T>) -> Vec<(u32, T)> {
    let mut out: Vec<(u32, T)> = Vec::new();
    for value in values {
        match out.last_mut() {
            Some((count, last)) if *last == value => *count += 1,
            _ => out.push((1, value)),
        }
    }
    out
}

fn write_tables(writer: &mut BoxWriter, table: &SampleTable, durations: &[u32]) {
    let n_samples = table.sizes.len() as u32;
    let time_runs = runs(durations.iter().copied());
    writer.begin_full(b"stts", 0, 0);
    writer.u32(time_runs.len() as u32);
    for (count, duration) in time_runs {
        writer.u32(count);
        writer.u32(duration);
    }
    writer.end();
    if table.composition_offsets.iter().any(|offset| *offset != 0) {
        let signed = table.composition_offsets.iter().any(|offset| *offset < 0);
        let offset_runs = runs(table.composition_offsets.iter().map(|offset| clamp_i32(*offset)));
        writer.begin_full(b"ctts", u8::from(signed), 0);
        writer.u32(offset_runs.len() as u32);
        for (count, offset) in offset_runs {
            writer.u32(count);
            writer.i32(offset);
        }
        writer.end();
    }
    if table.sync.iter().any(|sync| !sync) {
        let sync_numbers: Vec<u32> = (1..=n_samples).filter(|n| table.sync[*n as usize - 1]).collect();
        writer.begin_full(b"stss", 0, 0);
        writer.u32(sync_numbers.len() as u32);
        sync_numbers.into_iter().for_each(|number| writer.u32(number));
        writer.end();
    }
    let chunk_runs = runs(table.chunks.iter().map(|(_, count)| *count));
    writer.begin_full(b"stsc", 0, 0);
    writer.u32(chunk_runs.len() as u32);
    let mut first_chunk = 1;
    for (n_chunks, samples_per_chunk) in chunk_runs {
        writer.u32(first_chunk);
        writer.u32(samples_per_chunk);
        writer.u32(1);
        first_chunk += n_chunks;
    }
    writer.end();
    writer.begin_full(b"stsz", 0, 0);
    writer.u32(0);
    writer.u32(n_samples);
    table.sizes.iter().for_each(|size| writer.u32(*size));
    writer.end();
    write_chunk_offsets(writer, table.chunks.iter().map(|(offset, _)| *offset));
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

fn clamp_i32(value: i64) -> i32 {
    value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
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
    fn run_length_encoding_groups_equal_neighbours() {
        assert_eq!(runs([5, 5, 6, 5]), vec![(2, 5), (1, 6), (1, 5)]);
        assert!(runs(Vec::<u32>::new()).is_empty());
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
