//! H.265/HEVC bitstream facts: the HEVCDecoderConfigurationRecord (hvcC) and the sequence parameter set.
//!
//! `HevcConfig` reads and writes the record of ISO 14496-15 §8.3.3.1 (arrays of VPS, SPS and PPS; other
//! arrays such as SEI are skipped on read and not written). The record's header fields (profile space,
//! tier, compatibility and constraint flags, chroma format, bit depths, temporal layers) are derived from
//! the first SPS when writing. `parse_sps` reads the SPS of ITU-T H.265 §7.3.2.2 up to the bit depths:
//! profile_tier_level (with sub-layers), chroma format and the conformance-window-cropped size. It does
//! not read the VUI, so min_spatial_segmentation_idc, parallelismType and the frame rate are written as 0.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

use super::bits::{unescape_rbsp, BitReader, BitsError};

/// NAL unit types the rest of the server cares about.
pub const NAL_TYPE_VPS: u8 = 32;
pub const NAL_TYPE_SPS: u8 = 33;
pub const NAL_TYPE_PPS: u8 = 34;
pub const NAL_TYPE_AUD: u8 = 35;
/// IRAP pictures (BLA, IDR, CRA) are 16..=21.
pub const NAL_TYPE_IRAP_FIRST: u8 = 16;
pub const NAL_TYPE_IRAP_LAST: u8 = 21;

/// The record's per-array count is 16 bits; beyond this many parameter sets of one kind something is wrong.
const MAX_PARAMETER_SETS: usize = 64;
/// 65535 luma samples per side is above every level's limit and keeps arithmetic in u32.
const MAX_PICTURE_SIDE: u32 = 65535;
/// The fixed part of the record before numOfArrays.
const HEADER_LEN: usize = 22;

/// What can go wrong while reading or building H.265 configuration.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HevcError {
    #[error("hvcc truncated at byte {offset}")]
    Truncated { offset: usize },
    #[error("hvcc configuration version {0} is not 1")]
    BadVersion(u8),
    #[error("no sequence parameter set")]
    NoSps,
    #[error("{kind} count {count} is over the limit of {limit}")]
    TooManyParameterSets { kind: &'static str, count: usize, limit: usize },
    #[error("parameter set of {0} bytes does not fit a 16-bit length")]
    ParameterSetTooLong(usize),
    #[error("nal unit type {found} where {expected} was expected")]
    WrongNalType { expected: u8, found: u8 },
    #[error("nal unit shorter than its 2-byte header")]
    ShortNal,
    #[error("sps {field} value {value} is out of range")]
    SpsOutOfRange { field: &'static str, value: u32 },
    #[error("sps bitstream: {0}")]
    Bits(#[from] BitsError),
}

/// The HEVCDecoderConfigurationRecord: what MP4 and Enhanced RTMP carry as the H.265 sequence header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcConfig {
    pub general_profile_idc: u8,
    pub general_level_idc: u8,
    /// Bytes of each NAL length prefix in frames (1, 2 or 4; almost always 4).
    pub length_size: u8,
    pub vps: Vec<Bytes>,
    pub sps: Vec<Bytes>,
    pub pps: Vec<Bytes>,
}

/// The facts read from a sequence parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HevcSps {
    /// Display width after the conformance window.
    pub width: u32,
    /// Display height after the conformance window.
    pub height: u32,
    pub general_profile_idc: u8,
    pub general_level_idc: u8,
    pub general_profile_space: u8,
    pub general_tier_flag: bool,
    pub general_profile_compatibility_flags: u32,
    /// The 48 bits of progressive/interlaced/constraint flags, in the low bits.
    pub general_constraint_indicator_flags: u64,
    pub max_sub_layers: u8,
    pub temporal_id_nesting: bool,
    /// 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format_idc: u8,
    pub bit_depth_luma: u8,
    pub bit_depth_chroma: u8,
}

impl HevcConfig {
    /// Parses an hvcC record, keeping the VPS, SPS and PPS arrays.
    pub fn parse(hvcc: &[u8]) -> Result<HevcConfig, HevcError> {
        let header = hvcc.get(..HEADER_LEN).ok_or(HevcError::Truncated { offset: hvcc.len() })?;
        if header[0] != 1 {
            return Err(HevcError::BadVersion(header[0]));
        }
        let mut config = HevcConfig {
            general_profile_idc: header[1] & 0x1f,
            general_level_idc: header[12],
            length_size: (header[21] & 0x03) + 1,
            vps: Vec::new(),
            sps: Vec::new(),
            pps: Vec::new(),
        };
        let mut offset = HEADER_LEN;
        let n_arrays = *hvcc.get(offset).ok_or(HevcError::Truncated { offset })?;
        offset += 1;
        for _ in 0..n_arrays {
            let array_header = hvcc.get(offset..offset + 3).ok_or(HevcError::Truncated { offset })?;
            let nal_unit_type = array_header[0] & 0x3f;
            let n_nalus = usize::from(u16::from_be_bytes([array_header[1], array_header[2]]));
            offset += 3;
            for _ in 0..n_nalus {
                let length_bytes = hvcc.get(offset..offset + 2).ok_or(HevcError::Truncated { offset })?;
                let length = usize::from(u16::from_be_bytes([length_bytes[0], length_bytes[1]]));
                let nal = hvcc.get(offset + 2..offset + 2 + length).ok_or(HevcError::Truncated { offset })?;
                offset += 2 + length;
                let target = match nal_unit_type {
                    NAL_TYPE_VPS => &mut config.vps,
                    NAL_TYPE_SPS => &mut config.sps,
                    NAL_TYPE_PPS => &mut config.pps,
                    _ => continue,
                };
                if target.len() >= MAX_PARAMETER_SETS {
                    let kind = kind_name(nal_unit_type);
                    return Err(HevcError::TooManyParameterSets {
                        kind,
                        count: n_nalus,
                        limit: MAX_PARAMETER_SETS,
                    });
                }
                target.push(Bytes::copy_from_slice(nal));
            }
        }
        Ok(config)
    }

    /// Builds a record from parameter sets found in the stream (e.g. Annex-B input), with 4-byte lengths.
    pub fn from_parameter_sets(
        vps: Vec<Bytes>,
        sps: Vec<Bytes>,
        pps: Vec<Bytes>,
    ) -> Result<HevcConfig, HevcError> {
        check_parameter_sets(&vps, NAL_TYPE_VPS)?;
        check_parameter_sets(&sps, NAL_TYPE_SPS)?;
        check_parameter_sets(&pps, NAL_TYPE_PPS)?;
        let facts = parse_sps(sps.first().ok_or(HevcError::NoSps)?)?;
        Ok(HevcConfig {
            general_profile_idc: facts.general_profile_idc,
            general_level_idc: facts.general_level_idc,
            length_size: 4,
            vps,
            sps,
            pps,
        })
    }

    /// Writes the record with arrays VPS, SPS, PPS (array_completeness set: all sets are in the record).
    /// Header fields come from the first SPS, except profile and level, which come from this struct.
    /// Sets beyond 64 per kind or longer than 65535 bytes are left out.
    pub fn encode(&self) -> Bytes {
        let facts = self.sps.first().and_then(|nal| parse_sps(nal).ok());
        let mut out = BytesMut::new();
        out.put_u8(1);
        let (space, tier) = facts.map_or((0, false), |s| (s.general_profile_space, s.general_tier_flag));
        out.put_u8((space & 0x03) << 6 | u8::from(tier) << 5 | (self.general_profile_idc & 0x1f));
        // Without a readable SPS, claim compatibility with the profile itself (flag j for profile j).
        let compat_default = 1u32.checked_shl(31 - u32::from(self.general_profile_idc & 0x1f)).unwrap_or(0);
        out.put_u32(facts.map_or(compat_default, |s| s.general_profile_compatibility_flags));
        let constraints = facts.map_or(0, |s| s.general_constraint_indicator_flags);
        out.put_slice(&constraints.to_be_bytes()[2..]);
        out.put_u8(self.general_level_idc);
        out.put_u16(0xf000); // reserved bits, min_spatial_segmentation_idc 0 (unknown without the VUI)
        out.put_u8(0xfc); // reserved bits, parallelismType 0 (unknown)
        let (chroma, luma_depth, chroma_depth) =
            facts.map_or((1, 8, 8), |s| (s.chroma_format_idc, s.bit_depth_luma, s.bit_depth_chroma));
        out.put_u8(0xfc | (chroma & 0x03));
        out.put_u8(0xf8 | (luma_depth.saturating_sub(8) & 0x07));
        out.put_u8(0xf8 | (chroma_depth.saturating_sub(8) & 0x07));
        out.put_u16(0); // avgFrameRate: unspecified
        let (layers, nested) = facts.map_or((1, false), |s| (s.max_sub_layers, s.temporal_id_nesting));
        out.put_u8(
            (layers & 0x07) << 3 | u8::from(nested) << 2 | (self.length_size.saturating_sub(1) & 0x03),
        );
        let arrays = [(NAL_TYPE_VPS, &self.vps), (NAL_TYPE_SPS, &self.sps), (NAL_TYPE_PPS, &self.pps)];
        let arrays: Vec<(u8, Vec<&Bytes>)> = arrays
            .into_iter()
            .map(|(nal_type, sets)| {
                let kept =
                    sets.iter().filter(|set| set.len() <= usize::from(u16::MAX)).take(MAX_PARAMETER_SETS);
                (nal_type, kept.collect::<Vec<_>>())
            })
            .filter(|(_, sets)| !sets.is_empty())
            .collect();
        // At most three arrays.
        out.put_u8(arrays.len() as u8);
        for (nal_type, sets) in arrays {
            out.put_u8(0x80 | nal_type);
            // At most 64 sets per array, each at most 65535 bytes, as filtered above.
            out.put_u16(sets.len() as u16);
            for set in sets {
                out.put_u16(set.len() as u16);
                out.put_slice(set);
            }
        }
        out.freeze()
    }
}

/// The nal_unit_type of an H.265 NAL unit (32 VPS, 33 SPS, 34 PPS, 16..=21 IRAP, 35 AUD).
pub fn nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|header| (header >> 1) & 0x3f)
}

/// True for IRAP pictures (BLA, IDR, CRA): the keyframes of H.265.
pub fn is_irap(nal_type: u8) -> bool {
    (NAL_TYPE_IRAP_FIRST..=NAL_TYPE_IRAP_LAST).contains(&nal_type)
}

/// Reads profile, level, chroma format and cropped size from an SPS NAL unit (2-byte header included).
pub fn parse_sps(nal: &[u8]) -> Result<HevcSps, HevcError> {
    if nal.len() < 2 {
        return Err(HevcError::ShortNal);
    }
    let found = (nal[0] >> 1) & 0x3f;
    if found != NAL_TYPE_SPS {
        return Err(HevcError::WrongNalType { expected: NAL_TYPE_SPS, found });
    }
    let rbsp = unescape_rbsp(&nal[2..]);
    let mut reader = BitReader::new(&rbsp);
    let _sps_video_parameter_set_id = reader.read_bits(4)?;
    let max_sub_layers = reader.read_u8(3)? + 1;
    let temporal_id_nesting = reader.read_bit()?;
    let general_profile_space = reader.read_u8(2)?;
    let general_tier_flag = reader.read_bit()?;
    let general_profile_idc = reader.read_u8(5)?;
    let general_profile_compatibility_flags = reader.read_bits(32)?;
    let general_constraint_indicator_flags = reader.read_bits_u64(48)?;
    let general_level_idc = reader.read_u8(8)?;
    skip_sub_layer_profile_tier_levels(&mut reader, max_sub_layers - 1)?;

    let _sps_seq_parameter_set_id = reader.ue()?;
    let chroma_format_idc = reader.ue()?;
    if chroma_format_idc > 3 {
        return Err(HevcError::SpsOutOfRange { field: "chroma_format_idc", value: chroma_format_idc });
    }
    let separate_colour_plane = chroma_format_idc == 3 && reader.read_bit()?;
    let coded_width = side("pic_width_in_luma_samples", reader.ue()?)?;
    let coded_height = side("pic_height_in_luma_samples", reader.ue()?)?;
    let (mut crop_width, mut crop_height) = (0u64, 0u64);
    if reader.read_bit()? {
        // ChromaArrayType 0 (monochrome or separate planes) crops in luma samples.
        let chroma_array_type = if separate_colour_plane { 0 } else { chroma_format_idc };
        let (sub_width, sub_height): (u64, u64) = match chroma_array_type {
            1 => (2, 2),
            2 => (2, 1),
            _ => (1, 1),
        };
        let (left, right, top, bottom) = (reader.ue()?, reader.ue()?, reader.ue()?, reader.ue()?);
        crop_width = sub_width * (u64::from(left) + u64::from(right));
        crop_height = sub_height * (u64::from(top) + u64::from(bottom));
        if crop_width >= u64::from(coded_width) || crop_height >= u64::from(coded_height) {
            let value = u32::try_from(crop_width.max(crop_height)).unwrap_or(u32::MAX);
            return Err(HevcError::SpsOutOfRange { field: "conf_win_offset", value });
        }
    }
    // Saturating: a damaged SPS's ue() can be near u32::MAX, and is refused just below.
    let bit_depth_luma = reader.ue()?.saturating_add(8);
    let bit_depth_chroma = reader.ue()?.saturating_add(8);
    if bit_depth_luma > 16 || bit_depth_chroma > 16 {
        let value = bit_depth_luma.max(bit_depth_chroma);
        return Err(HevcError::SpsOutOfRange { field: "bit_depth", value });
    }
    Ok(HevcSps {
        // Crops were checked to be below the coded sizes, which fit u32.
        width: coded_width - crop_width as u32,
        height: coded_height - crop_height as u32,
        general_profile_idc,
        general_level_idc,
        general_profile_space,
        general_tier_flag,
        general_profile_compatibility_flags,
        general_constraint_indicator_flags,
        max_sub_layers,
        temporal_id_nesting,
        // chroma_format_idc <= 3 and bit depths <= 16 were checked above.
        chroma_format_idc: chroma_format_idc as u8,
        bit_depth_luma: bit_depth_luma as u8,
        bit_depth_chroma: bit_depth_chroma as u8,
    })
}

/// The profile name as SRS reports it (`srs_hevc_profile2str`), "Other" for unknown values.
pub fn profile_name(general_profile_idc: u8) -> &'static str {
    match general_profile_idc {
        1 => "Main",
        2 => "Main10",
        3 => "Main Still Picture",
        4 => "Rext",
        _ => "Other",
    }
}

/// The level as SRS reports it: general_level_idc is 30 times the level, so 93 is "3.1" and 120 is "4".
pub fn level_name(general_level_idc: u8) -> String {
    let major = general_level_idc / 30;
    let minor = (general_level_idc % 30) / 3;
    match (major, minor) {
        (0, _) => "Other".to_string(),
        (major, 0) => format!("{major}"),
        (major, minor) => format!("{major}.{minor}"),
    }
}

/// Skips the sub-layer part of profile_tier_level (§7.3.3) for `n_sub_layers` (0..=6) sub-layers.
fn skip_sub_layer_profile_tier_levels(reader: &mut BitReader<'_>, n_sub_layers: u8) -> Result<(), HevcError> {
    let mut present = [(false, false); 8];
    for flags in present.iter_mut().take(usize::from(n_sub_layers)) {
        *flags = (reader.read_bit()?, reader.read_bit()?);
    }
    if n_sub_layers > 0 {
        // reserved_zero_2bits for the unused slots up to eight.
        reader.skip(2 * (8 - usize::from(n_sub_layers)))?;
    }
    for &(profile_present, level_present) in present.iter().take(usize::from(n_sub_layers)) {
        if profile_present {
            // profile space, tier, profile idc, 32 compatibility flags, 48 constraint bits.
            reader.skip(88)?;
        }
        if level_present {
            reader.skip(8)?;
        }
    }
    Ok(())
}

fn side(field: &'static str, value: u32) -> Result<u32, HevcError> {
    if value == 0 || value > MAX_PICTURE_SIDE {
        return Err(HevcError::SpsOutOfRange { field, value });
    }
    Ok(value)
}

fn kind_name(nal_type: u8) -> &'static str {
    match nal_type {
        NAL_TYPE_VPS => "vps",
        NAL_TYPE_SPS => "sps",
        _ => "pps",
    }
}

fn check_parameter_sets(sets: &[Bytes], expected: u8) -> Result<(), HevcError> {
    if sets.len() > MAX_PARAMETER_SETS {
        let kind = kind_name(expected);
        return Err(HevcError::TooManyParameterSets { kind, count: sets.len(), limit: MAX_PARAMETER_SETS });
    }
    for set in sets {
        if set.len() < 2 {
            return Err(HevcError::ShortNal);
        }
        let found = (set[0] >> 1) & 0x3f;
        if found != expected {
            return Err(HevcError::WrongNalType { expected, found });
        }
        if set.len() > usize::from(u16::MAX) {
            return Err(HevcError::ParameterSetTooLong(set.len()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::nal;

    // `ffprobe -show_entries stream=profile,level,width,height` on the clips scripts/fixtures/bits.sh
    // encodes: Main, level 60, 426x240 (hvcC from MP4); Main 10, level 60, 320x180 (Annex-B VPS/SPS/PPS).
    const MAIN_HVCC: &[u8] = include_bytes!("../../tests/fixtures/bits/main_426x240.hvcc");
    const MAIN10_PARAMS: &[u8] = include_bytes!("../../tests/fixtures/bits/main10_320x180_params.h265");

    #[test]
    fn x265_hvcc_matches_ffprobe() {
        let config = HevcConfig::parse(MAIN_HVCC).unwrap();
        assert_eq!((config.general_profile_idc, config.general_level_idc, config.length_size), (1, 60, 4));
        assert_eq!((config.vps.len(), config.sps.len(), config.pps.len()), (1, 1, 1));
        let sps = parse_sps(&config.sps[0]).unwrap();
        // 426 is coded as 432 with a conformance window of 6 luma samples.
        assert_eq!((sps.width, sps.height, sps.chroma_format_idc, sps.bit_depth_luma), (426, 240, 1, 8));
        assert_eq!(
            (profile_name(sps.general_profile_idc), level_name(sps.general_level_idc).as_str()),
            ("Main", "2")
        );
    }

    #[test]
    fn encode_keeps_ffmpeg_header_fields_and_parameter_sets() {
        let config = HevcConfig::parse(MAIN_HVCC).unwrap();
        let encoded = config.encode();
        // All 22 header bytes match: ffmpeg derives them from the same SPS (x265 leaves the VUI's
        // min_spatial_segmentation_idc at 0, which is what encode writes).
        assert_eq!(&encoded[..22], &MAIN_HVCC[..22]);
        assert_eq!(encoded[22], 3, "three arrays: the SEI array is not written");
        assert_eq!(HevcConfig::parse(&encoded).unwrap(), config);
    }

    #[test]
    fn main10_with_sub_layers_from_annexb() {
        let nals: Vec<&[u8]> = nal::annexb(MAIN10_PARAMS).collect();
        let types: Vec<u8> = nals.iter().filter_map(|n| nal_type(n)).collect();
        assert_eq!(types, vec![NAL_TYPE_VPS, NAL_TYPE_SPS, NAL_TYPE_PPS]);
        let owned = |nal: &[u8]| vec![Bytes::copy_from_slice(nal)];
        let config = HevcConfig::from_parameter_sets(owned(nals[0]), owned(nals[1]), owned(nals[2])).unwrap();
        assert_eq!((config.general_profile_idc, config.general_level_idc), (2, 60));
        let sps = parse_sps(nals[1]).unwrap();
        assert_eq!((sps.width, sps.height, sps.max_sub_layers, sps.bit_depth_luma), (320, 180, 2, 10));
        assert_eq!(profile_name(sps.general_profile_idc), "Main10");
        assert_eq!(HevcConfig::parse(&config.encode()).unwrap(), config);
    }

    #[test]
    fn names_and_nal_types() {
        let levels: Vec<String> = [30, 60, 63, 93, 120, 153, 186, 0].into_iter().map(level_name).collect();
        assert_eq!(levels, vec!["1", "2", "2.1", "3.1", "4", "5.1", "6.2", "Other"]);
        assert_eq!(nal_type(&[0x26, 0x01]), Some(19));
        assert!(is_irap(19) && is_irap(21) && !is_irap(1) && !is_irap(NAL_TYPE_VPS));
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert_eq!(HevcConfig::parse(&MAIN_HVCC[..10]), Err(HevcError::Truncated { offset: 10 }));
        assert!(matches!(HevcConfig::parse(&MAIN_HVCC[..40]), Err(HevcError::Truncated { .. })));
        let mut bad = MAIN_HVCC.to_vec();
        bad[0] = 0;
        assert_eq!(HevcConfig::parse(&bad), Err(HevcError::BadVersion(0)));
        assert_eq!(parse_sps(&[0x42]), Err(HevcError::ShortNal));
        assert_eq!(parse_sps(&[0x40, 0x01, 0]), Err(HevcError::WrongNalType { expected: 33, found: 32 }));
        assert_eq!(HevcConfig::from_parameter_sets(vec![], vec![], vec![]), Err(HevcError::NoSps));
    }

    #[test]
    fn fuzzed_records_and_sps_give_errors_not_panics() {
        let mut rng = crate::codec::xorshift::XorShift::new(0xdead_beef_cafe_f00d);
        let mut next = move || rng.next_u64();
        let sps = HevcConfig::parse(MAIN_HVCC).unwrap().sps[0].clone();
        let head = &MAIN_HVCC[..200];
        let mut n_errors = 0;
        for round in 0..5000 {
            let mut data = if round % 2 == 0 { head.to_vec() } else { sps.to_vec() };
            for _ in 0..(next() % 4) {
                let idx = (next() as usize) % data.len();
                data[idx] = next() as u8;
            }
            data.truncate((next() as usize) % (data.len() + 1));
            let failed =
                if round % 2 == 0 { HevcConfig::parse(&data).is_err() } else { parse_sps(&data).is_err() };
            n_errors += usize::from(failed);
        }
        assert!(n_errors > 1000, "only {n_errors} of 5000 mutations were rejected");
    }
}
