//! The 9-byte FLV file header: signature, version, audio/video flags and data offset.
//!
//! Parsing and writing only; the reader decides what to do with the bytes between the header and the
//! first tag.

use bytes::{BufMut, Bytes, BytesMut};

use super::FlvError;

/// Size of the header as written by every known muxer.
pub const HEADER_LEN: usize = 9;
/// Largest data offset accepted: real files use 9; a peer could otherwise make us buffer gigabytes.
pub const MAX_DATA_OFFSET: u32 = 1 << 16;

const AUDIO_FLAG: u8 = 0x04;
const VIDEO_FLAG: u8 = 0x01;

/// The FLV file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlvHeader {
    pub version: u8,
    pub has_audio: bool,
    pub has_video: bool,
    /// Where the body starts (the first previous-tag-size field); 9 in practice.
    pub data_offset: u32,
}

impl FlvHeader {
    /// A version-1 header with the given flags.
    pub fn new(has_audio: bool, has_video: bool) -> FlvHeader {
        FlvHeader { version: 1, has_audio, has_video, data_offset: HEADER_LEN as u32 }
    }

    /// Parses the first 9 bytes of a file; `Ok(None)` when fewer are available yet.
    pub fn parse(data: &[u8]) -> Result<Option<FlvHeader>, FlvError> {
        let Some(raw) = data.get(..HEADER_LEN) else {
            // Reject a wrong signature early, even before 9 bytes arrived.
            let seen = &data[..data.len().min(3)];
            if !b"FLV".starts_with(seen) {
                let mut signature = [0; 3];
                signature[..seen.len()].copy_from_slice(seen);
                return Err(FlvError::BadSignature(signature));
            }
            return Ok(None);
        };
        if &raw[..3] != b"FLV" {
            return Err(FlvError::BadSignature([raw[0], raw[1], raw[2]]));
        }
        let data_offset = u32::from_be_bytes([raw[5], raw[6], raw[7], raw[8]]);
        if data_offset < HEADER_LEN as u32 {
            return Err(FlvError::BadDataOffset(data_offset));
        }
        if data_offset > MAX_DATA_OFFSET {
            return Err(FlvError::DataOffsetTooLarge(data_offset));
        }
        Ok(Some(FlvHeader {
            version: raw[3],
            has_audio: raw[4] & AUDIO_FLAG != 0,
            has_video: raw[4] & VIDEO_FLAG != 0,
            data_offset,
        }))
    }

    /// The header bytes followed by the zero "previous tag size" that precedes the first tag:
    /// what an HTTP-FLV response or a file starts with.
    pub fn file_start(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(HEADER_LEN + 4);
        self.write(&mut out);
        out.put_u32(0);
        out.freeze()
    }

    /// Writes the 9 header bytes. The data offset is always written as 9: nothing goes between.
    pub fn write(&self, out: &mut BytesMut) {
        out.put_slice(b"FLV");
        out.put_u8(self.version);
        let mut flags = 0;
        if self.has_audio {
            flags |= AUDIO_FLAG;
        }
        if self.has_video {
            flags |= VIDEO_FLAG;
        }
        out.put_u8(flags);
        out.put_u32(HEADER_LEN as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_flags() {
        let start = FlvHeader::new(true, false).file_start();
        assert_eq!(&start[..], b"FLV\x01\x04\x00\x00\x00\x09\x00\x00\x00\x00");
        let header = FlvHeader::parse(&start).unwrap().unwrap();
        assert_eq!(header, FlvHeader { version: 1, has_audio: true, has_video: false, data_offset: 9 });
        let both = FlvHeader::parse(b"FLV\x01\x05\x00\x00\x00\x09").unwrap().unwrap();
        assert!(both.has_audio && both.has_video);
    }

    #[test]
    fn waits_for_more_and_rejects_bad_input() {
        assert_eq!(FlvHeader::parse(b"FL").unwrap(), None);
        assert_eq!(FlvHeader::parse(b"GIF89a").unwrap_err(), FlvError::BadSignature(*b"GIF"));
        assert_eq!(FlvHeader::parse(b"FX").unwrap_err(), FlvError::BadSignature([b'F', b'X', 0]));
        assert_eq!(FlvHeader::parse(b"FLV\x01\x05\x00\x00\x00\x05").unwrap_err(), FlvError::BadDataOffset(5));
        assert_eq!(
            FlvHeader::parse(b"FLV\x01\x05\x7f\x00\x00\x00").unwrap_err(),
            FlvError::DataOffsetTooLarge(0x7f00_0000)
        );
    }
}
