//! The muxer: frames in, program stream packs out, shaped as GB28181 cameras send them: each
//! frame is one pack (pack header; a system header and PSM before keyframes and the first
//! frame), a video frame split into PES packets of at most 64 KiB with the PTS on the first.

use bytes::{BufMut, BytesMut};

use super::pack::{self, MAX_PES_LENGTH, STREAM_ID_AUDIO, STREAM_ID_VIDEO};
use super::{stream_type, PsError};
use crate::codec::mpegts::audio::AudioWriter;
use crate::codec::mpegts::pes::{write_timestamp, TIMESTAMP_MASK};
use crate::codec::mpegts::video::AnnexbWriter;
use crate::media::{AudioTrack, Codec, Frame, MediaKind, Timebase, VideoTrack};

/// PES payload bytes per packet: the 16-bit length less the optional header with PTS and DTS.
const PES_PAYLOAD: usize = MAX_PES_LENGTH - 3 - 10;
/// program_mux_rate in units of 50 bytes/s (the value is advisory for readers).
const MUX_RATE: u32 = 6106;

pub struct PsMuxer {
    video: Option<(Codec, AnnexbWriter)>,
    audio: Option<AudioWriter>,
    headers_written: bool,
    scratch: BytesMut,
}

impl PsMuxer {
    pub fn new(video: Option<&VideoTrack>, audio: Option<&AudioTrack>) -> Result<PsMuxer, PsError> {
        let video = match video {
            Some(track) if matches!(track.codec, Codec::H264 | Codec::H265) => {
                let writer = AnnexbWriter::new(track)
                    .map_err(|e| PsError::Elementary { codec: track.codec, reason: e.to_string() })?;
                Some((track.codec, writer))
            }
            Some(track) => return Err(PsError::UnsupportedCodec { codec: track.codec }),
            None => None,
        };
        let audio = match audio {
            Some(track) if track.codec == Codec::Aac => Some(
                AudioWriter::new(track)
                    .map_err(|e| PsError::Elementary { codec: track.codec, reason: e.to_string() })?,
            ),
            Some(track) => return Err(PsError::UnsupportedCodec { codec: track.codec }),
            None => None,
        };
        Ok(PsMuxer { video, audio, headers_written: false, scratch: BytesMut::new() })
    }

    /// One frame as a pack, appended to `out`.
    pub fn write_frame_into(&mut self, frame: &Frame, out: &mut BytesMut) -> Result<(), PsError> {
        let dts = (frame.dts.rescale(Timebase::MPEG).ticks() as u64) & TIMESTAMP_MASK;
        let pts = (frame.pts.rescale(Timebase::MPEG).ticks() as u64) & TIMESTAMP_MASK;
        pack::write_pack_header(out, dts, MUX_RATE);
        let is_video = frame.kind() == MediaKind::Video;
        if !self.headers_written || (is_video && frame.keyframe) {
            self.write_stream_headers(out);
        }
        self.scratch.clear();
        match frame.kind() {
            MediaKind::Video => {
                let Some((_, writer)) = self.video.as_ref().filter(|(codec, _)| *codec == frame.codec) else {
                    return Err(PsError::UnsupportedCodec { codec: frame.codec });
                };
                writer
                    .write(&frame.data, frame.keyframe, &mut self.scratch)
                    .map_err(|e| PsError::Elementary { codec: frame.codec, reason: e.to_string() })?;
                for (i, chunk) in self.scratch.chunks(PES_PAYLOAD).enumerate() {
                    let times = (i == 0).then_some((pts, dts));
                    write_pes(out, STREAM_ID_VIDEO, times, chunk);
                }
            }
            MediaKind::Audio => {
                let Some(writer) = self.audio.as_ref().filter(|_| frame.codec == Codec::Aac) else {
                    return Err(PsError::UnsupportedCodec { codec: frame.codec });
                };
                let header = writer
                    .header(frame.data.len())
                    .map_err(|e| PsError::Elementary { codec: frame.codec, reason: e.to_string() })?;
                if let Some(header) = header {
                    self.scratch.put_slice(&header);
                }
                self.scratch.put_slice(&frame.data);
                for (i, chunk) in self.scratch.chunks(PES_PAYLOAD).enumerate() {
                    write_pes(out, STREAM_ID_AUDIO, (i == 0).then_some((pts, pts)), chunk);
                }
            }
        }
        Ok(())
    }

    fn write_stream_headers(&mut self, out: &mut BytesMut) {
        self.headers_written = true;
        pack::write_system_header(out, self.video.is_some(), self.audio.is_some());
        let mut streams = Vec::new();
        if let Some((codec, _)) = &self.video {
            let kind = if *codec == Codec::H265 { stream_type::H265 } else { stream_type::H264 };
            streams.push((kind, STREAM_ID_VIDEO));
        }
        if self.audio.is_some() {
            streams.push((stream_type::AAC, STREAM_ID_AUDIO));
        }
        pack::write_psm(out, &streams);
    }
}

/// One bounded PES packet; `times` is `(pts, dts)` for the first packet of a frame.
fn write_pes(out: &mut BytesMut, stream_id: u8, times: Option<(u64, u64)>, payload: &[u8]) {
    let header_data_len = match times {
        Some((pts, dts)) if pts != dts => 10,
        Some(_) => 5,
        None => 0,
    };
    out.put_slice(&[0, 0, 1, stream_id]);
    out.put_u16((3 + header_data_len + payload.len()) as u16);
    out.put_u8(0x80 | if times.is_some() { 0x04 } else { 0 });
    out.put_u8(match header_data_len {
        10 => 0xc0,
        5 => 0x80,
        _ => 0x00,
    });
    out.put_u8(header_data_len as u8);
    match times {
        Some((pts, dts)) if pts != dts => {
            write_timestamp(out, 0x3, pts);
            write_timestamp(out, 0x1, dts);
        }
        Some((pts, _)) => write_timestamp(out, 0x2, pts),
        None => {}
    }
    out.put_slice(payload);
}
