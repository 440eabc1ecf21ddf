//! SIP messages (RFC 3261 §7): start line, headers, body; parsed from a TCP byte stream or a UDP
//! datagram, written back. Limits bound what a peer can make us hold: head size, header count,
//! Content-Length; a body must be complete (a datagram whose Content-Length runs past it is an
//! error, not a wait).

use bytes::{BufMut, Bytes, BytesMut};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipError {
    #[error("sip head over {limit} bytes")]
    HeadTooLarge { limit: usize },
    #[error("more than {limit} sip headers")]
    TooManyHeaders { limit: usize },
    #[error("sip body of {len} bytes over the {limit}-byte cap")]
    BodyTooLarge { len: usize, limit: usize },
    #[error("sip Content-Length {len} runs past the datagram ({available} bytes)")]
    BodyIncomplete { len: usize, available: usize },
    #[error("malformed sip start line")]
    StartLine,
    #[error("malformed sip header line")]
    HeaderLine,
    #[error("sip head is not text")]
    NotText,
    #[error("missing sip header {0}")]
    MissingHeader(&'static str),
    #[error("malformed sip header {0}")]
    BadHeader(&'static str),
}

/// Bounds on one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipLimits {
    pub max_head: usize,
    pub max_headers: usize,
    pub max_body: usize,
}

impl Default for SipLimits {
    fn default() -> Self {
        SipLimits { max_head: 8 * 1024, max_headers: 64, max_body: 64 * 1024 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { code: u16, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipMessage {
    pub start: StartLine,
    /// In order, names as received (lookups are case-insensitive and know the compact forms).
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// RFC 3261 §7.3.3 compact header names.
fn full_name(name: &str) -> &str {
    match name.to_ascii_lowercase().as_str() {
        "v" => "via",
        "f" => "from",
        "t" => "to",
        "i" => "call-id",
        "m" => "contact",
        "l" => "content-length",
        "c" => "content-type",
        "s" => "subject",
        _ => name,
    }
}

fn same_header(a: &str, b: &str) -> bool {
    full_name(a).eq_ignore_ascii_case(full_name(b))
}

impl SipMessage {
    pub fn request(method: &str, uri: &str) -> SipMessage {
        SipMessage {
            start: StartLine::Request { method: method.into(), uri: uri.into() },
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A response to `request` copying what RFC 3261 §8.2.6.2 says to copy (Via, From, To,
    /// Call-ID, CSeq).
    pub fn response_to(request: &SipMessage, code: u16, reason: &str) -> SipMessage {
        let mut response = SipMessage {
            start: StartLine::Response { code, reason: reason.into() },
            headers: Vec::new(),
            body: Bytes::new(),
        };
        for (name, value) in &request.headers {
            if ["via", "from", "to", "call-id", "cseq"].iter().any(|n| same_header(name, n)) {
                response.headers.push((full_name(name).to_owned(), value.clone()));
            }
        }
        response
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// The first header of that name (compact forms included).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| same_header(n, name)).map(|(_, v)| v.as_str())
    }

    /// The first header of that name, or the error naming it.
    pub fn require(&self, name: &'static str) -> Result<&str, SipError> {
        self.header(name).ok_or(SipError::MissingHeader(name))
    }

    pub fn push_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.push((name.to_owned(), value.into()));
    }

    /// Replaces every header of that name with one.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(n, _)| !same_header(n, name));
        self.push_header(name, value);
    }

    /// The message's bytes; Content-Length is written from the body.
    pub fn write(&self, out: &mut BytesMut) {
        match &self.start {
            StartLine::Request { method, uri } => {
                out.put_slice(format!("{method} {uri} SIP/2.0\r\n").as_bytes())
            }
            StartLine::Response { code, reason } => {
                out.put_slice(format!("SIP/2.0 {code} {reason}\r\n").as_bytes())
            }
        }
        for (name, value) in &self.headers {
            if same_header(name, "content-length") {
                continue;
            }
            out.put_slice(name.as_bytes());
            out.put_slice(b": ");
            out.put_slice(value.as_bytes());
            out.put_slice(b"\r\n");
        }
        out.put_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
        out.put_slice(&self.body);
    }

    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.write(&mut out);
        out.freeze()
    }
}

/// Parses one message from a datagram (leading CRLF keep-alives skipped).
pub fn parse_datagram(data: &[u8], limits: &SipLimits) -> Result<SipMessage, SipError> {
    let data = skip_keepalives(data);
    let Some(head_end) = memchr::memmem::find(data, b"\r\n\r\n") else {
        return Err(if data.len() > limits.max_head {
            SipError::HeadTooLarge { limit: limits.max_head }
        } else {
            SipError::StartLine
        });
    };
    let (mut message, body_len) = parse_head(&data[..head_end], limits)?;
    let body = &data[head_end + 4..];
    if body_len > body.len() {
        return Err(SipError::BodyIncomplete { len: body_len, available: body.len() });
    }
    message.body = Bytes::copy_from_slice(&body[..body_len]);
    Ok(message)
}

fn skip_keepalives(data: &[u8]) -> &[u8] {
    let start = data.iter().position(|b| *b != b'\r' && *b != b'\n').unwrap_or(data.len());
    &data[start..]
}

/// Parses the head (without the blank line); returns the message and its Content-Length.
fn parse_head(head: &[u8], limits: &SipLimits) -> Result<(SipMessage, usize), SipError> {
    if head.len() > limits.max_head {
        return Err(SipError::HeadTooLarge { limit: limits.max_head });
    }
    let text = std::str::from_utf8(head).map_err(|_| SipError::NotText)?;
    // A bare CR or LF (or another control byte) inside a line: a peer's value copied into a
    // message of ours would end its line early for the many stacks that accept bare LF.
    if text.split("\r\n").any(|line| line.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)) {
        return Err(SipError::HeaderLine);
    }
    let mut lines = text.split("\r\n");
    let start = parse_start_line(lines.next().unwrap_or_default())?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // Folded continuation of the previous header.
            let Some((_, value)) = headers.last_mut() else { return Err(SipError::HeaderLine) };
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line.split_once(':').ok_or(SipError::HeaderLine)?;
        let name = name.trim();
        if name.is_empty() || name.contains(' ') {
            return Err(SipError::HeaderLine);
        }
        if headers.len() == limits.max_headers {
            return Err(SipError::TooManyHeaders { limit: limits.max_headers });
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let message = SipMessage { start, headers, body: Bytes::new() };
    let body_len = match message.header("content-length") {
        Some(len) => len.trim().parse::<usize>().map_err(|_| SipError::BadHeader("Content-Length"))?,
        None => 0,
    };
    if body_len > limits.max_body {
        return Err(SipError::BodyTooLarge { len: body_len, limit: limits.max_body });
    }
    Ok((message, body_len))
}

fn parse_start_line(line: &str) -> Result<StartLine, SipError> {
    let mut parts = line.splitn(3, ' ');
    let (first, second, third) = (parts.next(), parts.next(), parts.next());
    match (first, second, third) {
        (Some("SIP/2.0"), Some(code), reason) => {
            let code = code.parse::<u16>().map_err(|_| SipError::StartLine)?;
            if !(100..700).contains(&code) {
                return Err(SipError::StartLine);
            }
            Ok(StartLine::Response { code, reason: reason.unwrap_or_default().to_owned() })
        }
        (Some(method), Some(uri), Some("SIP/2.0"))
            if !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase()) =>
        {
            Ok(StartLine::Request { method: method.to_owned(), uri: uri.to_owned() })
        }
        _ => Err(SipError::StartLine),
    }
}

/// Cuts SIP messages out of a TCP byte stream.
#[derive(Debug, Default)]
pub struct SipStreamParser {
    buffer: BytesMut,
    limits: SipLimits,
}

impl SipStreamParser {
    pub fn new(limits: SipLimits) -> SipStreamParser {
        SipStreamParser { buffer: BytesMut::new(), limits }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// The next whole message, `None` when more bytes are needed; an error means the stream
    /// cannot be trusted any more (close the connection).
    pub fn next_message(&mut self) -> Option<Result<SipMessage, SipError>> {
        let skip = self.buffer.len() - skip_keepalives(&self.buffer).len();
        let _ = self.buffer.split_to(skip);
        let head_end = memchr::memmem::find(&self.buffer, b"\r\n\r\n");
        // A head is text: control bytes mean this is not SIP, however long the wait would be.
        let head = &self.buffer[..head_end.unwrap_or(self.buffer.len()).min(self.limits.max_head + 4)];
        if head.iter().any(|b| *b < 0x20 && !matches!(b, b'\r' | b'\n' | b'\t')) {
            return Some(Err(SipError::NotText));
        }
        let Some(head_end) = head_end else {
            return (self.buffer.len() > self.limits.max_head)
                .then_some(Err(SipError::HeadTooLarge { limit: self.limits.max_head }));
        };
        let (mut message, body_len) = match parse_head(&self.buffer[..head_end], &self.limits) {
            Ok(parsed) => parsed,
            Err(error) => return Some(Err(error)),
        };
        if self.buffer.len() < head_end + 4 + body_len {
            return None;
        }
        let _ = self.buffer.split_to(head_end + 4);
        message.body = self.buffer.split_to(body_len).freeze();
        Some(Ok(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTER: &str = "REGISTER sip:34020000002000000001@3402000000 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.168.1.64:5060;rport;branch=z9hG4bK1371463273\r\n\
        From: <sip:34020000001320000001@3402000000>;tag=2043466181\r\n\
        To: <sip:34020000001320000001@3402000000>\r\n\
        Call-ID: 1011047669\r\n\
        CSeq: 1 REGISTER\r\n\
        Contact: <sip:34020000001320000001@192.168.1.64:5060>\r\n\
        Max-Forwards: 70\r\n\
        Expires: 3600\r\n\
        Content-Length: 0\r\n\r\n";

    #[test]
    fn parses_a_register_and_writes_a_response_copying_the_dialog_headers() {
        let message = parse_datagram(REGISTER.as_bytes(), &SipLimits::default()).unwrap();
        assert_eq!(message.method(), Some("REGISTER"));
        assert_eq!(message.header("i"), Some("1011047669"));
        assert_eq!(message.header("expires"), Some("3600"));
        let response = SipMessage::response_to(&message, 200, "OK");
        let text = String::from_utf8(response.to_bytes().to_vec()).unwrap();
        assert!(text.starts_with("SIP/2.0 200 OK\r\n"));
        assert!(text.contains("CSeq: 1 REGISTER\r\n"));
        assert!(text.ends_with("Content-Length: 0\r\n\r\n"));
        let again = parse_datagram(text.as_bytes(), &SipLimits::default()).unwrap();
        assert_eq!(again.status(), Some(200));
    }

    #[test]
    fn stream_parser_cuts_messages_with_bodies_at_any_chunking() {
        let mut message = SipMessage::request("MESSAGE", "sip:x@y");
        message.push_header("Call-ID", "1");
        message.body = Bytes::from_static(b"<?xml version=\"1.0\"?><Notify/>");
        let mut wire = b"\r\n\r\n".to_vec();
        wire.extend_from_slice(&message.to_bytes());
        wire.extend_from_slice(REGISTER.as_bytes());
        let mut parser = SipStreamParser::default();
        let mut parsed = Vec::new();
        for byte in &wire {
            parser.push(std::slice::from_ref(byte));
            while let Some(result) = parser.next_message() {
                parsed.push(result.unwrap());
            }
        }
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].body, message.body);
        assert_eq!(parsed[1].method(), Some("REGISTER"));
    }

    #[test]
    fn limits_and_lies_are_errors() {
        let limits = SipLimits::default();
        let lying = REGISTER.replace("Content-Length: 0", "Content-Length: 50");
        assert!(matches!(
            parse_datagram(lying.as_bytes(), &limits),
            Err(SipError::BodyIncomplete { len: 50, .. })
        ));
        let huge = REGISTER.replace("Content-Length: 0", "Content-Length: 999999999");
        assert!(matches!(parse_datagram(huge.as_bytes(), &limits), Err(SipError::BodyTooLarge { .. })));
        let many = REGISTER.replace("Max-Forwards: 70\r\n", &"X-A: 1\r\n".repeat(70));
        assert!(matches!(parse_datagram(many.as_bytes(), &limits), Err(SipError::TooManyHeaders { .. })));
        assert_eq!(parse_datagram(b"garbage\r\n\r\n", &limits), Err(SipError::StartLine));
        let bare_lf = REGISTER.replace("Call-ID: ", "Call-ID: 1\nVia: SIP/2.0/UDP evil;x=");
        assert_eq!(
            parse_datagram(bare_lf.as_bytes(), &limits),
            Err(SipError::HeaderLine),
            "no header hides in a value"
        );
        let nul = REGISTER.replace("Call-ID: ", "Call-ID: \0");
        assert_eq!(parse_datagram(nul.as_bytes(), &limits), Err(SipError::HeaderLine));
        let mut parser = SipStreamParser::default();
        parser.push(&vec![b'a'; 9000]);
        assert!(matches!(parser.next_message(), Some(Err(SipError::HeadTooLarge { .. }))));
        let mut parser = SipStreamParser::default();
        parser.push(b"REGISTER sip:x\x00\x01");
        assert_eq!(
            parser.next_message(),
            Some(Err(SipError::NotText)),
            "binary is refused before the head ends"
        );
    }
}
