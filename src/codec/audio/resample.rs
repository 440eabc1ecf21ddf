//! A streaming linear-interpolation resampler for interleaved 16-bit PCM.
//!
//! Linear interpolation is enough for the AAC rates (44.1, 32, 22.05 kHz ... to 48 kHz) going to a
//! 48 kbit/s Opus encoder, which cuts above 20 kHz anyway; a sinc filter would cost many times the
//! CPU per stream. The position is kept as an exact fraction across calls, so the output length
//! over any run of input is `input * to / from` within one sample (no drift against the clock).

/// Converts `from` Hz to `to` Hz, `channels` interleaved.
#[derive(Debug, Clone)]
pub struct Resampler {
    from: u64,
    to: u64,
    channels: usize,
    /// The last input frame of the previous call (the left point of the next interpolation).
    last: Vec<i16>,
    /// Output frames made so far, and input frames consumed so far (both since the start).
    produced: u64,
    consumed: u64,
}

impl Resampler {
    /// `None` for a zero rate or no channels.
    pub fn new(from: u32, to: u32, channels: usize) -> Option<Resampler> {
        (from > 0 && to > 0 && channels > 0).then(|| Resampler {
            from: from.into(),
            to: to.into(),
            channels,
            last: vec![0; channels],
            produced: 0,
            consumed: 0,
        })
    }

    pub fn is_identity(&self) -> bool {
        self.from == self.to
    }

    /// Appends the resampled `input` (whole interleaved frames) to `out`.
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        let ch = self.channels;
        let frames = (input.len() / ch) as u64;
        if frames == 0 {
            return;
        }
        if self.is_identity() {
            out.extend_from_slice(&input[..frames as usize * ch]);
            self.consumed += frames;
            self.produced += frames;
            return;
        }
        // Input frame k (absolute) sits at time k / from; output frame n at n / to. Frame -1 of
        // this call is `self.last`. An output is made while its right neighbour is available.
        let base = self.consumed;
        let end = base + frames;
        loop {
            // Position of the next output in input frames, as an integer part and a remainder.
            let num = self.produced * self.from;
            let left = num / self.to;
            if left + 1 >= end {
                break;
            }
            let frac = (num % self.to) as i64;
            let left_at = |c: usize| -> i64 {
                if left < base {
                    i64::from(self.last[c])
                } else {
                    i64::from(input[(left - base) as usize * ch + c])
                }
            };
            let right = (left + 1 - base) as usize;
            for c in 0..ch {
                let a = left_at(c);
                let b = i64::from(input[right * ch + c]);
                let value = a + (b - a) * frac / self.to as i64;
                out.push(value as i16);
            }
            self.produced += 1;
        }
        let last = (frames as usize - 1) * ch;
        self.last.copy_from_slice(&input[last..last + ch]);
        self.consumed = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f64, frames: usize) -> Vec<i16> {
        (0..frames)
            .map(|n| ((n as f64 * freq * std::f64::consts::TAU / rate as f64).sin() * 10_000.0) as i16)
            .collect()
    }

    #[test]
    fn output_length_follows_the_rate_ratio_across_calls() {
        let mut r = Resampler::new(44_100, 48_000, 2).unwrap();
        let mut out = Vec::new();
        // 100 AAC frames of 1024 samples: 102400 in, 111456.2... out.
        for _ in 0..100 {
            r.process(&vec![0; 2048], &mut out);
        }
        let expected = 102_400.0 * 48_000.0 / 44_100.0;
        assert!(((out.len() / 2) as f64 - expected).abs() <= 2.0, "{} vs {expected}", out.len() / 2);
        assert_eq!(out.len() % 2, 0);
    }

    #[test]
    fn identity_and_down_sampling() {
        let mut same = Resampler::new(48_000, 48_000, 1).unwrap();
        let mut out = Vec::new();
        same.process(&[1, 2, 3], &mut out);
        assert_eq!(out, [1, 2, 3]);
        let mut down = Resampler::new(48_000, 16_000, 1).unwrap();
        out.clear();
        down.process(&vec![7; 4800], &mut out);
        assert!((1599..=1600).contains(&out.len()));
        assert!(out.iter().all(|s| *s == 7));
        assert!(Resampler::new(0, 48_000, 1).is_none());
    }

    #[test]
    fn a_tone_keeps_its_frequency() {
        // A 1 kHz tone at 44.1 kHz becomes 48 samples per period at 48 kHz: count zero crossings.
        let input = sine(44_100, 1000.0, 44_100);
        let mut r = Resampler::new(44_100, 48_000, 1).unwrap();
        let mut out = Vec::new();
        for chunk in input.chunks(1024) {
            r.process(chunk, &mut out);
        }
        let rising = out.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
        assert!((998..=1001).contains(&rising), "{rising} periods");
    }
}
