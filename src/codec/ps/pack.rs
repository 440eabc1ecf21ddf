//! The program stream's own structures: pack header (MPEG-2 with stuffing, or MPEG-1), system
//! header and program stream map, parsed and written. PES headers are `mpegts::pes`'s.

use bytes::{BufMut, BytesMut};

use super::PsError;
use crate::codec::mpegts::psi::crc32_mpeg2;

pub const START_PACK: u8 = 0xba;
pub const START_SYSTEM_HEADER: u8 = 0xbb;
pub const START_PSM: u8 = 0xbc;
pub const END_CODE: u8 = 0xb9;
pub const STREAM_ID_VIDEO: u8 = 0xe0;
pub const STREAM_ID_AUDIO: u8 = 0xc0;

/// Largest payload of one PES packet after its 6-byte prefix (PES_packet_length is 16 bits).
pub const MAX_PES_LENGTH: usize = 0xffff;

/// Length of the pack header at the start of `data` (from its start code), `Ok(None)` when more
/// bytes are needed to tell.
pub fn pack_header_len(data: &[u8]) -> Result<Option<usize>, PsError> {
    let Some(&marker) = data.get(4) else { return Ok(None) };
    if marker >> 6 == 0b01 {
        // MPEG-2: 14 bytes, the last one's low 3 bits count stuffing bytes.
        let Some(&last) = data.get(13) else { return Ok(None) };
        Ok(Some(14 + usize::from(last & 0x07)))
    } else if marker >> 4 == 0b0010 {
        Ok(Some(12))
    } else {
        Err(PsError::PackHeader("neither MPEG-2 nor MPEG-1 marker bits"))
    }
}

/// An MPEG-2 pack header with system clock `scr` (90 kHz) and no stuffing.
pub fn write_pack_header(out: &mut BytesMut, scr: u64, mux_rate: u32) {
    let scr = scr & ((1 << 33) - 1);
    out.put_slice(&[0, 0, 1, START_PACK]);
    out.put_u8(0x44 | (((scr >> 30) as u8 & 0x07) << 3) | ((scr >> 28) as u8 & 0x03));
    out.put_u8((scr >> 20) as u8);
    out.put_u8((((scr >> 15) as u8 & 0x1f) << 3) | 0x04 | ((scr >> 13) as u8 & 0x03));
    out.put_u8((scr >> 5) as u8);
    // scr_extension 0: its top two bits, then the rest with a marker bit.
    out.put_u8(((scr as u8 & 0x1f) << 3) | 0x04);
    out.put_u8(0x01);
    let rate = (mux_rate & 0x3f_ffff) << 2 | 0x03;
    out.put_slice(&rate.to_be_bytes()[1..]);
    out.put_u8(0xf8);
}

/// A system header naming the streams present.
pub fn write_system_header(out: &mut BytesMut, video: bool, audio: bool) {
    let n_streams = usize::from(video) + usize::from(audio);
    out.put_slice(&[0, 0, 1, START_SYSTEM_HEADER]);
    out.put_u16((6 + 3 * n_streams) as u16);
    // marker, rate_bound (22 bits), marker.
    let rate_bound: u32 = 50_000;
    out.put_u8(0x80 | (rate_bound >> 15) as u8);
    out.put_u8((rate_bound >> 7) as u8);
    out.put_u8(((rate_bound as u8) << 1) | 1);
    out.put_u8((u8::from(audio)) << 2);
    out.put_u8(0xe0 | u8::from(video));
    out.put_u8(0x7f);
    if video {
        out.put_slice(&[STREAM_ID_VIDEO, 0xe0 | 0x20 | 0x08, 0x00]);
    }
    if audio {
        out.put_slice(&[STREAM_ID_AUDIO, 0xc0, 0x20]);
    }
}

/// A program stream map: `(stream_type, stream_id)` pairs, CRC32 at the end.
pub fn write_psm(out: &mut BytesMut, streams: &[(u8, u8)]) {
    let start = out.len();
    let map_len = 4 * streams.len();
    out.put_slice(&[0, 0, 1, START_PSM]);
    out.put_u16((10 + map_len) as u16);
    out.put_u8(0xe0); // current_next_indicator, version 0
    out.put_u8(0xff);
    out.put_u16(0); // program_stream_info_length
    out.put_u16(map_len as u16);
    for &(stream_type, stream_id) in streams {
        out.put_slice(&[stream_type, stream_id, 0, 0]);
    }
    let crc = crc32_mpeg2(&out[start..]);
    out.put_u32(crc);
}

/// Parses a whole PSM (from its start code; `data.len()` is 6 + psm_length): the
/// `(stream_type, stream_id)` pairs of its elementary stream map. Lengths that point past the
/// map are an error; the CRC is not checked (cameras often leave it zero).
pub fn parse_psm(data: &[u8]) -> Result<Vec<(u8, u8)>, PsError> {
    let bad = PsError::Psm;
    if data.len() < 16 {
        return Err(bad("shorter than its fixed fields"));
    }
    let info_len = usize::from(u16::from_be_bytes([data[8], data[9]]));
    let map_len_at = 10 + info_len;
    let map_start = map_len_at + 2;
    let Some(len_bytes) = data.get(map_len_at..map_start) else {
        return Err(bad("program_stream_info_length past the map"));
    };
    let map_len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
    let map_end = map_start + map_len;
    if map_end + 4 > data.len() {
        return Err(bad("elementary_stream_map_length past the map"));
    }
    let mut streams = Vec::new();
    let mut at = map_start;
    while at < map_end {
        let Some(entry) = data.get(at..at + 4).filter(|_| at + 4 <= map_end) else {
            return Err(bad("truncated elementary stream entry"));
        };
        let es_info_len = usize::from(u16::from_be_bytes([entry[2], entry[3]]));
        streams.push((entry[0], entry[1]));
        at += 4 + es_info_len;
        if at > map_end {
            return Err(bad("elementary_stream_info_length past the map"));
        }
    }
    Ok(streams)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_header_lengths_follow_the_marker_and_stuffing() {
        let mut out = BytesMut::new();
        write_pack_header(&mut out, 123_456_789, 6106);
        assert_eq!(out.len(), 14);
        assert_eq!(pack_header_len(&out), Ok(Some(14)));
        out[13] |= 0x03;
        assert_eq!(pack_header_len(&out), Ok(Some(17)));
        assert_eq!(pack_header_len(&out[..10]), Ok(None));
        assert_eq!(pack_header_len(&[0, 0, 1, 0xba, 0x21]), Ok(Some(12)));
        assert!(pack_header_len(&[0, 0, 1, 0xba, 0xff]).is_err());
    }

    #[test]
    fn psm_round_trips_and_lies_are_refused() {
        let mut out = BytesMut::new();
        write_psm(&mut out, &[(0x1b, 0xe0), (0x0f, 0xc0)]);
        assert_eq!(parse_psm(&out), Ok(vec![(0x1b, 0xe0), (0x0f, 0xc0)]));
        let mut lying = out.to_vec();
        lying[11] = 200; // elementary_stream_map_length past the end
        assert!(parse_psm(&lying).is_err());
        let mut lying = out.to_vec();
        lying[15] = 90; // es_info_length of the first entry past the map
        assert!(parse_psm(&lying).is_err());
        let mut lying = out.to_vec();
        lying[9] = 60; // program_stream_info_length past the map
        assert!(parse_psm(&lying).is_err());
    }
}
