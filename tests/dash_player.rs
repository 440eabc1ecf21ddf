//! dash.js (npm `dashjs`, installed by scripts/install-test-deps) in headless Chromium plays the live
//! DASH output of a real-time `FileIn` (H.264+AAC, 1 s GOP, 2 s fragments, every other setting
//! left at its default, as a new user would) for 16 s: at the stream's resolution, without a player
//! error, at most two fragments (plus a margin) behind live, and without a rebuffer once playing.
//! The page reports through requests the test reads in the static server's log.

mod common;

use std::path::Path;

use common::{make_h264_aac, run_graph, temp_dir, wait_for, Browser, StaticServer};

const FRAGMENT_S: f64 = 2.0;

/// What the page reported so far.
#[derive(Debug, Default)]
struct Reports {
    /// The newest `report/time-<t>-w<w>x<h>`.
    time: Option<(f64, String)>,
    /// Every `report/live-<played>-<latency>-<wall>-<stalls>`, oldest first.
    live: Vec<Live>,
    errors: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Live {
    /// Seconds played since the first `playing` event.
    played: f64,
    /// dash.js's `getCurrentLiveLatency()` (its clock synced through UTCTiming).
    latency: f64,
    /// now - availabilityStartTime - currentTime on the machine's clock, which the server shares.
    wall: f64,
    /// `waiting` events since playback started.
    stalls: u32,
}

fn reports(log: &Path) -> Reports {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut reports = Reports::default();
    for line in text.lines() {
        if let Some((_, rest)) = line.split_once("GET /report/time-") {
            let report = rest.split_whitespace().next().unwrap_or_default();
            if let Some((time, size)) = report.split_once("-w") {
                if let Ok(time) = time.parse::<f64>() {
                    reports.time = Some((time, size.to_owned()));
                }
            }
        } else if let Some((_, rest)) = line.split_once("GET /report/live-") {
            let report = rest.split_whitespace().next().unwrap_or_default();
            // Negative numbers are written with a leading '-': split on '-' only after a digit.
            let fields: Vec<&str> = split_numbers(report);
            if let [played, latency, wall, stalls] = fields[..] {
                if let (Ok(played), Ok(latency), Ok(wall), Ok(stalls)) =
                    (played.parse(), latency.parse(), wall.parse(), stalls.parse())
                {
                    reports.live.push(Live { played, latency, wall, stalls });
                }
            }
        } else if line.contains("GET /report/error-") {
            reports.errors.push(line.to_owned());
        }
    }
    reports
}

/// `1.5--0.25-3` as ["1.5", "-0.25", "3"]: a '-' right after a digit separates, any other one is a sign.
fn split_numbers(text: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (index, byte) in bytes.iter().enumerate() {
        if *byte == b'-' && index > start && bytes[index - 1].is_ascii_digit() {
            fields.push(&text[start..index]);
            start = index + 1;
        }
    }
    fields.push(&text[start..]);
    fields
}

#[test]
fn dash_js_in_headless_chromium_plays_the_live_stream_close_to_live() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let player_js = root.join("tests/player/node_modules/dashjs/dist/modern/umd/dash.all.min.js");
    assert!(player_js.exists(), "{} missing: run scripts/install-test-deps", player_js.display());
    let dir = temp_dir("dash-player");
    let html = dir.join("html");
    std::fs::create_dir_all(&html).expect("html dir");
    std::fs::copy(&player_js, html.join("dash.all.min.js")).expect("copy dash.js");
    std::fs::copy(root.join("tests/player/dash.html"), html.join("dash.html")).expect("copy page");
    make_h264_aac(&dir.join("in.flv"), "flv", 40);
    let graph = format!(
        r#"srs.Graph::{{
    , nodes =
      [ srs.node "file" (srs.Node.FileIn srs.FileIn::{{ path = "{input}", stream = "live/test", realtime = True, repeat = False }})
      , srs.node "dash" (srs.Node.DashOut srs.DashOut::{{ dash_path = "{html}", dash_fragment = {FRAGMENT_S:.1}, dash_dispose = 0.0 }})
      ]
    , edges = [ srs.edge "file" "dash" ]
    }}"#,
        input = dir.join("in.flv").display(),
        html = html.display(),
    );
    let _srs = run_graph(&dir, &graph, &[]);
    let log = dir.join("http.log");
    let server = StaticServer::start_logging(&html, Some(&log));
    wait_for(30, "the first segments", || html.join("live/test.mpd").exists().then_some(()));
    let _browser = Browser::open(&dir, &server.url("dash.html?mpd=live/test.mpd"));
    let reports = wait_for(60, "dash.js playing 16 s of the live stream", || {
        let reports = reports(&log);
        assert!(reports.errors.is_empty(), "dash.js reported errors: {:?}", reports.errors);
        reports.live.last().is_some_and(|live| live.played >= 16.0).then_some(reports)
    });
    let (time, size) = reports.time.clone().expect("time reports");
    assert!(time > 5.0, "played past 5 s of media time: {time}");
    assert_eq!(size, "320x240", "decoded picture size at {time} s");
    let last = *reports.live.last().expect("live reports");
    eprintln!("dash.js after {:.1} s of playback: {last:?}", last.played);
    assert_eq!(last.stalls, 0, "no rebuffer once playing: {:?}", reports.live);
    // The MPD asks for two fragments behind live (suggestedPresentationDelay); the player keeps
    // what it spent between picking that position and its first picture (fetching and appending
    // the first segments: 0.5 s here), hence the 1 s margin.
    let bound = 2.0 * FRAGMENT_S + 1.0;
    for live in &reports.live {
        assert!(live.latency <= bound, "at most {bound} s behind live for dash.js: {:?}", reports.live);
        // dash.js places the live edge with its clock synced through the MPD's UTCTiming; this
        // machine's clock (which the server shares) says how far off that sync is. An HTTP `Date`
        // is whole seconds, so up to 1 s late, give or take half the request's round trip.
        let sync_error = live.wall - live.latency;
        assert!(
            (-0.25..=1.25).contains(&sync_error),
            "dash.js's clock within the Date header's resolution of the server's: {:?}",
            reports.live
        );
    }
}
