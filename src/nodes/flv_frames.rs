//! The adapters between FLV tag bodies (which are also RTMP audio, video and data message payloads) and
//! media events: `FlvToFrames` (sequence headers become descriptions, coded frames become canonical
//! frames, onMetaData becomes metadata) and `FramesToFlv` (the reverse, one body per event).
//!
//! Both are plain state machines with no I/O, used by the RTMP, HTTP-FLV and FLV-file nodes. They do
//! not frame tags into files (see `codec::flv::tag_bytes`) and do not fix timestamps (jitter correction
//! is a node of its own).

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::avc::AvcConfig;
use crate::codec::describe;
use crate::codec::flv::{
    append_tag, tag_framing, unwrap_set_data_frame, AudioPacketKind, AudioTagHeader, FlvError, TagType,
    VideoPacketKind, VideoTagHeader,
};
use crate::codec::hevc::HevcConfig;
use crate::codec::nal;
use crate::media::{
    AudioTrack, Codec, Frame, MediaEvent, MediaTime, Metadata, StreamDescription, VideoTrack,
};

/// Largest body the FLV size field can hold; bigger frames cannot be written and are dropped.
const MAX_BODY_LEN: usize = (1 << 24) - 1;
/// The composition time field is a signed 24-bit number of milliseconds.
const MAX_COMPOSITION_TIME_MS: i64 = (1 << 23) - 1;

/// Turns FLV tag bodies into media events.
#[derive(Debug, Default)]
pub struct FlvToFrames {
    video: Option<VideoState>,
    audio: Option<AudioTrack>,
    /// Coded frames that arrived before their sequence header (or after one of another codec).
    pub n_dropped_before_header: u64,
    /// Tags of codecs or kinds the server does not carry (VP6, PCM, command frames, onCuePoint ...).
    pub n_ignored: u64,
}

#[derive(Debug)]
struct VideoState {
    track: VideoTrack,
    /// Bytes of each NAL length prefix in frames, for H.264 and H.265.
    nal_length_size: u8,
}

impl FlvToFrames {
    /// Handles one tag (or RTMP message) body. An error concerns this body only: the caller may log it,
    /// drop the body and go on.
    pub fn push(
        &mut self,
        tag_type: TagType,
        timestamp_ms: i64,
        body: Bytes,
    ) -> Result<Vec<MediaEvent>, FlvError> {
        let mut events = Vec::new();
        self.push_into(tag_type, timestamp_ms, body, &mut events)?;
        Ok(events)
    }

    /// `push`, appending the events to `events` (a vector reused across tags allocates nothing);
    /// on an error, `events` is as it was.
    pub fn push_into(
        &mut self,
        tag_type: TagType,
        timestamp_ms: i64,
        body: Bytes,
        events: &mut Vec<MediaEvent>,
    ) -> Result<(), FlvError> {
        let n_before = events.len();
        let result = match tag_type {
            TagType::Video => self.push_video(timestamp_ms, body).map(|event| events.extend(event)),
            TagType::Audio => self.push_audio(timestamp_ms, body, events),
            TagType::Script => self.push_script(timestamp_ms, body).map(|event| events.extend(event)),
        };
        if result.is_err() {
            events.truncate(n_before);
        }
        result
    }

    fn push_video(&mut self, timestamp_ms: i64, body: Bytes) -> Result<Option<MediaEvent>, FlvError> {
        let header = VideoTagHeader::parse(&body)?;
        let Some(codec) = header.codec.media_codec() else {
            self.n_ignored += 1;
            return Ok(None);
        };
        let payload = body.slice(header.header_len..);
        match header.packet {
            VideoPacketKind::SequenceHeader => {
                if self.video.as_ref().is_some_and(|v| v.track.codec == codec && v.track.config == payload) {
                    return Ok(None);
                }
                let nal_length_size = nal_length_size(codec, &payload)?;
                let track = describe::video_track(codec, payload).map_err(|e| bad_config(codec, e))?;
                self.video = Some(VideoState { track, nal_length_size });
                Ok(Some(self.description()))
            }
            VideoPacketKind::CodedFrames => {
                let Some(state) = self.video.as_ref().filter(|v| v.track.codec == codec) else {
                    self.n_dropped_before_header += 1;
                    return Ok(None);
                };
                if payload.is_empty() {
                    self.n_ignored += 1;
                    return Ok(None);
                }
                let data = match codec {
                    Codec::H264 | Codec::H265 => canonical_nals(payload, state.nal_length_size)?,
                    _ => payload,
                };
                let dts = MediaTime::from_millis(timestamp_ms);
                let pts = MediaTime::from_millis(timestamp_ms + i64::from(header.composition_time_ms));
                let keyframe = header.frame_type.is_keyframe();
                Ok(Some(MediaEvent::Frame(Frame { codec, dts, pts, keyframe, data })))
            }
            _ => {
                self.n_ignored += 1;
                Ok(None)
            }
        }
    }

    fn push_audio(
        &mut self,
        timestamp_ms: i64,
        body: Bytes,
        events: &mut Vec<MediaEvent>,
    ) -> Result<(), FlvError> {
        let header = AudioTagHeader::parse(&body)?;
        let Some(codec) = header.codec.media_codec() else {
            self.n_ignored += 1;
            return Ok(());
        };
        let payload = body.slice(header.header_len..);
        match header.packet {
            AudioPacketKind::SequenceHeader => {
                if self.audio.as_ref().is_some_and(|a| a.codec == codec && a.config == payload) {
                    return Ok(());
                }
                let track = describe::audio_track(codec, payload).map_err(|e| bad_config(codec, e))?;
                self.audio = Some(track);
                events.push(self.description());
            }
            AudioPacketKind::CodedFrames => {
                // MP3 has no sequence header: its first frame describes the track.
                if codec == Codec::Mp3 && self.audio.as_ref().is_none_or(|a| a.codec != Codec::Mp3) {
                    let track =
                        describe::audio_track(codec, payload.clone()).map_err(|e| bad_config(codec, e))?;
                    self.audio = Some(track);
                    events.push(self.description());
                }
                if self.audio.as_ref().is_none_or(|a| a.codec != codec) {
                    self.n_dropped_before_header += 1;
                    return Ok(());
                }
                if payload.is_empty() {
                    self.n_ignored += 1;
                    return Ok(());
                }
                let time = MediaTime::from_millis(timestamp_ms);
                events.push(MediaEvent::Frame(Frame {
                    codec,
                    dts: time,
                    pts: time,
                    keyframe: true,
                    data: payload,
                }));
            }
            AudioPacketKind::EndOfSequence | AudioPacketKind::MultichannelConfig => self.n_ignored += 1,
        }
        Ok(())
    }

    fn push_script(&mut self, timestamp_ms: i64, body: Bytes) -> Result<Option<MediaEvent>, FlvError> {
        let Some(amf0) = unwrap_set_data_frame(body)? else {
            self.n_ignored += 1;
            return Ok(None);
        };
        Ok(Some(MediaEvent::Metadata(Metadata { time: MediaTime::from_millis(timestamp_ms), amf0 })))
    }

    fn description(&self) -> MediaEvent {
        MediaEvent::Description(Arc::new(StreamDescription {
            video: self.video.as_ref().map(|v| v.track.clone()),
            audio: self.audio.clone(),
        }))
    }
}

/// The NAL length size a decoder configuration record announces. AV1 frames are not length-prefixed.
fn nal_length_size(codec: Codec, config: &[u8]) -> Result<u8, FlvError> {
    let parsed = match codec {
        Codec::H264 => AvcConfig::parse(config).map(|c| c.length_size).map_err(|e| e.to_string()),
        Codec::H265 => HevcConfig::parse(config).map(|c| c.length_size).map_err(|e| e.to_string()),
        _ => return Ok(0),
    };
    parsed.map_err(|reason| FlvError::BadSequenceHeader { codec: codec.name(), reason })
}

/// Checks the NAL framing and rewrites it with 4-byte lengths when the stream uses shorter ones.
/// With 4-byte lengths the payload is returned as is, without a copy.
fn canonical_nals(payload: Bytes, nal_length_size: u8) -> Result<Bytes, FlvError> {
    if nal_length_size == 4 {
        // Already canonical: checked, not copied.
        for nal in nal::length_prefixed(&payload, nal_length_size) {
            nal?;
        }
        return Ok(payload);
    }
    let nals = nal::length_prefixed(&payload, nal_length_size).collect::<Result<Vec<&[u8]>, _>>()?;
    Ok(nal::to_length_prefixed(nals))
}

fn bad_config(codec: Codec, error: describe::DescribeError) -> FlvError {
    FlvError::BadSequenceHeader { codec: codec.name(), reason: error.to_string() }
}

/// One tag to send: what `codec::flv::tag_bytes` or an RTMP message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlvTagOut {
    pub tag_type: TagType,
    /// Milliseconds as FLV carries them: wrapping after 2^32, negative times written as 0.
    pub timestamp_ms: u32,
    pub body: Bytes,
}

/// Turns media events into FLV tag bodies: legacy form for H.264, AAC and MP3; enhanced form for H.265,
/// AV1 and Opus.
#[derive(Debug, Default)]
pub struct FramesToFlv {
    video: Option<VideoTrack>,
    audio: Option<AudioTrack>,
    /// Timestamp of the latest frame, given to sequence headers (descriptions carry no time).
    last_timestamp_ms: u32,
    /// Frames too large for a tag, or of codecs FLV cannot carry.
    pub n_dropped: u64,
}

impl FramesToFlv {
    pub fn push(&mut self, event: &MediaEvent) -> Vec<FlvTagOut> {
        match event {
            MediaEvent::Description(description) => self.push_description(description),
            MediaEvent::Frame(frame) => self.push_frame(frame).into_iter().collect(),
            MediaEvent::Metadata(metadata) => {
                let timestamp_ms = flv_timestamp(metadata.time);
                vec![FlvTagOut { tag_type: TagType::Script, timestamp_ms, body: metadata.amf0.clone() }]
            }
            MediaEvent::End => Vec::new(),
        }
    }

    fn push_description(&mut self, description: &StreamDescription) -> Vec<FlvTagOut> {
        let mut tags = Vec::new();
        if let Some(video) = description.video.as_ref().filter(|v| self.video.as_ref() != Some(*v)) {
            let header = VideoTagHeader::for_codec(video.codec, VideoPacketKind::SequenceHeader, true, 0);
            tags.extend(self.video_tag(&header, &video.config));
            self.video = Some(video.clone());
        }
        if let Some(audio) = description.audio.as_ref().filter(|a| self.audio.as_ref() != Some(*a)) {
            // MP3 has no sequence header; the track only sets the rate and channel bits of its frames.
            if audio.codec != Codec::Mp3 {
                let header = AudioTagHeader::for_codec(
                    audio.codec,
                    AudioPacketKind::SequenceHeader,
                    audio.sample_rate,
                    audio.channels,
                );
                tags.extend(header.and_then(|h| self.audio_tag(&h, &audio.config, self.last_timestamp_ms)));
            }
            self.audio = Some(audio.clone());
        }
        tags
    }

    fn push_frame(&mut self, frame: &Frame) -> Option<FlvTagOut> {
        let timestamp_ms = flv_timestamp(frame.dts);
        self.last_timestamp_ms = timestamp_ms;
        let tag = match frame.codec {
            Codec::H264 | Codec::H265 | Codec::Av1 => self.video_tag(&video_frame_header(frame), &frame.data),
            Codec::Aac | Codec::Mp3 | Codec::Opus => {
                self.audio_frame_header(frame).and_then(|h| self.audio_tag(&h, &frame.data, timestamp_ms))
            }
        };
        if tag.is_none() {
            self.n_dropped += 1;
        }
        tag
    }

    /// The tag `push` makes of `frame`, appended to `out` whole, as `codec::flv::tag_bytes` frames
    /// it (a buffer reused across frames allocates nothing); `false` when the frame is dropped.
    pub fn append_frame_tag(&mut self, frame: &Frame, out: &mut BytesMut) -> bool {
        let appended = self.frame_body_header(frame).and_then(|(timestamp_ms, header)| {
            append_tag(out, header.tag_type(), timestamp_ms, |body| {
                header.write(body)?;
                body.put_slice(&frame.data);
                Ok(())
            })
        });
        if appended.is_err() {
            self.n_dropped += 1;
        }
        appended.is_ok()
    }

    /// The tag `push` makes of `frame`, as the bytes around the frame's own payload
    /// (`codec::flv::tag_framing`): tag type, timestamp, head and tail; `None` when the frame is
    /// dropped.
    pub fn frame_tag_framing(&mut self, frame: &Frame) -> Option<(TagType, u32, Bytes, Bytes)> {
        let framed = self.frame_body_header(frame).and_then(|(timestamp_ms, header)| {
            let (head, tail) =
                tag_framing(header.tag_type(), timestamp_ms, frame.data.len(), |head| header.write(head))?;
            Ok((header.tag_type(), timestamp_ms, head, tail))
        });
        if framed.is_err() {
            self.n_dropped += 1;
        }
        framed.ok()
    }

    /// The timestamp and the body's header of `frame`'s tag.
    fn frame_body_header(&mut self, frame: &Frame) -> Result<(u32, BodyHeader), FlvError> {
        let timestamp_ms = flv_timestamp(frame.dts);
        self.last_timestamp_ms = timestamp_ms;
        let header = match frame.codec {
            Codec::H264 | Codec::H265 | Codec::Av1 => BodyHeader::Video(video_frame_header(frame)),
            Codec::Aac | Codec::Mp3 | Codec::Opus => BodyHeader::Audio(
                self.audio_frame_header(frame)
                    .ok_or(FlvError::UnsupportedCodec("this audio codec in flv"))?,
            ),
        };
        Ok((timestamp_ms, header))
    }

    fn audio_frame_header(&self, frame: &Frame) -> Option<AudioTagHeader> {
        let (sample_rate, channels) = match &self.audio {
            Some(track) if track.sample_rate > 0 => (track.sample_rate, track.channels),
            _ => (44_100, 2),
        };
        AudioTagHeader::for_codec(frame.codec, AudioPacketKind::CodedFrames, sample_rate, channels)
    }

    fn video_tag(&self, header: &VideoTagHeader, payload: &[u8]) -> Option<FlvTagOut> {
        let mut body = BytesMut::with_capacity(header.header_len + payload.len());
        header.write(&mut body).ok()?;
        finish_body(body, payload).map(|body| FlvTagOut {
            tag_type: TagType::Video,
            timestamp_ms: self.last_timestamp_ms,
            body,
        })
    }

    fn audio_tag(&self, header: &AudioTagHeader, payload: &[u8], timestamp_ms: u32) -> Option<FlvTagOut> {
        let mut body = BytesMut::with_capacity(header.header_len + payload.len());
        header.write(&mut body).ok()?;
        finish_body(body, payload).map(|body| FlvTagOut { tag_type: TagType::Audio, timestamp_ms, body })
    }
}

/// What a frame's tag body starts with.
enum BodyHeader {
    Video(VideoTagHeader),
    Audio(AudioTagHeader),
}

impl BodyHeader {
    fn tag_type(&self) -> TagType {
        match self {
            BodyHeader::Video(_) => TagType::Video,
            BodyHeader::Audio(_) => TagType::Audio,
        }
    }

    fn write(&self, out: &mut BytesMut) -> Result<(), FlvError> {
        match self {
            BodyHeader::Video(header) => header.write(out),
            BodyHeader::Audio(header) => header.write(out),
        }
    }
}

fn video_frame_header(frame: &Frame) -> VideoTagHeader {
    let cts = frame.cts_millis().clamp(-MAX_COMPOSITION_TIME_MS, MAX_COMPOSITION_TIME_MS) as i32;
    VideoTagHeader::for_codec(frame.codec, VideoPacketKind::CodedFrames, frame.keyframe, cts)
}

fn finish_body(mut body: BytesMut, payload: &[u8]) -> Option<Bytes> {
    if body.len() + payload.len() > MAX_BODY_LEN {
        return None;
    }
    body.put_slice(payload);
    Some(body.freeze())
}

fn flv_timestamp(time: MediaTime) -> u32 {
    // FLV time wraps at 2^32 ms like RTMP time; there is no way to say "before zero".
    time.as_millis().max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::amf0::{self, Amf0Value};
    use crate::codec::flv::{read_all, tag_bytes, FlvHeader};

    const H264_AAC: &[u8] = include_bytes!("../../tests/fixtures/flv/h264_aac.flv");
    const HEVC: &[u8] = include_bytes!("../../tests/fixtures/flv/hevc_enhanced.flv");
    const MP3: &[u8] = include_bytes!("../../tests/fixtures/flv/mp3.flv");

    fn to_events(file: &[u8]) -> (Vec<MediaEvent>, FlvToFrames) {
        let (tags, error) = read_all(file);
        assert_eq!(error, None);
        let mut adapter = FlvToFrames::default();
        let mut events = Vec::new();
        for tag in tags {
            events.extend(adapter.push(tag.tag_type, i64::from(tag.timestamp_ms), tag.body).unwrap());
        }
        (events, adapter)
    }

    fn to_file(events: &[MediaEvent], has_audio: bool, has_video: bool) -> Vec<u8> {
        let mut adapter = FramesToFlv::default();
        let mut file = FlvHeader::new(has_audio, has_video).file_start().to_vec();
        for event in events {
            for tag in adapter.push(event) {
                file.extend_from_slice(&tag_bytes(tag.tag_type, tag.timestamp_ms, &tag.body).unwrap());
            }
        }
        assert_eq!(adapter.n_dropped, 0);
        file
    }

    fn frames(events: &[MediaEvent], codec: Codec) -> Vec<&Frame> {
        events
            .iter()
            .filter_map(|e| if let MediaEvent::Frame(f) = e { Some(f) } else { None })
            .filter(|f| f.codec == codec)
            .collect()
    }

    fn descriptions(events: &[MediaEvent]) -> Vec<&StreamDescription> {
        events
            .iter()
            .filter_map(|e| if let MediaEvent::Description(d) = e { Some(&**d) } else { None })
            .collect()
    }

    #[test]
    fn h264_aac_file_gives_canonical_frames_with_composition_times() {
        let (events, adapter) = to_events(H264_AAC);
        let video = frames(&events, Codec::H264);
        let audio = frames(&events, Codec::Aac);
        assert_eq!((video.len(), audio.len()), (30, 53));
        assert_eq!(video.iter().filter(|f| f.keyframe).count(), 3, "gop of 12 over 30 frames");
        assert!(video.iter().any(|f| f.cts_millis() > 0), "b-frames give composition offsets");
        assert!(video.iter().all(|f| f.dts.timebase() == crate::media::Timebase::MILLIS && f.pts >= f.dts));
        for frame in &video {
            let nals: Vec<_> = nal::length_prefixed(&frame.data, 4).collect::<Result<_, _>>().unwrap();
            assert!(!nals.is_empty());
        }
        // Two descriptions: video alone, then video and audio.
        let descriptions = descriptions(&events);
        assert_eq!(descriptions.len(), 2);
        assert_eq!(descriptions[1].video.as_ref().map(|v| v.codec), Some(Codec::H264));
        let audio_track = descriptions[1].audio.as_ref().unwrap();
        assert_eq!(audio_track.codec, Codec::Aac);
        assert_eq!(audio_track.config[..2], [0x12, 0x10], "AAC LC, 44.1 kHz, stereo");
        assert_eq!((audio_track.sample_rate, audio_track.channels), (44_100, 2));
        let video_track = descriptions[1].video.as_ref().unwrap();
        assert_eq!((video_track.width, video_track.height), (160, 120));
        assert!(
            matches!(&events[0], MediaEvent::Metadata(m) if amf0::decode_all(&m.amf0).unwrap()[0].as_str() == Some("onMetaData"))
        );
        assert_eq!(
            (adapter.n_dropped_before_header, adapter.n_ignored),
            (0, 1),
            "only the end of sequence is ignored"
        );
    }

    #[test]
    fn h264_aac_round_trip_gives_equal_events() {
        let (events, _) = to_events(H264_AAC);
        let rewritten = to_file(&events, true, true);
        // Every tag again but the end of sequence; one sequence header per track despite two descriptions.
        let (original_tags, rewritten_tags) = (read_all(H264_AAC).0, read_all(&rewritten).0);
        assert_eq!(rewritten_tags.len(), original_tags.len() - 1);
        assert_eq!(to_events(&rewritten).0, events);
    }

    #[test]
    fn hevc_enhanced_round_trip_gives_equal_events_in_enhanced_form() {
        let (events, _) = to_events(HEVC);
        let video = frames(&events, Codec::H265);
        assert_eq!(video.len(), 30);
        assert_eq!(video.iter().filter(|f| f.keyframe).count(), 3);
        assert_eq!(video[29].dts, MediaTime::from_millis(29 * 40));
        let track = descriptions(&events)[0].video.clone().unwrap();
        assert_eq!((track.codec, track.width, track.height), (Codec::H265, 160, 120));
        let rewritten = to_file(&events, false, true);
        let (tags, _) = read_all(&rewritten);
        assert!(tags
            .iter()
            .filter(|t| t.tag_type == TagType::Video)
            .all(|t| t.body[0] & 0x80 != 0 && &t.body[1..5] == b"hvc1"));
        assert_eq!(to_events(&rewritten).0, events);
    }

    #[test]
    fn mp3_is_described_by_its_first_frame() {
        let (events, _) = to_events(MP3);
        assert!(
            matches!(&events[1], MediaEvent::Description(d) if d.audio.as_ref().unwrap().codec == Codec::Mp3)
        );
        assert_eq!(descriptions(&events).len(), 1);
        let track = descriptions(&events)[0].audio.clone().unwrap();
        assert_eq!((track.sample_rate, track.channels), (22_050, 1));
        assert_eq!(frames(&events, Codec::Mp3).len(), 41);
        assert_eq!(to_events(&to_file(&events, true, false)).0, events);
    }

    #[test]
    fn short_nal_lengths_become_four_byte_lengths() {
        let (events, _) = to_events(H264_AAC);
        let track = descriptions(&events)[0].video.clone().unwrap();
        let mut avcc = track.config.to_vec();
        avcc[4] = (avcc[4] & 0xfc) | 1; // two-byte lengths
        let mut adapter = FlvToFrames::default();
        let mut sequence_header = vec![0x17, 0, 0, 0, 0];
        sequence_header.extend_from_slice(&avcc);
        adapter.push(TagType::Video, 0, sequence_header.into()).unwrap();
        let frame = frames(&events, Codec::H264)[0];
        let cts = frame.cts_millis() as u8;
        let mut body = vec![0x17, 1, 0, 0, cts];
        for nal in nal::length_prefixed(&frame.data, 4) {
            let nal = nal.unwrap();
            body.extend_from_slice(&(nal.len() as u16).to_be_bytes());
            body.extend_from_slice(nal);
        }
        let out = adapter.push(TagType::Video, frame.dts.as_millis(), body.into()).unwrap();
        assert_eq!(out, vec![MediaEvent::Frame(frame.clone())]);
        let broken = Bytes::from_static(&[0x27, 1, 0, 0, 0, 0x00, 0x09, 0x41]);
        assert!(matches!(adapter.push(TagType::Video, 40, broken), Err(FlvError::NalFraming(_))));
    }

    #[test]
    fn frames_before_their_sequence_header_are_dropped_and_counted() {
        let (tags, _) = read_all(H264_AAC);
        let mut adapter = FlvToFrames::default();
        let mut n_frames = 0;
        // Skip both sequence headers: nothing can be decoded, every coded frame is dropped.
        for tag in tags.into_iter().filter(|t| t.tag_type != TagType::Script) {
            let is_header = match tag.tag_type {
                TagType::Video => {
                    VideoTagHeader::parse(&tag.body).unwrap().packet == VideoPacketKind::SequenceHeader
                }
                _ => AudioTagHeader::parse(&tag.body).unwrap().packet == AudioPacketKind::SequenceHeader,
            };
            if !is_header {
                n_frames += adapter.push(tag.tag_type, i64::from(tag.timestamp_ms), tag.body).unwrap().len();
            }
        }
        assert_eq!((n_frames, adapter.n_dropped_before_header), (0, 83));
    }

    #[test]
    fn repeated_sequence_headers_are_silent_and_changed_ones_describe_again() {
        let mut adapter = FlvToFrames::default();
        let asc = Bytes::from_static(&[0xaf, 0x00, 0x12, 0x10]);
        assert_eq!(adapter.push(TagType::Audio, 0, asc.clone()).unwrap().len(), 1);
        assert_eq!(adapter.push(TagType::Audio, 1000, asc).unwrap(), vec![]);
        let events =
            adapter.push(TagType::Audio, 2000, Bytes::from_static(&[0xaf, 0x00, 0x11, 0x90])).unwrap();
        let [MediaEvent::Description(description)] = &events[..] else { panic!("{events:?}") };
        assert_eq!(description.audio.as_ref().unwrap().config, Bytes::from_static(&[0x11, 0x90]));
    }

    #[test]
    fn set_data_frame_is_unwrapped_and_other_script_tags_ignored() {
        let object = Amf0Value::object([("width", Amf0Value::Number(640.0))]);
        let wrapped = amf0::encode_all(&[
            Amf0Value::string("@setDataFrame"),
            Amf0Value::string("onMetaData"),
            object.clone(),
        ]);
        let mut adapter = FlvToFrames::default();
        let events = adapter.push(TagType::Script, 5, wrapped).unwrap();
        let expected = amf0::encode_all(&[Amf0Value::string("onMetaData"), object.clone()]);
        assert_eq!(
            events,
            vec![MediaEvent::Metadata(Metadata { time: MediaTime::from_millis(5), amf0: expected })]
        );
        let cue = amf0::encode_all(&[Amf0Value::string("onCuePoint"), object]);
        assert_eq!(adapter.push(TagType::Script, 6, cue).unwrap(), vec![]);
        assert_eq!(adapter.n_ignored, 1);
    }

    #[test]
    fn opus_and_av1_round_trip_in_enhanced_form() {
        let opus_head = Bytes::from_static(b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00");
        let av1c = Bytes::from_static(&[0x81, 0x00, 0x0c, 0x00]);
        let description = StreamDescription {
            video: Some(describe::video_track(Codec::Av1, av1c).unwrap()),
            audio: Some(describe::audio_track(Codec::Opus, opus_head).unwrap()),
        };
        let opus_frame = |ms| Frame {
            codec: Codec::Opus,
            dts: MediaTime::from_millis(ms),
            pts: MediaTime::from_millis(ms),
            keyframe: true,
            data: Bytes::from_static(&[0xfc, 0xff, 0xfe]),
        };
        let av1_frame = Frame {
            codec: Codec::Av1,
            dts: MediaTime::from_millis(20),
            pts: MediaTime::from_millis(20),
            keyframe: true,
            data: Bytes::from_static(&[0x12, 0x00, 0x0a, 0x0b, 0x00]),
        };
        let events = vec![
            MediaEvent::Description(Arc::new(description)),
            MediaEvent::Frame(opus_frame(0)),
            MediaEvent::Frame(av1_frame),
            MediaEvent::Frame(opus_frame(20)),
        ];
        let mut writer = FramesToFlv::default();
        let tags: Vec<FlvTagOut> = events.iter().flat_map(|e| writer.push(e)).collect();
        assert_eq!(tags.len(), 5);
        assert_eq!(&tags[0].body[..5], b"\x90av01");
        assert_eq!(&tags[1].body[..5], b"\x90Opus");
        assert_eq!(&tags[3].body[..5], b"\x91av01");
        let mut reader = FlvToFrames::default();
        let mut back: Vec<MediaEvent> = Vec::new();
        for tag in tags {
            back.extend(reader.push(tag.tag_type, i64::from(tag.timestamp_ms), tag.body).unwrap());
        }
        // The reader announces video first, then video and audio: compare the final description and frames.
        assert_eq!(back.last(), events.last());
        assert_eq!(frames(&back, Codec::Opus).len(), 2);
        assert_eq!(frames(&back, Codec::Av1), frames(&events, Codec::Av1));
        assert_eq!(descriptions(&back).last().copied(), descriptions(&events).last().copied());
    }

    #[test]
    fn writer_output_is_read_back_by_ffprobe() {
        let (events, _) = to_events(H264_AAC);
        let path = std::env::temp_dir().join(format!("srs-flv-frames-{}.flv", std::process::id()));
        std::fs::write(&path, to_file(&events, true, true)).unwrap();
        let output = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-show_entries"])
            .arg("stream=codec_name,width,height,nb_read_frames,sample_rate,channels")
            .args(["-of", "compact=p=0"])
            .arg(&path)
            .output();
        let _ = std::fs::remove_file(&path);
        let output = match output {
            Ok(output) => output,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("ffprobe not installed: skipping");
                return;
            }
            Err(error) => panic!("ffprobe: {error}"),
        };
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "codec_name=h264|width=160|height=120|nb_read_frames=30",
                "codec_name=aac|sample_rate=44100|channels=2|nb_read_frames=53"
            ]
        );
    }

    #[test]
    fn random_body_mutations_give_errors_not_panics() {
        let (tags, _) = read_all(HEVC);
        let (more, _) = read_all(H264_AAC);
        let tags: Vec<_> = tags.into_iter().chain(more).collect();
        let mut rng = crate::codec::xorshift::XorShift::new(0x9e37_79b9_7f4a_7c15);
        let mut next = move || rng.next_u64();
        let mut n_errors = 0;
        for round in 0..2000 {
            let mut adapter = FlvToFrames::default();
            for tag in &tags[..4] {
                let _ = adapter.push(tag.tag_type, 0, tag.body.clone());
            }
            let tag = &tags[round % tags.len()];
            let mut body = tag.body.to_vec();
            for _ in 0..(1 + next() % 4) {
                if !body.is_empty() {
                    let at = next() as usize % body.len();
                    body[at] = next() as u8;
                }
            }
            body.truncate(body.len().saturating_sub(next() as usize % 16));
            if adapter.push(tag.tag_type, 0, body.into()).is_err() {
                n_errors += 1;
            }
        }
        assert!(n_errors > 0, "some mutations must be reported as errors");
    }
}
