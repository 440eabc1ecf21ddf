//! `srs remux in.flv out.flv`: the round trip keeps codecs, resolution, frame count and duration,
//! the output's onMetaData carries its duration and size (patched when the file is finished), and a
//! damaged input exits non-zero leaving an output that plays up to the damage.

mod common;

use std::process::Command;

use common::{flv_duration_and_size, format_duration, make_h264_aac, probe, srs_bin, temp_dir};

#[test]
fn flv_round_trip_keeps_every_frame() {
    let dir = temp_dir("remux-flv");
    let input = dir.join("in.flv");
    let output = dir.join("out.flv");
    make_h264_aac(&input, "flv", 4);
    let status = Command::new(srs_bin()).arg("remux").arg(&input).arg(&output).status().expect("srs runs");
    assert!(status.success());
    let (before, after) = (probe(input.to_str().unwrap()), probe(output.to_str().unwrap()));
    assert_eq!(after.len(), 2);
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(
            (a.codec.as_str(), a.width, a.height, a.frames),
            (b.codec.as_str(), b.width, b.height, b.frames)
        );
        assert!((a.duration - b.duration).abs() < 0.05, "duration {} vs {}", a.duration, b.duration);
    }
    assert_eq!(
        (after[0].codec.as_str(), after[0].width, after[0].height, after[0].frames),
        ("h264", 320, 240, 100)
    );
}

#[test]
fn flv_output_metadata_has_the_duration_and_file_size() {
    let dir = temp_dir("remux-flv-metadata");
    for (container, extension) in [("flv", "flv"), ("mpegts", "ts"), ("mp4", "mp4")] {
        let input = dir.join(format!("in.{extension}"));
        let output = dir.join(format!("{extension}.flv"));
        make_h264_aac(&input, container, 6);
        let status = Command::new(srs_bin()).arg("remux").arg(&input).arg(&output).status().unwrap();
        assert!(status.success());
        let (duration, filesize) = flv_duration_and_size(&output);
        assert_eq!(filesize, std::fs::metadata(&output).unwrap().len() as f64, "{container}: filesize");
        // 6 s of 25 fps video (150 frames) and AAC: the recorded length.
        assert!((duration - 6.0).abs() <= 0.1, "{container}: onMetaData duration {duration}");
        let probed = format_duration(&output);
        assert!((probed - duration).abs() <= 0.1, "{container}: ffprobe says {probed}, metadata {duration}");
    }
}

#[test]
fn truncated_input_fails_and_keeps_what_came_before() {
    let dir = temp_dir("remux-truncated");
    let input = dir.join("in.flv");
    make_h264_aac(&input, "flv", 4);
    let data = std::fs::read(&input).unwrap();
    let truncated = dir.join("truncated.flv");
    std::fs::write(&truncated, &data[..data.len() * 6 / 10]).unwrap();
    let output = dir.join("out.flv");
    let result =
        Command::new(srs_bin()).arg("remux").arg(&truncated).arg(&output).output().expect("srs runs");
    assert!(!result.status.success(), "a truncated input must fail");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("truncated") && stderr.contains("at byte"),
        "clear message with the offset: {stderr}"
    );
    let streams = probe(output.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").expect("video survives");
    assert!((40..100).contains(&video.frames), "frames up to the damage: {}", video.frames);
}
