//! RTMP clients other than ffmpeg against our server, each really run: rtmpdump (librtmp, the
//! library lineage of OBS and many encoders) plays into an FLV file; GStreamer publishes with
//! rtmp2sink and with librtmp's rtmpsink, and plays with rtmp2src. ffprobe decodes what each
//! produced and the tests check codecs, resolution and decoded frame counts.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::live::{run_bounded, spawn_logged, stop_after, Bounded, LiveServer};
use common::{probe, probe_with, publish_test_stream, record, wait_for_log, Background, StreamInfo};

/// The resolution GStreamer publishes, unlike the 320x240 of the ffmpeg publisher.
const GST_SIZE: (u64, u64) = (352, 288);

fn video(streams: &[StreamInfo], what: &str) -> StreamInfo {
    streams
        .iter()
        .find(|s| s.codec == "h264")
        .cloned()
        .unwrap_or_else(|| panic!("{what}: no h264 in {streams:?}"))
}

/// The streams of a recorded file are exactly H.264 and AAC (no empty data stream), at `size`,
/// with at least `min_frames` decoded video frames.
/// Checks the file and returns its number of video frames.
fn assert_h264_aac(path: &Path, size: (u64, u64), min_frames: u64) -> u64 {
    let what = path.display().to_string();
    let streams = probe(&what);
    let v = video(&streams, &what);
    assert_eq!((v.width, v.height), size, "{what}");
    assert!(v.frames >= min_frames, "{what}: {} video frames, want {min_frames}+", v.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "{what}: no aac in {streams:?}");
    assert_eq!(streams.len(), 2, "{what}: only video and audio: {streams:?}");
    v.frames
}

fn expect_clean_exit(run: &Bounded, what: &str) {
    assert!(
        run.status.is_some_and(|s| s.success()),
        "{what} failed or overran ({:?}):\n{}",
        run.status,
        run.log
    );
}

/// rtmpdump plays stream `name` of a fresh server for 4 s (extra arguments before `-o`); a live
/// download without `-B` never ends on its own, so it is stopped with SIGTERM, on which rtmpdump
/// closes the stream and its file.
fn rtmpdump_records(name: &str, extra: &[&str]) -> (std::path::PathBuf, String, LiveServer) {
    let s = LiveServer::start(&format!("interop-rtmpdump-{name}"));
    let url = s.rtmp_url(name);
    let publisher = Background(publish_test_stream(&url, 15));
    wait_for_log(&s.server, "rtmp publish");
    let out = s.dir().join("rtmpdump.flv");
    let log = s.dir().join("rtmpdump.log");
    let mut rtmpdump = Command::new("rtmpdump");
    rtmpdump.args(["-r", &url]).args(extra).args(["--timeout", "10", "-o"]).arg(&out);
    let run = stop_after(
        spawn_logged(&mut rtmpdump, &log),
        Duration::from_secs(4),
        "TERM",
        Duration::from_secs(5),
        &log,
    );
    drop(publisher);
    assert!(run.status.is_some(), "rtmpdump ended on SIGTERM:\n{}", run.log);
    (out, run.log, s)
}

#[test]
fn rtmpdump_plays_a_live_stream_into_flv() {
    // --live: play with start -1000 (live only), no seeking.
    let (out, log, _server) = rtmpdump_records("dump", &["--live"]);
    assert!(log.contains("width                 320.00"), "rtmpdump read the metadata:\n{log}");
    // 4 s at 25 fps, starting at the cached keyframe.
    assert_h264_aac(&out, (320, 240), 75);
}

#[test]
fn rtmpdump_plays_without_live_flag() {
    // Without --live rtmpdump plays with start 0 (a recorded stream from its start, for FMS) and
    // sends no FCSubscribe; the server serves the live stream all the same, as SRS does.
    let (out, _log, _server) = rtmpdump_records("vod", &[]);
    assert_h264_aac(&out, (320, 240), 75);
}

#[test]
fn rtmpdump_stop_ends_a_live_play_after_that_much_media() {
    // `-B 2` asks for 2 s (librtmp sends 2000 ms as the play duration); like SRS the server ends
    // the play, and the connection, once that much media went out, so rtmpdump exits by itself.
    let s = LiveServer::start("interop-rtmpdump-stop");
    let url = s.rtmp_url("stop");
    let _publisher = Background(publish_test_stream(&url, 20));
    wait_for_log(&s.server, "rtmp publish");
    let out = s.dir().join("rtmpdump.flv");
    let log = s.dir().join("rtmpdump.log");
    let mut rtmpdump = Command::new("rtmpdump");
    rtmpdump.args(["-r", &url, "--live", "-B", "2", "--timeout", "10", "-o"]).arg(&out);
    let run = stop_after(
        spawn_logged(&mut rtmpdump, &log),
        Duration::from_secs(12),
        "TERM",
        Duration::from_secs(5),
        &log,
    );
    assert!(run.status.is_some(), "rtmpdump exited by itself:\n{}", run.log);
    wait_for_log(&s.server, "duration of 2000 ms was reached");
    // 2 s at 25 fps (the metadata's duration is the publisher's, so frames are counted).
    let frames = assert_h264_aac(&out, (320, 240), 40);
    assert!(frames <= 60, "about 2 s of media, got {frames} frames");
}

/// The first AAC encoder element GStreamer has here.
fn gst_aac_encoder() -> &'static str {
    ["avenc_aac", "voaacenc", "fdkaacenc"]
        .into_iter()
        .find(|element| gst_has(element))
        .expect("a GStreamer AAC encoder (scripts/install-test-deps installs gstreamer1.0-libav)")
}

fn gst_has(element: &str) -> bool {
    Command::new("gst-inspect-1.0").arg(element).output().is_ok_and(|o| o.status.success())
}

/// gst-launch publishing `seconds` of 352x288 H.264 (x264) + AAC, 25 fps, muxed by flvmux into
/// `sink` (the sink element and its properties, as gst-launch arguments).
fn gst_publish(seconds: u32, sink: &[&str], log: &Path) -> std::process::Child {
    let video_buffers = format!("num-buffers={}", seconds * 25);
    // audiotestsrc makes 1024 samples a buffer.
    let audio_buffers = format!("num-buffers={}", seconds * 44_100 / 1024);
    let caps = format!("video/x-raw,width={},height={},framerate=25/1", GST_SIZE.0, GST_SIZE.1);
    let mut command = Command::new("gst-launch-1.0");
    command
        .args(["-e", "videotestsrc", "is-live=true", &video_buffers, "!", &caps])
        .args(["!", "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=25"])
        .args(["!", "h264parse", "!", "queue", "!", "mux."])
        .args(["audiotestsrc", "is-live=true", &audio_buffers, "!", "audio/x-raw,rate=44100,channels=2"])
        .args(["!", gst_aac_encoder(), "!", "aacparse", "!", "queue", "!", "mux."])
        .args(["flvmux", "name=mux", "streamable=true", "!"])
        .args(sink);
    spawn_logged(&mut command, log)
}

/// GStreamer publishes through `sink`; ffmpeg plays it back over RTMP and HTTP-FLV at once.
fn gst_publish_then_play(name: &str, sink: impl Fn(&str) -> Vec<String>) {
    let s = LiveServer::start(name);
    let url = s.rtmp_url(name);
    let log = s.dir().join("gst-publish.log");
    let sink = sink(&url);
    let publisher = gst_publish(8, &sink.iter().map(String::as_str).collect::<Vec<_>>(), &log);
    wait_for_log(&s.server, "rtmp publish");
    let (rtmp_out, flv_out) = (s.dir().join("rtmp.flv"), s.dir().join("http.flv"));
    let (flv_url, o) = (s.flv_url(name), flv_out.clone());
    let http_player = std::thread::spawn(move || record(&flv_url, 3, &o));
    record(&url, 3, &rtmp_out);
    http_player.join().expect("HTTP-FLV player");
    let run = common::live::wait_bounded(publisher, Duration::from_secs(15), &log);
    expect_clean_exit(&run, "gst-launch publisher");
    for out in [&rtmp_out, &flv_out] {
        assert_h264_aac(out, GST_SIZE, 60);
    }
    // The publisher ended its stream itself (EOS), and the server saw the publish end.
    wait_for_log(&s.server, "publish ended");
}

#[test]
fn gstreamer_rtmp2sink_publishes_and_ffmpeg_plays_it_over_rtmp_and_http_flv() {
    assert!(gst_has("rtmp2sink"), "GStreamer rtmp2sink (gstreamer1.0-plugins-bad)");
    gst_publish_then_play("gst2", |url| vec!["rtmp2sink".into(), format!("location={url}")]);
}

#[test]
fn gstreamer_rtmp2sink_with_the_largest_chunk_size_publishes() {
    // 0x7FFFFFFF is the largest chunk size the specification allows and rtmp2sink offers; SRS
    // takes it. The server once refused anything above 16 MiB and dropped this publisher.
    gst_publish_then_play("gstbig", |url| {
        vec!["rtmp2sink".into(), "chunk-size=2147483647".into(), format!("location={url}")]
    });
}

#[test]
fn gstreamer_librtmp_rtmpsink_publishes_and_ffmpeg_plays_it_over_rtmp_and_http_flv() {
    assert!(gst_has("rtmpsink"), "GStreamer rtmpsink (gstreamer1.0-plugins-bad, librtmp)");
    // librtmp takes its options after the URL, in the same string: live=1 publishes live.
    gst_publish_then_play("gstlib", |url| vec!["rtmpsink".into(), format!("location={url} live=1")]);
}

#[test]
fn gstreamer_rtmp2src_plays_into_an_flv_file() {
    assert!(gst_has("rtmp2src"), "GStreamer rtmp2src (gstreamer1.0-plugins-bad)");
    let s = LiveServer::start("interop-rtmp2src");
    let url = s.rtmp_url("src");
    let _publisher = Background(publish_test_stream(&url, 15));
    wait_for_log(&s.server, "rtmp publish");
    let out = s.dir().join("rtmp2src.flv");
    let log = s.dir().join("gst-play.log");
    // rtmp2src hands out the stream as FLV, one buffer per tag: 300 tags are about 3.5 s of
    // 25 fps video and 43 AAC frames a second. num-buffers ends it with EOS.
    let mut gst = Command::new("gst-launch-1.0");
    gst.args(["-e", "rtmp2src", &format!("location={url}"), "num-buffers=300", "!", "filesink"])
        .arg(format!("location={}", out.display()));
    let run = run_bounded(&mut gst, Duration::from_secs(20), &log);
    expect_clean_exit(&run, "gst-launch rtmp2src");
    // Exactly two streams: every data message rtmp2src gets becomes a script tag in the file, and
    // ffmpeg reads script tags other than onMetaData as a data stream of unknown codec.
    assert_h264_aac(&out, (320, 240), 75);
}

#[test]
fn ffprobe_over_rtmp_sees_only_audio_and_video() {
    // The play answer carries no NetStream.Data.Start, which ffmpeg turns into an empty data
    // stream ("Data: none", "unsupported codec with id 0").
    let s = LiveServer::start("interop-ffprobe");
    let url = s.rtmp_url("probe");
    let _publisher = Background(publish_test_stream(&url, 15));
    wait_for_log(&s.server, "rtmp publish");
    let streams = probe_with(&["-rw_timeout", "10000000", "-read_intervals", "%+2"], &url);
    let mut codecs: Vec<&str> = streams.iter().map(|s| s.codec.as_str()).collect();
    codecs.sort_unstable();
    assert_eq!(codecs, ["aac", "h264"], "{streams:?}");
    assert_eq!((video(&streams, &url).width, video(&streams, &url).height), (320, 240));
}
