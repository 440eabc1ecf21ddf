//! `MpegtsUdpIn`: SRS's `mpegts_over_udp` stream caster: MPEG-TS datagrams on a UDP port become
//! the one stream named in the graph.
//!
//! Every datagram, from any sender, feeds one demuxer: it is cut to whole packets from its first
//! sync byte (SRS's rule), and losses, reordering and clock jumps are recovered by the demuxer.
//! The stream is published when datagrams arrive and unpublished after `idle_timeout` ms
//! without any, so a restarted sender resumes the same stream. Produces video {H264, H265} and
//! audio {AAC, MP3}.
//!
//! ```dhall
//! srs.node "udp" (srs.Node.MpegtsUdpIn srs.MpegtsUdpIn::{ listen = "8935", stream = "live/livestream" })
//! ```

use std::time::{Duration, Instant};

use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::net::UdpSocket;

use super::ts_source::TsSource;
use super::vhost;
use crate::codec::mpegts::whole_packets;
use crate::graph::{listens_on, Caps, Listen, Ports, StreamKey, Transport};
use crate::media::Codec;
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::NodeKind;
use crate::nodes::{Engine, Publication};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// UDP listen address: `8935` or `ip:port`.
    pub listen: String,
    /// The stream every datagram feeds: `app/stream` or `vhost/app/stream` (SRS's literal `output`).
    pub stream: String,
    /// Milliseconds without a datagram after which the stream is unpublished.
    pub idle_timeout: u64,
}

impl Config {
    pub fn stream_key(&self) -> Result<StreamKey, String> {
        StreamKey::parse(&self.stream).ok_or_else(|| {
            format!("field `stream` is `{}`: write `app/stream` or `vhost/app/stream`", self.stream)
        })
    }

    pub fn validate(&self) -> Result<(), String> {
        self.stream_key()?;
        if self.idle_timeout == 0 {
            return Err("field `idle_timeout` is 0: give senders at least a few hundred ms".into());
        }
        Ok(())
    }
}

/// What MPEG-TS carries here.
pub fn ts_caps() -> Caps {
    Caps::new(&[Codec::H264, Codec::H265], &[Codec::Aac, Codec::Mp3])
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Source { produces: ts_caps() }
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        listens_on(&self.listen, Transport::Udp, "mpegts-udp", Some("mpegts-udp stream"), None)
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        // Every datagram publishes the one stream the node names.
        let mut urls = super::urls::on_listens(listens, "publish (MPEG-TS)", "udp", "");
        for url in &mut urls {
            url.url.push_str(&format!(" (stream {})", self.stream));
        }
        urls
    }

    fn validate(&self) -> Result<(), String> {
        Config::validate(self)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("listen", self.listen.clone()), ("stream", self.stream.clone())]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        for listen in node.listens {
            let (engine, index, config) = (node.engine.clone(), node.index, self.clone());
            plan.udp_socket(listen.addr, "mpeg-ts", move |socket| {
                Box::pin(run(engine, index, config, socket))
            });
        }
        Ok(())
    }
}

/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;
/// Least time between two "stream busy" warnings.
const BUSY_LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Reads datagrams until shutdown, publishing while they flow.
async fn run(engine: Engine, node: NodeIndex, config: Config, socket: UdpSocket) {
    let name = engine.graph().node(node).name.clone();
    let key = match config.stream_key() {
        Ok(key) => key,
        Err(reason) => return engine.report_failure(format!("node `{name}`: {reason}")),
    };
    let Some(vhost) = vhost::resolve(&engine, &key.vhost) else {
        return engine.report_failure(format!("node `{name}`: no vhost node serves stream {key}"));
    };
    let key = StreamKey { vhost, ..key };
    let label = socket.local_addr().map_or_else(|_| config.listen.clone(), |a| format!("udp {a}"));
    let idle = Duration::from_millis(config.idle_timeout);
    let shutdown = engine.shutdown_signal();
    tokio::pin!(shutdown);
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    let mut live: Option<(Publication, TsSource)> = None;
    let mut last_busy_log: Option<Instant> = None;
    loop {
        let received = tokio::select! {
            received = tokio::time::timeout(idle, socket.recv_from(&mut buffer)) => received,
            _ = &mut shutdown => break,
        };
        let (n, sender) = match received {
            Ok(Ok(received)) => received,
            Ok(Err(e)) => {
                // ICMP errors surface here on some systems; the socket stays usable.
                tracing::debug!(source = %label, "udp receive failed: {e}");
                continue;
            }
            Err(_elapsed) => {
                if let Some((publication, source)) = live.take() {
                    tracing::info!(
                        source = %label,
                        stream = %key,
                        "no datagram for {} ms: unpublishing",
                        config.idle_timeout
                    );
                    source.finish(publication).await;
                }
                continue;
            }
        };
        if live.is_none() {
            match engine.publish(node, key.clone()) {
                Ok(publication) => {
                    tracing::info!(source = %label, %sender, stream = %key, "mpeg-ts over udp publishing");
                    live = Some((publication, TsSource::new(label.clone())));
                }
                Err(e) => {
                    if last_busy_log.is_none_or(|last| last.elapsed() >= BUSY_LOG_INTERVAL) {
                        tracing::warn!(source = %label, %sender, "datagrams dropped: {e}");
                        last_busy_log = Some(Instant::now());
                    }
                    continue;
                }
            }
        }
        if let Some((publication, source)) = live.as_mut() {
            source.push(publication, whole_packets(&buffer[..n])).await;
        }
    }
    if let Some((publication, source)) = live.take() {
        source.finish(publication).await;
    }
}
