//! Video elementary streams: canonical length-prefixed access units to Annex-B with an access unit
//! delimiter and parameter sets before keyframes (mux), and Annex-B back to canonical access units
//! with keyframe detection and parameter-set collection into an avcC/hvcC record (demux).
//!
//! Bitstream facts (NAL types, decoder configuration records) come from `codec::avc`, `codec::hevc`
//! and `codec::nal`; nothing here parses slice data.

use bytes::{BufMut, Bytes, BytesMut};

use super::TsError;
use crate::codec::frame_blocks::FrameBlocks;
use crate::codec::{avc, hevc, nal};
use crate::media::{Codec, VideoTrack};

const START_CODE: [u8; 4] = [0, 0, 0, 1];
/// H.264 access unit delimiter: nal_unit_type 9, primary_pic_type 7 (any slice type), stop bit.
const AUD_H264: [u8; 2] = [0x09, 0xf0];
/// H.265 access unit delimiter: nal_unit_type 35, layer 0, temporal id 1, pic_type 2 (any), stop bit.
const AUD_H265: [u8; 3] = [0x46, 0x01, 0x50];
const H264_SPS: u8 = 7;
const H264_PPS: u8 = 8;
const H264_AUD: u8 = 9;
const H264_IDR: u8 = 5;
const H265_VPS: u8 = 32;
const H265_SPS: u8 = 33;
const H265_PPS: u8 = 34;
const H265_AUD: u8 = 35;
/// Canonical frames use 4-byte NAL lengths (see `media::Frame`).
const CANONICAL_LENGTH_SIZE: u8 = 4;

fn nal_type(codec: Codec, nal: &[u8]) -> Option<u8> {
    match codec {
        Codec::H265 => hevc::nal_type(nal),
        _ => avc::nal_type(nal),
    }
}

fn is_parameter_set(codec: Codec, nal_type: u8) -> bool {
    match codec {
        Codec::H265 => matches!(nal_type, H265_VPS | H265_SPS | H265_PPS),
        _ => matches!(nal_type, H264_SPS | H264_PPS),
    }
}

fn is_aud(codec: Codec, nal_type: u8) -> bool {
    nal_type == if codec == Codec::H265 { H265_AUD } else { H264_AUD }
}

fn is_keyframe_nal(codec: Codec, nal_type: u8) -> bool {
    match codec {
        // IRAP pictures: BLA, IDR and CRA (16..=21; 22 and 23 are reserved IRAP types).
        Codec::H265 => (16..=23).contains(&nal_type),
        _ => nal_type == H264_IDR,
    }
}

/// Writes a video track's access units as Annex-B PES payloads.
#[derive(Debug, Clone)]
pub(crate) struct AnnexbWriter {
    codec: Codec,
    /// VPS/SPS/PPS from the track's configuration record, already in Annex-B form.
    parameter_sets: Bytes,
}

impl AnnexbWriter {
    pub fn new(track: &VideoTrack) -> Result<AnnexbWriter, TsError> {
        let config_error = |reason: String| TsError::Config { codec: track.codec, reason };
        let sets: Vec<Bytes> = match track.codec {
            // An empty record is allowed: the frames must then carry their parameter sets in-band.
            _ if track.config.is_empty() => Vec::new(),
            Codec::H264 => {
                let config = avc::AvcConfig::parse(&track.config).map_err(|e| config_error(e.to_string()))?;
                config.sps.into_iter().chain(config.pps).collect()
            }
            Codec::H265 => {
                let config =
                    hevc::HevcConfig::parse(&track.config).map_err(|e| config_error(e.to_string()))?;
                config.vps.into_iter().chain(config.sps).chain(config.pps).collect()
            }
            codec => return Err(TsError::UnsupportedCodec { codec }),
        };
        let mut parameter_sets = BytesMut::new();
        for set in sets {
            parameter_sets.put_slice(&START_CODE);
            parameter_sets.put_slice(&set);
        }
        Ok(AnnexbWriter { codec: track.codec, parameter_sets: parameter_sets.freeze() })
    }

    /// Appends the Annex-B form of one canonical access unit to `out`: an AUD first, the
    /// configuration's parameter sets on keyframes that lack their own, then the frame's NAL
    /// units (its own AUDs dropped, since the one written first must stay the only one).
    pub fn write(&self, data: &[u8], keyframe: bool, out: &mut BytesMut) -> Result<(), TsError> {
        let codec = self.codec;
        let nal_error = |e: nal::NalError| TsError::Elementary { pid: 0, codec, reason: e.to_string() };
        out.put_slice(&START_CODE);
        match codec {
            Codec::H265 => out.put_slice(&AUD_H265),
            _ => out.put_slice(&AUD_H264),
        }
        if keyframe {
            let mut carries_sets = false;
            for unit in nal::length_prefixed(data, CANONICAL_LENGTH_SIZE) {
                let unit = unit.map_err(nal_error)?;
                carries_sets |= nal_type(codec, unit).is_some_and(|t| is_parameter_set(codec, t));
            }
            if !carries_sets {
                out.put_slice(&self.parameter_sets);
            }
        }
        for unit in nal::length_prefixed(data, CANONICAL_LENGTH_SIZE) {
            let unit = unit.map_err(nal_error)?;
            if nal_type(codec, unit).is_some_and(|t| is_aud(codec, t)) {
                continue;
            }
            out.put_slice(&START_CODE);
            out.put_slice(unit);
        }
        Ok(())
    }
}

/// One demuxed access unit in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessUnit {
    pub data: Bytes,
    pub keyframe: bool,
}

/// Reads Annex-B PES payloads of one track, remembering the latest parameter sets.
#[derive(Debug)]
pub(crate) struct AnnexbReader {
    codec: Codec,
    vps: Vec<Bytes>,
    sps: Vec<Bytes>,
    pps: Vec<Bytes>,
    /// Set when a parameter set differs from the one before; cleared by `take_changed_config`.
    changed: bool,
    /// Length-prefixed access units are written here and split off: one block for many frames,
    /// reused once they are gone.
    out: FrameBlocks,
}

/// Bytes reserved at a time for the access units `AnnexbReader` writes, once warmed up.
const OUT_BLOCK: usize = 256 << 10;
/// The first block.
const FIRST_BLOCK: usize = 16 << 10;

impl AnnexbReader {
    pub fn new(codec: Codec) -> AnnexbReader {
        AnnexbReader {
            codec,
            vps: Vec::new(),
            sps: Vec::new(),
            pps: Vec::new(),
            changed: false,
            out: FrameBlocks::new(FIRST_BLOCK, OUT_BLOCK),
        }
    }

    /// Converts one PES payload; `None` when it holds no picture data (only AUDs or parameter sets).
    pub fn read(&mut self, payload: &[u8]) -> Option<AccessUnit> {
        let codec = self.codec;
        let mut keyframe = false;
        let mut has_picture = false;
        let (mut vps, mut sps, mut pps) = (Vec::new(), Vec::new(), Vec::new());
        // Length prefixes take at most the start codes' room, plus a little for a 3-byte one.
        let out = self.out.room(payload.len() + 64);
        for unit in nal::annexb(payload) {
            let Some(unit_type) = nal_type(codec, unit) else { continue };
            if is_aud(codec, unit_type) {
                continue;
            }
            match (codec, unit_type) {
                (Codec::H265, H265_VPS) => vps.push(Bytes::copy_from_slice(unit)),
                (Codec::H265, H265_SPS) | (Codec::H264, H264_SPS) => sps.push(Bytes::copy_from_slice(unit)),
                (Codec::H265, H265_PPS) | (Codec::H264, H264_PPS) => pps.push(Bytes::copy_from_slice(unit)),
                _ => has_picture = true,
            }
            keyframe |= is_keyframe_nal(codec, unit_type);
            // A unit longer than `u32::MAX` bytes cannot be framed and is left out.
            let Ok(length) = u32::try_from(unit.len()) else { continue };
            out.put_u32(length);
            out.put_slice(unit);
        }
        let data = out.split().freeze();
        self.remember(vps, sps, pps);
        has_picture.then_some(AccessUnit { data, keyframe })
    }

    fn remember(&mut self, vps: Vec<Bytes>, sps: Vec<Bytes>, pps: Vec<Bytes>) {
        for (seen, stored) in [(vps, &mut self.vps), (sps, &mut self.sps), (pps, &mut self.pps)] {
            if !seen.is_empty() && seen != *stored {
                *stored = seen;
                self.changed = true;
            }
        }
    }

    /// The decoder configuration record built from the latest parameter sets, once, after they change.
    pub fn take_changed_config(&mut self) -> Option<Result<Bytes, TsError>> {
        let complete = !self.sps.is_empty()
            && !self.pps.is_empty()
            && (self.codec != Codec::H265 || !self.vps.is_empty());
        if !self.changed || !complete {
            return None;
        }
        self.changed = false;
        let codec = self.codec;
        let record = match codec {
            Codec::H265 => {
                hevc::HevcConfig::from_parameter_sets(self.vps.clone(), self.sps.clone(), self.pps.clone())
                    .map(|config| config.encode())
                    .map_err(|e| e.to_string())
            }
            _ => avc::AvcConfig::from_parameter_sets(self.sps.clone(), self.pps.clone())
                .map(|config| config.encode())
                .map_err(|e| e.to_string()),
        };
        Some(record.map_err(|reason| TsError::Config { codec, reason }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 160x120 Main-profile SPS of the h264_aac fixture.
    const SPS: &[u8] = &[
        0x67, 0x4d, 0x40, 0x0c, 0xda, 0x0a, 0x11, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00,
        0x03, 0x00, 0x32, 0x0f, 0x14, 0x2a, 0xa0,
    ];
    const PPS: &[u8] = &[0x68, 0xef, 0x3c, 0x80];
    const IDR: &[u8] = &[0x65, 0x88, 0x84];
    const NON_IDR: &[u8] = &[0x41, 0x9a, 0x26];

    fn track_without_config() -> VideoTrack {
        VideoTrack {
            codec: Codec::H264,
            config: Bytes::new(),
            width: 0,
            height: 0,
            profile: String::new(),
            level: String::new(),
        }
    }

    #[test]
    fn writer_puts_aud_first_and_drops_the_frames_own_aud() {
        let writer = AnnexbWriter::new(&track_without_config()).unwrap();
        let frame = nal::to_length_prefixed([&AUD_H264[..], NON_IDR]);
        let mut out = BytesMut::new();
        writer.write(&frame, false, &mut out).unwrap();
        assert_eq!(&out[..], &[0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41, 0x9a, 0x26]);
    }

    #[test]
    fn writer_inserts_configured_parameter_sets_only_when_missing() {
        let config = avc::AvcConfig {
            profile_idc: 0x4d,
            profile_compat: 0x40,
            level_idc: 0x0c,
            length_size: 4,
            sps: vec![Bytes::from_static(SPS)],
            pps: vec![Bytes::from_static(PPS)],
        };
        let track = VideoTrack { config: config.encode(), ..track_without_config() };
        let writer = AnnexbWriter::new(&track).unwrap();
        let mut out = BytesMut::new();
        writer.write(&nal::to_length_prefixed([IDR]), true, &mut out).unwrap();
        let units: Vec<&[u8]> = nal::annexb(&out).collect();
        assert_eq!(units, vec![&AUD_H264[..], SPS, PPS, IDR]);
        out.clear();
        writer.write(&nal::to_length_prefixed([SPS, PPS, IDR]), true, &mut out).unwrap();
        assert_eq!(nal::annexb(&out).count(), 4, "the frame's own SPS/PPS are not doubled");
        assert!(writer.write(&[0, 0, 0, 9, 1], false, &mut out).is_err(), "a length past the end");
    }

    #[test]
    fn reader_detects_keyframes_and_reports_changed_parameter_sets_once() {
        let mut reader = AnnexbReader::new(Codec::H264);
        let key = nal::to_annexb([&AUD_H264[..], SPS, PPS, IDR]);
        let unit = reader.read(&key).unwrap();
        assert!(unit.keyframe);
        assert_eq!(unit.data, nal::to_length_prefixed([SPS, PPS, IDR]), "AUD dropped, sets kept in-band");
        let record = reader.take_changed_config().unwrap().unwrap();
        assert_eq!(avc::AvcConfig::parse(&record).unwrap().sps, vec![Bytes::from_static(SPS)]);
        assert!(reader.take_changed_config().is_none());
        reader.read(&key).unwrap();
        assert!(reader.take_changed_config().is_none(), "same sets again: no new record");
        let delta = reader.read(&nal::to_annexb([NON_IDR])).unwrap();
        assert!(!delta.keyframe);
        assert!(reader.read(&nal::to_annexb([&AUD_H264[..]])).is_none(), "no picture, no frame");
    }
}
