//! Live HLS from a real-time file source, read by real players (ffprobe) over `HttpStatic`:
//! SRS's cutting rules, target duration, media sequence, window, dispose and atomic writes, for
//! H.264+AAC, AAC-only and MP3-only streams in TS, for fMP4, and for Low-Latency HLS.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{
    catalogue, http_request, make_clip_of, probe, temp_dir, wait_for_listener, ClipKind, SrsServer,
};

/// One `#EXTINF` entry of a playlist.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    duration: f64,
    uri: String,
    discontinuity: bool,
}

#[derive(Debug, Clone, Default)]
struct Playlist {
    version: u32,
    media_sequence: u64,
    target_duration: u64,
    entries: Vec<Entry>,
    parts: Vec<String>,
    preload_hint: Option<String>,
    map: Option<String>,
}

fn parse(text: &str) -> Playlist {
    assert!(text.starts_with("#EXTM3U\n"), "not a playlist: {text}");
    let mut playlist = Playlist::default();
    let mut pending: Option<(f64, bool)> = None;
    let mut discontinuity = false;
    let quoted =
        |line: &str| line.split("URI=\"").nth(1).and_then(|r| r.split('"').next()).map(str::to_owned);
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("#EXT-X-VERSION:") {
            playlist.version = v.parse().expect("version");
        } else if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            playlist.media_sequence = v.parse().expect("sequence");
        } else if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
            playlist.target_duration = v.parse().expect("target");
        } else if line == "#EXT-X-DISCONTINUITY" {
            discontinuity = true;
        } else if let Some(v) = line.strip_prefix("#EXTINF:") {
            let (seconds, title) = v.split_once(',').expect("EXTINF has a comma");
            assert_eq!(title, " no desc", "SRS's EXTINF title");
            assert_eq!(seconds.split('.').nth(1).map(str::len), Some(3), "three decimals: {line}");
            pending = Some((seconds.parse().expect("seconds"), std::mem::take(&mut discontinuity)));
        } else if line.starts_with("#EXT-X-PART:") {
            playlist.parts.push(quoted(line).expect("part uri"));
        } else if line.starts_with("#EXT-X-PRELOAD-HINT:") {
            playlist.preload_hint = quoted(line);
        } else if line.starts_with("#EXT-X-MAP:") {
            playlist.map = quoted(line);
        } else if !line.starts_with('#') && !line.is_empty() {
            let (duration, discontinuity) = pending.take().expect("a URI follows EXTINF");
            playlist.entries.push(Entry { duration, uri: line.to_owned(), discontinuity });
        }
    }
    playlist
}

fn get_playlist(port: u16, path: &str) -> Option<Playlist> {
    let response = http_request(port, "GET", path).ok()?;
    (response.status == 200).then(|| {
        assert_eq!(response.header("content-type"), Some("application/vnd.apple.mpegurl"));
        assert_eq!(response.header("cache-control"), Some("no-cache"));
        parse(&response.text())
    })
}

/// ffprobe: whether the first video frame of `url` is a keyframe.
fn starts_with_keyframe(url: &str) -> bool {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_frames", "-read_intervals", "%+#1"])
        .args(["-show_entries", "frame=key_frame", "-of", "csv=p=0", url])
        .output()
        .expect("ffprobe runs");
    // The first line may carry side data after the flag ("1,H.26[45] User Data ...").
    String::from_utf8_lossy(&out.stdout).lines().next().is_some_and(|l| l == "1" || l.starts_with("1,"))
}

/// ffprobe of a live playlist from its first listed segment to its last: the playlist as served,
/// with absolute URIs and `#EXT-X-ENDLIST` added, so ffprobe fetches every listed segment over
/// HTTP once and stops.
fn probe_live_playlist(dir: &Path, port: u16, m3u8: &str) -> Vec<common::StreamInfo> {
    let base = format!("http://127.0.0.1:{port}{}", &m3u8[..m3u8.rfind('/').expect("a directory") + 1]);
    let text = http_request(port, "GET", m3u8).expect("playlist").text();
    let mut copy = String::new();
    for line in text.lines() {
        if line.starts_with("#EXT-X-MAP:URI=\"") {
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
    let url = local.to_str().expect("utf-8");
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-protocol_whitelist", "file,http,tcp", "-count_frames"])
        .args(["-show_streams", "-of", "json", url])
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe {url}: {}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    json["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| common::StreamInfo {
            codec: s["codec_name"].as_str().unwrap_or_default().to_owned(),
            width: s["width"].as_u64().unwrap_or(0),
            height: s["height"].as_u64().unwrap_or(0),
            frames: s["nb_read_frames"].as_str().and_then(|n| n.parse().ok()).unwrap_or(0),
            duration: 0.0,
            start: 0.0,
            sample_rate: 0,
            channels: 0,
        })
        .collect()
}

fn hls_graph(dir: &Path, port: u16, clip: &Path, hls_fields: &str) -> String {
    format!(
        "let srs = {catalogue}\nin srs.Graph::{{\n\
         , nodes =\n\
           [ srs.node \"file\" (srs.Node.FileIn srs.FileIn::{{ path = \"{clip}\", stream = \"live/livestream\", realtime = True, repeat = False }})\n\
           , srs.node \"hls\" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = \"{html}\", hls_ctx = False, {hls_fields} }})\n\
           , srs.node \"web\" (srs.Node.HttpStatic srs.HttpStatic::{{ listen = \"127.0.0.1:{port}\", dir = \"{html}\" }})\n\
           ]\n\
         , edges = [ srs.edge \"file\" \"hls\" ]\n}}\n",
        catalogue = catalogue(),
        clip = clip.display(),
        html = dir.join("html").display(),
    )
}

/// Files under `dir` whose name ends with one of `suffixes`.
fn files_ending(dir: &Path, suffixes: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_ending(&path, suffixes));
        } else if suffixes.iter().any(|s| path.to_string_lossy().ends_with(s)) {
            found.push(path.display().to_string());
        }
    }
    found
}

/// What watching a live playlist until its stream ended showed.
struct Watched {
    /// Every playlist seen, in order.
    snapshots: Vec<Playlist>,
    /// Each segment URI with its EXTINF, as first listed complete.
    segments: BTreeMap<String, f64>,
    /// ffprobe of each segment on its own, taken while it was listed.
    probes: BTreeMap<String, (Vec<common::StreamInfo>, bool)>,
}

/// Polls the playlist until `srs` logs the end of the publish, probing each new segment.
fn watch(server: &SrsServer, port: u16, m3u8: &str, probe_segments: bool, limit: Duration) -> Watched {
    let base = format!("http://127.0.0.1:{port}{}", &m3u8[..m3u8.rfind('/').expect("a directory") + 1]);
    let mut watched = Watched { snapshots: Vec::new(), segments: BTreeMap::new(), probes: BTreeMap::new() };
    let start = Instant::now();
    loop {
        let ended = server.log_text().contains("publish ended");
        if let Some(playlist) = get_playlist(port, m3u8) {
            for entry in &playlist.entries {
                watched.segments.entry(entry.uri.clone()).or_insert(entry.duration);
                if probe_segments && !watched.probes.contains_key(&entry.uri) {
                    let url = format!("{base}{}", entry.uri);
                    let result = (probe(&url), starts_with_keyframe(&url));
                    watched.probes.insert(entry.uri.clone(), result);
                }
            }
            watched.snapshots.push(playlist);
        }
        if ended {
            // The last segment closes with the stream: one more look.
            std::thread::sleep(Duration::from_millis(500));
            if let Some(playlist) = get_playlist(port, m3u8) {
                for entry in &playlist.entries {
                    watched.segments.entry(entry.uri.clone()).or_insert(entry.duration);
                }
                watched.snapshots.push(playlist);
            }
            return watched;
        }
        assert!(start.elapsed() < limit, "stream did not end within {limit:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The sequence number in `livestream-<seq>.ts`.
fn seq_of(uri: &str) -> u64 {
    uri.trim_start_matches("livestream-")
        .split('.')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a numbered segment")
}

/// Properties every live playlist sequence must have.
fn assert_live_rules(watched: &Watched, cut_threshold: f64, window: f64) {
    assert!(!watched.snapshots.is_empty(), "a playlist was served");
    let mut last_sequence = 0;
    for playlist in &watched.snapshots {
        assert!(playlist.media_sequence >= last_sequence, "media sequence went back");
        last_sequence = playlist.media_sequence;
        let uris: Vec<&str> = playlist.entries.iter().map(|e| e.uri.as_str()).collect();
        let expected: Vec<String> =
            (0..uris.len() as u64).map(|i| format!("livestream-{}.", playlist.media_sequence + i)).collect();
        for (uri, prefix) in uris.iter().zip(&expected) {
            assert!(uri.starts_with(prefix), "sequence numbers follow the media sequence: {uris:?}");
        }
        for entry in &playlist.entries {
            assert!(
                playlist.target_duration >= entry.duration.round() as u64
                    && playlist.target_duration as f64 >= entry.duration,
                "EXT-X-TARGETDURATION {} below EXTINF {}",
                playlist.target_duration,
                entry.duration
            );
        }
        // SRS keeps the segment that crossed the window and everything newer.
        let newer: f64 = playlist.entries.iter().skip(1).map(|e| e.duration).sum();
        assert!(newer <= window + 1e-9, "window {window} s exceeded: {newer} s after the oldest");
    }
    let durations: Vec<f64> = watched.segments.values().copied().collect();
    let n = durations.len();
    assert!(n >= 2, "several segments: {durations:?}");
    let mut by_seq: Vec<(u64, f64)> = watched.segments.iter().map(|(uri, d)| (seq_of(uri), *d)).collect();
    by_seq.sort_by_key(|(seq, _)| *seq);
    for (seq, duration) in &by_seq[..n - 1] {
        assert!(
            *duration >= cut_threshold,
            "segment {seq} lasts {duration} s, under the cut threshold {cut_threshold}"
        );
    }
    assert!(
        watched.snapshots[0].entries.first().is_some_and(|e| e.discontinuity),
        "a publish starts a discontinuity"
    );
}

#[test]
fn ts_playlist_follows_srs_rules_and_plays() {
    let dir = temp_dir("hls-ts");
    let clip = dir.join("in.flv");
    make_clip_of(&clip, "flv", 16, 50, ClipKind::H264Aac);
    let port = 18610;
    let fields = "hls_fragment = 2.0, hls_window = 10.0, hls_dispose = 4";
    let server = SrsServer::start(&dir, &hls_graph(&dir, port, &clip, fields));
    wait_for_listener(port, Duration::from_secs(10));
    let watched = watch(&server, port, "/live/livestream.m3u8", true, Duration::from_secs(40));
    assert_live_rules(&watched, 2.0, 10.0);
    for (uri, (streams, keyframe_first)) in &watched.probes {
        let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{uri} has video"));
        assert_eq!((video.width, video.height), (320, 240), "{uri}");
        assert!(streams.iter().any(|s| s.codec == "aac"), "{uri} has audio");
        assert!(*keyframe_first, "{uri} starts with a keyframe");
    }
    // The whole 16 s went into segments: the sum of EXTINFs matches the clip.
    let total: f64 = watched.segments.values().sum();
    assert!((total - 16.0).abs() < 0.3, "segments add up to {total} s");
    let html = dir.join("html");
    assert!(files_ending(&html, &[".tmp", ".temp"]).is_empty(), "no temporary file left");
    // The final playlist, end to end.
    let streams = probe_live_playlist(&dir, port, "/live/livestream.m3u8");
    let video = streams.iter().find(|s| s.codec == "h264").expect("video");
    assert_eq!((video.width, video.height), (320, 240));
    let listed: f64 = watched.snapshots.last().unwrap().entries.iter().map(|e| e.duration).sum();
    assert!(
        (video.frames as f64 - listed * 25.0).abs() <= 3.0,
        "{} frames for {listed} s listed",
        video.frames
    );
    assert!(streams.iter().any(|s| s.codec == "aac" && s.frames > 0));
    // Window: segments that left it were deleted (hls_cleanup).
    let on_disk = files_ending(&html, &[".ts"]).len();
    assert_eq!(on_disk, watched.snapshots.last().unwrap().entries.len(), "only listed segments stay on disk");
    // hls_dispose 4 s after unpublish removes everything.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !files_ending(&html, &[".ts", ".m3u8"]).is_empty() {
        assert!(Instant::now() < deadline, "files disposed: {:?}", files_ending(&html, &[".ts", ".m3u8"]));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(http_request(port, "GET", "/live/livestream.m3u8").unwrap().status, 404);
}

#[test]
fn audio_only_streams_cut_at_the_aof_ratio() {
    let dir = temp_dir("hls-audio");
    let aac = dir.join("aac.flv");
    make_clip_of(&aac, "flv", 14, 50, ClipKind::AacOnly);
    let port = 18620;
    // Timestamps from AAC sample counts (hls_dts_directly off) as SRS offers.
    let fields = "hls_fragment = 2.0, hls_window = 30.0, hls_dts_directly = False";
    let server = SrsServer::start(&dir, &hls_graph(&dir, port, &aac, fields));
    wait_for_listener(port, Duration::from_secs(10));
    let watched = watch(&server, port, "/live/livestream.m3u8", true, Duration::from_secs(40));
    // Pure audio: cut at hls_fragment × hls_aof_ratio = 4.2 s.
    assert_live_rules(&watched, 4.2, 30.0);
    let last = watched.probes.keys().max_by_key(|uri| seq_of(uri)).cloned();
    for (uri, (streams, _)) in &watched.probes {
        assert_eq!(streams.len(), 1, "{uri}: audio only");
        assert_eq!(streams[0].codec, "aac", "{uri}");
        // 4.2 s of 1024-sample frames at 44.1 kHz is 181 frames.
        assert!(
            streams[0].frames >= 180 || Some(uri) == last.as_ref(),
            "{uri}: {} frames",
            streams[0].frames
        );
    }
    let total: f64 = watched.segments.values().sum();
    assert!((total - 14.0).abs() < 0.3, "segments add up to {total} s");
}

#[test]
fn mp3_stream_plays_from_ts_segments() {
    let dir = temp_dir("hls-mp3");
    let mp3 = dir.join("mp3.flv");
    make_clip_of(&mp3, "flv", 8, 50, ClipKind::Mp3Only);
    let port = 18630;
    let server =
        SrsServer::start(&dir, &hls_graph(&dir, port, &mp3, "hls_fragment = 1.0, hls_aof_ratio = 2.0"));
    wait_for_listener(port, Duration::from_secs(10));
    let watched = watch(&server, port, "/live/livestream.m3u8", true, Duration::from_secs(30));
    assert_live_rules(&watched, 2.0, 60.0);
    for (uri, (streams, _)) in &watched.probes {
        assert_eq!(streams.iter().map(|s| s.codec.as_str()).collect::<Vec<_>>(), ["mp3"], "{uri}");
    }
}

#[test]
fn fmp4_playlist_plays_with_its_init_segment() {
    let dir = temp_dir("hls-fmp4");
    let clip = dir.join("in.flv");
    make_clip_of(&clip, "flv", 10, 50, ClipKind::H264Aac);
    let port = 18640;
    let fields = "hls_fragment = 2.0, segment_format = srs.SegmentFormat.Fmp4";
    let server = SrsServer::start(&dir, &hls_graph(&dir, port, &clip, fields));
    wait_for_listener(port, Duration::from_secs(10));
    let watched = watch(&server, port, "/live/livestream.m3u8", false, Duration::from_secs(30));
    assert_live_rules(&watched, 2.0, 60.0);
    let last = watched.snapshots.last().unwrap();
    assert_eq!(last.version, 7);
    let map = last.map.clone().expect("EXT-X-MAP");
    let init = http_request(port, "GET", &format!("/live/{map}")).unwrap();
    assert_eq!((init.status, init.header("content-type")), (200, Some("video/mp4")));
    assert!(last.entries.iter().all(|e| e.uri.ends_with(".m4s")));
    let streams = probe_live_playlist(&dir, port, "/live/livestream.m3u8");
    let video = streams.iter().find(|s| s.codec == "h264").expect("video");
    assert_eq!((video.width, video.height), (320, 240));
    assert!((video.frames as i64 - 250).abs() <= 3, "{} video frames of 250", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac" && s.frames > 300));
}

#[test]
fn low_latency_playlist_has_parts_and_blocks_until_the_part_exists() {
    let dir = temp_dir("hls-ll");
    let clip = dir.join("in.flv");
    make_clip_of(&clip, "flv", 14, 50, ClipKind::H264Aac);
    let port = 18650;
    let fields =
        "hls_fragment = 2.0, segment_format = srs.SegmentFormat.Fmp4, low_latency = True, part_target = 500";
    let server = SrsServer::start(&dir, &hls_graph(&dir, port, &clip, fields));
    wait_for_listener(port, Duration::from_secs(10));
    let m3u8 = "/live/livestream.m3u8";
    let start = Instant::now();
    let playlist = loop {
        if let Some(playlist) =
            get_playlist(port, m3u8).filter(|p| !p.entries.is_empty() && p.preload_hint.is_some())
        {
            break playlist;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "an LL playlist appears");
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = http_request(port, "GET", m3u8).unwrap().text();
    assert!(text.contains("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.000\n"), "{text}");
    assert!(text.contains("#EXT-X-PART-INF:PART-TARGET=0.500\n"), "{text}");
    assert!(text.contains(",INDEPENDENT=YES"), "{text}");
    assert!(!playlist.parts.is_empty());
    // The hinted part: `<segment>.<part>.m4s`. Ask for the playlist holding it, blocking.
    let hint = playlist.preload_hint.clone().unwrap();
    let (segment, part) = {
        let mut fields = hint.trim_end_matches(".m4s").rsplit('.');
        let part: u32 = fields.next().unwrap().parse().unwrap();
        let seq: u64 = fields.next().unwrap().rsplit('-').next().unwrap().parse().unwrap();
        (seq, part)
    };
    assert!(http_request(port, "GET", &format!("/live/{hint}")).is_ok());
    let blocked = http_request(port, "GET", &format!("{m3u8}?_HLS_msn={segment}&_HLS_part={part}")).unwrap();
    assert_eq!(blocked.status, 200);
    let after = parse(&blocked.text());
    assert!(
        after.parts.contains(&hint),
        "the blocking reload returned once {hint} was listed: {:?}",
        after.parts
    );
    // The hinted part itself was served (requested before it existed, answered once written).
    let part_file = http_request(port, "GET", &format!("/live/{hint}")).unwrap();
    assert_eq!((part_file.status, part_file.header("content-type")), (200, Some("video/iso.segment")));
    assert!(part_file.body.windows(4).any(|w| w == b"moof"), "a part is a movie fragment");
    // Too far ahead is refused.
    let far = http_request(port, "GET", &format!("{m3u8}?_HLS_msn={}", segment + 10)).unwrap();
    assert_eq!(far.status, 400);
    drop(server);
}
