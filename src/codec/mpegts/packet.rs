//! The 188-byte transport packet: header and adaptation field parsing, and the writer that cuts a
//! payload (a PES packet or a PSI section) into whole packets with PCR, random-access flag and
//! adaptation-field stuffing.
//!
//! It does not know what the payload means: PES and PSI live in `pes.rs` and `psi.rs`, and
//! continuity checking across packets is the demuxer's job.

use bytes::{BufMut, BytesMut};

use super::TsError;

/// Every transport packet is exactly this long.
pub const PACKET_LEN: usize = 188;
/// The first byte of every packet.
pub const SYNC_BYTE: u8 = 0x47;
const HEADER_LEN: usize = 4;
/// Adaptation field length byte + flags byte + 6 PCR bytes.
const PCR_FIELD_LEN: usize = 8;

/// What the demuxer needs from one packet's header and adaptation field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PacketHeader {
    pub transport_error: bool,
    pub payload_unit_start: bool,
    pub pid: u16,
    pub continuity_counter: u8,
    pub has_payload: bool,
    pub discontinuity: bool,
    pub random_access: bool,
    /// The PCR base in 90 kHz ticks (the 27 MHz extension is not needed by anything downstream).
    pub pcr: Option<u64>,
    /// Where the payload starts inside the packet.
    pub payload_offset: usize,
}

/// Parses the header of one packet; `packet` must be exactly [`PACKET_LEN`] bytes starting with the sync byte.
pub(crate) fn parse_header(packet: &[u8]) -> Result<PacketHeader, TsError> {
    if packet.len() != PACKET_LEN || packet[0] != SYNC_BYTE {
        return Err(TsError::LostSync);
    }
    let adaptation_control = (packet[3] >> 4) & 0x3;
    let mut header = PacketHeader {
        transport_error: packet[1] & 0x80 != 0,
        payload_unit_start: packet[1] & 0x40 != 0,
        pid: u16::from_be_bytes([packet[1] & 0x1f, packet[2]]),
        continuity_counter: packet[3] & 0x0f,
        has_payload: adaptation_control & 0x1 != 0,
        discontinuity: false,
        random_access: false,
        pcr: None,
        payload_offset: HEADER_LEN,
    };
    if adaptation_control & 0x2 != 0 {
        let field_len = usize::from(packet[4]);
        let end = HEADER_LEN + 1 + field_len;
        if end > PACKET_LEN {
            return Err(TsError::AdaptationField { pid: header.pid, len: field_len });
        }
        if field_len > 0 {
            let flags = packet[5];
            header.discontinuity = flags & 0x80 != 0;
            header.random_access = flags & 0x40 != 0;
            if flags & 0x10 != 0 && field_len >= 7 {
                let b = &packet[6..11];
                let base = (u64::from(b[0]) << 25)
                    | (u64::from(b[1]) << 17)
                    | (u64::from(b[2]) << 9)
                    | (u64::from(b[3]) << 1)
                    | (u64::from(b[4]) >> 7);
                header.pcr = Some(base);
            }
        }
        header.payload_offset = end;
    }
    Ok(header)
}

/// Per-packet options of the first packet of a payload unit.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FirstPacket {
    /// PCR base in 90 kHz ticks (wrapped to 33 bits by the writer).
    pub pcr: Option<u64>,
    pub random_access: bool,
}

/// Cuts `payload` into whole packets on `pid`, appended to `out`; the first one carries
/// payload_unit_start and `first`'s adaptation fields. `continuity_counter` is advanced per packet.
/// When `pad_with_ff` is set (PSI), the last packet is padded after the payload with 0xff bytes;
/// otherwise (PES) stuffing goes into the adaptation field, as PES payloads may not be padded.
pub(crate) fn write_payload(
    out: &mut BytesMut,
    pid: u16,
    continuity_counter: &mut u8,
    payload: &[u8],
    first: FirstPacket,
    pad_with_ff: bool,
) {
    out.reserve((payload.len() / 184 + 2) * PACKET_LEN);
    let mut rest = payload;
    let mut is_first = true;
    loop {
        let start = out.len();
        let pcr = if is_first { first.pcr } else { None };
        let random_access = is_first && first.random_access;
        let needs_flags = pcr.is_some() || random_access;
        let mut field_len = match (needs_flags, pcr.is_some()) {
            (_, true) => PCR_FIELD_LEN,
            (true, false) => 2,
            (false, false) => 0,
        };
        let room = PACKET_LEN - HEADER_LEN - field_len;
        let take = rest.len().min(room);
        if take < room && !pad_with_ff {
            // Stuff inside the adaptation field so the payload ends exactly at the packet end.
            field_len += room - take;
        }
        let pusi = if is_first { 0x40 } else { 0 };
        out.put_u8(SYNC_BYTE);
        out.put_u8(pusi | ((pid >> 8) as u8 & 0x1f));
        out.put_u8(pid as u8);
        let adaptation_control = if field_len > 0 { 0x30 } else { 0x10 };
        out.put_u8(adaptation_control | (*continuity_counter & 0x0f));
        *continuity_counter = (*continuity_counter + 1) & 0x0f;
        if field_len > 0 {
            write_adaptation_field(out, field_len, pcr, random_access);
        }
        out.put_slice(&rest[..take]);
        rest = &rest[take..];
        let written = out.len() - start;
        out.put_bytes(0xff, PACKET_LEN - written);
        is_first = false;
        if rest.is_empty() {
            break;
        }
    }
}

/// Writes an adaptation field occupying exactly `total_len` bytes (its length byte included).
fn write_adaptation_field(out: &mut BytesMut, total_len: usize, pcr: Option<u64>, random_access: bool) {
    // A one-byte field is only the length byte (value 0): the smallest possible stuffing.
    out.put_u8((total_len - 1) as u8);
    if total_len == 1 {
        return;
    }
    let mut flags = 0u8;
    if random_access {
        flags |= 0x40;
    }
    if pcr.is_some() {
        flags |= 0x10;
    }
    out.put_u8(flags);
    let mut used = 2;
    if let Some(pcr) = pcr {
        let base = pcr & ((1 << 33) - 1);
        // 33-bit base, 6 reserved bits set to one, 9-bit extension left at zero.
        out.put_u8((base >> 25) as u8);
        out.put_u8((base >> 17) as u8);
        out.put_u8((base >> 9) as u8);
        out.put_u8((base >> 1) as u8);
        out.put_u8((((base & 1) as u8) << 7) | 0x7e);
        out.put_u8(0);
        used += 6;
    }
    out.put_bytes(0xff, total_len - used);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(payload: &[u8], first: FirstPacket, pad_with_ff: bool) -> Vec<u8> {
        let mut out = BytesMut::new();
        let mut cc = 14;
        write_payload(&mut out, 0x100, &mut cc, payload, first, pad_with_ff);
        out.to_vec()
    }

    fn payload_of(packet: &[u8]) -> &[u8] {
        let header = parse_header(packet).unwrap();
        &packet[header.payload_offset..]
    }

    #[test]
    fn splits_into_whole_packets_with_stuffing_and_wrapping_counters() {
        let payload: Vec<u8> = (0..400u32).map(|i| i as u8).collect();
        let bytes = packets(&payload, FirstPacket::default(), false);
        assert_eq!(bytes.len(), 3 * PACKET_LEN);
        let mut joined = Vec::new();
        for (i, packet) in bytes.chunks(PACKET_LEN).enumerate() {
            let header = parse_header(packet).unwrap();
            assert_eq!(header.pid, 0x100);
            assert_eq!(header.payload_unit_start, i == 0);
            assert_eq!(header.continuity_counter, [14, 15, 0][i]);
            joined.extend_from_slice(payload_of(packet));
        }
        assert_eq!(joined, payload);
    }

    #[test]
    fn first_packet_carries_pcr_and_random_access() {
        let pcr = (1u64 << 33) + 123_456_789; // wraps to 33 bits
        let bytes = packets(&[1, 2, 3], FirstPacket { pcr: Some(pcr), random_access: true }, false);
        assert_eq!(bytes.len(), PACKET_LEN);
        let header = parse_header(&bytes).unwrap();
        assert_eq!(header.pcr, Some(123_456_789));
        assert!(header.random_access);
        assert_eq!(payload_of(&bytes), &[1, 2, 3]);
    }

    #[test]
    fn stuffing_of_one_and_two_bytes_is_exact() {
        for len in [182usize, 183, 184, 185] {
            let payload = vec![0xab; len];
            let bytes = packets(&payload, FirstPacket::default(), false);
            let joined: Vec<u8> = bytes.chunks(PACKET_LEN).flat_map(|p| payload_of(p).to_vec()).collect();
            assert_eq!(joined, payload, "payload of {len} bytes");
        }
    }

    #[test]
    fn psi_padding_follows_the_payload() {
        let bytes = packets(&[0, 1, 2], FirstPacket::default(), true);
        let header = parse_header(&bytes).unwrap();
        assert_eq!(header.payload_offset, 4);
        assert_eq!(&bytes[4..7], &[0, 1, 2]);
        assert!(bytes[7..].iter().all(|b| *b == 0xff));
    }

    #[test]
    fn rejects_bad_adaptation_length_and_sync() {
        let mut packet = packets(&[1], FirstPacket::default(), false);
        packet[4] = 200;
        assert!(matches!(parse_header(&packet), Err(TsError::AdaptationField { .. })));
        packet[0] = 0;
        assert!(matches!(parse_header(&packet), Err(TsError::LostSync)));
    }
}
