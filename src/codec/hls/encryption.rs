//! HLS AES-128 segment encryption (SRS's `hls_keys`): each segment is encrypted whole with
//! AES-128-CBC and PKCS#7 padding, starting from the key's IV, as RFC 8216 §5.2 says for
//! `METHOD=AES-128`. Sans-IO: the key and IV are given (the caller draws them at random), bytes
//! go in as the muxer produces them and whole encrypted blocks come out.

use aes::cipher::{BlockEncryptMut, KeyIvInit};

type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;

/// AES's block size: CBC works on whole blocks, the tail is padded to one.
pub const BLOCK: usize = 16;

/// One content key: the 16 bytes of the key file and the IV the playlist announces.
#[derive(Clone, PartialEq, Eq)]
pub struct SegmentKey {
    pub key: [u8; 16],
    pub iv: [u8; 16],
}

impl std::fmt::Debug for SegmentKey {
    // A key does not belong in logs; the IV is public (it is in the playlist).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SegmentKey {{ iv: 0x{} }}", hex(&self.iv))
    }
}

/// Lowercase hexadecimal, as the playlist's `IV=0x…` is written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `#EXT-X-KEY` line announcing `uri` and `iv` for the segments that follow.
pub fn key_line(uri: &str, iv: &[u8; 16]) -> String {
    format!("#EXT-X-KEY:METHOD=AES-128,URI=\"{uri}\",IV=0x{}", hex(iv))
}

/// The encryption of one segment, fed incrementally.
pub struct SegmentCipher {
    encryptor: Aes128CbcEnc,
    /// Bytes not yet making a whole block (always fewer than `BLOCK`).
    pending: Vec<u8>,
}

impl std::fmt::Debug for SegmentCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SegmentCipher {{ pending: {} }}", self.pending.len())
    }
}

impl SegmentCipher {
    /// A segment's cipher: CBC chaining starts again from the IV at every segment.
    pub fn new(key: &SegmentKey) -> SegmentCipher {
        SegmentCipher {
            encryptor: Aes128CbcEnc::new(&key.key.into(), &key.iv.into()),
            pending: Vec::with_capacity(BLOCK),
        }
    }

    /// Encrypts what completes whole blocks of `data` (after earlier leftovers) and appends them
    /// to `out`; the rest waits for more bytes or for [`SegmentCipher::finish`].
    pub fn update(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let mut data = data;
        if !self.pending.is_empty() {
            let take = (BLOCK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() < BLOCK {
                return;
            }
            let block = std::mem::take(&mut self.pending);
            self.encrypt_blocks(&block, out);
        }
        let whole = data.len() / BLOCK * BLOCK;
        self.encrypt_blocks(&data[..whole], out);
        self.pending.extend_from_slice(&data[whole..]);
    }

    /// Pads the tail (PKCS#7: 1 to 16 bytes, each the pad length) and appends its last block(s).
    pub fn finish(mut self, out: &mut Vec<u8>) {
        let pad = BLOCK - self.pending.len();
        let mut tail = std::mem::take(&mut self.pending);
        tail.resize(BLOCK, pad as u8);
        self.encrypt_blocks(&tail, out);
    }

    /// `data` is a whole number of blocks.
    fn encrypt_blocks(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(data);
        for block in out[start..].chunks_exact_mut(BLOCK) {
            self.encryptor.encrypt_block_mut(block.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known_key() -> SegmentKey {
        SegmentKey { key: *b"0123456789abcdef", iv: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] }
    }

    /// 40 bytes: two whole blocks and a tail of 8, so the padding adds 8 bytes of 0x08.
    const PLAIN: &[u8] = b"\x47\x40\x00\x10 an mpeg-ts packet start, 40 bytes..";

    // Computed once with OpenSSL 3 and hard-coded here:
    //   printf '\x47\x40\x00\x10 an mpeg-ts packet start, 40 bytes..' | openssl enc -aes-128-cbc \
    //     -K 30313233343536373839616263646566 -iv 000102030405060708090a0b0c0d0e0f | xxd -p
    const OPENSSL: &str = "936f36e6dd3a308e54b85f9e0f01e3a4e633801250ba6cdb124642bc425d195a\
     d40082eca73a8999e825dc27fae408c9";

    #[test]
    fn matches_openssl_aes_128_cbc_with_pkcs7() {
        assert_eq!(PLAIN.len(), 40);
        let mut out = Vec::new();
        let mut cipher = SegmentCipher::new(&known_key());
        cipher.update(PLAIN, &mut out);
        cipher.finish(&mut out);
        assert_eq!(hex(&out), OPENSSL);
    }

    #[test]
    fn feeding_in_pieces_gives_the_same_bytes() {
        let mut whole = Vec::new();
        let mut cipher = SegmentCipher::new(&known_key());
        cipher.update(PLAIN, &mut whole);
        cipher.finish(&mut whole);
        for split in [1, 7, 15, 16, 17, 33] {
            let mut pieces = Vec::new();
            let mut cipher = SegmentCipher::new(&known_key());
            for chunk in PLAIN.chunks(split) {
                cipher.update(chunk, &mut pieces);
                assert_eq!(pieces.len() % BLOCK, 0, "only whole blocks come out");
            }
            cipher.finish(&mut pieces);
            assert_eq!(pieces, whole, "chunks of {split}");
        }
    }

    #[test]
    fn a_whole_number_of_blocks_gets_a_full_block_of_padding() {
        let mut out = Vec::new();
        let mut cipher = SegmentCipher::new(&known_key());
        cipher.update(&[0x47; 188 * 2 - 8], &mut out); // 368 bytes = 23 blocks
        cipher.finish(&mut out);
        assert_eq!(out.len(), 368 + BLOCK);
    }

    #[test]
    fn key_line_as_srs_writes_it() {
        assert_eq!(
            key_line("live/s-5.key", &known_key().iv),
            "#EXT-X-KEY:METHOD=AES-128,URI=\"live/s-5.key\",IV=0x000102030405060708090a0b0c0d0e0f"
        );
    }
}
