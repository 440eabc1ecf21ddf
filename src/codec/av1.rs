//! AV1 bitstream facts: the AV1CodecConfigurationRecord (av1C, AV1-ISOBMFF §2.3) and, when its
//! configOBUs hold a sequence header OBU, the maximum frame size from that header (AV1 spec §5.5).
//!
//! It reads the sequence header only up to max_frame_height_minus_1; it does not parse frame headers,
//! tiles, or any OBU other than the sequence header, and it does not write sequence headers.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

use super::bits::{BitReader, BitsError};

const OBU_SEQUENCE_HEADER: u8 = 1;
/// av1C's fixed part: marker/version, profile/level, flags, presentation delay.
const FIXED_LEN: usize = 4;
/// More operating points than the 5-bit field allows cannot occur; this is that field's maximum + 1.
const MAX_OPERATING_POINTS: u32 = 32;

/// What can go wrong while reading AV1 configuration.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Av1Error {
    #[error("av1c truncated: {0} of 4 bytes")]
    Truncated(usize),
    #[error("av1c marker bit is not set or version {0} is not 1")]
    BadMarkerOrVersion(u8),
    #[error("obu at byte {0} is truncated or its size field is malformed")]
    BadObu(usize),
    #[error("sequence header: {0}")]
    Bits(#[from] BitsError),
}

/// The av1C record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Av1Config {
    pub seq_profile: u8,
    pub seq_level_idx_0: u8,
    pub seq_tier_0: bool,
    pub high_bitdepth: bool,
    pub twelve_bit: bool,
    pub monochrome: bool,
    pub chroma_subsampling_x: bool,
    pub chroma_subsampling_y: bool,
    pub chroma_sample_position: u8,
    /// initial_presentation_delay_minus_one + 1, when present.
    pub initial_presentation_delay: Option<u8>,
    /// Zero or more OBUs (normally one sequence header), as carried after the fixed part.
    pub config_obus: Bytes,
}

/// The facts read from a sequence header OBU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Av1SequenceHeader {
    pub seq_profile: u8,
    /// seq_level_idx of operating point 0.
    pub seq_level_idx_0: u8,
    pub max_frame_width: u32,
    pub max_frame_height: u32,
}

impl Av1Config {
    pub fn parse(av1c: &[u8]) -> Result<Av1Config, Av1Error> {
        let fixed = av1c.get(..FIXED_LEN).ok_or(Av1Error::Truncated(av1c.len()))?;
        if fixed[0] != 0x81 {
            return Err(Av1Error::BadMarkerOrVersion(fixed[0] & 0x7f));
        }
        let flags = fixed[2];
        Ok(Av1Config {
            seq_profile: fixed[1] >> 5,
            seq_level_idx_0: fixed[1] & 0x1f,
            seq_tier_0: flags & 0x80 != 0,
            high_bitdepth: flags & 0x40 != 0,
            twelve_bit: flags & 0x20 != 0,
            monochrome: flags & 0x10 != 0,
            chroma_subsampling_x: flags & 0x08 != 0,
            chroma_subsampling_y: flags & 0x04 != 0,
            chroma_sample_position: flags & 0x03,
            initial_presentation_delay: (fixed[3] & 0x10 != 0).then_some((fixed[3] & 0x0f) + 1),
            config_obus: Bytes::copy_from_slice(&av1c[FIXED_LEN..]),
        })
    }

    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(FIXED_LEN + self.config_obus.len());
        out.put_u8(0x81);
        out.put_u8((self.seq_profile & 0x07) << 5 | (self.seq_level_idx_0 & 0x1f));
        let flag_bits = [
            self.seq_tier_0,
            self.high_bitdepth,
            self.twelve_bit,
            self.monochrome,
            self.chroma_subsampling_x,
            self.chroma_subsampling_y,
        ];
        let flags = flag_bits.iter().fold(0u8, |acc, &flag| acc << 1 | u8::from(flag));
        out.put_u8(flags << 2 | (self.chroma_sample_position & 0x03));
        out.put_u8(match self.initial_presentation_delay {
            Some(delay) => 0x10 | (delay.saturating_sub(1) & 0x0f),
            None => 0,
        });
        out.put_slice(&self.config_obus);
        out.freeze()
    }

    /// The sequence header among the configOBUs, if there is one.
    pub fn sequence_header(&self) -> Result<Option<Av1SequenceHeader>, Av1Error> {
        find_sequence_header(&self.config_obus)
    }

    /// Bits per sample as the flags give them: 8, 10 or 12.
    pub fn bit_depth(&self) -> u8 {
        match (self.high_bitdepth, self.twelve_bit) {
            (true, true) => 12,
            (true, false) => 10,
            _ => 8,
        }
    }
}

/// Walks OBUs (each with a size field, as av1C and RTMP/MP4 samples carry them) and parses the first
/// sequence header found.
pub fn find_sequence_header(obus: &[u8]) -> Result<Option<Av1SequenceHeader>, Av1Error> {
    let mut offset = 0;
    while offset < obus.len() {
        let header = obus[offset];
        let obu_type = (header >> 3) & 0x0f;
        let has_extension = header & 0x04 != 0;
        let has_size = header & 0x02 != 0;
        let mut payload_start = offset + 1 + usize::from(has_extension);
        let payload_len = if has_size {
            let (size, n_bytes) =
                read_leb128(obus.get(payload_start..).unwrap_or(&[])).ok_or(Av1Error::BadObu(offset))?;
            payload_start += n_bytes;
            size
        } else {
            // Without a size field the OBU runs to the end of the data.
            obus.len().saturating_sub(payload_start)
        };
        let payload_end = payload_start.checked_add(payload_len).ok_or(Av1Error::BadObu(offset))?;
        let payload = obus.get(payload_start..payload_end).ok_or(Av1Error::BadObu(offset))?;
        if obu_type == OBU_SEQUENCE_HEADER {
            return parse_sequence_header(payload).map(Some);
        }
        offset = payload_end;
    }
    Ok(None)
}

/// Reads a sequence header OBU payload up to the maximum frame size.
pub fn parse_sequence_header(payload: &[u8]) -> Result<Av1SequenceHeader, Av1Error> {
    let mut reader = BitReader::new(payload);
    let seq_profile = reader.read_u8(3)?;
    let _still_picture = reader.read_bit()?;
    let reduced_still_picture_header = reader.read_bit()?;
    let seq_level_idx_0;
    if reduced_still_picture_header {
        seq_level_idx_0 = reader.read_u8(5)?;
    } else {
        let mut decoder_model_info_present = false;
        let mut buffer_delay_len = 0;
        if reader.read_bit()? {
            // timing_info(): two 32-bit fields, then an optional uvlc.
            reader.skip(64)?;
            if reader.read_bit()? {
                skip_uvlc(&mut reader)?;
            }
            decoder_model_info_present = reader.read_bit()?;
            if decoder_model_info_present {
                buffer_delay_len = reader.read_bits(5)? as usize + 1;
                reader.skip(32 + 5 + 5)?;
            }
        }
        let initial_display_delay_present = reader.read_bit()?;
        let n_operating_points = reader.read_bits(5)? + 1;
        let mut first_level = None;
        for _ in 0..n_operating_points.min(MAX_OPERATING_POINTS) {
            let _operating_point_idc = reader.read_bits(12)?;
            let level = reader.read_u8(5)?;
            first_level.get_or_insert(level);
            if level > 7 {
                let _seq_tier = reader.read_bit()?;
            }
            if decoder_model_info_present && reader.read_bit()? {
                // decoder_buffer_delay, encoder_buffer_delay, low_delay_mode_flag.
                reader.skip(2 * buffer_delay_len + 1)?;
            }
            if initial_display_delay_present && reader.read_bit()? {
                reader.skip(4)?;
            }
        }
        // The loop ran at least once (n_operating_points >= 1), so first_level is set.
        seq_level_idx_0 = first_level.unwrap_or(0);
    }
    let width_bits = reader.read_bits(4)? + 1;
    let height_bits = reader.read_bits(4)? + 1;
    let max_frame_width = reader.read_bits(width_bits)? + 1;
    let max_frame_height = reader.read_bits(height_bits)? + 1;
    Ok(Av1SequenceHeader { seq_profile, seq_level_idx_0, max_frame_width, max_frame_height })
}

/// The profile name ffprobe uses: 0 Main, 1 High, 2 Professional.
pub fn profile_name(seq_profile: u8) -> &'static str {
    match seq_profile {
        0 => "Main",
        1 => "High",
        2 => "Professional",
        _ => "Other",
    }
}

/// The level for a seq_level_idx: index 0 is "2.0", 13 is "5.1"; 31 means no level constraints.
pub fn level_name(seq_level_idx: u8) -> String {
    match seq_level_idx {
        31 => "Max".to_string(),
        idx if idx < 24 => format!("{}.{}", 2 + idx / 4, idx % 4),
        _ => "Other".to_string(),
    }
}

/// Reads an unsigned LEB128 of at most 8 bytes; returns (value, bytes used).
fn read_leb128(data: &[u8]) -> Option<(usize, usize)> {
    let mut value: u64 = 0;
    for (idx, &byte) in data.iter().take(8).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * idx);
        if byte & 0x80 == 0 {
            return Some((usize::try_from(value).ok()?, idx + 1));
        }
    }
    None
}

fn skip_uvlc(reader: &mut BitReader<'_>) -> Result<(), Av1Error> {
    let mut leading_zeros = 0usize;
    while !reader.read_bit()? {
        leading_zeros += 1;
        if leading_zeros >= 32 {
            // The spec reads such a value as 2^32 - 1 with no further bits.
            return Ok(());
        }
    }
    reader.skip(leading_zeros)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // `ffprobe -show_entries stream=profile,level,width,height` on the SVT-AV1 clip scripts/fixtures/bits.sh
    // encodes: Main, level 0 (seq_level_idx 0, "2.0"), 426x240.
    const AV1C: &[u8] = include_bytes!("../../tests/fixtures/bits/av1_426x240.av1c");

    #[test]
    fn svt_av1c_matches_ffprobe() {
        let config = Av1Config::parse(AV1C).unwrap();
        assert_eq!((config.seq_profile, config.seq_level_idx_0, config.bit_depth()), (0, 0, 8));
        assert!(config.chroma_subsampling_x && config.chroma_subsampling_y && !config.monochrome);
        let header = config.sequence_header().unwrap().unwrap();
        assert_eq!((header.max_frame_width, header.max_frame_height, header.seq_level_idx_0), (426, 240, 0));
        assert_eq!(
            (profile_name(header.seq_profile), level_name(header.seq_level_idx_0).as_str()),
            ("Main", "2.0")
        );
        assert_eq!(&config.encode()[..], AV1C);
    }

    #[test]
    fn reduced_still_picture_header_and_levels() {
        // profile 1, still, reduced, level 13 (5.1), 4-bit widths: 16x8.
        let header = parse_sequence_header(&[0b0011_1011, 0b0100_1100, 0b1111_1101, 0b1100_0000]).unwrap();
        assert_eq!(
            header,
            Av1SequenceHeader {
                seq_profile: 1,
                seq_level_idx_0: 13,
                max_frame_width: 16,
                max_frame_height: 8
            }
        );
        assert_eq!(level_name(13), "5.1");
        assert_eq!(level_name(31), "Max");
        assert_eq!(find_sequence_header(&[0x12, 0x00]).unwrap(), None, "a temporal delimiter only");
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert_eq!(Av1Config::parse(&AV1C[..3]), Err(Av1Error::Truncated(3)));
        assert_eq!(Av1Config::parse(&[0x01, 0, 0, 0]), Err(Av1Error::BadMarkerOrVersion(1)));
        assert_eq!(find_sequence_header(&[0x0a, 0x20, 0x00]), Err(Av1Error::BadObu(0)));
        assert_eq!(find_sequence_header(&[0x0a, 0xff]), Err(Av1Error::BadObu(0)));
        assert!(matches!(find_sequence_header(&AV1C[4..10]), Err(Av1Error::BadObu(0))));
        let mut short = AV1C[4..].to_vec();
        short[1] = 3;
        short.truncate(5);
        assert!(matches!(find_sequence_header(&short), Err(Av1Error::Bits(_))));
    }

    #[test]
    fn fuzzed_records_give_errors_not_panics() {
        let mut rng = crate::codec::xorshift::XorShift::new(0x7777_1111_3333_9999);
        let mut next = move || rng.next_u64();
        let mut n_errors = 0;
        for _ in 0..5000 {
            let mut data = AV1C.to_vec();
            for _ in 0..(next() % 3 + 1) {
                let idx = (next() as usize) % data.len();
                data[idx] = next() as u8;
            }
            data.truncate((next() as usize) % (data.len() + 1));
            match Av1Config::parse(&data).and_then(|config| config.sequence_header()) {
                Ok(Some(header)) => assert!(header.max_frame_width >= 1 && header.max_frame_height >= 1),
                Ok(None) => {}
                Err(_) => n_errors += 1,
            }
        }
        assert!(n_errors > 1000, "only {n_errors} of 5000 mutations were rejected");
    }
}
