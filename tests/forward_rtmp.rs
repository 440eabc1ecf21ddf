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

/// An HTTP forward backend: records each call, answers with `urls`.
fn backend(urls: Vec<String>) -> (u16, common::hooks::Calls) {
    common::hooks::hook_server(move |_, _| serde_json::json!({"code": 0, "data": {"urls": urls}}).to_string())
}

#[test]
fn a_forward_backend_names_the_destinations_at_publish() {
    let dir = temp_dir("forward-backend");
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).expect("server dir");
    }
    let (a_rtmp, b_rtmp, b_http) = (free_port(), free_port(), free_port());
    let (port, bodies) = backend(vec![format!("rtmp://127.0.0.1:{b_rtmp}/live/renamed")]);
    let graph = format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{a_rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
    , srs.node "forward" (srs.Node.Forward srs.Forward::{{ backend = Some "http://127.0.0.1:{port}/api/v1/forward" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "forward" ]
}}"#
    );
    let _b = run_graph(&dir.join("b"), &rtmp_flv_graph(b_rtmp, b_http), &[b_rtmp, b_http]);
    let _a = run_graph(&dir.join("a"), &graph, &[a_rtmp]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{a_rtmp}/live/original?token=t1"), 8);
    std::thread::sleep(Duration::from_secs(2));
    let out = dir.join("renamed.flv");
    record(&format!("http://127.0.0.1:{b_http}/live/renamed.flv"), 2, &out);
    let streams = probe(out.to_str().unwrap());
    assert!(streams.iter().any(|s| s.codec == "h264" && s.frames >= 25), "{streams:?}");
    let bodies: Vec<serde_json::Value> =
        bodies.lock().unwrap().iter().map(|(_, body)| body.clone()).collect();
    assert_eq!(bodies.len(), 1, "one on_forward call per publish: {bodies:?}");
    assert_eq!(bodies[0]["action"], "on_forward");
    assert_eq!((bodies[0]["app"].as_str(), bodies[0]["stream"].as_str()), (Some("live"), Some("original")));
    assert_eq!(bodies[0]["param"], "?token=t1", "{bodies:?}");
    assert!(publisher.wait().expect("ffmpeg exits").success());
}

/// Frames of video in `seconds` of `url`, recorded with ffmpeg.
fn video_frames(dir: &std::path::Path, url: &str, seconds: u32, name: &str) -> u64 {
    let out = dir.join(name);
    record(url, seconds, &out);
    probe(out.to_str().unwrap()).iter().find(|s| s.codec == "h264").map_or(0, |s| s.frames)
}

#[test]
fn stalled_destinations_never_slow_the_publisher_or_the_others() {
    let dir = temp_dir("forward-stall");
    for side in ["a", "b", "c"] {
        std::fs::create_dir_all(dir.join(side)).expect("server dir");
    }
    // A destination that takes the TCP connection and never answers the handshake.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let hole_port = hole.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hole.incoming().flatten() {
            held.push(stream);
        }
    });
    let (a_rtmp, b_rtmp, b_http, c_rtmp, c_http) =
        (free_port(), free_port(), free_port(), free_port(), free_port());
    let b = run_graph(&dir.join("b"), &rtmp_flv_graph(b_rtmp, b_http), &[b_rtmp, b_http]);
    let c = run_graph(&dir.join("c"), &rtmp_flv_graph(c_rtmp, c_http), &[c_rtmp, c_http]);
    let destinations =
        [format!("127.0.0.1:{hole_port}"), format!("127.0.0.1:{b_rtmp}"), format!("127.0.0.1:{c_rtmp}")];
    let a = run_graph(&dir.join("a"), &forwarding_graph(a_rtmp, &destinations), &[a_rtmp]);
    let seconds = 24;
    let started = std::time::Instant::now();
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{a_rtmp}/live/stall"), seconds);
    assert!(wait_until(10, || c.log().contains("publish started")), "C gets the stream:\n{}", c.log());

    // C stops reading (its process is stopped): what A sends it piles up in the socket, then in
    // A's bounded queue for C, which drops to the next keyframe rather than wait.
    let c_pid = c.child.id() as i32;
    // SAFETY: signals to a child process this test started and still owns.
    unsafe { libc::kill(c_pid, libc::SIGSTOP) };
    std::thread::sleep(Duration::from_secs(6));
    let from_b = video_frames(&dir, &format!("http://127.0.0.1:{b_http}/live/stall.flv"), 3, "b.flv");
    assert!(from_b >= 50, "B keeps receiving while C is stalled: {from_b} frames in 3 s");
    unsafe { libc::kill(c_pid, libc::SIGCONT) };
    std::thread::sleep(Duration::from_secs(2));
    let from_c = video_frames(&dir, &format!("http://127.0.0.1:{c_http}/live/stall.flv"), 3, "c.flv");
    assert!(from_c >= 50, "C resumes once it reads again: {from_c} frames in 3 s");

    assert!(publisher.wait().expect("ffmpeg exits").success(), "the publisher was never refused");
    let took = started.elapsed().as_secs_f64();
    // Real-time publishing takes the clip's length plus ffmpeg's start; back-pressure from a
    // stalled destination would stretch it by the stall (6 s and more).
    assert!(took < f64::from(seconds) + 4.0, "the publisher was slowed: {took:.1} s for {seconds} s");
    assert!(
        a.log().contains(&format!("127.0.0.1:{hole_port}")) && a.log().contains("no answer to publish"),
        "the silent destination is logged with its cause:\n{}",
        a.log()
    );
    drop(b);
}
