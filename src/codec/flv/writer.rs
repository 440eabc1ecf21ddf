//! Writing tags: each tag becomes one contiguous `Bytes` (tag header, body, previous tag size), so it is
//! serialized once and shared by every HTTP-FLV player and file that receives it.
//!
//! The file header is written by `FlvHeader::file_start`; what goes into bodies is the callers' business.

use bytes::{BufMut, Bytes, BytesMut};

use super::{FlvError, TagType};

/// Size of the tag header that precedes every body.
pub const TAG_HEADER_LEN: usize = 11;
/// The body size field is 24 bits wide.
pub const MAX_BODY_LEN: usize = (1 << 24) - 1;

/// One tag, ready to append after a file start or a previous tag: header, body, previous tag size.
/// The timestamp's top 8 bits go to the extension byte, so timestamps wrap only after 49.7 days.
pub fn tag_bytes(tag_type: TagType, timestamp_ms: u32, body: &[u8]) -> Result<Bytes, FlvError> {
    if body.len() > MAX_BODY_LEN {
        return Err(FlvError::BodyTooLarge(body.len()));
    }
    let mut out = BytesMut::with_capacity(TAG_HEADER_LEN + body.len() + 4);
    out.put_u8(tag_type.as_u8());
    put_u24(&mut out, body.len() as u32);
    put_u24(&mut out, timestamp_ms & 0x00ff_ffff);
    out.put_u8((timestamp_ms >> 24) as u8);
    put_u24(&mut out, 0);
    out.put_slice(body);
    out.put_u32((TAG_HEADER_LEN + body.len()) as u32);
    Ok(out.freeze())
}

fn put_u24(out: &mut BytesMut, value: u32) {
    out.put_slice(&value.to_be_bytes()[1..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_layout_with_extended_timestamp() {
        let tag = tag_bytes(TagType::Video, 0x0102_0304, b"abc").unwrap();
        assert_eq!(
            &tag[..],
            &[9, 0, 0, 3, 0x02, 0x03, 0x04, 0x01, 0, 0, 0, b'a', b'b', b'c', 0, 0, 0, 14][..]
        );
    }

    #[test]
    fn refuses_bodies_the_size_field_cannot_hold() {
        let body = vec![0; MAX_BODY_LEN + 1];
        assert_eq!(tag_bytes(TagType::Audio, 0, &body), Err(FlvError::BodyTooLarge(MAX_BODY_LEN + 1)));
    }
}
