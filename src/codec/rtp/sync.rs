//! Lip sync of a published stream from RTCP sender reports (RFC 3550 §6.4.1).
//!
//! A sender report ties a track's RTP clock to the sender's NTP wall clock. Once both tracks of
//! a publish have one, the wall-clock instant of each track's first RTP timestamp is known, and
//! so how far apart the tracks really started; the receiver placed them by their first packets'
//! arrival, which the network and the sender's pacing skew.
//!
//! `RtcIn` places each track at its first packet's arrival until both tracks have a report,
//! then moves one of them by [`shifts`]: always later, so no track's time goes back.

use crate::media::MediaKind;

/// One track: its clock rate, first RTP timestamp and latest report (NTP in µs, RTP).
#[derive(Debug, Clone)]
struct Track {
    hz: u32,
    first: Option<u32>,
    report: Option<(i64, u32)>,
}

impl Track {
    /// The sender's wall-clock time (µs) of the first RTP timestamp.
    fn start(&self) -> Option<i64> {
        let (ntp, rtp) = self.report?;
        let since_first = i64::from(rtp.wrapping_sub(self.first?) as i32);
        Some(ntp - since_first * 1_000_000 / i64::from(self.hz.max(1)))
    }
}

/// Audio and video of one publish.
#[derive(Debug, Clone)]
pub struct AvSync {
    video: Track,
    audio: Track,
    done: bool,
}

/// An RTCP NTP timestamp (32.32 fixed point seconds) in microseconds.
pub fn ntp_micros(ntp: u64) -> i64 {
    let seconds = (ntp >> 32) as i64;
    let fraction = ((ntp & 0xffff_ffff) * 1_000_000) >> 32;
    seconds * 1_000_000 + fraction as i64
}

impl AvSync {
    pub fn new(video_hz: u32, audio_hz: u32) -> AvSync {
        let track = |hz| Track { hz, first: None, report: None };
        AvSync { video: track(video_hz), audio: track(audio_hz), done: false }
    }

    fn track(&mut self, kind: MediaKind) -> &mut Track {
        match kind {
            MediaKind::Video => &mut self.video,
            MediaKind::Audio => &mut self.audio,
        }
    }

    /// The RTP timestamp a track's media times start from.
    pub fn started(&mut self, kind: MediaKind, rtp: u32) {
        self.track(kind).first.get_or_insert(rtp);
    }

    /// Takes a sender report; the first time both tracks can be placed, gives how many
    /// milliseconds audio started after video on the sender's clock (negative: before).
    pub fn report(&mut self, kind: MediaKind, ntp: u64, rtp: u32) -> Option<i64> {
        self.track(kind).report = Some((ntp_micros(ntp), rtp));
        if self.done {
            return None;
        }
        let skew = (self.audio.start()? - self.video.start()?) / 1000;
        self.done = true;
        Some(skew)
    }
}

/// How much later (ms, never negative) each track's start must go so that the tracks start
/// `sender_skew` ms apart (audio after video, from [`AvSync::report`]) where the receiver placed
/// them `placed_skew` ms apart. Moving a track earlier would take its times back, so the other
/// one moves later instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shifts {
    pub video_ms: i64,
    pub audio_ms: i64,
}

pub fn shifts(placed_skew: i64, sender_skew: i64) -> Shifts {
    let error = sender_skew - placed_skew;
    Shifts { video_ms: (-error).max(0), audio_ms: error.max(0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ntp(micros: i64) -> u64 {
        let seconds = (micros / 1_000_000) as u64;
        let fraction = (((micros % 1_000_000) as u64) << 32) / 1_000_000;
        (seconds << 32) | fraction
    }

    #[test]
    fn ntp_fixed_point_to_micros() {
        assert_eq!(ntp_micros(ntp(3_600_250_000)), 3_600_250_000);
        assert_eq!(ntp_micros(1 << 31), 500_000);
    }

    #[test]
    fn the_tracks_start_offset_comes_from_both_reports() {
        let mut sync = AvSync::new(90_000, 48_000);
        sync.started(MediaKind::Video, 1_000);
        sync.started(MediaKind::Audio, u32::MAX - 479); // wraps: 10 ms before 0
                                                        // Video: at wall clock 100.000 s its RTP was 1000 + 90000 (one second in).
        assert_eq!(sync.report(MediaKind::Video, ntp(100_000_000), 91_000), None);
        // Audio: at 100.5 s its RTP was 10 ms + 1.44 s in: it started at 99.05 s.
        let audio_rtp = (u32::MAX - 479).wrapping_add(480 + 69_120);
        let skew = sync.report(MediaKind::Audio, ntp(100_500_000), audio_rtp);
        // Video started at 99.000 s, audio at 99.050 s.
        assert_eq!(skew, Some(50));
        // Given once.
        assert_eq!(sync.report(MediaKind::Audio, ntp(101_000_000), audio_rtp + 24_000), None);
    }

    #[test]
    fn corrections_only_move_tracks_later() {
        // Placed together, but audio really started 80 ms after video: audio goes 80 ms later.
        assert_eq!(shifts(0, 80), Shifts { video_ms: 0, audio_ms: 80 });
        // Audio placed 120 ms after video (its first packet came first, video waited for the
        // encoder), but both started at once: video goes 120 ms later.
        assert_eq!(shifts(120, 0), Shifts { video_ms: 120, audio_ms: 0 });
        // Audio placed 30 ms before video, really 50 ms before: video goes 20 ms later.
        assert_eq!(shifts(-30, -50), Shifts { video_ms: 20, audio_ms: 0 });
        assert_eq!(shifts(40, 40), Shifts { video_ms: 0, audio_ms: 0 });
    }

    #[test]
    fn a_track_without_packets_or_reports_gives_nothing() {
        let mut sync = AvSync::new(90_000, 48_000);
        assert_eq!(sync.report(MediaKind::Audio, ntp(1_000_000), 5), None);
        sync.started(MediaKind::Video, 7);
        assert_eq!(sync.report(MediaKind::Audio, ntp(1_000_000), 5), None);
    }
}
