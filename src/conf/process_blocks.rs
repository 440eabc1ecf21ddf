//! The vhost blocks that run child processes: `exec { }`, `transcode [scope] { engine NAME { } }`
//! and `ingest ID { input { } ffmpeg; engine { } }`, each onto its node's own `Config`.
//!
//! They are read as whole blocks by the vhost table (SRS has no `SRS_*` variables for them, and
//! `transcode` and `ingest` repeat), then mapped by the tables here, which report unsupported
//! directives as every table does.

use super::mapping::Scope;
use super::table::{Block, Enabled, Entry, Kind};
use super::values::{bad, text};
use super::{ConfError, Directive};
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::nodes::ffmpeg_engine::{self, Param};
use crate::nodes::process_vars::rtmp_url_stream;
use crate::nodes::{exec, ingest, transcode};

/// SRS's bundled FFmpeg path in its sample configurations.
const SRS_FFMPEG: &str = "./objs/ffmpeg/bin/ffmpeg";

/// `vhost { exec { enabled on; publish PROGRAM ARGS; ... } }`.
static EXEC: Block<Enabled<exec::Config>> = Block {
    name: "exec",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|c| &mut c.enabled) },
        Entry {
            name: "publish",
            default: "",
            kind: Kind::Lines(|c, d, _| {
                c.config.publish.push(d.args.join(" "));
                Ok(())
            }),
        },
    ],
};

/// `transcode [scope] { enabled; ffmpeg; engine NAME { } ... }`.
static TRANSCODE: Block<Enabled<transcode::Config>> = Block {
    name: "transcode",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|c| &mut c.enabled) },
        Entry {
            name: "ffmpeg",
            default: "",
            kind: Kind::Custom(|c, d, s| ffmpeg(&mut c.config.ffmpeg, d, s)),
        },
        Entry {
            name: "engine",
            default: "",
            kind: Kind::Lines(|c, d, s| {
                let mut engine = new_engine(d.arg0());
                ENGINE.map(d, &mut engine, s)?;
                c.config.engines.push(engine);
                Ok(())
            }),
        },
    ],
};

/// `engine NAME { }` of `transcode` and `ingest`.
static ENGINE: Block<ffmpeg_engine::Config> = Block {
    name: "engine",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|c| &mut c.enabled) },
        Entry { name: "iformat", default: "flv", kind: Kind::Text(|c| &mut c.iformat) },
        Entry { name: "perfile", default: "", kind: Kind::Custom(|c, d, _| params(&mut c.perfile, d)) },
        Entry { name: "vfilter", default: "", kind: Kind::Custom(|c, d, _| params(&mut c.vfilter, d)) },
        Entry { name: "vcodec", default: "", kind: Kind::Text(|c| &mut c.vcodec) },
        Entry {
            name: "vbitrate",
            default: "0",
            kind: Kind::Natural { field: |c| &mut c.vbitrate, min: 0, max: 1 << 30 },
        },
        Entry {
            name: "vfps",
            default: "0",
            kind: Kind::Natural { field: |c| &mut c.vfps, min: 0, max: 1000 },
        },
        Entry {
            name: "vwidth",
            default: "0",
            kind: Kind::Natural { field: |c| &mut c.vwidth, min: 0, max: 16384 },
        },
        Entry {
            name: "vheight",
            default: "0",
            kind: Kind::Natural { field: |c| &mut c.vheight, min: 0, max: 16384 },
        },
        Entry {
            name: "vthreads",
            default: "1",
            kind: Kind::Natural { field: |c| &mut c.vthreads, min: 0, max: 256 },
        },
        Entry { name: "vprofile", default: "", kind: Kind::Text(|c| &mut c.vprofile) },
        Entry { name: "vpreset", default: "", kind: Kind::Text(|c| &mut c.vpreset) },
        Entry { name: "vparams", default: "", kind: Kind::Custom(|c, d, _| params(&mut c.vparams, d)) },
        Entry { name: "acodec", default: "", kind: Kind::Text(|c| &mut c.acodec) },
        Entry {
            name: "abitrate",
            default: "0",
            kind: Kind::Natural { field: |c| &mut c.abitrate, min: 0, max: 1 << 20 },
        },
        Entry {
            name: "asample_rate",
            default: "0",
            kind: Kind::Natural { field: |c| &mut c.asample_rate, min: 0, max: 384_000 },
        },
        Entry {
            name: "achannels",
            default: "0",
            kind: Kind::Natural { field: |c| &mut c.achannels, min: 0, max: 64 },
        },
        Entry { name: "aparams", default: "", kind: Kind::Custom(|c, d, _| params(&mut c.aparams, d)) },
        Entry { name: "oformat", default: "flv", kind: Kind::Text(|c| &mut c.oformat) },
        Entry { name: "output", default: "", kind: Kind::Text(|c| &mut c.output) },
    ],
};

/// What an `ingest` block says, before its engine's output names the stream.
struct IngestDraft {
    enabled: bool,
    input_type: String,
    url: String,
    ffmpeg: String,
    engines: Vec<ffmpeg_engine::Config>,
}

static INGEST: Block<IngestDraft> = Block {
    name: "ingest",
    entries: &[
        Entry { name: "enabled", default: "off", kind: Kind::FlagOff(|c| &mut c.enabled) },
        Entry { name: "input", default: "", kind: Kind::Lines(|c, d, s| INPUT.map(d, c, s)) },
        Entry { name: "ffmpeg", default: "", kind: Kind::Custom(|c, d, s| ffmpeg(&mut c.ffmpeg, d, s)) },
        Entry {
            name: "engine",
            default: "",
            kind: Kind::Lines(|c, d, s| {
                let mut engine = new_engine(if d.arg0().is_empty() { "ingest" } else { d.arg0() });
                ENGINE.map(d, &mut engine, s)?;
                c.engines.push(engine);
                Ok(())
            }),
        },
    ],
};

static INPUT: Block<IngestDraft> = Block {
    name: "input",
    entries: &[
        Entry { name: "type", default: "file", kind: Kind::Text(|c| &mut c.input_type) },
        Entry { name: "url", default: "", kind: Kind::Text(|c| &mut c.url) },
    ],
};

fn new_engine(name: &str) -> ffmpeg_engine::Config {
    ffmpeg_engine::Config { enabled: false, output: String::new(), ..ffmpeg_engine::copying(name, "flv") }
}

/// `ffmpeg PATH`: SRS's bundled path becomes `ffmpeg` from PATH when that file is missing.
fn ffmpeg(field: &mut String, d: &Directive, scope: &mut Scope) -> Result<(), ConfError> {
    let path = text(d)?;
    if path == SRS_FFMPEG && !std::path::Path::new(SRS_FFMPEG).exists() {
        scope
            .warn(d, format!("`{SRS_FFMPEG}` (SRS's bundled FFmpeg) is missing: running `ffmpeg` from PATH"));
        *field = "ffmpeg".into();
    } else {
        *field = path;
    }
    Ok(())
}

/// A `{ name value; ... }` block as `-name value` pairs, in order.
fn params(field: &mut Vec<Param>, d: &Directive) -> Result<(), ConfError> {
    field.clear();
    for child in &d.children {
        field.push(Param { name: child.name.clone(), value: child.args.join(" ") });
    }
    Ok(())
}

/// `exec { }`: `Some` when enabled with at least one `publish`.
pub(super) fn exec(block: &Directive, scope: &mut Scope) -> Result<Option<exec::Config>, ConfError> {
    let config = EXEC.map_enabled(block, exec::Config::default(), scope)?;
    Ok(config.filter(|c| !c.publish.is_empty()))
}

/// `transcode [scope] { }`: `Some((id, config))` when enabled; the id names its node.
pub(super) fn transcode(
    block: &Directive,
    scope: &mut Scope,
) -> Result<Option<(String, transcode::Config)>, ConfError> {
    let initial = transcode::Config {
        ffmpeg: "ffmpeg".into(),
        scope: block.arg0().to_owned(),
        engines: Vec::new(),
        hls_master: String::new(),
        hls_variant: transcode::DEFAULT_HLS_VARIANT.into(),
        max_processes: 0,
    };
    let Some(config) = TRANSCODE.map_enabled(block, initial, scope)? else { return Ok(None) };
    if !config.engines.iter().any(|e| e.enabled) {
        scope.warn(block, "a transcode without an enabled engine does nothing: ignored".into());
        return Ok(None);
    }
    let id =
        if config.scope.is_empty() { "transcode".to_owned() } else { format!("transcode/{}", config.scope) };
    Ok(Some((id, config)))
}

/// `ingest ID { }` of vhost `vhost`: when enabled, one `(id, config)` per engine, as SRS runs one
/// FFmpeg per engine: `ingest/<ID>` for the first, `ingest/<ID>/<engine>` for the others. Each
/// publishes the stream its engine's `output` names (SRS's
/// `rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]`).
pub(super) fn ingest(
    block: &Directive,
    vhost: &str,
    scope: &mut Scope,
) -> Result<Vec<(String, ingest::Config)>, ConfError> {
    let mut draft = IngestDraft {
        enabled: false,
        input_type: "file".into(),
        url: String::new(),
        ffmpeg: "ffmpeg".into(),
        engines: Vec::new(),
    };
    INGEST.map(block, &mut draft, scope)?;
    if !draft.enabled {
        return Ok(Vec::new());
    }
    let id = block.arg0().to_owned();
    if draft.engines.is_empty() {
        return Err(bad(block, format!("ingest `{id}` has no `engine` to name its output")));
    }
    let mut nodes = Vec::new();
    for (index, engine) in draft.engines.iter().enumerate() {
        let node_id =
            if index == 0 { format!("ingest/{id}") } else { format!("ingest/{id}/{}", engine.name) };
        let input = IngestInput { input_type: &draft.input_type, url: &draft.url, ffmpeg: &draft.ffmpeg };
        nodes.push((node_id, ingest_engine(block, &id, vhost, &input, engine)?));
    }
    Ok(nodes)
}

/// What an ingest's engines share: where FFmpeg reads from, and which FFmpeg.
struct IngestInput<'a> {
    input_type: &'a str,
    url: &'a str,
    ffmpeg: &'a str,
}

/// The `Ingest` node of one engine of `ingest ID`.
fn ingest_engine(
    block: &Directive,
    id: &str,
    vhost: &str,
    input: &IngestInput<'_>,
    engine: &ffmpeg_engine::Config,
) -> Result<ingest::Config, ConfError> {
    let output = engine.output.replace("[vhost]", vhost).replace("[port]", "1935");
    let key = rtmp_url_stream(&output).ok_or_else(|| {
        bad(block, format!("ingest `{id}`: engine `output` `{}` names no stream", engine.output))
    })?;
    let stream =
        if key.vhost == DEFAULT_VHOST { format!("{}/{}", key.app, key.stream) } else { key.to_string() };
    let copies = engine.video_codec() == "copy" && engine.audio_codec() == "copy";
    engine.validate().map_err(|e| bad(block, format!("ingest `{id}`: {e}")))?;
    Ok(ingest::Config {
        input_type: input.input_type.to_owned(),
        url: input.url.to_owned(),
        stream,
        ffmpeg: input.ffmpeg.to_owned(),
        // SRS's ingest reads its input in whatever format FFmpeg finds (`iformat` is for transcode).
        ffmpeg_input: if copies {
            Vec::new()
        } else {
            ffmpeg_engine::Config { iformat: "off".into(), ..engine.clone() }.input_args()
        },
        ffmpeg_output: if copies { Vec::new() } else { engine.codec_args() },
        native: true,
        repeat: true,
        hls_max_bandwidth: 0,
        max_processes: 0,
    })
}
