//! The live presentation of one stream: per representation, the init segment's facts and the
//! window of media segments still offered, the file names of each, and the MPD describing them.
//!
//! The caller writes files; this keeps the bookkeeping. `add_segment` returns the segments that
//! left the window (to delete when cleanup is on); `mpd` gives the dynamic MPD while live and the
//! static one once the stream ended. Files sit in a folder beside the MPD (`prefix`), named
//! `<representation>-init.mp4` and `<representation>-<number or time>.m4s`.

use std::collections::VecDeque;

use super::codecs::{audio_codecs, video_codecs};
use super::error::DashError;
use super::mpd::{
    AdaptationSet, Addressing, Mpd, Presentation, RepresentationMedia, SegmentTemplate, TimelineEntry,
};
use super::segmenter::{InitSegment, MediaSegment, TrackDescription};
use crate::media::{MediaKind, MediaTime, Timebase};

/// How media segment URLs are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentAddressing {
    /// `$Number$` with a nominal duration: simple, exact only when segments last `fragment`.
    Number,
    /// `$Time$` with a `SegmentTimeline`: every segment's real start and duration.
    Time,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentationConfig {
    pub addressing: SegmentAddressing,
    pub fragment_ms: u64,
    pub update_period_ms: u64,
    pub timeshift_ms: u64,
    /// Segments kept per representation.
    pub window_size: usize,
    /// Folder of the segment files relative to the MPD, ending in `/` (or empty).
    pub prefix: String,
}

/// One media segment still offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentRecord {
    pub number: u64,
    pub start: u64,
    pub duration: u64,
}

#[derive(Debug, Clone)]
struct Representation {
    kind: MediaKind,
    codecs: String,
    media: RepresentationMedia,
    timebase: Timebase,
    bandwidth: Option<u64>,
    segments: VecDeque<SegmentRecord>,
    first_number: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct DashPresentation {
    config: PresentationConfig,
    video: Option<Representation>,
    audio: Option<Representation>,
    /// Media time and wall-clock instant (Unix ms) of the presentation's start.
    origin: Option<(MediaTime, i64)>,
}

impl DashPresentation {
    pub fn new(config: PresentationConfig) -> DashPresentation {
        DashPresentation { config, video: None, audio: None, origin: None }
    }

    /// Anchors media time `origin` to the wall clock (`availabilityStartTime`); first call wins.
    pub fn set_origin(&mut self, origin: MediaTime, wall_ms: i64) {
        self.origin.get_or_insert((origin, wall_ms));
    }

    /// A representation (re)starts with this init segment. Segments of an earlier configuration
    /// leave the window; their records are returned for deletion.
    pub fn set_track(&mut self, init: &InitSegment) -> Result<Vec<SegmentRecord>, DashError> {
        let (codecs, media) = match &init.track {
            TrackDescription::Video(video) => (
                video_codecs(video)?,
                RepresentationMedia::Video { width: video.width, height: video.height, frame_rate: None },
            ),
            TrackDescription::Audio(audio) => (
                audio_codecs(audio)?,
                RepresentationMedia::Audio { sample_rate: audio.sample_rate, channels: audio.channels },
            ),
        };
        let kind = init.track.kind();
        let slot = self.slot(kind);
        let dropped = slot.take().map(|old| old.segments.into_iter().collect()).unwrap_or_default();
        *slot = Some(Representation {
            kind,
            codecs,
            media,
            timebase: init.timebase,
            bandwidth: None,
            segments: VecDeque::new(),
            first_number: None,
        });
        Ok(dropped)
    }

    /// Records a written segment; returns the segments that left the window.
    pub fn add_segment(&mut self, segment: &MediaSegment) -> Vec<SegmentRecord> {
        let window_size = self.config.window_size.max(1);
        let Some(representation) = self.slot(segment.kind).as_mut() else { return Vec::new() };
        if representation.bandwidth.is_none() && segment.duration > 0 {
            let bits = segment.bytes.len() as u64 * 8 * u64::from(segment.timebase.hz());
            representation.bandwidth = Some(bits / segment.duration);
            if let RepresentationMedia::Video { frame_rate, .. } = &mut representation.media {
                *frame_rate = frame_rate_text(
                    segment.n_frames as u64 * u64::from(segment.timebase.hz()),
                    segment.duration,
                );
            }
        }
        representation.first_number.get_or_insert(segment.number);
        representation.segments.push_back(SegmentRecord {
            number: segment.number,
            start: segment.start,
            duration: segment.duration,
        });
        let excess = representation.segments.len().saturating_sub(window_size);
        representation.segments.drain(..excess).collect()
    }

    /// The file of a representation's init segment, relative to the MPD.
    pub fn init_file(&self, kind: MediaKind) -> String {
        format!("{}{}-init.mp4", self.config.prefix, representation_id(kind))
    }

    /// The file of a media segment, relative to the MPD.
    pub fn segment_file(&self, kind: MediaKind, record: &SegmentRecord) -> String {
        let name = match self.config.addressing {
            SegmentAddressing::Number => record.number,
            SegmentAddressing::Time => record.start,
        };
        format!("{}{}-{name}.m4s", self.config.prefix, representation_id(kind))
    }

    /// Every file the presentation still references (for disposal).
    pub fn files(&self) -> Vec<String> {
        let mut files = Vec::new();
        for representation in [&self.video, &self.audio].into_iter().flatten() {
            files.push(self.init_file(representation.kind));
            files.extend(representation.segments.iter().map(|r| self.segment_file(representation.kind, r)));
        }
        files
    }

    /// The MPD for now (Unix ms): dynamic while live, static once `ended`. `None` before any segment.
    pub fn mpd(&self, now_ms: i64, ended: bool) -> Option<Mpd> {
        let (origin, availability_start_ms) = self.origin?;
        let representations: Vec<&Representation> =
            [&self.video, &self.audio].into_iter().flatten().filter(|r| !r.segments.is_empty()).collect();
        let primary = representations.first()?;
        let first = primary.segments.front()?;
        let last = primary.segments.back()?;
        let period_start = if ended { MediaTime::new(first.start as i64, primary.timebase) } else { origin };
        let presentation = if ended {
            let end = MediaTime::new((last.start + last.duration) as i64, primary.timebase);
            let duration_ms = u64::try_from((end - period_start).as_millis()).unwrap_or(0);
            Presentation::Static { media_presentation_duration_ms: duration_ms }
        } else {
            Presentation::Dynamic {
                availability_start_ms,
                publish_ms: now_ms,
                minimum_update_period_ms: self.config.update_period_ms,
                time_shift_buffer_depth_ms: self.config.timeshift_ms,
            }
        };
        let adaptation_sets =
            representations.iter().map(|r| self.adaptation_set(r, period_start, ended)).collect();
        Some(Mpd { presentation, min_buffer_time_ms: self.config.fragment_ms, adaptation_sets })
    }

    fn adaptation_set(
        &self,
        representation: &Representation,
        period_start: MediaTime,
        ended: bool,
    ) -> AdaptationSet {
        let timescale = representation.timebase.hz();
        let kind = representation.kind;
        let id = representation_id(kind);
        let addressing = match self.config.addressing {
            SegmentAddressing::Number => Addressing::Number {
                // While live, number k starts (k - first) fragments after the origin; a finished
                // recording starts at its first segment still kept.
                start_number: if ended {
                    representation.segments.front().map_or(1, |r| r.number)
                } else {
                    representation.first_number.unwrap_or(1)
                },
                duration: self.config.fragment_ms * u64::from(timescale) / 1000,
            },
            SegmentAddressing::Time => Addressing::Time {
                timeline: representation
                    .segments
                    .iter()
                    .map(|r| TimelineEntry { start: r.start, duration: r.duration })
                    .collect(),
            },
        };
        let template_name = match self.config.addressing {
            SegmentAddressing::Number => "$Number$",
            SegmentAddressing::Time => "$Time$",
        };
        AdaptationSet {
            media: representation.media.clone(),
            representation_id: id.to_owned(),
            codecs: representation.codecs.clone(),
            bandwidth: representation.bandwidth.unwrap_or(0),
            template: SegmentTemplate {
                timescale,
                presentation_time_offset: u64::try_from(
                    period_start.rescale(representation.timebase).ticks(),
                )
                .unwrap_or(0),
                initialization: self.init_file(kind),
                media: format!("{}{id}-{template_name}.m4s", self.config.prefix.replace('$', "$$")),
                addressing,
            },
        }
    }

    fn slot(&mut self, kind: MediaKind) -> &mut Option<Representation> {
        match kind {
            MediaKind::Video => &mut self.video,
            MediaKind::Audio => &mut self.audio,
        }
    }
}

/// The representation id, also the stem of its files.
pub fn representation_id(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
    }
}

/// `frames / seconds` as an MPD frameRate: `25` or `30000/1001`; `None` when it is no simple ratio.
fn frame_rate_text(numerator: u64, denominator: u64) -> Option<String> {
    if numerator == 0 || denominator == 0 {
        return None;
    }
    let divisor = gcd(numerator, denominator);
    let (numerator, denominator) = (numerator / divisor, denominator / divisor);
    match denominator {
        1 => Some(numerator.to_string()),
        2..=1001 => Some(format!("{numerator}/{denominator}")),
        _ => None,
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::media::{AudioTrack, Codec};

    fn config(addressing: SegmentAddressing) -> PresentationConfig {
        PresentationConfig {
            addressing,
            fragment_ms: 2000,
            update_period_ms: 5000,
            timeshift_ms: 30_000,
            window_size: 2,
            prefix: "live/".into(),
        }
    }

    fn audio_init() -> InitSegment {
        InitSegment {
            track: TrackDescription::Audio(AudioTrack {
                codec: Codec::Mp3,
                config: Bytes::new(),
                sample_rate: 1000,
                channels: 1,
                profile: String::new(),
            }),
            timebase: Timebase::MILLIS,
            bytes: Bytes::new(),
        }
    }

    fn segment(number: u64, start: u64) -> MediaSegment {
        MediaSegment {
            kind: MediaKind::Audio,
            number,
            start,
            duration: 2000,
            timebase: Timebase::MILLIS,
            n_frames: 10,
            bytes: Bytes::from(vec![0; 1000]),
        }
    }

    #[test]
    fn window_keeps_the_newest_segments_and_names_their_files() {
        let mut presentation = DashPresentation::new(config(SegmentAddressing::Time));
        assert!(presentation.mpd(0, false).is_none(), "no MPD before a segment");
        presentation.set_track(&audio_init()).unwrap();
        presentation.set_origin(MediaTime::from_millis(1000), 1_700_000_000_000);
        assert!(presentation.add_segment(&segment(1, 1000)).is_empty());
        assert!(presentation.add_segment(&segment(2, 3000)).is_empty());
        let dropped = presentation.add_segment(&segment(3, 5000));
        assert_eq!(dropped, [SegmentRecord { number: 1, start: 1000, duration: 2000 }]);
        assert_eq!(presentation.segment_file(MediaKind::Audio, &dropped[0]), "live/audio-1000.m4s");
        assert_eq!(
            presentation.files(),
            ["live/audio-init.mp4", "live/audio-3000.m4s", "live/audio-5000.m4s"]
        );
        let xml = presentation.mpd(1_700_000_007_000, false).unwrap().to_xml();
        assert!(xml.contains(r#"availabilityStartTime="2023-11-14T22:13:20Z""#), "{xml}");
        assert!(xml.contains(r#"bandwidth="4000""#), "8000 bits in 2 s: {xml}");
        assert!(xml.contains(r#"<SegmentTemplate timescale="1000" presentationTimeOffset="1000" initialization="live/audio-init.mp4" media="live/audio-$Time$.m4s">"#), "{xml}");
        assert!(xml.contains(r#"<S t="3000" d="2000" r="1"/>"#), "{xml}");
        let ended = presentation.mpd(1_700_000_009_000, true).unwrap();
        assert_eq!(ended.presentation, Presentation::Static { media_presentation_duration_ms: 4000 });
        assert_eq!(ended.adaptation_sets[0].template.presentation_time_offset, 3000);
    }

    #[test]
    fn number_addressing_counts_from_the_first_segment_while_live() {
        let mut presentation = DashPresentation::new(config(SegmentAddressing::Number));
        presentation.set_track(&audio_init()).unwrap();
        presentation.set_origin(MediaTime::ZERO, 0);
        for (number, start) in [(4, 0), (5, 2000), (6, 4000)] {
            presentation.add_segment(&segment(number, start));
        }
        let live = presentation.mpd(6000, false).unwrap();
        let template = &live.adaptation_sets[0].template;
        assert_eq!(template.addressing, Addressing::Number { start_number: 4, duration: 2000 });
        assert_eq!(template.media, "live/audio-$Number$.m4s");
        let ended = presentation.mpd(6000, true).unwrap();
        assert_eq!(
            ended.adaptation_sets[0].template.addressing,
            Addressing::Number { start_number: 5, duration: 2000 }
        );
    }

    #[test]
    fn frame_rates_are_integers_or_small_fractions() {
        assert_eq!(frame_rate_text(50 * 90_000, 180_000).as_deref(), Some("25"));
        assert_eq!(frame_rate_text(60 * 90_000, 180_180).as_deref(), Some("30000/1001"));
        assert_eq!(frame_rate_text(7, 1_000_003), None);
    }
}
