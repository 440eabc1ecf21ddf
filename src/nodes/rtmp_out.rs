//! `RtmpOut`: RTMP players. Each frame is chunked once per stream and shared by every player.
//!
//! Accepts video {H264, H265, AV1} and audio {AAC, MP3, Opus}. Shares the listener of an
//! `RtmpIn` on the same address. Serving settings (gop cache, merged-write latency, chunk
//! size) come from the `Vhost` node upstream.
//!
//! ```dhall
//! srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
//! ```

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use crate::graph::listen::parse_listen;
use crate::graph::{Listen, Ports, Transport};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// RTMP listen address, as SRS's `listen`: `1935` or `ip:port`.
    pub listen: String,
}

pub fn ports() -> Ports {
    Ports::Sink { accepts: super::rtmp_in::rtmp_caps() }
}

pub fn listens(config: &Config) -> Result<Vec<Listen>, String> {
    let addr = parse_listen(&config.listen).map_err(|e| format!("field `listen`: {e}"))?;
    Ok(vec![Listen { addr, transport: Transport::Tcp, protocol: "rtmp", exclusive_role: Some("rtmp play") }])
}
