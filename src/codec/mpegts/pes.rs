//! PES packets: the header written in front of each access unit (stream id, PTS, DTS) and parsed
//! back, with 33-bit 90 kHz timestamps.
//!
//! It neither splits payloads into transport packets (`packet.rs`) nor unwraps 33-bit timestamps
//! into a continuous timeline (`timeline.rs`).

use bytes::{BufMut, BytesMut};

use super::TsError;

/// stream_id of the first video elementary stream.
pub(crate) const STREAM_ID_VIDEO: u8 = 0xe0;
/// stream_id of the first audio elementary stream.
pub(crate) const STREAM_ID_AUDIO: u8 = 0xc0;
/// PES timestamps are 33 bits of 90 kHz ticks.
pub(crate) const TIMESTAMP_MASK: u64 = (1 << 33) - 1;

/// Writes the PES header for a payload of `payload_len` bytes. `dts` is written only when it
/// differs from `pts`. PES_packet_length is 0 (unbounded) for video and whenever it would not fit.
pub(crate) fn write_header(
    out: &mut BytesMut,
    stream_id: u8,
    pts: u64,
    dts: Option<u64>,
    payload_len: usize,
) {
    let dts = dts.filter(|dts| (dts & TIMESTAMP_MASK) != (pts & TIMESTAMP_MASK));
    let header_data_len = if dts.is_some() { 10 } else { 5 };
    let after_length = 3 + header_data_len + payload_len;
    let packet_len = if stream_id == STREAM_ID_VIDEO || after_length > 0xffff { 0 } else { after_length };
    out.put_slice(&[0, 0, 1, stream_id]);
    out.put_u16(packet_len as u16);
    // '10' marker, data_alignment_indicator: every PES starts with an access unit.
    out.put_u8(0x84);
    out.put_u8(if dts.is_some() { 0xc0 } else { 0x80 });
    out.put_u8(header_data_len as u8);
    match dts {
        Some(dts) => {
            write_timestamp(out, 0x3, pts);
            write_timestamp(out, 0x1, dts);
        }
        None => write_timestamp(out, 0x2, pts),
    }
}

/// A 33-bit timestamp in the 5-byte form: 4-bit prefix, then 3 + 15 + 15 bits, each followed by a marker bit.
pub(crate) fn write_timestamp(out: &mut BytesMut, prefix: u8, ticks: u64) {
    let ticks = ticks & TIMESTAMP_MASK;
    out.put_u8((prefix << 4) | (((ticks >> 30) as u8 & 0x7) << 1) | 1);
    out.put_u16((((ticks >> 15) as u16 & 0x7fff) << 1) | 1);
    out.put_u16(((ticks as u16 & 0x7fff) << 1) | 1);
}

pub(crate) fn read_timestamp(bytes: &[u8]) -> u64 {
    (u64::from(bytes[0] >> 1 & 0x7) << 30)
        | (u64::from(u16::from_be_bytes([bytes[1], bytes[2]]) >> 1) << 15)
        | u64::from(u16::from_be_bytes([bytes[3], bytes[4]]) >> 1)
}

/// What the demuxer needs from a PES header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PesHeader {
    pub stream_id: u8,
    /// Bytes of payload announced by PES_packet_length, `None` when unbounded (0).
    pub payload_len: Option<usize>,
    pub pts: Option<u64>,
    pub dts: Option<u64>,
    /// Bytes from the start code to the first payload byte.
    pub header_len: usize,
}

/// Parses the PES header at the start of `data` (the first packet's payload).
pub(crate) fn parse_header(data: &[u8], pid: u16) -> Result<PesHeader, TsError> {
    let bad = |reason| TsError::PesHeader { pid, reason };
    if data.len() < 6 {
        return Err(bad("shorter than the fixed header"));
    }
    if data[..3] != [0, 0, 1] {
        return Err(bad("missing packet_start_code_prefix"));
    }
    let stream_id = data[3];
    let packet_len = usize::from(u16::from_be_bytes([data[4], data[5]]));
    // Stream ids without the optional header: program_stream_map, padding, private_stream_2,
    // ECM, EMM, DSMCC, H.222.1 type E and the directory.
    let has_optional_header = !matches!(stream_id, 0xbc | 0xbe | 0xbf | 0xf0 | 0xf1 | 0xf2 | 0xf8 | 0xff);
    if !has_optional_header {
        let payload_len = (packet_len != 0).then_some(packet_len);
        return Ok(PesHeader { stream_id, payload_len, pts: None, dts: None, header_len: 6 });
    }
    if data.len() < 9 {
        return Err(bad("shorter than the optional header"));
    }
    if data[6] & 0xc0 != 0x80 {
        return Err(bad("optional header marker bits are not '10'"));
    }
    let timestamp_flags = data[7] >> 6;
    let header_len = 9 + usize::from(data[8]);
    if data.len() < header_len {
        return Err(bad("header does not fit in the first packet"));
    }
    let (pts, dts) = match timestamp_flags {
        0b10 if header_len >= 14 => (Some(read_timestamp(&data[9..14])), None),
        0b11 if header_len >= 19 => (Some(read_timestamp(&data[9..14])), Some(read_timestamp(&data[14..19]))),
        0b00 => (None, None),
        _ => return Err(bad("PTS_DTS_flags do not match the header length")),
    };
    let payload_len = match packet_len {
        0 => None,
        len => Some(len.checked_sub(header_len - 6).ok_or(bad("PES_packet_length shorter than its header"))?),
    };
    Ok(PesHeader { stream_id, payload_len, pts, dts, header_len })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn video_header_carries_pts_and_dts_and_no_length() {
        let mut out = BytesMut::new();
        let pts = TIMESTAMP_MASK; // the largest 33-bit value survives the bit packing
        write_header(&mut out, STREAM_ID_VIDEO, pts, Some(12_345), 100_000);
        assert_eq!(out.len(), 19);
        let header = parse_header(&out, 0x100).unwrap();
        assert_eq!(header.stream_id, STREAM_ID_VIDEO);
        assert_eq!(header.payload_len, None);
        assert_eq!((header.pts, header.dts), (Some(pts), Some(12_345)));
        assert_eq!(header.header_len, 19);
    }

    #[test]
    fn audio_header_has_pts_only_and_a_length() {
        let mut out = BytesMut::new();
        write_header(&mut out, STREAM_ID_AUDIO, 90_000, Some(90_000), 300);
        assert_eq!(out.len(), 14, "dts equal to pts is omitted");
        // PTS 90000 (1 s) in the 5-byte form: prefix 0010, then 3 + 15 + 15 bits with marker bits.
        assert_eq!(&out[9..14], &[0x21, 0x00, 0x05, 0xbf, 0x21]);
        let header = parse_header(&out, 0x101).unwrap();
        assert_eq!(header.payload_len, Some(300));
        assert_eq!((header.pts, header.dts), (Some(90_000), None));
    }

    #[test]
    fn rejects_malformed_headers() {
        assert!(parse_header(&[0, 0, 1], 1).is_err());
        assert!(parse_header(&[0, 0, 2, 0xe0, 0, 0, 0x80, 0, 0], 1).is_err());
        assert!(parse_header(&[0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 0], 1).is_err(), "PTS flag without room");
        assert!(parse_header(&[0, 0, 1, 0xe0, 0, 0, 0x80, 0, 20], 1).is_err(), "header past the data");
        assert!(parse_header(&[0, 0, 1, 0xc0, 0, 1, 0x80, 0, 2, 0, 0], 1).is_err(), "length below header");
    }
}
