//! Hook servers that misbehave: one that accepts and never answers, one that answers garbage (not
//! HTTP, a wrong body, an endless body). Each blocking hook then denies within its timeout, the
//! reason is logged, and the server keeps serving: a stream on a vhost without hooks plays throughout.
//! (An unreachable hook server is `hooks_callbacks.rs`.)

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::*;

/// A hook server answering every request with `answer` (or never, when `None`).
fn bad_hook_server(answer: Option<&'static [u8]>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = stream.read(&mut [0u8; 4096]);
            match answer {
                Some(bytes) => {
                    let _ = stream.write_all(bytes);
                    if bytes.ends_with(b"\r\n\r\n") {
                        // An endless body: keep writing until the server hangs up.
                        let chunk = [b'x'; 16 * 1024];
                        while stream.write_all(&chunk).is_ok() {}
                    }
                }
                None => held.push(stream),
            }
        }
    });
    port
}

fn graph(rtmp: u16, http: u16, hooks: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "hooked" (srs.Node.Vhost srs.Vhost::{{ name = "hooked.test",
        http_hooks = Some srs.HttpHooks::{{
          on_publish = [ "http://127.0.0.1:{hooks}/api/v1/streams" ], timeout_ms = 2000 }} }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    ]
, edges =
    [ srs.edge "rtmp" "hooked", srs.edge "rtmp" "__defaultVhost__"
    , srs.edge "hooked" "flv", srs.edge "__defaultVhost__" "flv" ]
}}"#
    )
}

/// Publishes to the hooked vhost; the publish must be refused within the hook's timeout.
fn publish_is_denied(rtmp: u16, server: &Server, what: &str) {
    let started = Instant::now();
    let publisher =
        publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/hooked?vhost=hooked.test"), 20);
    let output = publisher.wait_with_output().expect("ffmpeg");
    let took = started.elapsed();
    assert!(!output.status.success(), "{what}: the publish is denied");
    assert!(took < Duration::from_secs(15), "{what}: denied in {took:?}, not after the whole clip");
    assert!(
        wait_until(5, || server.log().contains("rtmp publish refused: on_publish")),
        "{what}: the denial is logged:\n{}",
        server.log()
    );
}

fn steady_stream_plays(http: u16, dir: &std::path::Path, name: &str) {
    let out = dir.join(format!("{name}.flv"));
    record(&format!("http://127.0.0.1:{http}/live/steady.flv"), 2, &out);
    let video = probe(out.to_str().unwrap()).into_iter().find(|s| s.codec == "h264").expect("h264 plays");
    assert!(video.frames >= 25, "2 s of the unhooked stream at 25 fps, got {}", video.frames);
}

#[test]
fn a_hook_server_that_never_answers_denies_after_the_timeout() {
    let dir = temp_dir("fault_hooks_hang");
    let (rtmp, http) = (free_port(), free_port());
    let server = run_graph(&dir, &graph(rtmp, http, bad_hook_server(None)), &[rtmp, http]);
    let _steady = Background(publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/steady"), 60));
    std::thread::sleep(Duration::from_secs(2));
    // Several at once: each waits for its own answer, none blocks the others or the server.
    let publishers: Vec<_> = (0..3)
        .map(|_| {
            let started = Instant::now();
            (
                started,
                publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/hooked?vhost=hooked.test"), 20),
            )
        })
        .collect();
    steady_stream_plays(http, &dir, "during");
    for (started, publisher) in publishers {
        let output = publisher.wait_with_output().expect("ffmpeg");
        assert!(!output.status.success(), "denied when the hook hangs");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "denied within the 2 s timeout (took {:?})",
            started.elapsed()
        );
    }
    assert!(server.log().contains("no answer within 2s"), "the timeout is logged:\n{}", server.log());
    publish_is_denied(rtmp, &server, "hanging hook");
    steady_stream_plays(http, &dir, "after");
}

#[test]
fn a_hook_server_answering_garbage_denies_and_the_server_serves_on() {
    let answers: [&'static [u8]; 3] = [
        b"\x16\x03\x01\x02\x00garbage that is not http at all\r\n\r\n\r\n\x00\xff",
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{\"code\":",
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n",
    ];
    for (i, answer) in answers.into_iter().enumerate() {
        let dir = temp_dir(&format!("fault_hooks_garbage_{i}"));
        let (rtmp, http) = (free_port(), free_port());
        let server = run_graph(&dir, &graph(rtmp, http, bad_hook_server(Some(answer))), &[rtmp, http]);
        let _steady = Background(publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/steady"), 30));
        std::thread::sleep(Duration::from_secs(2));
        publish_is_denied(rtmp, &server, &format!("garbage answer {i}"));
        steady_stream_plays(http, &dir, "after");
    }
}
