//! Script data tags: recognising onMetaData (bare, or wrapped in `@setDataFrame` as RTMP publishers
//! send it) and writing it, on top of `codec::amf0`.
//!
//! Other script tags (onCuePoint, onTextData ...) are recognised as "not metadata" and left to callers.

use bytes::Bytes;

use super::FlvError;
use crate::codec::amf0::{self, Amf0Value};

const SET_DATA_FRAME: &str = "@setDataFrame";
const ON_METADATA: &str = "onMetaData";
const AMF0_STRING_MARKER: u8 = 0x02;

/// The body from the `onMetaData` name on, without a leading `@setDataFrame`; `None` when the body is
/// another kind of script data. The body must decode as AMF0 in full.
pub fn unwrap_set_data_frame(body: Bytes) -> Result<Option<Bytes>, FlvError> {
    amf0::decode_all(&body)?;
    let mut rest = body;
    if leading_string(&rest) == Some(SET_DATA_FRAME) {
        // The marker, the 16-bit length and the 13 characters.
        rest = rest.slice(3 + SET_DATA_FRAME.len()..);
    }
    Ok((leading_string(&rest) == Some(ON_METADATA)).then_some(rest))
}

/// The metadata object (an object or ECMA array) of an onMetaData body, wrapped or not; `None` when the
/// body is another kind of script data.
pub fn on_metadata(body: &[u8]) -> Result<Option<Amf0Value>, FlvError> {
    let mut values = amf0::decode_all(body)?.into_iter().peekable();
    if values.peek().and_then(Amf0Value::as_str) == Some(SET_DATA_FRAME) {
        values.next();
    }
    if values.next().as_ref().and_then(Amf0Value::as_str) != Some(ON_METADATA) {
        return Ok(None);
    }
    Ok(values.next().filter(|object| object.entries().is_some()))
}

/// An onMetaData script tag body for `object`.
pub fn metadata_body(object: &Amf0Value) -> Bytes {
    amf0::encode_all(&[Amf0Value::string(ON_METADATA), object.clone()])
}

/// Where, in a body from `metadata_body_with_size_fields`, the 8 bytes of `duration` start.
pub const DURATION_VALUE_OFFSET: usize = 29;
/// Where, in a body from `metadata_body_with_size_fields`, the 8 bytes of `filesize` start.
pub const FILESIZE_VALUE_OFFSET: usize = 48;
const DURATION: &str = "duration";
const FILESIZE: &str = "filesize";

/// An onMetaData body whose ECMA array starts with `duration` and `filesize` (AMF0 numbers, so their
/// 8-byte doubles sit at `DURATION_VALUE_OFFSET` and `FILESIZE_VALUE_OFFSET` and a finished file can
/// patch them in place), followed by the entries of `others` but those two.
pub fn metadata_body_with_size_fields(duration_s: f64, filesize: f64, others: Option<&Amf0Value>) -> Bytes {
    let mut entries = vec![
        (DURATION.to_owned(), Amf0Value::Number(duration_s)),
        (FILESIZE.to_owned(), Amf0Value::Number(filesize)),
    ];
    let kept = others.and_then(Amf0Value::entries).unwrap_or_default();
    entries.extend(kept.iter().filter(|(key, _)| key != DURATION && key != FILESIZE).cloned());
    metadata_body(&Amf0Value::EcmaArray(entries))
}

/// An onMetaData body without `duration` and `filesize`: a later metadata tag must not contradict
/// the values the file's first one gets when the file is finished.
pub fn metadata_body_without_size_fields(object: &Amf0Value) -> Bytes {
    let kept = object.entries().unwrap_or_default();
    let entries = kept.iter().filter(|(key, _)| key != DURATION && key != FILESIZE).cloned().collect();
    metadata_body(&Amf0Value::EcmaArray(entries))
}

/// The AMF0 short string at the start of `data`, if there is one.
fn leading_string(data: &[u8]) -> Option<&str> {
    let (&marker, rest) = data.split_first()?;
    if marker != AMF0_STRING_MARKER || rest.len() < 2 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
    std::str::from_utf8(rest.get(2..2 + len)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_object() -> Amf0Value {
        Amf0Value::EcmaArray(vec![
            ("width".into(), Amf0Value::Number(320.0)),
            ("encoder".into(), Amf0Value::string("x")),
        ])
    }

    #[test]
    fn unwraps_set_data_frame_without_copying_the_rest() {
        let bare = metadata_body(&sample_object());
        let wrapped = amf0::encode_all(&[
            Amf0Value::string(SET_DATA_FRAME),
            Amf0Value::string(ON_METADATA),
            sample_object(),
        ]);
        let unwrapped = unwrap_set_data_frame(wrapped.clone()).unwrap().unwrap();
        assert_eq!(unwrapped, bare);
        assert_eq!(unwrapped.as_ptr(), wrapped[16..].as_ptr());
        assert_eq!(unwrap_set_data_frame(bare.clone()).unwrap(), Some(bare.clone()));
        let object = on_metadata(&wrapped).unwrap().unwrap();
        assert_eq!(object.get("width").and_then(Amf0Value::as_f64), Some(320.0));
        assert_eq!(on_metadata(&bare).unwrap(), Some(sample_object()));
    }

    #[test]
    fn size_fields_come_first_at_fixed_offsets() {
        let body = metadata_body_with_size_fields(0.0, 0.0, Some(&sample_object()));
        let mut patched = body.to_vec();
        patched[DURATION_VALUE_OFFSET..DURATION_VALUE_OFFSET + 8].copy_from_slice(&12.5f64.to_be_bytes());
        patched[FILESIZE_VALUE_OFFSET..FILESIZE_VALUE_OFFSET + 8].copy_from_slice(&4096f64.to_be_bytes());
        let object = on_metadata(&patched).unwrap().unwrap();
        let entries = object.entries().unwrap();
        assert_eq!(entries[0], ("duration".to_owned(), Amf0Value::Number(12.5)));
        assert_eq!(entries[1], ("filesize".to_owned(), Amf0Value::Number(4096.0)));
        assert_eq!(object.get("width").and_then(Amf0Value::as_f64), Some(320.0));
        // A source's own values are replaced, not repeated.
        let with_sizes = Amf0Value::EcmaArray(vec![
            ("duration".into(), Amf0Value::Number(0.0)),
            ("filesize".into(), Amf0Value::Number(0.0)),
            ("width".into(), Amf0Value::Number(320.0)),
        ]);
        let body = metadata_body_with_size_fields(1.0, 2.0, Some(&with_sizes));
        assert_eq!(on_metadata(&body).unwrap().unwrap().entries().unwrap().len(), 3);
        let later = on_metadata(&metadata_body_without_size_fields(&with_sizes)).unwrap().unwrap();
        assert_eq!(later.entries().unwrap().len(), 1);
    }

    #[test]
    fn other_script_data_is_not_metadata_and_garbage_is_an_error() {
        let cue = amf0::encode_all(&[Amf0Value::string("onCuePoint"), sample_object()]);
        assert_eq!(unwrap_set_data_frame(cue.clone()).unwrap(), None);
        assert_eq!(on_metadata(&cue).unwrap(), None);
        let garbage = Bytes::from_static(&[0x02, 0x00, 0x0a, b'o']);
        assert!(matches!(unwrap_set_data_frame(garbage), Err(FlvError::ScriptData(_))));
    }
}
