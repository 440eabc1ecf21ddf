//! hls.js (npm `hls.js`, installed by scripts/install-test-deps) in headless Chromium plays our live
//! HLS, served by our own `HttpStatic`: classic TS segments, AES-128 encrypted TS segments
//! (`hls_keys`), and Low-Latency HLS (fMP4 parts, blocking playlist reload) in hls.js's
//! low-latency mode. Each plays past 5 s of media time at the stream's resolution without a fatal
//! player error. The page reports through requests to a small static server whose log the test
//! reads.

mod common;

use std::path::Path;

use common::{free_port, make_h264_aac, run_graph, temp_dir, wait_for, Browser, StaticServer};

/// One report: media time, picture size, hls.js's latency estimate (seconds behind live).
#[derive(Debug, Clone)]
struct Report {
    time: f64,
    size: String,
    latency: f64,
}

fn reports(log: &Path) -> (Option<Report>, Vec<String>) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut newest = None;
    let mut errors = Vec::new();
    for line in text.lines() {
        if let Some((_, rest)) = line.split_once("GET /report/time-") {
            let report = rest.split_whitespace().next().unwrap_or_default();
            let mut parts = report.split('-');
            let time = parts.next().and_then(|t| t.parse::<f64>().ok());
            let size = parts.next().and_then(|s| s.strip_prefix('w')).map(str::to_owned);
            let latency = report.rsplit_once("-lat").and_then(|(_, l)| l.parse::<f64>().ok());
            if let (Some(time), Some(size)) = (time, size) {
                newest = Some(Report { time, size, latency: latency.unwrap_or(-1.0) });
            }
        } else if line.contains("GET /report/error-") {
            errors.push(line.to_owned());
        }
    }
    (newest, errors)
}

/// Plays `playlist` (a URL path on our HTTP port) with hls.js until past 5 s; returns the report.
fn play(name: &str, hls_node: &str, playlist: &str, low_latency: bool) -> Report {
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
    wait_for(30, "the first segments", || out.join("live/test.m3u8").exists().then_some(()));
    let source = format!("http://127.0.0.1:{http}{playlist}");
    let page = pages.url(&format!("hls.html?src={source}&ll={}", u8::from(low_latency)));
    let _browser = Browser::open(&dir, &page);
    // A fatal error counts only if playback never gets past 5 s: on a loaded 2-core CI machine a
    // request can time out once and hls.js recovers by reloading (seen once in low-latency mode).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let report = loop {
        let (newest, errors) = reports(&log);
        if let Some(report) = newest.filter(|r| r.time > 5.0) {
            if !errors.is_empty() {
                println!("hls.js recovered from: {errors:?}");
            }
            break report;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "hls.js never played past 5 s; fatal errors: {errors:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(report.size, "320x240", "decoded picture size at {} s", report.time);
    report
}

#[test]
fn hls_js_plays_classic_ts_hls() {
    let report = play("hls-player-ts", "hls_fragment = 2.0", "/live/test.m3u8", false);
    println!("classic HLS (2 s fragments): hls.js latency estimate {:.2} s", report.latency);
}

#[test]
fn hls_js_plays_aes_128_encrypted_hls() {
    // hls.js fetches each key named by #EXT-X-KEY and decrypts the segments (WebCrypto); keys
    // change every 2 segments, so it crosses several keys within the 5 s it must play.
    let node = "hls_fragment = 1.0, hls_keys = True, hls_fragments_per_key = 2";
    let report = play("hls-player-aes", node, "/live/test.m3u8", false);
    println!("AES-128 HLS (1 s fragments, 2 per key): hls.js latency estimate {:.2} s", report.latency);
}

#[test]
fn hls_js_plays_low_latency_hls_in_low_latency_mode() {
    let node =
        "hls_fragment = 2.0, segment_format = srs.SegmentFormat.Fmp4, low_latency = True, part_target = 500";
    let report = play("hls-player-ll", node, "/live/test.m3u8", true);
    println!("LL-HLS (2 s segments, 0.5 s parts): hls.js latency estimate {:.2} s", report.latency);
    assert!(report.latency >= 0.0, "hls.js knows its distance to the live edge in low-latency mode");
}
