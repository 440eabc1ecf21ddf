//! Opus over RTP (RFC 7587): one Opus packet per RTP payload, on a 48 kHz clock, marker unset.

use bytes::Bytes;

use super::RtpPayload;

/// Largest Opus packet (RFC 6716 §3.4: 120 ms of 255-byte frames stay under this).
pub const MAX_OPUS_PACKET: usize = 1275 * 3;

/// The RTP payload of one Opus frame.
pub fn packetize(frame: &Bytes) -> RtpPayload {
    RtpPayload { marker: false, data: frame.clone() }
}

/// The Opus frame of one RTP payload; `None` for an empty payload (DTX keep-alive) or one longer
/// than any Opus packet.
pub fn depacketize(payload: Bytes) -> Option<Bytes> {
    (!payload.is_empty() && payload.len() <= MAX_OPUS_PACKET).then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_frame_per_packet() {
        let frame = Bytes::from_static(&[0xfc, 1, 2, 3]);
        let payload = packetize(&frame);
        assert!(!payload.marker);
        assert_eq!(depacketize(payload.data), Some(frame));
        assert_eq!(depacketize(Bytes::new()), None);
        assert_eq!(depacketize(Bytes::from(vec![0; MAX_OPUS_PACKET + 1])), None);
    }
}
