//! Round trips through real tools: ffmpeg-made fixtures are read, written back as fragmented and
//! classic MP4 (with and without faststart), and the results are checked by the reader itself and by
//! ffprobe/ffmpeg run as child processes.
//!
//! ffprobe output is requested in its `compact` form rather than JSON because the crate has no JSON
//! parser and these tests do not justify one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use bytes::Bytes;

use super::*;
use crate::media::{Codec, Frame, MediaKind};

const H264_AAC: &[u8] = include_bytes!("../../../tests/fixtures/mp4/h264_aac.mp4");
const H264_AAC_FRAG: &[u8] = include_bytes!("../../../tests/fixtures/mp4/h264_aac_frag.mp4");
const H265_AAC: &[u8] = include_bytes!("../../../tests/fixtures/mp4/h265_aac.mp4");
const MP3: &[u8] = include_bytes!("../../../tests/fixtures/mp4/mp3.mp4");
const OPUS: &[u8] = include_bytes!("../../../tests/fixtures/mp4/opus.mp4");

/// What ffprobe says about a fixture, hard-coded from
/// `ffprobe -v error -show_streams -count_frames -of compact=p=0 tests/fixtures/mp4/<name>.mp4`
/// (frame counts are `nb_frames`, i.e. samples in the file before edit lists trim anything) and
/// `ffprobe -v error -select_streams v -show_entries packet=flags -of csv=p=0 <file> | grep -c K`.
/// Profiles (`-show_entries stream=profile`): High for H.264, Main for H.265, LC for AAC.
struct Expected {
    name: &'static str,
    bytes: &'static [u8],
    video: Option<(Codec, u32, u32, usize, usize)>, // codec, width, height, frames, keyframes
    audio: Option<(Codec, u32, u8, usize)>,         // codec, sample rate, channels, frames
}

const FIXTURES: [Expected; 5] = [
    Expected {
        name: "h264_aac",
        bytes: H264_AAC,
        video: Some((Codec::H264, 160, 120, 50, 5)),
        audio: Some((Codec::Aac, 44_100, 1, 88)),
    },
    Expected {
        name: "h264_aac_frag",
        bytes: H264_AAC_FRAG,
        video: Some((Codec::H264, 160, 120, 50, 5)),
        audio: Some((Codec::Aac, 44_100, 1, 88)),
    },
    Expected {
        name: "h265_aac",
        bytes: H265_AAC,
        video: Some((Codec::H265, 160, 120, 50, 5)),
        audio: Some((Codec::Aac, 44_100, 1, 88)),
    },
    Expected { name: "mp3", bytes: MP3, video: None, audio: Some((Codec::Mp3, 44_100, 1, 78)) },
    Expected { name: "opus", bytes: OPUS, video: None, audio: Some((Codec::Opus, 48_000, 2, 101)) },
];

fn count(frames: &[Frame], kind: MediaKind) -> usize {
    frames.iter().filter(|frame| frame.kind() == kind).count()
}

#[test]
fn reader_reports_ffprobe_facts_for_every_fixture() {
    for fixture in &FIXTURES {
        let contents = read_mp4(&Bytes::from_static(fixture.bytes)).unwrap();
        if let Some((codec, width, height, n_frames, n_keyframes)) = fixture.video {
            let video = contents.description.video.as_ref().unwrap();
            assert_eq!((video.codec, video.width, video.height), (codec, width, height), "{}", fixture.name);
            let profile = if codec == Codec::H264 { "High" } else { "Main" };
            assert_eq!(video.profile, profile, "{}", fixture.name);
            assert_eq!(count(&contents.frames, MediaKind::Video), n_frames, "{}", fixture.name);
            let keyframes =
                contents.frames.iter().filter(|f| f.kind() == MediaKind::Video && f.keyframe).count();
            assert_eq!(keyframes, n_keyframes, "{}", fixture.name);
            // B-frames: some pictures are presented later than decoded.
            assert!(contents.frames.iter().any(|f| f.pts > f.dts), "{}", fixture.name);
        }
        if let Some((codec, rate, channels, n_frames)) = fixture.audio {
            let audio = contents.description.audio.as_ref().unwrap();
            assert_eq!(
                (audio.codec, audio.sample_rate, audio.channels),
                (codec, rate, channels),
                "{}",
                fixture.name
            );
            assert_eq!(count(&contents.frames, MediaKind::Audio), n_frames, "{}", fixture.name);
            if codec == Codec::Aac {
                assert_eq!(audio.profile, "LC", "{}", fixture.name);
            }
        }
        assert!(
            contents.frames.windows(2).all(|pair| pair[0].dts <= pair[1].dts),
            "{} interleaved",
            fixture.name
        );
        for frame in contents.frames.iter().filter(|f| matches!(f.codec, Codec::H264 | Codec::H265)) {
            assert_eq!(
                nal_lengths_total(&frame.data),
                frame.data.len(),
                "{} 4-byte NAL lengths",
                fixture.name
            );
        }
    }
}

/// Sum of the 4-byte-length-prefixed NAL units found, prefixes included; stops at the first overrun.
fn nal_lengths_total(data: &[u8]) -> usize {
    let mut position = 0;
    while let Some(header) = data.get(position..position + 4) {
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if position + 4 + length > data.len() {
            break;
        }
        position += 4 + length;
    }
    position
}

/// Fragments: a new one at every video keyframe, or every 25 frames for audio-only streams.
fn fragment_groups(frames: &[Frame]) -> Vec<&[Frame]> {
    let has_video = frames.iter().any(|f| f.kind() == MediaKind::Video);
    let mut groups = Vec::new();
    let mut start = 0;
    for (index, frame) in frames.iter().enumerate() {
        let cut =
            if has_video { frame.kind() == MediaKind::Video && frame.keyframe } else { index - start == 25 };
        if cut && index > start {
            groups.push(&frames[start..index]);
            start = index;
        }
    }
    groups.push(&frames[start..]);
    groups
}

/// The stream as a fragmented file, and the file length after each fragment.
fn write_fragmented(contents: &Mp4Contents) -> (Vec<u8>, Vec<usize>) {
    let mut writer = FragmentWriter::new(&contents.description).unwrap();
    let mut file = writer.init_segment().unwrap().to_vec();
    let mut ends = Vec::new();
    let groups = fragment_groups(&contents.frames);
    for (index, group) in groups.iter().enumerate() {
        let of_kind = |kind| group.iter().filter(|f| f.kind() == kind).collect::<Vec<&Frame>>();
        let first_of =
            |kind| groups.get(index + 1).and_then(|g| g.iter().find(|f| f.kind() == kind)).map(|f| f.dts);
        let next = NextDecodeTimes { video: first_of(MediaKind::Video), audio: first_of(MediaKind::Audio) };
        let fragment = writer
            .fragment_until(index as u32 + 1, &of_kind(MediaKind::Video), &of_kind(MediaKind::Audio), next)
            .unwrap();
        file.extend_from_slice(&fragment);
        ends.push(file.len());
    }
    (file, ends)
}

fn write_classic(contents: &Mp4Contents) -> Vec<u8> {
    write_classic_aligned(contents, None)
}

fn write_classic_aligned(contents: &Mp4Contents, align: Option<u64>) -> Vec<u8> {
    let (mut writer, header) = ClassicWriter::with_mdat_alignment(&contents.description, align).unwrap();
    let mut file = header.to_vec();
    for frame in &contents.frames {
        file.extend_from_slice(&writer.write_frame(frame).unwrap());
    }
    let finish = writer.finish().unwrap();
    let at = finish.mdat_size_patch.offset as usize;
    file[at..at + finish.mdat_size_patch.bytes.len()].copy_from_slice(&finish.mdat_size_patch.bytes);
    file.extend_from_slice(&finish.moov);
    file
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("srs-mp4-{}-{name}.mp4", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// ffprobe's streams as key/value maps, in stream order.
/// With `strict`, ffprobe must not print a single complaint.
fn ffprobe_streams(name: &str, bytes: &[u8], strict: bool) -> Vec<HashMap<String, String>> {
    let path = temp_file(name, bytes);
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-show_streams", "-count_frames", "-of", "compact=p=0"])
        .arg(&path)
        .output()
        .expect("ffprobe runs");
    let _ = std::fs::remove_file(&path);
    assert!(output.status.success(), "{name}: ffprobe failed");
    if strict {
        assert_eq!(String::from_utf8_lossy(&output.stderr), "", "{name}: ffprobe complained");
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            line.split('|')
                .filter_map(|field| field.split_once('='))
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect()
        })
        .collect()
}

/// What `ffmpeg -v error -i file -f null -` prints: nothing for a clean file.
fn ffmpeg_decode_errors(name: &str, bytes: &[u8]) -> String {
    let path = temp_file(name, bytes);
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn ffmpeg_codec_name(codec: Codec) -> &'static str {
    match codec {
        Codec::H264 => "h264",
        Codec::H265 => "hevc",
        Codec::Av1 => "av1",
        Codec::Aac => "aac",
        Codec::Mp3 => "mp3",
        Codec::Opus => "opus",
    }
}

/// Checks ffprobe's view of a written file against the frames that went into it.
fn check_probe(name: &str, bytes: &[u8], contents: &Mp4Contents) {
    let streams = ffprobe_streams(name, bytes, true);
    let tracks: Vec<(Codec, MediaKind)> = [
        contents.description.video.as_ref().map(|v| (v.codec, MediaKind::Video)),
        contents.description.audio.as_ref().map(|a| (a.codec, MediaKind::Audio)),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert_eq!(streams.len(), tracks.len(), "{name}: stream count");
    for (stream, (codec, kind)) in streams.iter().zip(tracks) {
        assert_eq!(stream["codec_name"], ffmpeg_codec_name(codec), "{name}");
        let frames: Vec<&Frame> = contents.frames.iter().filter(|f| f.kind() == kind).collect();
        assert_eq!(stream["nb_read_frames"], frames.len().to_string(), "{name}: {kind} frame count");
        if let Some(video) = contents.description.video.as_ref().filter(|_| kind == MediaKind::Video) {
            assert_eq!(stream["width"], video.width.to_string(), "{name}");
            assert_eq!(stream["height"], video.height.to_string(), "{name}");
        }
        if let Some(audio) = contents.description.audio.as_ref().filter(|_| kind == MediaKind::Audio) {
            assert_eq!(stream["sample_rate"], audio.sample_rate.to_string(), "{name}");
        }
        // Duration: from the first decode time to the end of the last frame, within one frame.
        let frame_duration = (frames[1].dts - frames[0].dts).as_secs_f64();
        let expected = (frames[frames.len() - 1].dts - frames[0].dts).as_secs_f64() + frame_duration;
        let probed: f64 = stream["duration"].parse().unwrap();
        // Without an edit list (fragmented files) ffprobe counts the duration from time zero.
        let from_zero = frames[frames.len() - 1].dts.as_secs_f64() + frame_duration;
        assert!(
            (probed - expected).abs() <= frame_duration + 1e-6
                || (probed - from_zero).abs() <= frame_duration + 1e-6,
            "{name}: {kind} duration {probed} vs {expected}"
        );
    }
    assert_eq!(ffmpeg_decode_errors(name, bytes), "", "{name}: ffmpeg decode errors");
}

/// Frames equal in codec, times (compared exactly across timebases), keyframe flag and payload.
fn assert_same_frames(name: &str, got: &[Frame], want: &[Frame]) {
    assert_same_frames_within(name, got, want, 0);
}

/// Like `assert_same_frames`, with times allowed to differ by `tolerance_ms`: a classic file keeps a
/// track's start delay in its edit list, in the movie timescale (milliseconds).
fn assert_same_frames_within(name: &str, got: &[Frame], want: &[Frame], tolerance_ms: i64) {
    assert_eq!(got.len(), want.len(), "{name}: frame count");
    let mut got_sorted: Vec<&Frame> = got.iter().collect();
    let mut want_sorted: Vec<&Frame> = want.iter().collect();
    // Interleaving ties may resolve differently after rescaling; compare per track.
    got_sorted.sort_by_key(|f| f.kind());
    want_sorted.sort_by_key(|f| f.kind());
    for (got, want) in got_sorted.iter().zip(want_sorted) {
        let close = |a: crate::media::MediaTime, b: crate::media::MediaTime| {
            if tolerance_ms == 0 {
                a == b
            } else {
                (a - b).as_secs_f64().abs() * 1000.0 <= tolerance_ms as f64
            }
        };
        assert!(
            got.codec == want.codec
                && close(got.dts, want.dts)
                && close(got.pts, want.pts)
                && got.keyframe == want.keyframe,
            "{name}: {:?} vs {:?}",
            (got.codec, got.dts, got.pts, got.keyframe),
            (want.codec, want.dts, want.pts, want.keyframe),
        );
        assert_eq!(got.data, want.data, "{name}: payload");
    }
}

#[test]
fn fragmented_output_reads_back_and_probes_like_the_source() {
    for fixture in &FIXTURES {
        let contents = read_mp4(&Bytes::from_static(fixture.bytes)).unwrap();
        let (file, ends) = write_fragmented(&contents);
        assert!(ends.len() >= 4, "{}: several fragments", fixture.name);
        let again = read_mp4(&Bytes::from(file.clone())).unwrap();
        assert_same_frames(fixture.name, &again.frames, &contents.frames);
        check_probe(&format!("{}-frag", fixture.name), &file, &contents);
    }
}

#[test]
fn classic_output_with_and_without_faststart_probes_like_the_source() {
    for fixture in &FIXTURES {
        let contents = read_mp4(&Bytes::from_static(fixture.bytes)).unwrap();
        let file = write_classic(&contents);
        let again = read_mp4(&Bytes::from(file.clone())).unwrap();
        assert_same_frames_within(fixture.name, &again.frames, &contents.frames, 1);
        check_probe(&format!("{}-classic", fixture.name), &file, &contents);

        let fast = faststart(&file).unwrap();
        assert_eq!(fast.len(), file.len(), "{}: faststart only moves bytes", fixture.name);
        let order: Vec<FourCc> = boxes::BoxIter::new(&fast, 0).map(|b| b.unwrap().fourcc).collect();
        assert_eq!(order, [FourCc(*b"ftyp"), FourCc(*b"moov"), FourCc(*b"mdat")], "{}", fixture.name);
        let again = read_mp4(&Bytes::from(fast.clone())).unwrap();
        assert_same_frames_within(fixture.name, &again.frames, &contents.frames, 1);
        check_probe(&format!("{}-faststart", fixture.name), &fast, &contents);
    }
}

#[test]
fn faststart_moov_matches_whole_file_rewrite() {
    let contents = read_mp4(&Bytes::from_static(H264_AAC)).unwrap();
    let file = write_classic(&contents);
    let top: Vec<_> = boxes::BoxIter::new(&file, 0).collect::<Result<_, _>>().unwrap();
    let moov_start = top[2].offset as usize;
    let moov = faststart_moov(&file[moov_start..], top[1].offset).unwrap();
    let mut rebuilt = file[..top[1].offset as usize].to_vec();
    rebuilt.extend_from_slice(&moov);
    rebuilt.extend_from_slice(&file[top[1].offset as usize..moov_start]);
    assert_eq!(rebuilt, faststart(&file).unwrap());
}

#[test]
fn faststart_by_inserting_blocks_reads_back_and_probes_like_the_source() {
    const ALIGN: u64 = 4096;
    for fixture in &FIXTURES {
        let contents = read_mp4(&Bytes::from_static(fixture.bytes)).unwrap();
        let file = write_classic_aligned(&contents, Some(ALIGN));
        let top: Vec<_> = boxes::BoxIter::new(&file, 0).collect::<Result<_, _>>().unwrap();
        let (mdat_start, moov_start) = (top[2].offset, top[3].offset);
        assert_eq!(mdat_start % ALIGN, 0, "{}: mdat starts on a block", fixture.name);
        let (range, head) = faststart_insert(&file[moov_start as usize..], mdat_start, ALIGN).unwrap();
        assert_eq!(range % ALIGN, 0);
        // What the file system does: a range of zeros inserted at the mdat, then the host writes
        // the head over its start and cuts the old moov off the end.
        let mut fast = file[..mdat_start as usize].to_vec();
        fast.extend_from_slice(&head);
        fast.resize(fast.len() + (range as usize - head.len()), 0);
        fast.extend_from_slice(&file[mdat_start as usize..moov_start as usize]);
        let order: Vec<FourCc> = boxes::BoxIter::new(&fast, 0).map(|b| b.unwrap().fourcc).collect();
        let expected =
            ["ftyp", "free", "moov", "free", "mdat"].map(|c| FourCc(c.as_bytes().try_into().unwrap()));
        assert_eq!(order, expected, "{}", fixture.name);
        let again = read_mp4(&Bytes::from(fast.clone())).unwrap();
        assert_same_frames_within(fixture.name, &again.frames, &contents.frames, 1);
        check_probe(&format!("{}-inserted", fixture.name), &fast, &contents);
    }
}

#[test]
fn truncated_fragmented_file_still_decodes_its_complete_fragments() {
    let contents = read_mp4(&Bytes::from_static(H264_AAC)).unwrap();
    let (file, ends) = write_fragmented(&contents);
    let last_complete = ends[ends.len() - 2];
    let cut = last_complete + (file.len() - last_complete) / 2;
    let truncated = &file[..cut];
    let complete = read_mp4(&Bytes::copy_from_slice(&file[..last_complete])).unwrap();
    // ffprobe rightly reports the partial file; what matters is what it still decodes.
    let streams = ffprobe_streams("truncated", truncated, false);
    for (stream, kind) in streams.iter().zip([MediaKind::Video, MediaKind::Audio]) {
        let read: usize = stream["nb_read_frames"].parse().unwrap();
        assert!(read >= count(&complete.frames, kind), "{kind}: {read} frames decoded");
    }
    // The reader itself refuses the torn box and says where it starts.
    let error = read_mp4(&Bytes::copy_from_slice(truncated)).unwrap_err();
    assert!(matches!(error, Mp4Error::Truncated { offset, .. } if offset >= last_complete as u64), "{error}");
}

#[test]
fn partial_read_keeps_every_whole_fragment_of_a_torn_file() {
    let contents = read_mp4(&Bytes::from_static(H264_AAC)).unwrap();
    let (file, ends) = write_fragmented(&contents);
    let last_complete = ends[ends.len() - 2];
    let complete = read_mp4(&Bytes::copy_from_slice(&file[..last_complete])).unwrap();
    // Cut inside the last mdat (its moof whole) and inside the last moof: both keep the same frames.
    for cut in [file.len() - 10, last_complete + 20] {
        let (partial, damage) = read_mp4_partial(&Bytes::copy_from_slice(&file[..cut])).unwrap();
        assert!(damage.is_some(), "cut at {cut} reports damage");
        assert_same_frames("partial", &partial.frames, &complete.frames);
        assert_eq!(partial.description, complete.description);
    }
    let (whole, damage) = read_mp4_partial(&Bytes::from(file)).unwrap();
    assert!(damage.is_none());
    assert_eq!(whole.frames.len(), contents.frames.len());
}
