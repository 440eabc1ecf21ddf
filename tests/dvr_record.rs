//! `Dvr` recording a live stream (a real-time `FileIn` in a graph run by `srs run`): the segment
//! plan cuts files of `dvr_duration` (FLV ones with their duration and size in onMetaData), the
//! session plan writes one file, and `kill -9` of the server mid-recording leaves an MP4 or FLV
//! `.tmp` that ffprobe decodes up to its last fragment or keyframe. Also: a batch
//! graph (`FileIn → FileOut`) makes `srs run` exit by itself.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{flv_duration_and_size, format_duration, make_clip, probe, srs_bin, temp_dir, write_graph};

fn dvr_graph(dir: &Path, input: &Path, plan: &str, extension: &str) -> PathBuf {
    let body = format!(
        r#"srs.Graph::{{
        , nodes =
          [ srs.node "file" (srs.Node.FileIn srs.FileIn::{{ path = "{input}", stream = "live/cam", realtime = True }})
          , srs.node "dvr" (srs.Node.Dvr srs.Dvr::{{
              , dvr_path = "{out}/[app]/[stream].[timestamp].{extension}"
              , dvr_plan = srs.DvrPlan.{plan}
              , dvr_duration = 2
              }})
          ]
        , edges = [ srs.edge "file" "dvr" ]
        }}"#,
        input = input.display(),
        out = dir.join("dvr").display(),
    );
    write_graph(dir, &format!("dvr-{plan}.dhall"), &body)
}

fn recordings(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("dvr/live"))
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == extension));
    files.sort();
    files
}

fn run_to_end(graph: &Path) {
    let status = Command::new(srs_bin()).arg("run").arg(graph).stderr(Stdio::null()).status().unwrap();
    assert!(status.success(), "srs run ends by itself when its file sources are done");
}

#[test]
fn segment_plan_cuts_files_of_dvr_duration_and_session_plan_writes_one() {
    let dir = temp_dir("dvr-plans");
    let input = dir.join("in.flv");
    make_clip(&input, "flv", 7, "libx264");
    for extension in ["mp4", "flv"] {
        let _ = std::fs::remove_dir_all(dir.join("dvr"));
        run_to_end(&dvr_graph(&dir, &input, "Segment", extension));
        let files = recordings(&dir, extension);
        // 7 s cut every 2 s on 1 s GOPs: 2, 2, 2 and the 1 s left.
        assert_eq!(files.len(), 4, "{extension}: {files:?}");
        let mut n_video_frames = 0;
        for (index, file) in files.iter().enumerate() {
            let streams = probe(file.to_str().unwrap());
            let video = streams.iter().find(|s| s.codec == "h264").expect("video in every segment");
            assert!(streams.iter().any(|s| s.codec == "aac"), "{extension}: audio in segment {index}");
            let seconds = video.frames as f64 / 25.0;
            if index < 3 {
                assert!((seconds - 2.0).abs() < 0.05, "{extension}: segment {index} holds {seconds}s");
            }
            n_video_frames += video.frames;
            if extension == "flv" {
                // The onMetaData got the file's real duration and size when it was closed.
                let (duration, filesize) = flv_duration_and_size(file);
                assert_eq!(filesize, std::fs::metadata(file).unwrap().len() as f64, "segment {index}");
                assert!((duration - seconds).abs() <= 0.1, "segment {index}: {duration} s for {seconds} s");
                let probed = format_duration(file);
                assert!((probed - duration).abs() <= 0.1, "segment {index}: ffprobe {probed} s");
            }
        }
        assert_eq!(n_video_frames, 175, "{extension}: every frame recorded once");
    }
    let _ = std::fs::remove_dir_all(dir.join("dvr"));
    run_to_end(&dvr_graph(&dir, &input, "Session", "mp4"));
    let files = recordings(&dir, "mp4");
    assert_eq!(files.len(), 1, "{files:?}");
    let streams = probe(files[0].to_str().unwrap());
    assert_eq!(streams.iter().find(|s| s.codec == "h264").unwrap().frames, 175);
    assert!(recordings(&dir, "tmp").is_empty(), "temporary files renamed");
}

#[test]
fn kill_9_mid_recording_leaves_a_playable_fragmented_mp4() {
    let dir = temp_dir("dvr-kill");
    let temporary = record_then_kill(&dir, "mp4");
    let streams = probe(temporary.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").expect("video decodes");
    assert!(
        video.frames >= 25 && video.frames % 25 == 0,
        "whole one-second fragments: {} frames",
        video.frames
    );
    assert!(streams.iter().any(|s| s.codec == "aac" && s.frames > 0), "audio decodes");
}

#[test]
fn kill_9_mid_recording_leaves_a_playable_flv() {
    let dir = temp_dir("dvr-kill-flv");
    let temporary = record_then_kill(&dir, "flv");
    // Never finished: the onMetaData keeps its placeholders, and the tags up to the kill play.
    assert_eq!(flv_duration_and_size(&temporary), (0.0, 0.0));
    let streams = probe(temporary.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").expect("video decodes");
    assert!(video.frames >= 25, "{} frames", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac" && s.frames > 0), "audio decodes");
}

/// Records a 20 s clip in real time, `kill -9`s the server once the `.tmp` holds a few seconds.
fn record_then_kill(dir: &Path, extension: &str) -> PathBuf {
    let input = dir.join("in.flv");
    make_clip(&input, "flv", 20, "libx264");
    let graph = dvr_graph(dir, &input, "Session", extension);
    let mut server = Command::new(srs_bin()).arg("run").arg(&graph).stderr(Stdio::null()).spawn().unwrap();
    // Wait until a few one-second fragments are on disk (no timing assertion: only a deadline).
    let deadline = Instant::now() + Duration::from_secs(30);
    let temporary = loop {
        let found = recordings(dir, "tmp");
        if let Some(file) =
            found.first().filter(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0) > 60_000)
        {
            break file.clone();
        }
        assert!(Instant::now() < deadline, "recording did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    server.kill().unwrap();
    server.wait().unwrap();
    temporary
}

#[test]
fn remux_graph_runs_to_completion_under_srs_run() {
    let dir = temp_dir("dvr-batch");
    let input = dir.join("in.ts");
    make_clip(&input, "mpegts", 2, "libx264");
    let shipped =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("graphs/remux.dhall")).unwrap();
    let catalogue = Path::new(env!("CARGO_MANIFEST_DIR")).join("nodes/package.dhall");
    let output = dir.join("out.mp4");
    let graph = dir.join("remux.dhall");
    let text = shipped
        .replace("../nodes/package.dhall", catalogue.to_str().unwrap())
        .replace("\"in.flv\"", &format!("\"{}\"", input.display()))
        .replace("\"out.mp4\"", &format!("\"{}\"", output.display()));
    std::fs::write(&graph, text).unwrap();
    run_to_end(&graph);
    let streams = probe(output.to_str().unwrap());
    assert_eq!(streams.iter().find(|s| s.codec == "h264").unwrap().frames, 50);
}
