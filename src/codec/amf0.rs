//! AMF0: the value encoding of RTMP commands and FLV script data.
//!
//! Decoding never panics on input: every malformed or truncated value is an `Amf0Error`.
//! Nesting depth and collection sizes are capped because a peer controls them.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

/// Deepest object nesting accepted from a peer.
const MAX_DEPTH: usize = 32;
/// Most entries accepted in one object or array from a peer.
const MAX_ENTRIES: usize = 65_536;

const NUMBER: u8 = 0x00;
const BOOLEAN: u8 = 0x01;
const STRING: u8 = 0x02;
const OBJECT: u8 = 0x03;
const NULL: u8 = 0x05;
const UNDEFINED: u8 = 0x06;
const REFERENCE: u8 = 0x07;
const ECMA_ARRAY: u8 = 0x08;
const OBJECT_END: u8 = 0x09;
const STRICT_ARRAY: u8 = 0x0a;
const DATE: u8 = 0x0b;
const LONG_STRING: u8 = 0x0c;
const UNSUPPORTED: u8 = 0x0d;
const XML_DOCUMENT: u8 = 0x0f;
const TYPED_OBJECT: u8 = 0x10;
const AVMPLUS: u8 = 0x11;

/// One AMF0 value. Objects keep their key order, which some clients depend on.
#[derive(Debug, Clone, PartialEq)]
pub enum Amf0Value {
    Number(f64),
    Boolean(bool),
    String(String),
    Object(Vec<(String, Amf0Value)>),
    Null,
    Undefined,
    EcmaArray(Vec<(String, Amf0Value)>),
    StrictArray(Vec<Amf0Value>),
    /// Milliseconds since the epoch; the time-zone field is ignored as the spec says.
    Date(f64),
    /// An AMF3 value switched to with the AVM+ marker, kept raw (only read, never interpreted).
    Avmplus(Bytes),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Amf0Error {
    #[error("amf0 truncated at byte {0}")]
    Truncated(usize),
    #[error("amf0 unknown type marker {marker:#04x} at byte {offset}")]
    UnknownMarker { marker: u8, offset: usize },
    #[error("amf0 nesting deeper than {MAX_DEPTH} at byte {0}")]
    TooDeep(usize),
    #[error("amf0 collection of {count} entries at byte {offset} exceeds the limit")]
    TooLarge { count: usize, offset: usize },
    #[error("amf0 string is not utf-8 at byte {0}")]
    NotUtf8(usize),
}

impl Amf0Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf0Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Amf0Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// Entries of an object or ECMA array.
    pub fn entries(&self) -> Option<&[(String, Amf0Value)]> {
        match self {
            Amf0Value::Object(e) | Amf0Value::EcmaArray(e) => Some(e),
            _ => None,
        }
    }

    /// Field `key` of an object or ECMA array.
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        self.entries()?.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn object<'a>(entries: impl IntoIterator<Item = (&'a str, Amf0Value)>) -> Amf0Value {
        Amf0Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    pub fn string(s: impl Into<String>) -> Amf0Value {
        Amf0Value::String(s.into())
    }

    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            Amf0Value::Number(n) => {
                out.put_u8(NUMBER);
                out.put_f64(*n);
            }
            Amf0Value::Boolean(b) => {
                out.put_u8(BOOLEAN);
                out.put_u8(u8::from(*b));
            }
            Amf0Value::String(s) if s.len() > usize::from(u16::MAX) => {
                out.put_u8(LONG_STRING);
                out.put_u32(s.len() as u32);
                out.put_slice(s.as_bytes());
            }
            Amf0Value::String(s) => {
                out.put_u8(STRING);
                put_short_string(out, s);
            }
            Amf0Value::Object(entries) => {
                out.put_u8(OBJECT);
                put_entries(out, entries);
            }
            Amf0Value::Null => out.put_u8(NULL),
            Amf0Value::Undefined => out.put_u8(UNDEFINED),
            Amf0Value::EcmaArray(entries) => {
                out.put_u8(ECMA_ARRAY);
                out.put_u32(entries.len() as u32);
                put_entries(out, entries);
            }
            Amf0Value::StrictArray(values) => {
                out.put_u8(STRICT_ARRAY);
                out.put_u32(values.len() as u32);
                for v in values {
                    v.encode(out);
                }
            }
            Amf0Value::Date(ms) => {
                out.put_u8(DATE);
                out.put_f64(*ms);
                out.put_i16(0);
            }
            Amf0Value::Avmplus(raw) => {
                out.put_u8(AVMPLUS);
                out.put_slice(raw);
            }
        }
    }
}

impl fmt::Display for Amf0Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amf0Value::Number(n) => write!(f, "{n}"),
            Amf0Value::Boolean(b) => write!(f, "{b}"),
            Amf0Value::String(s) => write!(f, "{s:?}"),
            Amf0Value::Null => f.write_str("null"),
            Amf0Value::Undefined => f.write_str("undefined"),
            Amf0Value::Date(ms) => write!(f, "date({ms})"),
            Amf0Value::Avmplus(raw) => write!(f, "amf3({} bytes)", raw.len()),
            Amf0Value::StrictArray(values) => {
                f.write_str("[")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Amf0Value::Object(entries) | Amf0Value::EcmaArray(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

fn put_short_string(out: &mut BytesMut, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(usize::from(u16::MAX))];
    out.put_u16(bytes.len() as u16);
    out.put_slice(bytes);
}

fn put_entries(out: &mut BytesMut, entries: &[(String, Amf0Value)]) {
    for (k, v) in entries {
        put_short_string(out, k);
        v.encode(out);
    }
    out.put_u16(0);
    out.put_u8(OBJECT_END);
}

/// Encodes a sequence of values, as an RTMP command or an FLV script tag body.
pub fn encode_all(values: &[Amf0Value]) -> Bytes {
    let mut out = BytesMut::with_capacity(128);
    for v in values {
        v.encode(&mut out);
    }
    out.freeze()
}

/// Decodes every value in `data`.
pub fn decode_all(data: &[u8]) -> Result<Vec<Amf0Value>, Amf0Error> {
    let mut reader = Reader { data, pos: 0 };
    let mut values = Vec::new();
    while reader.pos < data.len() {
        values.push(reader.value(0)?);
    }
    Ok(values)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Amf0Error> {
        let end = self.pos.checked_add(n).filter(|end| *end <= self.data.len());
        let end = end.ok_or(Amf0Error::Truncated(self.pos))?;
        let slice = &self.data[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, Amf0Error> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, Amf0Error> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, Amf0Error> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f64(&mut self) -> Result<f64, Amf0Error> {
        let b = self.take(8)?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(b);
        Ok(f64::from_be_bytes(raw))
    }

    fn utf8(&mut self, len: usize) -> Result<String, Amf0Error> {
        let at = self.pos;
        let raw = self.take(len)?;
        String::from_utf8(raw.to_vec()).map_err(|_| Amf0Error::NotUtf8(at))
    }

    fn short_string(&mut self) -> Result<String, Amf0Error> {
        let len = usize::from(self.u16()?);
        self.utf8(len)
    }

    fn value(&mut self, depth: usize) -> Result<Amf0Value, Amf0Error> {
        if depth > MAX_DEPTH {
            return Err(Amf0Error::TooDeep(self.pos));
        }
        let offset = self.pos;
        let marker = self.u8()?;
        Ok(match marker {
            NUMBER => Amf0Value::Number(self.f64()?),
            BOOLEAN => Amf0Value::Boolean(self.u8()? != 0),
            STRING => Amf0Value::String(self.short_string()?),
            LONG_STRING | XML_DOCUMENT => {
                let len = self.u32()? as usize;
                Amf0Value::String(self.utf8(len)?)
            }
            OBJECT => Amf0Value::Object(self.entries(depth)?),
            TYPED_OBJECT => {
                let _class_name = self.short_string()?;
                Amf0Value::Object(self.entries(depth)?)
            }
            NULL => Amf0Value::Null,
            UNDEFINED | UNSUPPORTED => Amf0Value::Undefined,
            REFERENCE => {
                // References point back into the same message; we do not resolve them.
                self.u16()?;
                Amf0Value::Undefined
            }
            ECMA_ARRAY => {
                // The count is a hint only: the array ends with the object-end marker.
                self.u32()?;
                Amf0Value::EcmaArray(self.entries(depth)?)
            }
            STRICT_ARRAY => {
                let count = self.u32()? as usize;
                if count > MAX_ENTRIES {
                    return Err(Amf0Error::TooLarge { count, offset });
                }
                let mut values = Vec::with_capacity(count.min(1024));
                for _ in 0..count {
                    values.push(self.value(depth + 1)?);
                }
                Amf0Value::StrictArray(values)
            }
            DATE => {
                let ms = self.f64()?;
                self.u16()?;
                Amf0Value::Date(ms)
            }
            AVMPLUS => {
                let rest = self.take(self.data.len() - self.pos)?;
                Amf0Value::Avmplus(Bytes::copy_from_slice(rest))
            }
            marker => return Err(Amf0Error::UnknownMarker { marker, offset }),
        })
    }

    fn entries(&mut self, depth: usize) -> Result<Vec<(String, Amf0Value)>, Amf0Error> {
        let mut entries = Vec::new();
        loop {
            let offset = self.pos;
            let key = self.short_string()?;
            if key.is_empty() {
                // Some encoders end an object with an empty key but no end marker at the very end of data.
                if self.pos == self.data.len() {
                    return Ok(entries);
                }
                if self.data[self.pos] == OBJECT_END {
                    self.pos += 1;
                    return Ok(entries);
                }
            }
            if entries.len() >= MAX_ENTRIES {
                return Err(Amf0Error::TooLarge { count: entries.len(), offset });
            }
            let value = self.value(depth + 1)?;
            entries.push((key, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect_command() -> Vec<Amf0Value> {
        vec![
            Amf0Value::string("connect"),
            Amf0Value::Number(1.0),
            Amf0Value::object([
                ("app", Amf0Value::string("live")),
                ("tcUrl", Amf0Value::string("rtmp://127.0.0.1:1935/live")),
                ("fpad", Amf0Value::Boolean(false)),
                ("audioCodecs", Amf0Value::Number(4071.0)),
            ]),
        ]
    }

    #[test]
    fn round_trips_a_connect_command() {
        let values = connect_command();
        let bytes = encode_all(&values);
        assert_eq!(decode_all(&bytes).unwrap(), values);
        assert_eq!(values[2].get("app").and_then(Amf0Value::as_str), Some("live"));
    }

    #[test]
    fn reads_bytes_as_ffmpeg_writes_them() {
        // "onMetaData" then an ECMA array {duration: 10.0}, as in an ffmpeg-made FLV.
        let mut raw = vec![0x02, 0x00, 0x0a];
        raw.extend_from_slice(b"onMetaData");
        raw.extend_from_slice(&[0x08, 0, 0, 0, 1, 0x00, 0x08]);
        raw.extend_from_slice(b"duration");
        raw.push(0x00);
        raw.extend_from_slice(&10.0f64.to_be_bytes());
        raw.extend_from_slice(&[0, 0, 0x09]);
        let values = decode_all(&raw).unwrap();
        assert_eq!(values[0].as_str(), Some("onMetaData"));
        assert_eq!(values[1].get("duration").and_then(Amf0Value::as_f64), Some(10.0));
    }

    #[test]
    fn truncation_and_garbage_are_errors_not_panics() {
        let bytes = encode_all(&connect_command());
        for cut in 0..bytes.len() {
            let _ = decode_all(&bytes[..cut]);
        }
        assert!(matches!(decode_all(&bytes[..5]), Err(Amf0Error::Truncated(_))));
        assert!(matches!(decode_all(&[0x42]), Err(Amf0Error::UnknownMarker { marker: 0x42, offset: 0 })));
        let deep = [STRICT_ARRAY, 0, 0, 0, 1].repeat(100);
        assert!(matches!(decode_all(&deep), Err(Amf0Error::TooDeep(_))));
        let mut rng = crate::codec::xorshift::XorShift::new(0x2545_f491_4f6c_dd1d);
        for _ in 0..2000 {
            let mut mutated = bytes.to_vec();
            let seed = rng.next_u64();
            let at = (seed as usize) % mutated.len();
            mutated[at] = (seed >> 32) as u8;
            let _ = decode_all(&mutated);
        }
    }
}
