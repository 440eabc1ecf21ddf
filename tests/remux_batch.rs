//! `srs remux` as a batch run (one thread, file I/O in place and in large blocks): its outputs are
//! byte for byte those of the code before it, a long file remuxes in little memory, and several
//! inputs at once (`--out-dir`) each get their output.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ffmpeg, format_duration, make_clip, probe, srs_bin, temp_dir};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path)
}

/// `sha256sum` of the files, in order, as one digest.
fn sha256(files: &[PathBuf]) -> String {
    let mut all = Vec::new();
    for file in files {
        all.extend(std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display())));
    }
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum runs");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &all).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_owned()
}

fn remux(args: &[&str]) -> std::process::Output {
    Command::new(srs_bin()).arg("remux").args(args).output().expect("srs runs")
}

/// The SHA-256 of each output of the checked-in fixtures, as `srs remux` wrote them before batch
/// runs and the per-frame buffers (commit 7bf2f6c: tokio's files on a multi-threaded runtime, 256
/// KiB blocks, a buffer per FLV tag and TS frame): the way bytes reach the file changed, the bytes
/// must not. An HLS output is its playlist then its segments, in order. Faststart outputs changed
/// on purpose since (the media now starts on a file system block, see
/// `faststart_is_the_classic_file_with_moov_in_front`).
#[rustfmt::skip]
const BEFORE: &[(&str, &str, &[&str], &str)] = &[
    // (input fixture, output name, extra arguments, sha256)
    ("flv/h264_aac.flv", "h264_aac_flv-plain.flv", &[], "eb5d3a043f217981b2d01060928eccbf0e28fb2c7639d061e46a88854f5da6b5"),
    ("flv/h264_aac.flv", "h264_aac_flv-plain.ts", &[], "e03bd36361b077b352ef0d6d09b4582df6d19206963d32cf7d1b33a333f226ac"),
    ("flv/h264_aac.flv", "h264_aac_flv-fragmented.mp4", &["--mp4-layout", "fragmented"], "2132f6a1bcd953ac2f728117f392da1c3b4751215f3f5f7f0b7a6686bd15a08e"),
    ("flv/h264_aac.flv", "h264_aac_flv-classic.mp4", &["--mp4-layout", "classic"], "16d6e82b2b74d7a40282239a2552f51909ce50e2135d2efa3445d860795934ed"),
    ("flv/h264_aac.flv", "h264_aac_flv-1.m3u8", &["--segment-duration", "1"], "701757fdec2b73bf3f992cd533083dec7e2960b7c36263b4517143035a222f23"),
    ("flv/hevc_enhanced.flv", "hevc_enhanced_flv-plain.flv", &[], "4ff98f4939a9a4c20b7a08f289bcff54ebe0f3bb7f735be2347ea30086c0061e"),
    ("flv/hevc_enhanced.flv", "hevc_enhanced_flv-plain.ts", &[], "efcdbbcf8d3b110033ffdc3b752af2c3768040a03049fe72e862a39b7a1256bc"),
    ("flv/hevc_enhanced.flv", "hevc_enhanced_flv-fragmented.mp4", &["--mp4-layout", "fragmented"], "12afb846657f645c5295639d76b3ec82fee6ac45ace15aabe750bed7b7c2196f"),
    ("flv/hevc_enhanced.flv", "hevc_enhanced_flv-classic.mp4", &["--mp4-layout", "classic"], "5a4f25d34949c8713e0439d67a08adbf0f707cd7aa97b2cc6212af9ab17cff97"),
    ("flv/hevc_enhanced.flv", "hevc_enhanced_flv-1.m3u8", &["--segment-duration", "1"], "c30cd5f17c0eb3fe50cb77120cb2b909d20b7bb8b017a4b4a3dfcfcf2bac46ea"),
    ("mpegts/h264_aac.ts", "h264_aac_ts-plain.flv", &[], "b0bec5be536468998804129a140973a4747510117174611338d1d46b255c860d"),
    ("mpegts/h264_aac.ts", "h264_aac_ts-plain.ts", &[], "4ccbbc44f4dbaa53bc1a86dbee6da4e4a67d9e96596d4ff1fd8f19cb65a6e31b"),
    ("mpegts/h264_aac.ts", "h264_aac_ts-fragmented.mp4", &["--mp4-layout", "fragmented"], "41efadec66c76d6248cb82717523a9d879daa29d67ca9b7a9f34071a48fbfd46"),
    ("mpegts/h264_aac.ts", "h264_aac_ts-classic.mp4", &["--mp4-layout", "classic"], "a42bb613618c843ad52429aef00a0c8866e2f0ebfd11b775139c8f85ed078a9c"),
    ("mpegts/h264_aac.ts", "h264_aac_ts-1.m3u8", &["--segment-duration", "1"], "fa89e9b93d91f5536d2e86687169d31bbeb3e2ffdf30efa238f91902a0cb06e2"),
    ("mpegts/h265_aac.ts", "h265_aac_ts-plain.flv", &[], "e125960a65cca858ebd6275b6bf1bc356cda0a75daee2a55fb66e005650b64df"),
    ("mpegts/h265_aac.ts", "h265_aac_ts-plain.ts", &[], "98bdb0200465f62ed622eb069fc8d050178507a385c458e0a23d6694ce81f240"),
    ("mpegts/h265_aac.ts", "h265_aac_ts-fragmented.mp4", &["--mp4-layout", "fragmented"], "cc583179a626a8689bf9447df3babbb03497cb82d2d909a0e1c3f7a42b462952"),
    ("mpegts/h265_aac.ts", "h265_aac_ts-classic.mp4", &["--mp4-layout", "classic"], "9c24dd1aac30eff29d1f840a92a64d41febc918beac5de4a9d2999b701eb367b"),
    ("mpegts/h265_aac.ts", "h265_aac_ts-1.m3u8", &["--segment-duration", "1"], "d8ad207298b9f3ae3c0247689fab66d50ce22f77b8a16e102d0960262da93d6c"),
    ("mp4/h264_aac.mp4", "h264_aac_mp4-plain.flv", &[], "327e89ce60080341adc823263a2fc650ac83bf3831393a68480069b8034a288a"),
    ("mp4/h264_aac.mp4", "h264_aac_mp4-plain.ts", &[], "8504c07643671f81e549c33cf5518e86a07dd73d73f902c5828ead43aeddcf87"),
    ("mp4/h264_aac.mp4", "h264_aac_mp4-fragmented.mp4", &["--mp4-layout", "fragmented"], "6c8fde170ecab198ee497f7caa03a5856c125cdb040e9fe768f295fe3dbca817"),
    ("mp4/h264_aac.mp4", "h264_aac_mp4-classic.mp4", &["--mp4-layout", "classic"], "7e07f327be9068aa2bc4a409787494992ba11dc5654c6eccaea442b953675e7e"),
    ("mp4/h264_aac.mp4", "h264_aac_mp4-1.m3u8", &["--segment-duration", "1"], "fec03090e13e97dd3a6f10d050655722df140ff2140ad0f30c77c08380f4cf5b"),
    ("mp4/h264_aac_frag.mp4", "h264_aac_frag_mp4-plain.flv", &[], "56a7f838873dff84090e31ac77018b4e84b1b0d323856c012e7493f515291d7e"),
    ("mp4/h264_aac_frag.mp4", "h264_aac_frag_mp4-plain.ts", &[], "a1b231ae42eed6bbdaf72249085721eb0a3de9380f6c7c73187369aaa040e4ae"),
    ("mp4/h264_aac_frag.mp4", "h264_aac_frag_mp4-fragmented.mp4", &["--mp4-layout", "fragmented"], "5c6caaa089f86f46b1ab92f5440f9cb4a4710f479cdc0c6bc5d3b433dc2f878c"),
    ("mp4/h264_aac_frag.mp4", "h264_aac_frag_mp4-classic.mp4", &["--mp4-layout", "classic"], "601d7abfb51d98545f341f5c99daa8580dd76c5b8b9c954434375e564bdad2ea"),
    ("mp4/h264_aac_frag.mp4", "h264_aac_frag_mp4-1.m3u8", &["--segment-duration", "1"], "802592139184511f1f6e2dff0083df1880c6ec36844d01d0f1630cd5d44d0967"),
];

#[test]
fn outputs_are_the_bytes_the_code_before_batch_runs_wrote() {
    let dir = temp_dir("remux-batch-bytes");
    assert!(!BEFORE.is_empty());
    for (input, output, extra, expected) in BEFORE {
        let out = dir.join(output);
        let mut args: Vec<&str> = extra.to_vec();
        let input = fixture(input);
        args.extend([input.to_str().unwrap(), out.to_str().unwrap()]);
        let result = remux(&args);
        assert!(result.status.success(), "{args:?}: {}", String::from_utf8_lossy(&result.stderr));
        let mut files = vec![out.clone()];
        if output.ends_with(".m3u8") {
            let playlist = std::fs::read_to_string(&out).unwrap();
            files.extend(playlist.lines().filter(|l| l.ends_with(".ts")).map(|l| dir.join(l)));
        }
        assert_eq!(sha256(&files), *expected, "srs remux {args:?}");
    }
}

/// FLV to FLV passes the tags whose bytes do not change (every frame of an FLV that starts at
/// time 0) from the input file with `copy_file_range`; only the file header, the onMetaData and
/// the sequence headers are written. The bytes are the same as before (the SHA-256 table above
/// holds both FLV fixtures); this checks the copy happened, from the writer's closing log line.
#[test]
fn flv_to_flv_copies_the_unchanged_tags_from_the_input() {
    let dir = temp_dir("remux-batch-copy");
    // Every frame of the H.264 file passes unchanged. The enhanced HEVC file's frames with a
    // composition time of 0 are written in the shorter form (`CodedFramesX`), so only its other
    // tags pass unchanged.
    let cases = [
        ("flv/h264_aac.flv", Some(4096)),
        ("flv/hevc_enhanced.flv", Some(9000)),
        ("mpegts/h264_aac.ts", None),
    ];
    for (input, most_written) in cases {
        let out = dir.join(format!("{}.flv", input.replace('/', "_")));
        let input_path = fixture(input);
        let result = Command::new(srs_bin())
            .env("RUST_LOG", "srs::nodes::file_writer=debug")
            .args(["remux", input_path.to_str().unwrap(), out.to_str().unwrap()])
            .output()
            .expect("srs runs");
        let log = String::from_utf8_lossy(&result.stderr);
        assert!(result.status.success(), "{input}: {log}");
        let field = |name: &str| -> u64 {
            let line =
                log.lines().find(|l| l.contains("file closed")).unwrap_or_else(|| panic!("{input}: {log}"));
            let value = line.split(&format!("{name}=")).nth(1).and_then(|v| v.split(' ').next());
            value.and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{input}: no {name} in {line}"))
        };
        let (bytes, copied) = (field("bytes"), field("copied_from_input"));
        assert_eq!(bytes, std::fs::metadata(&out).unwrap().len(), "{input}");
        if let Some(most_written) = most_written {
            // What is written: the file header, the onMetaData, the sequence headers (and the
            // changed tags).
            assert!(
                bytes - copied < most_written,
                "{input}: {copied} of {bytes} bytes copied from the input"
            );
        } else {
            assert_eq!(copied, 0, "{input}: a TS input has no FLV tags to copy");
        }
    }
}

/// The closing log line's `bytes` and `copied_from_input` of `srs remux IN OUT`.
fn remux_copied(input: &Path, out: &Path) -> (u64, u64) {
    let result = Command::new(srs_bin())
        .env("RUST_LOG", "srs::nodes::file_writer=debug")
        .args(["remux", input.to_str().unwrap(), out.to_str().unwrap()])
        .output()
        .expect("srs runs");
    let log = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{log}");
    let line = log.lines().find(|l| l.contains("file closed")).unwrap_or_else(|| panic!("{log}"));
    let field = |name: &str| -> u64 {
        let value = line.split(&format!("{name}=")).nth(1).and_then(|v| v.split(' ').next());
        value.and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    (field("bytes"), field("copied_from_input"))
}

/// A batch run reads an FLV input a block (1 MiB) at a time, each block starting at the tag the one
/// before tore, and copies unchanged tags from the input at the offsets the blocks came from. On an
/// input of several blocks, `srs remux` writes the bytes that a live run of the same graph writes
/// (`srs run`: the streamed reader, every tag written by the muxer), and copies all but the first
/// tags from the input.
#[test]
fn a_flv_input_of_many_blocks_gives_the_bytes_a_live_run_writes() {
    let dir = temp_dir("remux-batch-blocks");
    let clip = dir.join("clip.flv");
    make_clip(&clip, "flv", 4, "libx264");
    let input = dir.join("in.flv");
    ffmpeg(&["-stream_loop", "59", "-i", clip.to_str().unwrap(), "-c", "copy", input.to_str().unwrap()]);
    let input_len = std::fs::metadata(&input).unwrap().len();
    assert!(input_len > 3 << 20, "{input_len} bytes: several blocks");
    let batch = dir.join("batch.flv");
    let (bytes, copied) = remux_copied(&input, &batch);
    assert_eq!(bytes, std::fs::metadata(&batch).unwrap().len());
    // Written: the file header, the onMetaData and the sequence headers (libx264's SEI included).
    assert!(bytes - copied < 8192, "{copied} of {bytes} bytes copied from the input");
    let live = dir.join("live.flv");
    let graph = common::write_graph(
        &dir,
        "live.dhall",
        &format!(
            r#"srs.Graph::{{
  nodes =
    [ srs.node "in" (srs.Node.FileIn srs.FileIn::{{ path = "{}", stream = "remux/file" }})
    , srs.node "out" (srs.Node.FileOut srs.FileOut::{{ path = "{}" }})
    ]
, edges = [ srs.edge "in" "out" ]
}}"#,
            input.display(),
            live.display()
        ),
    );
    let run = Command::new(srs_bin()).arg("run").arg(&graph).output().expect("srs runs");
    assert!(run.status.success(), "srs run: {}", String::from_utf8_lossy(&run.stderr));
    let (batch_bytes, live_bytes) = (std::fs::read(&batch).unwrap(), std::fs::read(&live).unwrap());
    assert_eq!(batch_bytes.len(), live_bytes.len());
    assert!(batch_bytes == live_bytes, "the batch output differs from the live run's");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Peak RSS in MB of `srs remux args`, from `/usr/bin/time`.
/// Top-level boxes of an MP4 file: (type, offset, size).
fn top_level_boxes(file: &[u8]) -> Vec<(String, usize, usize)> {
    let mut boxes = Vec::new();
    let mut at = 0;
    while at + 8 <= file.len() {
        let mut size = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        if size == 1 {
            size = u64::from_be_bytes(file[at + 8..at + 16].try_into().unwrap()) as usize;
        }
        assert!(size >= 8 && at + size <= file.len(), "box at {at} of size {size} fits the file");
        boxes.push((String::from_utf8_lossy(&file[at + 4..at + 8]).into_owned(), at, size));
        at += size;
    }
    assert_eq!(at, file.len(), "boxes cover the file");
    boxes
}

#[test]
fn faststart_is_the_classic_file_with_moov_in_front() {
    // FLV inputs: the moov goes into the room kept for it from the input's tag count, right after
    // ftyp. Other inputs (no estimate): on the test directory's file system (ext4 here: blocks
    // inserted in front of the media) and on tmpfs, which cannot insert blocks (the media is
    // copied behind the moov instead).
    let on_tmpfs = PathBuf::from(format!("/dev/shm/srs-test-{}-faststart", std::process::id()));
    std::fs::create_dir_all(&on_tmpfs).unwrap();
    let cases = [
        (temp_dir("remux-batch-faststart"), "flv/h264_aac.flv"),
        (temp_dir("remux-batch-faststart"), "flv/hevc_enhanced.flv"),
        (temp_dir("remux-batch-faststart"), "mpegts/h264_aac.ts"),
        (temp_dir("remux-batch-faststart"), "mp4/h264_aac.mp4"),
        (on_tmpfs.clone(), "flv/h264_aac.flv"),
        (on_tmpfs.clone(), "mpegts/h264_aac.ts"),
    ];
    for (dir, input) in cases {
        let read = |layout: &str| {
            let out = dir.join(format!("{}-{layout}.mp4", input.replace('/', "_")));
            let input_path = fixture(input);
            let args = ["--mp4-layout", layout, input_path.to_str().unwrap(), out.to_str().unwrap()];
            let result = remux(&args);
            assert!(result.status.success(), "{args:?}: {}", String::from_utf8_lossy(&result.stderr));
            (std::fs::read(&out).unwrap(), out)
        };
        let (classic, _) = read("classic");
        let (fast, fast_path) = read("faststart");
        let fast_boxes = top_level_boxes(&fast);
        let names: Vec<&str> = fast_boxes.iter().map(|(name, _, _)| name.as_str()).collect();
        let moov = names.iter().position(|n| *n == "moov").expect("a moov");
        let mdat = names.iter().position(|n| *n == "mdat").expect("an mdat");
        assert!(moov < mdat && names[0] == "ftyp", "{input}: moov before the media: {names:?}");
        assert_eq!(names.last(), Some(&"mdat"), "{input}: the old moov is cut off the end");
        let in_room = names[1] == "moov" && fast_boxes[1].1 == fast_boxes[0].2;
        assert_eq!(
            in_room,
            input.starts_with("flv/"),
            "{input}: the moov in the room kept for it: {names:?}"
        );
        let payload = |file: &[u8], boxes: &[(String, usize, usize)]| {
            let (_, at, size) = boxes.iter().find(|(name, _, _)| name == "mdat").unwrap().clone();
            file[at + 16..at + size].to_vec()
        };
        assert!(
            payload(&fast, &fast_boxes) == payload(&classic, &top_level_boxes(&classic)),
            "{input}: the media bytes are the classic file's"
        );
        let classic_path = dir.join(format!("{}-classic.mp4", input.replace('/', "_")));
        let fast_probe = probe(fast_path.to_str().unwrap());
        assert_eq!(
            fast_probe,
            probe(classic_path.to_str().unwrap()),
            "{input}: ffprobe reads the same streams"
        );
        assert!(fast_probe.iter().any(|s| s.frames > 10), "{input}: {fast_probe:?}");
    }
    std::fs::remove_dir_all(on_tmpfs).unwrap();
}

fn remux_peak_mb(args: &[&str]) -> f64 {
    let args: Vec<&str> = ["remux"].iter().chain(args).copied().collect();
    peak_mb(&args)
}

/// Peak RSS in MB of `srs ARGS`, which must succeed.
fn peak_mb(args: &[&str]) -> f64 {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(srs_bin())
        .args(args)
        .output()
        .expect("/usr/bin/time runs (scripts/install-test-deps installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "srs {args:?}: {stderr}");
    let kib: f64 = stderr.lines().last().and_then(|l| l.trim().parse().ok()).expect("a peak RSS");
    kib / 1024.0
}

/// Streamed conversions (FLV and MPEG-TS in; FLV, MPEG-TS, fragmented MP4 and HLS out) hold a few
/// blocks and one fragment, whatever the length. Classic and faststart MP4 outputs and MP4 inputs
/// hold sample tables, a few tens of bytes per frame, so they are not in this list.
///
/// Under 30 MB is the issue's figure for the process, whose binary maps about 10 MB of its own in
/// a release build (`srs -V`: an hour's remux peaks at 21.5 MB there). This debug build maps
/// more (15 MB), so the test holds the remux to the same 20 MB above what the binary maps by
/// itself, measured on the binary under test.
#[test]
fn an_hour_long_file_remuxes_in_under_30_mb() {
    let binary_mb = peak_mb(&["-V"]);
    let dir = temp_dir("remux-batch-hour");
    let clip = dir.join("clip.flv");
    // 10 s of small, low-bitrate H.264 and AAC, looped to an hour without encoding again.
    #[rustfmt::skip]
    ffmpeg(&[
        "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
        "-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "60k", "-g", "50", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "32k", clip.to_str().unwrap(),
    ]);
    let hour_flv = dir.join("hour.flv");
    ffmpeg(&["-stream_loop", "359", "-i", clip.to_str().unwrap(), "-c", "copy", hour_flv.to_str().unwrap()]);
    // 360 loops of a clip whose audio outlasts its video a little: a few seconds over the hour.
    let input_duration = format_duration(&hour_flv);
    assert!((3600.0..3610.0).contains(&input_duration), "{input_duration} s");
    let hour_ts = dir.join("hour.ts");
    ffmpeg(&["-i", hour_flv.to_str().unwrap(), "-c", "copy", hour_ts.to_str().unwrap()]);
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    for (args, output) in [
        (vec![path("hour.flv"), path("out.ts")], "out.ts"),
        (vec![path("hour.flv"), path("out.flv")], "out.flv"),
        (vec![path("hour.flv"), path("out.mp4")], "out.mp4"),
        (vec![path("hour.flv"), path("out.m3u8")], "out.m3u8"),
        (vec![path("hour.ts"), path("ts.flv")], "ts.flv"),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let peak = remux_peak_mb(&args);
        assert!(
            peak - binary_mb < 20.0,
            "srs remux {args:?}: peak RSS {peak:.1} MB, {:.1} MB above the binary's own {binary_mb:.1} MB",
            peak - binary_mb
        );
        let streams = probe(&path(output));
        let duration = streams.iter().map(|s| s.duration).fold(0.0, f64::max);
        assert!(
            (duration - input_duration).abs() < 0.1,
            "{output}: {duration} s, the input {input_duration} s"
        );
    }
    // About 200 MB of inputs and outputs.
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn several_inputs_at_once_each_get_their_output() {
    let dir = temp_dir("remux-batch-many");
    let inputs = [("a.flv", "flv", 2), ("b.ts", "mpegts", 3), ("c.mp4", "mp4", 4)];
    for (name, container, seconds) in inputs {
        make_clip(&dir.join(name), container, seconds, "libx264");
    }
    let out_dir = dir.join("out");
    let mut args = vec!["--format", "mp4", "--out-dir", out_dir.to_str().unwrap()];
    let paths: Vec<String> =
        inputs.iter().map(|(name, _, _)| dir.join(name).to_str().unwrap().into()).collect();
    args.extend(paths.iter().map(String::as_str));
    let result = remux(&args);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    for (name, _, seconds) in inputs {
        let output = out_dir.join(Path::new(name).with_extension("mp4"));
        let streams = probe(output.to_str().unwrap());
        let codecs: Vec<&str> = streams.iter().map(|s| s.codec.as_str()).collect();
        assert_eq!(codecs, ["h264", "aac"], "{}", output.display());
        // The clips' AAC runs up to a frame or two past their video.
        let (video, audio) = (streams[0].duration, streams[1].duration);
        assert!((video - f64::from(seconds)).abs() < 0.05, "{}: video {video} s", output.display());
        assert!((audio - video).abs() < 0.15, "{}: audio {audio} s, video {video} s", output.display());
    }
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.mp4", "b.mp4", "c.mp4"], "no temporary file left");
}

#[test]
fn several_inputs_need_a_format_and_distinct_names() {
    let dir = temp_dir("remux-batch-args");
    let (a, b) = (dir.join("x/same.flv"), dir.join("y/same.flv"));
    for input in [&a, &b] {
        std::fs::create_dir_all(input.parent().unwrap()).unwrap();
        std::fs::copy(fixture("flv/h264_aac.flv"), input).unwrap();
    }
    let out_dir = dir.join("out");
    let (a, b, out) = (a.to_str().unwrap(), b.to_str().unwrap(), out_dir.to_str().unwrap());
    let stderr = |result: std::process::Output| {
        assert!(!result.status.success());
        String::from_utf8_lossy(&result.stderr).into_owned()
    };
    assert!(stderr(remux(&["--out-dir", out, a])).contains("--format"));
    assert!(stderr(remux(&["--format", "ts", "--out-dir", out, a, b])).contains("would both be written to"));
    assert!(stderr(remux(&[a, b, out])).contains("--out-dir"));
    assert!(!out_dir.exists(), "nothing written");
}
