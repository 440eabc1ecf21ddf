//! The Flash "complex handshake" cryptography: the HMAC-SHA256 digests hidden in C1/S1 and the
//! signatures closing C2/S2, with the two published key schemes (digest block first or key block first).
//!
//! Only what clients check is implemented. The Diffie-Hellman key block is filled with noise, not a real
//! public key, because nothing here encrypts (RTMPE is not supported, as in SRS).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Size of C1, S1, C2 and S2.
pub const HANDSHAKE_SIZE: usize = 1536;
/// Size of an HMAC-SHA256 digest.
pub const DIGEST_SIZE: usize = 32;

/// The 32 bytes both published keys end with.
const KEY_TAIL: [u8; 32] = [
    0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e,
    0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
];
const FLASH_PLAYER_TEXT: &[u8; 30] = b"Genuine Adobe Flash Player 001";
const FLASH_MEDIA_SERVER_TEXT: &[u8; 36] = b"Genuine Adobe Flash Media Server 001";

/// Which published key a digest is made with: the text part signs C1/S1, the full key (text + tail)
/// derives the key that signs C2/S2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    FlashPlayer,
    FlashMediaServer,
}

impl Signer {
    fn text(self) -> &'static [u8] {
        match self {
            Signer::FlashPlayer => FLASH_PLAYER_TEXT,
            Signer::FlashMediaServer => FLASH_MEDIA_SERVER_TEXT,
        }
    }

    fn full_key(self) -> Vec<u8> {
        let mut key = self.text().to_vec();
        key.extend_from_slice(&KEY_TAIL);
        key
    }
}

/// Where the 764-byte digest block sits in C1/S1: scheme 0 puts the key block first (digest block at
/// byte 772), scheme 1 the digest block first (at byte 8). ffmpeg and librtmp use scheme 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestScheme {
    KeyFirst,
    DigestFirst,
}

impl DigestScheme {
    /// The offset of the 32 digest bytes, derived from the 4 bytes that open the digest block.
    pub fn digest_offset(self, packet: &[u8; HANDSHAKE_SIZE]) -> usize {
        let block = match self {
            DigestScheme::KeyFirst => 772,
            DigestScheme::DigestFirst => 8,
        };
        let sum: usize = packet[block..block + 4].iter().map(|b| usize::from(*b)).sum();
        block + 4 + sum % 728
    }
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; DIGEST_SIZE] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return [0; DIGEST_SIZE] };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The digest of C1/S1: an HMAC of the packet without its own 32 digest bytes.
fn packet_digest(packet: &[u8; HANDSHAKE_SIZE], offset: usize, signer: Signer) -> [u8; DIGEST_SIZE] {
    hmac_sha256(signer.text(), &[&packet[..offset], &packet[offset + DIGEST_SIZE..]])
}

/// Writes the digest into C1/S1 at the place `scheme` derives; returns the digest.
pub fn sign_packet(
    packet: &mut [u8; HANDSHAKE_SIZE],
    scheme: DigestScheme,
    signer: Signer,
) -> [u8; DIGEST_SIZE] {
    let offset = scheme.digest_offset(packet);
    let digest = packet_digest(packet, offset, signer);
    packet[offset..offset + DIGEST_SIZE].copy_from_slice(&digest);
    digest
}

/// Finds a valid digest in C1/S1, trying both schemes; returns the scheme and the digest.
pub fn find_digest(
    packet: &[u8; HANDSHAKE_SIZE],
    signer: Signer,
) -> Option<(DigestScheme, [u8; DIGEST_SIZE])> {
    [DigestScheme::DigestFirst, DigestScheme::KeyFirst].into_iter().find_map(|scheme| {
        let offset = scheme.digest_offset(packet);
        let expected = packet_digest(packet, offset, signer);
        (packet[offset..offset + DIGEST_SIZE] == expected).then_some((scheme, expected))
    })
}

/// The signature closing C2/S2: keyed by an HMAC of the peer's C1/S1 digest with the full key.
pub fn response_signature(
    response: &[u8; HANDSHAKE_SIZE],
    peer_digest: &[u8; DIGEST_SIZE],
    signer: Signer,
) -> [u8; DIGEST_SIZE] {
    let key = hmac_sha256(&signer.full_key(), &[peer_digest]);
    hmac_sha256(&key, &[&response[..HANDSHAKE_SIZE - DIGEST_SIZE]])
}

/// Signs C2/S2 in place (its last 32 bytes).
pub fn sign_response(response: &mut [u8; HANDSHAKE_SIZE], peer_digest: &[u8; DIGEST_SIZE], signer: Signer) {
    let signature = response_signature(response, peer_digest, signer);
    response[HANDSHAKE_SIZE - DIGEST_SIZE..].copy_from_slice(&signature);
}

/// Fills `out` with xorshift noise: the handshake wants unpredictable-looking bytes, not secrets.
pub fn fill_noise(out: &mut [u8], seed: u64) {
    let mut rng = crate::codec::xorshift::XorShift::new(seed | 1);
    for byte in out {
        *byte = (rng.next_u64() >> 24) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_packet_is_found_with_its_scheme_and_not_with_the_other_key() {
        for scheme in [DigestScheme::KeyFirst, DigestScheme::DigestFirst] {
            let mut packet = [0u8; HANDSHAKE_SIZE];
            fill_noise(&mut packet, 42);
            let digest = sign_packet(&mut packet, scheme, Signer::FlashPlayer);
            assert_eq!(find_digest(&packet, Signer::FlashPlayer), Some((scheme, digest)));
            assert_eq!(find_digest(&packet, Signer::FlashMediaServer), None);
        }
    }

    #[test]
    fn digest_offset_follows_the_sum_of_the_block_opening_bytes() {
        let mut packet = [0u8; HANDSHAKE_SIZE];
        packet[8..12].copy_from_slice(&[200, 200, 200, 200]);
        assert_eq!(DigestScheme::DigestFirst.digest_offset(&packet), 12 + 800 % 728);
        packet[772..776].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(DigestScheme::KeyFirst.digest_offset(&packet), 776 + 10);
    }

    #[test]
    fn hmac_matches_the_rfc_4231_test_case_2() {
        let digest = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
