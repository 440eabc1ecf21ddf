//! `Forward` over SRT: ffmpeg publishes RTMP to server A, which pushes the stream as MPEG-TS over
//! SRT (our TS muxer, the srt-tokio caller) to server B's SRT listener; ffprobe plays it from B
//! over HTTP-FLV with H.264 + AAC. B starts after the publish began, so A retries with backoff;
//! a second SRT destination nobody listens on never holds the first back.

mod common;

use std::time::Duration;

use common::{free_port, free_udp_port, probe, publish_test_stream, record, run_graph, temp_dir, wait_until};

fn forwarding_graph(rtmp: u16, destinations: &[String]) -> String {
    let list = destinations.iter().map(|d| format!("\"{d}\"")).collect::<Vec<_>>().join(", ");
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
    , srs.node "forward" (srs.Node.Forward srs.Forward::{{ destination = [ {list} ] }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "forward" ]
}}"#
    )
}

/// B: SRT publishers in, HTTP-FLV players out.
fn srt_receiver_graph(srt: u16, http: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "srt" (srs.Node.SrtIn srs.SrtIn::{{ listen = "127.0.0.1:{srt}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    ]
, edges = [ srs.edge "srt" "__defaultVhost__", srs.edge "__defaultVhost__" "flv" ]
}}"#
    )
}

#[test]
fn a_stream_is_forwarded_over_srt_and_plays_from_the_receiver() {
    let dir = temp_dir("forward-srt");
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).expect("server dir");
    }
    let (a_rtmp, b_srt, b_http, dead) = (free_port(), free_udp_port(), free_port(), free_udp_port());
    // One destination with SRS's stream id spelled out (renamed on B), one nobody answers.
    let destinations = [
        format!("srt://127.0.0.1:{b_srt}?streamid=#!::r=[app]/[stream]-srt,m=publish"),
        format!("srt://127.0.0.1:{dead}"),
    ];
    let a = run_graph(&dir.join("a"), &forwarding_graph(a_rtmp, &destinations), &[a_rtmp]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{a_rtmp}/live/fwd"), 14);
    assert!(wait_until(15, || a.log().contains("forward failed")), "B is not up yet: {}", a.log());

    let b = run_graph(&dir.join("b"), &srt_receiver_graph(b_srt, b_http), &[b_http]);
    assert!(
        wait_until(20, || b.log().contains("publish started")),
        "A reconnects to B over SRT with backoff; A:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );
    assert!(a.log().contains("forward publishing over srt"), "{}", a.log());
    std::thread::sleep(Duration::from_secs(1));
    let out = dir.join("from-b.flv");
    record(&format!("http://127.0.0.1:{b_http}/live/fwd-srt.flv"), 3, &out);
    let streams = probe(out.to_str().expect("utf-8"));
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames >= 50, "3 s of video through the SRT forward: {}", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "{streams:?}");
    assert!(a.log().contains(&format!("127.0.0.1:{dead}")), "the dead destination retries on its own");
    assert!(publisher.wait().expect("ffmpeg exits").success(), "the publisher was never slowed or refused");
}
