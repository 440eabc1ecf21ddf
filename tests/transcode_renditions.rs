//! `Transcode` (SRS's vhost `transcode`): ffmpeg publishes one stream; two engines make a
//! 320x180 and a 640x360 rendition (libx264 + AAC) that the server serves as `cam_sd` and
//! `cam_hd` over HTTP-FLV; the renditions themselves are not transcoded again (loop guard);
//! the video bitrate of each is within 15 % of what the engine asked for.

mod common;

use std::path::Path;
use std::process::Command;

use common::{api_get, free_port, probe, publish_test_stream, record, run_graph, temp_dir, wait_until};

fn engine(name: &str, width: u32, height: u32, kbps: u32) -> String {
    format!(
        r#"srs.FfmpegEngine::{{ name = "{name}", vcodec = "libx264", vbitrate = {kbps}, vfps = 25, vwidth = {width}, vheight = {height}, vpreset = "ultrafast", vparams = [ {{ name = "g", value = "25" }} ], acodec = "aac", abitrate = 48, asample_rate = 44100, achannels = 2 }}"#
    )
}

fn transcode_graph(rtmp: u16, http: u16, api: u16) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    , srs.node "transcode" (srs.Node.Transcode srs.Transcode::{{ engines = [ {sd}, {hd} ] }})
    , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
    ]
, edges =
    [ srs.edge "rtmp" "__defaultVhost__"
    , srs.edge "__defaultVhost__" "rtmp_play"
    , srs.edge "__defaultVhost__" "flv"
    , srs.edge "__defaultVhost__" "transcode"
    ]
}}"#,
        sd = engine("sd", 320, 180, 300),
        hd = engine("hd", 640, 360, 600),
    )
}

/// Video kbit/s of a recorded file: packet bytes over the span of their timestamps.
fn video_kbps(file: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-show_entries",
            "packet=size,dts_time",
            "-of",
            "csv=p=0",
        ])
        .arg(file)
        .output()
        .expect("ffprobe runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let packets: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(',');
            let time = fields.next()?.parse().ok()?;
            let size = fields.next()?.parse().ok()?;
            Some((time, size))
        })
        .collect();
    assert!(packets.len() > 50, "packets in {}: {}", file.display(), packets.len());
    let span = packets.last().unwrap().0 - packets[0].0;
    // The last packet's bytes belong to the time after the span.
    let bytes: f64 = packets[..packets.len() - 1].iter().map(|p| p.1).sum();
    bytes * 8.0 / span / 1000.0
}

#[test]
fn two_engines_serve_two_renditions_at_their_sizes_and_bitrates() {
    let dir = temp_dir("transcode");
    let (rtmp, http, api) = (free_port(), free_port(), free_port());
    let server = run_graph(&dir, &transcode_graph(rtmp, http, api), &[rtmp, http, api]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/cam"), 25);

    let processes = || api_get(api, "/api/v1/processes")["processes"].as_array().cloned().unwrap_or_default();
    assert!(wait_until(10, || processes().len() == 2), "two ffmpeg children: {}", server.log());
    let lines: Vec<String> = processes().iter().map(|p| p["cmdline"].as_str().unwrap().to_owned()).collect();
    assert!(
        lines.iter().any(|l| l.contains(&format!("-i rtmp://127.0.0.1:{rtmp}/live/cam ")) && l.contains("-s 320x180")),
        "{lines:?}"
    );
    let published = |stream: &str| server.log().contains(&format!("live/{stream}"));
    assert!(wait_until(20, || published("cam_sd") && published("cam_hd")), "{}", server.log());
    std::thread::sleep(std::time::Duration::from_secs(2));

    for (stream, size, kbps) in [("cam_sd", (320, 180), 300.0), ("cam_hd", (640, 360), 600.0)] {
        let out = dir.join(format!("{stream}.flv"));
        record(&format!("http://127.0.0.1:{http}/live/{stream}.flv"), 6, &out);
        let streams = probe(out.to_str().unwrap());
        let video = streams.iter().find(|s| s.codec == "h264").unwrap_or_else(|| panic!("{streams:?}"));
        assert_eq!((video.width, video.height), size, "{stream}");
        assert!(video.frames >= 100, "{stream}: 6 s of video, {} frames", video.frames);
        assert!(streams.iter().any(|s| s.codec == "aac"), "{stream}: {streams:?}");
        let measured = video_kbps(&out);
        println!("{stream}: {measured:.0} kbit/s for {kbps} asked");
        assert!((measured - kbps).abs() <= kbps * 0.15, "{stream}: {measured:.0} kbit/s, asked {kbps}");
    }
    // The loop guard: only the two engines of `cam` run, none for `cam_sd` or `cam_hd`.
    assert_eq!(processes().len(), 2, "{:?}", processes());
    assert!(server.log().contains("not transcoded again"), "{}", server.log());
    let _ = publisher.kill();
    let _ = publisher.wait();
    assert!(wait_until(10, || processes().is_empty()), "the engines stop with the stream");
}
