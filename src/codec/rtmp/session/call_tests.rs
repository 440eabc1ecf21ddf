//! The calls clients send that the server does not model (getStreamLength, _checkbw, FCSubscribe,
//! onBWDone, custom calls), in the order real clients send them: answered or ignored as SRS does,
//! and never a reason to close the connection.

use bytes::Bytes;

use super::peer_tests::{send_commands, server_after_handshake};
use super::*;
use crate::codec::amf0::Amf0Value;
use crate::codec::rtmp::chunk::ChunkDecoder;
use crate::codec::rtmp::chunk_encoder::encode_message;
use crate::codec::rtmp::command::Command;
use crate::codec::rtmp::message::{
    chunk_stream, message_type, ControlMessage, MediaMessage, MediaMessageKind, Message, UserControlEvent,
};
use crate::codec::rtmp::reply::request;

/// A connected server and a decoder of everything it sent after the handshake.
struct Server {
    session: ServerSession,
    output: ChunkDecoder,
}

impl Server {
    fn connected() -> Server {
        let mut session = server_after_handshake();
        let connect = request::connect(1.0, "live", "rtmp://127.0.0.1/live", "LNX 10,0,32,18");
        send_commands(&mut session, &[connect]).unwrap();
        let mut server = Server { session, output: ChunkDecoder::default() };
        assert!(matches!(server.events().as_slice(), [ServerEvent::Connect(_)]));
        let answers = server.commands();
        assert!(answers
            .iter()
            .any(|c| matches!(c, Command::Result { transaction_id, .. } if *transaction_id == 1.0)));
        server
    }

    fn send(&mut self, commands: &[Message]) {
        send_commands(&mut self.session, commands).expect("no call closes the connection");
    }

    /// The commands the server sent since the last look.
    fn commands(&mut self) -> Vec<Command> {
        while let Some(bytes) = self.session.poll_output() {
            self.output.push(&bytes);
        }
        std::iter::from_fn(|| self.output.next_message().unwrap())
            .filter(|m| m.type_id == message_type::COMMAND_AMF0)
            .map(|m| Command::decode(&m).unwrap())
            .collect()
    }

    fn events(&mut self) -> Vec<ServerEvent> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }
}

/// SRS's answer to a call: `_result` with a null command object and a null response.
fn null_result(transaction_id: f64) -> Command {
    Command::Result { transaction_id, values: vec![Amf0Value::Null, Amf0Value::Null] }
}

fn get_stream_length(transaction_id: f64, stream_id: u32) -> Message {
    request::call("getStreamLength", transaction_id, &[Amf0Value::string("livestream")], stream_id)
}

fn play(transaction_id: f64) -> Message {
    request::call(
        "play",
        transaction_id,
        &[Amf0Value::string("livestream"), Amf0Value::Number(-1000.0), Amf0Value::Number(4000.0)],
        1,
    )
}

#[test]
fn calls_before_create_stream_get_a_null_result_even_notifications() {
    let mut server = Server::connected();
    server.send(&[
        get_stream_length(2.0, 0),
        request::call("_checkbw", 3.0, &[], 0),
        request::call("onBWDone", 0.0, &[], 0),
        request::call("call", 4.0, &[Amf0Value::string("anything")], 0),
    ]);
    assert_eq!(server.commands(), [null_result(2.0), null_result(3.0), null_result(0.0), null_result(4.0)]);
    assert!(server.events().is_empty(), "calls are not events for the host");
}

/// rtmpdump (librtmp 2.4) playing live, as it sends it: Set Buffer Length, createStream, FCSubscribe,
/// then `_checkbw` in answer to our onBWDone, then play with a stop time and Set Buffer Length again.
#[test]
fn rtmpdump_sequence_ignores_calls_after_create_stream_and_reads_the_play_duration() {
    let mut server = Server::connected();
    let buffer = |stream_id, buffer_millis| {
        let event = UserControlEvent::SetBufferLength { stream_id, buffer_millis };
        ControlMessage::UserControl(event).to_message()
    };
    let mut input = encode_message(&buffer(0, 300), 128, chunk_stream::PROTOCOL_CONTROL).to_vec();
    for command in [
        request::call("createStream", 2.0, &[], 0),
        request::call("FCSubscribe", 3.0, &[Amf0Value::string("livestream")], 0),
        request::call("_checkbw", 4.0, &[], 0),
        get_stream_length(5.0, 1),
        play(6.0),
    ] {
        input.extend_from_slice(&encode_message(&command, 128, chunk_stream::COMMAND));
    }
    input.extend_from_slice(&encode_message(&buffer(1, 36_000_000), 128, chunk_stream::PROTOCOL_CONTROL));
    server.session.handle_input(&input).unwrap();

    let answers = server.commands();
    assert_eq!(answers.len(), 1, "only createStream is answered: {answers:?}");
    assert!(
        matches!(&answers[0], Command::Result { transaction_id, values } if *transaction_id == 2.0 && values[1] == Amf0Value::Number(1.0))
    );
    let events = server.events();
    let [ServerEvent::Play(request)] = events.as_slice() else { panic!("{events:?}") };
    assert_eq!((request.command.start, request.command.duration), (-1000.0, 4000.0));
    assert_eq!(request.request.stream, "livestream");
}

#[test]
fn a_players_calls_with_a_transaction_are_answered_and_notifications_are_not() {
    let mut server = Server::connected();
    server.send(&[request::call("createStream", 2.0, &[], 0), play(3.0)]);
    server.session.accept_play().unwrap();
    server.commands();
    server.events();
    server.send(&[
        get_stream_length(4.0, 1),
        request::call("_checkbw", 0.0, &[], 0),
        request::call("receiveVideo", 0.0, &[Amf0Value::Boolean(true)], 1),
    ]);
    assert_eq!(server.commands(), [null_result(4.0)]);
    assert!(server.events().is_empty());
    let video =
        MediaMessage { kind: MediaMessageKind::Video, timestamp: 0, payload: Bytes::from_static(&[0x17, 0]) };
    assert_eq!(server.session.send_media(&video), Ok(()), "still playing");

    // After closeStream the connection identifies the client again: calls are answered again.
    server.send(&[request::call("closeStream", 0.0, &[], 1), get_stream_length(5.0, 0)]);
    assert_eq!(server.events(), [ServerEvent::StopPlay]);
    assert_eq!(server.commands(), [null_result(5.0)]);
}

#[test]
fn a_publishers_calls_are_ignored_and_its_media_still_flows() {
    let mut server = Server::connected();
    let name = Amf0Value::string("livestream");
    server.send(&[
        request::call("releaseStream", 2.0, std::slice::from_ref(&name), 0),
        request::call("FCPublish", 3.0, std::slice::from_ref(&name), 0),
        request::call("createStream", 4.0, &[], 0),
        request::call("publish", 5.0, &[name, Amf0Value::string("live")], 1),
    ]);
    server.session.accept_publish().unwrap();
    server.commands();
    server.events();
    let audio = Message {
        type_id: message_type::AUDIO,
        timestamp: 40,
        stream_id: 1,
        payload: Bytes::from_static(&[0xaf, 1, 0x21]),
    };
    server.send(&[request::call("_checkbw", 6.0, &[], 0), get_stream_length(7.0, 1), audio]);
    assert_eq!(server.commands(), []);
    let events = server.events();
    assert!(matches!(events.as_slice(), [ServerEvent::Media(m)] if m.timestamp == 40), "{events:?}");
}
