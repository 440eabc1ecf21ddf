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
    /// The `free` box reserved in front of `mdat` (`ClassicWriter::with_room`), if any.
    pub room: Option<Room>,
}

/// A `free` box between `ftyp` and `mdat` kept for the `moov`: where it starts and its whole length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room {
    pub offset: u64,
    pub len: u64,
}

/// Bytes a classic file's `moov` is expected to take per sample, from what our tables hold when
/// their runs do not compress: a size (4), a decode-time and a composition run (8 + 8 at worst
/// for video), a chunk offset and a chunk-size run (16) per chunk, which interleaved audio and
/// video make about every second sample. Measured on ffmpeg-made H.264+AAC files: 16-17 bytes.
const MOOV_BYTES_PER_SAMPLE: u64 = 20;
/// The `moov` boxes that do not grow with samples (headers, sample descriptions), and a margin.
const MOOV_FIXED_BYTES: u64 = 16 * 1024;

/// Room to reserve in front of `mdat` for the `moov` of a file of about `samples` samples.
pub fn moov_room_for(samples: u64) -> u64 {
    MOOV_FIXED_BYTES.saturating_add(samples.saturating_mul(MOOV_BYTES_PER_SAMPLE))
}

/// What follows a `moov` of `moov_len` bytes written at `room.offset` to fill the room: a `free`
/// box header over the rest (nothing when the `moov` fills it exactly). `None` when it does not fit
/// (the host then moves the `moov` to the front another way). The media does not move, so the
/// chunk offsets in `moov` stay as they are.
pub fn room_after_moov(moov_len: u64, room: Room) -> Option<Bytes> {
    match room.len.checked_sub(moov_len)? {
        0 => Some(Bytes::new()),
        rest if rest < 8 => None,
        rest => {
            let mut free = u32::try_from(rest).ok()?.to_be_bytes().to_vec();
            free.extend_from_slice(b"free");
            Some(Bytes::from(free))
        }
    }
}

/// How a classic file starts: `head` (`ftyp` and, with room or alignment, a `free` box header),
/// `zeros` bytes of that box's payload, then `mdat_header`. The zeros are left to the host, which
/// need not hold them in memory.
#[derive(Debug, Clone)]
pub struct ClassicStart {
    pub head: Bytes,
    pub zeros: u64,
    pub mdat_header: Bytes,
}

/// Streams a classic MP4: see the module documentation for the host's part.
#[derive(Debug)]
pub struct ClassicWriter {
    layouts: Vec<TrackLayout>,
    tables: Vec<TableBuilder>,
    mdat_offset: u64,
    room: Option<Room>,
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
        let (classic, start) = ClassicWriter::with_room(description, 0, align)?;
        let mut header = start.head.to_vec();
        header.resize(header.len() + start.zeros as usize, 0);
        header.extend_from_slice(&start.mdat_header);
        Ok((classic, Bytes::from(header)))
    }

    /// As `with_mdat_alignment`, with a `free` box of at least `room` bytes in front of `mdat` (none
    /// when `room` is 0 and there is no alignment): a host that can estimate the `moov`'s size
    /// reserves its place, and at the end writes it there (`room_after_moov`) without moving the media.
    pub fn with_room(
        description: &StreamDescription,
        room: u64,
        align: Option<u64>,
    ) -> Result<(ClassicWriter, ClassicStart), Mp4Error> {
        let layouts = track_layouts(description)?;
        let mut writer = BoxWriter::default();
        write_ftyp(&mut writer, b"isom", 0x200, &[b"isom", b"iso2", b"avc1", b"mp41"]);
        let ftyp_len = writer.len() as u64;
        let align = align.filter(|align| *align > 0);
        let mut free_len = if room > 0 { room.max(8) } else { 0 };
        if let Some(align) = align {
            free_len += (align - (ftyp_len + free_len) % align) % align;
            if free_len < 8 {
                free_len += align;
            }
        }
        let free_len32 = u32::try_from(free_len)
            .map_err(|_| Mp4Error::Faststart("room for the moov over 4 GiB".into()))?;
        let mut head = writer.finish()?;
        if free_len > 0 {
            head.extend_from_slice(&free_len32.to_be_bytes());
            head.extend_from_slice(b"free");
        }
        let mdat_offset = ftyp_len + free_len;
        let mut mdat_header = Vec::with_capacity(MDAT_HEADER_LEN as usize);
        mdat_header.extend_from_slice(&1u32.to_be_bytes());
        mdat_header.extend_from_slice(b"mdat");
        mdat_header.extend_from_slice(&0u64.to_be_bytes()); // patched at finish
        let tables = layouts.iter().map(|_| TableBuilder::default()).collect();
        let classic = ClassicWriter {
            layouts,
            tables,
            mdat_offset,
            room: (room > 0).then_some(Room { offset: ftyp_len, len: free_len }),
            position: mdat_offset + MDAT_HEADER_LEN,
            open_chunk_track: None,
        };
        let start = ClassicStart {
            head: Bytes::from(head),
            zeros: free_len.saturating_sub(8),
            mdat_header: Bytes::from(mdat_header),
        };
        Ok((classic, start))
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
        // Sized once: an hour's moov is megabytes, which doubling would hold twice over.
        let tables_len: usize = self.tables.iter().map(TableBuilder::written_len).sum();
        let mut writer = BoxWriter::with_capacity(tables_len + 4096);
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
        // Each track's tables are dropped once written into the moov.
        for ((layout, table), track_durations) in self.layouts.iter().zip(self.tables).zip(&plans) {
            write_trak(&mut writer, layout, *track_durations, |writer| table.write(writer))?;
        }
        writer.end();
        Ok(ClassicFinish {
            moov: Bytes::from(writer.finish()?),
            mdat_size_patch: FilePatch {
                offset: self.mdat_offset + 8,
                bytes: Bytes::copy_from_slice(&mdat_size.to_be_bytes()),
            },
            room: self.room,
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

    /// One MP3 track at a 1 kHz clock.
    fn mp3_description() -> StreamDescription {
        StreamDescription {
            video: None,
            audio: Some(AudioTrack {
                codec: Codec::Mp3,
                config: Bytes::new(),
                sample_rate: 1000,
                channels: 1,
                profile: String::new(),
            }),
        }
    }

    #[test]
    fn mdat_patch_and_chunk_offsets_point_at_the_payloads() {
        let description = mp3_description();
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

    #[test]
    fn a_room_in_front_of_mdat_takes_the_moov_and_a_free_box() {
        let description = mp3_description();
        let (mut writer, start) = ClassicWriter::with_room(&description, 1000, Some(4096)).unwrap();
        let mut file = start.head.to_vec();
        file.resize(file.len() + start.zeros as usize, 0);
        file.extend_from_slice(&start.mdat_header);
        assert_eq!(file.len(), 4096 + 16, "mdat starts on the block after the room");
        for dts in [0, 26, 52] {
            file.extend_from_slice(&writer.write_frame(&mp3_frame(dts)).unwrap());
        }
        let finish = writer.finish().unwrap();
        let room = finish.room.unwrap();
        assert_eq!((room.offset, room.offset + room.len), (32, 4096));
        let tail = room_after_moov(finish.moov.len() as u64, room).unwrap();
        let front = [&finish.moov[..], &tail[..]].concat();
        file[room.offset as usize..][..front.len()].copy_from_slice(&front);
        let patch_at = finish.mdat_size_patch.offset as usize;
        file[patch_at..patch_at + 8].copy_from_slice(&finish.mdat_size_patch.bytes);
        let top: Vec<_> = BoxIter::new(&file, 0).collect::<Result<_, _>>().unwrap();
        let names: Vec<String> = top.iter().map(|b| b.fourcc.to_string()).collect();
        assert_eq!(names, ["ftyp", "moov", "free", "mdat"]);
        let stbl = top[1].require(b"trak").unwrap().require(b"mdia").unwrap();
        let stco = stbl.require(b"minf").unwrap().require(b"stbl").unwrap().require(b"stco").unwrap();
        assert_eq!(u32::from_be_bytes(stco.payload[8..12].try_into().unwrap()) as u64, top[3].payload_offset);
        // Too small a room, or one that would leave less than a box header: the host moves it.
        let moov_len = finish.moov.len() as u64;
        assert!(room_after_moov(moov_len, Room { offset: 32, len: moov_len - 1 }).is_none());
        assert!(room_after_moov(moov_len, Room { offset: 32, len: moov_len + 7 }).is_none());
        assert_eq!(room_after_moov(moov_len, Room { offset: 32, len: moov_len }).unwrap(), Bytes::new());
        assert!(moov_room_for(100_000) > 100_000 * 16, "above the 16-17 bytes a sample measured");
    }
}
