//! `RtmpIn`: publishers over RTMP (ffmpeg, OBS) become streams `vhost/app/stream`.
//!
//! Produces video {H264, H265, AV1} (legacy and Enhanced RTMP) and audio {AAC, MP3, Opus}.
//! Shares its listener with `RtmpOut` nodes on the same address: a connection's intent
//! (publish or play) picks the node. Uses `codec::rtmp` and the FLV adapters.
//!
//! ```dhall
//! srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
//! ```

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use crate::graph::{listens_on, Caps, Listen, Ports, Transport};
use crate::media::Codec;
use crate::nodes::scope::{ScopeNode, ScopePlan};
use crate::nodes::NodeKind;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// RTMP listen address, as SRS's `listen`: `1935` or `ip:port`.
    pub listen: String,
    /// SRS's `max_connections`: connections beyond this many clients are closed at once.
    pub max_connections: u64,
    /// Connections allowed from one IP address (0: no limit; beyond SRS).
    pub max_connections_per_ip: u64,
}

impl NodeKind for Config {
    fn ports(&self) -> Ports {
        Ports::Source { produces: rtmp_caps() }
    }

    fn listens(&self) -> Result<Vec<Listen>, String> {
        listens_on(&self.listen, Transport::Tcp, "rtmp", Some("rtmp publish"), None)
    }

    fn served_urls(&self, listens: &[Listen], _: &super::GraphFile) -> Vec<super::urls::ServedUrl> {
        let path = format!("/{}/{}", super::urls::EXAMPLE_APP, super::urls::EXAMPLE_STREAM);
        super::urls::on_listens(listens, "publish", "rtmp", &path)
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        vec![("listen", self.listen.clone())]
    }

    fn plan_graph_scope(&self, node: &ScopeNode<'_>, plan: &mut ScopePlan) -> anyhow::Result<()> {
        for listen in node.listens {
            plan.rtmp_listener(listen.addr);
        }
        Ok(())
    }
}

/// What RTMP and FLV can carry.
pub fn rtmp_caps() -> Caps {
    Caps::new(&[Codec::H264, Codec::H265, Codec::Av1], &[Codec::Aac, Codec::Mp3, Codec::Opus])
}
