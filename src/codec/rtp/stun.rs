//! The ICE-lite answer to a STUN binding request (RFC 8445 section 7.3, RFC 5389): the request's
//! USERNAME must name our ufrag and its MESSAGE-INTEGRITY check under our ICE password (and its
//! FINGERPRINT, when present); the success response carries the source address seen
//! (XOR-MAPPED-ADDRESS), its own integrity and fingerprint. Used for a player's consent checks
//! once its session has left the `rtc` crate (`servers::rtc_slim`).

use std::net::SocketAddr;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use thiserror::Error;

const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];
const BINDING_REQUEST: u16 = 0x0001;
const BINDING_SUCCESS: u16 = 0x0101;
const ATTR_USERNAME: u16 = 0x0006;
const ATTR_MESSAGE_INTEGRITY: u16 = 0x0008;
const ATTR_XOR_MAPPED_ADDRESS: u16 = 0x0020;
const ATTR_FINGERPRINT: u16 = 0x8028;
const FINGERPRINT_XOR: u32 = 0x5354_554e;
const HEADER: usize = 20;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum StunError {
    #[error("not a stun binding request")]
    NotBinding,
    #[error("malformed stun message")]
    Malformed,
    #[error("stun username does not name our ufrag")]
    Username,
    #[error("stun message integrity missing or wrong")]
    Integrity,
    #[error("stun fingerprint wrong")]
    Fingerprint,
}

/// CRC-32 (IEEE, reflected), as STUN's FINGERPRINT takes it; bindings are ~100 bytes, once a
/// second or so per peer, so bit by bit is enough.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha1> {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    for part in parts {
        mac.update(part);
    }
    mac
}

/// The header of `message` with its length field saying `length` bytes of attributes.
fn header_with_length(message: &[u8], length: usize) -> [u8; HEADER] {
    let mut header = [0u8; HEADER];
    header.copy_from_slice(&message[..HEADER]);
    header[2..4].copy_from_slice(&(length as u16).to_be_bytes());
    header
}

/// Checks the binding request `request` against our `ufrag` and ICE `password`, and answers it
/// for a client seen at `from`.
pub fn answer_binding(
    request: &[u8],
    ufrag: &str,
    password: &str,
    from: SocketAddr,
) -> Result<Vec<u8>, StunError> {
    let header = request.get(..HEADER).ok_or(StunError::NotBinding)?;
    if u16::from_be_bytes([header[0], header[1]]) != BINDING_REQUEST || header[4..8] != MAGIC_COOKIE {
        return Err(StunError::NotBinding);
    }
    let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if request.len() != HEADER + length || length % 4 != 0 {
        return Err(StunError::Malformed);
    }
    let (mut username_ok, mut integrity_at, mut fingerprint_at) = (false, None, None);
    let mut at = HEADER;
    while at < request.len() {
        let head = request.get(at..at + 4).ok_or(StunError::Malformed)?;
        let kind = u16::from_be_bytes([head[0], head[1]]);
        let size = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let value = request.get(at + 4..at + 4 + size).ok_or(StunError::Malformed)?;
        // Past MESSAGE-INTEGRITY only FINGERPRINT counts (RFC 5389 section 15.4).
        if integrity_at.is_none() || kind == ATTR_FINGERPRINT {
            match kind {
                ATTR_USERNAME => {
                    username_ok =
                        value.strip_prefix(ufrag.as_bytes()).is_some_and(|rest| rest.first() == Some(&b':'))
                }
                ATTR_MESSAGE_INTEGRITY if size == 20 => integrity_at = Some(at),
                ATTR_FINGERPRINT if size == 4 => fingerprint_at = Some(at),
                _ => {}
            }
        }
        at += 4 + ((size + 3) & !3);
    }
    if !username_ok {
        return Err(StunError::Username);
    }
    if let Some(at) = fingerprint_at {
        let header = header_with_length(request, at + 8 - HEADER);
        let expected = crc32(&[&header[..], &request[HEADER..at]].concat()) ^ FINGERPRINT_XOR;
        if request[at + 4..at + 8] != expected.to_be_bytes() {
            return Err(StunError::Fingerprint);
        }
    }
    let at = integrity_at.ok_or(StunError::Integrity)?;
    let header = header_with_length(request, at + 24 - HEADER);
    hmac(password.as_bytes(), &[&header, &request[HEADER..at]])
        .verify_slice(&request[at + 4..at + 24])
        .map_err(|_| StunError::Integrity)?;
    Ok(success(&request[8..HEADER], password, from))
}

/// The binding success response of transaction `transaction` (12 bytes) for `from`.
fn success(transaction: &[u8], password: &str, from: SocketAddr) -> Vec<u8> {
    let mut message = Vec::with_capacity(HEADER + 24 + 24 + 8);
    message.extend_from_slice(&BINDING_SUCCESS.to_be_bytes());
    message.extend_from_slice(&[0, 0]);
    message.extend_from_slice(&MAGIC_COOKIE);
    message.extend_from_slice(transaction);
    let port = from.port() ^ 0x2112;
    let (family, address): (u8, Vec<u8>) = match from {
        SocketAddr::V4(v4) => (1, v4.ip().octets().iter().zip(MAGIC_COOKIE).map(|(a, m)| a ^ m).collect()),
        SocketAddr::V6(v6) => {
            let mask = [&MAGIC_COOKIE[..], transaction].concat();
            (2, v6.ip().octets().iter().zip(mask).map(|(a, m)| a ^ m).collect())
        }
    };
    message.extend_from_slice(&ATTR_XOR_MAPPED_ADDRESS.to_be_bytes());
    message.extend_from_slice(&(4 + address.len() as u16).to_be_bytes());
    message.extend_from_slice(&[0, family]);
    message.extend_from_slice(&port.to_be_bytes());
    message.extend_from_slice(&address);
    let with_integrity = message.len() + 24 - HEADER;
    message[2..4].copy_from_slice(&(with_integrity as u16).to_be_bytes());
    let tag = hmac(password.as_bytes(), &[&message]).finalize().into_bytes();
    message.extend_from_slice(&ATTR_MESSAGE_INTEGRITY.to_be_bytes());
    message.extend_from_slice(&20u16.to_be_bytes());
    message.extend_from_slice(&tag);
    let with_fingerprint = message.len() + 8 - HEADER;
    message[2..4].copy_from_slice(&(with_fingerprint as u16).to_be_bytes());
    let fingerprint = crc32(&message) ^ FINGERPRINT_XOR;
    message.extend_from_slice(&ATTR_FINGERPRINT.to_be_bytes());
    message.extend_from_slice(&4u16.to_be_bytes());
    message.extend_from_slice(&fingerprint.to_be_bytes());
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::stun::fingerprint::FINGERPRINT;
    use rtc::stun::integrity::MessageIntegrity;
    use rtc::stun::message::{
        Getter, Message, Setter, TransactionId, BINDING_REQUEST as REQUEST, BINDING_SUCCESS,
    };
    use rtc::stun::textattrs::Username;
    use rtc::stun::xoraddr::XorMappedAddress;

    const PASSWORD: &str = "pass-word-of-24-letters!";

    /// A binding request as an ICE agent sends it, built by the `rtc` crate's STUN.
    fn request(username: &str) -> Vec<u8> {
        let provider = rtc::crypto::default_provider().unwrap();
        let mut message = Message::new();
        let setters: Vec<Box<dyn Setter>> = vec![
            Box::new(REQUEST),
            Box::new(TransactionId::new()),
            Box::new(Username::new(rtc::stun::attributes::ATTR_USERNAME, username.to_owned())),
            Box::new(MessageIntegrity::new_short_term_integrity_with_provider(
                PASSWORD.to_owned(),
                provider.crypto(),
            )),
            Box::new(FINGERPRINT),
        ];
        message.build(&setters).unwrap();
        message.raw
    }

    /// The answer checks with the crate's STUN: a success of the same transaction, integrity
    /// under our password, fingerprint, the address seen (IPv4 and IPv6).
    #[test]
    fn answers_a_binding_the_crate_checks() {
        let provider = rtc::crypto::default_provider().unwrap();
        for from in ["192.0.2.1:32853", "[2001:db8::7]:5000"] {
            let from: SocketAddr = from.parse().unwrap();
            let built = request("ours:theirs");
            let answer = answer_binding(&built, "ours", PASSWORD, from).unwrap();
            let mut parsed = Message::new();
            parsed.raw = answer;
            parsed.decode().unwrap();
            assert_eq!(parsed.typ, BINDING_SUCCESS);
            assert_eq!(parsed.raw[8..20], built[8..20], "same transaction");
            MessageIntegrity::check(&mut parsed, PASSWORD.as_bytes(), provider.crypto()).unwrap();
            FINGERPRINT.check(&parsed).unwrap();
            let mut mapped = XorMappedAddress::default();
            mapped.get_from(&parsed).unwrap();
            assert_eq!(SocketAddr::new(mapped.ip, mapped.port), from);
        }
    }

    #[test]
    fn refuses_another_ufrag_a_bad_password_and_garbage() {
        let from: SocketAddr = "[::1]:5000".parse().unwrap();
        let good = request("ours:theirs");
        assert!(answer_binding(&good, "ours", PASSWORD, from).is_ok());
        assert_eq!(answer_binding(&good, "other", PASSWORD, from), Err(StunError::Username));
        assert_eq!(answer_binding(&good, "our", PASSWORD, from), Err(StunError::Username));
        assert_eq!(answer_binding(&good, "ours", "wrong", from), Err(StunError::Integrity));
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(answer_binding(&flipped, "ours", PASSWORD, from), Err(StunError::Fingerprint));
        assert_eq!(answer_binding(&good[..30], "ours", PASSWORD, from), Err(StunError::Malformed));
        assert_eq!(answer_binding(&[0x80; 40], "ours", PASSWORD, from), Err(StunError::NotBinding));
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }
}
