//! Unwrapping 33-bit PES timestamps into one continuous 64-bit timeline.
//!
//! A 90 kHz clock wraps every 2^33 ticks (about 26.5 hours); a long-running demuxer must keep
//! counting past it. It does not rebase timestamps to zero or smooth jumps: a discontinuity in
//! the source stays a jump in the output.

use super::pes::TIMESTAMP_MASK;

const WRAP: i64 = 1 << 33;

/// Extends 33-bit timestamps by choosing, for each, the 2^33 multiple that puts it nearest to the
/// previous output. One unwrapper is shared by all streams of a program, so audio and video
/// timestamps, which stay within seconds of each other, extend consistently.
#[derive(Debug, Default, Clone)]
pub(crate) struct TimestampUnwrapper {
    last: Option<i64>,
}

impl TimestampUnwrapper {
    pub fn unwrap(&mut self, raw: u64) -> i64 {
        let raw = (raw & TIMESTAMP_MASK) as i64;
        let extended = match self.last {
            None => raw,
            Some(last) => {
                let base = last - last.rem_euclid(WRAP);
                [base - WRAP, base, base + WRAP]
                    .into_iter()
                    .map(|b| b + raw)
                    .min_by_key(|candidate| (candidate - last).abs())
                    .unwrap_or(raw)
            }
        };
        self.last = Some(extended);
        extended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_counting_across_the_wrap_both_ways() {
        let mut unwrapper = TimestampUnwrapper::default();
        assert_eq!(unwrapper.unwrap((WRAP - 3000) as u64), WRAP - 3000);
        assert_eq!(unwrapper.unwrap(6000), WRAP + 6000, "forward over the wrap");
        assert_eq!(unwrapper.unwrap((WRAP - 1000) as u64), WRAP - 1000, "a B-frame pts just before it");
        assert_eq!(unwrapper.unwrap(9000), WRAP + 9000);
        let mut lap = 1;
        for _ in 0..3 {
            assert_eq!(unwrapper.unwrap((WRAP / 2) as u64), lap * WRAP + WRAP / 2);
            assert_eq!(unwrapper.unwrap((WRAP - 10) as u64), lap * WRAP + WRAP - 10);
            lap += 1;
            assert_eq!(unwrapper.unwrap(100), lap * WRAP + 100);
        }
    }
}
