//! H.264 over RTP (RFC 6184, packetization mode 1): single NAL unit packets, STAP-A and FU-A.
//!
//! The packetizer turns one access unit (4-byte length-prefixed NAL units, the frames of graph
//! edges) into MTU-bounded payloads, with the stream's SPS and PPS in a STAP-A before each
//! keyframe so a player can start at any keyframe. The depacketizer (`depacketizer`'s state
//! machine, shared with H.265) puts packets back in order, rebuilds access units, reports parameter sets apart (they become the
//! AVC sequence header) and, after a loss or a damaged packet, drops pictures until the next
//! keyframe and says it needs one.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

use super::depacketizer::{Assembly, Depacketizer, Event, NalRole, VideoPayloadFormat};
use super::units::{self, UnitError};
use super::RtpPayload;
use crate::codec::nal::{self, NalError};

const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const NAL_AUD: u8 = 9;
const NAL_IDR: u8 = 5;
const STAP_A: u8 = 24;
const FU_A: u8 = 28;

/// Payload size that keeps SRTP packets under a 1280-byte path MTU (IPv6's minimum).
pub const DEFAULT_MAX_PAYLOAD: usize = 1200;
/// Largest access unit rebuilt from packets; a peer sending more is cut off.
pub const MAX_ACCESS_UNIT: usize = 8 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum H264Error {
    #[error("fu-a / stap-a: {0}")]
    Unit(#[from] UnitError),
    #[error("rtp payload of {0} bytes is too short for its h.264 packet type")]
    Truncated(usize),
    #[error("h.264 rtp packet type {0} is not supported (mode 1 takes single nal, stap-a, fu-a)")]
    UnsupportedType(u8),
    #[error("access unit over {MAX_ACCESS_UNIT} bytes")]
    TooLarge,
    #[error("{0} packets lost")]
    Lost(u64),
}

/// Cuts access units into RTP payloads.
#[derive(Debug, Clone)]
pub struct H264Packetizer {
    max_payload: usize,
}

impl Default for H264Packetizer {
    fn default() -> Self {
        H264Packetizer::new(DEFAULT_MAX_PAYLOAD)
    }
}

impl H264Packetizer {
    /// Payloads of at most `max_payload` bytes (at least 64).
    pub fn new(max_payload: usize) -> H264Packetizer {
        H264Packetizer { max_payload: max_payload.max(64) }
    }

    /// Appends the payloads of one access unit to `out`; the last has the marker bit.
    /// `parameter_sets` (SPS then PPS, from the stream's avcC) go first in a keyframe, and the
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
        for nal in nal::length_prefixed(frame, 4) {
            let nal = nal?;
            let kind = nal[0] & 0x1f;
            if kind == NAL_AUD || (send_sets && (kind == NAL_SPS || kind == NAL_PPS)) {
                continue;
            }
            self.nal_unit(frame.slice_ref(nal), out);
        }
        if let Some(last) = out.get_mut(first..).and_then(|new| new.last_mut()) {
            last.marker = true;
        }
        Ok(())
    }

    /// One STAP-A with every set, or single packets if they do not fit together.
    fn parameter_sets(&self, sets: &[Bytes], out: &mut Vec<RtpPayload>) {
        let size: usize = 1 + sets.iter().map(|s| 2 + s.len()).sum::<usize>();
        if size > self.max_payload || sets.iter().any(|s| s.is_empty() || s.len() > usize::from(u16::MAX)) {
            for set in sets.iter().filter(|s| !s.is_empty()) {
                self.nal_unit(set.clone(), out);
            }
            return;
        }
        let nri = sets.iter().map(|s| s[0] & 0x60).max().unwrap_or(0x60);
        let mut stap = BytesMut::with_capacity(size);
        stap.put_u8(nri | STAP_A);
        for set in sets {
            stap.put_u16(set.len() as u16);
            stap.put_slice(set);
        }
        out.push(RtpPayload { marker: false, data: stap.freeze() });
    }

    fn nal_unit(&self, nal: Bytes, out: &mut Vec<RtpPayload>) {
        if nal.len() <= self.max_payload {
            out.push(RtpPayload { marker: false, data: nal });
            return;
        }
        let header = nal[0];
        let indicator = (header & 0xe0) | FU_A;
        let chunk = self.max_payload - 2;
        let body = &nal[1..];
        let n_chunks = body.len().div_ceil(chunk);
        for (i, piece) in body.chunks(chunk).enumerate() {
            let mut fu_header = header & 0x1f;
            if i == 0 {
                fu_header |= 0x80;
            }
            if i + 1 == n_chunks {
                fu_header |= 0x40;
            }
            let mut payload = BytesMut::with_capacity(2 + piece.len());
            payload.put_u8(indicator);
            payload.put_u8(fu_header);
            payload.put_slice(piece);
            out.push(RtpPayload { marker: false, data: payload.freeze() });
        }
    }
}

/// What the depacketizer gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum H264Event {
    /// New SPS and PPS: the stream's decoder configuration changes.
    ParameterSets { sps: Bytes, pps: Bytes },
    /// One picture, 4-byte length-prefixed, without parameter sets or delimiters.
    AccessUnit { timestamp: u32, keyframe: bool, data: Bytes },
    /// Pictures are dropped until a keyframe: ask the sender for one (PLI).
    NeedKeyframe,
    /// A packet was damaged or lost; the picture it belonged to is dropped.
    Damaged(H264Error),
}

/// H.264's part of depacketizing: how payloads add NAL units and what each one is.
#[derive(Debug, Default)]
pub struct H264Format;

impl VideoPayloadFormat for H264Format {
    type Error = H264Error;
    const PARAMETER_SETS: usize = 2;

    fn lost(packets: u64) -> H264Error {
        H264Error::Lost(packets)
    }

    fn add_payload(assembly: &mut Assembly, payload: Bytes) -> Result<(), H264Error> {
        add_payload(assembly, payload)
    }

    fn role(nal: &[u8]) -> NalRole {
        match nal.first().map_or(0, |b| b & 0x1f) {
            NAL_SPS => NalRole::ParameterSet(0),
            NAL_PPS => NalRole::ParameterSet(1),
            NAL_AUD => NalRole::Delimiter,
            kind => NalRole::Picture { keyframe: kind == NAL_IDR },
        }
    }
}

/// Rebuilds access units from RTP packets.
#[derive(Debug, Default)]
pub struct H264Depacketizer(Depacketizer<H264Format>);

impl H264Depacketizer {
    pub fn new() -> H264Depacketizer {
        H264Depacketizer::default()
    }

    /// Takes one packet's sequence number, timestamp, marker and payload; appends what follows to `out`.
    pub fn push(
        &mut self,
        sequence: u16,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
        out: &mut Vec<H264Event>,
    ) {
        self.0.push(sequence, timestamp, marker, payload, &mut |event| out.extend(h264_event(event)));
    }

    /// Closes the access unit in progress (the sender stopped); a complete one is given out.
    pub fn flush(&mut self, out: &mut Vec<H264Event>) {
        self.0.flush(&mut |event| out.extend(h264_event(event)));
    }

    /// The latest SPS and PPS received.
    pub fn parameter_sets(&self) -> Option<(Bytes, Bytes)> {
        match self.0.parameter_sets()?.as_slice() {
            [sps, pps] => Some((sps.clone(), pps.clone())),
            _ => None,
        }
    }
}

fn h264_event(event: Event<'_, H264Error>) -> Option<H264Event> {
    Some(match event {
        Event::ParameterSets([sps, pps]) => H264Event::ParameterSets { sps: sps.clone(), pps: pps.clone() },
        // Always two (`H264Format::PARAMETER_SETS`).
        Event::ParameterSets(_) => return None,
        Event::AccessUnit { timestamp, keyframe, data } => {
            H264Event::AccessUnit { timestamp, keyframe, data }
        }
        Event::NeedKeyframe => H264Event::NeedKeyframe,
        Event::Damaged(e) => H264Event::Damaged(e),
    })
}

/// Adds one payload's NAL units (or a fragment of one) to the access unit.
fn add_payload(current: &mut Assembly, payload: Bytes) -> Result<(), H264Error> {
    let Some(&first) = payload.first() else { return Err(H264Error::Truncated(0)) };
    current.size += payload.len();
    if current.size > MAX_ACCESS_UNIT {
        return Err(H264Error::TooLarge);
    }
    match first & 0x1f {
        1..=23 => {
            let restarted = current.fragment.abandon();
            current.nals.push(payload);
            if restarted {
                return Err(UnitError::FuRestarted.into());
            }
        }
        STAP_A => units::split_aggregate(&payload, 1, 1, &mut current.nals)?,
        FU_A => {
            let Some(&fu_header) = payload.get(1) else { return Err(H264Error::Truncated(payload.len())) };
            let (start, end) = (fu_header & 0x80 != 0, fu_header & 0x40 != 0);
            let header = [(first & 0xe0) | (fu_header & 0x1f)];
            if let Some(nal) = current.fragment.push(start, end, &header, &payload[2..])? {
                current.nals.push(nal);
            }
        }
        kind => return Err(H264Error::UnsupportedType(kind)),
    }
    Ok(())
}

/// Whether an RTP payload carries the start of a keyframe: an IDR or SPS as a single NAL unit, in
/// a STAP-A, or as the first fragment of an FU-A. Load clients count keyframes with it without
/// rebuilding pictures.
pub fn starts_keyframe(payload: &[u8]) -> bool {
    let is_key = |nal_type: u8| nal_type == NAL_IDR || nal_type == NAL_SPS;
    let Some(&first) = payload.first() else { return false };
    match first & 0x1f {
        STAP_A => {
            let mut rest = &payload[1..];
            while rest.len() > 2 {
                let length = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                let Some(unit) = rest.get(2..2 + length) else { return false };
                if unit.first().is_some_and(|b| is_key(b & 0x1f)) {
                    return true;
                }
                rest = &rest[2 + length..];
            }
            false
        }
        FU_A => payload.get(1).is_some_and(|fu| fu & 0x80 != 0 && is_key(fu & 0x1f)),
        nal_type => is_key(nal_type),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::avc::AvcConfig;
    use crate::codec::flv::{self, TagType};

    fn nal(kind: u8, len: usize) -> Vec<u8> {
        let mut nal = vec![0x60 | kind];
        nal.extend((0..len - 1).map(|i| (i % 251) as u8));
        nal
    }

    fn frame(nals: &[Vec<u8>]) -> Bytes {
        nal::to_length_prefixed(nals.iter().map(|n| n.as_slice()))
    }

    /// Packetizes `frames`, numbering from `first_seq`, as (seq, timestamp, marker, payload).
    fn packets(frames: &[(Bytes, bool)], sets: &[Bytes], first_seq: u16) -> Vec<(u16, u32, bool, Bytes)> {
        let packetizer = H264Packetizer::new(DEFAULT_MAX_PAYLOAD);
        let mut all = Vec::new();
        let mut seq = first_seq;
        for (i, (data, keyframe)) in frames.iter().enumerate() {
            let mut payloads = Vec::new();
            packetizer.packetize(data, *keyframe, sets, &mut payloads).unwrap();
            for p in payloads {
                assert!(p.data.len() <= DEFAULT_MAX_PAYLOAD);
                all.push((seq, 3000 * i as u32, p.marker, p.data));
                seq = seq.wrapping_add(1);
            }
        }
        all
    }

    fn depacketize(packets: &[(u16, u32, bool, Bytes)]) -> Vec<H264Event> {
        let mut depacketizer = H264Depacketizer::new();
        let mut out = Vec::new();
        for (seq, ts, marker, payload) in packets {
            depacketizer.push(*seq, *ts, *marker, payload.clone(), &mut out);
        }
        depacketizer.flush(&mut out);
        out
    }

    fn pictures(events: &[H264Event]) -> Vec<Bytes> {
        events
            .iter()
            .filter_map(|e| match e {
                H264Event::AccessUnit { data, .. } => Some(data.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn clip_round_trips_byte_identical() {
        let file =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/flv/h264_aac.flv")).unwrap();
        let (tags, error) = flv::read_all(&file);
        assert!(error.is_none());
        let mut config = None;
        let mut frames = Vec::new();
        for tag in tags.iter().filter(|t| t.tag_type == TagType::Video) {
            let body = &tag.body;
            if body[1] == 0 {
                config = Some(AvcConfig::parse(&body[5..]).unwrap());
            } else if body[1] == 1 {
                frames.push((tag.body.slice(5..), body[0] >> 4 == 1));
            }
        }
        let config = config.unwrap();
        let sets: Vec<Bytes> = config.sps.iter().chain(config.pps.iter()).cloned().collect();
        assert!(frames.len() > 20);
        let packets = packets(&frames, &sets, 65_500);
        // The clip's keyframes exceed one payload, so FU-A is exercised.
        assert!(packets.iter().any(|p| p.3[0] & 0x1f == FU_A));
        let events = depacketize(&packets);
        assert_eq!(events[0], H264Event::ParameterSets { sps: sets[0].clone(), pps: sets[1].clone() });
        let expected: Vec<Bytes> = frames.iter().map(|f| f.0.clone()).collect();
        assert_eq!(pictures(&events), expected);
    }

    /// Every packet followed by a padding-only one (no payload) carrying the previous picture's
    /// timestamp, as Chromium's bandwidth probes on the media SSRC: the same pictures come out and
    /// no keyframe is asked for.
    #[test]
    fn padding_only_packets_are_passed_over() {
        let frames: Vec<(Bytes, bool)> =
            (0..6).map(|i| (frame(&[nal(if i == 0 { 5 } else { 1 }, 2500)]), i == 0)).collect();
        let mut padded = Vec::new();
        let mut seq = 65_000u16;
        for (_, timestamp, marker, payload) in packets(&frames, &[], 0) {
            padded.push((seq, timestamp, marker, payload));
            padded.push((seq.wrapping_add(1), timestamp.wrapping_sub(3000), false, Bytes::new()));
            seq = seq.wrapping_add(2);
        }
        let events = depacketize(&padded);
        assert!(
            !events.iter().any(|e| matches!(e, H264Event::Damaged(_) | H264Event::NeedKeyframe)),
            "{events:?}"
        );
        let expected: Vec<Bytes> = frames.iter().map(|f| f.0.clone()).collect();
        assert_eq!(pictures(&events), expected);
    }

    #[test]
    fn reorders_within_the_window() {
        let frames = vec![
            (frame(&[nal(5, 3000)]), true),
            (frame(&[nal(1, 500)]), false),
            (frame(&[nal(1, 2500)]), false),
        ];
        let mut packets = packets(&frames, &[Bytes::from(nal(7, 10)), Bytes::from(nal(8, 4))], 10);
        packets.swap(1, 3);
        packets.swap(5, 6);
        let events = depacketize(&packets);
        let expected: Vec<Bytes> = frames.iter().map(|f| f.0.clone()).collect();
        assert_eq!(pictures(&events), expected);
    }

    #[test]
    fn loss_drops_until_the_next_keyframe() {
        let frames: Vec<(Bytes, bool)> =
            (0..10).map(|i| (frame(&[nal(if i % 5 == 0 { 5 } else { 1 }, 2000)]), i % 5 == 0)).collect();
        let mut packets = packets(&frames, &[], 0);
        // Lose the second packet of the second picture (each picture is two packets).
        packets.remove(3);
        let events = depacketize(&packets);
        assert!(events.contains(&H264Event::NeedKeyframe));
        assert!(events.iter().any(|e| matches!(e, H264Event::Damaged(H264Error::Lost(1)))));
        let got = pictures(&events);
        // Picture 0 survives, 1..=4 are dropped, 5..=9 come back at the keyframe.
        let expected: Vec<Bytes> =
            frames.iter().enumerate().filter(|(i, _)| *i == 0 || *i >= 5).map(|(_, f)| f.0.clone()).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn damaged_packets_are_typed_errors() {
        let mut depacketizer = H264Depacketizer::new();
        let mut out = Vec::new();
        // FU-A middle fragment without a start.
        depacketizer.push(1, 0, true, Bytes::from_static(&[0x7c, 0x05, 1, 2, 3]), &mut out);
        assert!(out.contains(&H264Event::Damaged(H264Error::Unit(UnitError::FuWithoutStart))));
        assert!(out.contains(&H264Event::NeedKeyframe));
        out.clear();
        // STAP-A whose second unit claims more bytes than remain.
        depacketizer.push(2, 3000, true, Bytes::from_static(&[0x78, 0, 2, 0x67, 1, 0, 50, 0x68]), &mut out);
        let past_end = UnitError::AggregateLengthPastEnd { offset: 5, length: 50, available: 1 };
        assert_eq!(out[0], H264Event::Damaged(H264Error::Unit(past_end)));
        out.clear();
        depacketizer.push(3, 6000, true, Bytes::from_static(&[0x7f]), &mut out);
        assert!(matches!(out[0], H264Event::Damaged(H264Error::UnsupportedType(31))));
        depacketizer.push(4, 9000, true, Bytes::new(), &mut out);
        assert!(out.iter().all(|e| !matches!(e, H264Event::AccessUnit { .. })));
    }

    #[test]
    fn sequence_numbers_wrap() {
        let frames: Vec<(Bytes, bool)> =
            (0..4).map(|i| (frame(&[nal(if i == 0 { 5 } else { 1 }, 3000)]), i == 0)).collect();
        let packets = packets(&frames, &[], 65_530);
        assert_eq!(pictures(&depacketize(&packets)).len(), 4);
    }

    #[test]
    fn keyframe_starts_are_seen_in_every_packet_type() {
        let sets = [Bytes::from(nal(NAL_SPS, 12)), Bytes::from(nal(NAL_PPS, 4))];
        let key = packets(&[(frame(&[nal(NAL_IDR, 4000)]), true)], &sets, 0);
        assert!(starts_keyframe(&key[0].3), "stap-a with the sps");
        assert!(starts_keyframe(&key[1].3), "first fu-a fragment of the idr");
        assert!(!starts_keyframe(&key[2].3), "a middle fragment");
        let small = packets(&[(frame(&[nal(NAL_IDR, 100)]), false)], &[], 0);
        assert!(starts_keyframe(&small[0].3), "single idr");
        let delta = packets(&[(frame(&[nal(1, 3000)]), false)], &[], 0);
        assert!(delta.iter().all(|p| !starts_keyframe(&p.3)));
        assert!(!starts_keyframe(&[]));
        assert!(!starts_keyframe(&[STAP_A, 0, 9, 0x65]), "stap-a unit past the end");
    }
}
