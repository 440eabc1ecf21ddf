//! The WebRTC bridges with real clients (the graph of `graphs/rtc.dhall`: `AacToOpus` before
//! `RtcOut`, `OpusToAac` before the RTMP, HTTP-FLV, HLS and DVR sinks).
//!
//! - ffmpeg publishes H.264 + AAC (a 440 Hz tone) over RTMP; headless Chromium plays it with WHEP:
//!   video frames decode and the audio arrives as Opus and decodes (packets and samples received
//!   rising, a non-zero audio level for the tone).
//! - Chromium publishes its fake camera and microphone with WHIP: ffprobe reads the HTTP-FLV stream
//!   as H.264 640x480 + AAC 48 kHz stereo, an HLS segment has AAC audio, and the DVR FLV file has
//!   both tracks, starting within 100 ms of each other. The time from the WHIP answer to the
//!   first keyframe at an HTTP-FLV player that waited for the stream is measured and printed (and
//!   asserted under a generous 3 s).

mod common;

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{
    free_port, free_udp_port, newest_report, probe, probe_with, run_graph, temp_dir, wait_for, Browser,
    StaticServer, FAKE_MEDIA,
};

/// A WHEP player's stats: frames decoded, picture size, audio packets, audio samples, audio level
/// (x 1000).
#[derive(Debug, Clone)]
struct Stats {
    frames: u64,
    size: String,
    packets: u64,
    samples: u64,
    level: u64,
}

fn stats(log: &Path, page: &str) -> Option<Stats> {
    let text = newest_report(log, page, "stats-")?;
    let parts: Vec<&str> = text.split('-').collect();
    let number = |i: usize| parts.get(i).and_then(|p| p.parse::<u64>().ok());
    Some(Stats {
        frames: number(0)?,
        size: (*parts.get(1)?).to_owned(),
        packets: number(2)?,
        samples: number(3)?,
        level: number(4)?,
    })
}

/// The graph of `graphs/rtc.dhall` on test ports, with HLS and DVR under `dir`.
fn graph(dir: &Path, rtmp: u16, api: u16, udp: u16, http: u16) -> String {
    let dir = dir.display();
    format!(
        r#"let rtc = {{ listen = "127.0.0.1:{udp}", api = "127.0.0.1:{api}", candidate = "127.0.0.1", max_connections = 100, workers = 0, tcp = False, protocol = "udp" }}
let vhost = "__defaultVhost__"
in srs.Graph::{{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
      , srs.node "rtc_publish" (srs.Node.RtcIn (rtc // {{ pli_interval = 6000 }}))
      , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{{=}})
      , srs.node "rtmp_to_rtc" (srs.Node.AacToOpus srs.AacToOpus::{{=}})
      , srs.node "rtc_to_rtmp" (srs.Node.OpusToAac srs.OpusToAac::{{=}})
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
      , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}", mount = "[app]/[stream].flv" }})
      , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = "{dir}/hls", hls_fragment = 2.0 }})
      , srs.node "dvr" (srs.Node.Dvr srs.Dvr::{{ dvr_path = "{dir}/dvr/[app]/[stream].flv" }})
      , srs.node "rtc_play" (srs.Node.RtcOut rtc)
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge "rtc_publish" vhost
      , srs.edge vhost "rtmp_to_rtc"
      , srs.edge "rtmp_to_rtc" "rtc_play"
      , srs.edge vhost "rtc_to_rtmp"
      , srs.edge "rtc_to_rtmp" "rtmp_play"
      , srs.edge "rtc_to_rtmp" "flv"
      , srs.edge "rtc_to_rtmp" "hls"
      , srs.edge "rtc_to_rtmp" "dvr"
      ]
    }}"#
    )
}

/// A page directory with `pages` copied and an alias per name in `aliases` (reports go to
/// `/<alias>/report/...`).
fn pages(dir: &Path, pages: &[&str], aliases: &[&str]) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page_dir = dir.join("page");
    std::fs::create_dir_all(page_dir.join("report")).expect("page dir");
    for page in pages {
        std::fs::copy(root.join("tests/player").join(page), page_dir.join(page)).expect("copy page");
    }
    for alias in aliases {
        std::os::unix::fs::symlink(&page_dir, page_dir.join(alias)).expect("page alias");
    }
    page_dir
}

fn profile(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(format!("profile-{name}"));
    std::fs::create_dir_all(&path).expect("profile dir");
    path
}

#[test]
fn rtmp_aac_plays_as_opus_over_whep() {
    let dir = temp_dir("rtc_bridges_rtmp");
    let page_dir = pages(&dir, &["whep.html"], &["whep"]);
    let (rtmp, api, udp, http) = (free_port(), free_port(), free_udp_port(), free_port());
    let srs = run_graph(&dir, &graph(&dir, rtmp, api, udp, http), &[rtmp, api, http]);
    let log = dir.join("page.log");
    let server = StaticServer::start_logging(&page_dir, Some(&log));
    let mut ffmpeg = common::publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/tone"), 60);
    let url = format!(
        "http://127.0.0.1:{}/whep/whep.html?api=http://127.0.0.1:{api}&stream=tone&unmuted=1",
        server.port
    );
    let args = [FAKE_MEDIA[0], FAKE_MEDIA[1], "--autoplay-policy=no-user-gesture-required"];
    let _player = Browser::open_with(&profile(&dir, "whep"), &url, &args);
    assert_eq!(
        wait_for(30, "the whep answer", || newest_report(&log, "whep", "answer-")),
        "201",
        "{}",
        srs.log()
    );
    // Video decodes at the publisher's size, and Opus audio arrives and decodes with a level.
    let first = wait_for(40, "video and audio decoding", || {
        stats(&log, "whep")
            .filter(|s| s.frames > 10 && s.size == "320x240" && s.packets > 20 && s.samples > 0)
    });
    let later = wait_for(20, "more audio", || {
        stats(&log, "whep").filter(|s| s.packets > first.packets + 100 && s.samples > first.samples + 48_000)
    });
    assert!(later.frames > first.frames, "{first:?} -> {later:?}");
    let level = wait_for(20, "an audio level for the tone", || stats(&log, "whep").filter(|s| s.level > 0));
    println!("whep player: {level:?}");
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    drop(server);
}

/// Reads an HTTP-FLV response from `port` until its first video keyframe (not the sequence
/// header); gives when it arrived.
fn first_keyframe(port: u16, path: &str) -> Option<Instant> {
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    socket.set_read_timeout(Some(Duration::from_secs(40))).ok()?;
    std::io::Write::write_all(
        &mut socket,
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes(),
    )
    .ok()?;
    // The response head, then the FLV header (9 bytes) and the first previous-tag-size (4).
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).ok()?;
        head.push(byte[0]);
    }
    let mut skip = [0u8; 13];
    socket.read_exact(&mut skip).ok()?;
    loop {
        let mut tag = [0u8; 11];
        socket.read_exact(&mut tag).ok()?;
        let size = u32::from_be_bytes([0, tag[1], tag[2], tag[3]]) as usize;
        let mut body = vec![0u8; size + 4];
        socket.read_exact(&mut body).ok()?;
        if tag[0] == 9 && size > 2 && body[0] >> 4 == 1 && body[1] == 1 {
            return Some(Instant::now());
        }
    }
}

/// The first and last packet times (s) of the `kind` stream of a file.
fn span(file: &Path, kind: &str) -> (f64, f64) {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            &kind[..1],
            "-show_entries",
            "packet=pts_time",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .expect("ffprobe runs");
    let times: Vec<f64> =
        String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.trim().parse().ok()).collect();
    let first = times.iter().copied().fold(f64::MAX, f64::min);
    let last = times.iter().copied().fold(f64::MIN, f64::max);
    (first, last)
}

#[test]
fn whip_opus_reaches_http_flv_hls_and_dvr_as_aac() {
    let dir = temp_dir("rtc_bridges_whip");
    let page_dir = pages(&dir, &["whip.html"], &["pub"]);
    let (rtmp, api, udp, http) = (free_port(), free_port(), free_udp_port(), free_port());
    let srs = run_graph(&dir, &graph(&dir, rtmp, api, udp, http), &[rtmp, api, http]);
    let log = dir.join("page.log");
    let server = StaticServer::start_logging(&page_dir, Some(&log));
    // An HTTP-FLV player waits for the stream before the browser publishes.
    let player = std::thread::spawn(move || first_keyframe(http, "/live/cam.flv"));
    std::thread::sleep(Duration::from_millis(300));
    let url = format!("http://127.0.0.1:{}/pub/whip.html?api=http://127.0.0.1:{api}&stream=cam", server.port);
    let publisher = Browser::open_with(&profile(&dir, "pub"), &url, &FAKE_MEDIA);
    let answered = wait_for(30, "the whip answer", || newest_report(&log, "pub", "answer-"));
    let answer_at = Instant::now();
    assert_eq!(answered, "201", "{}", srs.log());
    let keyframe_at = player.join().expect("player thread").expect("a keyframe over http-flv");
    let first_picture = keyframe_at.saturating_duration_since(answer_at);
    println!("whip answer to the first keyframe at an http-flv player: {} ms", first_picture.as_millis());
    assert!(first_picture < Duration::from_secs(3), "{first_picture:?}");

    // HTTP-FLV: H.264 at the camera's size and AAC 48 kHz stereo.
    let streams = probe_with(
        &["-analyzeduration", "3000000", "-read_intervals", "%+#100"],
        &format!("http://127.0.0.1:{http}/live/cam.flv"),
    );
    let video = streams.iter().find(|s| s.codec == "h264").expect("h264 over http-flv");
    assert_eq!((video.width, video.height), (640, 480));
    let audio =
        streams.iter().find(|s| s.codec == "aac").unwrap_or_else(|| panic!("aac over http-flv: {streams:?}"));
    assert_eq!((audio.sample_rate, audio.channels), (48_000, 2));
    assert!(audio.frames > 10, "{} aac frames", audio.frames);

    // HLS: a segment with AAC audio and H.264 video.
    let playlist = dir.join("hls/live/cam.m3u8");
    let segment = wait_for(30, "an hls segment", || {
        let text = std::fs::read_to_string(&playlist).ok()?;
        text.lines().find(|l| l.ends_with(".ts")).map(|l| playlist.with_file_name(l))
    });
    let streams = probe(segment.to_str().expect("path"));
    assert!(streams.iter().any(|s| s.codec == "h264"), "{streams:?}");
    let audio =
        streams.iter().find(|s| s.codec == "aac").unwrap_or_else(|| panic!("aac in hls: {streams:?}"));
    assert!(audio.frames > 10, "{} aac frames in a segment", audio.frames);

    // DVR: ending the publish closes the file, which has both tracks.
    std::thread::sleep(Duration::from_secs(4));
    let location =
        common::unescape(&newest_report(&log, "pub", "location-").expect("the page reports the Location"));
    let (status, body) = common::http_exchange(api, "DELETE", &location, &[], b"");
    assert_eq!(status, 200, "{body}");
    let file = dir.join("dvr/live/cam.flv");
    let closed = common::wait_until(20, || {
        !srs.log().is_empty() && file.exists() && !dir.join("dvr/live/cam.flv.tmp").exists()
    });
    assert!(closed, "the dvr file is closed: {}", srs.log());
    let streams = probe(file.to_str().expect("path"));
    let video = streams.iter().find(|s| s.codec == "h264").expect("h264 in the dvr file");
    let audio = streams.iter().find(|s| s.codec == "aac").expect("aac in the dvr file");
    assert!(video.frames > 50 && audio.frames > 100, "{streams:?}");
    let (video_span, audio_span) = (span(&file, "video"), span(&file, "audio"));
    println!("dvr: video {video_span:.3?} s, audio {audio_span:.3?} s");
    // The tracks start together: within 100 ms (three frames; measured 0-45 ms apart). They end
    // within 250 ms: at the DELETE the AAC encoder still holds its delay and a frame, which are
    // not flushed (measured 20-120 ms).
    assert!((video_span.0 - audio_span.0).abs() <= 0.1, "starts {video_span:?} {audio_span:?}");
    assert!((video_span.1 - audio_span.1).abs() <= 0.25, "ends {video_span:?} {audio_span:?}");
    drop(publisher);
    drop(server);
}

/// AAC (ffmpeg's, 44.1 kHz) -> `AacToOpus` -> `OpusToAac` -> HTTP-FLV in a real server: the tone
/// comes back at its frequency and level, as AAC-LC 48 kHz stereo, and the audio spans what the
/// video spans (within a frame and the encoders' buffering).
#[test]
fn aac_to_opus_to_aac_keeps_the_tone_through_the_server() {
    let dir = temp_dir("rtc_bridges_round_trip");
    let (rtmp, http) = (free_port(), free_port());
    let graph = format!(
        r#"srs.Graph::{{ nodes =
  [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
  , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
  , srs.node "to_opus" (srs.Node.AacToOpus srs.AacToOpus::{{=}})
  , srs.node "to_aac" (srs.Node.OpusToAac srs.OpusToAac::{{=}})
  , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}", mount = "[app]/[stream].flv" }})
  ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "to_opus", srs.edge "to_opus" "to_aac", srs.edge "to_aac" "flv" ] }}"#
    );
    let _srs = run_graph(&dir, &graph, &[rtmp, http]);
    let mut ffmpeg = common::publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/t"), 30);
    std::thread::sleep(Duration::from_secs(2));
    let out = dir.join("out.flv");
    common::record(&format!("http://127.0.0.1:{http}/live/t.flv"), 5, &out);
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    let streams = probe(out.to_str().expect("path"));
    let audio = streams.iter().find(|s| s.codec == "aac").unwrap_or_else(|| panic!("{streams:?}"));
    assert_eq!((audio.sample_rate, audio.channels), (48_000, 2));
    // One second of decoded audio: 440 periods of the publisher's 440 Hz sine, at its level (1/8).
    let pcm = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&out)
        .args(["-vn", "-ac", "1", "-ar", "48000", "-f", "s16le", "-"])
        .output()
        .expect("ffmpeg decodes");
    let samples: Vec<i16> = pcm.stdout.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    assert!(samples.len() > 96_000, "{} samples", samples.len());
    let second = &samples[48_000..96_000];
    let periods = second.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
    assert!((438..=442).contains(&periods), "{periods} periods in a second");
    let peak = second.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    assert!((3_000..=5_000).contains(&peak), "peak {peak} (the sine is at 4096)");
    let (video, audio) = (span(&out, "video"), span(&out, "audio"));
    println!("round trip: video {video:.3?} s, audio {audio:.3?} s");
    assert!((video.0 - audio.0).abs() < 0.1 && (video.1 - audio.1).abs() < 0.15, "{video:?} {audio:?}");
}
