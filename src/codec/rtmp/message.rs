//! RTMP messages: the reassembled unit above chunks, its type ids, and the protocol control and user
//! control messages (types 1 to 6) with their exact payload layouts.
//!
//! It does not split messages into chunks (see `chunk_encoder`), read commands (see `command`) or split
//! aggregates (see `aggregate`). Timestamps are milliseconds, already masked to 31 bits by the decoder.

use bytes::{BufMut, Bytes, BytesMut};

use super::error::RtmpError;

/// Message type ids (RTMP specification §5.4 and §7.1).
pub mod message_type {
    pub const SET_CHUNK_SIZE: u8 = 1;
    pub const ABORT: u8 = 2;
    pub const ACKNOWLEDGEMENT: u8 = 3;
    pub const USER_CONTROL: u8 = 4;
    pub const WINDOW_ACK_SIZE: u8 = 5;
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    pub const AUDIO: u8 = 8;
    pub const VIDEO: u8 = 9;
    pub const DATA_AMF3: u8 = 15;
    pub const SHARED_OBJECT_AMF3: u8 = 16;
    pub const COMMAND_AMF3: u8 = 17;
    pub const DATA_AMF0: u8 = 18;
    pub const SHARED_OBJECT_AMF0: u8 = 19;
    pub const COMMAND_AMF0: u8 = 20;
    pub const AGGREGATE: u8 = 22;
}

/// Chunk stream ids used when sending, the same as SRS so captures compare easily.
pub mod chunk_stream {
    /// Protocol control and user control messages (required by the specification).
    pub const PROTOCOL_CONTROL: u32 = 2;
    /// Commands on the connection: connect, createStream and their replies.
    pub const COMMAND: u32 = 3;
    /// Commands and data on a message stream: publish, play, onStatus, |RtmpSampleAccess, metadata.
    pub const STREAM_COMMAND: u32 = 5;
    pub const VIDEO: u32 = 6;
    pub const AUDIO: u32 = 7;
}

/// One complete RTMP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub type_id: u8,
    /// Milliseconds, 31 bits.
    pub timestamp: u32,
    pub stream_id: u32,
    pub payload: Bytes,
}

/// Audio, video or script data: the three message kinds that carry media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaMessageKind {
    Audio,
    Video,
    /// AMF0 (type 18) or AMF3 (type 15) data such as `@setDataFrame onMetaData`.
    Data,
}

impl From<crate::codec::flv::TagType> for MediaMessageKind {
    /// FLV tags and RTMP media messages carry the same bodies: a tag's type is the message's.
    fn from(tag_type: crate::codec::flv::TagType) -> MediaMessageKind {
        use crate::codec::flv::TagType;
        match tag_type {
            TagType::Audio => MediaMessageKind::Audio,
            TagType::Video => MediaMessageKind::Video,
            TagType::Script => MediaMessageKind::Data,
        }
    }
}

impl MediaMessageKind {
    /// The kind of a media message type id, `None` for every other type.
    pub fn from_type_id(type_id: u8) -> Option<MediaMessageKind> {
        match type_id {
            message_type::AUDIO => Some(MediaMessageKind::Audio),
            message_type::VIDEO => Some(MediaMessageKind::Video),
            message_type::DATA_AMF0 | message_type::DATA_AMF3 => Some(MediaMessageKind::Data),
            _ => None,
        }
    }

    /// The type id we send this kind with (data always as AMF0).
    pub fn type_id(self) -> u8 {
        match self {
            MediaMessageKind::Audio => message_type::AUDIO,
            MediaMessageKind::Video => message_type::VIDEO,
            MediaMessageKind::Data => message_type::DATA_AMF0,
        }
    }

    /// The chunk stream SRS sends this kind on.
    pub fn chunk_stream_id(self) -> u32 {
        match self {
            MediaMessageKind::Audio => chunk_stream::AUDIO,
            MediaMessageKind::Video => chunk_stream::VIDEO,
            MediaMessageKind::Data => chunk_stream::STREAM_COMMAND,
        }
    }
}

/// A media message as a session reports it or sends it: kind, 31-bit millisecond timestamp, payload
/// (an FLV tag body: codec header byte(s) then data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaMessage {
    pub kind: MediaMessageKind,
    pub timestamp: u32,
    pub payload: Bytes,
}

impl MediaMessage {
    pub fn to_message(&self, stream_id: u32) -> Message {
        Message {
            type_id: self.kind.type_id(),
            timestamp: self.timestamp,
            stream_id,
            payload: self.payload.clone(),
        }
    }
}

/// User control events (message type 4), RTMP specification §7.1.7.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserControlEvent {
    StreamBegin {
        stream_id: u32,
    },
    StreamEof {
        stream_id: u32,
    },
    StreamDry {
        stream_id: u32,
    },
    SetBufferLength {
        stream_id: u32,
        buffer_millis: u32,
    },
    StreamIsRecorded {
        stream_id: u32,
    },
    PingRequest {
        timestamp: u32,
    },
    PingResponse {
        timestamp: u32,
    },
    /// An event type we do not interpret (e.g. SWF verification), kept raw.
    Other {
        event_type: u16,
        data: Bytes,
    },
}

/// The protocol control messages (types 1 to 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlMessage {
    SetChunkSize(u32),
    Abort {
        chunk_stream_id: u32,
    },
    Acknowledgement {
        sequence_number: u32,
    },
    UserControl(UserControlEvent),
    WindowAckSize(u32),
    /// `limit_type`: 0 hard, 1 soft, 2 dynamic.
    SetPeerBandwidth {
        window_size: u32,
        limit_type: u8,
    },
}

/// Peer bandwidth limit type "dynamic", the one SRS sends.
pub const PEER_BANDWIDTH_DYNAMIC: u8 = 2;

impl ControlMessage {
    /// Reads a control message; `Ok(None)` when `message` is of another type.
    pub fn parse(message: &Message) -> Result<Option<ControlMessage>, RtmpError> {
        let payload = &message.payload[..];
        let truncated = || RtmpError::TruncatedMessage { type_id: message.type_id, length: payload.len() };
        let u32_at = |at: usize| -> Result<u32, RtmpError> {
            let bytes = payload.get(at..at + 4).ok_or_else(truncated)?;
            Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        };
        Ok(Some(match message.type_id {
            // The top bit of a chunk size must be zero; masking it keeps odd peers working, as SRS does not.
            message_type::SET_CHUNK_SIZE => ControlMessage::SetChunkSize(u32_at(0)? & 0x7fff_ffff),
            message_type::ABORT => ControlMessage::Abort { chunk_stream_id: u32_at(0)? },
            message_type::ACKNOWLEDGEMENT => ControlMessage::Acknowledgement { sequence_number: u32_at(0)? },
            message_type::WINDOW_ACK_SIZE => ControlMessage::WindowAckSize(u32_at(0)?),
            message_type::SET_PEER_BANDWIDTH => {
                // Some clients omit the limit type byte; treat it as dynamic.
                let limit_type = payload.get(4).copied().unwrap_or(PEER_BANDWIDTH_DYNAMIC);
                ControlMessage::SetPeerBandwidth { window_size: u32_at(0)?, limit_type }
            }
            message_type::USER_CONTROL => {
                let event_type = payload.get(..2).ok_or_else(truncated)?;
                let event_type = u16::from_be_bytes([event_type[0], event_type[1]]);
                ControlMessage::UserControl(match event_type {
                    0 => UserControlEvent::StreamBegin { stream_id: u32_at(2)? },
                    1 => UserControlEvent::StreamEof { stream_id: u32_at(2)? },
                    2 => UserControlEvent::StreamDry { stream_id: u32_at(2)? },
                    3 => {
                        UserControlEvent::SetBufferLength { stream_id: u32_at(2)?, buffer_millis: u32_at(6)? }
                    }
                    4 => UserControlEvent::StreamIsRecorded { stream_id: u32_at(2)? },
                    6 => UserControlEvent::PingRequest { timestamp: u32_at(2)? },
                    7 => UserControlEvent::PingResponse { timestamp: u32_at(2)? },
                    _ => UserControlEvent::Other { event_type, data: message.payload.slice(2..) },
                })
            }
            _ => return Ok(None),
        }))
    }

    /// The message carrying this control message, on message stream 0 with timestamp 0.
    pub fn to_message(&self) -> Message {
        let mut payload = BytesMut::with_capacity(10);
        let type_id = match self {
            ControlMessage::SetChunkSize(size) => {
                payload.put_u32(*size);
                message_type::SET_CHUNK_SIZE
            }
            ControlMessage::Abort { chunk_stream_id } => {
                payload.put_u32(*chunk_stream_id);
                message_type::ABORT
            }
            ControlMessage::Acknowledgement { sequence_number } => {
                payload.put_u32(*sequence_number);
                message_type::ACKNOWLEDGEMENT
            }
            ControlMessage::WindowAckSize(size) => {
                payload.put_u32(*size);
                message_type::WINDOW_ACK_SIZE
            }
            ControlMessage::SetPeerBandwidth { window_size, limit_type } => {
                payload.put_u32(*window_size);
                payload.put_u8(*limit_type);
                message_type::SET_PEER_BANDWIDTH
            }
            ControlMessage::UserControl(event) => {
                put_user_control(&mut payload, event);
                message_type::USER_CONTROL
            }
        };
        Message { type_id, timestamp: 0, stream_id: 0, payload: payload.freeze() }
    }
}

fn put_user_control(out: &mut BytesMut, event: &UserControlEvent) {
    match event {
        UserControlEvent::StreamBegin { stream_id } => put_event(out, 0, *stream_id),
        UserControlEvent::StreamEof { stream_id } => put_event(out, 1, *stream_id),
        UserControlEvent::StreamDry { stream_id } => put_event(out, 2, *stream_id),
        UserControlEvent::SetBufferLength { stream_id, buffer_millis } => {
            put_event(out, 3, *stream_id);
            out.put_u32(*buffer_millis);
        }
        UserControlEvent::StreamIsRecorded { stream_id } => put_event(out, 4, *stream_id),
        UserControlEvent::PingRequest { timestamp } => put_event(out, 6, *timestamp),
        UserControlEvent::PingResponse { timestamp } => put_event(out, 7, *timestamp),
        UserControlEvent::Other { event_type, data } => {
            out.put_u16(*event_type);
            out.put_slice(data);
        }
    }
}

fn put_event(out: &mut BytesMut, event_type: u16, value: u32) {
    out.put_u16(event_type);
    out.put_u32(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_round_trip_with_their_wire_layout() {
        let all = [
            ControlMessage::SetChunkSize(60000),
            ControlMessage::Abort { chunk_stream_id: 6 },
            ControlMessage::Acknowledgement { sequence_number: 2_500_001 },
            ControlMessage::WindowAckSize(2_500_000),
            ControlMessage::SetPeerBandwidth { window_size: 2_500_000, limit_type: 2 },
            ControlMessage::UserControl(UserControlEvent::StreamBegin { stream_id: 1 }),
            ControlMessage::UserControl(UserControlEvent::SetBufferLength {
                stream_id: 1,
                buffer_millis: 3000,
            }),
            ControlMessage::UserControl(UserControlEvent::PingRequest { timestamp: 77 }),
            ControlMessage::UserControl(UserControlEvent::PingResponse { timestamp: 77 }),
        ];
        for control in all {
            let message = control.to_message();
            assert_eq!(ControlMessage::parse(&message).unwrap(), Some(control));
        }
        let bandwidth =
            ControlMessage::SetPeerBandwidth { window_size: 2_500_000, limit_type: 2 }.to_message();
        assert_eq!(&bandwidth.payload[..], &[0x00, 0x26, 0x25, 0xa0, 0x02]);
        let begin = ControlMessage::UserControl(UserControlEvent::StreamBegin { stream_id: 1 }).to_message();
        assert_eq!(&begin.payload[..], &[0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn truncated_control_messages_are_errors() {
        let message = Message {
            type_id: message_type::SET_CHUNK_SIZE,
            timestamp: 0,
            stream_id: 0,
            payload: Bytes::from_static(&[0, 0, 1]),
        };
        assert_eq!(
            ControlMessage::parse(&message),
            Err(RtmpError::TruncatedMessage { type_id: 1, length: 3 })
        );
        let video = Message { type_id: message_type::VIDEO, ..message };
        assert_eq!(ControlMessage::parse(&video), Ok(None));
    }
}
