//! The state machine both video depacketizers share (H.264, RFC 6184; H.265, RFC 7798): packets
//! are put back in order (`reorder`'s window), their payloads rebuilt into access units by the
//! payload format, parameter sets reported apart (they become the sequence header), and, after a
//! loss or a damaged packet, pictures dropped until the next keyframe with one request for it.

use bytes::Bytes;

use super::reorder::{Ordered, Packet, ReorderWindow};
use super::units::FuAssembler;
use crate::codec::nal;

/// What one payload format knows: how a payload adds NAL units, and what each NAL unit is.
pub trait VideoPayloadFormat {
    type Error;
    /// How many parameter set kinds the format has (H.264: SPS, PPS; H.265: VPS, SPS, PPS).
    const PARAMETER_SETS: usize;
    /// The error that `packets` packets were lost.
    fn lost(packets: u64) -> Self::Error;
    /// Adds one payload's NAL units (or a fragment of one) to the access unit being rebuilt.
    fn add_payload(assembly: &mut Assembly, payload: Bytes) -> Result<(), Self::Error>;
    /// What a rebuilt NAL unit is to the stream.
    fn role(nal: &[u8]) -> NalRole;
}

/// What a NAL unit of a rebuilt access unit is to the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NalRole {
    /// The parameter set of this index (in the format's order); kept apart from pictures.
    ParameterSet(usize),
    /// An access unit delimiter: dropped.
    Delimiter,
    /// Picture data; a keyframe's starts a decodable sequence.
    Picture { keyframe: bool },
}

/// What the depacketizer gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a, E> {
    /// New parameter sets, one of each kind in the format's order.
    ParameterSets(&'a [Bytes]),
    /// One picture, 4-byte length-prefixed, without parameter sets or delimiters.
    AccessUnit { timestamp: u32, keyframe: bool, data: Bytes },
    /// Pictures are dropped until a keyframe: ask the sender for one (PLI).
    NeedKeyframe,
    /// A packet was damaged or lost; the picture it belonged to is dropped.
    Damaged(E),
}

/// The access unit being rebuilt (the payload formats add to it).
#[derive(Debug, Default)]
pub struct Assembly {
    timestamp: u32,
    pub(super) nals: Vec<Bytes>,
    pub(super) fragment: FuAssembler,
    /// Payload bytes so far, against the format's largest access unit.
    pub(super) size: usize,
    broken: bool,
}

/// Rebuilds access units from RTP packets of format `F`.
#[derive(Debug)]
pub struct Depacketizer<F> {
    window: ReorderWindow,
    ordered: Vec<Ordered>,
    current: Option<Assembly>,
    /// No keyframe since the start or the last loss: pictures are dropped.
    waiting: bool,
    /// `NeedKeyframe` was said since `waiting` began.
    asked: bool,
    /// The latest parameter set of each kind.
    sets: Vec<Option<Bytes>>,
    /// The parameter sets last given out.
    announced: Vec<Bytes>,
    format: std::marker::PhantomData<F>,
}

impl<F: VideoPayloadFormat> Default for Depacketizer<F> {
    fn default() -> Self {
        Depacketizer {
            window: ReorderWindow::new(),
            ordered: Vec::new(),
            current: None,
            waiting: true,
            asked: false,
            sets: vec![None; F::PARAMETER_SETS],
            announced: Vec::new(),
            format: std::marker::PhantomData,
        }
    }
}

impl<F: VideoPayloadFormat> Depacketizer<F> {
    /// Takes one packet's sequence number, timestamp, marker and payload; gives what follows to `out`.
    pub fn push(
        &mut self,
        sequence: u16,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
        out: &mut impl FnMut(Event<'_, F::Error>),
    ) {
        let mut ordered = std::mem::take(&mut self.ordered);
        self.window.push(sequence, Packet { timestamp, marker, payload }, &mut ordered);
        for item in ordered.drain(..) {
            match item {
                Ordered::Packet(p) => self.packet(p.timestamp, p.marker, p.payload, out),
                Ordered::Lost(n) => {
                    out(Event::Damaged(F::lost(n)));
                    if let Some(current) = self.current.as_mut() {
                        current.broken = true;
                    }
                    self.wait_for_keyframe(out);
                }
            }
        }
        self.ordered = ordered;
    }

    /// Closes the access unit in progress (the sender stopped); a complete one is given out.
    pub fn flush(&mut self, out: &mut impl FnMut(Event<'_, F::Error>)) {
        self.finish(out);
    }

    /// The latest parameter sets received, one of each kind, once all kinds have come.
    pub fn parameter_sets(&self) -> Option<Vec<Bytes>> {
        self.sets.iter().cloned().collect()
    }

    fn wait_for_keyframe(&mut self, out: &mut impl FnMut(Event<'_, F::Error>)) {
        self.waiting = true;
        if !self.asked {
            self.asked = true;
            out(Event::NeedKeyframe);
        }
    }

    fn packet(
        &mut self,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
        out: &mut impl FnMut(Event<'_, F::Error>),
    ) {
        // Padding only (a sender probing bandwidth, as Chromium does on the media SSRC when no RTX
        // is negotiated): it holds a sequence number, which the window has counted, and no media.
        if payload.is_empty() {
            return;
        }
        if self.current.as_ref().is_some_and(|c| c.timestamp != timestamp) {
            self.finish(out);
        }
        let current = self.current.get_or_insert_with(|| Assembly { timestamp, ..Assembly::default() });
        if let Err(e) = F::add_payload(current, payload) {
            current.broken = true;
            out(Event::Damaged(e));
        }
        if marker {
            self.finish(out);
        }
    }

    fn finish(&mut self, out: &mut impl FnMut(Event<'_, F::Error>)) {
        let Some(assembly) = self.current.take() else { return };
        if assembly.broken || assembly.fragment.in_progress() {
            return self.wait_for_keyframe(out);
        }
        let mut keyframe = false;
        let mut picture = Vec::with_capacity(assembly.nals.len());
        for unit in assembly.nals {
            match F::role(&unit) {
                NalRole::ParameterSet(index) => {
                    if let Some(slot) = self.sets.get_mut(index) {
                        *slot = Some(unit);
                    }
                }
                NalRole::Delimiter => {}
                NalRole::Picture { keyframe: key } => {
                    keyframe |= key;
                    picture.push(unit);
                }
            }
        }
        if let Some(current) = self.parameter_sets() {
            if self.announced != current {
                self.announced = current;
                out(Event::ParameterSets(&self.announced));
            }
        }
        if picture.is_empty() {
            return;
        }
        if self.waiting && !keyframe {
            return self.wait_for_keyframe(out);
        }
        if keyframe {
            self.waiting = false;
            self.asked = false;
        }
        let data = nal::to_length_prefixed(picture.iter().map(|n| n.as_ref()));
        out(Event::AccessUnit { timestamp: assembly.timestamp, keyframe, data });
    }
}
