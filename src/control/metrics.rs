//! `/metrics` in Prometheus text format: streams, clients, bytes, frames, hub skips, and
//! per-node and per-edge counters. Names are prefixed `srs_`; labels are escaped as the format asks.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use super::registry::Registry;
use crate::graph::{Catalogue, Engine};

/// Renders every metric.
pub fn render<N: Catalogue>(engine: &Engine<N>) -> String {
    let registry = engine.shared::<Registry>();
    let mut out = String::new();
    let publications = engine.publications();
    let (send, recv) = registry.total_bytes();
    gauge(&mut out, "srs_streams", "Streams being published", &[(String::new(), publications.len() as u64)]);
    gauge(&mut out, "srs_clients", "Connected clients", &[(String::new(), registry.client_count() as u64)]);
    counter(&mut out, "srs_send_bytes_total", "Bytes sent to clients", &[(String::new(), send)]);
    counter(&mut out, "srs_recv_bytes_total", "Bytes received from clients", &[(String::new(), recv)]);
    let (nacks, retransmits, plis) = registry.total_rtc();
    counter(
        &mut out,
        "srs_rtc_nacks_total",
        "Packets WebRTC players asked for again",
        &[(String::new(), nacks)],
    );
    counter(
        &mut out,
        "srs_rtc_retransmits_total",
        "Packets sent again to WebRTC players",
        &[(String::new(), retransmits)],
    );
    counter(
        &mut out,
        "srs_rtc_plis_total",
        "Keyframe requests from WebRTC players and to WebRTC publishers",
        &[(String::new(), plis)],
    );
    let panics = crate::graph::guard::panics_caught();
    counter(
        &mut out,
        "srs_panics_total",
        "Panics caught, each ending only its own task",
        &[(String::new(), panics)],
    );
    let per_stream = |pick: fn(&crate::graph::stats::StreamStats) -> u64| -> Vec<(String, u64)> {
        publications
            .iter()
            .map(|l| {
                (
                    format!(
                        "vhost=\"{}\",app=\"{}\",stream=\"{}\"",
                        esc(&l.key.vhost),
                        esc(&l.key.app),
                        esc(&l.key.stream)
                    ),
                    pick(&l.stats),
                )
            })
            .collect()
    };
    counter(
        &mut out,
        "srs_stream_frames_total",
        "Frames received per live stream",
        &per_stream(|s| s.frames.load(Ordering::Relaxed)),
    );
    counter(
        &mut out,
        "srs_stream_bytes_total",
        "Media bytes received per live stream",
        &per_stream(|s| s.bytes.load(Ordering::Relaxed)),
    );
    let mut per_node: std::collections::BTreeMap<String, [u64; 4]> = Default::default();
    for (name, _, hub) in engine.hubs() {
        let sums = per_node.entry(name).or_default();
        sums[0] += hub.stats.packets.load(Ordering::Relaxed);
        sums[1] += hub.stats.bytes.load(Ordering::Relaxed);
        sums[2] += hub.stats.skips.load(Ordering::Relaxed);
        sums[3] += hub.stats.consumers.load(Ordering::Relaxed) as u64;
    }
    let node_series = |i: usize| -> Vec<(String, u64)> {
        per_node.iter().map(|(name, sums)| (format!("node=\"{}\"", esc(name)), sums[i])).collect()
    };
    counter(
        &mut out,
        "srs_node_packets_total",
        "Packets serialized into hubs per serving node",
        &node_series(0),
    );
    counter(&mut out, "srs_node_bytes_total", "Bytes serialized into hubs per serving node", &node_series(1));
    counter(
        &mut out,
        "srs_node_skips_total",
        "Players that fell behind and skipped to a keyframe",
        &node_series(2),
    );
    gauge(&mut out, "srs_node_consumers", "Players attached per serving node", &node_series(3));
    let edges = engine.edge_stats();
    let edge_series = |pick: fn(&crate::graph::stats::EdgeStats) -> u64| -> Vec<(String, u64)> {
        edges
            .iter()
            .map(|((from, to), s)| (format!("from=\"{}\",to=\"{}\"", esc(from), esc(to)), pick(s)))
            .collect()
    };
    counter(
        &mut out,
        "srs_edge_frames_total",
        "Frames carried per graph edge",
        &edge_series(|s| s.frames.load(Ordering::Relaxed)),
    );
    counter(
        &mut out,
        "srs_edge_bytes_total",
        "Payload bytes carried per graph edge",
        &edge_series(|s| s.bytes.load(Ordering::Relaxed)),
    );
    counter(
        &mut out,
        "srs_edge_drops_total",
        "Events not delivered per graph edge",
        &edge_series(|s| s.drops.load(Ordering::Relaxed)),
    );
    gauge(
        &mut out,
        "srs_edge_queue_depth",
        "Events queued on the edge at its last send",
        &edge_series(|s| s.queue_depth.load(Ordering::Relaxed)),
    );
    out
}

fn esc(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn gauge(out: &mut String, name: &str, help: &str, series: &[(String, u64)]) {
    family(out, name, help, "gauge", series);
}

fn counter(out: &mut String, name: &str, help: &str, series: &[(String, u64)]) {
    family(out, name, help, "counter", series);
}

fn family(out: &mut String, name: &str, help: &str, kind: &str, series: &[(String, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in series {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_escaped() {
        assert_eq!(super::esc("a\"b\\c"), "a\\\"b\\\\c");
    }
}
