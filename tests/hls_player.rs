//! hls.js (npm `hls.js`, installed by scripts/install-test-deps) in headless Chromium plays our live
//! HLS, served by our own `HttpStatic`: classic TS segments, AES-128 encrypted TS segments
//! (`hls_keys`), and Low-Latency HLS (fMP4 parts, blocking playlist reload) in hls.js's
//! low-latency mode. Each plays past 5 s of media time at the stream's resolution without a fatal
//! player error; the low-latency one also without a hole, a stall or a rebuffer, close to the live
//! edge. The page reports through requests to a small static server whose log the test reads;
//! `--nocapture` prints startup, latency, rebuffers and hls.js's non-fatal errors, and with
//! `HLS_PLAYER_WARNINGS=1` every warning hls.js logs.

mod common;

use std::path::Path;

use common::{free_port, make_h264_aac, run_graph, temp_dir, unescape, wait_for, Browser, StaticServer};

/// One report: media time, picture size, hls.js's latency estimate (seconds behind live).
#[derive(Debug, Clone)]
struct Report {
    time: f64,
    size: String,
    latency: f64,
}

/// Everything the page reported so far.
#[derive(Debug, Clone, Default)]
struct Session {
    newest: Option<Report>,
    /// Fatal hls.js errors (`type:details`).
    errors: Vec<String>,
    /// Non-fatal hls.js errors, as `<details>-at<currentTime>` (`bufferSeekOverHole`,
    /// `bufferStalledError`, ...).
    events: Vec<String>,
    /// `currentTime` of each `waiting` event after the first `playing`: rebuffers.
    waiting: Vec<String>,
    /// Seconds from page load to the first `playing` event.
    startup: Option<f64>,
    /// hls.js's own warnings (with `warn = true`).
    warnings: Vec<String>,
}

fn reports(log: &Path) -> Session {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut session = Session::default();
    for line in text.lines() {
        let Some((_, rest)) = line.split_once("GET /report/") else { continue };
        let report = rest.split_whitespace().next().unwrap_or_default();
        if let Some(report) = report.strip_prefix("time-") {
            let mut parts = report.split('-');
            let time = parts.next().and_then(|t| t.parse::<f64>().ok());
            let size = parts.next().and_then(|s| s.strip_prefix('w')).map(str::to_owned);
            let latency = report.rsplit_once("-lat").and_then(|(_, l)| l.parse::<f64>().ok());
            if let (Some(time), Some(size)) = (time, size) {
                session.newest = Some(Report { time, size, latency: latency.unwrap_or(-1.0) });
            }
        } else if let Some(error) = report.strip_prefix("error-") {
            session.errors.push(error.to_owned());
        } else if let Some(event) = report.strip_prefix("event-") {
            session.events.push(unescape(event));
        } else if let Some(at) = report.strip_prefix("waiting-") {
            session.waiting.push(at.to_owned());
        } else if let Some(startup) = report.strip_prefix("playing-") {
            session.startup = startup.parse().ok();
        } else if let Some(warning) = report.strip_prefix("warn-") {
            session.warnings.push(unescape(warning));
        }
    }
    session
}

/// Plays `playlist` (a URL path on our HTTP port) with hls.js until past 5 s; returns what the
/// page reported.
fn play(name: &str, hls_node: &str, playlist: &str, low_latency: bool) -> Session {
    let warn = std::env::var_os("HLS_PLAYER_WARNINGS").is_some();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let player_js = root.join("tests/player/node_modules/hls.js/dist/hls.min.js");
    assert!(player_js.exists(), "{} missing: run scripts/install-test-deps", player_js.display());
    let dir = temp_dir(name);
    let (page_dir, out) = (dir.join("page"), dir.join("html"));
    std::fs::create_dir_all(&page_dir).expect("page dir");
    std::fs::copy(&player_js, page_dir.join("hls.min.js")).expect("copy hls.js");
    std::fs::copy(root.join("tests/player/hls.html"), page_dir.join("hls.html")).expect("copy page");
    make_h264_aac(&dir.join("in.flv"), "flv", 8);
    let http = free_port();
    let graph = format!(
        r#"srs.Graph::{{
    , nodes =
      [ srs.node "file" (srs.Node.FileIn srs.FileIn::{{ path = "{input}", stream = "live/test", realtime = True, repeat = True }})
      , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
      , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = "{out}", {hls_node} }})
      , srs.node "http" (srs.Node.HttpStatic srs.HttpStatic::{{ listen = "127.0.0.1:{http}", dir = "{out}" }})
      ]
    , edges = [ srs.edge "file" "__defaultVhost__", srs.edge "__defaultVhost__" "hls" ]
    }}"#,
        input = dir.join("in.flv").display(),
        out = out.display(),
    );
    let _srs = run_graph(&dir, &graph, &[http]);
    let log = dir.join("page.log");
    let pages = StaticServer::start_logging(&page_dir, Some(&log));
    // The player joins a stream already running (two segments listed), as a viewer usually does:
    // where it starts is then wherever the live edge is, not the stream's first frame.
    wait_for(30, "the first segments", || {
        let playlist = std::fs::read_to_string(out.join("live/test.m3u8")).unwrap_or_default();
        (playlist.matches("#EXTINF").count() >= 2).then_some(())
    });
    let source = format!("http://127.0.0.1:{http}{playlist}");
    let page =
        pages.url(&format!("hls.html?src={source}&ll={}&warn={}", u8::from(low_latency), u8::from(warn)));
    let _browser = Browser::open(&dir, &page);
    // A fatal error counts only if playback never gets past 5 s: on a loaded 2-core CI machine a
    // request can time out once and hls.js recovers by reloading (seen once in low-latency mode).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (session, report) = loop {
        let session = reports(&log);
        if let Some(report) = session.newest.clone().filter(|r| r.time > 5.0) {
            if !session.errors.is_empty() {
                println!("hls.js recovered from: {:?}", session.errors);
            }
            break (session, report);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "hls.js never played past 5 s; fatal errors: {:?}",
            session.errors
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(report.size, "320x240", "decoded picture size at {} s", report.time);
    println!(
        "{name}: startup {:?} s, latency {:.2} s at {:.2} s, rebuffers at {:?}, hls.js errors {:?}",
        session.startup, report.latency, report.time, session.waiting, session.events
    );
    for warning in &session.warnings {
        println!("{name}: hls.js: {warning}");
    }
    session
}

#[test]
fn hls_js_plays_classic_ts_hls() {
    play("hls-player-ts", "hls_fragment = 2.0", "/live/test.m3u8", false);
}

#[test]
fn hls_js_plays_aes_128_encrypted_hls() {
    // hls.js fetches each key named by #EXT-X-KEY and decrypts the segments (WebCrypto); keys
    // change every 2 segments, so it crosses several keys within the 5 s it must play.
    let node = "hls_fragment = 1.0, hls_keys = True, hls_fragments_per_key = 2";
    play("hls-player-aes", node, "/live/test.m3u8", false);
}

/// hls.js in low-latency mode starts PART-HOLD-BACK (two 0.5 s parts) behind the newest part of
/// its first playlist and stays there. The server answers that first load when a part completes
/// (`http_static::wait_for_fresh_part`), so the newest part is not up to a part old; what remains
/// beyond the 1.0 s is hls.js loading from the last independent part before it plays. Measured
/// 1.24–1.40 s over 5 runs beside four builds (load 12); answered at once, 1.42–1.68 s.
const LL_LATENCY_LIMIT: f64 = 1.5;

#[test]
fn hls_js_plays_low_latency_hls_in_low_latency_mode() {
    let node =
        "hls_fragment = 2.0, segment_format = srs.SegmentFormat.Fmp4, low_latency = True, part_target = 500";
    let session = play("hls-player-ll", node, "/live/test.m3u8", true);
    let latency = session.newest.as_ref().map_or(-1.0, |r| r.latency);
    assert!(latency >= 0.0, "hls.js knows its distance to the live edge in low-latency mode");
    // A seamless start: the first part's audio and video are buffered where playback starts, so
    // hls.js has no hole to seek over and the video element never waits once it has played.
    let holes: Vec<&String> = session.events.iter().filter(|e| e.starts_with("bufferSeekOverHole")).collect();
    assert!(holes.is_empty(), "hls.js seeked over a hole: {holes:?}");
    let stalls: Vec<&String> =
        session.events.iter().filter(|e| e.starts_with("bufferStalledError")).collect();
    assert!(stalls.is_empty(), "hls.js stalled: {stalls:?}");
    assert!(session.waiting.is_empty(), "rebuffered after playback started, at {:?}", session.waiting);
    assert!(
        latency <= LL_LATENCY_LIMIT,
        "hls.js plays {latency:.2} s behind live with 0.5 s parts (limit {LL_LATENCY_LIMIT} s)"
    );
}
