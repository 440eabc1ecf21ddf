//! What SRS leaves out of H.264 toward WebRTC players: B-frames (browsers play RTP in arrival
//! order and cannot reorder; `keep_bframe off`) and SEI NAL units (`keep_avc_nalu_sei off`).
//! Access units are 4-byte length-prefixed, as on graph edges.

use bytes::{Bytes, BytesMut};

use crate::codec::bits::BitReader;
use crate::codec::nal;

const NAL_SLICE: u8 = 1;
const NAL_IDR: u8 = 5;
const NAL_SEI: u8 = 6;

/// Whether the access unit's first slice is a B slice (slice_type 1 or 6); unreadable ones are not.
pub fn is_bframe(frame: &[u8]) -> bool {
    for unit in nal::length_prefixed(frame, 4) {
        let Ok(unit) = unit else { return false };
        let Some(header) = unit.first() else { continue };
        let kind = header & 0x1f;
        if kind == NAL_SLICE || kind == NAL_IDR {
            let mut reader = BitReader::new(&unit[1..]);
            let slice_type = reader.ue().and_then(|_first_mb| reader.ue());
            return matches!(slice_type, Ok(t) if t % 5 == 1);
        }
    }
    false
}

/// The access unit without its SEI NAL units; `None` when it has none (the frame is kept as is).
pub fn strip_sei(frame: &Bytes) -> Option<Bytes> {
    let has_sei = nal::length_prefixed(frame, 4)
        .any(|u| matches!(u, Ok(u) if u.first().map(|h| h & 0x1f) == Some(NAL_SEI)));
    if !has_sei {
        return None;
    }
    let mut out = BytesMut::with_capacity(frame.len());
    for unit in nal::length_prefixed(frame, 4).flatten() {
        if unit.first().map(|h| h & 0x1f) != Some(NAL_SEI) {
            out.extend_from_slice(&(unit.len() as u32).to_be_bytes());
            out.extend_from_slice(unit);
        }
    }
    Some(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn au(units: &[&[u8]]) -> Bytes {
        nal::to_length_prefixed(units.iter().copied())
    }

    #[test]
    fn b_slices_are_found_by_slice_type() {
        // first_mb_in_slice = 0 ("1"), slice_type: P = 0 ("1"), B = 1 ("010"), I = 7 ("0001000").
        assert!(!is_bframe(&au(&[&[0x41, 0b1100_0000]])));
        assert!(is_bframe(&au(&[&[0x06, 5, 1], &[0x01, 0b1010_0000]])));
        assert!(is_bframe(&au(&[&[0x01, 0b1001_1100]]))); // slice_type 6 ("00111")
        assert!(!is_bframe(&au(&[&[0x65, 0b1000_1000]])));
        assert!(!is_bframe(&[0, 0, 0, 9, 1]));
    }

    #[test]
    fn sei_units_are_stripped() {
        let frame = au(&[&[0x06, 5, 1, 0x80], &[0x65, 0x88, 1, 2]]);
        assert_eq!(strip_sei(&frame), Some(au(&[&[0x65, 0x88, 1, 2]])));
        assert_eq!(strip_sei(&au(&[&[0x41, 0x9a]])), None);
    }
}
