//! What the server and the kernel say about the WebRTC players' start: the server's per-session
//! counters from its API (`/api/v1/clients`: DTLS flights and their repeats on both sides, the
//! time from the answer to the first binding and to DTLS done), and the datagrams the kernel
//! dropped on full UDP receive buffers (`/proc/net/udp` per socket, summed over the server's
//! and the bench's own sockets; `/proc/net/snmp` for the whole machine).

use std::collections::HashSet;
use std::fmt;

use serde_json::Value;

use super::stats::{format_p50_p99_millis as p50_p99, percentiles};

/// The server's view of the WebRTC players' start, summed or in percentiles over its sessions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerStart {
    pub sessions: usize,
    pub flights_in: u64,
    pub repeats_in: u64,
    pub flights_out: u64,
    pub repeats_out: u64,
    pub sessions_with_repeats: usize,
    /// Answer → first valid binding, and → ICE and DTLS done, µs: p50, p90, p99.
    pub first_binding: Option<[u64; 3]>,
    pub connected: Option<[u64; 3]>,
}

impl ServerStart {
    /// From the body of `/api/v1/clients`: its WebRTC players (`rtc_play`) with the counters;
    /// `None` when there are none (a server without them).
    pub fn from_clients(body: &str) -> Option<ServerStart> {
        let value: Value = serde_json::from_str(body).ok()?;
        let mut start = ServerStart::default();
        let (mut bindings, mut connected) = (Vec::new(), Vec::new());
        for client in value.get("clients")?.as_array()? {
            let Some(rtc) = client.get("rtc") else { continue };
            let Some(dtls) = rtc.get("dtls") else { continue };
            let number = |v: &Value, name: &str| v.get(name).and_then(Value::as_u64).unwrap_or(0);
            start.sessions += 1;
            start.flights_in += number(dtls, "flights_in");
            start.repeats_in += number(dtls, "repeats_in");
            start.flights_out += number(dtls, "flights_out");
            start.repeats_out += number(dtls, "repeats_out");
            if number(dtls, "repeats_in") + number(dtls, "repeats_out") > 0 {
                start.sessions_with_repeats += 1;
            }
            bindings.extend(Some(number(rtc, "first_binding_us")).filter(|&us| us > 0));
            connected.extend(Some(number(rtc, "connected_us")).filter(|&us| us > 0));
        }
        if start.sessions == 0 {
            return None;
        }
        start.first_binding = percentiles(&mut bindings);
        start.connected = percentiles(&mut connected);
        Some(start)
    }
}

impl fmt::Display for ServerStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  server, {} sessions: answer→first binding p50/p99 {} ms, →dtls done {} ms; dtls flights got {} \
             (+{} again), sent {} (+{} again), {} sessions with a repeat",
            self.sessions,
            p50_p99(self.first_binding),
            p50_p99(self.connected),
            self.flights_in,
            self.repeats_in,
            self.flights_out,
            self.repeats_out,
            self.sessions_with_repeats
        )
    }
}

/// The server's counters of the WebRTC sessions now, from the API that answers `whep_url`.
pub async fn fetch(whep_url: &str) -> Option<ServerStart> {
    let (address, _) = super::whep::split_http_url(whep_url).ok()?;
    let response = super::whep::http(&address, "GET", "/api/v1/clients/?count=1000000", "").await.ok()?;
    if response.status != 200 {
        return None;
    }
    ServerStart::from_clients(&response.body)
}

/// Datagrams dropped on full UDP receive buffers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpDrops {
    /// On the server's sockets (their `drops` since they were opened).
    pub server: Option<u64>,
    /// On the bench's own sockets open now (the players').
    pub bench: Option<u64>,
    /// The machine's `Udp: RcvbufErrors` over the run.
    pub machine: Option<u64>,
}

impl fmt::Display for UdpDrops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
        writeln!(
            f,
            "  udp receive-buffer drops: server sockets {}, player sockets {}, machine RcvbufErrors +{}",
            show(self.server),
            show(self.bench),
            show(self.machine)
        )
    }
}

/// The machine's `Udp: RcvbufErrors` (`/proc/net/snmp`).
pub fn machine_rcvbuf_errors() -> Option<u64> {
    snmp_rcvbuf_errors(&std::fs::read_to_string("/proc/net/snmp").ok()?)
}

fn snmp_rcvbuf_errors(snmp: &str) -> Option<u64> {
    let mut lines = snmp.lines().filter(|l| l.starts_with("Udp: "));
    let names = lines.next()?;
    let values = lines.next()?;
    let column = names.split_whitespace().position(|n| n == "RcvbufErrors")?;
    values.split_whitespace().nth(column)?.parse().ok()
}

/// The `drops` of the UDP sockets process `pid` holds (matched by inode to its descriptors).
pub fn process_drops(pid: u32) -> Option<u64> {
    let mut inodes = HashSet::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else { continue };
        let target = target.to_string_lossy();
        if let Some(inode) = target.strip_prefix("socket:[").and_then(|t| t.strip_suffix(']')) {
            if let Ok(inode) = inode.parse::<u64>() {
                inodes.insert(inode);
            }
        }
    }
    let mut total = 0;
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            total += table_drops(&text, &inodes);
        }
    }
    Some(total)
}

/// The `drops` (last column) of the rows of `/proc/net/udp` whose inode (column 10) is in `inodes`.
fn table_drops(table: &str, inodes: &HashSet<u64>) -> u64 {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let inode: u64 = columns.get(9)?.parse().ok()?;
            inodes.contains(&inode).then(|| columns.last()?.parse::<u64>().ok()).flatten()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_tables() {
        let snmp = "Ip: Forwarding\nIp: 1\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors\n\
                    Udp: 10 2 7 9 5\nUdpLite: InDatagrams RcvbufErrors\nUdpLite: 0 0\n";
        assert_eq!(snmp_rcvbuf_errors(snmp), Some(5));
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
            1: 0100007F:4650 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17\n\
            2: 0100007F:4651 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4243 2 0000000000000000 3\n";
        assert_eq!(table_drops(table, &HashSet::from([4242])), 17);
        assert_eq!(table_drops(table, &HashSet::from([4242, 4243])), 20);
        assert_eq!(table_drops(table, &HashSet::new()), 0);
        // The tables are readable for this process (on Linux).
        assert!(process_drops(std::process::id()).is_some());
    }

    #[test]
    fn server_counters_from_the_api() {
        let body = r#"{"code":0,"clients":[
            {"id":1,"type":"rtc-play","rtc":{"dtls":{"flights_in":3,"repeats_in":1,"flights_out":3,"repeats_out":0},
             "first_binding_us":5000,"connected_us":20000}},
            {"id":2,"type":"rtc-play","rtc":{"dtls":{"flights_in":3,"repeats_in":0,"flights_out":3,"repeats_out":0},
             "first_binding_us":0,"connected_us":0}},
            {"id":3,"type":"fmle-publish"}]}"#;
        let start = ServerStart::from_clients(body).expect("two sessions");
        assert_eq!((start.sessions, start.flights_in, start.repeats_in, start.flights_out), (2, 6, 1, 6));
        assert_eq!(start.sessions_with_repeats, 1);
        assert_eq!(start.first_binding, Some([5000, 5000, 5000]), "zero means not yet");
        assert!(ServerStart::from_clients(r#"{"clients":[]}"#).is_none());
        assert!(ServerStart::from_clients("not json").is_none());
    }
}
