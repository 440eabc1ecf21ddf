//! `OriginCluster`: origins that share a stream directory in Redis (SRS 4's `origin_cluster`,
//! with Redis where SRS asks its `coworkers` over HTTP). Each origin records the streams
//! published on it, `srs:stream:<vhost>/<app>/<stream>` → its RTMP `host:port`, with a TTL
//! refreshed while the stream lives and deleted at unpublish, so a dead origin's entries expire.
//! A player of a stream this origin lacks makes it look the stream up and play it from the
//! origin that has it, published here for every player to share (`edge_pull`'s machinery).
//!
//! With `redirect`, an HTTP-FLV player of a stream another origin has is answered `302` to that
//! origin's `http` address (its own entry, `srs:http:<vhost>/<app>/<stream>`) instead.
//!
//! Redis unreachable: one error line per outage, local streams keep working, lookups find
//! nothing (players wait, as for a stream not yet published).
//!
//! ```dhall
//! srs.node "cluster" (srs.Node.OriginCluster srs.OriginCluster::{ redis = "redis://127.0.0.1:6379", rtmp = "10.0.0.1:1935" })
//! ```

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use super::edge_pull::EdgePulls;
use crate::graph::{Ports, StreamKey};
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::{Engine, NodeKind};
use crate::servers::redis::Redis;

/// How long Redis has to answer a batch of commands.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the directory is brought up to date with the streams published here.
const TICK: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// `redis://host:port` of the directory.
    pub redis: String,
    /// This origin's RTMP `host:port` as the other origins reach it (what its entries say).
    pub rtmp: String,
    /// Seconds an entry lives without a refresh (refreshed every third of it while live).
    pub ttl_s: u64,
    /// This origin's HTTP `host:port` (where its HTTP-FLV is served), recorded beside the RTMP
    /// address so other origins can redirect HTTP players here.
    pub http: Option<String>,
    /// Answer an HTTP-FLV player of a stream another origin has with `302` to that origin (SRS's
    /// origin cluster redirects) instead of pulling it; RTMP players are still pulled for.
    pub redirect: bool,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Source { produces: super::rtmp_in::rtmp_caps() }
    }

    fn validate(&self) -> Result<(), String> {
        Redis::new(&self.redis, REDIS_TIMEOUT).map_err(|e| format!("field `redis`: {e}"))?;
        super::edge_pull::validate_origins(std::slice::from_ref(&self.rtmp))
            .map_err(|e| e.replace("`origin`", "`rtmp`"))?;
        if let Some(http) = &self.http {
            super::edge_pull::validate_origins(std::slice::from_ref(http))
                .map_err(|e| e.replace("`origin`", "`http`"))?;
        }
        if self.ttl_s < 3 {
            return Err("field `ttl_s` must be at least 3 (entries are refreshed every third of it)".into());
        }
        Ok(())
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("redis", self.redis.clone()), ("rtmp", self.rtmp.clone())]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        let redis = Redis::new(&self.redis, REDIS_TIMEOUT)?;
        let engine = node.engine.clone();
        plan.source(node.name, Box::pin(register(engine, redis, self.clone())));
        Ok(())
    }
}

/// The directory key of a stream.
pub fn directory_key(key: &StreamKey) -> String {
    format!("srs:stream:{key}")
}

/// The directory key of a stream's HTTP address.
pub fn http_key(key: &StreamKey) -> String {
    format!("srs:http:{key}")
}

/// Where to send an HTTP player of `key` (`path` its request's path and query) when this
/// origin lacks the stream and redirects: `http://<owner's http>/<path>`.
pub async fn redirect_for(engine: &Engine, key: &StreamKey, path: &str) -> Option<String> {
    let config = engine.graph().file.nodes.iter().find_map(|named| match &named.node {
        super::NodeSpec::OriginCluster(config) if config.redirect => Some(config.clone()),
        _ => None,
    })?;
    if engine.live_streams().contains(key) {
        return None;
    }
    let redis = Redis::new(&config.redis, REDIS_TIMEOUT).ok()?;
    let own = config.http.clone().unwrap_or_default();
    let owner = lookup_key(&redis, key, &http_key(key), &own).await?;
    tracing::info!(stream = %key, %owner, "origin cluster: redirecting an HTTP player");
    Some(format!("http://{owner}{path}"))
}

/// Keeps the directory's entries for the streams published here: set at publish, refreshed
/// every third of the TTL, deleted at unpublish.
async fn register(engine: Engine, redis: Redis, config: Config) {
    let ttl = Duration::from_secs(config.ttl_s);
    let mut registered: HashMap<StreamKey, Instant> = HashMap::new();
    let mut reachable = true;
    tracing::info!(redis = redis.address(), rtmp = %config.rtmp, "origin cluster: recording streams in redis");
    let shutdown = engine.shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = &mut shutdown => break,
        }
        // Streams pulled from another origin are that origin's to record.
        let pulled = engine.shared::<EdgePulls>().pulled();
        let live: Vec<StreamKey> =
            engine.live_streams().into_iter().filter(|k| !pulled.contains(k)).collect();
        let now = Instant::now();
        let mut commands = Vec::new();
        let mut set = Vec::new();
        for key in &live {
            if registered.get(key).is_none_or(|at| now.duration_since(*at) >= ttl / 3) {
                let ex = config.ttl_s.to_string();
                commands.push(vec![
                    "SET".into(),
                    directory_key(key),
                    config.rtmp.clone(),
                    "EX".into(),
                    ex.clone(),
                ]);
                if let Some(http) = &config.http {
                    commands.push(vec!["SET".into(), http_key(key), http.clone(), "EX".into(), ex]);
                }
                set.push(key.clone());
            }
        }
        let gone: Vec<StreamKey> = registered.keys().filter(|k| !live.contains(k)).cloned().collect();
        commands.extend(gone.iter().map(|key| vec!["DEL".into(), directory_key(key), http_key(key)]));
        if commands.is_empty() {
            continue;
        }
        match redis.run(&commands).await {
            Ok(_) => {
                if !reachable {
                    tracing::info!(redis = redis.address(), "origin cluster: redis reachable again");
                }
                reachable = true;
                for key in set {
                    registered.insert(key, now);
                }
                for key in gone {
                    registered.remove(&key);
                }
            }
            Err(e) => {
                if reachable {
                    tracing::error!(
                        "origin cluster: redis unreachable, streams are not recorded for the other origins (local streams keep working): {e}"
                    );
                }
                reachable = false;
            }
        }
    }
    if !registered.is_empty() {
        let commands: Vec<Vec<String>> =
            registered.keys().map(|key| vec!["DEL".into(), directory_key(key), http_key(key)]).collect();
        let _ = redis.run(&commands).await;
    }
}

/// The origin that has `key`, from the directory; `None` when no origin recorded it, its entry
/// is malformed (logged), it names `own` (this origin), or Redis does not answer (logged).
pub async fn lookup(redis: &Redis, key: &StreamKey, own: &str) -> Option<String> {
    lookup_key(redis, key, &directory_key(key), own).await
}

async fn lookup_key(redis: &Redis, key: &StreamKey, entry: &str, own: &str) -> Option<String> {
    match redis.get(entry).await {
        Ok(Some(value)) => {
            let text = String::from_utf8_lossy(&value).into_owned();
            let valid = super::edge_pull::validate_origins(std::slice::from_ref(&text)).is_ok()
                && text.len() <= 255
                && !text.contains(char::is_whitespace);
            if !valid {
                tracing::warn!(stream = %key, entry = %text.escape_debug(), "origin cluster: malformed directory entry ignored");
                return None;
            }
            (text != own).then_some(text)
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(stream = %key, "origin cluster: lookup failed: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_naming_the_field() {
        let config = Config {
            redis: "redis://127.0.0.1:6379".into(),
            rtmp: "127.0.0.1:1935".into(),
            ttl_s: 10,
            http: None,
            redirect: false,
        };
        assert!(config.validate().is_ok());
        let bad = Config { redis: "redis://u@h/1".into(), ..config.clone() };
        assert!(bad.validate().unwrap_err().contains("redis"));
        let bad = Config { rtmp: "rtmp://h/live".into(), ..config.clone() };
        assert!(bad.validate().unwrap_err().contains("rtmp"));
        assert!(Config { ttl_s: 1, ..config }.validate().unwrap_err().contains("ttl_s"));
        let key = StreamKey::new("__defaultVhost__", "live", "s");
        assert_eq!(directory_key(&key), "srs:stream:__defaultVhost__/live/s");
    }
}
