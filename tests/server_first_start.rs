//! What a new user sees first: `srs -V` names the version and what the build serves; the default
//! graph (`graphs/live.dhall`, which `srs run` without a file runs) starts without a line at WARN
//! or above; at start the server logs one URL per way in or out (publish, play, HLS, the API,
//! SRT), derived from the graph's nodes.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{free_port, free_udp_port, srs_bin, temp_dir, wait_for_log, wait_for_port, Server};

#[test]
fn version_names_the_version_and_the_features() {
    for flag in ["-V", "--version"] {
        let out = Command::new(srs_bin()).arg(flag).output().expect("srs runs");
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with(&format!("srs {}\n", env!("CARGO_PKG_VERSION"))), "{text}");
        for feature in
            ["RTMP", "HTTP-FLV", "HLS", "LL-HLS", "MPEG-DASH", "SRT", "DVR", "TLS", "H.265", "Opus"]
        {
            assert!(text.contains(feature), "`{feature}` in:\n{text}");
        }
        assert!(text.contains("WebRTC (WHIP, WHEP"), "{text}");
    }
}

/// `graphs/live.dhall` with its ports moved to free ones and the catalogue imported from this
/// checkout; it runs in `dir`, so its relative HLS directory lands there.
fn default_graph_on(dir: &Path, rtmp: u16, http: u16, api: u16) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("graphs/live.dhall")).expect("the default graph");
    let catalogue = root.join("nodes/package.dhall");
    let moved = text
        .replace("../nodes/package.dhall", &catalogue.display().to_string())
        .replace("\"1935\"", &format!("\"{rtmp}\""))
        .replace("\"8080\"", &format!("\"{http}\""))
        .replace("\"1985\"", &format!("\"{api}\""));
    assert_ne!(moved, text, "the ports were found");
    let path = dir.join("live.dhall");
    std::fs::write(&path, moved).expect("graph written");
    path
}

fn spawn(dir: &Path, args: &[&std::ffi::OsStr]) -> Server {
    let log = std::fs::File::create(dir.join("srs.log")).expect("log file");
    let child = Command::new(srs_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("srs starts");
    Server { child, dir: dir.to_owned() }
}

#[test]
fn the_default_graph_starts_clean_and_logs_its_urls() {
    let dir = temp_dir("first-start-default");
    let (rtmp, http, api) = (free_port(), free_port(), free_port());
    let graph = default_graph_on(&dir, rtmp, http, api);
    let server = spawn(&dir, &["run".as_ref(), graph.as_os_str()]);
    for port in [rtmp, http, api] {
        wait_for_port(port, &server);
    }
    wait_for_log(&server, "api: ");
    let log = server.log();
    let loud: Vec<&str> = log.lines().filter(|l| l.contains(" WARN ") || l.contains(" ERROR ")).collect();
    assert!(loud.is_empty(), "no line at WARN or above:\n{log}");
    for url in [
        format!("publish: rtmp://127.0.0.1:{rtmp}/live/livestream"),
        format!("play: rtmp://127.0.0.1:{rtmp}/live/livestream"),
        format!("play: http://127.0.0.1:{http}/live/livestream.flv"),
        format!("play HLS: http://127.0.0.1:{http}/live/livestream.m3u8"),
        format!("api: http://127.0.0.1:{api}/api/v1/versions"),
    ] {
        assert!(log.contains(&url), "`{url}` logged:\n{log}");
    }
    assert!(log.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))), "{log}");
}

#[test]
fn srt_urls_are_logged_for_publish_and_play() {
    let dir = temp_dir("first-start-srt");
    let (rtmp, http, srt) = (free_port(), free_port(), free_udp_port());
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/srt.conf");
    let log = std::fs::File::create(dir.join("srs.log")).expect("log file");
    let mut command = Command::new(srs_bin());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SRS_") {
            command.env_remove(name);
        }
    }
    let child = command
        .arg("-c")
        .arg(&conf)
        .current_dir(&dir)
        .env_remove("RUST_LOG")
        .env("SRS_LISTEN", format!("127.0.0.1:{rtmp}"))
        .env("SRS_HTTP_SERVER_LISTEN", format!("127.0.0.1:{http}"))
        .env("SRS_SRT_SERVER_LISTEN", format!("127.0.0.1:{srt}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("srs starts");
    let server = Server { child, dir };
    wait_for_port(http, &server);
    wait_for_log(&server, "play: srt://");
    let log = server.log();
    for url in [
        format!("publish: srt://127.0.0.1:{srt}?streamid=#!::r=live/livestream,m=publish"),
        format!("play: srt://127.0.0.1:{srt}?streamid=#!::r=live/livestream,m=request"),
        format!("play: http://127.0.0.1:{http}/live/livestream.flv"),
    ] {
        assert!(log.contains(&url), "`{url}` logged:\n{log}");
    }
}
