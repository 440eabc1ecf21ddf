//! Typed RTMP commands read from AMF0 command messages (type 20) and AMF3 command messages (type 17,
//! whose body is AMF0 after one leading 0x00 format byte, as every client sends it).
//!
//! Only reading happens here; the replies a server or client sends are built in `reply`. Commands we do
//! not model are kept by name with their values, so the session can answer or ignore them as SRS does.

use crate::codec::amf0::{self, Amf0Value};

use super::error::RtmpError;
use super::message::{message_type, Message};

/// The `connect` command: the application and the client's description of itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectCommand {
    pub transaction_id: f64,
    pub app: String,
    pub tc_url: String,
    pub page_url: String,
    pub swf_url: String,
    pub flash_ver: String,
    /// 0 for AMF0 (the only encoding we speak), 3 for AMF3; echoed in the reply.
    pub object_encoding: f64,
    /// The whole command object, for fields we do not name (fpad, audioCodecs, fourCcList, ...).
    pub command_object: Amf0Value,
    /// The optional extra argument after the command object (used by some auth schemes).
    pub args: Option<Amf0Value>,
}

/// `publish(name, type)`.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishCommand {
    pub transaction_id: f64,
    /// The stream name, possibly with `?param`.
    pub stream_name: String,
    /// "live", "record" or "append"; "live" when absent.
    pub publish_type: String,
}

/// `play(name, start, duration, reset)`.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayCommand {
    pub transaction_id: f64,
    pub stream_name: String,
    /// -2 (live or recorded, the default), -1 (live only) or a position in milliseconds.
    pub start: f64,
    /// -1 (until the end, the default) or milliseconds.
    pub duration: f64,
    pub reset: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Connect(ConnectCommand),
    CreateStream {
        transaction_id: f64,
    },
    ReleaseStream {
        transaction_id: f64,
        stream_name: String,
    },
    FcPublish {
        transaction_id: f64,
        stream_name: String,
    },
    FcUnpublish {
        transaction_id: f64,
        stream_name: String,
    },
    Publish(PublishCommand),
    Play(PlayCommand),
    DeleteStream {
        transaction_id: f64,
        stream_id: f64,
    },
    CloseStream {
        transaction_id: f64,
    },
    GetStreamLength {
        transaction_id: f64,
        stream_name: String,
    },
    Pause {
        transaction_id: f64,
        paused: bool,
        time_millis: f64,
    },
    /// `_result`: the values after the transaction id.
    Result {
        transaction_id: f64,
        values: Vec<Amf0Value>,
    },
    /// `_error`: the values after the transaction id.
    Error {
        transaction_id: f64,
        values: Vec<Amf0Value>,
    },
    /// `onStatus`: the info object (level, code, description).
    OnStatus {
        info: Amf0Value,
    },
    /// Anything else, kept by name (onBWDone, _checkbw, FCSubscribe, receiveAudio, ...).
    Other {
        name: String,
        transaction_id: f64,
        values: Vec<Amf0Value>,
    },
}

impl Command {
    /// Reads a command message (type 20 or 17).
    pub fn decode(message: &Message) -> Result<Command, RtmpError> {
        let body = match (message.type_id, message.payload.first()) {
            (message_type::COMMAND_AMF3, Some(0)) => &message.payload[1..],
            _ => &message.payload[..],
        };
        let values = amf0::decode_all(body)?;
        Command::from_values(values)
    }

    fn from_values(values: Vec<Amf0Value>) -> Result<Command, RtmpError> {
        let mut values = values.into_iter();
        let name = match values.next() {
            Some(Amf0Value::String(name)) => name,
            _ => return Err(RtmpError::CommandWithoutName),
        };
        let transaction_id = values.next().and_then(|v| v.as_f64()).unwrap_or(0.0);
        let rest: Vec<Amf0Value> = values.collect();
        // Most stream commands put a null command object first, then their arguments.
        let argument = |index: usize| rest.get(index + 1);
        let string_argument = |index: usize| argument(index).and_then(Amf0Value::as_str).map(str::to_owned);
        let required_name = |field: &'static str| {
            string_argument(0).ok_or_else(|| RtmpError::CommandField { name: name.clone(), field })
        };
        Ok(match name.as_str() {
            "connect" => Command::Connect(connect_from(transaction_id, &rest)?),
            "createStream" => Command::CreateStream { transaction_id },
            "releaseStream" => {
                Command::ReleaseStream { transaction_id, stream_name: string_argument(0).unwrap_or_default() }
            }
            "FCPublish" => {
                Command::FcPublish { transaction_id, stream_name: string_argument(0).unwrap_or_default() }
            }
            "FCUnpublish" => {
                Command::FcUnpublish { transaction_id, stream_name: string_argument(0).unwrap_or_default() }
            }
            "publish" => Command::Publish(PublishCommand {
                transaction_id,
                stream_name: required_name("stream name")?,
                publish_type: string_argument(1).unwrap_or_else(|| "live".to_owned()),
            }),
            "play" => Command::Play(PlayCommand {
                transaction_id,
                stream_name: required_name("stream name")?,
                start: argument(1).and_then(Amf0Value::as_f64).unwrap_or(-2.0),
                duration: argument(2).and_then(Amf0Value::as_f64).unwrap_or(-1.0),
                reset: match argument(3) {
                    Some(Amf0Value::Boolean(reset)) => *reset,
                    Some(Amf0Value::Number(reset)) => *reset != 0.0,
                    _ => true,
                },
            }),
            "deleteStream" => Command::DeleteStream {
                transaction_id,
                stream_id: argument(0).and_then(Amf0Value::as_f64).unwrap_or(0.0),
            },
            "closeStream" => Command::CloseStream { transaction_id },
            "getStreamLength" => Command::GetStreamLength {
                transaction_id,
                stream_name: string_argument(0).unwrap_or_default(),
            },
            "pause" => Command::Pause {
                transaction_id,
                paused: matches!(argument(0), Some(Amf0Value::Boolean(true))),
                time_millis: argument(1).and_then(Amf0Value::as_f64).unwrap_or(0.0),
            },
            "_result" => Command::Result { transaction_id, values: rest },
            "_error" => Command::Error { transaction_id, values: rest },
            "onStatus" => Command::OnStatus { info: rest.into_iter().nth(1).unwrap_or(Amf0Value::Null) },
            _ => Command::Other { name, transaction_id, values: rest },
        })
    }
}

impl Command {
    /// The command's name as sent on the wire, for logs and error messages.
    pub fn name(&self) -> &str {
        match self {
            Command::Connect(_) => "connect",
            Command::CreateStream { .. } => "createStream",
            Command::ReleaseStream { .. } => "releaseStream",
            Command::FcPublish { .. } => "FCPublish",
            Command::FcUnpublish { .. } => "FCUnpublish",
            Command::Publish(_) => "publish",
            Command::Play(_) => "play",
            Command::DeleteStream { .. } => "deleteStream",
            Command::CloseStream { .. } => "closeStream",
            Command::GetStreamLength { .. } => "getStreamLength",
            Command::Pause { .. } => "pause",
            Command::Result { .. } => "_result",
            Command::Error { .. } => "_error",
            Command::OnStatus { .. } => "onStatus",
            Command::Other { name, .. } => name,
        }
    }
}

fn connect_from(transaction_id: f64, rest: &[Amf0Value]) -> Result<ConnectCommand, RtmpError> {
    let command_object = match rest.first() {
        Some(object @ (Amf0Value::Object(_) | Amf0Value::EcmaArray(_))) => object.clone(),
        _ => return Err(RtmpError::CommandField { name: "connect".to_owned(), field: "command object" }),
    };
    let text = |key: &str| command_object.get(key).and_then(Amf0Value::as_str).unwrap_or_default().to_owned();
    Ok(ConnectCommand {
        transaction_id,
        app: text("app"),
        tc_url: text("tcUrl"),
        page_url: text("pageUrl"),
        swf_url: text("swfUrl"),
        flash_ver: text("flashVer"),
        object_encoding: command_object.get("objectEncoding").and_then(Amf0Value::as_f64).unwrap_or(0.0),
        args: rest.get(1).cloned(),
        command_object,
    })
}

/// The `code` of an onStatus info object or `_error` reply, if any.
pub fn status_code(info: &Amf0Value) -> Option<&str> {
    info.get("code").and_then(Amf0Value::as_str)
}

#[cfg(test)]
mod tests {
    use bytes::{BufMut, BytesMut};

    use super::*;

    fn command_message(values: &[Amf0Value]) -> Message {
        Message {
            type_id: message_type::COMMAND_AMF0,
            timestamp: 0,
            stream_id: 0,
            payload: amf0::encode_all(values),
        }
    }

    #[test]
    fn connect_as_ffmpeg_sends_it() {
        let message = command_message(&[
            Amf0Value::string("connect"),
            Amf0Value::Number(1.0),
            Amf0Value::object([
                ("app", Amf0Value::string("live")),
                ("type", Amf0Value::string("nonprivate")),
                ("flashVer", Amf0Value::string("FMLE/3.0 (compatible; Lavf61.7.100)")),
                ("tcUrl", Amf0Value::string("rtmp://127.0.0.1:1935/live")),
            ]),
        ]);
        let Command::Connect(connect) = Command::decode(&message).unwrap() else { panic!("not a connect") };
        assert_eq!(connect.transaction_id, 1.0);
        assert_eq!(connect.app, "live");
        assert_eq!(connect.tc_url, "rtmp://127.0.0.1:1935/live");
        assert_eq!(connect.flash_ver, "FMLE/3.0 (compatible; Lavf61.7.100)");
        assert_eq!(connect.object_encoding, 0.0);
        assert_eq!(connect.args, None);
    }

    #[test]
    fn publish_and_play_read_their_arguments_and_defaults() {
        let publish = command_message(&[
            Amf0Value::string("publish"),
            Amf0Value::Number(5.0),
            Amf0Value::Null,
            Amf0Value::string("livestream?token=1"),
            Amf0Value::string("live"),
        ]);
        assert_eq!(
            Command::decode(&publish).unwrap(),
            Command::Publish(PublishCommand {
                transaction_id: 5.0,
                stream_name: "livestream?token=1".into(),
                publish_type: "live".into()
            })
        );
        let play = command_message(&[
            Amf0Value::string("play"),
            Amf0Value::Number(4.0),
            Amf0Value::Null,
            Amf0Value::string("livestream"),
            Amf0Value::Number(-1000.0),
        ]);
        let Command::Play(play) = Command::decode(&play).unwrap() else { panic!("not a play") };
        assert_eq!((play.start, play.duration, play.reset), (-1000.0, -1.0, true));
    }

    #[test]
    fn amf3_command_skips_its_format_byte() {
        let mut payload = BytesMut::new();
        payload.put_u8(0);
        payload.extend_from_slice(&amf0::encode_all(&[
            Amf0Value::string("createStream"),
            Amf0Value::Number(2.0),
        ]));
        let message = Message {
            type_id: message_type::COMMAND_AMF3,
            timestamp: 0,
            stream_id: 0,
            payload: payload.freeze(),
        };
        assert_eq!(Command::decode(&message).unwrap(), Command::CreateStream { transaction_id: 2.0 });
    }

    #[test]
    fn unknown_commands_are_kept_by_name_and_bad_ones_are_errors() {
        let other =
            command_message(&[Amf0Value::string("FCSubscribe"), Amf0Value::Number(6.0), Amf0Value::Null]);
        assert_eq!(
            Command::decode(&other).unwrap(),
            Command::Other { name: "FCSubscribe".into(), transaction_id: 6.0, values: vec![Amf0Value::Null] }
        );
        let nameless = command_message(&[Amf0Value::Number(1.0)]);
        assert_eq!(Command::decode(&nameless), Err(RtmpError::CommandWithoutName));
        let publish_without_name = command_message(&[Amf0Value::string("publish"), Amf0Value::Number(5.0)]);
        assert!(matches!(Command::decode(&publish_without_name), Err(RtmpError::CommandField { .. })));
    }
}
