//! `FileIn`: publishes a media file as a stream, as fast as possible or paced in real time.
//!
//! The format comes from the extension (`.flv`). Produces whatever the file carries.
//! Graph-scoped: it starts with the graph and publishes once (or in a loop with `repeat`).
//!
//! ```dhall
//! srs.node "file" (srs.Node.FileIn srs.FileIn::{ path = "in.flv", stream = "live/file", realtime = True })
//! ```

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use crate::graph::{Caps, Ports, StreamKey};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// The file to read; its extension picks the format.
    pub path: String,
    /// The stream it publishes: `app/stream` or `vhost/app/stream`.
    pub stream: String,
    /// Pace frames by their timestamps, like a live publisher.
    pub realtime: bool,
    /// Start again at the end (timestamps keep increasing).
    pub repeat: bool,
}

impl Config {
    pub fn stream_key(&self) -> Result<StreamKey, String> {
        StreamKey::parse(&self.stream).ok_or_else(|| {
            format!("field `stream` is `{}`: write `app/stream` or `vhost/app/stream`", self.stream)
        })
    }

    pub fn validate(&self) -> Result<(), String> {
        self.stream_key()?;
        super::file_format(&self.path).map(|_| ()).map_err(|e| format!("field `path`: {e}"))
    }
}

pub fn ports() -> Ports {
    Ports::Source { produces: Caps::any() }
}
