//! Builders for the commands a server or client sends: the exact values SRS answers with (so clients
//! tuned against SRS or FMS see what they expect), and the requests our client makes.
//!
//! Each builder returns a complete [`Message`] (type 20 for commands, 18 for data) on the message stream
//! it belongs to; it does not choose a chunk stream or encode chunks.

use bytes::Bytes;

use crate::codec::amf0::{self, Amf0Value};

use super::message::{message_type, Message};

/// The FMS version SRS announces; some Flash clients refuse servers that do not look like FMS 3.5.
pub const FMS_VERSION: &str = "FMS/3,5,3,888";
/// The message stream id every server of this family gives to `createStream`.
pub const DEFAULT_STREAM_ID: u32 = 1;
/// The client id SRS puts in onStatus replies (Flash shows it, nothing checks it).
const CLIENT_ID: &str = "ASAICiss";

/// What the server tells about itself in the connect reply's `data` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdentity {
    /// e.g. "srs-rs".
    pub server: String,
    /// e.g. "0.1.0".
    pub version: String,
}

impl Default for ServerIdentity {
    fn default() -> Self {
        ServerIdentity { server: "srs-rs".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() }
    }
}

/// A command message (type 20) from AMF0 values.
pub fn command_message(values: &[Amf0Value], stream_id: u32) -> Message {
    Message {
        type_id: message_type::COMMAND_AMF0,
        timestamp: 0,
        stream_id,
        payload: amf0::encode_all(values),
    }
}

/// A data message (type 18) from AMF0 values.
pub fn data_message(values: &[Amf0Value], stream_id: u32) -> Message {
    Message { type_id: message_type::DATA_AMF0, timestamp: 0, stream_id, payload: amf0::encode_all(values) }
}

fn text(s: &str) -> Amf0Value {
    Amf0Value::string(s)
}

/// `_result` to connect: FMS properties, then NetConnection.Connect.Success with SRS's `data` object.
pub fn connect_result(transaction_id: f64, object_encoding: f64, identity: &ServerIdentity) -> Message {
    let properties = Amf0Value::object([
        ("fmsVer", text(FMS_VERSION)),
        ("capabilities", Amf0Value::Number(127.0)),
        ("mode", Amf0Value::Number(1.0)),
    ]);
    let data = Amf0Value::EcmaArray(vec![
        ("version".to_owned(), text("3,5,3,888")),
        ("srs_sig".to_owned(), text("SRS")),
        ("srs_server".to_owned(), text(&format!("{}/{}", identity.server, identity.version))),
        ("srs_license".to_owned(), text("MIT")),
        ("srs_version".to_owned(), text(&identity.version)),
    ]);
    let information = Amf0Value::object([
        ("level", text("status")),
        ("code", text("NetConnection.Connect.Success")),
        ("description", text("Connection succeeded")),
        ("objectEncoding", Amf0Value::Number(object_encoding)),
        ("data", data),
    ]);
    command_message(&[text("_result"), Amf0Value::Number(transaction_id), properties, information], 0)
}

/// `_result` to createStream with the stream id.
pub fn create_stream_result(transaction_id: f64, stream_id: u32) -> Message {
    let values = [
        text("_result"),
        Amf0Value::Number(transaction_id),
        Amf0Value::Null,
        Amf0Value::Number(f64::from(stream_id)),
    ];
    command_message(&values, 0)
}

/// `_result` to releaseStream, FCPublish and FCUnpublish: null then undefined, as SRS answers.
pub fn empty_result(transaction_id: f64) -> Message {
    command_message(
        &[text("_result"), Amf0Value::Number(transaction_id), Amf0Value::Null, Amf0Value::Undefined],
        0,
    )
}

/// `_result` with a null command object and a null response: SRS's answer to calls it does not
/// implement (getStreamLength, _checkbw, FCSubscribe, custom calls), so a client that waits for an
/// answer goes on.
pub fn call_result(transaction_id: f64) -> Message {
    command_message(
        &[text("_result"), Amf0Value::Number(transaction_id), Amf0Value::Null, Amf0Value::Null],
        0,
    )
}

/// Status codes a server sends on a stream, with the level and description SRS uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    PublishStart,
    PublishBadName,
    UnpublishSuccess,
    PlayReset,
    PlayStart,
    PlayStreamNotFound,
    PauseNotify,
    UnpauseNotify,
}

impl StreamStatus {
    pub fn code(self) -> &'static str {
        match self {
            StreamStatus::PublishStart => "NetStream.Publish.Start",
            StreamStatus::PublishBadName => "NetStream.Publish.BadName",
            StreamStatus::UnpublishSuccess => "NetStream.Unpublish.Success",
            StreamStatus::PlayReset => "NetStream.Play.Reset",
            StreamStatus::PlayStart => "NetStream.Play.Start",
            StreamStatus::PlayStreamNotFound => "NetStream.Play.StreamNotFound",
            StreamStatus::PauseNotify => "NetStream.Pause.Notify",
            StreamStatus::UnpauseNotify => "NetStream.Unpause.Notify",
        }
    }

    fn level(self) -> &'static str {
        match self {
            StreamStatus::PublishBadName | StreamStatus::PlayStreamNotFound => "error",
            _ => "status",
        }
    }

    fn default_description(self) -> &'static str {
        match self {
            StreamStatus::PublishStart => "Started publishing stream.",
            StreamStatus::PublishBadName => "Stream is busy.",
            StreamStatus::UnpublishSuccess => "Stream is now unpublished",
            StreamStatus::PlayReset => "Playing and resetting stream.",
            StreamStatus::PlayStart => "Started playing stream.",
            StreamStatus::PlayStreamNotFound => "Stream not found.",
            StreamStatus::PauseNotify => "Paused stream.",
            StreamStatus::UnpauseNotify => "Unpaused stream.",
        }
    }
}

/// `onStatus` on message stream `stream_id`; `description` overrides SRS's text when given, and
/// `details` (the stream name) is added for play statuses as SRS does.
pub fn on_status(
    status: StreamStatus,
    stream_id: u32,
    description: Option<&str>,
    details: Option<&str>,
) -> Message {
    let mut information = vec![
        ("level".to_owned(), text(status.level())),
        ("code".to_owned(), text(status.code())),
        ("description".to_owned(), text(description.unwrap_or(status.default_description()))),
    ];
    if let Some(details) = details {
        information.push(("details".to_owned(), text(details)));
    }
    information.push(("clientid".to_owned(), text(CLIENT_ID)));
    let values = [text("onStatus"), Amf0Value::Number(0.0), Amf0Value::Null, Amf0Value::Object(information)];
    command_message(&values, stream_id)
}

/// SRS's RTMP 302: an `onStatus` of level `error`, code `NetConnection.Connect.Rejected`, whose
/// `ex` object says where the stream is: `code` 302, `redirect` the tcUrl and `redirect2` the
/// whole RTMP URL (SRS 3 clients read `redirect`, later ones `redirect2`). Sent on stream 0.
pub fn redirect(tc_url: &str, url: &str) -> Message {
    let ex = Amf0Value::object([
        ("code", Amf0Value::Number(302.0)),
        ("redirect", text(tc_url)),
        ("redirect2", text(url)),
    ]);
    let information = Amf0Value::object([
        ("level", text("error")),
        ("code", text("NetConnection.Connect.Rejected")),
        ("description", text("RTMP 302 Redirect")),
        ("ex", ex),
    ]);
    command_message(&[text("onStatus"), Amf0Value::Number(0.0), Amf0Value::Null, information], 0)
}

/// `onFCPublish` (publish start) for FMLE-style publishers.
pub fn on_fc_publish(stream_id: u32) -> Message {
    on_fc("onFCPublish", "NetStream.Publish.Start", "Started publishing stream.", stream_id)
}

/// `onFCUnpublish` for FMLE-style publishers.
pub fn on_fc_unpublish(stream_id: u32) -> Message {
    on_fc("onFCUnpublish", "NetStream.Unpublish.Success", "Stop publishing stream.", stream_id)
}

fn on_fc(name: &str, code: &str, description: &str, stream_id: u32) -> Message {
    let information = Amf0Value::object([("code", text(code)), ("description", text(description))]);
    command_message(&[text(name), Amf0Value::Number(0.0), Amf0Value::Null, information], stream_id)
}

/// `|RtmpSampleAccess(true, true)`: lets Flash players read raw audio and video samples.
pub fn sample_access(stream_id: u32) -> Message {
    data_message(&[text("|RtmpSampleAccess"), Amf0Value::Boolean(true), Amf0Value::Boolean(true)], stream_id)
}

/// Removes the `@setDataFrame` wrapper publishers put before `onMetaData`, without copying: SRS stores
/// and forwards metadata as `onMetaData` alone, the form players and FLV files expect.
pub fn strip_set_data_frame(payload: &Bytes) -> Bytes {
    const WRAPPER: &[u8] = b"\x02\x00\x0d@setDataFrame";
    if payload.starts_with(WRAPPER) {
        payload.slice(WRAPPER.len()..)
    } else {
        payload.clone()
    }
}

/// Requests our client sends.
pub mod request {
    use super::*;

    /// `connect` with the fields ffmpeg sends when publishing, and a few for playing.
    pub fn connect(transaction_id: f64, app: &str, tc_url: &str, flash_ver: &str) -> Message {
        let object = Amf0Value::object([
            ("app", text(app)),
            ("type", text("nonprivate")),
            ("flashVer", text(flash_ver)),
            ("tcUrl", text(tc_url)),
            ("fpad", Amf0Value::Boolean(false)),
            ("capabilities", Amf0Value::Number(15.0)),
            ("audioCodecs", Amf0Value::Number(4071.0)),
            ("videoCodecs", Amf0Value::Number(252.0)),
            ("videoFunction", Amf0Value::Number(1.0)),
        ]);
        command_message(&[text("connect"), Amf0Value::Number(transaction_id), object], 0)
    }

    /// A stream-level call with a null command object and arguments (releaseStream, FCPublish, ...).
    pub fn call(name: &str, transaction_id: f64, arguments: &[Amf0Value], stream_id: u32) -> Message {
        let mut values = vec![text(name), Amf0Value::Number(transaction_id), Amf0Value::Null];
        values.extend_from_slice(arguments);
        command_message(&values, stream_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::rtmp::command::{status_code, Command};

    #[test]
    fn connect_result_carries_the_fms_fields_srs_sends() {
        let message = connect_result(1.0, 0.0, &ServerIdentity::default());
        let Command::Result { transaction_id, values } = Command::decode(&message).unwrap() else {
            panic!("not a _result")
        };
        assert_eq!(transaction_id, 1.0);
        assert_eq!(values[0].get("fmsVer").and_then(Amf0Value::as_str), Some("FMS/3,5,3,888"));
        assert_eq!(values[0].get("capabilities").and_then(Amf0Value::as_f64), Some(127.0));
        assert_eq!(values[0].get("mode").and_then(Amf0Value::as_f64), Some(1.0));
        assert_eq!(status_code(&values[1]), Some("NetConnection.Connect.Success"));
        assert_eq!(values[1].get("objectEncoding").and_then(Amf0Value::as_f64), Some(0.0));
        assert_eq!(
            values[1].get("data").and_then(|d| d.get("srs_sig")).and_then(Amf0Value::as_str),
            Some("SRS")
        );
    }

    #[test]
    fn on_status_has_level_code_description_and_details() {
        let message = on_status(StreamStatus::PlayStreamNotFound, 1, None, Some("livestream"));
        assert_eq!(message.stream_id, 1);
        let Command::OnStatus { info } = Command::decode(&message).unwrap() else { panic!("not onStatus") };
        assert_eq!(info.get("level").and_then(Amf0Value::as_str), Some("error"));
        assert_eq!(status_code(&info), Some("NetStream.Play.StreamNotFound"));
        assert_eq!(info.get("details").and_then(Amf0Value::as_str), Some("livestream"));
    }

    #[test]
    fn set_data_frame_wrapper_is_removed_without_touching_other_data() {
        let wrapped = amf0::encode_all(&[text("@setDataFrame"), text("onMetaData"), Amf0Value::Null]);
        let bare = amf0::encode_all(&[text("onMetaData"), Amf0Value::Null]);
        assert_eq!(strip_set_data_frame(&wrapped), bare);
        assert_eq!(strip_set_data_frame(&bare), bare);
    }
}
