//! The printed form of the vhost blocks that run child processes (`exec`, `transcode`,
//! `ingest`): record completions with only the fields that differ from the catalogue's defaults.
//! (Written whole, an engine's 21 fields made `srs -c` evaluate seconds longer.)

use super::{boolean, changed, natural, render, text, text_literal, Expr};
use crate::conf::classic::{NamedIngest, NamedTranscode};
use crate::nodes::ffmpeg_engine::{self, Param};
use crate::nodes::transcode::DEFAULT_OUTPUT;

/// `{ id = "..", transcode = srs.Transcode::{ .. } }`.
pub(super) fn transcode_entry(named: &NamedTranscode) -> Expr {
    let config = &named.transcode;
    let mut fields = Vec::new();
    changed(&mut fields, "ffmpeg", &config.ffmpeg.as_str(), &"ffmpeg", |v| text(v));
    changed(&mut fields, "scope", &config.scope.as_str(), &"", |v| text(v));
    fields.push((
        "engines",
        Expr::List {
            items: config.engines.iter().map(engine_expr).collect(),
            element_type: "srs.FfmpegEngine.Type",
        },
    ));
    changed(&mut fields, "max_processes", &config.max_processes, &0, |v| natural(*v));
    let record = render(&Expr::Record { completion: "srs.Transcode", fields }, 0);
    Expr::Lit(format!("{{ id = {}, transcode = {record} }}", text_literal(&named.id)))
}

/// `{ id = "..", ingest = srs.Ingest::{ .. } }`.
pub(super) fn ingest_entry(named: &NamedIngest) -> Expr {
    let config = &named.ingest;
    let mut fields = Vec::new();
    changed(&mut fields, "input_type", &config.input_type.as_str(), &"stream", |v| text(v));
    fields.push(("url", text(&config.url)));
    changed(&mut fields, "stream", &config.stream.as_str(), &"live/livestream", |v| text(v));
    changed(&mut fields, "ffmpeg", &config.ffmpeg.as_str(), &"ffmpeg", |v| text(v));
    changed(&mut fields, "ffmpeg_input", &config.ffmpeg_input, &Vec::new(), |v| words(v));
    changed(&mut fields, "ffmpeg_output", &config.ffmpeg_output, &Vec::new(), |v| words(v));
    changed(&mut fields, "native", &config.native, &true, |v| boolean(*v));
    changed(&mut fields, "repeat", &config.repeat, &true, |v| boolean(*v));
    changed(&mut fields, "max_processes", &config.max_processes, &0, |v| natural(*v));
    let record = render(&Expr::Record { completion: "srs.Ingest", fields }, 0);
    Expr::Lit(format!("{{ id = {}, ingest = {record} }}", text_literal(&named.id)))
}

fn engine_expr(engine: &ffmpeg_engine::Config) -> Expr {
    let default =
        ffmpeg_engine::Config { output: DEFAULT_OUTPUT.into(), ..ffmpeg_engine::engine(&engine.name) };
    let mut fields = vec![("name", text(&engine.name))];
    changed(&mut fields, "enabled", &engine.enabled, &default.enabled, |v| boolean(*v));
    for (name, value, base) in [
        ("vcodec", &engine.vcodec, &default.vcodec),
        ("vprofile", &engine.vprofile, &default.vprofile),
        ("vpreset", &engine.vpreset, &default.vpreset),
        ("acodec", &engine.acodec, &default.acodec),
        ("iformat", &engine.iformat, &default.iformat),
        ("oformat", &engine.oformat, &default.oformat),
        ("output", &engine.output, &default.output),
    ] {
        changed(&mut fields, name, value, base, |v| text(v));
    }
    for (name, value) in [
        ("vbitrate", engine.vbitrate),
        ("vfps", engine.vfps),
        ("vwidth", engine.vwidth),
        ("vheight", engine.vheight),
        ("vthreads", engine.vthreads),
        ("abitrate", engine.abitrate),
        ("asample_rate", engine.asample_rate),
        ("achannels", engine.achannels),
    ] {
        changed(&mut fields, name, &value, &0, |v| natural(*v));
    }
    for (name, value) in [
        ("vparams", &engine.vparams),
        ("aparams", &engine.aparams),
        ("perfile", &engine.perfile),
        ("vfilter", &engine.vfilter),
    ] {
        changed(&mut fields, name, value, &Vec::new(), |v| params(v));
    }
    Expr::Record { completion: "srs.FfmpegEngine", fields }
}

fn params(params: &[Param]) -> Expr {
    let items: Vec<String> = params
        .iter()
        .map(|p| format!("{{ name = {}, value = {} }}", text_literal(&p.name), text_literal(&p.value)))
        .collect();
    Expr::Lit(format!("[ {} ]", items.join(", ")))
}

fn words(words: &[String]) -> Expr {
    let items: Vec<String> = words.iter().map(|w| text_literal(w)).collect();
    Expr::Lit(format!("[ {} ]", items.join(", ")))
}
