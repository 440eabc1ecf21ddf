//! The header at the start of every video tag body (and RTMP video message): legacy FLV form
//! (codec id 7 AVC, and the non-standard id 12 HEVC used by SRS and Chinese CDNs) and the Enhanced RTMP
//! form (IsExVideo bit, packet type, FourCC `avc1` `hvc1` `av01` `vp09` `vp08`), parsed and written.
//!
//! It does not look inside the payload (NAL units, OBUs, decoder configuration records) and does not
//! support Enhanced RTMP multitrack messages (they are reported as an error).

use bytes::{BufMut, BytesMut};

use super::cursor::{read_mod_ex, BodyCursor};
use super::FlvError;
use crate::media::Codec;

const EX_VIDEO_BIT: u8 = 0x80;
const LEGACY_AVC: u8 = 7;
const LEGACY_HEVC: u8 = 12;

const PACKET_SEQUENCE_START: u8 = 0;
const PACKET_CODED_FRAMES: u8 = 1;
const PACKET_SEQUENCE_END: u8 = 2;
const PACKET_CODED_FRAMES_X: u8 = 3;
const PACKET_METADATA: u8 = 4;
const PACKET_MPEG2TS_SEQUENCE_START: u8 = 5;
const PACKET_MULTITRACK: u8 = 6;
const PACKET_MOD_EX: u8 = 7;

/// The 3-bit (enhanced) or 4-bit (legacy) frame type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoFrameType {
    Key,
    Inter,
    DisposableInter,
    GeneratedKey,
    /// A video info / command frame: no picture, one command byte.
    Command,
    Reserved(u8),
}

impl VideoFrameType {
    fn from_bits(bits: u8) -> VideoFrameType {
        match bits {
            1 => VideoFrameType::Key,
            2 => VideoFrameType::Inter,
            3 => VideoFrameType::DisposableInter,
            4 => VideoFrameType::GeneratedKey,
            5 => VideoFrameType::Command,
            other => VideoFrameType::Reserved(other),
        }
    }

    fn bits(self) -> u8 {
        match self {
            VideoFrameType::Key => 1,
            VideoFrameType::Inter => 2,
            VideoFrameType::DisposableInter => 3,
            VideoFrameType::GeneratedKey => 4,
            VideoFrameType::Command => 5,
            VideoFrameType::Reserved(bits) => bits & 0x07,
        }
    }

    pub fn is_keyframe(self) -> bool {
        matches!(self, VideoFrameType::Key | VideoFrameType::GeneratedKey)
    }
}

/// The codec a video tag names, by legacy codec id or by FourCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    H264,
    H265,
    Av1,
    Vp9,
    Vp8,
    /// Another legacy codec id (Sorenson H.263, VP6, screen video ...).
    Legacy(u8),
    /// An unknown FourCC.
    FourCc([u8; 4]),
    /// Enhanced command frames name no codec.
    Unspecified,
}

impl VideoCodec {
    /// The media codec, for the codecs the server carries.
    pub fn media_codec(self) -> Option<Codec> {
        match self {
            VideoCodec::H264 => Some(Codec::H264),
            VideoCodec::H265 => Some(Codec::H265),
            VideoCodec::Av1 => Some(Codec::Av1),
            _ => None,
        }
    }

    pub fn from_media_codec(codec: Codec) -> Option<VideoCodec> {
        match codec {
            Codec::H264 => Some(VideoCodec::H264),
            Codec::H265 => Some(VideoCodec::H265),
            Codec::Av1 => Some(VideoCodec::Av1),
            _ => None,
        }
    }

    fn from_fourcc(fourcc: [u8; 4]) -> VideoCodec {
        match &fourcc {
            b"avc1" => VideoCodec::H264,
            b"hvc1" => VideoCodec::H265,
            b"av01" => VideoCodec::Av1,
            b"vp09" => VideoCodec::Vp9,
            b"vp08" => VideoCodec::Vp8,
            _ => VideoCodec::FourCc(fourcc),
        }
    }

    fn fourcc(self) -> Option<[u8; 4]> {
        match self {
            VideoCodec::H264 => Some(*b"avc1"),
            VideoCodec::H265 => Some(*b"hvc1"),
            VideoCodec::Av1 => Some(*b"av01"),
            VideoCodec::Vp9 => Some(*b"vp09"),
            VideoCodec::Vp8 => Some(*b"vp08"),
            VideoCodec::FourCc(fourcc) => Some(fourcc),
            VideoCodec::Legacy(_) | VideoCodec::Unspecified => None,
        }
    }

    fn legacy_id(self) -> Option<u8> {
        match self {
            VideoCodec::H264 => Some(LEGACY_AVC),
            VideoCodec::H265 => Some(LEGACY_HEVC),
            VideoCodec::Legacy(id) => Some(id & 0x0f),
            _ => None,
        }
    }

    /// Codecs whose coded frames carry a composition time offset.
    fn has_composition_time(self) -> bool {
        matches!(self, VideoCodec::H264 | VideoCodec::H265)
    }
}

/// What the payload after the header is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoPacketKind {
    /// A decoder configuration record (avcC, hvcC, av1C, vpcC).
    SequenceHeader,
    CodedFrames,
    EndOfSequence,
    /// AMF-encoded video metadata (colorInfo), enhanced only.
    Metadata,
    /// An AV1 MPEG-2 TS video descriptor instead of av1C, enhanced only.
    Mpeg2TsSequenceStart,
    /// A command frame and its command byte (0 start of seek, 1 end of seek).
    Command(u8),
}

/// The parsed header of a video tag body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoTagHeader {
    pub frame_type: VideoFrameType,
    pub codec: VideoCodec,
    pub packet: VideoPacketKind,
    /// Composition time offset (pts - dts) in milliseconds; 0 where the form carries none.
    pub composition_time_ms: i32,
    /// Enhanced RTMP v2 ModEx timestamp offset, in nanoseconds; 0 when absent. Never written.
    pub timestamp_offset_nanos: u32,
    /// Written with the IsExVideo bit and a FourCC.
    pub enhanced: bool,
    /// Bytes taken by the header: the payload starts here.
    pub header_len: usize,
}

impl VideoTagHeader {
    /// Parses the header of a video tag body.
    pub fn parse(body: &[u8]) -> Result<VideoTagHeader, FlvError> {
        let mut cursor = BodyCursor::new(body, "video");
        let first = cursor.u8()?;
        if first & EX_VIDEO_BIT != 0 {
            return parse_enhanced(first, cursor);
        }
        let frame_type = VideoFrameType::from_bits(first >> 4);
        let codec = match first & 0x0f {
            LEGACY_AVC => VideoCodec::H264,
            LEGACY_HEVC => VideoCodec::H265,
            other => VideoCodec::Legacy(other),
        };
        let mut header = VideoTagHeader {
            frame_type,
            codec,
            packet: VideoPacketKind::CodedFrames,
            composition_time_ms: 0,
            timestamp_offset_nanos: 0,
            enhanced: false,
            header_len: 1,
        };
        if frame_type == VideoFrameType::Command {
            header.packet = VideoPacketKind::Command(cursor.u8()?);
        } else if matches!(codec, VideoCodec::H264 | VideoCodec::H265) {
            header.packet = match cursor.u8()? {
                0 => VideoPacketKind::SequenceHeader,
                1 => VideoPacketKind::CodedFrames,
                2 => VideoPacketKind::EndOfSequence,
                other => return Err(FlvError::UnknownAvcPacketType(other)),
            };
            header.composition_time_ms = cursor.i24()?;
        }
        header.header_len = cursor.position();
        Ok(header)
    }

    /// The header for a packet of `codec` in the form this server writes: legacy for H.264,
    /// enhanced for H.265 and AV1.
    pub fn for_codec(
        codec: Codec,
        packet: VideoPacketKind,
        keyframe: bool,
        composition_time_ms: i32,
    ) -> Self {
        let frame_type = if keyframe { VideoFrameType::Key } else { VideoFrameType::Inter };
        let video_codec = VideoCodec::from_media_codec(codec).unwrap_or(VideoCodec::Unspecified);
        let mut header = VideoTagHeader {
            frame_type,
            codec: video_codec,
            packet,
            composition_time_ms,
            timestamp_offset_nanos: 0,
            enhanced: codec != Codec::H264,
            header_len: 0,
        };
        header.header_len = header.encoded_len();
        header
    }

    fn encoded_len(&self) -> usize {
        let mut scratch = BytesMut::with_capacity(16);
        match self.write(&mut scratch) {
            Ok(()) => scratch.len(),
            Err(_) => 0,
        }
    }

    /// Writes the header. Enhanced coded frames with a zero composition time use the compact
    /// CodedFramesX form.
    pub fn write(&self, out: &mut BytesMut) -> Result<(), FlvError> {
        let frame_bits = self.frame_type.bits();
        if !self.enhanced {
            let id = self.codec.legacy_id().ok_or(FlvError::UnsupportedCodec("this codec in legacy form"))?;
            out.put_u8(frame_bits << 4 | id);
            let packet_type = match self.packet {
                VideoPacketKind::Command(command) => {
                    out.put_u8(command);
                    return Ok(());
                }
                _ if !matches!(self.codec, VideoCodec::H264 | VideoCodec::H265) => return Ok(()),
                VideoPacketKind::SequenceHeader => 0,
                VideoPacketKind::CodedFrames => 1,
                VideoPacketKind::EndOfSequence => 2,
                VideoPacketKind::Metadata | VideoPacketKind::Mpeg2TsSequenceStart => {
                    return Err(FlvError::UnsupportedCodec("enhanced-only packet in legacy form"))
                }
            };
            out.put_u8(packet_type);
            put_i24(out, self.composition_time_ms);
            return Ok(());
        }
        if let VideoPacketKind::Command(command) = self.packet {
            out.put_u8(EX_VIDEO_BIT | (VideoFrameType::Command.bits() << 4) | PACKET_SEQUENCE_START);
            out.put_u8(command);
            return Ok(());
        }
        let fourcc = self.codec.fourcc().ok_or(FlvError::UnsupportedCodec("this codec in enhanced form"))?;
        let with_cts = self.codec.has_composition_time() && self.composition_time_ms != 0;
        let packet_type = match self.packet {
            VideoPacketKind::SequenceHeader => PACKET_SEQUENCE_START,
            VideoPacketKind::CodedFrames if with_cts => PACKET_CODED_FRAMES,
            VideoPacketKind::CodedFrames if self.codec.has_composition_time() => PACKET_CODED_FRAMES_X,
            VideoPacketKind::CodedFrames => PACKET_CODED_FRAMES,
            VideoPacketKind::EndOfSequence => PACKET_SEQUENCE_END,
            VideoPacketKind::Metadata => PACKET_METADATA,
            VideoPacketKind::Mpeg2TsSequenceStart => PACKET_MPEG2TS_SEQUENCE_START,
            VideoPacketKind::Command(_) => unreachable!("handled above"),
        };
        out.put_u8(EX_VIDEO_BIT | (frame_bits << 4) | packet_type);
        out.put_slice(&fourcc);
        if packet_type == PACKET_CODED_FRAMES && self.codec.has_composition_time() {
            put_i24(out, self.composition_time_ms);
        }
        Ok(())
    }
}

fn parse_enhanced(first: u8, mut cursor: BodyCursor<'_>) -> Result<VideoTagHeader, FlvError> {
    let frame_type = VideoFrameType::from_bits((first >> 4) & 0x07);
    let mut packet_type = first & 0x0f;
    let mut header = VideoTagHeader {
        frame_type,
        codec: VideoCodec::Unspecified,
        packet: VideoPacketKind::CodedFrames,
        composition_time_ms: 0,
        timestamp_offset_nanos: 0,
        enhanced: true,
        header_len: 0,
    };
    if packet_type != PACKET_METADATA && frame_type == VideoFrameType::Command {
        header.packet = VideoPacketKind::Command(cursor.u8()?);
        header.header_len = cursor.position();
        return Ok(header);
    }
    if packet_type == PACKET_MOD_EX {
        (packet_type, header.timestamp_offset_nanos) = read_mod_ex(&mut cursor, PACKET_MOD_EX)?;
    }
    if packet_type == PACKET_MULTITRACK {
        return Err(FlvError::MultitrackUnsupported("video"));
    }
    header.codec = VideoCodec::from_fourcc(cursor.fourcc()?);
    header.packet = match packet_type {
        PACKET_SEQUENCE_START => VideoPacketKind::SequenceHeader,
        PACKET_CODED_FRAMES => {
            if header.codec.has_composition_time() {
                header.composition_time_ms = cursor.i24()?;
            }
            VideoPacketKind::CodedFrames
        }
        PACKET_CODED_FRAMES_X => VideoPacketKind::CodedFrames,
        PACKET_SEQUENCE_END => VideoPacketKind::EndOfSequence,
        PACKET_METADATA => VideoPacketKind::Metadata,
        PACKET_MPEG2TS_SEQUENCE_START => VideoPacketKind::Mpeg2TsSequenceStart,
        other => return Err(FlvError::UnknownVideoPacketType(other)),
    };
    header.header_len = cursor.position();
    Ok(header)
}

fn put_i24(out: &mut BytesMut, value: i32) {
    // Two's complement truncated to 24 bits; callers keep offsets within ±8388607 ms.
    let raw = (value as u32) & 0x00ff_ffff;
    out.put_slice(&raw.to_be_bytes()[1..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(header: &VideoTagHeader) -> Vec<u8> {
        let mut out = BytesMut::new();
        header.write(&mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn legacy_avc_with_negative_composition_time() {
        let body = [0x17, 0x01, 0xff, 0xff, 0xce, 0xaa];
        let header = VideoTagHeader::parse(&body).unwrap();
        assert_eq!(header.frame_type, VideoFrameType::Key);
        assert_eq!(header.codec, VideoCodec::H264);
        assert_eq!(header.packet, VideoPacketKind::CodedFrames);
        assert_eq!(header.composition_time_ms, -50);
        assert_eq!(header.header_len, 5);
        assert!(!header.enhanced);
        assert_eq!(written(&header), &body[..5]);
    }

    #[test]
    fn legacy_hevc_codec_id_12() {
        let body = [0x1c, 0x00, 0x00, 0x00, 0x00, 0x01];
        let header = VideoTagHeader::parse(&body).unwrap();
        assert_eq!(header.codec.media_codec(), Some(Codec::H265));
        assert_eq!(header.packet, VideoPacketKind::SequenceHeader);
        assert_eq!(written(&header), &body[..5]);
    }

    #[test]
    fn enhanced_hevc_coded_frames_and_compact_form() {
        let body = [0x91, b'h', b'v', b'c', b'1', 0x00, 0x00, 0x28, 0x00];
        let header = VideoTagHeader::parse(&body).unwrap();
        assert_eq!((header.codec, header.composition_time_ms, header.header_len), (VideoCodec::H265, 40, 8));
        assert_eq!(written(&header), &body[..8]);
        let compact = [0xa3, b'h', b'v', b'c', b'1', 0x00];
        let header = VideoTagHeader::parse(&compact).unwrap();
        assert_eq!(header.frame_type, VideoFrameType::Inter);
        assert_eq!(
            (header.packet, header.composition_time_ms, header.header_len),
            (VideoPacketKind::CodedFrames, 0, 5)
        );
        assert_eq!(written(&header), &compact[..5]);
    }

    #[test]
    fn enhanced_av1_sequence_start_and_metadata() {
        let header = VideoTagHeader::parse(b"\x90av01\x81").unwrap();
        assert_eq!(
            (header.codec, header.packet, header.header_len),
            (VideoCodec::Av1, VideoPacketKind::SequenceHeader, 5)
        );
        let header = VideoTagHeader::parse(b"\x94vp09\x02").unwrap();
        assert_eq!((header.codec, header.packet), (VideoCodec::Vp9, VideoPacketKind::Metadata));
        let av1 = VideoTagHeader::for_codec(Codec::Av1, VideoPacketKind::CodedFrames, true, 0);
        assert_eq!(written(&av1), b"\x91av01");
        assert_eq!(av1.header_len, 5);
    }

    #[test]
    fn mod_ex_timestamp_offset_then_coded_frames() {
        // ModEx with 3 bytes of data (size - 1 = 2), type 0 (nanos), then packet type CodedFramesX.
        let body = [0x97, 0x02, 0x00, 0x01, 0xf4, 0x03, b'h', b'v', b'c', b'1', 0xee];
        let header = VideoTagHeader::parse(&body).unwrap();
        assert_eq!(header.timestamp_offset_nanos, 500);
        assert_eq!(
            (header.codec, header.packet, header.header_len),
            (VideoCodec::H265, VideoPacketKind::CodedFrames, 10)
        );
    }

    #[test]
    fn command_frames_and_errors() {
        let header = VideoTagHeader::parse(&[0x57, 0x01]).unwrap();
        assert_eq!(header.packet, VideoPacketKind::Command(1));
        let header = VideoTagHeader::parse(&[0xd1, 0x00]).unwrap();
        assert_eq!((header.packet, header.codec), (VideoPacketKind::Command(0), VideoCodec::Unspecified));
        assert_eq!(written(&header), [0xd0, 0x00]);
        assert_eq!(VideoTagHeader::parse(&[0x17, 0x05, 0, 0, 0]), Err(FlvError::UnknownAvcPacketType(5)));
        assert_eq!(VideoTagHeader::parse(b"\x98hvc1"), Err(FlvError::UnknownVideoPacketType(8)));
        assert_eq!(VideoTagHeader::parse(b"\x96\x00hvc1"), Err(FlvError::MultitrackUnsupported("video")));
        assert_eq!(
            VideoTagHeader::parse(&[0x17, 0x01, 0x00]),
            Err(FlvError::BodyTooShort { what: "video", len: 3, needed: 5 })
        );
        assert_eq!(
            VideoTagHeader::parse(&[]),
            Err(FlvError::BodyTooShort { what: "video", len: 0, needed: 1 })
        );
        // A legacy codec this server does not carry still parses, with a one-byte header.
        let vp6 = VideoTagHeader::parse(&[0x24, 0x00]).unwrap();
        assert_eq!((vp6.codec, vp6.header_len, vp6.codec.media_codec()), (VideoCodec::Legacy(4), 1, None));
    }

    #[test]
    fn for_codec_picks_legacy_for_h264_enhanced_for_h265() {
        let avc = VideoTagHeader::for_codec(Codec::H264, VideoPacketKind::CodedFrames, false, 80);
        assert_eq!(written(&avc), [0x27, 0x01, 0x00, 0x00, 0x50]);
        let hevc = VideoTagHeader::for_codec(Codec::H265, VideoPacketKind::SequenceHeader, true, 0);
        assert_eq!(written(&hevc), b"\x90hvc1");
        assert_eq!(hevc.header_len, 5);
    }
}
