//! The Media Presentation Description as a value, and its XML text (ISO/IEC 23009-1).
//!
//! One Period; one AdaptationSet per media kind with one Representation each; segments addressed by
//! a `SegmentTemplate`, either `$Number$` with a nominal `duration` or `$Time$` with a
//! `SegmentTimeline`. `Dynamic` MPDs describe a live stream, `Static` ones a finished recording.
//! The XML is written by hand, attribute values escaped; element order follows the schema.

use std::fmt::Write;

use super::iso8601::{format_date_time, format_duration};

/// DASH profile: live segments addressed by templates.
pub const PROFILE_ISOFF_LIVE: &str = "urn:mpeg:dash:profile:isoff-live:2011";
const NAMESPACE: &str = "urn:mpeg:dash:schema:mpd:2011";
const CHANNEL_CONFIGURATION_SCHEME: &str = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011";
/// UTC timing read from the `Date` header of a HEAD request.
const UTC_HTTP_HEAD_SCHEME: &str = "urn:mpeg:dash:utc:http-head:2014";
/// UTC timing carried in the MPD itself.
const UTC_DIRECT_SCHEME: &str = "urn:mpeg:dash:utc:direct:2014";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mpd {
    pub presentation: Presentation,
    pub min_buffer_time_ms: u64,
    pub adaptation_sets: Vec<AdaptationSet>,
}

/// `type="dynamic"` (live) or `type="static"` (on demand), with the attributes each needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presentation {
    Dynamic {
        /// Wall-clock instant (Unix ms) of media time `presentation_time_offset`.
        availability_start_ms: i64,
        /// When this version of the MPD was made (Unix ms).
        publish_ms: i64,
        minimum_update_period_ms: u64,
        time_shift_buffer_depth_ms: u64,
        /// How far behind the live edge players should play.
        suggested_presentation_delay_ms: u64,
        /// Where players read the server's clock, in order of preference.
        utc_timing: Vec<UtcTiming>,
    },
    Static {
        media_presentation_duration_ms: u64,
    },
}

/// A `UTCTiming` source. Players place the live edge with their own clock, so a client clock off
/// by a second plays a second further from (or too close to) live unless it syncs with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UtcTiming {
    /// The `Date` header of a HEAD request to this URL (relative to the MPD).
    HttpHead { url: String },
    /// This instant (Unix ms), written into the MPD.
    Direct { unix_ms: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdaptationSet {
    pub media: RepresentationMedia,
    /// Representation id: also the prefix of its segment files.
    pub representation_id: String,
    /// RFC 6381 codecs string.
    pub codecs: String,
    /// Bits per second.
    pub bandwidth: u64,
    pub template: SegmentTemplate,
}

/// What the representation carries, with the attributes players need before the init segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepresentationMedia {
    Video { width: u32, height: u32, frame_rate: Option<String> },
    Audio { sample_rate: u32, channels: u8 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentTemplate {
    pub timescale: u32,
    /// Media time (in `timescale`) at the start of the period; written only when non-zero.
    pub presentation_time_offset: u64,
    /// URL of the initialization segment, relative to the MPD.
    pub initialization: String,
    /// URL template of media segments, with `$Number$` or `$Time$`.
    pub media: String,
    pub addressing: Addressing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressing {
    /// Segment `start_number + k` starts at `k × duration` into the period.
    Number { start_number: u64, duration: u64 },
    /// Each segment's start and duration listed; runs of equal, contiguous ones become `r`.
    Time { timeline: Vec<TimelineEntry> },
}

/// One segment of a `SegmentTimeline`, in the template's timescale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineEntry {
    pub start: u64,
    pub duration: u64,
}

impl Mpd {
    /// The MPD as UTF-8 XML, two-space indented, one element per line.
    pub fn to_xml(&self) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let mut attributes =
            vec![("xmlns", NAMESPACE.to_owned()), ("profiles", PROFILE_ISOFF_LIVE.to_owned())];
        match &self.presentation {
            Presentation::Dynamic {
                availability_start_ms,
                publish_ms,
                minimum_update_period_ms,
                time_shift_buffer_depth_ms,
                suggested_presentation_delay_ms,
                utc_timing: _,
            } => {
                attributes.push(("type", "dynamic".into()));
                attributes.push(("availabilityStartTime", format_date_time(*availability_start_ms)));
                attributes.push(("publishTime", format_date_time(*publish_ms)));
                attributes.push(("minimumUpdatePeriod", format_duration(*minimum_update_period_ms)));
                attributes.push(("timeShiftBufferDepth", format_duration(*time_shift_buffer_depth_ms)));
                attributes
                    .push(("suggestedPresentationDelay", format_duration(*suggested_presentation_delay_ms)));
            }
            Presentation::Static { media_presentation_duration_ms } => {
                attributes.push(("type", "static".into()));
                attributes
                    .push(("mediaPresentationDuration", format_duration(*media_presentation_duration_ms)));
            }
        }
        attributes.push(("minBufferTime", format_duration(self.min_buffer_time_ms)));
        open(&mut xml, 0, "MPD", &attributes, false);
        open(&mut xml, 1, "Period", &[("id", "0".into()), ("start", "PT0S".into())], false);
        for (index, set) in self.adaptation_sets.iter().enumerate() {
            write_adaptation_set(&mut xml, index, set);
        }
        close(&mut xml, 1, "Period");
        if let Presentation::Dynamic { utc_timing, .. } = &self.presentation {
            for source in utc_timing {
                let (scheme, value) = match source {
                    UtcTiming::HttpHead { url } => (UTC_HTTP_HEAD_SCHEME, url.clone()),
                    UtcTiming::Direct { unix_ms } => (UTC_DIRECT_SCHEME, format_date_time(*unix_ms)),
                };
                let timing = [("schemeIdUri", scheme.to_owned()), ("value", value)];
                open(&mut xml, 1, "UTCTiming", &timing, true);
            }
        }
        close(&mut xml, 0, "MPD");
        xml
    }
}

fn write_adaptation_set(xml: &mut String, index: usize, set: &AdaptationSet) {
    let (content_type, mime_type) = match set.media {
        RepresentationMedia::Video { .. } => ("video", "video/mp4"),
        RepresentationMedia::Audio { .. } => ("audio", "audio/mp4"),
    };
    let set_attributes = [
        ("id", index.to_string()),
        ("contentType", content_type.into()),
        ("mimeType", mime_type.into()),
        ("segmentAlignment", "true".into()),
        ("startWithSAP", "1".into()),
    ];
    open(xml, 2, "AdaptationSet", &set_attributes, false);
    let mut attributes = vec![
        ("id", set.representation_id.clone()),
        ("codecs", set.codecs.clone()),
        ("bandwidth", set.bandwidth.to_string()),
    ];
    match &set.media {
        RepresentationMedia::Video { width, height, frame_rate } => {
            attributes.push(("width", width.to_string()));
            attributes.push(("height", height.to_string()));
            if let Some(rate) = frame_rate {
                attributes.push(("frameRate", rate.clone()));
            }
        }
        RepresentationMedia::Audio { sample_rate, .. } => {
            attributes.push(("audioSamplingRate", sample_rate.to_string()));
        }
    }
    open(xml, 3, "Representation", &attributes, false);
    if let RepresentationMedia::Audio { channels, .. } = set.media {
        let channel_attributes =
            [("schemeIdUri", CHANNEL_CONFIGURATION_SCHEME.to_owned()), ("value", channels.to_string())];
        open(xml, 4, "AudioChannelConfiguration", &channel_attributes, true);
    }
    write_segment_template(xml, &set.template);
    close(xml, 3, "Representation");
    close(xml, 2, "AdaptationSet");
}

fn write_segment_template(xml: &mut String, template: &SegmentTemplate) {
    let mut attributes = vec![("timescale", template.timescale.to_string())];
    if template.presentation_time_offset > 0 {
        attributes.push(("presentationTimeOffset", template.presentation_time_offset.to_string()));
    }
    if let Addressing::Number { start_number, duration } = template.addressing {
        attributes.push(("startNumber", start_number.to_string()));
        attributes.push(("duration", duration.to_string()));
    }
    attributes.push(("initialization", template.initialization.clone()));
    attributes.push(("media", template.media.clone()));
    match &template.addressing {
        Addressing::Number { .. } => open(xml, 4, "SegmentTemplate", &attributes, true),
        Addressing::Time { timeline } => {
            open(xml, 4, "SegmentTemplate", &attributes, false);
            open(xml, 5, "SegmentTimeline", &[], false);
            for (start, duration, repeat) in timeline_runs(timeline) {
                let mut s = vec![("t", start.to_string()), ("d", duration.to_string())];
                if repeat > 0 {
                    s.push(("r", repeat.to_string()));
                }
                open(xml, 6, "S", &s, true);
            }
            close(xml, 5, "SegmentTimeline");
            close(xml, 4, "SegmentTemplate");
        }
    }
}

/// Groups the timeline into `(t, d, r)`: `r` more segments of the same duration follow contiguously.
fn timeline_runs(timeline: &[TimelineEntry]) -> Vec<(u64, u64, u64)> {
    let mut runs: Vec<(u64, u64, u64)> = Vec::new();
    for entry in timeline {
        match runs.last_mut() {
            Some((start, duration, repeat))
                if *duration == entry.duration && *start + *duration * (*repeat + 1) == entry.start =>
            {
                *repeat += 1;
            }
            _ => runs.push((entry.start, entry.duration, 0)),
        }
    }
    runs
}

fn open(xml: &mut String, depth: usize, name: &str, attributes: &[(&str, String)], empty: bool) {
    indent(xml, depth);
    xml.push('<');
    xml.push_str(name);
    for (key, value) in attributes {
        // Writing to a String cannot fail.
        let _ = write!(xml, " {key}=\"{}\"", escape_attribute(value));
    }
    xml.push_str(if empty { "/>\n" } else { ">\n" });
}

fn close(xml: &mut String, depth: usize, name: &str) {
    indent(xml, depth);
    let _ = writeln!(xml, "</{name}>");
}

fn indent(xml: &mut String, depth: usize) {
    for _ in 0..depth {
        xml.push_str("  ");
    }
}

/// Escapes the five XML special characters for a double-quoted attribute value.
pub fn escape_attribute(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video_set(addressing: Addressing) -> AdaptationSet {
        AdaptationSet {
            media: RepresentationMedia::Video { width: 320, height: 240, frame_rate: Some("25".into()) },
            representation_id: "video".into(),
            codecs: "avc1.64000d".into(),
            bandwidth: 250_000,
            template: SegmentTemplate {
                timescale: 90_000,
                presentation_time_offset: 0,
                initialization: "s&t/video-init.mp4".into(),
                media: "s&t/video-$Time$.m4s".into(),
                addressing,
            },
        }
    }

    fn audio_set() -> AdaptationSet {
        AdaptationSet {
            media: RepresentationMedia::Audio { sample_rate: 44_100, channels: 2 },
            representation_id: "audio".into(),
            codecs: "mp4a.40.2".into(),
            bandwidth: 64_000,
            template: SegmentTemplate {
                timescale: 44_100,
                presentation_time_offset: 441,
                initialization: "live/audio-init.mp4".into(),
                media: "live/audio-$Number$.m4s".into(),
                addressing: Addressing::Number { start_number: 3, duration: 88_200 },
            },
        }
    }

    #[test]
    fn dynamic_mpd_text_is_exact() {
        let timeline = [
            TimelineEntry { start: 0, duration: 180_000 },
            TimelineEntry { start: 180_000, duration: 180_000 },
            TimelineEntry { start: 360_000, duration: 180_000 },
            TimelineEntry { start: 540_000, duration: 90_000 },
            TimelineEntry { start: 720_000, duration: 90_000 },
        ];
        let mpd = Mpd {
            presentation: Presentation::Dynamic {
                availability_start_ms: 1_704_164_645_000,
                publish_ms: 1_704_164_655_250,
                minimum_update_period_ms: 1000,
                time_shift_buffer_depth_ms: 10_000,
                suggested_presentation_delay_ms: 4000,
                utc_timing: vec![
                    UtcTiming::HttpHead { url: "s&t.mpd".into() },
                    UtcTiming::Direct { unix_ms: 1_704_164_655_250 },
                ],
            },
            min_buffer_time_ms: 2000,
            adaptation_sets: vec![video_set(Addressing::Time { timeline: timeline.to_vec() }), audio_set()],
        };
        let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" availabilityStartTime="2024-01-02T03:04:05Z" publishTime="2024-01-02T03:04:15.25Z" minimumUpdatePeriod="PT1S" timeShiftBufferDepth="PT10S" suggestedPresentationDelay="PT4S" minBufferTime="PT2S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
      <Representation id="video" codecs="avc1.64000d" bandwidth="250000" width="320" height="240" frameRate="25">
        <SegmentTemplate timescale="90000" initialization="s&amp;t/video-init.mp4" media="s&amp;t/video-$Time$.m4s">
          <SegmentTimeline>
            <S t="0" d="180000" r="2"/>
            <S t="540000" d="90000"/>
            <S t="720000" d="90000"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" segmentAlignment="true" startWithSAP="1">
      <Representation id="audio" codecs="mp4a.40.2" bandwidth="64000" audioSamplingRate="44100">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
        <SegmentTemplate timescale="44100" presentationTimeOffset="441" startNumber="3" duration="88200" initialization="live/audio-init.mp4" media="live/audio-$Number$.m4s"/>
      </Representation>
    </AdaptationSet>
  </Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-head:2014" value="s&amp;t.mpd"/>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2024-01-02T03:04:15.25Z"/>
</MPD>
"#;
        assert_eq!(mpd.to_xml(), expected);
    }

    #[test]
    fn static_mpd_has_a_duration_and_no_live_attributes() {
        let mpd = Mpd {
            presentation: Presentation::Static { media_presentation_duration_ms: 12_040 },
            min_buffer_time_ms: 10_000,
            adaptation_sets: vec![audio_set()],
        };
        let xml = mpd.to_xml();
        assert!(xml.contains(r#"type="static" mediaPresentationDuration="PT12.04S" minBufferTime="PT10S">"#));
        for live_only in [
            "availabilityStartTime",
            "minimumUpdatePeriod",
            "timeShiftBufferDepth",
            "suggestedPresentationDelay",
            "UTCTiming",
        ] {
            assert!(!xml.contains(live_only), "{live_only} in {xml}");
        }
    }

    #[test]
    fn attribute_escaping_covers_the_five_specials() {
        assert_eq!(escape_attribute(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    }
}
