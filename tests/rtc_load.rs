//! The WHEP load client (`srs bench --players-whep`) against our server: ffmpeg publishes a
//! 25 fps H.264 stream (keyframe every second) over RTMP, 20 bench WebRTC players play it over
//! WHEP; every player completes ICE/DTLS, receives RTP packets and keyframes and video frames at
//! the stream's rate, the HTTP API lists 20 `rtc-play` clients while they play, and their DELETEs
//! take the registry back to none.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{free_port, free_udp_port, run_graph, temp_dir, wait_until};
use srs::bench::stats::PlayerKind;
use srs::bench::{self, BenchConfig};

const PLAYERS: usize = 20;
/// The test stream's frame rate (`publish_test_stream`).
const FPS: f64 = 25.0;

fn rtc_players(api: u16) -> usize {
    let clients = common::api_get(api, "/api/v1/clients/?count=100");
    let list = clients["clients"].as_array().expect("clients");
    list.iter().filter(|c| c["type"] == "rtc-play").count()
}

#[test]
fn twenty_whep_bench_players_receive_the_stream() {
    let dir = temp_dir("rtc_load");
    let (api, udp, rtmp) = (free_port(), free_udp_port(), free_port());
    let graph = format!(
        r#"srs.Graph::{{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
      , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
      , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
      , srs.node "rtc_play" (srs.Node.RtcOut srs.RtcOut::{{ listen = "127.0.0.1:{udp}", api = "127.0.0.1:{api}", candidate = "127.0.0.1" }})
      ]
    , edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "rtc_play" ]
    }}"#
    );
    let srs = run_graph(&dir, &graph, &[api, rtmp]);
    let mut ffmpeg = common::publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/load"), 120);
    assert!(
        wait_until(30, || common::api_get(api, "/api/v1/streams/")["streams"]
            .as_array()
            .is_some_and(|s| !s.is_empty())),
        "the RTMP stream is published; srs log:\n{}",
        srs.log()
    );

    // The API is read while the players play: the most rtc-play clients seen at once.
    let most_seen = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (most_seen, done) = (Arc::clone(&most_seen), Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                most_seen.fetch_max(rtc_players(api), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(300));
            }
        })
    };
    let config = BenchConfig {
        url: String::new(),
        flv_url: String::new(),
        whep_url: format!("http://127.0.0.1:{api}/rtc/v1/whep/?app=live&stream=load"),
        players_rtmp: 0,
        players_flv: 0,
        players_whep: PLAYERS,
        publishers: 0,
        source: None,
        duration: Duration::from_secs(8),
        settle: Duration::ZERO,
        warmup: Duration::from_secs(3),
        cooldown: Duration::from_millis(500),
        ramp_per_second: 50,
        server_pid: None,
        progress: false,
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
    let report = runtime.block_on(bench::run(config)).expect("bench runs");
    done.store(true, Ordering::Relaxed);
    watcher.join().expect("watcher");
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();

    let whep = report.kinds.iter().find(|k| k.kind == PlayerKind::Whep).expect("whep players reported");
    assert_eq!((whep.started, whep.connected, whep.failed), (PLAYERS, PLAYERS, 0), "{report}\n{}", srs.log());
    let frames = whep.frame_spread.expect("frame rates");
    // Every player at the stream's rate (a 1 s window edge can cost a frame either way).
    assert!(
        frames.min >= FPS * 0.85 && frames.max <= FPS * 1.15,
        "per-player frame rates {frames:?}, want {FPS}\n{report}"
    );
    assert_eq!(whep.starved, 0, "{report}");
    // One keyframe a second (-g 25) for ~12 s of play per player, at least a few each.
    assert!(whep.keyframes >= 5 * PLAYERS as u64, "keyframes {}\n{report}", whep.keyframes);
    assert!(whep.packets >= (FPS as u64) * 8 * PLAYERS as u64, "rtp packets {}\n{report}", whep.packets);
    assert_eq!(whep.first_frame.map(|_| ()), Some(()), "first frames timed\n{report}");
    assert_eq!(most_seen.load(Ordering::Relaxed), PLAYERS, "rtc-play clients listed by the API at once");
    println!("{report}");
    // The players' DELETEs end their sessions: the registry forgets them.
    assert!(wait_until(10, || rtc_players(api) == 0), "rtc-play clients left: {}", rtc_players(api));
}
