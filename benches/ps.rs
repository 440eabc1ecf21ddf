//! Demux throughput of the program stream demuxer in MB/s of PS read, as GB28181 media arrives:
//! packs of one frame each, pushed in RTP-sized (1400-byte) pieces. Two streams: the small
//! fixture (160x120, per-frame costs dominate) and camera-sized frames (60 KB video at 25 fps,
//! each split over PES packets, with AAC).

mod common;

use bytes::{BufMut, Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use srs::codec::ps::{PsDemuxer, PsMuxer};
use srs::media::{Codec, Frame, MediaEvent, StreamDescription};

const RTP_PAYLOAD: usize = 1400;

/// The fixture's frames with every video picture replaced by one 60 KB slice NAL (no start code
/// inside), keyframes keeping their type: the byte rate of a 12 Mbit/s camera.
fn camera_sized(frames: &[Frame]) -> Vec<Frame> {
    let body: Vec<u8> = (0..60_000u32).map(|i| 1 + (i % 251) as u8).collect();
    frames
        .iter()
        .map(|frame| {
            if frame.codec != Codec::H264 {
                return frame.clone();
            }
            let mut data = BytesMut::new();
            data.put_u32(body.len() as u32 + 1);
            data.put_u8(if frame.keyframe { 0x65 } else { 0x41 });
            data.put_slice(&body[1..]);
            data.put_u8(0x80);
            Frame { data: data.freeze(), ..frame.clone() }
        })
        .collect()
}

fn mux(description: &StreamDescription, frames: &[Frame]) -> Vec<Bytes> {
    let mut muxer = PsMuxer::new(description.video.as_ref(), description.audio.as_ref()).expect("muxable");
    let mut packets = Vec::new();
    for frame in frames {
        let mut pack = BytesMut::new();
        muxer.write_frame_into(frame, &mut pack).expect("muxable");
        let pack = pack.freeze();
        for start in (0..pack.len()).step_by(RTP_PAYLOAD) {
            packets.push(pack.slice(start..(start + RTP_PAYLOAD).min(pack.len())));
        }
    }
    packets
}

fn demux_all(packets: &[Bytes]) -> usize {
    let mut demuxer = PsDemuxer::default();
    let mut frames = 0;
    for packet in packets {
        demuxer.push(packet);
        while let Some(event) = demuxer.poll() {
            frames += usize::from(matches!(event, Ok(MediaEvent::Frame(_))));
        }
    }
    demuxer.finish();
    while let Some(event) = demuxer.poll() {
        frames += usize::from(matches!(event, Ok(MediaEvent::Frame(_))));
    }
    frames
}

fn demux_throughput(c: &mut Criterion) {
    let (description, frames) = common::demux_fixture();
    let mut group = c.benchmark_group("ps");
    for (name, frames) in
        [("demux_fixture_160x120", frames.clone()), ("demux_camera_60kb_frames", camera_sized(&frames))]
    {
        let packets = mux(&description, &frames);
        let n_bytes: usize = packets.iter().map(Bytes::len).sum();
        assert_eq!(demux_all(&packets), frames.len(), "{name}: every frame comes back");
        group.throughput(Throughput::Bytes(n_bytes as u64));
        group.bench_function(name, |b| b.iter(|| demux_all(&packets)));
    }
    group.finish();
}

criterion_group!(benches, demux_throughput);
criterion_main!(benches);
