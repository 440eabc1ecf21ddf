//! The publisher's send time, carried inside H.264 frames so players can measure what the server
//! adds: an SEI NAL unit (user_data_unregistered, a fixed UUID) appended to each coded-frames tag,
//! holding the wall clock in microseconds as 16 ASCII digits.
//!
//! ASCII digits and a UUID without zero bytes need no emulation prevention, so the NAL unit is a
//! fixed 40-byte suffix (4-byte length included) that players find at the end of the tag body,
//! whatever server relays it unchanged. Only legacy H.264 tags with 4-byte NAL lengths are stamped.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::flv::{VideoCodec, VideoPacketKind, VideoTagHeader};

/// Identifies our SEI among others (no zero byte, so no emulation prevention).
pub const STAMP_UUID: [u8; 16] = *b"srs-bench-stamp!";
const DIGITS: usize = 16;
/// NAL header, payload type, payload size, UUID, digits, rbsp trailing bits.
const NAL_LEN: usize = 1 + 1 + 1 + STAMP_UUID.len() + DIGITS + 1;
/// The whole suffix: 4-byte length and the NAL unit.
pub const STAMP_LEN: usize = 4 + NAL_LEN;
const NAL_SEI: u8 = 6;
const USER_DATA_UNREGISTERED: u8 = 5;

/// The tag body with a stamp appended, or `None` when the tag is not a stampable H.264 frame.
pub fn stamp_video(body: &[u8], wall_micros: u64) -> Option<Bytes> {
    let header = VideoTagHeader::parse(body).ok()?;
    if header.enhanced || header.codec != VideoCodec::H264 || header.packet != VideoPacketKind::CodedFrames {
        return None;
    }
    let mut out = BytesMut::with_capacity(body.len() + STAMP_LEN);
    out.put_slice(body);
    out.put_u32(NAL_LEN as u32);
    out.put_u8(NAL_SEI);
    out.put_u8(USER_DATA_UNREGISTERED);
    out.put_u8((STAMP_UUID.len() + DIGITS) as u8);
    out.put_slice(&STAMP_UUID);
    out.put_slice(format!("{:016}", wall_micros % 10u64.pow(DIGITS as u32)).as_bytes());
    out.put_u8(0x80);
    Some(out.freeze())
}

/// The send time stamped at the end of a video tag body, if any.
pub fn read_stamp(body: &[u8]) -> Option<u64> {
    let suffix = body.get(body.len().checked_sub(STAMP_LEN)?..)?;
    let expected_head =
        [0, 0, 0, NAL_LEN as u8, NAL_SEI, USER_DATA_UNREGISTERED, (STAMP_UUID.len() + DIGITS) as u8];
    if suffix[..7] != expected_head || suffix[7..23] != STAMP_UUID || suffix[STAMP_LEN - 1] != 0x80 {
        return None;
    }
    std::str::from_utf8(&suffix[23..23 + DIGITS]).ok()?.parse().ok()
}

/// Microseconds since the Unix epoch (the clock publishers and players share on one machine).
pub fn wall_micros() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_round_trips_and_keeps_the_frame() {
        let body = [0x27, 1, 0, 0, 0, 0, 0, 0, 2, 0x41, 0x9a];
        let stamped = stamp_video(&body, 1_700_000_000_123_456).unwrap();
        assert_eq!(&stamped[..body.len()], &body);
        assert_eq!(stamped.len(), body.len() + STAMP_LEN);
        assert_eq!(read_stamp(&stamped), Some(1_700_000_000_123_456));
        assert!(!stamped[body.len() + 4..].windows(2).any(|w| w == [0, 0]), "no emulation prevention needed");
    }

    #[test]
    fn only_h264_coded_frames_are_stamped() {
        let sequence_header = [0x17, 0, 0, 0, 0, 1, 0x64];
        assert_eq!(stamp_video(&sequence_header, 1), None);
        let vp6 = [0x24, 0, 0];
        assert_eq!(stamp_video(&vp6, 1), None);
        assert_eq!(read_stamp(&[0x27, 1, 0, 0, 0]), None);
    }
}
