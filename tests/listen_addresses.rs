//! A `listen` field names several addresses, IPv4 and IPv6 (SRS's `listen 1935 19350;` and
//! `[::]:1935`): ffmpeg publishes on one RTMP address and plays on another over IPv6, and
//! HTTP-FLV serves the same stream on both of its addresses.

mod common;

use std::time::Duration;

use common::{free_port, probe, publish_test_stream, record, run_graph, temp_dir};

fn graph(rtmp: [u16; 2], http: [u16; 2]) -> String {
    let rtmp = format!("127.0.0.1:{} [::1]:{}", rtmp[0], rtmp[1]);
    let http = format!("127.0.0.1:{} [::1]:{}", http[0], http[1]);
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "{rtmp}" }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "{http}" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "rtmp_play", srs.edge "__defaultVhost__" "flv" ]
}}"#
    )
}

fn assert_plays(out: &std::path::Path) {
    let streams = probe(out.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{out:?}: {streams:?}"));
    assert_eq!((video.width, video.height), (320, 240), "{out:?}");
    assert!(video.frames >= 40, "{out:?}: 2 s at 25 fps, got {}", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "{out:?}: {streams:?}");
}

#[test]
fn every_listen_address_serves_ipv4_and_ipv6() {
    let dir = temp_dir("listen-addresses");
    let (rtmp, http) = ([free_port(), free_port()], [free_port(), free_port()]);
    let server = run_graph(&dir, &graph(rtmp, http), &[rtmp[0], http[0]]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/many", rtmp[0]), 8);
    std::thread::sleep(Duration::from_secs(2));
    let players = [
        (format!("rtmp://[::1]:{}/live/many", rtmp[1]), dir.join("rtmp-v6.flv")),
        (format!("http://127.0.0.1:{}/live/many.flv", http[0]), dir.join("http-v4.flv")),
        (format!("http://[::1]:{}/live/many.flv", http[1]), dir.join("http-v6.flv")),
    ];
    let threads: Vec<_> =
        players.iter().cloned().map(|(url, out)| std::thread::spawn(move || record(&url, 2, &out))).collect();
    for thread in threads {
        thread.join().expect("player thread");
    }
    for (_, out) in &players {
        assert_plays(out);
    }
    assert!(publisher.wait().expect("publisher ends").success());
    let log = server.log();
    for port in [rtmp[1], http[1]] {
        assert!(log.contains(&format!("[::1]:{port}")), "the IPv6 listener on {port} is logged:\n{log}");
    }
}
