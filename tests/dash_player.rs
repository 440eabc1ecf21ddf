//! dash.js (npm `dashjs`, installed by scripts/install-test-deps) in headless Chromium plays the live
//! DASH output of a real-time `FileIn` (H.264+AAC, 1 s GOP, 2 s fragments) past 5 s of media time,
//! at the stream's resolution and without a player error. The page reports through requests the
//! test reads in the static server's log.

mod common;

use std::path::Path;

use common::{make_h264_aac, run_graph, temp_dir, wait_for, Browser, StaticServer};

/// The newest `report/time-<t>-w<w>x<h>` in the log, and every `report/error-` line.
fn reports(log: &Path) -> (Option<(f64, String)>, Vec<String>) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut newest = None;
    let mut errors = Vec::new();
    for line in text.lines() {
        if let Some((_, rest)) = line.split_once("GET /report/time-") {
            let report = rest.split_whitespace().next().unwrap_or_default();
            if let Some((time, size)) = report.split_once("-w") {
                if let Ok(time) = time.parse::<f64>() {
                    newest = Some((time, size.to_owned()));
                }
            }
        } else if line.contains("GET /report/error-") {
            errors.push(line.to_owned());
        }
    }
    (newest, errors)
}

#[test]
fn dash_js_in_headless_chromium_plays_the_live_stream() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let player_js = root.join("tests/player/node_modules/dashjs/dist/modern/umd/dash.all.min.js");
    assert!(player_js.exists(), "{} missing: run scripts/install-test-deps", player_js.display());
    let dir = temp_dir("dash-player");
    let html = dir.join("html");
    std::fs::create_dir_all(&html).expect("html dir");
    std::fs::copy(&player_js, html.join("dash.all.min.js")).expect("copy dash.js");
    std::fs::copy(root.join("tests/player/dash.html"), html.join("dash.html")).expect("copy page");
    make_h264_aac(&dir.join("in.flv"), "flv", 20);
    let graph = format!(
        r#"srs.Graph::{{
    , nodes =
      [ srs.node "file" (srs.Node.FileIn srs.FileIn::{{ path = "{input}", stream = "live/test", realtime = True, repeat = False }})
      , srs.node "dash" (srs.Node.DashOut srs.DashOut::{{ dash_path = "{html}", dash_fragment = 2.0, dash_dispose = 0.0 }})
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
    let (time, size) = wait_for(40, "dash.js playing past 5 s", || {
        let (newest, errors) = reports(&log);
        assert!(errors.is_empty(), "dash.js reported errors: {errors:?}");
        newest.filter(|(time, _)| *time > 5.0)
    });
    assert_eq!(size, "320x240", "decoded picture size at {time} s");
}
