//! The RTP fixed header (RFC 3550 §5.1): parsed with its CSRC list, header extension and padding
//! skipped, written without them (the server's packets carry none).

use bytes::{BufMut, BytesMut};
use thiserror::Error;

/// Size of the fixed header.
pub const FIXED_HEADER_LEN: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RtpError {
    #[error("rtp packet of {0} bytes is shorter than its header")]
    Truncated(usize),
    #[error("rtp version {0} is not 2")]
    BadVersion(u8),
    #[error("rtp header extension of {length} bytes runs past the packet ({available} bytes left)")]
    ExtensionPastEnd { length: usize, available: usize },
    #[error("rtp padding of {padding} bytes is longer than the payload ({available} bytes)")]
    BadPadding { padding: usize, available: usize },
}

/// The header fields that matter to a media server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpHeader {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

impl RtpHeader {
    /// Parses `packet`, returning the header and the payload's byte range (after CSRCs and the
    /// extension, before padding).
    pub fn parse(packet: &[u8]) -> Result<(RtpHeader, std::ops::Range<usize>), RtpError> {
        if packet.len() < FIXED_HEADER_LEN {
            return Err(RtpError::Truncated(packet.len()));
        }
        let version = packet[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let has_padding = packet[0] & 0x20 != 0;
        let has_extension = packet[0] & 0x10 != 0;
        let csrc_count = usize::from(packet[0] & 0x0f);
        let mut start = FIXED_HEADER_LEN + 4 * csrc_count;
        if packet.len() < start {
            return Err(RtpError::Truncated(packet.len()));
        }
        if has_extension {
            let Some(words) = packet.get(start + 2..start + 4) else {
                return Err(RtpError::Truncated(packet.len()));
            };
            let length = 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
            if packet.len() < start + length {
                return Err(RtpError::ExtensionPastEnd { length, available: packet.len() - start });
            }
            start += length;
        }
        let mut end = packet.len();
        if has_padding {
            let padding = usize::from(packet[end - 1]);
            if padding == 0 || padding > end - start {
                return Err(RtpError::BadPadding { padding, available: end - start });
            }
            end -= padding;
        }
        let header = RtpHeader {
            marker: packet[1] & 0x80 != 0,
            payload_type: packet[1] & 0x7f,
            sequence: u16::from_be_bytes([packet[2], packet[3]]),
            timestamp: u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]),
            ssrc: u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
        };
        Ok((header, start..end))
    }

    /// Appends the 12-byte header (no CSRC, no extension, no padding) to `out`.
    pub fn write(&self, out: &mut BytesMut) {
        out.put_u8(0x80);
        out.put_u8(u8::from(self.marker) << 7 | (self.payload_type & 0x7f));
        out.put_u16(self.sequence);
        out.put_u32(self.timestamp);
        out.put_u32(self.ssrc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_parses_back() {
        let header =
            RtpHeader { marker: true, payload_type: 102, sequence: 65535, timestamp: 0xdead_beef, ssrc: 7 };
        let mut out = BytesMut::new();
        header.write(&mut out);
        out.put_slice(b"payload");
        let (parsed, range) = RtpHeader::parse(&out).unwrap();
        assert_eq!(parsed, header);
        assert_eq!(&out[range], b"payload");
    }

    #[test]
    fn skips_csrcs_extension_and_padding() {
        let mut packet = vec![0x80 | 0x20 | 0x10 | 0x01, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        packet.extend_from_slice(&[9, 9, 9, 9]); // one CSRC
        packet.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]); // one-word extension
        packet.extend_from_slice(b"abc");
        packet.extend_from_slice(&[0, 0, 3]); // three bytes of padding
        let (header, range) = RtpHeader::parse(&packet).unwrap();
        assert_eq!((header.sequence, header.timestamp, header.ssrc), (1, 2, 3));
        assert_eq!(&packet[range], b"abc");
    }

    #[test]
    fn refuses_bad_lengths() {
        assert_eq!(RtpHeader::parse(&[0x80; 5]), Err(RtpError::Truncated(5)));
        assert_eq!(RtpHeader::parse(&[0x40; 12]), Err(RtpError::BadVersion(1)));
        let extension_past_end = [0x90, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xbe, 0xde, 0, 9];
        assert!(matches!(RtpHeader::parse(&extension_past_end), Err(RtpError::ExtensionPastEnd { .. })));
        let padding_too_long = [0xa0, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 200];
        assert!(matches!(RtpHeader::parse(&padding_too_long), Err(RtpError::BadPadding { .. })));
    }
}
