//! Edge and origin (`EdgePull`, `EdgePush`, token traverse), real servers on loopback: ffmpeg
//! publishes to an origin, players on the edge (RTMP and HTTP-FLV) share one upstream that the
//! origin's API counts, and it closes after they leave; an origin killed mid-play fails over to
//! the next while an HTTP-FLV player keeps receiving; a publish to the edge reaches the origin;
//! token traverse lets the origin's `on_connect` hook decide for the edge.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{
    api_get, free_port, probe, publish_test_stream, record, run_graph, temp_dir, wait_until, Server,
};

/// An origin: RTMP publish/play, HTTP-FLV, the API; `hooks` an on_connect/on_publish URL.
fn origin_graph(rtmp: u16, http: u16, api: u16, hooks: Option<u16>) -> String {
    let hooks = hooks
        .map(|port| {
            let url = format!("\"http://127.0.0.1:{port}/hook\"");
            format!(", http_hooks = Some srs.HttpHooks::{{ on_connect = [ {url} ], on_publish = [ {url} ] }}")
        })
        .unwrap_or_default();
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 {hooks} }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "rtmp_play", srs.edge "__defaultVhost__" "flv" ]
}}"#
    )
}

/// An edge in front of `origins`: players pull, publishers push.
fn edge_graph(rtmp: u16, http: u16, origins: &[u16], token_traverse: bool) -> String {
    let tt = if token_traverse { "True" } else { "False" };
    let list = origins.iter().map(|p| format!("\"127.0.0.1:{p}\"")).collect::<Vec<_>>().join(", ");
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "edge" (srs.Node.EdgePull srs.EdgePull::{{ origin = [ {list} ], token_traverse = {tt}, close_after_ms = 2000 }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    , srs.node "push" (srs.Node.EdgePush srs.EdgePush::{{ origin = [ {list} ], token_traverse = {tt} }})
    ]
, edges =
    [ srs.edge "rtmp" "__defaultVhost__", srs.edge "edge" "__defaultVhost__"
    , srs.edge "__defaultVhost__" "rtmp_play", srs.edge "__defaultVhost__" "flv", srs.edge "__defaultVhost__" "push"
    ]
}}"#
    )
}

struct Origin {
    server: Server,
    rtmp: u16,
    http: u16,
    api: u16,
}

fn start_origin(dir: &std::path::Path, hooks: Option<u16>) -> Origin {
    std::fs::create_dir_all(dir).expect("origin dir");
    let (rtmp, http, api) = (free_port(), free_port(), free_port());
    let server = run_graph(dir, &origin_graph(rtmp, http, api, hooks), &[rtmp, http, api]);
    Origin { server, rtmp, http, api }
}

/// Players at the origin (the edge's upstreams), from its API.
fn origin_players(origin: &Origin) -> usize {
    let clients = api_get(origin.api, "/api/v1/clients");
    let list = clients["clients"].as_array().cloned().unwrap_or_default();
    list.iter().filter(|c| c["publish"] == false && c["type"] == "rtmp-play").count()
}

fn assert_h264_aac(path: &std::path::Path, what: &str) {
    let streams = probe(path.to_str().expect("utf-8"));
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{what}: {streams:?}"));
    assert_eq!((video.width, video.height), (320, 240), "{what}");
    assert!(video.frames >= 40, "{what}: 3 s of video, got {} frames", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "{what}: {streams:?}");
}

#[test]
fn edge_players_share_one_upstream_that_closes_after_they_leave() {
    let dir = temp_dir("cluster-edge-pull");
    let origin = start_origin(&dir.join("origin"), None);
    std::fs::create_dir_all(dir.join("edge")).expect("edge dir");
    let (rtmp, http) = (free_port(), free_port());
    let edge = run_graph(&dir.join("edge"), &edge_graph(rtmp, http, &[origin.rtmp], false), &[rtmp, http]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/pull", origin.rtmp), 25);
    assert!(wait_until(10, || origin.server.log().contains("publish started")), "{}", origin.server.log());

    let players: Vec<_> = [
        format!("http://127.0.0.1:{http}/live/pull.flv"),
        format!("http://127.0.0.1:{http}/live/pull.flv"),
        format!("rtmp://127.0.0.1:{rtmp}/live/pull"),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, url)| {
        let out = dir.join(format!("player-{i}.flv"));
        let thread_out = out.clone();
        (out, std::thread::spawn(move || record(&url, 5, &thread_out)))
    })
    .collect();
    let mut most = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        most = most.max(origin_players(&origin));
        std::thread::sleep(Duration::from_millis(200));
    }
    for (out, player) in players {
        player.join().expect("player thread");
        assert_h264_aac(&out, &format!("{}", out.display()));
    }
    assert_eq!(most, 1, "three edge players, one upstream at the origin; edge log:\n{}", edge.log());
    assert!(
        wait_until(10, || origin_players(&origin) == 0),
        "the upstream closes after the last player left; edge log:\n{}",
        edge.log()
    );
    assert!(edge.log().contains("no player left, upstream closed"), "{}", edge.log());
    let _ = publisher.kill();
    let _ = publisher.wait();
}

/// Reads an HTTP-FLV stream; the wall-clock gaps between reads once `after` has passed, and the
/// bytes read after it.
fn read_stream(port: u16, path: &str, seconds: u64, after: Duration) -> (Duration, usize) {
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the edge");
    socket.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(socket, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
    let started = Instant::now();
    let (mut last, mut gap, mut bytes) = (Instant::now(), Duration::ZERO, 0);
    let mut buffer = vec![0u8; 64 * 1024];
    while started.elapsed() < Duration::from_secs(seconds) {
        let n = match socket.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let now = Instant::now();
        if now.duration_since(started) > after {
            gap = gap.max(now - last);
            bytes += n;
        }
        last = now;
    }
    (gap, bytes)
}

#[test]
fn an_origin_killed_mid_play_fails_over_to_the_next_and_players_keep_receiving() {
    let dir = temp_dir("cluster-edge-failover");
    let mut a = start_origin(&dir.join("a"), None);
    let b = start_origin(&dir.join("b"), None);
    std::fs::create_dir_all(dir.join("edge")).expect("edge dir");
    let (rtmp, http) = (free_port(), free_port());
    let edge = run_graph(&dir.join("edge"), &edge_graph(rtmp, http, &[a.rtmp, b.rtmp], false), &[rtmp, http]);
    let mut publishers =
        [a.rtmp, b.rtmp].map(|port| publish_test_stream(&format!("rtmp://127.0.0.1:{port}/live/fo"), 30));
    assert!(wait_until(10, || a.server.log().contains("publish started")
        && b.server.log().contains("publish started")));

    let recorder = {
        let (url, out) = (format!("http://127.0.0.1:{http}/live/fo.flv"), dir.join("through-failover.flv"));
        let thread_out = out.clone();
        (out, std::thread::spawn(move || record(&url, 12, &thread_out)))
    };
    let reader = std::thread::spawn(move || read_stream(http, "/live/fo.flv", 12, Duration::from_secs(4)));
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(origin_players(&a), 1, "both edge players share one upstream from origin A: {}", edge.log());
    a.server.child.kill().expect("SIGKILL origin A");
    let _ = a.server.child.wait();
    let (gap, bytes) = reader.join().expect("reader");
    println!("failover gap seen by an HTTP-FLV player: {} ms", gap.as_millis());
    assert!(
        gap < Duration::from_secs(5),
        "the stream continued within 5 s (gap {gap:?}); edge log:\n{}",
        edge.log()
    );
    assert!(bytes > 100_000, "media kept coming after the kill: {bytes} bytes");
    assert!(wait_until(5, || origin_players(&b) >= 1), "the edge now pulls from B");
    let (out, recorder) = recorder;
    recorder.join().expect("recorder");
    let streams = probe(out.to_str().expect("utf-8"));
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
    assert!(video.frames >= 200, "12 s through the failover decode as ~300 frames: {}", video.frames);
    for publisher in &mut publishers {
        let _ = publisher.kill();
        let _ = publisher.wait();
    }
}

#[test]
fn a_publish_to_the_edge_is_pushed_to_the_origin() {
    let dir = temp_dir("cluster-edge-push");
    let origin = start_origin(&dir.join("origin"), None);
    std::fs::create_dir_all(dir.join("edge")).expect("edge dir");
    let (rtmp, http) = (free_port(), free_port());
    let edge = run_graph(&dir.join("edge"), &edge_graph(rtmp, http, &[origin.rtmp], false), &[rtmp, http]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/pushed"), 10);
    assert!(
        wait_until(10, || origin.server.log().contains("publish started")),
        "edge:\n{}\norigin:\n{}",
        edge.log(),
        origin.server.log()
    );
    std::thread::sleep(Duration::from_secs(1));
    let out = dir.join("from-origin.flv");
    record(&format!("http://127.0.0.1:{}/live/pushed.flv", origin.http), 4, &out);
    assert_h264_aac(&out, "played from the origin");
    let _ = publisher.kill();
    let _ = publisher.wait();
}

/// A hook server denying requests whose body names `token=bad`.
fn token_hooks() -> u16 {
    let (port, _) = common::hooks::hook_server(|_, body| {
        let allowed = !body.to_string().contains("token=bad");
        if allowed { r#"{"code":0}"# } else { r#"{"code":403}"# }.to_owned()
    });
    port
}

#[test]
fn token_traverse_lets_the_origin_decide_who_publishes_and_plays_at_the_edge() {
    let dir = temp_dir("cluster-edge-token");
    let origin = start_origin(&dir.join("origin"), Some(token_hooks()));
    std::fs::create_dir_all(dir.join("edge")).expect("edge dir");
    let (rtmp, http) = (free_port(), free_port());
    let edge = run_graph(&dir.join("edge"), &edge_graph(rtmp, http, &[origin.rtmp], true), &[rtmp, http]);

    let mut bad = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/tok?token=bad"), 5);
    assert!(!bad.wait().expect("ffmpeg exits").success(), "a bad token is refused at the edge");
    assert!(edge.log().contains("refused (token traverse)"), "{}", edge.log());
    assert!(!origin.server.log().contains("publish started"), "{}", origin.server.log());

    let mut good = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/tok?token=good"), 12);
    assert!(
        wait_until(10, || origin.server.log().contains("publish started")),
        "a good token publishes through the edge to the origin:\nedge:\n{}\norigin:\n{}",
        edge.log(),
        origin.server.log()
    );
    std::thread::sleep(Duration::from_secs(1));
    let (status, _) = common::http_exchange(http, "GET", "/live/tok.flv?token=bad", &[], b"");
    assert_eq!(status, 403, "an HTTP-FLV player with a bad token is refused");
    let out = dir.join("good-player.flv");
    record(&format!("http://127.0.0.1:{}/live/tok.flv", origin.http), 3, &out);
    assert_h264_aac(&out, "the stream pushed with a good token");
    let _ = good.kill();
    let _ = good.wait();
}

#[test]
fn srs_conf_cluster_block_makes_an_edge_that_pulls_and_pushes() {
    let dir = temp_dir("cluster-edge-conf");
    let origin = start_origin(&dir.join("origin"), None);
    let (rtmp, http) = (free_port(), free_port());
    let conf = format!(
        "listen 127.0.0.1:{rtmp};\ndaemon off;\nsrs_log_tank console;\n\
         http_server {{ enabled on; listen 127.0.0.1:{http}; }}\n\
         vhost __defaultVhost__ {{ cluster {{ mode remote; origin 127.0.0.1:{}; }} \
         http_remux {{ enabled on; mount [vhost]/[app]/[stream].flv; }} }}\n",
        origin.rtmp
    );
    std::fs::write(dir.join("srs.conf"), conf).expect("write srs.conf");
    let log = std::fs::File::create(dir.join("srs.log")).expect("log file");
    let edge = Server {
        child: std::process::Command::new(common::srs_bin())
            .args(["-c", "srs.conf"])
            .current_dir(&dir)
            .stderr(log)
            .spawn()
            .expect("srs -c runs"),
        dir: dir.clone(),
    };
    common::wait_for_listener(http, Duration::from_secs(10));
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/conf"), 12);
    assert!(
        wait_until(10, || origin.server.log().contains("publish started")),
        "the edge pushes to the origin:\n{}",
        edge.log()
    );
    std::thread::sleep(Duration::from_secs(1));
    let out = dir.join("from-origin.flv");
    record(&format!("http://127.0.0.1:{}/live/conf.flv", origin.http), 3, &out);
    assert_h264_aac(&out, "pushed by the srs.conf edge");
    let _ = publisher.kill();
    let _ = publisher.wait();

    let mut at_origin = publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/pulled", origin.rtmp), 12);
    std::thread::sleep(Duration::from_secs(1));
    let out = dir.join("from-edge.flv");
    record(&format!("http://127.0.0.1:{http}/live/pulled.flv"), 3, &out);
    assert_h264_aac(&out, "pulled by the srs.conf edge");
    let _ = at_origin.kill();
    let _ = at_origin.wait();
}

/// Accepts TCP connections and answers each with bytes that are not RTMP.
fn garbage_origin() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.write_all(&[0x42; 4096]);
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    port
}

#[test]
fn an_origin_that_sends_garbage_is_skipped_for_the_next_and_many_players_share_one_upstream() {
    let dir = temp_dir("cluster-edge-garbage");
    let origin = start_origin(&dir.join("origin"), None);
    std::fs::create_dir_all(dir.join("edge")).expect("edge dir");
    let (rtmp, http) = (free_port(), free_port());
    let origins = [garbage_origin(), origin.rtmp];
    let edge = run_graph(&dir.join("edge"), &edge_graph(rtmp, http, &origins, false), &[rtmp, http]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/many", origin.rtmp), 20);
    assert!(wait_until(10, || origin.server.log().contains("publish started")));
    // 30 raw HTTP-FLV readers and one decoding player, all on the edge.
    let readers: Vec<_> = (0..30)
        .map(|_| std::thread::spawn(move || read_stream(http, "/live/many.flv", 6, Duration::ZERO).1))
        .collect();
    let out = dir.join("decoded.flv");
    record(&format!("http://127.0.0.1:{http}/live/many.flv"), 4, &out);
    assert_h264_aac(&out, "played past a garbage origin");
    assert_eq!(origin_players(&origin), 1, "31 edge players, one upstream; edge log:\n{}", edge.log());
    for reader in readers {
        let bytes = reader.join().expect("reader");
        assert!(bytes > 100_000, "every reader got the stream: {bytes} bytes");
    }
    assert!(
        edge.log().contains("origin failed, trying the next"),
        "the garbage origin is logged:\n{}",
        edge.log()
    );
    let _ = publisher.kill();
    let _ = publisher.wait();
}
