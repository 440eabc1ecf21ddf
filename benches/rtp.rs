//! RTP payload throughput: H.264 access units of the fixture clip packetized (STAP-A, FU-A,
//! 1200-byte payloads) and depacketized back, in packets per second.
//!
//! It measures the codec alone: no SRTP, no sockets.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use srs::codec::avc::AvcConfig;
use srs::codec::flv::{read_all, TagType};
use srs::codec::rtp::h264::{H264Depacketizer, H264Packetizer};

const FIXTURE: &[u8] = include_bytes!("../tests/fixtures/flv/h264_aac.flv");

/// The clip's pictures (keyframe flag, AVCC payload) and its SPS and PPS.
fn pictures() -> (Vec<(Bytes, bool)>, Vec<Bytes>) {
    let (tags, error) = read_all(FIXTURE);
    assert!(error.is_none());
    let mut sets = Vec::new();
    let mut frames = Vec::new();
    for tag in tags.iter().filter(|t| t.tag_type == TagType::Video) {
        match tag.body[1] {
            0 => {
                let config = AvcConfig::parse(&tag.body[5..]).expect("avcC");
                sets = config.sps.into_iter().chain(config.pps).collect();
            }
            1 => frames.push((tag.body.slice(5..), tag.body[0] >> 4 == 1)),
            _ => {}
        }
    }
    (frames, sets)
}

fn rtp_throughput(c: &mut Criterion) {
    let (frames, sets) = pictures();
    let packetizer = H264Packetizer::default();
    let mut payloads = Vec::new();
    for (frame, keyframe) in &frames {
        packetizer.packetize(frame, *keyframe, &sets, &mut payloads).expect("fixture frames");
    }
    let n_packets = payloads.len() as u64;
    let mut group = c.benchmark_group("rtp_h264");
    group.throughput(Throughput::Elements(n_packets));
    group.bench_function("packetize", |b| {
        let mut out = Vec::with_capacity(payloads.len());
        b.iter(|| {
            out.clear();
            for (frame, keyframe) in &frames {
                packetizer.packetize(frame, *keyframe, &sets, &mut out).expect("fixture frames");
            }
            out.len()
        })
    });
    group.bench_function("depacketize", |b| {
        let mut events = Vec::new();
        b.iter(|| {
            let mut depacketizer = H264Depacketizer::new();
            events.clear();
            let mut timestamp = 0u32;
            for (i, payload) in payloads.iter().enumerate() {
                depacketizer.push(i as u16, timestamp, payload.marker, payload.data.clone(), &mut events);
                if payload.marker {
                    timestamp += 3000;
                }
            }
            events.len()
        })
    });
    group.finish();
}

criterion_group!(benches, rtp_throughput);
criterion_main!(benches);
