//! HTTP/1.1 response bodies, sans-IO, for clients that stream (the load harness's HTTP-FLV players):
//! the response head (status and whether the body is chunked), then the body bytes, de-chunked when
//! `Transfer-Encoding: chunked`, else passed through until the connection closes.
//!
//! Push bytes as they arrive, take body bytes out. Chunk extensions and trailers are skipped; chunk
//! sizes and header sizes are capped, since the peer controls them.

use bytes::{Buf, Bytes, BytesMut};

/// Largest response head accepted.
pub const MAX_HEAD_LEN: usize = 16 * 1024;
/// Largest chunk-size line (size, extensions) accepted.
const MAX_SIZE_LINE_LEN: usize = 1024;
/// Most headers parsed.
const MAX_HEADERS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpBodyError {
    #[error("response head larger than {MAX_HEAD_LEN} bytes")]
    HeadTooLarge,
    #[error("malformed response head: {0}")]
    BadHead(String),
    #[error("http status {0}")]
    Status(u16),
    #[error("malformed chunk size line")]
    BadChunkSize,
    #[error("chunk data not followed by CRLF")]
    BadChunkEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    /// Until close (no chunking).
    Raw,
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    /// The last chunk (size 0) arrived: trailers are ignored.
    Done,
}

/// Decodes one streamed HTTP/1.1 response.
#[derive(Debug)]
pub struct ResponseBodyDecoder {
    buffer: BytesMut,
    state: State,
}

impl Default for ResponseBodyDecoder {
    fn default() -> ResponseBodyDecoder {
        ResponseBodyDecoder { buffer: BytesMut::new(), state: State::Head }
    }
}

impl ResponseBodyDecoder {
    pub fn push(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// The head was read with status 200.
    pub fn head_done(&self) -> bool {
        self.state != State::Head
    }

    /// The chunked body ended with its last chunk.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The next piece of body; `Ok(None)` when more input is needed.
    pub fn next_body(&mut self) -> Result<Option<Bytes>, HttpBodyError> {
        loop {
            match self.state {
                State::Head => {
                    if !self.parse_head()? {
                        return Ok(None);
                    }
                }
                State::Raw => {
                    if self.buffer.is_empty() {
                        return Ok(None);
                    }
                    return Ok(Some(self.buffer.split().freeze()));
                }
                State::ChunkSize => {
                    let Some(line_end) = find_crlf(&self.buffer) else {
                        if self.buffer.len() > MAX_SIZE_LINE_LEN {
                            return Err(HttpBodyError::BadChunkSize);
                        }
                        return Ok(None);
                    };
                    let size = parse_chunk_size(&self.buffer[..line_end])?;
                    self.buffer.advance(line_end + 2);
                    self.state = if size == 0 { State::Done } else { State::ChunkData(size) };
                }
                State::ChunkData(remaining) => {
                    if self.buffer.is_empty() {
                        return Ok(None);
                    }
                    let take = remaining.min(self.buffer.len() as u64) as usize;
                    let piece = self.buffer.split_to(take).freeze();
                    let left = remaining - take as u64;
                    self.state = if left == 0 { State::ChunkEnd } else { State::ChunkData(left) };
                    return Ok(Some(piece));
                }
                State::ChunkEnd => {
                    if self.buffer.len() < 2 {
                        return Ok(None);
                    }
                    if &self.buffer[..2] != b"\r\n" {
                        return Err(HttpBodyError::BadChunkEnd);
                    }
                    self.buffer.advance(2);
                    self.state = State::ChunkSize;
                }
                State::Done => {
                    self.buffer.clear();
                    return Ok(None);
                }
            }
        }
    }

    /// Parses the head if complete; `Ok(false)` when more input is needed.
    fn parse_head(&mut self) -> Result<bool, HttpBodyError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(&self.buffer) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                if self.buffer.len() > MAX_HEAD_LEN {
                    return Err(HttpBodyError::HeadTooLarge);
                }
                return Ok(false);
            }
            Err(e) => return Err(HttpBodyError::BadHead(e.to_string())),
        };
        let status = response.code.unwrap_or(0);
        if status != 200 {
            return Err(HttpBodyError::Status(status));
        }
        let chunked = response.headers.iter().any(|h| {
            h.name.eq_ignore_ascii_case("transfer-encoding")
                && String::from_utf8_lossy(h.value).to_ascii_lowercase().contains("chunked")
        });
        self.buffer.advance(head_len);
        self.state = if chunked { State::ChunkSize } else { State::Raw };
        Ok(true)
    }
}

fn find_crlf(data: &[u8]) -> Option<usize> {
    data.windows(2).position(|w| w == b"\r\n")
}

/// The hexadecimal size before any `;extension`.
fn parse_chunk_size(line: &[u8]) -> Result<u64, HttpBodyError> {
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    let digits = std::str::from_utf8(digits).map_err(|_| HttpBodyError::BadChunkSize)?.trim();
    if digits.is_empty() || digits.len() > 15 {
        return Err(HttpBodyError::BadChunkSize);
    }
    u64::from_str_radix(digits, 16).map_err(|_| HttpBodyError::BadChunkSize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(decoder: &mut ResponseBodyDecoder) -> Vec<u8> {
        let mut body = Vec::new();
        while let Some(piece) = decoder.next_body().unwrap() {
            body.extend_from_slice(&piece);
        }
        body
    }

    const CHUNKED: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\n\
5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";

    #[test]
    fn chunked_body_in_one_piece() {
        let mut decoder = ResponseBodyDecoder::default();
        decoder.push(CHUNKED);
        assert_eq!(drain(&mut decoder), b"hello, world");
        assert!(decoder.is_done());
    }

    #[test]
    fn chunked_body_byte_by_byte() {
        let mut decoder = ResponseBodyDecoder::default();
        let mut body = Vec::new();
        for byte in CHUNKED {
            decoder.push(&[*byte]);
            body.extend(drain(&mut decoder));
        }
        assert_eq!(body, b"hello, world");
        assert!(decoder.is_done());
    }

    #[test]
    fn body_without_chunking_passes_through() {
        let mut decoder = ResponseBodyDecoder::default();
        decoder.push(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nFLV\x01");
        assert_eq!(drain(&mut decoder), b"FLV\x01");
        decoder.push(b"more");
        assert_eq!(drain(&mut decoder), b"more");
    }

    #[test]
    fn errors_are_typed() {
        let mut not_found = ResponseBodyDecoder::default();
        not_found.push(b"HTTP/1.1 404 Not Found\r\n\r\n");
        assert_eq!(not_found.next_body(), Err(HttpBodyError::Status(404)));

        let mut bad_size = ResponseBodyDecoder::default();
        bad_size.push(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        assert_eq!(bad_size.next_body(), Err(HttpBodyError::BadChunkSize));

        let mut bad_end = ResponseBodyDecoder::default();
        bad_end.push(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY");
        assert_eq!(bad_end.next_body(), Ok(Some(Bytes::from_static(b"a"))));
        assert_eq!(bad_end.next_body(), Err(HttpBodyError::BadChunkEnd));

        let mut huge = ResponseBodyDecoder::default();
        huge.push(b"HTTP/1.1 200 OK\r\n");
        huge.push(&vec![b'x'; MAX_HEAD_LEN + 1]);
        assert!(huge.next_body().is_err());
    }
}
