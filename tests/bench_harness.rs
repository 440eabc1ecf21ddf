//! The load harness itself, with a handful of clients: against our server (publisher, RTMP and
//! HTTP-FLV players; the send-time stamp survives the server; the server's CPU and memory are read),
//! and against the kernel-floor server (`srs bench --floor`).

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::live::rtmp_flv_graph;
use common::{free_port, run_graph, srs_bin, temp_dir, wait_for_port, Server};
use srs::bench::source::FlvSource;
use srs::bench::stats::PlayerKind;
use srs::bench::{self, BenchConfig};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/flv/h264_aac.flv");

fn config(url: String, flv_url: String, publishers: usize, server_pid: u32) -> BenchConfig {
    BenchConfig {
        url,
        flv_url,
        players_rtmp: 0,
        whep_url: String::new(),
        players_whep: 0,
        players_flv: 0,
        publishers,
        source: Some(Arc::new(FlvSource::load(FIXTURE.as_ref()).expect("fixture loads"))),
        duration: Duration::from_secs(3),
        settle: Duration::from_millis(500),
        warmup: Duration::from_secs(1),
        cooldown: Duration::from_millis(500),
        ramp_per_second: 50,
        whep_ice_check_interval: srs::bench::whep::ICE_CHECK_INTERVAL,
        server_pid: Some(server_pid),
        progress: false,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

#[test]
fn harness_plays_our_server_over_rtmp_and_http_flv_with_stamps() {
    let dir = temp_dir("bench-harness");
    let (rtmp, http) = (free_port(), free_port());
    let server = run_graph(&dir, &rtmp_flv_graph(rtmp, http), &[rtmp, http]);
    let mut config = config(
        format!("rtmp://127.0.0.1:{rtmp}/live/bench"),
        format!("http://127.0.0.1:{http}/live/bench.flv"),
        2,
        server.child.id(),
    );
    config.players_rtmp = 3;
    config.players_flv = 3;
    let report = runtime().block_on(bench::run(config)).expect("bench runs");
    assert_eq!(report.publisher_failures, 0, "{report}\n{}", server.log());
    assert!(report.frames_stamped > 0, "the fixture's H.264 frames are stamped");
    assert_eq!(report.kinds.len(), 2);
    for kind in &report.kinds {
        assert_eq!((kind.started, kind.connected, kind.failed), (3, 3, 0), "{report}\n{}", server.log());
        assert!(kind.mbps > 0.0, "{report}");
        assert!(kind.first_frame.is_some(), "every kind saw video: {report}");
        assert!(kind.latency_samples > 0, "stamps survive the server for {:?}: {report}", kind.kind);
        let spread = kind.spread.expect("rates of connected players");
        assert!(spread.min > 0.0 && spread.min <= spread.median && spread.median <= spread.max);
    }
    let server_figures = report.server.expect("the server's /proc was read");
    assert!(
        server_figures.rss_idle_kb > 0
            && server_figures.rss_players_kb > 0
            && server_figures.rss_after_kb > 0
    );
    assert!(server_figures.cpu_ms_per_player_minute.is_finite());
    let printed = report.to_string();
    assert!(printed.contains("rtmp: 3 started, 3 playing, 0 failed"), "{printed}");
    assert!(printed.contains("http-flv: 3 started, 3 playing, 0 failed"), "{printed}");
}

#[test]
fn harness_plays_the_kernel_floor_without_stamps() {
    let dir = temp_dir("bench-floor");
    let port = free_port();
    let child = Command::new(srs_bin())
        .args([
            "bench",
            "--floor",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--input",
            FIXTURE,
            "--batch-ms",
            "100",
        ])
        .stderr(std::fs::File::create(dir.join("srs.log")).expect("log"))
        .spawn()
        .expect("floor starts");
    let floor = Server { child, dir };
    wait_for_port(port, &floor);
    let mut config =
        config(String::new(), format!("http://127.0.0.1:{port}/live/bench.flv"), 0, floor.child.id());
    config.players_flv = 4;
    let report = runtime().block_on(bench::run(config)).expect("bench runs");
    let flv = &report.kinds[0];
    assert_eq!(flv.kind, PlayerKind::HttpFlv);
    assert_eq!((flv.started, flv.connected, flv.failed), (4, 4, 0), "{report}\n{}", floor.log());
    assert!(flv.mbps > 0.0 && flv.first_frame.is_some(), "{report}");
    assert_eq!(flv.latency_samples, 0, "the floor replays the file unstamped");
    assert!(report.server.is_some());
}
