//! The SRTP master key of what a player is sent, taken from the `rtc` crate as it derives its
//! own SRTP contexts at the end of the DTLS handshake, so the UDP worker can protect prebuilt
//! packets itself (`codec::srtp`) instead of handing each one to the peer connection (which
//! copies it into a new buffer, encrypts it into another and walks its handlers per packet).
//!
//! The crate keeps its DTLS state and SRTP contexts private, but it takes its cryptography from
//! a provider we give it. Each peer gets a `KeyTap`, which hands every operation to the crate's
//! default provider and watches one: the AES-128 block encryptions of the SRTP key derivation
//! (RFC 3711 section 4.3.3; nothing else in the stack uses single-block AES). A context's first
//! derivation is its encryption key (label 0), whose PRF input block is the master salt as is
//! (zeros after a 12-byte salt); the cipher the context then makes (AES-GCM or AES-CTR) names
//! the profile. The crate builds the local (our sending) context before the remote one, so the
//! first master key seen is ours, the second the peer's (its RTCP, once the session leaves the
//! crate: `rtc_slim`). That order is the crate's (`update_srtp_contexts`, rtc 0.21):
//! a change would show as players that decrypt nothing (`tests/rtc_webrtc.rs`,
//! `tests/rtc_load.rs` decode through this path), and without a key the worker keeps to the
//! crate's own path.

use std::sync::{Arc, Mutex};

use rtc::crypto::{
    ActiveKeyExchange, AeadAlgorithm, AeadCipher, BlockCipherAlgorithm, CbcAlgorithm, CbcCipher,
    CryptoAlgorithm, CryptoError, HashAlgorithm, HmacAlgorithm, KeyExchangeAlgorithm, Mac, PublicKey,
    RTCCrypto, RTCCryptoProvider, RTCRandom, SignatureScheme, SigningKey, StreamCipher,
    StreamCipherAlgorithm,
};
use rtc::dtls::extension::extension_use_srtp::SrtpProtectionProfile;

use crate::codec::srtp::{MasterKey, Profile};

/// The DTLS-SRTP profiles we offer: those `codec::srtp` protects with.
pub fn offered_profiles() -> Vec<SrtpProtectionProfile> {
    vec![SrtpProtectionProfile::Srtp_Aead_Aes_128_Gcm, SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_80]
}

/// A master key seen being derived, and the profile once its cipher is made.
struct Seen {
    key: [u8; 16],
    salt: [u8; 14],
    profile: Option<Profile>,
}

/// One peer's crypto provider: the crate's default, watched for the SRTP master keys.
pub struct KeyTap {
    inner: Arc<dyn RTCCryptoProvider>,
    seen: Mutex<Vec<Seen>>,
}

impl KeyTap {
    /// A tap over the crate's default provider; `None` if the crate has none.
    pub fn new() -> Option<Arc<KeyTap>> {
        let inner = rtc::crypto::default_provider().ok()?;
        Some(Arc::new(KeyTap { inner, seen: Mutex::new(Vec::new()) }))
    }

    /// Our sending direction's master key, once the handshake has derived it.
    pub fn local_key(&self) -> Option<MasterKey> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let first = seen.first()?;
        Some(MasterKey { profile: first.profile?, key: first.key, salt: first.salt })
    }

    /// The player's sending direction's master key (what it sends us: its SRTCP), the second
    /// context the crate derives.
    pub fn remote_key(&self) -> Option<MasterKey> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let second = seen.get(1)?;
        Some(MasterKey { profile: second.profile?, key: second.key, salt: second.salt })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Seen>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The last master key seen, if its context has not made its cipher yet, gets `profile`.
    fn cipher_made(&self, profile: Profile) {
        if let Some(last) = self.lock().last_mut().filter(|s| s.profile.is_none()) {
            last.profile = Some(profile);
        }
    }
}

impl RTCCryptoProvider for KeyTap {
    fn name(&self) -> &'static str {
        "srs-srtp-key-tap"
    }

    fn crypto(&self) -> &dyn RTCCrypto {
        self
    }

    fn random(&self) -> &dyn RTCRandom {
        self.inner.random()
    }
}

impl RTCCrypto for KeyTap {
    fn supports(&self, algorithm: CryptoAlgorithm) -> bool {
        self.inner.crypto().supports(algorithm)
    }

    fn hash(&self, algorithm: HashAlgorithm, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.inner.crypto().hash(algorithm, data)
    }

    fn block_encrypt(
        &self,
        algorithm: BlockCipherAlgorithm,
        key: &[u8],
        block: &mut [u8],
    ) -> Result<(), CryptoError> {
        if algorithm == BlockCipherAlgorithm::Aes128 {
            if let (Ok(key), Some(input)) = (<[u8; 16]>::try_from(key), block.get(..14)) {
                let mut seen = self.lock();
                if !seen.iter().any(|s| s.key == key) {
                    let salt = input.try_into().unwrap_or([0; 14]);
                    seen.push(Seen { key, salt, profile: None });
                }
            }
        }
        self.inner.crypto().block_encrypt(algorithm, key, block)
    }

    fn new_hmac(&self, algorithm: HmacAlgorithm, key: &[u8]) -> Result<Box<dyn Mac>, CryptoError> {
        self.inner.crypto().new_hmac(algorithm, key)
    }

    fn new_stream_cipher(
        &self,
        algorithm: StreamCipherAlgorithm,
        key: &[u8],
    ) -> Result<Box<dyn StreamCipher>, CryptoError> {
        if algorithm == StreamCipherAlgorithm::Aes128Ctr {
            self.cipher_made(Profile::Aes128CmHmacSha1_80);
        }
        self.inner.crypto().new_stream_cipher(algorithm, key)
    }

    fn new_aead(&self, algorithm: AeadAlgorithm, key: &[u8]) -> Result<Box<dyn AeadCipher>, CryptoError> {
        if algorithm == AeadAlgorithm::Aes128Gcm {
            self.cipher_made(Profile::AeadAes128Gcm);
        }
        self.inner.crypto().new_aead(algorithm, key)
    }

    fn new_cbc(&self, algorithm: CbcAlgorithm, key: &[u8]) -> Result<Box<dyn CbcCipher>, CryptoError> {
        self.inner.crypto().new_cbc(algorithm, key)
    }

    fn start_key_exchange(
        &self,
        algorithm: KeyExchangeAlgorithm,
    ) -> Result<Box<dyn ActiveKeyExchange>, CryptoError> {
        self.inner.crypto().start_key_exchange(algorithm)
    }

    fn generate_signing_key(&self, scheme: SignatureScheme) -> Result<Arc<dyn SigningKey>, CryptoError> {
        self.inner.crypto().generate_signing_key(scheme)
    }

    fn import_signing_key(
        &self,
        scheme: SignatureScheme,
        pkcs8_der: &[u8],
    ) -> Result<Arc<dyn SigningKey>, CryptoError> {
        self.inner.crypto().import_signing_key(scheme, pkcs8_der)
    }

    fn verify_signature(
        &self,
        scheme: SignatureScheme,
        public_key: PublicKey<'_>,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.inner.crypto().verify_signature(scheme, public_key, message, signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::srtp::context::Context;
    use rtc::srtp::protection_profile::ProtectionProfile;

    /// The crate makes its local context, then its remote one, through the tap (as its DTLS
    /// handler does): the tap gives the local master key and profile, and what `codec::srtp`
    /// protects with it, a context of the same key decrypts.
    #[test]
    fn the_first_context_made_is_the_key_given() {
        for (profile, theirs) in [
            (Profile::AeadAes128Gcm, ProtectionProfile::AeadAes128Gcm),
            (Profile::Aes128CmHmacSha1_80, ProtectionProfile::Aes128CmHmacSha1_80),
        ] {
            let tap = KeyTap::new().unwrap();
            assert!(tap.local_key().is_none());
            let salt_len = profile.salt_len();
            let (local, remote) = (([7u8; 16], [8u8; 14]), ([9u8; 16], [10u8; 14]));
            for (key, salt) in [local, remote] {
                Context::new(&key, &salt[..salt_len], theirs, None, None, tap.crypto()).unwrap();
            }
            let got = tap.local_key().unwrap();
            let theirs_key = tap.remote_key().unwrap();
            assert_eq!((theirs_key.profile, theirs_key.key), (profile, remote.0));
            assert_eq!(theirs_key.salt[..salt_len], remote.1[..salt_len]);
            assert_eq!(got.profile, profile);
            assert_eq!(got.key, local.0);
            assert_eq!(got.salt[..salt_len], local.1[..salt_len]);

            let provider = rtc::crypto::default_provider().unwrap();
            let mut receiver =
                Context::new(&local.0, &local.1[..salt_len], theirs, None, None, provider.crypto()).unwrap();
            let mut sender = crate::codec::srtp::SrtpSender::new(&got);
            let plain = [0x80, 111, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 3, 4, 5];
            let mut buffer = plain.to_vec();
            sender.protect(&mut buffer, 0).unwrap();
            assert_eq!(receiver.decrypt_rtp(&buffer).unwrap().to_vec(), plain.to_vec());
        }
    }
}
