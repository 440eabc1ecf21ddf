//! SRT stream ids as SRS reads them: what a caller wants (publish or play) and which stream.
//!
//! Two spellings reach a server. The access-control form `#!::key=value,...` (SRT's
//! AccessControl.md, used by OBS and ffmpeg users) with the keys `r` (resource: `app/stream`),
//! `h` (host: the vhost), `m` (mode: `publish` or `request`), `u` (user), `s` (session id);
//! any other key is kept as a parameter, and a `?` is read as a `,` (SRS accepts
//! `#!::r=live/livestream?secret=x,m=publish`). SRS's older form put the path in `h`
//! (`#!::h=live/livestream` or `#!::h=vhost/live/livestream`); it still works. The plain form
//! is the path itself (`live/livestream`, `livestream`, `live/livestream?vhost=v`).
//!
//! SRS's rules: the mode is `request` (play) unless `m=publish`; a path without `/` gets the
//! `default_app` (SRS `srt_server.default_app`, `live`). One deliberate difference: the app is
//! everything before the *last* `/` (SRS cuts at the first), so `a/b/stream` names the same
//! stream over SRT as over HTTP-FLV and RTMP here. Pure text in, values out: no I/O.

use std::fmt;

/// The longest stream id SRT carries (SRTO_STREAMID is limited to 512 bytes).
pub const MAX_STREAM_ID_LEN: usize = 512;

/// What the caller does with the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrtMode {
    /// `m=request` or no mode: the caller plays.
    Request,
    /// `m=publish`: the caller sends media.
    Publish,
}

impl fmt::Display for SrtMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SrtMode::Request => "request",
            SrtMode::Publish => "publish",
        })
    }
}

/// A parsed stream id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtStreamId {
    pub mode: SrtMode,
    /// The vhost the caller names (`h=`, the legacy `h=vhost/app/stream`, or `?vhost=`), if any.
    pub vhost: Option<String>,
    pub app: String,
    pub stream: String,
    /// `u=`: the user name, for hooks and access control.
    pub user: Option<String>,
    /// `s=`: the session id.
    pub session: Option<String>,
    /// Every other `key=value`, in order (SRS passes them on as the stream's query string).
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamIdError {
    #[error("stream id is {len} bytes, more than the {MAX_STREAM_ID_LEN} SRT allows")]
    TooLong { len: usize },
    #[error("stream id `{0}` names no stream (write `#!::r=app/stream,m=publish` or `app/stream`)")]
    NoStream(String),
    #[error("stream id mode `m={0}` is neither `publish` nor `request`")]
    UnknownMode(String),
}

/// The marker of SRT's access-control syntax.
const ACCESS_CONTROL_PREFIX: &str = "#!::";

impl SrtStreamId {
    /// Parses `text` with SRS's rules; `default_app` is used when the path has no `/`.
    pub fn parse(text: &str, default_app: &str) -> Result<SrtStreamId, StreamIdError> {
        if text.len() > MAX_STREAM_ID_LEN {
            return Err(StreamIdError::TooLong { len: text.len() });
        }
        let mut id = SrtStreamId {
            mode: SrtMode::Request,
            vhost: None,
            app: String::new(),
            stream: String::new(),
            user: None,
            session: None,
            params: Vec::new(),
        };
        let path = match text.strip_prefix(ACCESS_CONTROL_PREFIX) {
            Some(pairs) => id.read_pairs(pairs)?,
            None => id.read_plain(text),
        };
        let (app, stream) = match path.rsplit_once('/') {
            Some((app, stream)) => (app.trim_matches('/'), stream),
            None => (default_app, path.as_str()),
        };
        if app.is_empty() || stream.is_empty() {
            return Err(StreamIdError::NoStream(text.to_owned()));
        }
        id.app = app.to_owned();
        id.stream = stream.to_owned();
        if id.vhost.is_none() {
            id.vhost = id.params.iter().find(|(k, _)| k == "vhost").map(|(_, v)| v.clone());
        }
        Ok(id)
    }

    /// The plain form: the path, with an optional `?query`; returns the path.
    fn read_plain(&mut self, text: &str) -> String {
        let (path, query) = text.split_once('?').unwrap_or((text, ""));
        self.params = split_pairs(query).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        path.to_owned()
    }

    /// The `#!::` form's pairs; returns the path they name.
    fn read_pairs(&mut self, pairs: &str) -> Result<String, StreamIdError> {
        let pairs = pairs.replace('?', ",");
        let mut path = String::new();
        for (key, value) in split_pairs(&pairs) {
            match key {
                "h" => match value.split_once('/') {
                    // SRS's older form: the path in `h`, with the vhost in front when there are two slashes.
                    Some((vhost, rest)) if rest.contains('/') => {
                        self.vhost = Some(vhost.to_owned());
                        path = rest.to_owned();
                    }
                    Some(_) => path = value.to_owned(),
                    None => self.vhost = Some(value.to_owned()),
                },
                "r" => path = value.to_owned(),
                "m" => {
                    self.mode = match value.to_ascii_lowercase().as_str() {
                        "publish" => SrtMode::Publish,
                        "request" => SrtMode::Request,
                        _ => return Err(StreamIdError::UnknownMode(value.to_owned())),
                    }
                }
                "u" => self.user = Some(value.to_owned()),
                "s" => self.session = Some(value.to_owned()),
                _ => self.params.push((key.to_owned(), value.to_owned())),
            }
        }
        Ok(path)
    }
}

/// `k=v` items separated by `,`, `&` or `;` (SRS's query separators); empty items are skipped
/// and an item without `=` is a key with an empty value.
fn split_pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split([',', '&', ';'])
        .filter(|item| !item.is_empty())
        .map(|item| item.split_once('=').unwrap_or((item, "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> SrtStreamId {
        SrtStreamId::parse(text, "live").unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn key(id: &SrtStreamId) -> (SrtMode, Option<&str>, &str, &str) {
        (id.mode, id.vhost.as_deref(), id.app.as_str(), id.stream.as_str())
    }

    #[test]
    fn access_control_form_with_resource_and_mode() {
        let id = parse("#!::r=live/livestream,m=publish");
        assert_eq!(key(&id), (SrtMode::Publish, None, "live", "livestream"));
        let id = parse("#!::h=srs.srt.com.cn,r=live/livestream,m=request");
        assert_eq!(key(&id), (SrtMode::Request, Some("srs.srt.com.cn"), "live", "livestream"));
        assert_eq!(parse("#!::r=live/livestream,m=PUBLISH").mode, SrtMode::Publish);
    }

    #[test]
    fn mode_defaults_to_request() {
        assert_eq!(parse("#!::r=live/livestream").mode, SrtMode::Request);
        assert_eq!(parse("live/livestream").mode, SrtMode::Request);
        assert_eq!(parse("livestream").mode, SrtMode::Request);
    }

    #[test]
    fn user_session_and_other_keys() {
        let id = parse("#!::u=alice,r=live/cam,s=abc123,m=publish,t=stream,secret=x");
        assert_eq!(key(&id), (SrtMode::Publish, None, "live", "cam"));
        assert_eq!(id.user.as_deref(), Some("alice"));
        assert_eq!(id.session.as_deref(), Some("abc123"));
        assert_eq!(id.params, vec![("t".into(), "stream".into()), ("secret".into(), "x".into())]);
    }

    #[test]
    fn question_mark_in_the_resource_starts_parameters() {
        let id = parse("#!::r=live/livestream?secret=xxx,m=publish");
        assert_eq!(key(&id), (SrtMode::Publish, None, "live", "livestream"));
        assert_eq!(id.params, vec![("secret".into(), "xxx".into())]);
    }

    #[test]
    fn legacy_path_in_host_key() {
        let id = parse("#!::h=live/livestream,m=publish");
        assert_eq!(key(&id), (SrtMode::Publish, None, "live", "livestream"));
        let id = parse("#!::h=srs.srt.com.cn/live/livestream,m=request");
        assert_eq!(key(&id), (SrtMode::Request, Some("srs.srt.com.cn"), "live", "livestream"));
    }

    #[test]
    fn plain_form_and_the_default_app() {
        assert_eq!(key(&parse("live/livestream")), (SrtMode::Request, None, "live", "livestream"));
        assert_eq!(key(&parse("livestream")), (SrtMode::Request, None, "live", "livestream"));
        let id = SrtStreamId::parse("cam1", "studio").unwrap();
        assert_eq!((id.app.as_str(), id.stream.as_str()), ("studio", "cam1"));
        let id = SrtStreamId::parse("#!::r=cam1,m=publish", "studio").unwrap();
        assert_eq!((id.app.as_str(), id.stream.as_str()), ("studio", "cam1"));
        let id = parse("live/livestream?vhost=v.example.com&token=1");
        assert_eq!(key(&id), (SrtMode::Request, Some("v.example.com"), "live", "livestream"));
        assert_eq!(id.params.len(), 2);
    }

    #[test]
    fn app_is_everything_before_the_last_slash() {
        let id = parse("#!::r=a/b/stream,m=publish");
        assert_eq!((id.app.as_str(), id.stream.as_str()), ("a/b", "stream"));
    }

    #[test]
    fn bad_ids_are_typed_errors() {
        let err = |text: &str| SrtStreamId::parse(text, "live").unwrap_err();
        assert_eq!(err("#!::m=publish"), StreamIdError::NoStream("#!::m=publish".into()));
        assert_eq!(err(""), StreamIdError::NoStream(String::new()));
        assert_eq!(err("live/"), StreamIdError::NoStream("live/".into()));
        assert_eq!(err("#!::r=live/x,m=play"), StreamIdError::UnknownMode("play".into()));
        assert!(matches!(err(&"a".repeat(600)), StreamIdError::TooLong { len: 600 }));
        assert!(err("#!::r=live/x,m=play").to_string().contains("m=play"));
    }
}
