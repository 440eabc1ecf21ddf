//! The Opus identification header, "OpusHead" (RFC 7845 §5.1), as Ogg, MP4 (dOps aside) and Enhanced
//! RTMP carry it for Opus.
//!
//! It reads and writes the header and its channel mapping table. It does not read Opus packets
//! (TOC bytes, frame durations) or the "OpusTags" comment header.

use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

const MAGIC: &[u8; 8] = b"OpusHead";
/// Magic, version, channels, pre-skip, input rate, gain, mapping family.
const FIXED_LEN: usize = 19;
/// Opus always decodes at 48 kHz, whatever the input rate field says.
pub const DECODE_SAMPLE_RATE: u32 = 48000;

/// What can go wrong while reading an OpusHead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpusError {
    #[error("opus head truncated: {available} of {needed} bytes")]
    Truncated { available: usize, needed: usize },
    #[error("no OpusHead magic at byte 0")]
    BadMagic,
    #[error("opus head major version {0} is not supported")]
    UnsupportedVersion(u8),
    #[error("opus head has zero channels")]
    ZeroChannels,
    #[error("mapping family 0 allows 1 or 2 channels, not {0}")]
    TooManyChannelsForFamilyZero(u8),
    #[error("channel mapping has {streams} streams and {coupled} coupled streams")]
    BadStreamCounts { streams: u8, coupled: u8 },
    #[error("channel mapping entry {value} at channel {channel} names no decoded channel")]
    BadMappingEntry { channel: usize, value: u8 },
}

/// The fields of an OpusHead that describe a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusHead {
    pub channels: u8,
    /// Samples (at 48 kHz) to drop from the start of decoded output.
    pub pre_skip: u16,
    /// The encoder's input rate, informational only: playback is at 48 kHz.
    pub input_sample_rate: u32,
    /// Q7.8 dB gain to apply on output.
    pub output_gain: i16,
    /// 0 for mono/stereo without a table, 1 for Vorbis channel order, 255 for unordered.
    pub mapping_family: u8,
}

/// The channel mapping table that follows the fixed header when the mapping family is not 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusChannelMapping {
    pub stream_count: u8,
    pub coupled_count: u8,
    /// One entry per output channel: the decoded channel index, or 255 for silence.
    pub mapping: Vec<u8>,
}

impl OpusHead {
    pub fn parse(data: &[u8]) -> Result<Self, OpusError> {
        Self::parse_with_mapping(data).map(|(head, _)| head)
    }

    /// Parses the header and, for mapping families other than 0, its channel mapping table.
    pub fn parse_with_mapping(data: &[u8]) -> Result<(Self, Option<OpusChannelMapping>), OpusError> {
        if data.len() >= MAGIC.len() && &data[..MAGIC.len()] != MAGIC {
            return Err(OpusError::BadMagic);
        }
        let fixed =
            data.get(..FIXED_LEN).ok_or(OpusError::Truncated { available: data.len(), needed: FIXED_LEN })?;
        let version = fixed[8];
        // The high nibble is the major version; RFC 7845 says to reject anything but major 0.
        if version >> 4 != 0 {
            return Err(OpusError::UnsupportedVersion(version >> 4));
        }
        let head = OpusHead {
            channels: fixed[9],
            pre_skip: u16::from_le_bytes([fixed[10], fixed[11]]),
            input_sample_rate: u32::from_le_bytes([fixed[12], fixed[13], fixed[14], fixed[15]]),
            output_gain: i16::from_le_bytes([fixed[16], fixed[17]]),
            mapping_family: fixed[18],
        };
        if head.channels == 0 {
            return Err(OpusError::ZeroChannels);
        }
        if head.mapping_family == 0 {
            if head.channels > 2 {
                return Err(OpusError::TooManyChannelsForFamilyZero(head.channels));
            }
            return Ok((head, None));
        }
        let needed = FIXED_LEN + 2 + usize::from(head.channels);
        let table =
            data.get(FIXED_LEN..needed).ok_or(OpusError::Truncated { available: data.len(), needed })?;
        let (stream_count, coupled_count) = (table[0], table[1]);
        let n_decoded = usize::from(stream_count) + usize::from(coupled_count);
        if stream_count == 0 || coupled_count > stream_count || n_decoded > 255 {
            return Err(OpusError::BadStreamCounts { streams: stream_count, coupled: coupled_count });
        }
        let mapping = table[2..].to_vec();
        if let Some((channel, &value)) =
            mapping.iter().enumerate().find(|(_, &value)| value != 255 && usize::from(value) >= n_decoded)
        {
            return Err(OpusError::BadMappingEntry { channel, value });
        }
        Ok((head, Some(OpusChannelMapping { stream_count, coupled_count, mapping })))
    }

    /// Writes the header (version 1). For mapping families other than 0 it writes a generic table in
    /// which every channel is its own mono stream; use `encode_with_mapping` to keep a real table.
    pub fn encode(&self) -> Bytes {
        if self.mapping_family == 0 {
            return self.encode_fixed().freeze();
        }
        let generic = OpusChannelMapping {
            stream_count: self.channels,
            coupled_count: 0,
            mapping: (0..self.channels).collect(),
        };
        self.encode_with_mapping(&generic)
    }

    /// Writes the header followed by the given channel mapping table.
    pub fn encode_with_mapping(&self, mapping: &OpusChannelMapping) -> Bytes {
        let mut out = self.encode_fixed();
        out.put_u8(mapping.stream_count);
        out.put_u8(mapping.coupled_count);
        out.put_slice(&mapping.mapping);
        out.freeze()
    }

    fn encode_fixed(&self) -> BytesMut {
        let mut out = BytesMut::with_capacity(FIXED_LEN);
        out.put_slice(MAGIC);
        out.put_u8(1);
        out.put_u8(self.channels);
        out.put_u16_le(self.pre_skip);
        out.put_u32_le(self.input_sample_rate);
        out.put_i16_le(self.output_gain);
        out.put_u8(self.mapping_family);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // `ffprobe -show_entries stream=sample_rate,channels` on the libopus clip scripts/fixtures/bits.sh
    // encodes: 48000 Hz, 2 channels (ffmpeg resamples the 44100 Hz tone to 48000 for libopus).
    const STEREO_HEAD: &[u8] = include_bytes!("../../tests/fixtures/bits/stereo_48000.opushead");

    #[test]
    fn libopus_head_matches_ffprobe_and_round_trips() {
        let head = OpusHead::parse(STEREO_HEAD).unwrap();
        let expected = OpusHead {
            channels: 2,
            pre_skip: 312,
            input_sample_rate: 48000,
            output_gain: 0,
            mapping_family: 0,
        };
        assert_eq!(head, expected);
        assert_eq!(&head.encode()[..], STEREO_HEAD);
    }

    #[test]
    fn surround_mapping_table_round_trips() {
        let head = OpusHead {
            channels: 6,
            pre_skip: 312,
            input_sample_rate: 48000,
            output_gain: -256,
            mapping_family: 1,
        };
        let mapping =
            OpusChannelMapping { stream_count: 4, coupled_count: 2, mapping: vec![0, 4, 1, 2, 3, 5] };
        let bytes = head.encode_with_mapping(&mapping);
        assert_eq!(bytes.len(), 19 + 2 + 6);
        assert_eq!(OpusHead::parse_with_mapping(&bytes).unwrap(), (head, Some(mapping)));
        let (_, generic) = OpusHead::parse_with_mapping(&head.encode()).unwrap();
        assert_eq!(generic.unwrap().mapping, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn bad_heads_are_typed_errors() {
        assert_eq!(OpusHead::parse(b"OpusTags"), Err(OpusError::BadMagic));
        assert_eq!(
            OpusHead::parse(&STEREO_HEAD[..10]),
            Err(OpusError::Truncated { available: 10, needed: 19 })
        );
        let with = |idx: usize, value: u8| {
            let mut data = STEREO_HEAD.to_vec();
            data[idx] = value;
            OpusHead::parse(&data)
        };
        assert_eq!(with(8, 0x10), Err(OpusError::UnsupportedVersion(1)));
        assert_eq!(with(9, 0), Err(OpusError::ZeroChannels));
        assert_eq!(with(9, 3), Err(OpusError::TooManyChannelsForFamilyZero(3)));
        assert_eq!(with(18, 1), Err(OpusError::Truncated { available: 19, needed: 23 }));
        let mut data = STEREO_HEAD.to_vec();
        data[18] = 1;
        data.extend_from_slice(&[1, 1, 0, 2]);
        assert_eq!(OpusHead::parse(&data), Err(OpusError::BadMappingEntry { channel: 1, value: 2 }));
        data[19] = 0;
        assert_eq!(OpusHead::parse(&data), Err(OpusError::BadStreamCounts { streams: 0, coupled: 1 }));
    }

    #[test]
    fn fuzzed_heads_give_errors_not_panics() {
        let mut rng = crate::codec::xorshift::XorShift::new(0x5555_aaaa_1357_9bdf);
        let mut next = move || rng.next_u64();
        let mut n_errors = 0;
        for _ in 0..5000 {
            let mut data = STEREO_HEAD.to_vec();
            data.extend_from_slice(&[2, 1, 0, 1, 2]);
            for _ in 0..(next() % 3 + 1) {
                let idx = (next() as usize) % data.len();
                data[idx] = next() as u8;
            }
            data.truncate((next() as usize) % (data.len() + 1));
            match OpusHead::parse_with_mapping(&data) {
                Ok((head, Some(mapping))) => assert_eq!(mapping.mapping.len(), usize::from(head.channels)),
                Ok((head, None)) => assert!(head.channels <= 2),
                Err(_) => n_errors += 1,
            }
        }
        assert!(n_errors > 1000, "only {n_errors} of 5000 mutations were rejected");
    }
}
