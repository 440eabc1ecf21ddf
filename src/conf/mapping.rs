//! The directive tree to the classic form: one small function per srs.conf block.
//!
//! Every directive is either mapped (with SRS's default when absent and SRS's truth rule for
//! booleans), acted on by the process ([`super::process`]), or reported in one warning naming its
//! file and line: nothing is dropped silently. A repeated directive keeps the first, as SRS's
//! getters do, and the repeat is reported. To map a new block: add its record to
//! [`super::classic`], a `match` arm in the scope it lives in, and one function here.

use super::classic::{Config, HttpRemux, HttpServer, Play, Publish, Vhost};
use super::control_blocks;
use super::process::{self, ProcessSettings};
use super::values::{bad, flag_default_off, flag_default_on, listen, natural, text, time_jitter};
use super::{ConfError, Directive, Origin, Warning};

/// SRS's RTMP chunk size bounds.
const CHUNK_SIZE: std::ops::RangeInclusive<u64> = 128..=65_536;
/// SRS caps `mw_msgs` at `SRS_PERF_MW_MSGS`.
const MAX_MW_MSGS: u64 = 128;

#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub config: Config,
    pub process: ProcessSettings,
    pub warnings: Vec<Warning>,
}

/// Maps the top-level directives of a configuration.
pub fn map(tree: &[Directive]) -> Result<Mapped, ConfError> {
    let mut config = Config { vhosts: Vec::new(), ..Config::default() };
    let mut process = ProcessSettings::default();
    let mut scope = Scope::new("");
    let mut remux_origins = Vec::new();
    for directive in tree {
        match directive.name.as_str() {
            "listen" if scope.once(directive) => config.listen = listen_directive(directive, &mut scope)?,
            "chunk_size" if scope.once(directive) => config.chunk_size = natural(directive, CHUNK_SIZE)?,
            "max_connections" if scope.once(directive) => {
                config.max_connections = control_blocks::max_connections(directive)?
            }
            "http_server" if scope.once(directive) => {
                config.http_server = http_server(directive, &mut scope)?
            }
            "http_api" if scope.once(directive) => {
                config.http_api = control_blocks::http_api(directive, &mut scope)?
            }
            "srt_server" if scope.once(directive) => {
                config.srt_server = super::caster_blocks::srt_server(directive, &mut scope)?
            }
            "stream_caster" => {
                config.stream_casters.extend(super::caster_blocks::stream_caster(directive, &mut scope)?)
            }
            "vhost" => {
                let name = text(directive)?;
                if let Some(first) = config.vhosts.iter().find(|v| v.name == name) {
                    scope.warn(directive, format!("vhost `{}` repeated: SRS uses the first", first.name));
                    continue;
                }
                let (vhost, remux_origin) = vhost(directive, name, &mut scope)?;
                remux_origins.extend(remux_origin);
                config.vhosts.push(vhost);
            }
            name if process::is_process_directive(name) && scope.once(directive) => {
                process::apply(&mut process, directive, &mut scope.warnings)?
            }
            "listen" | "chunk_size" | "max_connections" | "http_server" | "http_api" | "srt_server" => {}
            name if process::is_process_directive(name) => {}
            _ => scope.unsupported(directive),
        }
    }
    if config.http_server.is_none() {
        for origin in remux_origins {
            scope.warnings.push(Warning {
                at: origin,
                message: "`http_remux` is enabled but `http_server` is not: nothing serves it (as in SRS)"
                    .into(),
            });
        }
    }
    Ok(Mapped { config, process, warnings: scope.warnings })
}

/// `listen 1935 [more...];`: the first address (our `RtmpIn` listens on one).
fn listen_directive(directive: &Directive, scope: &mut Scope) -> Result<String, ConfError> {
    let first = text(directive)?;
    for extra in directive.args.iter().skip(1) {
        listen(directive, extra)?;
        scope.warn(directive, format!("`listen`: only the first address is used; `{extra}` is ignored"));
    }
    listen(directive, &first)
}

/// `http_server { }`: `Some` when enabled.
fn http_server(block: &Directive, parent: &mut Scope) -> Result<Option<HttpServer>, ConfError> {
    let mut scope = parent.child("http_server");
    let mut server = HttpServer::default();
    let mut enabled = false;
    for d in &block.children {
        match d.name.as_str() {
            "enabled" if scope.once(d) => enabled = flag_default_off(d),
            "listen" if scope.once(d) => server.listen = listen(d, &text(d)?)?,
            "dir" if scope.once(d) => server.dir = text(d)?,
            "crossdomain" if scope.once(d) => server.crossdomain = flag_default_on(d),
            "enabled" | "listen" | "dir" | "crossdomain" => {}
            _ => scope.unsupported(d),
        }
    }
    parent.absorb(scope);
    Ok(enabled.then_some(server))
}

/// `vhost NAME { }`; also returns where an enabled `http_remux` was written.
fn vhost(block: &Directive, name: String, parent: &mut Scope) -> Result<(Vhost, Option<Origin>), ConfError> {
    let mut scope = parent.child("vhost");
    let mut vhost = Vhost { name, ..Vhost::default() };
    let mut remux_origin = None;
    for d in &block.children {
        match d.name.as_str() {
            "enabled" if scope.once(d) => {
                if !flag_default_on(d) {
                    scope.warn(
                        d,
                        "`enabled off`: disabled vhosts are not supported; this vhost serves".into(),
                    );
                }
            }
            "min_latency" if scope.once(d) => vhost.min_latency = flag_default_off(d),
            "tcp_nodelay" if scope.once(d) => vhost.tcp_nodelay = flag_default_off(d),
            "chunk_size" if scope.once(d) => vhost.chunk_size = Some(natural(d, CHUNK_SIZE)?),
            "play" if scope.once(d) => vhost.play = play(d, &mut scope)?,
            "publish" if scope.once(d) => vhost.publish = publish(d, &mut scope)?,
            "http_remux" if scope.once(d) => {
                vhost.http_remux = http_remux(d, &mut scope)?;
                remux_origin = vhost.http_remux.as_ref().map(|_| d.origin.clone());
            }
            "dvr" if scope.once(d) => vhost.dvr = super::media_blocks::dvr(d, &mut scope)?,
            "hls" if scope.once(d) => vhost.hls = super::media_blocks::hls(d, &mut scope)?,
            "dash" if scope.once(d) => vhost.dash = super::media_blocks::dash(d, &mut scope)?,
            "http_hooks" if scope.once(d) => vhost.http_hooks = control_blocks::http_hooks(d, &mut scope)?,
            "security" if scope.once(d) => vhost.security = control_blocks::security(d, &mut scope)?,
            "refer" if scope.once(d) => vhost.refer = control_blocks::refer(d, &mut scope)?,
            "enabled" | "min_latency" | "tcp_nodelay" | "chunk_size" | "play" | "publish" | "http_remux"
            | "dvr" | "hls" | "dash" | "http_hooks" | "security" | "refer" => {}
            _ => scope.unsupported(d),
        }
    }
    parent.absorb(scope);
    Ok((vhost, remux_origin))
}

/// `vhost { play { } }`.
fn play(block: &Directive, parent: &mut Scope) -> Result<Play, ConfError> {
    let mut scope = parent.child("play");
    let mut play = Play::default();
    for d in &block.children {
        match d.name.as_str() {
            "gop_cache" if scope.once(d) => play.gop_cache = flag_default_on(d),
            "gop_cache_max_frames" if scope.once(d) => play.gop_cache_max_frames = natural(d, 0..=u64::MAX)?,
            "queue_length" if scope.once(d) => play.queue_length = natural(d, 1..=u64::MAX)?,
            "time_jitter" if scope.once(d) => {
                play.time_jitter = time_jitter(d.arg0()).unwrap_or_else(|| {
                    scope.warn(
                        d,
                        format!("`time_jitter {}` is not full|zero|off: SRS reads it as off", d.arg0()),
                    );
                    crate::nodes::jitter::TimeJitter::Off
                })
            }
            "mix_correct" if scope.once(d) => play.mix_correct = flag_default_off(d),
            "atc" if scope.once(d) => play.atc = flag_default_off(d),
            "mw_latency" if scope.once(d) => play.mw_latency = natural(d, 0..=u64::MAX)?,
            "mw_msgs" if scope.once(d) => {
                let msgs = natural(d, 0..=u64::MAX)?;
                if msgs > MAX_MW_MSGS {
                    scope.warn(d, format!("`mw_msgs {msgs}`: SRS caps it at {MAX_MW_MSGS}"));
                }
                play.mw_msgs = msgs.min(MAX_MW_MSGS);
            }
            "gop_cache"
            | "gop_cache_max_frames"
            | "queue_length"
            | "time_jitter"
            | "mix_correct"
            | "atc"
            | "mw_latency"
            | "mw_msgs" => {}
            _ => scope.unsupported(d),
        }
    }
    parent.absorb(scope);
    Ok(play)
}

/// `vhost { publish { } }`.
fn publish(block: &Directive, parent: &mut Scope) -> Result<Publish, ConfError> {
    let mut scope = parent.child("publish");
    let mut publish = Publish::default();
    for d in &block.children {
        match d.name.as_str() {
            "firstpkt_timeout" if scope.once(d) => publish.firstpkt_timeout = natural(d, 0..=u64::MAX)?,
            "normal_timeout" if scope.once(d) => publish.normal_timeout = natural(d, 0..=u64::MAX)?,
            "firstpkt_timeout" | "normal_timeout" => {}
            _ => scope.unsupported(d),
        }
    }
    parent.absorb(scope);
    Ok(publish)
}

/// `vhost { http_remux { } }`: `Some` when enabled.
fn http_remux(block: &Directive, parent: &mut Scope) -> Result<Option<HttpRemux>, ConfError> {
    let mut scope = parent.child("http_remux");
    let mut remux = HttpRemux::default();
    let mut enabled = false;
    for d in &block.children {
        match d.name.as_str() {
            "enabled" if scope.once(d) => enabled = flag_default_off(d),
            "mount" if scope.once(d) => {
                remux.mount = text(d)?;
                // The node's own check (extension picks the format, `[stream]` is required).
                let node = crate::nodes::http_remux::Config {
                    listen: String::new(),
                    mount: remux.mount.clone(),
                    crossdomain: true,
                    tls: None,
                };
                node.validate().map_err(|reason| bad(d, reason.replace("field `mount` ", "")))?;
            }
            "enabled" | "mount" => {}
            _ => scope.unsupported(d),
        }
    }
    parent.absorb(scope);
    Ok(enabled.then_some(remux))
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
    use crate::conf::classic::{Caster, SrtServer, StreamCaster};
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
    fn every_supported_directive_is_mapped() {
        let mapped = map_text(
            "listen 127.0.0.1:1936;\nchunk_size 4096;\nwork_dir /srv;\npid x.pid;\nsrs_log_tank console;\n\
             srs_log_file a.log;\ndaemon off;\n\
             http_server { enabled on; listen 8081; dir html; crossdomain off; }\n\
             srt_server { enabled on; listen 10081; latency 200; passphrase 0123456789; pbkeylen 16; default_app cam; }\n\
             stream_caster { enabled on; caster mpegts_over_udp; output rtmp://127.0.0.1/live/udp; listen 8935; }\n\
             stream_caster { enabled on; caster flv; output rtmp://127.0.0.1/[app]/[stream]; listen 8936; }\n\
             stream_caster { enabled off; caster flv; listen 8937; }\n\
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
            http_server: Some(HttpServer { listen: "8081".into(), dir: "html".into(), crossdomain: false }),
            max_connections: 1000,
            http_api: None,
            srt_server: Some(SrtServer {
                enabled: true,
                listen: "10081".into(),
                latency: 200,
                passphrase: "0123456789".into(),
                pbkeylen: 16,
                default_app: "cam".into(),
            }),
            stream_casters: vec![
                StreamCaster {
                    enabled: true,
                    caster: Caster::MpegtsOverUdp,
                    listen: "8935".into(),
                    stream: "live/udp".into(),
                },
                StreamCaster {
                    enabled: true,
                    caster: Caster::Flv,
                    listen: "8936".into(),
                    stream: "live/livestream".into(),
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
        assert_eq!(mapped.warnings.len(), 5, "{:?}", warnings(&mapped));
    }
}
