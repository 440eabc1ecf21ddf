//! A bounds-checked big-endian reader over one tag body, shared by the video and audio header parsers.
//!
//! It knows nothing about FLV semantics; it only turns a short body into `FlvError::BodyTooShort`.

use super::FlvError;

pub(super) struct BodyCursor<'a> {
    data: &'a [u8],
    pos: usize,
    /// "video" or "audio", for error messages.
    what: &'static str,
}

impl<'a> BodyCursor<'a> {
    pub(super) fn new(data: &'a [u8], what: &'static str) -> BodyCursor<'a> {
        BodyCursor { data, pos: 0, what }
    }

    pub(super) fn position(&self) -> usize {
        self.pos
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], FlvError> {
        let end = self.pos + n;
        let Some(slice) = self.data.get(self.pos..end) else {
            return Err(FlvError::BodyTooShort { what: self.what, len: self.data.len(), needed: end });
        };
        self.pos = end;
        Ok(slice)
    }

    pub(super) fn u8(&mut self) -> Result<u8, FlvError> {
        Ok(self.take(1)?[0])
    }

    pub(super) fn u16(&mut self) -> Result<u16, FlvError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(super) fn u24(&mut self) -> Result<u32, FlvError> {
        let b = self.take(3)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    /// A signed 24-bit value (the composition time offset).
    pub(super) fn i24(&mut self) -> Result<i32, FlvError> {
        let raw = self.u24()?;
        // Shift the sign bit of the 24-bit value into bit 31, then back with sign extension.
        Ok(((raw << 8) as i32) >> 8)
    }

    pub(super) fn fourcc(&mut self) -> Result<[u8; 4], FlvError> {
        let b = self.take(4)?;
        Ok([b[0], b[1], b[2], b[3]])
    }
}

/// Reads the Enhanced RTMP v2 "ModEx" prefix chain that may precede the real packet type, returning the
/// final packet type and the timestamp offset in nanoseconds it carried (0 when none).
pub(super) fn read_mod_ex(
    cursor: &mut BodyCursor<'_>,
    mod_ex_packet_type: u8,
) -> Result<(u8, u32), FlvError> {
    // Every modifier costs at least two bytes, so a body cannot make this loop run unbounded.
    let mut nanos = 0;
    loop {
        let mut size = usize::from(cursor.u8()?) + 1;
        if size == 256 {
            size = usize::from(cursor.u16()?) + 1;
        }
        let data = cursor.take(size)?;
        let next = cursor.u8()?;
        let (mod_ex_type, packet_type) = (next >> 4, next & 0x0f);
        const TIMESTAMP_OFFSET_NANO: u8 = 0;
        if mod_ex_type == TIMESTAMP_OFFSET_NANO && data.len() >= 3 {
            nanos = u32::from_be_bytes([0, data[0], data[1], data[2]]);
        }
        if packet_type != mod_ex_packet_type {
            return Ok((packet_type, nanos));
        }
    }
}
