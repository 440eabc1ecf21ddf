//! HTTP-FLV, HTTP-TS and HTTP-AAC of a live stream, played by real ffmpeg: right codecs,
//! resolution and duration; several players share one serialization.

mod common;

use common::{free_port, make_h264_aac, probe, record, run_graph, temp_dir};

fn live_graph(input: &str, port: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "file" (srs.Node.FileIn srs.FileIn::{{ path = "{input}", stream = "live/livestream", realtime = True, repeat = True }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{port}", mount = "[vhost]/[app]/[stream].flv" }})
    , srs.node "ts" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{port}", mount = "[vhost]/[app]/[stream].ts" }})
    , srs.node "aac" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{port}", mount = "[vhost]/[app]/[stream].aac" }})
    ]
, edges =
    [ srs.edge "file" "__defaultVhost__"
    , srs.edge "__defaultVhost__" "flv"
    , srs.edge "__defaultVhost__" "ts"
    , srs.edge "__defaultVhost__" "aac"
    ]
}}"#
    )
}

#[test]
fn flv_ts_and_aac_players_get_the_live_stream() {
    let dir = temp_dir("http-remux-live");
    let input = dir.join("in.flv");
    make_h264_aac(&input, "flv", 4);
    let port = free_port();
    let server = run_graph(&dir, &live_graph(input.to_str().unwrap(), port), &[port]);
    let base = format!("http://127.0.0.1:{port}/live/livestream");
    let players: Vec<_> = [("flv", "flv"), ("ts", "ts"), ("aac", "aac")]
        .into_iter()
        .map(|(ext, out_ext)| {
            let url = format!("{base}.{ext}");
            let out = dir.join(format!("out-{ext}.{out_ext}"));
            std::thread::spawn(move || {
                record(&url, 3, &out);
                out
            })
        })
        .collect();
    let outputs: Vec<_> = players.into_iter().map(|p| p.join().expect("player thread")).collect();
    for out in &outputs[..2] {
        let streams = probe(out.to_str().unwrap());
        let video =
            streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{out:?}: {streams:?}"));
        assert_eq!((video.width, video.height), (320, 240), "{out:?}");
        assert!(video.frames >= 60, "{out:?}: about 3 s of 25 fps video, got {} frames", video.frames);
        assert!(streams.iter().any(|s| s.codec == "aac"), "{out:?} has audio: {streams:?}");
    }
    let audio = probe(outputs[2].to_str().unwrap());
    assert_eq!(audio.len(), 1, "audio only: {audio:?}");
    assert_eq!(audio[0].codec, "aac");
    assert!(audio[0].duration >= 2.5, "about 3 s of audio: {}", audio[0].duration);
    assert!(server.log().contains("http play"), "{}", server.log());
}
