//! Round trips through our own muxer from ffmpeg-made TS fixtures (demuxed by `codec::mpegts`),
//! the real ffprobe reading the muxer's output as `-f mpeg`, and damage: losses, garbage,
//! lying PSMs, audio we do not carry, oversized frames.

use std::process::Command;
use std::sync::Arc;

use bytes::BytesMut;

use super::pack::{write_pack_header, write_psm};
use super::*;
use crate::codec::mpegts::TsDemuxer;
use crate::media::{Frame, MediaEvent, MediaKind, StreamDescription};

const H264_AAC: &[u8] = include_bytes!("../../../tests/fixtures/mpegts/h264_aac.ts");
const H265_AAC: &[u8] = include_bytes!("../../../tests/fixtures/mpegts/h265_aac.ts");

#[derive(Default)]
struct Demuxed {
    descriptions: Vec<Arc<StreamDescription>>,
    frames: Vec<Frame>,
    errors: Vec<PsError>,
}

impl Demuxed {
    fn count(&self, kind: MediaKind) -> usize {
        self.frames.iter().filter(|f| f.kind() == kind).count()
    }
}

fn ts_frames(ts: &[u8]) -> (StreamDescription, Vec<Frame>) {
    let mut demuxer = TsDemuxer::default();
    demuxer.push(ts);
    demuxer.finish();
    let (mut description, mut frames) = (None, Vec::new());
    while let Some(event) = demuxer.poll() {
        match event {
            Ok(MediaEvent::Description(d)) => description = Some((*d).clone()),
            Ok(MediaEvent::Frame(f)) => frames.push(f),
            _ => {}
        }
    }
    (description.unwrap(), frames)
}

/// The fixture as PS, one pack per frame.
fn ps_of(ts: &[u8]) -> (StreamDescription, Vec<Frame>, Vec<BytesMut>) {
    let (description, frames) = ts_frames(ts);
    let mut muxer = PsMuxer::new(description.video.as_ref(), description.audio.as_ref()).unwrap();
    let packs = frames
        .iter()
        .map(|frame| {
            let mut out = BytesMut::new();
            muxer.write_frame_into(frame, &mut out).unwrap();
            out
        })
        .collect();
    (description, frames, packs)
}

fn drain(demuxer: &mut PsDemuxer, out: &mut Demuxed) {
    while let Some(event) = demuxer.poll() {
        match event {
            Ok(MediaEvent::Description(d)) => out.descriptions.push(d),
            Ok(MediaEvent::Frame(f)) => out.frames.push(f),
            Ok(_) => {}
            Err(e) => out.errors.push(e),
        }
    }
}

fn demux_chunks(bytes: &[u8], chunk: usize) -> (Demuxed, PsDemuxerStats) {
    let mut demuxer = PsDemuxer::default();
    let mut out = Demuxed::default();
    for piece in bytes.chunks(chunk) {
        demuxer.push(piece);
        drain(&mut demuxer, &mut out);
    }
    demuxer.finish();
    drain(&mut demuxer, &mut out);
    (out, demuxer.stats())
}

#[test]
fn h264_and_h265_round_trip_through_our_muxer_at_rtp_sized_chunks() {
    for ts in [H264_AAC, H265_AAC] {
        let (description, frames, packs) = ps_of(ts);
        let ps: Vec<u8> = packs.concat();
        let (out, stats) = demux_chunks(&ps, 1400);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.descriptions.len(), 1);
        assert_eq!(out.descriptions[0].video, description.video);
        assert_eq!(out.descriptions[0].audio, description.audio);
        assert_eq!(out.count(MediaKind::Video), 50);
        assert_eq!(out.count(MediaKind::Audio), 88);
        assert_eq!(stats.packs, frames.len() as u64);
        let key = |f: &Frame| (f.codec, f.dts, f.pts, f.keyframe, f.data.clone());
        let mut expected: Vec<_> = frames.iter().map(key).collect();
        let mut got: Vec<_> = out.frames.iter().map(key).collect();
        expected.sort_by_key(|k| (k.1, k.0 as u8));
        got.sort_by_key(|k| (k.1, k.0 as u8));
        assert_eq!(got, expected);
    }
}

#[test]
fn ffprobe_reads_our_program_stream() {
    let (_, _, packs) = ps_of(H264_AAC);
    let path = std::env::temp_dir().join(format!("srs-ps-mux-{}.mpg", std::process::id()));
    std::fs::write(&path, packs.concat()).unwrap();
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-f", "mpeg", "-count_frames", "-show_entries"])
        .args(["stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0"])
        .arg(&path)
        .output()
        .expect("ffprobe is installed (scripts/install-test-deps)");
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    assert_eq!(lines, ["aac,88", "h264,160,120,50"], "stderr: {}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a_lost_packet_drops_only_the_frame_it_fell_in() {
    let (_, _, packs) = ps_of(H264_AAC);
    let mut demuxer = PsDemuxer::default();
    let mut out = Demuxed::default();
    let mut lost_in_frame = None;
    for (i, pack) in packs.iter().enumerate() {
        for (j, piece) in pack.chunks(400).enumerate() {
            // Lose the second piece of the first big video frame after the tenth pack.
            if lost_in_frame.is_none() && i > 10 && j == 1 && pack.len() > 1200 {
                lost_in_frame = Some(i);
                demuxer.lost();
                continue;
            }
            demuxer.push(piece);
        }
        // As the node does on a packet with the RTP marker bit.
        demuxer.frame_boundary();
        drain(&mut demuxer, &mut out);
    }
    demuxer.finish();
    drain(&mut demuxer, &mut out);
    assert!(lost_in_frame.is_some());
    assert_eq!(
        out.count(MediaKind::Video),
        49,
        "one frame dropped, the stream goes on: {lost_in_frame:?} {:?} {:?}",
        demuxer.stats(),
        out.errors
    );
    assert_eq!(out.count(MediaKind::Audio), 88);
    assert_eq!(demuxer.stats().frames_dropped, 1);
}

#[test]
fn garbage_lying_psms_and_g711_are_skipped_and_counted() {
    let (_, _, packs) = ps_of(H264_AAC);
    let mut input = b"\x00\x00\x01\x65garbage\x00\x00".to_vec();
    // A PSM whose map length lies comes first: it is reported and ignored.
    let mut lying = BytesMut::new();
    write_psm(&mut lying, &[(0x1b, 0xe0)]);
    lying[11] = 0xf0;
    input.extend_from_slice(&lying);
    // A G.711 stream on 0xc1 is announced and sent: dropped and counted.
    let mut g711 = BytesMut::new();
    write_pack_header(&mut g711, 0, 1);
    write_psm(&mut g711, &[(0x1b, 0xe0), (0x0f, 0xc0), (stream_type::G711A, 0xc1)]);
    // PES: 3 header bytes, a 5-byte PTS, 3 bytes of A-law.
    g711.extend_from_slice(&[0, 0, 1, 0xc1, 0, 11, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1, 0xd5, 0xd5, 0xd5]);
    input.extend_from_slice(&g711);
    input.extend(packs.concat());
    let (out, stats) = demux_chunks(&input, 333);
    assert!(matches!(out.errors.first(), Some(PsError::Resynced { .. })), "{:?}", out.errors);
    assert!(out.errors.iter().any(|e| matches!(e, PsError::Psm(_))));
    assert_eq!(stats.pes_not_carried, 1);
    assert_eq!(out.count(MediaKind::Video), 50);
    assert_eq!(out.count(MediaKind::Audio), 88);
}

#[test]
fn frames_over_the_cap_are_dropped() {
    let (_, _, packs) = ps_of(H264_AAC);
    let mut demuxer = PsDemuxer::new(2000);
    let mut out = Demuxed::default();
    demuxer.push(&packs.concat());
    demuxer.finish();
    drain(&mut demuxer, &mut out);
    assert!(out.errors.iter().any(|e| matches!(e, PsError::FrameTooLarge { limit: 2000 })));
    assert!(out.count(MediaKind::Video) < 50);
    assert_eq!(out.count(MediaKind::Audio), 88);
}

#[test]
fn fuzzed_mutations_give_errors_not_panics() {
    let (_, _, packs) = ps_of(H264_AAC);
    let clean = packs.concat();
    let mut rng = crate::codec::xorshift::XorShift::new(7);
    for _ in 0..50 {
        let mut bytes = clean.clone();
        for _ in 0..20 {
            let at = rng.below(bytes.len());
            bytes[at] = rng.next_u64() as u8;
        }
        let _ = demux_chunks(&bytes, 1 + rng.below(3000));
    }
}
