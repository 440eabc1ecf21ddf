//! SRTCP (RFC 3711 section 3.4, RFC 7714 section 9): protecting the RTCP packets we send a
//! player (our sender reports) and checking and decrypting those it sends us (receiver reports,
//! NACKs, keyframe requests), with the session keys of the DTLS-SRTP master key of each
//! direction. The same two profiles as `codec::srtp`.
//!
//! A packet is `header (8 bytes) | encrypted rest | [GCM tag] | E-flag and 31-bit index |
//! [HMAC tag]`: GCM puts its tag before the index (the index is in the AAD), AES-CM appends the
//! HMAC-SHA1 tag after it. Received packets go through a 64-packet replay window per SSRC.

use aes::Aes128;
use ctr::cipher::{InnerIvInit, StreamCipher};
use hmac::Mac;
use thiserror::Error;

use super::srtp::{Cipher, MasterKey, Profile, SRTCP_LABELS};

/// The RTCP header left in the clear: first word and the sender's SSRC.
const HEADER: usize = 8;
/// The E flag and SRTCP index.
const TRAILER: usize = 4;
const ENCRYPTED: u32 = 0x8000_0000;
/// SSRCs whose replay windows are kept; a player sends its RTCP from one or two.
const MAX_STREAMS: usize = 4;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SrtcpError {
    #[error("srtcp packet of {0} bytes is too short")]
    Short(usize),
    #[error("srtcp authentication failed")]
    Auth,
    #[error("srtcp index {0} replayed or too old")]
    Replay(u32),
    #[error("unencrypted srtcp is not accepted")]
    Unencrypted,
    #[error("rtcp packet too long")]
    TooLong,
}

/// The last 64 indexes seen of one SSRC.
#[derive(Debug, Clone, Copy)]
struct Window {
    ssrc: u32,
    highest: u32,
    /// Bit `n`: index `highest - n` was seen.
    seen: u64,
}

impl Window {
    /// Whether `index` is new; recorded only by `accept`, once the packet authenticated.
    fn fresh(&self, index: u32) -> bool {
        if index > self.highest {
            return true;
        }
        let behind = self.highest - index;
        behind < 64 && self.seen & (1 << behind) == 0
    }

    fn accept(&mut self, index: u32) {
        if index > self.highest {
            let ahead = index - self.highest;
            self.seen = if ahead >= 64 { 0 } else { self.seen << ahead };
            self.seen |= 1;
            self.highest = index;
        } else {
            self.seen |= 1 << (self.highest - index);
        }
    }
}

/// One direction's SRTCP: the session keys, our next index (sending), the replay windows
/// (receiving).
pub struct Srtcp {
    cipher: Cipher,
    profile: Profile,
    next_index: u32,
    windows: Vec<Window>,
}

impl std::fmt::Debug for Srtcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Srtcp").field("profile", &self.profile).finish_non_exhaustive()
    }
}

impl Srtcp {
    /// The SRTCP of `master`'s direction: its session keys derived.
    pub fn new(master: &MasterKey) -> Srtcp {
        let cipher = Cipher::session(master, SRTCP_LABELS);
        Srtcp { cipher, profile: master.profile, next_index: 0, windows: Vec::new() }
    }

    /// Our next packets take indexes from `index` on: a context taking over from another one of
    /// the same key must not reuse the indexes it sent (the receiver refuses them as replays,
    /// and the keystream would repeat).
    pub fn continue_from(&mut self, index: u32) {
        self.next_index = index & !ENCRYPTED;
    }

    /// The (compound) RTCP packet `rtcp`, encrypted and tagged under our next index.
    pub fn protect(&mut self, rtcp: &[u8]) -> Result<Vec<u8>, SrtcpError> {
        if rtcp.len() < HEADER {
            return Err(SrtcpError::Short(rtcp.len()));
        }
        let index = self.next_index;
        self.next_index = (self.next_index + 1) & !ENCRYPTED;
        let ssrc = u32::from_be_bytes([rtcp[4], rtcp[5], rtcp[6], rtcp[7]]);
        let trailer = (index | ENCRYPTED).to_be_bytes();
        let mut out = Vec::with_capacity(rtcp.len() + TRAILER + self.profile.tag_len());
        out.extend_from_slice(rtcp);
        match &self.cipher {
            Cipher::Gcm { aead, salt } => {
                let mut aad = [0u8; HEADER + TRAILER];
                aad[..HEADER].copy_from_slice(&rtcp[..HEADER]);
                aad[HEADER..].copy_from_slice(&trailer);
                let nonce = ring::aead::Nonce::assume_unique_for_key(gcm_iv(salt, ssrc, index));
                let tag = aead
                    .seal_in_place_separate_tag(nonce, ring::aead::Aad::from(aad), &mut out[HEADER..])
                    .map_err(|_| SrtcpError::TooLong)?;
                out.extend_from_slice(tag.as_ref());
                out.extend_from_slice(&trailer);
            }
            Cipher::CmSha1 { aes, salt, mac } => {
                cm_keystream(aes, salt, ssrc, index).apply_keystream(&mut out[HEADER..]);
                out.extend_from_slice(&trailer);
                let mut mac = (**mac).clone();
                mac.update(&out);
                let tag = mac.finalize().into_bytes();
                out.extend_from_slice(&tag[..10]);
            }
        }
        Ok(out)
    }

    /// The RTCP packet inside SRTCP packet `packet`, once its tag checks and its index is new.
    pub fn unprotect(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtcpError> {
        let tag_len = self.profile.tag_len();
        if packet.len() < HEADER + TRAILER + tag_len {
            return Err(SrtcpError::Short(packet.len()));
        }
        let ssrc = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        let trailer_at = match self.profile {
            Profile::AeadAes128Gcm => packet.len() - TRAILER,
            Profile::Aes128CmHmacSha1_80 => packet.len() - TRAILER - tag_len,
        };
        let trailer: [u8; 4] =
            packet[trailer_at..trailer_at + TRAILER].try_into().map_err(|_| SrtcpError::Auth)?;
        let word = u32::from_be_bytes(trailer);
        if word & ENCRYPTED == 0 {
            return Err(SrtcpError::Unencrypted);
        }
        let index = word & !ENCRYPTED;
        let window = self.windows.iter().position(|w| w.ssrc == ssrc);
        if window.is_some_and(|i| !self.windows[i].fresh(index)) {
            return Err(SrtcpError::Replay(index));
        }
        let plain = match &self.cipher {
            Cipher::Gcm { aead, salt } => {
                let mut aad = [0u8; HEADER + TRAILER];
                aad[..HEADER].copy_from_slice(&packet[..HEADER]);
                aad[HEADER..].copy_from_slice(&trailer);
                let mut body = packet[HEADER..trailer_at].to_vec();
                let nonce = ring::aead::Nonce::assume_unique_for_key(gcm_iv(salt, ssrc, index));
                let opened = aead
                    .open_in_place(nonce, ring::aead::Aad::from(aad), &mut body)
                    .map_err(|_| SrtcpError::Auth)?;
                let mut plain = Vec::with_capacity(HEADER + opened.len());
                plain.extend_from_slice(&packet[..HEADER]);
                plain.extend_from_slice(opened);
                plain
            }
            Cipher::CmSha1 { aes, salt, mac } => {
                let mut mac = (**mac).clone();
                mac.update(&packet[..trailer_at + TRAILER]);
                mac.verify_truncated_left(&packet[trailer_at + TRAILER..]).map_err(|_| SrtcpError::Auth)?;
                let mut plain = packet[..trailer_at].to_vec();
                cm_keystream(aes, salt, ssrc, index).apply_keystream(&mut plain[HEADER..]);
                plain
            }
        };
        match window {
            Some(i) => self.windows[i].accept(index),
            None => {
                if self.windows.len() >= MAX_STREAMS {
                    self.windows.remove(0);
                }
                self.windows.push(Window { ssrc, highest: index, seen: 1 });
            }
        }
        Ok(plain)
    }
}

/// RFC 7714 section 9.1: IV = (00 00 || SSRC || 00 00 || 0 || index) XOR salt.
fn gcm_iv(salt: &[u8; 12], ssrc: u32, index: u32) -> [u8; 12] {
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
    iv[8..12].copy_from_slice(&index.to_be_bytes());
    iv.iter_mut().zip(salt).for_each(|(b, s)| *b ^= s);
    iv
}

/// RFC 3711 section 4.1.1 with the SRTCP index: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR
/// (index * 2^16).
fn cm_keystream(aes: &Aes128, salt: &[u8; 14], ssrc: u32, index: u32) -> ctr::Ctr128BE<Aes128> {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    iv[4..8].iter_mut().zip(ssrc.to_be_bytes()).for_each(|(b, s)| *b ^= s);
    iv[10..14].iter_mut().zip(index.to_be_bytes()).for_each(|(b, s)| *b ^= s);
    let core = ctr::CtrCore::<Aes128, ctr::flavors::Ctr128BE>::inner_iv_init(aes.clone(), &iv.into());
    ctr::Ctr128BE::<Aes128>::from_core(core)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::srtp::context::Context;
    use rtc::srtp::protection_profile::ProtectionProfile;

    /// A receiver report with a NACK after it, as a player sends them (sender SSRC 0x01020304).
    fn compound() -> Vec<u8> {
        let mut rtcp = vec![0x80, 201, 0, 1, 1, 2, 3, 4];
        rtcp.extend_from_slice(&[0x81, 205, 0, 3, 1, 2, 3, 4, 9, 9, 9, 9, 0, 42, 0, 0]);
        rtcp
    }

    fn keys(profile: Profile) -> (MasterKey, ProtectionProfile) {
        let theirs = match profile {
            Profile::AeadAes128Gcm => ProtectionProfile::AeadAes128Gcm,
            Profile::Aes128CmHmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
        };
        (MasterKey { profile, key: [3; 16], salt: [5; 14] }, theirs)
    }

    fn crate_context(master: &MasterKey, theirs: ProtectionProfile) -> Context {
        let provider = rtc::crypto::default_provider().unwrap();
        let salt = &master.salt[..master.profile.salt_len()];
        Context::new(&master.key, salt, theirs, None, None, provider.crypto()).unwrap()
    }

    /// Both ways against the `rtc` crate's SRTCP, both profiles: it decrypts what we protect, and
    /// we decrypt what it protects.
    #[test]
    fn the_rtc_crate_and_we_read_each_other() {
        for profile in [Profile::AeadAes128Gcm, Profile::Aes128CmHmacSha1_80] {
            let (master, theirs) = keys(profile);
            let mut ours = Srtcp::new(&master);
            let mut crate_side = crate_context(&master, theirs);
            for _ in 0..3 {
                let protected = ours.protect(&compound()).unwrap();
                assert_ne!(protected[HEADER..compound().len()], compound()[HEADER..]);
                assert_eq!(crate_side.decrypt_rtcp(&protected).unwrap().to_vec(), compound());
            }
            // Taking over from another context of the key: indexes jump ahead, still taken.
            ours.continue_from(1 << 16);
            let protected = ours.protect(&compound()).unwrap();
            assert_eq!(crate_side.decrypt_rtcp(&protected).unwrap().to_vec(), compound());
            let mut receiver = Srtcp::new(&master);
            let mut crate_sender = crate_context(&master, theirs);
            for _ in 0..3 {
                let protected = crate_sender.encrypt_rtcp(&compound()).unwrap();
                assert_eq!(receiver.unprotect(&protected).unwrap(), compound());
            }
        }
    }

    /// A replayed packet, a flipped bit and a truncated packet are refused; an older index still
    /// in the window is taken once.
    #[test]
    fn replays_and_forgeries_are_refused() {
        for profile in [Profile::AeadAes128Gcm, Profile::Aes128CmHmacSha1_80] {
            let (master, _) = keys(profile);
            let mut sender = Srtcp::new(&master);
            let mut receiver = Srtcp::new(&master);
            let first = sender.protect(&compound()).unwrap();
            let second = sender.protect(&compound()).unwrap();
            assert!(receiver.unprotect(&second).is_ok());
            assert!(receiver.unprotect(&first).is_ok(), "older, in the window, unseen");
            assert_eq!(receiver.unprotect(&first), Err(SrtcpError::Replay(0)));
            let mut forged = sender.protect(&compound()).unwrap();
            forged[HEADER + 1] ^= 1;
            assert_eq!(receiver.unprotect(&forged), Err(SrtcpError::Auth));
            assert!(matches!(receiver.unprotect(&first[..10]), Err(SrtcpError::Short(10))));
        }
    }

    #[test]
    fn the_window_slides() {
        let mut window = Window { ssrc: 1, highest: 0, seen: 1 };
        window.accept(100);
        assert!(!window.fresh(100) && !window.fresh(30) && window.fresh(99) && window.fresh(101));
        window.accept(99);
        assert!(!window.fresh(99));
    }
}
