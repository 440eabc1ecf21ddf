//! The one error type of the RTMP module: everything a peer can get wrong, named in the caller's terms.
//!
//! It does not describe I/O failures (the module does none) nor policy decisions such as a busy stream:
//! those are the host's, made through the session's accept/reject calls.

use crate::codec::amf0::Amf0Error;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtmpError {
    #[error("rtmp handshake version {0:#04x} is not 3")]
    HandshakeVersion(u8),
    #[error("rtmp handshake already failed or finished")]
    HandshakeState,
    #[error("rtmp server handshake digest does not verify")]
    HandshakeDigest,
    #[error("rtmp chunk stream {chunk_stream_id} starts with header format {format}, not 0")]
    FreshChunkStreamWithoutHeader { chunk_stream_id: u32, format: u8 },
    #[error("rtmp chunk stream {chunk_stream_id} got header format {format} in the middle of a message")]
    NewHeaderMidMessage { chunk_stream_id: u32, format: u8 },
    #[error("rtmp set chunk size {0} is outside 1..={max}", max = super::chunk::MAX_CHUNK_SIZE)]
    ChunkSize(u32),
    #[error("rtmp message of {length} bytes exceeds the limit of {limit}")]
    MessageTooLong { length: u32, limit: u32 },
    #[error("rtmp peer has more than {0} messages partly received at once")]
    TooManyPartialMessages(usize),
    #[error("rtmp peer uses more than {0} chunk streams")]
    TooManyChunkStreams(usize),
    #[error("rtmp message type {type_id} of {length} bytes is truncated")]
    TruncatedMessage { type_id: u8, length: usize },
    #[error("rtmp aggregate message truncated at byte {0}")]
    TruncatedAggregate(usize),
    #[error("rtmp command is not valid amf0: {0}")]
    Amf0(#[from] Amf0Error),
    #[error("rtmp command has no name")]
    CommandWithoutName,
    #[error("rtmp command {name} lacks its {field}")]
    CommandField { name: String, field: &'static str },
    #[error("rtmp peer sent {command} before connect")]
    NotConnected { command: String },
    #[error("rtmp operation {0} is not allowed in the session's current state")]
    WrongState(&'static str),
    #[error("rtmp session already closed")]
    Closed,
}
