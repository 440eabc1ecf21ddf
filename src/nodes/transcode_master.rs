//! The HLS master playlist of a stream's renditions, from the renditions themselves: each one's
//! picture size from its published description, and its `BANDWIDTH` from the peak bit rate
//! measured over 2-second windows (RFC 8216 §4.3.4.2 asks for the peak segment bit rate).
//! Until a rendition has been measured, its engine's settings stand in, so the playlist can be
//! written at once and corrected as the renditions run.

use std::time::{Duration, Instant};

use crate::codec::hls::{master_playlist, Variant};
use crate::graph::StreamKey;

/// How long one bit-rate sample spans: about an HLS segment of a low-latency setup, short enough
/// that a peak (a keyframe's burst) shows.
pub const WINDOW: Duration = Duration::from_secs(2);

/// Media payload bytes are measured; an HLS segment also carries MPEG-TS packet and PES headers
/// (a few per cent at these rates), allowed for by this many per cent on top.
const PACKAGING_PERCENT: u64 = 10;

/// A written `BANDWIDTH` is rewritten when the measured peak moves by more than this many per cent.
const REWRITE_PERCENT: u64 = 10;

/// One rendition: its stream, its settings' variant, and what was measured of it.
#[derive(Debug, Clone)]
pub struct Rendition {
    /// The stream the rendition is published as, when it is one of this server's.
    pub key: Option<StreamKey>,
    configured: Variant,
    /// The start of the current window: when, and the stream's byte count then.
    window: Option<(Instant, u64)>,
    peak_bits_per_second: u64,
    measured_size: Option<(u64, u64)>,
}

impl Rendition {
    pub fn new(key: Option<StreamKey>, configured: Variant) -> Rendition {
        Rendition { key, configured, window: None, peak_bits_per_second: 0, measured_size: None }
    }

    /// One look at the rendition's stream: its payload bytes so far and its picture size.
    /// A stream that is not published (yet, or again) is `None`: its window starts over.
    pub fn observe(&mut self, now: Instant, seen: Option<(u64, Option<(u64, u64)>)>) {
        let Some((bytes, size)) = seen else {
            self.window = None;
            return;
        };
        if size.is_some() {
            self.measured_size = size;
        }
        match self.window {
            // A byte count that went back is a new publication of the rendition.
            Some((start, base)) if bytes >= base => {
                let elapsed = now.saturating_duration_since(start);
                if elapsed >= WINDOW {
                    let bits = (bytes - base).saturating_mul(8);
                    let rate = bits.saturating_mul(1000) / (elapsed.as_millis().max(1) as u64);
                    self.peak_bits_per_second = self.peak_bits_per_second.max(rate);
                    self.window = Some((now, bytes));
                }
            }
            _ => self.window = Some((now, bytes)),
        }
    }

    /// The variant as the master playlist lists it now.
    pub fn variant(&self) -> Variant {
        let measured = self.peak_bits_per_second * (100 + PACKAGING_PERCENT) / 100;
        Variant {
            uri: self.configured.uri.clone(),
            bandwidth: if measured > 0 { measured } else { self.configured.bandwidth },
            resolution: self.measured_size.or(self.configured.resolution),
        }
    }
}

/// The renditions' master playlist and what was last written of it.
#[derive(Debug, Clone)]
pub struct Master {
    renditions: Vec<Rendition>,
    written: Vec<Variant>,
}

impl Master {
    pub fn new(renditions: Vec<Rendition>) -> Master {
        Master { renditions, written: Vec::new() }
    }

    /// One look at every rendition: `seen` gives a stream's payload bytes and picture size.
    pub fn observe(&mut self, now: Instant, seen: impl Fn(&StreamKey) -> Option<(u64, Option<(u64, u64)>)>) {
        for rendition in &mut self.renditions {
            let look = rendition.key.as_ref().and_then(&seen);
            rendition.observe(now, look);
        }
    }

    /// The playlist text when it should be (re)written: at first, when a picture size changed, or
    /// when a bandwidth moved by more than `REWRITE_PERCENT`. Highest bandwidth first.
    pub fn text_to_write(&mut self) -> Option<String> {
        let mut variants: Vec<Variant> = self.renditions.iter().map(Rendition::variant).collect();
        variants.sort_by_key(|v| std::cmp::Reverse(v.bandwidth));
        let moved = |now: &Variant| {
            let Some(then) = self.written.iter().find(|w| w.uri == now.uri) else { return true };
            let change = now.bandwidth.abs_diff(then.bandwidth).saturating_mul(100);
            then.resolution != now.resolution || change > then.bandwidth.saturating_mul(REWRITE_PERCENT)
        };
        if !self.written.is_empty() && !variants.iter().any(moved) {
            return None;
        }
        let text = master_playlist(&variants);
        self.written = variants;
        Some(text)
    }

    /// The text given last was not written: the next call gives it again.
    pub fn unwritten(&mut self) {
        self.written.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendition(name: &str, kbps: u64, size: (u64, u64)) -> Rendition {
        let configured =
            Variant { uri: format!("cam_{name}.m3u8"), bandwidth: kbps * 1000, resolution: Some(size) };
        Rendition::new(Some(StreamKey::new("v", "live", format!("cam_{name}"))), configured)
    }

    #[test]
    fn settings_stand_in_until_the_rendition_is_measured() {
        let mut master =
            Master::new(vec![rendition("sd", 348, (320, 180)), rendition("hd", 648, (640, 360))]);
        let text = master.text_to_write().unwrap();
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=648000,RESOLUTION=640x360\ncam_hd.m3u8\n\
             #EXT-X-STREAM-INF:BANDWIDTH=348000,RESOLUTION=320x180\ncam_sd.m3u8\n"
        );
        assert_eq!(master.text_to_write(), None, "nothing changed");
    }

    #[test]
    fn the_peak_window_and_the_stream_size_replace_the_settings() {
        let start = Instant::now();
        let mut sd = rendition("sd", 348, (320, 180));
        sd.observe(start, Some((0, None)));
        // 100 kB in the first 2 s (400 kbit/s), 150 kB in the next 2 s (600 kbit/s), then 50 kB.
        sd.observe(start + Duration::from_secs(1), Some((60_000, Some((322, 180)))));
        sd.observe(start + Duration::from_secs(2), Some((100_000, None)));
        sd.observe(start + Duration::from_secs(4), Some((250_000, None)));
        sd.observe(start + Duration::from_secs(6), Some((300_000, None)));
        let variant = sd.variant();
        assert_eq!(variant.bandwidth, 660_000, "the 600 kbit/s peak and 10 % for packaging");
        assert_eq!(variant.resolution, Some((322, 180)), "the size the stream has");
    }

    #[test]
    fn a_republished_rendition_starts_a_new_window() {
        let start = Instant::now();
        let mut sd = rendition("sd", 348, (320, 180));
        sd.observe(start, Some((1_000_000, None)));
        sd.observe(start + Duration::from_secs(1), None);
        sd.observe(start + Duration::from_secs(2), Some((10_000, None)));
        sd.observe(start + Duration::from_secs(3), Some((5_000, None)));
        sd.observe(start + Duration::from_secs(5), Some((105_000, None)));
        assert_eq!(sd.variant().bandwidth, 440_000, "100 kB over 2 s after the restart");
    }

    #[test]
    fn it_is_rewritten_only_when_a_variant_moves_enough() {
        let start = Instant::now();
        let mut master = Master::new(vec![rendition("sd", 100, (320, 180))]);
        assert!(master.text_to_write().is_some());
        let sd = &mut master.renditions[0];
        sd.observe(start, Some((0, None)));
        sd.observe(start + WINDOW, Some((26_000, None))); // 104 kbit/s + 10 % = 114 400: moved 14 %
        let text = master.text_to_write().unwrap();
        assert!(text.contains("BANDWIDTH=114400,RESOLUTION=320x180"), "{text}");
        let sd = &mut master.renditions[0];
        sd.observe(start + WINDOW * 2, Some((53_000, None))); // 108 kbit/s: moved 4 %
        assert_eq!(master.text_to_write(), None);
        let sd = &mut master.renditions[0];
        sd.observe(start + WINDOW * 3, Some((53_000, Some((640, 360)))));
        assert!(master.text_to_write().unwrap().contains("RESOLUTION=640x360"));
    }
}
