//! The muxer: a stream description and canonical frames in, whole 188-byte packets out.
//!
//! PIDs, table layout and stream types follow SRS and ffmpeg (PMT 0x1000, video 0x100, audio
//! 0x101), so players and segment tools treat the output like theirs. PAT and PMT are written
//! before the first frame, after every description change and before every video keyframe (every
//! second for audio-only output), so any segment cut at a keyframe starts with tables. It does no I/O and does not pace output.

use bytes::{BufMut, Bytes, BytesMut};

use super::audio::AudioWriter;
use super::packet::{write_payload, FirstPacket};
use super::pes::{self, STREAM_ID_AUDIO, STREAM_ID_VIDEO};
use super::psi::{self, Pmt, PmtStream};
use super::video::AnnexbWriter;
use super::{stream_type, TsError, PID_AUDIO, PID_PAT, PID_PMT, PID_VIDEO};
use crate::media::{AudioTrack, Codec, Frame, MediaKind, StreamDescription, Timebase, VideoTrack};

const PROGRAM_NUMBER: u16 = 1;
const TRANSPORT_STREAM_ID: u16 = 1;
/// ISO 13818-1 asks for a PCR at least every 100 ms.
const PCR_INTERVAL_TICKS: i64 = 9_000;
/// How often audio-only output repeats PAT and PMT.
const AUDIO_TABLES_INTERVAL_TICKS: i64 = 90_000;

/// Turns frames into transport packets. Tracks whose codec TS cannot carry here (AV1, Opus) are
/// left out of the PMT; their frames are refused with [`TsError::NoTrackFor`].
#[derive(Debug)]
pub struct TsMuxer {
    description: StreamDescription,
    video: Option<(Codec, AnnexbWriter)>,
    audio: Option<(Codec, AudioWriter)>,
    pmt: Pmt,
    pmt_version: u8,
    continuity_pat: u8,
    continuity_pmt: u8,
    continuity_video: u8,
    continuity_audio: u8,
    tables_due: bool,
    /// Decode time (90 kHz) of the last PCR written.
    last_pcr: Option<i64>,
    /// Decode time (90 kHz) of the frame the last tables went before.
    last_tables: Option<i64>,
    /// The PES being built; kept to reuse its allocation.
    pes: BytesMut,
}

impl TsMuxer {
    pub fn new(description: &StreamDescription) -> Result<TsMuxer, TsError> {
        let mut muxer = TsMuxer {
            description: StreamDescription::default(),
            video: None,
            audio: None,
            pmt: Pmt { program_number: PROGRAM_NUMBER, pcr_pid: PID_VIDEO, streams: Vec::new() },
            pmt_version: 0,
            continuity_pat: 0,
            continuity_pmt: 0,
            continuity_video: 0,
            continuity_audio: 0,
            tables_due: true,
            last_pcr: None,
            last_tables: None,
            pes: BytesMut::new(),
        };
        muxer.apply(description)?;
        Ok(muxer)
    }

    /// The same as [`TsMuxer::new`] from the tracks directly.
    pub fn from_tracks(video: Option<VideoTrack>, audio: Option<AudioTrack>) -> Result<TsMuxer, TsError> {
        TsMuxer::new(&StreamDescription { video, audio })
    }

    pub fn description(&self) -> &StreamDescription {
        &self.description
    }

    /// Takes a new description (a sequence header changed). Tables are written again before the
    /// next frame; the PMT version is bumped when the set of streams changes.
    pub fn update_description(&mut self, description: &StreamDescription) -> Result<(), TsError> {
        if *description == self.description {
            return Ok(());
        }
        self.apply(description)
    }

    fn apply(&mut self, description: &StreamDescription) -> Result<(), TsError> {
        let video = match &description.video {
            Some(track) if matches!(track.codec, Codec::H264 | Codec::H265) => {
                Some((track.codec, AnnexbWriter::new(track)?))
            }
            _ => None,
        };
        let audio = match &description.audio {
            Some(track) if matches!(track.codec, Codec::Aac | Codec::Mp3) => {
                Some((track.codec, AudioWriter::new(track)?))
            }
            _ => None,
        };
        let mut streams = Vec::new();
        if let Some((codec, _)) = &video {
            let stream_type = if *codec == Codec::H265 { stream_type::H265 } else { stream_type::H264 };
            streams.push(PmtStream { stream_type, pid: PID_VIDEO });
        }
        if let (Some((codec, _)), Some(track)) = (&audio, &description.audio) {
            let stream_type = match codec {
                Codec::Aac => stream_type::AAC_ADTS,
                // MPEG-2 audio is the half-rate extension (16, 22.05, 24 kHz).
                _ if track.sample_rate != 0 && track.sample_rate < 32_000 => stream_type::MPEG2_AUDIO,
                _ => stream_type::MPEG1_AUDIO,
            };
            streams.push(PmtStream { stream_type, pid: PID_AUDIO });
        }
        let pcr_pid = if video.is_some() || audio.is_none() { PID_VIDEO } else { PID_AUDIO };
        if streams != self.pmt.streams || pcr_pid != self.pmt.pcr_pid {
            if !self.pmt.streams.is_empty() {
                self.pmt_version = (self.pmt_version + 1) & 0x1f;
            }
            self.pmt = Pmt { program_number: PROGRAM_NUMBER, pcr_pid, streams };
            self.last_pcr = None;
        }
        self.video = video;
        self.audio = audio;
        self.description = description.clone();
        self.tables_due = true;
        Ok(())
    }

    /// PAT and PMT, each in one packet, for callers that cut segments themselves.
    pub fn write_tables(&mut self) -> Bytes {
        let mut out = BytesMut::with_capacity(2 * super::PACKET_LEN);
        self.put_tables(&mut out);
        out.freeze()
    }

    fn put_tables(&mut self, out: &mut BytesMut) {
        for (pid, section, continuity) in [
            (PID_PAT, psi::write_pat(TRANSPORT_STREAM_ID, PROGRAM_NUMBER, PID_PMT), &mut self.continuity_pat),
            (PID_PMT, psi::write_pmt(PROGRAM_NUMBER, self.pmt_version, &self.pmt), &mut self.continuity_pmt),
        ] {
            let mut payload = Vec::with_capacity(section.len() + 1);
            payload.push(0); // pointer_field: the section starts right away
            payload.extend_from_slice(&section);
            write_payload(out, pid, continuity, &payload, FirstPacket::default(), true);
        }
        self.tables_due = false;
    }

    /// One frame as whole packets (preceded by PAT and PMT when due).
    pub fn write_frame(&mut self, frame: &Frame) -> Result<Bytes, TsError> {
        let mut out = BytesMut::new();
        self.write_frame_into(frame, &mut out)?;
        Ok(out.freeze())
    }

    /// `write_frame`, appending to `out` (a buffer reused across frames allocates nothing).
    pub fn write_frame_into(&mut self, frame: &Frame, out: &mut BytesMut) -> Result<(), TsError> {
        let dts = frame.dts.rescale(Timebase::MPEG).ticks();
        let pts = frame.pts.rescale(Timebase::MPEG).ticks();
        // Negative times wrap into the 33-bit range like any other, as the clock is modular.
        let (pts_wrapped, dts_wrapped) =
            ((pts as u64) & pes::TIMESTAMP_MASK, (dts as u64) & pes::TIMESTAMP_MASK);
        self.pes.clear();
        let (pid, random_access) = match frame.kind() {
            MediaKind::Video => {
                let Some((codec, writer)) = self.video.as_ref().filter(|(codec, _)| *codec == frame.codec)
                else {
                    return Err(TsError::NoTrackFor { codec: frame.codec });
                };
                debug_assert_eq!(*codec, frame.codec);
                pes::write_header(&mut self.pes, STREAM_ID_VIDEO, pts_wrapped, Some(dts_wrapped), 0);
                writer
                    .write(&frame.data, frame.keyframe, &mut self.pes)
                    .map_err(|e| with_pid(e, PID_VIDEO))?;
                (PID_VIDEO, frame.keyframe)
            }
            MediaKind::Audio => {
                let Some((_, writer)) = self.audio.as_ref().filter(|(codec, _)| *codec == frame.codec) else {
                    return Err(TsError::NoTrackFor { codec: frame.codec });
                };
                let header = writer.header(frame.data.len()).map_err(|e| with_pid(e, PID_AUDIO))?;
                let header: &[u8] = header.as_ref().map_or(&[], |header| header);
                let payload_len = header.len() + frame.data.len();
                pes::write_header(&mut self.pes, STREAM_ID_AUDIO, pts_wrapped, None, payload_len);
                self.pes.put_slice(header);
                self.pes.put_slice(&frame.data);
                // Every audio frame is a random access point; flag it when audio carries the clock.
                (PID_AUDIO, self.pmt.pcr_pid == PID_AUDIO)
            }
        };
        out.reserve(self.pes.len() / 184 * 188 + 3 * 188);
        // Without video there are no keyframes to cut at: repeat the tables every second instead.
        let audio_tables_due = self.video.is_none()
            && self.last_tables.is_none_or(|last| dts - last >= AUDIO_TABLES_INTERVAL_TICKS || dts < last);
        if self.tables_due || (pid == PID_VIDEO && frame.keyframe) || audio_tables_due {
            self.put_tables(out);
            self.last_tables = Some(dts);
        }
        let pcr_due = self.last_pcr.is_none_or(|last| dts - last >= PCR_INTERVAL_TICKS || dts < last);
        let pcr = (pid == self.pmt.pcr_pid && (pcr_due || (pid == PID_VIDEO && frame.keyframe))).then(|| {
            self.last_pcr = Some(dts);
            dts_wrapped
        });
        let continuity =
            if pid == PID_VIDEO { &mut self.continuity_video } else { &mut self.continuity_audio };
        write_payload(out, pid, continuity, &self.pes, FirstPacket { pcr, random_access }, false);
        Ok(())
    }
}

fn with_pid(error: TsError, pid: u16) -> TsError {
    match error {
        TsError::Elementary { codec, reason, .. } => TsError::Elementary { pid, codec, reason },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::aac::AudioSpecificConfig;
    use crate::codec::mpegts::packet::parse_header;
    use crate::media::MediaTime;

    fn aac_track() -> AudioTrack {
        let asc =
            AudioSpecificConfig { object_type: 2, sample_rate_index: 4, sample_rate: 44_100, channels: 2 };
        AudioTrack {
            codec: Codec::Aac,
            config: asc.encode(),
            sample_rate: 44_100,
            channels: 2,
            profile: String::new(),
        }
    }

    fn aac_frame(millis: i64) -> Frame {
        let time = MediaTime::from_millis(millis);
        Frame { codec: Codec::Aac, dts: time, pts: time, keyframe: true, data: Bytes::from_static(&[7; 300]) }
    }

    #[test]
    fn audio_only_output_carries_pcr_every_100_ms_and_continuous_counters() {
        let mut muxer = TsMuxer::from_tracks(None, Some(aac_track())).unwrap();
        let mut pcrs = Vec::new();
        let mut last_counter: Option<u8> = None;
        for i in 0..40 {
            let bytes = muxer.write_frame(&aac_frame(i * 23)).unwrap();
            for packet in bytes.chunks(super::super::PACKET_LEN) {
                let header = parse_header(packet).unwrap();
                if header.pid != PID_AUDIO {
                    continue;
                }
                if let Some(last) = last_counter {
                    assert_eq!(header.continuity_counter, (last + 1) & 0x0f);
                }
                last_counter = Some(header.continuity_counter);
                pcrs.extend(header.pcr);
            }
        }
        assert!(pcrs.windows(2).all(|w| w[1] - w[0] <= 9_000 + 23 * 90), "{pcrs:?}");
        // At 0 ms, then at the first frame 100 ms after the last PCR: 115, 230, ... 805 ms.
        assert_eq!(pcrs.len(), 8);
    }

    #[test]
    fn description_changes_bump_the_pmt_version_and_resend_tables() {
        let mut muxer = TsMuxer::from_tracks(None, Some(aac_track())).unwrap();
        assert_eq!(muxer.write_frame(&aac_frame(0)).unwrap().len(), 4 * 188, "PAT, PMT, two PES packets");
        assert_eq!(muxer.write_frame(&aac_frame(23)).unwrap().len(), 2 * 188);
        let mp3 = AudioTrack {
            codec: Codec::Mp3,
            config: Bytes::new(),
            sample_rate: 22_050,
            channels: 1,
            profile: String::new(),
        };
        muxer.update_description(&StreamDescription { video: None, audio: Some(mp3) }).unwrap();
        assert_eq!(muxer.pmt_version, 1);
        assert_eq!(muxer.pmt.streams[0].stream_type, stream_type::MPEG2_AUDIO, "22.05 kHz is MPEG-2 audio");
        assert!(matches!(muxer.write_frame(&aac_frame(46)), Err(TsError::NoTrackFor { codec: Codec::Aac })));
        let mp3_frame = Frame { codec: Codec::Mp3, ..aac_frame(46) };
        let bytes = muxer.write_frame(&mp3_frame).unwrap();
        assert_eq!(parse_header(&bytes[..188]).unwrap().pid, PID_PAT, "tables again after the change");
    }

    #[test]
    fn unsupported_tracks_are_left_out() {
        let opus = AudioTrack { codec: Codec::Opus, ..aac_track() };
        let mut muxer = TsMuxer::from_tracks(None, Some(opus)).unwrap();
        assert!(muxer.pmt.streams.is_empty());
        let frame = Frame { codec: Codec::Opus, ..aac_frame(0) };
        assert!(matches!(muxer.write_frame(&frame), Err(TsError::NoTrackFor { codec: Codec::Opus })));
    }
}
