//! Aggregate messages (type 22): a run of FLV tags in one RTMP message, split back into messages.
//!
//! Timestamps are rebased as SRS does: the first sub-tag's timestamp is moved onto the aggregate
//! message's own timestamp and every later sub-tag is shifted by the same amount, then masked to 31 bits.
//! Sub-messages take the aggregate's message stream id (FLV tags always say 0). Payloads are slices of
//! the aggregate's payload, not copies. Nothing here builds aggregates: we never send them.

use super::error::RtmpError;
use super::message::Message;

/// FLV tag header: type, size (3), timestamp (3), timestamp extension (1), stream id (3).
const TAG_HEADER_SIZE: usize = 11;
/// The PreviousTagSize field after each tag.
const PREVIOUS_TAG_SIZE: usize = 4;

/// Splits an aggregate message into its sub-messages.
pub fn split_aggregate(aggregate: &Message) -> Result<Vec<Message>, RtmpError> {
    let data = &aggregate.payload;
    let mut messages = Vec::new();
    let mut at = 0;
    let mut shift: Option<i64> = None;
    while at < data.len() {
        let header = data.get(at..at + TAG_HEADER_SIZE).ok_or(RtmpError::TruncatedAggregate(at))?;
        let size = usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
        let timestamp = i64::from(
            (u32::from(header[7]) << 24
                | u32::from(header[4]) << 16
                | u32::from(header[5]) << 8
                | u32::from(header[6]))
                & 0x7fff_ffff,
        );
        let body_start = at + TAG_HEADER_SIZE;
        let body_end = body_start + size;
        if body_end + PREVIOUS_TAG_SIZE > data.len() {
            return Err(RtmpError::TruncatedAggregate(at));
        }
        let shift = *shift.get_or_insert(i64::from(aggregate.timestamp) - timestamp);
        messages.push(Message {
            type_id: header[0] & 0x1f,
            timestamp: ((timestamp + shift) & 0x7fff_ffff) as u32,
            stream_id: aggregate.stream_id,
            payload: data.slice(body_start..body_end),
        });
        at = body_end + PREVIOUS_TAG_SIZE;
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use bytes::{BufMut, BytesMut};

    use super::*;
    use crate::codec::rtmp::message::message_type;

    fn tag(out: &mut BytesMut, type_id: u8, timestamp: u32, body: &[u8]) {
        out.put_u8(type_id);
        out.put_uint(body.len() as u64, 3);
        out.put_uint(u64::from(timestamp & 0xff_ffff), 3);
        out.put_u8((timestamp >> 24) as u8);
        out.put_uint(0, 3);
        out.put_slice(body);
        out.put_u32((TAG_HEADER_SIZE + body.len()) as u32);
    }

    fn aggregate(timestamp: u32, payload: BytesMut) -> Message {
        Message { type_id: message_type::AGGREGATE, timestamp, stream_id: 1, payload: payload.freeze() }
    }

    #[test]
    fn sub_messages_are_rebased_onto_the_aggregate_timestamp() {
        let mut payload = BytesMut::new();
        tag(&mut payload, 9, 1000, &[0x17, 1]);
        tag(&mut payload, 8, 1020, &[0xaf, 1, 2]);
        tag(&mut payload, 9, 0x0100_0040, &[0x27, 1]);
        let messages = split_aggregate(&aggregate(5000, payload)).unwrap();
        let summary: Vec<(u8, u32, usize)> =
            messages.iter().map(|m| (m.type_id, m.timestamp, m.payload.len())).collect();
        assert_eq!(summary, [(9, 5000, 2), (8, 5020, 3), (9, 0x0100_0040 + 4000, 2)]);
        assert!(messages.iter().all(|m| m.stream_id == 1));
    }

    #[test]
    fn truncated_aggregate_is_an_error_naming_the_tag_offset() {
        let mut payload = BytesMut::new();
        tag(&mut payload, 9, 0, &[1, 2, 3]);
        tag(&mut payload, 9, 40, &[4, 5, 6]);
        payload.truncate(payload.len() - 5);
        assert_eq!(split_aggregate(&aggregate(0, payload)), Err(RtmpError::TruncatedAggregate(18)));
    }
}
