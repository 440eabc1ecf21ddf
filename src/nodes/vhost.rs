//! `Vhost`: SRS's vhost as a router node: streams whose vhost matches `name` take this branch,
//! with SRS's play and publish settings for the nodes after it.
//!
//! Passes media through, applying `time_jitter` (unless `atc`) once for the stream. Serving
//! sinks downstream read `gop_cache`, `queue_length`, `mw_latency`, `chunk_size`... from here.
//!
//! ```dhall
//! srs.Node.Vhost srs.Vhost::{ name = "__defaultVhost__", mw_latency = 350 }
//! ```

use futures::future::BoxFuture;
use petgraph::algo::has_path_connecting;
use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::mpsc;

use super::jitter::{JitterCorrector, TimeJitter};
use crate::control::admission::VhostRules;
use crate::control::hooks::{HookEvent, HttpHooks};
use crate::control::registry::Registry;
use crate::control::security::{Refer, Security};
use crate::graph::engine::Outputs;
use crate::graph::hub::HubConfig;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::{Ports, StreamKey};
use crate::media::MediaEvent;
use crate::nodes::Engine;
use crate::nodes::{NodeKind, StreamCtx};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// The vhost name; `__defaultVhost__` takes streams no other vhost claims.
    pub name: String,
    /// `enabled`: a disabled vhost refuses its clients (it does not fall back to the default).
    pub enabled: bool,
    /// `play.gop_cache`: keep the last gop so players start at once.
    pub gop_cache: bool,
    /// `play.gop_cache_max_frames`: clear the cache past this many messages (0: no cap).
    pub gop_cache_max_frames: u64,
    /// `play.queue_length` in seconds: how far a player may fall behind before it skips.
    pub queue_length: u64,
    /// `play.mw_latency` in milliseconds: batch writes to players this long.
    pub mw_latency: u64,
    /// `play.mw_msgs`: batch at least this many messages (ignored in realtime mode).
    pub mw_msgs: u64,
    /// `min_latency`: realtime mode, every frame written as it comes.
    pub min_latency: bool,
    /// `play.time_jitter`.
    pub time_jitter: TimeJitter,
    /// `play.mix_correct`: interleave audio and video in timestamp order.
    pub mix_correct: bool,
    /// `play.atc`: absolute time, no jitter correction.
    pub atc: bool,
    /// `publish.firstpkt_timeout` in milliseconds.
    pub firstpkt_timeout: u64,
    /// `publish.normal_timeout` in milliseconds.
    pub normal_timeout: u64,
    /// `tcp_nodelay` on player and publisher sockets.
    pub tcp_nodelay: bool,
    /// RTMP chunk size sent to players.
    pub chunk_size: u64,
    /// `http_hooks`: SRS's HTTP callbacks for this vhost's clients and streams.
    pub http_hooks: Option<HttpHooks>,
    /// `security`: allow/deny publish and play by IP.
    pub security: Option<Security>,
    /// `refer`: pageUrl domains allowed to connect, publish, play.
    pub refer: Option<Refer>,
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("field `name` is empty: name the vhost, or use `__defaultVhost__`".into());
        }
        if !(128..=65_536).contains(&self.chunk_size) {
            return Err(format!("field `chunk_size` is {}: SRS accepts 128 to 65536", self.chunk_size));
        }
        if self.queue_length == 0 {
            return Err("field `queue_length` is 0: give players at least 1 second of queue".into());
        }
        if let Some(security) = &self.security {
            security.validate().map_err(|e| format!("field `security`: {e}"))?;
        }
        Ok(())
    }

    /// What admission (security, refer, hooks) reads of this vhost.
    pub fn rules(&self) -> VhostRules<'_> {
        VhostRules {
            vhost: &self.name,
            security: self.security.as_ref(),
            refer: self.refer.as_ref(),
            http_hooks: self.http_hooks.as_ref(),
        }
    }

    pub fn summary(&self) -> Vec<(&'static str, String)> {
        vec![
            ("name", self.name.clone()),
            ("gop_cache", self.gop_cache.to_string()),
            ("mw_latency", format!("{} ms", self.effective_mw_latency_ms())),
            ("time_jitter", format!("{:?}", self.time_jitter).to_lowercase()),
        ]
    }

    pub fn hub_config(&self) -> HubConfig {
        HubConfig {
            gop_cache: self.gop_cache,
            gop_cache_max_frames: usize::try_from(self.gop_cache_max_frames).unwrap_or(usize::MAX),
            queue_length_ms: i64::try_from(self.queue_length.saturating_mul(1000)).unwrap_or(i64::MAX),
            merge_ms: i64::try_from(self.effective_mw_latency_ms()).unwrap_or(i64::MAX),
            merge_msgs: if self.min_latency {
                0
            } else {
                usize::try_from(self.mw_msgs).unwrap_or(usize::MAX)
            },
            ..HubConfig::default()
        }
    }

    /// Merged-write latency; realtime mode writes each frame as it comes.
    pub fn effective_mw_latency_ms(&self) -> u64 {
        if self.min_latency {
            0
        } else {
            self.mw_latency
        }
    }
}

impl Default for Config {
    /// SRS's defaults; the Dhall catalogue's `Vhost.default` must equal these (tested).
    fn default() -> Config {
        Config {
            name: DEFAULT_VHOST.to_owned(),
            enabled: true,
            gop_cache: true,
            gop_cache_max_frames: 2500,
            queue_length: 30,
            mw_latency: 350,
            mw_msgs: 8,
            min_latency: false,
            time_jitter: TimeJitter::Full,
            mix_correct: false,
            atc: false,
            firstpkt_timeout: 20_000,
            normal_timeout: 5_000,
            tcp_nodelay: false,
            chunk_size: 60_000,
            http_hooks: None,
            security: None,
            refer: None,
        }
    }
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::passthrough()
    }

    fn validate(&self) -> Result<(), String> {
        Config::validate(self)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        Config::summary(self)
    }

    fn routes_vhost(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn run(
        &self,
        _: StreamCtx,
        input: mpsc::Receiver<MediaEvent>,
        outputs: Outputs,
    ) -> BoxFuture<'static, ()> {
        let config = self.clone();
        Box::pin(async move { run(&config, input, outputs).await })
    }
}

async fn run(config: &Config, mut input: mpsc::Receiver<MediaEvent>, mut outputs: Outputs) {
    let algorithm = if config.atc { TimeJitter::Off } else { config.time_jitter };
    let mut corrector = JitterCorrector::new(algorithm);
    let mut mixer = config.mix_correct.then(super::jitter::MixCorrector::default);
    while let Some(event) = input.recv().await {
        let end = matches!(event, MediaEvent::End);
        let ready = match mixer.as_mut() {
            Some(mixer) => mixer.push(event),
            None => vec![event],
        };
        for event in ready {
            if !outputs.send(corrector.correct_event(event)).await {
                return;
            }
        }
        if end {
            break;
        }
    }
}

/// SRS's vhost lookup: the `Vhost` node named `requested`, else `__defaultVhost__`; `None` when
/// the graph has vhost nodes but neither matches, or the one found is disabled. A graph without
/// vhost nodes takes every stream as the default vhost.
pub fn resolve(engine: &Engine, requested: &str) -> Option<String> {
    resolve_enabled(engine, requested).ok()
}

/// [`resolve`], saying why no vhost serves `requested`.
pub fn resolve_enabled(engine: &Engine, requested: &str) -> Result<String, String> {
    let graph = engine.graph();
    let vhosts: Vec<&Config> =
        graph.dag.node_indices().filter_map(|n| graph.node(n).node.as_vhost()).collect();
    if vhosts.is_empty() {
        return Ok(DEFAULT_VHOST.to_owned());
    }
    let found =
        [requested, DEFAULT_VHOST].into_iter().find_map(|wanted| vhosts.iter().find(|v| v.name == wanted));
    match found {
        Some(vhost) if vhost.enabled => Ok(vhost.name.clone()),
        Some(vhost) => Err(format!("vhost `{}` is disabled", vhost.name)),
        None => Err(format!("vhost `{requested}` not found (and there is no `{DEFAULT_VHOST}`)")),
    }
}

/// The settings of the `Vhost` node named `name` (SRS's vhost lookup done by the caller).
pub fn config_named(engine: &Engine, name: &str) -> Option<Config> {
    let graph = engine.graph();
    graph.dag.node_indices().filter_map(|n| graph.node(n).node.as_vhost()).find(|c| c.name == name).cloned()
}

/// The settings of the vhost serving `key` at `node`: its `Vhost` node upstream, else SRS's defaults.
/// For sinks that finish files (DVR, HLS): posts `event` to the hooks of the vhost serving the
/// stream at `ctx`'s node, in the background.
pub fn notify_file_hook(ctx: &StreamCtx, event: HookEvent) {
    let Some(hooks) = settings_for(&ctx.engine, ctx.node, &ctx.key).http_hooks else { return };
    let registry = ctx.engine.shared::<Registry>();
    let tc_url = registry.publisher_info(&ctx.key).map(|info| info.tc_url).unwrap_or_default();
    crate::control::hooks::notify_async(registry, &hooks, &ctx.key, event, &tc_url);
}

/// For HLS sinks: fetches the vhost's `on_hls_notify` URLs for a new segment (listed as
/// `ts_url`), in the background, reading `read_bytes` of each answer.
pub fn notify_hls_segment(ctx: &StreamCtx, ts_url: &str, param: &str, read_bytes: u64) {
    let Some(hooks) = settings_for(&ctx.engine, ctx.node, &ctx.key).http_hooks else { return };
    if hooks.on_hls_notify.is_empty() {
        return;
    }
    let registry = ctx.engine.shared::<Registry>();
    let notify = crate::control::hooks::HlsNotify {
        key: ctx.key.clone(),
        ts_url: ts_url.to_owned(),
        param: param.to_owned(),
        read_bytes: usize::try_from(read_bytes).unwrap_or(usize::MAX),
    };
    crate::control::hooks::notify_hls_segment(registry, &hooks, notify);
}

pub fn settings_for(engine: &Engine, node: NodeIndex, key: &StreamKey) -> Config {
    let graph = engine.graph();
    graph
        .dag
        .node_indices()
        .filter_map(|n| graph.node(n).node.as_vhost().map(|config| (n, config)))
        .find(|(n, config)| config.name == key.vhost && has_path_connecting(&graph.dag, *n, node, None))
        .map(|(_, config)| config.clone())
        .unwrap_or_default()
}
