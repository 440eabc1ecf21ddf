//! Writing tags: each tag becomes one contiguous `Bytes` (tag header, body, previous tag size), or
//! (`tag_framing`) the bytes around a payload that stays in the frame's own buffer; either way it is
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
    out.put_slice(&tag_header(tag_type, body.len(), timestamp_ms));
    out.put_slice(body);
    out.put_u32((TAG_HEADER_LEN + body.len()) as u32);
    Ok(out.freeze())
}

/// Appends a whole tag to `out`: the bytes `tag_bytes` gives for the body `write_body` appends,
/// with no buffer of its own. On an error (from `write_body`, or a body over `MAX_BODY_LEN`),
/// `out` is left as it was.
pub fn append_tag(
    out: &mut BytesMut,
    tag_type: TagType,
    timestamp_ms: u32,
    write_body: impl FnOnce(&mut BytesMut) -> Result<(), FlvError>,
) -> Result<(), FlvError> {
    let start = out.len();
    out.put_bytes(0, TAG_HEADER_LEN);
    let body_len = write_body(out).and_then(|()| {
        let body_len = out.len() - start - TAG_HEADER_LEN;
        if body_len > MAX_BODY_LEN {
            return Err(FlvError::BodyTooLarge(body_len));
        }
        Ok(body_len)
    });
    let body_len = match body_len {
        Ok(body_len) => body_len,
        Err(error) => {
            out.truncate(start);
            return Err(error);
        }
    };
    out[start..start + TAG_HEADER_LEN].copy_from_slice(&tag_header(tag_type, body_len, timestamp_ms));
    out.put_u32((TAG_HEADER_LEN + body_len) as u32);
    Ok(())
}

/// The bytes around a tag whose body ends with `payload_len` bytes held elsewhere (a frame's
/// shared buffer): the head (tag header, then what `write_head` appends of the body) and the tail
/// (the previous tag size). Head, payload and tail in a row are the bytes `tag_bytes` gives for the
/// whole body, with no copy of the payload; head and tail share one small allocation.
pub fn tag_framing(
    tag_type: TagType,
    timestamp_ms: u32,
    payload_len: usize,
    write_head: impl FnOnce(&mut BytesMut) -> Result<(), FlvError>,
) -> Result<(Bytes, Bytes), FlvError> {
    let mut out = BytesMut::with_capacity(TAG_HEADER_LEN + 16 + 4);
    out.put_bytes(0, TAG_HEADER_LEN);
    write_head(&mut out)?;
    let head_len = out.len();
    let body_len = head_len - TAG_HEADER_LEN + payload_len;
    if body_len > MAX_BODY_LEN {
        return Err(FlvError::BodyTooLarge(body_len));
    }
    out[..TAG_HEADER_LEN].copy_from_slice(&tag_header(tag_type, body_len, timestamp_ms));
    out.put_u32((TAG_HEADER_LEN + body_len) as u32);
    let tail = out.split_off(head_len);
    Ok((out.freeze(), tail.freeze()))
}

fn tag_header(tag_type: TagType, body_len: usize, timestamp_ms: u32) -> [u8; TAG_HEADER_LEN] {
    let size = (body_len as u32).to_be_bytes();
    let time = timestamp_ms.to_be_bytes();
    [tag_type.as_u8(), size[1], size[2], size[3], time[1], time[2], time[3], time[0], 0, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_around_a_payload_gives_the_bytes_of_the_whole_tag() {
        let payload = Bytes::from_static(b"the frame's own bytes");
        let (head, tail) = tag_framing(TagType::Video, 0x0102_0304, payload.len(), |o| {
            o.put_slice(&[0x17, 1, 0, 0, 0]);
            Ok(())
        })
        .unwrap();
        let mut body = vec![0x17, 1, 0, 0, 0];
        body.extend_from_slice(&payload);
        let whole = tag_bytes(TagType::Video, 0x0102_0304, &body).unwrap();
        assert_eq!([&head[..], &payload[..], &tail[..]].concat(), whole);
        assert_eq!(head.len(), TAG_HEADER_LEN + 5);
        assert_eq!(tail.len(), 4);
        let too_big = tag_framing(TagType::Video, 0, MAX_BODY_LEN, |o| {
            o.put_u8(0x17);
            Ok(())
        });
        assert!(matches!(too_big, Err(FlvError::BodyTooLarge(_))));
    }

    #[test]
    fn append_tag_writes_what_tag_bytes_gives() {
        let mut out = BytesMut::from(&b"before"[..]);
        for (tag_type, time, body) in [(TagType::Video, 0x0102_0304, &b"abc"[..]), (TagType::Audio, 7, b"")] {
            let start = out.len();
            append_tag(&mut out, tag_type, time, |o| {
                o.put_slice(body);
                Ok(())
            })
            .unwrap();
            assert_eq!(&out[start..], &tag_bytes(tag_type, time, body).unwrap()[..]);
        }
        let len = out.len();
        let too_big = append_tag(&mut out, TagType::Audio, 0, |o| {
            o.put_bytes(1, MAX_BODY_LEN + 1);
            Ok(())
        });
        assert_eq!(too_big, Err(FlvError::BodyTooLarge(MAX_BODY_LEN + 1)));
        let failed = append_tag(&mut out, TagType::Audio, 0, |o| {
            o.put_slice(b"partial");
            Err(FlvError::UnsupportedCodec("test"))
        });
        assert!(failed.is_err());
        assert_eq!(out.len(), len, "nothing left behind");
    }

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
