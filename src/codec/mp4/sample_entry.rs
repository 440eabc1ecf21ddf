//! Sample entries, both ways: the `stsd` child that names a track's codec and carries its decoder
//! configuration (avc1+avcC, hvc1+hvcC, av01+av1C, mp4a+esds, Opus+dOps), written from a track
//! description and parsed back into the configuration bytes the media model uses.
//!
//! It does not interpret the configurations themselves (SPS, AudioSpecificConfig fields): that is
//! `crate::codec::describe`'s job. The only edits made are the NAL length size in avcC/hvcC, which is
//! forced to 4 because canonical payloads always use 4-byte lengths.

use bytes::Bytes;

use crate::media::Codec;

use super::boxes::{BoxWriter, Cursor, Mp4Box};
use super::error::{FourCc, Mp4Error};
use super::track::{TrackLayout, TrackMedia};

/// MPEG-4 systems objectTypeIndication values used in `esds`.
const OBJECT_TYPE_AAC: u8 = 0x40;
const OBJECT_TYPE_MPEG2_AAC: [u8; 3] = [0x66, 0x67, 0x68];
const OBJECT_TYPE_MP3: u8 = 0x6b;
const OBJECT_TYPE_MPEG2_MP3: u8 = 0x69;
/// streamType 5 (audio) shifted left by two, with the reserved bit set.
const STREAM_TYPE_AUDIO: u8 = 0x15;
/// Byte offsets of the NAL length size field in avcC and hvcC.
const AVCC_LENGTH_SIZE_BYTE: usize = 4;
const HVCC_LENGTH_SIZE_BYTE: usize = 21;
/// Length of an OpusHead without channel mapping table, and the fixed dOps fields.
const OPUS_HEAD_LEN: usize = 19;

pub(crate) fn write_sample_entry(writer: &mut BoxWriter, layout: &TrackLayout) -> Result<(), Mp4Error> {
    match &layout.media {
        TrackMedia::Video(video) => {
            let (entry, config_box, length_byte): (&[u8; 4], &[u8; 4], Option<usize>) = match video.codec {
                Codec::H264 => (b"avc1", b"avcC", Some(AVCC_LENGTH_SIZE_BYTE)),
                Codec::H265 => (b"hvc1", b"hvcC", Some(HVCC_LENGTH_SIZE_BYTE)),
                _ => (b"av01", b"av1C", None),
            };
            let mut config = video.config.to_vec();
            if let Some(index) = length_byte {
                let byte = config.get_mut(index).ok_or_else(|| Mp4Error::UnwritableTrack {
                    codec: video.codec,
                    reason: format!(
                        "decoder configuration record of {} bytes is too short",
                        video.config.len()
                    ),
                })?;
                *byte |= 0x03;
            }
            writer.begin(entry);
            writer.zeros(6);
            writer.u16(1); // data_reference_index
            writer.zeros(16);
            writer.u16(video.width.min(0xffff) as u16);
            writer.u16(video.height.min(0xffff) as u16);
            writer.u32(0x0048_0000); // 72 dpi
            writer.u32(0x0048_0000);
            writer.u32(0);
            writer.u16(1); // frame_count
            writer.zeros(32); // compressorname
            writer.u16(0x0018); // depth
            writer.u16(0xffff); // pre_defined -1
            writer.begin(config_box);
            writer.bytes(&config);
            writer.end();
            writer.end();
        }
        TrackMedia::Audio(audio) => {
            let entry: &[u8; 4] = if audio.codec == Codec::Opus { b"Opus" } else { b"mp4a" };
            writer.begin(entry);
            writer.zeros(6);
            writer.u16(1);
            writer.zeros(8);
            writer.u16(u16::from(audio.channels.max(1)));
            writer.u16(16); // samplesize
            writer.u32(0);
            writer.u32(layout.timebase.hz().min(0xffff) << 16);
            match audio.codec {
                Codec::Opus => write_dops(writer, &audio.config)?,
                Codec::Mp3 => write_esds(writer, layout.track_id, OBJECT_TYPE_MP3, &[]),
                _ => write_esds(writer, layout.track_id, OBJECT_TYPE_AAC, &audio.config),
            }
            writer.end();
        }
    }
    Ok(())
}

/// An MPEG-4 descriptor: tag, size in the 7-bits-per-byte expandable form, body.
fn descriptor(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let mut size_bytes = Vec::new();
    let mut size = body.len();
    loop {
        size_bytes.push((size & 0x7f) as u8);
        size >>= 7;
        if size == 0 {
            break;
        }
    }
    for (index, byte) in size_bytes.iter().rev().enumerate() {
        let more = if index + 1 < size_bytes.len() { 0x80 } else { 0 };
        out.push(byte | more);
    }
    out.extend_from_slice(body);
    out
}

fn write_esds(writer: &mut BoxWriter, track_id: u32, object_type: u8, specific_info: &[u8]) {
    let mut decoder_config = vec![object_type, STREAM_TYPE_AUDIO, 0, 0, 0];
    decoder_config.extend_from_slice(&[0; 8]); // max and average bitrate unknown
    if !specific_info.is_empty() {
        decoder_config.extend(descriptor(0x05, specific_info));
    }
    let mut es = Vec::new();
    es.extend_from_slice(&(track_id.min(0xffff) as u16).to_be_bytes());
    es.push(0); // no dependsOn, URL or OCR stream
    es.extend(descriptor(0x04, &decoder_config));
    es.extend(descriptor(0x06, &[0x02])); // SLConfig predefined for MP4 files
    writer.begin_full(b"esds", 0, 0);
    writer.bytes(&descriptor(0x03, &es));
    writer.end();
}

/// dOps is OpusHead without its magic, in big-endian byte order.
fn write_dops(writer: &mut BoxWriter, opus_head: &[u8]) -> Result<(), Mp4Error> {
    let invalid = |reason: &str| Mp4Error::UnwritableTrack { codec: Codec::Opus, reason: reason.into() };
    if opus_head.len() < OPUS_HEAD_LEN || &opus_head[..8] != b"OpusHead" {
        return Err(invalid("configuration is not an OpusHead"));
    }
    let channels = opus_head[9];
    let family = opus_head[18];
    let mapping_len = if family == 0 { 0 } else { 2 + usize::from(channels) };
    let mapping = opus_head
        .get(OPUS_HEAD_LEN..OPUS_HEAD_LEN + mapping_len)
        .ok_or_else(|| invalid("OpusHead channel mapping table is truncated"))?;
    writer.begin(b"dOps");
    writer.u8(0);
    writer.u8(channels);
    writer.bytes(&[opus_head[11], opus_head[10]]); // pre-skip
    writer.bytes(&[opus_head[15], opus_head[14], opus_head[13], opus_head[12]]); // input rate
    writer.bytes(&[opus_head[17], opus_head[16]]); // output gain
    writer.u8(family);
    writer.bytes(mapping);
    writer.end();
    Ok(())
}

/// What a sample entry tells about a track.
#[derive(Debug, Clone)]
pub(crate) struct SampleEntry {
    pub(crate) codec: Codec,
    /// The configuration in media-model form (avcC/hvcC with 4-byte lengths, ASC, OpusHead, empty).
    pub(crate) config: Bytes,
    /// NAL length size the samples use, for H.264/H.265.
    pub(crate) nal_length_size: Option<u8>,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) channels: u8,
    pub(crate) sample_rate: u32,
}

/// Parses the first entry of an `stsd` box.
pub(crate) fn parse_stsd(stsd: &Mp4Box<'_>) -> Result<SampleEntry, Mp4Error> {
    let mut cursor = stsd.cursor();
    cursor.version_flags("stsd")?;
    let count = cursor.u32("stsd entry count")?;
    let entry_offset = cursor.offset();
    let entry =
        super::boxes::BoxIter::new(cursor.rest(), entry_offset).next().ok_or(Mp4Error::Invalid {
            offset: stsd.offset,
            what: "stsd",
            reason: format!("{count} entries declared, none present"),
        })??;
    match &entry.fourcc.0 {
        b"avc1" | b"avc3" => parse_visual(&entry, Codec::H264, b"avcC", Some(AVCC_LENGTH_SIZE_BYTE)),
        b"hvc1" | b"hev1" => parse_visual(&entry, Codec::H265, b"hvcC", Some(HVCC_LENGTH_SIZE_BYTE)),
        b"av01" => parse_visual(&entry, Codec::Av1, b"av1C", None),
        b"mp4a" | b".mp3" | b"Opus" => parse_audio(&entry),
        _ => Err(Mp4Error::UnsupportedSampleEntry { offset: entry.offset, fourcc: entry.fourcc }),
    }
}

fn parse_visual(
    entry: &Mp4Box<'_>,
    codec: Codec,
    config_box: &[u8; 4],
    length_byte: Option<usize>,
) -> Result<SampleEntry, Mp4Error> {
    let mut cursor = entry.cursor();
    cursor.skip(24, "visual sample entry")?;
    let width = u32::from(cursor.u16("visual sample entry width")?);
    let height = u32::from(cursor.u16("visual sample entry height")?);
    cursor.skip(50, "visual sample entry")?;
    let children_offset = cursor.offset();
    let children = Mp4Box {
        fourcc: entry.fourcc,
        offset: entry.offset,
        payload_offset: children_offset,
        payload: cursor.rest(),
    };
    let config_found = children.require(config_box)?;
    let mut config = config_found.payload.to_vec();
    let mut nal_length_size = None;
    if let Some(index) = length_byte {
        let byte = config.get_mut(index).ok_or(Mp4Error::Truncated {
            offset: config_found.payload_offset,
            what: "decoder configuration record",
            needed: index as u64 + 1,
            available: config_found.payload.len() as u64,
        })?;
        nal_length_size = Some((*byte & 0x03) + 1);
        *byte |= 0x03;
    }
    Ok(SampleEntry {
        codec,
        config: Bytes::from(config),
        nal_length_size,
        width,
        height,
        channels: 0,
        sample_rate: 0,
    })
}

fn parse_audio(entry: &Mp4Box<'_>) -> Result<SampleEntry, Mp4Error> {
    let mut cursor = entry.cursor();
    cursor.skip(8, "audio sample entry")?;
    let quicktime_version = cursor.u16("audio sample entry version")?;
    cursor.skip(6, "audio sample entry")?;
    let channels = cursor.u16("audio sample entry channels")?;
    cursor.skip(6, "audio sample entry")?;
    let sample_rate = cursor.u32("audio sample entry rate")? >> 16;
    // QuickTime sound description versions 1 and 2 append fields before the child boxes.
    match quicktime_version {
        1 => cursor.skip(16, "audio sample entry v1")?,
        2 => cursor.skip(36, "audio sample entry v2")?,
        _ => {}
    }
    let children_offset = cursor.offset();
    let children = Mp4Box {
        fourcc: entry.fourcc,
        offset: entry.offset,
        payload_offset: children_offset,
        payload: cursor.rest(),
    };
    let (codec, config) = match &entry.fourcc.0 {
        b"Opus" => (Codec::Opus, parse_dops(&children.require(b"dOps")?)?),
        b".mp3" => (Codec::Mp3, Bytes::new()),
        _ => parse_esds(&children.require(b"esds")?)?,
    };
    Ok(SampleEntry {
        codec,
        config,
        nal_length_size: None,
        width: 0,
        height: 0,
        channels: u8::try_from(channels).unwrap_or(u8::MAX),
        sample_rate,
    })
}

/// Reads a descriptor header: tag and expandable size (at most four bytes).
fn read_descriptor<'a>(cursor: &mut Cursor<'a>) -> Result<(u8, Cursor<'a>), Mp4Error> {
    let tag = cursor.u8("descriptor tag")?;
    let mut size = 0usize;
    for _ in 0..4 {
        let byte = cursor.u8("descriptor size")?;
        size = (size << 7) | usize::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            break;
        }
    }
    let offset = cursor.offset();
    let body = cursor.take(size, "descriptor body")?;
    Ok((tag, Cursor::new(body, offset)))
}

fn parse_esds(esds: &Mp4Box<'_>) -> Result<(Codec, Bytes), Mp4Error> {
    let mut cursor = esds.cursor();
    cursor.version_flags("esds")?;
    let invalid = |offset, reason: String| Mp4Error::Invalid { offset, what: "esds", reason };
    let (tag, mut es) = read_descriptor(&mut cursor)?;
    if tag != 0x03 {
        return Err(invalid(esds.payload_offset, format!("expected ES descriptor, found tag {tag}")));
    }
    es.skip(2, "ES_ID")?;
    let flags = es.u8("ES flags")?;
    if flags & 0x80 != 0 {
        es.skip(2, "dependsOn_ES_ID")?;
    }
    if flags & 0x40 != 0 {
        let url_len = es.u8("URL length")?;
        es.skip(usize::from(url_len), "URL")?;
    }
    if flags & 0x20 != 0 {
        es.skip(2, "OCR_ES_ID")?;
    }
    let config_offset = es.offset();
    let (tag, mut decoder_config) = read_descriptor(&mut es)?;
    if tag != 0x04 {
        return Err(invalid(config_offset, format!("expected decoder config descriptor, found tag {tag}")));
    }
    let object_type = decoder_config.u8("objectTypeIndication")?;
    decoder_config.skip(12, "decoder config descriptor")?;
    let codec = match object_type {
        OBJECT_TYPE_AAC => Codec::Aac,
        t if OBJECT_TYPE_MPEG2_AAC.contains(&t) => Codec::Aac,
        OBJECT_TYPE_MP3 | OBJECT_TYPE_MPEG2_MP3 => Codec::Mp3,
        other => {
            return Err(Mp4Error::UnsupportedSampleEntry {
                offset: config_offset,
                fourcc: FourCc([b'm', b'p', b'4', other]),
            })
        }
    };
    if codec == Codec::Mp3 {
        return Ok((codec, Bytes::new()));
    }
    while decoder_config.remaining() > 0 {
        let (tag, mut body) = read_descriptor(&mut decoder_config)?;
        if tag == 0x05 {
            return Ok((codec, Bytes::copy_from_slice(body.rest())));
        }
    }
    Err(invalid(config_offset, "AAC without AudioSpecificConfig".into()))
}

/// Turns dOps back into an OpusHead (little-endian, with magic and version 1).
fn parse_dops(dops: &Mp4Box<'_>) -> Result<Bytes, Mp4Error> {
    let mut cursor = dops.cursor();
    cursor.u8("dOps version")?;
    let channels = cursor.u8("dOps channels")?;
    let pre_skip = cursor.u16("dOps pre-skip")?;
    let input_rate = cursor.u32("dOps input rate")?;
    let gain = cursor.u16("dOps output gain")?;
    let family = cursor.u8("dOps mapping family")?;
    let mut head = Vec::with_capacity(OPUS_HEAD_LEN + 2 + usize::from(channels));
    head.extend_from_slice(b"OpusHead");
    head.push(1);
    head.push(channels);
    head.extend_from_slice(&pre_skip.to_le_bytes());
    head.extend_from_slice(&input_rate.to_le_bytes());
    head.extend_from_slice(&gain.to_le_bytes());
    head.push(family);
    if family != 0 {
        head.extend_from_slice(cursor.take(2 + usize::from(channels), "dOps channel mapping")?);
    }
    Ok(Bytes::from(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_size_uses_expandable_form() {
        assert_eq!(descriptor(5, &[1, 2]), vec![5, 2, 1, 2]);
        let long = descriptor(5, &[0; 200]);
        assert_eq!(&long[..3], &[5, 0x81, 0x48]);
        let mut cursor = Cursor::new(&long, 0);
        let (tag, body) = read_descriptor(&mut cursor).unwrap();
        assert_eq!((tag, body.remaining()), (5, 200));
    }

    #[test]
    fn opus_head_survives_dops_round_trip() {
        let head: Vec<u8> = [&b"OpusHead"[..], &[1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0xfe, 0xff, 0]].concat();
        let mut writer = BoxWriter::default();
        write_dops(&mut writer, &head).unwrap();
        let bytes = writer.finish().unwrap();
        assert_eq!(&bytes[8..], &[0, 2, 0x01, 0x38, 0, 0, 0xbb, 0x80, 0xff, 0xfe, 0]);
        let found = super::super::boxes::BoxIter::new(&bytes, 0).next().unwrap().unwrap();
        assert_eq!(parse_dops(&found).unwrap().as_ref(), head.as_slice());
    }
}
