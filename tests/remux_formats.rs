//! `srs remux` between every pair of FLV, MPEG-TS and MP4 (ffmpeg-made H.264+AAC inputs with
//! B-frames), and H.265 through TS and MP4: codecs, resolution, frame counts, duration and A/V
//! start offsets survive, as ffprobe sees them. `--format` and the MP4 layouts are checked too.

mod common;

use std::path::Path;
use std::process::Command;

use common::{make_clip, probe, srs_bin, temp_dir, StreamInfo};

/// One video frame at 25 fps.
const FRAME: f64 = 0.04;

fn remux(input: &Path, output: &Path, extra: &[&str]) {
    let result = Command::new(srs_bin()).arg("remux").args(extra).arg(input).arg(output).output().unwrap();
    assert!(
        result.status.success(),
        "srs remux {} {}: {}",
        input.display(),
        output.display(),
        String::from_utf8_lossy(&result.stderr)
    );
}

fn video_audio(streams: &[StreamInfo]) -> (&StreamInfo, &StreamInfo) {
    let video = streams.iter().find(|s| s.width > 0).expect("a video stream");
    let audio = streams.iter().find(|s| s.width == 0).expect("an audio stream");
    (video, audio)
}

/// The output carries what the input did, with audio and video still starting together.
fn assert_same_media(name: &str, input: &Path, output: &Path) {
    let before = probe(input.to_str().unwrap());
    let after = probe(output.to_str().unwrap());
    assert_eq!(after.len(), 2, "{name}: two streams");
    let ((v_in, a_in), (v_out, a_out)) = (video_audio(&before), video_audio(&after));
    assert_eq!(
        (v_out.codec.as_str(), v_out.width, v_out.height, v_out.frames),
        (v_in.codec.as_str(), v_in.width, v_in.height, v_in.frames),
        "{name}: video"
    );
    assert_eq!(a_out.codec, a_in.codec, "{name}: audio codec");
    // ffmpeg's MP4 drops the AAC priming frame through its edit list; other containers keep it.
    assert!(
        a_out.frames.abs_diff(a_in.frames) <= 1,
        "{name}: audio frames {} vs {}",
        a_out.frames,
        a_in.frames
    );
    assert!(
        (v_out.duration - v_in.duration).abs() <= 2.0 * FRAME + 0.01,
        "{name}: video duration {} vs {}",
        v_out.duration,
        v_in.duration
    );
    let offset_in = v_in.start - a_in.start;
    let offset_out = v_out.start - a_out.start;
    assert!(offset_out.abs() <= FRAME, "{name}: video starts {offset_out}s after audio");
    assert!(
        (offset_out - offset_in).abs() <= FRAME,
        "{name}: A/V offset {offset_out} vs {offset_in} in the input"
    );
}

#[test]
fn every_pair_of_flv_ts_and_mp4_round_trips_h264_with_b_frames() {
    let dir = temp_dir("remux-pairs");
    for (container, extension) in [("flv", "flv"), ("mpegts", "ts"), ("mp4", "mp4")] {
        make_clip(&dir.join(format!("in.{extension}")), container, 4, "libx264");
    }
    for from in ["flv", "ts", "mp4"] {
        for to in ["flv", "ts", "mp4"] {
            let input = dir.join(format!("in.{from}"));
            let output = dir.join(format!("out-{from}.{to}"));
            remux(&input, &output, &[]);
            assert_same_media(&format!("{from}->{to}"), &input, &output);
            assert!(!dir.join(format!("out-{from}.{to}.tmp")).exists(), "temporary file renamed");
        }
    }
}

#[test]
fn h265_goes_through_ts_and_mp4() {
    let dir = temp_dir("remux-hevc");
    let input = dir.join("in.ts");
    make_clip(&input, "mpegts", 3, "libx265");
    let mp4 = dir.join("out.mp4");
    remux(&input, &mp4, &[]);
    assert_same_media("ts->mp4 hevc", &input, &mp4);
    let ts = dir.join("back.ts");
    remux(&mp4, &ts, &[]);
    assert_same_media("mp4->ts hevc", &input, &ts);
    assert_eq!(probe(ts.to_str().unwrap())[0].codec, "hevc");
}

#[test]
fn format_flag_and_classic_layouts() {
    let dir = temp_dir("remux-layouts");
    let input = dir.join("in.flv");
    make_clip(&input, "flv", 3, "libx264");
    let forced = dir.join("out.bin");
    remux(&input, &forced, &["--format", "ts"]);
    assert_eq!(std::fs::read(&forced).unwrap()[0], 0x47, "an mpeg-ts sync byte starts the file");
    assert_same_media("--format ts", &input, &forced);
    for layout in ["classic", "faststart"] {
        let output = dir.join(format!("{layout}.mp4"));
        remux(&input, &output, &["--mp4-layout", layout]);
        assert_same_media(layout, &input, &output);
        let data = std::fs::read(&output).unwrap();
        let moov = data.windows(4).position(|w| w == b"moov").unwrap();
        let mdat = data.windows(4).position(|w| w == b"mdat").unwrap();
        assert_eq!(moov < mdat, layout == "faststart", "{layout}: moov at {moov}, mdat at {mdat}");
    }
}

#[test]
fn damaged_ts_and_mp4_inputs_fail_clearly_and_keep_what_came_before() {
    let dir = temp_dir("remux-damaged");
    for (container, extension) in [("mpegts", "ts"), ("mp4", "mp4")] {
        let input = dir.join(format!("in.{extension}"));
        make_clip(&input, container, 4, "libx264");
        let data = std::fs::read(&input).unwrap();
        let source = if extension == "mp4" {
            // A fragmented file as a killed recorder leaves it: remux to fragments, then cut.
            let fragmented = dir.join("fragmented.mp4");
            remux(&input, &fragmented, &[]);
            std::fs::read(&fragmented).unwrap()
        } else {
            data
        };
        let truncated = dir.join(format!("truncated.{extension}"));
        std::fs::write(&truncated, &source[..source.len() * 6 / 10 + 7]).unwrap();
        let output = dir.join(format!("out-{extension}.flv"));
        let result = Command::new(srs_bin()).arg("remux").arg(&truncated).arg(&output).output().unwrap();
        assert!(!result.status.success(), "{extension}: a truncated input must fail");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(stderr.contains("truncated at byte"), "{extension}: clear message: {stderr}");
        let streams = probe(output.to_str().unwrap());
        let (video, _) = video_audio(&streams);
        assert!((25..100).contains(&video.frames), "{extension}: frames up to the damage: {}", video.frames);
    }
    // Garbage in the middle of a TS: the demuxer resynchronises, the rest is kept, the run fails.
    let input = dir.join("in.ts");
    let mut data = std::fs::read(&input).unwrap();
    let middle = data.len() / 2;
    data[middle..middle + 1000].fill(0x55);
    let corrupted = dir.join("corrupted.ts");
    std::fs::write(&corrupted, &data).unwrap();
    let output = dir.join("out-corrupted.mp4");
    let result = Command::new(srs_bin()).arg("remux").arg(&corrupted).arg(&output).output().unwrap();
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("packet sync") || stderr.contains("continuity"), "{stderr}");
    let streams = probe(output.to_str().unwrap());
    let (video, _) = video_audio(&streams);
    assert!((80..100).contains(&video.frames), "frames around the damage survive: {}", video.frames);
}
