//! H.264/AVC bitstream facts: the AVCDecoderConfigurationRecord (avcC) and the sequence parameter set.
//!
//! `AvcConfig` reads and writes the record of ISO 14496-15 §5.3.3.1, including the chroma/bit-depth
//! extension bytes that high profiles carry. `parse_sps` reads just enough of an SPS (ITU-T H.264
//! §7.3.2.1.1) to report profile, level, chroma format and the cropped picture size; it skips the VUI and
//! everything after it. Nothing here decodes slices or validates a PPS.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

use super::bits::{unescape_rbsp, BitReader, BitsError};

/// NAL unit types the rest of the server cares about.
pub const NAL_TYPE_IDR: u8 = 5;
pub const NAL_TYPE_SEI: u8 = 6;
pub const NAL_TYPE_SPS: u8 = 7;
pub const NAL_TYPE_PPS: u8 = 8;
pub const NAL_TYPE_AUD: u8 = 9;

/// The record field is 5 bits wide.
const MAX_SPS_COUNT: usize = 31;
const MAX_PPS_COUNT: usize = 255;
/// 8192 macroblocks is 131072 pixels, far above any level's limit; it bounds width/height arithmetic.
const MAX_MACROBLOCKS_PER_SIDE: u32 = 8192;
/// A POC cycle longer than this is nonsense from a peer; the spec caps it at 255.
const MAX_REF_FRAMES_IN_POC_CYCLE: u32 = 255;

/// What can go wrong while reading or building H.264 configuration.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AvcError {
    #[error("avcc truncated at byte {offset}")]
    Truncated { offset: usize },
    #[error("avcc configuration version {0} is not 1")]
    BadVersion(u8),
    #[error("avcc length size {0} is not 1, 2, 3 or 4")]
    BadLengthSize(u8),
    #[error("no sequence parameter set")]
    NoSps,
    #[error("{kind} count {count} is over the limit of {limit}")]
    TooManyParameterSets { kind: &'static str, count: usize, limit: usize },
    #[error("parameter set of {0} bytes does not fit a 16-bit length")]
    ParameterSetTooLong(usize),
    #[error("nal unit type {found} where {expected} was expected")]
    WrongNalType { expected: u8, found: u8 },
    #[error("empty nal unit")]
    EmptyNal,
    #[error("sps {field} value {value} is out of range")]
    SpsOutOfRange { field: &'static str, value: u32 },
    #[error("sps bitstream: {0}")]
    Bits(#[from] BitsError),
}

/// The AVCDecoderConfigurationRecord: what RTMP/FLV and MP4 carry as the H.264 sequence header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    pub profile_idc: u8,
    /// The constraint_set flags byte of the SPS.
    pub profile_compat: u8,
    pub level_idc: u8,
    /// Bytes of each NAL length prefix in frames (1, 2 or 4; almost always 4).
    pub length_size: u8,
    pub sps: Vec<Bytes>,
    pub pps: Vec<Bytes>,
}

/// The avcC tail that high profiles carry: chroma format, bit depths and SPS extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcChromaExtension {
    pub chroma_format_idc: u8,
    pub bit_depth_luma: u8,
    pub bit_depth_chroma: u8,
    pub sps_ext: Vec<Bytes>,
}

/// The facts read from a sequence parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sps {
    pub profile_idc: u8,
    /// constraint_set0..5 flags and reserved bits, the byte avcC repeats as profile compatibility.
    pub constraint_flags: u8,
    pub level_idc: u8,
    /// Display width after frame cropping.
    pub width: u32,
    /// Display height after frame cropping.
    pub height: u32,
    /// 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (1 when the profile does not signal it).
    pub chroma_format_idc: u8,
    pub bit_depth_luma: u8,
    pub bit_depth_chroma: u8,
    /// False for interlaced-capable streams (fields or MBAFF).
    pub frame_mbs_only: bool,
}

impl AvcConfig {
    /// Parses an avcC record. The high-profile extension is read when present and well formed,
    /// and ignored otherwise, because many encoders omit or garble it and decoders do not need it.
    pub fn parse(avcc: &[u8]) -> Result<AvcConfig, AvcError> {
        AvcConfig::parse_with_extension(avcc).map(|(config, _)| config)
    }

    /// Parses an avcC record and, when present and well formed, its high-profile extension.
    pub fn parse_with_extension(avcc: &[u8]) -> Result<(AvcConfig, Option<AvcChromaExtension>), AvcError> {
        let mut cursor = ByteCursor { data: avcc, offset: 0 };
        let version = cursor.u8()?;
        if version != 1 {
            return Err(AvcError::BadVersion(version));
        }
        let profile_idc = cursor.u8()?;
        let profile_compat = cursor.u8()?;
        let level_idc = cursor.u8()?;
        let length_size = (cursor.u8()? & 0x03) + 1;
        let n_sps = usize::from(cursor.u8()? & 0x1f);
        let sps = (0..n_sps).map(|_| cursor.parameter_set()).collect::<Result<Vec<_>, _>>()?;
        let n_pps = usize::from(cursor.u8()?);
        let pps = (0..n_pps).map(|_| cursor.parameter_set()).collect::<Result<Vec<_>, _>>()?;
        let config = AvcConfig { profile_idc, profile_compat, level_idc, length_size, sps, pps };
        let extension = if has_chroma_extension(profile_idc) { cursor.chroma_extension().ok() } else { None };
        Ok((config, extension))
    }

    /// Builds a record from parameter sets found in the stream (e.g. Annex-B input), with 4-byte lengths.
    pub fn from_parameter_sets(sps: Vec<Bytes>, pps: Vec<Bytes>) -> Result<AvcConfig, AvcError> {
        check_parameter_sets(&sps, NAL_TYPE_SPS, "sps", MAX_SPS_COUNT)?;
        check_parameter_sets(&pps, NAL_TYPE_PPS, "pps", MAX_PPS_COUNT)?;
        let first = sps.first().ok_or(AvcError::NoSps)?;
        let facts = parse_sps(first)?;
        Ok(AvcConfig {
            profile_idc: facts.profile_idc,
            profile_compat: facts.constraint_flags,
            level_idc: facts.level_idc,
            length_size: 4,
            sps,
            pps,
        })
    }

    /// Writes the record. For high profiles it appends the chroma/bit-depth extension, taken from the
    /// first SPS (4:2:0 8-bit when that SPS cannot be read). Parameter sets beyond the field limits or
    /// longer than 65535 bytes are left out; `from_parameter_sets` rejects those up front.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        out.put_u8(1);
        out.put_u8(self.profile_idc);
        out.put_u8(self.profile_compat);
        out.put_u8(self.level_idc);
        out.put_u8(0xfc | (self.length_size.saturating_sub(1) & 0x03));
        let sps = encodable(&self.sps, MAX_SPS_COUNT);
        // encodable() keeps at most 31 entries, so the count fits 5 bits.
        out.put_u8(0xe0 | sps.len() as u8);
        put_parameter_sets(&mut out, &sps);
        let pps = encodable(&self.pps, MAX_PPS_COUNT);
        // encodable() keeps at most 255 entries.
        out.put_u8(pps.len() as u8);
        put_parameter_sets(&mut out, &pps);
        if has_chroma_extension(self.profile_idc) {
            let facts = self.sps.first().and_then(|nal| parse_sps(nal).ok());
            let (chroma, luma, chroma_depth) =
                facts.map_or((1, 8, 8), |s| (s.chroma_format_idc, s.bit_depth_luma, s.bit_depth_chroma));
            out.put_u8(0xfc | (chroma & 0x03));
            out.put_u8(0xf8 | (luma.saturating_sub(8) & 0x07));
            out.put_u8(0xf8 | (chroma_depth.saturating_sub(8) & 0x07));
            out.put_u8(0); // numOfSequenceParameterSetExt
        }
        out.freeze()
    }
}

/// The nal_unit_type of an H.264 NAL unit (5 IDR, 7 SPS, 8 PPS, 9 AUD), `None` for an empty unit.
pub fn nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|header| header & 0x1f)
}

/// Reads profile, level, chroma format and cropped size from an SPS NAL unit (header byte included).
pub fn parse_sps(nal: &[u8]) -> Result<Sps, AvcError> {
    let found = nal_type(nal).ok_or(AvcError::EmptyNal)?;
    if found != NAL_TYPE_SPS {
        return Err(AvcError::WrongNalType { expected: NAL_TYPE_SPS, found });
    }
    let rbsp = unescape_rbsp(&nal[1..]);
    let mut reader = BitReader::new(&rbsp);
    let profile_idc = reader.read_u8(8)?;
    let constraint_flags = reader.read_u8(8)?;
    let level_idc = reader.read_u8(8)?;
    let _seq_parameter_set_id = reader.ue()?;

    let mut chroma_format_idc = 1u32;
    let mut separate_colour_plane = false;
    let mut bit_depth_luma = 8u32;
    let mut bit_depth_chroma = 8u32;
    if signals_chroma_format(profile_idc) {
        chroma_format_idc = in_range("chroma_format_idc", reader.ue()?, 3)?;
        if chroma_format_idc == 3 {
            separate_colour_plane = reader.read_bit()?;
        }
        bit_depth_luma = 8 + in_range("bit_depth_luma_minus8", reader.ue()?, 6)?;
        bit_depth_chroma = 8 + in_range("bit_depth_chroma_minus8", reader.ue()?, 6)?;
        let _qpprime_y_zero_transform_bypass = reader.read_bit()?;
        if reader.read_bit()? {
            let n_lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for list_idx in 0..n_lists {
                if reader.read_bit()? {
                    skip_scaling_list(&mut reader, if list_idx < 6 { 16 } else { 64 })?;
                }
            }
        }
    }

    let _log2_max_frame_num_minus4 = reader.ue()?;
    match reader.ue()? {
        0 => {
            let _log2_max_pic_order_cnt_lsb_minus4 = reader.ue()?;
        }
        1 => {
            let _delta_pic_order_always_zero = reader.read_bit()?;
            let _offset_for_non_ref_pic = reader.se()?;
            let _offset_for_top_to_bottom_field = reader.se()?;
            let n_cycle = reader.ue()?;
            in_range("num_ref_frames_in_pic_order_cnt_cycle", n_cycle, MAX_REF_FRAMES_IN_POC_CYCLE)?;
            for _ in 0..n_cycle {
                let _offset_for_ref_frame = reader.se()?;
            }
        }
        2 => {}
        other => return Err(AvcError::SpsOutOfRange { field: "pic_order_cnt_type", value: other }),
    }
    let _max_num_ref_frames = reader.ue()?;
    let _gaps_in_frame_num_allowed = reader.read_bit()?;
    let width_mbs = 1 + in_range("pic_width_in_mbs_minus1", reader.ue()?, MAX_MACROBLOCKS_PER_SIDE)?;
    let height_map_units =
        1 + in_range("pic_height_in_map_units_minus1", reader.ue()?, MAX_MACROBLOCKS_PER_SIDE)?;
    let frame_mbs_only = reader.read_bit()?;
    if !frame_mbs_only {
        let _mb_adaptive_frame_field = reader.read_bit()?;
    }
    let _direct_8x8_inference = reader.read_bit()?;
    let frame_height_factor = if frame_mbs_only { 1 } else { 2 };
    let coded_width = width_mbs * 16;
    let coded_height = height_map_units * 16 * frame_height_factor;

    let (mut crop_width, mut crop_height) = (0u32, 0u32);
    if reader.read_bit()? {
        let (left, right) = (reader.ue()?, reader.ue()?);
        let (top, bottom) = (reader.ue()?, reader.ue()?);
        // ChromaArrayType 0 (monochrome or separate planes) crops in luma samples.
        let chroma_array_type = if separate_colour_plane { 0 } else { chroma_format_idc };
        let (sub_width, sub_height): (u32, u32) = match chroma_array_type {
            1 => (2, 2),
            2 => (2, 1),
            _ => (1, 1),
        };
        let unit_x = u64::from(sub_width);
        let unit_y = u64::from(sub_height * frame_height_factor);
        let crop_x = unit_x * (u64::from(left) + u64::from(right));
        let crop_y = unit_y * (u64::from(top) + u64::from(bottom));
        if crop_x >= u64::from(coded_width) || crop_y >= u64::from(coded_height) {
            let value = u32::try_from(crop_x.max(crop_y)).unwrap_or(u32::MAX);
            return Err(AvcError::SpsOutOfRange { field: "frame_crop_offset", value });
        }
        // Both crops are below coded sizes that fit u32, checked just above.
        (crop_width, crop_height) = (crop_x as u32, crop_y as u32);
    }

    Ok(Sps {
        profile_idc,
        constraint_flags,
        level_idc,
        width: coded_width - crop_width,
        height: coded_height - crop_height,
        // Each value was range-checked to 3 or 14 above.
        chroma_format_idc: chroma_format_idc as u8,
        bit_depth_luma: bit_depth_luma as u8,
        bit_depth_chroma: bit_depth_chroma as u8,
        frame_mbs_only,
    })
}

/// The profile name as SRS reports it (`srs_avc_profile2str`), "Other" for unknown values.
pub fn profile_name(profile_idc: u8) -> &'static str {
    match profile_idc {
        66 => "Baseline",
        77 => "Main",
        88 => "Extended",
        100 => "High",
        110 => "High(10)",
        122 => "High(422)",
        144 => "High(444)",
        244 => "High(444+Predictive)",
        _ => "Other",
    }
}

/// The level as SRS reports it: level_idc 31 is "3.1", 30 is "3"; 9 is the special level "1b".
pub fn level_name(level_idc: u8) -> String {
    match level_idc {
        0 => "Other".to_string(),
        9 => "1b".to_string(),
        idc if idc % 10 == 0 => format!("{}", idc / 10),
        idc => format!("{}.{}", idc / 10, idc % 10),
    }
}

/// Profiles whose SPS carries chroma_format_idc, bit depths and scaling matrices.
fn signals_chroma_format(profile_idc: u8) -> bool {
    matches!(profile_idc, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135)
}

/// Profiles for which ISO 14496-15 requires the avcC extension bytes.
fn has_chroma_extension(profile_idc: u8) -> bool {
    !matches!(profile_idc, 66 | 77 | 88)
}

fn in_range(field: &'static str, value: u32, max: u32) -> Result<u32, AvcError> {
    if value > max {
        return Err(AvcError::SpsOutOfRange { field, value });
    }
    Ok(value)
}

/// Reads past one scaling_list() (§7.3.2.1.1.1): only the delta values are coded.
fn skip_scaling_list(reader: &mut BitReader<'_>, size: usize) -> Result<(), AvcError> {
    let (mut last_scale, mut next_scale) = (8i32, 8i32);
    for _ in 0..size {
        if next_scale != 0 {
            // The standard bounds delta_scale to -128..=127; a larger one is a damaged SPS (and
            // would overflow the sum).
            let delta_scale = reader.se()?;
            if !(-128..=127).contains(&delta_scale) {
                return Err(AvcError::SpsOutOfRange {
                    field: "delta_scale",
                    value: delta_scale.unsigned_abs(),
                });
            }
            next_scale = (last_scale + delta_scale).rem_euclid(256);
        }
        if next_scale != 0 {
            last_scale = next_scale;
        }
    }
    Ok(())
}

fn check_parameter_sets(
    sets: &[Bytes],
    expected: u8,
    kind: &'static str,
    limit: usize,
) -> Result<(), AvcError> {
    if sets.len() > limit {
        return Err(AvcError::TooManyParameterSets { kind, count: sets.len(), limit });
    }
    for set in sets {
        let found = nal_type(set).ok_or(AvcError::EmptyNal)?;
        if found != expected {
            return Err(AvcError::WrongNalType { expected, found });
        }
        if set.len() > usize::from(u16::MAX) {
            return Err(AvcError::ParameterSetTooLong(set.len()));
        }
    }
    Ok(())
}

fn encodable(sets: &[Bytes], limit: usize) -> Vec<&Bytes> {
    sets.iter().filter(|set| set.len() <= usize::from(u16::MAX)).take(limit).collect()
}

fn put_parameter_sets(out: &mut BytesMut, sets: &[&Bytes]) {
    for set in sets {
        // encodable() kept only sets of at most 65535 bytes.
        out.put_u16(set.len() as u16);
        out.put_slice(set);
    }
}

/// A byte cursor for records (not bit streams), with offsets for error messages.
struct ByteCursor<'a> {
    data: &'a [u8],
    offset: usize,
}

impl<'a> ByteCursor<'a> {
    fn u8(&mut self) -> Result<u8, AvcError> {
        let byte = *self.data.get(self.offset).ok_or(AvcError::Truncated { offset: self.offset })?;
        self.offset += 1;
        Ok(byte)
    }

    fn take(&mut self, n_bytes: usize) -> Result<&'a [u8], AvcError> {
        let slice = self
            .data
            .get(self.offset..self.offset + n_bytes)
            .ok_or(AvcError::Truncated { offset: self.offset })?;
        self.offset += n_bytes;
        Ok(slice)
    }

    fn chroma_extension(&mut self) -> Result<AvcChromaExtension, AvcError> {
        let chroma_format_idc = self.u8()? & 0x03;
        let bit_depth_luma = (self.u8()? & 0x07) + 8;
        let bit_depth_chroma = (self.u8()? & 0x07) + 8;
        let n_sps_ext = usize::from(self.u8()?);
        let sps_ext = (0..n_sps_ext).map(|_| self.parameter_set()).collect::<Result<Vec<_>, _>>()?;
        Ok(AvcChromaExtension { chroma_format_idc, bit_depth_luma, bit_depth_chroma, sps_ext })
    }

    fn parameter_set(&mut self) -> Result<Bytes, AvcError> {
        let length_bytes = self.take(2)?;
        let length = usize::from(u16::from_be_bytes([length_bytes[0], length_bytes[1]]));
        Ok(Bytes::copy_from_slice(self.take(length)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::nal;

    // Values from `ffprobe -show_entries stream=profile,level,width,height` on the clips that
    // scripts/fixtures/bits.sh encodes: High 3.1 320x240, Constrained Baseline 3.0 426x240,
    // High 4:2:2 1.3 320x240 (yuv422p10le).
    const HIGH_AVCC: &[u8] = include_bytes!("../../tests/fixtures/bits/high_320x240.avcc");
    const BASELINE_AVCC: &[u8] = include_bytes!("../../tests/fixtures/bits/baseline_426x240.avcc");
    const HIGH422_AVCC: &[u8] = include_bytes!("../../tests/fixtures/bits/high422_320x240.avcc");
    const HIGH_ANNEXB: &[u8] = include_bytes!("../../tests/fixtures/bits/high_320x240_head.h264");

    #[test]
    fn high_profile_avcc_matches_ffprobe() {
        let (config, extension) = AvcConfig::parse_with_extension(HIGH_AVCC).unwrap();
        assert_eq!((config.profile_idc, config.level_idc, config.length_size), (100, 31, 4));
        assert_eq!((config.sps.len(), config.pps.len()), (1, 1));
        let extension = extension.unwrap();
        assert_eq!(
            (extension.chroma_format_idc, extension.bit_depth_luma, extension.bit_depth_chroma),
            (1, 8, 8)
        );
        let sps = parse_sps(&config.sps[0]).unwrap();
        assert_eq!((sps.width, sps.height, sps.chroma_format_idc, sps.frame_mbs_only), (320, 240, 1, true));
        assert_eq!((profile_name(sps.profile_idc), level_name(sps.level_idc).as_str()), ("High", "3.1"));
    }

    #[test]
    fn a_scaling_list_delta_out_of_range_is_an_error() {
        use crate::codec::bits::BitWriter;
        let ue = |w: &mut BitWriter, value: u32| {
            let code = value + 1;
            let len = 32 - code.leading_zeros();
            w.write_bits(len - 1, 0);
            w.write_bits(len, code);
        };
        let mut w = BitWriter::default();
        w.write_bits(8, 100); // profile_idc: High, which codes chroma and scaling fields
        w.write_bits(8, 0);
        w.write_bits(8, 31);
        ue(&mut w, 0); // seq_parameter_set_id
        ue(&mut w, 1); // chroma_format_idc
        ue(&mut w, 0); // bit_depth_luma_minus8
        ue(&mut w, 0); // bit_depth_chroma_minus8
        w.write_bits(1, 0); // qpprime_y_zero_transform_bypass_flag
        w.write_bits(1, 1); // seq_scaling_matrix_present_flag
        w.write_bits(1, 1); // seq_scaling_list_present_flag[0]
        ue(&mut w, 2 * 200 - 1); // delta_scale = 200, past the standard's 127
        w.write_bits(16, 0xffff);
        let mut nal = vec![0x67];
        nal.extend(w.into_bytes());
        assert_eq!(parse_sps(&nal), Err(AvcError::SpsOutOfRange { field: "delta_scale", value: 200 }));
    }

    #[test]
    fn baseline_sps_crops_to_odd_width() {
        let config = AvcConfig::parse(BASELINE_AVCC).unwrap();
        assert_eq!((config.profile_idc, config.level_idc), (66, 30));
        let sps = parse_sps(&config.sps[0]).unwrap();
        // 27 macroblocks are 432 pixels; the crop removes 6.
        assert_eq!((sps.width, sps.height), (426, 240));
        assert_eq!((profile_name(sps.profile_idc), level_name(sps.level_idc).as_str()), ("Baseline", "3"));
        assert!(AvcConfig::parse_with_extension(BASELINE_AVCC).unwrap().1.is_none());
    }

    #[test]
    fn high422_sps_reads_chroma_format_and_bit_depth() {
        let config = AvcConfig::parse(HIGH422_AVCC).unwrap();
        let sps = parse_sps(&config.sps[0]).unwrap();
        assert_eq!((sps.profile_idc, sps.level_idc, sps.width, sps.height), (122, 13, 320, 240));
        assert_eq!((sps.chroma_format_idc, sps.bit_depth_luma, sps.bit_depth_chroma), (2, 10, 10));
        assert_eq!(profile_name(sps.profile_idc), "High(422)");
    }

    #[test]
    fn encode_reproduces_ffmpeg_records_byte_for_byte() {
        for avcc in [HIGH_AVCC, BASELINE_AVCC, HIGH422_AVCC] {
            assert_eq!(&AvcConfig::parse(avcc).unwrap().encode()[..], avcc);
        }
    }

    #[test]
    fn from_annexb_parameter_sets_builds_the_same_record() {
        let nals: Vec<&[u8]> = nal::annexb(HIGH_ANNEXB).collect();
        let types: Vec<u8> = nals.iter().filter_map(|n| nal_type(n)).collect();
        assert_eq!(types, vec![NAL_TYPE_SPS, NAL_TYPE_PPS, NAL_TYPE_SEI, NAL_TYPE_IDR]);
        let config = AvcConfig::from_parameter_sets(
            vec![Bytes::copy_from_slice(nals[0])],
            vec![Bytes::copy_from_slice(nals[1])],
        )
        .unwrap();
        assert_eq!(&config.encode()[..], HIGH_AVCC);
    }

    #[test]
    fn from_parameter_sets_rejects_wrong_inputs() {
        let pps = Bytes::from_static(&[0x68, 0xce]);
        assert_eq!(AvcConfig::from_parameter_sets(vec![], vec![pps.clone()]), Err(AvcError::NoSps));
        assert_eq!(
            AvcConfig::from_parameter_sets(vec![pps.clone()], vec![]),
            Err(AvcError::WrongNalType { expected: NAL_TYPE_SPS, found: NAL_TYPE_PPS })
        );
        assert_eq!(AvcConfig::from_parameter_sets(vec![Bytes::new()], vec![]), Err(AvcError::EmptyNal));
    }

    #[test]
    fn parse_rejects_bad_version_and_truncation() {
        let mut bad = HIGH_AVCC.to_vec();
        bad[0] = 2;
        assert_eq!(AvcConfig::parse(&bad), Err(AvcError::BadVersion(2)));
        assert_eq!(AvcConfig::parse(&HIGH_AVCC[..10]), Err(AvcError::Truncated { offset: 8 }));
        assert_eq!(AvcConfig::parse(&[]), Err(AvcError::Truncated { offset: 0 }));
    }

    #[test]
    fn level_names_follow_srs() {
        let names: Vec<String> = [10, 11, 9, 30, 31, 42, 51].into_iter().map(level_name).collect();
        assert_eq!(names, vec!["1", "1.1", "1b", "3", "3.1", "4.2", "5.1"]);
        assert_eq!(nal_type(&[0x65, 0x88]), Some(NAL_TYPE_IDR));
        assert_eq!(nal_type(&[]), None);
    }

    #[test]
    fn fuzzed_records_and_sps_give_errors_not_panics() {
        let mut rng = crate::codec::xorshift::XorShift::new(0x2545_f491_4f6c_dd1d);
        let mut next = move || rng.next_u64();
        let sps = AvcConfig::parse(HIGH422_AVCC).unwrap().sps[0].clone();
        let mut n_errors = 0;
        for round in 0..5000 {
            let base: &[u8] = if round % 2 == 0 { HIGH_AVCC } else { &sps };
            let mut data = base.to_vec();
            for _ in 0..(next() % 4) {
                let idx = (next() as usize) % data.len();
                data[idx] = next() as u8;
            }
            data.truncate((next() as usize) % (data.len() + 1));
            let failed =
                if round % 2 == 0 { AvcConfig::parse(&data).is_err() } else { parse_sps(&data).is_err() };
            if let Ok(facts) = parse_sps(&data) {
                assert!(facts.width <= MAX_MACROBLOCKS_PER_SIDE * 16 + 16);
            }
            n_errors += usize::from(failed);
        }
        assert!(n_errors > 1000, "only {n_errors} of 5000 mutations were rejected");
    }
}
