//! H.265 over RTP (RFC 7798, no DONL): single NAL unit packets, aggregation packets (AP) and
//! fragmentation units (FU).
//!
//! The packetizer turns one access unit (4-byte length-prefixed NAL units) into MTU-bounded
//! payloads, with the stream's VPS, SPS and PPS in one AP before each keyframe (IRAP picture). The
//! depacketizer (`depacketizer`'s state machine, as H.264's) puts packets back in order, rebuilds access units
//! (`units`' FU assembler and AP splitter, as H.264's), reports parameter sets apart (they become
//! the HEVC sequence header) and, after a loss or a damaged packet, drops pictures until the next
//! keyframe and says it needs one.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

use super::depacketizer::{Assembly, Depacketizer, Event, NalRole, VideoPayloadFormat};
use super::units::{self, UnitError};
use super::RtpPayload;
use crate::codec::nal::{self, NalError};

/// VPS; the SPS (33) and PPS (34) follow it.
const NAL_VPS: u8 = 32;
const NAL_PPS: u8 = 34;
const NAL_AUD: u8 = 35;
const AP: u8 = 48;
const FU: u8 = 49;
/// Largest access unit rebuilt from packets; a peer sending more is cut off.
pub const MAX_ACCESS_UNIT: usize = 8 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum H265Error {
    #[error("fu / ap: {0}")]
    Unit(#[from] UnitError),
    #[error("rtp payload of {0} bytes is too short for its h.265 packet type")]
    Truncated(usize),
    #[error("h.265 rtp packet type {0} is not supported")]
    UnsupportedType(u8),
    #[error("access unit over {MAX_ACCESS_UNIT} bytes")]
    TooLarge,
    #[error("{0} packets lost")]
    Lost(u64),
}

/// The NAL unit type of an H.265 NAL unit header.
pub fn nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|b| (b >> 1) & 0x3f)
}

/// IRAP pictures (BLA, IDR, CRA: types 16..=21) start a decodable sequence.
fn is_irap(kind: u8) -> bool {
    (16..=21).contains(&kind)
}

/// Cuts access units into RTP payloads.
#[derive(Debug, Clone)]
pub struct H265Packetizer {
    max_payload: usize,
}

impl Default for H265Packetizer {
    fn default() -> Self {
        H265Packetizer::new(super::h264::DEFAULT_MAX_PAYLOAD)
    }
}

impl H265Packetizer {
    /// Payloads of at most `max_payload` bytes (at least 64).
    pub fn new(max_payload: usize) -> H265Packetizer {
        H265Packetizer { max_payload: max_payload.max(64) }
    }

    /// Appends the payloads of one access unit to `out`; the last has the marker bit.
    /// `parameter_sets` (VPS, SPS, PPS from the stream's hvcC) go first in a keyframe, and the
    /// frame's own copies are then left out. Access unit delimiters are dropped.
    pub fn packetize(
        &self,
        frame: &Bytes,
        keyframe: bool,
        parameter_sets: &[Bytes],
        out: &mut Vec<RtpPayload>,
    ) -> Result<(), NalError> {
        let first = out.len();
        let send_sets = keyframe && !parameter_sets.is_empty();
        if send_sets {
            self.parameter_sets(parameter_sets, out);
        }
        for unit in nal::length_prefixed(frame, 4) {
            let unit = unit?;
            let kind = nal_type(unit).unwrap_or(0);
            if unit.len() < 2 || kind == NAL_AUD || (send_sets && (NAL_VPS..=NAL_PPS).contains(&kind)) {
                continue;
            }
            self.nal_unit(frame.slice_ref(unit), out);
        }
        if let Some(last) = out.get_mut(first..).and_then(|new| new.last_mut()) {
            last.marker = true;
        }
        Ok(())
    }

    /// One AP with every set, or single packets if they do not fit together.
    fn parameter_sets(&self, sets: &[Bytes], out: &mut Vec<RtpPayload>) {
        let sets: Vec<&Bytes> = sets.iter().filter(|s| s.len() >= 2).collect();
        let size: usize = 2 + sets.iter().map(|s| 2 + s.len()).sum::<usize>();
        if sets.len() < 2 || size > self.max_payload || sets.iter().any(|s| s.len() > usize::from(u16::MAX)) {
            for set in sets {
                self.nal_unit(set.clone(), out);
            }
            return;
        }
        // The AP header: F and the lowest layer id and temporal id of the units (all 0 / 1 here).
        let layer_tid = sets.iter().map(|s| u16::from_be_bytes([s[0], s[1]]) & 0x01ff).min().unwrap_or(1);
        let mut ap = BytesMut::with_capacity(size);
        ap.put_u16((u16::from(AP) << 9) | layer_tid);
        for set in sets {
            ap.put_u16(set.len() as u16);
            ap.put_slice(set);
        }
        out.push(RtpPayload { marker: false, data: ap.freeze() });
    }

    fn nal_unit(&self, unit: Bytes, out: &mut Vec<RtpPayload>) {
        if unit.len() <= self.max_payload {
            out.push(RtpPayload { marker: false, data: unit });
            return;
        }
        let kind = nal_type(&unit).unwrap_or(0);
        // The payload header keeps F, layer id and TID, with type 49.
        let header = [(unit[0] & 0x81) | (FU << 1), unit[1]];
        let chunk = self.max_payload - 3;
        let body = &unit[2..];
        let n_chunks = body.len().div_ceil(chunk);
        for (i, piece) in body.chunks(chunk).enumerate() {
            let mut fu_header = kind;
            if i == 0 {
                fu_header |= 0x80;
            }
            if i + 1 == n_chunks {
                fu_header |= 0x40;
            }
            let mut payload = BytesMut::with_capacity(3 + piece.len());
            payload.put_slice(&header);
            payload.put_u8(fu_header);
            payload.put_slice(piece);
            out.push(RtpPayload { marker: false, data: payload.freeze() });
        }
    }
}

/// What the depacketizer gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum H265Event {
    /// New VPS, SPS and PPS: the stream's decoder configuration changes.
    ParameterSets { vps: Bytes, sps: Bytes, pps: Bytes },
    /// One picture, 4-byte length-prefixed, without parameter sets or delimiters.
    AccessUnit { timestamp: u32, keyframe: bool, data: Bytes },
    /// Pictures are dropped until a keyframe: ask the sender for one.
    NeedKeyframe,
    /// A packet was damaged or lost; the picture it belonged to is dropped.
    Damaged(H265Error),
}

/// H.265's part of depacketizing: how payloads add NAL units and what each one is.
#[derive(Debug, Default)]
pub struct H265Format;

impl VideoPayloadFormat for H265Format {
    type Error = H265Error;
    const PARAMETER_SETS: usize = 3;

    fn lost(packets: u64) -> H265Error {
        H265Error::Lost(packets)
    }

    fn add_payload(assembly: &mut Assembly, payload: Bytes) -> Result<(), H265Error> {
        add_payload(assembly, payload)
    }

    fn role(nal: &[u8]) -> NalRole {
        match nal_type(nal).unwrap_or(0) {
            kind @ NAL_VPS..=NAL_PPS => NalRole::ParameterSet(usize::from(kind - NAL_VPS)),
            NAL_AUD => NalRole::Delimiter,
            kind => NalRole::Picture { keyframe: is_irap(kind) },
        }
    }
}

/// Rebuilds access units from RTP packets.
#[derive(Debug, Default)]
pub struct H265Depacketizer(Depacketizer<H265Format>);

impl H265Depacketizer {
    pub fn new() -> H265Depacketizer {
        H265Depacketizer::default()
    }

    /// Takes one packet's sequence number, timestamp, marker and payload; appends what follows to `out`.
    pub fn push(
        &mut self,
        sequence: u16,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
        out: &mut Vec<H265Event>,
    ) {
        self.0.push(sequence, timestamp, marker, payload, &mut |event| out.extend(h265_event(event)));
    }

    /// Closes the access unit in progress (the sender stopped); a complete one is given out.
    pub fn flush(&mut self, out: &mut Vec<H265Event>) {
        self.0.flush(&mut |event| out.extend(h265_event(event)));
    }
}

fn h265_event(event: Event<'_, H265Error>) -> Option<H265Event> {
    Some(match event {
        Event::ParameterSets([vps, sps, pps]) => {
            H265Event::ParameterSets { vps: vps.clone(), sps: sps.clone(), pps: pps.clone() }
        }
        // Always three (`H265Format::PARAMETER_SETS`).
        Event::ParameterSets(_) => return None,
        Event::AccessUnit { timestamp, keyframe, data } => {
            H265Event::AccessUnit { timestamp, keyframe, data }
        }
        Event::NeedKeyframe => H265Event::NeedKeyframe,
        Event::Damaged(e) => H265Event::Damaged(e),
    })
}

/// Adds one payload's NAL units (or a fragment of one) to the access unit.
fn add_payload(current: &mut Assembly, payload: Bytes) -> Result<(), H265Error> {
    if payload.len() < 2 {
        return Err(H265Error::Truncated(payload.len()));
    }
    current.size += payload.len();
    if current.size > MAX_ACCESS_UNIT {
        return Err(H265Error::TooLarge);
    }
    match nal_type(&payload).unwrap_or(0) {
        0..=47 => {
            let restarted = current.fragment.abandon();
            current.nals.push(payload);
            if restarted {
                return Err(UnitError::FuRestarted.into());
            }
        }
        AP => units::split_aggregate(&payload, 2, 2, &mut current.nals)?,
        FU => {
            let Some(&fu_header) = payload.get(2) else {
                return Err(H265Error::Truncated(payload.len()));
            };
            let (start, end, kind) = (fu_header & 0x80 != 0, fu_header & 0x40 != 0, fu_header & 0x3f);
            // The NAL unit header: the payload header's F, layer id and TID with the FU's type.
            let header = [(payload[0] & 0x81) | (kind << 1), payload[1]];
            if let Some(unit) = current.fragment.push(start, end, &header, &payload[3..])? {
                current.nals.push(unit);
            }
        }
        kind => return Err(H265Error::UnsupportedType(kind)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::flv::{self, TagType, VideoPacketKind, VideoTagHeader};
    use crate::codec::hevc::HevcConfig;

    type Rtp = (u16, u32, bool, Bytes);

    fn packets(frames: &[(Bytes, bool)], sets: &[Bytes], first_seq: u16) -> Vec<Rtp> {
        let packetizer = H265Packetizer::default();
        let mut all = Vec::new();
        let mut seq = first_seq;
        for (i, (data, keyframe)) in frames.iter().enumerate() {
            let mut payloads = Vec::new();
            packetizer.packetize(data, *keyframe, sets, &mut payloads).unwrap();
            for p in payloads {
                assert!(p.data.len() <= super::super::h264::DEFAULT_MAX_PAYLOAD);
                all.push((seq, 3000 * i as u32, p.marker, p.data));
                seq = seq.wrapping_add(1);
            }
        }
        all
    }

    fn depacketize(packets: &[Rtp]) -> Vec<H265Event> {
        let mut depacketizer = H265Depacketizer::new();
        let mut out = Vec::new();
        for (seq, ts, marker, payload) in packets {
            depacketizer.push(*seq, *ts, *marker, payload.clone(), &mut out);
        }
        depacketizer.flush(&mut out);
        out
    }

    fn pictures(events: &[H265Event]) -> Vec<Bytes> {
        events
            .iter()
            .filter_map(|e| match e {
                H265Event::AccessUnit { data, .. } => Some(data.clone()),
                _ => None,
            })
            .collect()
    }

    /// The HEVC fixture's parameter sets and access units (without parameter sets and AUDs).
    fn clip() -> (Vec<Bytes>, Vec<(Bytes, bool)>) {
        let file =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/flv/hevc_enhanced.flv"))
                .unwrap();
        let (tags, _) = flv::read_all(&file);
        let (mut sets, mut frames) = (Vec::new(), Vec::new());
        for tag in tags.iter().filter(|t| t.tag_type == TagType::Video) {
            let header = VideoTagHeader::parse(&tag.body).unwrap();
            let payload = tag.body.slice(header.header_len..);
            match header.packet {
                VideoPacketKind::SequenceHeader => {
                    let config = HevcConfig::parse(&payload).unwrap();
                    sets = config.vps.iter().chain(&config.sps).chain(&config.pps).cloned().collect();
                }
                VideoPacketKind::CodedFrames => {
                    let units: Vec<&[u8]> = nal::length_prefixed(&payload, 4)
                        .map(|u| u.unwrap())
                        .filter(|u| !matches!(nal_type(u), Some(NAL_VPS..=NAL_AUD)))
                        .collect();
                    frames.push((nal::to_length_prefixed(units), header.frame_type.is_keyframe()));
                }
                _ => {}
            }
        }
        (sets, frames)
    }

    #[test]
    fn clip_round_trips_byte_identical() {
        let (sets, frames) = clip();
        assert_eq!(sets.len(), 3);
        assert!(frames.len() > 10 && frames[0].1);
        let packets = packets(&frames, &sets, 65_500);
        assert_eq!(nal_type(&packets[0].3), Some(AP));
        assert!(packets.iter().any(|p| nal_type(&p.3) == Some(FU)), "keyframes exceed one payload");
        let events = depacketize(&packets);
        let expected =
            H265Event::ParameterSets { vps: sets[0].clone(), sps: sets[1].clone(), pps: sets[2].clone() };
        assert_eq!(events[0], expected);
        let expected: Vec<Bytes> = frames.iter().map(|f| f.0.clone()).collect();
        assert_eq!(pictures(&events), expected);
    }

    /// Every packet followed by a padding-only one (no payload) carrying the previous picture's
    /// timestamp, as Chromium's bandwidth probes on the media SSRC: the same pictures come out and
    /// no keyframe is asked for.
    #[test]
    fn padding_only_packets_are_passed_over() {
        let (sets, frames) = clip();
        let mut padded = Vec::new();
        let mut seq = 65_000u16;
        for (_, timestamp, marker, payload) in packets(&frames, &sets, 0) {
            padded.push((seq, timestamp, marker, payload));
            padded.push((seq.wrapping_add(1), timestamp.wrapping_sub(3000), false, Bytes::new()));
            seq = seq.wrapping_add(2);
        }
        let events = depacketize(&padded);
        assert!(
            !events.iter().any(|e| matches!(e, H265Event::Damaged(_) | H265Event::NeedKeyframe)),
            "{events:?}"
        );
        let expected: Vec<Bytes> = frames.iter().map(|f| f.0.clone()).collect();
        assert_eq!(pictures(&events), expected);
    }

    #[test]
    fn reorders_within_the_window() {
        let (sets, frames) = clip();
        let mut packets = packets(&frames, &sets, 65_530);
        // Swap neighbours across pictures and inside the keyframe's fragments, and repeat one.
        packets.swap(1, 3);
        packets.swap(10, 11);
        let repeated = packets[5].clone();
        packets.insert(8, repeated);
        let events = depacketize(&packets);
        assert!(!events.iter().any(|e| matches!(e, H265Event::Damaged(_) | H265Event::NeedKeyframe)));
        let expected: Vec<Bytes> = frames.iter().map(|f| f.0.clone()).collect();
        assert_eq!(pictures(&events), expected);
    }

    #[test]
    fn loss_drops_until_the_next_keyframe() {
        let (sets, frames) = clip();
        let mut packets = packets(&frames, &sets, 0);
        // Lose a packet of the second picture.
        let second = packets.iter().position(|p| p.1 == 3000).unwrap();
        packets.remove(second);
        let events = depacketize(&packets);
        assert!(events.contains(&H265Event::NeedKeyframe));
        assert!(events.iter().any(|e| matches!(e, H265Event::Damaged(H265Error::Lost(1)))));
        // Picture 0 survives; pictures resume at the clip's next keyframe.
        let next_key = frames.iter().skip(1).position(|f| f.1).map(|i| i + 1).unwrap();
        let expected: Vec<Bytes> = frames
            .iter()
            .enumerate()
            .filter(|(i, _)| *i == 0 || *i >= next_key)
            .map(|(_, f)| f.0.clone())
            .collect();
        assert_eq!(pictures(&events), expected);
    }

    #[test]
    fn damaged_packets_are_typed_errors() {
        let mut depacketizer = H265Depacketizer::new();
        let mut out = Vec::new();
        // FU middle fragment without a start (type 49, FU header type 1, no S bit).
        depacketizer.push(1, 0, true, Bytes::from_static(&[0x62, 0x01, 0x01, 9, 9]), &mut out);
        assert!(out.contains(&H265Event::Damaged(H265Error::Unit(UnitError::FuWithoutStart))));
        assert!(out.contains(&H265Event::NeedKeyframe));
        out.clear();
        // An AP whose second unit claims more bytes than remain.
        depacketizer.push(
            2,
            3000,
            true,
            Bytes::from_static(&[0x60, 0x01, 0, 2, 0x40, 1, 0, 50, 0x42]),
            &mut out,
        );
        let past_end = UnitError::AggregateLengthPastEnd { offset: 6, length: 50, available: 1 };
        assert_eq!(out[0], H265Event::Damaged(H265Error::Unit(past_end)));
        out.clear();
        depacketizer.push(3, 6000, true, Bytes::from_static(&[0x64, 0x01]), &mut out); // type 50 (PACI)
        assert!(matches!(out[0], H265Event::Damaged(H265Error::UnsupportedType(50))));
        depacketizer.push(4, 9000, true, Bytes::from_static(&[0x02]), &mut out);
        assert!(out.iter().all(|e| !matches!(e, H265Event::AccessUnit { .. })));
    }
}
