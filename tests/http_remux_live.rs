//! HTTP-FLV, HTTP-TS and HTTP-AAC of a live stream, played by real ffmpeg: right codecs,
//! resolution and duration; several players share one serialization.

mod common;

use common::{ffmpeg, free_port, make_h264_aac, probe, record, run_graph, temp_dir};

fn live_graph(input: &str, port: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "file" (srs.Node.FileIn srs.FileIn::{{ path = "{input}", stream = "live/livestream", realtime = True, repeat = True }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{port}", mount = "[vhost]/[app]/[stream].flv" }})
    , srs.node "ts" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{port}", mount = "[vhost]/[app]/[stream].ts" }})
    , srs.node "aac" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{port}", mount = "[vhost]/[app]/[stream].aac" }})
    ]
, edges =
    [ srs.edge "file" "__defaultVhost__"
    , srs.edge "__defaultVhost__" "flv"
    , srs.edge "__defaultVhost__" "ts"
    , srs.edge "__defaultVhost__" "aac"
    ]
}}"#
    )
}

#[test]
fn flv_ts_and_aac_players_get_the_live_stream() {
    let dir = temp_dir("http-remux-live");
    let input = dir.join("in.flv");
    make_h264_aac(&input, "flv", 4);
    let port = free_port();
    let server = run_graph(&dir, &live_graph(input.to_str().unwrap(), port), &[port]);
    let base = format!("http://127.0.0.1:{port}/live/livestream");
    let players: Vec<_> = [("flv", "flv"), ("ts", "ts"), ("aac", "aac")]
        .into_iter()
        .map(|(ext, out_ext)| {
            let url = format!("{base}.{ext}");
            let out = dir.join(format!("out-{ext}.{out_ext}"));
            std::thread::spawn(move || {
                record(&url, 3, &out);
                out
            })
        })
        .collect();
    let outputs: Vec<_> = players.into_iter().map(|p| p.join().expect("player thread")).collect();
    for out in &outputs[..2] {
        let streams = probe(out.to_str().unwrap());
        let video =
            streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{out:?}: {streams:?}"));
        assert_eq!((video.width, video.height), (320, 240), "{out:?}");
        assert!(video.frames >= 60, "{out:?}: about 3 s of 25 fps video, got {} frames", video.frames);
        assert!(streams.iter().any(|s| s.codec == "aac"), "{out:?} has audio: {streams:?}");
    }
    let audio = probe(outputs[2].to_str().unwrap());
    assert_eq!(audio.len(), 1, "audio only: {audio:?}");
    assert_eq!(audio[0].codec, "aac");
    assert!(audio[0].duration >= 2.5, "about 3 s of audio: {}", audio[0].duration);
    assert!(server.log().contains("http play"), "{}", server.log());
}

/// A live FLV stream is answered past hyper (the hub writes to the socket itself): SRS's content
/// type, no chunked framing (the body ends with the connection), the FLV signature, then tags whose
/// timestamps never go back, several players at once; one of them writes its request line and
/// its headers apart, 50 ms between them, and is answered the same way.
#[test]
fn raw_flv_responses_carry_a_clean_tag_stream_to_every_player() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    use srs::codec::flv::{FlvReader, TagType};

    let dir = temp_dir("http-remux-raw");
    let input = dir.join("in.flv");
    make_h264_aac(&input, "flv", 4);
    let port = free_port();
    let server = run_graph(&dir, &live_graph(input.to_str().unwrap(), port), &[port]);
    let players: Vec<_> = (0..3)
        .map(|i| {
            std::thread::spawn(move || {
                let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
                socket.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                socket.set_nodelay(true).unwrap();
                let request: &[u8] = b"GET /live/livestream.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
                if i == 2 {
                    let (line, headers) = request.split_at(34);
                    socket.write_all(line).expect("request line");
                    std::thread::sleep(Duration::from_millis(50));
                    socket.write_all(headers).expect("headers");
                } else {
                    socket.write_all(request).expect("request");
                }
                let mut received = Vec::new();
                let mut buffer = [0u8; 16 * 1024];
                let until = Instant::now() + Duration::from_secs(3);
                while Instant::now() < until {
                    let n = socket.read(&mut buffer).expect("the stream keeps coming");
                    assert!(n > 0, "the server closed the stream");
                    received.extend_from_slice(&buffer[..n]);
                }
                received
            })
        })
        .collect();
    for player in players {
        let received = player.join().expect("player thread");
        let head_end = received.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
        let head = String::from_utf8_lossy(&received[..head_end]).to_lowercase();
        assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
        assert!(head.contains("content-type: video/x-flv\r\n"), "{head}");
        assert!(!head.contains("transfer-encoding"), "no chunked framing: {head}");
        let body = &received[head_end..];
        assert_eq!(&body[..3], b"FLV", "the body starts with the FLV signature");
        let mut reader = FlvReader::default();
        reader.push(body);
        let (mut video, mut last_video_ms) = (0, 0);
        while let Some(tag) = reader.next_tag() {
            let tag = tag.expect("every tag parses: no bytes lost or doubled between writers");
            if tag.tag_type == TagType::Video {
                assert!(
                    tag.timestamp_ms >= last_video_ms,
                    "video time goes on: {} after {last_video_ms}",
                    tag.timestamp_ms
                );
                last_video_ms = tag.timestamp_ms;
                video += 1;
            }
        }
        assert!(video >= 60, "about 3 s of 25 fps video (gop cache first), got {video} tags");
    }
    assert!(server.log().contains("http play"), "{}", server.log());
}

/// The first bytes of a raw HTTP-FLV answer: the response head, then at least the FLV header.
fn flv_header_of(port: u16) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    socket.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    socket.write_all(b"GET /live/livestream.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            if received.len() >= end + 4 + 9 {
                return received[end + 4..end + 4 + 9].to_vec();
            }
        }
        let n = socket.read(&mut buffer).expect("the answer comes");
        assert!(n > 0, "closed before the FLV header: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buffer[..n]);
    }
}

/// As SRS's `guess_has_av`: a stream without audio is announced as video only in the FLV header,
/// so FFmpeg does not read 5 MB looking for audio before it starts; with both, both.
#[test]
fn the_flv_header_announces_only_the_tracks_the_stream_has() {
    let dir = temp_dir("http-remux-flags");
    let video_only = dir.join("video-only.flv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        "-f",
        "flv",
        video_only.to_str().unwrap(),
    ]);
    let both = dir.join("both.flv");
    make_h264_aac(&both, "flv", 4);
    for (input, flags) in [(&video_only, 0x01), (&both, 0x05)] {
        let port = free_port();
        let _server = run_graph(&dir, &live_graph(input.to_str().unwrap(), port), &[port]);
        // Once the stream runs (a player that comes first is told both, as nothing is known).
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let header = flv_header_of(port);
        assert_eq!(&header[..3], b"FLV");
        assert_eq!(header[4], flags, "{input:?}: FLV header flags (4 audio, 1 video)");
        let out = dir.join(format!("played-{flags}.flv"));
        record(&format!("http://127.0.0.1:{port}/live/livestream.flv"), 2, &out);
        let streams = probe(out.to_str().unwrap());
        let codecs: Vec<_> = streams.iter().map(|s| s.codec.as_str()).collect();
        let expected: &[&str] = if flags == 0x01 { &["h264"] } else { &["h264", "aac"] };
        assert_eq!(codecs, expected, "{input:?}");
        assert!(streams[0].frames >= 40, "about 2 s of 25 fps video, got {}", streams[0].frames);
    }
}
