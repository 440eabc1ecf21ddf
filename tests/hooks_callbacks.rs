//! SRS's HTTP callbacks against a hook server run by the test: ffmpeg publishes and plays over
//! RTMP and HTTP-FLV; the server posts on_connect, on_publish, on_play, on_stop, on_unpublish and
//! on_close with SRS's fields; a publish the hook server denies fails in ffmpeg and nothing is
//! served; an unreachable hook server denies by default.

mod common;

use std::time::Duration;

use common::hooks::{actions, Calls};
use common::{free_port, publish_test_stream, record, run_graph, temp_dir, wait_until};
use serde_json::Value;

/// A hook server recording every call; denies `on_publish` of streams named `denied`.
fn hook_server() -> (u16, Calls) {
    common::hooks::hook_server(|_, json| {
        let deny = json["action"] == "on_publish" && json["stream"] == "denied";
        if deny { r#"{"code":403}"# } else { r#"{"code":0}"# }.to_owned()
    })
}

fn graph(rtmp: u16, http: u16, hooks: u16) -> String {
    let url = |what: &str| format!("\"http://127.0.0.1:{hooks}/api/v1/{what}\"");
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{
        mw_latency = 100,
        http_hooks = Some srs.HttpHooks::{{
          on_connect = [ {c} ], on_close = [ {c} ],
          on_publish = [ {s} ], on_unpublish = [ {s} ],
          on_play = [ {p} ], on_stop = [ {p} ] }} }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "rtmp_play", srs.edge "__defaultVhost__" "flv" ]
}}"#,
        c = url("clients"),
        s = url("streams"),
        p = url("sessions"),
    )
}

#[test]
fn callbacks_carry_srs_fields_and_can_deny_a_publish() {
    let dir = temp_dir("hooks");
    let (hooks, calls) = hook_server();
    let (rtmp, http) = (free_port(), free_port());
    let server = run_graph(&dir, &graph(rtmp, http, hooks), &[rtmp, http]);

    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/allowed?token=1"), 6);
    assert!(wait_until(10, || actions(&calls).contains(&"on_publish".to_owned())), "{:?}", actions(&calls));
    let out = dir.join("flv.flv");
    record(&format!("http://127.0.0.1:{http}/live/allowed.flv"), 2, &out);
    let rtmp_out = dir.join("rtmp.flv");
    record(&format!("rtmp://127.0.0.1:{rtmp}/live/allowed"), 2, &rtmp_out);
    assert!(publisher.wait().expect("ffmpeg").success(), "allowed publish succeeds");
    assert!(
        wait_until(10, || {
            let seen = actions(&calls);
            seen.contains(&"on_unpublish".to_owned()) && seen.iter().filter(|a| *a == "on_close").count() >= 2
        }),
        "{:?}\n{}",
        actions(&calls),
        server.log()
    );

    let calls_now = calls.lock().unwrap().clone();
    let find = |action: &str| {
        calls_now
            .iter()
            .find(|(_, j)| j["action"] == action)
            .cloned()
            .unwrap_or_else(|| panic!("{action} in {calls_now:?}"))
    };
    let (path, connect) = find("on_connect");
    assert_eq!(path, "/api/v1/clients");
    for field in ["server_id", "service_id", "client_id", "ip", "vhost", "app", "tcUrl", "pageUrl"] {
        assert!(connect.get(field).is_some(), "on_connect has {field}: {connect}");
    }
    assert_eq!(connect["vhost"], "__defaultVhost__");
    assert_eq!(connect["app"], "live");
    let (path, publish) = find("on_publish");
    assert_eq!(path, "/api/v1/streams");
    assert_eq!(publish["stream"], "allowed");
    assert_eq!(publish["param"], "?token=1");
    assert_eq!(publish["stream_url"], "/live/allowed");
    assert_eq!(publish["ip"], "127.0.0.1");
    assert!(publish["stream_id"].as_str().unwrap().starts_with("vid-"));
    assert_eq!(publish["client_id"], connect["client_id"], "publish and connect from one connection");
    let (_, unpublish) = find("on_unpublish");
    assert_eq!(unpublish["client_id"], publish["client_id"]);
    let plays: Vec<&Value> = calls_now
        .iter()
        .filter(|(p, j)| p == "/api/v1/sessions" && j["action"] == "on_play")
        .map(|(_, j)| j)
        .collect();
    assert_eq!(plays.len(), 2, "one HTTP-FLV and one RTMP play: {calls_now:?}");
    assert!(plays.iter().all(|p| p["stream"] == "allowed" && p.get("pageUrl").is_some()));
    let stops = calls_now.iter().filter(|(_, j)| j["action"] == "on_stop").count();
    assert!(
        wait_until(5, || calls.lock().unwrap().iter().filter(|(_, j)| j["action"] == "on_stop").count() == 2),
        "two on_stop, saw {stops}"
    );
    let (_, close) = find("on_close");
    assert!(
        close["recv_bytes"].as_u64().unwrap() > 0 || close["send_bytes"].as_u64().unwrap() > 0,
        "{close}"
    );

    // The hook server denies this one: ffmpeg's publish fails and nothing is served.
    let before = calls.lock().unwrap().len();
    let denied = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/denied"), 3);
    let output = denied.wait_with_output().expect("ffmpeg");
    assert!(!output.status.success(), "denied publish fails in ffmpeg");
    let after: Vec<String> = calls.lock().unwrap()[before..]
        .iter()
        .map(|(_, j)| j["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        after.contains(&"on_publish".to_owned()) && !after.contains(&"on_unpublish".to_owned()),
        "{after:?}"
    );
    assert!(server.log().contains("rtmp publish refused: on_publish"), "{}", server.log());
}

#[test]
fn an_unreachable_hook_server_denies_by_default() {
    let dir = temp_dir("hooks-unreachable");
    let dead = free_port();
    let (rtmp, http) = (free_port(), free_port());
    let server = run_graph(&dir, &graph(rtmp, http, dead), &[rtmp, http]);
    let publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/x"), 2);
    let output = publisher.wait_with_output().expect("ffmpeg");
    assert!(!output.status.success(), "connect denied when the hook server is down");
    std::thread::sleep(Duration::from_millis(200));
    assert!(server.log().contains("connect denied: on_connect"), "{}", server.log());
}

#[test]
fn hls_segments_and_dvr_files_are_posted_as_on_hls_and_on_dvr() {
    let dir = temp_dir("hooks-media");
    let (hooks, calls) = hook_server();
    let rtmp = free_port();
    let graph = format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{
        http_hooks = Some srs.HttpHooks::{{
          on_dvr = [ "http://127.0.0.1:{hooks}/api/v1/dvrs" ], on_hls = [ "http://127.0.0.1:{hooks}/api/v1/hls" ] }} }})
    , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{{ hls_fragment = 1.0, hls_path = "{dir}/html" }})
    , srs.node "dvr" (srs.Node.Dvr srs.Dvr::{{ dvr_path = "{dir}/dvr/[app]/[stream].[timestamp].flv" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "hls", srs.edge "__defaultVhost__" "dvr" ]
}}"#,
        dir = dir.display()
    );
    let _server = run_graph(&dir, &graph, &[rtmp]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/media"), 4);
    assert!(publisher.wait().expect("ffmpeg").success());
    assert!(wait_until(10, || actions(&calls).contains(&"on_dvr".to_owned())), "{:?}", actions(&calls));
    let calls = calls.lock().unwrap().clone();
    let hls: Vec<&Value> = calls.iter().filter(|(_, b)| b["action"] == "on_hls").map(|(_, b)| b).collect();
    assert!(hls.len() >= 2, "a callback per 1 s segment: {}", hls.len());
    let first = hls[0];
    assert_eq!((first["app"].as_str(), first["stream"].as_str()), (Some("live"), Some("media")));
    assert!(first["file"].as_str().unwrap_or_default().ends_with(".ts"), "{first}");
    assert!(first["m3u8"].as_str().unwrap_or_default().ends_with("live/media.m3u8"), "{first}");
    assert!(first["duration"].as_f64().unwrap_or(0.0) >= 0.9, "{first}");
    assert!(first["tcUrl"].as_str().unwrap_or_default().contains("/live"), "{first}");
    let seqs: Vec<u64> = hls.iter().filter_map(|b| b["seq_no"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "increasing seq_no: {seqs:?}");
    let (path, dvr) = calls.iter().find(|(_, b)| b["action"] == "on_dvr").expect("on_dvr");
    assert_eq!(path, "/api/v1/dvrs");
    let file = dvr["file"].as_str().unwrap_or_default();
    assert!(file.ends_with(".flv") && std::path::Path::new(file).exists(), "the recorded file: {dvr}");
    assert!(!dvr["cwd"].as_str().unwrap_or_default().is_empty());
}

#[test]
fn on_hls_notify_fetches_a_filled_url_for_every_segment() {
    let dir = temp_dir("hooks-hls-notify");
    let (rtmp, hooks) = (free_port(), hook_server());
    let (hooks, calls) = hooks;
    let hls = dir.join("hls");
    let graph = format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{
        http_hooks = Some srs.HttpHooks::{{
          on_hls_notify = [ "http://127.0.0.1:{hooks}/notify/[app]/[stream]/[ts_url][param]" ] }} }})
    , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = "{}", hls_fragment = 1.0, hls_window = 60.0, hls_ctx = False }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "hls" ]
}}"#,
        hls.display()
    );
    let _server = run_graph(&dir, &graph, &[rtmp]);
    let status = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/notified?token=abc"), 5)
        .wait()
        .expect("ffmpeg");
    assert!(status.success());
    let playlist = hls.join("live/notified.m3u8");
    assert!(wait_until(10, || playlist.exists()), "the playlist is written");
    let segments: Vec<String> = std::fs::read_to_string(&playlist)
        .expect("playlist")
        .lines()
        .filter(|l| l.ends_with(".ts"))
        .map(str::to_owned)
        .collect();
    assert!(segments.len() >= 3, "{segments:?}");
    let notified = || -> Vec<String> { calls.lock().unwrap().iter().map(|(path, _)| path.clone()).collect() };
    assert!(wait_until(10, || notified().len() >= segments.len()), "{:?}", notified());
    for segment in &segments {
        let expected = format!("/notify/live/notified/{segment}?token=abc");
        assert!(notified().contains(&expected), "{expected} in {:?}", notified());
    }
}
