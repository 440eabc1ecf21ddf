//! Movie fragments read back: `mvex/trex` defaults and each `moof`'s `traf` boxes (tfhd, tfdt, trun)
//! expanded into per-sample records appended to their track.
//!
//! It resolves data offsets the ways writers use them (explicit base offset, default-base-is-moof,
//! or continuing after the previous run) and bounds every sample count by the bytes that back it.
//! Sample payloads are not touched here; `reader.rs` slices them out.

use super::boxes::Mp4Box;
use super::error::Mp4Error;
use super::sample_table::{SampleInfo, MAX_SAMPLES_PER_TRACK};

const TFHD_BASE_DATA_OFFSET: u32 = 0x01;
const TFHD_DESCRIPTION_INDEX: u32 = 0x02;
const TFHD_DEFAULT_DURATION: u32 = 0x08;
const TFHD_DEFAULT_SIZE: u32 = 0x10;
const TFHD_DEFAULT_FLAGS: u32 = 0x20;
const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
const TRUN_DATA_OFFSET: u32 = 0x01;
const TRUN_FIRST_SAMPLE_FLAGS: u32 = 0x04;
const TRUN_DURATION: u32 = 0x100;
const TRUN_SIZE: u32 = 0x200;
const TRUN_FLAGS: u32 = 0x400;
const TRUN_COMPOSITION_OFFSET: u32 = 0x800;
/// `sample_is_non_sync_sample` in the sample flags.
const SAMPLE_NON_SYNC: u32 = 0x0001_0000;

/// Per-sample values a fragment may leave out.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SampleDefaults {
    pub(crate) duration: u32,
    pub(crate) size: u32,
    pub(crate) flags: u32,
}

/// One track's samples as fragments are read, with where its decode time has got to.
#[derive(Debug)]
pub(crate) struct TrackSamples {
    pub(crate) track_id: u32,
    pub(crate) defaults: SampleDefaults,
    pub(crate) samples: Vec<SampleInfo>,
    pub(crate) next_decode_ticks: i64,
}

/// `trex` defaults by track id.
pub(crate) fn read_trex(mvex: &Mp4Box<'_>) -> Result<Vec<(u32, SampleDefaults)>, Mp4Error> {
    let mut out = Vec::new();
    for child in mvex.children() {
        let child = child?;
        if !child.is(b"trex") {
            continue;
        }
        let mut cursor = child.cursor();
        cursor.version_flags("trex")?;
        let track_id = cursor.u32("trex track id")?;
        cursor.u32("trex description index")?;
        let duration = cursor.u32("trex duration")?;
        let size = cursor.u32("trex size")?;
        let flags = cursor.u32("trex flags")?;
        out.push((track_id, SampleDefaults { duration, size, flags }));
    }
    Ok(out)
}

/// Appends the samples of every `traf` in `moof` to the matching track; unknown tracks are skipped.
pub(crate) fn read_moof(
    moof: &Mp4Box<'_>,
    tracks: &mut [TrackSamples],
    file_len: u64,
) -> Result<(), Mp4Error> {
    let mut previous_traf_end: Option<u64> = None;
    for traf in moof.children() {
        let traf = traf?;
        if !traf.is(b"traf") {
            continue;
        }
        let tfhd = traf.require(b"tfhd")?;
        let mut cursor = tfhd.cursor();
        let (_, flags) = cursor.version_flags("tfhd")?;
        let track_id = cursor.u32("tfhd track id")?;
        let Some(track) = tracks.iter_mut().find(|track| track.track_id == track_id) else { continue };
        let base = if flags & TFHD_BASE_DATA_OFFSET != 0 {
            cursor.u64("tfhd base data offset")?
        } else if flags & TFHD_DEFAULT_BASE_IS_MOOF != 0 {
            moof.offset
        } else {
            previous_traf_end.unwrap_or(moof.offset)
        };
        if flags & TFHD_DESCRIPTION_INDEX != 0 {
            cursor.u32("tfhd description index")?;
        }
        let mut defaults = track.defaults;
        if flags & TFHD_DEFAULT_DURATION != 0 {
            defaults.duration = cursor.u32("tfhd default duration")?;
        }
        if flags & TFHD_DEFAULT_SIZE != 0 {
            defaults.size = cursor.u32("tfhd default size")?;
        }
        if flags & TFHD_DEFAULT_FLAGS != 0 {
            defaults.flags = cursor.u32("tfhd default flags")?;
        }
        if let Some(tfdt) = traf.child(b"tfdt")? {
            let mut cursor = tfdt.cursor();
            let (version, _) = cursor.version_flags("tfdt")?;
            let time = cursor.u32_or_u64(version, "tfdt base decode time")?;
            track.next_decode_ticks = i64::try_from(time).map_err(|_| Mp4Error::Invalid {
                offset: tfdt.payload_offset,
                what: "tfdt",
                reason: format!("decode time {time} out of range"),
            })?;
        }
        let mut data_position = base;
        for trun in traf.children() {
            let trun = trun?;
            if trun.is(b"trun") {
                data_position = read_trun(&trun, base, data_position, defaults, track, file_len)?;
            }
        }
        previous_traf_end = Some(data_position);
    }
    Ok(())
}

/// Reads one `trun`; returns the file offset just after its samples' data.
fn read_trun(
    trun: &Mp4Box<'_>,
    base: u64,
    data_position: u64,
    defaults: SampleDefaults,
    track: &mut TrackSamples,
    file_len: u64,
) -> Result<u64, Mp4Error> {
    let mut cursor = trun.cursor();
    let (version, flags) = cursor.version_flags("trun")?;
    let count_offset = cursor.offset();
    let count = u64::from(cursor.u32("trun sample count")?);
    let mut position = if flags & TRUN_DATA_OFFSET != 0 {
        let relative = i64::from(cursor.i32("trun data offset")?);
        base.checked_add_signed(relative).ok_or(Mp4Error::Invalid {
            offset: count_offset + 4,
            what: "trun data offset",
            reason: format!("{relative} from base {base} is before the file start"),
        })?
    } else {
        data_position
    };
    let first_flags =
        if flags & TRUN_FIRST_SAMPLE_FLAGS != 0 { Some(cursor.u32("trun first flags")?) } else { None };
    let per_sample_fields = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_COMPOSITION_OFFSET];
    let per_sample_len = per_sample_fields.iter().filter(|field| flags & **field != 0).count() * 4;
    // Every sample either has bytes in this box or (with only defaults) at least a place in the file.
    let backed = cursor.remaining().checked_div(per_sample_len).map_or(file_len, |n| n as u64);
    let track_room = MAX_SAMPLES_PER_TRACK.min(file_len).saturating_sub(track.samples.len() as u64);
    let limit = backed.min(track_room);
    if count > limit {
        return Err(Mp4Error::TooMany { offset: count_offset, what: "trun samples", count, limit });
    }
    track.samples.reserve(count as usize);
    for index in 0..count {
        let duration =
            if flags & TRUN_DURATION != 0 { cursor.u32("trun sample duration")? } else { defaults.duration };
        let size = if flags & TRUN_SIZE != 0 { cursor.u32("trun sample size")? } else { defaults.size };
        let mut sample_flags =
            if flags & TRUN_FLAGS != 0 { cursor.u32("trun sample flags")? } else { defaults.flags };
        if index == 0 {
            sample_flags = first_flags.unwrap_or(sample_flags);
        }
        let composition_offset = if flags & TRUN_COMPOSITION_OFFSET != 0 {
            let raw = cursor.u32("trun composition offset")?;
            // Version 1 offsets are signed; version 0 ones are not, by the letter of the spec.
            if version == 0 {
                i32::try_from(raw).unwrap_or(i32::MAX)
            } else {
                raw as i32
            }
        } else {
            0
        };
        track.samples.push(SampleInfo {
            offset: position,
            size,
            decode_ticks: track.next_decode_ticks,
            composition_offset,
            sync: sample_flags & SAMPLE_NON_SYNC == 0,
        });
        track.next_decode_ticks = track.next_decode_ticks.saturating_add(i64::from(duration));
        position = position.saturating_add(u64::from(size));
    }
    Ok(position)
}
