//! Audio decode times from AAC sample counts (`hls_dts_directly off`), SRS's rule.
//!
//! Each frame's length in samples is guessed from the timestamp step (960, 1024, 2048 or 4096
//! samples), the samples are summed, and the decode time is the sum over the sample rate. Jittery
//! RTMP audio timestamps so become an even clock. The counter restarts when timestamps go back.
//! SRS divides by the FLV header's rate (44.1 kHz for every AAC stream); this uses the real rate
//! from the AudioSpecificConfig, which is the same for 44.1 kHz and right for the others.

use crate::media::{MediaTime, Timebase};

#[derive(Debug, Clone, Default)]
pub struct AacSampleClock {
    previous: Option<MediaTime>,
    /// Time of the first frame since the last reset; sample counts are added to it.
    origin: Option<MediaTime>,
    n_samples: u64,
}

impl AacSampleClock {
    /// The decode time of a frame stamped `dts` at `sample_rate` Hz.
    pub fn next(&mut self, dts: MediaTime, sample_rate: u32) -> MediaTime {
        let Some(timebase) = Timebase::new(sample_rate) else { return dts };
        let (origin, previous) = match (self.origin, self.previous) {
            (Some(origin), Some(previous)) if dts >= previous => (origin, previous),
            _ => {
                self.origin = Some(dts);
                self.previous = Some(dts);
                self.n_samples = 0;
                return dts;
            }
        };
        let step_ms = (dts - previous).as_millis();
        let guess = step_ms * i64::from(sample_rate) / 1000;
        let samples_per_frame = match guess {
            g if g <= 0 => 0,
            g if g < 960 => 960,
            g if g < 1536 => 1024,
            g if g < 3072 => 2048,
            _ => 4096,
        };
        self.n_samples += samples_per_frame;
        self.previous = Some(dts);
        origin.rescale(timebase) + MediaTime::new(self.n_samples as i64, timebase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jittery_timestamps_become_sample_exact() {
        let mut clock = AacSampleClock::default();
        let stamps = [1000, 1023, 1046, 1070, 1093, 1116];
        let times: Vec<i64> = stamps
            .iter()
            .map(|ms| clock.next(MediaTime::from_millis(*ms), 44_100).rescale(Timebase::MPEG).ticks())
            .collect();
        // 1024 samples at 44.1 kHz are 2089.8 ticks of 90 kHz.
        assert_eq!(times, [90_000, 92_089, 94_179, 96_269, 98_359, 100_448]);
        // Time going back restarts the count.
        assert_eq!(clock.next(MediaTime::from_millis(500), 44_100), MediaTime::from_millis(500));
    }
}
