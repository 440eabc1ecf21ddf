//! RTMP, sans-IO: handshake, chunk stream, messages, commands, stream discovery, and the server and
//! client sessions built from them. Bytes go in through `handle_input`, bytes come out of `poll_output`,
//! and what happened comes out of `poll_event`; nothing here touches a socket, a clock or a task.
//!
//! # Server contract (for the host that owns the socket)
//!
//! 1. Create one [`ServerSession`] per accepted TCP connection with a [`ServerConfig`] (SRS defaults:
//!    chunk size 60000, window ack 2500000, peer bandwidth 2500000 dynamic).
//! 2. Loop: read from the socket, call [`ServerSession::handle_input`]; then write every
//!    [`ServerSession::poll_output`] item in order; then drain [`ServerSession::poll_event`].
//!    An `Err` from `handle_input` is fatal for the connection: flush what is queued if you like, then close.
//! 3. Events and the decisions they call for:
//!    - [`ServerEvent::Connect`]: informational; the connect `_result` (after Window Ack Size,
//!      Set Peer Bandwidth and Set Chunk Size, as SRS) is already queued.
//!    - [`ServerEvent::Publish`]: carries a [`PublishRequest`] whose [`StreamRequest`] has vhost, app,
//!      stream and param already discovered from tcUrl + stream name. Resolve the vhost in the
//!      configuration (fall back to [`url::DEFAULT_VHOST`]), run hooks and the busy check, then call
//!      exactly one of [`ServerSession::accept_publish`] or [`ServerSession::reject_publish`].
//!      Media events may already follow the Publish event before the decision; drop them if rejecting.
//!    - [`ServerEvent::Play`]: likewise, answer with [`ServerSession::accept_play`] (queues StreamBegin,
//!      Play.Reset, Play.Start, |RtmpSampleAccess) or [`ServerSession::reject_play`].
//!    - [`ServerEvent::Media`]: audio/video/data from the publisher, 31-bit millisecond timestamps,
//!      payload `Bytes` sliced from the receive buffer (no copy for single-chunk messages, one
//!      reassembly copy otherwise). Aggregates arrive already split. Data payloads are raw AMF0 (strip
//!      `@setDataFrame` with [`reply::strip_set_data_frame`]).
//!    - [`ServerEvent::Unpublish`] / [`ServerEvent::StopPlay`]: the client ended the stream; the
//!      connection stays usable (FMLE may publish again).
//!    - [`ServerEvent::Pause`]: the Notify status is already queued; pause or resume delivery.
//! 4. After `reject_*`, [`ServerSession::is_closing`] is true: flush the output and close.
//! 5. Sending media to a player: encode each message once per chunk size with
//!    [`encode_message`]`(&media.to_message(reply::DEFAULT_STREAM_ID), chunk_size, media.kind.chunk_stream_id())`
//!    using [`ServerSession::out_chunk_size`], share the `Bytes` between all players with that chunk
//!    size, and write them between `poll_output` items (every item is whole messages, and the encoder
//!    keeps no per-connection state, so any interleaving at item boundaries is valid). Or call
//!    [`ServerSession::send_media`] to queue it through `poll_output`.
//!
//! The client ([`ClientSession`]) mirrors this for publishing or playing one stream: its C0+C1 are
//! queued at creation; wait for [`ClientEvent::Publishing`] before [`ClientSession::send_media`].
//!
//! Deliberately absent: RTMPE/RTMPS (TLS is the host's), AMF3 object decoding (AMF3 commands are read as
//! AMF0 after their format byte, as every client sends them), shared objects, and timeouts (the host's).

pub mod aggregate;
pub mod chunk;
pub mod chunk_encoder;
pub mod command;
pub mod digest;
pub mod error;
pub mod handshake;
pub mod message;
pub mod reply;
pub mod session;
pub mod url;

pub use chunk::{ChunkDecoder, ChunkLimits, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE};
pub use chunk_encoder::encode_message;
pub use command::{Command, ConnectCommand, PlayCommand, PublishCommand};
pub use error::RtmpError;
pub use handshake::{ClientHandshakeMode, HandshakeKind};
pub use message::{
    chunk_stream, message_type, ControlMessage, MediaMessage, MediaMessageKind, Message, UserControlEvent,
};
pub use session::{
    ClientConfig, ClientEvent, ClientIntent, ClientSession, PlayRequest, PublishRequest, PublishStyle,
    ServerConfig, ServerEvent, ServerSession,
};
pub use url::StreamRequest;
