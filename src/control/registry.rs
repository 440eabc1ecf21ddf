//! The registry of connected clients (players and publishers), as SRS's statistics keep them:
//! who, from where, which stream, bytes each way, since when; and a handle to kick each one.
//!
//! A connection registers when it is accepted and holds a [`ClientGuard`]; dropping the guard
//! unregisters it. Byte counters are atomics the data path adds to once per batch. Stream ids
//! are stable per stream key while the stream is live or has clients.

use super::kbps::{Counters, RateWindow};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use crate::graph::StreamKey;

/// SRS's client types (the `type` field of the API's client object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Unknown,
    RtmpPlay,
    FlvPlay,
    HlsPlay,
    FmlePublish,
    FlashPublish,
    RtcPlay,
    RtcPublish,
}

impl ClientKind {
    pub fn name(self) -> &'static str {
        match self {
            ClientKind::Unknown => "Unknown",
            ClientKind::RtmpPlay => "rtmp-play",
            ClientKind::FlvPlay => "flv-play",
            ClientKind::HlsPlay => "hls-play",
            ClientKind::FmlePublish => "fmle-publish",
            ClientKind::FlashPublish => "flash-publish",
            ClientKind::RtcPlay => "rtc-play",
            ClientKind::RtcPublish => "rtc-publish",
        }
    }

    pub fn is_rtc(self) -> bool {
        matches!(self, ClientKind::RtcPlay | ClientKind::RtcPublish)
    }

    pub fn is_publish(self) -> bool {
        matches!(self, ClientKind::FmlePublish | ClientKind::FlashPublish | ClientKind::RtcPublish)
    }
}

/// What is known about a client; filled in as the protocol tells (connect, then publish or play).
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub kind: ClientKind,
    pub stream: Option<StreamKey>,
    pub param: String,
    pub tc_url: String,
    pub page_url: String,
    pub swf_url: String,
}

impl Default for ClientInfo {
    fn default() -> ClientInfo {
        ClientInfo {
            kind: ClientKind::Unknown,
            stream: None,
            param: String::new(),
            tc_url: String::new(),
            page_url: String::new(),
            swf_url: String::new(),
        }
    }
}

/// One connected client.
#[derive(Debug)]
pub struct Client {
    /// The connection id of the logs (`conn = id`).
    pub id: u64,
    pub ip: IpAddr,
    pub started: Instant,
    pub send_bytes: AtomicU64,
    pub recv_bytes: AtomicU64,
    /// WebRTC transport counters (zero for other protocols).
    pub rtc: Arc<crate::graph::stats::RtcPeerStats>,
    info: Mutex<ClientInfo>,
    kicked: watch::Sender<bool>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a panic elsewhere mid-update of plain data; the data is still usable.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Client {
    pub fn info(&self) -> ClientInfo {
        lock(&self.info).clone()
    }

    pub fn counters(&self) -> Counters {
        Counters {
            send: self.send_bytes.load(Ordering::Relaxed),
            recv: self.recv_bytes.load(Ordering::Relaxed),
        }
    }

    pub fn update(&self, change: impl FnOnce(&mut ClientInfo)) {
        change(&mut lock(&self.info));
    }

    pub fn add_sent(&self, n_bytes: usize) {
        self.send_bytes.fetch_add(n_bytes as u64, Ordering::Relaxed);
    }

    pub fn add_received(&self, n_bytes: usize) {
        self.recv_bytes.fetch_add(n_bytes as u64, Ordering::Relaxed);
    }

    /// Asks the connection to close (the API's DELETE).
    pub fn kick(&self) {
        self.kicked.send_replace(true);
    }

    /// Resolves once the client is kicked.
    pub fn kicked(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut receiver = self.kicked.subscribe();
        async move {
            let _ = receiver.wait_for(|kicked| *kicked).await;
        }
    }
}

/// The server id the configuration names (`server_id`, `SRS_SERVER_ID`), set before the engine
/// starts; without one each registry makes a random id, as SRS does.
static CONFIGURED_SERVER_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Makes every registry of this process report `id` (the first call wins).
pub fn configure_server_id(id: String) {
    let _ = CONFIGURED_SERVER_ID.set(id);
}

/// The server's identity in API replies and hook bodies (SRS's `server` and `service`).
#[derive(Debug, Clone)]
pub struct ServerIdentity {
    pub server_id: String,
    pub service_id: String,
    pub pid: u32,
}

impl Default for ServerIdentity {
    fn default() -> ServerIdentity {
        let pid = std::process::id();
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        ServerIdentity {
            server_id: CONFIGURED_SERVER_ID
                .get()
                .cloned()
                .unwrap_or_else(|| format!("vid-{}", base36(mix(nanos ^ u64::from(pid)), 7))),
            service_id: base36(mix(nanos.rotate_left(17) ^ 0x9e37_79b9), 8),
            pid,
        }
    }
}

/// A 64-bit mixer (splitmix64's finalizer): ids need to differ between runs, not be secret.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn base36(mut value: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..width)
        .map(|_| {
            let digit = DIGITS[(value % 36) as usize];
            value /= 36;
            char::from(digit)
        })
        .collect()
}

/// Every client and the ids of streams, kept in `engine.shared::<Registry>()`.
#[derive(Debug, Default)]
pub struct Registry {
    pub identity: ServerIdentity,
    clients: Mutex<BTreeMap<u64, Arc<Client>>>,
    stream_ids: Mutex<HashMap<StreamKey, u64>>,
    next_stream_id: AtomicU64,
    /// Bytes of clients that already left, so totals in `/metrics` never go down.
    closed_send_bytes: AtomicU64,
    closed_recv_bytes: AtomicU64,
    /// WebRTC counters of clients that already left (NACKs, retransmits, PLIs), likewise.
    closed_rtc: crate::graph::stats::RtcPeerStats,
    /// Recent samples of each client's and stream's counters, for the 30 s rates.
    rates: Mutex<HashMap<RateKey, RateWindow>>,
}

/// Whose counters a [`RateWindow`] samples.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RateKey {
    Client(u64),
    Stream(StreamKey),
}

impl Registry {
    /// Registers a connection; it stays listed until the guard drops.
    pub fn register(self: &Arc<Registry>, id: u64, ip: IpAddr) -> ClientGuard {
        let (kicked, _) = watch::channel(false);
        let client = Arc::new(Client {
            id,
            ip,
            started: Instant::now(),
            send_bytes: AtomicU64::new(0),
            recv_bytes: AtomicU64::new(0),
            rtc: Arc::default(),
            info: Mutex::default(),
            kicked,
        });
        lock(&self.clients).insert(id, Arc::clone(&client));
        ClientGuard { registry: Arc::clone(self), client }
    }

    /// Samples the counters of every client and of `streams` (forgetting those gone), for
    /// [`Registry::client_kbps`] and [`Registry::stream_kbps`].
    pub fn sample_rates(&self, now: Instant, streams: &[(StreamKey, Counters)]) {
        let clients = self.clients();
        let mut rates = lock(&self.rates);
        let mut seen = std::collections::HashSet::new();
        for client in &clients {
            let key = RateKey::Client(client.id);
            rates.entry(key.clone()).or_default().sample(now, client.counters());
            seen.insert(key);
        }
        for (stream, counters) in streams {
            let key = RateKey::Stream(stream.clone());
            rates.entry(key.clone()).or_default().sample(now, *counters);
            seen.insert(key);
        }
        rates.retain(|key, _| seen.contains(key));
    }

    /// `(send, recv)` kbit/s of `client` over the last 30 s.
    pub fn client_kbps(&self, client: &Client, now: Instant) -> (u64, u64) {
        let rates = lock(&self.rates);
        rates.get(&RateKey::Client(client.id)).map_or((0, 0), |w| w.kbps(now, client.counters()))
    }

    /// `(send, recv)` kbit/s of stream `key`, whose counters read `counters` now.
    pub fn stream_kbps(&self, key: &StreamKey, counters: Counters, now: Instant) -> (u64, u64) {
        let rates = lock(&self.rates);
        rates.get(&RateKey::Stream(key.clone())).map_or((0, 0), |w| w.kbps(now, counters))
    }

    pub fn client(&self, id: u64) -> Option<Arc<Client>> {
        lock(&self.clients).get(&id).cloned()
    }

    /// Clients in id (= arrival) order.
    pub fn clients(&self) -> Vec<Arc<Client>> {
        lock(&self.clients).values().cloned().collect()
    }

    pub fn client_count(&self) -> usize {
        lock(&self.clients).len()
    }

    pub fn count_from(&self, ip: IpAddr) -> usize {
        lock(&self.clients).values().filter(|c| c.ip == ip).count()
    }

    /// What the client publishing `key` said of itself (tcUrl, param, ...), for hooks fired by
    /// sinks (on_dvr, on_hls, on_hls_notify, on_forward).
    pub fn publisher_info(&self, key: &StreamKey) -> Option<ClientInfo> {
        self.clients()
            .iter()
            .map(|client| client.info())
            .find(|info| info.kind.is_publish() && info.stream.as_ref() == Some(key))
    }

    /// The stable id of a stream (assigned on first sight).
    pub fn stream_id(&self, key: &StreamKey) -> u64 {
        let mut ids = lock(&self.stream_ids);
        *ids.entry(key.clone()).or_insert_with(|| self.next_stream_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// The ids of exactly `keys`: ids are assigned to new keys, and keys not listed are forgotten
    /// (streams neither live nor with clients). One lock for the whole list.
    pub fn stream_ids(&self, keys: &[StreamKey]) -> HashMap<StreamKey, u64> {
        let mut ids = lock(&self.stream_ids);
        ids.retain(|key, _| keys.binary_search(key).is_ok());
        for key in keys {
            if !ids.contains_key(key) {
                let id = self.next_stream_id.fetch_add(1, Ordering::Relaxed) + 1;
                ids.insert(key.clone(), id);
            }
        }
        ids.clone()
    }

    /// The stream an id names, if it is still known.
    pub fn stream_by_id(&self, id: u64) -> Option<StreamKey> {
        lock(&self.stream_ids).iter().find(|(_, v)| **v == id).map(|(k, _)| k.clone())
    }

    /// WebRTC NACKs, retransmits and keyframe requests of every client, past and present.
    pub fn total_rtc(&self) -> (u64, u64, u64) {
        let clients = lock(&self.clients);
        clients
            .values()
            .map(|c| c.rtc.counts())
            .fold(self.closed_rtc.counts(), |sum, (n, r, p)| (sum.0 + n, sum.1 + r, sum.2 + p))
    }

    /// Total bytes sent and received by every client, past and present.
    pub fn total_bytes(&self) -> (u64, u64) {
        let clients = lock(&self.clients);
        let live_send: u64 = clients.values().map(|c| c.send_bytes.load(Ordering::Relaxed)).sum();
        let live_recv: u64 = clients.values().map(|c| c.recv_bytes.load(Ordering::Relaxed)).sum();
        (
            live_send + self.closed_send_bytes.load(Ordering::Relaxed),
            live_recv + self.closed_recv_bytes.load(Ordering::Relaxed),
        )
    }
}

/// A registered client; unregisters on drop.
#[derive(Debug)]
pub struct ClientGuard {
    registry: Arc<Registry>,
    client: Arc<Client>,
}

impl ClientGuard {
    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        let mut clients = lock(&self.registry.clients);
        clients.remove(&self.client.id);
        self.registry
            .closed_send_bytes
            .fetch_add(self.client.send_bytes.load(Ordering::Relaxed), Ordering::Relaxed);
        self.registry
            .closed_recv_bytes
            .fetch_add(self.client.recv_bytes.load(Ordering::Relaxed), Ordering::Relaxed);
        let (nacks, retransmits, plis) = self.client.rtc.counts();
        let closed = &self.registry.closed_rtc;
        closed.nacks.fetch_add(nacks, Ordering::Relaxed);
        closed.retransmits.fetch_add(retransmits, Ordering::Relaxed);
        closed.plis.fetch_add(plis, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_register_count_and_unregister() {
        let registry = Arc::new(Registry::default());
        let a = registry.register(7, "127.0.0.1".parse().unwrap());
        let b = registry.register(9, "127.0.0.2".parse().unwrap());
        a.client().add_sent(100);
        assert_eq!(registry.client_count(), 2);
        assert_eq!(registry.count_from("127.0.0.2".parse().unwrap()), 1);
        drop(a);
        assert!(registry.client(7).is_none());
        assert_eq!(registry.total_bytes().0, 100, "bytes of a closed client still count");
        drop(b);
        assert_eq!(registry.client_count(), 0);
    }

    #[test]
    fn stream_ids_are_stable_and_identity_is_srs_shaped() {
        let registry = Registry::default();
        let key = StreamKey::new("__defaultVhost__", "live", "s");
        let id = registry.stream_id(&key);
        assert_eq!(registry.stream_id(&key), id);
        assert_eq!(registry.stream_by_id(id), Some(key));
        assert!(registry.identity.server_id.starts_with("vid-"));
        assert_eq!(registry.identity.server_id.len(), 11);
        assert_eq!(registry.identity.service_id.len(), 8);
    }
}
