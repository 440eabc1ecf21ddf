//! The parts of a movie header shared by the fragmented and the classic writer: which tracks a stream
//! becomes (ids, timescales), and the `ftyp`, `mvhd` and `trak` boxes around each sample table.
//!
//! What goes inside `stbl` besides `stsd` (empty tables for fragments, full tables for classic files)
//! is the caller's business, passed in as a closure.

use crate::media::{AudioTrack, Codec, Frame, MediaKind, StreamDescription, Timebase, VideoTrack};

use super::boxes::BoxWriter;
use super::error::Mp4Error;
use super::sample_entry::write_sample_entry;

/// Ticks per second of video tracks: the MPEG clock, an exact multiple of milliseconds and of
/// common frame rates.
pub(crate) const VIDEO_TIMESCALE: u32 = 90_000;
/// Ticks per second of the movie header's durations.
pub(crate) const MOVIE_TIMESCALE: u32 = 1000;
/// Opus in MP4 always counts time at 48 kHz, whatever rate the encoder was fed.
const OPUS_TIMESCALE: u32 = 48_000;

/// A stream track as it will be written: id, timescale and its description.
#[derive(Debug, Clone)]
pub(crate) enum TrackMedia {
    Video(VideoTrack),
    Audio(AudioTrack),
}

#[derive(Debug, Clone)]
pub(crate) struct TrackLayout {
    pub(crate) track_id: u32,
    pub(crate) media: TrackMedia,
    pub(crate) timebase: Timebase,
}

impl TrackLayout {
    pub(crate) fn codec(&self) -> Codec {
        match &self.media {
            TrackMedia::Video(video) => video.codec,
            TrackMedia::Audio(audio) => audio.codec,
        }
    }

    pub(crate) fn kind(&self) -> MediaKind {
        self.codec().kind()
    }

    /// A frame's decode and presentation times in this track's timescale.
    pub(crate) fn ticks(&self, frame: &Frame) -> (i64, i64) {
        (frame.dts.rescale(self.timebase).ticks(), frame.pts.rescale(self.timebase).ticks())
    }
}

/// The tracks of a stream in writing order: video first (track 1), then audio.
pub(crate) fn track_layouts(description: &StreamDescription) -> Result<Vec<TrackLayout>, Mp4Error> {
    let mut layouts = Vec::new();
    if let Some(video) = &description.video {
        if !matches!(video.codec, Codec::H264 | Codec::H265 | Codec::Av1) || video.config.is_empty() {
            return Err(Mp4Error::UnwritableTrack {
                codec: video.codec,
                reason: "video needs an H.264, H.265 or AV1 decoder configuration record".into(),
            });
        }
        let timebase = Timebase::new(VIDEO_TIMESCALE).unwrap_or(Timebase::MPEG);
        layouts.push(TrackLayout { track_id: 1, media: TrackMedia::Video(video.clone()), timebase });
    }
    if let Some(audio) = &description.audio {
        let timescale = match audio.codec {
            Codec::Opus => OPUS_TIMESCALE,
            Codec::Aac | Codec::Mp3 => audio.sample_rate,
            other => {
                return Err(Mp4Error::UnwritableTrack { codec: other, reason: "not an audio codec".into() })
            }
        };
        let timebase = Timebase::new(timescale).ok_or_else(|| Mp4Error::UnwritableTrack {
            codec: audio.codec,
            reason: "sample rate is unknown".into(),
        })?;
        if audio.codec == Codec::Aac && audio.config.is_empty() {
            return Err(Mp4Error::UnwritableTrack {
                codec: audio.codec,
                reason: "AAC needs its AudioSpecificConfig".into(),
            });
        }
        let track_id = layouts.len() as u32 + 1;
        layouts.push(TrackLayout { track_id, media: TrackMedia::Audio(audio.clone()), timebase });
    }
    if layouts.is_empty() {
        return Err(Mp4Error::NoTracks);
    }
    Ok(layouts)
}

pub(crate) fn write_ftyp(writer: &mut BoxWriter, major: &[u8; 4], minor: u32, compatible: &[&[u8; 4]]) {
    writer.begin(b"ftyp");
    writer.bytes(major);
    writer.u32(minor);
    for brand in compatible {
        writer.bytes(*brand);
    }
    writer.end();
}

/// The identity matrix of `mvhd` and `tkhd`, in 16.16 and 2.30 fixed point.
fn write_unity_matrix(writer: &mut BoxWriter) {
    for value in [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        writer.u32(value);
    }
}

/// Writes a duration as u32 in a version 0 box, or u64 in version 1, picking the version itself.
fn version_for(duration: u64) -> u8 {
    u8::from(duration > u64::from(u32::MAX))
}

fn write_times_and_duration(writer: &mut BoxWriter, version: u8, middle: u32, duration: u64) {
    if version == 1 {
        writer.u64(0);
        writer.u64(0);
        writer.u32(middle);
        writer.u64(duration);
    } else {
        writer.u32(0);
        writer.u32(0);
        writer.u32(middle);
        // Version 0 is only chosen when the duration fits 32 bits.
        writer.u32(duration as u32);
    }
}

pub(crate) fn write_mvhd(writer: &mut BoxWriter, duration_millis: u64, next_track_id: u32) {
    let version = version_for(duration_millis);
    writer.begin_full(b"mvhd", version, 0);
    write_times_and_duration(writer, version, MOVIE_TIMESCALE, duration_millis);
    writer.u32(0x0001_0000); // rate 1.0
    writer.u16(0x0100); // volume 1.0
    writer.zeros(10);
    write_unity_matrix(writer);
    writer.zeros(24);
    writer.u32(next_track_id);
    writer.end();
}

/// Durations of one track: in the movie timescale for `tkhd`, in the track timescale for `mdhd`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TrackDurations {
    pub(crate) movie: u64,
    pub(crate) media: u64,
    /// Time before the track's first sample, in the movie timescale: an empty edit in `edts`.
    pub(crate) start_delay: u64,
}

/// Writes `trak` down to `stbl/stsd`, then lets `write_tables` add the other sample tables.
pub(crate) fn write_trak(
    writer: &mut BoxWriter,
    layout: &TrackLayout,
    durations: TrackDurations,
    write_tables: impl FnOnce(&mut BoxWriter),
) -> Result<(), Mp4Error> {
    writer.begin(b"trak");
    write_tkhd(writer, layout, durations.movie.saturating_add(durations.start_delay));
    if durations.start_delay > 0 {
        write_start_delay_edit(writer, durations);
    }
    writer.begin(b"mdia");
    let version = version_for(durations.media);
    writer.begin_full(b"mdhd", version, 0);
    write_times_and_duration(writer, version, layout.timebase.hz(), durations.media);
    writer.u16(0x55c4); // language "und", packed ISO 639-2/T
    writer.u16(0);
    writer.end();
    let (handler, name, header): (&[u8; 4], &[u8], &[u8; 4]) = match layout.kind() {
        MediaKind::Video => (b"vide", b"VideoHandler\0", b"vmhd"),
        MediaKind::Audio => (b"soun", b"SoundHandler\0", b"smhd"),
    };
    writer.begin_full(b"hdlr", 0, 0);
    writer.u32(0);
    writer.bytes(handler);
    writer.zeros(12);
    writer.bytes(name);
    writer.end();
    writer.begin(b"minf");
    // vmhd carries flags 1 by definition; smhd has balance and reserved fields.
    writer.begin_full(header, 0, u32::from(header == b"vmhd"));
    writer.zeros(if header == b"vmhd" { 8 } else { 4 });
    writer.end();
    writer.begin(b"dinf");
    writer.begin_full(b"dref", 0, 0);
    writer.u32(1);
    writer.begin_full(b"url ", 0, 1); // flag 1: media data is in this file
    writer.end();
    writer.end();
    writer.end();
    writer.begin(b"stbl");
    writer.begin_full(b"stsd", 0, 0);
    writer.u32(1);
    write_sample_entry(writer, layout)?;
    writer.end();
    write_tables(writer);
    writer.end(); // stbl
    writer.end(); // minf
    writer.end(); // mdia
    writer.end(); // trak
    Ok(())
}

/// An edit list that plays nothing for `start_delay`, then the whole media from its start.
fn write_start_delay_edit(writer: &mut BoxWriter, durations: TrackDurations) {
    let version = version_for(durations.start_delay.max(durations.movie));
    writer.begin(b"edts");
    writer.begin_full(b"elst", version, 0);
    writer.u32(2);
    for (segment_duration, media_time) in [(durations.start_delay, -1i64), (durations.movie, 0)] {
        if version == 1 {
            writer.u64(segment_duration);
            writer.u64(media_time as u64);
        } else {
            // Version 0 is only chosen when both durations fit 32 bits.
            writer.u32(segment_duration as u32);
            writer.i32(media_time as i32);
        }
        writer.u32(0x0001_0000); // media rate 1.0
    }
    writer.end();
    writer.end();
}

fn write_tkhd(writer: &mut BoxWriter, layout: &TrackLayout, duration: u64) {
    let version = version_for(duration);
    writer.begin_full(b"tkhd", version, 0x3); // enabled, in movie
                                              // Unlike mvhd and mdhd, tkhd has a reserved u32 between track_ID and duration.
    if version == 1 {
        writer.zeros(16);
        writer.u32(layout.track_id);
        writer.u32(0);
        writer.u64(duration);
    } else {
        writer.zeros(8);
        writer.u32(layout.track_id);
        writer.u32(0);
        // Version 0 is only chosen when the duration fits 32 bits.
        writer.u32(duration as u32);
    }
    writer.zeros(8);
    writer.u16(0); // layer
    writer.u16(0); // alternate group
    writer.u16(if layout.kind() == MediaKind::Audio { 0x0100 } else { 0 });
    writer.u16(0);
    write_unity_matrix(writer);
    let (width, height) = match &layout.media {
        TrackMedia::Video(video) => (video.width, video.height),
        TrackMedia::Audio(_) => (0, 0),
    };
    writer.u32(width.min(0xffff) << 16);
    writer.u32(height.min(0xffff) << 16);
    writer.end();
}

/// Per-sample durations from decode times: each sample lasts until the next one starts; the last
/// lasts `last` (a caller's hint, or the previous duration, or zero for a lone sample).
pub(crate) fn sample_durations(decode_ticks: &[i64], last: Option<u32>) -> Vec<u32> {
    let mut durations: Vec<u32> = decode_ticks
        .windows(2)
        .map(|pair| u32::try_from(pair[1].saturating_sub(pair[0])).unwrap_or(u32::MAX))
        .collect();
    if !decode_ticks.is_empty() {
        let fallback = last.or_else(|| durations.last().copied()).unwrap_or(0);
        durations.push(fallback);
    }
    durations
}

/// Checks that decode times never go backwards, which MP4 sample tables cannot express.
pub(crate) fn check_monotonic(
    codec: Codec,
    previous: Option<i64>,
    decode_ticks: &[i64],
) -> Result<(), Mp4Error> {
    let mut last = previous;
    for &current in decode_ticks {
        if let Some(previous_ticks) = last {
            if current < previous_ticks {
                return Err(Mp4Error::DecodeTimeBackwards { codec, previous_ticks, current_ticks: current });
            }
        }
        last = Some(current);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fill_last_from_hint_or_previous() {
        assert_eq!(sample_durations(&[0, 10, 30], None), vec![10, 20, 20]);
        assert_eq!(sample_durations(&[0, 10, 30], Some(7)), vec![10, 20, 7]);
        assert_eq!(sample_durations(&[5], None), vec![0]);
        assert!(sample_durations(&[], Some(3)).is_empty());
    }

    #[test]
    fn backwards_decode_time_is_an_error() {
        assert!(check_monotonic(Codec::Aac, Some(5), &[5, 6]).is_ok());
        let error = check_monotonic(Codec::Aac, None, &[5, 4]).unwrap_err();
        assert!(matches!(error, Mp4Error::DecodeTimeBackwards { previous_ticks: 5, current_ticks: 4, .. }));
    }

    #[test]
    fn audio_track_without_rate_is_rejected() {
        let description = StreamDescription {
            video: None,
            audio: Some(AudioTrack {
                codec: Codec::Mp3,
                config: bytes::Bytes::new(),
                sample_rate: 0,
                channels: 2,
                profile: String::new(),
            }),
        };
        assert!(matches!(track_layouts(&description), Err(Mp4Error::UnwritableTrack { .. })));
        assert!(matches!(track_layouts(&StreamDescription::default()), Err(Mp4Error::NoTracks)));
    }
}
