//! The bodies of the fuzz targets, one plain function per parser a peer controls.
//!
//! Two users include this file: the cargo-fuzz crate (`fuzz/fuzz_targets/<name>.rs`, nightly,
//! libFuzzer) and the stable test `tests/fuzz_corpus.rs`, which replays every committed corpus and
//! regression file through the same bodies, so CI (stable only) checks what the fuzzer found.
//! A body returns normally on any input; a panic, an endless loop or a huge allocation is the bug.

#![allow(dead_code)]

mod gb28181;
mod rtc;

pub use gb28181::{gb28181_media, ps_demux, sip_message, sip_registrar};
pub use rtc::{rtc_player, rtc_udp, rtp_h264, rtp_h265, sdp};

use std::path::Path;

use bytes::Bytes;
use srs::codec::amf0::{self, Amf0Value};
use srs::codec::flv::{self, AudioTagHeader, FlvReader, VideoTagHeader};
use srs::codec::mpegts::{TsDemuxer, TsDemuxerLimits};
use srs::codec::rtmp::handshake::{ClientHandshake, ServerHandshake};
use srs::codec::rtmp::message::{ControlMessage, MediaMessage, MediaMessageKind, Message};
use srs::codec::rtmp::{self, ChunkDecoder, ChunkLimits, ClientHandshakeMode, Command};
use srs::codec::{aac, av1, avc, describe, hevc, hls, mp3, mp4, opus, srt_streamid};
use srs::media::Codec;

/// A target's body: any input, no panic.
pub type Body = fn(&[u8]);

/// Every target by name, as `fuzz/corpus/<name>/` and `fuzz/fuzz_targets/<name>.rs` name them.
pub const TARGETS: &[(&str, Body)] = &[
    ("rtmp_handshake", rtmp_handshake),
    ("rtmp_chunks", rtmp_chunks),
    ("rtmp_session", rtmp_session),
    ("amf0", amf0),
    ("flv_reader", flv_reader),
    ("flv_tags", flv_tags),
    ("ts_demux", ts_demux),
    ("ts_datagrams", ts_datagrams),
    ("mp4_reader", mp4_reader),
    ("aac", aac),
    ("avc", avc),
    ("hevc", hevc),
    ("av1", av1),
    ("opus_mp3", opus_mp3),
    ("http_head", http_head),
    ("srs_conf", srs_conf),
    ("srt_streamid", srt_streamid),
    ("hls_playlist", hls_playlist),
    ("rtp_h264", rtp_h264),
    ("rtp_h265", rtp_h265),
    ("rtc_udp", rtc_udp),
    ("rtc_player", rtc_player),
    ("sdp", sdp),
    ("ps_demux", ps_demux),
    ("gb28181_media", gb28181_media),
    ("sip_message", sip_message),
    ("sip_registrar", sip_registrar),
    ("resp", resp),
];

/// Reads structure out of the fuzzer's bytes; past the end every read gives zeros (or nothing), so a
/// short input is still a whole, short, program.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&byte, rest)) => {
                self.data = rest;
                byte
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        taken
    }

    /// A slice whose length is the next byte (or two bytes when `wide`).
    pub fn sized(&mut self, wide: bool) -> &'a [u8] {
        let n = if wide { usize::from(self.u16()) } else { usize::from(self.u8()) };
        self.bytes(n)
    }

    pub fn text(&mut self) -> String {
        String::from_utf8_lossy(self.sized(false)).into_owned()
    }

    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes(usize::MAX)
    }
}

/// RTMP server handshake fed in pieces of sizes chosen by the input: C0C1, C2 and what follows.
pub fn rtmp_handshake(data: &[u8]) {
    let mut input = Input::new(data);
    let mut handshake = ServerHandshake::new(u64::from(input.u32()), input.u32());
    while !input.is_empty() {
        let piece = input.sized(true);
        match handshake.handle_input(piece) {
            Ok(progress) if progress.finished.is_some() => break,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    // The client side reads S0S1S2 from the peer too.
    let (mut client, _c0c1) = ClientHandshake::start(ClientHandshakeMode::Complex, 7, 0);
    let _ = client.handle_input(data);
}

/// The chunk stream of one connection, in pieces, and every message read from it decoded the way the
/// session would (control, command, aggregate).
pub fn rtmp_chunks(data: &[u8]) {
    let mut input = Input::new(data);
    let limits = ChunkLimits { max_message_length: 1 << 20, ..ChunkLimits::default() };
    let mut decoder = ChunkDecoder::new(limits);
    while !input.is_empty() {
        let piece = input.sized(true);
        decoder.push(piece);
        decoder.acknowledgements().count(piece.len());
        let _ = decoder.acknowledgements().take_due();
        loop {
            match decoder.next_message() {
                Ok(Some(message)) => decode_message(&message),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

fn decode_message(message: &Message) {
    let _ = ControlMessage::parse(message);
    let _ = Command::decode(message);
    if message.type_id == 22 {
        if let Ok(parts) = rtmp::aggregate::split_aggregate(message) {
            for part in &parts {
                flv_tag_body(part.type_id, &part.payload);
            }
        }
    }
    flv_tag_body(message.type_id, &message.payload);
}

/// One FLV tag body (= RTMP media message payload) read the ways the server reads it.
fn flv_tag_body(type_id: u8, body: &Bytes) {
    match type_id {
        8 => {
            let _ = AudioTagHeader::parse(body);
        }
        9 => {
            let _ = VideoTagHeader::parse(body);
        }
        18 | 15 => {
            let _ = flv::on_metadata(body);
            let _ = flv::unwrap_set_data_frame(body.clone());
        }
        _ => {}
    }
}

/// The RTMP server session driven by a program read from the input: valid handshake, then a sequence
/// of chunked messages (commands built from AMF0 values the input picks, control messages, media,
/// raw bytes) interleaved with the host's decisions (accept/reject publish and play, media out).
pub fn rtmp_session(data: &[u8]) {
    use rtmp::session::{ServerConfig, ServerSession};
    let mut input = Input::new(data);
    let config = ServerConfig {
        limits: ChunkLimits { max_message_length: 1 << 20, ..ChunkLimits::default() },
        ..ServerConfig::default()
    };
    let mut session = ServerSession::new(config);
    // A real client handshake unless the input asks for raw handshake bytes.
    let mode = input.u8();
    if mode & 0x80 != 0 {
        let raw = input.sized(true);
        if session.handle_input(raw).is_err() {
            return;
        }
    } else {
        let style = if mode & 1 == 0 { ClientHandshakeMode::Simple } else { ClientHandshakeMode::Complex };
        let (mut client, c0c1) = ClientHandshake::start(style, 1, 0);
        if session.handle_input(&c0c1).is_err() {
            return;
        }
        let mut s0s1s2 = Vec::new();
        while let Some(out) = session.poll_output() {
            s0s1s2.extend_from_slice(&out);
        }
        let Ok(progress) = client.handle_input(&s0s1s2) else { return };
        if session.handle_input(&progress.send).is_err() {
            return;
        }
    }
    let mut steps = 0;
    while !input.is_empty() && steps < 256 {
        steps += 1;
        let op = input.u8();
        let result = match op % 12 {
            0 => session.handle_input(input.sized(true)),
            1..=4 => {
                let message = command_message(&mut input);
                send_chunked(&mut session, &message, &mut input)
            }
            5 => {
                let message = Message {
                    type_id: input.u8() % 24,
                    timestamp: input.u32(),
                    stream_id: u32::from(input.u8() % 3),
                    payload: Bytes::copy_from_slice(input.sized(true)),
                };
                send_chunked(&mut session, &message, &mut input)
            }
            6 => session.accept_publish(),
            7 => session.reject_publish("denied"),
            8 => session.accept_play(),
            9 => session.reject_play("denied"),
            10 => {
                let kind = match input.u8() % 3 {
                    0 => MediaMessageKind::Audio,
                    1 => MediaMessageKind::Video,
                    _ => MediaMessageKind::Data,
                };
                let media = MediaMessage {
                    kind,
                    timestamp: input.u32(),
                    payload: Bytes::copy_from_slice(input.sized(false)),
                };
                session.send_media(&media)
            }
            _ => {
                session.send_stream_eof();
                Ok(())
            }
        };
        while session.poll_event().is_some() {}
        while session.poll_output().is_some() {}
        if result.is_err() && op % 12 <= 5 {
            // The host closes the connection on an input error.
            return;
        }
    }
}

/// Chunks `message` at the session's current input chunk size and feeds it, split where the input says.
fn send_chunked(
    session: &mut rtmp::session::ServerSession,
    message: &Message,
    input: &mut Input<'_>,
) -> Result<(), rtmp::RtmpError> {
    let csid = match input.u8() % 4 {
        0 => 2,
        1 => 3,
        2 => 4 + u32::from(input.u8()),
        _ => 64 + u32::from(input.u16()),
    };
    let bytes = rtmp::encode_message(message, session.in_chunk_size(), csid);
    let split = usize::from(input.u16()).min(bytes.len());
    session.handle_input(&bytes[..split])?;
    session.handle_input(&bytes[split..])
}

/// A command or control message: a name from the calls clients make, with arguments from the input.
fn command_message(input: &mut Input<'_>) -> Message {
    const NAMES: &[&str] = &[
        "connect",
        "createStream",
        "releaseStream",
        "FCPublish",
        "publish",
        "play",
        "play2",
        "FCUnpublish",
        "deleteStream",
        "closeStream",
        "pause",
        "getStreamLength",
        "receiveAudio",
        "_checkbw",
        "_result",
        "onStatus",
    ];
    let pick = input.u8();
    if pick >= 0xf0 {
        // A control message: set chunk size, abort, ack, user control, window, bandwidth.
        let type_id = 1 + (pick & 0x07) % 6;
        let mut payload = input.u32().to_be_bytes().to_vec();
        payload.extend_from_slice(input.sized(false));
        return Message { type_id, timestamp: 0, stream_id: 0, payload: Bytes::from(payload) };
    }
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let mut values = vec![Amf0Value::String(name.to_string()), Amf0Value::Number(f64::from(input.u8()))];
    if name == "connect" {
        let tc_url = format!("rtmp://{}/{}", input.text(), input.text());
        values.push(Amf0Value::Object(vec![
            ("app".to_string(), Amf0Value::String(input.text())),
            ("tcUrl".to_string(), Amf0Value::String(tc_url)),
            ("objectEncoding".to_string(), Amf0Value::Number(f64::from(input.u8() % 4))),
        ]));
    } else {
        values.push(Amf0Value::Null);
    }
    let n_args = input.u8() % 4;
    for _ in 0..n_args {
        values.push(amf0_value(input, 2));
    }
    let type_id = if input.u8() & 1 == 0 { 20 } else { 17 };
    let mut payload = Vec::new();
    if type_id == 17 {
        payload.push(0);
    }
    payload.extend_from_slice(&amf0::encode_all(&values));
    Message { type_id, timestamp: 0, stream_id: u32::from(input.u8() % 3), payload: Bytes::from(payload) }
}

fn amf0_value(input: &mut Input<'_>, depth: u8) -> Amf0Value {
    match input.u8() % 8 {
        0 => Amf0Value::Number(f64::from_bits(u64::from(input.u32()) << 32 | u64::from(input.u32()))),
        1 => Amf0Value::Boolean(input.u8() & 1 == 1),
        2 | 3 => Amf0Value::String(input.text()),
        4 if depth > 0 => {
            let n = input.u8() % 4;
            Amf0Value::Object((0..n).map(|_| (input.text(), amf0_value(input, depth - 1))).collect())
        }
        5 if depth > 0 => {
            let n = input.u8() % 4;
            Amf0Value::StrictArray((0..n).map(|_| amf0_value(input, depth - 1)).collect())
        }
        6 => Amf0Value::Undefined,
        _ => Amf0Value::Null,
    }
}

/// AMF0 values as commands and metadata carry them (with AVM+ switches to AMF3, kept raw); what
/// decodes must encode and decode to the same values.
pub fn amf0(data: &[u8]) {
    if let Ok(values) = amf0::decode_all(data) {
        let encoded = amf0::encode_all(&values);
        let again = amf0::decode_all(&encoded);
        // NaN payloads compare unequal; compare the encodings instead.
        if let Ok(again) = again {
            assert_eq!(encoded, amf0::encode_all(&again), "AMF0 re-encoding is not stable");
        } else {
            panic!("AMF0 values we encoded do not decode: {again:?}");
        }
        for value in &values {
            let _ = value.to_string();
        }
    }
}

/// An FLV file or HTTP-FLV body, pushed in pieces, every tag's body read.
pub fn flv_reader(data: &[u8]) {
    let mut input = Input::new(data);
    let mut reader = FlvReader::default();
    let split = usize::from(input.u16());
    let rest = input.rest();
    let (first, second) = rest.split_at(split.min(rest.len()));
    for piece in [first, second] {
        reader.push(piece);
        while let Some(tag) = reader.next_tag() {
            match tag {
                Ok(tag) => flv_tag_body(tag.tag_type.as_u8(), &tag.body),
                Err(_) => return,
            }
        }
    }
    reader.finish();
    while let Some(Ok(_)) = reader.next_tag() {}
}

/// Audio and video tag headers (legacy and enhanced RTMP), and the configurations they carry.
pub fn flv_tags(data: &[u8]) {
    let Some((&kind, body)) = data.split_first() else { return };
    let body = Bytes::copy_from_slice(body);
    if kind & 1 == 0 {
        if let Ok(header) = AudioTagHeader::parse(&body) {
            let config = body.slice(header.header_len.min(body.len())..);
            let _ = header.codec.media_codec().map(|codec| describe::audio_track(codec, config));
            let mut out = bytes::BytesMut::new();
            let _ = header.write(&mut out);
        }
    } else if let Ok(header) = VideoTagHeader::parse(&body) {
        let config = body.slice(header.header_len.min(body.len())..);
        let _ = header.codec.media_codec().map(|codec| describe::video_track(codec, config));
        let mut out = bytes::BytesMut::new();
        let _ = header.write(&mut out);
    }
}

fn drain_ts(demuxer: &mut TsDemuxer) {
    while let Some(event) = demuxer.poll() {
        let _ = event;
    }
}

fn ts_limits() -> TsDemuxerLimits {
    TsDemuxerLimits { max_pes_bytes: 1 << 20, ..TsDemuxerLimits::default() }
}

/// An MPEG-TS stream as one buffer (a file, HTTP body).
pub fn ts_demux(data: &[u8]) {
    let mut demuxer = TsDemuxer::new(ts_limits());
    demuxer.push(data);
    drain_ts(&mut demuxer);
    demuxer.finish();
    drain_ts(&mut demuxer);
    let _ = demuxer.description();
    let _ = demuxer.stats();
}

/// MPEG-TS as SRT or UDP carries it: a sequence of datagrams (whole packets kept, the rest dropped),
/// polled between datagrams, as the sources do.
pub fn ts_datagrams(data: &[u8]) {
    let mut input = Input::new(data);
    let mut demuxer = TsDemuxer::new(ts_limits());
    while !input.is_empty() {
        // Datagram sizes around 7 packets, as encoders send them.
        let n = usize::from(input.u16() % 1400);
        let datagram = input.bytes(n);
        demuxer.push(srs::codec::mpegts::whole_packets(datagram));
        drain_ts(&mut demuxer);
    }
    demuxer.finish();
    drain_ts(&mut demuxer);
}

/// An MP4 file (classic or fragmented): index, description, every sample's frame; and faststart.
pub fn mp4_reader(data: &[u8]) {
    let file = Bytes::copy_from_slice(data);
    let _ = mp4::read_mp4_partial(&file);
    let _ = mp4::faststart(data);
}

/// AAC AudioSpecificConfig and ADTS headers.
pub fn aac(data: &[u8]) {
    if let Ok((asc, _extension)) = aac::AudioSpecificConfig::parse_with_extension(data) {
        let _ = asc.encode();
        let _ = asc.adts_header(data.len());
        let _ = asc.samples_per_frame();
    }
    let _ = aac::parse_adts(data);
    let _ = describe::audio_track(Codec::Aac, Bytes::copy_from_slice(data));
}

/// AVC decoder configuration records and SPS NAL units.
pub fn avc(data: &[u8]) {
    if let Ok(config) = avc::AvcConfig::parse(data) {
        let _ = config.encode();
    }
    let _ = avc::AvcConfig::parse_with_extension(data);
    let _ = avc::parse_sps(data);
    let _ = describe::video_track(Codec::H264, Bytes::copy_from_slice(data));
    for nal in srs::codec::nal::annexb(data) {
        let _ = avc::parse_sps(nal);
    }
}

/// HEVC decoder configuration records and SPS NAL units.
pub fn hevc(data: &[u8]) {
    if let Ok(config) = hevc::HevcConfig::parse(data) {
        let _ = config.encode();
    }
    let _ = hevc::parse_sps(data);
    let _ = describe::video_track(Codec::H265, Bytes::copy_from_slice(data));
    for nal in srs::codec::nal::annexb(data) {
        let _ = hevc::parse_sps(nal);
    }
}

/// AV1 codec configuration records and sequence header OBUs.
pub fn av1(data: &[u8]) {
    if let Ok(config) = av1::Av1Config::parse(data) {
        let _ = config.encode();
        let _ = config.sequence_header();
        let _ = config.bit_depth();
    }
    let _ = av1::find_sequence_header(data);
    let _ = av1::parse_sequence_header(data);
    let _ = describe::video_track(Codec::Av1, Bytes::copy_from_slice(data));
}

/// OpusHead packets and MP3 frame headers.
pub fn opus_mp3(data: &[u8]) {
    let _ = opus::OpusHead::parse_with_mapping(data);
    let _ = mp3::parse_header(data);
    let _ = describe::audio_track(Codec::Opus, Bytes::copy_from_slice(data));
    let _ = describe::audio_track(Codec::Mp3, Bytes::copy_from_slice(data));
    for length_size in 1..=4 {
        let _ = srs::codec::nal::length_prefixed_to_annexb(data, length_size);
    }
}

/// The request head the raw HTTP path peeks before hyper, and the stream it names.
pub fn http_head(data: &[u8]) {
    if let Some((request, _len)) = srs::servers::http_raw::parse_head(data) {
        let _ = request.uri().path();
        let _ = request.uri().query();
    }
}

/// An srs.conf (with one include level served from memory) read and mapped to the classic form.
pub fn srs_conf(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let text = text.to_string();
    let reader = move |path: &Path| -> std::io::Result<String> {
        if path.ends_with("srs.conf") {
            Ok(text.clone())
        } else {
            Ok("listen 1935;".to_string())
        }
    };
    let sources =
        srs::conf::Sources { file: Some("/fuzz/srs.conf".into()), env_only: false, vars: Vec::new() };
    let _ = srs::conf::load(&sources, &reader);
}

/// SRT stream ids (plain paths and the `#!::` access-control syntax).
pub fn srt_streamid(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = srt_streamid::SrtStreamId::parse(&text, "live") {
        let _ = format!("{id:?}");
    }
}

/// An HLS playlist as a puller reads it; every URI is resolved against a base as the puller does.
pub fn hls_playlist(data: &[u8]) {
    match hls::Playlist::parse(data) {
        Ok(hls::Playlist::Master(variants)) => {
            for max_bandwidth in [0, 1_000_000] {
                if let Some(chosen) = hls::choose_variant(&variants, max_bandwidth) {
                    let _ = hls::resolve_uri("http://h:1/live/index.m3u8?t=1", &chosen.uri);
                }
            }
        }
        Ok(hls::Playlist::Media(media)) => {
            for segment in &media.segments {
                let _ = hls::resolve_uri("http://h:1/live/index.m3u8", &segment.uri);
                let _ = media.segment(segment.sequence);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// Redis replies as the origin cluster's directory client reads them: one buffer cut into pieces
/// that arrive one by one, replies taken off the front as they complete.
pub fn resp(data: &[u8]) {
    let mut input = Input::new(data);
    let mut buffer = Vec::new();
    while !input.is_empty() {
        buffer.extend_from_slice(input.sized(false));
        loop {
            match srs::codec::resp::parse(&buffer) {
                Ok(Some((_reply, used))) => {
                    assert!(
                        used > 0 && used <= buffer.len(),
                        "a reply took {used} of {} bytes",
                        buffer.len()
                    );
                    buffer.drain(..used);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}
