//! `EdgePull`: SRS's edge `cluster { mode remote; origin a b; }` for players. The first player
//! (RTMP or HTTP-FLV) of a stream this server lacks makes the edge play it from the first origin
//! that answers and publish it here; later players share that one upstream, and it is closed
//! `close_after_ms` after the last player left.
//!
//! Origins are tried in order. When the upstream dies mid-stream the next origin is dialled at
//! once, and the stream stays *one publication* across the switch, so players never see an
//! unpublish (the vhost's `time_jitter` smooths the timestamp jump between origins). Only when
//! every origin failed in a round is the publication ended (players stay on their hubs) and the
//! round tried again with backoff while players wait.
//!
//! A graph-scoped source without a task of its own: players start pulls through
//! [`player_joined`], which finds the node in the graph. An `OriginCluster` pulls the same way,
//! its one origin per round looked up in its Redis directory.
//!
//! ```dhall
//! srs.node "edge" (srs.Node.EdgePull srs.EdgePull::{ origin = [ "10.0.0.1:1935", "10.0.0.2:1935" ] })
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::sync::watch;

use super::flv_frames::FlvToFrames;
use super::{Engine, NodeSpec, Publication};
use crate::codec::flv::TagType;
use crate::codec::rtmp::MediaMessageKind;
use crate::graph::{Ports, StreamKey};
use crate::media::{MediaEvent, TimestampUnwrapper};
use crate::nodes::NodeKind;
use crate::servers::redis::Redis;
use crate::servers::rtmp_client::RtmpPlayer;

/// How long an origin has to accept the play: short, so a dead one costs little of the failover.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// An upstream silent this long is dropped and the next origin tried.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an origin that accepted the play has to send its first message. An origin with the
/// stream sends its metadata and sequence headers (and gop cache) right after Play.Start; one
/// without it accepts and waits (as SRS and we do), which must not hold the next origin back.
const FIRST_MEDIA_TIMEOUT: Duration = Duration::from_millis(500);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long an origin cluster's pull outlives its last player.
const DEFAULT_CLOSE_AFTER: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// SRS's `origin`: `host:port` of each origin, tried in order.
    pub origin: Vec<String>,
    /// The vhost whose players it serves (None: every vhost).
    pub vhost: Option<String>,
    /// SRS's `token_traverse`: a player is admitted only if an origin accepts an RTMP connect
    /// with the player's URL and parameters (the origin's `on_connect` decides).
    pub token_traverse: bool,
    /// How long the upstream stays after the last player left.
    pub close_after_ms: u64,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Source { produces: super::rtmp_in::rtmp_caps() }
    }

    fn validate(&self) -> Result<(), String> {
        validate_origins(&self.origin)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("origin", self.origin.join(" "))]
    }
}

/// Each origin must be `host:port` (or `host`, port 1935).
pub fn validate_origins(origins: &[String]) -> Result<(), String> {
    if origins.is_empty() {
        return Err("field `origin` is empty: name at least one `host:port`".into());
    }
    for origin in origins {
        if origin.is_empty() || origin.contains('/') {
            return Err(format!("field `origin`: `{origin}` is not `host:port`"));
        }
    }
    Ok(())
}

/// Whether a cluster node with `vhost` serves streams of `key`.
pub fn serves(vhost: &Option<String>, key: &StreamKey) -> bool {
    vhost.as_ref().is_none_or(|name| *name == key.vhost)
}

/// Where a pull finds its origins: listed (an edge), or the origin cluster's directory.
#[derive(Debug, Clone)]
enum Origins {
    Listed(Vec<String>),
    Directory {
        redis: Redis,
        own: String,
    },
    /// SRS 4's origin cluster: the coworker that has the stream, asked over its HTTP API.
    Coworkers(Vec<String>),
}

impl Origins {
    /// The origins to try this round, in order.
    async fn current(&self, key: &StreamKey) -> Vec<String> {
        match self {
            Origins::Listed(origins) => origins.clone(),
            Origins::Directory { redis, own } => {
                super::origin_cluster::lookup(redis, key, own).await.into_iter().collect()
            }
            Origins::Coworkers(coworkers) => {
                super::origin_coworkers::discover(coworkers, key, &key.vhost).await.into_iter().collect()
            }
        }
    }
}

/// The node of the graph that pulls `key` when a player wants it here: an `EdgePull` serving its
/// vhost, else an `OriginCluster` or `OriginCoworkers`. Its index, its origins and how long a pull
/// outlives its players.
fn puller_for(engine: &Engine, key: &StreamKey) -> Option<(NodeIndex, Origins, Duration)> {
    let graph = engine.graph();
    let nodes = || graph.file.nodes.iter().enumerate();
    let edge = nodes().find_map(|(i, named)| match &named.node {
        NodeSpec::EdgePull(config) if serves(&config.vhost, key) => Some((
            NodeIndex::new(i),
            Origins::Listed(config.origin.clone()),
            Duration::from_millis(config.close_after_ms),
        )),
        _ => None,
    });
    edge.or_else(|| {
        nodes().find_map(|(i, named)| match &named.node {
            NodeSpec::OriginCluster(config) => {
                let redis = Redis::new(&config.redis, super::origin_cluster::REDIS_TIMEOUT).ok()?;
                let origins = Origins::Directory { redis, own: config.rtmp.clone() };
                Some((NodeIndex::new(i), origins, DEFAULT_CLOSE_AFTER))
            }
            NodeSpec::OriginCoworkers(config) if serves(&config.vhost, key) => {
                let origins = Origins::Coworkers(config.coworkers.clone());
                Some((NodeIndex::new(i), origins, DEFAULT_CLOSE_AFTER))
            }
            _ => None,
        })
    })
}

/// The streams pulled now: how many players each has (in `Engine::shared`).
#[derive(Debug, Default)]
pub struct EdgePulls {
    streams: Mutex<HashMap<StreamKey, watch::Sender<usize>>>,
}

impl EdgePulls {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StreamKey, watch::Sender<usize>>> {
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets `key` if it still has no player; `false` when one came meanwhile.
    fn forget_if_idle(&self, key: &StreamKey) -> bool {
        let mut streams = self.lock();
        if streams.get(key).is_some_and(|players| *players.borrow() > 0) {
            return false;
        }
        streams.remove(key);
        true
    }

    /// Streams pulled now, for tests and the log.
    pub fn pulled(&self) -> Vec<StreamKey> {
        self.lock().keys().cloned().collect()
    }
}

/// A player counted on an edge pull; dropping it is the player leaving.
#[derive(Debug)]
pub struct EdgePlayer {
    pulls: Arc<EdgePulls>,
    key: StreamKey,
}

impl Drop for EdgePlayer {
    fn drop(&mut self) {
        if let Some(players) = self.pulls.lock().get(&self.key) {
            players.send_modify(|n| *n = n.saturating_sub(1));
        }
    }
}

/// A player of `key` arrived (already admitted, `param` its query string): on an edge that does
/// not have the stream, this starts the pull from the origins (or joins the one running).
/// `None` where no `EdgePull` serves the vhost, or the stream is published here directly.
pub fn player_joined(engine: &Engine, key: &StreamKey, param: &str) -> Option<EdgePlayer> {
    let (node, origins, close_after) = puller_for(engine, key)?;
    let pulls = engine.shared::<EdgePulls>();
    let mut streams = pulls.lock();
    if let Some(players) = streams.get(key) {
        players.send_modify(|n| *n += 1);
    } else {
        if engine.live_streams().contains(key) {
            return None;
        }
        let (players, watcher) = watch::channel(1);
        streams.insert(key.clone(), players);
        tracing::info!(stream = %key, "edge: first player, pulling from the origins");
        let pull = Pull {
            engine: engine.clone(),
            node,
            origins,
            close_after,
            key: key.clone(),
            param: param.to_owned(),
        };
        engine.spawn(pull.run(watcher, Arc::clone(&pulls)));
    }
    drop(streams);
    Some(EdgePlayer { pulls, key: key.clone() })
}

/// The RTMP URL of `key` on `origin`, with the player's parameters (as SRS's edge passes them).
pub fn origin_url(origin: &str, key: &StreamKey, param: &str) -> String {
    super::forward::destination_url(origin, key, param)
}

struct Pull {
    engine: Engine,
    node: NodeIndex,
    origins: Origins,
    close_after: Duration,
    key: StreamKey,
    param: String,
}

/// Why one upstream attempt ended.
enum Attempt {
    /// No player for `close_after_ms`.
    Idle,
    Shutdown,
    /// A reload changed how the stream is pulled.
    Reconfigured,
    Ended(Result<(), String>),
}

impl Pull {
    async fn run(mut self, mut players: watch::Receiver<usize>, pulls: Arc<EdgePulls>) {
        let mut close_after = self.close_after;
        let mut upstream = Upstream::new(&self.engine, self.node, &self.key);
        let mut backoff = FIRST_BACKOFF;
        let mut settings = signature(&self.engine, &self.key);
        'rounds: loop {
            let mut media_this_round = false;
            for origin in &self.origins.current(&self.key).await {
                let url = origin_url(origin, &self.key, &self.param);
                let before = upstream.messages;
                let attempt = tokio::select! {
                    biased;
                    _ = self.engine.shutdown_signal() => Attempt::Shutdown,
                    _ = idle(&mut players, close_after) => Attempt::Idle,
                    _ = reconfigured(&self.engine, &self.key, &settings) => Attempt::Reconfigured,
                    result = upstream.pull(&url) => Attempt::Ended(result),
                };
                media_this_round |= upstream.messages > before;
                match attempt {
                    Attempt::Shutdown => return upstream.end().await,
                    Attempt::Reconfigured => {
                        upstream.end().await;
                        if !self.follow_reload(&pulls, &mut upstream, &mut settings) {
                            return;
                        }
                        (close_after, backoff) = (self.close_after, FIRST_BACKOFF);
                        continue 'rounds;
                    }
                    Attempt::Idle => {
                        upstream.end().await;
                        if pulls.forget_if_idle(&self.key) {
                            tracing::info!(stream = %self.key, "edge: no player left, upstream closed");
                            return;
                        }
                    }
                    Attempt::Ended(Ok(())) => {
                        tracing::warn!(stream = %self.key, %url, "edge: the origin ended the stream, trying the next")
                    }
                    Attempt::Ended(Err(why)) => {
                        tracing::warn!(stream = %self.key, %url, "edge: origin failed, trying the next: {why}")
                    }
                }
            }
            if media_this_round {
                backoff = FIRST_BACKOFF;
                continue;
            }
            // No origin has it now: players wait on their hubs for the next round.
            upstream.end().await;
            tracing::warn!(stream = %self.key, retry_in = ?backoff, "edge: no origin serves the stream");
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = reconfigured(&self.engine, &self.key, &settings) => {
                    if !self.follow_reload(&pulls, &mut upstream, &mut settings) {
                        return;
                    }
                    (close_after, backoff) = (self.close_after, FIRST_BACKOFF);
                    continue 'rounds;
                }
                _ = self.engine.shutdown_signal() => return,
                _ = idle(&mut players, close_after) => {
                    if pulls.forget_if_idle(&self.key) {
                        tracing::info!(stream = %self.key, "edge: no player left, pull stopped");
                        return;
                    }
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

impl Pull {
    /// A reload changed how the stream is pulled (its publication already ended): takes the
    /// newest graph's node and origins, so the pull starts again from the new list (players stay
    /// on their hubs and see a republish). `false` when no node pulls the stream any more.
    fn follow_reload(&mut self, pulls: &EdgePulls, upstream: &mut Upstream, settings: &mut String) -> bool {
        let engine = self.engine.current();
        let Some((node, origins, close_after)) = puller_for(&engine, &self.key) else {
            tracing::info!(stream = %self.key, "edge: a reload removed the pull, upstream closed");
            pulls.lock().remove(&self.key);
            return false;
        };
        tracing::info!(stream = %self.key, ?origins, "edge: a reload changed the origins, pulling again");
        *settings = signature(&engine, &self.key);
        *upstream = Upstream::new(&engine, node, &self.key);
        (self.node, self.origins, self.close_after, self.engine) = (node, origins, close_after, engine);
        true
    }
}

/// What a pull of `key` is made from in `engine`'s graph, compared across reloads.
fn signature(engine: &Engine, key: &StreamKey) -> String {
    format!("{:?}", puller_for(engine, key))
}

/// How often a pull checks whether a reload changed its origins.
const RECONFIGURE_CHECK: Duration = Duration::from_secs(1);

/// Resolves once the newest graph pulls `key` differently than `settings` (a reload changed the
/// origins, the node or its settings).
async fn reconfigured(engine: &Engine, key: &StreamKey, settings: &str) {
    loop {
        tokio::time::sleep(RECONFIGURE_CHECK).await;
        if signature(&engine.current(), key) != settings {
            return;
        }
    }
}

/// Resolves once there has been no player for `close_after`.
async fn idle(players: &mut watch::Receiver<usize>, close_after: Duration) {
    loop {
        if players.wait_for(|n| *n == 0).await.is_err() {
            return;
        }
        match tokio::time::timeout(close_after, players.wait_for(|n| *n > 0)).await {
            Err(_) => return,
            Ok(Err(_)) => return,
            Ok(Ok(_)) => {}
        }
    }
}

/// The pulled stream as one publication here, fed by one origin after another.
struct Upstream {
    engine: Engine,
    node: NodeIndex,
    key: StreamKey,
    publication: Option<Publication>,
    frames: FlvToFrames,
    events: Vec<MediaEvent>,
    /// Media messages received from any origin, so a round can tell whether one served.
    messages: u64,
}

impl Upstream {
    fn new(engine: &Engine, node: NodeIndex, key: &StreamKey) -> Upstream {
        Upstream {
            engine: engine.clone(),
            node,
            key: key.clone(),
            publication: None,
            frames: FlvToFrames::default(),
            events: Vec::new(),
            messages: 0,
        }
    }

    /// Plays `url` into the publication until the origin ends or fails.
    async fn pull(&mut self, url: &str) -> Result<(), String> {
        // An origin of SRS's origin cluster that lacks the stream answers an RTMP 302 to the one
        // that has it, followed once at once as SRS's edge does.
        let mut player = RtmpPlayer::play_following(url, CONNECT_TIMEOUT).await.map_err(|e| e.to_string())?;
        tracing::info!(stream = %self.key, %url, "edge: playing from origin");
        // Each origin has its own clock; a jump between origins is the vhost jitter's to smooth.
        let mut unwrapper = TimestampUnwrapper::default();
        let mut received = false;
        loop {
            let limit = if received { IDLE_TIMEOUT } else { FIRST_MEDIA_TIMEOUT };
            let next = tokio::time::timeout(limit, player.next())
                .await
                .map_err(|_| format!("no media for {limit:?}"))?;
            received = true;
            let Some(media) = next.map_err(|e| e.to_string())? else { return Ok(()) };
            self.messages += 1;
            let tag_type = match media.kind {
                MediaMessageKind::Audio => TagType::Audio,
                MediaMessageKind::Video => TagType::Video,
                MediaMessageKind::Data => TagType::Script,
            };
            let timestamp = unwrapper.unwrap(media.timestamp);
            if let Err(e) = self.frames.push_into(tag_type, timestamp, media.payload, &mut self.events) {
                tracing::warn!(stream = %self.key, %url, "edge skips a bad message from the origin: {e}");
                continue;
            }
            if self.events.is_empty() {
                continue;
            }
            if self.publication.is_none() {
                let publication =
                    self.engine.publish(self.node, self.key.clone()).map_err(|e| e.to_string())?;
                self.publication = Some(publication);
            }
            if let Some(publication) = &mut self.publication {
                for event in self.events.drain(..) {
                    publication.send(event).await;
                }
            }
        }
    }

    /// Ends the publication (players stay on their hubs); the next media publishes again.
    async fn end(&mut self) {
        self.frames = FlvToFrames::default();
        if let Some(publication) = self.publication.take() {
            publication.end().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_host_port_and_urls_carry_the_players_parameters() {
        assert!(validate_origins(&[]).unwrap_err().contains("origin"));
        assert!(validate_origins(&["rtmp://h/live".into()]).is_err());
        assert!(validate_origins(&["127.0.0.1:1935".into(), "h".into()]).is_ok());
        let key = StreamKey::new(crate::graph::stream_key::DEFAULT_VHOST, "live", "s");
        assert_eq!(origin_url("10.0.0.1:1936", &key, "?token=a"), "rtmp://10.0.0.1:1936/live/s?token=a");
        assert!(serves(&None, &key) && !serves(&Some("a.com".into()), &key));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_waits_for_close_after_without_players() {
        let (players, mut watcher) = watch::channel(1usize);
        let limit = Duration::from_secs(3);
        let waited = tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            idle(&mut watcher, limit).await;
            started.elapsed()
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        players.send_replace(0);
        tokio::time::sleep(Duration::from_secs(1)).await;
        players.send_replace(1);
        tokio::time::sleep(Duration::from_secs(1)).await;
        players.send_replace(0);
        let elapsed = waited.await.unwrap();
        assert_eq!(elapsed, Duration::from_secs(6), "the timer restarts when a player comes back");
    }
}
