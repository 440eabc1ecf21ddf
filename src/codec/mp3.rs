//! MPEG audio frame headers (ISO 11172-3 / 13818-3 and the MPEG-2.5 extension): layers I, II and III.
//!
//! `parse_header` reads the 4-byte header at the start of a frame and derives bitrate, sample rate,
//! channels, frame length and samples per frame from the standard tables. It does not search for sync
//! (callers skip ID3 tags and resynchronise), does not read Xing/Info/VBRI tags, and rejects
//! free-format frames, whose length cannot be known from the header alone.

use thiserror::Error;

const HEADER_LEN: usize = 4;

/// Bitrates in kbps by bitrate index (1..=14; 0 is free format, 15 is invalid).
const BITRATES_V1_L1: [u32; 15] = [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448];
const BITRATES_V1_L2: [u32; 15] = [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384];
const BITRATES_V1_L3: [u32; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2_L1: [u32; 15] = [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256];
const BITRATES_V2_L2_L3: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES_V1: [u32; 3] = [44100, 48000, 32000];

/// MPEG-1, MPEG-2 (LSF) and MPEG-2.5 as they appear in `Mp3Header::version`.
pub const VERSION_1: u8 = 1;
pub const VERSION_2: u8 = 2;
pub const VERSION_2_5: u8 = 25;

/// What can go wrong while reading an MPEG audio header.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Mp3Error {
    #[error("mpeg audio header truncated: {0} of 4 bytes")]
    Truncated(usize),
    #[error("no mpeg audio frame sync at byte 0")]
    NoSync,
    #[error("reserved mpeg audio version")]
    ReservedVersion,
    #[error("reserved mpeg audio layer")]
    ReservedLayer,
    #[error("free-format bitrate is not supported")]
    FreeFormat,
    #[error("invalid bitrate index 15")]
    BadBitrate,
    #[error("reserved sample rate index 3")]
    ReservedSampleRate,
}

/// A parsed MPEG audio frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mp3Header {
    /// 1 (MPEG-1), 2 (MPEG-2) or 25 (MPEG-2.5).
    pub version: u8,
    /// 1, 2 or 3.
    pub layer: u8,
    pub bitrate_kbps: u32,
    pub sample_rate: u32,
    /// 1 for the mono channel mode, 2 otherwise.
    pub channels: u8,
    /// Bytes in the whole frame, header and padding included.
    pub frame_len: usize,
    pub samples_per_frame: u32,
}

/// Parses the header at the start of `data` (only the first 4 bytes are read).
pub fn parse_header(data: &[u8]) -> Result<Mp3Header, Mp3Error> {
    let header = data.get(..HEADER_LEN).ok_or(Mp3Error::Truncated(data.len()))?;
    let word = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    if word >> 21 != 0x7ff {
        return Err(Mp3Error::NoSync);
    }
    let version = match (word >> 19) & 0x3 {
        0 => VERSION_2_5,
        2 => VERSION_2,
        3 => VERSION_1,
        _ => return Err(Mp3Error::ReservedVersion),
    };
    let layer = match (word >> 17) & 0x3 {
        1 => 3,
        2 => 2,
        3 => 1,
        _ => return Err(Mp3Error::ReservedLayer),
    };
    let bitrate_index = ((word >> 12) & 0xf) as usize;
    let sample_rate_index = ((word >> 10) & 0x3) as usize;
    let padding = (word >> 9) & 1;
    let channel_mode = (word >> 6) & 0x3;

    let bitrates = match (version, layer) {
        (VERSION_1, 1) => &BITRATES_V1_L1,
        (VERSION_1, 2) => &BITRATES_V1_L2,
        (VERSION_1, _) => &BITRATES_V1_L3,
        (_, 1) => &BITRATES_V2_L1,
        _ => &BITRATES_V2_L2_L3,
    };
    let bitrate_kbps = match bitrate_index {
        0 => return Err(Mp3Error::FreeFormat),
        15 => return Err(Mp3Error::BadBitrate),
        idx => bitrates[idx],
    };
    let base_rate = *SAMPLE_RATES_V1.get(sample_rate_index).ok_or(Mp3Error::ReservedSampleRate)?;
    // MPEG-2 halves the MPEG-1 rates and MPEG-2.5 quarters them.
    let sample_rate = match version {
        VERSION_1 => base_rate,
        VERSION_2 => base_rate / 2,
        _ => base_rate / 4,
    };
    let samples_per_frame = match (version, layer) {
        (_, 1) => 384,
        (_, 2) | (VERSION_1, 3) => 1152,
        _ => 576,
    };
    // A frame holds samples_per_frame / 8 bytes per bit/s of bitrate per sample rate, in slots;
    // layer I slots are 4 bytes, the others 1 byte.
    let slot_len = if layer == 1 { 4 } else { 1 };
    let n_slots = samples_per_frame / 8 * bitrate_kbps * 1000 / sample_rate / slot_len + padding;
    let frame_len = (n_slots * slot_len) as usize;
    let channels = if channel_mode == 3 { 1 } else { 2 };
    Ok(Mp3Header { version, layer, bitrate_kbps, sample_rate, channels, frame_len, samples_per_frame })
}

#[cfg(test)]
mod tests {
    use super::*;

    // `ffprobe -show_entries stream=sample_rate,channels` on the clips scripts/fixtures/bits.sh encodes:
    // 44100 Hz stereo (MPEG-1 layer III, 128 kbps) and 22050 Hz mono (MPEG-2 layer III).
    const STEREO: &[u8] = include_bytes!("../../tests/fixtures/bits/stereo_44100.mp3");
    const MONO: &[u8] = include_bytes!("../../tests/fixtures/bits/mono_22050.mp3");

    #[test]
    fn lame_stereo_frames_match_ffprobe() {
        let first = parse_header(STEREO).unwrap();
        let expected = Mp3Header {
            version: 1,
            layer: 3,
            bitrate_kbps: 128,
            sample_rate: 44100,
            channels: 2,
            frame_len: 417,
            samples_per_frame: 1152,
        };
        assert_eq!(first, expected);
        // The next frame starts exactly where frame_len says.
        let second = parse_header(&STEREO[first.frame_len..]).unwrap();
        assert_eq!((second.sample_rate, second.channels, second.layer), (44100, 2, 3));
    }

    #[test]
    fn lame_mpeg2_mono_frames_match_ffprobe() {
        let first = parse_header(MONO).unwrap();
        assert_eq!(
            (first.version, first.sample_rate, first.channels, first.samples_per_frame),
            (2, 22050, 1, 576)
        );
        // 72 * 56000 / 22050 bytes, rounded down, no padding.
        assert_eq!((first.bitrate_kbps, first.frame_len), (56, 182));
        let second = parse_header(&MONO[first.frame_len..]).unwrap();
        assert_eq!((second.sample_rate, second.channels), (22050, 1));
    }

    #[test]
    fn layer_one_two_and_mpeg25_lengths() {
        // MPEG-1 layer I, 384 kbps, 48 kHz, padded: (12 * 384000 / 48000 + 1) * 4 = 388.
        let layer1 = parse_header(&[0xff, 0xff, 0xc6, 0x00]).unwrap();
        assert_eq!(
            (layer1.layer, layer1.bitrate_kbps, layer1.frame_len, layer1.samples_per_frame),
            (1, 384, 388, 384)
        );
        // MPEG-1 layer II, 192 kbps, 48 kHz: 144 * 192000 / 48000 = 576.
        let layer2 = parse_header(&[0xff, 0xfd, 0xa4, 0xc0]).unwrap();
        assert_eq!((layer2.layer, layer2.frame_len, layer2.channels), (2, 576, 1));
        // MPEG-2.5 layer III, 8 kbps, 8 kHz: 72 * 8000 / 8000 = 72.
        let mpeg25 = parse_header(&[0xff, 0xe3, 0x18, 0x00]).unwrap();
        assert_eq!((mpeg25.version, mpeg25.sample_rate, mpeg25.frame_len), (25, 8000, 72));
    }

    #[test]
    fn bad_headers_are_typed_errors() {
        assert_eq!(parse_header(&[0xff, 0xfb]), Err(Mp3Error::Truncated(2)));
        assert_eq!(parse_header(&[0x49, 0x44, 0x33, 0x04]), Err(Mp3Error::NoSync));
        assert_eq!(parse_header(&[0xff, 0xeb, 0x90, 0x00]), Err(Mp3Error::ReservedVersion));
        assert_eq!(parse_header(&[0xff, 0xf9, 0x90, 0x00]), Err(Mp3Error::ReservedLayer));
        assert_eq!(parse_header(&[0xff, 0xfb, 0x00, 0x00]), Err(Mp3Error::FreeFormat));
        assert_eq!(parse_header(&[0xff, 0xfb, 0xf0, 0x00]), Err(Mp3Error::BadBitrate));
        assert_eq!(parse_header(&[0xff, 0xfb, 0x9c, 0x00]), Err(Mp3Error::ReservedSampleRate));
    }

    #[test]
    fn fuzzed_headers_give_errors_not_panics() {
        let mut rng = crate::codec::xorshift::XorShift::new(0x0bad_cafe_1234_5678);
        let mut next = move || rng.next_u64();
        let mut n_errors = 0;
        for _ in 0..5000 {
            let mut data = STEREO[..4].to_vec();
            let idx = (next() as usize) % 4;
            data[idx] = next() as u8;
            data.truncate((next() as usize) % 5);
            match parse_header(&data) {
                Ok(header) => assert!(header.frame_len >= HEADER_LEN && header.frame_len < 3000),
                Err(_) => n_errors += 1,
            }
        }
        assert!(n_errors > 1000, "only {n_errors} of 5000 mutations were rejected");
    }
}
