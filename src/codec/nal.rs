//! NAL unit framing shared by H.264 and H.265: length-prefixed (AVCC/HVCC style) and Annex-B.
//!
//! It splits and joins NAL units; it does not look inside them (see `avc` and `hevc` for that) and it
//! does not remove emulation-prevention bytes (see `bits::unescape_rbsp`). Splitting borrows from the
//! input and never copies; joining builds one `Bytes`.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

/// What can go wrong while splitting a length-prefixed payload.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NalError {
    #[error("nal length size {0} is not 1, 2, 3 or 4")]
    BadLengthSize(u8),
    #[error("truncated nal length field at byte {offset}")]
    TruncatedLength { offset: usize },
    #[error("nal length {length} at byte {offset} runs past the end of data ({available} bytes left)")]
    LengthPastEnd { offset: usize, length: usize, available: usize },
}

/// Splits an AVCC-style payload: each NAL unit preceded by a big-endian length of `length_size` bytes.
///
/// Zero-length units are skipped (some encoders emit them as padding). After the first error the
/// iterator ends, because the framing cannot be trusted past a bad length.
pub fn length_prefixed(data: &[u8], length_size: u8) -> impl Iterator<Item = Result<&[u8], NalError>> {
    LengthPrefixed { data, offset: 0, length_size, failed: false }
}

/// Splits an Annex-B byte stream on 3- and 4-byte start codes.
///
/// Bytes before the first start code are ignored (Annex B allows leading zero bytes there), trailing
/// zero bytes of each unit are dropped (they belong to the next start code or are trailing_zero_8bits),
/// and empty units are skipped.
pub fn annexb(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let start = find_start_code(data, 0).map(|(_, payload_start)| payload_start).unwrap_or(data.len());
    AnnexB { data, offset: start }
}

/// Joins NAL units with 4-byte big-endian lengths, the canonical frame payload.
///
/// A unit longer than `u32::MAX` bytes cannot be framed and is left out; no real NAL unit comes close.
pub fn to_length_prefixed<'a>(nals: impl IntoIterator<Item = &'a [u8]>) -> Bytes {
    let mut out = BytesMut::new();
    for nal in nals {
        let Ok(length) = u32::try_from(nal.len()) else { continue };
        out.put_u32(length);
        out.put_slice(nal);
    }
    out.freeze()
}

/// Joins NAL units with 4-byte start codes, as MPEG-TS and raw `.h264` files carry them.
pub fn to_annexb<'a>(nals: impl IntoIterator<Item = &'a [u8]>) -> Bytes {
    let mut out = BytesMut::new();
    for nal in nals {
        out.put_slice(&[0, 0, 0, 1]);
        out.put_slice(nal);
    }
    out.freeze()
}

/// Converts a length-prefixed payload to Annex-B, failing on the first bad length.
pub fn length_prefixed_to_annexb(data: &[u8], length_size: u8) -> Result<Bytes, NalError> {
    let nals = length_prefixed(data, length_size).collect::<Result<Vec<_>, _>>()?;
    Ok(to_annexb(nals))
}

/// Converts an Annex-B stream to the canonical 4-byte length-prefixed form.
pub fn annexb_to_length_prefixed(data: &[u8]) -> Bytes {
    to_length_prefixed(annexb(data))
}

struct LengthPrefixed<'a> {
    data: &'a [u8],
    offset: usize,
    length_size: u8,
    failed: bool,
}

impl<'a> Iterator for LengthPrefixed<'a> {
    type Item = Result<&'a [u8], NalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = self.next_unit();
        if let Some(Err(_)) = result {
            self.failed = true;
        }
        result
    }
}

impl<'a> LengthPrefixed<'a> {
    fn next_unit(&mut self) -> Option<Result<&'a [u8], NalError>> {
        if !(1..=4).contains(&self.length_size) {
            return Some(Err(NalError::BadLengthSize(self.length_size)));
        }
        let size = usize::from(self.length_size);
        loop {
            if self.offset >= self.data.len() {
                return None;
            }
            let Some(length_bytes) = self.data.get(self.offset..self.offset + size) else {
                return Some(Err(NalError::TruncatedLength { offset: self.offset }));
            };
            let length = length_bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            let payload_start = self.offset + size;
            let available = self.data.len() - payload_start;
            if length > available {
                return Some(Err(NalError::LengthPastEnd { offset: self.offset, length, available }));
            }
            self.offset = payload_start + length;
            if length > 0 {
                return Some(Ok(&self.data[payload_start..payload_start + length]));
            }
        }
    }
}

struct AnnexB<'a> {
    data: &'a [u8],
    /// Start of the current unit's payload (just past a start code).
    offset: usize,
}

impl<'a> Iterator for AnnexB<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while self.offset < self.data.len() {
            let unit_start = self.offset;
            let (unit_end, next_payload) = match find_start_code(self.data, unit_start) {
                Some((code_start, payload_start)) => (code_start, payload_start),
                None => (self.data.len(), self.data.len()),
            };
            self.offset = next_payload;
            let mut unit = &self.data[unit_start..unit_end];
            while let [rest @ .., 0] = unit {
                unit = rest;
            }
            if !unit.is_empty() {
                return Some(unit);
            }
        }
        None
    }
}

/// Finds the next `00 00 01` at or after `from`; returns (index of its first zero, index past the 01).
fn find_start_code(data: &[u8], from: usize) -> Option<(usize, usize)> {
    let window = data.get(from..)?;
    memchr::memmem::find(window, &[0, 0, 1]).map(|pos| (from + pos, from + pos + 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixed_splits_each_length_size() {
        let data = [0, 0, 0, 2, 0x65, 0xaa, 0, 0, 0, 1, 0x41];
        let units: Vec<&[u8]> = length_prefixed(&data, 4).map(Result::unwrap).collect();
        assert_eq!(units, vec![&[0x65, 0xaa][..], &[0x41][..]]);
        let data = [2, 0x65, 0xaa, 1, 0x41];
        let units: Vec<&[u8]> = length_prefixed(&data, 1).map(Result::unwrap).collect();
        assert_eq!(units, vec![&[0x65, 0xaa][..], &[0x41][..]]);
        let data = [0, 0, 1, 0x09];
        assert_eq!(length_prefixed(&data, 3).map(Result::unwrap).collect::<Vec<_>>(), vec![&[0x09][..]]);
    }

    #[test]
    fn length_prefixed_skips_zero_length_units() {
        let data = [0, 0, 0, 1, 0x65, 0, 0];
        let units: Vec<&[u8]> = length_prefixed(&data, 2).map(Result::unwrap).collect();
        assert_eq!(units, vec![&[0x65][..]]);
    }

    #[test]
    fn length_prefixed_reports_bad_lengths_then_stops() {
        let data = [0, 0, 0, 9, 0x65];
        let results: Vec<_> = length_prefixed(&data, 4).collect();
        assert_eq!(results, vec![Err(NalError::LengthPastEnd { offset: 0, length: 9, available: 1 })]);
        let data = [0, 0, 0, 1, 0x65, 0, 0];
        let results: Vec<_> = length_prefixed(&data, 4).collect();
        assert_eq!(results, vec![Ok(&[0x65][..]), Err(NalError::TruncatedLength { offset: 5 })]);
        let results: Vec<_> = length_prefixed(&data, 5).collect();
        assert_eq!(results, vec![Err(NalError::BadLengthSize(5))]);
        let results: Vec<_> = length_prefixed(&data, 0).collect();
        assert_eq!(results, vec![Err(NalError::BadLengthSize(0))]);
    }

    #[test]
    fn annexb_handles_three_and_four_byte_start_codes_and_trailing_zeros() {
        let data = [0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 0, 1, 0x65, 0x88, 0, 0];
        let units: Vec<&[u8]> = annexb(&data).collect();
        assert_eq!(units, vec![&[0x67, 0x42][..], &[0x68, 0xce][..], &[0x65, 0x88][..]]);
    }

    #[test]
    fn annexb_ignores_leading_bytes_and_empty_units() {
        assert_eq!(annexb(&[0x12, 0x34]).count(), 0);
        assert_eq!(annexb(&[]).count(), 0);
        let data = [0xff, 0, 0, 1, 0, 0, 1, 0x09, 0xf0];
        assert_eq!(annexb(&data).collect::<Vec<_>>(), vec![&[0x09, 0xf0][..]]);
    }

    #[test]
    fn conversions_round_trip() {
        let nals: [&[u8]; 2] = [&[0x67, 0x64], &[0x65, 0x88, 0x84]];
        let avcc = to_length_prefixed(nals);
        assert_eq!(&avcc[..], &[0, 0, 0, 2, 0x67, 0x64, 0, 0, 0, 3, 0x65, 0x88, 0x84]);
        let annexb_bytes = length_prefixed_to_annexb(&avcc, 4).unwrap();
        assert_eq!(&annexb_bytes[..], &[0, 0, 0, 1, 0x67, 0x64, 0, 0, 0, 1, 0x65, 0x88, 0x84]);
        assert_eq!(annexb_to_length_prefixed(&annexb_bytes), avcc);
    }

    #[test]
    fn fuzzed_lengths_give_errors_not_panics() {
        let mut rng = crate::codec::xorshift::XorShift::new(0x9e37_79b9_7f4a_7c15);
        let mut next = move || rng.next_u64();
        let base = to_length_prefixed([&[0x65u8, 1, 2, 3][..], &[0x41, 9][..], &[0x06; 20][..]]);
        for _ in 0..2000 {
            let mut data = base.to_vec();
            let n_mutations = (next() % 4) as usize;
            for _ in 0..n_mutations {
                let idx = (next() as usize) % data.len();
                data[idx] = next() as u8;
            }
            data.truncate((next() as usize) % (data.len() + 1));
            let length_size = (next() % 6) as u8;
            let total: usize =
                length_prefixed(&data, length_size).filter_map(Result::ok).map(<[u8]>::len).sum();
            assert!(total <= data.len());
            assert!(annexb(&data).map(<[u8]>::len).sum::<usize>() <= data.len());
        }
    }
}
