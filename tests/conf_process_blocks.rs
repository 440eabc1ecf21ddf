//! srs.conf's `ingest` and vhost `transcode` blocks, run as SRS's sample files are:
//! `conf/ingest.conf` publishes `./doc/source.flv` as live/livestream (played back over RTMP), and
//! `conf/transcode2hls.audio.only.conf` serves an audio-only HLS rendition `livestream_`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{
    make_clip, probe, probe_with, publish_test_stream, srs_bin, temp_dir, wait_for_port, wait_until, Server,
};

fn conf(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conf").join(name)
}

/// `srs -c conf/<name>` in `dir` with `vars`, stderr to `srs.log`.
fn serve(dir: &Path, name: &str, vars: &[(&str, String)], ports: &[u16]) -> Server {
    let log = std::fs::File::create(dir.join("srs.log")).expect("log file");
    let mut command = Command::new(srs_bin());
    for (variable, _) in std::env::vars_os() {
        if variable.to_string_lossy().starts_with("SRS_") {
            command.env_remove(variable);
        }
    }
    let child = command
        .current_dir(dir)
        .envs(vars.iter().map(|(n, v)| (n, v)))
        .arg("-c")
        .arg(conf(name))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("srs starts");
    let server = Server { child, dir: dir.to_owned() };
    for port in ports {
        wait_for_port(*port, &server);
    }
    server
}

#[test]
fn ingest_conf_publishes_its_file_as_livestream() {
    let dir = temp_dir("conf-ingest");
    std::fs::create_dir_all(dir.join("doc")).unwrap();
    make_clip(&dir.join("doc/source.flv"), "flv", 3, "libx264");
    let rtmp = common::free_port();
    let server = serve(&dir, "ingest.conf", &[("SRS_LISTEN", format!("127.0.0.1:{rtmp}"))], &[rtmp]);
    assert!(wait_until(10, || server.log().contains("publish started")), "{}", server.log());
    let out = dir.join("played.flv");
    common::record(&format!("rtmp://127.0.0.1:{rtmp}/live/livestream"), 4, &out);
    let streams = probe(out.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames >= 75, "4 s of a looping 3 s file: {} frames", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "{streams:?}");
    assert!(server.log().contains("node=__defaultVhost__/ingest/livestream"), "{}", server.log());
}

#[test]
fn transcode_conf_serves_an_audio_only_hls_rendition() {
    let dir = temp_dir("conf-transcode");
    let (rtmp, http) = (common::free_port(), common::free_port());
    let vars = [
        ("SRS_LISTEN", format!("127.0.0.1:{rtmp}")),
        ("SRS_HTTP_SERVER_LISTEN", format!("127.0.0.1:{http}")),
    ];
    let server = serve(&dir, "transcode2hls.audio.only.conf", &vars, &[rtmp, http]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/livestream"), 14);
    let playlist = dir.join("objs/nginx/html/live/livestream_.m3u8");
    assert!(wait_until(20, || playlist.exists()), "the rendition's HLS: {}", server.log());
    let streams =
        probe_with(&["-read_intervals", "%+4"], &format!("http://127.0.0.1:{http}/live/livestream_.m3u8"));
    assert!(streams.iter().any(|s| s.codec == "aac" && s.frames > 0), "{streams:?}");
    assert!(!streams.iter().any(|s| s.codec == "h264"), "vcodec vn: no video: {streams:?}");
    let _ = publisher.kill();
    let _ = publisher.wait();
}
