//! SRT caster: ffmpeg publishes MPEG-TS over SRT (`#!::r=live/test,m=publish`); an HTTP-FLV player,
//! an ffmpeg SRT player and srt-live-transmit (libsrt) all get the stream with the right codecs
//! and resolution; a second publisher of the same stream is refused in the handshake.

mod common;

use std::process::Command;

use common::{
    free_port, free_udp_port, make_h264_aac, probe, record, run_graph, spawn_ffmpeg, temp_dir, wait_for_log,
};

fn graph(srt: u16, http: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "srt" (srs.Node.SrtIn srs.SrtIn::{{ listen = "127.0.0.1:{srt}" }})
    , srs.node "srt_play" (srs.Node.SrtOut srs.SrtOut::{{ listen = "127.0.0.1:{srt}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}", mount = "[vhost]/[app]/[stream].flv" }})
    ]
, edges =
    [ srs.edge "srt" "__defaultVhost__"
    , srs.edge "__defaultVhost__" "flv"
    , srs.edge "__defaultVhost__" "srt_play"
    ]
}}"#
    )
}

#[test]
fn srt_publish_plays_over_http_flv_ffmpeg_srt_and_srt_live_transmit() {
    let dir = temp_dir("casters-srt");
    let clip = dir.join("in.ts");
    make_h264_aac(&clip, "mpegts", 20);
    let (srt, http) = (free_udp_port(), free_port());
    let server = run_graph(&dir, &graph(srt, http), &[http]);
    wait_for_log(&server, "srt server listening");
    let publish_url = format!("srt://127.0.0.1:{srt}?streamid=#!::r=live/test,m=publish");
    let _publisher =
        spawn_ffmpeg(&["-re", "-i", clip.to_str().unwrap(), "-c", "copy", "-f", "mpegts", &publish_url]);
    wait_for_log(&server, "srt publishing");

    // A second publisher of a live stream is refused in the handshake (SRS: stream busy).
    let second = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-i", clip.to_str().unwrap()])
        .args(["-t", "1", "-c", "copy", "-f", "mpegts", &publish_url])
        .output()
        .expect("ffmpeg runs");
    assert!(!second.status.success(), "a second publisher must be refused");
    assert!(server.log().contains("is already being published"), "{}", server.log());
    std::thread::sleep(std::time::Duration::from_millis(1500));

    let play_url = format!("srt://127.0.0.1:{srt}?streamid=#!::r=live/test,m=request");
    let flv_out = dir.join("out.flv");
    let srt_out = dir.join("out-srt.ts");
    let slt_out = dir.join("out-slt.ts");
    let flv_player = {
        let (url, out) = (format!("http://127.0.0.1:{http}/live/test.flv"), flv_out.clone());
        std::thread::spawn(move || record(&url, 3, &out))
    };
    let srt_player = {
        let (url, out) = (play_url.clone(), srt_out.clone());
        std::thread::spawn(move || record(&url, 3, &out))
    };
    // srt-live-transmit writes files only to stdout (`file://con`).
    let slt = Command::new("srt-live-transmit")
        .args(["-t:4", "-q", &play_url, "file://con"])
        .stdout(std::fs::File::create(&slt_out).expect("output file"))
        .output()
        .expect("srt-live-transmit runs (scripts/install-test-deps installs srt-tools)");
    flv_player.join().expect("flv player");
    srt_player.join().expect("srt player");
    let slt_len = std::fs::metadata(&slt_out).map_or(0, |m| m.len());
    assert!(
        slt_len > 10_000,
        "srt-live-transmit got {slt_len} bytes: {}",
        String::from_utf8_lossy(&slt.stderr)
    );

    for out in [&flv_out, &srt_out, &slt_out] {
        let streams = probe(out.to_str().unwrap());
        let video =
            streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{out:?}: {streams:?}"));
        assert_eq!((video.width, video.height), (320, 240), "{out:?}");
        assert!(streams.iter().any(|s| s.codec == "aac"), "{out:?} has audio: {streams:?}");
    }
    let flv = probe(flv_out.to_str().unwrap());
    let video = flv.iter().find(|s| s.codec == "h264").unwrap();
    assert!(video.frames >= 60, "about 3 s of 25 fps video over http-flv, got {}", video.frames);
    assert!(video.duration >= 2.5, "duration {}", video.duration);
}
