//! Cost of DASH output per segment, without file I/O: the frames of a fixture (H.264 + AAC,
//! demuxed once from MPEG-TS) looped ten times and cut into 2 s segments (both tracks' fMP4
//! fragments), and the MPD of a 5-segment window rendered as XML.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use srs::codec::dash::{
    DashPresentation, DashSegmenter, PresentationConfig, SegmentAddressing, SegmenterOutput,
};
use srs::media::{Frame, MediaTime, StreamDescription, Timebase};

const LAPS: i64 = 10;

/// Cuts the whole looped clip; returns every output.
fn segment_all(description: &StreamDescription, frames: &[Frame]) -> Vec<SegmenterOutput> {
    let mut segmenter = DashSegmenter::new(MediaTime::from_millis(2000), 1);
    let mut outputs = segmenter.push_description(description);
    for frame in frames {
        outputs.extend(segmenter.push_frame(frame.clone()).expect("fixture frames are writable"));
    }
    outputs.extend(segmenter.finish());
    outputs
}

fn dash_segments(c: &mut Criterion) {
    let (description, frames) = common::demux_fixture();
    // Each lap starts after the clip's last frame of either track, so time keeps increasing.
    let clip_ticks = frames.iter().map(|f| f.dts.rescale(Timebase::MPEG).ticks()).max().unwrap_or(0) + 9000;
    let looped: Vec<Frame> = (0..LAPS)
        .flat_map(|lap| {
            let offset = MediaTime::new(lap * clip_ticks, Timebase::MPEG);
            frames.iter().map(move |f| Frame { dts: f.dts + offset, pts: f.pts + offset, ..f.clone() })
        })
        .collect();
    let outputs = segment_all(&description, &looped);
    let n_video_segments = outputs
        .iter()
        .filter(|o| matches!(o, SegmenterOutput::Segment(s) if s.kind == srs::media::MediaKind::Video))
        .count();
    eprintln!("{n_video_segments} segments of 2 s (video + audio each) per iteration");
    let mut group = c.benchmark_group("dash");
    group.throughput(Throughput::Elements(n_video_segments as u64));
    group.bench_function("segment_h264_aac_2s", |b| b.iter(|| segment_all(&description, &looped)));

    let mut presentation = DashPresentation::new(PresentationConfig {
        addressing: SegmentAddressing::Time,
        fragment_ms: 2000,
        update_period_ms: 5000,
        timeshift_ms: 300_000,
        window_size: 5,
        prefix: "livestream/".into(),
        mpd_name: "livestream.mpd".into(),
    });
    presentation.set_origin(MediaTime::ZERO);
    for output in &outputs {
        match output {
            SegmenterOutput::Init(init) => {
                presentation.set_track(init).expect("fixture tracks have codecs strings");
            }
            SegmenterOutput::Segment(segment) => {
                let end_ms = (segment.start + segment.duration) * 1000 / u64::from(segment.timebase.hz());
                presentation.add_segment(segment, 1_700_000_000_000 + end_ms as i64);
            }
            SegmenterOutput::TrackSkipped { .. } => {}
        }
    }
    group.throughput(Throughput::Elements(1));
    group.bench_function("mpd_xml_window_5", |b| {
        b.iter(|| presentation.mpd(1_700_000_020_000, false).expect("segments exist").to_xml())
    });
    group.finish();
}

criterion_group!(benches, dash_segments);
criterion_main!(benches);
