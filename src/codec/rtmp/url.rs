//! Stream discovery: the connect tcUrl and the publish/play stream name turned into vhost, app, stream
//! and param the way SRS reads them (`srs_discovery_tc_url`), including the legacy forms clients still
//! send: `...vhost...`, FMLE's `app?vhost=x/stream`, `/_definst_`, `domain=`, multi-level apps.
//!
//! It does not look vhosts up in a configuration: the host does that with [`StreamRequest::vhost`] (and
//! falls back to [`DEFAULT_VHOST`]), then derives the stream identity with [`StreamRequest::stream_key`].

use std::fmt;

/// The vhost used when none matches, and whose name is left out of stream identities.
pub const DEFAULT_VHOST: &str = "__defaultVhost__";
/// The app used when the URL has none.
pub const DEFAULT_APP: &str = "__defaultApp__";
pub const DEFAULT_PORT: u16 = 1935;

/// Where a publish or play goes, as parsed from the client's URLs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamRequest {
    /// The tcUrl exactly as the client sent it in connect.
    pub tc_url: String,
    pub schema: String,
    pub host: String,
    pub port: u16,
    /// From `?vhost=` or `?domain=`, else the host.
    pub vhost: String,
    pub app: String,
    pub stream: String,
    /// The query string with its `?` (and a `#fragment`), or empty; kept for hooks and auth.
    pub param: String,
}

impl StreamRequest {
    /// Resolves the tcUrl from connect and the stream name from publish or play.
    pub fn discover(tc_url: &str, stream_name: &str) -> StreamRequest {
        let legacy_fixed = tc_url.replace("...vhost...", "?vhost=");
        let full =
            move_query_after_stream(&format!("{legacy_fixed}/{stream_name}")).replace("/_definst_", "");
        let parts = UrlParts::parse(&full);
        let (mut app, mut stream) = match parts.path.rfind('/') {
            Some(slash) => (parts.path[..slash].to_owned(), parts.path[slash + 1..].to_owned()),
            None => (String::new(), parts.path.to_owned()),
        };
        let mut query = parts.query.to_owned();
        let mut vhost =
            query_value(&query, "vhost").or_else(|| query_value(&query, "domain")).unwrap_or_default();
        if vhost == DEFAULT_VHOST {
            query = query
                .split('&')
                .filter(|pair| *pair != format!("vhost={DEFAULT_VHOST}"))
                .collect::<Vec<_>>()
                .join("&");
            vhost.clear();
        }
        if vhost.is_empty() {
            vhost = parts.host.to_owned();
        }
        let mut param = if query.is_empty() { String::new() } else { format!("?{query}") };
        if !parts.fragment.is_empty() {
            param.push('#');
            param.push_str(parts.fragment);
        }
        let trimmed_app = app.trim_matches('/').to_owned();
        if stream.trim_matches('/').is_empty() {
            if let Some((first, rest)) = trimmed_app.split_once('/') {
                (app, stream) = (first.to_owned(), rest.to_owned());
            } else if let Some(slash) = param.rfind('/') {
                stream = param[slash + 1..].to_owned();
                param.truncate(slash);
            }
        }
        let mut app = strip(&app).trim_matches('/').to_owned();
        if app.is_empty() {
            app = DEFAULT_APP.to_owned();
        }
        let host = strip(parts.host).replace('/', "");
        let vhost = strip(&vhost).replace('/', "");
        StreamRequest {
            tc_url: tc_url.to_owned(),
            schema: parts.schema.to_owned(),
            port: parts.port.unwrap_or(DEFAULT_PORT),
            vhost: if vhost.is_empty() { DEFAULT_VHOST.to_owned() } else { vhost },
            host,
            app,
            stream: strip(&stream).trim_matches('/').to_owned(),
            param: strip(&param),
        }
    }

    /// The stream identity `[vhost/]app/stream`: the vhost is left out when it is the default one and
    /// the stream's extension is dropped, so `livestream.flv` and `livestream` are the same stream.
    pub fn stream_key(&self) -> String {
        let stream = match self.stream.rfind('.') {
            Some(dot) if dot > 0 => &self.stream[..dot],
            _ => &self.stream,
        };
        if self.vhost == DEFAULT_VHOST {
            format!("{}/{}", self.app, stream)
        } else {
            format!("{}/{}/{}", self.vhost, self.app, stream)
        }
    }
}

impl fmt::Display for StreamRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}/{}/{}{}", self.schema, self.vhost, self.app, self.stream, self.param)
    }
}

/// FMLE puts the query on the app: `rtmp://h/app?vhost=x/stream` becomes `rtmp://h/app/stream?vhost=x`.
/// When the stream has its own query the two are joined with `&` (SRS concatenates a second `?`).
fn move_query_after_stream(full: &str) -> String {
    let (Some(query_at), Some(slash_at)) = (full.find(['?', '#']), full.rfind('/')) else {
        return full.to_owned();
    };
    if query_at > slash_at {
        return full.to_owned();
    }
    let app_query = &full[query_at..slash_at];
    let stream_part = &full[slash_at..];
    if stream_part.contains('?') {
        format!("{}{}&{}", &full[..query_at], stream_part, &app_query[1..])
    } else {
        format!("{}{}{}", &full[..query_at], stream_part, app_query)
    }
}

struct UrlParts<'a> {
    schema: &'a str,
    host: &'a str,
    port: Option<u16>,
    path: &'a str,
    query: &'a str,
    fragment: &'a str,
}

impl<'a> UrlParts<'a> {
    fn parse(url: &'a str) -> UrlParts<'a> {
        let (schema, rest) = url.split_once("://").unwrap_or(("rtmp", url));
        let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        let (host, port) = split_host_port(authority);
        UrlParts { schema, host, port, path, query, fragment }
    }
}

fn split_host_port(authority: &str) -> (&str, Option<u16>) {
    if let Some(bracketed) = authority.strip_prefix('[') {
        // IPv6 literal: [::1]:1935
        let (host, rest) = bracketed.split_once(']').unwrap_or((bracketed, ""));
        return (host, rest.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()),
        None => (authority, None),
    }
}

fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key && !v.is_empty()).then(|| v.to_owned())
    })
}

/// Removes the whitespace SRS strips from every part of a request.
fn strip(value: &str) -> String {
    value.chars().filter(|c| !matches!(c, ' ' | '\r' | '\n' | '\t')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(tc_url: &str, stream: &str) -> (String, String, String, String) {
        let request = StreamRequest::discover(tc_url, stream);
        (request.vhost, request.app, request.stream, request.param)
    }

    fn expect(vhost: &str, app: &str, stream: &str, param: &str) -> (String, String, String, String) {
        (vhost.into(), app.into(), stream.into(), param.into())
    }

    #[test]
    fn plain_url_takes_the_host_as_vhost() {
        let request = StreamRequest::discover("rtmp://127.0.0.1:19350/live", "livestream");
        assert_eq!(
            (request.host.as_str(), request.port, request.schema.as_str()),
            ("127.0.0.1", 19350, "rtmp")
        );
        assert_eq!(
            parts("rtmp://127.0.0.1:19350/live", "livestream"),
            expect("127.0.0.1", "live", "livestream", "")
        );
        assert_eq!(StreamRequest::discover("rtmp://ossrs.net/live", "s").port, 1935);
    }

    #[test]
    fn vhost_and_domain_query_parameters_override_the_host() {
        assert_eq!(
            parts("rtmp://127.0.0.1/live", "livestream?vhost=test.com&token=1"),
            expect("test.com", "live", "livestream", "?vhost=test.com&token=1")
        );
        assert_eq!(
            parts("rtmp://127.0.0.1/live", "s?domain=d.com"),
            expect("d.com", "live", "s", "?domain=d.com")
        );
    }

    #[test]
    fn fmle_query_on_the_app_moves_after_the_stream() {
        assert_eq!(
            parts("rtmp://127.0.0.1/live?vhost=v.com", "livestream"),
            expect("v.com", "live", "livestream", "?vhost=v.com")
        );
        assert_eq!(
            parts("rtmp://127.0.0.1/live?vhost=v.com", "livestream?token=x"),
            expect("v.com", "live", "livestream", "?token=x&vhost=v.com")
        );
    }

    #[test]
    fn legacy_triple_dot_vhost_is_a_query() {
        assert_eq!(
            parts("rtmp://127.0.0.1/live...vhost...v.com", "livestream"),
            expect("v.com", "live", "livestream", "?vhost=v.com")
        );
    }

    #[test]
    fn definst_is_removed_and_multi_level_apps_are_kept() {
        assert_eq!(
            parts("rtmp://h.com/live/_definst_", "livestream"),
            expect("h.com", "live", "livestream", "")
        );
        assert_eq!(
            parts("rtmp://h.com/live/sub", "livestream"),
            expect("h.com", "live/sub", "livestream", "")
        );
    }

    #[test]
    fn default_vhost_query_is_ignored_and_cleared() {
        assert_eq!(parts("rtmp://h.com/live", "s?vhost=__defaultVhost__"), expect("h.com", "live", "s", ""));
        assert_eq!(
            parts("rtmp://h.com/live", "s?vhost=__defaultVhost__&a=1"),
            expect("h.com", "live", "s", "?a=1")
        );
    }

    #[test]
    fn empty_stream_is_guessed_from_the_app_and_empty_app_gets_the_default() {
        assert_eq!(parts("rtmp://h.com/live/livestream", ""), expect("h.com", "live", "livestream", ""));
        assert_eq!(parts("rtmp://h.com", "livestream"), expect("h.com", DEFAULT_APP, "livestream", ""));
    }

    #[test]
    fn whitespace_is_stripped_and_ipv6_hosts_parse() {
        assert_eq!(
            parts("rtmp://h.com/ live\t", " livestream\r\n"),
            expect("h.com", "live", "livestream", "")
        );
        let request = StreamRequest::discover("rtmp://[::1]:1936/live", "s");
        assert_eq!((request.host.as_str(), request.port), ("::1", 1936));
    }

    #[test]
    fn stream_key_drops_the_extension_and_the_default_vhost() {
        let mut request = StreamRequest::discover("rtmp://h.com/live", "livestream.flv");
        assert_eq!(request.stream, "livestream.flv");
        assert_eq!(request.stream_key(), "h.com/live/livestream");
        request.vhost = DEFAULT_VHOST.to_owned();
        assert_eq!(request.stream_key(), "live/livestream");
    }
}
