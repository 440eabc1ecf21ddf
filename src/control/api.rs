//! The JSON of SRS's HTTP API (`/api/v1/...`): the envelope, and the stream, client and vhost
//! objects with SRS's field names; plus `/api/v1/graph`, the running graph with its counters.
//!
//! Pure functions of the engine's state; routing, auth and CORS are the `HttpApi` node's.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::kbps::{Counters, SAMPLE_INTERVAL};
use super::process_table::{ProcessEntry, ProcessTable};
use super::registry::{Client, ClientInfo, Registry};
use crate::graph::engine::LiveStream;
use crate::graph::stream_key::DEFAULT_VHOST;
use crate::graph::{Catalogue, Engine, Ports, StreamKey};

/// SRS error codes the API answers with (`{"code": N}`).
pub mod codes {
    /// An unknown stream id (ERROR_RTMP_STREAM_NOT_FOUND).
    pub const STREAM_NOT_FOUND: i64 = 2048;
    /// An unknown client id.
    pub const CLIENT_NOT_FOUND: i64 = 2049;
    /// An unknown vhost id.
    pub const VHOST_NOT_FOUND: i64 = 1070;
    /// The raw API is disabled (ERROR_SYSTEM_CONFIG_RAW_DISABLED).
    pub const RAW_DISABLED: i64 = 1061;
    /// The rpc is not allowed (ERROR_SYSTEM_CONFIG_RAW_NOT_ALLOWED).
    pub const RAW_NOT_ALLOWED: i64 = 1062;
    /// An rpc the raw API does not know (ERROR_SYSTEM_CONFIG_RAW_PARAMS).
    pub const RAW_PARAMS: i64 = 1063;
    /// The reload failed.
    pub const RELOAD_FAILED: i64 = 1064;
}

/// `{"code":0, "server", "service", "pid"}` followed by `payload`'s fields.
pub fn envelope(registry: &Registry, code: i64, payload: Value) -> Value {
    let mut object = Map::new();
    object.insert("code".into(), json!(code));
    object.insert("server".into(), json!(registry.identity.server_id));
    object.insert("service".into(), json!(registry.identity.service_id));
    object.insert("pid".into(), json!(registry.identity.pid.to_string()));
    if let Value::Object(fields) = payload {
        object.extend(fields);
    }
    Value::Object(object)
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn vhost_id(name: &str) -> String {
    // Vhost ids are derived from the name so they stay stable across reloads.
    let hash =
        name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("vid-{:07x}", hash & 0xfff_ffff)
}

/// One snapshot of what the API lists: live streams, clients, and every stream either names.
/// Each client's info is read once, and clients are grouped by stream, so listing every stream
/// and client costs O(streams + clients).
pub struct Snapshot {
    pub registry: Arc<Registry>,
    pub live: HashMap<StreamKey, LiveStream>,
    pub clients: Vec<(Arc<Client>, ClientInfo)>,
    /// Streams in id order: live ones and those players wait for.
    pub streams: Vec<(u64, StreamKey)>,
    ids: HashMap<StreamKey, u64>,
    by_stream: HashMap<StreamKey, Vec<usize>>,
    /// Supervised child processes by the stream they work for.
    processes: HashMap<StreamKey, Vec<Arc<ProcessEntry>>>,
    /// When it was taken.
    pub at: Instant,
}

impl Snapshot {
    pub fn take<N: Catalogue>(engine: &Engine<N>) -> Snapshot {
        let registry = engine.shared::<Registry>();
        let live: HashMap<StreamKey, LiveStream> =
            engine.publications().into_iter().map(|l| (l.key.clone(), l)).collect();
        let clients: Vec<(Arc<Client>, ClientInfo)> =
            registry.clients().into_iter().map(|c| (Arc::clone(&c), c.info())).collect();
        let mut by_stream: HashMap<StreamKey, Vec<usize>> = HashMap::new();
        for (i, (_, info)) in clients.iter().enumerate() {
            if let Some(key) = &info.stream {
                by_stream.entry(key.clone()).or_default().push(i);
            }
        }
        let mut keys: Vec<StreamKey> = live.keys().chain(by_stream.keys()).cloned().collect();
        keys.sort();
        keys.dedup();
        let ids = registry.stream_ids(&keys);
        let mut streams: Vec<(u64, StreamKey)> = ids.iter().map(|(k, id)| (*id, k.clone())).collect();
        streams.sort();
        let mut processes: HashMap<StreamKey, Vec<Arc<ProcessEntry>>> = HashMap::new();
        for entry in engine.shared::<ProcessTable>().entries() {
            if let Some(key) = &entry.stream {
                processes.entry(key.clone()).or_default().push(entry);
            }
        }
        Snapshot { registry, live, clients, streams, ids, by_stream, processes, at: Instant::now() }
    }

    fn clients_of<'a>(&'a self, key: &StreamKey) -> impl Iterator<Item = &'a (Arc<Client>, ClientInfo)> + 'a {
        let indexes = self.by_stream.get(key).map_or(&[][..], Vec::as_slice);
        indexes.iter().map(move |i| &self.clients[*i])
    }

    /// A stream's byte counters: sent to its players, received from its publisher.
    fn stream_counters(&self, key: &StreamKey) -> Counters {
        let clients = self.clients_of(key);
        let (mut send, mut recv) = (0, 0);
        for (client, _) in clients {
            send += client.send_bytes.load(Ordering::Relaxed);
            recv += client.recv_bytes.load(Ordering::Relaxed);
        }
        let media = self.live.get(key).map_or(0, |l| l.stats.bytes.load(Ordering::Relaxed));
        Counters { send, recv: recv.max(media) }
    }

    pub fn stream(&self, id: u64, key: &StreamKey) -> Value {
        let live = self.live.get(key);
        let clients: Vec<&(Arc<Client>, ClientInfo)> = self.clients_of(key).collect();
        let publisher = clients.iter().find(|(_, info)| info.kind.is_publish());
        let description = live.and_then(|l| l.stats.description());
        let video = description.as_ref().and_then(|d| d.video.as_ref()).map(|v| {
            json!({"codec": v.codec.name(), "profile": v.profile, "level": v.level, "width": v.width, "height": v.height})
        });
        let audio = description.as_ref().and_then(|d| d.audio.as_ref()).map(|a| {
            json!({"codec": a.codec.name(), "sample_rate": a.sample_rate, "channel": a.channels, "profile": a.profile})
        });
        let frames = live.map_or(0, |l| l.stats.frames.load(Ordering::Relaxed));
        let counters = self.stream_counters(key);
        let (send_kbps, recv_kbps) = self.registry.stream_kbps(key, counters, self.at);
        let rtc =
            clients.iter().filter(|(_, info)| info.kind.is_rtc()).fold((0, 0, 0), |sum, (client, _)| {
                let (nacks, retransmits, plis) = client.rtc.counts();
                (sum.0 + nacks, sum.1 + retransmits, sum.2 + plis)
            });
        let mut publish = json!({"active": live.is_some()});
        if let Some((publisher, _)) = publisher {
            publish["cid"] = json!(publisher.id.to_string());
        }
        json!({
            "id": format!("vid-{id}"),
            "name": key.stream,
            "vhost": vhost_id(&key.vhost),
            "app": key.app,
            "tcUrl": publisher.map(|(_, info)| info.tc_url.clone()).unwrap_or_default(),
            "url": key.url(),
            "live_ms": now_ms(),
            "clients": clients.len(),
            "frames": frames,
            "send_bytes": counters.send,
            "recv_bytes": counters.recv,
            "kbps": {"recv_30s": recv_kbps, "send_30s": send_kbps},
            "publish": publish,
            // Beyond SRS: its WebRTC peers' NACKs, packets sent again, keyframe requests.
            "rtc": {"nacks": rtc.0, "retransmits": rtc.1, "plis": rtc.2},
            "video": video,
            "audio": audio,
            // Beyond SRS: the child processes working for this stream (exec, transcode, ingest).
            "processes": self.processes.get(key).map_or_else(Vec::new, |p| p.iter().map(|e| e.to_json()).collect()),
        })
    }

    pub fn client(&self, client: &Client, info: &ClientInfo) -> Value {
        let seconds = client.started.elapsed().as_secs_f64();
        let (send, recv) =
            (client.send_bytes.load(Ordering::Relaxed), client.recv_bytes.load(Ordering::Relaxed));
        let (send_kbps, recv_kbps) = self.registry.client_kbps(client, self.at);
        let stream = info.stream.as_ref();
        let mut value = json!({
            "id": client.id.to_string(),
            "vhost": stream.map(|k| vhost_id(&k.vhost)).unwrap_or_default(),
            "stream": stream.and_then(|k| self.ids.get(k)).map(|id| format!("vid-{id}")).unwrap_or_default(),
            "ip": client.ip.to_string(),
            "pageUrl": info.page_url,
            "swfUrl": info.swf_url,
            "tcUrl": info.tc_url,
            "url": stream.map(StreamKey::url).unwrap_or_default(),
            "name": stream.map(|k| k.stream.clone()).unwrap_or_default(),
            "type": info.kind.name(),
            "publish": info.kind.is_publish(),
            "alive": seconds,
            "send_bytes": send,
            "recv_bytes": recv,
            "kbps": {"recv_30s": recv_kbps, "send_30s": send_kbps},
        });
        if info.kind.is_rtc() {
            // Beyond SRS: the WebRTC transport's counters and the UDP worker the peer is on.
            let (nacks, retransmits, plis) = client.rtc.counts();
            let worker = client.rtc.worker.load(Ordering::Relaxed);
            let transport = if client.rtc.tcp.load(Ordering::Relaxed) { "tcp" } else { "udp" };
            let srtp_packets = client.rtc.srtp_packets.load(Ordering::Relaxed);
            value["rtc"] = json!({
                "nacks": nacks, "retransmits": retransmits, "plis": plis, "worker": worker, "transport": transport,
                "srtp_packets": srtp_packets,
                "slim": client.rtc.slim.load(Ordering::Relaxed),
                "slim_rtcp": client.rtc.slim_rtcp.load(Ordering::Relaxed),
                "receiver_reports": client.rtc.receiver_reports.load(Ordering::Relaxed),
                "dtls": {
                    "flights_in": client.rtc.dtls_flights_in.load(Ordering::Relaxed),
                    "repeats_in": client.rtc.dtls_repeats_in.load(Ordering::Relaxed),
                    "flights_out": client.rtc.dtls_flights_out.load(Ordering::Relaxed),
                    "repeats_out": client.rtc.dtls_repeats_out.load(Ordering::Relaxed),
                },
                "first_binding_us": client.rtc.first_binding_us.load(Ordering::Relaxed),
                "connected_us": client.rtc.connected_us.load(Ordering::Relaxed),
            });
        }
        value
    }

    /// The vhosts of the graph (every vhost a `Vhost` node routes, or the default one), with their totals.
    pub fn vhosts<N: Catalogue>(&self, engine: &Engine<N>) -> Vec<Value> {
        let graph = engine.graph();
        let mut names: Vec<String> = graph
            .dag
            .node_indices()
            .filter_map(|n| graph.node(n).node.routes_vhost().map(str::to_owned))
            .collect();
        // A vhost may have several routers (one per kind of source: `graphs/rtc.dhall`).
        let mut seen = std::collections::HashSet::new();
        names.retain(|name| seen.insert(name.clone()));
        if names.is_empty() {
            names.push(DEFAULT_VHOST.to_owned());
        }
        names
            .iter()
            .map(|name| {
                let in_vhost = |key: &StreamKey| &key.vhost == name;
                let clients: Vec<&Arc<Client>> = self
                    .clients
                    .iter()
                    .filter(|(_, info)| info.stream.as_ref().is_some_and(in_vhost))
                    .map(|(c, _)| c)
                    .collect();
                let send: u64 = clients.iter().map(|c| c.send_bytes.load(Ordering::Relaxed)).sum();
                let recv: u64 = clients.iter().map(|c| c.recv_bytes.load(Ordering::Relaxed)).sum();
                json!({
                    "id": vhost_id(name),
                    "name": name,
                    "enabled": true,
                    "clients": clients.len(),
                    "streams": self.streams.iter().filter(|(_, k)| in_vhost(k)).count(),
                    "send_bytes": send,
                    "recv_bytes": recv,
                    "kbps": {"recv_30s": 0, "send_30s": 0},
                    "hls": {"enabled": false},
                })
            })
            .collect()
    }

    pub fn vhost_by_id<N: Catalogue>(&self, engine: &Engine<N>, id: &str) -> Option<Value> {
        self.vhosts(engine).into_iter().find(|v| v["id"] == id)
    }
}

/// Samples the counters of every client and live stream every few seconds while `engine` runs,
/// for the API's 30 s rates.
pub async fn sample_rates<N: Catalogue>(engine: Engine<N>) {
    let shutdown = engine.shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let snapshot = Snapshot::take(&engine);
        let streams: Vec<(StreamKey, Counters)> =
            snapshot.streams.iter().map(|(_, key)| (key.clone(), snapshot.stream_counters(key))).collect();
        snapshot.registry.sample_rates(snapshot.at, &streams);
        tokio::select! {
            _ = tokio::time::sleep(SAMPLE_INTERVAL) => {}
            _ = &mut shutdown => return,
        }
    }
}

/// SRS paging: `start` (default 0) and `count`, where count = max(10, count).
pub fn page<T>(items: Vec<T>, start: Option<usize>, count: Option<usize>) -> Vec<T> {
    let count = count.unwrap_or(10).max(10);
    items.into_iter().skip(start.unwrap_or(0)).take(count).collect()
}

/// `/api/v1/summaries`: the process and machine figures SRS reports that we can read cheaply.
pub fn summaries<N: Catalogue>(engine: &Engine<N>, registry: &Registry) -> Value {
    let uptime = engine.started_at().elapsed().map_or(0, |d| d.as_secs());
    let (send, recv) = registry.total_bytes();
    let mem_kbyte = read_status_kb("VmRSS:");
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let loads: Vec<f64> = load.split_whitespace().take(3).filter_map(|v| v.parse().ok()).collect();
    json!({"data": {
        "ok": true,
        "now_ms": now_ms(),
        "self": {
            "version": env!("CARGO_PKG_VERSION"),
            "pid": registry.identity.pid,
            "ppid": 0,
            "argv": std::env::args().collect::<Vec<_>>().join(" "),
            "cwd": std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
            "mem_kbyte": mem_kbyte,
            "mem_percent": mem_ratio(mem_kbyte),
            "cpu_percent": cpu_ratio(),
            "srs_uptime": uptime,
        },
        "system": {
            "cpus": cpus,
            "cpus_online": cpus,
            "load_1m": loads.first().copied().unwrap_or(0.0),
            "load_5m": loads.get(1).copied().unwrap_or(0.0),
            "load_15m": loads.get(2).copied().unwrap_or(0.0),
            "srs_sample_time": now_ms(),
            "srs_recv_bytes": recv,
            "srs_send_bytes": send,
            "conn_srs": registry.client_count(),
        },
    }})
}

/// The process's CPU use since the previous sample at least a second old, as SRS reports it:
/// a ratio where 1.0 is one core busy (a process on two busy cores reads 2.0).
fn cpu_ratio() -> f64 {
    static SAMPLE: std::sync::Mutex<Option<(std::time::Instant, u64, f64)>> = std::sync::Mutex::new(None);
    let now = std::time::Instant::now();
    let ticks = process_cpu_ticks();
    // `/proc` counts in USER_HZ, which Linux fixes at 100 for user space whatever the kernel's HZ.
    let per_second = 100.0;
    let Ok(mut sample) = SAMPLE.lock() else { return 0.0 };
    match *sample {
        Some((at, _, ratio)) if now.duration_since(at).as_secs_f64() < 1.0 => ratio,
        Some((at, before, _)) => {
            let ratio =
                ticks.saturating_sub(before) as f64 / per_second / now.duration_since(at).as_secs_f64();
            *sample = Some((now, ticks, ratio));
            ratio
        }
        None => {
            *sample = Some((now, ticks, 0.0));
            0.0
        }
    }
}

/// User and system time of this process in clock ticks (`/proc/self/stat` fields 14 and 15).
fn process_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name may hold spaces and parentheses: fields count from after its last `)`.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| fields.get(n).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // After the name, field 3 (state) is index 0: utime (14) is index 11, stime (15) index 12.
    field(11) + field(12)
}

/// Resident memory over the machine's RAM, a ratio as SRS reports it.
fn mem_ratio(rss_kbyte: u64) -> f64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let total: u64 = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if total == 0 {
        0.0
    } else {
        rss_kbyte as f64 / total as f64
    }
}

fn read_status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `/api/v1/graph`: nodes (kind, ports role), edges with their counters, hubs with consumers and skips.
pub fn graph<N: Catalogue>(engine: &Engine<N>) -> Value {
    let graph = engine.graph();
    let edge_stats: HashMap<(String, String), _> = engine.edge_stats().into_iter().collect();
    let hubs = engine.hubs();
    let nodes: Vec<Value> = graph
        .dag
        .node_indices()
        .map(|index| {
            let named = graph.node(index);
            let role = match named.node.ports() {
                Ports::Source { .. } => "source",
                Ports::Transform { .. } => "transform",
                Ports::Sink { .. } => "sink",
                Ports::Service => "service",
            };
            let own: Vec<_> = hubs.iter().filter(|(name, _, _)| name == &named.name).collect();
            let hub_sum = |pick: fn(&crate::graph::hub::HubStats) -> u64| -> u64 {
                own.iter().map(|(_, _, hub)| pick(&hub.stats)).sum()
            };
            json!({
                "name": named.name,
                "kind": named.node.kind_name(),
                "role": role,
                "hubs": own.len(),
                "consumers": hub_sum(|s| s.consumers.load(Ordering::Relaxed) as u64),
                "packets": hub_sum(|s| s.packets.load(Ordering::Relaxed)),
                "bytes": hub_sum(|s| s.bytes.load(Ordering::Relaxed)),
                "skips": hub_sum(|s| s.skips.load(Ordering::Relaxed)),
            })
        })
        .collect();
    let edges: Vec<Value> = graph
        .dag
        .edge_indices()
        .filter_map(|e| graph.dag.edge_endpoints(e))
        .map(|(from, to)| {
            let names = (graph.node(from).name.clone(), graph.node(to).name.clone());
            let stats = edge_stats.get(&names);
            let load = |pick: fn(&crate::graph::stats::EdgeStats) -> u64| stats.map_or(0, |s| pick(s));
            json!({
                "from": names.0,
                "to": names.1,
                "events": load(|s| s.events.load(Ordering::Relaxed)),
                "frames": load(|s| s.frames.load(Ordering::Relaxed)),
                "bytes": load(|s| s.bytes.load(Ordering::Relaxed)),
                "drops": load(|s| s.drops.load(Ordering::Relaxed)),
                "queue_depth": load(|s| s.queue_depth.load(Ordering::Relaxed)),
            })
        })
        .collect();
    json!({"graph": {"nodes": nodes, "edges": edges}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_grow_with_work_and_memory_is_a_share_of_ram() {
        let before = process_cpu_ticks();
        let start = std::time::Instant::now();
        let mut spin = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(300) {
            spin = std::hint::black_box(spin.wrapping_mul(31).wrapping_add(7));
        }
        assert!(process_cpu_ticks() > before, "300 ms of spinning shows in /proc/self/stat");
        let ratio = mem_ratio(read_status_kb("VmRSS:"));
        assert!(ratio > 0.0 && ratio < 1.0, "rss over ram: {ratio}");
    }

    #[test]
    fn paging_uses_at_least_ten() {
        let items: Vec<u32> = (0..30).collect();
        assert_eq!(page(items.clone(), None, None).len(), 10);
        assert_eq!(page(items.clone(), None, Some(3)).len(), 10, "count = max(10, count)");
        assert_eq!(page(items.clone(), Some(25), Some(20)), (25..30).collect::<Vec<_>>());
    }

    #[test]
    fn envelope_has_srs_fields() {
        let registry = Registry::default();
        let value = envelope(&registry, 0, json!({"data": 1}));
        assert_eq!(value["code"], 0);
        assert!(value["server"].as_str().unwrap().starts_with("vid-"));
        assert!(value["pid"].is_string());
        assert_eq!(value["data"], 1);
    }
}
