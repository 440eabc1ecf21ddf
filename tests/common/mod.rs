//! Helpers shared by integration tests: real ffmpeg/ffprobe, temporary directories, free ports.

#![allow(dead_code)]

pub mod rtmp_client;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh directory under the system temp dir, unique per test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("srs-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs ffmpeg with `args`, panicking with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg runs (scripts/install-test-deps installs it)");
    assert!(out.status.success(), "ffmpeg {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// An H.264 + AAC test clip: `seconds` long, 320x240 at 25 fps, keyframe every second.
pub fn make_h264_aac(path: &Path, container: &str, seconds: u32) {
    let t = seconds.to_string();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-t",
        &t,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-f",
        container,
        path.to_str().expect("utf-8 path"),
    ]);
}

/// What ffprobe reports about one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    pub codec: String,
    pub width: u64,
    pub height: u64,
    pub frames: u64,
    pub duration: f64,
    pub start: f64,
}

/// ffprobe's view of a file (or URL): streams with decoded frame counts.
pub fn probe(target: &str) -> Vec<StreamInfo> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", target])
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe {target} failed: {}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    let format_duration = json["format"]["duration"].as_str().and_then(|d| d.parse().ok()).unwrap_or(0.0);
    json["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| StreamInfo {
            codec: s["codec_name"].as_str().unwrap_or_default().to_owned(),
            width: s["width"].as_u64().unwrap_or(0),
            height: s["height"].as_u64().unwrap_or(0),
            frames: s["nb_read_frames"].as_str().and_then(|n| n.parse().ok()).unwrap_or(0),
            duration: s["duration"].as_str().and_then(|d| d.parse().ok()).unwrap_or(format_duration),
            start: s["start_time"].as_str().and_then(|d| d.parse().ok()).unwrap_or(0.0),
        })
        .collect()
}

pub fn srs_bin() -> &'static str {
    env!("CARGO_BIN_EXE_srs")
}

/// A port free on 127.0.0.1 at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A running `srs` process, killed when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The server's log so far (stderr is written to `srs.log` in its directory).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("srs.log")).unwrap_or_default()
    }
}

/// The catalogue's path, for graphs written by tests.
pub fn catalogue() -> String {
    format!("{}/nodes/package.dhall", env!("CARGO_MANIFEST_DIR"))
}

/// Writes `graph` (Dhall, `srs` bound to the catalogue) and runs `srs run` on it in `dir`;
/// waits until every port in `tcp_ports` accepts connections.
pub fn run_graph(dir: &Path, graph: &str, tcp_ports: &[u16]) -> Server {
    let path = dir.join("graph.dhall");
    std::fs::write(&path, format!("let srs = {}\nin {graph}", catalogue())).expect("write graph");
    let log = std::fs::File::create(dir.join("srs.log")).expect("log file");
    let child = Command::new(srs_bin())
        .arg("run")
        .arg(&path)
        .current_dir(dir)
        .stderr(log)
        .spawn()
        .expect("srs starts");
    let server = Server { child, dir: dir.to_owned() };
    for port in tcp_ports {
        wait_for_port(*port, &server);
    }
    server
}

pub fn wait_for_port(port: u16, server: &Server) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("port {port} never opened; log:\n{}", server.log());
}

/// Records `seconds` of a live URL with ffmpeg (`-c copy`) into `out`.
pub fn record(url: &str, seconds: u32, out: &Path) {
    ffmpeg(&[
        "-rw_timeout",
        "10000000",
        "-i",
        url,
        "-t",
        &seconds.to_string(),
        "-c",
        "copy",
        out.to_str().expect("utf-8"),
    ]);
}

/// A TCP connection to `server` (`ip:port`) from a socket bound to `local_ip`, so tests can
/// come from 127.0.0.2 as well as 127.0.0.1.
pub fn connect_from(local_ip: &str, server: &str) -> std::io::Result<std::net::TcpStream> {
    use socket2::{Domain, Socket, Type};
    let server: std::net::SocketAddr =
        server.parse().map_err(|_| std::io::Error::other(format!("bad address {server}")))?;
    let local: std::net::SocketAddr =
        format!("{local_ip}:0").parse().map_err(|_| std::io::Error::other("bad local ip"))?;
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&local.into())?;
    socket.connect(&server.into())?;
    Ok(socket.into())
}

/// One HTTP/1.1 request (`Connection: close`) to 127.0.0.1:`port`; the status and body.
pub fn http_request(port: u16, method: &str, path: &str, headers: &[&str], body: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).expect("timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    if !body.is_empty() {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    let _ = stream.write_all(request.as_bytes());
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    let body =
        if text.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(&body) } else { body };
    (status, body)
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// GET `path` on the API at `port`, parsed as JSON.
pub fn api_get(port: u16, path: &str) -> serde_json::Value {
    let (status, body) = http_request(port, "GET", path, &[], b"");
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// ffmpeg publishing a generated H.264 + AAC stream (320x240, 25 fps, 44.1 kHz) in real time.
pub fn publish_test_stream(url: &str, seconds: u32) -> std::process::Child {
    Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", &seconds.to_string()])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac"])
        .args(["-f", "flv", url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ffmpeg runs")
}

/// Polls `check` every 100 ms for up to `seconds`; true once it holds.
pub fn wait_until(seconds: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}
