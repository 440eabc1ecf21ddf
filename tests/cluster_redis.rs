//! Origin cluster on a real Redis (`OriginCluster`): the test starts its own `redis-server` on a
//! free port (no persistence) and two origins. A stream published on A is recorded in Redis,
//! plays from B (B pulls it from A) and from an edge that knows only B; a malformed entry is
//! logged and ignored; after A is killed its entry expires within the TTL and a republish to B
//! works; with Redis gone, the log says why and local streams keep working.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{free_port, probe, publish_test_stream, record, run_graph, temp_dir, wait_until, Server};

struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start() -> RedisServer {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (scripts/install-test-deps installs it)");
        common::wait_for_listener(port, Duration::from_secs(10));
        RedisServer { child, port }
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn origin_graph(rtmp: u16, http: u16, redis: u16, extra: &str) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "cluster" (srs.Node.OriginCluster srs.OriginCluster::{{ redis = "redis://127.0.0.1:{redis}", rtmp = "127.0.0.1:{rtmp}", ttl_s = 3{extra} }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    ]
, edges =
    [ srs.edge "rtmp" "__defaultVhost__", srs.edge "cluster" "__defaultVhost__"
    , srs.edge "__defaultVhost__" "rtmp_play", srs.edge "__defaultVhost__" "flv"
    ]
}}"#
    )
}

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

struct Origin {
    server: Server,
    rtmp: u16,
    http: u16,
}

fn start_origin(dir: &std::path::Path, redis: u16) -> Origin {
    start_origin_with(dir, redis, false)
}

/// An origin recording its HTTP address; with `redirect`, HTTP players of streams it lacks get 302.
fn start_origin_with(dir: &std::path::Path, redis: u16, redirect: bool) -> Origin {
    std::fs::create_dir_all(dir).expect("origin dir");
    let (rtmp, http) = (free_port(), free_port());
    let redirect = if redirect { "True" } else { "False" };
    let extra = format!(", http = Some \"127.0.0.1:{http}\", redirect = {redirect}");
    let server = run_graph(dir, &origin_graph(rtmp, http, redis, &extra), &[rtmp, http]);
    Origin { server, rtmp, http }
}

fn assert_plays(url: &str, out: &std::path::Path, what: &str) {
    record(url, 3, out);
    let streams = probe(out.to_str().expect("utf-8"));
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{what}: {streams:?}"));
    assert_eq!((video.width, video.height), (320, 240), "{what}");
    assert!(video.frames >= 40, "{what}: 3 s of video, got {}", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "{what}: {streams:?}");
}

const KEY: &str = "srs:stream:__defaultVhost__/live/cl";

#[test]
fn origins_share_streams_through_redis_and_dead_entries_expire() {
    let dir = temp_dir("cluster-redis");
    let redis = RedisServer::start();
    let mut a = start_origin(&dir.join("a"), redis.port);
    let b = start_origin(&dir.join("b"), redis.port);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/cl", a.rtmp), 30);
    assert!(
        wait_until(10, || redis.cli(&["GET", KEY]) == format!("127.0.0.1:{}", a.rtmp)),
        "A records its stream: {:?}\n{}",
        redis.cli(&["GET", KEY]),
        a.server.log()
    );
    let ttl: i64 = redis.cli(&["TTL", KEY]).parse().expect("TTL is a number");
    assert!((1..=3).contains(&ttl), "the entry has the TTL: {ttl}");

    assert_plays(
        &format!("http://127.0.0.1:{}/live/cl.flv", b.http),
        &dir.join("from-b.flv"),
        "played from B",
    );
    assert!(b.server.log().contains("edge: playing from origin"), "B pulled from A:\n{}", b.server.log());
    assert_eq!(
        redis.cli(&["GET", KEY]),
        format!("127.0.0.1:{}", a.rtmp),
        "B never records a stream it pulls"
    );

    std::fs::create_dir_all(dir.join("edge")).expect("edge dir");
    let edge_http = free_port();
    let edge = run_graph(&dir.join("edge"), &edge_graph(edge_http, b.rtmp), &[edge_http]);
    assert_plays(
        &format!("http://127.0.0.1:{edge_http}/live/cl.flv"),
        &dir.join("from-edge.flv"),
        "played from an edge that knows only B",
    );
    drop(edge);

    redis.cli(&["SET", "srs:stream:__defaultVhost__/live/bad", "not an address\r\n"]);
    let _ = common::http_exchange(b.http, "GET", "/live/bad.flv", &[], b"");
    assert!(
        wait_until(5, || b.server.log().contains("malformed directory entry ignored")),
        "{}",
        b.server.log()
    );

    a.server.child.kill().expect("SIGKILL A");
    let _ = a.server.child.wait();
    let _ = publisher.kill();
    let _ = publisher.wait();
    assert!(wait_until(6, || redis.cli(&["EXISTS", KEY]) == "0"), "A's entry expires within its TTL of 3 s");
    let mut again = publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/cl", b.rtmp), 12);
    assert!(
        wait_until(10, || redis.cli(&["GET", KEY]) == format!("127.0.0.1:{}", b.rtmp)),
        "a republish to B is recorded as B's:\n{}",
        b.server.log()
    );
    assert_plays(
        &format!("http://127.0.0.1:{}/live/cl.flv", b.http),
        &dir.join("republished.flv"),
        "republished on B",
    );
    let _ = again.kill();
    let _ = again.wait();
}

#[test]
fn with_redis_down_local_streams_keep_working_and_the_log_says_why() {
    let dir = temp_dir("cluster-redis-down");
    let redis = RedisServer::start();
    let port = redis.port;
    drop(redis);
    let origin = start_origin(&dir.join("a"), port);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/local", origin.rtmp), 10);
    assert!(
        wait_until(10, || origin.server.log().contains("redis unreachable")),
        "the log says Redis is unreachable:\n{}",
        origin.server.log()
    );
    assert_plays(
        &format!("http://127.0.0.1:{}/live/local.flv", origin.http),
        &dir.join("local.flv"),
        "a local stream with Redis down",
    );
    assert_eq!(
        origin.server.log().matches("redis unreachable").count(),
        1,
        "one line per outage, not one per tick"
    );
    let _ = publisher.kill();
    let _ = publisher.wait();
}

#[test]
fn an_origin_in_redirect_mode_answers_http_players_302_to_the_owner() {
    let dir = temp_dir("cluster-redis-302");
    let redis = RedisServer::start();
    let a = start_origin_with(&dir.join("a"), redis.port, false);
    let c = start_origin_with(&dir.join("c"), redis.port, true);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/moved", a.rtmp), 20);
    assert!(
        wait_until(10, || redis.cli(&["GET", "srs:http:__defaultVhost__/live/moved"])
            == format!("127.0.0.1:{}", a.http)),
        "A records its HTTP address:\n{}",
        a.server.log()
    );
    let answer = common::http_request(c.http, "GET", "/live/moved.flv?k=v").expect("GET at C");
    assert_eq!(answer.status, 302, "{:?}", answer.headers);
    assert_eq!(
        answer.header("location"),
        Some(format!("http://127.0.0.1:{}/live/moved.flv?k=v", a.http).as_str())
    );
    assert_plays(
        &format!("http://127.0.0.1:{}/live/moved.flv", c.http),
        &dir.join("redirected.flv"),
        "ffmpeg follows the 302",
    );
    assert!(
        !c.server.log().contains("edge: playing from origin"),
        "C redirected, it did not pull:\n{}",
        c.server.log()
    );
    let _ = publisher.kill();
    let _ = publisher.wait();
}
