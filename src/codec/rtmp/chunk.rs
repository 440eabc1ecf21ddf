//! The chunk stream decoder: bytes from the peer in, complete messages out (RTMP specification §5.3),
//! with SRS's reading of extended timestamps, limits on everything a peer controls, and the byte count
//! behind acknowledgements.
//!
//! It applies Set Chunk Size and Abort itself, at the exact message boundary where they take effect,
//! and still returns them so the session can see them. It does not interpret any other message and
//! never writes (see `chunk_encoder`).

use std::collections::HashMap;

use bytes::BytesMut;

use super::error::RtmpError;
use super::message::{message_type, Message};

/// The chunk size every connection starts with.
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// Largest Set Chunk Size, the specification's (§5.4.1: 1 to 0x7FFFFFFF; every size above 0xFFFFFF
/// acts alike, since no message is longer). SRS takes any size above its floor of 128 and only warns
/// above 65536; GStreamer's rtmp2sink lets users choose up to this maximum, and a publisher we cut
/// for it would work with SRS. A chunk size allocates nothing: the message length limit bounds memory.
pub const MAX_CHUNK_SIZE: u32 = 0x7fff_ffff;
/// Timestamps are kept to 31 bits, as SRS does, because some peers set the top bit of extended ones.
const TIMESTAMP_MASK: u32 = 0x7fff_ffff;
/// The 3-byte timestamp value that announces a 4-byte extended timestamp.
const EXTENDED_TIMESTAMP_MARK: u32 = 0x00ff_ffff;
/// First allocation for a message split over chunks; it grows as chunks arrive so that a peer
/// announcing a huge message without sending it cannot make us allocate it.
const INITIAL_REASSEMBLY_CAPACITY: usize = 64 * 1024;

/// Limits on what one peer may make us hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// Largest message length accepted (a 4K keyframe is a few MiB).
    pub max_message_length: u32,
    /// Most messages partly received at the same time (one per chunk stream in flight).
    pub max_partial_messages: usize,
    /// Most distinct chunk stream ids a peer may use over the connection.
    pub max_chunk_streams: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits { max_message_length: 8 * 1024 * 1024, max_partial_messages: 8, max_chunk_streams: 64 }
    }
}

/// What we remember per chunk stream id: the last header, for the compressed header formats.
#[derive(Debug, Default)]
struct ChunkStreamState {
    timestamp: u32,
    /// The last 3-byte timestamp field (a delta for formats 1 and 2, SRS also keeps it for format 0).
    timestamp_delta: u32,
    /// Whether the last header announced an extended timestamp; format 3 chunks inherit it.
    extended: bool,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// Set once a format 0 or 1 header has given this chunk stream a length and type.
    has_header: bool,
    partial: Option<BytesMut>,
}

/// Decodes the chunk stream of one connection. Feed bytes with [`ChunkDecoder::push`], then call
/// [`ChunkDecoder::next_message`] until it returns `Ok(None)`.
#[derive(Debug)]
pub struct ChunkDecoder {
    buffer: BytesMut,
    chunk_size: usize,
    streams: HashMap<u32, ChunkStreamState>,
    limits: ChunkLimits,
    acknowledgements: AcknowledgementCounter,
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        ChunkDecoder::new(ChunkLimits::default())
    }
}

/// A parsed chunk header, not yet applied to the chunk stream state.
struct ChunkHeader {
    chunk_stream_id: u32,
    /// Bytes of basic header, message header and extended timestamp.
    header_length: usize,
    timestamp: u32,
    timestamp_delta: u32,
    extended: bool,
    length: u32,
    type_id: u8,
    stream_id: u32,
}

impl ChunkDecoder {
    pub fn new(limits: ChunkLimits) -> Self {
        ChunkDecoder {
            buffer: BytesMut::new(),
            chunk_size: DEFAULT_CHUNK_SIZE as usize,
            streams: HashMap::new(),
            limits,
            acknowledgements: AcknowledgementCounter::default(),
        }
    }

    /// Appends bytes received from the peer and counts them for acknowledgements.
    pub fn push(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
        self.acknowledgements.count(data.len());
    }

    /// The chunk size the peer currently sends with.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size as u32
    }

    /// Bytes pushed but not yet decoded.
    pub fn buffered_len(&self) -> usize {
        self.buffer.len()
    }

    pub fn acknowledgements(&mut self) -> &mut AcknowledgementCounter {
        &mut self.acknowledgements
    }

    /// The next complete message, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, RtmpError> {
        loop {
            let Some(header) = self.peek_header()? else { return Ok(None) };
            let state = self.streams.get(&header.chunk_stream_id);
            let received = state.and_then(|s| s.partial.as_ref()).map_or(0, BytesMut::len);
            let remaining = (header.length as usize).saturating_sub(received);
            let chunk_payload = remaining.min(self.chunk_size);
            if self.buffer.len() < header.header_length + chunk_payload {
                return Ok(None);
            }
            if let Some(message) = self.apply_chunk(header, chunk_payload)? {
                self.apply_own_control(&message)?;
                return Ok(Some(message));
            }
        }
    }

    /// Reads the chunk header at the front of the buffer without consuming anything.
    fn peek_header(&self) -> Result<Option<ChunkHeader>, RtmpError> {
        let data = &self.buffer[..];
        let Some(&first) = data.first() else { return Ok(None) };
        let format = first >> 6;
        let (chunk_stream_id, mut at) = match first & 0x3f {
            0 => match data.get(1) {
                Some(&b) => (64 + u32::from(b), 2),
                None => return Ok(None),
            },
            1 => match data.get(1..3) {
                Some(b) => (64 + u32::from(b[0]) + 256 * u32::from(b[1]), 3),
                None => return Ok(None),
            },
            id => (u32::from(id), 1),
        };
        let default_state = ChunkStreamState::default();
        let state = self.streams.get(&chunk_stream_id).unwrap_or(&default_state);
        // librtmp starts chunk stream 2 with format 1; SRS accepts a fresh stream with format 1 too.
        if !state.has_header && format > 1 {
            return Err(RtmpError::FreshChunkStreamWithoutHeader { chunk_stream_id, format });
        }
        let partial_length = state.partial.as_ref().map(BytesMut::len);
        if partial_length.is_some() && format == 0 {
            return Err(RtmpError::NewHeaderMidMessage { chunk_stream_id, format });
        }
        let message_header_length = [11, 7, 3, 0][usize::from(format)];
        let Some(fields) = data.get(at..at + message_header_length) else { return Ok(None) };
        at += message_header_length;
        let mut header = ChunkHeader {
            chunk_stream_id,
            header_length: at,
            timestamp: state.timestamp,
            timestamp_delta: state.timestamp_delta,
            extended: state.extended,
            length: state.length,
            type_id: state.type_id,
            stream_id: state.stream_id,
        };
        if format <= 2 {
            let field = u24(&fields[0..3]);
            header.timestamp_delta = field;
            header.extended = field >= EXTENDED_TIMESTAMP_MARK;
            if !header.extended {
                header.timestamp =
                    if format == 0 { field } else { state.timestamp.wrapping_add(field) & TIMESTAMP_MASK };
            }
        } else if partial_length.is_none() && !header.extended {
            header.timestamp = state.timestamp.wrapping_add(state.timestamp_delta) & TIMESTAMP_MASK;
        }
        if format <= 1 {
            header.length = u24(&fields[3..6]);
            header.type_id = fields[6];
            if let (Some(_), true) = (partial_length, header.length != state.length) {
                return Err(RtmpError::NewHeaderMidMessage { chunk_stream_id, format });
            }
        }
        if format == 0 {
            header.stream_id = u32::from_le_bytes([fields[7], fields[8], fields[9], fields[10]]);
        }
        if header.extended {
            let Some(raw) = data.get(at..at + 4) else { return Ok(None) };
            let extended = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]) & TIMESTAMP_MASK;
            // SRS's rule: a format 3 continuation repeats the extended timestamp only in Adobe-style
            // streams; ffmpeg and librtmp do not send it, so the 4 bytes are payload unless they match.
            let is_continuation = format == 3 && partial_length.is_some();
            if !is_continuation || state.timestamp == 0 || state.timestamp == extended {
                header.timestamp = extended;
                header.header_length = at + 4;
            }
        }
        if header.length > self.limits.max_message_length {
            return Err(RtmpError::MessageTooLong {
                length: header.length,
                limit: self.limits.max_message_length,
            });
        }
        Ok(Some(header))
    }

    /// Consumes one chunk whose bytes are all buffered; returns the message it completes, if any.
    fn apply_chunk(
        &mut self,
        header: ChunkHeader,
        chunk_payload: usize,
    ) -> Result<Option<Message>, RtmpError> {
        if !self.streams.contains_key(&header.chunk_stream_id)
            && self.streams.len() >= self.limits.max_chunk_streams
        {
            return Err(RtmpError::TooManyChunkStreams(self.limits.max_chunk_streams));
        }
        let n_partial = self.streams.values().filter(|s| s.partial.is_some()).count();
        let state = self.streams.entry(header.chunk_stream_id).or_default();
        state.timestamp = header.timestamp;
        state.timestamp_delta = header.timestamp_delta;
        state.extended = header.extended;
        state.length = header.length;
        state.type_id = header.type_id;
        state.stream_id = header.stream_id;
        state.has_header = true;
        let _ = self.buffer.split_to(header.header_length);
        let length = header.length as usize;
        let payload = match state.partial.take() {
            None if chunk_payload == length => self.buffer.split_to(chunk_payload).freeze(),
            None => {
                if n_partial >= self.limits.max_partial_messages {
                    return Err(RtmpError::TooManyPartialMessages(self.limits.max_partial_messages));
                }
                let mut partial = BytesMut::with_capacity(length.min(INITIAL_REASSEMBLY_CAPACITY));
                partial.extend_from_slice(&self.buffer.split_to(chunk_payload));
                state.partial = Some(partial);
                return Ok(None);
            }
            Some(mut partial) => {
                partial.extend_from_slice(&self.buffer.split_to(chunk_payload));
                if partial.len() < length {
                    state.partial = Some(partial);
                    return Ok(None);
                }
                partial.freeze()
            }
        };
        Ok(Some(Message {
            type_id: header.type_id,
            timestamp: header.timestamp & TIMESTAMP_MASK,
            stream_id: header.stream_id,
            payload,
        }))
    }

    /// Set Chunk Size and Abort change how the very next chunk is read, so they apply here.
    fn apply_own_control(&mut self, message: &Message) -> Result<(), RtmpError> {
        let value = message.payload.get(..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        match (message.type_id, value) {
            (message_type::SET_CHUNK_SIZE, Some(size)) => {
                // The top bit must be zero; SRS reads such a size as negative and refuses it too.
                if size == 0 || size > MAX_CHUNK_SIZE {
                    return Err(RtmpError::ChunkSize(size));
                }
                self.chunk_size = size as usize;
            }
            (message_type::ABORT, Some(chunk_stream_id)) => {
                if let Some(state) = self.streams.get_mut(&chunk_stream_id) {
                    state.partial = None;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn u24(bytes: &[u8]) -> u32 {
    u32::from(bytes[0]) << 16 | u32::from(bytes[1]) << 8 | u32::from(bytes[2])
}

/// Counts received bytes and says when an Acknowledgement is due (RTMP specification §5.4.3): after
/// the peer's Window Acknowledgement Size worth of bytes since the last one.
#[derive(Debug, Default)]
pub struct AcknowledgementCounter {
    window: u32,
    received: u64,
    acknowledged: u64,
}

impl AcknowledgementCounter {
    /// Sets the window the peer asked for with Window Acknowledgement Size; 0 disables acks.
    pub fn set_window(&mut self, window: u32) {
        self.window = window;
    }

    /// Counts bytes the decoder did not see, such as the handshake (SRS counts them as well).
    pub fn count(&mut self, n_bytes: usize) {
        self.received += n_bytes as u64;
    }

    pub fn received(&self) -> u64 {
        self.received
    }

    /// The sequence number to acknowledge (total bytes received, wrapping at 32 bits), when due.
    pub fn take_due(&mut self) -> Option<u32> {
        if self.window == 0 || self.received - self.acknowledged < u64::from(self.window) {
            return None;
        }
        self.acknowledged = self.received;
        Some(self.received as u32)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::codec::rtmp::chunk_encoder::encode_message;

    fn message(type_id: u8, timestamp: u32, length: usize) -> Message {
        let payload: Vec<u8> = (0..length).map(|i| (i * 7) as u8).collect();
        Message { type_id, timestamp, stream_id: 1, payload: payload.into() }
    }

    fn decode_all(decoder: &mut ChunkDecoder, bytes: &[u8]) -> Result<Vec<Message>, RtmpError> {
        decoder.push(bytes);
        let mut messages = Vec::new();
        while let Some(message) = decoder.next_message()? {
            messages.push(message);
        }
        Ok(messages)
    }

    fn set_chunk_size(size: u32) -> Bytes {
        let message = Message {
            type_id: message_type::SET_CHUNK_SIZE,
            timestamp: 0,
            stream_id: 0,
            payload: Bytes::copy_from_slice(&size.to_be_bytes()),
        };
        encode_message(&message, 128, 2)
    }

    #[test]
    fn round_trips_messages_through_the_encoder_byte_by_byte() {
        let originals =
            [message(9, 0, 5000), message(8, 40, 1), message(18, 0x0100_0000, 700), message(9, 80, 0)];
        let mut wire = Vec::new();
        for original in &originals {
            wire.extend_from_slice(&encode_message(original, 128, 6));
        }
        let mut decoder = ChunkDecoder::default();
        let mut decoded = Vec::new();
        for byte in wire {
            decoded.extend(decode_all(&mut decoder, &[byte]).unwrap());
        }
        assert_eq!(decoded, originals);
        assert_eq!(decoder.buffered_len(), 0);
    }

    #[test]
    fn set_chunk_size_applies_to_the_next_chunk() {
        let mut wire = set_chunk_size(4096).to_vec();
        let big = message(9, 10, 10_000);
        wire.extend_from_slice(&encode_message(&big, 4096, 6));
        let mut decoder = ChunkDecoder::default();
        let decoded = decode_all(&mut decoder, &wire).unwrap();
        assert_eq!(decoder.chunk_size(), 4096);
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[1], big);
    }

    #[test]
    fn compressed_headers_take_deltas_and_inherit_length_and_type() {
        let mut wire = vec![0x04, 0, 0, 100, 0, 0, 2, 8, 1, 0, 0, 0, 0xaa, 0xbb];
        wire.extend_from_slice(&[0x44, 0, 0, 20, 0, 0, 1, 8, 0xcc]); // format 1: delta 20, length 1
        wire.extend_from_slice(&[0x84, 0, 0, 23, 0xdd]); // format 2: delta 23
        wire.extend_from_slice(&[0xc4, 0xee]); // format 3: repeats delta 23
        let decoded = decode_all(&mut ChunkDecoder::default(), &wire).unwrap();
        let timestamps: Vec<u32> = decoded.iter().map(|m| m.timestamp).collect();
        assert_eq!(timestamps, [100, 120, 143, 166]);
        assert_eq!(&decoded[3].payload[..], &[0xee]);
        assert!(decoded.iter().all(|m| m.type_id == 8 && m.stream_id == 1));
    }

    #[test]
    fn extended_timestamp_in_format_1_is_absolute_as_srs_reads_it() {
        let mut wire = vec![0x04, 0, 0, 100, 0, 0, 1, 8, 1, 0, 0, 0, 0xaa];
        wire.extend_from_slice(&[0x44, 0xff, 0xff, 0xff, 0, 0, 1, 8, 0x01, 0x00, 0x00, 0x00, 0xbb]);
        let decoded = decode_all(&mut ChunkDecoder::default(), &wire).unwrap();
        assert_eq!(decoded[1].timestamp, 0x0100_0000);
    }

    #[test]
    fn format_3_continuation_without_repeated_extended_timestamp_is_read_as_payload() {
        // ffmpeg style: the continuation chunk has no extended timestamp, its payload starts right away.
        let mut wire = vec![0x06, 0xff, 0xff, 0xff, 0, 0, 6, 9, 1, 0, 0, 0, 0x01, 0x00, 0x00, 0x00];
        wire.extend_from_slice(&[1, 2, 3, 4]);
        wire.extend_from_slice(&[0xc6, 5, 6]);
        // A following message, so that the decoder has 4 bytes to compare after the continuation header.
        wire.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 1, 8, 1, 0, 0, 0, 0xaf]);
        let mut decoder = ChunkDecoder::new(ChunkLimits::default());
        decoder.chunk_size = 4;
        let decoded = decode_all(&mut decoder, &wire).unwrap();
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[0].timestamp, 0x0100_0000);
        assert_eq!(&decoded[0].payload[..], &[1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn timestamps_are_masked_to_31_bits() {
        let wire = [0x06, 0xff, 0xff, 0xff, 0, 0, 1, 9, 1, 0, 0, 0, 0x80, 0x00, 0x00, 0x05, 0x17];
        let decoded = decode_all(&mut ChunkDecoder::default(), &wire).unwrap();
        assert_eq!(decoded[0].timestamp, 5);
    }

    #[test]
    fn two_and_three_byte_chunk_stream_ids_decode() {
        let mut wire = encode_message(&message(9, 1, 3), 128, 100).to_vec();
        wire.extend_from_slice(&encode_message(&message(9, 2, 3), 128, 1000));
        let decoded = decode_all(&mut ChunkDecoder::default(), &wire).unwrap();
        assert_eq!(decoded.iter().map(|m| m.timestamp).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn chunk_size_zero_and_with_the_top_bit_set_are_errors() {
        let error = decode_all(&mut ChunkDecoder::default(), &set_chunk_size(0)).unwrap_err();
        assert_eq!(error, RtmpError::ChunkSize(0));
        let error =
            decode_all(&mut ChunkDecoder::default(), &set_chunk_size(MAX_CHUNK_SIZE + 1)).unwrap_err();
        assert_eq!(error, RtmpError::ChunkSize(0x8000_0000));
    }

    /// rtmp2sink with `chunk-size=2147483647`: the largest size is valid, and a message longer than
    /// the old 16 MiB cap allowed for chunks still arrives whole from its single chunk.
    #[test]
    fn the_specification_maximum_chunk_size_is_accepted() {
        let mut wire = set_chunk_size(MAX_CHUNK_SIZE).to_vec();
        let big = message(9, 40, 300_000);
        wire.extend_from_slice(&encode_message(&big, MAX_CHUNK_SIZE, 6));
        let mut decoder = ChunkDecoder::default();
        let decoded = decode_all(&mut decoder, &wire).unwrap();
        assert_eq!(decoder.chunk_size(), MAX_CHUNK_SIZE);
        assert_eq!(decoded[1], big);
    }

    #[test]
    fn message_longer_than_the_limit_is_an_error_before_any_payload() {
        let limits = ChunkLimits { max_message_length: 1000, ..ChunkLimits::default() };
        let header = [0x06, 0, 0, 0, 0, 0x03, 0xe9, 9, 1, 0, 0, 0];
        let error = decode_all(&mut ChunkDecoder::new(limits), &header).unwrap_err();
        assert_eq!(error, RtmpError::MessageTooLong { length: 1001, limit: 1000 });
    }

    #[test]
    fn too_many_partial_messages_is_an_error() {
        let limits = ChunkLimits { max_partial_messages: 2, ..ChunkLimits::default() };
        let mut decoder = ChunkDecoder::new(limits);
        let mut wire = Vec::new();
        for chunk_stream_id in 4..7 {
            // Only the first 128 bytes of a 200-byte message on each chunk stream.
            wire.extend_from_slice(&encode_message(&message(9, 0, 200), 128, chunk_stream_id)[..140]);
        }
        assert_eq!(decode_all(&mut decoder, &wire), Err(RtmpError::TooManyPartialMessages(2)));
    }

    #[test]
    fn fresh_chunk_stream_must_start_with_a_full_header() {
        let error = decode_all(&mut ChunkDecoder::default(), &[0x86, 0, 0, 1]).unwrap_err();
        assert_eq!(error, RtmpError::FreshChunkStreamWithoutHeader { chunk_stream_id: 6, format: 2 });
    }

    #[test]
    fn abort_drops_the_partial_message() {
        let partial = &encode_message(&message(9, 0, 200), 128, 6)[..140];
        let abort = Message {
            type_id: message_type::ABORT,
            timestamp: 0,
            stream_id: 0,
            payload: Bytes::from_static(&[0, 0, 0, 6]),
        };
        let mut wire = partial.to_vec();
        wire.extend_from_slice(&encode_message(&abort, 128, 2));
        let whole = message(9, 5, 10);
        wire.extend_from_slice(&encode_message(&whole, 128, 6));
        let decoded = decode_all(&mut ChunkDecoder::default(), &wire).unwrap();
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[1], whole);
    }

    #[test]
    fn acknowledgement_is_due_after_each_window() {
        let mut counter = AcknowledgementCounter::default();
        counter.count(5000);
        assert_eq!(counter.take_due(), None, "no window set, no ack");
        counter.set_window(2500);
        assert_eq!(counter.take_due(), Some(5000));
        counter.count(2499);
        assert_eq!(counter.take_due(), None);
        counter.count(1);
        assert_eq!(counter.take_due(), Some(7500));
    }

    #[test]
    fn mutated_and_truncated_chunk_streams_give_errors_not_panics() {
        let mut wire = set_chunk_size(300).to_vec();
        for index in 0..20 {
            wire.extend_from_slice(&encode_message(&message(8 + (index % 2) as u8, index * 40, 700), 300, 6));
        }
        let mut rng = crate::codec::xorshift::XorShift::new(0x2545_f491_4f6c_dd1d);
        let mut next = move || rng.next_u64();
        let mut n_errors = 0;
        for _ in 0..2000 {
            let mut mutated = wire.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() as usize) % mutated.len();
                mutated[at] = next() as u8;
            }
            mutated.truncate(1 + (next() as usize) % mutated.len());
            let limits = ChunkLimits { max_message_length: 64 * 1024, ..ChunkLimits::default() };
            if decode_all(&mut ChunkDecoder::new(limits), &mutated).is_err() {
                n_errors += 1;
            }
        }
        assert!(n_errors > 0, "some mutations must be detected as errors");
    }
}
