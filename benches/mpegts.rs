//! Mux throughput of the MPEG-TS muxer in MB/s of transport stream written: the frames of a
//! fixture (H.264 + AAC) demuxed once, then muxed in a loop with timestamps moving forward.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use srs::codec::mpegts::TsMuxer;
use srs::media::{Frame, MediaTime, Timebase};

/// Each pass over the clip advances time by its length, so timestamps keep increasing.
const CLIP_TICKS: i64 = 2 * 90_000;
const LAPS: i64 = 10;

fn mux_throughput(c: &mut Criterion) {
    let (description, frames) = common::demux_fixture();
    let looped: Vec<Frame> = (0..LAPS)
        .flat_map(|lap| {
            let offset = MediaTime::new(lap * CLIP_TICKS, Timebase::MPEG);
            frames.iter().map(move |f| Frame { dts: f.dts + offset, pts: f.pts + offset, ..f.clone() })
        })
        .collect();
    let mut muxer = TsMuxer::new(&description).expect("fixture description is muxable");
    let output_len: usize = looped.iter().map(|f| muxer.write_frame(f).expect("muxable").len()).sum();
    let mut group = c.benchmark_group("mpegts");
    group.throughput(Throughput::Bytes(output_len as u64));
    group.bench_function("mux_h264_aac", |b| {
        b.iter(|| {
            let mut muxer = TsMuxer::new(&description).expect("fixture description is muxable");
            let mut written = 0;
            for frame in &looped {
                written += muxer.write_frame(frame).expect("muxable").len();
            }
            written
        })
    });
    group.finish();
}

criterion_group!(benches, mux_throughput);
criterion_main!(benches);
