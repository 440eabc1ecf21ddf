//! `Transcode`: SRS's vhost `transcode` block: per published stream, one FFmpeg per enabled engine
//! plays the stream from this server's own RTMP listener and publishes its rendition back (by
//! default `[stream]_[engine]`), where it is served like any stream.
//!
//! A loop guard as SRS's: the streams an engine outputs are remembered while they run
//! (`TranscodedOutputs`), and a stream that is one of them is not transcoded again. `scope`
//! restricts the node to an app or an `app/stream` (SRS's block argument).
//!
//! ```dhall
//! srs.node "transcode" (srs.Node.Transcode srs.Transcode::{ engines = [ srs.FfmpegEngine::{ name = "sd", vcodec = "libx264", vwidth = 320, vheight = 180 } ] })
//! ```

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::SystemTime;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::ffmpeg_engine;
use super::process_vars::{rtmp_url_stream as output_key, ProcessVars};
use super::transcode_master::{Master, Rendition, WINDOW};
use crate::codec::hls::Variant;
use crate::control::process::{supervise, ProcessSpec, Supervised};
use crate::control::process_table::ProcessTable;
use crate::graph::engine::{LiveStream, Outputs};
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::{Caps, Ports, StreamKey};
use crate::media::MediaEvent;
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::{NodeKind, StreamCtx};

/// A rendition's media playlist, relative to the master playlist (HlsOut's default names).
pub const DEFAULT_HLS_VARIANT: &str = "[stream]_[engine].m3u8";

/// SRS's default rendition URL.
pub const DEFAULT_OUTPUT: &str = "rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine]";

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// The FFmpeg program.
    pub ffmpeg: String,
    /// SRS's block argument: empty for every stream, `app`, or `app/stream`.
    pub scope: String,
    pub engines: Vec<ffmpeg_engine::Config>,
    /// Where to write an HLS master playlist of the renditions (a path template with `[vhost]
    /// [app] [stream]`; empty: none), e.g. `./objs/nginx/html/[app]/[stream]_abr.m3u8`.
    pub hls_master: String,
    /// Each rendition's media playlist as the master names it, relative to it (`[stream]` and
    /// `[engine]` filled), matching the `HlsOut` that writes the renditions.
    pub hls_variant: String,
    /// Child processes the graph runs at most (the smallest any node names wins; 0: the default, 64).
    pub max_processes: u64,
}

/// The streams engines are publishing now (SRS's `_transcoded_url`): never transcoded again.
#[derive(Debug, Default)]
pub struct TranscodedOutputs(Mutex<HashSet<StreamKey>>);

impl TranscodedOutputs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<StreamKey>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Sink { accepts: Caps::any() }
    }

    fn validate(&self) -> Result<(), String> {
        if self.ffmpeg.is_empty() {
            return Err("field `ffmpeg` is empty: name the FFmpeg program".into());
        }
        if self.engines.is_empty() {
            return Err("field `engines` is empty: give at least one engine".into());
        }
        for engine in &self.engines {
            engine.validate().map_err(|e| format!("field `engines`: {e}"))?;
        }
        Ok(())
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        let names: Vec<&str> = self.engines.iter().map(|e| e.name.as_str()).collect();
        vec![("ffmpeg", self.ffmpeg.clone()), ("engines", names.join(" "))]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, _: &mut ScopePlan) -> anyhow::Result<()> {
        node.engine
            .shared::<ProcessTable>()
            .lower_limit(usize::try_from(self.max_processes).unwrap_or(usize::MAX));
        Ok(())
    }

    fn run(&self, ctx: StreamCtx, input: mpsc::Receiver<MediaEvent>, _: Outputs) -> BoxFuture<'static, ()> {
        Box::pin(run(ctx, self.clone(), input))
    }
}

/// Whether SRS's block argument takes `key`.
fn in_scope(scope: &str, key: &StreamKey) -> bool {
    let scope = scope.trim_matches('/');
    scope.is_empty() || scope == key.app || scope == format!("{}/{}", key.app, key.stream)
}

/// The URL FFmpeg plays the stream from: this server's RTMP listener.
fn input_url(key: &StreamKey, port: u16) -> String {
    let vhost = if key.vhost == DEFAULT_VHOST { String::new() } else { format!("?vhost={}", key.vhost) };
    format!("rtmp://127.0.0.1:{port}/{}{vhost}/{}", key.app, key.stream)
}

async fn run(ctx: StreamCtx, config: Config, mut input: mpsc::Receiver<MediaEvent>) {
    let outputs = ctx.engine.shared::<TranscodedOutputs>();
    let mut children: Vec<Supervised> = Vec::new();
    let mut mine: Vec<StreamKey> = Vec::new();
    let mut master: Option<(PathBuf, Master)> = None;
    if !in_scope(&config.scope, &ctx.key) {
        tracing::debug!(node = ctx.name(), stream = %ctx.key, "out of the transcode scope");
    } else if outputs.lock().contains(&ctx.key) {
        tracing::info!(node = ctx.name(), stream = %ctx.key, "an engine's output: not transcoded again");
    } else {
        let vars = ProcessVars::for_stream(&ctx);
        let source = input_url(&ctx.key, vars.port);
        let table = ctx.engine.shared::<ProcessTable>();
        let mut renditions = Vec::new();
        for engine in config.engines.iter().filter(|e| e.enabled) {
            let template = if engine.output.is_empty() { DEFAULT_OUTPUT } else { &engine.output };
            let vars = ProcessVars { engine: engine.name.clone(), ..vars.clone() };
            let output = vars.fill(template, SystemTime::now());
            let key = output_key(&output);
            if let Some(key) = &key {
                outputs.lock().insert(key.clone());
                mine.push(key.clone());
            }
            renditions.push(rendition(&config, engine, &vars, key));
            let spec = ProcessSpec {
                program: config.ffmpeg.clone(),
                args: engine.args(&source, &output),
                node: ctx.name().to_owned(),
                stream: Some(ctx.key.clone()),
                stdout: None,
            };
            match supervise(&table, spec) {
                Ok(child) => children.push(child),
                Err(e) => {
                    tracing::warn!(node = ctx.name(), stream = %ctx.key, engine = %engine.name, "not transcoding: {e}")
                }
            }
        }
        if !config.hls_master.is_empty() {
            let path = PathBuf::from(ctx.key.fill(&config.hls_master));
            let mut renditions = Master::new(renditions);
            if write_master(&ctx, &path, &mut renditions).await {
                master = Some((path, renditions));
            }
        }
    }
    let mut measure = tokio::time::interval(WINDOW);
    loop {
        tokio::select! {
            event = input.recv() => {
                if matches!(event, None | Some(MediaEvent::End)) {
                    break;
                }
            }
            _ = measure.tick(), if master.is_some() => {
                if let Some((path, renditions)) = &mut master {
                    renditions.observe(std::time::Instant::now(), |key| ctx.engine.publication(key).map(look));
                    write_master(&ctx, path, renditions).await;
                }
            }
        }
    }
    for child in children {
        child.stop().await;
    }
    if let Some((path, _)) = master {
        let _ = tokio::fs::remove_file(&path).await;
    }
    let mut published = outputs.lock();
    for key in mine {
        published.remove(&key);
    }
}

/// An engine's rendition as the master playlist lists it: its stream `key` (when it is one of
/// ours), with its settings' bandwidth and size until the stream is measured.
fn rendition(
    config: &Config,
    engine: &ffmpeg_engine::Config,
    vars: &ProcessVars,
    key: Option<StreamKey>,
) -> Rendition {
    let video = engine.video_codec() != "vn" && engine.vwidth > 0 && engine.vheight > 0;
    let configured = Variant {
        uri: vars.fill(&config.hls_variant, SystemTime::now()),
        bandwidth: (engine.vbitrate + engine.abitrate) * 1000,
        resolution: video.then_some((engine.vwidth, engine.vheight)),
    };
    Rendition::new(key, configured)
}

/// A live stream's payload bytes so far and its picture size, as a rendition is measured.
fn look(stream: LiveStream) -> (u64, Option<(u64, u64)>) {
    let video = stream.stats.description().and_then(|d| d.video.as_ref().map(|v| (v.width, v.height)));
    let bytes = stream.stats.bytes.load(std::sync::atomic::Ordering::Relaxed);
    (bytes, video.map(|(width, height)| (u64::from(width), u64::from(height))))
}

/// Writes the master playlist atomically when it changed; whether the playlist is in place.
async fn write_master(ctx: &StreamCtx, path: &std::path::Path, master: &mut Master) -> bool {
    let Some(text) = master.text_to_write() else { return true };
    let temporary = path.with_extension("m3u8.tmp");
    let write = async {
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::write(&temporary, text).await?;
        tokio::fs::rename(&temporary, path).await
    };
    match write.await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(node = ctx.name(), stream = %ctx.key, path = %path.display(), "cannot write the master playlist: {e}");
            master.unwritten();
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_output_names_a_rendition_stream_that_the_guard_recognizes() {
        let key = StreamKey::new(DEFAULT_VHOST, "live", "cam");
        let vars =
            ProcessVars { key: Some(key.clone()), port: 1935, engine: "sd".into(), ..Default::default() };
        let url = vars.fill(DEFAULT_OUTPUT, SystemTime::now());
        assert_eq!(url, "rtmp://127.0.0.1:1935/live?vhost=__defaultVhost__/cam_sd");
        assert_eq!(output_key(&url), Some(StreamKey::new(DEFAULT_VHOST, "live", "cam_sd")));
        let other = output_key("rtmp://127.0.0.1:1935/live?vhost=a.com/cam_hd").unwrap();
        assert_eq!(other, StreamKey::new("a.com", "live", "cam_hd"));
        assert_eq!(output_key("rtmp://h/live/x"), Some(StreamKey::new(DEFAULT_VHOST, "live", "x")));
        assert_eq!(input_url(&key, 19350), "rtmp://127.0.0.1:19350/live/cam");
    }

    #[test]
    fn scope_is_all_an_app_or_one_stream() {
        let key = StreamKey::new(DEFAULT_VHOST, "live", "cam");
        assert!(in_scope("", &key) && in_scope("live", &key) && in_scope("live/cam", &key));
        assert!(!in_scope("other", &key) && !in_scope("live/x", &key));
    }
}
