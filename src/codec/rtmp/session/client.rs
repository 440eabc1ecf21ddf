//! `ClientSession`: our own RTMP client, for publishing or playing one stream, used by tests, the load
//! harness and forward. It follows ffmpeg's sequence: handshake, Set Chunk Size, connect, then
//! releaseStream + FCPublish + createStream + publish, or createStream + play.
//!
//! It does not reconnect, time out or read a clock: the host does that around it, as with the server.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::codec::amf0::{self, Amf0Value};
use crate::codec::rtmp::chunk::ChunkLimits;
use crate::codec::rtmp::command::{status_code, Command};
use crate::codec::rtmp::error::RtmpError;
use crate::codec::rtmp::handshake::{ClientHandshake, ClientHandshakeMode};
use crate::codec::rtmp::message::{
    message_type, ControlMessage, MediaMessage, MediaMessageKind, UserControlEvent,
};
use crate::codec::rtmp::reply::request;
use crate::codec::rtmp::session::connection::{Connection, Incoming};

/// What the client does once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientIntent {
    Publish,
    Play,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// e.g. `rtmp://127.0.0.1:1935/live` (the app may carry `?vhost=`).
    pub tc_url: String,
    pub app: String,
    /// The stream name, possibly with `?param`.
    pub stream: String,
    pub intent: ClientIntent,
    /// The chunk size we send with.
    pub chunk_size: u32,
    pub handshake: ClientHandshakeMode,
    pub flash_ver: String,
    pub limits: ChunkLimits,
    pub handshake_seed: u64,
}

impl ClientConfig {
    /// A configuration from an `rtmp://host[:port]/app/stream` URL: the last path segment is the stream.
    pub fn from_url(url: &str, intent: ClientIntent) -> ClientConfig {
        let (tc_url, stream) = url.rsplit_once('/').unwrap_or((url, ""));
        let app = tc_url.split_once("://").map_or(tc_url, |(_, rest)| rest);
        let app = app.split_once('/').map_or("", |(_, app)| app);
        ClientConfig {
            tc_url: tc_url.to_owned(),
            app: app.to_owned(),
            stream: stream.to_owned(),
            intent,
            chunk_size: 60000,
            handshake: ClientHandshakeMode::Complex,
            flash_ver: "FMLE/3.0 (compatible; srs-rs)".to_owned(),
            limits: ChunkLimits::default(),
            handshake_seed: 0xc1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// connect succeeded.
    Connected,
    /// NetStream.Publish.Start: media may be sent.
    Publishing,
    /// NetStream.Play.Start: media will arrive.
    Playing,
    /// The server refused: connect `_error`, or an onStatus with level "error".
    Rejected { code: String, description: String },
    /// SRS's RTMP 302 (an error onStatus whose `ex` has `code` 302): the stream is at `url`
    /// (`ex.redirect2`, else `ex.redirect`).
    Redirected { url: String },
    /// Any other onStatus code (Play.Reset, Unpublish.Success, Pause.Notify, ...), or the code of a
    /// non-fatal `_error` (to releaseStream, FCPublish or an unknown call).
    Status { code: String },
    /// Media received while playing.
    Media(MediaMessage),
    /// StreamEOF from the server.
    StreamEof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Handshake,
    AwaitConnect,
    AwaitCreateStream,
    AwaitStart,
    Started,
}

/// Transaction ids of our requests, counted like ffmpeg.
const CONNECT_TRANSACTION: f64 = 1.0;

#[derive(Debug)]
pub struct ClientSession {
    config: ClientConfig,
    handshake: ClientHandshake,
    connection: Connection,
    stage: Stage,
    stream_id: u32,
    next_transaction: f64,
    create_stream_transaction: f64,
    events: VecDeque<ClientEvent>,
}

impl ClientSession {
    /// Creates the client; C0+C1 are already waiting in `poll_output`.
    pub fn new(config: ClientConfig) -> Self {
        let (handshake, c0c1) = ClientHandshake::start(config.handshake, config.handshake_seed, 0);
        let mut connection = Connection::new(config.limits);
        connection.send_raw(c0c1);
        ClientSession {
            config,
            handshake,
            connection,
            stage: Stage::Handshake,
            stream_id: 0,
            next_transaction: CONNECT_TRANSACTION + 1.0,
            create_stream_transaction: 0.0,
            events: VecDeque::new(),
        }
    }

    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), RtmpError> {
        let leftover = if self.stage == Stage::Handshake {
            let progress = self.handshake.handle_input(data)?;
            self.connection.send_raw(progress.send);
            let Some(leftover) = progress.finished else { return Ok(()) };
            self.connection.count_handshake_bytes(data.len() - leftover.len());
            self.connection.set_out_chunk_size(self.config.chunk_size);
            let connect = request::connect(
                CONNECT_TRANSACTION,
                &self.config.app,
                &self.config.tc_url,
                &self.config.flash_ver,
            );
            self.connection.send_command(&connect);
            self.stage = Stage::AwaitConnect;
            leftover
        } else {
            Bytes::copy_from_slice(data)
        };
        self.connection.push(&leftover);
        while let Some(incoming) = self.connection.next_incoming()? {
            match incoming {
                Incoming::Message(message) => {
                    if let Some(kind) = MediaMessageKind::from_type_id(message.type_id) {
                        if self.stage == Stage::Started && self.config.intent == ClientIntent::Play {
                            self.on_media(MediaMessage {
                                kind,
                                timestamp: message.timestamp,
                                payload: message.payload,
                            });
                        }
                    } else if matches!(
                        message.type_id,
                        message_type::COMMAND_AMF0 | message_type::COMMAND_AMF3
                    ) {
                        self.on_command(Command::decode(&message)?);
                    }
                }
                Incoming::UserControl(UserControlEvent::StreamEof { .. }) => {
                    self.events.push_back(ClientEvent::StreamEof)
                }
                Incoming::UserControl(_) => {}
            }
        }
        Ok(())
    }

    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    pub fn poll_output(&mut self) -> Option<Bytes> {
        self.connection.poll_output()
    }

    /// The message stream id the server gave (0 before createStream answers).
    pub fn stream_id(&self) -> u32 {
        self.stream_id
    }

    /// Sends one media message; only after [`ClientEvent::Publishing`].
    pub fn send_media(&mut self, media: &MediaMessage) -> Result<(), RtmpError> {
        if self.stage != Stage::Started || self.config.intent != ClientIntent::Publish {
            return Err(RtmpError::WrongState("send_media"));
        }
        self.connection.send(&media.to_message(self.stream_id), media.kind.chunk_stream_id());
        Ok(())
    }

    /// Sends an arbitrary message (tests use it to send what a misbehaving client would).
    pub fn send_message(&mut self, message: &crate::codec::rtmp::message::Message, chunk_stream_id: u32) {
        self.connection.send(message, chunk_stream_id);
    }

    /// Changes our outgoing chunk size (announced with Set Chunk Size first).
    pub fn set_chunk_size(&mut self, chunk_size: u32) {
        self.connection.set_out_chunk_size(chunk_size);
    }

    /// Stops publishing as ffmpeg does: FCUnpublish then deleteStream.
    pub fn unpublish(&mut self) {
        let name = Amf0Value::string(self.config.stream.clone());
        let transaction = self.take_transaction();
        self.connection.send_command(&request::call("FCUnpublish", transaction, &[name], 0));
        self.delete_stream();
    }

    /// Ends the stream: deleteStream with our stream id.
    pub fn delete_stream(&mut self) {
        let transaction = self.take_transaction();
        let stream_id = Amf0Value::Number(f64::from(self.stream_id));
        self.connection.send_command(&request::call("deleteStream", transaction, &[stream_id], 0));
        self.stage = Stage::AwaitCreateStream;
    }

    fn take_transaction(&mut self) -> f64 {
        let transaction = self.next_transaction;
        self.next_transaction += 1.0;
        transaction
    }

    fn on_command(&mut self, command: Command) {
        match (self.stage, command) {
            (Stage::AwaitConnect, Command::Result { transaction_id, .. })
                if transaction_id == CONNECT_TRANSACTION =>
            {
                self.events.push_back(ClientEvent::Connected);
                self.request_stream();
            }
            // Only a refused connect or createStream is fatal; servers answer releaseStream, FCPublish
            // and unknown calls with `_error` too, which ffmpeg also treats as a warning.
            (_, Command::Error { transaction_id, values }) => {
                let info = values.get(1).cloned().unwrap_or(Amf0Value::Null);
                if transaction_id == CONNECT_TRANSACTION || transaction_id == self.create_stream_transaction {
                    self.reject(&info);
                } else {
                    let code = status_code(&info).unwrap_or_default().to_owned();
                    self.events.push_back(ClientEvent::Status { code });
                }
            }
            (Stage::AwaitCreateStream, Command::Result { transaction_id, values })
                if transaction_id == self.create_stream_transaction =>
            {
                self.stream_id = values.get(1).and_then(Amf0Value::as_f64).unwrap_or(1.0) as u32;
                self.start_stream();
            }
            (_, Command::OnStatus { info }) => self.on_status(&info),
            _ => {}
        }
    }

    /// Media for the player, except the two data messages that belong to the play answer.
    fn on_media(&mut self, media: MediaMessage) {
        if media.kind == MediaMessageKind::Data {
            let name = amf0::decode_all(&media.payload).ok().and_then(|values| values.into_iter().next());
            match name.as_ref().and_then(Amf0Value::as_str) {
                Some("|RtmpSampleAccess") => return,
                Some("onStatus") => {
                    let values = amf0::decode_all(&media.payload).unwrap_or_default();
                    let code = values.get(1).and_then(status_code).unwrap_or_default().to_owned();
                    self.events.push_back(ClientEvent::Status { code });
                    return;
                }
                _ => {}
            }
        }
        self.events.push_back(ClientEvent::Media(media));
    }

    fn request_stream(&mut self) {
        if self.config.intent == ClientIntent::Publish {
            let name = Amf0Value::string(self.config.stream.clone());
            let transaction = self.take_transaction();
            self.connection.send_command(&request::call(
                "releaseStream",
                transaction,
                std::slice::from_ref(&name),
                0,
            ));
            let transaction = self.take_transaction();
            self.connection.send_command(&request::call("FCPublish", transaction, &[name], 0));
        }
        self.create_stream_transaction = self.take_transaction();
        self.connection.send_command(&request::call("createStream", self.create_stream_transaction, &[], 0));
        self.stage = Stage::AwaitCreateStream;
    }

    fn start_stream(&mut self) {
        let name = Amf0Value::string(self.config.stream.clone());
        let transaction = self.take_transaction();
        let command = match self.config.intent {
            ClientIntent::Publish => {
                request::call("publish", transaction, &[name, Amf0Value::string("live")], self.stream_id)
            }
            ClientIntent::Play => {
                let buffer =
                    UserControlEvent::SetBufferLength { stream_id: self.stream_id, buffer_millis: 3000 };
                self.connection.send_control(ControlMessage::UserControl(buffer));
                request::call("play", transaction, &[name, Amf0Value::Number(-2000.0)], self.stream_id)
            }
        };
        self.connection.send_command(&command);
        self.stage = Stage::AwaitStart;
    }

    fn on_status(&mut self, info: &Amf0Value) {
        let code = status_code(info).unwrap_or_default().to_owned();
        if info.get("level").and_then(Amf0Value::as_str) == Some("error") {
            self.reject(info);
            return;
        }
        let started = match code.as_str() {
            "NetStream.Publish.Start" => Some(ClientEvent::Publishing),
            "NetStream.Play.Start" => Some(ClientEvent::Playing),
            _ => None,
        };
        match started {
            Some(event) if self.stage == Stage::AwaitStart => {
                self.stage = Stage::Started;
                self.events.push_back(event);
            }
            _ => self.events.push_back(ClientEvent::Status { code }),
        }
    }

    fn reject(&mut self, info: &Amf0Value) {
        if let Some(url) = redirect_url(info) {
            self.events.push_back(ClientEvent::Redirected { url });
            return;
        }
        let code = status_code(info).unwrap_or_default().to_owned();
        let description = info.get("description").and_then(Amf0Value::as_str).unwrap_or_default().to_owned();
        self.events.push_back(ClientEvent::Rejected { code, description });
    }
}

/// Where an RTMP 302 sends the client: `ex.redirect2` (the whole URL), else `ex.redirect`.
fn redirect_url(info: &Amf0Value) -> Option<String> {
    let ex = info.get("ex")?;
    if ex.get("code").and_then(Amf0Value::as_f64) != Some(302.0) {
        return None;
    }
    let url = ex.get("redirect2").or_else(|| ex.get("redirect")).and_then(Amf0Value::as_str)?;
    url.starts_with("rtmp://").then(|| url.to_owned())
}
