//! A SIGHUP storm: 100 reloads in 10 s while a stream is published and played, the graph file
//! switching between two versions (an extra HTTP-FLV listener added and removed) every 10 signals.
//! Signals that arrive during a reload are coalesced into one more reload, which reads the newest
//! file. The player receives the whole stream without a gap, no reload is refused, and the server
//! ends on the last version written (the extra listener up, serving the stream).

mod common;

use std::time::{Duration, Instant};

use common::*;

fn graph(rtmp: u16, http: u16, extra: Option<u16>) -> String {
    let extra_node = extra.map_or(String::new(), |port| {
        format!(r#", srs.node "extra" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{port}" }})"#)
    });
    let extra_edge = extra.map_or(String::new(), |_| r#", srs.edge "__defaultVhost__" "extra""#.to_string());
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    {extra_node}
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "flv" {extra_edge} ]
}}"#
    )
}

fn write(dir: &std::path::Path, text: &str) {
    // Written whole then renamed, so a reload never reads half a file.
    let tmp = dir.join("graph.dhall.tmp");
    std::fs::write(&tmp, format!("let srs = {}\nin {text}", catalogue())).expect("write graph");
    std::fs::rename(&tmp, dir.join("graph.dhall")).expect("rename graph");
}

#[test]
fn a_hundred_reloads_in_ten_seconds_leave_the_stream_playing() {
    let dir = temp_dir("fault_reload_storm");
    let (rtmp, http, extra) = (free_port(), free_port(), free_port());
    let server = run_graph(&dir, &graph(rtmp, http, None), &[rtmp, http]);
    let _publisher = Background(publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/storm"), 40));
    std::thread::sleep(Duration::from_secs(2));
    let recorded = dir.join("storm.flv");
    let url = format!("http://127.0.0.1:{http}/live/storm.flv");
    let player = {
        let (url, recorded) = (url.clone(), recorded.clone());
        std::thread::spawn(move || record(&url, 14, &recorded))
    };
    std::thread::sleep(Duration::from_secs(1));

    let pid = server.child.id().to_string();
    let started = Instant::now();
    for i in 0..100 {
        if i % 10 == 0 {
            let with_extra = (i / 10) % 2 == 1;
            write(&dir, &graph(rtmp, http, with_extra.then_some(extra)));
        }
        let sent = std::process::Command::new("kill").args(["-HUP", &pid]).status().expect("kill");
        assert!(sent.success(), "SIGHUP {i} delivered");
        std::thread::sleep(Duration::from_millis(100));
    }
    let stormed = started.elapsed();
    assert!(
        server.child.id() > 0 && std::fs::metadata(format!("/proc/{pid}")).is_ok(),
        "the server survived"
    );
    player.join().expect("player");

    let video =
        probe(recorded.to_str().unwrap()).into_iter().find(|s| s.codec == "h264").expect("h264 played");
    assert_eq!((video.width, video.height), (320, 240));
    assert!(
        video.frames >= 13 * 25,
        "14 s at 25 fps through {stormed:?} of reloads, got {} frames",
        video.frames
    );

    // The storm's last version (the extra listener, written at signal 90) is the one running.
    let log = server.log();
    let applied = log.matches("reload applied").count();
    eprintln!("{applied} reloads applied for 100 SIGHUPs in {stormed:?}");
    assert!(applied >= 2, "reloads were applied:\n{log}");
    assert!(!log.contains("reload refused"), "no reload was refused:\n{log}");
    assert!(
        wait_until(15, || std::net::TcpStream::connect(("127.0.0.1", extra)).is_ok()),
        "the final graph's extra listener is up:\n{log}"
    );
    let again = dir.join("again.flv");
    record(&format!("http://127.0.0.1:{extra}/live/storm.flv"), 2, &again);
    assert!(
        probe(again.to_str().unwrap()).iter().any(|s| s.codec == "h264" && s.frames >= 25),
        "plays on the new listener"
    );
}
