//! NAL unit reassembly shared by H.264 (RFC 6184) and H.265 (RFC 7798): fragmentation units
//! (FU-A / FU) put back into one NAL unit, and aggregation packets (STAP-A / AP) split into theirs.
//! The two formats differ only in header sizes, which the callers pass.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnitError {
    #[error("fragment without a start fragment")]
    FuWithoutStart,
    #[error("fragment start while another nal unit was being reassembled")]
    FuRestarted,
    #[error("aggregated unit of {length} bytes at byte {offset} runs past the packet ({available} left)")]
    AggregateLengthPastEnd { offset: usize, length: usize, available: usize },
    #[error("aggregation packet of {0} bytes cut inside a unit's length")]
    AggregateTruncated(usize),
}

/// One NAL unit being rebuilt from fragments.
#[derive(Debug, Default)]
pub struct FuAssembler {
    unit: Option<BytesMut>,
}

impl FuAssembler {
    /// Takes one fragment: `header` is the NAL unit header rebuilt from the FU's (read on a start
    /// only), `body` the fragment's bytes. Gives the NAL unit when `end` completes it. A start
    /// while a unit is open drops the open one (an error) and begins anew; a middle or end
    /// fragment with no unit open is an error.
    pub fn push(
        &mut self,
        start: bool,
        end: bool,
        header: &[u8],
        body: &[u8],
    ) -> Result<Option<Bytes>, UnitError> {
        if start {
            let restarted = self.unit.is_some();
            let mut unit = BytesMut::with_capacity((header.len() + body.len()) * 4);
            unit.put_slice(header);
            unit.put_slice(body);
            self.unit = Some(unit);
            if restarted {
                return Err(UnitError::FuRestarted);
            }
        } else {
            let Some(unit) = self.unit.as_mut() else { return Err(UnitError::FuWithoutStart) };
            unit.put_slice(body);
        }
        Ok(if end { self.unit.take().map(BytesMut::freeze) } else { None })
    }

    /// Whether a unit is open (its end fragment not seen).
    pub fn in_progress(&self) -> bool {
        self.unit.is_some()
    }

    /// Drops the open unit; says whether there was one.
    pub fn abandon(&mut self) -> bool {
        self.unit.take().is_some()
    }
}

/// Appends the units of an aggregation packet to `out`: after `header_len` bytes, each unit is a
/// 16-bit length and its bytes, and none is shorter than `min_unit`. A length past the end is an
/// error; the units before it are kept in `out`.
pub fn split_aggregate(
    payload: &Bytes,
    header_len: usize,
    min_unit: usize,
    out: &mut Vec<Bytes>,
) -> Result<(), UnitError> {
    let mut offset = header_len;
    while offset < payload.len() {
        let Some(size) = payload.get(offset..offset + 2) else {
            return Err(UnitError::AggregateTruncated(payload.len()));
        };
        let length = usize::from(u16::from_be_bytes([size[0], size[1]]));
        let start = offset + 2;
        if length < min_unit.max(1) || start + length > payload.len() {
            let available = payload.len().saturating_sub(start);
            return Err(UnitError::AggregateLengthPastEnd { offset, length, available });
        }
        out.push(payload.slice(start..start + length));
        offset = start + length;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_rebuild_one_unit() {
        let mut fu = FuAssembler::default();
        assert_eq!(fu.push(true, false, &[0x65], &[1, 2]), Ok(None));
        assert!(fu.in_progress());
        assert_eq!(fu.push(false, false, &[0xff], &[3]), Ok(None), "a later header is not read");
        assert_eq!(fu.push(false, true, &[], &[4]), Ok(Some(Bytes::from_static(&[0x65, 1, 2, 3, 4]))));
        assert!(!fu.in_progress());
    }

    #[test]
    fn fragments_out_of_place_are_errors() {
        let mut fu = FuAssembler::default();
        assert_eq!(fu.push(false, true, &[], &[1]), Err(UnitError::FuWithoutStart));
        fu.push(true, false, &[0x41, 0x01], &[1]).unwrap();
        assert_eq!(fu.push(true, false, &[0x41, 0x01], &[9]), Err(UnitError::FuRestarted));
        // The restart's unit goes on.
        assert_eq!(fu.push(false, true, &[], &[8]), Ok(Some(Bytes::from_static(&[0x41, 0x01, 9, 8]))));
        fu.push(true, false, &[0x41], &[]).unwrap();
        assert!(fu.abandon());
        assert!(!fu.abandon());
    }

    #[test]
    fn aggregates_split_and_lengths_are_checked() {
        let ap = Bytes::from_static(&[0x78, 0, 2, 0x67, 1, 0, 1, 0x68]);
        let mut units = Vec::new();
        split_aggregate(&ap, 1, 1, &mut units).unwrap();
        assert_eq!(units, [Bytes::from_static(&[0x67, 1]), Bytes::from_static(&[0x68])]);
        let past = Bytes::from_static(&[0x78, 0, 2, 0x67, 1, 0, 50, 0x68]);
        units.clear();
        let error = split_aggregate(&past, 1, 1, &mut units).unwrap_err();
        assert_eq!(error, UnitError::AggregateLengthPastEnd { offset: 5, length: 50, available: 1 });
        assert_eq!(units.len(), 1);
        let cut = Bytes::from_static(&[0x60, 0x01, 0, 2, 0x40, 1, 0]);
        assert_eq!(split_aggregate(&cut, 2, 2, &mut Vec::new()), Err(UnitError::AggregateTruncated(7)));
        let short = Bytes::from_static(&[0x60, 0x01, 0, 1, 0x40]);
        assert!(matches!(
            split_aggregate(&short, 2, 2, &mut Vec::new()),
            Err(UnitError::AggregateLengthPastEnd { .. })
        ));
    }
}
