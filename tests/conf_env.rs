//! `srs -e` with the variables SRS's own regression suite sets: HLS and DVR configured only by
//! `SRS_VHOST_HLS_*` / `SRS_VHOST_DVR_*` write their files where and as those variables say, and
//! `SRS_SERVER_ID` is the id the API reports. ffmpeg publishes over RTMP; ffprobe reads the files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{api_get, free_port, probe, publish_test_stream, srs_bin, temp_dir, wait_for_port, Server};

/// `srs -e` in `dir` with exactly `vars` among the SRS_* variables; stderr to `srs.log`.
fn spawn_srs_e(dir: &Path, vars: &[(&str, String)], ports: &[u16]) -> Server {
    let log = std::fs::File::create(dir.join("srs.log")).expect("log file");
    let mut command = Command::new(srs_bin());
    command.arg("-e").current_dir(dir).stderr(log);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SRS_") {
            command.env_remove(name);
        }
    }
    command.envs(vars.iter().map(|(name, value)| (name, value)));
    let server = Server { child: command.spawn().expect("srs starts"), dir: dir.to_owned() };
    for port in ports {
        wait_for_port(*port, &server);
    }
    server
}

/// SIGTERM, and the exit must be clean (DVR files are closed on the way out).
fn stop_gracefully(mut server: Server) {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs").success());
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            assert!(status.success(), "SIGTERM must exit 0, got {status}; log:\n{}", server.log());
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The files directly in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

#[test]
fn hls_dvr_and_server_id_from_variables_only() {
    let dir = temp_dir("conf-env-hls-dvr");
    let (hls_root, dvr_root) = (dir.join("hls-out"), dir.join("dvr-out"));
    let (rtmp, api) = (free_port(), free_port());
    let vars = [
        ("SRS_LISTEN", format!("127.0.0.1:{rtmp}")),
        ("SRS_SERVER_ID", "vid-envtest".to_owned()),
        ("SRS_HTTP_API_ENABLED", "on".to_owned()),
        ("SRS_HTTP_API_LISTEN", format!("127.0.0.1:{api}")),
        ("SRS_VHOST_HLS_ENABLED", "on".to_owned()),
        ("SRS_VHOST_HLS_HLS_PATH", hls_root.display().to_string()),
        ("SRS_VHOST_HLS_HLS_M3U8_FILE", "[app]/[stream]/playlist.m3u8".to_owned()),
        ("SRS_VHOST_HLS_HLS_TS_FILE", "[app]/[stream]/part-[seq].ts".to_owned()),
        ("SRS_VHOST_HLS_HLS_FRAGMENT", "2".to_owned()),
        ("SRS_VHOST_DVR_ENABLED", "on".to_owned()),
        ("SRS_VHOST_DVR_DVR_PATH", format!("{}/[app]/[stream].[timestamp].flv", dvr_root.display())),
        ("SRS_VHOST_DVR_DVR_PLAN", "session".to_owned()),
        ("SRS_VHOST_DVR_DVR_WAIT_KEYFRAME", "on".to_owned()),
    ];
    let server = spawn_srs_e(&dir, &vars, &[rtmp, api]);
    let log = server.log();
    assert!(!log.contains("not supported"), "every variable is read:\n{log}");

    let versions = api_get(api, "/api/v1/versions");
    assert_eq!(versions["server"], "vid-envtest", "{versions}");

    let seconds = 8;
    let status = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/envtest"), seconds)
        .wait()
        .expect("ffmpeg exits");
    assert!(status.success(), "ffmpeg published; log:\n{}", server.log());

    // HLS: the playlist and the segments under hls_path, named by the two templates.
    let stream_dir = hls_root.join("live/envtest");
    let playlist = std::fs::read_to_string(stream_dir.join("playlist.m3u8")).unwrap_or_else(|e| {
        panic!("playlist: {e}; files {:?}; log:\n{}", files_in(&stream_dir), server.log())
    });
    let listed: Vec<&str> = playlist.lines().filter(|l| l.ends_with(".ts")).collect();
    assert!(listed.len() >= 2, "8 s in 2 s fragments: {playlist}");
    for uri in &listed {
        let name = uri.rsplit('/').next().unwrap_or(uri);
        let seq = name.strip_prefix("part-").and_then(|n| n.strip_suffix(".ts"));
        assert!(seq.is_some_and(|n| n.parse::<u64>().is_ok()), "`{uri}` follows part-[seq].ts");
        assert!(stream_dir.join(name).is_file(), "{name} is written beside the playlist");
    }
    let first = stream_dir.join(listed[0].rsplit('/').next().unwrap_or(listed[0]));
    let segment = probe(first.to_str().expect("utf-8"));
    assert!(segment.iter().any(|s| s.codec == "h264"), "{segment:?}");
    assert!(segment.iter().any(|s| s.codec == "aac"), "{segment:?}");

    stop_gracefully(server);

    // DVR: one session file under dvr_path's directory, FLV, with the whole publish.
    let recorded = files_in(&dvr_root.join("live"));
    assert_eq!(recorded.len(), 1, "one session file: {recorded:?}");
    let name = file_name(&recorded[0]);
    let stamp = name.strip_prefix("envtest.").and_then(|n| n.strip_suffix(".flv"));
    assert!(stamp.is_some_and(|n| n.parse::<u64>().is_ok()), "`{name}` follows [stream].[timestamp].flv");
    let streams = probe(recorded[0].to_str().expect("utf-8"));
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(streams.iter().any(|s| s.codec == "aac"), "{streams:?}");
    let expected = f64::from(seconds);
    assert!((video.duration - expected).abs() < 1.5, "about {expected} s recorded, got {} s", video.duration);
}
