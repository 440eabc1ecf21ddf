//! What several benchmarks share: the H.264 + AAC test clip, demuxed once from MPEG-TS.

use srs::codec::mpegts::TsDemuxer;
use srs::media::{Frame, MediaEvent, StreamDescription};

pub const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/mpegts/h264_aac.ts");

/// The clip's description and frames.
pub fn demux_fixture() -> (StreamDescription, Vec<Frame>) {
    let mut demuxer = TsDemuxer::default();
    demuxer.push(FIXTURE);
    demuxer.finish();
    let (mut description, mut frames) = (None, Vec::new());
    while let Some(event) = demuxer.poll() {
        match event {
            Ok(MediaEvent::Description(d)) => description = Some((*d).clone()),
            Ok(MediaEvent::Frame(frame)) => frames.push(frame),
            _ => {}
        }
    }
    (description.expect("the fixture has a description"), frames)
}
