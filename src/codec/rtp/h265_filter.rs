//! What is left out of H.265 toward WebRTC players, as `h264_filter` does for H.264 (SRS's
//! `keep_bframe off`): B-frames, which browsers play in arrival order and cannot reorder. A
//! picture's slice type sits after a PPS-dependent number of reserved bits, so the PPS is read
//! for that count. Access units are 4-byte length-prefixed, as on graph edges.

use crate::codec::bits::{unescape_rbsp, BitReader};
use crate::codec::nal;

const NAL_PPS: u8 = 34;
/// slice_type of a B slice (0 B, 1 P, 2 I).
const SLICE_B: u32 = 0;

/// `num_extra_slice_header_bits` of a PPS NAL unit (with its 2-byte header); `None` if unreadable.
pub fn extra_slice_header_bits(pps: &[u8]) -> Option<u8> {
    if pps.len() < 3 || (pps[0] >> 1) & 0x3f != NAL_PPS {
        return None;
    }
    let rbsp = unescape_rbsp(&pps[2..]);
    let mut reader = BitReader::new(&rbsp);
    let _pps_id = reader.ue().ok()?;
    let _sps_id = reader.ue().ok()?;
    let _dependent_slice_segments_enabled = reader.read_bit().ok()?;
    let _output_flag_present = reader.read_bit().ok()?;
    reader.read_bits(3).ok().map(|n| n as u8)
}

/// Whether the access unit's first slice is a B slice, read with the stream's PPS's
/// `extra_bits`. A picture whose first slice does not start it, or is unreadable, is not.
pub fn is_bframe(frame: &[u8], extra_bits: u8) -> bool {
    for unit in nal::length_prefixed(frame, 4) {
        let Ok(unit) = unit else { return false };
        if unit.len() < 3 {
            continue;
        }
        let kind = (unit[0] >> 1) & 0x3f;
        if kind > 31 {
            continue; // not a slice (parameter sets, AUD, SEI)
        }
        let rbsp = unescape_rbsp(&unit[2..unit.len().min(34)]);
        let mut reader = BitReader::new(&rbsp);
        let slice_type = (|| {
            if !reader.read_bit().ok()? {
                return None; // not the picture's first slice segment
            }
            if (16..=23).contains(&kind) {
                reader.read_bit().ok()?; // no_output_of_prior_pics_flag
            }
            reader.ue().ok()?; // slice_pic_parameter_set_id
            reader.skip(usize::from(extra_bits)).ok()?;
            reader.ue().ok()
        })();
        return slice_type == Some(SLICE_B);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn au(units: &[&[u8]]) -> Bytes {
        nal::to_length_prefixed(units.iter().copied())
    }

    #[test]
    fn b_slices_are_found_after_the_pps_reserved_bits() {
        // first_slice "1", pps id 0 "1", slice_type B = 0 "1" / P = 1 "010" / I = 2 "011".
        let trail_b = [0x02, 0x01, 0b1110_0000];
        let trail_p = [0x02, 0x01, 0b1101_0000];
        assert!(is_bframe(&au(&[&[0x4e, 0x01, 5], &trail_b]), 0), "sei first, then a b slice");
        assert!(!is_bframe(&au(&[&trail_p]), 0));
        // An IDR (type 19) has no_output_of_prior_pics_flag before the pps id: "1 0 1 011".
        assert!(!is_bframe(&au(&[&[0x26, 0x01, 0b1010_1100]]), 0));
        // Two reserved bits "00" before slice_type: B with them, something else without.
        let reserved = [0x02, 0x01, 0b1100_1000];
        assert!(is_bframe(&au(&[&reserved]), 2));
        assert!(!is_bframe(&au(&[&reserved]), 0));
        // Not the first slice segment of its picture, or cut short: not a B-frame.
        assert!(!is_bframe(&au(&[&[0x02, 0x01, 0b0110_0000]]), 0));
        assert!(!is_bframe(&au(&[&[0x02, 0x01]]), 0));
        assert!(!is_bframe(&[0, 0, 0, 9, 1], 0));
    }

    #[test]
    fn the_pps_gives_its_extra_slice_header_bits() {
        // pps id 0 "1", sps id 0 "1", dependent "0", output flag "0", extra bits "010" = 2.
        assert_eq!(extra_slice_header_bits(&[0x44, 0x01, 0b1100_0101, 0x80]), Some(2));
        assert_eq!(extra_slice_header_bits(&[0x44, 0x01, 0b1100_0000, 0x00]), Some(0));
        assert_eq!(extra_slice_header_bits(&[0x42, 0x01, 0xff]), None, "an sps is not a pps");
        assert_eq!(extra_slice_header_bits(&[0x44, 0x01]), None);
    }
}
