//! Fixture tests across the module: demux ffmpeg-made streams and compare with ffprobe's counts,
//! re-mux the frames and have the real ffprobe/ffmpeg judge the output, and feed damaged or
//! mutated input to show the demuxer reports and resynchronises instead of panicking.
//!
//! The counts below come from
//! `ffprobe -v error -count_packets -show_entries stream=codec_name,width,height,nb_read_packets -of csv=p=0 F`
//! on the files `scripts/fixtures/mpegts.sh` writes.

use crate::codec::xorshift::XorShift;
use std::process::Command;
use std::sync::Arc;

use super::*;
use crate::media::{Frame, MediaEvent, StreamDescription};

const H264_AAC: &[u8] = include_bytes!("../../../tests/fixtures/mpegts/h264_aac.ts");
const H265_AAC: &[u8] = include_bytes!("../../../tests/fixtures/mpegts/h265_aac.ts");
const H264_BFRAMES: &[u8] = include_bytes!("../../../tests/fixtures/mpegts/h264_bframes.ts");
const AAC_ONLY: &[u8] = include_bytes!("../../../tests/fixtures/mpegts/aac_only.ts");
const MP3_ONLY: &[u8] = include_bytes!("../../../tests/fixtures/mpegts/mp3_only.ts");

#[derive(Debug, Default)]
struct Demuxed {
    descriptions: Vec<Arc<StreamDescription>>,
    frames: Vec<Frame>,
    errors: Vec<TsError>,
    ended: bool,
}

impl Demuxed {
    fn of_kind(&self, kind: crate::media::MediaKind) -> Vec<&Frame> {
        self.frames.iter().filter(|f| f.kind() == kind).collect()
    }
    fn video(&self) -> Vec<&Frame> {
        self.of_kind(crate::media::MediaKind::Video)
    }
    fn audio(&self) -> Vec<&Frame> {
        self.of_kind(crate::media::MediaKind::Audio)
    }
    fn last_description(&self) -> &StreamDescription {
        self.descriptions.last().expect("a description was emitted")
    }
}

/// Demuxes `bytes` pushed in chunks of `chunk` bytes (not a multiple of 188 on purpose).
fn demux(bytes: &[u8], chunk: usize) -> Demuxed {
    let mut demuxer = TsDemuxer::default();
    let mut out = Demuxed::default();
    let drain = |demuxer: &mut TsDemuxer, out: &mut Demuxed| {
        while let Some(event) = demuxer.poll() {
            match event {
                Ok(MediaEvent::Description(description)) => out.descriptions.push(description),
                Ok(MediaEvent::Frame(frame)) => out.frames.push(frame),
                Ok(MediaEvent::End) => out.ended = true,
                Ok(MediaEvent::Metadata(_)) => {}
                Err(error) => out.errors.push(error),
            }
        }
    };
    for piece in bytes.chunks(chunk) {
        demuxer.push(piece);
        drain(&mut demuxer, &mut out);
    }
    demuxer.finish();
    drain(&mut demuxer, &mut out);
    out
}

fn keyframe_positions(frames: &[&Frame]) -> Vec<usize> {
    frames.iter().enumerate().filter(|(_, f)| f.keyframe).map(|(i, _)| i).collect()
}

#[test]
fn h264_aac_matches_ffprobe() {
    let out = demux(H264_AAC, 1000);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert!(out.ended);
    assert_eq!(out.descriptions.len(), 1, "both tracks in one first description");
    let description = out.last_description();
    let video = description.video.as_ref().unwrap();
    assert_eq!((video.codec, video.width, video.height), (Codec::H264, 160, 120));
    assert_eq!(description.audio.as_ref().unwrap().codec, Codec::Aac);
    assert_eq!(out.video().len(), 50); // h264,160,120,50
    assert_eq!(out.audio().len(), 88); // aac,88
    assert_eq!(keyframe_positions(&out.video()), vec![0, 25]);
    // ffprobe -show_entries packet=pts: first AAC packets at 18000 and 20090 (rounded), video at 0.2 s too.
    let audio = out.audio();
    assert_eq!(audio[0].pts.ticks(), 18_000);
    assert!((audio[1].pts.ticks() - 20_090).abs() <= 1);
    assert_eq!(out.video()[0].dts.timebase(), crate::media::Timebase::MPEG);
}

#[test]
fn h264_with_b_frames_keeps_pts_and_dts_apart() {
    let out = demux(H264_BFRAMES, 4096);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let video = out.video();
    assert_eq!(video.len(), 50); // h264,160,120,50
    assert_eq!(keyframe_positions(&video), vec![0, 25]);
    // ffprobe -show_entries packet=pts,dts: the first packet is pts 25200, dts 18000.
    assert_eq!((video[0].pts.ticks(), video[0].dts.ticks()), (25_200, 18_000));
    assert!(video.windows(2).all(|w| w[0].dts < w[1].dts), "dts strictly increasing");
    assert!(video.iter().filter(|f| f.pts != f.dts).count() > 10);
}

#[test]
fn h265_aac_matches_ffprobe() {
    let out = demux(H265_AAC, 777);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let video = out.last_description().video.clone().unwrap();
    assert_eq!((video.codec, video.width, video.height), (Codec::H265, 160, 120));
    assert_eq!(out.video().len(), 50); // hevc,160,120,50
    assert_eq!(out.audio().len(), 88); // aac,88
    assert_eq!(keyframe_positions(&out.video()), vec![0, 25]);
}

#[test]
fn audio_only_streams_match_ffprobe() {
    let aac = demux(AAC_ONLY, 188 * 3 + 5);
    assert!(aac.errors.is_empty(), "{:?}", aac.errors);
    let track = aac.last_description().audio.clone().unwrap();
    assert_eq!((track.codec, track.sample_rate, track.channels), (Codec::Aac, 44_100, 2));
    assert_eq!(aac.audio().len(), 88); // aac,88
    let mp3 = demux(MP3_ONLY, 1316);
    assert!(mp3.errors.is_empty(), "{:?}", mp3.errors);
    let track = mp3.last_description().audio.clone().unwrap();
    assert_eq!((track.codec, track.sample_rate, track.channels), (Codec::Mp3, 44_100, 1));
    assert!(track.config.is_empty());
    assert_eq!(mp3.audio().len(), 78); // mp3,78
}

/// Muxes demuxed events back into a transport stream.
fn remux(demuxed: &Demuxed) -> Vec<u8> {
    let mut muxer = TsMuxer::new(&demuxed.descriptions[0]).unwrap();
    let mut out = Vec::new();
    for frame in &demuxed.frames {
        out.extend_from_slice(&muxer.write_frame(frame).unwrap());
    }
    assert_eq!(out.len() % PACKET_LEN, 0);
    out
}

/// The value of `"key": value` inside one ffprobe JSON object, quotes removed.
fn json_field(object: &str, key: &str) -> Option<String> {
    let at = object.find(&format!("\"{key}\": "))? + key.len() + 4;
    let rest = &object[at..];
    let end = rest.find([',', '\n', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim().trim_matches('"').to_string())
}

/// (codec_name, width, nb_read_frames, duration) per stream, from the real ffprobe.
fn ffprobe(path: &std::path::Path) -> Vec<(String, Option<String>, u64, f64)> {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-show_streams", "-count_frames", "-of", "json"])
        .arg(path)
        .output()
        .expect("ffprobe is installed (scripts/install-test-deps)");
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = String::from_utf8(output.stdout).unwrap();
    json.split("\"index\": ")
        .skip(1)
        .map(|stream| {
            let number = |key| json_field(stream, key).and_then(|v| v.parse::<f64>().ok()).unwrap_or(-1.0);
            (
                json_field(stream, "codec_name").unwrap(),
                json_field(stream, "width"),
                number("nb_read_frames") as u64,
                number("duration"),
            )
        })
        .collect()
}

fn ffmpeg_decode_errors(path: &std::path::Path) -> String {
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn check_remux(name: &str, source: &[u8], frame_durations: &[f64]) {
    let demuxed = demux(source, 1500);
    let dir = std::env::temp_dir().join(format!("srs-mpegts-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (original, remuxed) = (dir.join("in.ts"), dir.join("out.ts"));
    std::fs::write(&original, source).unwrap();
    std::fs::write(&remuxed, remux(&demuxed)).unwrap();
    let expected = ffprobe(&original);
    let got = ffprobe(&remuxed);
    assert_eq!(got.len(), expected.len(), "{name}: {got:?}");
    for ((want, have), frame_duration) in expected.iter().zip(&got).zip(frame_durations) {
        assert_eq!((&have.0, &have.1, have.2), (&want.0, &want.1, want.2), "{name}: codec, width, frames");
        assert!(
            (have.3 - want.3).abs() <= *frame_duration + 1e-6,
            "{name}: duration {} vs {}",
            have.3,
            want.3
        );
    }
    let errors = ffmpeg_decode_errors(&remuxed);
    assert!(errors.is_empty(), "{name}: ffmpeg reported: {errors}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn remuxed_streams_satisfy_ffprobe_and_ffmpeg() {
    let aac_frame = 1024.0 / 44_100.0;
    check_remux("h264_aac", H264_AAC, &[0.04, aac_frame]);
    check_remux("h265_aac", H265_AAC, &[0.04, aac_frame]);
    check_remux("h264_bframes", H264_BFRAMES, &[0.04]);
    check_remux("aac_only", AAC_ONLY, &[aac_frame]);
    check_remux("mp3_only", MP3_ONLY, &[1152.0 / 44_100.0]);
}

#[test]
fn remux_then_demux_gives_back_the_same_frames() {
    for source in [H264_AAC, H265_AAC, H264_BFRAMES, AAC_ONLY, MP3_ONLY] {
        let first = demux(source, 2000);
        let second = demux(&remux(&first), 2000);
        assert!(second.errors.is_empty(), "{:?}", second.errors);
        // Video is released when its unbounded PES ends (at the next one), so compare per track.
        for (again, before) in [(second.video(), first.video()), (second.audio(), first.audio())] {
            assert_eq!(again.len(), before.len());
            assert!(again.iter().zip(&before).all(|(a, b)| a == b), "frames differ after a round trip");
        }
        assert_eq!(second.last_description(), first.last_description());
    }
}

#[test]
fn tables_come_before_every_keyframe() {
    let demuxed = demux(H264_AAC, 1500);
    let mut muxer = TsMuxer::new(&demuxed.descriptions[0]).unwrap();
    for frame in &demuxed.frames {
        let bytes = muxer.write_frame(frame).unwrap();
        let first_pid = u16::from_be_bytes([bytes[1] & 0x1f, bytes[2]]);
        if frame.keyframe && frame.kind() == crate::media::MediaKind::Video {
            assert_eq!(first_pid, PID_PAT);
            assert_eq!(u16::from_be_bytes([bytes[189] & 0x1f, bytes[190]]), PID_PMT);
        }
    }
    assert_eq!(muxer.write_tables().len(), 2 * PACKET_LEN);
}

#[test]
fn timestamps_and_counters_survive_the_33_bit_wrap() {
    let demuxed = demux(H264_BFRAMES, 1500);
    let mut muxer = TsMuxer::new(&demuxed.descriptions[0]).unwrap();
    // Start one second before the wrap of the 90 kHz clock and loop the clip for 6 seconds.
    let start = (1i64 << 33) - 90_000;
    let mut shifted = Vec::new();
    let mut bytes = Vec::new();
    for lap in 0..3 {
        for frame in demuxed.video() {
            let offset =
                crate::media::MediaTime::new(start + lap * 180_000 - 18_000, crate::media::Timebase::MPEG);
            let frame = Frame { dts: frame.dts + offset, pts: frame.pts + offset, ..frame.clone() };
            bytes.extend_from_slice(&muxer.write_frame(&frame).unwrap());
            shifted.push(frame);
        }
    }
    let again = demux(&bytes, 3000);
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    let video = again.video();
    assert_eq!(video.len(), shifted.len());
    for (got, want) in video.iter().zip(&shifted) {
        assert_eq!((got.dts.ticks(), got.pts.ticks()), (want.dts.ticks(), want.pts.ticks()));
    }
}

#[test]
fn damaged_input_is_reported_and_resynchronised() {
    let clean = demux(H264_AAC, 1000);
    // Truncated in the middle of a packet.
    let truncated = demux(&H264_AAC[..H264_AAC.len() / 2 + 77], 1000);
    assert!(truncated.video().len() >= 20 && truncated.video().len() < 50);
    // Random bytes inserted every 5000 bytes.
    let mut noisy = Vec::new();
    let mut rng = XorShift::new(0x1234_5678);
    for piece in H264_AAC.chunks(5000) {
        noisy.extend_from_slice(piece);
        noisy.extend((0..rng.below(300) + 1).map(|_| rng.next_u64() as u8));
    }
    let noisy_out = demux(&noisy, 1000);
    assert!(noisy_out.errors.iter().any(|e| matches!(e, TsError::Resynced { .. })));
    assert!(noisy_out.video().len() >= 30, "frames after resync: {}", noisy_out.video().len());
    assert!(noisy_out.audio().len() >= 50);
    // Every 50th packet dropped.
    let dropped: Vec<u8> = H264_AAC
        .chunks(PACKET_LEN)
        .enumerate()
        .filter(|(i, _)| i % 50 != 49)
        .flat_map(|(_, p)| p.to_vec())
        .collect();
    let dropped_out = demux(&dropped, 1000);
    assert!(dropped_out.errors.iter().any(|e| matches!(e, TsError::Continuity { .. })));
    assert!(dropped_out.video().len() >= 30 && dropped_out.video().len() < clean.video().len());
    assert!(dropped_out
        .frames
        .iter()
        .all(|f| f.kind() != crate::media::MediaKind::Video || !f.data.is_empty()));
}

#[test]
fn fuzzed_mutations_give_errors_not_panics() {
    let mut rng = XorShift::new(0x9e37_79b9_7f4a_7c15);
    for (round, source) in
        [H264_AAC, H265_AAC, H264_BFRAMES, AAC_ONLY, MP3_ONLY].iter().cycle().take(60).enumerate()
    {
        let mut bytes = source.to_vec();
        for _ in 0..rng.below(64) + 1 {
            let at = rng.below(bytes.len());
            match rng.below(4) {
                0 => bytes[at] = rng.next_u64() as u8,
                1 => bytes[at] ^= 1 << rng.below(8),
                2 => {
                    let end = (at + rng.below(400)).min(bytes.len());
                    bytes.drain(at..end);
                }
                _ => bytes.insert(at, 0x47),
            }
        }
        bytes.truncate(bytes.len() - rng.below(bytes.len() / 4));
        let out = demux(&bytes, rng.below(3000) + 1);
        assert!(out.ended, "round {round}: the demuxer always reaches the end");
        // Whatever survives re-muxes without panicking either.
        if let Some(description) = out.descriptions.last() {
            if let Ok(mut muxer) = TsMuxer::new(description) {
                for frame in &out.frames {
                    let _ = muxer.write_frame(frame);
                }
            }
        }
    }
}

#[test]
fn input_ending_inside_a_packet_is_reported_as_truncated() {
    let cut = H264_AAC.len() - 100;
    let out = demux(&H264_AAC[..cut], 1000);
    let whole_packets = (cut / PACKET_LEN * PACKET_LEN) as u64;
    assert!(out.ended);
    assert_eq!(out.errors, [TsError::Truncated { offset: whole_packets, len: cut % PACKET_LEN }]);
    assert!(!out.video().is_empty(), "frames before the cut are kept");
}

#[test]
fn datagrams_are_cut_to_whole_packets_from_the_first_sync() {
    let mut datagram = vec![0x00, 0x11];
    datagram.extend(std::iter::repeat_n(0x47u8, 2 * PACKET_LEN + 50));
    let packets = super::whole_packets(&datagram);
    assert_eq!(packets.len(), 2 * PACKET_LEN);
    assert_eq!(packets[0], SYNC_BYTE);
    assert!(super::whole_packets(&[0u8; 400]).is_empty());
    assert!(super::whole_packets(&[0x47u8; 100]).is_empty());
}
