//! The chunk encoder: one message in, its complete chunked bytes out.
//!
//! [`encode_message`] is a pure function of the message, the chunk size and the chunk stream id: the
//! first chunk always has a format 0 header with the absolute timestamp, every continuation a format 3
//! header (repeating the extended timestamp when one is used, as Flash and SRS expect). Because it keeps
//! no per-connection state, a server can encode a media message once per chunk size and write the same
//! `Bytes` to every player. It deliberately never uses the compressed formats 1 and 2: the few bytes
//! they save are not worth per-connection state on the fan-out path.

use bytes::{BufMut, Bytes, BytesMut};

use super::message::Message;

const EXTENDED_TIMESTAMP_MARK: u32 = 0x00ff_ffff;

/// Encodes `message` as chunks of at most `chunk_size` payload bytes on chunk stream `chunk_stream_id`
/// (2 to 65599; ids from 64 use the 2- and 3-byte basic header forms). A `chunk_size` of 0 is taken as 1.
pub fn encode_message(message: &Message, chunk_size: u32, chunk_stream_id: u32) -> Bytes {
    let chunk_size = chunk_size.max(1) as usize;
    let timestamp = message.timestamp;
    let extended = timestamp >= EXTENDED_TIMESTAMP_MARK;
    let payload = &message.payload[..];
    let n_chunks = payload.len().div_ceil(chunk_size).max(1);
    let continuation_header = basic_header_length(chunk_stream_id) + if extended { 4 } else { 0 };
    let capacity = 11 + 4 + continuation_header * n_chunks + payload.len();
    let mut out = BytesMut::with_capacity(capacity);

    put_basic_header(&mut out, 0, chunk_stream_id);
    out.put_uint(u64::from(timestamp.min(EXTENDED_TIMESTAMP_MARK)), 3);
    // A message length above 24 bits cannot be expressed; callers never build one (payloads come from
    // our own decoder or muxers, both far below 16 MiB), so the length is written modulo 2^24.
    out.put_uint(payload.len() as u64 & 0xff_ffff, 3);
    out.put_u8(message.type_id);
    out.put_u32_le(message.stream_id);
    if extended {
        out.put_u32(timestamp);
    }
    for (index, chunk) in payload.chunks(chunk_size).enumerate() {
        if index > 0 {
            put_basic_header(&mut out, 3, chunk_stream_id);
            if extended {
                out.put_u32(timestamp);
            }
        }
        out.put_slice(chunk);
    }
    out.freeze()
}

fn basic_header_length(chunk_stream_id: u32) -> usize {
    match chunk_stream_id {
        0..=63 => 1,
        64..=319 => 2,
        _ => 3,
    }
}

fn put_basic_header(out: &mut BytesMut, format: u8, chunk_stream_id: u32) {
    let format_bits = format << 6;
    match chunk_stream_id {
        // Ids 0 and 1 are reserved markers; anything below 2 is written as 2 rather than corrupting the stream.
        0..=1 => out.put_u8(format_bits | 2),
        2..=63 => out.put_u8(format_bits | chunk_stream_id as u8),
        64..=319 => {
            out.put_u8(format_bits);
            out.put_u8((chunk_stream_id - 64) as u8);
        }
        _ => {
            let id = chunk_stream_id.min(65599) - 64;
            out.put_u8(format_bits | 1);
            out.put_u8((id & 0xff) as u8);
            out.put_u8((id >> 8) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::rtmp::message::message_type;

    fn video(timestamp: u32, length: usize) -> Message {
        let payload: Vec<u8> = (0..length).map(|i| i as u8).collect();
        Message { type_id: message_type::VIDEO, timestamp, stream_id: 1, payload: payload.into() }
    }

    #[test]
    fn first_chunk_is_format_0_and_continuations_format_3() {
        let bytes = encode_message(&video(0x10203, 300), 128, 6);
        let mut expected = vec![0x06, 0x01, 0x02, 0x03, 0x00, 0x01, 0x2c, 9, 1, 0, 0, 0];
        expected.extend((0..128).map(|i| i as u8));
        expected.push(0xc6);
        expected.extend((128..256).map(|i| i as u8));
        expected.push(0xc6);
        expected.extend((256..300).map(|i| i as u8));
        assert_eq!(&bytes[..], &expected[..]);
    }

    #[test]
    fn extended_timestamp_is_repeated_on_every_continuation() {
        let bytes = encode_message(&video(0x0123_4567, 10), 4, 7);
        assert_eq!(&bytes[1..4], &[0xff, 0xff, 0xff]);
        assert_eq!(&bytes[12..16], &[0x01, 0x23, 0x45, 0x67]);
        // Chunk 2 starts after 16 header bytes and 4 payload bytes: basic header then the timestamp again.
        assert_eq!(&bytes[20..25], &[0xc7, 0x01, 0x23, 0x45, 0x67]);
        assert_eq!(bytes.len(), 16 + 10 + 2 * 5);
    }

    #[test]
    fn large_chunk_stream_ids_use_the_long_basic_header_forms() {
        let two = encode_message(&video(0, 1), 128, 100);
        assert_eq!(&two[..2], &[0x00, 36]);
        let three = encode_message(&video(0, 1), 128, 400);
        assert_eq!(&three[..3], &[0x01, ((400 - 64) & 0xff) as u8, ((400 - 64) >> 8) as u8]);
    }

    #[test]
    fn empty_message_is_one_header_only_chunk() {
        let bytes = encode_message(&video(5, 0), 128, 6);
        assert_eq!(&bytes[..], &[0x06, 0, 0, 5, 0, 0, 0, 9, 1, 0, 0, 0]);
    }
}
