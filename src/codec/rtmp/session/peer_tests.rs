//! In-memory peer tests: our `ClientSession` against our `ServerSession`, exchanging bytes until both
//! are quiet, covering publish, play, chunk sizes, extended timestamps, large and aggregate messages,
//! acknowledgements, and the errors a misbehaving peer must cause (typed, never a panic).

use bytes::{BufMut, Bytes, BytesMut};

use super::*;
use crate::codec::amf0::{self, Amf0Value};
use crate::codec::rtmp::chunk::{ChunkDecoder, ChunkLimits, MAX_CHUNK_SIZE};
use crate::codec::rtmp::command::Command;
use crate::codec::rtmp::error::RtmpError;
use crate::codec::rtmp::handshake::ClientHandshakeMode;
use crate::codec::rtmp::message::{chunk_stream, message_type, MediaMessage, MediaMessageKind, Message};
use crate::codec::rtmp::reply::request;

/// Two sessions and everything each one produced.
struct Peers {
    client: ClientSession,
    server: ServerSession,
    client_events: Vec<ClientEvent>,
    server_events: Vec<ServerEvent>,
    /// Every byte item the client sent, in order (the first two are C0+C1 and C2).
    client_output: Vec<Bytes>,
}

impl Peers {
    fn new(intent: ClientIntent, handshake: ClientHandshakeMode, server_config: ServerConfig) -> Peers {
        let mut config = ClientConfig::from_url("rtmp://127.0.0.1:1935/live/livestream", intent);
        config.handshake = handshake;
        Peers {
            client: ClientSession::new(config),
            server: ServerSession::new(server_config),
            client_events: Vec::new(),
            server_events: Vec::new(),
            client_output: Vec::new(),
        }
    }

    /// Moves bytes both ways until neither side has anything to send.
    fn exchange(&mut self) -> Result<(), RtmpError> {
        loop {
            let mut moved = false;
            while let Some(bytes) = self.client.poll_output() {
                self.client_output.push(bytes.clone());
                self.server.handle_input(&bytes)?;
                moved = true;
            }
            while let Some(bytes) = self.server.poll_output() {
                self.client.handle_input(&bytes)?;
                moved = true;
            }
            self.server_events.extend(std::iter::from_fn(|| self.server.poll_event()));
            self.client_events.extend(std::iter::from_fn(|| self.client.poll_event()));
            if !moved {
                return Ok(());
            }
        }
    }

    /// Connects and publishes, with the server accepting.
    fn publishing(handshake: ClientHandshakeMode) -> Peers {
        let mut peers = Peers::new(ClientIntent::Publish, handshake, ServerConfig::default());
        peers.exchange().unwrap();
        peers.server.accept_publish().unwrap();
        peers.exchange().unwrap();
        assert!(peers.client_events.contains(&ClientEvent::Publishing), "{:?}", peers.client_events);
        peers
    }

    fn server_media(&self) -> Vec<MediaMessage> {
        self.server_events
            .iter()
            .filter_map(|event| match event {
                ServerEvent::Media(media) => Some(media.clone()),
                _ => None,
            })
            .collect()
    }

    /// The messages the client sent after the handshake, decoded again.
    fn client_messages(&self) -> Vec<Message> {
        let mut decoder = ChunkDecoder::default();
        for bytes in &self.client_output[2..] {
            decoder.push(bytes);
        }
        std::iter::from_fn(|| decoder.next_message().unwrap()).collect()
    }
}

/// Kind, timestamp and length of each media message: what assertion messages print instead of payloads.
fn summary<'a>(messages: impl IntoIterator<Item = &'a MediaMessage>) -> Vec<(MediaMessageKind, u32, usize)> {
    messages.into_iter().map(|m| (m.kind, m.timestamp, m.payload.len())).collect()
}

fn media(kind: MediaMessageKind, timestamp: u32, payload: &[u8]) -> MediaMessage {
    MediaMessage { kind, timestamp, payload: Bytes::copy_from_slice(payload) }
}

fn pattern(length: usize) -> Vec<u8> {
    (0..length).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn publish_reaches_the_server_with_connect_and_request_details() {
    for handshake in [ClientHandshakeMode::Simple, ClientHandshakeMode::Complex] {
        let peers = Peers::publishing(handshake);
        let ServerEvent::Connect(connect) = &peers.server_events[0] else {
            panic!("{:?}", peers.server_events)
        };
        assert_eq!((connect.app.as_str(), connect.tc_url.as_str()), ("live", "rtmp://127.0.0.1:1935/live"));
        let ServerEvent::Publish(publish) = &peers.server_events[1] else {
            panic!("{:?}", peers.server_events)
        };
        assert_eq!(publish.request.app, "live");
        assert_eq!(publish.request.stream, "livestream");
        assert_eq!(publish.request.vhost, "127.0.0.1");
        assert_eq!(publish.style, PublishStyle::Fmle);
        assert_eq!(peers.client_events[0], ClientEvent::Connected);
    }
}

#[test]
fn server_sends_window_bandwidth_and_chunk_size_before_the_connect_result() {
    let mut server = ServerSession::new(ServerConfig::default());
    let (mut client_handshake, c0c1) =
        crate::codec::rtmp::handshake::ClientHandshake::start(ClientHandshakeMode::Simple, 1, 0);
    server.handle_input(&c0c1).unwrap();
    let s0s1s2 = server.poll_output().unwrap();
    let c2 = client_handshake.handle_input(&s0s1s2).unwrap().send;
    let mut input = c2.to_vec();
    let connect = request::connect(1.0, "live", "rtmp://h/live", "FMLE/3.0");
    input.extend_from_slice(&crate::codec::rtmp::chunk_encoder::encode_message(&connect, 128, 3));
    server.handle_input(&input).unwrap();
    let mut decoder = ChunkDecoder::default();
    while let Some(bytes) = server.poll_output() {
        decoder.push(&bytes);
    }
    let messages: Vec<Message> = std::iter::from_fn(|| decoder.next_message().unwrap()).collect();
    let types: Vec<u8> = messages.iter().map(|m| m.type_id).collect();
    assert_eq!(types, [5, 6, 1, 20, 20]);
    assert_eq!(&messages[0].payload[..], &2_500_000u32.to_be_bytes());
    assert_eq!(&messages[2].payload[..], &60000u32.to_be_bytes());
    assert!(
        matches!(Command::decode(&messages[3]).unwrap(), Command::Result { transaction_id, .. } if transaction_id == 1.0)
    );
}

#[test]
fn media_arrives_intact_across_chunk_sizes_large_messages_and_extended_timestamps() {
    let mut peers = Peers::publishing(ClientHandshakeMode::Complex);
    let mut sent = vec![
        media(MediaMessageKind::Data, 0, &amf0::encode_all(&[Amf0Value::string("@setDataFrame")])),
        media(MediaMessageKind::Video, 0, &[0x17, 0x00, 0, 0, 0, 1, 0x64]),
        media(MediaMessageKind::Audio, 0, &[0xaf, 0x00, 0x12, 0x10]),
        media(MediaMessageKind::Video, 40, &pattern(300_000)),
        media(MediaMessageKind::Video, 0x00ff_fffe, &pattern(1000)),
        media(MediaMessageKind::Video, 0x0100_0000, &pattern(70_000)),
    ];
    for message in &sent {
        peers.client.send_media(message).unwrap();
    }
    peers.client.set_chunk_size(128);
    let after_change = [
        media(MediaMessageKind::Audio, 0x0100_0010, &pattern(500)),
        media(MediaMessageKind::Video, 0x0200_0000, &pattern(5000)),
    ];
    for message in &after_change {
        peers.client.send_media(message).unwrap();
    }
    peers.exchange().unwrap();
    sent.extend(after_change);
    let received = peers.server_media();
    assert_eq!(summary(&received), summary(&sent));
    assert!(received == sent, "payloads differ");
    assert_eq!(peers.server.in_chunk_size(), 128);
}

#[test]
fn aggregate_messages_become_separate_media_events() {
    let mut peers = Peers::publishing(ClientHandshakeMode::Simple);
    let mut payload = BytesMut::new();
    for (type_id, timestamp, body) in [(9u8, 100u32, &[0x17u8, 1][..]), (8, 120, &[0xaf, 1, 7][..])] {
        payload.put_u8(type_id);
        payload.put_uint(body.len() as u64, 3);
        payload.put_uint(u64::from(timestamp), 3);
        payload.put_u8(0);
        payload.put_uint(0, 3);
        payload.put_slice(body);
        payload.put_u32(11 + body.len() as u32);
    }
    let aggregate = Message {
        type_id: message_type::AGGREGATE,
        timestamp: 1100,
        stream_id: 1,
        payload: payload.freeze(),
    };
    peers.client.send_message(&aggregate, chunk_stream::VIDEO);
    peers.exchange().unwrap();
    assert_eq!(
        peers.server_media(),
        [
            media(MediaMessageKind::Video, 1100, &[0x17, 1]),
            media(MediaMessageKind::Audio, 1120, &[0xaf, 1, 7])
        ]
    );
}

#[test]
fn unpublish_is_reported_and_answered() {
    let mut peers = Peers::publishing(ClientHandshakeMode::Simple);
    peers.client.unpublish();
    peers.exchange().unwrap();
    assert_eq!(peers.server_events.last(), Some(&ServerEvent::Unpublish));
    assert!(peers
        .client_events
        .contains(&ClientEvent::Status { code: "NetStream.Unpublish.Success".into() }));
}

#[test]
fn play_gets_srs_sequence_then_media() {
    let mut peers = Peers::new(ClientIntent::Play, ClientHandshakeMode::Complex, ServerConfig::default());
    peers.exchange().unwrap();
    let ServerEvent::Play(play) = &peers.server_events[1] else { panic!("{:?}", peers.server_events) };
    assert_eq!((play.request.stream.as_str(), play.command.start), ("livestream", -2000.0));
    peers.server.accept_play().unwrap();
    let sent = [
        media(MediaMessageKind::Video, 0, &[0x17, 0]),
        media(MediaMessageKind::Audio, 0x0123_4567, &pattern(90_000)),
    ];
    for message in &sent {
        peers.server.send_media(message).unwrap();
    }
    peers.exchange().unwrap();
    let after_connect = &peers.client_events[1..];
    assert_eq!(after_connect[0], ClientEvent::Status { code: "NetStream.Play.Reset".into() });
    assert_eq!(after_connect[1], ClientEvent::Playing);
    // Media follows Play.Start directly: no NetStream.Data.Start, which ffmpeg reads as a data stream.
    let received: Vec<MediaMessage> = after_connect[2..]
        .iter()
        .map(|event| match event {
            ClientEvent::Media(media) => media.clone(),
            other => panic!("only media after Play.Start, got {other:?}"),
        })
        .collect();
    assert_eq!(summary(&received), summary(&sent));
    assert!(received == sent, "payloads differ");
}

#[test]
fn client_acknowledges_the_server_window() {
    let config = ServerConfig { window_ack_size: 10_000, ..ServerConfig::default() };
    let mut peers = Peers::new(ClientIntent::Play, ClientHandshakeMode::Simple, config);
    peers.exchange().unwrap();
    peers.server.accept_play().unwrap();
    peers.server.send_media(&media(MediaMessageKind::Video, 0, &pattern(25_000))).unwrap();
    peers.exchange().unwrap();
    let acks: Vec<u32> = peers
        .client_messages()
        .iter()
        .filter(|m| m.type_id == message_type::ACKNOWLEDGEMENT)
        .map(|m| u32::from_be_bytes([m.payload[0], m.payload[1], m.payload[2], m.payload[3]]))
        .collect();
    assert_eq!(acks.len(), 1, "one window of 10000 bytes passed after handshake and replies");
    assert!(acks[0] >= 10_000 + 3073);
}

#[test]
fn rejected_publish_and_play_reach_the_client_with_their_codes() {
    let mut peers = Peers::new(ClientIntent::Publish, ClientHandshakeMode::Simple, ServerConfig::default());
    peers.exchange().unwrap();
    peers.server.reject_publish("Stream is busy.").unwrap();
    peers.exchange().unwrap();
    assert!(peers.server.is_closing());
    let rejected = ClientEvent::Rejected {
        code: "NetStream.Publish.BadName".into(),
        description: "Stream is busy.".into(),
    };
    assert_eq!(peers.client_events.last(), Some(&rejected));

    let mut peers = Peers::new(ClientIntent::Play, ClientHandshakeMode::Simple, ServerConfig::default());
    peers.exchange().unwrap();
    assert_eq!(peers.server.accept_publish(), Err(RtmpError::WrongState("accept_publish")));
    peers.server.reject_play("no such stream").unwrap();
    peers.exchange().unwrap();
    assert!(
        matches!(peers.client_events.last(), Some(ClientEvent::Rejected { code, .. }) if code == "NetStream.Play.StreamNotFound")
    );
}

#[test]
fn an_rtmp_302_reaches_the_client_as_a_redirect() {
    let mut peers = Peers::new(ClientIntent::Play, ClientHandshakeMode::Simple, ServerConfig::default());
    peers.exchange().unwrap();
    peers.server.redirect_play("rtmp://10.0.0.2:19351/live", "rtmp://10.0.0.2:19351/live/s?t=1").unwrap();
    peers.exchange().unwrap();
    assert!(peers.server.is_closing());
    let redirected = ClientEvent::Redirected { url: "rtmp://10.0.0.2:19351/live/s?t=1".into() };
    assert_eq!(peers.client_events.last(), Some(&redirected));
}

#[test]
fn unknown_command_while_publishing_is_ignored_as_srs_does_and_the_connection_lives() {
    let mut peers = Peers::publishing(ClientHandshakeMode::Simple);
    let events_before = peers.client_events.len();
    peers.client.send_message(&request::call("customCall", 42.0, &[], 0), chunk_stream::COMMAND);
    peers.exchange().unwrap();
    assert_eq!(peers.client_events.len(), events_before, "{:?}", peers.client_events);
    peers.client.send_media(&media(MediaMessageKind::Audio, 5, &[0xaf, 1])).unwrap();
    peers.exchange().unwrap();
    assert_eq!(peers.server_media(), [media(MediaMessageKind::Audio, 5, &[0xaf, 1])]);
}

fn set_chunk_size(size: u32) -> Message {
    Message {
        type_id: message_type::SET_CHUNK_SIZE,
        timestamp: 0,
        stream_id: 0,
        payload: Bytes::copy_from_slice(&size.to_be_bytes()),
    }
}

#[test]
fn bad_chunk_sizes_and_long_messages_are_typed_errors() {
    for (size, expected) in
        [(0, RtmpError::ChunkSize(0)), (MAX_CHUNK_SIZE + 1, RtmpError::ChunkSize(0x8000_0000))]
    {
        let mut peers = Peers::publishing(ClientHandshakeMode::Simple);
        peers.client.send_message(&set_chunk_size(size), chunk_stream::PROTOCOL_CONTROL);
        assert_eq!(peers.exchange(), Err(expected));
    }
    let limits = ChunkLimits { max_message_length: 100_000, ..ChunkLimits::default() };
    let mut peers = Peers::new(
        ClientIntent::Publish,
        ClientHandshakeMode::Simple,
        ServerConfig { limits, ..ServerConfig::default() },
    );
    peers.exchange().unwrap();
    peers.server.accept_publish().unwrap();
    peers.exchange().unwrap();
    peers.client.send_media(&media(MediaMessageKind::Video, 0, &pattern(100_001))).unwrap();
    assert_eq!(peers.exchange(), Err(RtmpError::MessageTooLong { length: 100_001, limit: 100_000 }));
}

#[test]
fn random_bytes_and_truncated_handshakes_never_panic() {
    let mut server = ServerSession::new(ServerConfig::default());
    assert_eq!(server.handle_input(b"\x16\x03\x01 TLS hello"), Err(RtmpError::HandshakeVersion(0x16)));
    let mut server = ServerSession::new(ServerConfig::default());
    server.handle_input(&[3; 700]).unwrap();
    assert_eq!(server.poll_output(), None, "half a C1 gets no answer yet");
    assert_eq!(server.poll_event(), None);
}

/// A server that completed a handshake with a simple client.
pub(super) fn server_after_handshake() -> ServerSession {
    let mut server = ServerSession::new(ServerConfig::default());
    let (mut client_handshake, c0c1) =
        crate::codec::rtmp::handshake::ClientHandshake::start(ClientHandshakeMode::Simple, 1, 0);
    server.handle_input(&c0c1).unwrap();
    let s0s1s2 = server.poll_output().unwrap();
    server.handle_input(&client_handshake.handle_input(&s0s1s2).unwrap().send).unwrap();
    server
}

/// Sends hand-built command messages to the server, as a client we do not implement would.
pub(super) fn send_commands(server: &mut ServerSession, commands: &[Message]) -> Result<(), RtmpError> {
    let mut input = Vec::new();
    for command in commands {
        input.extend_from_slice(&crate::codec::rtmp::chunk_encoder::encode_message(command, 128, 3));
    }
    server.handle_input(&input)
}

#[test]
fn commands_before_connect_are_errors() {
    let mut server = server_after_handshake();
    let create = request::call("createStream", 2.0, &[], 0);
    assert_eq!(
        send_commands(&mut server, &[create]),
        Err(RtmpError::NotConnected { command: "createStream".into() })
    );
}

#[test]
fn flash_style_publish_and_pause_while_playing() {
    let mut server = server_after_handshake();
    let commands = [
        request::connect(1.0, "live", "rtmp://h.com/live", "WIN 32,0,0,465"),
        request::call("createStream", 2.0, &[], 0),
        request::call("publish", 0.0, &[Amf0Value::string("cam")], 1),
    ];
    send_commands(&mut server, &commands).unwrap();
    let events: Vec<ServerEvent> = std::iter::from_fn(|| server.poll_event()).collect();
    let ServerEvent::Publish(publish) = &events[1] else { panic!("no publish event") };
    assert_eq!((publish.style, publish.request.stream.as_str()), (PublishStyle::Flash, "cam"));
    assert_eq!(publish.command.publish_type, "live");

    let mut peers = Peers::new(ClientIntent::Play, ClientHandshakeMode::Simple, ServerConfig::default());
    peers.exchange().unwrap();
    peers.server.accept_play().unwrap();
    let pause = request::call("pause", 0.0, &[Amf0Value::Boolean(true), Amf0Value::Number(1500.0)], 1);
    peers.client.send_message(&pause, chunk_stream::STREAM_COMMAND);
    peers.exchange().unwrap();
    assert_eq!(peers.server_events.last(), Some(&ServerEvent::Pause { paused: true, time_millis: 1500.0 }));
    assert!(peers.client_events.contains(&ClientEvent::Status { code: "NetStream.Pause.Notify".into() }));
    assert!(peers.client_events.contains(&ClientEvent::StreamEof));
}

#[test]
fn mutated_publish_sessions_give_errors_not_panics() {
    let mut peers = Peers::publishing(ClientHandshakeMode::Simple);
    for index in 0..30u32 {
        peers
            .client
            .send_media(&media(MediaMessageKind::Video, index * 40, &pattern(3000 + index as usize)))
            .unwrap();
    }
    peers.client.unpublish();
    peers.exchange().unwrap();
    let recorded: Vec<u8> = peers.client_output.iter().flat_map(|b| b.iter().copied()).collect();
    let mut rng = crate::codec::xorshift::XorShift::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move || rng.next_u64();
    let mut n_errors = 0;
    for _ in 0..300 {
        let mut mutated = recorded.clone();
        for _ in 0..1 + next() % 6 {
            // Mutate after the handshake mostly, where the chunk stream and commands live.
            let at = 3073 + (next() as usize) % (mutated.len() - 3073);
            mutated[at] = next() as u8;
        }
        mutated.truncate(3073 + (next() as usize) % (mutated.len() - 3073));
        let mut server = ServerSession::new(ServerConfig::default());
        let mut failed = false;
        for piece in mutated.chunks(1 + (next() as usize) % 4000) {
            if server.handle_input(piece).is_err() {
                failed = true;
                break;
            }
            let _ = server.accept_publish();
            while server.poll_event().is_some() {}
        }
        n_errors += usize::from(failed);
    }
    assert!(n_errors > 0, "some mutations must be reported as errors");
}

/// What ffmpeg's RTMP client sent while publishing 1 s of 160x120 H.264 + AAC (scripts/fixtures/rtmp.sh).
const FFMPEG_PUBLISH: &[u8] = include_bytes!("../../../../tests/fixtures/rtmp/ffmpeg_publish.bin");

/// Feeds `bytes` in pieces of `piece` bytes, accepting any publish; returns the events or the first error.
fn serve_capture(bytes: &[u8], piece: usize) -> Result<Vec<ServerEvent>, RtmpError> {
    let mut server = ServerSession::new(ServerConfig::default());
    let mut events = Vec::new();
    for part in bytes.chunks(piece.max(1)) {
        server.handle_input(part)?;
        while let Some(event) = server.poll_event() {
            if matches!(event, ServerEvent::Publish(_)) {
                server.accept_publish()?;
            }
            events.push(event);
        }
        while server.poll_output().is_some() {}
    }
    Ok(events)
}

#[test]
fn captured_ffmpeg_publish_decodes_to_one_second_of_media() {
    let events = serve_capture(FFMPEG_PUBLISH, 1000).unwrap();
    let ServerEvent::Connect(connect) = &events[0] else { panic!("first event is not connect") };
    assert_eq!(connect.app, "live");
    assert!(connect.flash_ver.starts_with("FMLE/3.0"), "{}", connect.flash_ver);
    let ServerEvent::Publish(publish) = &events[1] else { panic!("second event is not publish") };
    assert_eq!((publish.request.stream.as_str(), publish.style), ("livestream", PublishStyle::Fmle));
    let media: Vec<&MediaMessage> = events
        .iter()
        .filter_map(|event| match event {
            ServerEvent::Media(media) => Some(media),
            _ => None,
        })
        .collect();
    let video: Vec<&&MediaMessage> = media.iter().filter(|m| m.kind == MediaMessageKind::Video).collect();
    let audio: Vec<&&MediaMessage> = media.iter().filter(|m| m.kind == MediaMessageKind::Audio).collect();
    assert_eq!(&video[0].payload[..2], &[0x17, 0x00]);
    assert_eq!(&audio[0].payload[..2], &[0xaf, 0x00]);
    assert_eq!(video.iter().filter(|m| m.payload[1] == 1).count(), 25, "1 s at 25 fps");
    assert!(video.windows(2).all(|pair| pair[0].timestamp <= pair[1].timestamp));
    assert_eq!(events.last(), Some(&ServerEvent::Unpublish));
    // Byte-at-a-time feeding must give exactly the same events.
    assert!(serve_capture(FFMPEG_PUBLISH, 1).unwrap() == events);
}

#[test]
fn mutated_ffmpeg_capture_gives_errors_not_panics() {
    let mut rng = crate::codec::xorshift::XorShift::new(0x0123_4567_89ab_cdef);
    let mut next = move || rng.next_u64();
    let mut n_errors = 0;
    for _ in 0..400 {
        let mut mutated = FFMPEG_PUBLISH.to_vec();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % mutated.len();
            mutated[at] = next() as u8;
        }
        mutated.truncate(1 + (next() as usize) % mutated.len());
        n_errors += usize::from(serve_capture(&mutated, 1 + (next() as usize) % 3000).is_err());
    }
    assert!(n_errors > 0, "some mutations must be reported as errors");
}
