//! `FileOut`: writes each stream to a file; the extension picks the format (`.flv`).
//!
//! `path` is an SRS template (`[vhost]`, `[app]`, `[stream]`, `[timestamp]`). The file is
//! written under a temporary name and renamed when the stream ends, so a reader never sees half a file.
//!
//! ```dhall
//! srs.node "record" (srs.Node.FileOut srs.FileOut::{ path = "./objs/[app]/[stream].[timestamp].flv" })
//! ```

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use crate::graph::Ports;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, StaticType)]
pub struct Config {
    /// Output path template; its extension picks the format.
    pub path: String,
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        super::file_format(&self.path).map(|_| ()).map_err(|e| format!("field `path`: {e}"))
    }
}

pub fn ports(config: &Config) -> Ports {
    let accepts = super::file_format(&config.path)
        .map(super::FileFormat::caps)
        .unwrap_or_else(|_| crate::graph::Caps::any());
    Ports::Sink { accepts }
}
