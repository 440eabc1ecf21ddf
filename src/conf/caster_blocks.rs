//! Mapping of the global blocks that become stream casters: `srt_server { }` (the `SrtIn`/`SrtOut`
//! pair) and `stream_caster { }` (`MpegtsUdpIn`, `FlvPostIn`). GB28181 has no node yet and is
//! reported as unsupported.

use super::classic::{Caster, SrtServer, StreamCaster, DEFAULT_CASTER_STREAM};
use super::mapping::Scope;
use super::values::{bad, flag_default_off, listen, natural, text};
use super::{ConfError, Directive};

/// `srt_server { }`: `Some` when enabled.
pub(super) fn srt_server(block: &Directive, parent: &mut Scope) -> Result<Option<SrtServer>, ConfError> {
    let mut scope = parent.child("srt_server");
    let mut server = SrtServer::default();
    let mut enabled = false;
    for d in &block.children {
        match d.name.as_str() {
            "enabled" if scope.once(d) => enabled = flag_default_off(d),
            "listen" if scope.once(d) => server.listen = listen(d, &text(d)?)?,
            "latency" if scope.once(d) => server.latency = natural(d, 0..=60_000)?,
            "passphrase" if scope.once(d) => server.passphrase = text(d)?,
            "pbkeylen" if scope.once(d) => {
                server.pbkeylen = natural(d, 0..=32)?;
                if ![0, 16, 24, 32].contains(&server.pbkeylen) {
                    return Err(bad(d, "use 0, 16, 24 or 32".into()));
                }
            }
            "default_app" if scope.once(d) => server.default_app = text(d)?,
            "enabled" | "listen" | "latency" | "passphrase" | "pbkeylen" | "default_app" => {}
            _ => scope.unsupported(d),
        }
    }
    parent.absorb(scope);
    Ok(enabled.then_some(server))
}

/// `stream_caster { }`: `Some` when enabled and of a kind that exists as a node.
pub(super) fn stream_caster(
    block: &Directive,
    parent: &mut Scope,
) -> Result<Option<StreamCaster>, ConfError> {
    let mut scope = parent.child("stream_caster");
    let mut enabled = false;
    let (mut caster, mut listen_at, mut output) = (None, None, None);
    for d in &block.children {
        match d.name.as_str() {
            "enabled" if scope.once(d) => enabled = flag_default_off(d),
            "caster" if scope.once(d) => caster = Some(d),
            "listen" if scope.once(d) => listen_at = Some(listen(d, &text(d)?)?),
            "output" if scope.once(d) => output = Some(d),
            "enabled" | "caster" | "listen" | "output" => {}
            _ => scope.unsupported(d),
        }
    }
    let kind = match caster.map(Directive::arg0) {
        Some("mpegts_over_udp") => Caster::MpegtsOverUdp,
        Some("flv") => Caster::Flv,
        _ => {
            scope.unsupported(block);
            parent.absorb(scope);
            return Ok(None);
        }
    };
    let listen_at = listen_at.ok_or_else(|| bad(block, "a stream_caster needs `listen`".into()))?;
    let stream = match (kind, output) {
        (Caster::MpegtsOverUdp, Some(d)) => stream_of_output(&text(d)?).ok_or_else(|| {
            bad(d, "write the output as rtmp://host[:port]/app/stream (used literally, as SRS does)".into())
        })?,
        _ => DEFAULT_CASTER_STREAM.to_owned(),
    };
    parent.absorb(scope);
    Ok(enabled.then_some(StreamCaster { enabled: true, caster: kind, listen: listen_at, stream }))
}

/// `rtmp://127.0.0.1/live/livestream` → `live/livestream` (host and query left out).
fn stream_of_output(url: &str) -> Option<String> {
    let rest = url.strip_prefix("rtmp://")?;
    let (_, path) = rest.split_once('/')?;
    let path = path.split('?').next().unwrap_or_default().trim_matches('/');
    let (app, stream) = path.rsplit_once('/')?;
    (!app.is_empty() && !stream.is_empty()).then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpegts_output_urls_name_the_stream() {
        assert_eq!(stream_of_output("rtmp://127.0.0.1/live/livestream"), Some("live/livestream".into()));
        assert_eq!(stream_of_output("rtmp://h:1935/a/b/s?x=1"), Some("a/b/s".into()));
        assert_eq!(stream_of_output("rtmp://127.0.0.1/live"), None);
        assert_eq!(stream_of_output("srt://x/live/s"), None);
    }
}
