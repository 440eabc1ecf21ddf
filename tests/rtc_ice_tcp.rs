//! ICE over TCP (SRS 5's `rtc_server.tcp`, RFC 4571 framing) on the WebRTC port number: with
//! `protocol = "tcp"` an answer carries only a passive TCP host candidate, and headless Chromium
//! plays an RTMP stream through it over WHEP, decoding frames (counted rising) at the stream's
//! 320x240, and the API lists it as an `rtc-play` client on TCP. A connection whose first frame is not a STUN binding for a session is closed.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use common::{
    free_port, free_udp_port, newest_report, run_graph, temp_dir, wait_for, Browser, StaticServer, FAKE_MEDIA,
};

/// Frames decoded and the picture size the page reported last.
fn decoded(log: &Path) -> Option<(u64, String)> {
    let text = newest_report(log, "whep", "stats-")?;
    let mut parts = text.split('-');
    Some((parts.next()?.parse().ok()?, parts.next()?.to_owned()))
}

#[test]
fn chromium_plays_over_ice_tcp() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = temp_dir("rtc_ice_tcp");
    let page_dir = dir.join("page");
    std::fs::create_dir_all(&page_dir).expect("page dir");
    std::fs::copy(root.join("tests/player/whep.html"), page_dir.join("whep.html")).expect("copy page");
    std::os::unix::fs::symlink(&page_dir, page_dir.join("whep")).expect("page alias");
    let (api, port, rtmp) = (free_port(), free_udp_port(), free_port());
    let graph = common::rtmp_to_whep_graph(api, port, rtmp).replace(
        r#"candidate = "127.0.0.1" }"#,
        r#"candidate = "127.0.0.1", tcp = True, protocol = "tcp" }"#,
    );
    let _srs = run_graph(&dir, &graph, &[api, rtmp, port]);
    let mut ffmpeg = common::publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/tcp"), 120);

    // Bytes that are no STUN binding: the connection is closed at once.
    let mut stranger = std::net::TcpStream::connect(("127.0.0.1", port)).expect("tcp connect");
    stranger.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    stranger.write_all(&[0, 4, 0xde, 0xad, 0xbe, 0xef]).expect("write");
    let mut buffer = [0u8; 16];
    assert_eq!(stranger.read(&mut buffer).map_err(|e| e.kind()), Ok(0), "closed by the server");

    let log = dir.join("page.log");
    let pages = StaticServer::start_logging(&page_dir, Some(&log));
    let profile = dir.join("whep");
    std::fs::create_dir_all(&profile).expect("profile dir");
    let url = format!("http://127.0.0.1:{}/whep/whep.html?api=http://127.0.0.1:{api}&stream=tcp", pages.port);
    let _player = Browser::open_with(&profile, &url, &FAKE_MEDIA);
    let first = wait_for(40, "chromium decodes over tcp", || {
        decoded(&log).filter(|(frames, size)| *frames > 10 && size == "320x240").map(|d| d.0)
    });
    wait_for(40, "chromium keeps decoding over tcp", || {
        decoded(&log).filter(|(frames, _)| *frames > first + 50).map(|d| d.0)
    });
    // The session is a WebRTC player of the API like any other, on TCP.
    let clients = common::api_get(api, "/api/v1/clients/");
    let list = clients["clients"].as_array().expect("clients");
    let player = list.iter().find(|c| c["type"] == "rtc-play").expect("an rtc-play client");
    assert_eq!(player["rtc"]["transport"], "tcp", "{player}");
    // What it decodes, the server's worker SRTP-protected itself and queued to the connection.
    let protected = player["rtc"]["srtp_packets"].as_u64().unwrap_or(0);
    assert!(protected > 50, "{protected} packets protected by the worker: {player}");
    // Off the `rtc` crate after DTLS (`servers::rtc_slim`): Chromium's consent checks and
    // reports over the TCP pair are the server's own to read, and the picture goes on.
    let slim = || {
        let clients = common::api_get(api, "/api/v1/clients/");
        let list = clients["clients"].as_array().cloned().unwrap_or_default();
        list.iter()
            .any(|c| c["rtc"]["slim"] == true && c["rtc"]["receiver_reports"].as_u64().unwrap_or(0) > 0)
    };
    assert!(common::wait_until(15, slim), "the tcp player's rtcp read off the crate");
    let now = decoded(&log).map_or(0, |d| d.0);
    wait_for(20, "chromium decodes over tcp off the crate", || {
        decoded(&log).filter(|(frames, _)| *frames > now + 50).map(|d| d.0)
    });
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    drop(pages);
}
