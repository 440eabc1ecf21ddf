//! The classic form as Dhall text: `classic.toGraph classic.Config::{ .. }`, with SRS's
//! directive names and only the fields that differ from their defaults. `srs conf import` prints
//! it; `srs -c` evaluates the same text, so both run one graph.

use std::path::{Component, Path};

use super::classic::{
    Caster, CasterSip, Config, HttpRemux, HttpServer, HttpStatic, Https, Play, Publish, RtcServer, SrtServer,
    StreamCaster, Vhost, DEFAULT_CASTER_APP, DEFAULT_CASTER_STREAM,
};
use crate::nodes::jitter::TimeJitter;

#[path = "print_process.rs"]
mod process;

/// A Dhall expression, enough of it for the classic records.
enum Expr {
    Lit(String),
    /// `completion::{ fields }` (record completion: missing fields take the default).
    Record {
        completion: &'static str,
        fields: Vec<(&'static str, Expr)>,
    },
    Some(Box<Expr>),
    List {
        items: Vec<Expr>,
        element_type: &'static str,
    },
}

/// A graph file: `let srs = <catalogue> let classic = <its classic form> in classic.toGraph
/// <config>`, `comments` on top. `catalogue` is the catalogue's `package.dhall`; the classic form
/// is `classic/package.dhall` beside it (imported only here: its `toGraph` costs a graph that
/// does not use it a second and 150 MB to typecheck).
pub fn graph_text(config: &Config, catalogue: &Path, comments: &[String]) -> String {
    let mut text = String::new();
    for comment in comments {
        for line in comment.lines() {
            text.push_str(&format!("-- {line}\n"));
        }
    }
    let classic = catalogue.parent().unwrap_or(Path::new("")).join("classic/package.dhall");
    text.push_str(&format!(
        "let srs = {}\n\nlet classic = {}\n\nin  classic.toGraph\n      ",
        import_path(catalogue),
        import_path(&classic)
    ));
    text.push_str(&render(&config_expr(config), 6));
    text.push('\n');
    text
}

/// The `classic.Config::{ .. }` expression alone (`srs` bound to the catalogue, `classic` to its
/// classic form).
pub fn config_text(config: &Config) -> String {
    render(&config_expr(config), 0)
}

/// How to import a file at `path` in Dhall (absolute, or relative to the importing file).
pub fn import_path(path: &Path) -> String {
    let mut out = String::new();
    for component in path.components() {
        match component {
            Component::RootDir => {}
            Component::CurDir => out.push('.'),
            Component::ParentDir => out.push_str(".."),
            Component::Normal(part) => {
                if !out.is_empty() || path.is_absolute() {
                    out.push('/');
                }
                let part = part.to_string_lossy();
                if part.chars().all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c)) {
                    out.push_str(&part);
                } else {
                    out.push_str(&format!("\"{}\"", part.replace('"', "")));
                }
            }
            Component::Prefix(_) => {}
        }
    }
    if !path.is_absolute() && !out.starts_with('.') {
        out.insert_str(0, "./");
    }
    out
}

/// A Dhall text literal.
pub fn text_literal(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\u0024"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn text(value: &str) -> Expr {
    Expr::Lit(text_literal(value))
}

fn natural(value: u64) -> Expr {
    Expr::Lit(value.to_string())
}

fn boolean(value: bool) -> Expr {
    Expr::Lit(if value { "True" } else { "False" }.into())
}

/// Pushes `name = expr(value)` when `value` differs from `default`.
fn changed<T: PartialEq>(
    fields: &mut Vec<(&'static str, Expr)>,
    name: &'static str,
    value: &T,
    default: &T,
    expr: impl FnOnce(&T) -> Expr,
) {
    if value != default {
        fields.push((name, expr(value)));
    }
}

fn config_expr(config: &Config) -> Expr {
    let default = Config::default();
    let mut fields = Vec::new();
    changed(&mut fields, "listen", &config.listen, &default.listen, |v| text(v));
    changed(&mut fields, "chunk_size", &config.chunk_size, &default.chunk_size, |v| natural(*v));
    let max = (&config.max_connections, &default.max_connections);
    changed(&mut fields, "max_connections", max.0, max.1, |v| natural(*v));
    changed(&mut fields, "server_id", &config.server_id, &default.server_id, |v| match v {
        Some(id) => Expr::Some(Box::new(text(id))),
        None => Expr::Lit("None Text".into()),
    });
    changed(&mut fields, "utc_time", &config.utc_time, &default.utc_time, |v| boolean(*v));
    changed(&mut fields, "http_server", &config.http_server, &default.http_server, |v| match v {
        Some(server) => Expr::Some(Box::new(http_server_expr(server))),
        None => Expr::Lit("None classic.HttpServer.Type".into()),
    });
    changed(&mut fields, "http_api", &config.http_api, &default.http_api, |v| {
        optional_node_block(v.as_ref(), "classic.HttpApi")
    });
    changed(&mut fields, "http_api_https", &config.http_api_https, &default.http_api_https, optional_https);
    changed(&mut fields, "srt_server", &config.srt_server, &default.srt_server, |v| match v {
        Some(server) => Expr::Some(Box::new(srt_server_expr(server))),
        None => Expr::Lit("None classic.SrtServer.Type".into()),
    });
    changed(&mut fields, "rtc_server", &config.rtc_server, &default.rtc_server, |v| match v {
        Some(server) => Expr::Some(Box::new(rtc_server_expr(server))),
        None => Expr::Lit("None classic.RtcServer.Type".into()),
    });
    changed(&mut fields, "stream_casters", &config.stream_casters, &default.stream_casters, |v| Expr::List {
        items: v.iter().map(stream_caster_expr).collect(),
        element_type: "classic.StreamCaster.Type",
    });
    changed(&mut fields, "vhosts", &config.vhosts, &default.vhosts, |v| Expr::List {
        items: v.iter().map(vhost_expr).collect(),
        element_type: "classic.Vhost.Type",
    });
    Expr::Record { completion: "classic.Config", fields }
}

fn http_server_expr(server: &HttpServer) -> Expr {
    let default = HttpServer::default();
    let mut fields = Vec::new();
    changed(&mut fields, "listen", &server.listen, &default.listen, |v| text(v));
    changed(&mut fields, "dir", &server.dir, &default.dir, |v| text(v));
    changed(&mut fields, "crossdomain", &server.crossdomain, &default.crossdomain, |v| boolean(*v));
    changed(&mut fields, "https", &server.https, &default.https, optional_https);
    Expr::Record { completion: "classic.HttpServer", fields }
}

fn optional_https(https: &Option<Https>) -> Expr {
    match https {
        Some(https) => Expr::Some(Box::new(Expr::Record {
            completion: "classic.Https",
            fields: vec![
                ("listen", text(&https.listen)),
                ("key", text(&https.key)),
                ("cert", text(&https.cert)),
            ],
        })),
        None => Expr::Lit("None classic.Https.Type".into()),
    }
}

fn srt_server_expr(server: &SrtServer) -> Expr {
    let default = SrtServer::default();
    let mut fields = Vec::new();
    changed(&mut fields, "enabled", &server.enabled, &default.enabled, |v| boolean(*v));
    changed(&mut fields, "listen", &server.listen, &default.listen, |v| text(v));
    changed(&mut fields, "latency", &server.latency, &default.latency, |v| natural(*v));
    changed(&mut fields, "passphrase", &server.passphrase, &default.passphrase, |v| text(v));
    changed(&mut fields, "pbkeylen", &server.pbkeylen, &default.pbkeylen, |v| natural(*v));
    changed(&mut fields, "default_app", &server.default_app, &default.default_app, |v| text(v));
    Expr::Record { completion: "classic.SrtServer", fields }
}

fn rtc_server_expr(server: &RtcServer) -> Expr {
    let default = RtcServer::default();
    let mut fields = Vec::new();
    changed(&mut fields, "enabled", &server.enabled, &default.enabled, |v| boolean(*v));
    changed(&mut fields, "listen", &server.listen, &default.listen, |v| text(v));
    changed(&mut fields, "candidate", &server.candidate, &default.candidate, |v| text(v));
    changed(&mut fields, "tcp", &server.tcp, &default.tcp, |v| boolean(*v));
    changed(&mut fields, "protocol", &server.protocol, &default.protocol, |v| text(v));
    Expr::Record { completion: "classic.RtcServer", fields }
}

fn stream_caster_expr(caster: &StreamCaster) -> Expr {
    let kind = match caster.caster {
        Caster::MpegtsOverUdp => "classic.StreamCaster.Caster.MpegtsOverUdp",
        Caster::Flv => "classic.StreamCaster.Caster.Flv",
        Caster::Gb28181 => "classic.StreamCaster.Caster.Gb28181",
    };
    let mut fields = vec![("caster", Expr::Lit(kind.into())), ("listen", text(&caster.listen))];
    changed(&mut fields, "enabled", &caster.enabled, &true, |v| boolean(*v));
    changed(&mut fields, "stream", &caster.stream, &DEFAULT_CASTER_STREAM.to_owned(), |v| text(v));
    changed(&mut fields, "app", &caster.app, &DEFAULT_CASTER_APP.to_owned(), |v| text(v));
    changed(&mut fields, "sip", &caster.sip, &CasterSip::default(), caster_sip_expr);
    Expr::Record { completion: "classic.StreamCaster", fields }
}

fn caster_sip_expr(sip: &CasterSip) -> Expr {
    let default = CasterSip::default();
    let mut fields = Vec::new();
    changed(&mut fields, "enabled", &sip.enabled, &default.enabled, |v| boolean(*v));
    changed(&mut fields, "listen", &sip.listen, &default.listen, |v| text(v));
    changed(&mut fields, "timeout", &sip.timeout, &default.timeout, |v| natural(*v));
    changed(&mut fields, "reinvite", &sip.reinvite, &default.reinvite, |v| natural(*v));
    changed(&mut fields, "candidate", &sip.candidate, &default.candidate, |v| text(v));
    Expr::Record { completion: "classic.StreamCaster.Sip", fields }
}

fn vhost_expr(vhost: &Vhost) -> Expr {
    let default = Vhost::default();
    // The name is always written: a reader should not have to know the default.
    let mut fields = vec![("name", text(&vhost.name))];
    changed(&mut fields, "enabled", &vhost.enabled, &default.enabled, |v| boolean(*v));
    changed(&mut fields, "min_latency", &vhost.min_latency, &default.min_latency, |v| boolean(*v));
    changed(&mut fields, "tcp_nodelay", &vhost.tcp_nodelay, &default.tcp_nodelay, |v| boolean(*v));
    changed(&mut fields, "chunk_size", &vhost.chunk_size, &default.chunk_size, |v| match v {
        Some(size) => Expr::Some(Box::new(natural(*size))),
        None => Expr::Lit("None Natural".into()),
    });
    changed(&mut fields, "play", &vhost.play, &default.play, play_expr);
    changed(&mut fields, "publish", &vhost.publish, &default.publish, publish_expr);
    changed(&mut fields, "http_remux", &vhost.http_remux, &default.http_remux, |v| match v {
        Some(remux) => Expr::Some(Box::new(http_remux_expr(remux))),
        None => Expr::Lit("None classic.HttpRemux.Type".into()),
    });
    changed(&mut fields, "http_static", &vhost.http_static, &default.http_static, |v| match v {
        Some(web) => Expr::Some(Box::new(http_static_expr(web))),
        None => Expr::Lit("None classic.HttpStatic.Type".into()),
    });
    changed(&mut fields, "dvr", &vhost.dvr, &default.dvr, |v| match v {
        Some(dvr) => Expr::Some(Box::new(dvr_expr(dvr))),
        None => Expr::Lit("None classic.Dvr.Type".into()),
    });
    changed(&mut fields, "hls", &vhost.hls, &default.hls, |v| match v {
        Some(hls) => Expr::Some(Box::new(node_block_expr("classic.Hls", hls))),
        None => Expr::Lit("None classic.Hls.Type".into()),
    });
    changed(&mut fields, "dash", &vhost.dash, &default.dash, |v| match v {
        Some(dash) => Expr::Some(Box::new(node_block_expr("classic.Dash", dash))),
        None => Expr::Lit("None classic.Dash.Type".into()),
    });
    changed(&mut fields, "forward", &vhost.forward, &default.forward, |v| {
        optional_node_block(v.as_ref(), "srs.Forward")
    });
    changed(&mut fields, "cluster", &vhost.cluster, &default.cluster, |v| {
        optional_node_block(v.as_ref(), "classic.Cluster")
    });
    changed(&mut fields, "exec", &vhost.exec, &default.exec, |v| optional_node_block(v.as_ref(), "srs.Exec"));
    changed(&mut fields, "transcode", &vhost.transcode, &default.transcode, |v| Expr::List {
        items: v.iter().map(process::transcode_entry).collect(),
        element_type: "{ id : Text, transcode : srs.Transcode.Type }",
    });
    changed(&mut fields, "ingest", &vhost.ingest, &default.ingest, |v| Expr::List {
        items: v.iter().map(process::ingest_entry).collect(),
        element_type: "{ id : Text, ingest : srs.Ingest.Type }",
    });
    changed(&mut fields, "http_hooks", &vhost.http_hooks, &default.http_hooks, |v| {
        optional_node_block(v.as_ref(), "srs.HttpHooks")
    });
    changed(&mut fields, "security", &vhost.security, &default.security, |v| {
        optional_node_block(v.as_ref(), "srs.Security")
    });
    changed(&mut fields, "refer", &vhost.refer, &default.refer, |v| {
        optional_node_block(v.as_ref(), "srs.Refer")
    });
    changed(&mut fields, "rtc", &vhost.rtc, &default.rtc, |v| optional_node_block(v.as_ref(), "classic.Rtc"));
    Expr::Record { completion: "classic.Vhost", fields }
}

/// `Some Block::{ .. }` (the whole record, see [`node_block_expr`]) or `None Block.Type`.
fn optional_node_block<T: serde::Serialize + serde_dhall::StaticType>(
    value: Option<&T>,
    completion: &'static str,
) -> Expr {
    match value {
        Some(value) => Expr::Some(Box::new(node_block_expr(completion, value))),
        None => Expr::Lit(format!("None {completion}.Type")),
    }
}

/// A block whose record is a node's own settings, written whole (`Block::{ every field }`):
/// serde_dhall prints it from the Rust type, so a new field can never be forgotten here.
fn node_block_expr<T: serde::Serialize + serde_dhall::StaticType>(completion: &str, value: &T) -> Expr {
    match serde_dhall::serialize(value).static_type_annotation().to_string() {
        Ok(text) => Expr::Lit(format!("{completion}::{text}")),
        Err(e) => Expr::Lit(format!("{completion}.default {{- not printable: {e} -}}")),
    }
}

fn dvr_expr(dvr: &crate::nodes::dvr::Config) -> Expr {
    use crate::nodes::dvr::DvrPlan;
    let default = crate::nodes::dvr::Config::default();
    let mut fields = Vec::new();
    changed(&mut fields, "dvr_apply", &dvr.dvr_apply, &default.dvr_apply, |v| {
        let items: Vec<String> = v.iter().map(|item| text_literal(item)).collect();
        Expr::Lit(format!("[ {} ]", items.join(", ")))
    });
    changed(&mut fields, "dvr_plan", &dvr.dvr_plan, &default.dvr_plan, |v| {
        Expr::Lit(format!("srs.DvrPlan.{}", if *v == DvrPlan::Segment { "Segment" } else { "Session" }))
    });
    changed(&mut fields, "dvr_path", &dvr.dvr_path, &default.dvr_path, |v| text(v));
    changed(&mut fields, "dvr_duration", &dvr.dvr_duration, &default.dvr_duration, |v| natural(*v));
    let keyframe = (&dvr.dvr_wait_keyframe, &default.dvr_wait_keyframe);
    changed(&mut fields, "dvr_wait_keyframe", keyframe.0, keyframe.1, |v| boolean(*v));
    changed(&mut fields, "time_jitter", &dvr.time_jitter, &default.time_jitter, |v| {
        Expr::Lit(format!("srs.TimeJitter.{}", time_jitter_tag(*v)))
    });
    Expr::Record { completion: "classic.Dvr", fields }
}

fn play_expr(play: &Play) -> Expr {
    let default = Play::default();
    let mut fields = Vec::new();
    changed(&mut fields, "gop_cache", &play.gop_cache, &default.gop_cache, |v| boolean(*v));
    let max_frames = (&play.gop_cache_max_frames, &default.gop_cache_max_frames);
    changed(&mut fields, "gop_cache_max_frames", max_frames.0, max_frames.1, |v| natural(*v));
    changed(&mut fields, "queue_length", &play.queue_length, &default.queue_length, |v| natural(*v));
    changed(&mut fields, "time_jitter", &play.time_jitter, &default.time_jitter, |v| {
        Expr::Lit(format!("srs.TimeJitter.{}", time_jitter_tag(*v)))
    });
    changed(&mut fields, "mix_correct", &play.mix_correct, &default.mix_correct, |v| boolean(*v));
    changed(&mut fields, "atc", &play.atc, &default.atc, |v| boolean(*v));
    changed(&mut fields, "mw_latency", &play.mw_latency, &default.mw_latency, |v| natural(*v));
    changed(&mut fields, "mw_msgs", &play.mw_msgs, &default.mw_msgs, |v| natural(*v));
    Expr::Record { completion: "classic.Play", fields }
}

fn publish_expr(publish: &Publish) -> Expr {
    let default = Publish::default();
    let mut fields = Vec::new();
    let first = (&publish.firstpkt_timeout, &default.firstpkt_timeout);
    changed(&mut fields, "firstpkt_timeout", first.0, first.1, |v| natural(*v));
    changed(&mut fields, "normal_timeout", &publish.normal_timeout, &default.normal_timeout, |v| natural(*v));
    Expr::Record { completion: "classic.Publish", fields }
}

fn http_remux_expr(remux: &HttpRemux) -> Expr {
    let default = HttpRemux::default();
    let mut fields = Vec::new();
    changed(&mut fields, "mount", &remux.mount, &default.mount, |v| text(v));
    Expr::Record { completion: "classic.HttpRemux", fields }
}

fn http_static_expr(web: &HttpStatic) -> Expr {
    let default = HttpStatic::default();
    let mut fields = Vec::new();
    changed(&mut fields, "mount", &web.mount, &default.mount, |v| text(v));
    changed(&mut fields, "dir", &web.dir, &default.dir, |v| text(v));
    Expr::Record { completion: "classic.HttpStatic", fields }
}

fn time_jitter_tag(jitter: TimeJitter) -> &'static str {
    match jitter {
        TimeJitter::Full => "Full",
        TimeJitter::Zero => "Zero",
        TimeJitter::Off => "Off",
    }
}

/// Renders `expr`; continuation lines are indented by `column` spaces.
fn render(expr: &Expr, column: usize) -> String {
    let pad = " ".repeat(column);
    match expr {
        Expr::Lit(text) => text.clone(),
        Expr::Some(inner) => format!("Some {}", render(inner, column + 2)),
        Expr::Record { completion, fields } if fields.is_empty() => format!("{completion}::{{=}}"),
        Expr::Record { completion, fields } if fields.len() == 1 && matches!(fields[0].1, Expr::Lit(_)) => {
            format!("{completion}::{{ {} = {} }}", fields[0].0, render(&fields[0].1, column))
        }
        Expr::Record { completion, fields } => {
            let mut out = format!("{completion}::{{\n");
            for (name, value) in fields {
                if let Expr::List { items, .. } = value {
                    if !items.is_empty() {
                        out.push_str(&format!("{pad}, {name} =\n{pad}  {}\n", render(value, column + 2)));
                        continue;
                    }
                }
                out.push_str(&format!("{pad}, {name} = {}\n", render(value, column + 2)));
            }
            out.push_str(&format!("{pad}}}"));
            out
        }
        Expr::List { items, element_type } if items.is_empty() => format!("[] : List {element_type}"),
        Expr::List { items, .. } => {
            let mut out = String::new();
            for (index, item) in items.iter().enumerate() {
                out.push_str(if index == 0 { "[ " } else { ", " });
                out.push_str(&render(item, column + 2));
                out.push('\n');
                out.push_str(&pad);
            }
            out.push(']');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::hooks::HttpHooks;
    use crate::control::security::{Refer, RuleAction, RuleMethod, Security, SecurityRule};

    #[test]
    fn defaults_print_as_empty_completions() {
        let text = graph_text(&Config::default(), Path::new("nodes/package.dhall"), &[]);
        assert!(
            text.starts_with(
                "let srs = ./nodes/package.dhall\n\nlet classic = ./nodes/classic/package.dhall\n"
            ),
            "{text}"
        );
        assert!(text.contains("classic.toGraph\n      classic.Config::{=}"), "{text}");
    }

    #[test]
    fn only_changed_fields_are_printed() {
        let mut config = Config { listen: "1936".into(), ..Config::default() };
        config.vhosts[0].play.mw_latency = 100;
        config.vhosts[0].http_remux = Some(HttpRemux::default());
        let text = graph_text(&config, Path::new("p.dhall"), &["from srs.conf".into()]);
        assert!(text.starts_with("-- from srs.conf\nlet srs = ./p.dhall\n"), "{text}");
        assert!(text.contains(", listen = \"1936\""), "{text}");
        assert!(text.contains(", play = classic.Play::{ mw_latency = 100 }"), "{text}");
        assert!(text.contains(", http_remux = Some classic.HttpRemux::{=}"), "{text}");
        assert!(!text.contains("gop_cache"), "defaults are left out: {text}");
    }

    /// Evaluates printed text with the real catalogue and the Rust type as annotation.
    fn evaluate(config: &Config) -> Config {
        let catalogue = Path::new(env!("CARGO_MANIFEST_DIR")).join("nodes/package.dhall");
        let classic = catalogue.parent().unwrap().join("classic/package.dhall");
        let text = format!(
            "let srs = {}\nlet classic = {}\nin  {}",
            import_path(&catalogue),
            import_path(&classic),
            config_text(config)
        );
        serde_dhall::from_str(&text)
            .imports(true)
            .static_type_annotation()
            .parse::<Config>()
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn printed_text_evaluates_back_to_the_same_value() {
        assert_eq!(evaluate(&Config::default()), Config::default());
        let mut vhost = Vhost {
            name: "a.example.com".into(),
            enabled: false,
            forward: Some(crate::nodes::forward::Config {
                destination: vec!["127.0.0.1:19350".into()],
                backend: None,
            }),
            cluster: Some(super::super::classic::Cluster {
                remote: true,
                origin: vec!["10.0.0.1:1935".into(), "10.0.0.2:1936".into()],
                token_traverse: true,
                origin_cluster: false,
                coworkers: vec!["127.0.0.1:9091".into()],
            }),
            exec: Some(crate::nodes::exec::Config { publish: vec!["./p [stream]".into()], max_processes: 0 }),
            transcode: vec![super::super::classic::NamedTranscode {
                id: "transcode/live".into(),
                transcode: crate::nodes::transcode::Config {
                    ffmpeg: "ffmpeg".into(),
                    scope: "live".into(),
                    engines: vec![crate::nodes::ffmpeg_engine::Config {
                        vcodec: "libx264".into(),
                        vwidth: 320,
                        vheight: 180,
                        vparams: vec![crate::nodes::ffmpeg_engine::Param {
                            name: "g".into(),
                            value: "50".into(),
                        }],
                        ..crate::nodes::ffmpeg_engine::engine("sd")
                    }],
                    hls_master: "./objs/nginx/html/[app]/[stream]_abr.m3u8".into(),
                    hls_variant: crate::nodes::transcode::DEFAULT_HLS_VARIANT.into(),
                    max_processes: 0,
                },
            }],
            ingest: vec![super::super::classic::NamedIngest {
                id: "ingest/cam".into(),
                ingest: crate::nodes::ingest::Config {
                    input_type: "stream".into(),
                    url: "rtsp://10.0.0.2/cam".into(),
                    stream: "live/cam".into(),
                    ffmpeg: "ffmpeg".into(),
                    ffmpeg_input: vec!["-rtsp_transport".into(), "tcp".into()],
                    ffmpeg_output: Vec::new(),
                    native: true,
                    repeat: true,
                    hls_max_bandwidth: 0,
                    max_processes: 0,
                },
            }],
            rtc: Some(super::super::classic::VhostRtc {
                rtmp_to_rtc: true,
                pli_interval: 2500,
                opus_bitrate: 64_000,
                ..Default::default()
            }),
            min_latency: true,
            tcp_nodelay: true,
            chunk_size: Some(4096),
            play: Play {
                gop_cache: false,
                gop_cache_max_frames: 10,
                queue_length: 5,
                time_jitter: TimeJitter::Zero,
                mix_correct: true,
                atc: true,
                mw_latency: 0,
                mw_msgs: 0,
            },
            publish: Publish { firstpkt_timeout: 1000, normal_timeout: 2000 },
            http_remux: Some(HttpRemux { mount: "[vhost]/live/[stream] \"$x\".flv".into() }),
            http_static: Some(HttpStatic { mount: "[vhost]/vod".into(), dir: "./a \"b\"".into() }),
            dvr: Some(crate::nodes::dvr::Config {
                dvr_plan: crate::nodes::dvr::DvrPlan::Segment,
                ..crate::nodes::dvr::Config::default()
            }),
            hls: Some(crate::nodes::hls_out::Config {
                hls_fragment: 2.5,
                segment_format: crate::nodes::hls_out::SegmentFormat::Fmp4,
                hls_on_error: crate::nodes::hls_out::HlsOnError::Ignore,
                hls_key_url: "https://keys.example/".into(),
                ..crate::nodes::hls_out::Config::default()
            }),
            dash: Some(crate::nodes::dash_out::Config {
                dash_window_size: 3,
                ..crate::nodes::dash_out::Config::default()
            }),
            http_hooks: Some(HttpHooks {
                on_publish: vec!["http://127.0.0.1:8085/a".into(), "http://127.0.0.1:8085/b".into()],
                on_hls: vec!["http://h/\"$x\"".into()],
                ..crate::conf::control_blocks::default_http_hooks()
            }),
            security: Some(Security {
                enabled: true,
                rules: vec![
                    SecurityRule {
                        action: RuleAction::Deny,
                        method: RuleMethod::Play,
                        target: "10.0.0.1".into(),
                    },
                    SecurityRule {
                        action: RuleAction::Allow,
                        method: RuleMethod::Publish,
                        target: "all".into(),
                    },
                ],
            }),
            refer: Some(Refer {
                enabled: true,
                all: vec!["a.com".into()],
                publish: Vec::new(),
                play: vec![],
            }),
        };
        let config = Config {
            listen: "127.0.0.1:1936".into(),
            chunk_size: 4096,
            http_server: Some(HttpServer {
                listen: "8081".into(),
                dir: "html".into(),
                crossdomain: false,
                https: Some(Https::with_listen("8443")),
            }),
            http_api_https: Some(Https::with_listen("1990")),
            srt_server: Some(SrtServer {
                latency: 300,
                passphrase: "0123456789ab".into(),
                ..SrtServer::default()
            }),
            rtc_server: None,
            stream_casters: vec![
                StreamCaster {
                    enabled: true,
                    caster: Caster::MpegtsOverUdp,
                    listen: "8935".into(),
                    stream: "live/cam".into(),
                    app: "live".into(),
                    sip: CasterSip::default(),
                },
                StreamCaster {
                    enabled: false,
                    caster: Caster::Flv,
                    listen: "8936".into(),
                    stream: DEFAULT_CASTER_STREAM.into(),
                    app: "live".into(),
                    sip: CasterSip::default(),
                },
                StreamCaster {
                    enabled: true,
                    caster: Caster::Gb28181,
                    listen: "9000".into(),
                    stream: DEFAULT_CASTER_STREAM.into(),
                    app: "cams".into(),
                    sip: CasterSip { enabled: false, reinvite: 9, ..CasterSip::default() },
                },
            ],
            vhosts: vec![vhost.clone(), Vhost::default()],
            max_connections: 20,
            server_id: Some("vid-test".into()),
            utc_time: true,
            http_api: Some(crate::nodes::http_api::Config {
                listen: "127.0.0.1:1986".into(),
                bearer_token: Some("t".into()),
                ..crate::conf::control_blocks::default_http_api()
            }),
        };
        assert_eq!(evaluate(&config), config);
        vhost.play.time_jitter = TimeJitter::Off;
        let config =
            Config { vhosts: vec![vhost], http_server: Some(HttpServer::default()), ..Config::default() };
        assert_eq!(evaluate(&config), config);
        let empty = Config { vhosts: Vec::new(), ..Config::default() };
        assert_eq!(evaluate(&empty), empty);
    }

    #[test]
    fn text_literals_escape_quotes_backslashes_interpolation_and_controls() {
        assert_eq!(text_literal("a\"b\\c${x}\n"), "\"a\\\"b\\\\c\\u0024{x}\\u000A\"");
    }

    #[test]
    fn import_paths_quote_odd_components() {
        assert_eq!(
            import_path(Path::new("/tmp/srs 1/nodes/package.dhall")),
            "/tmp/\"srs 1\"/nodes/package.dhall"
        );
        assert_eq!(import_path(Path::new("nodes/package.dhall")), "./nodes/package.dhall");
        assert_eq!(import_path(Path::new("../nodes/package.dhall")), "../nodes/package.dhall");
    }
}
