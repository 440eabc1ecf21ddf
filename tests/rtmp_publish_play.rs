//! RTMP publish and play through the server, with real clients: ffmpeg publishes H.264 + AAC,
//! ffmpeg plays it over RTMP and HTTP-FLV; our own client publishes H.265 over Enhanced RTMP and
//! plays it back; a second publisher is refused while the first goes on; a player may come first;
//! players stay across a republish; bad input closes only the guilty connection.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::live::LiveServer;
use common::rtmp_client::RtmpClient;
use common::{probe, publish_test_stream as publish, record};
use srs::codec::flv::{read_all, TagType};
use srs::codec::rtmp::{ClientEvent, ClientIntent, MediaMessage, MediaMessageKind, Message};

fn video_frames(path: &std::path::Path) -> u64 {
    probe(path.to_str().unwrap()).iter().find(|s| s.codec == "h264").map_or(0, |s| s.frames)
}

#[test]
fn ffmpeg_publishes_and_plays_over_rtmp_and_http_flv() {
    let s = LiveServer::start("rtmp-basic");
    let url = format!("rtmp://127.0.0.1:{}/live/basic", s.rtmp);
    let mut publisher = publish(&url, 8);
    std::thread::sleep(Duration::from_secs(2));
    let dir = s.server.dir.clone();
    let rtmp_out = dir.join("rtmp.flv");
    let flv_out = dir.join("http.flv");
    let (u1, o1) = (url.clone(), rtmp_out.clone());
    let rtmp_player = std::thread::spawn(move || record(&u1, 3, &o1));
    let http_url = format!("http://127.0.0.1:{}/live/basic.flv", s.http);
    let (u2, o2) = (http_url, flv_out.clone());
    let http_player = std::thread::spawn(move || record(&u2, 3, &o2));
    rtmp_player.join().unwrap();
    http_player.join().unwrap();
    for out in [&rtmp_out, &flv_out] {
        let streams = probe(out.to_str().unwrap());
        let video =
            streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{out:?}: {streams:?}"));
        assert_eq!((video.width, video.height), (320, 240));
        assert!(video.frames >= 60, "{out:?}: 3 s at 25 fps, got {}", video.frames);
        assert!(streams.iter().any(|s| s.codec == "aac"));
    }
    assert!(publisher.wait().unwrap().success());
    assert!(s.server.log().contains("rtmp publish"), "{}", s.server.log());
}

#[test]
fn second_publisher_is_refused_while_the_first_goes_on() {
    let s = LiveServer::start("rtmp-busy");
    let url = format!("rtmp://127.0.0.1:{}/live/busy", s.rtmp);
    let mut first = publish(&url, 10);
    std::thread::sleep(Duration::from_secs(2));
    let second = publish(&url, 3).wait_with_output().unwrap();
    assert!(!second.status.success(), "the second publisher must be refused");
    let out = s.server.dir.join("busy.flv");
    record(&url, 2, &out);
    assert!(video_frames(&out) >= 40, "the first publisher still flows");
    assert!(s.server.log().contains("stream busy"), "{}", s.server.log());
    let _ = first.kill();
    let _ = first.wait();
}

#[test]
fn player_arriving_before_the_publisher_waits_for_it() {
    let s = LiveServer::start("rtmp-early");
    let url = format!("rtmp://127.0.0.1:{}/live/early", s.rtmp);
    let out = s.server.dir.join("early.flv");
    let (u, o) = (url.clone(), out.clone());
    let player = std::thread::spawn(move || record(&u, 3, &o));
    std::thread::sleep(Duration::from_secs(1));
    let mut publisher = publish(&url, 6);
    player.join().unwrap();
    assert!(video_frames(&out) >= 50, "the early player got the stream");
    let _ = publisher.kill();
    let _ = publisher.wait();
}

fn is_video_header(m: &MediaMessage) -> bool {
    m.kind == MediaMessageKind::Video && m.payload.len() > 1 && (m.payload[0] == 0x17 && m.payload[1] == 0)
}

#[test]
fn player_stays_across_a_republish() {
    let s = LiveServer::start("rtmp-republish");
    let url = format!("rtmp://127.0.0.1:{}/live/again", s.rtmp);
    let mut player = RtmpClient::start(&url, ClientIntent::Play).expect("play");
    let mut publisher = publish(&url, 3);
    let first = player.receive_media(200, Duration::from_secs(6));
    let _ = publisher.wait();
    let mut publisher = publish(&url, 3);
    let second = player.receive_media(200, Duration::from_secs(6));
    let _ = publisher.wait();
    assert!(first.iter().any(is_video_header), "sequence header of the first session");
    assert!(second.iter().any(is_video_header), "the same player gets the second session's sequence header");
    let frames = |media: &[MediaMessage]| media.iter().filter(|m| m.kind == MediaMessageKind::Video).count();
    assert!(frames(&first) > 25 && frames(&second) > 25, "{} / {}", frames(&first), frames(&second));
}

#[test]
fn hevc_over_enhanced_rtmp_round_trips_with_our_client() {
    let s = LiveServer::start("rtmp-hevc");
    let url = format!("rtmp://127.0.0.1:{}/live/hevc", s.rtmp);
    let fixture =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/flv/hevc_enhanced.flv")).unwrap();
    let (tags, error) = read_all(&fixture);
    assert!(error.is_none());
    let coded: Vec<_> = tags.iter().filter(|t| t.tag_type == TagType::Video).collect();
    let mut player = RtmpClient::start(&url, ClientIntent::Play).expect("play");
    let mut publisher = RtmpClient::start(&url, ClientIntent::Publish).expect("publish");
    for tag in &tags {
        let kind = match tag.tag_type {
            TagType::Audio => MediaMessageKind::Audio,
            TagType::Video => MediaMessageKind::Video,
            TagType::Script => MediaMessageKind::Data,
        };
        publisher.send(&MediaMessage { kind, timestamp: tag.timestamp_ms, payload: tag.body.clone() });
    }
    let received = player.receive_media(coded.len(), Duration::from_secs(10));
    let video: Vec<&MediaMessage> = received.iter().filter(|m| m.kind == MediaMessageKind::Video).collect();
    assert!(!video.is_empty(), "the player got video");
    let header = video[0];
    assert!(header.payload[0] & 0x80 != 0, "enhanced RTMP header bit");
    assert_eq!(&header.payload[1..5], b"hvc1", "FourCC hvc1");
    // Every coded frame of the fixture arrived, in order (the end-of-sequence tag is not forwarded).
    let sent_frames = coded.iter().filter(|t| t.body[0] & 0x0f != 0 && t.body[0] & 0x0f != 2).count();
    let got_frames = video.iter().filter(|m| m.payload[0] & 0x0f != 0).count();
    assert!(got_frames + 1 >= sent_frames, "got {got_frames} of {sent_frames} coded frames");
}

/// Reads an HTTP-FLV stream raw for `duration`.
fn fetch_raw(port: u16, path: &str, duration: Duration) -> Vec<u8> {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(socket, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut data = Vec::new();
    let end = std::time::Instant::now() + duration;
    let mut buffer = [0u8; 65536];
    while std::time::Instant::now() < end {
        if let Ok(n) = socket.read(&mut buffer) {
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buffer[..n]);
        }
    }
    data
}

#[test]
fn bad_input_closes_only_that_connection() {
    let s = LiveServer::start("rtmp-bad");
    let good_url = format!("rtmp://127.0.0.1:{}/live/good", s.rtmp);
    let mut publisher = publish(&good_url, 30);
    std::thread::sleep(Duration::from_secs(1));
    let received = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (r, st, u) = (received.clone(), stop.clone(), good_url.clone());
    let watcher = std::thread::spawn(move || {
        let mut player = RtmpClient::start(&u, ClientIntent::Play).expect("play");
        while !st.load(Ordering::Relaxed) {
            r.fetch_add(player.receive_media(1000, Duration::from_millis(200)).len(), Ordering::Relaxed);
        }
    });
    let addr = ("127.0.0.1", s.rtmp);
    let mut checkpoints = Vec::new();
    let mut checkpoint = |label: &str| {
        let before = received.load(Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(700));
        checkpoints.push((label.to_owned(), received.load(Ordering::Relaxed) - before));
    };

    // Random bytes instead of a handshake.
    let mut junk = TcpStream::connect(addr).unwrap();
    let noise: Vec<u8> = (0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80).collect();
    let _ = junk.write_all(&noise);
    checkpoint("random bytes");
    // A truncated handshake: C0 and half of C1, then the client goes away.
    let mut half = TcpStream::connect(addr).unwrap();
    let _ = half.write_all(&[3u8; 700]);
    drop(half);
    checkpoint("truncated handshake");
    // Chunk size 0 after a proper connect.
    let mut zero =
        RtmpClient::start(&format!("rtmp://127.0.0.1:{}/live/zero", s.rtmp), ClientIntent::Publish).unwrap();
    let set_chunk =
        Message { type_id: 1, timestamp: 0, stream_id: 0, payload: Bytes::from_static(&[0, 0, 0, 0]) };
    zero.session.send_message(&set_chunk, 2);
    zero.pump();
    checkpoint("chunk size 0");
    // A message longer than the cap (16 MiB - 1 announced).
    let mut long =
        RtmpClient::start(&format!("rtmp://127.0.0.1:{}/live/long", s.rtmp), ClientIntent::Publish).unwrap();
    let _ = long.socket.write_all(&[0x06, 0, 0, 0, 0xff, 0xff, 0xff, 0x09, 1, 0, 0, 0]);
    checkpoint("message too long");
    // An unknown command from a publisher is ignored, as SRS does; the connection lives.
    let mut odd =
        RtmpClient::start(&format!("rtmp://127.0.0.1:{}/live/odd", s.rtmp), ClientIntent::Publish).unwrap();
    let command = srs::codec::amf0::encode_all(&[
        srs::codec::amf0::Amf0Value::string("noSuchCommand"),
        srs::codec::amf0::Amf0Value::Number(7.0),
        srs::codec::amf0::Amf0Value::Null,
    ]);
    odd.session.send_message(&Message { type_id: 20, timestamp: 0, stream_id: 0, payload: command }, 3);
    odd.pump();
    checkpoint("unknown command");
    // A player that never reads.
    let mut idle = TcpStream::connect(addr).unwrap();
    let _ = idle.set_nonblocking(true);
    let mut sleepy = RtmpClient::start(&good_url, ClientIntent::Play).unwrap();
    checkpoint("stalled player");
    let _ = idle.write_all(&[3]);
    drop(sleepy.session.poll_event());

    let raw = fetch_raw(s.http, "/live/good.flv", Duration::from_millis(800));
    assert!(raw.len() > 1000, "HTTP-FLV still serves the good stream");
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let _ = publisher.kill();
    let _ = publisher.wait();
    for (label, frames) in &checkpoints {
        assert!(*frames > 0, "the good player kept receiving during `{label}`: {checkpoints:?}");
    }
    let log = s.server.log();
    assert!(log.contains("rtmp connection dropped"), "{log}");
    assert!(log.contains("chunk size"), "chunk size 0 named in the log: {log}");
    assert!(log.matches("peer=127.0.0.1").count() >= 3, "log lines name the peer: {log}");
    assert!(odd.pump(), "the connection that sent an unknown command is still open");
    assert!(
        !odd.events.iter().any(|e| matches!(e, ClientEvent::Rejected { .. })),
        "the unknown command was not refused: {:?}",
        odd.events
    );
}
