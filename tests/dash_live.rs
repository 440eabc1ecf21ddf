//! `DashOut` fed by a real-time `FileIn` (ffmpeg-made H.264+AAC FLV, 1 s GOP, `dash_fragment` 2):
//! the live MPD is well-formed and its timeline consistent, the window holds, ffprobe plays the MPD
//! over HTTP, every segment decodes with its init segment alone, the MPD turns static at the end and
//! every file is gone after `dash_dispose`. A second test writes a `$Number$` presentation as fast
//! as the file reads and plays the static MPD whole.

mod common;

use std::path::Path;

use common::{
    free_port, make_h264_aac, probe, probe_with, publish_test_stream, run_graph, temp_dir, wait_for,
    StaticServer,
};

/// A graph publishing `in.flv` as live/test into a `DashOut` writing under `dir/html`.
fn dash_graph(dir: &Path, realtime: bool, dash: &str) -> String {
    format!(
        r#"srs.Graph::{{
    , nodes =
      [ srs.node "file" (srs.Node.FileIn srs.FileIn::{{ path = "{input}", stream = "live/test", realtime = {realtime}, repeat = False }})
      , srs.node "dash" (srs.Node.DashOut srs.DashOut::{{ dash_path = "{html}", dash_fragment = 2.0, {dash} }})
      ]
    , edges = [ srs.edge "file" "dash" ]
    }}"#,
        input = dir.join("in.flv").display(),
        html = dir.join("html").display(),
        realtime = if realtime { "True" } else { "False" },
    )
}

/// One representation of a parsed MPD.
#[derive(Debug)]
struct Representation {
    content_type: String,
    codecs: String,
    width: Option<u64>,
    height: Option<u64>,
    timescale: u64,
    initialization: String,
    media: String,
    start_number: Option<u64>,
    duration: Option<u64>,
    /// Start and duration of each segment, `r` expanded.
    timeline: Vec<(u64, u64)>,
}

#[derive(Debug)]
struct ParsedMpd {
    kind: String,
    attributes: Vec<(String, String)>,
    representations: Vec<Representation>,
}

impl ParsedMpd {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    fn representation(&self, content_type: &str) -> &Representation {
        self.representations
            .iter()
            .find(|r| r.content_type == content_type)
            .unwrap_or_else(|| panic!("no {content_type} representation in {self:?}"))
    }
}

fn parse_mpd(text: &str) -> ParsedMpd {
    let document =
        roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("MPD is not XML ({e}): {text}"));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "MPD");
    assert_eq!(root.tag_name().namespace(), Some("urn:mpeg:dash:schema:mpd:2011"));
    let number =
        |node: roxmltree::Node, name: &str| node.attribute(name).map(|v| v.parse::<u64>().expect(name));
    let mut representations = Vec::new();
    for set in root.descendants().filter(|n| n.has_tag_name("AdaptationSet")) {
        let representation =
            set.children().find(|n| n.has_tag_name("Representation")).expect("Representation");
        let template =
            representation.children().find(|n| n.has_tag_name("SegmentTemplate")).expect("template");
        let mut timeline = Vec::new();
        for s in template.descendants().filter(|n| n.has_tag_name("S")) {
            let (t, d) = (number(s, "t").expect("t"), number(s, "d").expect("d"));
            for k in 0..=number(s, "r").unwrap_or(0) {
                timeline.push((t + k * d, d));
            }
        }
        representations.push(Representation {
            content_type: set.attribute("contentType").expect("contentType").to_owned(),
            codecs: representation.attribute("codecs").expect("codecs").to_owned(),
            width: number(representation, "width"),
            height: number(representation, "height"),
            timescale: number(template, "timescale").expect("timescale"),
            initialization: template.attribute("initialization").expect("initialization").to_owned(),
            media: template.attribute("media").expect("media").to_owned(),
            start_number: number(template, "startNumber"),
            duration: number(template, "duration"),
            timeline,
        });
    }
    ParsedMpd {
        kind: root.attribute("type").expect("type").to_owned(),
        attributes: root.attributes().map(|a| (a.name().to_owned(), a.value().to_owned())).collect(),
        representations,
    }
}

fn read_mpd(path: &Path) -> Option<ParsedMpd> {
    std::fs::read_to_string(path).ok().map(|text| parse_mpd(&text))
}

/// Concatenates init + media segment into `target` and probes it.
fn probe_alone(root: &Path, init: &str, media: &str, target: &Path) -> common::StreamInfo {
    let mut bytes = std::fs::read(root.join(init)).expect("init segment");
    bytes.extend(std::fs::read(root.join(media)).unwrap_or_else(|e| panic!("{media}: {e}")));
    std::fs::write(target, bytes).expect("joined file");
    let streams = probe(target.to_str().expect("utf-8"));
    assert_eq!(streams.len(), 1, "{media}: one track per representation");
    streams.into_iter().next().expect("one stream")
}

#[test]
fn live_dash_plays_over_http_keeps_its_window_and_is_disposed() {
    let dir = temp_dir("dash-live");
    make_h264_aac(&dir.join("in.flv"), "flv", 12);
    std::fs::create_dir_all(dir.join("html")).expect("html dir");
    let _srs = run_graph(&dir, &dash_graph(&dir, true, "dash_window_size = 3, dash_dispose = 2.0"), &[]);
    let server = StaticServer::start(&dir.join("html"));
    let mpd_path = dir.join("html/live/test.mpd");

    let mut fewest_segments = usize::MAX;
    let (live, text) = wait_for(30, "a live MPD with 3 video segments", || {
        let text = std::fs::read_to_string(&mpd_path).ok()?;
        let mpd = Some(parse_mpd(&text)).filter(|mpd| mpd.kind == "dynamic")?;
        fewest_segments = fewest_segments.min(mpd.representation("video").timeline.len());
        (mpd.representation("video").timeline.len() >= 3).then_some((mpd, text))
    });
    // Offered once a player can stay the suggested two segments behind live.
    assert!(fewest_segments >= 2, "an MPD listed {fewest_segments} video segment");
    assert!(
        text.contains(r#"<UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-head:2014" value="test.mpd"/>"#),
        "players read the server's clock from the MPD's own Date header: {text}"
    );
    assert_eq!(live.attribute("profiles"), Some("urn:mpeg:dash:profile:isoff-live:2011"));
    // Half a fragment (the default 5 s would leave SegmentTimeline players behind), the 3 kept
    // segments of 2 s (not the default 300 s: older files are deleted), two segments of delay.
    assert_eq!(live.attribute("minimumUpdatePeriod"), Some("PT1S"));
    assert_eq!(live.attribute("timeShiftBufferDepth"), Some("PT6S"));
    assert_eq!(live.attribute("suggestedPresentationDelay"), Some("PT4S"));
    assert_eq!(live.attribute("minBufferTime"), Some("PT2S"));
    let start = live.attribute("availabilityStartTime").expect("availabilityStartTime");
    assert!(start.len() >= 20 && start.ends_with('Z') && &start[10..11] == "T", "ISO 8601 UTC: {start}");
    let video = live.representation("video");
    let audio = live.representation("audio");
    // libx264 `-preset ultrafast` at 320x240: Constrained Baseline (0x42, flags 0xc0), level 1.3.
    assert_eq!(video.codecs, "avc1.42c00d");
    assert_eq!((video.width, video.height), (Some(320), Some(240)));
    assert_eq!(audio.codecs, "mp4a.40.2");
    assert_eq!((video.timescale, audio.timescale), (90_000, 44_100));
    assert_eq!(video.media, "test/video-$Time$.m4s");
    assert_eq!(video.initialization, "test/video-init.mp4");
    for representation in [video, audio] {
        assert!(representation.timeline.len() <= 3, "window of 3: {:?}", representation.timeline);
        for pair in representation.timeline.windows(2) {
            assert_eq!(
                pair[0].0 + pair[0].1,
                pair[1].0,
                "contiguous timeline: {:?}",
                representation.timeline
            );
        }
    }
    // 1 s GOP and 2 s fragments: every video segment lasts exactly 2 s.
    assert!(video.timeline.iter().all(|(_, d)| *d == 180_000), "{:?}", video.timeline);

    let played = probe_with(&["-read_intervals", "%+5"], &server.url("live/test.mpd"));
    let played_video = played.iter().find(|s| s.codec == "h264").expect("video plays");
    assert_eq!((played_video.width, played_video.height), (320, 240));
    assert!(played_video.frames >= 100, "at least 4 s of video decoded: {} frames", played_video.frames);
    assert!(played.iter().any(|s| s.codec == "aac" && s.frames >= 150), "audio decodes: {played:?}");

    let ended = wait_for(30, "the static MPD after the stream ends", || {
        read_mpd(&mpd_path).filter(|mpd| mpd.kind == "static")
    });
    assert!(ended.attribute("mediaPresentationDuration").is_some_and(|d| d.starts_with("PT")));
    assert_eq!(ended.attribute("availabilityStartTime"), None);
    let root = dir.join("html/live");
    let mut segment_files: Vec<String> = std::fs::read_dir(root.join("test"))
        .expect("segment folder")
        .map(|entry| entry.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    segment_files.sort();
    let n_video = segment_files.iter().filter(|f| f.starts_with("video-") && f.ends_with(".m4s")).count();
    let n_audio = segment_files.iter().filter(|f| f.starts_with("audio-") && f.ends_with(".m4s")).count();
    assert_eq!((n_video, n_audio), (3, 3), "older segments deleted: {segment_files:?}");
    assert!(!segment_files.iter().any(|f| f.ends_with(".tmp")), "no temporary left: {segment_files:?}");

    for representation in &ended.representations {
        for (index, (time, _)) in representation.timeline.iter().enumerate() {
            let media = representation.media.replace("$Time$", &time.to_string());
            let joined = dir.join(format!("{}-{index}.mp4", representation.content_type));
            let stream = probe_alone(&root, &representation.initialization, &media, &joined);
            match representation.content_type.as_str() {
                "video" => {
                    assert_eq!((stream.codec.as_str(), stream.width, stream.height), ("h264", 320, 240));
                    assert!(
                        (49..=51).contains(&stream.frames),
                        "{media}: a 2 s segment, {} frames",
                        stream.frames
                    );
                }
                _ => {
                    assert_eq!(stream.codec, "aac");
                    assert!(stream.frames >= 40, "{media}: {} audio frames", stream.frames);
                }
            }
        }
    }

    wait_for(20, "disposal of every file", || {
        (!mpd_path.exists() && !root.join("test").exists()).then_some(())
    });
}

#[test]
fn number_template_writes_a_static_presentation_that_plays_whole() {
    let dir = temp_dir("dash-vod");
    make_h264_aac(&dir.join("in.flv"), "flv", 8);
    std::fs::create_dir_all(dir.join("html")).expect("html dir");
    let dash =
        "dash_window_size = 100, dash_dispose = 0.0, segment_template = srs.DashSegmentTemplate.Number";
    let _srs = run_graph(&dir, &dash_graph(&dir, false, dash), &[]);
    let server = StaticServer::start(&dir.join("html"));
    let mpd_path = dir.join("html/live/test.mpd");
    let mpd = wait_for(30, "the static MPD", || read_mpd(&mpd_path).filter(|mpd| mpd.kind == "static"));
    let duration = mpd.attribute("mediaPresentationDuration").expect("mediaPresentationDuration");
    assert!(["PT7.9", "PT8S", "PT8.0"].iter().any(|p| duration.starts_with(p)), "about 8 s: {duration}");
    let video = mpd.representation("video");
    assert_eq!(video.media, "test/video-$Number$.m4s");
    assert_eq!((video.start_number, video.duration), (Some(1), Some(180_000)));
    for number in 1..=4 {
        let file = dir.join(format!("html/live/test/video-{number}.m4s"));
        assert!(file.exists(), "{} exists", file.display());
    }
    let audio = mpd.representation("audio");
    assert_eq!((audio.start_number, audio.duration), (Some(1), Some(88_200)));

    let streams = probe(&server.url("live/test.mpd"));
    let played_video = streams.iter().find(|s| s.codec == "h264").expect("video plays");
    assert_eq!((played_video.width, played_video.height, played_video.frames), (320, 240, 200));
    let played_audio = streams.iter().find(|s| s.codec == "aac").expect("audio plays");
    assert!(played_audio.frames >= 340, "8 s of 44.1 kHz AAC: {} frames", played_audio.frames);
}

#[test]
fn a_republish_continues_the_timeline_of_the_first_publish() {
    let dir = temp_dir("dash-republish");
    let rtmp = free_port();
    std::fs::create_dir_all(dir.join("html")).expect("html dir");
    let graph = format!(
        r#"srs.Graph::{{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
      , srs.node "dash" (srs.Node.DashOut srs.DashOut::{{ dash_path = "{html}", dash_fragment = 2.0, dash_dispose = 0.0 }})
      ]
    , edges = [ srs.edge "rtmp" "dash" ]
    }}"#,
        html = dir.join("html").display(),
    );
    let _srs = run_graph(&dir, &graph, &[rtmp]);
    let url = format!("rtmp://127.0.0.1:{rtmp}/live/test");
    let mpd_path = dir.join("html/live/test.mpd");
    let dynamic = || read_mpd(&mpd_path).filter(|mpd| mpd.kind == "dynamic");

    let mut first = publish_test_stream(&url, 7);
    let before = wait_for(30, "the first publish's live MPD", dynamic);
    let start = before.attribute("availabilityStartTime").expect("availabilityStartTime").to_owned();
    let _ = first.wait();
    let ended = wait_for(30, "the static MPD", || read_mpd(&mpd_path).filter(|mpd| mpd.kind == "static"));
    let old_end = ended.representation("video").timeline.last().map(|(t, d)| t + d).expect("segments");
    let gap = std::time::Duration::from_secs(3);
    std::thread::sleep(gap);

    let mut second = publish_test_stream(&url, 7);
    let after = wait_for(30, "the republish's live MPD", dynamic);
    let _ = second.kill();
    let _ = second.wait();
    assert_eq!(after.attribute("availabilityStartTime"), Some(start.as_str()), "one timeline");
    let video = after.representation("video");
    let new_start = video.timeline.first().map(|(t, _)| *t).expect("segments");
    // The republish sits where the wall clock got to: after the old media and the gap between.
    assert!(
        new_start >= old_end + gap.as_secs() * video.timescale,
        "republish at {new_start}, first publish ended at {old_end} ({} Hz)",
        video.timescale
    );
    for pair in video.timeline.windows(2) {
        assert_eq!(pair[0].0 + pair[0].1, pair[1].0, "contiguous after the republish: {:?}", video.timeline);
    }
}
