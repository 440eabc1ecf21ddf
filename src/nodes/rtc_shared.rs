//! What `RtcIn`, `RtcOut` and their signalling share while the graph runs: the WebRTC socket of
//! each address (its worker's handle), the sessions a DELETE can end, and per stream its players
//! and its WebRTC publisher (to which players' keyframe requests go).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::BoxFuture;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::graph::StreamKey;
use crate::media::Codec;
use crate::nodes::Engine;
use crate::servers::rtc_udp::{RtcUdp, SessionId};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The running WebRTC sockets, by listen address.
#[derive(Debug, Default)]
pub struct RtcSockets(Mutex<HashMap<SocketAddr, RtcUdp>>);

impl RtcSockets {
    pub fn insert(&self, addr: SocketAddr, udp: RtcUdp) {
        lock(&self.0).insert(addr, udp);
    }

    pub fn retain(&self, keep: impl Fn(&SocketAddr) -> bool) {
        lock(&self.0).retain(|addr, _| keep(addr));
    }

    pub fn get(&self, addr: SocketAddr) -> Option<RtcUdp> {
        lock(&self.0).get(&addr).cloned()
    }
}

/// A session a DELETE may end.
#[derive(Debug, Clone)]
pub struct SessionEntry {
    pub token: String,
    pub udp: RtcUdp,
}

/// Every WebRTC session of the server, publishers and players.
#[derive(Debug, Default)]
pub struct RtcSessions(Mutex<HashMap<SessionId, SessionEntry>>);

impl RtcSessions {
    pub fn insert(&self, id: SessionId, entry: SessionEntry) {
        lock(&self.0).insert(id, entry);
    }

    pub fn remove(&self, id: SessionId) {
        lock(&self.0).remove(&id);
    }

    pub fn get(&self, id: SessionId) -> Option<SessionEntry> {
        lock(&self.0).get(&id).cloned()
    }

    pub fn len(&self) -> usize {
        lock(&self.0).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A playing session, the video codec its answer took, and whether it got its first keyframe
/// (video starts there).
#[derive(Debug, Clone, Copy)]
pub struct PlayerSlot {
    pub session: SessionId,
    pub video: Codec,
    pub video_started: bool,
}

#[derive(Debug, Default)]
struct StreamPeers {
    players: Vec<PlayerSlot>,
    publisher: Option<(RtcUdp, SessionId)>,
    /// The RTP timestamps the next publish continues from (video, audio), so players that stay
    /// across a republish see no jump.
    resume: (Option<u32>, Option<u32>),
}

/// The WebRTC peers of each stream.
#[derive(Debug, Default)]
pub struct RtcStreams(Mutex<HashMap<StreamKey, StreamPeers>>);

impl RtcStreams {
    pub fn add_player(&self, key: &StreamKey, session: SessionId, video: Codec) {
        lock(&self.0).entry(key.clone()).or_default().players.push(PlayerSlot {
            session,
            video,
            video_started: false,
        });
    }

    pub fn remove_player(&self, key: &StreamKey, session: SessionId) {
        let mut streams = lock(&self.0);
        if let Some(peers) = streams.get_mut(key) {
            peers.players.retain(|p| p.session != session);
            if peers.players.is_empty() && peers.publisher.is_none() {
                streams.remove(key);
            }
        }
    }

    pub fn set_publisher(&self, key: &StreamKey, publisher: Option<(RtcUdp, SessionId)>) {
        let mut streams = lock(&self.0);
        let peers = streams.entry(key.clone()).or_default();
        peers.publisher = publisher;
        if peers.players.is_empty() && peers.publisher.is_none() {
            streams.remove(key);
        }
    }

    /// Where the stream's RTP timestamps stopped (the next expected, video and audio).
    pub fn set_resume(&self, key: &StreamKey, resume: (Option<u32>, Option<u32>)) {
        if let Some(peers) = lock(&self.0).get_mut(key) {
            peers.resume = resume;
        }
    }

    pub fn resume(&self, key: &StreamKey) -> (Option<u32>, Option<u32>) {
        lock(&self.0).get(key).map_or((None, None), |p| p.resume)
    }

    /// Asks the stream's WebRTC publisher (if any) for a keyframe.
    pub fn request_keyframe(&self, key: &StreamKey) {
        if let Some((udp, session)) = lock(&self.0).get(key).and_then(|p| p.publisher.clone()) {
            udp.request_keyframe(session);
        }
    }

    /// The players a video frame of `codec` goes to: those whose answer took `codec` and already
    /// started, and at a keyframe every one of them (a player that took another codec, because
    /// it came before the stream was described, gets no video it cannot decode).
    pub fn video_targets(&self, key: &StreamKey, codec: Codec, keyframe: bool) -> Arc<[SessionId]> {
        let mut streams = lock(&self.0);
        let Some(peers) = streams.get_mut(key) else { return Arc::new([]) };
        peers
            .players
            .iter_mut()
            .filter(|p| p.video == codec)
            .filter_map(|p| {
                p.video_started |= keyframe;
                p.video_started.then_some(p.session)
            })
            .collect()
    }

    /// Every player of the stream (audio needs no keyframe).
    pub fn audio_targets(&self, key: &StreamKey) -> Arc<[SessionId]> {
        lock(&self.0).get(key).map_or_else(
            || Arc::new([]) as Arc<[SessionId]>,
            |p| p.players.iter().map(|p| p.session).collect(),
        )
    }

    /// Whether the stream has a WebRTC player.
    pub fn has_players(&self, key: &StreamKey) -> bool {
        lock(&self.0).get(key).is_some_and(|p| !p.players.is_empty())
    }

    /// Whether a player that took `codec` waits for its first keyframe.
    pub fn waiting_players(&self, key: &StreamKey, codec: Codec) -> bool {
        lock(&self.0).get(key).is_some_and(|p| p.players.iter().any(|p| p.video == codec && !p.video_started))
    }
}

/// The connection handler of the ICE-TCP listener on `addr`'s port: each connection goes to the
/// WebRTC sessions of the UDP address `addr` (found when it connects: reloads keep the sockets).
pub fn tcp_handler(engine: &Engine, addr: SocketAddr) -> crate::servers::tcp::Handler {
    let engine = engine.clone();
    Arc::new(move |stream, peer, id| {
        let udp = engine.current().shared::<RtcSockets>().get(addr);
        Box::pin(async move {
            match udp {
                Some(udp) => crate::servers::rtc_tcp::serve(udp, stream, peer, id).await,
                None => tracing::debug!(conn = id, %peer, "webrtc tcp: no webrtc socket on {addr}"),
            }
        })
    })
}

/// Kicks of WebRTC players (`DELETE /api/v1/clients/<id>`): one task for every player of the
/// process waits on all their kick handles, so a player still costs no task of its own.
#[derive(Default)]
pub struct RtcKicks(Mutex<Option<mpsc::UnboundedSender<BoxFuture<'static, ()>>>>);

impl std::fmt::Debug for RtcKicks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RtcKicks")
    }
}

impl RtcKicks {
    /// Ends `session` when `kicked` resolves (it also resolves once the client is gone).
    pub fn watch(
        &self,
        engine: &Engine,
        kicked: impl std::future::Future<Output = ()> + Send + 'static,
        udp: RtcUdp,
        session: SessionId,
    ) {
        let watch: BoxFuture<'static, ()> = Box::pin(async move {
            kicked.await;
            udp.remove(session);
        });
        let mut sender = lock(&self.0);
        let watch = match sender.as_ref() {
            Some(running) => match running.send(watch) {
                Ok(()) => return,
                // The task ended (shutdown): start another.
                Err(unsent) => unsent.0,
            },
            None => watch,
        };
        *sender = Some(Self::start(engine, watch));
    }

    fn start(
        engine: &Engine,
        first: BoxFuture<'static, ()>,
    ) -> mpsc::UnboundedSender<BoxFuture<'static, ()>> {
        let (sender, mut receiver) = mpsc::unbounded_channel::<BoxFuture<'static, ()>>();
        let shutdown = engine.shutdown_signal();
        engine.spawn(async move {
            let mut waiting = futures::stream::FuturesUnordered::new();
            waiting.push(first);
            tokio::pin!(shutdown);
            loop {
                tokio::select! {
                    watch = receiver.recv() => match watch {
                        Some(watch) => waiting.push(watch),
                        None => break,
                    },
                    Some(()) = waiting.next(), if !waiting.is_empty() => {}
                    _ = &mut shutdown => break,
                }
            }
        });
        sender
    }
}

/// The address put in the answer's candidate, as SRS picks it: `?eip=` (ip or ip:port), else the
/// node's `candidate` (an IP, `$VAR` read from the environment, or `*`: the host the signalling
/// request was addressed to when it is an IP, else 127.0.0.1). The port is the socket's unless
/// `eip` names one.
pub fn candidate(
    setting: &str,
    eip: Option<&str>,
    host_header: Option<&str>,
    port: u16,
) -> Result<SocketAddr, String> {
    if let Some(eip) = eip.filter(|e| !e.is_empty()) {
        if let Ok(addr) = eip.parse::<SocketAddr>() {
            return Ok(addr);
        }
        return eip
            .parse::<IpAddr>()
            .map(|ip| SocketAddr::new(ip, port))
            .map_err(|_| format!("eip `{eip}` is not an ip"));
    }
    let setting = setting.trim();
    let text = match setting.strip_prefix('$') {
        Some(variable) => {
            std::env::var(variable).map_err(|_| format!("candidate `{setting}`: the variable is not set"))?
        }
        None => setting.to_owned(),
    };
    if text == "*" || text.is_empty() {
        let host =
            host_header.map(|h| h.rsplit_once(':').map_or(h, |(host, _)| host).trim_matches(['[', ']']));
        let ip = host.and_then(|h| h.parse::<IpAddr>().ok()).filter(|ip| !ip.is_unspecified());
        return Ok(SocketAddr::new(ip.unwrap_or(IpAddr::from([127, 0, 0, 1])), port));
    }
    text.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, port))
        .map_err(|_| format!("candidate `{text}` is not an ip"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_as_srs() {
        assert_eq!(candidate("*", None, Some("10.0.0.5:1985"), 8000).unwrap().to_string(), "10.0.0.5:8000");
        assert_eq!(candidate("*", None, Some("example.com"), 8000).unwrap().to_string(), "127.0.0.1:8000");
        assert_eq!(candidate("1.2.3.4", None, None, 8000).unwrap().to_string(), "1.2.3.4:8000");
        assert_eq!(candidate("1.2.3.4", Some("5.6.7.8"), None, 8000).unwrap().to_string(), "5.6.7.8:8000");
        assert_eq!(candidate("*", Some("5.6.7.8:9000"), None, 8000).unwrap().to_string(), "5.6.7.8:9000");
        assert!(candidate("$SRS_TEST_NO_SUCH_CANDIDATE", None, None, 8000).is_err());
        assert!(candidate("bad", None, None, 8000).is_err());
    }
}
