//! Reload: a player keeps receiving across a reload that adds an HTTP-TS mount on a new port;
//! the new mount serves the stream already live, and the next publish of the stream too; a reload with a broken graph (through the
//! API and through SIGHUP) changes nothing, keeps the player going and reports why.

mod common;

use std::time::Duration;

use common::rtmp_client::RtmpClient;
use common::{
    api_get, free_port, probe, publish_test_stream, record, run_graph, temp_dir, wait_for_port, wait_until,
};
use srs::codec::rtmp::ClientIntent;

fn graph(rtmp: u16, api: u16, extra_node: &str, extra_edge: &str) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}", raw_api = {{ enabled = True, allow_reload = True }} }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 0 }})
    {extra_node}
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "rtmp_play" {extra_edge} ]
}}"#
    )
}

fn write_graph(dir: &std::path::Path, graph: &str) {
    let text = format!("let srs = {}\nin {graph}", common::catalogue());
    std::fs::write(dir.join("graph.dhall"), text).expect("rewrite graph");
}

#[test]
fn a_player_keeps_receiving_across_reloads() {
    let dir = temp_dir("reload");
    let (rtmp, api, ts) = (free_port(), free_port(), free_port());
    let server = run_graph(&dir, &graph(rtmp, api, "", ""), &[rtmp, api]);
    let url = format!("rtmp://127.0.0.1:{rtmp}/live/reload");
    let mut first = publish_test_stream(&url, 60);
    let mut player = RtmpClient::start(&url, ClientIntent::Play).expect("play");
    assert!(player.receive_media(25, Duration::from_secs(10)).len() >= 25, "playing before the reload");

    // A good reload: an HTTP-TS node on a new port.
    let ts_node = format!(
        r#", srs.node "ts" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{ts}", mount = "[app]/[stream].ts" }})"#
    );
    write_graph(&dir, &graph(rtmp, api, &ts_node, r#", srs.edge "__defaultVhost__" "ts""#));
    let reply = api_get(api, "/api/v1/raw?rpc=reload");
    assert_eq!(reply["code"], 0, "{reply}");
    assert!(reply["msg"].as_str().unwrap().contains("\"ts\""), "{reply}");
    wait_for_port(ts, &server);
    assert!(player.receive_media(50, Duration::from_secs(10)).len() >= 50, "still playing after the reload");
    let fetched = api_get(api, "/api/v1/raw?rpc=reload-fetch");
    assert_eq!(fetched["data"]["err"], 0, "{fetched}");

    // The new sink serves the stream already live, without a republish.
    let live = dir.join("live.ts");
    record(&format!("http://127.0.0.1:{ts}/live/reload.ts"), 2, &live);
    let streams = probe(live.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames >= 25, "about 2 s of the live stream: {}", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "{streams:?}");
    assert!(server.log().contains("nodes started on a live stream"), "{}", server.log());

    // The next publish of the stream takes the new graph: the TS mount serves it.
    let _ = first.kill();
    let _ = first.wait();
    assert!(wait_until(10, || api_get(api, "/api/v1/streams")["streams"]
        .as_array()
        .is_some_and(|s| s.iter().all(|s| s["publish"]["active"] == false))));
    let mut second = publish_test_stream(&url, 60);
    let out = dir.join("after.ts");
    record(&format!("http://127.0.0.1:{ts}/live/reload.ts"), 2, &out);
    let streams = probe(out.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames >= 25, "about 2 s of video: {}", video.frames);
    assert!(
        player.receive_media(25, Duration::from_secs(10)).len() >= 25,
        "the player stayed across the republish"
    );

    // A broken graph: nothing changes, the reason comes back, the player keeps receiving.
    std::fs::write(dir.join("graph.dhall"), "let srs = nothing.dhall in {").expect("write");
    let reply = api_get(api, "/api/v1/raw?rpc=reload");
    assert_eq!(reply["code"], 1064, "{reply}");
    assert!(reply["msg"].as_str().unwrap().contains("graph.dhall"), "{reply}");
    let bad_edge = r#", srs.edge "__defaultVhost__" "nowhere""#;
    write_graph(&dir, &graph(rtmp, api, "", bad_edge));
    let reply = api_get(api, "/api/v1/raw?rpc=reload");
    assert!(reply["msg"].as_str().unwrap().contains("unknown node `nowhere`"), "{reply}");
    let hangup = std::process::Command::new("kill").args(["-HUP", &server.child.id().to_string()]).status();
    assert!(hangup.is_ok_and(|s| s.success()));
    assert!(wait_until(10, || server.log().matches("reload refused").count() >= 3), "{}", server.log());
    assert!(
        player.receive_media(25, Duration::from_secs(10)).len() >= 25,
        "still playing after failed reloads"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", ts)).is_ok(), "the TS server is still up");
    let fetched = api_get(api, "/api/v1/raw?rpc=reload-fetch");
    assert_eq!(fetched["data"]["state"], "failed", "{fetched}");
    let _ = second.kill();
    let _ = second.wait();
}

fn file_graph(rtmp: u16, api: u16, http: u16, clip: &std::path::Path, with_file: bool) -> String {
    let (file_node, file_edge) = if with_file {
        (
            format!(
                r#", srs.node "file" (srs.Node.FileIn srs.FileIn::{{ path = "{}", stream = "live/looped", realtime = True, repeat = True }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})"#,
                clip.display()
            ),
            r#", srs.edge "file" "__defaultVhost__", srs.edge "__defaultVhost__" "flv""#.to_owned(),
        )
    } else {
        (String::new(), String::new())
    };
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}", raw_api = {{ enabled = True, allow_reload = True }} }})
    , srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 0 }})
    {file_node}
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__" {file_edge} ]
}}"#
    )
}

#[test]
fn a_reload_stops_removed_file_sources_and_unbinds_removed_listeners() {
    let dir = temp_dir("reload-remove");
    let clip = dir.join("clip.flv");
    common::make_clip(&clip, "flv", 4, "libx264");
    let (rtmp, api, http) = (free_port(), free_port(), free_port());
    let _server = run_graph(&dir, &file_graph(rtmp, api, http, &clip, true), &[api, http]);
    let streams = || api_get(api, "/api/v1/streams")["streams"].as_array().cloned().unwrap_or_default();
    assert!(wait_until(10, || streams().iter().any(|s| s["name"] == "looped")), "the file publishes");
    let out = dir.join("looped.flv");
    record(&format!("http://127.0.0.1:{http}/live/looped.flv"), 2, &out);
    assert!(probe(out.to_str().unwrap()).iter().any(|s| s.codec == "h264"), "served before the reload");

    write_graph(&dir, &file_graph(rtmp, api, http, &clip, false));
    let reply = api_get(api, "/api/v1/raw?rpc=reload");
    assert_eq!(reply["code"], 0, "{reply}");
    assert!(
        wait_until(10, || !streams().iter().any(|s| s["name"] == "looped" && s["publish"]["active"] == true)),
        "the removed file source stopped publishing: {:?}",
        streams()
    );
    assert!(
        wait_until(10, || std::net::TcpStream::connect(("127.0.0.1", http)).is_err()),
        "the removed HTTP listener is unbound"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", api)).is_ok(), "the API still listens");
}
