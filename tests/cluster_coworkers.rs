//! SRS 4's origin cluster with `coworkers` (`OriginCoworkers`) and the origin-lacks-the-stream
//! path of edges. Two origins A and B know each other's HTTP API; a stream published on B:
//! - B's `/api/v1/clusters` names B's RTMP address, A's names none (`origin: null`);
//! - an RTMP play of it at A is answered SRS's RTMP 302 to B, which our edge (origins A then B)
//!   follows: its HTTP-FLV player's first keyframe arrives within 2 s and decodes;
//! - an HTTP-FLV play at A is served by A pulling from B (SRS's cluster is RTMP only);
//! - a stream no origin has is refused at A at once ("no origin");
//! - an edge whose first origin is a plain server without the stream (it accepts the play and
//!   waits) reaches the second within 2 s (the 500 ms first-media wait, not the 5 s idle one).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::live::rtmp_flv_graph;
use common::{
    api_get, free_port, probe, publish_test_stream, record, run_graph, temp_dir, wait_until, Server,
};

struct Origin {
    server: Server,
    rtmp: u16,
    http: u16,
    api: u16,
}

fn origin_graph(rtmp: u16, http: u16, api: u16, coworkers: &[u16]) -> String {
    let coworkers = coworkers.iter().map(|p| format!("\"127.0.0.1:{p}\"")).collect::<Vec<_>>().join(", ");
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "cluster" (srs.Node.OriginCoworkers srs.OriginCoworkers::{{ coworkers = [ {coworkers} ] }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
    ]
, edges =
    [ srs.edge "rtmp" "__defaultVhost__", srs.edge "cluster" "__defaultVhost__"
    , srs.edge "__defaultVhost__" "rtmp_play", srs.edge "__defaultVhost__" "flv"
    ]
}}"#
    )
}

fn edge_graph(http: u16, origins: &[u16]) -> String {
    let origins = origins.iter().map(|p| format!("\"127.0.0.1:{p}\"")).collect::<Vec<_>>().join(", ");
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "edge" (srs.Node.EdgePull srs.EdgePull::{{ origin = [ {origins} ] }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    ]
, edges = [ srs.edge "edge" "__defaultVhost__", srs.edge "__defaultVhost__" "flv" ]
}}"#
    )
}

fn assert_plays(url: &str, out: &std::path::Path, what: &str) {
    record(url, 3, out);
    let streams = probe(out.to_str().expect("utf-8"));
    let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{what}: {streams:?}"));
    assert_eq!((video.width, video.height), (320, 240), "{what}");
    assert!(video.frames >= 40, "{what}: 3 s of video, got {}", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "{what}: {streams:?}");
}

/// How long an HTTP-FLV GET of `path` takes to deliver its first H.264 keyframe (the FLV body is
/// raw, ending with the connection); why not, when none came within 10 s: with what the body held
/// (tags by type, the first bytes of each video tag's body, where parsing stopped), and the body
/// saved beside the system's temp files.
fn first_keyframe_after(port: u16, path: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let mut socket = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    socket.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    write!(socket, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").map_err(|e| format!("request: {e}"))?;
    let mut data = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut body_at = None;
    // Parsed so far: where the next tag starts, and what the tags were.
    let mut at = 0;
    let mut seen: Vec<String> = Vec::new();
    loop {
        let n = socket.read(&mut chunk).map_err(|e| {
            let dump = std::env::temp_dir().join(format!("first-keyframe-{port}.bin"));
            let _ = std::fs::write(&dump, &data);
            let head = seen.iter().take(40).cloned().collect::<Vec<_>>().join(" ");
            format!(
                "no keyframe after {:?}: {e}; {} bytes ({}), {} tags, parsed up to {at}: {head}",
                started.elapsed(),
                data.len(),
                dump.display(),
                seen.len()
            )
        })?;
        if n == 0 {
            return Err("the edge closed before a keyframe".into());
        }
        data.extend_from_slice(&chunk[..n]);
        if body_at.is_none() {
            body_at = data.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4);
            // FLV header (9) + PreviousTagSize0 (4), then tags: type, size(3), time(4), stream id(3).
            at = body_at.map_or(0, |body| body + 13);
        }
        if body_at.is_none() {
            continue;
        }
        while at + 11 <= data.len() {
            let size = u32::from_be_bytes([0, data[at + 1], data[at + 2], data[at + 3]]) as usize;
            if at + 11 + size > data.len() {
                break;
            }
            let tag = &data[at + 11..at + 11 + size];
            seen.push(match data[at] {
                9 => format!("v{:02x}{:02x}", tag.first().unwrap_or(&0), tag.get(1).unwrap_or(&0)),
                8 => "a".into(),
                other => format!("t{other}:{size}"),
            });
            // Video, keyframe, AVC NALU (not the sequence header).
            if data[at] == 9 && tag.len() > 1 && tag[0] >> 4 == 1 && tag[1] == 1 {
                return Ok(started.elapsed());
            }
            at += 11 + size + 4;
        }
    }
}

#[test]
fn origins_redirect_rtmp_players_to_the_coworker_that_has_the_stream() {
    let dir = temp_dir("cluster-coworkers");
    let ports: Vec<(u16, u16, u16)> = (0..2).map(|_| (free_port(), free_port(), free_port())).collect();
    let apis: Vec<u16> = ports.iter().map(|p| p.2).collect();
    let origins: Vec<Origin> = ["a", "b"]
        .iter()
        .zip(&ports)
        .map(|(name, &(rtmp, http, api))| {
            let sub = dir.join(name);
            std::fs::create_dir_all(&sub).expect("origin dir");
            let server = run_graph(&sub, &origin_graph(rtmp, http, api, &apis), &[rtmp, http, api]);
            Origin { server, rtmp, http, api }
        })
        .collect();
    let (a, b) = (&origins[0], &origins[1]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/cw", b.rtmp), 30);
    assert!(wait_until(10, || b.server.log().contains("publish started")), "{}", b.server.log());

    // The coworker API, as SRS answers it.
    let query = "/api/v1/clusters?vhost=__defaultVhost__&ip=127.0.0.1&app=live&stream=cw&coworker=127.0.0.1:";
    let at_b = api_get(b.api, &format!("{query}{}", b.api));
    assert_eq!(at_b["code"], 0, "{at_b}");
    assert_eq!(at_b["data"]["query"]["stream"], "cw", "{at_b}");
    assert_eq!(at_b["data"]["origin"]["ip"], "127.0.0.1", "{at_b}");
    assert_eq!(at_b["data"]["origin"]["port"], b.rtmp, "{at_b}");
    assert_eq!(at_b["data"]["origin"]["api"], format!("127.0.0.1:{}", b.api), "{at_b}");
    let at_a = api_get(a.api, &format!("{query}{}", a.api));
    assert!(at_a["data"]["origin"].is_null(), "A does not have it: {at_a}");

    // Our edge, A first: A answers the RTMP 302, the edge follows it to B.
    let edge_http = free_port();
    let edge_dir = dir.join("edge");
    std::fs::create_dir_all(&edge_dir).expect("edge dir");
    let edge = run_graph(&edge_dir, &edge_graph(edge_http, &[a.rtmp, b.rtmp]), &[edge_http]);
    let first = first_keyframe_after(edge_http, "/live/cw.flv").unwrap_or_else(|why| {
        panic!("{why}\nedge:\n{}\nA:\n{}\nB:\n{}", edge.log(), a.server.log(), b.server.log())
    });
    println!("edge behind an origin without the stream (rtmp 302): first keyframe after {first:?}");
    assert!(first < Duration::from_secs(2), "first keyframe after {first:?}");
    assert!(a.server.log().contains("rtmp play redirected (302)"), "{}", a.server.log());
    assert!(edge.log().contains("rtmp 302: playing where the server redirected"), "{}", edge.log());
    assert_plays(&format!("http://127.0.0.1:{edge_http}/live/cw.flv"), &dir.join("edge.flv"), "edge");

    // ffmpeg does not follow the RTMP 302 (it reports the onStatus error and stops).
    let ffprobe = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-rw_timeout", "5000000", &format!("rtmp://127.0.0.1:{}/live/cw", a.rtmp)])
        .output()
        .expect("ffprobe runs");
    let said = String::from_utf8_lossy(&ffprobe.stderr);
    println!("ffprobe of the redirecting origin: {said}");
    assert!(!ffprobe.status.success() && said.contains("302"), "{said}");

    // HTTP-FLV at A: SRS's cluster redirects RTMP only, so A pulls from B and serves it.
    assert_plays(&format!("http://127.0.0.1:{}/live/cw.flv", a.http), &dir.join("a.flv"), "A's HTTP-FLV");

    // A stream nobody has: refused at A, at once.
    let started = Instant::now();
    let refused = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-rw_timeout", "5000000", &format!("rtmp://127.0.0.1:{}/live/none", a.rtmp)])
        .output()
        .expect("ffprobe runs");
    assert!(!refused.status.success(), "a stream no origin has is refused");
    assert!(started.elapsed() < Duration::from_secs(4), "refused at once: {:?}", started.elapsed());
    assert!(
        wait_until(3, || a.server.log().contains("no origin of the cluster has the stream")),
        "{}",
        a.server.log()
    );
    let _ = publisher.kill();
    let _ = publisher.wait();
}

#[test]
fn an_origin_without_the_stream_costs_the_edge_under_a_second() {
    let dir = temp_dir("cluster-first-media");
    let mut servers = Vec::new();
    let mut ports = Vec::new();
    for name in ["plain", "has"] {
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub).expect("dir");
        let (rtmp, http) = (free_port(), free_port());
        servers.push(run_graph(&sub, &rtmp_flv_graph(rtmp, http), &[rtmp, http]));
        ports.push(rtmp);
    }
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{}/live/fm", ports[1]), 30);
    assert!(wait_until(10, || servers[1].log().contains("publish started")), "{}", servers[1].log());
    let edge_http = free_port();
    let edge_dir = dir.join("edge");
    std::fs::create_dir_all(&edge_dir).expect("edge dir");
    let edge = run_graph(&edge_dir, &edge_graph(edge_http, &ports), &[edge_http]);
    let first = first_keyframe_after(edge_http, "/live/fm.flv").unwrap_or_else(|why| {
        let publisher = publisher.try_wait();
        panic!(
            "{why}; publisher: {publisher:?}\nedge:\n{}\nplain origin:\n{}\norigin with the stream:\n{}",
            edge.log(),
            servers[0].log(),
            servers[1].log()
        )
    });
    println!("edge behind an origin that accepts the play and waits: first keyframe after {first:?}");
    assert!(first < Duration::from_secs(2), "first keyframe after {first:?}; edge:\n{}", edge.log());
    assert!(edge.log().contains("no media for 500ms"), "the plain origin was tried first: {}", edge.log());
    let _ = publisher.kill();
    let _ = publisher.wait();
}
