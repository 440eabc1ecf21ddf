//! The header at the start of every audio tag body (and RTMP audio message): legacy FLV form
//! (SoundFormat, rate, size, channels, AAC packet type) and the Enhanced RTMP form (SoundFormat 9,
//! AudioPacketType, FourCC `Opus` `mp4a` `.mp3` `fLaC` `ac-3` `ec-3`), parsed and written.
//!
//! It does not look inside the payload (AudioSpecificConfig, OpusHead, frames) and does not support
//! Enhanced RTMP multitrack messages (they are reported as an error).

use bytes::{BufMut, BytesMut};

use super::cursor::{read_mod_ex, BodyCursor};
use super::FlvError;
use crate::media::Codec;

const FORMAT_MP3: u8 = 2;
const FORMAT_EX_HEADER: u8 = 9;
const FORMAT_AAC: u8 = 10;
const FORMAT_MP3_8K: u8 = 14;

const PACKET_SEQUENCE_START: u8 = 0;
const PACKET_CODED_FRAMES: u8 = 1;
const PACKET_SEQUENCE_END: u8 = 2;
const PACKET_MULTICHANNEL_CONFIG: u8 = 4;
const PACKET_MULTITRACK: u8 = 5;
const PACKET_MOD_EX: u8 = 7;

/// The codec an audio tag names, by legacy SoundFormat or by FourCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodec {
    Aac,
    Mp3,
    Opus,
    Flac,
    Ac3,
    Eac3,
    /// Another legacy SoundFormat (PCM, Nellymoser, G.711, Speex ...).
    Legacy(u8),
    /// An unknown FourCC.
    FourCc([u8; 4]),
}

impl AudioCodec {
    /// The media codec, for the codecs the server carries.
    pub fn media_codec(self) -> Option<Codec> {
        match self {
            AudioCodec::Aac => Some(Codec::Aac),
            AudioCodec::Mp3 => Some(Codec::Mp3),
            AudioCodec::Opus => Some(Codec::Opus),
            _ => None,
        }
    }

    fn from_fourcc(fourcc: [u8; 4]) -> AudioCodec {
        match &fourcc {
            b"mp4a" => AudioCodec::Aac,
            b".mp3" => AudioCodec::Mp3,
            b"Opus" => AudioCodec::Opus,
            b"fLaC" => AudioCodec::Flac,
            b"ac-3" => AudioCodec::Ac3,
            b"ec-3" => AudioCodec::Eac3,
            _ => AudioCodec::FourCc(fourcc),
        }
    }

    fn fourcc(self) -> Option<[u8; 4]> {
        match self {
            AudioCodec::Aac => Some(*b"mp4a"),
            AudioCodec::Mp3 => Some(*b".mp3"),
            AudioCodec::Opus => Some(*b"Opus"),
            AudioCodec::Flac => Some(*b"fLaC"),
            AudioCodec::Ac3 => Some(*b"ac-3"),
            AudioCodec::Eac3 => Some(*b"ec-3"),
            AudioCodec::FourCc(fourcc) => Some(fourcc),
            AudioCodec::Legacy(_) => None,
        }
    }
}

/// What the payload after the header is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioPacketKind {
    /// AudioSpecificConfig (AAC) or OpusHead / codec configuration (enhanced).
    SequenceHeader,
    CodedFrames,
    EndOfSequence,
    /// Enhanced multichannel configuration (channel order and mapping).
    MultichannelConfig,
}

/// The rate/size/channel bits of the legacy header. Decoders ignore them for AAC (which always
/// writes 44 kHz, 16-bit, stereo) and take the facts from the AudioSpecificConfig instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoundParams {
    /// 0 = 5.5 kHz, 1 = 11 kHz, 2 = 22 kHz, 3 = 44 kHz.
    pub rate_index: u8,
    pub sixteen_bit: bool,
    pub stereo: bool,
}

impl SoundParams {
    /// The bits for a sample rate and channel count; rates above 44.1 kHz are written as 44 kHz,
    /// the highest the field can say.
    pub fn for_stream(sample_rate: u32, channels: u8) -> SoundParams {
        let rate_index = match sample_rate {
            0..=8_000 => 0,
            8_001..=11_025 => 1,
            11_026..=22_050 => 2,
            _ => 3,
        };
        SoundParams { rate_index, sixteen_bit: true, stereo: channels >= 2 }
    }

    /// The sample rate the index names.
    pub fn sample_rate(self) -> u32 {
        [5_512, 11_025, 22_050, 44_100][usize::from(self.rate_index & 3)]
    }
}

/// The parsed header of an audio tag body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioTagHeader {
    /// The 4-bit SoundFormat (9 for the enhanced form).
    pub sound_format: u8,
    pub codec: AudioCodec,
    pub packet: AudioPacketKind,
    /// Present in the legacy form only.
    pub params: Option<SoundParams>,
    /// Enhanced RTMP v2 ModEx timestamp offset, in nanoseconds; 0 when absent. Never written.
    pub timestamp_offset_nanos: u32,
    /// Bytes taken by the header: the payload starts here.
    pub header_len: usize,
}

impl AudioTagHeader {
    /// Parses the header of an audio tag body.
    pub fn parse(body: &[u8]) -> Result<AudioTagHeader, FlvError> {
        let mut cursor = BodyCursor::new(body, "audio");
        let first = cursor.u8()?;
        let sound_format = first >> 4;
        if sound_format == FORMAT_EX_HEADER {
            return parse_enhanced(first, cursor);
        }
        let params =
            SoundParams { rate_index: (first >> 2) & 3, sixteen_bit: first & 2 != 0, stereo: first & 1 != 0 };
        let codec = match sound_format {
            FORMAT_AAC => AudioCodec::Aac,
            FORMAT_MP3 | FORMAT_MP3_8K => AudioCodec::Mp3,
            other => AudioCodec::Legacy(other),
        };
        let packet = if codec == AudioCodec::Aac {
            match cursor.u8()? {
                0 => AudioPacketKind::SequenceHeader,
                1 => AudioPacketKind::CodedFrames,
                other => return Err(FlvError::UnknownAacPacketType(other)),
            }
        } else {
            AudioPacketKind::CodedFrames
        };
        Ok(AudioTagHeader {
            sound_format,
            codec,
            packet,
            params: Some(params),
            timestamp_offset_nanos: 0,
            header_len: cursor.position(),
        })
    }

    /// The header for a packet of `codec` in the form this server writes: legacy for AAC and MP3,
    /// enhanced for Opus. `None` for a video codec.
    pub fn for_codec(codec: Codec, packet: AudioPacketKind, sample_rate: u32, channels: u8) -> Option<Self> {
        let (sound_format, audio_codec, params) = match codec {
            // AAC always says 44 kHz stereo: players read the real values from the AudioSpecificConfig.
            Codec::Aac => (FORMAT_AAC, AudioCodec::Aac, Some(SoundParams::for_stream(44_100, 2))),
            Codec::Mp3 => (FORMAT_MP3, AudioCodec::Mp3, Some(SoundParams::for_stream(sample_rate, channels))),
            Codec::Opus => (FORMAT_EX_HEADER, AudioCodec::Opus, None),
            Codec::H264 | Codec::H265 | Codec::Av1 => return None,
        };
        let header_len = match sound_format {
            FORMAT_AAC => 2,
            FORMAT_EX_HEADER => 5,
            _ => 1,
        };
        Some(AudioTagHeader {
            sound_format,
            codec: audio_codec,
            packet,
            params,
            timestamp_offset_nanos: 0,
            header_len,
        })
    }

    /// Writes the header.
    pub fn write(&self, out: &mut BytesMut) -> Result<(), FlvError> {
        if self.sound_format == FORMAT_EX_HEADER {
            let fourcc =
                self.codec.fourcc().ok_or(FlvError::UnsupportedCodec("this codec in enhanced form"))?;
            let packet_type = match self.packet {
                AudioPacketKind::SequenceHeader => PACKET_SEQUENCE_START,
                AudioPacketKind::CodedFrames => PACKET_CODED_FRAMES,
                AudioPacketKind::EndOfSequence => PACKET_SEQUENCE_END,
                AudioPacketKind::MultichannelConfig => PACKET_MULTICHANNEL_CONFIG,
            };
            out.put_u8(FORMAT_EX_HEADER << 4 | packet_type);
            out.put_slice(&fourcc);
            return Ok(());
        }
        let params = self.params.unwrap_or(SoundParams::for_stream(44_100, 2));
        let bits = (params.rate_index & 3) << 2 | u8::from(params.sixteen_bit) << 1 | u8::from(params.stereo);
        out.put_u8((self.sound_format & 0x0f) << 4 | bits);
        if self.codec == AudioCodec::Aac {
            out.put_u8(match self.packet {
                AudioPacketKind::SequenceHeader => 0,
                AudioPacketKind::CodedFrames => 1,
                AudioPacketKind::EndOfSequence | AudioPacketKind::MultichannelConfig => {
                    return Err(FlvError::UnsupportedCodec("enhanced-only aac packet in legacy form"))
                }
            });
        }
        Ok(())
    }
}

fn parse_enhanced(first: u8, mut cursor: BodyCursor<'_>) -> Result<AudioTagHeader, FlvError> {
    let mut packet_type = first & 0x0f;
    let mut timestamp_offset_nanos = 0;
    if packet_type == PACKET_MOD_EX {
        (packet_type, timestamp_offset_nanos) = read_mod_ex(&mut cursor, PACKET_MOD_EX)?;
    }
    if packet_type == PACKET_MULTITRACK {
        return Err(FlvError::MultitrackUnsupported("audio"));
    }
    let codec = AudioCodec::from_fourcc(cursor.fourcc()?);
    let packet = match packet_type {
        PACKET_SEQUENCE_START => AudioPacketKind::SequenceHeader,
        PACKET_CODED_FRAMES => AudioPacketKind::CodedFrames,
        PACKET_SEQUENCE_END => AudioPacketKind::EndOfSequence,
        PACKET_MULTICHANNEL_CONFIG => AudioPacketKind::MultichannelConfig,
        other => return Err(FlvError::UnknownAudioPacketType(other)),
    };
    Ok(AudioTagHeader {
        sound_format: FORMAT_EX_HEADER,
        codec,
        packet,
        params: None,
        timestamp_offset_nanos,
        header_len: cursor.position(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(header: &AudioTagHeader) -> Vec<u8> {
        let mut out = BytesMut::new();
        header.write(&mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn legacy_aac_sequence_header_and_raw() {
        let header = AudioTagHeader::parse(&[0xaf, 0x00, 0x12, 0x10]).unwrap();
        assert_eq!(
            (header.codec, header.packet, header.header_len),
            (AudioCodec::Aac, AudioPacketKind::SequenceHeader, 2)
        );
        assert_eq!(header.params, Some(SoundParams { rate_index: 3, sixteen_bit: true, stereo: true }));
        assert_eq!(written(&header), [0xaf, 0x00]);
        let raw = AudioTagHeader::parse(&[0xaf, 0x01, 0x21]).unwrap();
        assert_eq!(raw.packet, AudioPacketKind::CodedFrames);
        let built = AudioTagHeader::for_codec(Codec::Aac, AudioPacketKind::CodedFrames, 48_000, 1).unwrap();
        assert_eq!(written(&built), [0xaf, 0x01]);
    }

    #[test]
    fn legacy_mp3_mono_22k() {
        let header = AudioTagHeader::parse(&[0x2a, 0xff, 0xf3]).unwrap();
        assert_eq!((header.codec, header.header_len), (AudioCodec::Mp3, 1));
        let params = header.params.unwrap();
        assert_eq!((params.sample_rate(), params.stereo), (22_050, false));
        let built = AudioTagHeader::for_codec(Codec::Mp3, AudioPacketKind::CodedFrames, 22_050, 1).unwrap();
        assert_eq!(written(&built), [0x2a]);
    }

    #[test]
    fn enhanced_opus_and_other_fourccs() {
        let header = AudioTagHeader::parse(b"\x90OpusOpusHead").unwrap();
        assert_eq!(
            (header.codec, header.packet, header.header_len),
            (AudioCodec::Opus, AudioPacketKind::SequenceHeader, 5)
        );
        assert_eq!(header.params, None);
        assert_eq!(written(&header), b"\x90Opus");
        let built = AudioTagHeader::for_codec(Codec::Opus, AudioPacketKind::CodedFrames, 48_000, 2).unwrap();
        assert_eq!(written(&built), b"\x91Opus");
        assert_eq!(built.header_len, 5);
        for (fourcc, codec) in [
            (b"mp4a", AudioCodec::Aac),
            (b".mp3", AudioCodec::Mp3),
            (b"fLaC", AudioCodec::Flac),
            (b"ac-3", AudioCodec::Ac3),
        ] {
            let mut body = vec![0x91];
            body.extend_from_slice(fourcc);
            assert_eq!(AudioTagHeader::parse(&body).unwrap().codec, codec);
        }
        assert_eq!(AudioTagHeader::parse(b"\x92Opus").unwrap().packet, AudioPacketKind::EndOfSequence);
    }

    #[test]
    fn errors_are_typed() {
        assert_eq!(AudioTagHeader::parse(&[0xaf, 0x03]), Err(FlvError::UnknownAacPacketType(3)));
        assert_eq!(
            AudioTagHeader::parse(&[0xaf]),
            Err(FlvError::BodyTooShort { what: "audio", len: 1, needed: 2 })
        );
        assert_eq!(AudioTagHeader::parse(b"\x93Opus"), Err(FlvError::UnknownAudioPacketType(3)));
        assert_eq!(AudioTagHeader::parse(b"\x95\x00Opus"), Err(FlvError::MultitrackUnsupported("audio")));
        assert_eq!(
            AudioTagHeader::parse(b"\x91Op"),
            Err(FlvError::BodyTooShort { what: "audio", len: 3, needed: 5 })
        );
        assert_eq!(AudioTagHeader::for_codec(Codec::H264, AudioPacketKind::CodedFrames, 0, 0), None);
    }
}
