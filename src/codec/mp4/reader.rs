//! The MP4 demuxer, sans-IO: a file (classic or fragmented) becomes a stream description and its
//! frames in decode order, audio and video interleaved by time, without ever holding the whole file.
//!
//! Reading goes in two steps, each asking its caller for byte ranges:
//! - `BoxScan` walks the top-level boxes one header at a time (16 bytes each, skipping `mdat`
//!   payloads) and asks for the whole of `moov` and every `moof`, wherever they sit;
//! - `Mp4Index` (from `BoxScan::finish`) holds the sample tables: each sample's file offset and size,
//!   in the order frames go out. The caller reads the samples' bytes (in file order, in windows of
//!   its choosing) and `Mp4Index::frame` turns each into a `Frame`.
//!
//! `read_mp4` and `read_mp4_partial` do both steps over a file already in memory.
//!
//! Timestamps stay in each track's own timescale; payloads are canonical (H.264/H.265 NAL units get
//! 4-byte lengths whatever the file used) and shared with the caller's buffer when no rewrite is
//! needed. The edit list's start is applied, and all tracks are lifted together so none starts below
//! zero. Only the first video and the first audio track are read, as a `StreamDescription` holds one
//! of each.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::describe;
use crate::media::{AudioTrack, Codec, Frame, MediaKind, MediaTime, StreamDescription, Timebase, VideoTrack};

use super::boxes::{read_box_header, BoxIter, Mp4Box};
use super::error::{FourCc, Mp4Error};
use super::fragment_reader::{read_moof, read_trex, SampleDefaults, TrackSamples};
use super::sample_entry::{parse_stsd, SampleEntry};
use super::sample_table::{read_sample_table, SampleInfo};

/// Largest `moov` read into memory (a day of 60 fps video with audio needs about 100 MiB).
pub const MAX_MOOV_BYTES: u64 = 256 << 20;
/// Largest `moof` read into memory.
pub const MAX_MOOF_BYTES: u64 = 64 << 20;
/// Bytes read to learn a box's code and size (a 64-bit size included).
const BOX_HEADER_PROBE: u64 = 16;

/// What a file holds: its tracks and every frame, in decode order across tracks.
#[derive(Debug, Clone)]
pub struct Mp4Contents {
    pub description: StreamDescription,
    pub frames: Vec<Frame>,
}

/// One track being read: what its sample entry and media header said.
struct TrackHead {
    entry: SampleEntry,
    timebase: Timebase,
    /// What the edit list adds to decode times (track timescale): an initial empty edit delays the
    /// track, a media start skips its beginning (B-frame delay, AAC priming).
    edit_shift: i64,
}

/// Walks a file's top-level boxes through the reads it asks for: `wanted` names the next byte
/// range, `feed` takes its bytes; `finish` builds the index once `wanted` says `None`.
///
/// A box that runs past the end of the file, or cannot be read, ends the walk; it is the file's
/// damage (reported beside what could be read), and a torn box right after a `moof` (that
/// fragment's `mdat`) drops the fragment too.
#[derive(Debug)]
pub struct BoxScan {
    file_len: u64,
    /// Where the next box header is.
    position: u64,
    /// The `moov` or `moof` whose whole bytes were asked for: offset and size.
    pending: Option<(u64, u64)>,
    done: bool,
    last_was_moof: bool,
    moov: Option<(u64, Bytes)>,
    moofs: Vec<(u64, Bytes)>,
    damage: Option<Mp4Error>,
}

impl BoxScan {
    pub fn new(file_len: u64) -> BoxScan {
        BoxScan {
            file_len,
            position: 0,
            pending: None,
            done: false,
            last_was_moof: false,
            moov: None,
            moofs: Vec::new(),
            damage: None,
        }
    }

    /// The byte range to read next (offset, length; always inside the file), or `None` when done.
    pub fn wanted(&self) -> Option<(u64, usize)> {
        if self.done {
            return None;
        }
        if let Some((offset, size)) = self.pending {
            // Sizes asked for are capped by `MAX_MOOV_BYTES`, far below `usize::MAX`.
            return Some((offset, size as usize));
        }
        let left = self.file_len.checked_sub(self.position).filter(|left| *left > 0)?;
        Some((self.position, left.min(BOX_HEADER_PROBE) as usize))
    }

    /// The bytes of the range `wanted` named.
    pub fn feed(&mut self, bytes: Bytes) {
        match self.pending.take() {
            Some((offset, size)) => self.take_box(offset, size, bytes),
            None => self.take_header(&bytes),
        }
    }

    fn take_header(&mut self, bytes: &[u8]) {
        let offset = self.position;
        let available = self.file_len.saturating_sub(offset);
        let header = match read_box_header(bytes, offset) {
            Ok(header) => header,
            Err(error) => return self.fail(error),
        };
        let size = header.size.unwrap_or(available);
        if size > available {
            return self.fail(Mp4Error::Truncated { offset, what: "box", needed: size, available });
        }
        let fourcc = header.fourcc;
        let is_moof = fourcc.0 == *b"moof";
        let kept = is_moof || (fourcc.0 == *b"moov" && self.moov.is_none());
        if kept {
            let limit = if is_moof { MAX_MOOF_BYTES } else { MAX_MOOV_BYTES };
            if size > limit {
                return self.fail(Mp4Error::BoxTooLargeToRead { offset, fourcc, size, limit });
            }
            self.pending = Some((offset, size));
        } else {
            self.position = offset + size;
        }
        self.last_was_moof = is_moof;
    }

    fn take_box(&mut self, offset: u64, size: u64, bytes: Bytes) {
        if bytes.len() as u64 != size {
            let available = bytes.len() as u64;
            return self.fail(Mp4Error::Truncated { offset, what: "box", needed: size, available });
        }
        if bytes.get(4..8) == Some(b"moov".as_slice()) {
            self.moov = Some((offset, bytes));
        } else {
            self.moofs.push((offset, bytes));
        }
        self.position = offset + size;
    }

    fn fail(&mut self, error: Mp4Error) {
        if self.last_was_moof {
            self.moofs.pop();
        }
        self.damage = Some(error);
        self.done = true;
    }

    /// The sample index of what was found. `Err` only when nothing is usable (no readable `moov`).
    pub fn finish(self) -> Result<Mp4Index, Mp4Error> {
        let file_len = self.file_len;
        let mut damage = self.damage;
        let Some((moov_offset, moov_bytes)) = self.moov else {
            return Err(damage.unwrap_or(Mp4Error::MissingTopLevelBox(FourCc(*b"moov"))));
        };
        let moov = only_box(&moov_bytes, moov_offset)?;
        let (heads, mut tracks) = read_tracks(&moov, file_len)?;
        for (offset, bytes) in &self.moofs {
            let kept: Vec<(usize, i64)> =
                tracks.iter().map(|t| (t.samples.len(), t.next_decode_ticks)).collect();
            let result = only_box(bytes, *offset).and_then(|moof| read_moof(&moof, &mut tracks, file_len));
            if let Err(error) = result {
                // A fragment read halfway is dropped whole, so every track stops at the same fragment.
                for (track, (len, next)) in tracks.iter_mut().zip(kept) {
                    track.samples.truncate(len);
                    track.next_decode_ticks = next;
                }
                damage.get_or_insert(error);
                break;
            }
        }
        let mut n_missing = 0;
        let mut per_track = Vec::with_capacity(tracks.len());
        for track in tracks {
            let mut samples = track.samples;
            // A track stops at its first sample whose bytes are not all in the file.
            let missing = samples.iter().position(|s| s.offset.saturating_add(u64::from(s.size)) > file_len);
            if let Some(first) = missing {
                let sample = samples[first];
                damage.get_or_insert(Mp4Error::Truncated {
                    offset: sample.offset,
                    what: "sample",
                    needed: u64::from(sample.size),
                    available: file_len.saturating_sub(sample.offset),
                });
                n_missing += (samples.len() - first) as u64;
                samples.truncate(first);
            }
            per_track.push(samples);
        }
        let lift = lift_to_non_negative(&heads, &per_track);
        let order = interleave(&heads, &per_track, lift);
        Ok(Mp4Index { heads, tracks: per_track, order, lift, damage, n_missing })
    }
}

/// The one box `bytes` holds (read whole at `offset`).
fn only_box(bytes: &[u8], offset: u64) -> Result<Mp4Box<'_>, Mp4Error> {
    BoxIter::new(bytes, offset).next().unwrap_or(Err(Mp4Error::Truncated {
        offset,
        what: "box",
        needed: 8,
        available: 0,
    }))
}

/// One sample to read: where its bytes are, and (for `Mp4Index::frame`) what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedSample {
    /// File offset of its first byte.
    pub offset: u64,
    pub size: u32,
    /// Which of the index's tracks it belongs to (at most one video and one audio).
    pub track: u8,
    /// Decode time in track ticks, edit list applied (lift not yet).
    decode_ticks: i64,
    composition_offset: i64,
    sync: bool,
}

/// A file's tracks and samples, in the order frames go out (decode time across tracks).
pub struct Mp4Index {
    heads: Vec<TrackHead>,
    /// Each track's samples in decode order (edit list not applied).
    tracks: Vec<Vec<SampleInfo>>,
    /// The track of each sample in output order: one byte per sample, where a merged copy of the
    /// records would double the index's memory.
    order: Vec<u8>,
    /// Added to every timestamp so the earliest decode time is zero.
    lift: Option<MediaTime>,
    damage: Option<Mp4Error>,
    n_missing: u64,
}

impl Mp4Index {
    /// Every sample, in output order.
    pub fn samples(&self) -> impl Iterator<Item = IndexedSample> + '_ {
        let mut taken = vec![0usize; self.tracks.len()];
        self.order.iter().filter_map(move |&track| {
            let idx = usize::from(track);
            let info = self.tracks.get(idx)?.get(*taken.get(idx)?)?;
            taken[idx] += 1;
            Some(self.indexed(track, info))
        })
    }

    pub fn n_samples(&self) -> usize {
        self.order.len()
    }

    fn indexed(&self, track: u8, info: &SampleInfo) -> IndexedSample {
        let edit_shift = self.heads.get(usize::from(track)).map_or(0, |head| head.edit_shift);
        IndexedSample {
            offset: info.offset,
            size: info.size,
            track,
            decode_ticks: info.decode_ticks.saturating_add(edit_shift),
            composition_offset: i64::from(info.composition_offset),
            sync: info.sync,
        }
    }

    pub fn n_tracks(&self) -> usize {
        self.heads.len()
    }

    /// Samples dropped because their bytes are past the end of the file.
    pub fn n_missing_samples(&self) -> u64 {
        self.n_missing
    }

    /// What damage was found while indexing (a torn box or fragment, samples past the end).
    pub fn take_damage(&mut self) -> Option<Mp4Error> {
        self.damage.take()
    }

    /// The sample whose bytes `description` needs: an MP3 track's first frame (the sample entry of
    /// MP3 says nothing reliable; the frame header does).
    pub fn description_probe(&self) -> Option<IndexedSample> {
        let track = self.heads.iter().position(|head| head.entry.codec == Codec::Mp3)?;
        let first = self.tracks.get(track)?.first()?;
        Some(self.indexed(track as u8, first))
    }

    /// The stream description; `probe` is the payload of `description_probe`'s sample, if any.
    pub fn description(&self, probe: Option<&Bytes>) -> Result<StreamDescription, Mp4Error> {
        let mut description = StreamDescription::default();
        for head in &self.heads {
            match head.entry.codec.kind() {
                MediaKind::Video => description.video = Some(describe_video(&head.entry)?),
                MediaKind::Audio => description.audio = Some(describe_audio(&head.entry, probe)?),
            }
        }
        Ok(description)
    }

    /// The frame of `sample`, whose bytes are `payload`.
    pub fn frame(&self, sample: &IndexedSample, payload: Bytes) -> Result<Frame, Mp4Error> {
        let head = self.heads.get(usize::from(sample.track)).ok_or(Mp4Error::Invalid {
            offset: sample.offset,
            what: "sample",
            reason: format!("no track {}", sample.track),
        })?;
        if payload.len() as u64 != u64::from(sample.size) {
            return Err(Mp4Error::Truncated {
                offset: sample.offset,
                what: "sample",
                needed: u64::from(sample.size),
                available: payload.len() as u64,
            });
        }
        let codec = head.entry.codec;
        let data = match head.entry.nal_length_size {
            Some(length_size) if length_size != 4 => {
                to_four_byte_lengths(&payload, length_size, sample.offset)?
            }
            _ => payload,
        };
        let (dts, pts) = timestamps(head, sample, self.lift);
        let keyframe = codec.kind() == MediaKind::Audio || sample.sync;
        Ok(Frame { codec, dts, pts, keyframe, data })
    }
}

/// A sample's decode and presentation times, edit list and lift applied.
fn timestamps(head: &TrackHead, sample: &IndexedSample, lift: Option<MediaTime>) -> (MediaTime, MediaTime) {
    let dts = MediaTime::new(sample.decode_ticks, head.timebase);
    let pts = MediaTime::new(sample.decode_ticks.saturating_add(sample.composition_offset), head.timebase);
    match lift {
        Some(lift) => (dts + lift, pts + lift),
        None => (dts, pts),
    }
}

/// Reads a complete MP4 file. Errors name the byte offset of the damage.
pub fn read_mp4(file: &Bytes) -> Result<Mp4Contents, Mp4Error> {
    match read_mp4_partial(file)? {
        (contents, None) => Ok(contents),
        (_, Some(damage)) => Err(damage),
    }
}

/// Reads as much of a damaged file as can be trusted: every sample before the first damage (a
/// truncated or corrupt top-level box, fragment or sample), with the damage reported beside it.
/// A file killed while a fragmented MP4 was being written reads up to its last whole fragment.
/// `Err` only when nothing is usable (no readable `moov`).
pub fn read_mp4_partial(file: &Bytes) -> Result<(Mp4Contents, Option<Mp4Error>), Mp4Error> {
    let slice = |offset: u64, len: usize| {
        // `BoxScan` and `Mp4Index` only name ranges inside the file (checked against its length).
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(file.len());
        file.slice(start..start.saturating_add(len).min(file.len()))
    };
    let mut scan = BoxScan::new(file.len() as u64);
    while let Some((offset, len)) = scan.wanted() {
        scan.feed(slice(offset, len));
    }
    let mut index = scan.finish()?;
    let mut damage = index.take_damage();
    let probe = index.description_probe().map(|sample| slice(sample.offset, sample.size as usize));
    let description = index.description(probe.as_ref())?;
    let mut stopped = vec![false; index.n_tracks()];
    let mut frames = Vec::with_capacity(index.n_samples());
    for sample in index.samples() {
        let track = usize::from(sample.track);
        if stopped[track] {
            continue;
        }
        match index.frame(&sample, slice(sample.offset, sample.size as usize)) {
            Ok(frame) => frames.push(frame),
            Err(error) => {
                // The track stops at its first unreadable sample; the others go on.
                stopped[track] = true;
                damage.get_or_insert(error);
            }
        }
    }
    Ok((Mp4Contents { description, frames }, damage))
}

/// The first video and first audio `trak`, with their classic samples (empty in fragmented files).
fn read_tracks(moov: &Mp4Box<'_>, file_len: u64) -> Result<(Vec<TrackHead>, Vec<TrackSamples>), Mp4Error> {
    let trex = match moov.child(b"mvex")? {
        Some(mvex) => read_trex(&mvex)?,
        None => Vec::new(),
    };
    let mut mvhd = moov.require(b"mvhd")?.cursor();
    let (version, _) = mvhd.version_flags("mvhd")?;
    mvhd.skip(if version == 1 { 16 } else { 8 }, "mvhd times")?;
    let movie_timebase = Timebase::new(mvhd.u32("mvhd timescale")?).unwrap_or(Timebase::MILLIS);
    let mut heads: Vec<TrackHead> = Vec::new();
    let mut tracks = Vec::new();
    for trak in moov.children() {
        let trak = trak?;
        if !trak.is(b"trak") {
            continue;
        }
        let mdia = trak.require(b"mdia")?;
        let mut hdlr = mdia.require(b"hdlr")?.cursor();
        hdlr.skip(8, "hdlr")?;
        let handler = hdlr.fourcc("hdlr handler type")?;
        let kind = match &handler {
            b"vide" => MediaKind::Video,
            b"soun" => MediaKind::Audio,
            _ => continue,
        };
        if heads.iter().any(|head| head.entry.codec.kind() == kind) {
            continue;
        }
        let mut tkhd = trak.require(b"tkhd")?.cursor();
        let (version, _) = tkhd.version_flags("tkhd")?;
        tkhd.skip(if version == 1 { 16 } else { 8 }, "tkhd times")?;
        let track_id = tkhd.u32("tkhd track id")?;
        let mdhd = mdia.require(b"mdhd")?;
        let mut cursor = mdhd.cursor();
        let (version, _) = cursor.version_flags("mdhd")?;
        cursor.skip(if version == 1 { 16 } else { 8 }, "mdhd times")?;
        let timescale_offset = cursor.offset();
        let timebase = Timebase::new(cursor.u32("mdhd timescale")?).ok_or(Mp4Error::Invalid {
            offset: timescale_offset,
            what: "mdhd",
            reason: "timescale is zero".into(),
        })?;
        let stbl = mdia.require(b"minf")?.require(b"stbl")?;
        let entry = parse_stsd(&stbl.require(b"stsd")?)?;
        if entry.codec.kind() != kind {
            return Err(Mp4Error::Invalid {
                offset: trak.offset,
                what: "trak",
                reason: format!("{kind} handler with a {} sample entry", entry.codec),
            });
        }
        let samples = read_sample_table(&stbl, file_len)?;
        let next_decode_ticks = samples.last().map_or(0, |last| last.decode_ticks);
        let defaults = trex.iter().find(|(id, _)| *id == track_id).map_or(SampleDefaults::default(), |t| t.1);
        let edit_shift = match trak.child(b"edts")? {
            Some(edts) => match edts.child(b"elst")? {
                Some(elst) => edit_list_shift(&elst, movie_timebase, timebase)?,
                None => 0,
            },
            None => 0,
        };
        heads.push(TrackHead { entry, timebase, edit_shift });
        tracks.push(TrackSamples { track_id, defaults, samples, next_decode_ticks });
    }
    if heads.is_empty() {
        return Err(Mp4Error::NoTracks);
    }
    Ok((heads, tracks))
}

/// Leading empty edits (a delay, movie timescale) minus the media time the first real edit starts
/// at, in track ticks. Later edits (cuts inside the track) are not applied.
fn edit_list_shift(elst: &Mp4Box<'_>, movie: Timebase, track: Timebase) -> Result<i64, Mp4Error> {
    let mut cursor = elst.cursor();
    let (version, _) = cursor.version_flags("elst")?;
    let entry_count = cursor.u32("elst entry count")?;
    let mut delay_movie_ticks: i64 = 0;
    for _ in 0..entry_count {
        let segment_duration = cursor.u32_or_u64(version, "elst segment duration")?;
        let media_time = if version == 1 {
            cursor.u64("elst media time")? as i64
        } else {
            i64::from(cursor.i32("elst media time")?)
        };
        cursor.u32("elst media rate")?;
        if media_time == -1 {
            delay_movie_ticks =
                delay_movie_ticks.saturating_add(i64::try_from(segment_duration).unwrap_or(0));
            continue;
        }
        let delay = MediaTime::new(delay_movie_ticks, movie).rescale(track).ticks();
        return Ok(delay.saturating_sub(media_time));
    }
    Ok(0)
}

fn describe_video(entry: &SampleEntry) -> Result<VideoTrack, Mp4Error> {
    let mut video = describe::video_track(entry.codec, entry.config.clone())?;
    if video.width == 0 || video.height == 0 {
        video.width = entry.width;
        video.height = entry.height;
    }
    Ok(video)
}

/// Audio facts from the codec configuration (for MP3, the first frame), falling back to the sample
/// entry, whose channel count is often a placeholder (ffmpeg writes 2 for mono AAC).
fn describe_audio(entry: &SampleEntry, first_payload: Option<&Bytes>) -> Result<AudioTrack, Mp4Error> {
    let mut audio = match (entry.codec, first_payload) {
        (Codec::Mp3, Some(first_frame)) => describe::audio_track(Codec::Mp3, first_frame.clone())?,
        (Codec::Mp3, None) => AudioTrack {
            codec: Codec::Mp3,
            config: Bytes::new(),
            sample_rate: 0,
            channels: 0,
            profile: String::new(),
        },
        (codec, _) => describe::audio_track(codec, entry.config.clone())?,
    };
    if audio.sample_rate == 0 {
        audio.sample_rate = entry.sample_rate;
    }
    if audio.channels == 0 {
        audio.channels = entry.channels;
    }
    Ok(audio)
}

/// Rewrites NAL units prefixed by 1-, 2- or 3-byte lengths into the canonical 4-byte form.
fn to_four_byte_lengths(payload: &[u8], length_size: u8, file_offset: u64) -> Result<Bytes, Mp4Error> {
    let length_size = usize::from(length_size);
    let mut out = BytesMut::with_capacity(payload.len() + payload.len() / 2);
    let mut position = 0;
    while position < payload.len() {
        let header = payload.get(position..position + length_size).ok_or(Mp4Error::Truncated {
            offset: file_offset + position as u64,
            what: "NAL unit length",
            needed: length_size as u64,
            available: (payload.len() - position) as u64,
        })?;
        let nal_len = header.iter().fold(0usize, |acc, byte| (acc << 8) | usize::from(*byte));
        position += length_size;
        let nal = payload.get(position..position + nal_len).ok_or(Mp4Error::Truncated {
            offset: file_offset + position as u64,
            what: "NAL unit",
            needed: nal_len as u64,
            available: (payload.len() - position) as u64,
        })?;
        // A NAL from a 1..3-byte length field is below 2^24 bytes, so it fits the u32 prefix.
        out.put_u32(nal_len as u32);
        out.extend_from_slice(nal);
        position += nal_len;
    }
    Ok(out.freeze())
}

/// Edit lists move decode times before zero (a B-frame delay skipped); the amount that moves every
/// track by the same time so the earliest decode time is zero and the tracks keep their timing.
fn lift_to_non_negative(heads: &[TrackHead], per_track: &[Vec<SampleInfo>]) -> Option<MediaTime> {
    let earliest = heads
        .iter()
        .zip(per_track)
        .filter_map(|(head, samples)| {
            let first = samples.first()?;
            Some(MediaTime::new(first.decode_ticks.saturating_add(head.edit_shift), head.timebase))
        })
        .min()?;
    (earliest.ticks() < 0).then(|| MediaTime::new(-earliest.ticks(), earliest.timebase()))
}

/// The order that merges per-track samples (each in decode order) by decode time, as the track
/// of each sample in turn; ties keep track order.
fn interleave(heads: &[TrackHead], per_track: &[Vec<SampleInfo>], lift: Option<MediaTime>) -> Vec<u8> {
    let total = per_track.iter().map(Vec::len).sum();
    let mut taken = vec![0usize; per_track.len()];
    let mut order = Vec::with_capacity(total);
    loop {
        let next = per_track
            .iter()
            .zip(heads)
            .enumerate()
            .filter_map(|(track, (samples, head))| {
                let info = samples.get(taken[track])?;
                let dts = MediaTime::new(info.decode_ticks.saturating_add(head.edit_shift), head.timebase);
                Some((track, lift.map_or(dts, |lift| dts + lift)))
            })
            .min_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let Some((track, _)) = next else { break };
        taken[track] += 1;
        // At most one video and one audio track are read, so a track number fits a byte.
        order.push(track as u8);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: [&[u8]; 4] = [
        include_bytes!("../../../tests/fixtures/mp4/h264_aac.mp4"),
        include_bytes!("../../../tests/fixtures/mp4/h264_aac_frag.mp4"),
        include_bytes!("../../../tests/fixtures/mp4/mp3.mp4"),
        include_bytes!("../../../tests/fixtures/mp4/opus.mp4"),
    ];
    use crate::codec::xorshift::XorShift;

    #[test]
    fn mutated_and_truncated_files_give_errors_not_panics() {
        let mut rng = XorShift::new(0x9e37_79b9_7f4a_7c15);
        let mut n_errors = 0;
        for round in 0..1200 {
            let mut file = FIXTURES[round % FIXTURES.len()].to_vec();
            match round % 3 {
                0 => file.truncate(rng.below(file.len())),
                1 => {
                    for _ in 0..1 + rng.below(8) {
                        let at = rng.below(file.len());
                        file[at] = rng.next_u64() as u8;
                    }
                }
                _ => {
                    // Hit box headers and table counts: write a large value at a random offset.
                    let at = rng.below(file.len() - 4);
                    let value = [0xffff_ffffu32, 0x7fff_ffff, 0, 1, 0x0100_0000][rng.below(5)];
                    file[at..at + 4].copy_from_slice(&value.to_be_bytes());
                }
            }
            let file = Bytes::from(file);
            if read_mp4(&file).is_err() {
                n_errors += 1;
            }
            let _ = super::super::faststart(&file);
        }
        // Truncations alone (a third of the rounds) nearly always cut a box.
        assert!(n_errors > 300, "only {n_errors} of 1200 damaged files were refused");
    }

    #[test]
    fn hostile_sample_count_is_refused_before_allocating() {
        let mut file = FIXTURES[2].to_vec();
        let stsz = file.windows(4).position(|window| window == b"stsz").unwrap();
        // stsz payload: version/flags, sample_size, sample_count.
        file[stsz + 8..stsz + 12].copy_from_slice(&1u32.to_be_bytes());
        file[stsz + 12..stsz + 16].copy_from_slice(&u32::MAX.to_be_bytes());
        let error = read_mp4(&Bytes::from(file)).unwrap_err();
        assert!(matches!(error, Mp4Error::TooMany { what: "stsz samples", .. }), "{error}");
    }

    #[test]
    fn scan_reads_box_headers_moov_and_moofs_but_no_media() {
        for fixture in FIXTURES {
            let mut scan = BoxScan::new(fixture.len() as u64);
            let mut boxes_read = Vec::new();
            while let Some((offset, len)) = scan.wanted() {
                if len as u64 > BOX_HEADER_PROBE {
                    boxes_read.push(offset..offset + len as u64);
                }
                scan.feed(Bytes::from_static(&fixture[offset as usize..offset as usize + len]));
            }
            let index = scan.finish().unwrap();
            let samples: Vec<IndexedSample> = index.samples().collect();
            assert!(!samples.is_empty());
            assert_eq!(samples.len(), index.n_samples());
            for sample in &samples {
                let media = sample.offset..sample.offset + u64::from(sample.size);
                let overlaps = boxes_read.iter().any(|read| read.start < media.end && media.start < read.end);
                assert!(!overlaps, "media at {media:?} was read with the boxes {boxes_read:?}");
            }
            let time = |x: &IndexedSample| timestamps(&index.heads[usize::from(x.track)], x, index.lift).0;
            let in_order = samples.windows(2).all(|pair| time(&pair[0]) <= time(&pair[1]));
            assert!(in_order, "samples go out in decode order");
        }
    }

    #[test]
    fn a_huge_moov_is_refused_before_reading_it() {
        let size = 100u64 << 30;
        let mut scan = BoxScan::new(size + 8);
        let mut header = vec![0, 0, 0, 1];
        header.extend_from_slice(b"moov");
        header.extend_from_slice(&size.to_be_bytes());
        assert_eq!(scan.wanted(), Some((0, 16)));
        scan.feed(Bytes::from(header));
        assert_eq!(scan.wanted(), None, "the moov is not asked for");
        let error = scan.finish().err().unwrap();
        assert!(
            matches!(error, Mp4Error::BoxTooLargeToRead { size: s, limit: MAX_MOOV_BYTES, .. } if s == size),
            "{error}"
        );
    }

    #[test]
    fn samples_past_the_end_of_a_truncated_file_are_dropped_and_counted() {
        // A faststart file (moov first) cut in its mdat: the moov is whole, the last samples are not.
        let whole = Bytes::from_static(FIXTURES[0]);
        let fast = super::super::faststart(&whole).unwrap();
        let cut = Bytes::copy_from_slice(&fast[..fast.len() * 3 / 4]);
        let mut scan = BoxScan::new(cut.len() as u64);
        while let Some((offset, len)) = scan.wanted() {
            scan.feed(cut.slice(offset as usize..offset as usize + len));
        }
        let mut index = scan.finish().unwrap();
        assert!(index.n_missing_samples() > 0);
        assert!(matches!(index.take_damage(), Some(Mp4Error::Truncated { .. })));
        let (partial, damage) = read_mp4_partial(&cut).unwrap();
        assert!(damage.is_some());
        let n_whole = read_mp4(&whole).unwrap().frames.len();
        assert_eq!(partial.frames.len() as u64 + index.n_missing_samples(), n_whole as u64);
    }

    #[test]
    fn short_nal_lengths_become_four_bytes() {
        let payload = [0, 2, 0x65, 0x88, 0, 1, 0x41];
        let converted = to_four_byte_lengths(&payload, 2, 0).unwrap();
        assert_eq!(converted.as_ref(), &[0, 0, 0, 2, 0x65, 0x88, 0, 0, 0, 1, 0x41]);
        let error = to_four_byte_lengths(&[0, 9, 1], 2, 100).unwrap_err();
        assert!(matches!(error, Mp4Error::Truncated { offset: 102, needed: 9, .. }));
    }
}
