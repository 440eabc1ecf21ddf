//! Telling apart what arrives on one UDP port shared by every WebRTC peer (RFC 7983 §7), and the
//! ICE username of a STUN binding request, which names the session before any address is known.

/// What a datagram is, by its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datagram {
    Stun,
    Dtls,
    /// RTP or RTCP (told apart by the payload type once decrypted).
    Rtp,
    Unknown,
}

/// RFC 7983's ranges: 0–3 STUN, 20–63 DTLS, 128–191 RTP/RTCP.
pub fn classify(datagram: &[u8]) -> Datagram {
    match datagram.first() {
        Some(0..=3) => Datagram::Stun,
        Some(20..=63) => Datagram::Dtls,
        Some(128..=191) => Datagram::Rtp,
        _ => Datagram::Unknown,
    }
}

/// STUN's magic cookie (RFC 5389).
const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];
const BINDING_REQUEST: u16 = 0x0001;
const ATTR_USERNAME: u16 = 0x0006;
/// Attributes longer than this are not a username we issued.
const MAX_USERNAME: usize = 513;

/// The local ufrag (`<ours>:<theirs>`, the part before `:`) of a STUN binding request, or `None`
/// for anything else (another STUN message, a malformed one, no USERNAME).
pub fn binding_local_ufrag(datagram: &[u8]) -> Option<&str> {
    let header = datagram.get(..20)?;
    if u16::from_be_bytes([header[0], header[1]]) != BINDING_REQUEST || header[4..8] != MAGIC_COOKIE {
        return None;
    }
    let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let mut attributes = datagram.get(20..20 + length)?;
    while attributes.len() >= 4 {
        let kind = u16::from_be_bytes([attributes[0], attributes[1]]);
        let size = usize::from(u16::from_be_bytes([attributes[2], attributes[3]]));
        let value = attributes.get(4..4 + size)?;
        if kind == ATTR_USERNAME {
            if size > MAX_USERNAME {
                return None;
            }
            let username = std::str::from_utf8(value).ok()?;
            return Some(username.split_once(':').map_or(username, |(ours, _)| ours));
        }
        let padded = (size + 3) & !3;
        attributes = attributes.get(4 + padded..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(username: &[u8]) -> Vec<u8> {
        let mut attribute = vec![0x80, 0x2a, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]; // ICE-CONTROLLING first
        attribute.extend_from_slice(&[0, 6]);
        attribute.extend_from_slice(&(username.len() as u16).to_be_bytes());
        attribute.extend_from_slice(username);
        while attribute.len() % 4 != 0 {
            attribute.push(0);
        }
        let mut message = vec![0, 1];
        message.extend_from_slice(&(attribute.len() as u16).to_be_bytes());
        message.extend_from_slice(&MAGIC_COOKIE);
        message.extend_from_slice(&[7; 12]);
        message.extend_from_slice(&attribute);
        message
    }

    #[test]
    fn finds_the_local_ufrag() {
        assert_eq!(binding_local_ufrag(&binding(b"srvfrag1:brw")), Some("srvfrag1"));
        assert_eq!(classify(&binding(b"a:b")), Datagram::Stun);
    }

    #[test]
    fn ignores_malformed_stun() {
        let mut truncated = binding(b"srvfrag1:brw");
        truncated.truncate(30);
        assert_eq!(binding_local_ufrag(&truncated), None);
        assert_eq!(binding_local_ufrag(&[0; 3]), None);
        let mut not_binding = binding(b"x:y");
        not_binding[1] = 0x11;
        assert_eq!(binding_local_ufrag(&not_binding), None);
    }

    #[test]
    fn classifies_by_first_byte() {
        assert_eq!(classify(&[22, 254, 253]), Datagram::Dtls);
        assert_eq!(classify(&[0x80, 96]), Datagram::Rtp);
        assert_eq!(classify(&[0xff]), Datagram::Unknown);
        assert_eq!(classify(&[]), Datagram::Unknown);
    }
}
