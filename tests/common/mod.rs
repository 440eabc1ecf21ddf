//! Helpers shared by integration tests: real ffmpeg/ffprobe, temporary directories, free ports.

#![allow(dead_code)]

pub mod cdp;
pub mod hooks;
pub mod live;
pub mod rtmp_client;
pub mod udp_relay;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh directory under the system temp dir, unique per test. It stays after the test, for a
/// look at a failure; the next test binary to start removes those of processes that are gone.
pub fn temp_dir(name: &str) -> PathBuf {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(remove_dirs_of_ended_tests);
    let dir = std::env::temp_dir().join(format!("srs-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Removes `srs-test-<pid>-*` directories whose test process has ended.
fn remove_dirs_of_ended_tests() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|name| name.strip_prefix("srs-test-")) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|pid| pid.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
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
    make_clip_of(path, container, seconds, 25, ClipKind::H264Aac);
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
    /// Audio streams: samples per second and channels (0 for video).
    pub sample_rate: u64,
    pub channels: u64,
}

/// ffprobe's view of a file (or URL): streams with decoded frame counts.
pub fn probe(target: &str) -> Vec<StreamInfo> {
    probe_with(&[], target)
}

/// `probe` with extra ffprobe options before the target (e.g. `-read_intervals %+5` for live input).
pub fn probe_with(options: &[&str], target: &str) -> Vec<StreamInfo> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json"])
        .args(options)
        .arg(target)
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
            sample_rate: s["sample_rate"].as_str().and_then(|r| r.parse().ok()).unwrap_or(0),
            channels: s["channels"].as_u64().unwrap_or(0),
        })
        .collect()
}

pub fn srs_bin() -> &'static str {
    env!("CARGO_BIN_EXE_srs")
}

/// A clip as libx264/libx265 make it by default (B-frames included): `seconds` long, 320x240 at
/// 25 fps, keyframe every second, AAC at 44.1 kHz. `video` is an ffmpeg encoder name.
pub fn make_clip(path: &Path, container: &str, seconds: u32, video: &str) {
    let t = seconds.to_string();
    let mut args = vec![
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
        video,
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
    ];
    if video == "libx265" {
        args.extend(["-x265-params", "log-level=error"]);
    }
    if container == "mp4" && video == "libx265" {
        args.extend(["-tag:v", "hvc1"]);
    }
    args.extend(["-c:a", "aac", "-b:a", "64k", "-f", container, path.to_str().expect("utf-8 path")]);
    ffmpeg(&args);
}

/// Writes a graph file that imports the catalogue of this checkout.
pub fn write_graph(dir: &Path, name: &str, body: &str) -> PathBuf {
    let catalogue = Path::new(env!("CARGO_MANIFEST_DIR")).join("nodes/package.dhall");
    let path = dir.join(name);
    std::fs::write(&path, format!("let srs = {}\nin {body}", catalogue.display())).expect("graph file");
    path
}

/// What a clip carries, for [`make_clip_of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipKind {
    /// H.264 320x240 at 25 fps + AAC.
    H264Aac,
    /// AAC only.
    AacOnly,
    /// MP3 only.
    Mp3Only,
}

/// A test clip in `container`: `seconds` long, video keyframes every `gop` frames (25 fps).
pub fn make_clip_of(path: &Path, container: &str, seconds: u32, gop: u32, kind: ClipKind) {
    let t = seconds.to_string();
    let g = gop.to_string();
    let out = path.to_str().expect("utf-8 path");
    let video = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"];
    let audio = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"];
    let video_codec = ["-c:v", "libx264", "-preset", "ultrafast", "-g", &g, "-pix_fmt", "yuv420p"];
    let mut args: Vec<&str> = Vec::new();
    match kind {
        ClipKind::H264Aac => {
            args.extend(video);
            args.extend(audio);
            args.extend(video_codec);
            args.extend(["-c:a", "aac", "-b:a", "64k"]);
        }
        ClipKind::AacOnly => {
            args.extend(audio);
            args.extend(["-c:a", "aac", "-b:a", "64k"]);
        }
        ClipKind::Mp3Only => {
            args.extend(audio);
            args.extend(["-c:a", "libmp3lame", "-b:a", "64k"]);
        }
    }
    args.extend(["-t", &t, "-f", container, out]);
    ffmpeg(&args);
}

/// A running `srs run GRAPH`, killed when dropped; its log goes to `<dir>/srs.log`.
pub struct SrsServer {
    child: std::process::Child,
    pub log: PathBuf,
}

impl SrsServer {
    pub fn start(dir: &Path, graph_text: &str) -> SrsServer {
        let graph = dir.join("graph.dhall");
        std::fs::write(&graph, graph_text).expect("graph written");
        let log = dir.join("srs.log");
        let child = Command::new(srs_bin())
            .arg("run")
            .arg(&graph)
            .env("RUST_LOG", "info")
            .stdout(std::fs::File::create(dir.join("srs.out")).expect("stdout file"))
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("srs starts");
        SrsServer { child, log }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle`; panics after `limit`.
    pub fn wait_for_log(&self, needle: &str, limit: std::time::Duration) {
        let start = std::time::Instant::now();
        while !self.log_text().contains(needle) {
            assert!(start.elapsed() < limit, "`{needle}` not logged within {limit:?}: {}", self.log_text());
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for SrsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free on 127.0.0.1 at the time of asking.
pub fn free_port() -> u16 {
    unused_port(|| {
        std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
    })
}

/// A port from `pick` that this test process was never given before: the kernel may hand the
/// same ephemeral port to two binds in a row once the first is closed, and a test asking for
/// two ports would then get one port twice.
fn unused_port(pick: impl Fn() -> u16) -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let port = pick();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
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

/// A whole HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request to 127.0.0.1:`port`, the path sent verbatim (no normalization).
pub fn http_request(port: u16, method: &str, path: &str) -> std::io::Result<HttpResponse> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or(std::io::ErrorKind::InvalidData)?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or(std::io::ErrorKind::InvalidData)?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(HttpResponse { status, headers, body: raw[split + 4..].to_vec() })
}

/// Waits for something to listen on 127.0.0.1:`port`.
pub fn wait_for_listener(port: u16, limit: std::time::Duration) {
    // Readiness, not speed: a loaded 2-core machine may take 10 s to start a debug build.
    let limit = limit.max(std::time::Duration::from_secs(30));
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < limit, "nothing listens on port {port}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Writes `graph` (Dhall, `srs` bound to the catalogue) and runs `srs run` on it in `dir`;
/// waits until every port in `tcp_ports` accepts connections.
pub fn run_graph(dir: &Path, graph: &str, tcp_ports: &[u16]) -> Server {
    run_graph_with_env(dir, graph, tcp_ports, &[])
}

/// `run_graph` with environment variables set for the server.
pub fn run_graph_with_env(dir: &Path, graph: &str, tcp_ports: &[u16], env: &[(&str, &str)]) -> Server {
    let path = dir.join("graph.dhall");
    std::fs::write(&path, format!("let srs = {}\nin {graph}", catalogue())).expect("write graph");
    let log = std::fs::File::create(dir.join("srs.log")).expect("log file");
    let child = Command::new(srs_bin())
        .arg("run")
        .arg(&path)
        .envs(env.iter().copied())
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
    // 30 s: a debug build evaluating a large graph on a loaded 2-core machine can take 10 s.
    for _ in 0..600 {
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
pub fn http_exchange(port: u16, method: &str, path: &str, headers: &[&str], body: &[u8]) -> (u16, String) {
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
    let (status, body) = http_exchange(port, "GET", path, &[], b"");
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

/// A UDP port free on 127.0.0.1 at the time of asking.
pub fn free_udp_port() -> u16 {
    unused_port(|| std::net::UdpSocket::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port())
}

/// Waits until the server's log contains `needle` (e.g. a UDP listener's start line).
pub fn wait_for_log(server: &Server, needle: &str) {
    for _ in 0..600 {
        if server.log().contains(needle) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("log never said `{needle}`:\n{}", server.log());
}

/// A background ffmpeg (a live publisher), killed when dropped.
pub struct Background(pub std::process::Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts ffmpeg with `args` in the background (stderr discarded unless it fails to start).
pub fn spawn_ffmpeg(args: &[&str]) -> Background {
    let child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ffmpeg starts");
    Background(child)
}
/// A graph with RTMP in, the API and WebRTC (WHEP) players on `udp`.
pub fn rtmp_to_whep_graph(api: u16, udp: u16, rtmp: u16) -> String {
    format!(
        r#"srs.Graph::{{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
      , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
      , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
      , srs.node "rtc_play" (srs.Node.RtcOut srs.RtcOut::{{ listen = "127.0.0.1:{udp}", api = "127.0.0.1:{api}", candidate = "127.0.0.1" }})
      ]
    , edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "rtc_play" ]
    }}"#
    )
}

/// Chromium's fake camera and microphone, granted without a prompt.
pub const FAKE_MEDIA: [&str; 2] = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"];

/// The newest report a test page sent as `GET /<page>/report/<prefix>...` to the `StaticServer`
/// whose access log is `log`: the text after the prefix.
pub fn newest_report(log: &Path, page: &str, prefix: &str) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let needle = format!("GET /{page}/report/{prefix}");
    text.lines().rev().find_map(|line| {
        let (_, rest) = line.split_once(&needle)?;
        rest.split_whitespace().next().map(str::to_owned)
    })
}

/// A static file server for `dir` on 127.0.0.1 (Python's http.server on a free port): stands in
/// for any HTTP server in front of files a sink writes.
pub struct StaticServer {
    child: std::process::Child,
    pub port: u16,
}

impl StaticServer {
    pub fn start(dir: &Path) -> StaticServer {
        StaticServer::start_logging(dir, None)
    }

    /// Like `start`, with the request log (one line per request, path included) written to `log`.
    pub fn start_logging(dir: &Path, log: Option<&Path>) -> StaticServer {
        use std::io::BufRead;
        let stderr = match log {
            Some(path) => std::process::Stdio::from(std::fs::File::create(path).expect("log file")),
            None => std::process::Stdio::null(),
        };
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"])
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).expect("server announces its port");
        // "Serving HTTP on 127.0.0.1 port 38755 (http://127.0.0.1:38755/) ..."
        let port = line
            .split_whitespace()
            .skip_while(|word| *word != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        StaticServer { child, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{}", self.port, path.trim_start_matches('/'))
    }
}

/// Polls `check` every 100 ms until it gives a value or `seconds` pass.
pub fn wait_for<T>(seconds: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "timed out after {seconds} s waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium as this closed network needs it (no background requests, which the machine
/// refuses) with autoplay allowed.
pub const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
];

/// A self-signed certificate for 127.0.0.1 made by the openssl CLI: `(cert, key)` paths in `dir`.
pub fn self_signed(dir: &Path) -> (String, String) {
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl makes a certificate");
    (cert.display().to_string(), key.display().to_string())
}

/// Headless Chromium on a page, killed when dropped; its profile and log live in `dir`.
pub struct Browser(std::process::Child);

impl Browser {
    /// Opens `url` with the flags this closed network needs (no background requests) and
    /// autoplay allowed, in a fresh profile under `dir`.
    pub fn open(dir: &Path, url: &str) -> Browser {
        Browser::open_with(dir, url, &[])
    }

    /// `open` with more command-line flags (fake camera and microphone for WebRTC pages).
    pub fn open_with(dir: &Path, url: &str, flags: &[&str]) -> Browser {
        let child = Command::new("chromium")
            .args(CHROMIUM_FLAGS)
            .args(flags)
            .arg(format!("--user-data-dir={}", dir.join("chromium-profile").display()))
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("chromium.log")).expect("log file"))
            .spawn()
            .expect("chromium runs (scripts/install-test-deps installs it)");
        Browser(child)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `duration` and `filesize` of an FLV file's first tag, which must be its onMetaData.
pub fn flv_duration_and_size(path: &Path) -> (f64, f64) {
    let data = std::fs::read(path).expect("flv file");
    // File header (9 bytes) and the first previous-tag-size (4), then an 11-byte tag header.
    assert_eq!(data[13], 18, "{}: the first tag is script data", path.display());
    let body_len = u32::from_be_bytes([0, data[14], data[15], data[16]]) as usize;
    let body = &data[24..24 + body_len];
    let metadata = srs::codec::flv::on_metadata(body).expect("amf0").expect("onMetaData");
    let number = |key: &str| metadata.get(key).and_then(|v| v.as_f64()).unwrap_or(-1.0);
    (number("duration"), number("filesize"))
}

/// ffprobe's `format=duration` of a file.
pub fn format_duration(path: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0.0)
}

/// The resident memory of process `pid` in KiB (`VmRSS` in /proc/<pid>/status).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process is alive");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// `%XX` escapes decoded (pages report with `encodeURIComponent` in request paths the tests read
/// from a server's log).
pub fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
