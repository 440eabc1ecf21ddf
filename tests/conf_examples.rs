//! The example configurations in `conf/`: every file passes `srs -t -c` without a warning (a file
//! added there is checked too), and the main ones serve what they say: ffmpeg publishes over
//! RTMP, ffmpeg and ffprobe play it back (H.264 320x240 + AAC, frames counted). Each server runs
//! in its own temp dir (relative paths such as `./objs/nginx/html` land there) with its ports
//! moved to free ones by SRS_* variables, which win over the file as in SRS.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    api_get, free_port, probe, publish_test_stream, record, self_signed, srs_bin, temp_dir, wait_for,
    wait_for_port, Background, Server,
};

fn conf_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conf")
}

/// `srs` run in `dir` with exactly `vars` among the SRS_* variables.
fn srs_in(dir: &Path, vars: &[(&str, String)]) -> Command {
    let mut command = Command::new(srs_bin());
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SRS_") {
            command.env_remove(name);
        }
    }
    command.env_remove("RUST_LOG");
    command.envs(vars.iter().map(|(name, value)| (name, value)));
    command
}

/// `srs -c conf/<name>` in a fresh temp dir; stderr (the console log) to `srs.log`.
fn serve(name: &str, vars: &[(&str, String)], ports: &[u16]) -> Server {
    let dir = temp_dir(&format!("conf-examples-{name}"));
    let log = std::fs::File::create(dir.join("srs.log")).expect("log file");
    let child = srs_in(&dir, vars)
        .arg("-c")
        .arg(conf_dir().join(name))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("srs starts");
    let server = Server { child, dir };
    for port in ports {
        wait_for_port(*port, &server);
    }
    server
}

/// Lines of a log at WARN or ERROR.
fn warnings(log: &str) -> Vec<&str> {
    log.lines().filter(|line| line.contains(" WARN ") || line.contains(" ERROR ")).collect()
}

/// The test stream published for `seconds` (320x240 at 25 fps, AAC), stopped when dropped.
fn publish(rtmp: u16, seconds: u32) -> Background {
    Background(publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/livestream"), seconds))
}

/// `seconds` of `url` recorded with ffmpeg, then probed: H.264 320x240 and AAC, with at least
/// `min_frames` video frames.
fn assert_plays(dir: &Path, url: &str, seconds: u32, min_frames: u64, out: &str) {
    let file = dir.join(out);
    record(url, seconds, &file);
    assert_h264_aac(&file, min_frames);
}

fn assert_h264_aac(file: &Path, min_frames: u64) {
    let streams = probe(file.to_str().expect("utf-8"));
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{file:?}: {streams:?}"));
    assert_eq!((video.width, video.height), (320, 240), "{file:?}");
    assert!(video.frames >= min_frames, "{file:?}: {} video frames, want {min_frames}+", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac" && s.frames > 0), "{file:?}: {streams:?}");
}

#[test]
fn every_example_passes_the_configuration_test_without_a_warning() {
    let dir = temp_dir("conf-examples-test");
    let mut files: Vec<PathBuf> = std::fs::read_dir(conf_dir())
        .expect("conf/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    assert!(files.len() >= 13, "the example set: {files:?}");
    for file in files {
        let out = srs_in(&dir, &[]).arg("-t").arg("-c").arg(&file).output().expect("srs runs");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{}: {stdout}{stderr}", file.display());
        assert!(stdout.contains("test is successful"), "{}: {stdout}", file.display());
        assert!(!stderr.contains("not supported"), "{}: {stderr}", file.display());
        assert!(warnings(&stderr).is_empty(), "{}: {stderr}", file.display());
    }
}

#[test]
fn srs_conf_serves_rtmp_http_flv_and_the_api_with_a_clean_log() {
    let (rtmp, http, api) = (free_port(), free_port(), free_port());
    let vars = [
        ("SRS_LISTEN", format!("127.0.0.1:{rtmp}")),
        ("SRS_HTTP_SERVER_LISTEN", format!("127.0.0.1:{http}")),
        ("SRS_HTTP_API_LISTEN", format!("127.0.0.1:{api}")),
    ];
    let server = serve("srs.conf", &vars, &[rtmp, http, api]);
    let _publisher = publish(rtmp, 20);
    std::thread::sleep(Duration::from_secs(2));
    assert_plays(&server.dir, &format!("rtmp://127.0.0.1:{rtmp}/live/livestream"), 3, 60, "rtmp.flv");
    assert_plays(&server.dir, &format!("http://127.0.0.1:{http}/live/livestream.flv"), 3, 60, "http.flv");
    let versions = api_get(api, "/api/v1/versions");
    assert_eq!(versions["code"], 0, "{versions}");
    let log = server.log();
    assert!(warnings(&log).is_empty(), "no warning from a stock start and play:\n{log}");
}

#[test]
fn hls_conf_serves_a_playlist_that_plays() {
    let (rtmp, http) = (free_port(), free_port());
    let vars = [
        ("SRS_LISTEN", format!("127.0.0.1:{rtmp}")),
        ("SRS_HTTP_SERVER_LISTEN", format!("127.0.0.1:{http}")),
    ];
    let server = serve("hls.conf", &vars, &[rtmp, http]);
    let _publisher = publish(rtmp, 30);
    let playlist = server.dir.join("objs/nginx/html/live/livestream.m3u8");
    wait_for(25, "two segments in the playlist", || {
        let text = std::fs::read_to_string(&playlist).ok()?;
        (text.lines().filter(|l| l.ends_with(".ts")).count() >= 2).then_some(())
    });
    assert_plays(&server.dir, &format!("http://127.0.0.1:{http}/live/livestream.m3u8"), 3, 60, "hls.ts");
    let log = server.log();
    assert!(warnings(&log).is_empty(), "{log}");
}

#[test]
fn http_flv_live_conf_serves_flv() {
    let (rtmp, http) = (free_port(), free_port());
    let vars = [
        ("SRS_LISTEN", format!("127.0.0.1:{rtmp}")),
        ("SRS_HTTP_SERVER_LISTEN", format!("127.0.0.1:{http}")),
    ];
    let server = serve("http.flv.live.conf", &vars, &[rtmp, http]);
    let _publisher = publish(rtmp, 20);
    std::thread::sleep(Duration::from_secs(2));
    assert_plays(&server.dir, &format!("http://127.0.0.1:{http}/live/livestream.flv"), 3, 60, "http.flv");
    let log = server.log();
    assert!(warnings(&log).is_empty(), "{log}");
}

#[test]
fn dvr_mp4_conf_records_each_publish_to_an_mp4() {
    let rtmp = free_port();
    let server = serve("dvr.mp4.conf", &[("SRS_LISTEN", format!("127.0.0.1:{rtmp}"))], &[rtmp]);
    let seconds = 5;
    let status = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/livestream"), seconds)
        .wait()
        .expect("ffmpeg exits");
    assert!(status.success(), "ffmpeg published; log:\n{}", server.log());
    let live = server.dir.join("objs/nginx/html/live");
    let recording = wait_for(15, "the MP4 closed after the publish", || {
        let entries = std::fs::read_dir(&live).ok()?;
        entries.flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|e| e == "mp4"))
    });
    let name = recording.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stamp = name.strip_prefix("livestream.").and_then(|n| n.strip_suffix(".mp4"));
    assert!(stamp.is_some_and(|n| n.parse::<u64>().is_ok()), "`{name}` follows [stream].[timestamp].mp4");
    // The whole publish: 5 s at 25 fps from the first keyframe.
    assert_h264_aac(&recording, 115);
    let log = server.log();
    assert!(warnings(&log).is_empty(), "{log}");
}

#[test]
fn https_srs_conf_serves_flv_and_the_api_over_https_beside_plain_http() {
    let (rtmp, http, https, api, api_https) =
        (free_port(), free_port(), free_port(), free_port(), free_port());
    let pem = temp_dir("conf-examples-https-pem");
    // A pair of our own, as a user replaces the example's (SRS_* variables win over the file).
    let (cert, key) = self_signed(&pem);
    let vars = [
        ("SRS_LISTEN", format!("127.0.0.1:{rtmp}")),
        ("SRS_HTTP_SERVER_LISTEN", format!("127.0.0.1:{http}")),
        ("SRS_HTTP_SERVER_HTTPS_LISTEN", format!("127.0.0.1:{https}")),
        ("SRS_HTTP_SERVER_HTTPS_KEY", key.clone()),
        ("SRS_HTTP_SERVER_HTTPS_CERT", cert.clone()),
        ("SRS_HTTP_API_LISTEN", format!("127.0.0.1:{api}")),
        ("SRS_HTTP_API_HTTPS_LISTEN", format!("127.0.0.1:{api_https}")),
        ("SRS_HTTP_API_HTTPS_KEY", key),
        ("SRS_HTTP_API_HTTPS_CERT", cert),
    ];
    let server = serve("https.srs.conf", &vars, &[rtmp, http, https, api, api_https]);
    let _publisher = publish(rtmp, 20);
    std::thread::sleep(Duration::from_secs(2));
    let url = format!("https://127.0.0.1:{https}/live/livestream.flv");
    let file = server.dir.join("https.flv");
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-tls_verify",
            "0",
            "-i",
            &url,
            "-t",
            "3",
            "-c",
            "copy",
        ])
        .arg(&file)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg plays {url}; log:\n{}", server.log());
    assert_h264_aac(&file, 60);
    assert_plays(&server.dir, &format!("http://127.0.0.1:{http}/live/livestream.flv"), 2, 40, "http.flv");
    let out = Command::new("curl")
        .args(["-sk", "--max-time", "10", &format!("https://127.0.0.1:{api_https}/api/v1/versions")])
        .output()
        .expect("curl runs");
    let versions: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json over https");
    assert_eq!(versions["code"], 0, "{versions}");
    assert_eq!(api_get(api, "/api/v1/versions")["code"], 0, "the plain API too");
    let log = server.log();
    assert!(warnings(&log).is_empty(), "{log}");
}
