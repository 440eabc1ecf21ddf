//! Audio elementary streams: ADTS headers in front of raw AAC frames (mux), and PES payloads split
//! back into raw AAC or MP3 frames with per-frame timestamps derived from the PES PTS and the
//! sample count (demux).
//!
//! Header parsing comes from `codec::aac` and `codec::mp3`; nothing here decodes audio.

use bytes::{Bytes, BytesMut};

use super::TsError;
use crate::codec::{aac, mp3};
use crate::media::{AudioTrack, Codec};

/// Longer than any ADTS (13-bit length) or MP3 frame: a carried-over partial frame beyond this is garbage.
const MAX_PENDING: usize = 8192 + 16;
const MPEG_HZ: i64 = 90_000;

/// Adds ADTS headers to raw AAC frames of one track; MP3 frames pass through unchanged.
#[derive(Debug, Clone)]
pub(crate) struct AudioWriter {
    asc: Option<aac::AudioSpecificConfig>,
}

impl AudioWriter {
    pub fn new(track: &AudioTrack) -> Result<AudioWriter, TsError> {
        match track.codec {
            Codec::Aac => {
                let asc = aac::AudioSpecificConfig::parse(&track.config)
                    .map_err(|e| TsError::Config { codec: Codec::Aac, reason: e.to_string() })?;
                Ok(AudioWriter { asc: Some(asc) })
            }
            Codec::Mp3 => Ok(AudioWriter { asc: None }),
            codec => Err(TsError::UnsupportedCodec { codec }),
        }
    }

    /// The ADTS header to write before a raw AAC frame of `len` bytes; none for MP3.
    pub fn header(&self, len: usize) -> Result<Option<[u8; 7]>, TsError> {
        match &self.asc {
            Some(asc) => asc.adts_header(len).map(Some).map_err(|e| TsError::Elementary {
                pid: 0,
                codec: Codec::Aac,
                reason: e.to_string(),
            }),
            None => Ok(None),
        }
    }
}

/// One demuxed audio frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AudioUnit {
    pub data: Bytes,
    /// Presentation time in 90 kHz ticks on the unwrapped timeline.
    pub pts: i64,
}

/// What identifies an audio configuration: a change of it means a new description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AudioFacts {
    /// AudioSpecificConfig for AAC; the first frame for MP3 (for `describe`).
    pub config: Bytes,
    pub sample_rate: u32,
    pub channels: u8,
}

/// A frame header found at the start of some bytes.
struct FoundFrame {
    header_len: usize,
    frame_len: usize,
    samples: u32,
    sample_rate: u32,
    channels: u8,
    /// An ADTS frame's configuration, compared with the last one's and encoded only when it changes.
    asc: Option<aac::AudioSpecificConfig>,
}

/// Splits the PES payloads of one audio track into frames.
#[derive(Debug)]
pub(crate) struct AudioReader {
    codec: Codec,
    /// The start of a frame cut by the PES boundary, with its timestamp.
    pending: BytesMut,
    pending_pts: i64,
    facts: Option<AudioFacts>,
    /// The ASC `facts.config` encodes (AAC), to compare frames with.
    last_asc: Option<aac::AudioSpecificConfig>,
    changed: bool,
}

impl AudioReader {
    pub fn new(codec: Codec) -> AudioReader {
        AudioReader {
            codec,
            pending: BytesMut::new(),
            pending_pts: 0,
            facts: None,
            last_asc: None,
            changed: false,
        }
    }

    fn find(&self, data: &[u8]) -> Result<FoundFrame, String> {
        match self.codec {
            Codec::Aac => {
                let adts = aac::parse_adts(data).map_err(|e| e.to_string())?;
                Ok(FoundFrame {
                    header_len: adts.header_len,
                    frame_len: adts.frame_len,
                    samples: adts.config.samples_per_frame(),
                    sample_rate: adts.config.sample_rate,
                    channels: adts.config.channels,
                    asc: Some(adts.config),
                })
            }
            _ => {
                let header = mp3::parse_header(data).map_err(|e| e.to_string())?;
                Ok(FoundFrame {
                    header_len: 0,
                    frame_len: header.frame_len,
                    samples: header.samples_per_frame,
                    sample_rate: header.sample_rate,
                    channels: header.channels,
                    asc: None,
                })
            }
        }
    }

    /// Splits one PES payload whose PTS is `pts`, appending frames to `out`. Garbage between
    /// frames is skipped up to the next sync word and reported once per payload.
    pub fn read(&mut self, payload: Bytes, pts: i64, out: &mut Vec<AudioUnit>) -> Result<(), TsError> {
        let (data, mut base_pts) = if self.pending.is_empty() {
            (payload, pts)
        } else {
            let mut joined = std::mem::take(&mut self.pending);
            joined.extend_from_slice(&payload);
            (joined.freeze(), self.pending_pts)
        };
        let mut offset = 0;
        let mut samples: u64 = 0;
        let mut sample_rate = 0u32;
        let mut first_error = None;
        while offset < data.len() {
            let at_pts = base_pts + ticks_of(samples, sample_rate);
            let found = match self.find(&data[offset..]) {
                Ok(found) if found.frame_len > found.header_len => found,
                Ok(_) | Err(_) if data.len() - offset < 16 && self.looks_like_sync(&data[offset..]) => {
                    self.keep_pending(&data[offset..], at_pts);
                    break;
                }
                Ok(_) => {
                    first_error.get_or_insert_with(|| "empty frame".to_string());
                    offset += self.next_sync(&data[offset + 1..]).map_or(data.len() - offset, |i| i + 1);
                    continue;
                }
                Err(reason) => {
                    first_error.get_or_insert(reason);
                    offset += self.next_sync(&data[offset + 1..]).map_or(data.len() - offset, |i| i + 1);
                    continue;
                }
            };
            if offset + found.frame_len > data.len() {
                self.keep_pending(&data[offset..], at_pts);
                break;
            }
            self.note_facts(&found, &data[offset..offset + found.frame_len]);
            if sample_rate != 0 && sample_rate != found.sample_rate {
                // A rate change inside one payload: count samples afresh from this frame's time.
                base_pts = at_pts;
                samples = 0;
            }
            sample_rate = found.sample_rate;
            out.push(AudioUnit {
                data: data.slice(offset + found.header_len..offset + found.frame_len),
                pts: base_pts + ticks_of(samples, sample_rate),
            });
            samples += u64::from(found.samples);
            offset += found.frame_len;
        }
        match first_error {
            Some(reason) => Err(TsError::Elementary { pid: 0, codec: self.codec, reason }),
            None => Ok(()),
        }
    }

    fn keep_pending(&mut self, tail: &[u8], pts: i64) {
        if tail.len() <= MAX_PENDING {
            self.pending.extend_from_slice(tail);
            self.pending_pts = pts;
        }
    }

    /// Whether `data` starts like a frame header (the 11 or 12 sync bits), for a cut-off header.
    fn looks_like_sync(&self, data: &[u8]) -> bool {
        match data {
            [first] => *first == 0xff,
            [first, second, ..] => *first == 0xff && second & 0xe0 == 0xe0,
            [] => false,
        }
    }

    fn next_sync(&self, data: &[u8]) -> Option<usize> {
        data.windows(2).position(|w| self.looks_like_sync(w))
    }

    /// Notes a frame's facts; the configuration is built (an ASC encoded, an MP3 frame copied)
    /// only when they change, not for every frame.
    fn note_facts(&mut self, found: &FoundFrame, frame: &[u8]) {
        let same = self.facts.as_ref().is_some_and(|facts| {
            facts.sample_rate == found.sample_rate
                && facts.channels == found.channels
                && (found.asc.is_none() || self.last_asc == found.asc)
        });
        if !same {
            let config = match &found.asc {
                Some(asc) => asc.encode(),
                None => Bytes::copy_from_slice(frame),
            };
            self.facts =
                Some(AudioFacts { config, sample_rate: found.sample_rate, channels: found.channels });
            self.last_asc = found.asc;
            self.changed = true;
        }
    }

    /// The configuration facts, once, after they change.
    pub fn take_changed_facts(&mut self) -> Option<AudioFacts> {
        if !self.changed {
            return None;
        }
        self.changed = false;
        self.facts.clone()
    }
}

/// `samples` at `sample_rate` in 90 kHz ticks, floored; zero before the rate is known.
fn ticks_of(samples: u64, sample_rate: u32) -> i64 {
    if sample_rate == 0 {
        return 0;
    }
    (i128::from(samples) * i128::from(MPEG_HZ) / i128::from(sample_rate)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adts_frames(asc: &aac::AudioSpecificConfig, payloads: &[&[u8]]) -> Vec<u8> {
        payloads
            .iter()
            .flat_map(|p| [asc.adts_header(p.len()).unwrap().to_vec(), p.to_vec()].concat())
            .collect()
    }

    fn asc() -> aac::AudioSpecificConfig {
        aac::AudioSpecificConfig { object_type: 2, sample_rate_index: 4, sample_rate: 44_100, channels: 2 }
    }

    #[test]
    fn splits_adts_with_per_frame_timestamps_and_reports_the_config_once() {
        let bytes = adts_frames(&asc(), &[&[1; 10], &[2; 20], &[3; 30]]);
        let mut reader = AudioReader::new(Codec::Aac);
        let mut out = Vec::new();
        reader.read(Bytes::from(bytes.clone()), 1000, &mut out).unwrap();
        assert_eq!(out.iter().map(|u| u.data.len()).collect::<Vec<_>>(), vec![10, 20, 30]);
        // 1024 samples at 44.1 kHz are 2089.8 ticks: floors of 0, 2089.8 and 4179.6.
        assert_eq!(out.iter().map(|u| u.pts).collect::<Vec<_>>(), vec![1000, 3089, 5179]);
        let facts = reader.take_changed_facts().unwrap();
        assert_eq!((facts.sample_rate, facts.channels, facts.config), (44_100, 2, asc().encode()));
        assert!(reader.take_changed_facts().is_none());
    }

    #[test]
    fn joins_a_frame_cut_by_the_pes_boundary_and_skips_garbage() {
        let bytes = adts_frames(&asc(), &[&[1; 10], &[2; 20]]);
        let mut reader = AudioReader::new(Codec::Aac);
        let mut out = Vec::new();
        reader.read(Bytes::copy_from_slice(&bytes[..25]), 0, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        reader.read(Bytes::copy_from_slice(&bytes[25..]), 2090, &mut out).unwrap();
        assert_eq!((out[1].data.len(), out[1].pts), (20, 2089), "timed from where it started");
        let mut noisy = vec![0x12, 0x34, 0x56];
        noisy.extend_from_slice(&bytes);
        let mut out = Vec::new();
        let error = reader.read(Bytes::from(noisy), 0, &mut out).unwrap_err();
        assert!(matches!(error, TsError::Elementary { codec: Codec::Aac, .. }));
        assert_eq!(out.len(), 2, "both frames found after the garbage");
    }

    #[test]
    fn writer_prefixes_adts_for_aac_and_nothing_for_mp3() {
        let track = AudioTrack {
            codec: Codec::Aac,
            config: asc().encode(),
            sample_rate: 44_100,
            channels: 2,
            profile: String::new(),
        };
        let header = AudioWriter::new(&track).unwrap().header(100).unwrap().unwrap();
        let parsed = aac::parse_adts(&header).unwrap();
        assert_eq!((parsed.frame_len, parsed.config), (107, asc()));
        let mp3 = AudioTrack { codec: Codec::Mp3, config: Bytes::new(), ..track };
        assert!(AudioWriter::new(&mp3).unwrap().header(100).unwrap().is_none());
    }
}
