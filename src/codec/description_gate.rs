//! The events of a demuxer whose tracks are described by the stream itself (MPEG-TS, PS): frames
//! are held back until every track the stream carries is described, so the first description is
//! complete; after that a changed description goes out before the next frame.
//!
//! Holding is bounded in frames and in media time: past either bound the description goes out
//! with what is known, so a track whose configuration never comes cannot stall the others.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::media::{AudioTrack, Frame, MediaEvent, StreamDescription, VideoTrack};

/// Frames are held back at most this long (90 kHz) waiting for every track's configuration.
const MAX_HOLD_TICKS: i64 = 2 * 90_000;
const MAX_HELD_FRAMES: usize = 256;

#[derive(Debug, Default)]
pub struct DescriptionGate {
    description: StreamDescription,
    /// The description changed since it last went out.
    dirty: bool,
    /// The first description went out (or was given up waiting for).
    announced: bool,
    held: VecDeque<Frame>,
}

impl DescriptionGate {
    pub fn description(&self) -> &StreamDescription {
        &self.description
    }

    pub fn set_video(&mut self, track: VideoTrack) {
        self.description.video = Some(track);
        self.dirty = true;
    }

    pub fn set_audio(&mut self, track: AudioTrack) {
        self.description.audio = Some(track);
        self.dirty = true;
    }

    /// Forgets the video track (its codec changed); the next description goes out without it.
    pub fn clear_video(&mut self) {
        self.dirty |= self.description.video.take().is_some();
    }

    pub fn clear_audio(&mut self) {
        self.dirty |= self.description.audio.take().is_some();
    }

    /// Sends `frame` out, or holds it while the first description waits for a track: `ready` says
    /// whether every track the stream carries is described (asked only while holding).
    pub fn emit<E>(
        &mut self,
        frame: Frame,
        ready: impl FnOnce(&StreamDescription) -> bool,
        events: &mut VecDeque<Result<MediaEvent, E>>,
    ) {
        if !self.announced {
            let waited_too_long = self.held.len() >= MAX_HELD_FRAMES
                || self.held.front().is_some_and(|first| (frame.dts - first.dts).ticks() > MAX_HOLD_TICKS);
            self.held.push_back(frame);
            if ready(&self.description) || waited_too_long {
                self.release(events);
            }
            return;
        }
        if self.dirty {
            self.push_description(events);
        }
        events.push_back(Ok(MediaEvent::Frame(frame)));
    }

    /// Sends what is known and every held frame (the end of input, or the wait is over).
    pub fn release<E>(&mut self, events: &mut VecDeque<Result<MediaEvent, E>>) {
        if self.announced {
            return;
        }
        self.announced = true;
        if self.description.video.is_some() || self.description.audio.is_some() {
            self.push_description(events);
        }
        events.extend(self.held.drain(..).map(|frame| Ok(MediaEvent::Frame(frame))));
    }

    fn push_description<E>(&mut self, events: &mut VecDeque<Result<MediaEvent, E>>) {
        self.dirty = false;
        events.push_back(Ok(MediaEvent::Description(Arc::new(self.description.clone()))));
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::media::{Codec, MediaTime, Timebase};

    fn audio_frame(ticks: i64) -> Frame {
        let time = MediaTime::new(ticks, Timebase::MPEG);
        Frame { codec: Codec::Aac, dts: time, pts: time, keyframe: true, data: Bytes::from_static(&[1]) }
    }

    fn audio_track() -> AudioTrack {
        AudioTrack {
            codec: Codec::Aac,
            config: Bytes::from_static(&[0x12, 0x10]),
            sample_rate: 44_100,
            channels: 2,
            profile: String::new(),
        }
    }

    fn kinds(events: &VecDeque<Result<MediaEvent, ()>>) -> Vec<&'static str> {
        events
            .iter()
            .map(|event| match event {
                Ok(MediaEvent::Description(_)) => "description",
                Ok(MediaEvent::Frame(_)) => "frame",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn frames_wait_for_the_description_then_go_out_behind_it() {
        let mut gate = DescriptionGate::default();
        let mut events = VecDeque::new();
        gate.emit(audio_frame(0), |d| d.audio.is_some(), &mut events);
        assert!(events.is_empty(), "held until described");
        gate.set_audio(audio_track());
        gate.emit(audio_frame(1920), |d| d.audio.is_some(), &mut events);
        assert_eq!(kinds(&events), ["description", "frame", "frame"]);
        gate.clear_audio();
        gate.set_audio(audio_track());
        gate.emit(audio_frame(3840), |_| unreachable!("asked only while holding"), &mut events);
        assert_eq!(kinds(&events)[3..], ["description", "frame"]);
    }

    #[test]
    fn a_track_never_described_stops_the_holding_after_two_seconds() {
        let mut gate = DescriptionGate::default();
        let mut events = VecDeque::<Result<MediaEvent, ()>>::new();
        gate.set_audio(audio_track());
        let released_at = (0..200).find(|n| {
            gate.emit(audio_frame(n * 1920), |_| false, &mut events);
            !events.is_empty()
        });
        // 94 × 1920 ticks is the first time more than 2 s (180 000 ticks) after the first frame.
        assert_eq!(released_at, Some(94));
        assert_eq!(kinds(&events).len(), 1 + 95, "the description and every held frame");
    }
}
