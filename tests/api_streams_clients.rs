//! The SRS-compatible HTTP API against a live server: ffmpeg publishes H.264 + AAC, ffmpeg and a
//! raw HTTP-FLV reader play; the API reports the stream's codecs and resolution, every client
//! with SRS's types, kicks a player (its connection ends), answers errors with SRS's codes, serves
//! JSONP, `/metrics` and `/api/v1/graph`, and refuses malformed or oversized requests with 4xx.
//! The API shares the HTTP server of the HTTP-FLV node (same port).

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::{
    api_get, free_port, http_exchange, publish_test_stream, record, run_graph, temp_dir, wait_until,
};

fn graph(rtmp: u16, http: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{http}" }})
    ]
, edges = [ srs.edge "rtmp" "__defaultVhost__", srs.edge "__defaultVhost__" "rtmp_play", srs.edge "__defaultVhost__" "flv" ]
}}"#
    )
}

/// A raw HTTP-FLV reader: sends the request and reads the answer head.
fn open_flv(port: u16, path: &str) -> std::net::TcpStream {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
    stream.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
    let mut head = [0u8; 512];
    let n = stream.read(&mut head).expect("answer");
    assert!(
        String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head[..n])
    );
    stream
}

#[test]
fn api_reports_streams_and_clients_and_kicks() {
    let dir = temp_dir("api-streams");
    let (rtmp, http) = (free_port(), free_port());
    let server = run_graph(&dir, &graph(rtmp, http), &[rtmp, http]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/apitest"), 20);
    let rtmp_player = {
        let url = format!("rtmp://127.0.0.1:{rtmp}/live/apitest");
        let out = dir.join("rtmp.flv");
        std::thread::spawn(move || record(&url, 6, &out))
    };
    let mut flv_reader = open_flv(http, "/live/apitest.flv");
    let described = wait_until(15, || {
        let streams = api_get(http, "/api/v1/streams");
        let first = &streams["streams"][0];
        first["video"]["width"] == 320
            && first["clients"].as_u64() >= Some(3)
            && first["frames"].as_u64() > Some(25)
    });
    assert!(described, "stream described with 3 clients; log:\n{}", server.log());

    let streams = api_get(http, "/api/v1/streams");
    assert_eq!(streams["code"], 0);
    assert!(streams["server"].as_str().unwrap().starts_with("vid-"), "{streams}");
    assert!(streams["pid"].is_string() && streams["service"].is_string());
    let stream = &streams["streams"][0];
    assert_eq!(stream["name"], "apitest");
    assert_eq!(stream["app"], "live");
    assert_eq!(stream["url"], "/live/apitest");
    assert_eq!(stream["publish"]["active"], true);
    assert_eq!(stream["video"]["codec"], "H264");
    assert_eq!(
        (stream["video"]["width"].as_u64(), stream["video"]["height"].as_u64()),
        (Some(320), Some(240))
    );
    assert_eq!(stream["audio"]["codec"], "AAC");
    assert_eq!(stream["audio"]["sample_rate"], 44100);
    assert!(stream["frames"].as_u64().unwrap() > 0, "{stream}");
    let id = stream["id"].as_str().unwrap().to_owned();
    assert_eq!(api_get(http, &format!("/api/v1/streams/{id}"))["stream"]["name"], "apitest");
    assert_eq!(api_get(http, "/api/v1/streams/vid-99999"), serde_json::json!({"code": 2048}));

    let clients = api_get(http, "/api/v1/clients");
    let clients = clients["clients"].as_array().unwrap().clone();
    let kinds: Vec<&str> = clients.iter().map(|c| c["type"].as_str().unwrap()).collect();
    for kind in ["fmle-publish", "rtmp-play", "flv-play"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let publisher_entry = clients.iter().find(|c| c["type"] == "fmle-publish").unwrap();
    assert_eq!(publisher_entry["publish"], true);
    assert_eq!(publisher_entry["ip"], "127.0.0.1");
    assert_eq!(publisher_entry["stream"], id.as_str());
    assert!(publisher_entry["recv_bytes"].as_u64().unwrap() > 0);
    assert!(publisher_entry["tcUrl"].as_str().unwrap().starts_with("rtmp://127.0.0.1"), "{publisher_entry}");
    assert_eq!(api_get(http, "/api/v1/clients/999999"), serde_json::json!({"code": 2049}));
    let vhosts = api_get(http, "/api/v1/vhosts");
    assert_eq!(vhosts["vhosts"][0]["name"], "__defaultVhost__");
    assert_eq!(vhosts["vhosts"][0]["streams"], 1);

    // Kick the raw HTTP-FLV reader: its connection ends.
    let flv_client = clients.iter().find(|c| c["type"] == "flv-play").unwrap();
    let flv_id = flv_client["id"].as_str().unwrap();
    let mut buffer = vec![0u8; 65536];
    assert!(flv_reader.read(&mut buffer).unwrap() > 0, "the reader gets media before the kick");
    let (status, body) = http_exchange(http, "DELETE", &format!("/api/v1/clients/{flv_id}"), &[], b"");
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["code"], 0);
    let mut ended = false;
    for _ in 0..2000 {
        match flv_reader.read(&mut buffer) {
            Ok(0) => {
                ended = true;
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("kicked reader should see the end of the body, got {e}"),
        }
    }
    assert!(ended, "kicked player disconnected");
    assert!(wait_until(5, || api_get(http, &format!("/api/v1/clients/{flv_id}"))["code"] == 2049));

    // JSONP, metrics and the graph.
    let (status, body) = http_exchange(http, "GET", "/api/v1/versions?callback=cb", &[], b"");
    assert_eq!(status, 200);
    assert!(body.starts_with("cb({") && body.ends_with("})"), "{body}");
    let (status, metrics) = http_exchange(http, "GET", "/metrics", &[], b"");
    assert_eq!(status, 200);
    assert!(metrics.contains("srs_streams 1"), "{metrics}");
    assert!(
        metrics
            .contains("srs_stream_frames_total{vhost=\"__defaultVhost__\",app=\"live\",stream=\"apitest\"}"),
        "{metrics}"
    );
    let graph = api_get(http, "/api/v1/graph");
    let edges = graph["graph"]["edges"].as_array().unwrap();
    let into_vhost = edges.iter().find(|e| e["from"] == "rtmp").unwrap();
    assert!(into_vhost["frames"].as_u64().unwrap() > 0, "{graph}");
    assert!(graph["graph"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["kind"] == "HttpApi" && n["role"] == "service"));

    // Malformed and oversized requests.
    let big = vec![b'x'; 100 * 1024];
    assert_eq!(http_exchange(http, "POST", "/api/v1/streams", &[], &big).0, 413);
    assert_eq!(http_exchange(http, "GET", "/api/v1/clients", &["Content-Length: nope"], b"").0, 400);
    assert_eq!(http_exchange(http, "PUT", "/api/v1/streams", &[], b"{}").0, 405);
    assert_eq!(http_exchange(http, "GET", "/api/v1/nothing", &[], b"").0, 404);
    assert_eq!(http_exchange(http, "GET", "/api/v1/versions?callback=alert(1)", &[], b"").0, 400);
    let mut garbage = std::net::TcpStream::connect(("127.0.0.1", http)).unwrap();
    garbage.write_all(b"\x16\x03\x01 not http at all\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = garbage.read_to_string(&mut answer);
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert_eq!(api_get(http, "/api/v1/versions")["code"], 0, "the server survived");

    rtmp_player.join().expect("rtmp player");
    let _ = publisher.kill();
    let _ = publisher.wait();
}

#[test]
fn api_auth_and_paging() {
    let dir = temp_dir("api-auth");
    let api = free_port();
    let graph = format!(
        r#"srs.Graph::{{ nodes = [ srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}", auth = {{ enabled = True, username = "admin", password = "secret" }}, bearer_token = Some "t0ken" }}) ] }}"#
    );
    let _server = run_graph(&dir, &graph, &[api]);
    let (status, _) = http_exchange(api, "GET", "/api/v1/versions", &[], b"");
    assert_eq!(status, 401);
    let (status, _) =
        http_exchange(api, "GET", "/api/v1/versions", &["Authorization: Basic YWRtaW46d3Jvbmc="], b"");
    assert_eq!(status, 401, "wrong password");
    let (status, body) =
        http_exchange(api, "GET", "/api/v1/versions", &["Authorization: Basic YWRtaW46c2VjcmV0"], b"");
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        http_exchange(api, "GET", "/api/v1/clients?start=0&count=1", &["Authorization: Bearer t0ken"], b"");
    assert_eq!(status, 200, "{body}");
    let (status, _) =
        http_exchange(api, "GET", "/api/v1/raw?rpc=reload", &["Authorization: Bearer t0ken"], b"");
    assert_eq!(status, 200);
    let (_, body) =
        http_exchange(api, "GET", "/api/v1/raw?rpc=reload", &["Authorization: Bearer t0ken"], b"");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["code"], 1061, "raw api disabled");
}

#[test]
fn kbps_is_the_rate_of_the_last_seconds_sampled_by_the_api() {
    let dir = temp_dir("api-kbps");
    let (rtmp, http) = (free_port(), free_port());
    let _server = run_graph(&dir, &graph(rtmp, http), &[rtmp, http]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/rate"), 20);
    let stream = || {
        let streams = api_get(http, "/api/v1/streams");
        streams["streams"].as_array().and_then(|s| s.iter().find(|s| s["name"] == "rate").cloned())
    };
    assert!(wait_until(10, || stream().is_some_and(|s| s["publish"]["active"] == true)), "publishing");
    // Two samples of the counters 6 s apart give the rate the server must report.
    std::thread::sleep(Duration::from_secs(6));
    let first = stream().expect("stream listed");
    std::thread::sleep(Duration::from_secs(6));
    let second = stream().expect("stream listed");
    let grown = second["recv_bytes"].as_u64().unwrap() - first["recv_bytes"].as_u64().unwrap();
    let measured = grown * 8 / 1000 / 6;
    let reported = second["kbps"]["recv_30s"].as_u64().unwrap();
    assert!(measured > 50, "the test stream carries data: {measured} kbit/s");
    assert!(
        reported * 10 >= measured * 6 && reported * 10 <= measured * 14,
        "reported recv_30s {reported} kbit/s, measured {measured} kbit/s"
    );
    let _ = publisher.kill();
    let _ = publisher.wait();
}
