//! The directive tree to the classic form, by the block tables (`table.rs`).
//!
//! Every directive is either mapped (with SRS's default when absent and SRS's truth rule for
//! booleans), acted on by the process ([`super::process`]), or reported in one warning naming its
//! file and line: nothing is dropped silently. A repeated directive keeps the first, as SRS's
//! getters do, and the repeat is reported. This file holds the top level, `vhost`, and the vhost
//! blocks that are plain settings (`play`, `publish`, `http_remux`) and `http_server`; the other
//! blocks' tables live beside the code that reads them (`control_blocks`, `media_blocks`,
//! `caster_blocks`). To map a new directive, add its row; a new block is a table and one
//! `Nested` row in its parent.

use super::classic::{
    Config, HttpRemux, HttpServer, HttpStatic, Https, NamedIngest, NamedTranscode, Play, Publish, Vhost,
};
use super::process::{self, ProcessSettings};
use super::table::{Block, Enabled, Entry, Kind, Repeat, Table};
use super::values::{bad, listen, natural, text, time_jitter};
use super::{caster_blocks, control_blocks, media_blocks, process_blocks};
use super::{ConfError, Directive, Origin, Warning};

/// SRS's RTMP chunk size bounds.
const CHUNK_SIZE_MIN: u64 = 128;
const CHUNK_SIZE_MAX: u64 = 65_536;
/// SRS caps `mw_msgs` at `SRS_PERF_MW_MSGS`.
const MAX_MW_MSGS: u64 = 128;
/// Upper bound on `max_connections` (SRS reads any integer; 0 would refuse every client).
const MAX_CONNECTIONS: u64 = 10_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub config: Config,
    pub process: ProcessSettings,
    pub warnings: Vec<Warning>,
}

/// What the top level maps onto.
struct Root {
    config: Config,
    process: ProcessSettings,
    /// Where each enabled `http_remux` was written (to warn when no `http_server` serves it).
    remux_origins: Vec<Origin>,
}

/// The top level of srs.conf, the root of every table.
static ROOT: Block<Root> = Block {
    name: "",
    entries: &[
        Entry { name: "listen", default: "1935", kind: Kind::Custom(listen_directive) },
        Entry {
            name: "chunk_size",
            default: "60000",
            kind: Kind::Natural {
                field: |r| &mut r.config.chunk_size,
                min: CHUNK_SIZE_MIN,
                max: CHUNK_SIZE_MAX,
            },
        },
        Entry {
            name: "max_connections",
            default: "1000",
            kind: Kind::Natural { field: |r| &mut r.config.max_connections, min: 1, max: MAX_CONNECTIONS },
        },
        Entry {
            name: "server_id",
            default: "",
            kind: Kind::Custom(|r, d, _| {
                r.config.server_id = Some(text(d)?);
                Ok(())
            }),
        },
        Entry { name: "utc_time", default: "off", kind: Kind::FlagOff(|r| &mut r.config.utc_time) },
        Entry { name: "work_dir", default: "./", kind: Kind::Custom(process_directive) },
        Entry { name: "pid", default: "./objs/srs.pid", kind: Kind::Custom(process_directive) },
        Entry { name: "daemon", default: "on", kind: Kind::Custom(process_directive) },
        Entry { name: "srs_log_tank", default: "file", kind: Kind::Custom(process_directive) },
        Entry { name: "srs_log_file", default: "./objs/srs.log", kind: Kind::Custom(process_directive) },
        Entry { name: "srs_log_level", default: "trace", kind: Kind::Custom(process_directive) },
        Entry { name: "srs_log_level_v2", default: "", kind: Kind::Custom(process_directive) },
        Entry {
            name: "http_server",
            default: "",
            kind: Kind::Nested {
                table: &HTTP_SERVER,
                map: |r, d, s| {
                    r.config.http_server = HTTP_SERVER.map_enabled(d, HttpServer::default(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "http_api",
            default: "",
            kind: Kind::Nested {
                table: &control_blocks::HTTP_API,
                map: |r, d, s| {
                    let initial =
                        control_blocks::ApiBlock { api: control_blocks::default_http_api(), https: None };
                    let block = control_blocks::HTTP_API.map_enabled(d, initial, s)?;
                    r.config.http_api_https = block.as_ref().and_then(|b| b.https.clone());
                    r.config.http_api = block.map(|b| b.api);
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "srt_server",
            default: "",
            kind: Kind::Nested {
                table: &caster_blocks::SRT_SERVER,
                map: |r, d, s| {
                    r.config.srt_server = caster_blocks::SRT_SERVER.map_enabled(d, Default::default(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "rtc_server",
            default: "",
            kind: Kind::Nested {
                table: &caster_blocks::RTC_SERVER,
                map: |r, d, s| {
                    r.config.rtc_server = caster_blocks::RTC_SERVER.map_enabled(d, Default::default(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "stream_caster",
            default: "",
            kind: Kind::Nested {
                table: &caster_blocks::STREAM_CASTER,
                map: |r, d, s| {
                    r.config.stream_casters.extend(caster_blocks::stream_caster(d, s)?);
                    Ok(())
                },
                repeat: Repeat::Each,
            },
        },
        Entry {
            name: "vhost",
            default: "",
            kind: Kind::Nested { table: &VHOST, map: vhost, repeat: Repeat::EachNamed },
        },
    ],
};

/// `vhost NAME { }`.
static VHOST: Block<Vhost> = Block {
    name: "vhost",
    entries: &[
        Entry { name: "enabled", default: "on", kind: Kind::FlagOn(|v| &mut v.enabled) },
        Entry { name: "min_latency", default: "off", kind: Kind::FlagOff(|v| &mut v.min_latency) },
        Entry { name: "tcp_nodelay", default: "off", kind: Kind::FlagOff(|v| &mut v.tcp_nodelay) },
        Entry {
            name: "chunk_size",
            default: "",
            kind: Kind::Custom(|v, d, _| {
                v.chunk_size = Some(natural(d, CHUNK_SIZE_MIN..=CHUNK_SIZE_MAX)?);
                Ok(())
            }),
        },
        Entry {
            name: "play",
            default: "",
            kind: Kind::Nested {
                table: &PLAY,
                map: |v, d, s| PLAY.map(d, &mut v.play, s),
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "publish",
            default: "",
            kind: Kind::Nested {
                table: &PUBLISH,
                map: |v, d, s| PUBLISH.map(d, &mut v.publish, s),
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "http_remux",
            default: "",
            kind: Kind::Nested {
                table: &HTTP_REMUX,
                map: |v, d, s| {
                    v.http_remux = HTTP_REMUX.map_enabled(d, HttpRemux::default(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "http_static",
            default: "",
            kind: Kind::Nested {
                table: &HTTP_STATIC,
                map: |v, d, s| {
                    v.http_static = HTTP_STATIC.map_enabled(d, HttpStatic::default(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "forward",
            default: "",
            kind: Kind::Nested {
                table: &media_blocks::FORWARD,
                map: |v, d, s| {
                    v.forward = media_blocks::FORWARD.map_enabled(d, Default::default(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "cluster",
            default: "",
            kind: Kind::Nested {
                table: &media_blocks::CLUSTER,
                map: |v, d, s| {
                    let mut block = Enabled { enabled: false, config: super::classic::Cluster::default() };
                    media_blocks::CLUSTER.map(d, &mut block, s)?;
                    block.config.remote = block.enabled;
                    v.cluster = (block.enabled || block.config.origin_cluster).then_some(block.config);
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "exec",
            default: "",
            kind: Kind::Lines(|v, d, s| {
                if s.once(d) {
                    v.exec = process_blocks::exec(d, s)?;
                }
                Ok(())
            }),
        },
        Entry {
            name: "transcode",
            default: "",
            kind: Kind::Lines(|v, d, s| {
                if let Some((id, transcode)) = process_blocks::transcode(d, s)? {
                    v.transcode.push(NamedTranscode { id, transcode });
                }
                Ok(())
            }),
        },
        Entry {
            name: "ingest",
            default: "",
            kind: Kind::Lines(|v, d, s| {
                for (id, ingest) in process_blocks::ingest(d, &v.name, s)? {
                    v.ingest.push(NamedIngest { id, ingest });
                }
                Ok(())
            }),
        },
        Entry {
            name: "rtc",
            default: "",
            kind: Kind::Nested {
                table: &media_blocks::RTC,
                map: |v, d, s| {
                    v.rtc = media_blocks::RTC.map_enabled(d, Default::default(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "dvr",
            default: "",
            kind: Kind::Nested {
                table: &media_blocks::DVR,
                map: |v, d, s| {
                    v.dvr = media_blocks::DVR.map_enabled(d, Default::default(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "hls",
            default: "",
            kind: Kind::Nested {
                table: &media_blocks::HLS,
                map: |v, d, s| {
                    v.hls = media_blocks::HLS.map_enabled(d, Default::default(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "dash",
            default: "",
            kind: Kind::Nested {
                table: &media_blocks::DASH,
                map: |v, d, s| {
                    v.dash = media_blocks::DASH.map_enabled(d, Default::default(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "http_hooks",
            default: "",
            kind: Kind::Nested {
                table: &control_blocks::HTTP_HOOKS,
                map: |v, d, s| {
                    v.http_hooks =
                        control_blocks::HTTP_HOOKS.map_enabled(d, control_blocks::default_http_hooks(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "security",
            default: "",
            kind: Kind::Nested {
                table: &control_blocks::SECURITY,
                map: |v, d, s| {
                    v.security =
                        control_blocks::SECURITY.map_enabled(d, control_blocks::default_security(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
        Entry {
            name: "refer",
            default: "",
            kind: Kind::Nested {
                table: &control_blocks::REFER,
                map: |v, d, s| {
                    v.refer = control_blocks::REFER.map_enabled(d, control_blocks::default_refer(), s)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
    ],
};

/// `vhost { play { } }`.
static PLAY: Block<Play> = Block {
    name: "play",
    entries: &[
        Entry { name: "gop_cache", default: "on", kind: Kind::FlagOn(|p| &mut p.gop_cache) },
        Entry {
            name: "gop_cache_max_frames",
            default: "2500",
            kind: Kind::Natural { field: |p| &mut p.gop_cache_max_frames, min: 0, max: u64::MAX },
        },
        Entry {
            name: "queue_length",
            default: "30",
            kind: Kind::Natural { field: |p| &mut p.queue_length, min: 1, max: u64::MAX },
        },
        Entry {
            name: "time_jitter",
            default: "full",
            kind: Kind::Custom(|p, d, s| {
                p.time_jitter = time_jitter(d.arg0()).unwrap_or_else(|| {
                    s.warn(
                        d,
                        format!("`time_jitter {}` is not full|zero|off: SRS reads it as off", d.arg0()),
                    );
                    crate::nodes::jitter::TimeJitter::Off
                });
                Ok(())
            }),
        },
        Entry { name: "mix_correct", default: "off", kind: Kind::FlagOff(|p| &mut p.mix_correct) },
        Entry { name: "atc", default: "off", kind: Kind::FlagOff(|p| &mut p.atc) },
        Entry {
            name: "mw_latency",
            default: "350",
            kind: Kind::Natural { field: |p| &mut p.mw_latency, min: 0, max: u64::MAX },
        },
        Entry {
            name: "mw_msgs",
            default: "8",
            kind: Kind::Custom(|p, d, s| {
                let msgs = natural(d, 0..=u64::MAX)?;
                if msgs > MAX_MW_MSGS {
                    s.warn(d, format!("`mw_msgs {msgs}`: SRS caps it at {MAX_MW_MSGS}"));
                }
                p.mw_msgs = msgs.min(MAX_MW_MSGS);
                Ok(())
            }),
        },
    ],
};

/// `vhost { publish { } }`.
static PUBLISH: Block<Publish> = Block {
    name: "publish",
    entries: &[
        Entry {
            name: "firstpkt_timeout",
            default: "20000",
            kind: Kind::Natural { field: |p| &mut p.firstpkt_timeout, min: 0, max: u64::MAX },
        },
        Entry {
            name: "normal_timeout",
            default: "5000",
            kind: Kind::Natural { field: |p| &mut p.normal_timeout, min: 0, max: u64::MAX },
        },
    ],
};

/// Global `http_server { }`.
static HTTP_SERVER: Block<Enabled<HttpServer>> = Block {
    name: "http_server",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|s| &mut s.enabled) },
        Entry { name: "listen", default: "8080", kind: Kind::Listen(|s| &mut s.config.listen) },
        Entry { name: "dir", default: "./objs/nginx/html", kind: Kind::Text(|s| &mut s.config.dir) },
        Entry { name: "crossdomain", default: "on", kind: Kind::FlagOn(|s| &mut s.config.crossdomain) },
        Entry {
            name: "https",
            default: "",
            kind: Kind::Nested {
                table: &HTTPS_SERVER,
                map: |s, d, scope| {
                    s.config.https = HTTPS_SERVER.map_enabled(d, Https::with_listen("8088"), scope)?;
                    Ok(())
                },
                repeat: Repeat::Once,
            },
        },
    ],
};

/// `http_server { https { } }` and `http_api { https { } }` (their defaults differ in `listen` only).
macro_rules! https_block {
    ($listen:literal) => {
        Block {
            name: "https",
            entries: &[
                Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|h| &mut h.enabled) },
                Entry { name: "listen", default: $listen, kind: Kind::Listen(|h| &mut h.config.listen) },
                Entry { name: "key", default: "./conf/server.key", kind: Kind::Text(|h| &mut h.config.key) },
                Entry {
                    name: "cert",
                    default: "./conf/server.crt",
                    kind: Kind::Text(|h| &mut h.config.cert),
                },
            ],
        }
    };
}

pub(super) static HTTPS_SERVER: Block<Enabled<Https>> = https_block!("8088");
pub(super) static HTTPS_API: Block<Enabled<Https>> = https_block!("1990");

/// `vhost { http_remux { } }`.
static HTTP_REMUX: Block<Enabled<HttpRemux>> = Block {
    name: "http_remux",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|r| &mut r.enabled) },
        Entry {
            name: "mount",
            default: "[vhost]/[app]/[stream].flv",
            kind: Kind::Custom(|r, d, _| {
                r.config.mount = text(d)?;
                // The node's own check (extension picks the format, `[stream]` is required).
                let node = crate::nodes::http_remux::Config {
                    listen: String::new(),
                    mount: r.config.mount.clone(),
                    crossdomain: true,
                    tls: None,
                };
                node.validate().map_err(|reason| bad(d, reason.replace("field `mount` ", "")))
            }),
        },
    ],
};

/// `vhost { http_static { } }`: the vhost's own web root on the http_server.
static HTTP_STATIC: Block<Enabled<HttpStatic>> = Block {
    name: "http_static",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|r| &mut r.enabled) },
        Entry {
            name: "mount",
            default: "[vhost]/",
            kind: Kind::Custom(|r, d, _| {
                r.config.mount = text(d)?;
                // The node's own check (`/...` or `[vhost]/...`).
                let node = crate::nodes::http_static::Config {
                    listen: String::new(),
                    dir: String::new(),
                    mount: r.config.mount.clone(),
                    crossdomain: true,
                    tls: None,
                    vhost: Some("vhost".into()),
                };
                node.validate().map_err(|reason| bad(d, reason.replace("field `mount` ", "")))
            }),
        },
        Entry { name: "dir", default: "./objs/nginx/html", kind: Kind::Text(|r| &mut r.config.dir) },
    ],
};

/// The top-level table, for the variable list.
pub(super) fn root_table() -> &'static dyn Table {
    &ROOT
}

/// Maps the top-level directives of a configuration.
pub fn map(tree: &[Directive]) -> Result<Mapped, ConfError> {
    let mut root = Root {
        config: Config { vhosts: Vec::new(), ..Config::default() },
        process: ProcessSettings::default(),
        remux_origins: Vec::new(),
    };
    let mut scope = Scope::new("");
    ROOT.map_children(tree, &mut root, &mut scope)?;
    if root.config.http_server.is_none() {
        for origin in root.remux_origins {
            scope.warnings.push(Warning {
                at: origin,
                message: "`http_remux` is enabled but `http_server` is not: nothing serves it (as in SRS)"
                    .into(),
            });
        }
    }
    Ok(Mapped { config: root.config, process: root.process, warnings: scope.warnings })
}

/// `listen 1935 [more...];`: every address (RTMP listens on each; IPv6 as `[::]:1935`).
fn listen_directive(root: &mut Root, directive: &Directive, _: &mut Scope) -> Result<(), ConfError> {
    root.config.listen = listen(directive)?;
    Ok(())
}

/// A directive about the process rather than the graph ([`process`]).
fn process_directive(root: &mut Root, directive: &Directive, scope: &mut Scope) -> Result<(), ConfError> {
    process::apply(&mut root.process, directive, &mut scope.warnings)
}

/// `vhost NAME { }`; a repeated name keeps the first, as SRS's lookup does.
fn vhost(root: &mut Root, block: &Directive, scope: &mut Scope) -> Result<(), ConfError> {
    let name = text(block)?;
    if let Some(first) = root.config.vhosts.iter().find(|v| v.name == name) {
        scope.warn(block, format!("vhost `{}` repeated: SRS uses the first", first.name));
        return Ok(());
    }
    let mut vhost = Vhost { name, ..Vhost::default() };
    VHOST.map(block, &mut vhost, scope)?;
    if vhost.http_remux.is_some() {
        // The first `http_remux` is the one mapped (repeats are reported).
        root.remux_origins.extend(block.child("http_remux").map(|d| d.origin.clone()));
    }
    root.config.vhosts.push(vhost);
    Ok(())
}

/// One block being mapped: which directives were seen (to report repeats) and the warnings.
pub(super) struct Scope {
    /// The block's name for messages ("" at the top level).
    block: &'static str,
    seen: Vec<(String, Origin)>,
    warnings: Vec<Warning>,
}

impl Scope {
    fn new(block: &'static str) -> Scope {
        Scope { block, seen: Vec::new(), warnings: Vec::new() }
    }

    pub(super) fn child(&self, block: &'static str) -> Scope {
        Scope::new(block)
    }

    pub(super) fn absorb(&mut self, child: Scope) {
        self.warnings.extend(child.warnings);
    }

    /// True for the first directive of its name in this block; a repeat is reported.
    pub(super) fn once(&mut self, directive: &Directive) -> bool {
        if let Some((_, first)) = self.seen.iter().find(|(name, _)| *name == directive.name) {
            let message = format!("`{}` repeated: SRS uses the first, at {first}", directive.name);
            self.warnings.push(Warning { at: directive.origin.clone(), message });
            return false;
        }
        self.seen.push((directive.name.clone(), directive.origin.clone()));
        true
    }

    pub(super) fn warn(&mut self, directive: &Directive, message: String) {
        self.warnings.push(Warning { at: directive.origin.clone(), message });
    }

    pub(super) fn unsupported(&mut self, directive: &Directive) {
        let place = if self.block.is_empty() { String::new() } else { format!(" in `{}`", self.block) };
        let what = if directive.is_block {
            format!("block `{} {{ }}`{place} is not supported: ignored", directive.name)
        } else {
            format!("`{}`{place} is not supported: ignored", directive.name)
        };
        self.warnings.push(Warning { at: directive.origin.clone(), message: what });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use super::*;
    use crate::conf::classic::{Caster, CasterSip, RtcServer, SrtServer, StreamCaster};
    use crate::conf::parse::parse_text;
    use crate::nodes::jitter::TimeJitter;

    /// Parses and maps srs.conf text (includes refused), for the tests of every block mapper.
    pub(crate) fn map_text(text: &str) -> Result<Mapped, String> {
        let reader = |_: &Path| Err(std::io::ErrorKind::NotFound.into());
        let tree = parse_text(text, Path::new("srs.conf"), &reader).map_err(|e| e.to_string())?;
        map(&tree).map_err(|e| e.to_string())
    }

    fn warnings(mapped: &Mapped) -> Vec<String> {
        mapped.warnings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn an_empty_file_has_srs_defaults_and_no_vhost() {
        let mapped = map_text("").unwrap();
        assert_eq!(mapped.config, Config { vhosts: Vec::new(), ..Config::default() });
        assert_eq!(mapped.process, ProcessSettings::default());
        assert!(mapped.warnings.is_empty());
    }

    #[test]
    fn an_ingest_runs_one_node_per_engine_each_publishing_its_output() {
        let mapped = map_text(
            "vhost __defaultVhost__ { ingest cam { enabled on; input { type stream; url rtsp://10.0.0.2/cam; }\n\
             engine { enabled off; output rtmp://127.0.0.1:[port]/live?vhost=[vhost]/cam; }\n\
             engine sd { enabled on; vcodec libx264; vbitrate 300; acodec aac; vwidth 640; vheight 360;\n\
             output rtmp://127.0.0.1:[port]/live?vhost=[vhost]/cam_sd; } } }\n",
        )
        .unwrap();
        assert!(mapped.warnings.is_empty(), "{:?}", warnings(&mapped));
        let ingests = &mapped.config.vhosts[0].ingest;
        let ids: Vec<(&str, &str)> =
            ingests.iter().map(|n| (n.id.as_str(), n.ingest.stream.as_str())).collect();
        assert_eq!(ids, [("ingest/cam", "live/cam"), ("ingest/cam/sd", "live/cam_sd")]);
        assert!(ingests[0].ingest.ffmpeg_output.is_empty(), "the first engine copies");
        assert!(ingests[1].ingest.ffmpeg_output.iter().any(|a| a == "libx264"), "{:?}", ingests[1].ingest);
        assert!(ingests.iter().all(|n| n.ingest.url == "rtsp://10.0.0.2/cam"));
    }

    #[test]
    fn rtc_server_is_mapped() {
        let mapped = map_text("rtc_server { enabled on; listen 8001; candidate $CANDIDATE; }\n").unwrap();
        assert!(mapped.warnings.is_empty(), "{:?}", warnings(&mapped));
        let expected =
            RtcServer { listen: "8001".into(), candidate: "$CANDIDATE".into(), ..Default::default() };
        assert_eq!(mapped.config.rtc_server, Some(expected));
        let tcp =
            map_text("rtc_server { enabled on; protocol all; tcp { enabled on; listen 8000; } }\n").unwrap();
        let server = tcp.config.rtc_server.expect("rtc_server");
        assert_eq!((server.tcp, server.protocol.as_str()), (true, "all"));
        assert_eq!(map_text("rtc_server { enabled off; }\n").unwrap().config.rtc_server, None);
    }

    #[test]
    fn every_supported_directive_is_mapped() {
        let mapped = map_text(
            "listen 127.0.0.1:1936;\nchunk_size 4096;\nwork_dir /srv;\npid x.pid;\nsrs_log_tank console;\n\
             srs_log_file a.log;\ndaemon off;\n\
             http_server { enabled on; listen 8081; dir html; crossdomain off; https { enabled on; listen 8443; key k.pem; cert c.pem; } }\n\
             srt_server { enabled on; listen 10081; latency 200; passphrase 0123456789; pbkeylen 16; default_app cam; }\n\
             stream_caster { enabled on; caster mpegts_over_udp; output rtmp://127.0.0.1/live/udp; listen 8935; }\n\
             stream_caster { enabled on; caster flv; output rtmp://127.0.0.1/[app]/[stream]; listen 8936; }\n\
             stream_caster { enabled off; caster flv; listen 8937; }\n\
             stream_caster { enabled on; caster gb28181; output rtmp://127.0.0.1/cams/[stream]; listen 9001;\n\
             sip { enabled on; listen 5061; timeout 30; reinvite 3; candidate 10.0.0.1; } }\n\
             vhost v.com {\n enabled on;\n min_latency on;\n tcp_nodelay on;\n chunk_size 8192;\n\
             play { gop_cache off; gop_cache_max_frames 9; queue_length 7; time_jitter zero; mix_correct on; atc on; mw_latency 100; mw_msgs 4; }\n\
             publish { firstpkt_timeout 1000; normal_timeout 2000; }\n\
             http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }\n}\n",
        )
        .unwrap();
        assert!(mapped.warnings.is_empty(), "{:?}", warnings(&mapped));
        let expected = Config {
            listen: "127.0.0.1:1936".into(),
            chunk_size: 4096,
            http_server: Some(HttpServer {
                listen: "8081".into(),
                dir: "html".into(),
                crossdomain: false,
                https: Some(Https { listen: "8443".into(), key: "k.pem".into(), cert: "c.pem".into() }),
            }),
            max_connections: 1000,
            server_id: None,
            utc_time: false,
            http_api: None,
            http_api_https: None,
            srt_server: Some(SrtServer {
                enabled: true,
                listen: "10081".into(),
                latency: 200,
                passphrase: "0123456789".into(),
                pbkeylen: 16,
                default_app: "cam".into(),
            }),
            rtc_server: None,
            stream_casters: vec![
                StreamCaster {
                    enabled: true,
                    caster: Caster::MpegtsOverUdp,
                    listen: "8935".into(),
                    stream: "live/udp".into(),
                    app: "live".into(),
                    sip: CasterSip::default(),
                },
                StreamCaster {
                    enabled: true,
                    caster: Caster::Flv,
                    listen: "8936".into(),
                    stream: "live/livestream".into(),
                    app: "live".into(),
                    sip: CasterSip::default(),
                },
                StreamCaster {
                    enabled: true,
                    caster: Caster::Gb28181,
                    listen: "9001".into(),
                    stream: "live/livestream".into(),
                    app: "cams".into(),
                    sip: CasterSip {
                        listen: "5061".into(),
                        timeout: 30,
                        reinvite: 3,
                        candidate: "10.0.0.1".into(),
                        ..CasterSip::default()
                    },
                },
            ],
            vhosts: vec![Vhost {
                name: "v.com".into(),
                min_latency: true,
                tcp_nodelay: true,
                chunk_size: Some(8192),
                play: Play {
                    gop_cache: false,
                    gop_cache_max_frames: 9,
                    queue_length: 7,
                    time_jitter: TimeJitter::Zero,
                    mix_correct: true,
                    atc: true,
                    mw_latency: 100,
                    mw_msgs: 4,
                },
                publish: Publish { firstpkt_timeout: 1000, normal_timeout: 2000 },
                http_remux: Some(HttpRemux::default()),
                dvr: None,
                hls: None,
                dash: None,
                ..Vhost::default()
            }],
        };
        assert_eq!(mapped.config, expected);
        assert_eq!(mapped.process.work_dir, "/srv");
        assert_eq!(mapped.process.pid, "x.pid");
        assert_eq!(mapped.process.log_file, "a.log");
        assert_eq!(mapped.process.log_tank, process::LogTank::Console);
    }

    #[test]
    fn truth_rules_per_directive() {
        // prefer false (default off): only `on` is on.
        let mapped = map_text(
            "http_server { enabled yes; }\nvhost a { min_latency yes; tcp_nodelay true; play { atc 1; mix_correct yes; } http_remux { enabled yes; } }\n",
        )
        .unwrap();
        let vhost = &mapped.config.vhosts[0];
        assert!(mapped.config.http_server.is_none());
        assert!(!vhost.min_latency && !vhost.tcp_nodelay && !vhost.play.atc && !vhost.play.mix_correct);
        assert!(vhost.http_remux.is_none());
        // prefer true (default on): only `off` is off.
        let mapped =
            map_text("http_server { enabled on; crossdomain no; }\nvhost a { play { gop_cache no; } }\n")
                .unwrap();
        assert!(mapped.config.http_server.as_ref().unwrap().crossdomain);
        assert!(mapped.config.vhosts[0].play.gop_cache);
    }

    #[test]
    fn unsupported_directives_warn_once_each_with_file_and_line() {
        let mapped = map_text(
            "max_connections 1000;\nhttp_api { enabled on; listen 1985; }\nvhost __defaultVhost__ {\n  hls { enabled on; }\n  play { send_min_interval 10; }\n  http_remux { enabled on; fast_cache 30; }\n}\n",
        )
        .unwrap();
        assert_eq!(
            warnings(&mapped),
            [
                "srs.conf:5: `send_min_interval` in `play` is not supported: ignored",
                "srs.conf:6: `fast_cache` in `http_remux` is not supported: ignored",
                "srs.conf:6: `http_remux` is enabled but `http_server` is not: nothing serves it (as in SRS)",
            ]
        );
    }

    #[test]
    fn repeats_keep_the_first_and_warn() {
        let mapped =
            map_text("listen 1936;\nlisten 1937;\nvhost a { }\nvhost a { min_latency on; }\n").unwrap();
        assert_eq!(mapped.config.listen, "1936");
        assert_eq!(mapped.config.vhosts.len(), 1);
        assert!(!mapped.config.vhosts[0].min_latency);
        assert_eq!(
            warnings(&mapped),
            [
                "srs.conf:2: `listen` repeated: SRS uses the first, at srs.conf:1",
                "srs.conf:4: vhost `a` repeated: SRS uses the first",
            ]
        );
    }

    #[test]
    fn bad_values_fail_with_file_line_and_reason() {
        let error = map_text("\nchunk_size 100;\n").unwrap_err();
        assert_eq!(error, "srs.conf:2: `chunk_size`: bad value `100`: expected 128 to 65536");
        let error = map_text("vhost a {\n play {\n  mw_latency fast;\n }\n}\n").unwrap_err();
        assert_eq!(error, "srs.conf:3: `mw_latency`: bad value `fast`: expected a whole number");
        let error = map_text("listen localhost;\n").unwrap_err();
        assert!(error.starts_with("srs.conf:1: `listen`: bad value `localhost`"), "{error}");
        let error = map_text("vhost { }\n").unwrap_err();
        assert!(error.starts_with("srs.conf:1: `vhost`: bad value"), "{error}");
        let error =
            map_text("vhost a { http_remux { enabled on; mount [app]/[stream].m3u8; } }\n").unwrap_err();
        assert!(
            error.ends_with("ends in `.m3u8`: use .flv, .ts, .aac or .mp3 (the extension picks the format)")
        );
        let mapped =
            map_text("vhost a { http_remux { enabled on; mount [vhost]/[app]/[stream].ts; } }\n").unwrap();
        assert_eq!(mapped.config.vhosts[0].http_remux.as_ref().unwrap().mount, "[vhost]/[app]/[stream].ts");
    }

    #[test]
    fn srs_oddities_are_kept_with_a_warning() {
        let mapped = map_text(
            "listen 1935 1936;\ndaemon on;\nvhost a { enabled off; play { time_jitter fast; mw_msgs 500; } }\n",
        )
        .unwrap();
        let play = &mapped.config.vhosts[0].play;
        assert_eq!((play.time_jitter, play.mw_msgs), (TimeJitter::Off, 128));
        assert_eq!(mapped.config.listen, "1935 1936", "every listen address is used");
        assert!(!mapped.config.vhosts[0].enabled, "`enabled off` disables the vhost");
        assert_eq!(mapped.warnings.len(), 3, "{:?}", warnings(&mapped));
    }
}
