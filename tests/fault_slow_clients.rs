//! Clients that push or pull at the wrong speed: players with a zero TCP window (they never read)
//! keep the server's memory bounded, are dropped after the write timeout (30 s) with a log line, and
//! other players keep receiving; a publisher sending many times faster than real time leaves the
//! server's memory bounded too.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::live::LiveServer;
use common::rtmp_client::RtmpClient;
use common::*;
use srs::codec::rtmp::ClientIntent;

/// An HTTP-FLV player that asks for the stream and never reads: a small receive buffer, so its
/// window closes at once.
fn stalled_flv_player(port: u16, path: &str) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("small receive buffer");
    socket.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into()).expect("connect");
    let mut stream: TcpStream = socket.into();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
    stream
}

#[test]
fn players_that_never_read_cost_bounded_memory_and_are_dropped_alone() {
    let s = LiveServer::start("fault_zero_window");
    let pid = s.server.child.id();
    // Lossless video (several Mbit/s), so the kernel's socket buffers fill within seconds.
    let _publisher = spawn_ffmpeg(&[
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-t",
        "170",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "0",
        "-g",
        "25",
        "-f",
        "flv",
        &s.rtmp_url("stall"),
    ]);
    std::thread::sleep(Duration::from_secs(3));
    let base = rss_kib(pid);

    let started = Instant::now();
    let _stalled_flv: Vec<TcpStream> =
        (0..5).map(|_| stalled_flv_player(s.http, "/live/stall.flv")).collect();
    let _stalled_rtmp: Vec<RtmpClient> = (0..5)
        .map(|_| RtmpClient::start(&s.rtmp_url("stall"), ClientIntent::Play).expect("rtmp play accepted"))
        .collect();

    let mut peak = base;
    let mut played = false;
    let dropped = || s.server.log().lines().filter(|l| l.contains("stopped reading for 30s")).count();
    // A player is dropped once one write to it stayed blocked for 30 s; when its writes start to
    // block depends on how much the kernel buffers first (send buffers grow by autotuning), which
    // took a stalled HTTP-FLV player past 80 s once: the wait ends when all are dropped.
    while started.elapsed() < Duration::from_secs(150) && dropped() < 10 {
        peak = peak.max(rss_kib(pid));
        if !played && started.elapsed() > Duration::from_secs(15) {
            // Halfway through the stall, a well-behaved player still gets the whole stream.
            let out = s.dir().join("healthy.flv");
            record(&s.flv_url("stall"), 3, &out);
            let video = probe(out.to_str().unwrap()).into_iter().find(|v| v.codec == "h264").expect("h264");
            assert!(video.frames >= 50, "3 s at 25 fps beside 10 stalled players, got {}", video.frames);
            played = true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("rss {base} KiB before the stalled players, peak {peak} KiB");
    assert!(played);
    assert!(peak < base + 48 * 1024, "10 stalled players grew the server from {base} to {peak} KiB");
    let dropped = dropped();
    assert!(
        dropped >= 10,
        "the 10 stalled players are dropped after 30 s, each logged ({dropped}):\n{}",
        s.server.log()
    );
    assert!(started.elapsed() >= Duration::from_secs(30), "dropped before the 30 s write timeout");

    // The stream itself goes on.
    let out = s.dir().join("after.flv");
    record(&s.flv_url("stall"), 2, &out);
    assert!(probe(out.to_str().unwrap()).iter().any(|v| v.codec == "h264" && v.frames >= 25), "still live");
}

#[test]
fn a_publisher_far_faster_than_real_time_leaves_memory_bounded() {
    let s = LiveServer::start("fault_fast_publisher");
    let pid = s.server.child.id();
    let clip = s.dir().join("clip.flv");
    make_h264_aac(&clip, "flv", 20);
    let base = rss_kib(pid);
    // A player is on the stream while it arrives; it reads at its own pace.
    let _player = spawn_ffmpeg(&[
        "-rw_timeout",
        "20000000",
        "-i",
        &s.flv_url("fast"),
        "-c",
        "copy",
        "-f",
        "flv",
        s.dir().join("player.flv").to_str().unwrap(),
    ]);
    // 15 loops of a 20 s clip, sent as fast as ffmpeg can (no -re): 300 s of media.
    let started = Instant::now();
    let mut publisher = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-stream_loop", "14", "-i"])
        .arg(&clip)
        .args(["-c", "copy", "-f", "flv", &s.rtmp_url("fast")])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ffmpeg");
    let mut peak = base;
    let status = loop {
        peak = peak.max(rss_kib(pid));
        if let Some(status) = publisher.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "publishing 300 s of media took over 2 minutes"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let took = started.elapsed();
    eprintln!(
        "300 s of media published in {took:?} ({:.0}x real time); rss {base} KiB before, peak {peak} KiB",
        300.0 / took.as_secs_f64()
    );
    assert!(status.success(), "the server took the whole fast publish");
    // The server read it all (the publish ends at the end of the input), memory still watched.
    let ended = wait_until(60, || {
        peak = peak.max(rss_kib(pid));
        s.server.log().contains("publish ended stream=__defaultVhost__/live/fast")
    });
    assert!(ended, "the server read the fast publish to its end:\n{}", s.server.log());
    assert!(peak < base + 64 * 1024, "a fast publisher grew the server from {base} to {peak} KiB");
    assert!(s.server.log().contains("rtmp publish"), "{}", s.server.log());
    let player = s.dir().join("player.flv");
    assert!(
        wait_until(10, || std::fs::metadata(&player).is_ok_and(|m| m.len() > 100_000)),
        "the player received the stream"
    );
}
