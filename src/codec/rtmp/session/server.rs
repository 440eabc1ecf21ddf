//! `ServerSession`: one accepted RTMP connection, from the first handshake byte to unpublish or stop,
//! as SRS's `SrsRtmpServer` plays it: connect answered at once (window, bandwidth and chunk size before
//! `_result`), FMLE publish (releaseStream, FCPublish, createStream, publish) and Flash publish
//! (createStream, publish), play with SRS's exact answer sequence, pause, unpublish and unknown calls.
//!
//! Publish and play wait for the host's decision (`accept_*` / `reject_*`): vhost lookup, hooks,
//! security and the "stream busy" check are the host's. It sends no media on its own: the host writes
//! pre-encoded media (see `encode_message`) or calls [`ServerSession::send_media`].

use std::collections::VecDeque;

use bytes::Bytes;

use crate::codec::rtmp::chunk::ChunkLimits;
use crate::codec::rtmp::command::{Command, ConnectCommand, PlayCommand, PublishCommand};
use crate::codec::rtmp::error::RtmpError;
use crate::codec::rtmp::handshake::{HandshakeKind, ServerHandshake};
use crate::codec::rtmp::message::{
    message_type, ControlMessage, MediaMessage, MediaMessageKind, UserControlEvent, PEER_BANDWIDTH_DYNAMIC,
};
use crate::codec::rtmp::reply::{self, ServerIdentity, StreamStatus, DEFAULT_STREAM_ID};
use crate::codec::rtmp::session::connection::{Connection, Incoming};
use crate::codec::rtmp::url::StreamRequest;

/// Settings of the server role; the defaults are SRS's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The chunk size we send with (vhost `chunk_size`, 60000 by default).
    pub chunk_size: u32,
    /// Window Acknowledgement Size sent after connect (`out_ack_size`, 2500000).
    pub window_ack_size: u32,
    /// Set Peer Bandwidth sent after connect (2500000, dynamic).
    pub peer_bandwidth: u32,
    pub limits: ChunkLimits,
    pub identity: ServerIdentity,
    /// Varies the handshake filler bytes between connections.
    pub handshake_seed: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            chunk_size: 60000,
            window_ack_size: 2_500_000,
            peer_bandwidth: 2_500_000,
            limits: ChunkLimits::default(),
            identity: ServerIdentity::default(),
            handshake_seed: 0x5eed,
        }
    }
}

/// How a publisher announced itself: SRS's client types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishStyle {
    /// releaseStream / FCPublish before publish (ffmpeg, OBS, FMLE): answered with onFCPublish too.
    Fmle,
    /// createStream then publish (Flash, some SDKs).
    Flash,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PublishRequest {
    pub request: StreamRequest,
    pub command: PublishCommand,
    pub style: PublishStyle,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlayRequest {
    pub request: StreamRequest,
    pub command: PlayCommand,
}

/// What happened on the connection, in order. See the module documentation of `codec::rtmp` for the
/// contract between events and the host's decisions.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerEvent {
    /// The client connected; the `_result` is already queued.
    Connect(ConnectCommand),
    /// The client wants to publish; answer with `accept_publish` or `reject_publish`.
    Publish(PublishRequest),
    /// The client wants to play; answer with `accept_play` or `reject_play`.
    Play(PlayRequest),
    /// Audio, video or data from a publisher (from the publish request on, even before acceptance).
    Media(MediaMessage),
    /// The publisher stopped (FCUnpublish, closeStream or deleteStream); it may publish again.
    Unpublish,
    /// The player stopped (closeStream or deleteStream).
    StopPlay,
    /// The player paused or resumed; the Notify status is already queued.
    Pause { paused: bool, time_millis: f64 },
}

#[derive(Debug, Clone, PartialEq)]
enum Role {
    Idle,
    PublishPending(PublishStyle),
    Publishing(PublishStyle),
    PlayPending(String),
    Playing,
    /// Rejected: the host should flush the output and close.
    Closing,
}

#[derive(Debug)]
pub struct ServerSession {
    config: ServerConfig,
    handshake: Option<ServerHandshake>,
    handshake_kind: Option<HandshakeKind>,
    connection: Connection,
    connect: Option<ConnectCommand>,
    role: Role,
    fmle_announced: bool,
    /// createStream was answered since the client was last identified (SRS then ignores calls).
    stream_created: bool,
    events: VecDeque<ServerEvent>,
}

impl ServerSession {
    pub fn new(config: ServerConfig) -> Self {
        ServerSession {
            handshake: Some(ServerHandshake::new(config.handshake_seed, 0)),
            handshake_kind: None,
            connection: Connection::new(config.limits),
            config,
            connect: None,
            role: Role::Idle,
            fmle_announced: false,
            stream_created: false,
            events: VecDeque::new(),
        }
    }

    /// Feeds bytes read from the socket. An error means the connection must be closed (after sending
    /// whatever `poll_output` still holds, if the host wishes).
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), RtmpError> {
        let leftover = match self.handshake.as_mut() {
            Some(handshake) => {
                let progress = handshake.handle_input(data)?;
                self.handshake_kind = handshake.kind();
                self.connection.send_raw(progress.send);
                match progress.finished {
                    Some(leftover) => {
                        self.connection.count_handshake_bytes(data.len() - leftover.len());
                        self.handshake = None;
                        leftover
                    }
                    None => {
                        self.connection.count_handshake_bytes(data.len());
                        return Ok(());
                    }
                }
            }
            None => Bytes::copy_from_slice(data),
        };
        self.connection.push(&leftover);
        while let Some(incoming) = self.connection.next_incoming()? {
            match incoming {
                Incoming::Message(message) => self.on_message(message)?,
                Incoming::UserControl(_) => {}
            }
        }
        Ok(())
    }

    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// The next bytes to write to the socket, in order.
    pub fn poll_output(&mut self) -> Option<Bytes> {
        self.connection.poll_output()
    }

    /// Whether bytes wait to be written.
    pub fn has_output(&self) -> bool {
        self.connection.has_output()
    }

    /// The chunk size of everything we send (media encoded by the host must use it).
    pub fn out_chunk_size(&self) -> u32 {
        self.connection.out_chunk_size()
    }

    /// The chunk size the peer sends with.
    pub fn in_chunk_size(&self) -> u32 {
        self.connection.in_chunk_size()
    }

    /// The handshake the client used, once known.
    pub fn handshake_kind(&self) -> Option<HandshakeKind> {
        self.handshake_kind
    }

    /// True after a rejection: flush `poll_output` and close the connection.
    pub fn is_closing(&self) -> bool {
        self.role == Role::Closing
    }

    pub fn accept_publish(&mut self) -> Result<(), RtmpError> {
        let Role::PublishPending(style) = self.role else {
            return Err(RtmpError::WrongState("accept_publish"));
        };
        if style == PublishStyle::Fmle {
            self.connection.send_command(&reply::on_fc_publish(DEFAULT_STREAM_ID));
        }
        self.connection.send_command(&reply::on_status(
            StreamStatus::PublishStart,
            DEFAULT_STREAM_ID,
            None,
            None,
        ));
        self.role = Role::Publishing(style);
        Ok(())
    }

    /// Refuses the publish with NetStream.Publish.BadName (SRS's answer to a busy stream).
    pub fn reject_publish(&mut self, description: &str) -> Result<(), RtmpError> {
        if !matches!(self.role, Role::PublishPending(_)) {
            return Err(RtmpError::WrongState("reject_publish"));
        }
        let status =
            reply::on_status(StreamStatus::PublishBadName, DEFAULT_STREAM_ID, Some(description), None);
        self.connection.send_command(&status);
        self.role = Role::Closing;
        Ok(())
    }

    /// Starts playing with SRS's sequence: StreamBegin, Play.Reset, Play.Start, |RtmpSampleAccess.
    /// Media may follow right after. No `onStatus(NetStream.Data.Start)` data message: SRS stopped
    /// sending it because ffmpeg turns it into an empty data stream (`Data: none`, "unsupported codec
    /// id 0"), and GStreamer's rtmp2src writes it into FLV files where ffmpeg does the same.
    pub fn accept_play(&mut self) -> Result<(), RtmpError> {
        let Role::PlayPending(stream) = &self.role else { return Err(RtmpError::WrongState("accept_play")) };
        let stream = stream.clone();
        let id = DEFAULT_STREAM_ID;
        self.connection
            .send_control(ControlMessage::UserControl(UserControlEvent::StreamBegin { stream_id: id }));
        self.connection.send_command(&reply::on_status(StreamStatus::PlayReset, id, None, Some(&stream)));
        self.connection.send_command(&reply::on_status(StreamStatus::PlayStart, id, None, Some(&stream)));
        self.connection.send_command(&reply::sample_access(id));
        self.role = Role::Playing;
        Ok(())
    }

    /// Refuses the play with NetStream.Play.StreamNotFound.
    pub fn reject_play(&mut self, description: &str) -> Result<(), RtmpError> {
        let Role::PlayPending(stream) = &self.role else { return Err(RtmpError::WrongState("reject_play")) };
        let status = reply::on_status(
            StreamStatus::PlayStreamNotFound,
            DEFAULT_STREAM_ID,
            Some(description),
            Some(stream),
        );
        self.connection.send_command(&status);
        self.role = Role::Closing;
        Ok(())
    }

    /// Answers the play with SRS's RTMP 302 to `url` (`tc_url` its application part), then closes:
    /// the stream is on another server (an origin cluster's coworker has it).
    pub fn redirect_play(&mut self, tc_url: &str, url: &str) -> Result<(), RtmpError> {
        if !matches!(self.role, Role::PlayPending(_)) {
            return Err(RtmpError::WrongState("redirect_play"));
        }
        self.connection.send_command(&reply::redirect(tc_url, url));
        self.role = Role::Closing;
        Ok(())
    }

    /// Queues one media message to a player, encoded with our chunk size on SRS's chunk stream for its kind.
    pub fn send_media(&mut self, media: &MediaMessage) -> Result<(), RtmpError> {
        if self.role != Role::Playing {
            return Err(RtmpError::WrongState("send_media"));
        }
        self.connection.send(&media.to_message(DEFAULT_STREAM_ID), media.kind.chunk_stream_id());
        Ok(())
    }

    /// Tells a player the stream ended with the StreamEOF user control event.
    pub fn send_stream_eof(&mut self) {
        let event = UserControlEvent::StreamEof { stream_id: DEFAULT_STREAM_ID };
        self.connection.send_control(ControlMessage::UserControl(event));
    }

    fn on_message(&mut self, message: crate::codec::rtmp::message::Message) -> Result<(), RtmpError> {
        if let Some(kind) = MediaMessageKind::from_type_id(message.type_id) {
            let is_publisher = matches!(self.role, Role::PublishPending(_) | Role::Publishing(_));
            // SRS reads data messages as commands before publishing; only a publisher's media counts.
            if is_publisher {
                // AMF3 data messages carry AMF0 after one format byte; hand out AMF0 only.
                let payload = match (message.type_id, message.payload.first()) {
                    (message_type::DATA_AMF3, Some(0)) => message.payload.slice(1..),
                    _ => message.payload,
                };
                let media = MediaMessage { kind, timestamp: message.timestamp, payload };
                self.events.push_back(ServerEvent::Media(media));
            }
            return Ok(());
        }
        if !matches!(message.type_id, message_type::COMMAND_AMF0 | message_type::COMMAND_AMF3) {
            return Ok(());
        }
        let command = Command::decode(&message)?;
        if self.connect.is_none() {
            return self.on_connect(command);
        }
        self.on_command(command)
    }

    fn on_connect(&mut self, command: Command) -> Result<(), RtmpError> {
        let Command::Connect(connect) = command else {
            return Err(RtmpError::NotConnected { command: command.name().to_owned() });
        };
        self.connection.send_control(ControlMessage::WindowAckSize(self.config.window_ack_size));
        self.connection.send_control(ControlMessage::SetPeerBandwidth {
            window_size: self.config.peer_bandwidth,
            limit_type: PEER_BANDWIDTH_DYNAMIC,
        });
        self.connection.set_out_chunk_size(self.config.chunk_size);
        let result =
            reply::connect_result(connect.transaction_id, connect.object_encoding, &self.config.identity);
        self.connection.send_command(&result);
        self.connection.send_command(&reply::request::call("onBWDone", 0.0, &[], 0));
        self.events.push_back(ServerEvent::Connect(connect.clone()));
        self.connect = Some(connect);
        Ok(())
    }

    fn on_command(&mut self, command: Command) -> Result<(), RtmpError> {
        match command {
            Command::CreateStream { transaction_id } => {
                self.connection.send_command(&reply::create_stream_result(transaction_id, DEFAULT_STREAM_ID));
                self.stream_created = true;
            }
            Command::ReleaseStream { transaction_id, .. } | Command::FcPublish { transaction_id, .. } => {
                self.fmle_announced = true;
                self.connection.send_command(&reply::empty_result(transaction_id));
            }
            Command::Publish(publish) => {
                let style = if self.fmle_announced { PublishStyle::Fmle } else { PublishStyle::Flash };
                let request = StreamRequest::discover(&self.tc_url(), &publish.stream_name);
                self.role = Role::PublishPending(style);
                self.events.push_back(ServerEvent::Publish(PublishRequest {
                    request,
                    command: publish,
                    style,
                }));
            }
            Command::Play(play) => {
                let request = StreamRequest::discover(&self.tc_url(), &play.stream_name);
                self.role = Role::PlayPending(request.stream.clone());
                self.events.push_back(ServerEvent::Play(PlayRequest { request, command: play }));
            }
            Command::FcUnpublish { transaction_id, .. } => {
                if matches!(self.role, Role::Publishing(_) | Role::PublishPending(_)) {
                    self.connection.send_command(&reply::on_fc_unpublish(DEFAULT_STREAM_ID));
                    self.connection.send_command(&reply::empty_result(transaction_id));
                    let status =
                        reply::on_status(StreamStatus::UnpublishSuccess, DEFAULT_STREAM_ID, None, None);
                    self.connection.send_command(&status);
                    self.stop_role();
                } else {
                    self.connection.send_command(&reply::empty_result(transaction_id));
                }
            }
            Command::DeleteStream { .. } | Command::CloseStream { .. } => self.stop_role(),
            Command::Pause { paused, time_millis, .. } if self.role == Role::Playing => {
                let (status, event) = if paused {
                    (StreamStatus::PauseNotify, UserControlEvent::StreamEof { stream_id: DEFAULT_STREAM_ID })
                } else {
                    (
                        StreamStatus::UnpauseNotify,
                        UserControlEvent::StreamBegin { stream_id: DEFAULT_STREAM_ID },
                    )
                };
                self.connection.send_command(&reply::on_status(status, DEFAULT_STREAM_ID, None, None));
                self.connection.send_control(ControlMessage::UserControl(event));
                self.events.push_back(ServerEvent::Pause { paused, time_millis });
            }
            Command::GetStreamLength { transaction_id, .. } | Command::Other { transaction_id, .. } => {
                self.on_call(transaction_id)
            }
            _ => {}
        }
        Ok(())
    }

    /// A call we do not model (getStreamLength, _checkbw, FCSubscribe, onBWDone, custom calls),
    /// answered as SRS answers it, and never a reason to close: SRS answers `_result(null, null)` to
    /// every call while it identifies the client before createStream (even a notification, with
    /// transaction 0), ignores calls between createStream and play or publish, answers a player's
    /// calls that carry a transaction id, and ignores a publisher's.
    fn on_call(&mut self, transaction_id: f64) {
        let answer = match self.role {
            Role::Idle => !self.stream_created,
            Role::PlayPending(_) | Role::Playing => transaction_id > 0.0,
            Role::PublishPending(_) | Role::Publishing(_) | Role::Closing => false,
        };
        if answer {
            self.connection.send_command(&reply::call_result(transaction_id));
        }
    }

    /// Ends publishing or playing on closeStream / deleteStream / FCUnpublish; like SRS, the
    /// connection goes back to identifying the client (calls are answered until the next createStream).
    fn stop_role(&mut self) {
        match self.role {
            Role::Publishing(_) | Role::PublishPending(_) => self.events.push_back(ServerEvent::Unpublish),
            Role::Playing | Role::PlayPending(_) => self.events.push_back(ServerEvent::StopPlay),
            Role::Idle | Role::Closing => return,
        }
        self.role = Role::Idle;
        self.fmle_announced = false;
        self.stream_created = false;
    }

    fn tc_url(&self) -> String {
        self.connect.as_ref().map(|c| c.tc_url.clone()).unwrap_or_default()
    }
}
