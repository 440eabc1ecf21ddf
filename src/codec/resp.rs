//! RESP (Redis serialization protocol, version 2), the little of it an origin cluster's stream
//! directory needs: commands as arrays of bulk strings out, one reply in (simple string, error,
//! integer, bulk string or null). Sans-IO; a reply larger than `MAX_REPLY` is refused.

/// The largest reply accepted (a directory entry is an address).
pub const MAX_REPLY: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Simple(String),
    /// `-ERR ...`
    Error(String),
    Integer(i64),
    /// `$n` bytes
    Bulk(Vec<u8>),
    /// `$-1` (a missing key)
    Nil,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RespError {
    #[error("reply of type byte {0:#04x} is not supported")]
    UnsupportedType(u8),
    #[error("bad length or integer `{0}`")]
    BadNumber(String),
    #[error("reply over {MAX_REPLY} bytes")]
    TooLarge,
    #[error("bulk string not ended by CRLF")]
    BadTerminator,
}

/// A command as RESP: an array of bulk strings.
pub fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One reply from the start of `input`: `Ok(None)` when more bytes are needed, else the reply
/// and the bytes it took.
pub fn parse(input: &[u8]) -> Result<Option<(Reply, usize)>, RespError> {
    let Some(line_end) = input.windows(2).position(|w| w == b"\r\n") else {
        return if input.len() > MAX_REPLY { Err(RespError::TooLarge) } else { Ok(None) };
    };
    let Some((&kind, line)) = input[..line_end].split_first() else {
        return Err(RespError::UnsupportedType(b'\r'));
    };
    let text = String::from_utf8_lossy(line).into_owned();
    let after = line_end + 2;
    let reply = match kind {
        b'+' => Reply::Simple(text),
        b'-' => Reply::Error(text),
        b':' => Reply::Integer(text.parse().map_err(|_| RespError::BadNumber(text))?),
        b'$' => {
            let length: i64 = text.parse().map_err(|_| RespError::BadNumber(text.clone()))?;
            if length < 0 {
                return Ok(Some((Reply::Nil, after)));
            }
            let length = usize::try_from(length).map_err(|_| RespError::BadNumber(text))?;
            if length > MAX_REPLY {
                return Err(RespError::TooLarge);
            }
            if input.len() < after + length + 2 {
                return Ok(None);
            }
            if &input[after + length..after + length + 2] != b"\r\n" {
                return Err(RespError::BadTerminator);
            }
            return Ok(Some((Reply::Bulk(input[after..after + length].to_vec()), after + length + 2)));
        }
        other => return Err(RespError::UnsupportedType(other)),
    };
    Ok(Some((reply, after)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(encode(&["GET", "k"]), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    }

    #[test]
    fn replies_parse_whole_or_ask_for_more() {
        assert_eq!(parse(b"+OK\r\n").unwrap(), Some((Reply::Simple("OK".into()), 5)));
        assert_eq!(parse(b":1\r\n").unwrap(), Some((Reply::Integer(1), 4)));
        assert_eq!(parse(b"$-1\r\n").unwrap(), Some((Reply::Nil, 5)));
        assert_eq!(parse(b"$5\r\nhello\r\n+OK").unwrap(), Some((Reply::Bulk(b"hello".to_vec()), 11)));
        assert_eq!(parse(b"$5\r\nhel").unwrap(), None);
        assert_eq!(parse(b"-ERR wrong\r\n").unwrap(), Some((Reply::Error("ERR wrong".into()), 12)));
        assert_eq!(parse(b"+OK").unwrap(), None);
    }

    #[test]
    fn malformed_or_huge_replies_are_errors() {
        assert_eq!(parse(b"$99999\r\n"), Err(RespError::TooLarge));
        assert_eq!(parse(b"$2\r\nabcd"), Err(RespError::BadTerminator));
        assert!(matches!(parse(b"*1\r\n"), Err(RespError::UnsupportedType(b'*'))));
        assert!(matches!(parse(b":x\r\n"), Err(RespError::BadNumber(_))));
        assert_eq!(parse(&vec![b'a'; MAX_REPLY + 1]), Err(RespError::TooLarge));
    }
}
