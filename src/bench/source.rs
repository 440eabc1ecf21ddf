//! The media a load test replays: an FLV file read once into memory, its headers (metadata and
//! sequence headers) apart, and its media tags looped forever with timestamps that keep rising.
//!
//! Publishers pace the loop in real time; the kernel-floor server serializes the same loop as FLV.

use std::path::Path;

use bytes::Bytes;

use crate::codec::flv::{
    read_all, AudioPacketKind, AudioTagHeader, TagType, VideoPacketKind, VideoTagHeader,
};

/// One tag of the replayed stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTag {
    pub tag_type: TagType,
    pub timestamp_ms: u32,
    pub body: Bytes,
    pub keyframe: bool,
}

/// An FLV file ready to be replayed in a loop.
#[derive(Debug, Clone)]
pub struct FlvSource {
    /// Metadata and sequence headers, sent once before the media.
    pub headers: Vec<SourceTag>,
    /// Media tags with timestamps starting at 0.
    pub media: Vec<SourceTag>,
    /// Duration of one loop in milliseconds (last timestamp plus one frame).
    pub span_ms: u32,
}

impl FlvSource {
    pub fn load(path: &Path) -> Result<FlvSource, String> {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        FlvSource::from_bytes(&data).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn from_bytes(data: &[u8]) -> Result<FlvSource, String> {
        let (tags, error) = read_all(data);
        if let Some(error) = error {
            if tags.is_empty() {
                return Err(error.to_string());
            }
        }
        let mut headers = Vec::new();
        let mut media = Vec::new();
        for tag in tags {
            let (is_header, keyframe) = match tag.tag_type {
                TagType::Script => (true, false),
                TagType::Video => match VideoTagHeader::parse(&tag.body) {
                    Ok(h) => (h.packet == VideoPacketKind::SequenceHeader, h.frame_type.is_keyframe()),
                    Err(_) => continue,
                },
                TagType::Audio => match AudioTagHeader::parse(&tag.body) {
                    Ok(h) => (h.packet == AudioPacketKind::SequenceHeader, false),
                    Err(_) => continue,
                },
            };
            let source_tag = SourceTag {
                tag_type: tag.tag_type,
                timestamp_ms: tag.timestamp_ms,
                body: tag.body,
                keyframe,
            };
            if is_header {
                if media.is_empty() {
                    headers.push(SourceTag { timestamp_ms: 0, ..source_tag });
                }
            } else {
                media.push(source_tag);
            }
        }
        let first = media.iter().map(|t| t.timestamp_ms).min().ok_or("no media tags")?;
        for tag in &mut media {
            tag.timestamp_ms -= first;
        }
        let last = media.iter().map(|t| t.timestamp_ms).max().unwrap_or(0);
        let frame_ms = typical_video_interval(&media);
        Ok(FlvSource { headers, media, span_ms: last + frame_ms })
    }

    /// The media tags looped forever, timestamps shifted by one span per round.
    pub fn looped(&self) -> impl Iterator<Item = SourceTag> + '_ {
        (0u32..).flat_map(move |round| {
            self.media.iter().map(move |tag| SourceTag {
                timestamp_ms: tag.timestamp_ms.wrapping_add(round.wrapping_mul(self.span_ms)),
                ..tag.clone()
            })
        })
    }

    /// Bits per second of one loop (headers excluded).
    pub fn bitrate(&self) -> f64 {
        let bytes: usize = self.media.iter().map(|t| t.body.len() + 15).sum();
        bytes as f64 * 8.0 / (f64::from(self.span_ms.max(1)) / 1000.0)
    }
}

/// The usual gap between video timestamps (40 ms when there is no video).
fn typical_video_interval(media: &[SourceTag]) -> u32 {
    let video: Vec<u32> =
        media.iter().filter(|t| t.tag_type == TagType::Video).map(|t| t.timestamp_ms).collect();
    let mut gaps: Vec<u32> = video.windows(2).map(|w| w[1].saturating_sub(w[0])).filter(|g| *g > 0).collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied().unwrap_or(40)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/flv/h264_aac.flv");

    #[test]
    fn headers_apart_and_loop_keeps_rising() {
        let source = FlvSource::from_bytes(FIXTURE).unwrap();
        assert!(source.headers.iter().any(|t| t.tag_type == TagType::Script));
        assert!(source.headers.iter().any(|t| t.tag_type == TagType::Video));
        assert!(source.headers.iter().any(|t| t.tag_type == TagType::Audio));
        assert!(source.media[0].timestamp_ms == 0);
        let n = source.media.len();
        let two_rounds: Vec<SourceTag> = source.looped().take(2 * n).collect();
        assert_eq!(two_rounds[n].timestamp_ms, source.span_ms + source.media[0].timestamp_ms);
        assert_eq!(two_rounds[n].body, source.media[0].body);
        assert!(two_rounds.iter().filter(|t| t.keyframe).count() >= 2);
        assert!(source.bitrate() > 0.0);
    }
}
