//! A big-endian bit reader over a byte slice, exp-Golomb codes, and emulation-prevention removal.
//!
//! This is the shared tool for reading H.264/H.265 parameter sets, AAC AudioSpecificConfig, AV1 sequence
//! headers and the like. It reads only; it never allocates except in `unescape_rbsp`, and every read past
//! the end of data is a `BitsError`, never a panic. It knows nothing about any particular codec.

use thiserror::Error;

/// Longest exp-Golomb prefix we accept: 31 leading zeros already encode values near `u32::MAX`.
const MAX_EXP_GOLOMB_LEADING_ZEROS: u32 = 31;

/// What can go wrong while reading bits.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BitsError {
    #[error("end of data at bit {bit_offset} while reading {wanted} bits")]
    EndOfData { bit_offset: usize, wanted: u32 },
    #[error("read of {0} bits at once is more than 32")]
    TooManyBits(u32),
    #[error("exp-golomb code at bit {0} has more than 31 leading zeros")]
    ExpGolombTooLong(usize),
}

/// Reads bits most-significant first from a byte slice.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits from the start of `data`.
    bit_offset: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> BitReader<'a> {
        BitReader { data, bit_offset: 0 }
    }

    /// Position in bits from the start of the data.
    pub fn bit_offset(&self) -> usize {
        self.bit_offset
    }

    /// Bits left to read.
    pub fn bits_left(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.bit_offset)
    }

    /// True when the position sits on a byte boundary.
    pub fn is_byte_aligned(&self) -> bool {
        self.bit_offset % 8 == 0
    }

    /// Reads one bit.
    pub fn read_bit(&mut self) -> Result<bool, BitsError> {
        if self.bits_left() == 0 {
            return Err(BitsError::EndOfData { bit_offset: self.bit_offset, wanted: 1 });
        }
        let byte = self.data[self.bit_offset / 8];
        let bit = (byte >> (7 - (self.bit_offset % 8))) & 1;
        self.bit_offset += 1;
        Ok(bit == 1)
    }

    /// Reads `n_bits` (0..=32) as an unsigned number, most significant bit first.
    pub fn read_bits(&mut self, n_bits: u32) -> Result<u32, BitsError> {
        if n_bits > 32 {
            return Err(BitsError::TooManyBits(n_bits));
        }
        if (n_bits as usize) > self.bits_left() {
            return Err(BitsError::EndOfData { bit_offset: self.bit_offset, wanted: n_bits });
        }
        let mut value: u64 = 0;
        let mut remaining = n_bits;
        while remaining > 0 {
            let byte = u64::from(self.data[self.bit_offset / 8]);
            let used_in_byte = (self.bit_offset % 8) as u32;
            let available = 8 - used_in_byte;
            let take = available.min(remaining);
            let shifted = byte >> (available - take);
            let mask = (1u64 << take) - 1;
            value = (value << take) | (shifted & mask);
            remaining -= take;
            self.bit_offset += take as usize;
        }
        // The loop assembled at most 32 bits, so the value fits a u32.
        Ok(value as u32)
    }

    /// Reads `n_bits` (0..=8) as a byte-sized value.
    pub fn read_u8(&mut self, n_bits: u32) -> Result<u8, BitsError> {
        if n_bits > 8 {
            return Err(BitsError::TooManyBits(n_bits));
        }
        // At most 8 bits were read, so the value fits a u8.
        Ok(self.read_bits(n_bits)? as u8)
    }

    /// Reads `n_bits` up to 64, for fields such as 48-bit constraint flags.
    pub fn read_bits_u64(&mut self, n_bits: u32) -> Result<u64, BitsError> {
        if n_bits > 64 {
            return Err(BitsError::TooManyBits(n_bits));
        }
        let high_bits = n_bits.saturating_sub(32);
        let high = u64::from(self.read_bits(high_bits)?);
        let low = u64::from(self.read_bits(n_bits - high_bits)?);
        Ok((high << (n_bits - high_bits)) | low)
    }

    /// Skips `n_bits` bits.
    pub fn skip(&mut self, n_bits: usize) -> Result<(), BitsError> {
        if n_bits > self.bits_left() {
            let wanted = u32::try_from(n_bits).unwrap_or(u32::MAX);
            return Err(BitsError::EndOfData { bit_offset: self.bit_offset, wanted });
        }
        self.bit_offset += n_bits;
        Ok(())
    }

    /// Skips to the next byte boundary (no-op when already aligned).
    pub fn byte_align(&mut self) {
        let misalignment = self.bit_offset % 8;
        if misalignment != 0 {
            // Aligning never passes the end: the current byte exists because misalignment > 0.
            self.bit_offset += 8 - misalignment;
        }
    }

    /// Reads an unsigned exp-Golomb code, ue(v) in the H.264/H.265 specs.
    pub fn ue(&mut self) -> Result<u32, BitsError> {
        let start = self.bit_offset;
        let mut leading_zeros = 0u32;
        while !self.read_bit()? {
            leading_zeros += 1;
            if leading_zeros > MAX_EXP_GOLOMB_LEADING_ZEROS {
                return Err(BitsError::ExpGolombTooLong(start));
            }
        }
        let suffix = u64::from(self.read_bits(leading_zeros)?);
        let value = (1u64 << leading_zeros) - 1 + suffix;
        u32::try_from(value).map_err(|_| BitsError::ExpGolombTooLong(start))
    }

    /// Reads a signed exp-Golomb code, se(v): 0, 1, -1, 2, -2, ...
    pub fn se(&mut self) -> Result<i32, BitsError> {
        let code = i64::from(self.ue()?);
        let magnitude = (code + 1) / 2;
        let value = if code % 2 == 1 { magnitude } else { -magnitude };
        // ue() returns at most u32::MAX, so the magnitude is at most 2^31; that single value does not
        // fit an i32 and is clamped rather than wrapped.
        Ok(value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
    }
}

/// Removes emulation-prevention bytes: every `00 00 03` becomes `00 00`.
///
/// The NAL header bytes are not special here; callers pass the whole NAL unit or just its payload.
pub fn unescape_rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0usize;
    for &byte in nal {
        if zeros >= 2 && byte == 3 {
            zeros = 0;
            continue;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        out.push(byte);
    }
    out
}

/// Writes bits most-significant first; used to build ASC and ADTS headers.
#[derive(Debug, Default, Clone)]
pub struct BitWriter {
    bytes: Vec<u8>,
    n_bits: usize,
}

impl BitWriter {
    /// Appends the low `n_bits` (0..=32) of `value`.
    pub fn write_bits(&mut self, n_bits: u32, value: u32) {
        for bit_idx in (0..n_bits.min(32)).rev() {
            let bit = (value >> bit_idx) & 1;
            if self.n_bits % 8 == 0 {
                self.bytes.push(0);
            }
            if bit == 1 {
                let shift = 7 - (self.n_bits % 8);
                if let Some(last) = self.bytes.last_mut() {
                    *last |= 1 << shift;
                }
            }
            self.n_bits += 1;
        }
    }

    /// The bytes written, the last one zero-padded.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_bits_crosses_byte_boundaries() {
        let mut reader = BitReader::new(&[0b1010_1100, 0b0101_0011, 0xff]);
        assert_eq!(reader.read_bits(3).unwrap(), 0b101);
        assert_eq!(reader.read_bits(7).unwrap(), 0b011_0001);
        assert_eq!(reader.read_bits(14).unwrap(), 0b01_0011_1111_1111);
        assert_eq!(reader.bits_left(), 0);
        assert_eq!(reader.read_bit(), Err(BitsError::EndOfData { bit_offset: 24, wanted: 1 }));
    }

    #[test]
    fn read_32_bits_and_64_bits() {
        let data = [0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67];
        let mut reader = BitReader::new(&data);
        assert_eq!(reader.read_bits(32).unwrap(), 0xdead_beef);
        assert_eq!(reader.read_bits(33), Err(BitsError::TooManyBits(33)));
        let mut reader = BitReader::new(&data);
        assert_eq!(reader.read_bits_u64(48).unwrap(), 0xdead_beef_0123);
    }

    #[test]
    fn exp_golomb_values_match_the_code_table() {
        // Codes: 1 -> 0, 010 -> 1, 011 -> 2, 00100 -> 3, 00111 -> 6, then padding ones.
        // Bits: 1 010 011 00100 00111 111 = 1010 0110 0100 0011 1111
        let mut reader = BitReader::new(&[0b1010_0110, 0b0100_0011, 0b1111_0000]);
        let values: Vec<u32> = (0..5).map(|_| reader.ue().unwrap()).collect();
        assert_eq!(values, vec![0, 1, 2, 3, 6]);
        // Signed: code 1 -> +1, code 2 -> -1, code 3 -> +2.
        let mut reader = BitReader::new(&[0b0100_1100, 0b1000_0000]);
        assert_eq!(reader.se().unwrap(), 1);
        assert_eq!(reader.se().unwrap(), -1);
        assert_eq!(reader.se().unwrap(), 2);
    }

    #[test]
    fn exp_golomb_errors_on_all_zero_and_truncation() {
        let mut reader = BitReader::new(&[0, 0, 0, 0, 0, 0]);
        assert_eq!(reader.ue(), Err(BitsError::ExpGolombTooLong(0)));
        let mut reader = BitReader::new(&[0b0000_0001]);
        assert!(matches!(reader.ue(), Err(BitsError::EndOfData { .. })));
    }

    #[test]
    fn skip_and_align_track_position() {
        let mut reader = BitReader::new(&[0xff, 0x80]);
        reader.skip(3).unwrap();
        reader.byte_align();
        assert_eq!(reader.bit_offset(), 8);
        assert!(reader.read_bit().unwrap());
        assert!(reader.skip(8).is_err());
    }

    #[test]
    fn unescape_removes_only_emulation_prevention_bytes() {
        let escaped = [0x67, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x03, 0x00, 0x03];
        assert_eq!(unescape_rbsp(&escaped), vec![0x67, 0x00, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x03]);
    }

    #[test]
    fn writer_round_trips_with_reader() {
        let mut writer = BitWriter::default();
        writer.write_bits(5, 2);
        writer.write_bits(4, 4);
        writer.write_bits(4, 2);
        writer.write_bits(3, 0);
        let bytes = writer.into_bytes();
        assert_eq!(bytes, vec![0x12, 0x10]);
        let mut reader = BitReader::new(&bytes);
        assert_eq!(reader.read_bits(5).unwrap(), 2);
        assert_eq!(reader.read_bits(4).unwrap(), 4);
        assert_eq!(reader.read_bits(4).unwrap(), 2);
    }
}
