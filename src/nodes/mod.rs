//! Node glue: one module per node kind, mirroring `nodes/*.dhall` one for one.
//!
//! Each kind's settings type implements [`NodeKind`]: it declares its ports and listeners as
//! data (read by `graph check`), asks for its graph-scoped parts and runs a stream-scoped
//! instance per live stream. [`NodeSpec`] (`catalogue.rs`), the Rust twin of the Dhall `Node`
//! union, is the catalogue the engine is handed. This is the only layer where codec events
//! become media frames and back.

pub mod aac_to_opus;
pub mod audio_bridge;
mod catalogue;
pub mod console;
pub mod dash_out;
pub mod dvr;
pub mod edge_pull;
pub mod edge_push;
pub mod edge_traverse;
pub mod exec;
pub mod ffmpeg_engine;
pub mod file_behind;
pub mod file_blocks;
pub mod file_in;
pub mod file_io;
pub mod file_muxer;
pub mod file_out;
pub mod file_vod;
pub mod file_writer;
pub mod flv_frames;
pub mod flv_post_in;
pub mod forward;
pub mod forward_srt;
pub mod gb28181_in;
pub mod hls_out;
pub mod hls_sessions;
pub mod http_api;
pub mod http_remux;
pub mod http_static;
pub mod ingest;
pub mod ingest_pull;
pub mod ingest_ts;
pub mod jitter;
mod kind;
pub mod live_playlists;
pub mod mpegts_udp_in;
pub mod opus_to_aac;
pub mod origin_cluster;
pub mod origin_coworkers;
pub mod path_template;
pub mod process_vars;
pub mod remux_serializer;
pub mod rtc_in;
pub mod rtc_out;
pub mod rtc_shared;
pub mod rtc_signal;
pub mod rtmp_conn;
pub mod rtmp_in;
pub mod rtmp_out;
pub mod scope;
pub mod serve;
pub mod srt_in;
pub mod srt_out;
pub mod transcode;
pub mod transcode_master;
pub mod ts_source;
pub mod urls;
pub mod vhost;

pub use catalogue::{CheckedGraph, Engine, GraphFile, NamedNode, NodeSpec, Publication, StreamCtx};
pub use kind::NodeKind;

use serde::{Deserialize, Serialize};
use serde_dhall::StaticType;

use crate::graph::Caps;
use crate::media::Codec;

/// File formats known by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, StaticType)]
pub enum FileFormat {
    Flv,
    Ts,
    Mp4,
    /// An HLS VOD playlist (`.m3u8`) with MPEG-TS segments beside it.
    Hls,
    /// A static MPEG-DASH presentation (`.mpd`) with fMP4 segments in a folder beside it.
    Dash,
}

impl FileFormat {
    pub fn caps(self) -> Caps {
        match self {
            FileFormat::Flv => rtmp_in::rtmp_caps(),
            FileFormat::Ts => Caps::new(&[Codec::H264, Codec::H265], &[Codec::Aac, Codec::Mp3]),
            FileFormat::Mp4 => Caps::any(),
            FileFormat::Hls => Caps::new(&[Codec::H264, Codec::H265], &[Codec::Aac, Codec::Mp3]),
            FileFormat::Dash => {
                Caps::new(&[Codec::H264, Codec::H265, Codec::Av1], &[Codec::Aac, Codec::Opus, Codec::Mp3])
            }
        }
    }

    /// The format named as `srs remux --format` spells it.
    pub fn from_name(name: &str) -> Option<FileFormat> {
        match name.to_ascii_lowercase().as_str() {
            "flv" => Some(FileFormat::Flv),
            "ts" | "mpegts" => Some(FileFormat::Ts),
            "mp4" => Some(FileFormat::Mp4),
            "hls" | "m3u8" => Some(FileFormat::Hls),
            "dash" | "mpd" => Some(FileFormat::Dash),
            _ => None,
        }
    }
}

/// The format a path's extension names.
pub fn file_format(path: &str) -> Result<FileFormat, String> {
    let extension = std::path::Path::new(path).extension().and_then(|e| e.to_str()).unwrap_or_default();
    match extension.to_ascii_lowercase().as_str() {
        "flv" => Ok(FileFormat::Flv),
        "ts" => Ok(FileFormat::Ts),
        "mp4" | "m4a" | "m4v" | "mov" => Ok(FileFormat::Mp4),
        "m3u8" => Ok(FileFormat::Hls),
        "mpd" => Ok(FileFormat::Dash),
        other => Err(format!(
            "unknown file format `.{other}` (known: .flv, .ts, .mp4, .m4a, .m4v, .mov, .m3u8, .mpd)"
        )),
    }
}
