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
    /// `2^48 / to`: a remainder times this, shifted down 32, is its fraction of `to` in Q16, so
    /// the per-sample weight takes no division.
    inverse_to: u64,
    /// The last input frame of the previous call (the left point of the next interpolation).
    last: Vec<i16>,
    /// The next output's position in input frames (absolute, since the start): `left` and
    /// `remainder / to` of the way to the frame after it.
    left: u64,
    remainder: u64,
    /// Input frames consumed so far.
    consumed: u64,
}

impl Resampler {
    /// `None` for a zero rate or no channels.
    pub fn new(from: u32, to: u32, channels: usize) -> Option<Resampler> {
        (from > 0 && to > 0 && channels > 0).then(|| Resampler {
            from: from.into(),
            to: to.into(),
            channels,
            inverse_to: (1u64 << 48) / u64::from(to),
            last: vec![0; channels],
            left: 0,
            remainder: 0,
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
            return;
        }
        // Input frame k (absolute) sits at time k / from; output frame n at n / to, so each output
        // moves `from / to` input frames on. Frame -1 of this call is `self.last`. An output is
        // made while its right neighbour is available.
        let base = self.consumed;
        let end = base + frames;
        out.reserve(((end.saturating_sub(self.left) * self.to / self.from) as usize + 1) * ch);
        let (step_frames, step_remainder) = (self.from / self.to, self.from % self.to);
        while self.left + 1 < end {
            let weight = ((self.remainder * self.inverse_to) >> 32) as i64;
            let right = (self.left + 1 - base) as usize * ch;
            for c in 0..ch {
                let a = i64::from(if self.left < base { self.last[c] } else { input[right - ch + c] });
                let b = i64::from(input[right + c]);
                out.push((a + (((b - a) * weight) >> 16)) as i16);
            }
            self.left += step_frames;
            self.remainder += step_remainder;
            if self.remainder >= self.to {
                self.remainder -= self.to;
                self.left += 1;
            }
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

    /// Each output is the straight line between its two input neighbours at its exact position,
    /// within one step of 16-bit rounding, whatever the rates and however the input is cut.
    #[test]
    fn outputs_are_linear_interpolation_at_the_exact_position() {
        for (from, to, chunk) in
            [(44_100, 48_000, 1024), (22_050, 48_000, 7), (48_000, 16_000, 960), (32_000, 48_000, 1)]
        {
            let input = sine(from, 1234.5, from as usize / 4);
            let stereo: Vec<i16> = input.iter().flat_map(|s| [*s, s.saturating_neg()]).collect();
            let mut r = Resampler::new(from, to, 2).unwrap();
            let mut out = Vec::new();
            for piece in stereo.chunks(chunk * 2) {
                r.process(piece, &mut out);
            }
            for (n, pair) in out.chunks_exact(2).enumerate() {
                let at = n as f64 * f64::from(from) / f64::from(to);
                let (left, frac) = (at.floor() as usize, at.fract());
                let a = f64::from(input[left]);
                let expected = a + (f64::from(input[left + 1]) - a) * frac;
                assert!(
                    (f64::from(pair[0]) - expected).abs() <= 1.5,
                    "{from}->{to} #{n}: {} vs {expected}",
                    pair[0]
                );
                assert!((f64::from(pair[1]) + expected).abs() <= 1.5, "{from}->{to} #{n} right");
            }
            let expected_len = (input.len() - 1) as f64 * f64::from(to) / f64::from(from);
            assert!(
                ((out.len() / 2) as f64 - expected_len).abs() <= 1.0,
                "{from}->{to}: {} vs {expected_len}",
                out.len() / 2
            );
        }
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
