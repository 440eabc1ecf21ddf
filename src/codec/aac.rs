//! AAC bitstream facts: the AudioSpecificConfig (ISO 14496-3 §1.6.2.1) and the ADTS header (§1.A.2).
//!
//! It reads the object type (with the escape for types above 30), the sampling frequency (table index
//! or explicit 24-bit rate), the channel configuration and the SBR/PS signalling that makes a stream
//! HE-AAC or HE-AACv2; it writes the same, and builds and parses ADTS headers. It does not parse program
//! config elements (channel configuration 0) or anything inside raw data blocks.

use bytes::Bytes;
use thiserror::Error;

use super::bits::{BitReader, BitWriter, BitsError};

/// Sampling frequencies by index (§1.6.3.4); 13 and 14 are reserved, 15 means "explicit rate follows".
pub const SAMPLE_RATES: [u32; 13] =
    [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
pub const OBJECT_TYPE_MAIN: u8 = 1;
pub const OBJECT_TYPE_LC: u8 = 2;
pub const OBJECT_TYPE_SSR: u8 = 3;
/// SBR: HE-AAC (v1).
pub const OBJECT_TYPE_SBR: u8 = 5;
/// PS: HE-AACv2.
pub const OBJECT_TYPE_PS: u8 = 29;
/// Index value that announces an explicit 24-bit sampling frequency.
pub const EXPLICIT_RATE_INDEX: u8 = 15;

/// The 13-bit ADTS frame_length field caps a frame, header included.
const MAX_ADTS_FRAME_LEN: usize = 0x1fff;
const ADTS_HEADER_LEN: usize = 7;
const ADTS_HEADER_LEN_WITH_CRC: usize = 9;
/// syncExtensionType announcing backward-compatible SBR signalling after GASpecificConfig.
const SYNC_EXTENSION_SBR: u32 = 0x2b7;
/// syncExtensionType announcing backward-compatible PS signalling after the SBR one.
const SYNC_EXTENSION_PS: u32 = 0x548;

/// What can go wrong while reading or writing AAC headers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AacError {
    #[error("audio specific config: {0}")]
    Bits(#[from] BitsError),
    #[error("sampling frequency index {0} is reserved")]
    ReservedSampleRateIndex(u8),
    #[error("explicit sampling frequency of 0 hz")]
    ZeroSampleRate,
    #[error("no adts sync word at byte 0")]
    NoAdtsSync,
    #[error("adts header truncated: {available} of {needed} bytes")]
    AdtsTruncated { available: usize, needed: usize },
    #[error("adts frame length {frame_len} is shorter than its {header_len}-byte header")]
    AdtsFrameTooShort { frame_len: usize, header_len: usize },
    #[error("adts frame of {0} bytes is over the 8191-byte limit")]
    AdtsFrameTooLong(usize),
    #[error("object type {0} cannot be carried in adts")]
    ObjectTypeNotInAdts(u8),
    #[error("sampling frequency index {0} cannot be carried in adts")]
    SampleRateNotInAdts(u8),
    #[error("channel configuration {0} does not fit adts")]
    ChannelsNotInAdts(u8),
}

/// The decoder configuration of an AAC stream, as RTMP/FLV and MP4 carry it.
///
/// For HE-AAC signalled explicitly, `object_type` is 5 (SBR) or 29 (PS) and the sampling fields are the
/// core (AAC LC) rate, which is what ADTS headers and frame durations use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    pub object_type: u8,
    /// Index into `SAMPLE_RATES`, or 15 when `sample_rate` was given explicitly.
    pub sample_rate_index: u8,
    pub sample_rate: u32,
    /// channelConfiguration: 1 mono, 2 stereo, ... 0 means a program config element defines them.
    pub channels: u8,
}

/// The SBR/PS facts of an ASC, whether signalled explicitly or by a sync extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AscExtension {
    pub sbr: bool,
    pub ps: bool,
    /// The SBR output sampling frequency, when signalled.
    pub extension_sample_rate: Option<u32>,
}

/// A parsed ADTS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsHeader {
    pub config: AudioSpecificConfig,
    /// 7, or 9 when a CRC follows the fixed header.
    pub header_len: usize,
    /// Header plus payload, in bytes.
    pub frame_len: usize,
}

impl AudioSpecificConfig {
    pub fn parse(asc: &[u8]) -> Result<Self, AacError> {
        Self::parse_with_extension(asc).map(|(config, _)| config)
    }

    /// Parses the config and its SBR/PS signalling. A malformed trailing sync extension is ignored,
    /// because decoders treat it as optional and some muxers pad the ASC with junk.
    pub fn parse_with_extension(asc: &[u8]) -> Result<(Self, AscExtension), AacError> {
        let mut reader = BitReader::new(asc);
        let object_type = read_object_type(&mut reader)?;
        let (sample_rate_index, sample_rate) = read_sample_rate(&mut reader)?;
        let channels = reader.read_u8(4)?;
        let config = AudioSpecificConfig { object_type, sample_rate_index, sample_rate, channels };
        let mut extension = AscExtension::default();
        if object_type == OBJECT_TYPE_SBR || object_type == OBJECT_TYPE_PS {
            extension.sbr = true;
            extension.ps = object_type == OBJECT_TYPE_PS;
            extension.extension_sample_rate = Some(read_sample_rate(&mut reader)?.1);
            let _core_object_type = read_object_type(&mut reader)?;
        } else if matches!(object_type, 1..=4) && channels != 0 {
            // GASpecificConfig: frameLengthFlag, dependsOnCoreCoder (+ 14-bit delay), extensionFlag.
            let _frame_length_flag = reader.read_bit()?;
            if reader.read_bit()? {
                reader.skip(14)?;
            }
            let _extension_flag = reader.read_bit()?;
            if let Ok(found) = read_sync_extension(&mut reader) {
                extension = found;
            }
        }
        Ok((config, extension))
    }

    /// Writes the config. GASpecificConfig is written with all flags zero, which suits the object types
    /// this server carries (Main, LC, SSR, LTP, HE, HEv2). For HE/HEv2 the SBR rate is written as twice
    /// the core rate, the usual (and for the struct's fields, the only recoverable) case.
    pub fn encode(&self) -> Bytes {
        let mut writer = BitWriter::default();
        write_object_type(&mut writer, self.object_type);
        write_sample_rate(&mut writer, self.sample_rate_index, self.sample_rate);
        writer.write_bits(4, u32::from(self.channels & 0x0f));
        if self.object_type == OBJECT_TYPE_SBR || self.object_type == OBJECT_TYPE_PS {
            let output_rate = self.sample_rate.saturating_mul(2);
            write_sample_rate(
                &mut writer,
                rate_index(output_rate).unwrap_or(EXPLICIT_RATE_INDEX),
                output_rate,
            );
            write_object_type(&mut writer, OBJECT_TYPE_LC);
        }
        writer.write_bits(3, 0);
        Bytes::from(writer.into_bytes())
    }

    /// Builds the 7-byte ADTS header (no CRC) for a raw frame of `payload_len` bytes.
    ///
    /// HE-AAC is written as its AAC LC core, the implicit signalling that ADTS relies on.
    pub fn adts_header(&self, payload_len: usize) -> Result<[u8; 7], AacError> {
        let adts_object_type = match self.object_type {
            OBJECT_TYPE_SBR | OBJECT_TYPE_PS => OBJECT_TYPE_LC,
            object_type @ 1..=4 => object_type,
            other => return Err(AacError::ObjectTypeNotInAdts(other)),
        };
        if usize::from(self.sample_rate_index) >= SAMPLE_RATES.len() {
            return Err(AacError::SampleRateNotInAdts(self.sample_rate_index));
        }
        if self.channels > 7 {
            return Err(AacError::ChannelsNotInAdts(self.channels));
        }
        let frame_len = payload_len.saturating_add(ADTS_HEADER_LEN);
        if frame_len > MAX_ADTS_FRAME_LEN {
            return Err(AacError::AdtsFrameTooLong(frame_len));
        }
        // Fields, most significant bit first: syncword 0xfff (12 bits), ID 0 = MPEG-4, layer 0,
        // protection_absent 1 (no CRC), profile (object type - 1, 2 bits), sampling_frequency_index
        // (4), private_bit 0, channel_configuration (3), original_copy, home,
        // copyright_identification_bit and _start all 0, frame_length (13; checked above),
        // adts_buffer_fullness 0x7ff (variable bit rate, 11), number_of_raw_data_blocks_in_frame
        // minus one 0 (2).
        let (profile, rate, channels) = (adts_object_type - 1, self.sample_rate_index, self.channels);
        let frame_len = frame_len as u16;
        let header = [
            0xff,
            0xf1,
            (profile << 6) | (rate << 2) | (channels >> 2),
            ((channels & 0b11) << 6) | (frame_len >> 11) as u8,
            (frame_len >> 3) as u8,
            (((frame_len & 0b111) as u8) << 5) | 0x1f,
            0xfc,
        ];
        Ok(header)
    }

    /// PCM samples per channel that one raw frame decodes to, at `sample_rate`.
    ///
    /// The 960-sample variant (frameLengthFlag) is not represented in this struct and reads as 1024.
    pub fn samples_per_frame(&self) -> u32 {
        match self.object_type {
            // AAC-LD and AAC-ELD use 512-sample frames.
            23 | 39 => 512,
            _ => 1024,
        }
    }

    /// The profile name as SRS reports it (`srs_aac_object2str`).
    pub fn profile_name(&self) -> &'static str {
        profile_name(self.object_type)
    }
}

/// The profile name of an object type as SRS reports it: "Main", "LC", "SSR", "HE", "HEv2", else "Other".
pub fn profile_name(object_type: u8) -> &'static str {
    match object_type {
        OBJECT_TYPE_MAIN => "Main",
        OBJECT_TYPE_LC => "LC",
        OBJECT_TYPE_SSR => "SSR",
        OBJECT_TYPE_SBR => "HE",
        OBJECT_TYPE_PS => "HEv2",
        _ => "Other",
    }
}

/// Parses the ADTS header at the start of `data`. `data` need not hold the whole frame: stream readers
/// use `frame_len` to know how much more to wait for.
pub fn parse_adts(data: &[u8]) -> Result<AdtsHeader, AacError> {
    if data.len() >= 2 && (data[0] != 0xff || data[1] & 0xf6 != 0xf0) {
        return Err(AacError::NoAdtsSync);
    }
    if data.len() < ADTS_HEADER_LEN {
        return Err(AacError::AdtsTruncated { available: data.len(), needed: ADTS_HEADER_LEN });
    }
    let mut reader = BitReader::new(&data[..ADTS_HEADER_LEN]);
    reader.skip(15)?; // syncword, ID, layer
    let protection_absent = reader.read_bit()?;
    let object_type = reader.read_u8(2)? + 1;
    let sample_rate_index = reader.read_u8(4)?;
    let sample_rate = *SAMPLE_RATES
        .get(usize::from(sample_rate_index))
        .ok_or(AacError::ReservedSampleRateIndex(sample_rate_index))?;
    reader.skip(1)?; // private_bit
    let channels = reader.read_u8(3)?;
    reader.skip(4)?;
    let frame_len = reader.read_bits(13)? as usize;
    let header_len = if protection_absent { ADTS_HEADER_LEN } else { ADTS_HEADER_LEN_WITH_CRC };
    if data.len() < header_len {
        return Err(AacError::AdtsTruncated { available: data.len(), needed: header_len });
    }
    if frame_len < header_len {
        return Err(AacError::AdtsFrameTooShort { frame_len, header_len });
    }
    let config = AudioSpecificConfig { object_type, sample_rate_index, sample_rate, channels };
    Ok(AdtsHeader { config, header_len, frame_len })
}

/// The table index of a rate, if it has one.
pub fn rate_index(sample_rate: u32) -> Option<u8> {
    // The table has 13 entries, so the position fits a u8.
    SAMPLE_RATES.iter().position(|&rate| rate == sample_rate).map(|idx| idx as u8)
}

fn read_object_type(reader: &mut BitReader<'_>) -> Result<u8, AacError> {
    let object_type = reader.read_u8(5)?;
    if object_type == 31 {
        return Ok(32 + reader.read_u8(6)?);
    }
    Ok(object_type)
}

fn write_object_type(writer: &mut BitWriter, object_type: u8) {
    if object_type >= 31 {
        writer.write_bits(5, 31);
        writer.write_bits(6, u32::from(object_type.saturating_sub(32)));
    } else {
        writer.write_bits(5, u32::from(object_type));
    }
}

fn read_sample_rate(reader: &mut BitReader<'_>) -> Result<(u8, u32), AacError> {
    let index = reader.read_u8(4)?;
    if index == EXPLICIT_RATE_INDEX {
        let rate = reader.read_bits(24)?;
        if rate == 0 {
            return Err(AacError::ZeroSampleRate);
        }
        return Ok((index, rate));
    }
    let rate = *SAMPLE_RATES.get(usize::from(index)).ok_or(AacError::ReservedSampleRateIndex(index))?;
    Ok((index, rate))
}

fn write_sample_rate(writer: &mut BitWriter, index: u8, rate: u32) {
    if usize::from(index) < SAMPLE_RATES.len() {
        writer.write_bits(4, u32::from(index));
    } else {
        writer.write_bits(4, u32::from(EXPLICIT_RATE_INDEX));
        writer.write_bits(24, rate & 0x00ff_ffff);
    }
}

/// Reads the backward-compatible SBR/PS signalling that may follow GASpecificConfig (§1.6.5.2).
fn read_sync_extension(reader: &mut BitReader<'_>) -> Result<AscExtension, AacError> {
    let mut extension = AscExtension::default();
    if reader.bits_left() < 16 || reader.read_bits(11)? != SYNC_EXTENSION_SBR {
        return Ok(extension);
    }
    if read_object_type(reader)? != OBJECT_TYPE_SBR {
        return Ok(extension);
    }
    extension.sbr = reader.read_bit()?;
    if extension.sbr {
        extension.extension_sample_rate = Some(read_sample_rate(reader)?.1);
        if reader.bits_left() >= 12 && reader.read_bits(11)? == SYNC_EXTENSION_PS {
            extension.ps = reader.read_bit()?;
        }
    }
    Ok(extension)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header written field by field with a bit writer, as the ADTS syntax lists them.
    fn adts_header_bit_by_bit(profile: u8, rate: u8, channels: u8, frame_len: usize) -> Vec<u8> {
        let mut writer = BitWriter::default();
        for (n_bits, value) in [
            (12, 0xfff),
            (1, 0),
            (2, 0),
            (1, 1),
            (2, u32::from(profile)),
            (4, u32::from(rate)),
            (1, 0),
            (3, u32::from(channels)),
            (4, 0),
            (13, frame_len as u32),
            (11, 0x7ff),
            (2, 0),
        ] {
            writer.write_bits(n_bits, value);
        }
        writer.into_bytes()
    }

    #[test]
    fn adts_header_matches_the_syntax_bit_by_bit() {
        for object_type in 1..=4u8 {
            for rate in 0..SAMPLE_RATES.len() as u8 {
                for channels in 0..=7u8 {
                    for payload_len in [0, 1, 7, 255, 256, 2047, 2048, MAX_ADTS_FRAME_LEN - ADTS_HEADER_LEN] {
                        let config = AudioSpecificConfig {
                            object_type,
                            sample_rate_index: rate,
                            channels,
                            ..AudioSpecificConfig::parse(LC_ASC).unwrap()
                        };
                        let expected = adts_header_bit_by_bit(
                            object_type - 1,
                            rate,
                            channels,
                            payload_len + ADTS_HEADER_LEN,
                        );
                        assert_eq!(config.adts_header(payload_len).unwrap().to_vec(), expected);
                    }
                }
            }
        }
    }

    // `ffprobe -show_entries stream=profile,sample_rate,channels` on the clip bits.sh encodes: LC 44100 2.
    const LC_ASC: &[u8] = include_bytes!("../../tests/fixtures/bits/lc_44100_stereo.asc");
    const LC_ADTS: &[u8] = include_bytes!("../../tests/fixtures/bits/lc_44100_stereo.adts");

    #[test]
    fn ffmpeg_asc_is_lc_44100_stereo_without_sbr() {
        let (config, extension) = AudioSpecificConfig::parse_with_extension(LC_ASC).unwrap();
        assert_eq!(
            config,
            AudioSpecificConfig { object_type: 2, sample_rate_index: 4, sample_rate: 44100, channels: 2 }
        );
        // ffmpeg appends the 0x2b7 sync extension saying "no SBR".
        assert_eq!(extension, AscExtension::default());
        assert_eq!((config.profile_name(), config.samples_per_frame()), ("LC", 1024));
        assert_eq!(&config.encode()[..], &[0x12, 0x10]);
    }

    #[test]
    fn adts_frames_from_ffmpeg_parse_and_rebuild() {
        let first = parse_adts(LC_ADTS).unwrap();
        assert_eq!(first.config, AudioSpecificConfig::parse(LC_ASC).unwrap());
        assert_eq!(first.header_len, 7);
        let second = parse_adts(&LC_ADTS[first.frame_len..]).unwrap();
        assert_eq!(first.frame_len + second.frame_len, LC_ADTS.len());
        let rebuilt = first.config.adts_header(first.frame_len - 7).unwrap();
        // ffmpeg writes the same fixed fields; only buffer fullness may differ, and it writes 0x7ff too.
        assert_eq!(&rebuilt[..], &LC_ADTS[..7]);
    }

    #[test]
    fn adts_with_crc_has_nine_byte_header() {
        let mut header = AudioSpecificConfig::parse(LC_ASC).unwrap().adts_header(100).unwrap();
        header[1] &= 0xfe; // protection_absent = 0
        let mut data = header.to_vec();
        data.extend_from_slice(&[0xaa, 0xbb]);
        let parsed = parse_adts(&data).unwrap();
        assert_eq!((parsed.header_len, parsed.frame_len), (9, 107));
        assert_eq!(parse_adts(&header), Err(AacError::AdtsTruncated { available: 7, needed: 9 }));
    }

    #[test]
    fn explicit_he_and_hev2_signalling() {
        // HE-AAC: object 5, core 22050 (index 7), stereo, SBR 44100 (index 4), core object 2.
        let he =
            AudioSpecificConfig { object_type: 5, sample_rate_index: 7, sample_rate: 22050, channels: 2 };
        let bytes = he.encode();
        assert_eq!(&bytes[..], &[0x2b, 0x92, 0x08, 0x00]);
        let (parsed, extension) = AudioSpecificConfig::parse_with_extension(&bytes).unwrap();
        assert_eq!(parsed, he);
        assert_eq!(extension, AscExtension { sbr: true, ps: false, extension_sample_rate: Some(44100) });
        assert_eq!(parsed.profile_name(), "HE");
        let hev2 = AudioSpecificConfig { object_type: 29, channels: 1, ..he };
        let (parsed, extension) = AudioSpecificConfig::parse_with_extension(&hev2.encode()).unwrap();
        assert_eq!((parsed.profile_name(), extension.ps), ("HEv2", true));
        // ADTS carries HE as its LC core.
        assert_eq!(parse_adts(&he.adts_header(10).unwrap()).unwrap().config.object_type, 2);
    }

    #[test]
    fn escaped_object_type_and_explicit_rate_round_trip() {
        let config =
            AudioSpecificConfig { object_type: 42, sample_rate_index: 15, sample_rate: 44000, channels: 1 };
        assert_eq!(AudioSpecificConfig::parse(&config.encode()).unwrap(), config);
        assert_eq!(config.adts_header(10), Err(AacError::ObjectTypeNotInAdts(42)));
        let main =
            AudioSpecificConfig { object_type: 1, sample_rate_index: 15, sample_rate: 44000, channels: 1 };
        assert_eq!(main.adts_header(10), Err(AacError::SampleRateNotInAdts(15)));
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert_eq!(AudioSpecificConfig::parse(&[0x16, 0x90]), Err(AacError::ReservedSampleRateIndex(13)));
        assert!(matches!(AudioSpecificConfig::parse(&[0x12]), Err(AacError::Bits(_))));
        assert_eq!(AudioSpecificConfig::parse(&[0x17, 0x80, 0, 0, 0x10]), Err(AacError::ZeroSampleRate));
        assert_eq!(parse_adts(&[0x12, 0x10, 0, 0, 0, 0, 0]), Err(AacError::NoAdtsSync));
        assert_eq!(parse_adts(&[0xff, 0xf1, 0x50]), Err(AacError::AdtsTruncated { available: 3, needed: 7 }));
        let config = AudioSpecificConfig::parse(LC_ASC).unwrap();
        assert_eq!(config.adts_header(8185), Err(AacError::AdtsFrameTooLong(8192)));
        let mut short = config.adts_header(0).unwrap();
        short[5] &= 0x1f; // frame_length 7 becomes 0

        assert!(matches!(parse_adts(&short), Err(AacError::AdtsFrameTooShort { .. })));
    }

    #[test]
    fn fuzzed_configs_and_headers_give_errors_not_panics() {
        let mut rng = crate::codec::xorshift::XorShift::new(0x1234_5678_9abc_def1);
        let mut next = move || rng.next_u64();
        let mut n_errors = 0;
        for round in 0..5000 {
            let mut data = if round % 2 == 0 { LC_ASC.to_vec() } else { LC_ADTS[..12].to_vec() };
            for _ in 0..(next() % 3 + 1) {
                let idx = (next() as usize) % data.len();
                data[idx] ^= 1 << (next() % 8);
            }
            data.truncate((next() as usize) % (data.len() + 1));
            if round % 2 == 0 {
                n_errors += usize::from(AudioSpecificConfig::parse(&data).is_err());
            } else if let Ok(header) = parse_adts(&data) {
                assert!(header.frame_len >= header.header_len);
            } else {
                n_errors += 1;
            }
        }
        assert!(n_errors > 1000, "only {n_errors} of 5000 mutations were rejected");
    }
}
