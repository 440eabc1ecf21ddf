//! FLV over HTTP POST caster: ffmpeg POSTs a live FLV body; an HTTP-FLV player gets the right
//! codecs, resolution and duration. A second POST of the live stream gets 409; a garbage body and
//! a truncated body end their own publishes with a clear log line (peer and cause) and a 400,
//! while the first stream keeps flowing.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use common::{free_port, make_h264_aac, probe, record, run_graph, spawn_ffmpeg, temp_dir, wait_for_log};

fn graph(port: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "post" (srs.Node.FlvPostIn srs.FlvPostIn::{{ listen = "127.0.0.1:{port}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{port}", mount = "[vhost]/[app]/[stream].flv" }})
    ]
, edges = [ srs.edge "post" "__defaultVhost__", srs.edge "__defaultVhost__" "flv" ]
}}"#
    )
}

/// POSTs `body` to `path` with `content_length` announced and returns the answer. A body shorter
/// than announced is ended by half-closing (hyper then drops the connection, answer or not).
fn raw_post(port: u16, path: &str, content_length: usize, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: video/x-flv\r\nConnection: close\r\nContent-Length: {content_length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    if body.len() < content_length {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn posted_flv_plays_busy_is_409_and_bad_bodies_end_only_their_publish() {
    let dir = temp_dir("casters-flv-post");
    let clip = dir.join("in.flv");
    make_h264_aac(&clip, "flv", 12);
    let port = free_port();
    let server = run_graph(&dir, &graph(port), &[port]);
    let url = format!("http://127.0.0.1:{port}/live/test.flv");
    let input = clip.to_str().unwrap();
    let _publisher = spawn_ffmpeg(&["-re", "-i", input, "-c", "copy", "-f", "flv", "-method", "POST", &url]);
    wait_for_log(&server, "flv post publishing");

    let out = dir.join("out.flv");
    let player = {
        let (url, out) = (url.clone(), out.clone());
        std::thread::spawn(move || record(&url, 4, &out))
    };
    std::thread::sleep(Duration::from_millis(500));
    let clip_bytes = std::fs::read(&clip).expect("clip");

    // The live stream again: busy. (No body: the server answers without reading one, and unread
    // bytes would make the kernel reset the connection before the answer is read.)
    let busy = raw_post(port, "/live/test.flv", 0, &[]);
    assert!(busy.starts_with("HTTP/1.1 409"), "second publish refused: {busy}");
    assert!(busy.contains("1028"), "SRS's stream-busy code: {busy}");

    // Garbage after a good start: an unknown tag type.
    let mut garbage = clip_bytes[..20_000].to_vec();
    garbage.extend(std::iter::repeat_n(0xEEu8, 4_000));
    let answer = raw_post(port, "/live/garbage.flv", garbage.len(), &garbage);
    assert!(answer.starts_with("HTTP/1.1 400"), "garbage is refused: {answer}");
    assert!(answer.contains("bad flv"), "the cause is named: {answer}");

    // A body shorter than its announced length.
    let answer = raw_post(port, "/live/truncated.flv", 200_000, &clip_bytes[..20_000]);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 400"), "truncated body: {answer}");

    player.join().expect("player");
    let log = server.log();
    for (stream, cause) in [("live/garbage", "bad flv"), ("live/truncated", "body cut short")] {
        let line = log
            .lines()
            .find(|l| l.contains("flv post ended the publish") && l.contains(stream))
            .unwrap_or_else(|| panic!("no log line for {stream}:\n{log}"));
        assert!(line.contains("peer") && line.contains("127.0.0.1") && line.contains(cause), "{line}");
    }

    let streams = probe(out.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames >= 90, "the good stream kept flowing: {} frames in 4 s", video.frames);
    assert!(video.duration >= 3.5, "duration {}", video.duration);
    assert!(streams.iter().any(|s| s.codec == "aac"), "audio: {streams:?}");
}
