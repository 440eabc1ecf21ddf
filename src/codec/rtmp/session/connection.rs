//! The machinery both session roles share once the handshake is over: the chunk decoder, the output
//! queue with our outgoing chunk size, acknowledgements, ping answers, window and bandwidth control, and
//! the splitting of aggregate messages.
//!
//! It does not know commands, publishing or playing; the role types (`ServerSession`, `ClientSession`)
//! decide what messages mean. Every message it sends is encoded by the stateless `encode_message`, so the
//! host may interleave pre-encoded media bytes with `poll_output` bytes at any item boundary.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::codec::rtmp::aggregate::split_aggregate;
use crate::codec::rtmp::chunk::{ChunkDecoder, ChunkLimits};
use crate::codec::rtmp::chunk_encoder::encode_message;
use crate::codec::rtmp::error::RtmpError;
use crate::codec::rtmp::message::{chunk_stream, message_type, ControlMessage, Message, UserControlEvent};

/// A message the role has to interpret, or a control event it may want to know about.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A command, data, audio or video message (aggregates already split).
    Message(Message),
    /// A user control event other than ping requests, which are answered here.
    UserControl(UserControlEvent),
}

#[derive(Debug)]
pub(crate) struct Connection {
    decoder: ChunkDecoder,
    out_chunk_size: u32,
    output: VecDeque<Bytes>,
    split: VecDeque<Message>,
}

impl Connection {
    pub(crate) fn new(limits: ChunkLimits) -> Self {
        Connection {
            decoder: ChunkDecoder::new(limits),
            out_chunk_size: crate::codec::rtmp::chunk::DEFAULT_CHUNK_SIZE,
            output: VecDeque::new(),
            split: VecDeque::new(),
        }
    }

    /// Bytes exchanged before the chunk stream (the handshake) count for acknowledgements too.
    pub(crate) fn count_handshake_bytes(&mut self, n_bytes: usize) {
        self.decoder.acknowledgements().count(n_bytes);
    }

    pub(crate) fn push(&mut self, data: &[u8]) {
        self.decoder.push(data);
    }

    pub(crate) fn out_chunk_size(&self) -> u32 {
        self.out_chunk_size
    }

    pub(crate) fn in_chunk_size(&self) -> u32 {
        self.decoder.chunk_size()
    }

    /// Queues raw bytes (the handshake) for sending.
    pub(crate) fn send_raw(&mut self, bytes: Bytes) {
        if !bytes.is_empty() {
            self.output.push_back(bytes);
        }
    }

    pub(crate) fn send(&mut self, message: &Message, chunk_stream_id: u32) {
        self.output.push_back(encode_message(message, self.out_chunk_size, chunk_stream_id));
    }

    /// Sends a command or data message on the chunk stream its message stream calls for.
    pub(crate) fn send_command(&mut self, message: &Message) {
        let chunk_stream_id =
            if message.stream_id == 0 { chunk_stream::COMMAND } else { chunk_stream::STREAM_COMMAND };
        self.send(message, chunk_stream_id);
    }

    pub(crate) fn send_control(&mut self, control: ControlMessage) {
        self.send(&control.to_message(), chunk_stream::PROTOCOL_CONTROL);
    }

    /// Announces and adopts a new outgoing chunk size (clamped to what decoders accept).
    pub(crate) fn set_out_chunk_size(&mut self, chunk_size: u32) {
        let chunk_size = chunk_size.clamp(1, crate::codec::rtmp::chunk::MAX_CHUNK_SIZE);
        self.send_control(ControlMessage::SetChunkSize(chunk_size));
        self.out_chunk_size = chunk_size;
    }

    pub(crate) fn poll_output(&mut self) -> Option<Bytes> {
        self.output.pop_front()
    }

    pub(crate) fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    /// The next message for the role, after handling protocol control; `Ok(None)` when more input is needed.
    pub(crate) fn next_incoming(&mut self) -> Result<Option<Incoming>, RtmpError> {
        loop {
            if let Some(message) = self.split.pop_front() {
                return Ok(Some(Incoming::Message(message)));
            }
            let message = self.decoder.next_message()?;
            if let Some(sequence_number) = self.decoder.acknowledgements().take_due() {
                self.send_control(ControlMessage::Acknowledgement { sequence_number });
            }
            let Some(message) = message else { return Ok(None) };
            if message.type_id == message_type::AGGREGATE {
                self.split.extend(split_aggregate(&message)?);
                continue;
            }
            match ControlMessage::parse(&message)? {
                None => return Ok(Some(Incoming::Message(message))),
                Some(ControlMessage::WindowAckSize(window)) => {
                    self.decoder.acknowledgements().set_window(window)
                }
                Some(ControlMessage::UserControl(UserControlEvent::PingRequest { timestamp })) => {
                    self.send_control(ControlMessage::UserControl(UserControlEvent::PingResponse {
                        timestamp,
                    }));
                }
                Some(ControlMessage::UserControl(event)) => return Ok(Some(Incoming::UserControl(event))),
                // The peer asks us to acknowledge at this window: say we will, as librtmp and ffmpeg do.
                Some(ControlMessage::SetPeerBandwidth { window_size, .. }) => {
                    self.send_control(ControlMessage::WindowAckSize(window_size));
                }
                // Chunk size and abort were applied by the decoder; acknowledgements need no action.
                Some(_) => {}
            }
        }
    }
}
