//! Serializers of `HttpRemux`: media events in, packets for a hub out, once per stream and format.
//!
//! FLV tags (HTTP-FLV), TS packets (HTTP-TS), ADTS frames (HTTP-AAC) and raw MP3 frames (HTTP-MP3).
//! Headers (FLV sequence headers, TS tables) are classed so new players get them first.

use bytes::{BufMut, Bytes, BytesMut};

use super::flv_frames::FramesToFlv;
use super::http_remux::RemuxFormat;
use crate::codec::aac::AudioSpecificConfig;
use crate::codec::flv::{tag_bytes, TagType};
use crate::codec::mpegts::TsMuxer;
use crate::graph::hub::{Packet, PacketClass};
use crate::media::{Codec, MediaEvent, MediaKind};

/// Turns events into hub packets for one format.
#[derive(Debug)]
pub enum RemuxSerializer {
    Flv(FramesToFlv),
    Ts(Option<TsMuxer>),
    Aac(Option<AudioSpecificConfig>),
    Mp3,
}

impl RemuxSerializer {
    pub fn new(format: RemuxFormat) -> RemuxSerializer {
        match format {
            RemuxFormat::Flv => RemuxSerializer::Flv(FramesToFlv::default()),
            RemuxFormat::Ts => RemuxSerializer::Ts(None),
            RemuxFormat::Aac => RemuxSerializer::Aac(None),
            RemuxFormat::Mp3 => RemuxSerializer::Mp3,
        }
    }

    /// The packets `event` becomes; problems concern this event only and are logged.
    pub fn push(&mut self, event: &MediaEvent) -> Vec<Packet> {
        match self {
            // HTTP-FLV players (flv.js, ffmpeg before 7.1) cannot read Enhanced-FLV Opus, which a
            // WebRTC publish carries: HTTP-FLV leaves it out (RTMP players still get it).
            RemuxSerializer::Flv(to_flv) => match event {
                MediaEvent::Frame(frame) if frame.codec == Codec::Opus => Vec::new(),
                MediaEvent::Description(description)
                    if description.audio.as_ref().is_some_and(|a| a.codec == Codec::Opus) =>
                {
                    let mut without = (**description).clone();
                    without.audio = None;
                    flv_packets(to_flv, &MediaEvent::Description(std::sync::Arc::new(without)))
                }
                _ => flv_packets(to_flv, event),
            },
            RemuxSerializer::Ts(muxer) => ts_packets(muxer, event),
            RemuxSerializer::Aac(config) => match event {
                MediaEvent::Description(description) => {
                    *config =
                        description.audio.as_ref().and_then(|a| AudioSpecificConfig::parse(&a.config).ok());
                    Vec::new()
                }
                MediaEvent::Frame(frame) if frame.codec == Codec::Aac => {
                    let Some(config) = config else { return Vec::new() };
                    match config.adts_header(frame.data.len()) {
                        Ok(header) => {
                            let mut out = BytesMut::with_capacity(header.len() + frame.data.len());
                            out.put_slice(&header);
                            out.put_slice(&frame.data);
                            vec![audio_packet(out.freeze(), frame.dts.as_millis())]
                        }
                        Err(e) => {
                            tracing::warn!("dropping an AAC frame: {e}");
                            Vec::new()
                        }
                    }
                }
                _ => Vec::new(),
            },
            RemuxSerializer::Mp3 => match event {
                MediaEvent::Frame(frame) if frame.codec == Codec::Mp3 => {
                    vec![audio_packet(frame.data.clone(), frame.dts.as_millis())]
                }
                _ => Vec::new(),
            },
        }
    }
}

fn audio_packet(bytes: Bytes, time_ms: i64) -> Packet {
    Packet::new(bytes, time_ms, PacketClass::Audio)
}

fn flv_packets(to_flv: &mut FramesToFlv, event: &MediaEvent) -> Vec<Packet> {
    if let MediaEvent::Frame(frame) = event {
        // The frame's payload is shared, not copied into a tag: a stream nobody watches (an
        // ingest, a stream between players) costs no copy of its media here.
        return match to_flv.frame_tag_framing(frame) {
            Some((tag_type, timestamp_ms, head, tail)) => {
                let class = packet_class(event, tag_type);
                vec![Packet::framed(head, frame.data.clone(), tail, i64::from(timestamp_ms), class)]
            }
            None => Vec::new(),
        };
    }
    let mut packets = Vec::new();
    for tag in to_flv.push(event) {
        let class = packet_class(event, tag.tag_type);
        match tag_bytes(tag.tag_type, tag.timestamp_ms, &tag.body) {
            Ok(bytes) => packets.push(Packet::new(bytes, i64::from(tag.timestamp_ms), class)),
            Err(e) => tracing::warn!("dropping a tag: {e}"),
        }
    }
    packets
}

fn ts_packets(muxer: &mut Option<TsMuxer>, event: &MediaEvent) -> Vec<Packet> {
    match event {
        MediaEvent::Description(description) => {
            let result = match muxer {
                Some(muxer) => muxer.update_description(description),
                None => TsMuxer::new(description).map(|created| *muxer = Some(created)),
            };
            match (result, muxer.as_mut()) {
                (Ok(()), Some(muxer)) => {
                    vec![Packet::new(muxer.write_tables(), 0, PacketClass::VideoHeader)]
                }
                (Err(e), _) => {
                    tracing::warn!("http-ts cannot carry this stream: {e}");
                    Vec::new()
                }
                (Ok(()), None) => Vec::new(),
            }
        }
        MediaEvent::Frame(frame) => {
            let Some(muxer) = muxer else { return Vec::new() };
            match muxer.write_frame(frame) {
                Ok(bytes) => {
                    let class = match (frame.kind(), frame.keyframe) {
                        (MediaKind::Video, true) => PacketClass::VideoKeyframe,
                        (MediaKind::Video, false) => PacketClass::Video,
                        (MediaKind::Audio, _) => PacketClass::Audio,
                    };
                    vec![Packet::new(bytes, frame.dts.as_millis(), class)]
                }
                Err(e) => {
                    tracing::debug!("http-ts skips a frame: {e}");
                    Vec::new()
                }
            }
        }
        _ => Vec::new(),
    }
}

/// How the hub's cache rules see an FLV tag made from `event`.
pub fn packet_class(event: &MediaEvent, tag_type: TagType) -> PacketClass {
    match (event, tag_type) {
        (MediaEvent::Description(_), TagType::Video) => PacketClass::VideoHeader,
        (MediaEvent::Description(_), _) => PacketClass::AudioHeader,
        (MediaEvent::Frame(frame), TagType::Video) if frame.keyframe => PacketClass::VideoKeyframe,
        (MediaEvent::Frame(_), TagType::Video) => PacketClass::Video,
        (_, TagType::Script) => PacketClass::Metadata,
        _ => PacketClass::Audio,
    }
}
