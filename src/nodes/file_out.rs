//! `FileOut`: writes each stream to a file; the extension picks the format (`.flv`).
//!
//! `path` is an SRS template (`[vhost]`, `[app]`, `[stream]`, `[timestamp]`). The file is
//! written under `<path>.tmp` and renamed when the stream ends; FLV stays playable up to the
//! last complete tag if the process dies first.
//!
//! ```dhall
//! srs.node "record" (srs.Node.FileOut srs.FileOut::{ path = "./objs/[app]/[stream].[timestamp].flv" })
//! ```

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;

use super::flv_frames::FramesToFlv;
use crate::codec::flv::{tag_bytes, FlvHeader};
use crate::graph::engine::StreamCtx;
use crate::graph::Ports;
use crate::media::MediaEvent;

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

/// Fills SRS's path variables for one stream.
pub fn output_path(template: &str, ctx: &StreamCtx) -> PathBuf {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    PathBuf::from(ctx.key.fill(template).replace("[timestamp]", &now.as_millis().to_string()))
}

pub async fn run(ctx: StreamCtx, config: Config, mut input: mpsc::Receiver<MediaEvent>) {
    let path = output_path(&config.path, &ctx);
    let temporary = PathBuf::from(format!("{}.tmp", path.display()));
    match write_flv(&temporary, &mut input).await {
        Ok(n_tags) => match tokio::fs::rename(&temporary, &path).await {
            Ok(()) => tracing::info!(stream = %ctx.key, file = %path.display(), n_tags, "file written"),
            Err(e) => ctx.engine.report_failure(format!("{}: rename failed: {e}", path.display())),
        },
        Err(e) => ctx.engine.report_failure(format!("{}: {e}", temporary.display())),
    }
}

async fn write_flv(path: &std::path::Path, input: &mut mpsc::Receiver<MediaEvent>) -> std::io::Result<u64> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir).await?;
    }
    let mut file = BufWriter::with_capacity(256 * 1024, tokio::fs::File::create(path).await?);
    file.write_all(&FlvHeader::new(true, true).file_start()).await?;
    let mut to_flv = FramesToFlv::default();
    let mut n_tags = 0;
    while let Some(event) = input.recv().await {
        if event == MediaEvent::End {
            break;
        }
        for tag in to_flv.push(&event) {
            match tag_bytes(tag.tag_type, tag.timestamp_ms, &tag.body) {
                Ok(bytes) => {
                    file.write_all(&bytes).await?;
                    n_tags += 1;
                }
                Err(e) => tracing::warn!("dropping a tag: {e}"),
            }
        }
    }
    file.flush().await?;
    Ok(n_tags)
}
