//! Movie fragments: `moof` (mfhd, one `traf` per track with tfhd, tfdt and a version 1 trun) followed
//! by the `mdat` holding the samples, built from frames the caller has grouped per track.
//!
//! Where to cut fragments (at keyframes, by duration) is the caller's decision; this file only turns
//! a group of frames into bytes. A sample lasts until the next sample's decode time; the last one of
//! a fragment lasts until the next fragment's first decode time when the caller knows it, else as
//! long as the sample before it.

use bytes::Bytes;

use crate::media::{Frame, MediaKind, MediaTime, StreamDescription, Timebase};

use super::boxes::BoxWriter;
use super::error::{FourCc, Mp4Error};
use super::init::write_init_segment;
use super::track::{check_monotonic, sample_durations, track_layouts, TrackLayout};

/// Sample flags: "depends on no other sample" (a sync sample).
pub(crate) const SAMPLE_FLAGS_SYNC: u32 = 0x0200_0000;
/// Sample flags: "depends on others" plus `sample_is_non_sync_sample`.
pub(crate) const SAMPLE_FLAGS_NON_SYNC: u32 = 0x0101_0000;
/// tfhd flag: data offsets are relative to the start of the enclosing moof.
const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
/// trun flags: data offset, then per-sample duration, size, flags and composition offset.
const TRUN_FLAGS: u32 = 0x0001 | 0x0100 | 0x0200 | 0x0400 | 0x0800;

/// Decode times of the frames that will follow a fragment, when the caller already knows them.
#[derive(Debug, Clone, Copy, Default)]
pub struct NextDecodeTimes {
    pub video: Option<MediaTime>,
    pub audio: Option<MediaTime>,
}

/// Turns groups of frames into `moof`+`mdat` pairs for the tracks of one stream description.
#[derive(Debug)]
pub struct FragmentWriter {
    layouts: Vec<TrackLayout>,
    /// Per track (same order as `layouts`): last decode time and last sample duration written.
    history: Vec<(Option<i64>, Option<u32>)>,
}

impl FragmentWriter {
    pub fn new(description: &StreamDescription) -> Result<FragmentWriter, Mp4Error> {
        let layouts = track_layouts(description)?;
        let history = vec![(None, None); layouts.len()];
        Ok(FragmentWriter { layouts, history })
    }

    /// The timescale of the track of `kind`, as its `mdhd` states it and fragments count in.
    pub fn timebase(&self, kind: MediaKind) -> Option<Timebase> {
        self.layouts.iter().find(|layout| layout.kind() == kind).map(|layout| layout.timebase)
    }

    /// The initialization segment matching the fragments this writer produces.
    pub fn init_segment(&self) -> Result<Bytes, Mp4Error> {
        write_init_segment(&self.layouts)
    }

    /// One fragment holding `video` and `audio` frames (each in decode order).
    pub fn fragment(
        &mut self,
        sequence_number: u32,
        video: &[&Frame],
        audio: &[&Frame],
    ) -> Result<Bytes, Mp4Error> {
        self.fragment_until(sequence_number, video, audio, NextDecodeTimes::default())
    }

    /// Like [`FragmentWriter::fragment`], with the next fragment's first decode times so the last
    /// sample of each track gets its exact duration.
    pub fn fragment_until(
        &mut self,
        sequence_number: u32,
        video: &[&Frame],
        audio: &[&Frame],
        next: NextDecodeTimes,
    ) -> Result<Bytes, Mp4Error> {
        let mut chunks = Vec::new();
        self.fragment_chunks_until(sequence_number, video, audio, next, &mut chunks)?;
        let mut bytes = Vec::with_capacity(chunks.iter().map(Bytes::len).sum());
        chunks.iter().for_each(|chunk| bytes.extend_from_slice(chunk));
        Ok(Bytes::from(bytes))
    }

    /// Like [`FragmentWriter::fragment_until`], appended to `out` as the `moof` with the `mdat`
    /// header, then each frame's data shared, not copied (for a host that writes the pieces in
    /// order, as a file does).
    pub fn fragment_chunks_until(
        &mut self,
        sequence_number: u32,
        video: &[&Frame],
        audio: &[&Frame],
        next: NextDecodeTimes,
        out: &mut Vec<Bytes>,
    ) -> Result<(), Mp4Error> {
        let mut runs = Vec::new();
        for (frames, next_dts, kind) in
            [(video, next.video, MediaKind::Video), (audio, next.audio, MediaKind::Audio)]
        {
            if frames.is_empty() {
                continue;
            }
            let track_idx = self.layouts.iter().position(|layout| layout.kind() == kind);
            let stray =
                frames.iter().find(|f| track_idx.is_none_or(|idx| f.codec != self.layouts[idx].codec()));
            let track_idx = match (track_idx, stray) {
                (Some(track_idx), None) => track_idx,
                (_, stray) => {
                    let codec = stray.unwrap_or(&frames[0]).codec;
                    return Err(Mp4Error::NoSuchTrack { codec, kind });
                }
            };
            runs.push(self.plan_run(track_idx, frames, next_dts)?);
        }
        if runs.is_empty() {
            return Err(Mp4Error::Invalid { offset: 0, what: "fragment", reason: "no frames given".into() });
        }
        out.push(Bytes::from(write_moof_mdat_header(sequence_number, &runs)?));
        out.extend(runs.iter().flat_map(|run| run.frames.iter()).map(|frame| frame.data.clone()));
        for run in &runs {
            self.history[run.track_idx] = (run.decode_ticks.last().copied(), run.durations.last().copied());
        }
        Ok(())
    }

    fn plan_run<'f>(
        &self,
        track_idx: usize,
        frames: &[&'f Frame],
        next_dts: Option<MediaTime>,
    ) -> Result<TrackRun<'f>, Mp4Error> {
        let layout = &self.layouts[track_idx];
        let (previous_dts, previous_duration) = self.history[track_idx];
        let times: Vec<(i64, i64)> = frames.iter().map(|frame| layout.ticks(frame)).collect();
        let decode_ticks: Vec<i64> = times.iter().map(|(dts, _)| *dts).collect();
        check_monotonic(layout.codec(), previous_dts, &decode_ticks)?;
        let last_dts = decode_ticks.last().copied().unwrap_or(0);
        let hint = next_dts
            .map(|next| next.rescale(layout.timebase).ticks().saturating_sub(last_dts))
            .and_then(|gap| u32::try_from(gap).ok())
            .or(previous_duration);
        let durations = sample_durations(&decode_ticks, hint);
        let base_decode_time = u64::try_from(decode_ticks[0])
            .map_err(|_| Mp4Error::TimestampOutOfRange { codec: layout.codec(), ticks: decode_ticks[0] })?;
        let composition_offsets = times
            .iter()
            .map(|(dts, pts)| {
                let offset = pts.saturating_sub(*dts);
                i32::try_from(offset)
                    .map_err(|_| Mp4Error::TimestampOutOfRange { codec: layout.codec(), ticks: offset })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrackRun {
            track_idx,
            track_id: layout.track_id,
            frames: frames.to_vec(),
            decode_ticks,
            durations,
            composition_offsets,
            base_decode_time,
            all_sync: layout.kind() == MediaKind::Audio,
        })
    }
}

/// One track's share of a fragment, with every number the `traf` needs already computed.
struct TrackRun<'f> {
    track_idx: usize,
    track_id: u32,
    frames: Vec<&'f Frame>,
    decode_ticks: Vec<i64>,
    durations: Vec<u32>,
    composition_offsets: Vec<i32>,
    base_decode_time: u64,
    all_sync: bool,
}

/// The `moof` and the header of the `mdat` whose payload is the runs' frames, in order.
fn write_moof_mdat_header(sequence_number: u32, runs: &[TrackRun<'_>]) -> Result<Vec<u8>, Mp4Error> {
    let mut writer = BoxWriter::default();
    writer.begin(b"moof");
    writer.begin_full(b"mfhd", 0, 0);
    writer.u32(sequence_number);
    writer.end();
    let mut data_offset_positions = Vec::new();
    for run in runs {
        writer.begin(b"traf");
        writer.begin_full(b"tfhd", 0, TFHD_DEFAULT_BASE_IS_MOOF);
        writer.u32(run.track_id);
        writer.end();
        writer.begin_full(b"tfdt", 1, 0);
        writer.u64(run.base_decode_time);
        writer.end();
        writer.begin_full(b"trun", 1, TRUN_FLAGS);
        writer.u32(run.frames.len() as u32);
        data_offset_positions.push(writer.len());
        writer.u32(0); // patched once the moof size is known
        for (index, frame) in run.frames.iter().enumerate() {
            writer.u32(run.durations[index]);
            writer.u32(sample_size(frame)?);
            writer.u32(if run.all_sync || frame.keyframe {
                SAMPLE_FLAGS_SYNC
            } else {
                SAMPLE_FLAGS_NON_SYNC
            });
            writer.i32(run.composition_offsets[index]);
        }
        writer.end();
        writer.end();
    }
    writer.end();
    let moof_len = writer.len();
    let mdat_payload: usize =
        runs.iter().flat_map(|run| run.frames.iter()).map(|frame| frame.data.len()).sum();
    let mdat_len = u32::try_from(mdat_payload + 8).map_err(|_| Mp4Error::BoxTooLarge(FourCc(*b"mdat")))?;
    let mut offset = moof_len + 8;
    for (run, position) in runs.iter().zip(data_offset_positions) {
        let data_offset = u32::try_from(offset).map_err(|_| Mp4Error::BoxTooLarge(FourCc(*b"moof")))?;
        writer.patch_u32(position, data_offset);
        offset += run.frames.iter().map(|frame| frame.data.len()).sum::<usize>();
    }
    writer.u32(mdat_len);
    writer.bytes(b"mdat");
    writer.finish()
}

fn sample_size(frame: &Frame) -> Result<u32, Mp4Error> {
    u32::try_from(frame.data.len()).map_err(|_| Mp4Error::BoxTooLarge(FourCc(*b"mdat")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::mp4::boxes::BoxIter;
    use crate::media::{AudioTrack, Codec, Timebase};

    fn description() -> StreamDescription {
        StreamDescription {
            video: None,
            audio: Some(AudioTrack {
                codec: Codec::Mp3,
                config: Bytes::new(),
                sample_rate: 1000,
                channels: 1,
                profile: String::new(),
            }),
        }
    }

    fn frame(dts: i64, size: usize) -> Frame {
        let time = MediaTime::new(dts, Timebase::MILLIS);
        Frame { codec: Codec::Mp3, dts: time, pts: time, keyframe: true, data: Bytes::from(vec![7; size]) }
    }

    #[test]
    fn trun_carries_durations_sizes_and_a_data_offset_into_mdat() {
        let mut writer = FragmentWriter::new(&description()).unwrap();
        let frames = [frame(100, 3), frame(126, 5)];
        let refs: Vec<&Frame> = frames.iter().collect();
        let bytes = writer.fragment(7, &[], &refs).unwrap();
        let top: Vec<_> = BoxIter::new(&bytes, 0).collect::<Result<_, _>>().unwrap();
        assert!(top[0].is(b"moof") && top[1].is(b"mdat"));
        assert_eq!(top[1].payload, &[7, 7, 7, 7, 7, 7, 7, 7]);
        let traf = top[0].require(b"traf").unwrap();
        assert_eq!(&traf.require(b"tfdt").unwrap().payload[4..12], &100u64.to_be_bytes());
        let trun = traf.require(b"trun").unwrap().payload;
        assert_eq!(&trun[4..8], &2u32.to_be_bytes());
        let data_offset = u32::from_be_bytes(trun[8..12].try_into().unwrap()) as usize;
        assert_eq!(data_offset as u64, top[1].payload_offset);
        // Sample 1 lasts 26 ms; the last one repeats it.
        assert_eq!(&trun[12..16], &26u32.to_be_bytes());
        assert_eq!(&trun[28..32], &26u32.to_be_bytes());
        assert_eq!(&trun[32..36], &5u32.to_be_bytes());
    }

    #[test]
    fn next_decode_time_sets_last_duration_and_order_is_checked() {
        let mut writer = FragmentWriter::new(&description()).unwrap();
        let frames = [frame(0, 1), frame(20, 1)];
        let refs: Vec<&Frame> = frames.iter().collect();
        let next = NextDecodeTimes { video: None, audio: Some(MediaTime::from_millis(50)) };
        let bytes = writer.fragment_until(1, &[], &refs, next).unwrap();
        let moof = BoxIter::new(&bytes, 0).next().unwrap().unwrap();
        let trun = moof.require(b"traf").unwrap().require(b"trun").unwrap().payload;
        assert_eq!(&trun[28..32], &30u32.to_be_bytes());
        let earlier = frame(10, 1);
        assert!(matches!(writer.fragment(2, &[], &[&earlier]), Err(Mp4Error::DecodeTimeBackwards { .. })));
        assert!(matches!(writer.fragment(2, &[], &[]), Err(Mp4Error::Invalid { .. })));
    }
}
