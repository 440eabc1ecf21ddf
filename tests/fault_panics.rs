//! A panic in one connection's task ends that connection only: it is logged with the connection
//! id and counted in `/metrics`, and every other stream keeps flowing. The panic is provoked
//! through the test-only hook `SRS_TEST_PANIC_STREAM` (publishing that stream name panics).

mod common;

use std::process::{Command, Stdio};

use common::*;

#[test]
fn a_panicking_publisher_ends_alone_and_the_server_serves_on() {
    let dir = temp_dir("fault_panics");
    let (rtmp, http, api) = (free_port(), free_port(), free_port());
    let graph = format!(
        r#"srs.Graph::{{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
      , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
      , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}", mount = "[vhost]/[app]/[stream].flv" }})
      , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
      ]
    , edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "flv" ]
    }}"#
    );
    let server = run_graph_with_env(&dir, &graph, &[rtmp, http, api], &[("SRS_TEST_PANIC_STREAM", "boom")]);

    let _steady = Background(publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/steady"), 60));
    wait_for(20, "the steady stream live", || {
        let streams = api_get(api, "/api/v1/streams");
        streams["streams"].as_array().is_some_and(|s| s.iter().any(|s| s["name"] == "steady")).then_some(())
    });

    let mut boom = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/boom"), 30);
    let ended = wait_until(20, || boom.try_wait().ok().flatten().is_some());
    let _ = boom.kill();
    let _ = boom.wait();
    assert!(ended, "the panicking publisher's connection was closed");
    wait_for(10, "the panic logged", || server.log().contains("panicked, ended alone").then_some(()));
    let line =
        server.log().lines().find(|l| l.contains("panicked, ended alone")).unwrap_or_default().to_owned();
    assert!(
        line.contains("conn=") && line.contains("SRS_TEST_PANIC_STREAM"),
        "logged with its connection: {line}"
    );
    let (status, metrics) = http_exchange(api, "GET", "/metrics", &[], b"");
    assert_eq!(status, 200);
    assert!(metrics.lines().any(|l| l == "srs_panics_total 1"), "counted once: {metrics}");
    let clients = api_get(api, "/api/v1/clients");
    let names: Vec<String> = clients["clients"]
        .as_array()
        .map(|c| c.iter().map(|c| c["name"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default();
    assert!(!names.iter().any(|n| n == "boom"), "the ended client is forgotten: {names:?}");

    // The other stream still flows: a player reads it whole from the live edge.
    let recorded = dir.join("steady.flv");
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(format!("http://127.0.0.1:{http}/live/steady.flv"))
        .args(["-t", "3", "-c", "copy"])
        .arg(&recorded)
        .stdout(Stdio::null())
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "the steady stream plays after the panic");
    let streams = probe(recorded.to_str().unwrap_or_default());
    let video = streams.iter().find(|s| s.codec == "h264").expect("video");
    assert_eq!((video.width, video.height), (320, 240), "decoded picture size");
    assert!(video.frames >= 50, "frames after the panic: {}", video.frames);
    // And the server takes new publishers.
    let _again = Background(publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/again"), 30));
    wait_for(20, "a new publisher after the panic", || {
        let streams = api_get(api, "/api/v1/streams");
        streams["streams"].as_array().is_some_and(|s| s.iter().any(|s| s["name"] == "again")).then_some(())
    });
}
