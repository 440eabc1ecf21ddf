//! The MP4 demuxer: a whole file (classic or fragmented) in a byte buffer becomes a stream
//! description and its frames in decode order, audio and video interleaved by time.
//!
//! Timestamps stay in each track's own timescale; payloads are canonical (H.264/H.265 NAL units get
//! 4-byte lengths whatever the file used) and shared with the input buffer when no rewrite is needed.
//! Edit lists are not applied: decode times start where the sample tables say. Only the first video
//! and the first audio track are read, as a `StreamDescription` holds one of each.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::describe;
use crate::media::{AudioTrack, Codec, Frame, MediaKind, MediaTime, StreamDescription, Timebase, VideoTrack};

use super::boxes::{BoxIter, Mp4Box};
use super::error::{FourCc, Mp4Error};
use super::fragment_reader::{read_moof, read_trex, SampleDefaults, TrackSamples};
use super::sample_entry::{parse_stsd, SampleEntry};
use super::sample_table::{read_sample_table, SampleInfo};

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
    let file_len = file.len() as u64;
    let mut moov = None;
    let mut moofs = Vec::new();
    let mut damage = None;
    let mut last_was_moof = false;
    for found in BoxIter::new(file, 0) {
        match found {
            Ok(found) => {
                last_was_moof = found.is(b"moof");
                if found.is(b"moov") {
                    moov.get_or_insert(found);
                } else if last_was_moof {
                    moofs.push(found);
                }
            }
            Err(error) => {
                // A torn box right after a moof is that fragment's mdat: the fragment goes too.
                if last_was_moof {
                    moofs.pop();
                }
                damage = Some(error);
                break;
            }
        }
    }
    let moov = match (moov, damage) {
        (Some(moov), found_damage) => {
            damage = found_damage;
            moov
        }
        (None, Some(error)) => return Err(error),
        (None, None) => return Err(Mp4Error::MissingTopLevelBox(FourCc(*b"moov"))),
    };
    let (heads, mut samples) = read_tracks(&moov, file_len)?;
    for moof in &moofs {
        let kept: Vec<(usize, i64)> =
            samples.iter().map(|t| (t.samples.len(), t.next_decode_ticks)).collect();
        if let Err(error) = read_moof(moof, &mut samples, file_len) {
            // A fragment read halfway is dropped whole, so every track stops at the same fragment.
            for (track, (len, next)) in samples.iter_mut().zip(kept) {
                track.samples.truncate(len);
                track.next_decode_ticks = next;
            }
            damage.get_or_insert(error);
            break;
        }
    }
    let mut description = StreamDescription::default();
    let mut per_track_frames = Vec::new();
    for (head, samples) in heads.iter().zip(&samples) {
        let (frames, sample_damage) = frames_of(head, &samples.samples, file);
        if let Some(error) = sample_damage {
            damage.get_or_insert(error);
        }
        match head.entry.codec.kind() {
            MediaKind::Video => description.video = Some(describe_video(&head.entry)?),
            MediaKind::Audio => {
                let first_payload = frames.first().map(|frame| &frame.data);
                description.audio = Some(describe_audio(&head.entry, first_payload)?);
            }
        }
        per_track_frames.push(frames);
    }
    lift_to_non_negative(&mut per_track_frames);
    Ok((Mp4Contents { description, frames: interleave(per_track_frames) }, damage))
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

/// The track's frames up to the first sample that cannot be read, and that sample's error.
fn frames_of(track: &TrackHead, samples: &[SampleInfo], file: &Bytes) -> (Vec<Frame>, Option<Mp4Error>) {
    let codec = track.entry.codec;
    let audio = codec.kind() == MediaKind::Audio;
    let mut frames = Vec::with_capacity(samples.len());
    for sample in samples {
        let data = match slice_sample(file, sample) {
            Ok(payload) => match track.entry.nal_length_size {
                Some(length_size) if length_size != 4 => {
                    to_four_byte_lengths(&payload, length_size, sample.offset)
                }
                _ => Ok(payload),
            },
            Err(error) => Err(error),
        };
        let data = match data {
            Ok(data) => data,
            Err(error) => return (frames, Some(error)),
        };
        let decode_ticks = sample.decode_ticks.saturating_add(track.edit_shift);
        let dts = MediaTime::new(decode_ticks, track.timebase);
        let pts = MediaTime::new(decode_ticks.saturating_add(sample.composition_offset), track.timebase);
        frames.push(Frame { codec, dts, pts, keyframe: audio || sample.sync, data });
    }
    (frames, None)
}

fn slice_sample(file: &Bytes, sample: &SampleInfo) -> Result<Bytes, Mp4Error> {
    let end = sample.offset.saturating_add(u64::from(sample.size));
    if end > file.len() as u64 {
        return Err(Mp4Error::Truncated {
            offset: sample.offset,
            what: "sample",
            needed: u64::from(sample.size),
            available: (file.len() as u64).saturating_sub(sample.offset),
        });
    }
    // `end <= file.len()` was just checked, so both bounds fit usize and the slice is in range.
    Ok(file.slice(sample.offset as usize..end as usize))
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

/// Edit lists move decode times before zero (a B-frame delay skipped); moves every track by the
/// same amount so the earliest decode time is zero and the tracks keep their relative timing.
fn lift_to_non_negative(per_track: &mut [Vec<Frame>]) {
    let earliest = per_track.iter().filter_map(|frames| frames.first().map(|f| f.dts)).min();
    let Some(earliest) = earliest.filter(|t| t.ticks() < 0) else { return };
    let lift = MediaTime::new(-earliest.ticks(), earliest.timebase());
    for frame in per_track.iter_mut().flatten() {
        frame.dts = frame.dts + lift;
        frame.pts = frame.pts + lift;
    }
}

/// Merges per-track frame lists (each in decode order) by decode time; ties keep track order.
fn interleave(per_track: Vec<Vec<Frame>>) -> Vec<Frame> {
    let total = per_track.iter().map(Vec::len).sum();
    let mut iterators: Vec<_> = per_track.into_iter().map(|frames| frames.into_iter().peekable()).collect();
    let mut out = Vec::with_capacity(total);
    loop {
        let next = iterators
            .iter_mut()
            .enumerate()
            .filter_map(|(idx, frames)| frames.peek().map(|frame| (idx, frame.dts)))
            .min_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let Some((idx, _)) = next else { break };
        out.extend(iterators[idx].next());
    }
    out
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
    fn short_nal_lengths_become_four_bytes() {
        let payload = [0, 2, 0x65, 0x88, 0, 1, 0x41];
        let converted = to_four_byte_lengths(&payload, 2, 0).unwrap();
        assert_eq!(converted.as_ref(), &[0, 0, 0, 2, 0x65, 0x88, 0, 0, 0, 1, 0x41]);
        let error = to_four_byte_lengths(&[0, 9, 1], 2, 100).unwrap_err();
        assert!(matches!(error, Mp4Error::Truncated { offset: 102, needed: 9, .. }));
    }
}
