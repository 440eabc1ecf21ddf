//! The incremental FLV reader: push bytes as they arrive, pull tags as they complete.
//!
//! Bodies are split out of the reader's buffer without copying. A previous-tag-size field that disagrees
//! with the tag is tolerated (many muxers get it wrong) but reported on the tag and counted. The first
//! structural error ends the stream: the reader yields it once with its byte offset, then nothing more.
//! It does not interpret bodies; see `VideoTagHeader` and `AudioTagHeader` for that.

use bytes::{Buf, BytesMut};

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

/// Reads FLV from bytes pushed in pieces of any size.
#[derive(Debug)]
pub struct FlvReader {
    buffer: BytesMut,
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
            buffer: BytesMut::new(),
            buffer_offset: 0,
            state: ReaderState::Header,
            header: None,
            input_ended: false,
            n_size_mismatches: 0,
        }
    }
}

impl FlvReader {
    /// Appends input. Ignored after an error or after `finish`.
    pub fn push(&mut self, data: &[u8]) {
        if self.state != ReaderState::Failed && !self.input_ended {
            self.buffer.extend_from_slice(data);
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
                self.buffer = BytesMut::new();
                Some(Err(error))
            }
        }
    }

    fn step(&mut self) -> Result<Option<FlvTag>, FlvError> {
        loop {
            match self.state {
                ReaderState::Failed => return Ok(None),
                ReaderState::Header => {
                    let Some(header) = FlvHeader::parse(&self.buffer)? else {
                        return self.truncated_if_ended("flv header", HEADER_LEN);
                    };
                    self.consume(HEADER_LEN);
                    self.header = Some(header);
                    let skip = u64::from(header.data_offset) - HEADER_LEN as u64 + PREVIOUS_TAG_SIZE_LEN as u64;
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
        let tag_type = TagType::from_u8(type_byte).ok_or(FlvError::UnknownTagType { tag_type: type_byte, offset })?;
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
        Ok(Some(FlvTag { tag_type, timestamp_ms, stream_id, body: unit.freeze(), offset, previous_tag_size_mismatch }))
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
