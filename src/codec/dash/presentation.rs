//! The live presentation of one stream: per representation, the init segment's facts and the
//! window of media segments still offered, the file names of each, and the MPD describing them.
//!
//! The caller writes files; this keeps the bookkeeping. `add_segment` returns the segments that
//! left the window (to delete when cleanup is on); `mpd` gives the dynamic MPD while live and the
//! static one once the stream ended. Files sit in a folder beside the MPD (`prefix`), named
//! `<representation>-init.mp4` and `<representation>-<number or time>.m4s`.
//!
//! The live timing follows from when files are complete: media time zero is anchored to the wall
//! clock so that the first segment becomes available (availabilityStartTime + its end) exactly when
//! it was written, and players are asked to stay two segments behind the live edge: one because a
//! segment is only published whole, and one for the MPD refresh and the download.

use std::collections::VecDeque;

use super::codecs::{audio_codecs, video_codecs};
use super::error::DashError;
use super::mpd::{
    AdaptationSet, Addressing, Mpd, Presentation, RepresentationMedia, SegmentTemplate, TimelineEntry,
    UtcTiming,
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
    /// The MPD's file name: players read the server's clock from a HEAD request to it.
    pub mpd_name: String,
}

/// Where media time meets the wall clock. A republish resumes it, so the MPD keeps its
/// availabilityStartTime and the new media continues the timeline where the wall clock has got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineAnchor {
    /// Media time zero of the presentation.
    pub origin: MediaTime,
    /// Wall-clock instant (Unix ms) of `origin`: the MPD's availabilityStartTime.
    pub availability_start_ms: i64,
    /// The number of the segment starting at `origin` (`$Number$`'s startNumber).
    pub first_number: u64,
}

impl TimelineAnchor {
    /// The media time on this timeline of wall-clock instant `now_ms`.
    pub fn media_time_at(&self, now_ms: i64) -> MediaTime {
        self.origin + MediaTime::from_millis(now_ms - self.availability_start_ms)
    }

    /// The `$Number$` of a segment starting at `time`: one number per `fragment_ms` since the origin.
    pub fn number_at(&self, time: MediaTime, fragment_ms: u64) -> u64 {
        let elapsed_ms = u64::try_from((time - self.origin).as_millis()).unwrap_or(0);
        self.first_number + elapsed_ms / fragment_ms.max(1)
    }
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
}

#[derive(Debug, Clone)]
pub struct DashPresentation {
    config: PresentationConfig,
    video: Option<Representation>,
    audio: Option<Representation>,
    /// Media time of the presentation's start; first call wins.
    origin: Option<MediaTime>,
    /// Set by the first segment (or resumed), then never changed.
    anchor: Option<TimelineAnchor>,
}

impl DashPresentation {
    pub fn new(config: PresentationConfig) -> DashPresentation {
        DashPresentation { config, video: None, audio: None, origin: None, anchor: None }
    }

    /// Media time zero of the presentation (the first frame's decode time); first call wins.
    pub fn set_origin(&mut self, origin: MediaTime) {
        self.origin.get_or_insert(origin);
    }

    /// Continues the timeline of an earlier publish of the stream: its media must be placed on it
    /// (`TimelineAnchor::media_time_at`).
    pub fn resume(&mut self, anchor: TimelineAnchor) {
        self.origin = Some(anchor.origin);
        self.anchor = Some(anchor);
    }

    /// The timeline's anchor, once a segment was added (or one was resumed).
    pub fn anchor(&self) -> Option<TimelineAnchor> {
        self.anchor
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
        });
        Ok(dropped)
    }

    /// Records a segment whose file is complete on disk at `now_ms` (Unix ms); returns the segments
    /// that left the window.
    ///
    /// The first one anchors the timeline: it is announced available (availabilityStartTime + its
    /// end) exactly when it was written. Anchoring on the first frame's arrival instead would
    /// announce segments before their files exist whenever a publisher sends its first frames in a
    /// burst and real time after.
    pub fn add_segment(&mut self, segment: &MediaSegment, now_ms: i64) -> Vec<SegmentRecord> {
        let origin = *self.origin.get_or_insert(MediaTime::new(segment.start as i64, segment.timebase));
        if self.anchor.is_none() {
            let end = MediaTime::new((segment.start + segment.duration) as i64, segment.timebase);
            self.anchor = Some(TimelineAnchor {
                origin,
                availability_start_ms: now_ms - (end - origin).as_millis(),
                first_number: segment.number,
            });
        }
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

    /// The MPD for now (Unix ms): dynamic while live, static once `ended`. `None` before any segment
    /// and, while live, until the window spans the suggested presentation delay (or is full): a player
    /// joining earlier cannot stay that far behind live (dash.js then plays at the very start of the
    /// window, with too little ahead of it to ride out the next segment's wait).
    pub fn mpd(&self, now_ms: i64, ended: bool) -> Option<Mpd> {
        let anchor = self.anchor?;
        let (origin, availability_start_ms) = (anchor.origin, anchor.availability_start_ms);
        let representations: Vec<&Representation> =
            [&self.video, &self.audio].into_iter().flatten().filter(|r| !r.segments.is_empty()).collect();
        let primary = representations.first()?;
        let first = primary.segments.front()?;
        let last = primary.segments.back()?;
        let period_start = if ended { MediaTime::new(first.start as i64, primary.timebase) } else { origin };
        let segment_ms = self.segment_duration_ms(primary);
        let suggested_delay_ms = 2 * segment_ms;
        let span =
            MediaTime::new((last.start + last.duration).saturating_sub(first.start) as i64, primary.timebase);
        let window_full = primary.segments.len() >= self.config.window_size;
        if !ended && span.as_millis() < suggested_delay_ms as i64 && !window_full {
            return None;
        }
        let presentation = if ended {
            // The presentation lasts until its last track ends: audio often runs past the last
            // video frame, and players stop at this duration (ffmpeg drops what lies beyond it).
            let end = representations
                .iter()
                .filter_map(|r| {
                    r.segments.back().map(|s| MediaTime::new((s.start + s.duration) as i64, r.timebase))
                })
                .max()
                .unwrap_or(MediaTime::new((last.start + last.duration) as i64, primary.timebase));
            let duration_ms = u64::try_from((end - period_start).as_millis()).unwrap_or(0);
            Presentation::Static { media_presentation_duration_ms: duration_ms }
        } else {
            Presentation::Dynamic {
                availability_start_ms,
                publish_ms: now_ms,
                minimum_update_period_ms: self.minimum_update_period_ms(),
                time_shift_buffer_depth_ms: self.time_shift_buffer_depth_ms(),
                // The newest segment is up to one segment old when it appears, and a player learns of
                // it at most half a segment later (the update period) and then downloads it: two
                // segments behind live keep half a segment or more in the buffer.
                suggested_presentation_delay_ms: suggested_delay_ms,
                // The MPD's own HEAD answer carries the server's time when it is requested (to the
                // second); the time written here is as old as the file when fetched (up to a segment),
                // so it only backs up servers whose `Date` a page cannot read (cross-origin).
                utc_timing: vec![
                    UtcTiming::HttpHead { url: self.config.mpd_name.clone() },
                    UtcTiming::Direct { unix_ms: now_ms },
                ],
            }
        };
        let adaptation_sets =
            representations.iter().map(|r| self.adaptation_set(r, &anchor, period_start, ended)).collect();
        // A player holding one whole segment can play while the next one downloads.
        Some(Mpd { presentation, min_buffer_time_ms: segment_ms, adaptation_sets })
    }

    /// The longest segment the representation offers, in ms rounded up, and at least the fragment:
    /// segments run to the keyframe after `fragment`, so a GOP that does not divide it makes them longer.
    fn segment_duration_ms(&self, representation: &Representation) -> u64 {
        let hz = u64::from(representation.timebase.hz()).max(1);
        let longest = representation.segments.iter().map(|r| r.duration).max().unwrap_or(0);
        longest.saturating_mul(1000).div_ceil(hz).max(self.config.fragment_ms)
    }

    /// With a SegmentTimeline a player learns of a new segment only by reloading the MPD, which
    /// changes with every segment: a period longer than half a fragment would leave players a
    /// fragment or more behind what is on disk. `$Number$` players compute segment URLs from the
    /// clock, so the configured period stands.
    fn minimum_update_period_ms(&self) -> u64 {
        match self.config.addressing {
            SegmentAddressing::Time => self.config.update_period_ms.min(self.config.fragment_ms / 2),
            SegmentAddressing::Number => self.config.update_period_ms,
        }
    }

    /// Segments stay on disk while `window_size` newer ones are made, each at least a fragment
    /// long: a deeper time-shift buffer would send players seeking back to deleted files.
    fn time_shift_buffer_depth_ms(&self) -> u64 {
        let window = u64::try_from(self.config.window_size).unwrap_or(u64::MAX);
        self.config.timeshift_ms.min(window.saturating_mul(self.config.fragment_ms))
    }

    fn adaptation_set(
        &self,
        representation: &Representation,
        anchor: &TimelineAnchor,
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
                    anchor.first_number
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
            mpd_name: "live.mpd".into(),
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
        presentation.set_origin(MediaTime::from_millis(1000));
        // The first segment (media 1000..3000) is complete 2 s after media time 1000.
        assert!(presentation.add_segment(&segment(1, 1000), 1_700_000_002_000).is_empty());
        assert!(presentation.add_segment(&segment(2, 3000), 1_700_000_004_000).is_empty());
        let dropped = presentation.add_segment(&segment(3, 5000), 1_700_000_006_000);
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
    fn live_timing_comes_from_the_first_segment_the_fragment_and_the_window() {
        let mut presentation = DashPresentation::new(config(SegmentAddressing::Time));
        presentation.set_track(&audio_init()).unwrap();
        presentation.set_origin(MediaTime::from_millis(1000));
        // Media 1000..3000 is on disk at 1_700_000_002_500: media time 1000 is 1_700_000_000_500.
        presentation.add_segment(&segment(1, 1000), 1_700_000_002_500);
        let anchor = TimelineAnchor {
            origin: MediaTime::from_millis(1000),
            availability_start_ms: 1_700_000_000_500,
            first_number: 1,
        };
        assert_eq!(presentation.anchor(), Some(anchor));
        assert!(presentation.mpd(1_700_000_002_600, false).is_none(), "2 s offered, 4 s of delay asked");
        // Later segments do not move it, whenever they arrive.
        presentation.add_segment(&segment(2, 3000), 1_700_000_004_100);
        let mpd = presentation.mpd(1_700_000_004_200, false).unwrap();
        assert_eq!(
            mpd.presentation,
            Presentation::Dynamic {
                availability_start_ms: 1_700_000_000_500,
                publish_ms: 1_700_000_004_200,
                // Half of the 2 s fragment, under the configured 5 s.
                minimum_update_period_ms: 1000,
                // Two kept segments of at least 2 s, under the configured 30 s.
                time_shift_buffer_depth_ms: 4000,
                suggested_presentation_delay_ms: 4000,
                utc_timing: vec![
                    UtcTiming::HttpHead { url: "live.mpd".into() },
                    UtcTiming::Direct { unix_ms: 1_700_000_004_200 },
                ],
            }
        );
        assert_eq!(mpd.min_buffer_time_ms, 2000);
        let xml = mpd.to_xml();
        assert!(xml.contains(r#" availabilityStartTime="2023-11-14T22:13:20.5Z" publishTime="2023-11-14T22:13:24.2Z" minimumUpdatePeriod="PT1S" timeShiftBufferDepth="PT4S" suggestedPresentationDelay="PT4S" minBufferTime="PT2S">"#), "{xml}");

        // A segment longer than the fragment (a GOP that does not divide it) sets the delay.
        let long = MediaSegment { duration: 3001, ..segment(3, 5000) };
        presentation.add_segment(&long, 1_700_000_007_600);
        let mpd = presentation.mpd(1_700_000_007_700, false).unwrap();
        let Presentation::Dynamic { suggested_presentation_delay_ms, time_shift_buffer_depth_ms, .. } =
            mpd.presentation
        else {
            panic!("dynamic while live");
        };
        // 3001 ms rounded up to 3.001 s; the buffer depth stays what the window guarantees.
        assert_eq!((suggested_presentation_delay_ms, mpd.min_buffer_time_ms), (6002, 3001));
        assert_eq!(time_shift_buffer_depth_ms, 4000);
    }

    #[test]
    fn configured_periods_stand_when_they_are_short_enough() {
        let config = PresentationConfig {
            update_period_ms: 800,
            timeshift_ms: 3000,
            window_size: usize::MAX,
            ..config(SegmentAddressing::Time)
        };
        let mut presentation = DashPresentation::new(config.clone());
        presentation.set_track(&audio_init()).unwrap();
        presentation.add_segment(&segment(1, 0), 2000);
        presentation.add_segment(&segment(2, 2000), 4000);
        let Some(Mpd {
            presentation: Presentation::Dynamic { minimum_update_period_ms, time_shift_buffer_depth_ms, .. },
            ..
        }) = presentation.mpd(4000, false)
        else {
            panic!("a dynamic MPD");
        };
        assert_eq!((minimum_update_period_ms, time_shift_buffer_depth_ms), (800, 3000));
        // `$Number$` players compute the live edge from the clock: the configured period stands.
        let mut numbered = DashPresentation::new(PresentationConfig {
            addressing: SegmentAddressing::Number,
            update_period_ms: 5000,
            ..config
        });
        numbered.set_track(&audio_init()).unwrap();
        numbered.add_segment(&segment(1, 0), 2000);
        numbered.add_segment(&segment(2, 2000), 4000);
        let Some(Mpd { presentation: Presentation::Dynamic { minimum_update_period_ms, .. }, .. }) =
            numbered.mpd(4000, false)
        else {
            panic!("a dynamic MPD");
        };
        assert_eq!(minimum_update_period_ms, 5000);
    }

    #[test]
    fn a_resumed_timeline_keeps_its_start_and_numbers_segments_by_time() {
        let anchor = TimelineAnchor {
            origin: MediaTime::from_millis(1000),
            availability_start_ms: 1_700_000_000_000,
            first_number: 1,
        };
        // Published again 60 s after the first publish's media time zero.
        let start = anchor.media_time_at(1_700_000_060_000);
        assert_eq!(start, MediaTime::from_millis(61_000));
        assert_eq!(anchor.number_at(start, 2000), 31);
        let mut presentation = DashPresentation::new(config(SegmentAddressing::Number));
        presentation.resume(anchor);
        // The new publish's first frame does not move the origin.
        presentation.set_origin(start);
        presentation.set_track(&audio_init()).unwrap();
        presentation.add_segment(&segment(31, 61_000), 1_700_000_062_000);
        presentation.add_segment(&segment(32, 63_000), 1_700_000_064_000);
        assert_eq!(presentation.anchor(), Some(anchor));
        let mpd = presentation.mpd(1_700_000_064_000, false).unwrap();
        assert!(matches!(
            mpd.presentation,
            Presentation::Dynamic { availability_start_ms: 1_700_000_000_000, .. }
        ));
        let template = &mpd.adaptation_sets[0].template;
        // Number 31 starts 30 fragments after the origin: at media time 61 s, as written.
        assert_eq!(template.presentation_time_offset, 1000);
        assert_eq!(template.addressing, Addressing::Number { start_number: 1, duration: 2000 });
    }

    #[test]
    fn a_full_window_is_offered_even_when_shorter_than_the_delay() {
        let mut presentation =
            DashPresentation::new(PresentationConfig { window_size: 1, ..config(SegmentAddressing::Time) });
        presentation.set_track(&audio_init()).unwrap();
        presentation.add_segment(&segment(1, 0), 2000);
        assert!(presentation.mpd(2000, false).is_some());
    }

    #[test]
    fn number_addressing_counts_from_the_first_segment_while_live() {
        let mut presentation = DashPresentation::new(config(SegmentAddressing::Number));
        presentation.set_track(&audio_init()).unwrap();
        presentation.set_origin(MediaTime::ZERO);
        for (number, start) in [(4, 0), (5, 2000), (6, 4000)] {
            presentation.add_segment(&segment(number, start), start as i64 + 2000);
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
