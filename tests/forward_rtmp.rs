//! `Forward` (SRS's vhost `forward`): ffmpeg publishes to server A, which pushes the stream over
//! RTMP to server B, where ffprobe plays it over HTTP-FLV. B starts after the publish began, so A
//! must retry with backoff; a second destination nobody listens on never blocks the first.

mod common;

use std::time::Duration;

use common::live::rtmp_flv_graph;
use common::{free_port, probe, publish_test_stream, record, run_graph, temp_dir, wait_until};

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

#[test]
fn a_stream_is_forwarded_to_a_server_that_comes_up_later() {
    let dir = temp_dir("forward");
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).expect("server dir");
    }
    let (a_rtmp, b_rtmp, b_http, dead) = (free_port(), free_port(), free_port(), free_port());
    let destinations = [format!("127.0.0.1:{dead}"), format!("rtmp://127.0.0.1:{b_rtmp}/[app]/[stream]")];
    let a = run_graph(&dir.join("a"), &forwarding_graph(a_rtmp, &destinations), &[a_rtmp]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{a_rtmp}/live/fwd"), 14);
    assert!(wait_until(10, || a.log().contains("forward failed")), "B is not up yet: {}", a.log());

    let b = run_graph(&dir.join("b"), &rtmp_flv_graph(b_rtmp, b_http), &[b_rtmp, b_http]);
    assert!(
        wait_until(15, || b.log().contains("publish started")),
        "A reconnects to B with backoff; A:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );
    std::thread::sleep(Duration::from_secs(1));
    let out = dir.join("from-b.flv");
    record(&format!("http://127.0.0.1:{b_http}/live/fwd.flv"), 3, &out);
    let streams = probe(out.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames >= 50, "3 s of video through the forward: {}", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "{streams:?}");
    assert!(a.log().contains(&format!("127.0.0.1:{dead}")), "the dead destination keeps retrying on its own");
    assert!(publisher.wait().expect("ffmpeg exits").success(), "the publisher was never slowed or refused");
}

#[test]
fn srs_conf_forward_block_pushes_to_its_destination() {
    let dir = temp_dir("forward-conf");
    std::fs::create_dir_all(dir.join("b")).expect("server dir");
    let (a_rtmp, b_rtmp, b_http) = (free_port(), free_port(), free_port());
    let b = run_graph(&dir.join("b"), &rtmp_flv_graph(b_rtmp, b_http), &[b_rtmp, b_http]);
    let conf = format!(
        "listen 127.0.0.1:{a_rtmp};\ndaemon off;\nsrs_log_tank console;\n\
         vhost __defaultVhost__ {{ forward {{ enabled on; destination 127.0.0.1:{b_rtmp}; }} }}\n"
    );
    std::fs::write(dir.join("srs.conf"), conf).expect("write srs.conf");
    let log = std::fs::File::create(dir.join("a.log")).expect("log file");
    let a = common::Server {
        child: std::process::Command::new(common::srs_bin())
            .args(["-c", "srs.conf"])
            .current_dir(&dir)
            .stderr(log)
            .spawn()
            .expect("srs -c runs"),
        dir: dir.clone(),
    };
    common::wait_for_listener(a_rtmp, Duration::from_secs(10));
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{a_rtmp}/live/conf"), 8);
    assert!(wait_until(10, || b.log().contains("publish started")), "B gets the stream:\n{}", b.log());
    let out = dir.join("from-b.flv");
    record(&format!("http://127.0.0.1:{b_http}/live/conf.flv"), 2, &out);
    let streams = probe(out.to_str().unwrap());
    assert!(streams.iter().any(|s| s.codec == "h264" && s.width == 320 && s.frames >= 25), "{streams:?}");
    assert!(publisher.wait().expect("ffmpeg exits").success());
    drop(a);
}
