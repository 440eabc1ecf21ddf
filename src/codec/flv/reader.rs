//! The incremental FLV reader: push bytes as they arrive, pull tags as they complete.
//!
//! Bodies are split out of the reader's buffer without copying. A previous-tag-size field that disagrees
//! with the tag is tolerated (many muxers get it wrong) but reported on the tag and counted. The first
//! structural error ends the stream: the reader yields it once with its byte offset, then nothing more.
//! It does not interpret bodies; see `VideoTagHeader` and `AudioTagHeader` for that.

use bytes::{Buf, Bytes, BytesMut};

use super::writer::TAG_HEADER_LEN;
use super::{FlvError, FlvHeader, FlvTag, TagType, HEADER_LEN};

const PREVIOUS_TAG_SIZE_LEN: usize = 4;
const FILTER_BIT: u8 = 0x20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReaderState {
    Header,
    /// Skipping the rest of the header (data offset beyond 9) and the first previous tag size.
    Skip(u64),
    Tags,
    Failed,
}

/// Bytes not yet returned as tags: pushed pieces gathered, or a block of the input holding whole
/// tags (whose bodies are then slices of it, not copies).
#[derive(Debug)]
enum Buffer {
    Growing(BytesMut),
    Block(Bytes),
}

impl Buffer {
    fn as_slice(&self) -> &[u8] {
        match self {
            Buffer::Growing(bytes) => bytes,
            Buffer::Block(bytes) => bytes,
        }
    }

    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn get(&self, range: std::ops::RangeTo<usize>) -> Option<&[u8]> {
        self.as_slice().get(range)
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn advance(&mut self, n: usize) {
        match self {
            Buffer::Growing(bytes) => bytes.advance(n),
            Buffer::Block(bytes) => bytes.advance(n),
        }
    }

    fn split_to(&mut self, n: usize) -> Bytes {
        match self {
            Buffer::Growing(bytes) => bytes.split_to(n).freeze(),
            Buffer::Block(bytes) => bytes.split_to(n),
        }
    }
}

/// Reads FLV from bytes pushed in pieces of any size.
#[derive(Debug)]
pub struct FlvReader {
    buffer: Buffer,
    /// File offset of `buffer[0]`.
    buffer_offset: u64,
    state: ReaderState,
    header: Option<FlvHeader>,
    input_ended: bool,
    n_size_mismatches: u64,
}

impl Default for FlvReader {
    fn default() -> FlvReader {
        FlvReader {
            buffer: Buffer::Growing(BytesMut::new()),
            buffer_offset: 0,
            state: ReaderState::Header,
            header: None,
            input_ended: false,
            n_size_mismatches: 0,
        }
    }
}

impl FlvReader {
    /// Where the bytes not yet returned as tags start in the file: a reader fed in blocks
    /// (`next_block`) is given its next block from here.
    pub fn resume_offset(&self) -> u64 {
        self.buffer_offset
    }

    /// The least a block given to `next_block` must hold for the reader to get on: the whole
    /// tag (with its size field) that starts at `resume_offset` once its header is known, else a
    /// header's length.
    pub fn needed(&self) -> usize {
        match self.state {
            ReaderState::Tags => match self.buffer.get(..TAG_HEADER_LEN) {
                Some(head) => TAG_HEADER_LEN + u24(&head[1..4]) as usize + PREVIOUS_TAG_SIZE_LEN,
                None => TAG_HEADER_LEN,
            },
            _ => HEADER_LEN,
        }
    }

    /// Feeds the input in blocks that each hold whole tags: `block` is the input from
    /// `resume_offset` on (the bytes not yet returned as tags again, then more), and replaces them,
    /// so each tag body is a slice of the one block that holds the whole tag, never a copy.
    /// `ended`: the block reaches the end of the input. Ignored after an error.
    pub fn next_block(&mut self, block: Bytes, ended: bool) {
        if self.state != ReaderState::Failed {
            self.buffer = Buffer::Block(block);
            self.input_ended = ended;
        }
    }

    /// Appends input. Ignored after an error or after `finish` (and once fed in blocks).
    pub fn push(&mut self, data: &[u8]) {
        if self.state != ReaderState::Failed && !self.input_ended {
            if let Buffer::Growing(buffer) = &mut self.buffer {
                buffer.extend_from_slice(data);
            }
        }
    }

    /// Declares the end of input: an incomplete tag left in the buffer becomes a `Truncated` error.
    pub fn finish(&mut self) {
        self.input_ended = true;
    }

    /// The file header, once read.
    pub fn header(&self) -> Option<&FlvHeader> {
        self.header.as_ref()
    }

    /// How many tags had a previous-tag-size field that disagreed with their size.
    pub fn n_size_mismatches(&self) -> u64 {
        self.n_size_mismatches
    }

    /// Bytes buffered but not yet returned as tags.
    pub fn buffered_len(&self) -> usize {
        self.buffer.len()
    }

    /// The next complete tag; `None` when more input is needed (or after the end or an error).
    pub fn next_tag(&mut self) -> Option<Result<FlvTag, FlvError>> {
        match self.step() {
            Ok(tag) => tag.map(Ok),
            Err(error) => {
                self.state = ReaderState::Failed;
                self.buffer = Buffer::Growing(BytesMut::new());
                Some(Err(error))
            }
        }
    }

    fn step(&mut self) -> Result<Option<FlvTag>, FlvError> {
        loop {
            match self.state {
                ReaderState::Failed => return Ok(None),
                ReaderState::Header => {
                    let Some(header) = FlvHeader::parse(self.buffer.as_slice())? else {
                        return self.truncated_if_ended("flv header", HEADER_LEN);
                    };
                    self.consume(HEADER_LEN);
                    self.header = Some(header);
                    let skip =
                        u64::from(header.data_offset) - HEADER_LEN as u64 + PREVIOUS_TAG_SIZE_LEN as u64;
                    self.state = ReaderState::Skip(skip);
                }
                ReaderState::Skip(remaining) => {
                    let now = remaining.min(self.buffer.len() as u64);
                    self.consume(now as usize);
                    if now < remaining {
                        self.state = ReaderState::Skip(remaining - now);
                        // A file that ends inside the first previous-tag-size simply has no tags.
                        return Ok(None);
                    }
                    self.state = ReaderState::Tags;
                }
                ReaderState::Tags => return self.tag(),
            }
        }
    }

    fn tag(&mut self) -> Result<Option<FlvTag>, FlvError> {
        let offset = self.buffer_offset;
        let Some(head) = self.buffer.get(..TAG_HEADER_LEN) else {
            return self.truncated_if_ended("tag header", TAG_HEADER_LEN);
        };
        let type_byte = head[0];
        if type_byte & FILTER_BIT != 0 {
            return Err(FlvError::EncryptedTag(offset));
        }
        let tag_type =
            TagType::from_u8(type_byte).ok_or(FlvError::UnknownTagType { tag_type: type_byte, offset })?;
        let body_len = u24(&head[1..4]) as usize;
        let timestamp_ms = u24(&head[4..7]) | u32::from(head[7]) << 24;
        let stream_id = u24(&head[8..11]);
        let tag_len = TAG_HEADER_LEN + body_len;
        if self.buffer.len() < tag_len + PREVIOUS_TAG_SIZE_LEN {
            if !self.input_ended {
                return Ok(None);
            }
            // At the end of input a missing trailing size field loses nothing; a short body does.
            if self.buffer.len() < tag_len {
                return self.truncated_if_ended("tag body", tag_len);
            }
        }
        let unit_len = (tag_len + PREVIOUS_TAG_SIZE_LEN).min(self.buffer.len());
        let mut unit = self.buffer.split_to(unit_len);
        self.buffer_offset += unit_len as u64;
        let size_field = unit.split_off(tag_len);
        unit.advance(TAG_HEADER_LEN);
        let previous_tag_size_mismatch =
            size_field.len() == PREVIOUS_TAG_SIZE_LEN && size_field[..] != (tag_len as u32).to_be_bytes();
        if previous_tag_size_mismatch {
            self.n_size_mismatches += 1;
        }
        Ok(Some(FlvTag { tag_type, timestamp_ms, stream_id, body: unit, offset, previous_tag_size_mismatch }))
    }

    /// `Ok(None)` (wait for more) unless input ended with bytes left, then a truncation error at the
    /// offset where the incomplete element starts.
    fn truncated_if_ended(&self, what: &'static str, needed: usize) -> Result<Option<FlvTag>, FlvError> {
        if self.input_ended && !self.buffer.is_empty() {
            let missing = needed.saturating_sub(self.buffer.len()) as u64;
            return Err(FlvError::Truncated { what, offset: self.buffer_offset, missing });
        }
        Ok(None)
    }

    fn consume(&mut self, n: usize) {
        self.buffer.advance(n);
        self.buffer_offset += n as u64;
    }
}

/// Reads a whole file: every good tag before the first damage, and the error that stopped reading.
pub fn read_all(data: &[u8]) -> (Vec<FlvTag>, Option<FlvError>) {
    let mut reader = FlvReader::default();
    reader.push(data);
    reader.finish();
    let mut tags = Vec::new();
    while let Some(next) = reader.next_tag() {
        match next {
            Ok(tag) => tags.push(tag),
            Err(error) => return (tags, Some(error)),
        }
    }
    (tags, None)
}

fn u24(b: &[u8]) -> u32 {
    u32::from_be_bytes([0, b[0], b[1], b[2]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::flv::{tag_bytes, AudioPacketKind, AudioTagHeader, VideoPacketKind, VideoTagHeader};

    const H264_AAC: &[u8] = include_bytes!("../../../tests/fixtures/flv/h264_aac.flv");
    const HEVC: &[u8] = include_bytes!("../../../tests/fixtures/flv/hevc_enhanced.flv");

    fn count_coded(tags: &[FlvTag]) -> (usize, usize, usize) {
        let video = tags
            .iter()
            .filter(|t| t.tag_type == TagType::Video)
            .filter(|t| VideoTagHeader::parse(&t.body).unwrap().packet == VideoPacketKind::CodedFrames)
            .count();
        let audio = tags
            .iter()
            .filter(|t| t.tag_type == TagType::Audio)
            .filter(|t| AudioTagHeader::parse(&t.body).unwrap().packet == AudioPacketKind::CodedFrames)
            .count();
        let script = tags.iter().filter(|t| t.tag_type == TagType::Script).count();
        (video, audio, script)
    }

    #[test]
    fn reads_ffmpeg_file_with_packet_counts_matching_ffprobe() {
        let (tags, error) = read_all(H264_AAC);
        assert_eq!(error, None);
        // ffprobe -count_packets: 30 h264 packets, 53 aac packets; plus two sequence headers,
        // the end-of-sequence tag and onMetaData.
        assert_eq!(count_coded(&tags), (30, 53, 1));
        assert_eq!(tags.len(), 30 + 53 + 1 + 2 + 1);
        assert_eq!(tags[0].offset, 13);
        assert!(tags.iter().all(|t| !t.previous_tag_size_mismatch && t.stream_id == 0));
        let last = tags.last().unwrap();
        assert_eq!(last.offset as usize + TAG_HEADER_LEN + last.body.len() + 4, H264_AAC.len());
    }

    #[test]
    fn reads_enhanced_hevc_file() {
        let (tags, error) = read_all(HEVC);
        assert_eq!(error, None);
        assert_eq!(count_coded(&tags), (30, 0, 1));
        assert_eq!(tags.iter().filter(|t| t.tag_type == TagType::Video).count(), 32);
        assert_eq!(tags.last().unwrap().timestamp_ms, 1200);
    }

    #[test]
    fn rewriting_every_tag_reproduces_the_file_bytes() {
        for file in [H264_AAC, HEVC] {
            let (tags, _) = read_all(file);
            let mut rewritten = FlvHeader::parse(file).unwrap().unwrap().file_start().to_vec();
            for tag in &tags {
                rewritten.extend_from_slice(&tag_bytes(tag.tag_type, tag.timestamp_ms, &tag.body).unwrap());
            }
            assert_eq!(rewritten, file);
        }
    }

    #[test]
    fn byte_by_byte_pushes_give_the_same_tags() {
        let (expected, _) = read_all(H264_AAC);
        let mut reader = FlvReader::default();
        let mut tags = Vec::new();
        for byte in H264_AAC {
            reader.push(std::slice::from_ref(byte));
            while let Some(tag) = reader.next_tag() {
                tags.push(tag.unwrap());
            }
        }
        reader.finish();
        assert!(reader.next_tag().is_none());
        assert_eq!(tags, expected);
        assert_eq!(reader.header(), Some(&FlvHeader::new(true, true)));
    }

    #[test]
    fn truncated_file_keeps_every_tag_before_the_cut_and_names_its_offset() {
        let (full, _) = read_all(H264_AAC);
        for (index, tag) in full.iter().enumerate().skip(1).step_by(7) {
            // Cut inside the tag header, then inside the body.
            for cut in [tag.offset as usize + 5, tag.offset as usize + TAG_HEADER_LEN + tag.body.len() / 2] {
                let (tags, error) = read_all(&H264_AAC[..cut]);
                assert_eq!(tags, full[..index], "cut at {cut}");
                let Some(FlvError::Truncated { offset, missing, .. }) = error else { panic!("{error:?}") };
                assert_eq!(offset, tag.offset);
                assert!(missing > 0);
            }
        }
        let (tags, error) = read_all(&H264_AAC[..5]);
        assert_eq!(
            (tags.len(), error),
            (0, Some(FlvError::Truncated { what: "flv header", offset: 0, missing: 4 }))
        );
        // A cut right after a body loses only the trailing size field: no error.
        let last = full.last().unwrap();
        let (tags, error) = read_all(&H264_AAC[..H264_AAC.len() - 4]);
        assert_eq!((tags.last(), error), (Some(last), None));
    }

    #[test]
    fn wrong_previous_tag_size_is_tolerated_and_reported() {
        let (full, _) = read_all(H264_AAC);
        let mut damaged = H264_AAC.to_vec();
        let size_at = full[3].offset as usize + TAG_HEADER_LEN + full[3].body.len();
        damaged[size_at + 3] ^= 0x55;
        let mut reader = FlvReader::default();
        reader.push(&damaged);
        reader.finish();
        let tags: Vec<FlvTag> = std::iter::from_fn(|| reader.next_tag()).map(Result::unwrap).collect();
        assert_eq!(tags.len(), full.len());
        assert_eq!(reader.n_size_mismatches(), 1);
        assert!(tags[3].previous_tag_size_mismatch);
    }

    #[test]
    fn bad_tag_type_stops_reading_with_its_offset() {
        let (full, _) = read_all(H264_AAC);
        let mut damaged = H264_AAC.to_vec();
        damaged[full[10].offset as usize] = 0x07;
        let mut reader = FlvReader::default();
        reader.push(&damaged);
        let tags: Vec<_> = std::iter::from_fn(|| reader.next_tag()).collect();
        assert_eq!(tags.len(), 11);
        assert_eq!(tags[10], Err(FlvError::UnknownTagType { tag_type: 7, offset: full[10].offset }));
        reader.push(H264_AAC);
        assert!(reader.next_tag().is_none(), "no tags after an error");
        damaged[full[10].offset as usize] = 0x29;
        assert_eq!(read_all(&damaged).1, Some(FlvError::EncryptedTag(full[10].offset)));
        assert_eq!(read_all(b"GIF89a").1, Some(FlvError::BadSignature(*b"GIF")));
    }

    #[test]
    fn random_mutations_give_errors_not_panics() {
        let mut rng = crate::codec::xorshift::XorShift::new(0x2545_f491_4f6c_dd1d);
        let mut next = move || rng.next_u64();
        for round in 0..300 {
            let source = if round % 2 == 0 { H264_AAC } else { HEVC };
            let mut data = source.to_vec();
            for _ in 0..(1 + next() % 8) {
                let at = (next() as usize) % data.len();
                data[at] = next() as u8;
            }
            data.truncate(data.len() - (next() as usize % 64));
            let (tags, error) = read_all(&data);
            for tag in &tags {
                assert!(tag.offset < data.len() as u64);
                let _ = match tag.tag_type {
                    TagType::Video => VideoTagHeader::parse(&tag.body).map(|h| h.header_len),
                    TagType::Audio => AudioTagHeader::parse(&tag.body).map(|h| h.header_len),
                    TagType::Script => crate::codec::flv::on_metadata(&tag.body).map(|_| 0),
                };
            }
            if let Some(FlvError::Truncated { offset, .. } | FlvError::UnknownTagType { offset, .. }) = error
            {
                assert!(offset <= data.len() as u64);
            }
        }
    }

    /// Blocks that start where the reader asks (`resume_offset`) give the same tags as the whole
    /// file, every body a slice of the block that holds its tag, whatever the block size (down to
    /// less than one tag: the reader asks for `needed`), and the same error for a torn file.
    #[test]
    fn blocks_from_the_resume_offset_give_the_same_tags_as_the_whole_file() {
        for file in [H264_AAC, HEVC, &H264_AAC[..H264_AAC.len() - 100]] {
            let (expected, expected_error) = read_all(file);
            for block_len in [1, 7, 100, 4096, file.len()] {
                let mut reader = FlvReader::default();
                let mut tags = Vec::new();
                let mut error = None;
                loop {
                    let at = reader.resume_offset() as usize;
                    let end = (at + block_len.max(reader.needed())).min(file.len());
                    let block = Bytes::copy_from_slice(&file[at..end]);
                    let start = block.as_ptr() as usize;
                    reader.next_block(block, end == file.len());
                    while let Some(tag) = reader.next_tag() {
                        match tag {
                            Ok(tag) => {
                                let in_block = tag.body.as_ptr() as usize - start + at;
                                assert_eq!(in_block as u64, tag.offset + TAG_HEADER_LEN as u64);
                                tags.push(tag);
                            }
                            Err(e) => error = Some(e),
                        }
                    }
                    if end == file.len() || error.is_some() {
                        break;
                    }
                }
                assert_eq!(tags, expected, "blocks of {block_len}");
                assert_eq!(error, expected_error, "blocks of {block_len}");
            }
        }
    }
}
