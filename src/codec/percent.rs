//! Percent-decoding of URL parts (RFC 3986 §2.1): request paths, query values, stream ids.

/// `%XX` escapes decoded; a malformed escape is kept as written and bytes that are not UTF-8
/// are replaced (a query value or a stream id, where a best effort beats refusing).
pub fn decode_lossy(text: &str) -> String {
    let bytes = decode(text, false).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `%XX` escapes decoded; `None` for a malformed escape or bytes that are not UTF-8 (a request
/// path, which must mean exactly one file).
pub fn decode_strict(text: &str) -> Option<String> {
    String::from_utf8(decode(text, true)?).ok()
}

fn decode(text: &str, strict: bool) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None if strict && bytes[i] == b'%' => return None,
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(decode_lossy("live/a%20b%26c"), "live/a b&c");
        assert_eq!(decode_strict("/live/%73.ts").as_deref(), Some("/live/s.ts"));
        assert_eq!(decode_lossy("%23!%3A%3Ar%3Dlive%2Fcam"), "#!::r=live/cam");
    }

    #[test]
    fn a_bad_escape_is_kept_or_refused() {
        assert_eq!(decode_lossy("a%zz%2"), "a%zz%2");
        assert_eq!(decode_lossy("%"), "%");
        assert_eq!(decode_strict("a%zz"), None);
        assert_eq!(decode_strict("a%2"), None);
        assert_eq!(decode_strict("%ff"), None, "not UTF-8");
        assert_eq!(decode_lossy("%ff"), "\u{fffd}");
    }
}
