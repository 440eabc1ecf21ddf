//! SRS's `hls_keys` (AES-128 segments with rotating keys), `hls_on_error` and local time in file
//! names, checked with real clients: ffprobe decodes the encrypted live playlist over HTTP,
//! `openssl enc -d` decrypts a segment with the served key and announced IV, ffmpeg publishes over
//! RTMP to `srs -c` with an srs.conf, and is disconnected (or not) when HLS cannot write; key
//! files leave with their last segment and on `hls_dispose`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{
    catalogue, free_port, http_request, make_clip_of, publish_test_stream, srs_bin, temp_dir,
    wait_for_listener, wait_for_port, ClipKind, Server, SrsServer,
};

/// One `#EXT-X-KEY` line and the segment it precedes.
#[derive(Debug, Clone)]
struct KeyLine {
    uri: String,
    iv: String,
    /// The URI of the segment right after the line.
    first_segment: String,
}

/// The segment URIs of a playlist and its key lines.
fn segments_and_keys(text: &str) -> (Vec<String>, Vec<KeyLine>) {
    let (mut segments, mut keys) = (Vec::new(), Vec::<KeyLine>::new());
    let mut pending: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(attributes) = line.strip_prefix("#EXT-X-KEY:") {
            let rest = attributes.strip_prefix("METHOD=AES-128,URI=\"").unwrap_or_else(|| panic!("{line}"));
            let (uri, rest) = rest.split_once('"').expect("quoted URI");
            let iv = rest.strip_prefix(",IV=0x").unwrap_or_else(|| panic!("IV after the URI: {line}"));
            assert_eq!(iv.len(), 32, "IV of 16 bytes: {line}");
            assert!(iv.chars().all(|c| c.is_ascii_hexdigit()), "hexadecimal IV: {line}");
            pending = Some((uri.to_owned(), iv.to_owned()));
        } else if !line.starts_with('#') && !line.is_empty() {
            if let Some((uri, iv)) = pending.take() {
                keys.push(KeyLine { uri, iv, first_segment: line.to_owned() });
            }
            segments.push(line.to_owned());
        }
    }
    (segments, keys)
}

/// The sequence number in `livestream-<seq>.ts`.
fn seq_of(uri: &str) -> u64 {
    let name = uri.rsplit('/').next().unwrap_or(uri);
    name.trim_end_matches(".ts").rsplit('-').next().and_then(|n| n.parse().ok()).expect("a numbered segment")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `bytes` is MPEG-TS: whole 188-byte packets, each starting with the 0x47 sync byte.
fn is_ts(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.len() % 188 == 0 && bytes.chunks(188).all(|p| p[0] == 0x47)
}

fn encrypted_graph(dir: &Path, port: u16, clip: &Path) -> String {
    graph_with(dir, port, clip, "hls_window = 60.0, hls_dispose = 0, hls_fragments_per_key = 3")
}

fn graph_with(dir: &Path, port: u16, clip: &Path, fields: &str) -> String {
    format!(
        "let srs = {catalogue}\nin srs.Graph::{{\n\
         , nodes =\n\
           [ srs.node \"file\" (srs.Node.FileIn srs.FileIn::{{ path = \"{clip}\", stream = \"live/livestream\", realtime = True, repeat = False }})\n\
           , srs.node \"hls\" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = \"{html}\", hls_fragment = 1.0, hls_keys = True, {fields} }})\n\
           , srs.node \"web\" (srs.Node.HttpStatic srs.HttpStatic::{{ listen = \"127.0.0.1:{port}\", dir = \"{html}\" }})\n\
           ]\n\
         , edges = [ srs.edge \"file\" \"hls\" ]\n}}\n",
        catalogue = catalogue(),
        clip = clip.display(),
        html = dir.join("html").display(),
    )
}

/// The `.key` files under `dir`, by name.
fn key_files(dir: &Path) -> BTreeSet<String> {
    all_files(dir)
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".key"))
        .collect()
}

#[test]
fn key_files_leave_with_their_last_segment_and_on_dispose() {
    let dir = temp_dir("hls-keys-cleanup");
    let clip = dir.join("in.flv");
    make_clip_of(&clip, "flv", 10, 25, ClipKind::H264Aac);
    let port = free_port();
    let fields = "hls_window = 3.0, hls_dispose = 3, hls_fragments_per_key = 2";
    let server = SrsServer::start(&dir, &graph_with(&dir, port, &clip, fields));
    wait_for_listener(port, Duration::from_secs(10));
    server.wait_for_log("publish ended", Duration::from_secs(40));
    std::thread::sleep(Duration::from_millis(500));
    let text = std::fs::read_to_string(dir.join("html/live/livestream.m3u8")).expect("playlist");
    let (segments, keys) = segments_and_keys(&text);
    assert!(seq_of(&segments[0]) >= 4, "the window moved on: {segments:?}");
    assert_eq!(keys[0].first_segment, segments[0], "the first listed segment names its key:\n{text}");
    // Exactly the keys of the listed segments are left (hls_cleanup).
    let named: BTreeSet<String> = keys.iter().map(|k| k.uri.clone()).collect();
    assert_eq!(key_files(&dir.join("html")), named, "key files on disk");
    // hls_dispose 3 s after the publish removes them with the rest.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !key_files(&dir.join("html")).is_empty() {
        assert!(std::time::Instant::now() < deadline, "keys disposed: {:?}", key_files(&dir.join("html")));
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(server);
}

#[test]
fn encrypted_ts_hls_rotates_keys_and_decodes() {
    let dir = temp_dir("hls-keys");
    let clip = dir.join("in.flv");
    make_clip_of(&clip, "flv", 10, 25, ClipKind::H264Aac);
    let port = free_port();
    let server = SrsServer::start(&dir, &encrypted_graph(&dir, port, &clip));
    wait_for_listener(port, Duration::from_secs(10));
    server.wait_for_log("publish ended", Duration::from_secs(40));
    std::thread::sleep(Duration::from_millis(500));
    let m3u8 = "/live/livestream.m3u8";
    let text = http_request(port, "GET", m3u8).expect("playlist").text();
    let (segments, keys) = segments_and_keys(&text);
    println!("{} segments, {} keys:\n{text}", segments.len(), keys.len());
    assert!(segments.len() >= 8, "1 s segments of a 10 s clip: {segments:?}");

    // A key line before the first segment and before every third sequence number, nowhere else.
    assert_eq!(keys[0].first_segment, segments[0], "the first listed segment names its key");
    let keyed: Vec<u64> = keys.iter().map(|k| seq_of(&k.first_segment)).collect();
    let expected: Vec<u64> = segments.iter().map(|s| seq_of(s)).filter(|seq| seq % 3 == 0).collect();
    assert_eq!(keyed, expected, "a new key every hls_fragments_per_key = 3 segments");
    for key in &keys {
        assert_eq!(
            key.uri,
            format!("livestream-{}.key", seq_of(&key.first_segment)),
            "key named by its first seq"
        );
    }

    // Every key is its own: 16 random bytes served next to the playlist, and its own IV.
    let mut key_bytes = BTreeSet::new();
    let mut served = Vec::new();
    for key in &keys {
        let response = http_request(port, "GET", &format!("/live/{}", key.uri)).expect("key");
        assert_eq!(response.status, 200, "{} is served", key.uri);
        assert_eq!(response.body.len(), 16, "{}: a 16-byte AES-128 key", key.uri);
        key_bytes.insert(response.body.clone());
        served.push(response.body);
    }
    assert_eq!(key_bytes.len(), keys.len(), "distinct keys");
    let ivs: BTreeSet<&str> = keys.iter().map(|k| k.iv.as_str()).collect();
    assert_eq!(ivs.len(), keys.len(), "distinct IVs");

    // A segment on the wire is not MPEG-TS; decrypted with its key and IV by openssl, it is.
    for (key, bytes) in keys.iter().zip(&served) {
        for seq in seq_of(&key.first_segment)..seq_of(&key.first_segment) + 3 {
            let uri = format!("livestream-{seq}.ts");
            if !segments.contains(&uri) {
                continue;
            }
            let raw = http_request(port, "GET", &format!("/live/{uri}")).expect("segment").body;
            assert!(!is_ts(&raw), "{uri} on the wire is not MPEG-TS");
            let (encrypted, decrypted) = (dir.join("segment.enc"), dir.join("segment.ts"));
            std::fs::write(&encrypted, &raw).expect("segment copy");
            let out = Command::new("openssl")
                .args(["enc", "-d", "-aes-128-cbc", "-K", &hex(bytes), "-iv", &key.iv, "-in"])
                .arg(&encrypted)
                .arg("-out")
                .arg(&decrypted)
                .output()
                .expect("openssl runs");
            assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
            let plain = std::fs::read(&decrypted).expect("decrypted");
            assert!(is_ts(&plain), "{uri} decrypts to 188-byte packets synced on 0x47");
            // PKCS#7 adds 1 to 16 bytes, up to whole AES blocks.
            assert_eq!(raw.len(), plain.len() / 16 * 16 + 16, "{uri}: padded to whole blocks");
        }
    }

    // ffprobe reads the whole playlist over HTTP, fetching the keys itself (a copy with absolute
    // URIs and an end, so it reads every listed segment once).
    let base = format!("http://127.0.0.1:{port}/live/");
    let mut copy = String::new();
    for line in text.lines() {
        if line.starts_with("#EXT-X-KEY:") {
            copy.push_str(&line.replace("URI=\"", &format!("URI=\"{base}")));
        } else if !line.starts_with('#') && !line.is_empty() {
            copy.push_str(&format!("{base}{line}"));
        } else {
            copy.push_str(line);
        }
        copy.push('\n');
    }
    copy.push_str("#EXT-X-ENDLIST\n");
    let local = dir.join("copy.m3u8");
    std::fs::write(&local, copy).expect("playlist copy");
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-allowed_extensions", "ALL", "-protocol_whitelist", "file,http,tcp,crypto"])
        .args(["-count_frames", "-show_streams", "-of", "json"])
        .arg(&local)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe: {}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let streams = json["streams"].as_array().expect("streams");
    let video = streams.iter().find(|s| s["codec_name"] == "h264").expect("video");
    assert_eq!((video["width"].as_u64(), video["height"].as_u64()), (Some(320), Some(240)));
    let frames: u64 = video["nb_read_frames"].as_str().and_then(|n| n.parse().ok()).unwrap_or(0);
    // Every segment of the 10 s clip is listed (hls_window 60), so all 250 frames decode.
    assert!((247..=250).contains(&frames), "{frames} video frames decoded of 250");
    let audio = streams.iter().find(|s| s["codec_name"] == "aac").expect("audio");
    let audio_frames: u64 = audio["nb_read_frames"].as_str().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(audio_frames > 400, "{audio_frames} aac frames (10 s at 44.1 kHz is 430)");
    drop(server);
}

/// `srs -c srs.conf` in `dir` under the time zone `tz`; stderr to `srs.log`.
fn spawn_srs_c(dir: &Path, conf: &str, tz: &str, ports: &[u16]) -> Server {
    std::fs::write(dir.join("srs.conf"), conf).expect("srs.conf");
    let log = std::fs::File::create(dir.join("srs.log")).expect("log file");
    let mut command = Command::new(srs_bin());
    command.args(["-c", "srs.conf"]).current_dir(dir).env("TZ", tz).env("RUST_LOG", "info").stderr(log);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SRS_") {
            command.env_remove(name);
        }
    }
    let server = Server { child: command.spawn().expect("srs starts"), dir: dir.to_owned() };
    for port in ports {
        wait_for_port(*port, &server);
    }
    server
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(all_files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn utc_hour(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).expect("after 1970").as_secs() / 3600 % 24
}

#[test]
fn srs_conf_names_files_in_local_time_unless_utc_time() {
    // Asia/Shanghai is UTC+8 all year (no daylight saving time), so its hour is never UTC's.
    for (utc_time, offset) in [("off", 8), ("on", 0)] {
        let dir = temp_dir(&format!("hls-keys-localtime-{utc_time}"));
        let (rtmp, http) = (free_port(), free_port());
        let conf = format!(
            "listen 127.0.0.1:{rtmp};\nsrs_log_tank console;\nutc_time {utc_time};\n\
             http_server {{ enabled on; listen 127.0.0.1:{http}; dir ./html; }}\n\
             vhost __defaultVhost__ {{\n\
               hls {{ enabled on; hls_path ./html; hls_fragment 1; hls_dispose 0;\n\
                      hls_ts_file [app]/[stream]-[15]h-[seq].ts; hls_keys on; hls_fragments_per_key 2;\n\
                      hls_key_url http://127.0.0.1:{http}/; }}\n\
               dvr {{ enabled on; dvr_path ./dvr/[app]/[stream]-[15]h.flv; }}\n\
             }}\n"
        );
        let server = spawn_srs_c(&dir, &conf, "Asia/Shanghai", &[rtmp, http]);
        let before = SystemTime::now();
        let mut ffmpeg = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/livestream"), 4);
        let status = ffmpeg.wait().expect("ffmpeg waits");
        assert!(status.success(), "ffmpeg publishes 4 s; log:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(800));
        let after = SystemTime::now();
        let hours: BTreeSet<String> =
            [before, after].iter().map(|t| format!("{:02}h", (utc_hour(*t) + offset) % 24)).collect();
        let names: Vec<String> = all_files(&dir.join("html"))
            .iter()
            .chain(all_files(&dir.join("dvr")).iter())
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        let segments: Vec<&String> = names.iter().filter(|n| n.ends_with(".ts")).collect();
        assert!(!segments.is_empty(), "segments written: {names:?}\n{}", server.log());
        for name in segments.iter().copied().chain(names.iter().filter(|n| n.ends_with(".flv"))) {
            let hour = name.trim_start_matches("livestream-").get(..3).unwrap_or_default();
            assert!(hours.contains(hour), "utc_time {utc_time}: {name} names the hour as one of {hours:?}");
        }
        assert!(names.iter().any(|n| n.ends_with(".flv")), "a dvr file: {names:?}");
        // hls_key_url is put in front of the key file's path, as SRS does.
        let playlist = std::fs::read_to_string(dir.join("html/live/livestream.m3u8")).expect("playlist");
        let key_line = playlist.lines().find(|l| l.starts_with("#EXT-X-KEY:")).expect("a key line");
        assert!(key_line.contains(&format!("URI=\"http://127.0.0.1:{http}/live/livestream-")), "{key_line}");
        let key_uri = key_line.split('"').nth(1).expect("uri");
        let key_path = key_uri.trim_start_matches(&format!("http://127.0.0.1:{http}"));
        let key = http_request(http, "GET", key_path).expect("key");
        assert_eq!((key.status, key.body.len()), (200, 16), "{key_uri}");
        drop(server);
    }
}

/// Publishes 6 s to a server whose hls_path cannot be created (a regular file is in the way, which
/// stops root as well): how long ffmpeg's publish lasted, whether it succeeded, and the log.
fn publish_with_broken_hls(name: &str, on_error: &str) -> (Duration, bool, String) {
    let dir = temp_dir(name);
    std::fs::write(dir.join("blocker"), b"not a directory").expect("blocker file");
    let rtmp = free_port();
    let conf = format!(
        "listen 127.0.0.1:{rtmp};\nsrs_log_tank console;\n\
         vhost __defaultVhost__ {{ hls {{ enabled on; hls_path ./blocker/html; hls_fragment 1; hls_on_error {on_error}; }} }}\n"
    );
    let server = spawn_srs_c(&dir, &conf, "UTC", &[rtmp]);
    let started = std::time::Instant::now();
    let mut ffmpeg = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/livestream"), 6);
    let status = loop {
        if let Some(status) = ffmpeg.try_wait().expect("ffmpeg") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "ffmpeg ran past 30 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    (elapsed, status.success(), server.log())
}

#[test]
fn hls_on_error_disconnects_or_ignores() {
    let (elapsed, ok, log) = publish_with_broken_hls("hls-on-error-disconnect", "disconnect");
    assert!(
        !ok && elapsed < Duration::from_secs(5),
        "disconnect: ffmpeg ended after {elapsed:?} (ok {ok})\n{log}"
    );
    assert!(log.contains("the publisher is disconnected"), "{log}");
    // SRS's default, continue: a file that cannot be written disconnects as well.
    let (elapsed, ok, log) = publish_with_broken_hls("hls-on-error-continue", "continue");
    assert!(
        !ok && elapsed < Duration::from_secs(5),
        "continue: ffmpeg ended after {elapsed:?} (ok {ok})\n{log}"
    );
    let (elapsed, ok, log) = publish_with_broken_hls("hls-on-error-ignore", "ignore");
    assert!(
        ok && elapsed >= Duration::from_secs(5),
        "ignore: the publish goes on ({elapsed:?}, ok {ok})\n{log}"
    );
    assert!(log.contains("hls stops for this publish"), "{log}");
    assert_eq!(log.matches("hls stops for this publish").count(), 1, "said once:\n{log}");
}
