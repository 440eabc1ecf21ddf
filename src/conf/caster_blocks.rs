//! The tables of the global blocks that become stream casters: `srt_server { }` (the
//! `SrtIn`/`SrtOut` pair) and `stream_caster { }` (`MpegtsUdpIn`, `FlvPostIn`, `Gb28181In` with
//! its `sip { }` block, SRS 5's directives).

use super::classic::{
    Caster, CasterSip, RtcServer, SrtServer, StreamCaster, DEFAULT_CASTER_APP, DEFAULT_CASTER_STREAM,
};
use super::mapping::Scope;
use super::table::{Block, Enabled, Entry, Kind, Repeat};
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
        Entry { name: "protocol", default: "udp", kind: Kind::Text(|s| &mut s.config.protocol) },
        Entry {
            name: "tcp",
            default: "",
            kind: Kind::Nested {
                table: &RTC_TCP,
                map: |s, d, scope| RTC_TCP.map(d, &mut s.config, scope),
                repeat: Repeat::Once,
            },
        },
    ],
};

/// `rtc_server { tcp { enabled on; } }`: ICE over TCP, on the WebRTC port number (its own
/// `listen` is reported unsupported).
pub(super) static RTC_TCP: Block<RtcServer> = Block {
    name: "tcp",
    entries: &[Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|s| &mut s.tcp) }],
};

/// A `stream_caster` block as read, before its kind decides what it becomes.
#[derive(Default)]
pub(super) struct CasterDraft {
    enabled: bool,
    caster: Option<String>,
    listen: Option<String>,
    output: Option<Directive>,
    sip: CasterSip,
}

/// `stream_caster { caster gb28181; sip { } }` (SRS 5+; SRS 4's extra directives are reported).
pub(super) static SIP: Block<CasterSip> = Block {
    name: "sip",
    entries: &[
        Entry { name: "enabled", default: "on", kind: Kind::FlagOn(|g| &mut g.enabled) },
        Entry { name: "listen", default: "5060", kind: Kind::Listen(|g| &mut g.listen) },
        Entry {
            name: "timeout",
            default: "60",
            kind: Kind::Natural { field: |g| &mut g.timeout, min: 1, max: 86_400 },
        },
        Entry {
            name: "reinvite",
            default: "5",
            kind: Kind::Natural { field: |g| &mut g.reinvite, min: 1, max: 86_400 },
        },
        Entry { name: "candidate", default: "*", kind: Kind::Text(|g| &mut g.candidate) },
    ],
};

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
        Entry {
            name: "sip",
            default: "",
            kind: Kind::Nested {
                table: &SIP,
                map: |c, d, s| SIP.map(d, &mut c.sip, s),
                repeat: Repeat::Once,
            },
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
        Some("gb28181") => Caster::Gb28181,
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
    let app = match (kind, &draft.output) {
        (Caster::Gb28181, Some(d)) => app_of_output(&text(d)?).ok_or_else(|| {
            bad(d, "write the output as rtmp://host[:port]/app/[stream] (the device id is the stream)".into())
        })?,
        _ => DEFAULT_CASTER_APP.to_owned(),
    };
    let sip = draft.sip;
    Ok(draft.enabled.then_some(StreamCaster {
        enabled: true,
        caster: kind,
        listen: listen_at,
        stream,
        app,
        sip,
    }))
}

/// `rtmp://127.0.0.1/live/[stream]` → `live`.
fn app_of_output(url: &str) -> Option<String> {
    let path = stream_of_output(url)?;
    path.rsplit_once('/').map(|(app, _)| app.to_owned())
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
        assert_eq!(app_of_output("rtmp://127.0.0.1/live/[stream]"), Some("live".into()));
    }
}
