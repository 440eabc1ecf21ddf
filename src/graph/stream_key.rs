//! `StreamKey`: the identity of a live stream, `vhost/app/stream`, as SRS names it.

use std::fmt;

/// SRS's name for the vhost used when a request names none (or one without a block).
pub const DEFAULT_VHOST: &str = "__defaultVhost__";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    pub vhost: String,
    pub app: String,
    pub stream: String,
}

impl StreamKey {
    pub fn new(vhost: impl Into<String>, app: impl Into<String>, stream: impl Into<String>) -> StreamKey {
        StreamKey { vhost: vhost.into(), app: app.into(), stream: stream.into() }
    }

    /// Parses `app/stream` or `vhost/app/stream`; the app may have several levels only in the
    /// three-part form's middle (`vhost/a/b/stream`). `None` when a part is missing.
    pub fn parse(path: &str) -> Option<StreamKey> {
        let path = path.trim_matches('/');
        let (rest, stream) = path.rsplit_once('/')?;
        match rest.split_once('/') {
            Some((vhost, app)) if vhost.contains('.') || vhost == DEFAULT_VHOST => {
                Some(StreamKey::new(vhost, app, stream)).filter(StreamKey::is_complete)
            }
            _ => Some(StreamKey::new(DEFAULT_VHOST, rest, stream)).filter(StreamKey::is_complete),
        }
    }

    fn is_complete(&self) -> bool {
        !self.app.is_empty() && !self.stream.is_empty()
    }

    /// SRS's stream url: `/app/stream`, prefixed by the vhost unless it is the default one.
    pub fn url(&self) -> String {
        if self.vhost == DEFAULT_VHOST {
            format!("/{}/{}", self.app, self.stream)
        } else {
            format!("{}/{}/{}", self.vhost, self.app, self.stream)
        }
    }

    /// Fills `[vhost]`, `[app]` and `[stream]` in an SRS path template.
    pub fn fill(&self, template: &str) -> String {
        template.replace("[vhost]", &self.vhost).replace("[app]", &self.app).replace("[stream]", &self.stream)
    }
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.vhost, self.app, self.stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        assert_eq!(
            StreamKey::parse("live/livestream"),
            Some(StreamKey::new(DEFAULT_VHOST, "live", "livestream"))
        );
        assert_eq!(StreamKey::parse("/a.com/live/s"), Some(StreamKey::new("a.com", "live", "s")));
        assert_eq!(StreamKey::parse("live/sub/s").map(|k| k.app), Some("live/sub".to_owned()));
        assert_eq!(StreamKey::parse("livestream"), None);
        assert_eq!(StreamKey::parse("live/"), None);
    }

    #[test]
    fn urls_and_templates_as_srs() {
        let key = StreamKey::new(DEFAULT_VHOST, "live", "s");
        assert_eq!(key.url(), "/live/s");
        assert_eq!(StreamKey::new("v.com", "live", "s").url(), "v.com/live/s");
        assert_eq!(key.fill("[app]/[stream].m3u8"), "live/s.m3u8");
    }
}
