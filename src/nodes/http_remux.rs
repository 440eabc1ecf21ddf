//! `HttpRemux`: SRS's `http_remux`: live HTTP-FLV, HTTP-TS, HTTP-AAC or HTTP-MP3 by mount extension.
//!
//! `.flv` accepts everything FLV carries; `.ts` video {H264, H265} and audio {AAC, MP3}; `.aac`
//! audio {AAC}; `.mp3` audio {MP3}. Each frame is serialized once per stream and shared by every
//! player; players start with the gop cache. Several `HttpRemux` nodes share one HTTP server per address.
//!
//! ```dhall
//! srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" })
//! ```

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use crate::graph::listen::parse_listen;
use crate::graph::{Caps, Listen, Ports, Transport};
use crate::media::Codec;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// HTTP listen address: `8080` or `ip:port`.
    pub listen: String,
    /// URL template; `[vhost]` at the start routes by Host header; the extension picks the format.
    pub mount: String,
    /// Answer with CORS headers (SRS `http_server.crossdomain`).
    pub crossdomain: bool,
}

/// The container a mount serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemuxFormat {
    Flv,
    Ts,
    Aac,
    Mp3,
}

impl Config {
    pub fn format(&self) -> Result<RemuxFormat, String> {
        let extension = self.mount.rsplit_once('.').map(|(_, ext)| ext).unwrap_or_default();
        match extension {
            "flv" => Ok(RemuxFormat::Flv),
            "ts" => Ok(RemuxFormat::Ts),
            "aac" => Ok(RemuxFormat::Aac),
            "mp3" => Ok(RemuxFormat::Mp3),
            other => Err(format!(
                "field `mount` ends in `.{other}`: use .flv, .ts, .aac or .mp3 (the extension picks the format)"
            )),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        self.format()?;
        if !self.mount.contains("[stream]") {
            return Err(format!(
                "field `mount` `{}` has no [stream]: every stream would share one URL",
                self.mount
            ));
        }
        Ok(())
    }
}

pub fn ports(config: &Config) -> Ports {
    let accepts = match config.format() {
        Ok(RemuxFormat::Flv) | Err(_) => super::rtmp_in::rtmp_caps(),
        Ok(RemuxFormat::Ts) => Caps::new(&[Codec::H264, Codec::H265], &[Codec::Aac, Codec::Mp3]),
        Ok(RemuxFormat::Aac) => Caps::new(&[], &[Codec::Aac]),
        Ok(RemuxFormat::Mp3) => Caps::new(&[], &[Codec::Mp3]),
    };
    Ports::Sink { accepts }
}

pub fn listens(config: &Config) -> Result<Vec<Listen>, String> {
    let addr = parse_listen(&config.listen).map_err(|e| format!("field `listen`: {e}"))?;
    Ok(vec![Listen { addr, transport: Transport::Tcp, protocol: "http", exclusive_role: None }])
}
