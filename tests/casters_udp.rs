//! MPEG-TS over UDP caster: ffmpeg sends TS datagrams; the stream named in the graph plays over
//! HTTP-FLV with the right codecs, resolution and duration. A relay that drops every 50th
//! datagram leaves a second stream alive: frames keep reaching its HTTP-FLV player.

mod common;

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{
    free_port, free_udp_port, make_h264_aac, probe, record, run_graph, spawn_ffmpeg, temp_dir, wait_for_log,
};

fn graph(clean: u16, lossy: u16, http: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "clean" (srs.Node.MpegtsUdpIn srs.MpegtsUdpIn::{{ listen = "127.0.0.1:{clean}", stream = "live/clean" }})
    , srs.node "lossy" (srs.Node.MpegtsUdpIn srs.MpegtsUdpIn::{{ listen = "127.0.0.1:{lossy}", stream = "live/lossy" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}", mount = "[vhost]/[app]/[stream].flv" }})
    ]
, edges =
    [ srs.edge "clean" "__defaultVhost__"
    , srs.edge "lossy" "__defaultVhost__"
    , srs.edge "__defaultVhost__" "flv"
    ]
}}"#
    )
}

/// Forwards datagrams from `relay` to `target`, dropping every `nth`; stops when `stop` is set.
fn lossy_relay(
    relay: UdpSocket,
    target: u16,
    nth: u64,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        relay.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
        let mut buffer = [0u8; 65_536];
        let (mut n_seen, mut n_dropped) = (0u64, 0u64);
        while !stop.load(Ordering::Relaxed) {
            let Ok(n) = relay.recv(&mut buffer) else { continue };
            n_seen += 1;
            if n_seen % nth == 0 {
                n_dropped += 1;
                continue;
            }
            let _ = relay.send_to(&buffer[..n], ("127.0.0.1", target));
        }
        n_dropped
    })
}

#[test]
fn udp_ts_plays_over_http_flv_and_survives_datagram_loss() {
    let dir = temp_dir("casters-udp");
    let clip = dir.join("in.ts");
    make_h264_aac(&clip, "mpegts", 12);
    let (clean, lossy, http) = (free_udp_port(), free_udp_port(), free_port());
    let server = run_graph(&dir, &graph(clean, lossy, http), &[http]);
    wait_for_log(&server, &format!("127.0.0.1:{lossy}"));
    let relay = UdpSocket::bind("127.0.0.1:0").expect("relay socket");
    let relay_port = relay.local_addr().expect("addr").port();
    let stop = Arc::new(AtomicBool::new(false));
    let relay_thread = lossy_relay(relay, lossy, 50, Arc::clone(&stop));

    let input = clip.to_str().unwrap();
    let send = |port: u16| {
        let url = format!("udp://127.0.0.1:{port}?pkt_size=1316");
        spawn_ffmpeg(&["-re", "-i", input, "-c", "copy", "-f", "mpegts", &url])
    };
    let _clean_sender = send(clean);
    let _lossy_sender = send(relay_port);
    wait_for_log(&server, "mpeg-ts over udp publishing");
    std::thread::sleep(Duration::from_millis(1500));

    let players: Vec<_> = ["clean", "lossy"]
        .into_iter()
        .map(|name| {
            let url = format!("http://127.0.0.1:{http}/live/{name}.flv");
            let out = dir.join(format!("{name}.flv"));
            std::thread::spawn(move || {
                record(&url, 4, &out);
                out
            })
        })
        .collect();
    let outputs: Vec<_> = players.into_iter().map(|p| p.join().expect("player")).collect();
    stop.store(true, Ordering::Relaxed);
    let n_dropped = relay_thread.join().expect("relay");
    assert!(n_dropped >= 3, "the relay dropped one datagram in 50: {n_dropped}");

    let clean = probe(outputs[0].to_str().unwrap());
    let video = clean.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{clean:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames >= 90, "about 4 s of 25 fps video, got {}", video.frames);
    assert!(clean.iter().any(|s| s.codec == "aac"), "audio: {clean:?}");

    let lossy = probe(outputs[1].to_str().unwrap());
    let video = lossy.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{lossy:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames >= 50, "frames keep arriving despite loss, got {}", video.frames);
    assert!(server.log().contains("mpeg-ts damage recovered"), "losses are reported:\n{}", server.log());
}
