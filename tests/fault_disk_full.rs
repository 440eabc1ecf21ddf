//! A full disk under HLS and DVR (a small tmpfs mounted for the test; the tests run as root): the
//! stream keeps serving RTMP and HTTP-FLV players, the publisher stays connected, each file given
//! up is logged once (not each frame), and writing resumes once space is freed: new HLS segments
//! and DVR files appear and play.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use common::*;

/// A tmpfs mounted at `path` for the test, unmounted when dropped (also when the test fails).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(path).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .expect("mount runs");
        assert!(status.success(), "mount -t tmpfs (the tests run as root)");
        Tmpfs(path.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a server still holding a file does not keep the mount.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn graph(rtmp: u16, http: u16, disk: &Path) -> String {
    format!(
        r#"srs.Graph::{{
  nodes =
    [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{{ listen = "127.0.0.1:{rtmp}" }})
    , srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{{ mw_latency = 100 }})
    , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}" }})
    , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = "{disk}/hls", hls_fragment = 1.0, hls_window = 3.0 }})
    , srs.node "dvr" (srs.Node.Dvr srs.Dvr::{{
        , dvr_path = "{disk}/dvr/[app]/[stream].[timestamp].flv"
        , dvr_plan = srs.DvrPlan.Segment
        , dvr_duration = 2
        }})
    ]
, edges =
    [ srs.edge "rtmp" "__defaultVhost__"
    , srs.edge "__defaultVhost__" "rtmp_play"
    , srs.edge "__defaultVhost__" "flv"
    , srs.edge "__defaultVhost__" "hls"
    , srs.edge "__defaultVhost__" "dvr"
    ]
}}"#,
        disk = disk.display()
    )
}

fn count(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

/// Files under `dir` (recursively) with their modification times.
fn files_under(dir: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
            out.push((path, modified));
        }
    }
    out
}

/// 3 s of a live URL, its H.264 video frames and size.
fn play(url: &str, out: &Path) -> (u64, u64, u64) {
    record(url, 3, out);
    let video = probe(out.to_str().unwrap()).into_iter().find(|s| s.codec == "h264").expect("h264 played");
    (video.frames, video.width, video.height)
}

const HLS_GIVEN_UP: &str = "segment given up";
const DVR_GIVEN_UP: &str = "file given up";

#[test]
fn a_full_disk_loses_files_not_the_stream_and_writing_resumes_when_space_returns() {
    let dir = temp_dir("fault_disk_full");
    let disk = dir.join("disk");
    let _tmpfs = Tmpfs::mount(&disk, "2m");
    let (rtmp, http) = (free_port(), free_port());
    // Declared after the mount, so it is dropped (killed) before the unmount.
    let server = run_graph(&dir, &graph(rtmp, http, &disk), &[rtmp, http]);
    let url = format!("rtmp://127.0.0.1:{rtmp}/live/full");
    // Lossless 640x360 (about 170 KB/s, to HLS and DVR both): the 2 MB fill within seconds.
    let mut publisher = spawn_ffmpeg(&[
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=640x360:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100",
        "-t",
        "120",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "0",
        "-g",
        "25",
        "-c:a",
        "aac",
        "-f",
        "flv",
        &url,
    ]);

    let full = wait_until(40, || {
        let log = server.log();
        count(&log, HLS_GIVEN_UP) > 0 && count(&log, DVR_GIVEN_UP) > 0
    });
    assert!(full, "the disk never filled for both HLS and DVR:\n{}", server.log());

    // While the disk is full, both kinds of players get the whole stream.
    let log_before = server.log();
    let started = Instant::now();
    let flv_url = format!("http://127.0.0.1:{http}/live/full.flv");
    let flv_out = dir.join("flv.flv");
    let flv_player = std::thread::spawn(move || play(&flv_url, &flv_out));
    let (rtmp_frames, width, height) = play(&url, &dir.join("rtmp.flv"));
    let (flv_frames, ..) = flv_player.join().expect("http-flv player");
    assert_eq!((width, height), (640, 360));
    assert!(rtmp_frames >= 50, "rtmp player got {rtmp_frames} frames in 3 s at 25 fps on a full disk");
    assert!(flv_frames >= 50, "http-flv player got {flv_frames} frames in 3 s at 25 fps on a full disk");
    std::thread::sleep(Duration::from_secs(1));
    let seconds = started.elapsed().as_secs_f64();
    let log = server.log();
    // One line per file tried (at most one per 1 s GOP), not one per frame (25 video frames
    // and 43 audio frames a second).
    let hls_lines = count(&log, HLS_GIVEN_UP) - count(&log_before, HLS_GIVEN_UP);
    let dvr_lines = count(&log, DVR_GIVEN_UP) - count(&log_before, DVR_GIVEN_UP);
    let per_file = (seconds + 2.0) as usize;
    assert!(hls_lines <= per_file, "{hls_lines} hls lines in {seconds:.1} s: more than one per segment");
    assert!(dvr_lines <= per_file, "{dvr_lines} dvr lines in {seconds:.1} s: more than one per file");
    assert!(publisher.0.try_wait().expect("publisher status").is_none(), "the publisher was disconnected");
    assert_eq!(count(&log, "publisher is disconnected"), 0);
    assert_eq!(count(&log, "dvr stops recording"), 0);
    // Given-up segments leave no temporary file behind, and no playlist names a missing segment.
    let m3u8 = disk.join("hls/live/full.m3u8");
    let listed = |text: &str| -> Vec<PathBuf> {
        text.lines().filter(|l| l.ends_with(".ts")).map(|l| disk.join("hls/live").join(l)).collect()
    };
    if let Ok(text) = std::fs::read_to_string(&m3u8) {
        for segment in listed(&text) {
            assert!(segment.exists(), "the playlist names {} which is not on disk", segment.display());
        }
    }

    // Space returns: the DVR files (kept prefixes and finished files) are deleted.
    std::thread::sleep(Duration::from_millis(200));
    let freed_at = SystemTime::now();
    std::fs::remove_dir_all(disk.join("dvr")).expect("free the dvr files");
    // HLS first: its window is 3 s, so the segment after the gap (with its discontinuity) is
    // listed only a few seconds.
    let (new_segment, playlist) = wait_for(10, "a new HLS segment listed in the playlist", || {
        let text = std::fs::read_to_string(&m3u8).ok()?;
        let segment = listed(&text).into_iter().find(|segment| {
            std::fs::metadata(segment).and_then(|m| m.modified()).is_ok_and(|modified| modified > freed_at)
        })?;
        Some((segment, text))
    });
    assert!(playlist.contains("#EXT-X-DISCONTINUITY"), "the gap is marked:\n{playlist}");
    let video = probe(new_segment.to_str().unwrap()).into_iter().find(|s| s.codec == "h264").expect("h264");
    assert!(video.frames >= 20, "the new segment holds {} frames (1 s)", video.frames);
    let new_dvr_file = wait_for(20, "a new, finished DVR file", || {
        files_under(&disk.join("dvr"))
            .into_iter()
            .find(|(path, modified)| *modified > freed_at && path.extension().is_some_and(|e| e == "flv"))
            .map(|(path, _)| path)
    });
    let streams = probe(new_dvr_file.to_str().unwrap());
    let video = streams.iter().find(|s| s.codec == "h264").expect("video in the new dvr file");
    assert!(video.frames >= 40, "the new dvr file holds {} frames (2 s cut)", video.frames);
    assert!(streams.iter().any(|s| s.codec == "aac"), "audio in the new dvr file");
    eprintln!(
        "full disk: rtmp {rtmp_frames} and http-flv {flv_frames} frames in 3 s; {hls_lines} hls and \
         {dvr_lines} dvr lines in {seconds:.1} s; resumed with {} and {}",
        new_dvr_file.display(),
        new_segment.display()
    );
    drop(publisher);
    drop(server);
}
