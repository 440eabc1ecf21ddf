//! SRS's HLS play sessions (`hls_ctx`, `hls_ts_ctx`): an HTTP player of a live playlist is a
//! client like an RTMP or HTTP-FLV player, admitted once (security, refer, `on_play`), listed in
//! the registry as `hls-play` while it keeps asking, and ended with `on_stop` once it stops.
//!
//! `HttpStatic` asks [`live_stream`] whether a requested `.m3u8` is the playlist an `HlsOut`
//! writes for a stream being published now (the graph's `HlsOut` settings and the engine's live
//! streams say so, so `HlsOut` knows nothing of sessions). Such a request without a known
//! `hls_ctx` opens a session and is redirected (302) to the same URL with `hls_ctx=<ctx>`; a
//! request carrying a known ctx (the playlist, or a segment when `hls_ts_ctx` rewrote its URI)
//! refreshes it. A session nobody asked for in twice the longer of `hls_window` and the target
//! duration ends (a player reloads the playlist at least once per target duration; SRS ends
//! sessions after about twice `hls_window`). At most [`MAX_SESSIONS`] live at once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use petgraph::algo::has_path_connecting;
use petgraph::graph::NodeIndex;

use super::live_playlists::normalize;
use super::{hls_out, vhost, Engine, NodeSpec};
use crate::control::admission;
use crate::control::hooks::HookEvent;
use crate::control::registry::{ClientGuard, ClientKind, Registry};
use crate::control::security::RuleMethod;
use crate::graph::{Catalogue, StreamKey};

/// Most HLS sessions alive at once; a new player past it is refused (503).
pub const MAX_SESSIONS: usize = 10_000;

/// A live stream's playlist, as the `HlsOut` node writing it is configured.
#[derive(Debug, Clone)]
pub struct LiveHls {
    pub key: StreamKey,
    /// The `HlsOut` node (its upstream `Vhost` gives the admission rules).
    pub node: NodeIndex,
    pub config: hls_out::Config,
}

/// The live stream whose `HlsOut` writes the playlist at `file`, if one is publishing now.
pub fn live_stream(engine: &Engine, file: &Path) -> Option<LiveHls> {
    let wanted = normalize(file);
    let graph = engine.graph();
    let live = engine.live_streams();
    let vhosts: Vec<(NodeIndex, &str)> =
        graph.dag.node_indices().filter_map(|n| Some((n, graph.node(n).node.routes_vhost()?))).collect();
    for node in graph.dag.node_indices() {
        let NodeSpec::HlsOut(config) = &graph.node(node).node else { continue };
        for key in &live {
            let path = Path::new(&config.hls_path).join(key.fill(&config.hls_m3u8_file));
            // The stream reaches this HlsOut through its vhost (any, in a graph without vhosts).
            let reaches = vhosts.is_empty()
                || vhosts
                    .iter()
                    .any(|(n, name)| *name == key.vhost && has_path_connecting(&graph.dag, *n, node, None));
            if reaches && normalize(&path) == wanted {
                return Some(LiveHls { key: key.clone(), node, config: config.clone() });
            }
        }
    }
    None
}

/// How long a session lives without a request.
pub fn idle_timeout(config: &hls_out::Config) -> Duration {
    let target = config.hls_fragment * config.hls_td_ratio;
    Duration::try_from_secs_f64(2.0 * config.hls_window.max(target)).unwrap_or(Duration::from_secs(120))
}

/// One HLS player.
#[derive(Debug)]
pub struct Session {
    pub key: StreamKey,
    /// Append the ctx to segment URIs of the playlists served to it (`hls_ts_ctx`).
    pub ts_ctx: bool,
    last_seen: Mutex<Instant>,
    /// The registry entry; taken when the session ends, which unlists the client.
    guard: Mutex<Option<ClientGuard>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock still holds valid plain data.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Session {
    /// A request of this player: it is still watching; `n_bytes` were sent to it.
    pub fn touch(&self, n_bytes: u64) {
        *lock(&self.last_seen) = Instant::now();
        if let Some(guard) = lock(&self.guard).as_ref() {
            guard.client().add_sent(n_bytes as usize);
        }
    }

    fn idle(&self) -> Duration {
        lock(&self.last_seen).elapsed()
    }
}

/// Why a new session was not opened.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{MAX_SESSIONS} hls sessions are open")]
    TooMany,
    #[error("play denied: {0}")]
    Denied(String),
}

/// What the registry and hooks know of an HLS player, read from its first request.
#[derive(Debug, Clone)]
pub struct Player {
    pub peer: SocketAddr,
    pub host: String,
    pub page_url: String,
    /// The query of the first request, `?...` (or empty).
    pub param: String,
}

/// Every open session by its ctx, in `Engine::shared`.
#[derive(Debug, Default)]
pub struct HlsSessions {
    by_ctx: Mutex<HashMap<String, Arc<Session>>>,
}

impl HlsSessions {
    pub fn get(&self, ctx: &str) -> Option<Arc<Session>> {
        lock(&self.by_ctx).get(ctx).cloned()
    }

    pub fn len(&self) -> usize {
        lock(&self.by_ctx).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Admits a new player of `live` and opens its session; returns its ctx.
    pub async fn open(
        self: &Arc<Self>,
        engine: &Engine,
        live: &LiveHls,
        player: Player,
    ) -> Result<String, SessionError> {
        if self.len() >= MAX_SESSIONS {
            return Err(SessionError::TooMany);
        }
        let peer = player.peer;
        let id = engine.next_id();
        let settings = vhost::settings_for(engine, live.node, &live.key);
        let registry = engine.shared::<Registry>();
        let guard = registry.register(id, peer.ip());
        guard.client().update(|info| {
            info.kind = ClientKind::HlsPlay;
            info.stream = Some(live.key.clone());
            info.tc_url = format!("http://{}/{}", player.host, live.key.app);
            info.page_url = player.page_url;
            info.param = player.param;
        });
        admission::admit(&registry, guard.client(), &settings.rules(), RuleMethod::Play, &live.key)
            .await
            .map_err(SessionError::Denied)?;
        let ctx = new_ctx(id);
        let kicked = guard.client().kicked();
        let session = Arc::new(Session {
            key: live.key.clone(),
            ts_ctx: live.config.hls_ts_ctx,
            last_seen: Mutex::new(Instant::now()),
            guard: Mutex::new(Some(guard)),
        });
        {
            let mut sessions = lock(&self.by_ctx);
            if sessions.len() >= MAX_SESSIONS {
                return Err(SessionError::TooMany);
            }
            sessions.insert(ctx.clone(), Arc::clone(&session));
        }
        tracing::info!(conn = id, %peer, stream = %live.key, ctx = %ctx, "hls play");
        let timeout = idle_timeout(&live.config);
        let (sessions, ctx_for_task, shutdown) = (Arc::clone(self), ctx.clone(), engine.shutdown_signal());
        // Not a tracked task: an idle session must not hold up shutdown.
        tokio::spawn(async move {
            tokio::pin!(kicked, shutdown);
            loop {
                let idle = session.idle();
                if idle >= timeout {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(timeout - idle) => {}
                    _ = &mut kicked => break,
                    _ = &mut shutdown => break,
                }
            }
            sessions.close(&ctx_for_task, &session, settings);
        });
        Ok(ctx)
    }

    /// Ends a session: unlisted, then `on_stop`.
    fn close(&self, ctx: &str, session: &Session, settings: vhost::Config) {
        lock(&self.by_ctx).remove(ctx);
        let Some(guard) = lock(&session.guard).take() else { return };
        let client = guard.client();
        tracing::info!(conn = client.id, stream = %session.key, ctx, "hls play ended");
        admission::notify(guard.registry(), client, &settings.rules(), HookEvent::Stop, Some(&session.key));
    }
}

/// An 8-character session id, hard to guess (std's randomly keyed hasher over the client id).
fn new_ctx(id: u64) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(id);
    let mut value = hasher.finish();
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..8)
        .map(|_| {
            let digit = DIGITS[(value % 36) as usize];
            value /= 36;
            char::from(digit)
        })
        .collect()
}

/// The `hls_ctx` of a query string.
pub fn ctx_of(query: &str) -> Option<&str> {
    query.split('&').find_map(|pair| pair.strip_prefix("hls_ctx=")).filter(|ctx| !ctx.is_empty())
}

/// Where a new session's player is sent: `path?hls_ctx=<ctx>`, then the original query without
/// any stale `hls_ctx`.
pub fn redirect_target(path: &str, query: Option<&str>, ctx: &str) -> String {
    let mut target = format!("{path}?hls_ctx={ctx}");
    for pair in query.unwrap_or_default().split('&') {
        if !pair.is_empty() && !pair.starts_with("hls_ctx=") {
            target.push('&');
            target.push_str(pair);
        }
    }
    target
}

/// A playlist with `?hls_ctx=<ctx>` (or `&hls_ctx=`) added to each media segment URI
/// (`.ts`, `.m4s`); other lines are kept as they are.
pub fn with_ctx(playlist: &str, ctx: &str) -> String {
    let mut out = String::with_capacity(playlist.len() + 64);
    for line in playlist.split_inclusive('\n') {
        let text = line.trim_end_matches(['\n', '\r']);
        let end = &line[text.len()..];
        let path = text.split('?').next().unwrap_or_default();
        let segment = !text.starts_with('#') && (path.ends_with(".ts") || path.ends_with(".m4s"));
        out.push_str(text);
        if segment {
            out.push(if text.contains('?') { '&' } else { '?' });
            out.push_str("hls_ctx=");
            out.push_str(ctx);
        }
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_uris_carry_the_ctx() {
        let playlist = "#EXTM3U\n#EXTINF:2.000, no desc\nlive-1.ts\n#EXTINF:2.000, no desc\r\nlive-2.ts?x=1\r\n#EXT-X-MAP:URI=\"init.mp4\"\nseg.m4s\nother.mp4";
        assert_eq!(
            with_ctx(playlist, "abc"),
            "#EXTM3U\n#EXTINF:2.000, no desc\nlive-1.ts?hls_ctx=abc\n#EXTINF:2.000, no desc\r\nlive-2.ts?x=1&hls_ctx=abc\r\n#EXT-X-MAP:URI=\"init.mp4\"\nseg.m4s?hls_ctx=abc\nother.mp4"
        );
    }

    #[test]
    fn redirects_keep_the_query_and_drop_a_stale_ctx() {
        assert_eq!(redirect_target("/live/s.m3u8", None, "k"), "/live/s.m3u8?hls_ctx=k");
        assert_eq!(
            redirect_target("/live/s.m3u8", Some("token=1&hls_ctx=old&a=b"), "k"),
            "/live/s.m3u8?hls_ctx=k&token=1&a=b"
        );
        assert_eq!(ctx_of("a=1&hls_ctx=xyz"), Some("xyz"));
        assert_eq!(ctx_of("hls_ctx="), None);
    }

    #[test]
    fn ctx_ids_differ() {
        let (a, b) = (new_ctx(1), new_ctx(1));
        assert_eq!(a.len(), 8);
        assert_ne!(a, b);
    }

    #[test]
    fn sessions_outlive_the_reload_interval() {
        let config = hls_out::Config { hls_window: 4.0, hls_fragment: 2.0, ..Default::default() };
        assert_eq!(idle_timeout(&config), Duration::from_secs(8));
        let config = hls_out::Config { hls_window: 1.0, hls_fragment: 10.0, ..Default::default() };
        assert_eq!(idle_timeout(&config), Duration::from_secs(20));
    }
}
