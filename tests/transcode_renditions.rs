//! `Transcode` (SRS's vhost `transcode`): ffmpeg publishes one stream; two engines make a
//! 320x180 and a 640x360 rendition (libx264 + AAC) that the server serves as `cam_sd` and
//! `cam_hd` over HTTP-FLV; the renditions themselves are not transcoded again (loop guard);
//! the video bitrate of each is within 15 % of what the engine asked for; an HLS master playlist
//! names both renditions with the bandwidth measured from them and their resolution, and hls.js
//! in headless Chromium loads it, reports both levels at their sizes and plays.

mod common;

use std::path::Path;
use std::process::Command;

use common::{api_get, free_port, probe, publish_test_stream, record, run_graph, temp_dir, wait_until};

fn engine(name: &str, width: u32, height: u32, kbps: u32) -> String {
    format!(
        r#"srs.FfmpegEngine::{{ name = "{name}", vcodec = "libx264", vbitrate = {kbps}, vfps = 25, vwidth = {width}, vheight = {height}, vpreset = "ultrafast", vparams = [ {{ name = "g", value = "25" }} ], acodec = "aac", abitrate = 48, asample_rate = 44100, achannels = 2 }}"#
    )
}

fn transcode_graph(rtmp: u16, http: u16, api: u16, hls: &Path) -> String {
    let hls = hls.display();
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{=}})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    , srs.node "transcode" (srs.Node.Transcode srs.Transcode::{{ engines = [ {sd}, {hd} ], hls_master = "{hls}/[app]/[stream]_abr.m3u8" }})
    , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = "{hls}", hls_fragment = 2.0 }})
    , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
    ]
, edges =
    [ srs.edge "rtmp" "__defaultVhost__"
    , srs.edge "__defaultVhost__" "rtmp_play"
    , srs.edge "__defaultVhost__" "flv"
    , srs.edge "__defaultVhost__" "transcode"
    , srs.edge "__defaultVhost__" "hls"
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
    let hls = dir.join("hls");
    let server = run_graph(&dir, &transcode_graph(rtmp, http, api, &hls), &[rtmp, http, api]);
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

    let mut measured_kbps = Vec::new();
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
        measured_kbps.push(measured);
    }
    // The master playlist names both renditions, highest first, with their size and the bandwidth
    // measured from them: the peak 2-second rate, so at least the recorded average (video,
    // 48 kbit/s audio, 10 % packaging; the settings alone would give 648000 and 348000, below
    // it) and within what an encoder's bursts give (1.5x the average was seen here).
    let master = hls.join("live/cam_abr.m3u8");
    let text = std::fs::read_to_string(&master).expect("the master playlist");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert_eq!(
        (lines[0], lines[1], lines[3], lines[5]),
        ("#EXTM3U", "#EXT-X-VERSION:3", "cam_hd.m3u8", "cam_sd.m3u8")
    );
    for (line, size, video_kbps) in
        [(lines[2], "640x360", measured_kbps[1]), (lines[4], "320x180", measured_kbps[0])]
    {
        let bandwidth: f64 = line
            .strip_prefix("#EXT-X-STREAM-INF:BANDWIDTH=")
            .and_then(|rest| rest.strip_suffix(&format!(",RESOLUTION={size}")))
            .and_then(|b| b.parse().ok())
            .unwrap_or_else(|| panic!("{line}"));
        let average = (video_kbps + 48.0) * 1.1 * 1000.0;
        println!("{size}: BANDWIDTH={bandwidth} for an average of {average:.0}");
        assert!(bandwidth >= average * 0.95 && bandwidth <= average * 2.5, "{line}: average {average:.0}");
    }
    let variants = common::probe_with(&["-read_intervals", "%+2"], master.to_str().unwrap());
    let mut sizes: Vec<(u64, u64)> =
        variants.iter().filter(|s| s.codec == "h264").map(|s| (s.width, s.height)).collect();
    sizes.sort();
    assert_eq!(sizes, [(320, 180), (640, 360)], "{variants:?}");
    // The loop guard: only the two engines of `cam` run, none for `cam_sd` or `cam_hd`.
    assert_eq!(processes().len(), 2, "{:?}", processes());
    assert!(server.log().contains("not transcoded again"), "{}", server.log());
    let _ = publisher.kill();
    let _ = publisher.wait();
    assert!(wait_until(10, || processes().is_empty()), "the engines stop with the stream");
    assert!(wait_until(5, || !master.exists()), "the master playlist goes with the stream");
}

/// The newest `report/<prefix>...` value the hls.js page sent (tests/player/hls.html).
fn page_report(log: &Path, prefix: &str) -> Option<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .rev()
        .filter_map(|line| line.split_once(&format!("GET /report/{prefix}")))
        .find_map(|(_, rest)| rest.split_whitespace().next().map(str::to_owned))
}

#[test]
fn hls_js_plays_the_master_playlist_and_sees_both_renditions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let player_js = root.join("tests/player/node_modules/hls.js/dist/hls.min.js");
    assert!(player_js.exists(), "{} missing: run scripts/install-test-deps", player_js.display());
    let dir = temp_dir("transcode-hlsjs");
    let page_dir = dir.join("page");
    std::fs::create_dir_all(&page_dir).unwrap();
    std::fs::copy(&player_js, page_dir.join("hls.min.js")).unwrap();
    std::fs::copy(root.join("tests/player/hls.html"), page_dir.join("hls.html")).unwrap();
    let (rtmp, http, api, files) = (free_port(), free_port(), free_port(), free_port());
    let hls = dir.join("hls");
    let graph = transcode_graph(rtmp, http, api, &hls).replace(
        "    ]\n, edges",
        &format!(
            "    , srs.node \"files\" (srs.Node.HttpStatic srs.HttpStatic::{{ listen = \"127.0.0.1:{files}\", dir = \"{}\" }})\n    ]\n, edges",
            hls.display()
        ),
    );
    let server = run_graph(&dir, &graph, &[rtmp, http, api, files]);
    let mut publisher = publish_test_stream(&format!("rtmp://127.0.0.1:{rtmp}/live/cam"), 60);
    let listed = |name: &str| {
        std::fs::read_to_string(hls.join(format!("live/{name}.m3u8")))
            .is_ok_and(|p| p.matches("#EXTINF").count() >= 2)
    };
    assert!(
        wait_until(40, || hls.join("live/cam_abr.m3u8").exists() && listed("cam_sd") && listed("cam_hd")),
        "{}",
        server.log()
    );
    let log = dir.join("page.log");
    let pages = common::StaticServer::start_logging(&page_dir, Some(&log));
    let page = pages.url(&format!("hls.html?src=http://127.0.0.1:{files}/live/cam_abr.m3u8"));
    let _browser = common::Browser::open(&dir, &page);
    assert!(wait_until(60, || page_report(&log, "levels-").is_some()), "hls.js parsed no manifest");
    let mut levels: Vec<String> =
        page_report(&log, "levels-").unwrap().split('_').map(str::to_owned).collect();
    levels.sort();
    assert_eq!(levels, ["320x180", "640x360"], "hls.js's levels");
    let frames = || page_report(&log, "frames-").and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    assert!(wait_until(60, || frames() >= 75), "hls.js decoded {} frames", frames());
    // The picture is a rendition's width; its height is the source's 4:3 display aspect, which
    // FFmpeg keeps when it scales (the renditions carry a sample aspect ratio).
    let time = page_report(&log, "time-").unwrap_or_default();
    assert!(time.contains("-w320x240-") || time.contains("-w640x480-"), "a rendition's picture: {time}");
    let _ = publisher.kill();
    let _ = publisher.wait();
}
