//! RFC 4571: RTP over a TCP connection, each packet preceded by its 16-bit length.

use bytes::{Bytes, BytesMut};

/// Cuts a byte stream into the packets it frames; lengths are 16 bits, so nothing a peer
/// sends makes it hold more than one 64 KiB packet plus what one read brought.
#[derive(Debug, Default)]
pub struct Rfc4571Framer {
    buffer: BytesMut,
}

impl Rfc4571Framer {
    pub fn push(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// The next whole packet; `None` when more bytes are needed. Empty frames are skipped.
    pub fn next_packet(&mut self) -> Option<Bytes> {
        loop {
            if self.buffer.len() < 2 {
                return None;
            }
            let len = usize::from(u16::from_be_bytes([self.buffer[0], self.buffer[1]]));
            if self.buffer.len() < 2 + len {
                return None;
            }
            let _ = self.buffer.split_to(2);
            if len > 0 {
                return Some(self.buffer.split_to(len).freeze());
            }
        }
    }
}

/// `packet` with its RFC 4571 length in front, appended to `out`.
pub fn frame(packet: &[u8], out: &mut BytesMut) {
    out.extend_from_slice(&(packet.len() as u16).to_be_bytes());
    out.extend_from_slice(packet);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_any_chunking() {
        let mut wire = BytesMut::new();
        frame(b"first", &mut wire);
        frame(b"", &mut wire);
        frame(&[9u8; 300], &mut wire);
        let mut framer = Rfc4571Framer::default();
        let mut packets = Vec::new();
        for byte in wire.iter() {
            framer.push(std::slice::from_ref(byte));
            packets.extend(std::iter::from_fn(|| framer.next_packet()));
        }
        assert_eq!(packets.len(), 2);
        assert_eq!(&packets[0][..], b"first");
        assert_eq!(packets[1].len(), 300);
    }
}
