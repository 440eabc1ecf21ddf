//! `srs remux` to VOD outputs: an 8 s ffmpeg-made FLV (H.264 with B-frames + AAC, 1 s GOP) to an
//! HLS VOD playlist with TS segments and to a static DASH MPD with fMP4 segments. ffprobe reads
//! the playlist/MPD end to end and finds the input's codecs, resolution, video frame count and
//! duration; the playlist is a finished VOD with segments cut at keyframes near the target; a
//! truncated input still leaves a finished playlist/MPD of what was converted.

mod common;

use std::path::Path;
use std::process::Command;

use common::{make_clip, probe, srs_bin, temp_dir, StreamInfo};

/// One video frame at 25 fps.
const FRAME: f64 = 0.04;
/// The clips' keyframe interval, seconds.
const GOP: f64 = 1.0;

fn remux(input: &Path, output: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(srs_bin()).arg("remux").args(extra).arg(input).arg(output).output().unwrap()
}

fn remux_ok(input: &Path, output: &Path, extra: &[&str]) {
    let result = remux(input, output, extra);
    assert!(result.status.success(), "srs remux: {}", String::from_utf8_lossy(&result.stderr));
}

fn video(streams: &[StreamInfo]) -> &StreamInfo {
    streams.iter().find(|s| s.width > 0).expect("a video stream")
}

fn audio(streams: &[StreamInfo]) -> &StreamInfo {
    streams.iter().find(|s| s.width == 0).expect("an audio stream")
}

/// ffprobe reads the whole VOD through its playlist/MPD and finds what the input carried.
fn assert_same_media(name: &str, input: &Path, output: &Path) {
    let before = probe(input.to_str().unwrap());
    let after = probe(output.to_str().unwrap());
    let (v_in, v_out) = (video(&before), video(&after));
    assert_eq!(
        (v_out.codec.as_str(), v_out.width, v_out.height, v_out.frames),
        (v_in.codec.as_str(), v_in.width, v_in.height, v_in.frames),
        "{name}: video"
    );
    assert_eq!(audio(&after).codec, audio(&before).codec, "{name}: audio codec");
    assert!(
        audio(&after).frames.abs_diff(audio(&before).frames) <= 1,
        "{name}: audio frames {} vs {}",
        audio(&after).frames,
        audio(&before).frames
    );
    // The input's duration is its last track's end (audio here, 8.08 s); the video alone lasts
    // frames × 40 ms (8.00 s). HLS playlists span every track, the DASH MPD its video track: either
    // way within a frame.
    let video_span = v_in.frames as f64 * FRAME;
    let off = (v_out.duration - v_in.duration).abs().min((v_out.duration - video_span).abs());
    assert!(
        off <= FRAME + 0.001,
        "{name}: duration {} vs {} (video {video_span})",
        v_out.duration,
        v_in.duration
    );
}

/// The EXTINF durations of a playlist, checking it is a finished VOD.
fn vod_segments(playlist: &Path) -> Vec<(f64, String)> {
    let text = std::fs::read_to_string(playlist).unwrap();
    assert!(text.contains("#EXT-X-PLAYLIST-TYPE:VOD\n"), "{text}");
    assert!(text.trim_end().ends_with("#EXT-X-ENDLIST"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter_map(|pair| {
            let seconds = pair[0].strip_prefix("#EXTINF:")?.split(',').next()?.parse().ok()?;
            Some((seconds, pair[1].to_owned()))
        })
        .collect()
}

#[test]
fn flv_to_hls_vod_playlist_with_ts_segments() {
    let dir = temp_dir("remux-vod-hls");
    let input = dir.join("in.flv");
    make_clip(&input, "flv", 8, "libx264");
    let playlist = dir.join("out.m3u8");
    remux_ok(&input, &playlist, &[]);
    assert_same_media("flv->m3u8", &input, &playlist);
    let segments = vod_segments(&playlist);
    // 8 s cut at the first keyframe past 6 s: 6 s then the rest.
    assert_eq!(segments.len(), 2, "{segments:?}");
    assert!(segments.iter().all(|(seconds, _)| *seconds <= 6.0 + GOP), "{segments:?}");
    let total: f64 = segments.iter().map(|(seconds, _)| seconds).sum();
    let input_duration = video(&probe(input.to_str().unwrap())).duration;
    assert!((total - input_duration).abs() <= FRAME, "EXTINF sum {total} vs {input_duration}");
    for (_, uri) in &segments {
        assert!(dir.join(uri).is_file(), "{uri} written");
        assert!(!dir.join(format!("{uri}.tmp")).exists(), "{uri}: temporary renamed");
    }
    assert!(!dir.join("out.m3u8.tmp").exists());

    // `--format hls` and a shorter target: more segments, each within target + a GOP.
    let short = dir.join("short.m3u8");
    remux_ok(&input, &short, &["--format", "hls", "--segment-duration", "2"]);
    let segments = vod_segments(&short);
    assert_eq!(segments.len(), 4, "{segments:?}");
    assert!(segments.iter().all(|(seconds, _)| *seconds <= 2.0 + GOP), "{segments:?}");
    assert_same_media("flv->m3u8 (2 s)", &input, &short);
}

#[test]
fn flv_to_static_dash_mpd_with_fmp4_segments() {
    let dir = temp_dir("remux-vod-dash");
    let input = dir.join("in.flv");
    make_clip(&input, "flv", 8, "libx264");
    let mpd = dir.join("out.mpd");
    remux_ok(&input, &mpd, &["--format", "dash"]);
    let text = std::fs::read_to_string(&mpd).unwrap();
    assert!(text.contains(r#"type="static""#), "{text}");
    assert!(text.contains("mediaPresentationDuration=\"PT8"), "{text}");
    assert!(!text.contains("minimumUpdatePeriod"), "{text}");
    assert!(dir.join("out/video-init.mp4").is_file() && dir.join("out/audio-init.mp4").is_file());
    assert_same_media("flv->mpd", &input, &mpd);
    assert!(!dir.join("out.mpd.tmp").exists());
    // Every audio frame, to the last one (which ends after the last video frame), is in the MPD.
    assert_eq!(packets(&mpd, "a"), packets(&input, "a"), "audio packets of the MPD");
    assert_eq!(packets(&mpd, "v"), packets(&input, "v"), "video packets of the MPD");
}

/// ffprobe's packet count of the file's first `kind` stream (`a` or `v`).
fn packets(path: &Path, kind: &str) -> u64 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_packets", "-select_streams", &format!("{kind}:0")])
        .args(["-show_entries", "stream=nb_read_packets", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    // An MPD's streams are listed twice (in its program, then alone): the first line is enough.
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find(|line| !line.trim().is_empty()).and_then(|line| line.trim().parse().ok()).unwrap_or(0)
}

#[test]
fn a_dash_write_error_fails_the_remux_naming_the_file() {
    let dir = temp_dir("remux-vod-unwritable");
    let input = dir.join("in.flv");
    make_clip(&input, "flv", 2, "libx264");
    // A regular file where a folder should be: no directory can be made under it, even by root.
    let blocker = dir.join("file.txt");
    std::fs::write(&blocker, "not a folder").unwrap();
    let mpd = blocker.join("out.mpd");
    let result = remux(&input, &mpd, &[]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success(), "a write error fails the run: {stderr}");
    assert!(stderr.contains(blocker.to_str().unwrap()), "the message names the file: {stderr}");
}

#[test]
fn a_truncated_input_still_finishes_both_vods() {
    let dir = temp_dir("remux-vod-damaged");
    let input = dir.join("in.flv");
    make_clip(&input, "flv", 8, "libx264");
    let bytes = std::fs::read(&input).unwrap();
    let damaged = dir.join("damaged.flv");
    std::fs::write(&damaged, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let full_frames = video(&probe(input.to_str().unwrap())).frames;

    let playlist = dir.join("cut.m3u8");
    assert!(!remux(&damaged, &playlist, &[]).status.success(), "a damaged input fails the run");
    assert!(!vod_segments(&playlist).is_empty());
    let frames = video(&probe(playlist.to_str().unwrap())).frames;
    assert!(frames > 25 && frames < full_frames, "{frames} of {full_frames} frames converted");

    let mpd = dir.join("cut.mpd");
    assert!(!remux(&damaged, &mpd, &[]).status.success(), "a damaged input fails the run");
    assert!(std::fs::read_to_string(&mpd).unwrap().contains(r#"type="static""#));
    let frames = video(&probe(mpd.to_str().unwrap())).frames;
    assert!(frames > 25 && frames < full_frames, "{frames} of {full_frames} frames converted");
}
