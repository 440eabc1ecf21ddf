//! SRTP protection of the RTP packets we send (RFC 3711, RFC 7714), in place: the packet is
//! written once into the caller's buffer, its payload encrypted where it lies and the tag
//! appended. Two profiles, those browsers negotiate: AEAD_AES_128_GCM (RFC 7714) and
//! AES_CM_128_HMAC_SHA1_80 (RFC 3711).
//!
//! Only the sending half of SRTP: what a publisher sends us is still the `rtc` crate's. RTCP both
//! ways is `codec::srtcp`; SRTP and SRTCP use separate session keys and counters, so the two
//! never share a keystream. Session keys come from the DTLS-SRTP
//! master key and salt (RFC 5764) through the AES-CM PRF with a key derivation rate of 0.

use aes::Aes128;
use ctr::cipher::{BlockEncrypt, InnerIvInit, KeyInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use thiserror::Error;

/// The SRTP protection profiles we protect with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// RFC 7714: AES-128 in GCM, 12-byte salt, 16-byte tag.
    AeadAes128Gcm,
    /// RFC 3711: AES-128 in counter mode, HMAC-SHA1 tag truncated to 10 bytes.
    Aes128CmHmacSha1_80,
}

impl Profile {
    /// The master (and session) salt length.
    pub fn salt_len(self) -> usize {
        match self {
            Profile::AeadAes128Gcm => 12,
            Profile::Aes128CmHmacSha1_80 => 14,
        }
    }

    /// Bytes the protection adds after the payload.
    pub fn tag_len(self) -> usize {
        match self {
            Profile::AeadAes128Gcm => 16,
            Profile::Aes128CmHmacSha1_80 => 10,
        }
    }
}

/// The DTLS-SRTP master key and salt of one direction.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    pub profile: Profile,
    pub key: [u8; 16],
    /// The first `profile.salt_len()` bytes are the salt.
    pub salt: [u8; 14],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out of logs.
        f.debug_struct("MasterKey").field("profile", &self.profile).finish_non_exhaustive()
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SrtpError {
    #[error("rtp packet of {0} bytes is shorter than its header")]
    Short(usize),
    #[error("not an rtp version 2 packet")]
    Version,
    #[error("payload too long for aes-gcm")]
    TooLong,
}

/// RFC 3711 labels of one direction's session keys: SRTP's (section 4.3.1) or SRTCP's (4.3.2).
#[derive(Debug, Clone, Copy)]
pub(super) struct Labels {
    encryption: u8,
    authentication: u8,
    salt: u8,
}

pub(super) const SRTP_LABELS: Labels = Labels { encryption: 0x00, authentication: 0x01, salt: 0x02 };
pub(super) const SRTCP_LABELS: Labels = Labels { encryption: 0x03, authentication: 0x04, salt: 0x05 };

/// The AES-CM PRF (RFC 3711 section 4.3.3, key derivation rate 0): `out` filled with the
/// keystream of the master key at IV = (salt XOR label) * 2^16. The salt sits at the front of the
/// 14-byte field, the label at byte 7, as RFC 7714 and libsrtp do for a 12-byte salt too.
pub(super) fn derive(master: &Aes128, salt: &[u8], label: u8, out: &mut [u8]) {
    let mut input = [0u8; 16];
    input[..salt.len()].copy_from_slice(salt);
    input[7] ^= label;
    for (counter, chunk) in out.chunks_mut(16).enumerate() {
        let mut block = input;
        block[14..].copy_from_slice(&(counter as u16).to_be_bytes());
        let mut block = aes::Block::from(block);
        master.encrypt_block(&mut block);
        chunk.copy_from_slice(&block[..chunk.len()]);
    }
}

pub(super) enum Cipher {
    Gcm {
        aead: Box<ring::aead::LessSafeKey>,
        salt: [u8; 12],
    },
    CmSha1 {
        /// The session key's expanded AES, copied into each packet's counter-mode state.
        aes: Box<Aes128>,
        salt: [u8; 14],
        /// The keyed HMAC, cloned for each packet (the key schedule is paid once).
        mac: Box<Hmac<Sha1>>,
    },
}

/// The rollover counter of one sending SSRC (RFC 3711 section 3.3.1).
#[derive(Debug, Clone, Copy)]
struct Stream {
    ssrc: u32,
    roc: u32,
    /// The highest sequence number sent.
    highest: u16,
}

impl Stream {
    /// The rollover counter of `sequence`, and the stream moved on if it is the newest (a
    /// packet sent again, for a NACK, is older and keeps the counter it had).
    fn index(&mut self, sequence: u16) -> u32 {
        let (s_l, roc) = (self.highest, self.roc);
        let guess = if s_l < 0x8000 {
            if u32::from(sequence) > u32::from(s_l) + 0x8000 {
                roc.wrapping_sub(1)
            } else {
                roc
            }
        } else if u32::from(s_l) - 0x8000 > u32::from(sequence) {
            roc.wrapping_add(1)
        } else {
            roc
        };
        if guess == roc.wrapping_add(1) || (guess == roc && sequence > s_l) {
            self.roc = guess;
            self.highest = sequence;
        }
        guess
    }
}

/// What one peer needs to protect what we send it: the session keys of our direction and each
/// SSRC's rollover counter.
pub struct SrtpSender {
    cipher: Cipher,
    profile: Profile,
    /// A player has two SSRCs (video, audio): a list beats a map.
    streams: Vec<Stream>,
}

impl std::fmt::Debug for SrtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpSender").field("profile", &self.profile).finish_non_exhaustive()
    }
}

/// Length of the RTP header at the front of `packet` (fixed part, CSRCs, extension).
fn header_len(packet: &[u8]) -> Result<usize, SrtpError> {
    let first = *packet.first().ok_or(SrtpError::Short(0))?;
    if first >> 6 != 2 {
        return Err(SrtpError::Version);
    }
    let mut len = 12 + 4 * usize::from(first & 0x0f);
    if first & 0x10 != 0 {
        let words = packet.get(len + 2..len + 4).ok_or(SrtpError::Short(packet.len()))?;
        len += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    if packet.len() < len {
        return Err(SrtpError::Short(packet.len()));
    }
    Ok(len)
}

impl SrtpSender {
    /// The sender of `master`'s direction: its session keys derived.
    pub fn new(master: &MasterKey) -> SrtpSender {
        let cipher = Cipher::session(master, SRTP_LABELS);
        SrtpSender { cipher, profile: master.profile, streams: Vec::with_capacity(2) }
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Protects the RTP packet that starts at `start` in `buffer` and runs to its end: the
    /// payload encrypted in place, the tag appended. A packet sent again (for a NACK) is the same
    /// plaintext under the same index, so it comes out the same: nothing is revealed by its IV
    /// being used twice.
    pub fn protect(&mut self, buffer: &mut Vec<u8>, start: usize) -> Result<(), SrtpError> {
        let packet = buffer.get(start..).ok_or(SrtpError::Short(0))?;
        let header = header_len(packet)?;
        let sequence = u16::from_be_bytes([packet[2], packet[3]]);
        let ssrc = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]);
        let roc = self.roc_for(ssrc, sequence);
        let split = start + header;
        match &self.cipher {
            Cipher::Gcm { aead, salt } => {
                // RFC 7714 section 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt.
                let mut iv = [0u8; 12];
                iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
                iv[6..10].copy_from_slice(&roc.to_be_bytes());
                iv[10..12].copy_from_slice(&sequence.to_be_bytes());
                iv.iter_mut().zip(salt).for_each(|(b, s)| *b ^= s);
                let (aad, payload) = buffer[start..].split_at_mut(header);
                let nonce = ring::aead::Nonce::assume_unique_for_key(iv);
                let tag = aead
                    .seal_in_place_separate_tag(nonce, ring::aead::Aad::from(&*aad), payload)
                    .map_err(|_| SrtpError::TooLong)?;
                buffer.extend_from_slice(tag.as_ref());
            }
            Cipher::CmSha1 { aes, salt, mac } => {
                // RFC 3711 section 4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16).
                let mut iv = [0u8; 16];
                iv[..14].copy_from_slice(salt);
                iv[4..8].iter_mut().zip(ssrc.to_be_bytes()).for_each(|(b, s)| *b ^= s);
                iv[8..12].iter_mut().zip(roc.to_be_bytes()).for_each(|(b, s)| *b ^= s);
                iv[12..14].iter_mut().zip(sequence.to_be_bytes()).for_each(|(b, s)| *b ^= s);
                let core = ctr::CtrCore::<Aes128, ctr::flavors::Ctr128BE>::inner_iv_init(
                    (**aes).clone(),
                    &iv.into(),
                );
                let mut keystream = ctr::Ctr128BE::<Aes128>::from_core(core);
                keystream.apply_keystream(&mut buffer[split..]);
                // The tag covers the header, the encrypted payload and the ROC (section 4.2).
                let mut mac = (**mac).clone();
                mac.update(&buffer[start..]);
                mac.update(&roc.to_be_bytes());
                let tag = mac.finalize().into_bytes();
                buffer.extend_from_slice(&tag[..10]);
            }
        }
        Ok(())
    }

    fn roc_for(&mut self, ssrc: u32, sequence: u16) -> u32 {
        match self.streams.iter_mut().find(|s| s.ssrc == ssrc) {
            Some(stream) => stream.index(sequence),
            None => {
                self.streams.push(Stream { ssrc, roc: 0, highest: sequence });
                0
            }
        }
    }
}

impl Cipher {
    /// The session cipher of `master` under `labels`: its keys derived by the AES-CM PRF.
    pub(super) fn session(master: &MasterKey, labels: Labels) -> Cipher {
        let prf = Aes128::new(&master.key.into());
        let salt = &master.salt[..master.profile.salt_len()];
        let mut key = [0u8; 16];
        derive(&prf, salt, labels.encryption, &mut key);
        match master.profile {
            Profile::AeadAes128Gcm => {
                let mut session_salt = [0u8; 12];
                derive(&prf, salt, labels.salt, &mut session_salt);
                Cipher::gcm(&key, session_salt)
            }
            Profile::Aes128CmHmacSha1_80 => {
                let mut session_salt = [0u8; 14];
                derive(&prf, salt, labels.salt, &mut session_salt);
                let mut auth = [0u8; 20];
                derive(&prf, salt, labels.authentication, &mut auth);
                Cipher::cm_sha1(&key, session_salt, &auth)
            }
        }
    }

    pub(super) fn gcm(key: &[u8; 16], salt: [u8; 12]) -> Cipher {
        // A 16-byte key is what AES-128-GCM takes: this cannot fail.
        let key =
            ring::aead::UnboundKey::new(&ring::aead::AES_128_GCM, key).unwrap_or_else(|_| unreachable!());
        Cipher::Gcm { aead: Box::new(ring::aead::LessSafeKey::new(key)), salt }
    }

    pub(super) fn cm_sha1(key: &[u8; 16], salt: [u8; 14], auth: &[u8]) -> Cipher {
        // HMAC takes a key of any length: this cannot fail.
        let mac = <Hmac<Sha1> as Mac>::new_from_slice(auth).unwrap_or_else(|_| unreachable!());
        Cipher::CmSha1 { aes: Box::new(Aes128::new(key.into())), salt, mac: Box::new(mac) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn array<const N: usize>(s: &str) -> [u8; N] {
        hex(s).try_into().unwrap()
    }

    /// RFC 3711 appendix B.3: the session keys of a master key and salt.
    #[test]
    fn rfc3711_b3_key_derivation() {
        let prf = Aes128::new(&array::<16>("E1F97A0D3E018BE0D64FA32C06DE4139").into());
        let salt = hex("0EC675AD498AFEEBB6960B3AABE6");
        let mut key = [0u8; 16];
        derive(&prf, &salt, SRTP_LABELS.encryption, &mut key);
        assert_eq!(key.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
        let mut session_salt = [0u8; 14];
        derive(&prf, &salt, SRTP_LABELS.salt, &mut session_salt);
        assert_eq!(session_salt.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
        let mut auth = [0u8; 20];
        derive(&prf, &salt, SRTP_LABELS.authentication, &mut auth);
        assert_eq!(auth.to_vec(), hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
    }

    /// RFC 3711 appendix B.2: the AES-CM keystream of SSRC 0, index 0 (an all-zero payload
    /// encrypts to the keystream itself).
    #[test]
    fn rfc3711_b2_counter_mode_keystream() {
        let key = array::<16>("2B7E151628AED2A6ABF7158809CF4F3C");
        let salt = array::<14>("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
        let mut sender = SrtpSender {
            cipher: Cipher::cm_sha1(&key, salt, &[0u8; 20]),
            profile: Profile::Aes128CmHmacSha1_80,
            streams: Vec::new(),
        };
        let mut packet = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        packet.extend_from_slice(&[0u8; 48]);
        sender.protect(&mut packet, 0).unwrap();
        assert_eq!(
            packet[12..60].to_vec(),
            hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB
                 41E95B3BB0A2E8DD477901E4FCA894C0")
        );
        assert_eq!(packet.len(), 12 + 48 + 10);
    }

    /// RFC 7714 section 16.1.1: AEAD_AES_128_GCM of "Gallia est omnis divisa in partes tres",
    /// from session key and salt, SSRC 0x5501a0b2, sequence 0xf17b, ROC 0. The packet sits
    /// behind other bytes in the buffer, as in a batch of datagrams.
    #[test]
    fn rfc7714_16_1_1_aead_aes_128_gcm() {
        let mut sender = SrtpSender {
            cipher: Cipher::gcm(
                &array("000102030405060708090a0b0c0d0e0f"),
                array("517569642070726f2071756f"),
            ),
            profile: Profile::AeadAes128Gcm,
            streams: Vec::new(),
        };
        let mut buffer = b"earlier datagram".to_vec();
        let start = buffer.len();
        buffer.extend(hex("8040f17b8041f8d35501a0b2
            47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573"));
        sender.protect(&mut buffer, start).unwrap();
        assert_eq!(&buffer[..start], b"earlier datagram");
        assert_eq!(
            buffer[start..].to_vec(),
            hex("8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f
                 42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce")
        );
    }

    #[test]
    fn rollover_counter_follows_wraps_and_keeps_old_packets_in_their_era() {
        let mut stream = Stream { ssrc: 1, roc: 0, highest: 0xfff0 };
        assert_eq!(stream.index(0xfffe), 0);
        assert_eq!(stream.index(0x0002), 1, "wrapped forward");
        assert_eq!((stream.roc, stream.highest), (1, 2));
        assert_eq!(stream.index(0xfff8), 0, "a resend from before the wrap");
        assert_eq!((stream.roc, stream.highest), (1, 2), "a resend does not move the stream");
        assert_eq!(stream.index(0x0001), 1);
        assert_eq!(stream.index(0x7000), 1);
    }

    #[test]
    fn malformed_packets_are_refused() {
        let mut sender =
            SrtpSender::new(&MasterKey { profile: Profile::AeadAes128Gcm, key: [1; 16], salt: [2; 14] });
        assert_eq!(sender.protect(&mut vec![0x80, 0, 0], 0), Err(SrtpError::Short(3)));
        assert_eq!(sender.protect(&mut vec![0x40; 20], 0), Err(SrtpError::Version));
        // An extension whose length runs past the packet.
        let mut packet = vec![0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 9];
        assert_eq!(sender.protect(&mut packet, 0), Err(SrtpError::Short(16)));
        assert_eq!(sender.protect(&mut vec![0x80; 4], 9), Err(SrtpError::Short(0)));
    }

    /// What we protect, the `rtc` crate (the SRTP the browsers' peer, our bench client, runs)
    /// decrypts, for both profiles, across a sequence number wrap, with a packet sent again
    /// from before the wrap, and with CSRCs and a header extension.
    #[test]
    fn the_rtc_crate_decrypts_what_we_protect() {
        use rtc::srtp::context::Context;
        use rtc::srtp::protection_profile::ProtectionProfile;
        let provider = rtc::crypto::default_provider().unwrap();
        for (profile, theirs) in [
            (Profile::AeadAes128Gcm, ProtectionProfile::AeadAes128Gcm),
            (Profile::Aes128CmHmacSha1_80, ProtectionProfile::Aes128CmHmacSha1_80),
        ] {
            let master = MasterKey {
                profile,
                key: array("E1F97A0D3E018BE0D64FA32C06DE4139"),
                salt: array("0EC675AD498AFEEBB6960B3AABE6"),
            };
            let salt = &master.salt[..profile.salt_len()];
            let mut receiver =
                Context::new(&master.key, salt, theirs, None, None, provider.crypto()).unwrap();
            let mut sender = SrtpSender::new(&master);
            let sequences = (0xfffau16..=0xffff).chain(0..6).chain([0xfffc, 6]);
            for (n, sequence) in sequences.enumerate() {
                let mut plain = vec![0x80, 96, 0, 0, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef];
                if n % 3 == 1 {
                    // One CSRC and a one-word extension.
                    plain[0] = 0x91;
                    plain.extend_from_slice(&[0, 0, 0, 7, 0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]);
                }
                plain[2..4].copy_from_slice(&sequence.to_be_bytes());
                plain.extend((0..200 + n).map(|i| i as u8));
                let mut buffer = vec![0xff; 5];
                buffer.extend_from_slice(&plain);
                sender.protect(&mut buffer, 5).unwrap();
                assert_eq!(buffer.len(), 5 + plain.len() + profile.tag_len());
                let decrypted = receiver.decrypt_rtp(&buffer[5..]).unwrap();
                assert_eq!(decrypted.to_vec(), plain, "{profile:?} sequence {sequence:#x}");
            }
        }
    }
}
