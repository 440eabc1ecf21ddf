//! RTP (RFC 3550) as GB28181 uses it: fixed header, CSRCs and header extension skipped,
//! padding removed; payload type 96 carries program stream at 90 kHz.

use bytes::{BufMut, Bytes, BytesMut};

/// GB28181's dynamic payload type for PS.
pub const PAYLOAD_TYPE_PS: u8 = 96;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    #[error("rtp packet of {0} bytes is shorter than its header")]
    Short(usize),
    #[error("rtp version {0}, expected 2")]
    Version(u8),
    #[error("rtp header extension or padding past the packet")]
    Overrun,
}

/// One parsed packet; `payload` is a slice of the packet (no copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload: Bytes,
}

impl RtpPacket {
    pub fn parse(packet: Bytes) -> Result<RtpPacket, RtpError> {
        let len = packet.len();
        if len < 12 {
            return Err(RtpError::Short(len));
        }
        let version = packet[0] >> 6;
        if version != 2 {
            return Err(RtpError::Version(version));
        }
        let padding = packet[0] & 0x20 != 0;
        let extension = packet[0] & 0x10 != 0;
        let csrc_count = usize::from(packet[0] & 0x0f);
        let mut start = 12 + 4 * csrc_count;
        if extension {
            let words = packet.get(start + 2..start + 4).ok_or(RtpError::Overrun)?;
            start += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
        }
        let mut end = len;
        if padding {
            let pad = usize::from(packet[len - 1]);
            end = end.checked_sub(pad).ok_or(RtpError::Overrun)?;
        }
        if start > end {
            return Err(RtpError::Overrun);
        }
        Ok(RtpPacket {
            marker: packet[1] & 0x80 != 0,
            payload_type: packet[1] & 0x7f,
            sequence: u16::from_be_bytes([packet[2], packet[3]]),
            timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
            ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
            payload: packet.slice(start..end),
        })
    }

    /// The packet's bytes (a 12-byte header, then the payload).
    pub fn write(&self, out: &mut BytesMut) {
        out.put_u8(0x80);
        out.put_u8(if self.marker { 0x80 } else { 0 } | (self.payload_type & 0x7f));
        out.put_u16(self.sequence);
        out.put_u32(self.timestamp);
        out.put_u32(self.ssrc);
        out.put_slice(&self.payload);
    }
}

/// Splits one frame's program stream bytes into RTP packets of at most `max_payload` bytes,
/// sequence numbers from `*sequence` on, the marker on the last (as cameras send frames).
pub fn packetize(
    ps: &Bytes,
    max_payload: usize,
    sequence: &mut u16,
    timestamp: u32,
    ssrc: u32,
) -> Vec<RtpPacket> {
    let max_payload = max_payload.max(1);
    let n = ps.len().div_ceil(max_payload);
    (0..n)
        .map(|i| {
            let end = ((i + 1) * max_payload).min(ps.len());
            let packet = RtpPacket {
                marker: i + 1 == n,
                payload_type: PAYLOAD_TYPE_PS,
                sequence: *sequence,
                timestamp,
                ssrc,
                payload: ps.slice(i * max_payload..end),
            };
            *sequence = sequence.wrapping_add(1);
            packet
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_round_trip_and_split_with_the_marker_last() {
        let ps = Bytes::from(vec![7u8; 2500]);
        let mut sequence = 65_535;
        let packets = packetize(&ps, 1000, &mut sequence, 90_000, 0x1234);
        assert_eq!(packets.len(), 3);
        assert_eq!(sequence, 2);
        assert_eq!(packets.iter().map(|p| p.marker).collect::<Vec<_>>(), [false, false, true]);
        let mut out = BytesMut::new();
        packets[2].write(&mut out);
        let parsed = RtpPacket::parse(out.freeze()).unwrap();
        assert_eq!(parsed, packets[2]);
        assert_eq!(parsed.sequence, 1);
        assert_eq!(parsed.payload.len(), 500);
    }

    #[test]
    fn malformed_packets_are_errors() {
        assert_eq!(RtpPacket::parse(Bytes::from_static(&[0x80; 5])), Err(RtpError::Short(5)));
        assert_eq!(RtpPacket::parse(Bytes::from(vec![0x40; 12])), Err(RtpError::Version(1)));
        let mut padded = vec![0xa0, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
        padded.push(200);
        assert_eq!(RtpPacket::parse(Bytes::from(padded)), Err(RtpError::Overrun));
        let extension = vec![0x90, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9];
        assert_eq!(RtpPacket::parse(Bytes::from(extension)), Err(RtpError::Overrun));
    }
}
