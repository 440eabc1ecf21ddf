//! SRS's HLS play sessions (`hls_ctx`, on by default): a player of a live playlist is sent (302)
//! to `?hls_ctx=<ctx>`, is admitted with `on_play`, is listed by `/api/v1/clients` as `hls-play`
//! and counted in its stream's clients while it keeps asking, gets segment URIs carrying its ctx,
//! and ends with `on_stop` (and leaves the list) once it stops asking for 2 × hls_window.
//! ffmpeg plays through the redirect.

mod common;

use std::time::{Duration, Instant};

use common::hooks::Calls;
use common::{api_get, free_port, make_h264_aac, probe, record, run_graph, temp_dir, wait_for, wait_until};
use serde_json::Value;

/// A hook server allowing everything.
fn hook_server() -> (u16, Calls) {
    common::hooks::hook_server(|_, _| r#"{"code":0}"#.to_owned())
}

/// The hook actions recorded for client `id`, in order.
fn actions_of(calls: &Calls, id: &str) -> Vec<String> {
    let calls = calls.lock().unwrap();
    calls
        .iter()
        .filter(|(_, c)| c["client_id"] == id)
        .map(|(_, c)| c["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// One GET with curl, redirects not followed: status, headers (lowercase names), body.
fn get(url: &str) -> (u16, Vec<(String, String)>, String) {
    let out = std::process::Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/stderr", url])
        .output()
        .expect("curl runs");
    let head = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn hls_clients(api: u16) -> Vec<Value> {
    let clients = api_get(api, "/api/v1/clients");
    clients["clients"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c["type"] == "hls-play")
        .collect()
}

#[test]
fn hls_players_are_sessions_with_hooks_and_api_entries() {
    let dir = temp_dir("hls-ctx");
    let out = dir.join("html");
    make_h264_aac(&dir.join("in.flv"), "flv", 6);
    let (http, api, (hooks, calls)) = (free_port(), free_port(), hook_server());
    let hook = format!("\"http://127.0.0.1:{hooks}/api/v1/sessions\"");
    let graph = format!(
        r#"srs.Graph::{{
    , nodes =
      [ srs.node "file" (srs.Node.FileIn srs.FileIn::{{ path = "{input}", stream = "live/test", realtime = True, repeat = True }})
      , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{
          http_hooks = Some srs.HttpHooks::{{ on_play = [ {hook} ], on_stop = [ {hook} ] }} }})
      , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = "{out}", hls_fragment = 1.0, hls_window = 2.0 }})
      , srs.node "http" (srs.Node.HttpStatic srs.HttpStatic::{{ listen = "127.0.0.1:{http}", dir = "{out}" }})
      , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
      ]
    , edges = [ srs.edge "file" "__defaultVhost__", srs.edge "__defaultVhost__" "hls" ]
    }}"#,
        input = dir.join("in.flv").display(),
        out = out.display(),
    );
    let _srs = run_graph(&dir, &graph, &[http, api]);
    wait_for(30, "the first segments", || out.join("live/test.m3u8").exists().then_some(()));
    let base = format!("http://127.0.0.1:{http}");

    // A new player is redirected to its session, keeping its query.
    let (status, headers, _) = get(&format!("{base}/live/test.m3u8?token=abc"));
    assert_eq!(status, 302);
    let location = headers.iter().find(|(n, _)| n == "location").map(|(_, v)| v.clone()).expect("a Location");
    let ctx = location
        .strip_prefix("/live/test.m3u8?hls_ctx=")
        .and_then(|rest| rest.strip_suffix("&token=abc"))
        .unwrap_or_else(|| panic!("Location {location}"))
        .to_owned();
    assert_eq!(ctx.len(), 8, "{location}");

    // Its playlist lists segments carrying the ctx; a segment with the ctx is served.
    let (status, _, playlist) = get(&format!("{base}{location}"));
    assert_eq!(status, 200, "{playlist}");
    let segments: Vec<&str> = playlist.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    assert!(!segments.is_empty(), "{playlist}");
    for uri in &segments {
        assert!(uri.ends_with(&format!(".ts?hls_ctx={ctx}")), "{uri} in\n{playlist}");
    }
    let (status, headers, _) = get(&format!("{base}/live/{}", segments[0]));
    assert_eq!(status, 200);
    assert!(headers.iter().any(|(n, v)| n == "content-type" && v == "video/mp2t"));

    // The API lists the viewer with its stream, counted in the stream's clients.
    let viewers = hls_clients(api);
    assert_eq!(viewers.len(), 1, "{viewers:?}");
    let viewer = &viewers[0];
    let id = viewer["id"].as_str().expect("an id").to_owned();
    assert_eq!((viewer["name"].as_str(), viewer["publish"].as_bool()), (Some("test"), Some(false)));
    assert_eq!(viewer["url"], "/live/test");
    let streams = api_get(api, "/api/v1/streams");
    let stream = streams["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "test"))
        .cloned()
        .expect("the live stream");
    assert_eq!(viewer["stream"], stream["id"]);
    assert_eq!(stream["clients"], 1, "the HLS viewer (a file source is no client): {stream}");
    assert_eq!(actions_of(&calls, &id), ["on_play"]);

    // Requests keep it alive past the timeout (2 × hls_window = 4 s) ...
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(6) {
        assert_eq!(get(&format!("{base}{location}")).0, 200);
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(hls_clients(api).iter().any(|c| c["id"] == id.as_str()), "still listed while it asks");
    // ... and without requests it ends: unlisted, on_stop.
    let idle = Instant::now();
    assert!(wait_until(15, || hls_clients(api).is_empty()), "the session ended");
    assert!(idle.elapsed() >= Duration::from_secs(3), "not before the timeout: {:?}", idle.elapsed());
    assert!(
        wait_until(5, || actions_of(&calls, &id) == ["on_play", "on_stop"]),
        "{:?}",
        actions_of(&calls, &id)
    );
    let stop =
        calls.lock().unwrap().iter().find(|(_, c)| c["action"] == "on_stop").cloned().expect("on_stop").1;
    assert_eq!((stop["app"].as_str(), stop["stream"].as_str()), (Some("live"), Some("test")));
    // An ended session's ctx opens a new session.
    let (status, headers, _) = get(&format!("{base}{location}"));
    assert_eq!(status, 302);
    assert!(headers.iter().any(|(n, v)| n == "location" && !v.contains(&ctx)));

    // ffmpeg follows the redirect and plays; it is listed while it plays.
    let before: Vec<Value> = hls_clients(api).iter().map(|c| c["id"].clone()).collect();
    let recorded = dir.join("played.ts");
    let player = {
        let (url, recorded) = (format!("{base}/live/test.m3u8"), recorded.clone());
        std::thread::spawn(move || record(&url, 4, &recorded))
    };
    let seen = wait_until(20, || hls_clients(api).iter().any(|c| !before.contains(&c["id"])));
    player.join().expect("ffmpeg played");
    assert!(seen, "ffmpeg's session was listed");
    let streams = probe(recorded.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").expect("video played");
    assert!(video.frames >= 50, "{} frames played", video.frames);
}
