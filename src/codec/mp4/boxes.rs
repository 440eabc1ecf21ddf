//! ISO BMFF box plumbing: a writer that patches box sizes when a box closes, and a bounds-checked
//! reader that walks boxes and reads big-endian fields over a byte slice.
//!
//! Both know nothing of particular boxes; the layouts of `moov`, `moof` and the sample tables live in
//! the files that build or parse them. Every read names the absolute file offset it failed at.

use super::error::{FourCc, Mp4Error};

/// Builds nested boxes into one buffer; `begin` writes a placeholder size that `end` patches.
#[derive(Debug, Default)]
pub(crate) struct BoxWriter {
    buf: Vec<u8>,
    open: Vec<(usize, FourCc)>,
    too_large: Option<FourCc>,
}

impl BoxWriter {
    pub(crate) fn with_capacity(capacity: usize) -> BoxWriter {
        BoxWriter { buf: Vec::with_capacity(capacity), ..BoxWriter::default() }
    }

    pub(crate) fn begin(&mut self, fourcc: &[u8; 4]) {
        self.open.push((self.buf.len(), FourCc(*fourcc)));
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.buf.extend_from_slice(fourcc);
    }

    /// Opens a "full box": a box whose payload starts with a version byte and 24 bits of flags.
    pub(crate) fn begin_full(&mut self, fourcc: &[u8; 4], version: u8, flags: u32) {
        self.begin(fourcc);
        self.u8(version);
        self.u24(flags);
    }

    /// Closes the innermost open box. Extra calls are ignored; `finish` reports unbalanced use.
    pub(crate) fn end(&mut self) {
        let Some((start, fourcc)) = self.open.pop() else { return };
        let size = self.buf.len() - start;
        match u32::try_from(size) {
            Ok(size) => self.buf[start..start + 4].copy_from_slice(&size.to_be_bytes()),
            Err(_) => self.too_large = Some(fourcc),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.buf.push(value);
    }

    pub(crate) fn u16(&mut self, value: u16) {
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn u24(&mut self, value: u32) {
        self.buf.extend_from_slice(&value.to_be_bytes()[1..]);
    }

    pub(crate) fn u32(&mut self, value: u32) {
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn i32(&mut self, value: i32) {
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn bytes(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    pub(crate) fn zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, 0);
    }

    /// Overwrites a big-endian u32 written earlier (a forward reference such as `trun` data_offset).
    pub(crate) fn patch_u32(&mut self, position: usize, value: u32) {
        if let Some(slot) = self.buf.get_mut(position..position + 4) {
            slot.copy_from_slice(&value.to_be_bytes());
        }
    }

    pub(crate) fn finish(self) -> Result<Vec<u8>, Mp4Error> {
        if let Some(fourcc) = self.too_large {
            return Err(Mp4Error::BoxTooLarge(fourcc));
        }
        if let Some((_, fourcc)) = self.open.last() {
            return Err(Mp4Error::Invalid {
                offset: 0,
                what: "box writer",
                reason: format!("box `{fourcc}` left open"),
            });
        }
        Ok(self.buf)
    }
}

/// One box found in a byte slice: its code, where it starts in the file, and its payload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mp4Box<'a> {
    pub(crate) fourcc: FourCc,
    /// Absolute offset of the box's first byte (its size field).
    pub(crate) offset: u64,
    /// Absolute offset of the payload's first byte.
    pub(crate) payload_offset: u64,
    pub(crate) payload: &'a [u8],
}

impl<'a> Mp4Box<'a> {
    pub(crate) fn is(&self, fourcc: &[u8; 4]) -> bool {
        self.fourcc.0 == *fourcc
    }

    pub(crate) fn children(&self) -> BoxIter<'a> {
        BoxIter::new(self.payload, self.payload_offset)
    }

    /// A cursor over the payload, for reading fields.
    pub(crate) fn cursor(&self) -> Cursor<'a> {
        Cursor::new(self.payload, self.payload_offset)
    }

    /// The first child with this code, if any.
    pub(crate) fn child(&self, fourcc: &[u8; 4]) -> Result<Option<Mp4Box<'a>>, Mp4Error> {
        for child in self.children() {
            let child = child?;
            if child.is(fourcc) {
                return Ok(Some(child));
            }
        }
        Ok(None)
    }

    /// The first child with this code, or an error naming the parent.
    pub(crate) fn require(&self, fourcc: &[u8; 4]) -> Result<Mp4Box<'a>, Mp4Error> {
        self.child(fourcc)?.ok_or(Mp4Error::MissingBox {
            offset: self.offset,
            parent: self.fourcc,
            child: FourCc(*fourcc),
        })
    }
}

/// Header of a box: its code, total size and header length, read without touching the payload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BoxHeader {
    pub(crate) fourcc: FourCc,
    /// Total size; `None` when the box extends to the end of the file (size field 0).
    pub(crate) size: Option<u64>,
    pub(crate) header_len: usize,
}

/// Reads a box header from the start of `data` (which begins at absolute `offset`).
pub(crate) fn read_box_header(data: &[u8], offset: u64) -> Result<BoxHeader, Mp4Error> {
    let mut cursor = Cursor::new(data, offset);
    let size32 = cursor.u32("box header")?;
    let fourcc = FourCc(cursor.fourcc("box header")?);
    let (size, header_len) = match size32 {
        0 => (None, 8),
        1 => (Some(cursor.u64("box largesize")?), 16),
        n => (Some(u64::from(n)), 8),
    };
    if let Some(size) = size {
        if size < header_len as u64 {
            return Err(Mp4Error::BadBoxSize { offset, fourcc, size });
        }
    }
    Ok(BoxHeader { fourcc, size, header_len })
}

/// Iterates the boxes laid end to end in a slice. Stops at the first error.
#[derive(Debug, Clone)]
pub(crate) struct BoxIter<'a> {
    data: &'a [u8],
    position: usize,
    base: u64,
    failed: bool,
}

impl<'a> BoxIter<'a> {
    pub(crate) fn new(data: &'a [u8], base: u64) -> BoxIter<'a> {
        BoxIter { data, position: 0, base, failed: false }
    }
}

impl<'a> Iterator for BoxIter<'a> {
    type Item = Result<Mp4Box<'a>, Mp4Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.position >= self.data.len() {
            return None;
        }
        let rest = &self.data[self.position..];
        let offset = self.base + self.position as u64;
        let result = read_box_header(rest, offset).and_then(|header| {
            let size = header.size.unwrap_or(rest.len() as u64);
            if size > rest.len() as u64 {
                return Err(Mp4Error::Truncated {
                    offset,
                    what: "box",
                    needed: size,
                    available: rest.len() as u64,
                });
            }
            // `size <= rest.len()` was just checked, so the cast and slice are in range.
            let size = size as usize;
            Ok(Mp4Box {
                fourcc: header.fourcc,
                offset,
                payload_offset: offset + header.header_len as u64,
                payload: &rest[header.header_len..size],
            })
        });
        match &result {
            Ok(found) => {
                self.position += found.payload.len() + (found.payload_offset - found.offset) as usize
            }
            Err(_) => self.failed = true,
        }
        Some(result)
    }
}

/// Reads big-endian fields from a slice, failing with the absolute offset instead of panicking.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    position: usize,
    base: u64,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(data: &'a [u8], base: u64) -> Cursor<'a> {
        Cursor { data, position: 0, base }
    }

    /// Absolute file offset of the next byte to read.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.position as u64
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.position
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Mp4Error> {
        if n > self.remaining() {
            return Err(Mp4Error::Truncated {
                offset: self.offset(),
                what,
                needed: n as u64,
                available: self.remaining() as u64,
            });
        }
        let taken = &self.data[self.position..self.position + n];
        self.position += n;
        Ok(taken)
    }

    pub(crate) fn skip(&mut self, n: usize, what: &'static str) -> Result<(), Mp4Error> {
        self.take(n, what).map(|_| ())
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let rest = &self.data[self.position..];
        self.position = self.data.len();
        rest
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Mp4Error> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, Mp4Error> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, Mp4Error> {
        self.array(what).map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, Mp4Error> {
        self.array(what).map(u32::from_be_bytes)
    }

    pub(crate) fn i32(&mut self, what: &'static str) -> Result<i32, Mp4Error> {
        self.array(what).map(i32::from_be_bytes)
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, Mp4Error> {
        self.array(what).map(u64::from_be_bytes)
    }

    pub(crate) fn fourcc(&mut self, what: &'static str) -> Result<[u8; 4], Mp4Error> {
        self.array(what)
    }

    /// Reads a full box's version and flags.
    pub(crate) fn version_flags(&mut self, what: &'static str) -> Result<(u8, u32), Mp4Error> {
        let word = self.u32(what)?;
        Ok(((word >> 24) as u8, word & 0x00ff_ffff))
    }

    /// Reads a u32 (version 0) or u64 (version 1) field, as `mdhd`, `tkhd` and `tfdt` do.
    pub(crate) fn u32_or_u64(&mut self, version: u8, what: &'static str) -> Result<u64, Mp4Error> {
        if version == 1 {
            self.u64(what)
        } else {
            self.u32(what).map(u64::from)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_patches_nested_sizes() {
        let mut writer = BoxWriter::default();
        writer.begin(b"moov");
        writer.begin_full(b"mvhd", 1, 0x000102);
        writer.u32(7);
        writer.end();
        writer.end();
        let bytes = writer.finish().unwrap();
        assert_eq!(&bytes[0..8], &[0, 0, 0, 24, b'm', b'o', b'o', b'v']);
        assert_eq!(&bytes[8..16], &[0, 0, 0, 16, b'm', b'v', b'h', b'd']);
        assert_eq!(&bytes[16..20], &[1, 0, 1, 2]);
        assert_eq!(&bytes[20..24], &[0, 0, 0, 7]);
    }

    #[test]
    fn writer_reports_open_box() {
        let mut writer = BoxWriter::default();
        writer.begin(b"moov");
        assert!(matches!(writer.finish(), Err(Mp4Error::Invalid { .. })));
    }

    #[test]
    fn iterator_reads_largesize_and_to_end_boxes() {
        let mut data = vec![0, 0, 0, 1, b'f', b'r', b'e', b'e', 0, 0, 0, 0, 0, 0, 0, 18, 0xaa, 0xbb];
        data.extend_from_slice(&[0, 0, 0, 0, b'm', b'd', b'a', b't', 1, 2, 3]);
        let boxes: Vec<_> = BoxIter::new(&data, 100).collect::<Result<_, _>>().unwrap();
        assert_eq!(boxes.len(), 2);
        assert_eq!(boxes[0].payload, &[0xaa, 0xbb]);
        assert_eq!(boxes[0].payload_offset, 116);
        assert!(boxes[1].is(b"mdat"));
        assert_eq!(boxes[1].offset, 118);
        assert_eq!(boxes[1].payload, &[1, 2, 3]);
    }

    #[test]
    fn iterator_names_offset_of_truncated_and_undersized_boxes() {
        let data = [0, 0, 0, 8, b'f', b'r', b'e', b'e', 0, 0, 0, 40, b'm', b'o', b'o', b'v'];
        let results: Vec<_> = BoxIter::new(&data, 0).collect();
        assert_eq!(results.len(), 2);
        assert!(matches!(results[1], Err(Mp4Error::Truncated { offset: 8, needed: 40, .. })));
        let undersized = [0, 0, 0, 4, b'f', b'r', b'e', b'e'];
        let first = BoxIter::new(&undersized, 0).next().unwrap();
        assert!(matches!(first, Err(Mp4Error::BadBoxSize { offset: 0, size: 4, .. })));
    }

    #[test]
    fn cursor_reports_offset_on_short_read() {
        let mut cursor = Cursor::new(&[1, 2, 3], 50);
        assert_eq!(cursor.u16("x").unwrap(), 0x0102);
        let error = cursor.u32("field").unwrap_err();
        assert!(matches!(error, Mp4Error::Truncated { offset: 52, needed: 4, available: 1, .. }));
    }
}
