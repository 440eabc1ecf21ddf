//! A reload that changes an edge's origins restarts the pulls running: the edge pulls a stream
//! from origin A (320x240); its graph is rewritten to name origin B only (the same stream at
//! 160x120) and SIGHUP'd; the running pull ends at A and starts at B, and the edge's players get
//! B's pictures.

mod common;

use std::process::Command;

use common::live::rtmp_flv_graph;
use common::{free_port, probe, publish_test_stream, record, run_graph, spawn_ffmpeg, temp_dir, wait_until};

fn edge_graph(http: u16, origin: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "edge" (srs.Node.EdgePull srs.EdgePull::{{ origin = [ "127.0.0.1:{origin}" ] }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    ]
, edges = [ srs.edge "edge" "__defaultVhost__", srs.edge "__defaultVhost__" "flv" ]
}}"#
    )
}

/// The video size of 2 s of `url`.
fn video_size(url: &str, out: &std::path::Path) -> (u64, u64, u64) {
    record(url, 2, out);
    let streams = probe(out.to_str().expect("utf-8"));
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
    (video.width, video.height, video.frames)
}

#[test]
fn a_reload_that_changes_the_origins_moves_running_pulls() {
    let dir = temp_dir("cluster-reload");
    let mut origins = Vec::new();
    for name in ["a", "b"] {
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub).expect("dir");
        let (rtmp, http) = (free_port(), free_port());
        origins.push((run_graph(&sub, &rtmp_flv_graph(rtmp, http), &[rtmp, http]), rtmp));
    }
    let (a_rtmp, b_rtmp) = (origins[0].1, origins[1].1);
    let mut at_a = publish_test_stream(&format!("rtmp://127.0.0.1:{a_rtmp}/live/rl"), 40);
    let b_url = format!("rtmp://127.0.0.1:{b_rtmp}/live/rl");
    let _at_b = spawn_ffmpeg(&[
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440",
        "-t",
        "40",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-f",
        "flv",
        &b_url,
    ]);
    assert!(wait_until(10, || origins.iter().all(|(o, _)| o.log().contains("publish started"))));

    let edge_dir = dir.join("edge");
    std::fs::create_dir_all(&edge_dir).expect("edge dir");
    let edge_http = free_port();
    let edge = run_graph(&edge_dir, &edge_graph(edge_http, a_rtmp), &[edge_http]);
    let url = format!("http://127.0.0.1:{edge_http}/live/rl.flv");
    // A player that stays through the reload keeps the pull alive.
    let _player = spawn_ffmpeg(&["-i", &url, "-t", "30", "-c", "copy", "-f", "null", "-"]);
    let (width, height, _) = video_size(&url, &dir.join("before.flv"));
    assert_eq!((width, height), (320, 240), "pulled from A first");

    std::fs::write(
        edge_dir.join("graph.dhall"),
        format!("let srs = {}\nin {}", common::catalogue(), edge_graph(edge_http, b_rtmp)),
    )
    .expect("rewrite the graph");
    let hangup = Command::new("kill").args(["-HUP", &edge.child.id().to_string()]).status();
    assert!(hangup.is_ok_and(|s| s.success()));
    assert!(
        wait_until(20, || edge.log().contains("a reload changed the origins, pulling again")),
        "{}",
        edge.log()
    );
    assert!(wait_until(10, || edge.log().contains(&format!("127.0.0.1:{b_rtmp}"))), "{}", edge.log());
    let (width, height, frames) = video_size(&url, &dir.join("after.flv"));
    assert_eq!((width, height), (160, 120), "now pulled from B");
    assert!(frames >= 25, "2 s from B: {frames} frames");
    let _ = at_a.kill();
    let _ = at_a.wait();
}
