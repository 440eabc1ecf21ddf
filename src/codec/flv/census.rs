//! How many audio and video tags an FLV file holds, estimated from its first bytes: a batch remux
//! to faststart MP4 keeps room for the `moov` in front of the media from it (the tables grow with
//! the sample count). Only tag headers are looked at.

use super::{FlvHeader, TagType};

/// Bytes in front of each tag: the previous tag's size.
const PREVIOUS_TAG_SIZE_LEN: usize = 4;
/// A tag header: type, body size (24 bits), timestamp (32), stream id (24).
const TAG_HEADER_LEN: usize = 11;

/// What the complete tags of a file's head hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagCensus {
    /// Audio and video tags.
    pub media_tags: u64,
    /// Bytes of the file up to the end of the last complete tag.
    pub bytes: u64,
}

impl TagCensus {
    /// The media tags of a file of `file_len` bytes that goes on as its head does, rounded up.
    pub fn scaled_to(&self, file_len: u64) -> u64 {
        let scaled = u128::from(self.media_tags) * u128::from(file_len);
        u64::try_from(scaled.div_ceil(u128::from(self.bytes.max(1)))).unwrap_or(u64::MAX)
    }
}

/// Counts the media tags among the complete tags of `head` (a file's first bytes); `None` when it
/// is not FLV or holds no media tag.
pub fn census(head: &[u8]) -> Option<TagCensus> {
    let header = FlvHeader::parse(head).ok()??;
    let mut at = usize::try_from(header.data_offset).ok()? + PREVIOUS_TAG_SIZE_LEN;
    let mut census = TagCensus { media_tags: 0, bytes: at as u64 };
    while let Some(tag_header) = head.get(at..at + TAG_HEADER_LEN) {
        let body_len = u32::from_be_bytes([0, tag_header[1], tag_header[2], tag_header[3]]) as usize;
        let end = at + TAG_HEADER_LEN + body_len + PREVIOUS_TAG_SIZE_LEN;
        if end > head.len() {
            break;
        }
        // The filter bit and reserved bits sit above the type's five bits.
        if matches!(TagType::from_u8(tag_header[0] & 0x1f), Some(TagType::Audio | TagType::Video)) {
            census.media_tags += 1;
        }
        census.bytes = end as u64;
        at = end;
    }
    (census.media_tags > 0).then_some(census)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::flv::{tag_bytes, FlvHeader};

    #[test]
    fn counts_complete_media_tags_and_scales_by_length() {
        let mut file = FlvHeader::new(true, true).file_start().to_vec();
        file.extend_from_slice(&tag_bytes(TagType::Script, 0, &[2, 0, 0]).unwrap());
        for (kind, ms) in [(TagType::Video, 0), (TagType::Audio, 0), (TagType::Video, 40)] {
            file.extend_from_slice(&tag_bytes(kind, ms, &[0; 100]).unwrap());
        }
        let whole = file.len() as u64;
        // A torn last tag is not counted.
        let torn = census(&file[..file.len() - 3]).unwrap();
        assert_eq!(torn.media_tags, 2);
        let census = census(&file).unwrap();
        assert_eq!(census, TagCensus { media_tags: 3, bytes: whole });
        assert_eq!(census.scaled_to(whole * 10), 30);
        assert_eq!(super::census(b"GIF89a"), None);
        assert_eq!(super::census(&file[..20]), None, "no complete media tag");
    }
}
