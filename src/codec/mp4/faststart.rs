//! Faststart: rewrite a classic MP4 whose `moov` follows `mdat` so that `moov` comes right after
//! `ftyp`, shifting every chunk offset by the bytes inserted before it.
//!
//! Two entry points: [`faststart`] for a whole file in memory, and [`faststart_moov`] for a host that
//! keeps the file on disk and only wants the relocated `moov` (it then writes ftyp, the new moov,
//! and copies the rest). Boxes other than the chunk offset tables are copied byte for byte.

use bytes::Bytes;

use super::boxes::{BoxIter, BoxWriter, Mp4Box};
use super::classic::write_chunk_offsets;
use super::error::{FourCc, Mp4Error};

/// Boxes on the path from `moov` to the chunk offset tables: the only ones rebuilt.
const CONTAINERS: [&[u8; 4]; 5] = [b"moov", b"trak", b"mdia", b"minf", b"stbl"];
/// Each pass can only turn more `stco` into `co64`, so the size settles within a few passes.
const MAX_PASSES: usize = 4;
/// Chunk offsets per table that faststart agrees to rewrite (more than any sane file has).
const MAX_CHUNKS_PER_TABLE: u32 = 1 << 24;

/// The whole file, moov first. A file whose `moov` already precedes its media data is returned as is.
pub fn faststart(file: &[u8]) -> Result<Vec<u8>, Mp4Error> {
    let top: Vec<Mp4Box<'_>> = BoxIter::new(file, 0).collect::<Result<_, _>>()?;
    let moov_idx =
        top.iter().position(|b| b.is(b"moov")).ok_or(Mp4Error::MissingTopLevelBox(FourCc(*b"moov")))?;
    let Some(first_mdat_idx) = top.iter().position(|b| b.is(b"mdat")) else {
        return Ok(file.to_vec());
    };
    if moov_idx < first_mdat_idx {
        return Ok(file.to_vec());
    }
    // Insert right after ftyp (and anything else before the first mdat).
    let insert_at = top[first_mdat_idx].offset;
    let moov = &top[moov_idx];
    let moov_start = moov.offset;
    let moov_end = moov.payload_offset + moov.payload.len() as u64;
    let moov_bytes = &file[moov_start as usize..moov_end as usize];
    let old_len = moov_end - moov_start;
    let new_moov = relocate(moov_bytes, moov_start, |offset, new_len| {
        if offset >= moov_end {
            // After the old moov: moved by the growth of moov only.
            offset.checked_add(new_len).and_then(|moved| moved.checked_sub(old_len))
        } else if offset >= insert_at {
            offset.checked_add(new_len)
        } else {
            Some(offset)
        }
    })?;
    let mut out = Vec::with_capacity(file.len() + new_moov.len() - moov_bytes.len());
    out.extend_from_slice(&file[..insert_at as usize]);
    out.extend_from_slice(&new_moov);
    out.extend_from_slice(&file[insert_at as usize..moov_start as usize]);
    out.extend_from_slice(&file[moov_end as usize..]);
    Ok(out)
}

/// A `moov` box (as found at the end of a file) rewritten for insertion at file offset `insert_at`:
/// every chunk offset at or after `insert_at` moves by the new moov's length.
pub fn faststart_moov(moov: &[u8], insert_at: u64) -> Result<Bytes, Mp4Error> {
    relocate(
        moov,
        0,
        |offset, new_len| if offset >= insert_at { offset.checked_add(new_len) } else { Some(offset) },
    )
    .map(Bytes::from)
}

/// For a host that inserts a range of whole blocks into the file at `insert_at` (the `mdat`
/// start, a multiple of `align`): the range's length and the bytes that begin it, the relocated
/// `moov` then a `free` box header whose payload is the rest of the range (the file system fills
/// an inserted range with zeros). Chunk offsets at or after `insert_at` move by the range's length.
pub fn faststart_insert(moov: &[u8], insert_at: u64, align: u64) -> Result<(u64, Bytes), Mp4Error> {
    let align = align.max(1);
    let round_up = |len: u64| len.div_ceil(align) * align;
    let mut range = round_up(moov.len() as u64 + 8);
    for _ in 0..MAX_PASSES {
        let moved = range;
        let rebuilt =
            relocate(
                moov,
                0,
                |offset, _| if offset >= insert_at { offset.checked_add(moved) } else { Some(offset) },
            )?;
        let needed = rebuilt.len() as u64 + 8;
        if needed <= range {
            let free_len = u32::try_from(range - rebuilt.len() as u64)
                .map_err(|_| Mp4Error::Faststart("alignment too large".into()))?;
            let mut head = rebuilt;
            head.extend_from_slice(&free_len.to_be_bytes());
            head.extend_from_slice(b"free");
            return Ok((range, Bytes::from(head)));
        }
        range = round_up(needed);
    }
    Err(Mp4Error::Faststart("moov size did not settle".into()))
}

/// Rebuilds `moov` with chunk offsets mapped by `map(offset, new_moov_len)`, iterating until the
/// moov length used for the mapping equals the length of the result.
fn relocate(
    moov: &[u8],
    moov_offset: u64,
    map: impl Fn(u64, u64) -> Option<u64>,
) -> Result<Vec<u8>, Mp4Error> {
    let root =
        BoxIter::new(moov, moov_offset).next().ok_or(Mp4Error::MissingTopLevelBox(FourCc(*b"moov")))??;
    if !root.is(b"moov") {
        return Err(Mp4Error::Faststart(format!("expected `moov`, found `{}`", root.fourcc)));
    }
    let mut assumed_len = moov.len() as u64;
    for _ in 0..MAX_PASSES {
        let mut writer = BoxWriter::default();
        rewrite_box(&mut writer, &root, &|offset| map(offset, assumed_len))?;
        let rebuilt = writer.finish()?;
        if rebuilt.len() as u64 == assumed_len {
            return Ok(rebuilt);
        }
        assumed_len = rebuilt.len() as u64;
    }
    Err(Mp4Error::Faststart("moov size did not settle".into()))
}

fn rewrite_box(
    writer: &mut BoxWriter,
    found: &Mp4Box<'_>,
    map: &dyn Fn(u64) -> Option<u64>,
) -> Result<(), Mp4Error> {
    if CONTAINERS.iter().any(|code| found.is(code)) {
        writer.begin(&found.fourcc.0);
        for child in found.children() {
            rewrite_box(writer, &child?, map)?;
        }
        writer.end();
        return Ok(());
    }
    if found.is(b"stco") || found.is(b"co64") {
        let wide = found.is(b"co64");
        let mut cursor = found.cursor();
        cursor.version_flags("chunk offset table")?;
        let count_offset = cursor.offset();
        let count = cursor.u32("chunk offset count")?;
        let entry_len = if wide { 8 } else { 4 };
        if count > MAX_CHUNKS_PER_TABLE || count as usize * entry_len > cursor.remaining() {
            return Err(Mp4Error::TooMany {
                offset: count_offset,
                what: "chunk offsets",
                count: u64::from(count),
                limit: (cursor.remaining() / entry_len) as u64,
            });
        }
        let mut offsets = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let offset = if wide { cursor.u64("co64 entry")? } else { u64::from(cursor.u32("stco entry")?) };
            offsets.push(
                map(offset)
                    .ok_or_else(|| Mp4Error::Faststart(format!("chunk offset {offset} cannot move")))?,
            );
        }
        write_chunk_offsets(writer, offsets.into_iter());
        return Ok(());
    }
    writer.begin(&found.fourcc.0);
    writer.bytes(found.payload);
    writer.end();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal moov/trak/mdia/minf/stbl chain holding one stco with the given offsets.
    fn moov_with_offsets(offsets: &[u32]) -> Vec<u8> {
        let mut writer = BoxWriter::default();
        for container in CONTAINERS {
            writer.begin(container);
        }
        writer.begin_full(b"stco", 0, 0);
        writer.u32(offsets.len() as u32);
        offsets.iter().for_each(|offset| writer.u32(*offset));
        writer.end();
        for _ in CONTAINERS {
            writer.end();
        }
        writer.finish().unwrap()
    }

    fn chunk_table(moov: &[u8]) -> Mp4Box<'_> {
        let mut current = BoxIter::new(moov, 0).next().unwrap().unwrap();
        for container in &CONTAINERS[1..] {
            current = current.require(container).unwrap();
        }
        current.children().next().unwrap().unwrap()
    }

    #[test]
    fn offsets_after_the_insertion_point_move_by_the_new_moov_length() {
        let moov = moov_with_offsets(&[10, 500]);
        let moved = faststart_moov(&moov, 100).unwrap();
        assert_eq!(moved.len(), moov.len());
        let stco = chunk_table(&moved);
        assert!(stco.is(b"stco"));
        let shift = moov.len() as u32;
        assert_eq!(&stco.payload[8..16], &[&10u32.to_be_bytes()[..], &(500 + shift).to_be_bytes()].concat());
    }

    #[test]
    fn offsets_pushed_past_four_gib_switch_the_table_to_co64() {
        let moov = moov_with_offsets(&[u32::MAX - 10]);
        let moved = faststart_moov(&moov, 0).unwrap();
        let co64 = chunk_table(&moved);
        assert!(co64.is(b"co64"));
        // The shift is the length of the rewritten (larger) moov, not of the original one.
        let expected = u64::from(u32::MAX - 10) + moved.len() as u64;
        assert_eq!(&co64.payload[8..16], &expected.to_be_bytes());
    }

    #[test]
    fn moov_first_file_is_returned_unchanged() {
        let mut file = moov_with_offsets(&[40]);
        file.extend_from_slice(&[0, 0, 0, 9, b'm', b'd', b'a', b't', 1]);
        assert_eq!(faststart(&file).unwrap(), file);
        assert!(matches!(faststart(&file[..8]), Err(Mp4Error::Truncated { offset: 0, .. })));
    }
}
