//! Classic sample tables read back: `stbl` (stts, ctts, stss, stsz, stsc, stco/co64) expanded into
//! one record per sample with its file offset, size, decode time, composition offset and sync flag.
//!
//! Counts come from the file, so each table's declared entry count is checked against the bytes the
//! table really holds, and the sample count against a fixed limit and the file size: a hostile file
//! cannot make the reader allocate more than a small multiple of its own size.

use super::boxes::{Cursor, Mp4Box};
use super::error::Mp4Error;

/// More samples than this in one track is refused (about 77 hours of 60 fps video).
pub(crate) const MAX_SAMPLES_PER_TRACK: u64 = 1 << 24;

/// One sample of a track, wherever it came from (sample tables or fragments). Packed: an MP4
/// input's index holds one per sample for the whole run (an hour of 25 fps video and 44.1 kHz AAC
/// is 250 000), and 25 bytes each instead of 32 (alignment padding after `sync`) is a fifth less.
/// Fields are copied out, never borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed)]
pub(crate) struct SampleInfo {
    pub(crate) offset: u64,
    pub(crate) decode_ticks: i64,
    pub(crate) size: u32,
    /// 32 bits as in every table that carries it (an hour of samples is held in memory).
    pub(crate) composition_offset: i32,
    pub(crate) sync: bool,
}

/// Reads a table header (version/flags and entry count) and checks the entries fit the box.
pub(crate) fn table_entries<'a>(
    table: &Mp4Box<'a>,
    entry_len: usize,
    what: &'static str,
) -> Result<(u8, u32, Cursor<'a>), Mp4Error> {
    let mut cursor = table.cursor();
    let (version, _) = cursor.version_flags(what)?;
    let count_offset = cursor.offset();
    let count = cursor.u32(what)?;
    let limit = cursor.remaining() / entry_len;
    if count as usize > limit {
        return Err(Mp4Error::TooMany {
            offset: count_offset,
            what,
            count: u64::from(count),
            limit: limit as u64,
        });
    }
    Ok((version, count, cursor))
}

/// Expands a classic `stbl` into per-sample records. `file_len` bounds sample counts and sizes.
pub(crate) fn read_sample_table(stbl: &Mp4Box<'_>, file_len: u64) -> Result<Vec<SampleInfo>, Mp4Error> {
    let sizes = read_sizes(&stbl.require(b"stsz")?, file_len)?;
    let n_samples = sizes.len();
    let mut samples: Vec<SampleInfo> = sizes
        .iter()
        .map(|size| SampleInfo { offset: 0, size: *size, decode_ticks: 0, composition_offset: 0, sync: true })
        .collect();

    let (_, n_entries, mut stts) = table_entries(&stbl.require(b"stts")?, 8, "stts")?;
    let mut index = 0;
    let mut ticks: i64 = 0;
    let mut delta: i64 = 0;
    for _ in 0..n_entries {
        let count = stts.u32("stts count")?;
        delta = i64::from(stts.u32("stts delta")?);
        for _ in 0..count {
            let Some(sample) = samples.get_mut(index) else { break };
            sample.decode_ticks = ticks;
            ticks = ticks.saturating_add(delta);
            index += 1;
        }
    }
    // Samples the table forgot keep the last duration rather than piling up at one time.
    for sample in samples.iter_mut().skip(index) {
        sample.decode_ticks = ticks;
        ticks = ticks.saturating_add(delta);
    }

    if let Some(ctts) = stbl.child(b"ctts")? {
        let (_, n_entries, mut cursor) = table_entries(&ctts, 8, "ctts")?;
        let mut index = 0;
        for _ in 0..n_entries {
            let count = cursor.u32("ctts count")?;
            // Version 0 is unsigned by the letter of the spec, but writers put negative values in it.
            let offset = cursor.i32("ctts offset")?;
            for _ in 0..count {
                let Some(sample) = samples.get_mut(index) else { break };
                sample.composition_offset = offset;
                index += 1;
            }
        }
    }

    if let Some(stss) = stbl.child(b"stss")? {
        let (_, n_entries, mut cursor) = table_entries(&stss, 4, "stss")?;
        samples.iter_mut().for_each(|sample| sample.sync = false);
        for _ in 0..n_entries {
            let number = cursor.u32("stss sample number")? as usize;
            if let Some(sample) = number.checked_sub(1).and_then(|index| samples.get_mut(index)) {
                sample.sync = true;
            }
        }
    }

    let chunk_offsets = read_chunk_offsets(stbl)?;
    let (_, n_entries, mut stsc) = table_entries(&stbl.require(b"stsc")?, 12, "stsc")?;
    let mut runs = Vec::with_capacity(n_entries as usize);
    for _ in 0..n_entries {
        let first_chunk = stsc.u32("stsc first chunk")?;
        let samples_per_chunk = stsc.u32("stsc samples per chunk")?;
        stsc.u32("stsc description index")?;
        runs.push((first_chunk, samples_per_chunk));
    }
    let mut index = 0;
    // Runs are sorted by first chunk, and chunks are visited in order: one pass over both.
    let mut run_idx = 0;
    for (chunk_idx, chunk_offset) in chunk_offsets.iter().enumerate() {
        if index >= n_samples {
            break;
        }
        let chunk_number = chunk_idx as u64 + 1;
        while runs.get(run_idx + 1).is_some_and(|(first, _)| u64::from(*first) <= chunk_number) {
            run_idx += 1;
        }
        let per_chunk =
            runs.get(run_idx).filter(|(first, _)| u64::from(*first) <= chunk_number).map_or(0, |r| r.1);
        let mut offset = *chunk_offset;
        for _ in 0..per_chunk {
            let Some(sample) = samples.get_mut(index) else { break };
            sample.offset = offset;
            offset = offset.saturating_add(u64::from(sample.size));
            index += 1;
        }
    }
    if index < n_samples {
        return Err(Mp4Error::Invalid {
            offset: stbl.offset,
            what: "stbl",
            reason: format!("chunks hold {index} of {n_samples} samples"),
        });
    }
    Ok(samples)
}

fn read_sizes(stsz: &Mp4Box<'_>, file_len: u64) -> Result<Vec<u32>, Mp4Error> {
    let mut cursor = stsz.cursor();
    cursor.version_flags("stsz")?;
    let constant_size = cursor.u32("stsz sample size")?;
    let count_offset = cursor.offset();
    let count = u64::from(cursor.u32("stsz sample count")?);
    let limit = if constant_size == 0 {
        (cursor.remaining() / 4) as u64
    } else {
        file_len / u64::from(constant_size)
    }
    .min(MAX_SAMPLES_PER_TRACK);
    if count > limit {
        return Err(Mp4Error::TooMany { offset: count_offset, what: "stsz samples", count, limit });
    }
    if constant_size != 0 {
        return Ok(vec![constant_size; count as usize]);
    }
    (0..count).map(|_| cursor.u32("stsz entry")).collect()
}

fn read_chunk_offsets(stbl: &Mp4Box<'_>) -> Result<Vec<u64>, Mp4Error> {
    if let Some(stco) = stbl.child(b"stco")? {
        let (_, count, mut cursor) = table_entries(&stco, 4, "stco")?;
        return (0..count).map(|_| cursor.u32("stco entry").map(u64::from)).collect();
    }
    let co64 = stbl.require(b"co64")?;
    let (_, count, mut cursor) = table_entries(&co64, 8, "co64")?;
    (0..count).map(|_| cursor.u64("co64 entry")).collect()
}
