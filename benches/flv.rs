//! FLV throughput: reading tags (and their body headers) and writing tags, in bytes per second, on the
//! H.264+AAC fixture looped in memory to about 1.5 MB.
//!
//! It measures the codec alone: no files, no sockets, no frame adapters.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use srs::codec::flv::{read_all, tag_bytes, FlvHeader, FlvTag, TagType, VideoTagHeader};

const FIXTURE: &[u8] = include_bytes!("../tests/fixtures/flv/h264_aac.flv");
const LOOPS: u32 = 100;

/// The fixture's tags repeated `LOOPS` times with shifted timestamps, as one file.
fn looped_file() -> (Vec<u8>, Vec<FlvTag>) {
    let (tags, error) = read_all(FIXTURE);
    assert!(error.is_none());
    let span_ms = tags.last().map_or(0, |t| t.timestamp_ms) + 40;
    let mut file = FlvHeader::new(true, true).file_start().to_vec();
    let mut looped = Vec::new();
    for round in 0..LOOPS {
        for tag in &tags {
            let mut tag = tag.clone();
            tag.timestamp_ms += round * span_ms;
            file.extend_from_slice(
                &tag_bytes(tag.tag_type, tag.timestamp_ms, &tag.body).expect("fixture tags fit"),
            );
            looped.push(tag);
        }
    }
    (file, looped)
}

fn flv_throughput(c: &mut Criterion) {
    let (file, tags) = looped_file();
    let mut group = c.benchmark_group("flv");
    group.throughput(Throughput::Bytes(file.len() as u64));
    group.bench_function("read_all", |b| {
        b.iter(|| {
            let (tags, error) = read_all(&file);
            assert!(error.is_none());
            tags.len()
        })
    });
    group.bench_function("read_all_and_parse_video_headers", |b| {
        b.iter(|| {
            let (tags, _) = read_all(&file);
            tags.iter()
                .filter(|t| t.tag_type == TagType::Video)
                .filter_map(|t| VideoTagHeader::parse(&t.body).ok())
                .filter(|h| h.frame_type.is_keyframe())
                .count()
        })
    });
    group.bench_function("tag_bytes", |b| {
        b.iter(|| {
            let mut total = 0;
            for tag in &tags {
                total +=
                    tag_bytes(tag.tag_type, tag.timestamp_ms, &tag.body).expect("fixture tags fit").len();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, flv_throughput);
criterion_main!(benches);
