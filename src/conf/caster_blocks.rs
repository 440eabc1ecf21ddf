//! The tables of the global blocks that become stream casters: `srt_server { }` (the
//! `SrtIn`/`SrtOut` pair) and `stream_caster { }` (`MpegtsUdpIn`, `FlvPostIn`). GB28181 has no
//! node yet and is reported as unsupported.

use super::classic::{Caster, RtcServer, SrtServer, StreamCaster, DEFAULT_CASTER_STREAM};
use super::mapping::Scope;
use super::table::{Block, Enabled, Entry, Kind};
use super::values::{bad, natural, text};
use super::{ConfError, Directive};

/// `srt_server { }`.
pub(super) static SRT_SERVER: Block<Enabled<SrtServer>> = Block {
    name: "srt_server",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|s| &mut s.enabled) },
        Entry { name: "listen", default: "10080", kind: Kind::Listen(|s| &mut s.config.listen) },
        Entry {
            name: "latency",
            default: "120",
            kind: Kind::Natural { field: |s| &mut s.config.latency, min: 0, max: 60_000 },
        },
        Entry { name: "passphrase", default: "", kind: Kind::Text(|s| &mut s.config.passphrase) },
        Entry {
            name: "pbkeylen",
            default: "0",
            kind: Kind::Custom(|s, d, _| {
                s.config.pbkeylen = natural(d, 0..=32)?;
                if ![0, 16, 24, 32].contains(&s.config.pbkeylen) {
                    return Err(bad(d, "use 0, 16, 24 or 32".into()));
                }
                Ok(())
            }),
        },
        Entry { name: "default_app", default: "live", kind: Kind::Text(|s| &mut s.config.default_app) },
    ],
};

/// `rtc_server { }`: the WebRTC socket (`RtcIn`/`RtcOut`); its other directives are not mapped.
pub(super) static RTC_SERVER: Block<Enabled<RtcServer>> = Block {
    name: "rtc_server",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|s| &mut s.enabled) },
        Entry { name: "listen", default: "8000", kind: Kind::Listen(|s| &mut s.config.listen) },
        Entry { name: "candidate", default: "*", kind: Kind::Text(|s| &mut s.config.candidate) },
    ],
};

/// A `stream_caster` block as read, before its kind decides what it becomes.
#[derive(Default)]
pub(super) struct CasterDraft {
    enabled: bool,
    caster: Option<String>,
    listen: Option<String>,
    output: Option<Directive>,
}

/// `stream_caster { }` (SRS has no variables for it; ours apply to every `stream_caster`).
pub(super) static STREAM_CASTER: Block<CasterDraft> = Block {
    name: "stream_caster",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|c| &mut c.enabled) },
        Entry {
            name: "caster",
            default: "",
            kind: Kind::Custom(|c, d, _| {
                c.caster = Some(d.arg0().to_owned());
                Ok(())
            }),
        },
        Entry {
            name: "listen",
            default: "",
            kind: Kind::Custom(|c, d, _| {
                c.listen = Some(super::values::listen(d)?);
                Ok(())
            }),
        },
        Entry {
            name: "output",
            default: "",
            kind: Kind::Custom(|c, d, _| {
                c.output = Some(d.clone());
                Ok(())
            }),
        },
    ],
};

/// `stream_caster { }`: `Some` when enabled and of a kind that exists as a node.
pub(super) fn stream_caster(
    block: &Directive,
    parent: &mut Scope,
) -> Result<Option<StreamCaster>, ConfError> {
    let mut draft = CasterDraft::default();
    STREAM_CASTER.map(block, &mut draft, parent)?;
    let kind = match draft.caster.as_deref() {
        Some("mpegts_over_udp") => Caster::MpegtsOverUdp,
        Some("flv") => Caster::Flv,
        _ => {
            let mut scope = parent.child(STREAM_CASTER.name);
            scope.unsupported(block);
            parent.absorb(scope);
            return Ok(None);
        }
    };
    let listen_at = draft.listen.ok_or_else(|| bad(block, "a stream_caster needs `listen`".into()))?;
    let stream = match (kind, &draft.output) {
        (Caster::MpegtsOverUdp, Some(d)) => stream_of_output(&text(d)?).ok_or_else(|| {
            bad(d, "write the output as rtmp://host[:port]/app/stream (used literally, as SRS does)".into())
        })?,
        _ => DEFAULT_CASTER_STREAM.to_owned(),
    };
    Ok(draft.enabled.then_some(StreamCaster { enabled: true, caster: kind, listen: listen_at, stream }))
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
