//! `Ingest` (SRS's `ingest` block): a file, an RTMP stream, an HTTP-FLV stream, an SRT stream,
//! a live MPEG-TS over HTTP stream and a live HLS stream of a second server of ours, and a VOD
//! HLS made by ffmpeg (native clients, no FFmpeg child), a `lavfi` test source, an RTSP
//! camera (GStreamer's RTSP server) and an fMP4 HLS (handed over by the native pull) through an
//! FFmpeg child, each
//! published as a stream that ffprobe reads over HTTP-FLV with the right codecs and a rising
//! frame count; a source that dies and comes back is ingested again; a URL that never answers
//! is retried with backoff while the server goes on serving.

mod common;

use std::time::Duration;

use common::live::LiveServer;
use common::{
    api_get, free_port, make_clip, probe, publish_test_stream, record, run_graph, temp_dir, wait_until,
    Server,
};

fn ingest_graph(http: u16, api: u16, ingests: &[(&str, String)]) -> String {
    let nodes: String = ingests
        .iter()
        .map(|(name, body)| format!(", srs.node \"{name}\" (srs.Node.Ingest srs.Ingest::{{ {body} }})\n"))
        .collect();
    let edges: String =
        ingests.iter().map(|(name, _)| format!(", srs.edge \"{name}\" \"__defaultVhost__\"\n")).collect();
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
    {nodes}    ]
, edges = [ srs.edge "__defaultVhost__" "flv"
    {edges}    ]
}}"#
    )
}

/// Three seconds of the ingested stream: H.264 320x240 (and AAC when `audio`), at least 50 frames.
/// (HTTP-FLV's header always announces audio, as SRS's: ffmpeg waits for it, so every source here has audio.)
fn assert_serves(server: &Server, http: u16, stream: &str, audio: bool, name: &str) {
    let out = server.dir.join(format!("{name}.flv"));
    let _ = std::fs::remove_file(&out);
    record(&format!("http://127.0.0.1:{http}/live/{stream}.flv"), 3, &out);
    let streams = probe(out.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{name}: {streams:?}"));
    assert_eq!((video.width, video.height), (320, 240), "{name}");
    assert!(video.frames >= 50, "{name}: 3 s of live video, {} frames", video.frames);
    assert_eq!(streams.iter().any(|s| s.codec == "aac"), audio, "{name}: {streams:?}");
}

fn published_count(server: &Server, stream: &str) -> usize {
    server.log().lines().filter(|l| l.contains("ingest publishing") && l.contains(stream)).count()
}

#[test]
fn a_looping_file_is_ingested_natively() {
    let dir = temp_dir("ingest-file");
    let clip = dir.join("clip.flv");
    make_clip(&clip, "flv", 3, "libx264");
    let (http, api) = (free_port(), free_port());
    let body = format!(r#"input_type = "file", url = "{}", stream = "live/file""#, clip.display());
    let server = run_graph(&dir, &ingest_graph(http, api, &[("file", body)]), &[http, api]);
    std::thread::sleep(Duration::from_secs(4));
    // The 3 s clip has looped by now: the stream goes on.
    assert_serves(&server, http, "file", true, "file");
    assert!(server.log().contains("puller=File"), "{}", server.log());
}

#[test]
fn rtmp_and_http_flv_of_another_server_are_ingested_and_resume_after_the_source_returns() {
    let source = LiveServer::start("ingest-source");
    let mut publisher = publish_test_stream(&source.rtmp_url("src"), 40);
    let dir = temp_dir("ingest-pull");
    let (http, api) = (free_port(), free_port());
    let ingests = [
        ("by_rtmp", format!(r#"url = "{}", stream = "live/by_rtmp""#, source.rtmp_url("src"))),
        ("by_flv", format!(r#"url = "{}", stream = "live/by_flv""#, source.flv_url("src"))),
    ];
    let server = run_graph(&dir, &ingest_graph(http, api, &ingests), &[http, api]);
    assert!(
        wait_until(15, || published_count(&server, "by_rtmp") == 1
            && published_count(&server, "by_flv") == 1),
        "{}",
        server.log()
    );
    assert_serves(&server, http, "by_rtmp", true, "rtmp");
    assert_serves(&server, http, "by_flv", true, "http-flv");
    assert!(server.log().contains("puller=Rtmp") && server.log().contains("puller=HttpFlv"));

    // The source dies and comes back: both ingests publish again.
    let _ = publisher.kill();
    let _ = publisher.wait();
    assert!(
        wait_until(15, || server.log().contains("ingest source ended")
            || server.log().contains("ingest failed")),
        "{}",
        server.log()
    );
    let mut publisher = publish_test_stream(&source.rtmp_url("src"), 30);
    assert!(
        wait_until(30, || published_count(&server, "by_rtmp") >= 2
            && published_count(&server, "by_flv") >= 2),
        "{}",
        server.log()
    );
    assert_serves(&server, http, "by_rtmp", true, "rtmp again");
    assert_serves(&server, http, "by_flv", true, "http-flv again");
    let _ = publisher.kill();
    let _ = publisher.wait();
}

/// A second server of ours with an SRT listener; ffmpeg publishes there over RTMP.
fn srt_source_graph(rtmp: u16, srt: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
    , srs.node "srt_play" (srs.Node.SrtOut srs.SrtOut::{{ listen = "127.0.0.1:{srt}" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "srt_play" ]
}}"#
    )
}

#[test]
fn srt_of_another_server_is_ingested_natively() {
    let source_dir = temp_dir("ingest-srt-source");
    let (rtmp, srt) = (free_port(), common::free_udp_port());
    let source = run_graph(&source_dir, &srt_source_graph(rtmp, srt), &[rtmp]);
    common::wait_for_log(&source, "srt server listening");
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/src"), 20);
    let dir = temp_dir("ingest-srt");
    let (http, api) = (free_port(), free_port());
    let url = format!("srt://127.0.0.1:{srt}?streamid=#!::r=live/src,m=request");
    let server = run_graph(
        &dir,
        &ingest_graph(http, api, &[("by_srt", format!(r#"url = "{url}", stream = "live/by_srt""#))]),
        &[http, api],
    );
    assert!(wait_until(15, || published_count(&server, "by_srt") >= 1), "{}\n{}", server.log(), source.log());
    assert_serves(&server, http, "by_srt", true, "srt");
    assert!(server.log().contains("puller=Srt"), "{}", server.log());
    let _ = publisher.kill();
    let _ = publisher.wait();
}

#[test]
fn a_lavfi_source_goes_through_ffmpeg_and_a_dead_url_only_backs_off() {
    let dir = temp_dir("ingest-ffmpeg");
    let (http, api, dead) = (free_port(), free_port(), free_port());
    let lavfi = r#"input_type = "device", url = "testsrc=size=320x240:rate=25[out0];sine=frequency=440:sample_rate=44100[out1]", stream = "live/lavfi", ffmpeg_input = [ "-f", "lavfi" ], ffmpeg_output = [ "-vcodec", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-acodec", "aac" ]"#;
    let ingests = [
        ("lavfi", lavfi.to_owned()),
        ("dead", format!(r#"url = "rtmp://127.0.0.1:{dead}/live/none", stream = "live/dead""#)),
    ];
    let server = run_graph(&dir, &ingest_graph(http, api, &ingests), &[http, api]);
    assert!(wait_until(15, || published_count(&server, "lavfi") == 1), "{}", server.log());
    assert_serves(&server, http, "lavfi", true, "lavfi");
    let processes = api_get(api, "/api/v1/processes")["processes"].as_array().cloned().unwrap();
    assert_eq!(processes.len(), 1, "{processes:?}");
    let cmdline = processes[0]["cmdline"].as_str().unwrap();
    assert!(cmdline.starts_with("ffmpeg -hide_banner -nostats -re -f lavfi -i testsrc"), "{cmdline}");
    assert!(cmdline.ends_with("-f flv -y pipe:1"), "{cmdline}");

    // The dead URL: retried with a growing backoff, logged, and nothing else is disturbed.
    let log = server.log();
    let failures =
        log.lines().filter(|l| l.contains("ingest failed") && l.contains(&dead.to_string())).count();
    assert!((2..=5).contains(&failures), "{failures} attempts:\n{log}");
    assert!(log.contains("retry_in=2s") || log.contains("retry_in=4s"), "{log}");
    assert_eq!(api_get(api, "/api/v1/versions")["code"], 0);

    // FFmpeg killed: its supervisor starts it again and the stream is published again.
    let pid = processes[0]["pid"].as_u64().unwrap();
    std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    assert!(wait_until(15, || published_count(&server, "lavfi") == 2), "{}", server.log());
    let restarted = api_get(api, "/api/v1/processes")["processes"][0].clone();
    assert_eq!(restarted["restarts"], 1, "{restarted}");
    assert_ne!(restarted["pid"].as_u64(), Some(pid));
    assert_serves(&server, http, "lavfi", true, "lavfi after a restart");
}

fn no_processes(api: u16) -> bool {
    api_get(api, "/api/v1/processes")["processes"].as_array().is_some_and(|p| p.is_empty())
}

/// A second server of ours: RTMP in, HLS (1 s segments) served by `HttpStatic` on `hls`, and
/// HTTP-TS by `HttpRemux` on `ts`.
fn hls_ts_source_graph(rtmp: u16, hls: u16, ts: u16, dir: &std::path::Path) -> String {
    let dir = dir.display();
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
    , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = "{dir}", hls_fragment = 1.0 }})
    , srs.node "static" (srs.Node.HttpStatic srs.HttpStatic::{{ listen = "127.0.0.1:{hls}", dir = "{dir}" }})
    , srs.node "ts" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{ts}", mount = "[vhost]/[app]/[stream].ts" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "hls", srs.edge "__defaultVhost__" "ts" ]
}}"#
    )
}

#[test]
fn live_hls_and_ts_over_http_of_another_server_are_ingested_natively() {
    let source_dir = temp_dir("ingest-hls-source");
    let (rtmp, hls, ts) = (free_port(), free_port(), free_port());
    let source = run_graph(
        &source_dir,
        &hls_ts_source_graph(rtmp, hls, ts, &source_dir.join("www")),
        &[rtmp, hls, ts],
    );
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/src"), 40);
    assert!(
        wait_until(20, || std::fs::read_to_string(source_dir.join("www/live/src.m3u8"))
            .is_ok_and(|p| p.matches("#EXTINF").count() >= 2)),
        "{}",
        source.log()
    );
    let dir = temp_dir("ingest-hls");
    let (http, api) = (free_port(), free_port());
    let ingests = [
        ("by_hls", format!(r#"url = "http://127.0.0.1:{hls}/live/src.m3u8", stream = "live/by_hls""#)),
        ("by_ts", format!(r#"url = "http://127.0.0.1:{ts}/live/src.ts", stream = "live/by_ts""#)),
    ];
    let server = run_graph(&dir, &ingest_graph(http, api, &ingests), &[http, api]);
    assert!(
        wait_until(20, || published_count(&server, "by_hls") == 1 && published_count(&server, "by_ts") == 1),
        "{}\n{}",
        server.log(),
        source.log()
    );
    assert_serves(&server, http, "by_hls", true, "live hls");
    assert_serves(&server, http, "by_ts", true, "http-ts");
    let log = server.log();
    assert!(log.contains("puller=Hls") && log.contains("puller=HttpTs"), "{log}");
    assert!(no_processes(api), "native pulls run no FFmpeg");

    // The source dies (its playlist stays, no longer growing; its HTTP-TS body stays open with
    // nothing in it) and comes back: both resume, and the stalled playlist is not published again
    // meanwhile.
    let _ = publisher.kill();
    let _ = publisher.wait();
    assert!(
        wait_until(30, || server.log().contains("no new segment") && server.log().contains("no data for")),
        "{}",
        server.log()
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(published_count(&server, "by_hls"), 1, "a stalled playlist is not replayed: {}", server.log());
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/src"), 40);
    assert!(
        wait_until(40, || published_count(&server, "by_hls") == 2 && published_count(&server, "by_ts") == 2),
        "{}",
        server.log()
    );
    assert_serves(&server, http, "by_hls", true, "live hls again");
    assert_serves(&server, http, "by_ts", true, "http-ts again");
    let _ = publisher.kill();
    let _ = publisher.wait();
}

/// A VOD HLS (1 s TS segments) of a 4 s clip made by ffmpeg in `dir/vod/`, a master playlist
/// `dir/master.m3u8` whose highest variant is it (the other variant does not exist),
/// `dir/master_low.m3u8` where it is the lowest (the higher does not exist), and the clip as
/// fMP4 HLS in `dir/fmp4/`.
fn make_vod_hls(dir: &std::path::Path) {
    let clip = dir.join("clip.flv");
    common::make_h264_aac(&clip, "flv", 4);
    std::fs::create_dir_all(dir.join("vod")).unwrap();
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&clip)
        .args(["-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod"])
        .arg(dir.join("vod/index.m3u8"))
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    // The same as fragmented MP4 segments, which only FFmpeg reads.
    std::fs::create_dir_all(dir.join("fmp4")).unwrap();
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&clip)
        .args(["-c", "copy", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod"])
        .args(["-hls_segment_type", "fmp4"])
        .arg(dir.join("fmp4/index.m3u8"))
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    std::fs::write(
        dir.join("master.m3u8"),
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=150000,RESOLUTION=160x120\nmissing/index.m3u8\n\
         #EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=320x240\nvod/index.m3u8\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("master_low.m3u8"),
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720\nmissing/index.m3u8\n\
         #EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=320x240\nvod/index.m3u8\n",
    )
    .unwrap();
}

#[test]
fn vod_hls_through_a_master_playlist_is_ingested_in_real_time_looping_or_once() {
    let www = temp_dir("ingest-vod-www");
    make_vod_hls(&www);
    let files = common::StaticServer::start(&www);
    let dir = temp_dir("ingest-vod");
    let (http, api) = (free_port(), free_port());
    let master = files.url("master.m3u8");
    let ingests = [
        ("vod_loop", format!(r#"url = "{master}", stream = "live/vod_loop""#)),
        (
            "vod_once",
            format!(r#"url = "{}", stream = "live/vod_once", repeat = False"#, files.url("vod/index.m3u8")),
        ),
        ("vod_fmp4", format!(r#"url = "{}", stream = "live/vod_fmp4""#, files.url("fmp4/index.m3u8"))),
        (
            "vod_capped",
            format!(
                r#"url = "{}", stream = "live/vod_capped", hls_max_bandwidth = 1000000"#,
                files.url("master_low.m3u8")
            ),
        ),
    ];
    let server = run_graph(&dir, &ingest_graph(http, api, &ingests), &[http, api]);
    assert!(wait_until(20, || published_count(&server, "vod_loop") == 1), "{}", server.log());
    assert!(
        server.log().contains("variant=vod/index.m3u8 bandwidth=900000 max_bandwidth=0"),
        "{}",
        server.log()
    );
    // A bandwidth limit takes the highest variant within it, not the (missing) highest one.
    assert!(wait_until(20, || published_count(&server, "vod_capped") == 1), "{}", server.log());
    assert!(
        server.log().contains("variant=vod/index.m3u8 bandwidth=900000 max_bandwidth=1000000"),
        "{}",
        server.log()
    );
    assert_serves(&server, http, "vod_capped", true, "vod hls within a bandwidth limit");
    // Paced in real time: the 4 s clip is still playing one second later, and loops after it.
    std::thread::sleep(Duration::from_secs(1));
    assert_serves(&server, http, "vod_loop", true, "vod hls");
    assert!(
        wait_until(20, || server.log().contains("hls vod playlist read through: looping")),
        "{}",
        server.log()
    );
    assert_serves(&server, http, "vod_loop", true, "vod hls looped");
    assert_eq!(published_count(&server, "vod_loop"), 1, "a loop goes on in the same publish");
    // Without `repeat` the ingest ends with the playlist.
    assert!(wait_until(20, || server.log().contains("ingest of a VOD playlist done")), "{}", server.log());
    assert_eq!(published_count(&server, "vod_once"), 1);
    // fMP4 HLS is handed to FFmpeg, paced like a file and looped; the TS ones ran no FFmpeg.
    assert!(server.log().contains("ingest hands the pull to FFmpeg"), "{}", server.log());
    assert_serves(&server, http, "vod_fmp4", true, "fmp4 hls through ffmpeg");
    let processes = api_get(api, "/api/v1/processes")["processes"].as_array().cloned().unwrap();
    assert_eq!(processes.len(), 1, "{processes:?}");
    let cmdline = processes[0]["cmdline"].as_str().unwrap();
    assert!(
        cmdline.contains(&format!("-stream_loop -1 -re -i {}", files.url("fmp4/index.m3u8"))),
        "{cmdline}"
    );
}

#[test]
fn an_rtsp_camera_is_ingested_through_ffmpeg() {
    // GStreamer's RTSP server (Debian's gir1.2-gst-rtsp-server-1.0 with the system python3-gi).
    let rtsp = free_port();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rtsp/server.py");
    let mut camera = std::process::Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(rtsp.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 runs the RTSP server (scripts/install-test-deps)");
    let mut ready = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(camera.stdout.take().unwrap()), &mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready", "the RTSP server starts");
    let dir = temp_dir("ingest-rtsp");
    let (http, api) = (free_port(), free_port());
    let body = format!(
        r#"url = "rtsp://127.0.0.1:{rtsp}/cam", stream = "live/cam", ffmpeg_input = [ "-rtsp_transport", "tcp" ]"#
    );
    let server = run_graph(&dir, &ingest_graph(http, api, &[("cam", body)]), &[http, api]);
    assert!(wait_until(20, || published_count(&server, "cam") == 1), "{}", server.log());
    assert_serves(&server, http, "cam", true, "rtsp");
    let processes = api_get(api, "/api/v1/processes")["processes"].as_array().cloned().unwrap();
    let cmdline = processes[0]["cmdline"].as_str().unwrap();
    assert!(cmdline.contains(&format!("-rtsp_transport tcp -i rtsp://127.0.0.1:{rtsp}/cam")), "{cmdline}");
    let _ = camera.kill();
    let _ = camera.wait();
}
